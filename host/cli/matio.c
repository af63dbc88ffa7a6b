/* matio.c - text and .npy matrices for the tspu CLI (see matio.h). */
#define _POSIX_C_SOURCE 200809L
#include "matio.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t len, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void mat_free(mat_t *m)
{
    if (m) {
        free(m->v);
        memset(m, 0, sizeof *m);
    }
}

int matio_is_npy(const char *path)
{
    size_t l = strlen(path);
    return l >= 4 && strcasecmp(path + l - 4, ".npy") == 0;
}

/* whole file into memory; *len bytes, NUL-terminated */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
        if (n == cap) {
            char *nb = cap > ((size_t)1 << 34) ? NULL : realloc(buf, 2 * cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (!buf) {
        fclose(f);
        fail(err, errlen, "%s: too large to read", path);
        return NULL;
    }
    if (ferror(f)) {
        int e = errno;
        fclose(f);
        free(buf);
        fail(err, errlen, "%s: cannot read: %s", path, strerror(e ? e : EIO));
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* printable, truncated copy of a token for messages */
static void show_token(char *out, size_t outlen, const char *t, size_t tl)
{
    size_t k = 0;
    for (size_t i = 0; i < tl && k + 4 < outlen; i++)
        out[k++] = isprint((unsigned char)t[i]) ? t[i] : '?';
    if (k < tl && k + 4 <= outlen) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = 0;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static int read_text(const char *path, const char *buf, size_t len, mat_t *m, char *err, size_t errlen)
{
    size_t cap = 64, count = 0, cols = 0, rows = 0, first_line = 0;
    double *v = malloc(cap * sizeof *v);
    if (!v)
        return fail(err, errlen, "%s: out of memory", path);
    size_t line = 1, pos = 0;
    while (pos < len) {
        size_t eol = pos;
        while (eol < len && buf[eol] != '\n')
            eol++;
        size_t in_row = 0, p = pos;
        while (p < eol) {
            while (p < eol && is_space(buf[p]))
                p++;
            if (p >= eol || buf[p] == '#')
                break;
            size_t t0 = p;
            while (p < eol && !is_space(buf[p]) && buf[p] != '#')
                p++;
            size_t tl = p - t0;
            char tok[72], shown[40];
            show_token(shown, sizeof shown, buf + t0, tl);
            if (tl >= sizeof tok || memchr(buf + t0, 0, tl)) {
                free(v);
                return fail(err, errlen, "%s:%zu: not a number: '%s'", path, line, shown);
            }
            memcpy(tok, buf + t0, tl);
            tok[tl] = 0;
            char *end;
            errno = 0;
            double x = strtod(tok, &end);
            if (end == tok || *end) {
                free(v);
                return fail(err, errlen, "%s:%zu: not a number: '%s'", path, line, shown);
            }
            if (!isfinite(x)) {
                int overflow = errno == ERANGE;
                free(v);
                return fail(err, errlen, "%s:%zu: value '%s' is not finite%s", path, line, shown,
                            overflow ? " (overflows a double)" : "");
            }
            if (count == cap) {
                double *nv = cap > ((size_t)1 << 32) ? NULL : realloc(v, 2 * cap * sizeof *v);
                if (!nv) {
                    free(v);
                    return fail(err, errlen, "%s: out of memory", path);
                }
                v = nv;
                cap *= 2;
            }
            v[count++] = x;
            in_row++;
        }
        if (in_row) {
            if (rows == 0) {
                cols = in_row;
                first_line = line;
            } else if (in_row != cols) {
                free(v);
                return fail(err, errlen, "%s:%zu: ragged rows: %zu numbers on this line, %zu on line %zu",
                            path, line, in_row, cols, first_line);
            }
            rows++;
        }
        pos = eol + 1;
        line++;
    }
    if (rows == 0) {
        free(v);
        return fail(err, errlen, "%s: no numbers in the file", path);
    }
    m->rows = rows;
    m->cols = cols;
    m->ndim = 2;
    m->v = v;
    return 0;
}

/* ---- .npy ------------------------------------------------------------------ */
static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* value text after 'key': in a Python dict literal, or NULL */
static const char *dict_value(const char *h, const char *key)
{
    char k1[40], k2[40];
    snprintf(k1, sizeof k1, "'%s'", key);
    snprintf(k2, sizeof k2, "\"%s\"", key);
    const char *p = strstr(h, k1);
    if (!p)
        p = strstr(h, k2);
    if (!p)
        return NULL;
    p += strlen(k1);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

static int read_npy(const char *path, const unsigned char *buf, size_t len, mat_t *m, char *err, size_t errlen)
{
    if (len < 10 || memcmp(buf, npy_magic, 6) != 0)
        return fail(err, errlen, "%s: not a .npy file (bad magic)", path);
    unsigned major = buf[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return fail(err, errlen, "%s: truncated .npy header", path);
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hstart = 12;
    } else {
        return fail(err, errlen, "%s: .npy format version %u.%u is not supported (1.0, 2.0, 3.0 are)",
                    path, major, buf[7]);
    }
    if (hlen > len - hstart || hlen > 1 << 20)
        return fail(err, errlen, "%s: truncated .npy header", path);
    char *h = malloc(hlen + 1);
    if (!h)
        return fail(err, errlen, "%s: out of memory", path);
    memcpy(h, buf + hstart, hlen);
    h[hlen] = 0;
    int rc = -1;
    const char *d = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"),
               *sh = dict_value(h, "shape");
    if (!d || !fo || !sh) {
        fail(err, errlen, "%s: .npy header lacks descr, fortran_order or shape", path);
        goto out;
    }
    int big;
    if (strncmp(d, "'<f8'", 5) == 0 || strncmp(d, "\"<f8\"", 5) == 0)
        big = 0;
    else if (strncmp(d, "'>f8'", 5) == 0 || strncmp(d, "\">f8\"", 5) == 0)
        big = 1;
    else {
        char dt[24];
        size_t k = 0;
        while (d[k] && d[k] != ',' && k + 1 < sizeof dt) {
            dt[k] = d[k];
            k++;
        }
        dt[k] = 0;
        fail(err, errlen, "%s: dtype %s is not float64 (save it with .astype(numpy.float64))", path, dt);
        goto out;
    }
    int fortran;
    if (strncmp(fo, "True", 4) == 0)
        fortran = 1;
    else if (strncmp(fo, "False", 5) == 0)
        fortran = 0;
    else {
        fail(err, errlen, "%s: bad fortran_order in the .npy header", path);
        goto out;
    }
    if (*sh != '(') {
        fail(err, errlen, "%s: bad shape in the .npy header", path);
        goto out;
    }
    size_t dims[3];
    int nd = 0;
    const char *p = sh + 1;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == ')')
            break;
        if (!isdigit((unsigned char)*p) || nd == 3) {
            fail(err, errlen, nd == 3 ? "%s: arrays of more than 2 dimensions are not supported"
                                      : "%s: bad shape in the .npy header", path);
            goto out;
        }
        char *end;
        errno = 0;
        unsigned long long x = strtoull(p, &end, 10);
        if (errno || x > ((size_t)1 << 40)) {
            fail(err, errlen, "%s: shape too large", path);
            goto out;
        }
        dims[nd++] = (size_t)x;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
    }
    if (nd == 0) {
        fail(err, errlen, "%s: a 0-dimensional array is not a matrix or vector", path);
        goto out;
    }
    if (nd > 2) {
        fail(err, errlen, "%s: arrays of more than 2 dimensions are not supported", path);
        goto out;
    }
    size_t rows = dims[0], cols = nd == 2 ? dims[1] : 1;
    if (rows == 0 || cols == 0) {
        fail(err, errlen, "%s: empty array (shape %zu x %zu)", path, rows, cols);
        goto out;
    }
    if (cols && rows > (((size_t)1 << 40) / cols)) {
        fail(err, errlen, "%s: shape too large", path);
        goto out;
    }
    size_t count = rows * cols, off = hstart + hlen;
    if (len - off < count * 8) {
        fail(err, errlen, "%s: truncated: %zu values announced, %zu bytes of data", path, count, len - off);
        goto out;
    }
    double *v = malloc(count * sizeof *v);
    if (!v) {
        fail(err, errlen, "%s: out of memory", path);
        goto out;
    }
    for (size_t k = 0; k < count; k++) {
        const unsigned char *q = buf + off + 8 * k;
        uint64_t u = 0;
        for (int b = 0; b < 8; b++)
            u |= (uint64_t)q[big ? 7 - b : b] << (8 * b);
        double x;
        memcpy(&x, &u, sizeof x);
        /* element k: C order (i, j) = (k / cols, k % cols); Fortran (k % rows, k / rows) */
        size_t i = fortran ? k % rows : k / cols, j = fortran ? k / rows : k % cols;
        if (!isfinite(x)) {
            free(v);
            if (nd == 2)
                fail(err, errlen, "%s: entry [%zu, %zu] is not finite", path, i, j);
            else
                fail(err, errlen, "%s: entry [%zu] is not finite", path, i);
            goto out;
        }
        v[i * cols + j] = x;
    }
    m->rows = rows;
    m->cols = cols;
    m->ndim = nd;
    m->v = v;
    rc = 0;
out:
    free(h);
    return rc;
}

int matio_read(const char *path, mat_t *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    size_t len;
    char *buf = slurp(path, &len, err, errlen);
    if (!buf)
        return -1;
    int rc = matio_is_npy(path) ? read_npy(path, (const unsigned char *)buf, len, m, err, errlen)
                                : read_text(path, buf, len, m, err, errlen);
    free(buf);
    return rc;
}

int matio_as_vector(const char *path, const mat_t *m, char *err, size_t errlen)
{
    if (m->ndim == 1 || m->cols == 1 || m->rows == 1)
        return 0;
    return fail(err, errlen, "%s: expected a vector, got a %zu x %zu matrix", path, m->rows, m->cols);
}

/* ---- writing ----------------------------------------------------------------- */
void matio_format_double(char *buf, size_t len, double x)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, x);
        if (prec == 17 || strtod(buf, NULL) == x)
            return;
    }
}

