/*
 * matio.h - matrices and vectors in and out of files for the tspu CLI.
 *
 * Two formats, chosen by the file name: a name ending in ".npy" is NumPy's
 * binary format (float64, little- or big-endian, C or Fortran order, header
 * versions 1.0, 2.0 and 3.0); anything else is plain text: whitespace-
 * separated numbers, one row per line, '#' starts a comment that runs to the
 * end of the line, blank lines are skipped.  Every value must be finite.
 *
 * Errors come back as one line without a trailing newline, in the form
 * "FILE:LINE: what" for text (the line of the offending token) or
 * "FILE: what" otherwise; the caller prefixes the program name.
 */
#ifndef TSPU_MATIO_H
#define TSPU_MATIO_H

#include <stddef.h>

typedef struct {
    size_t rows, cols; /* a 1-D .npy array reads as rows = n, cols = 1   */
    int ndim;          /* 1 or 2 (text files are always 2)                */
    double *v;         /* rows*cols values, row-major; free with mat_free */
} mat_t;

void mat_free(mat_t *m);

/* 1 if path names a .npy file (by extension, case-insensitive) */
int matio_is_npy(const char *path);

/* Read a whole file into *m (zeroed first).  Returns 0, or -1 with err set. */
int matio_read(const char *path, mat_t *m, char *err, size_t errlen);

/* The numbers of a vector file: n x 1 or 1 x n (or a 1-D .npy).  Returns 0,
 * or -1 with err set ("FILE: expected a vector, got 3 x 4"). */
int matio_as_vector(const char *path, const mat_t *m, char *err, size_t errlen);

/* Write m to path (format by extension; ndim 1 writes a 1-D .npy, or one
 * value per line in text).  Returns 0, or -1 with err set. */
int matio_write(const char *path, const mat_t *m, char *err, size_t errlen);

/* Streaming writer for rows of a known width and a count not known in
 * advance (samples): the .npy header is rewritten with the final row count on
 * close.  Text rows use the shortest decimal that reads back bit-exactly. */
typedef struct matio_writer matio_writer;
matio_writer *matio_writer_open(const char *path, size_t cols, char *err, size_t errlen);
/* path NULL: text to the given stream (not closed by matio_writer_close) */
matio_writer *matio_writer_stream(void *file, size_t cols);
int matio_writer_row(matio_writer *w, const double *row);
/* flushes, fixes the header, closes; returns 0 or -1 with err set (write
 * errors such as a full disk are reported here) */
int matio_writer_close(matio_writer *w, char *err, size_t errlen);

/* shortest "%.Ng" (N = 15..17) of x that strtod reads back as x */
void matio_format_double(char *buf, size_t len, double x);

#endif