#define NPY_HEADER_TOTAL 128 /* fixed, so the row count can be rewritten in place */

struct matio_writer {
    FILE *f;
    int own, npy, ndim1;
    size_t cols, rows;
    const char *path;
    int failed_errno;
};

static int npy_header(FILE *f, size_t rows, size_t cols, int ndim1)
{
    char dict[NPY_HEADER_TOTAL];
    int dl = ndim1 ? snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu,), }", rows)
                   : snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu, %zu), }",
                              rows, cols);
    unsigned char hdr[NPY_HEADER_TOTAL];
    const size_t hlen = NPY_HEADER_TOTAL - 10;
    memcpy(hdr, npy_magic, 6);
    hdr[6] = 1;
    hdr[7] = 0;
    hdr[8] = (unsigned char)(hlen & 0xFF);
    hdr[9] = (unsigned char)(hlen >> 8);
    memset(hdr + 10, ' ', hlen);
    memcpy(hdr + 10, dict, (size_t)dl);
    hdr[NPY_HEADER_TOTAL - 1] = '\n';
    return fwrite(hdr, 1, sizeof hdr, f) == sizeof hdr ? 0 : -1;
}

static int host_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}

static matio_writer *writer_new(FILE *f, int own, const char *path, size_t cols, int npy)
{
    matio_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->f = f;
    w->own = own;
    w->npy = npy;
    w->cols = cols;
    w->path = path;
    return w;
}

matio_writer *matio_writer_open(const char *path, size_t cols, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fail(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return NULL;
    }
    matio_writer *w = writer_new(f, 1, path, cols, matio_is_npy(path));
    if (!w) {
        fclose(f);
        fail(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (w->npy && npy_header(f, 0, cols, 0)) {
        fail(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        fclose(f);
        free(w);
        return NULL;
    }
    return w;
}

matio_writer *matio_writer_stream(void *file, size_t cols)
{
    return writer_new((FILE *)file, 0, "(stdout)", cols, 0);
}

int matio_writer_row(matio_writer *w, const double *row)
{
    if (w->npy) {
        for (size_t j = 0; j < w->cols; j++) {
            unsigned char b[8];
            uint64_t u;
            memcpy(&u, &row[j], 8);
            if (host_little_endian())
                memcpy(b, &u, 8);
            else
                for (int k = 0; k < 8; k++)
                    b[k] = (unsigned char)(u >> (8 * k));
            if (fwrite(b, 1, 8, w->f) != 8)
                goto bad;
        }
    } else {
        for (size_t j = 0; j < w->cols; j++) {
            char num[40];
            matio_format_double(num, sizeof num, row[j]);
            if (fputs(num, w->f) < 0 || fputc(j + 1 < w->cols ? ' ' : '\n', w->f) < 0)
                goto bad;
        }
    }
    w->rows++;
    return 0;
bad:
    if (!w->failed_errno)
        w->failed_errno = errno ? errno : EIO;
    return -1;
}

int matio_writer_close(matio_writer *w, char *err, size_t errlen)
{
    if (!w)
        return 0;
    int e = w->failed_errno;
    if (!e && w->npy && (fseek(w->f, 0, SEEK_SET) != 0 || npy_header(w->f, w->rows, w->cols, w->ndim1)))
        e = errno ? errno : EIO;
    if (!e && fflush(w->f) != 0)
        e = errno ? errno : EIO;
    if (w->own && fclose(w->f) != 0 && !e)
        e = errno ? errno : EIO;
    const char *path = w->path;
    free(w);
    if (e)
        return fail(err, errlen, "%s: write failed: %s", path, strerror(e));
    return 0;
}

int matio_write(const char *path, const mat_t *m, char *err, size_t errlen)
{
    const int ndim1 = m->ndim == 1;
    /* text vectors: one value per line */
    matio_writer *w = matio_writer_open(path, ndim1 ? 1 : m->cols, err, errlen);
    if (!w)
        return -1;
    w->ndim1 = ndim1 && w->npy;
    size_t rows = ndim1 ? m->rows * m->cols : m->rows, cols = ndim1 ? 1 : m->cols;
    for (size_t i = 0; i < rows; i++)
        if (matio_writer_row(w, m->v + i * cols))
            break;
    return matio_writer_close(w, err, errlen);
}
