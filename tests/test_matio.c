/* test_matio.c - host/cli/matio.c: text and .npy readers and writers.
 * Text: comments, blank lines, CRLF, ragged rows, non-numeric tokens, NaN/inf,
 * empty and missing files.  .npy: hand-made version 1.0 and 2.0 headers, C
 * and Fortran order, 1-D, big-endian, wrong dtype, truncated, bad magic,
 * non-finite entries.  Round trips of text and .npy, whole and streamed. */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matio.h"
#include "tt.h"

static char dir[256];

static const char *path_of(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static const char *put(const char *name, const void *data, size_t len)
{
    const char *p = path_of(name);
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    return p;
}

static const char *put_text(const char *name, const char *s) { return put(name, s, strlen(s)); }

/* .npy with the given header dict and raw data; version 1 or 2 */
static const char *put_npy(const char *name, int version, const char *dict, const void *data, size_t len)
{
    unsigned char buf[4096];
    size_t pre = version == 1 ? 10 : 12, dl = strlen(dict);
    size_t total = pre + dl + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = dl + pad + 1;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)version;
    buf[7] = 0;
    buf[8] = hlen & 0xFF;
    buf[9] = (hlen >> 8) & 0xFF;
    if (version != 1) {
        buf[10] = (hlen >> 16) & 0xFF;
        buf[11] = (hlen >> 24) & 0xFF;
    }
    memcpy(buf + pre, dict, dl);
    memset(buf + pre + dl, ' ', pad);
    buf[pre + hlen - 1] = '\n';
    memcpy(buf + pre + hlen, data, len);
    return put(name, buf, pre + hlen + len);
}

static int read_fails(const char *p, const char *want, char *err, size_t errlen)
{
    mat_t m;
    int rc = matio_read(p, &m, err, errlen);
    if (rc == 0) {
        mat_free(&m);
        snprintf(err, errlen, "(read succeeded)");
        return 0;
    }
    return strstr(err, want) != NULL && strchr(err, '\n') == NULL;
}

static int mat_eq(const mat_t *m, size_t r, size_t c, const double *v)
{
    if (m->rows != r || m->cols != c)
        return 0;
    for (size_t i = 0; i < r * c; i++)
        if (memcmp(&m->v[i], &v[i], sizeof(double)) != 0)
            return 0;
    return 1;
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_matio.%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd) != 0)
        return 1;
    char err[512];
    mat_t m;

    /* ---- text ---- */
    const char *p = put_text("a.txt", "# a comment\n\n 1 2.5\t-3 # trailing\r\n4e0 5 6\n   \n# end\n");
    int rc = matio_read(p, &m, err, sizeof err);
    const double av[] = {1, 2.5, -3, 4, 5, 6};
    tt_check(rc == 0 && mat_eq(&m, 2, 3, av) && m.ndim == 2, "text: comments, blank lines, tabs, CRLF",
             "rc %d (%s) %zux%zu", rc, rc ? err : "", m.rows, m.cols);
    mat_free(&m);

    p = put_text("ragged.txt", "1 2\n3 4\n5\n");
    tt_check(read_fails(p, "ragged.txt:3: ragged rows", err, sizeof err), "text: ragged rows name the line", "%s", err);
    p = put_text("word.txt", "1 2\n3 x4\n");
    tt_check(read_fails(p, "word.txt:2: not a number: 'x4'", err, sizeof err), "text: non-numeric token", "%s", err);
    p = put_text("comma.txt", "1,2\n");
    tt_check(read_fails(p, "comma.txt:1: not a number", err, sizeof err), "text: commas are not separators", "%s", err);
    p = put_text("nan.txt", "1 2\n# c\nnan 4\n");
    tt_check(read_fails(p, "nan.txt:3: value 'nan' is not finite", err, sizeof err), "text: NaN refused", "%s", err);
    p = put_text("inf.txt", "-inf 2\n");
    tt_check(read_fails(p, "inf.txt:1: value '-inf' is not finite", err, sizeof err), "text: inf refused", "%s", err);
    p = put_text("big.txt", "1e999\n");
    tt_check(read_fails(p, "overflows", err, sizeof err), "text: overflow refused", "%s", err);
    p = put_text("empty.txt", "# nothing\n\n");
    tt_check(read_fails(p, "no numbers", err, sizeof err), "text: empty file", "%s", err);
    p = put("nul.txt", "1 \0 2\n", 6);
    tt_check(read_fails(p, "nul.txt:1: not a number", err, sizeof err), "text: binary garbage", "%s", err);
    tt_check(read_fails(path_of("missing.txt"), "missing.txt: cannot open: No such file", err, sizeof err),
             "missing file", "%s", err);
    tt_check(read_fails(dir, "cannot read", err, sizeof err), "a directory is unreadable", "%s", err);

    /* ---- .npy ---- */
    const double c23[] = {1, 2, 3, 4, 5, 6};
    p = put_npy("c.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", c23, sizeof c23);
    rc = matio_read(p, &m, err, sizeof err);
    tt_check(rc == 0 && mat_eq(&m, 2, 3, c23) && m.ndim == 2, "npy: v1.0 C order", "rc %d %s", rc, rc ? err : "");
    mat_free(&m);
    const double f23[] = {1, 4, 2, 5, 3, 6}; /* column-major of [[1,2,3],[4,5,6]] */
    p = put_npy("f.npy", 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", f23, sizeof f23);
    rc = matio_read(p, &m, err, sizeof err);
    tt_check(rc == 0 && mat_eq(&m, 2, 3, c23), "npy: Fortran order", "rc %d %s", rc, rc ? err : "");
    mat_free(&m);
    p = put_npy("v2.npy", 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", c23, sizeof c23);
    rc = matio_read(p, &m, err, sizeof err);
    tt_check(rc == 0 && mat_eq(&m, 3, 2, c23), "npy: v2.0 header", "rc %d %s", rc, rc ? err : "");
    mat_free(&m);
    p = put_npy("vec.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", c23, sizeof c23);
    rc = matio_read(p, &m, err, sizeof err);
    tt_check(rc == 0 && mat_eq(&m, 6, 1, c23) && m.ndim == 1 && matio_as_vector(p, &m, err, sizeof err) == 0,
             "npy: 1-D vector", "rc %d %s", rc, rc ? err : "");
    mat_free(&m);
    unsigned char be[sizeof c23];
    for (size_t k = 0; k < 6; k++) {
        uint64_t u;
        memcpy(&u, &c23[k], 8);
        for (int b = 0; b < 8; b++)
            be[8 * k + b] = (unsigned char)(u >> (56 - 8 * b));
    }
    p = put_npy("be.npy", 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", be, sizeof be);
    rc = matio_read(p, &m, err, sizeof err);
    tt_check(rc == 0 && mat_eq(&m, 2, 3, c23), "npy: big-endian float64", "rc %d %s", rc, rc ? err : "");
    mat_free(&m);
    const int64_t iv[] = {1, 2, 3, 4};
    p = put_npy("int.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", iv, sizeof iv);
    tt_check(read_fails(p, "dtype '<i8' is not float64", err, sizeof err), "npy: int64 refused", "%s", err);
    p = put_npy("short.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), }", c23, sizeof c23);
    tt_check(read_fails(p, "truncated", err, sizeof err), "npy: truncated data", "%s", err);
    p = put_text("magic.npy", "1 2\n3 4\n");
    tt_check(read_fails(p, "not a .npy file", err, sizeof err), "npy: bad magic", "%s", err);
    const double nanv[] = {1, 2, NAN, 4};
    p = put_npy("nan.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", nanv, sizeof nanv);
    tt_check(read_fails(p, "entry [1, 0] is not finite", err, sizeof err), "npy: NaN refused with its index", "%s",
             err);
    p = put_npy("d3.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }", c23, sizeof c23);
    tt_check(read_fails(p, "more than 2 dimensions", err, sizeof err), "npy: 3-D refused", "%s", err);

    /* ---- vector shapes ---- */
    p = put_text("row.txt", "1 2 3\n");
    rc = matio_read(p, &m, err, sizeof err);
    tt_check(rc == 0 && matio_as_vector(p, &m, err, sizeof err) == 0, "text: a row is a vector", "%s", err);
    mat_free(&m);
    p = put_text("m22.txt", "1 2\n3 4\n");
    rc = matio_read(p, &m, err, sizeof err);
    tt_check(rc == 0 && matio_as_vector(p, &m, err, sizeof err) < 0 && strstr(err, "expected a vector"),
             "text: a 2x2 matrix is not a vector", "%s", err);
    mat_free(&m);

    /* ---- round trips ---- */
    double tricky[] = {0.1, 1.0 / 3.0, -0.0, 1e-300, DBL_MAX, -DBL_MIN, 123456789.123456789, 2.0 / 3.0, 5e-324};
    mat_t w = {.rows = 3, .cols = 3, .ndim = 2, .v = tricky};
    const char *names[] = {"rt.txt", "rt.npy", "RT.NPY"};
    for (int k = 0; k < 3; k++) {
        p = path_of(names[k]);
        int wr = matio_write(p, &w, err, sizeof err);
        rc = wr ? -1 : matio_read(p, &m, err, sizeof err);
        char name[64];
        snprintf(name, sizeof name, "round trip bit-exact: %s", names[k]);
        tt_check(rc == 0 && mat_eq(&m, 3, 3, tricky), name, "%s", rc ? err : "values differ");
        mat_free(&m);
    }
    mat_t v1 = {.rows = 4, .cols = 1, .ndim = 1, .v = tricky};
    p = path_of("v1.npy");
    rc = matio_write(p, &v1, err, sizeof err) || matio_read(p, &m, err, sizeof err);
    tt_check(rc == 0 && m.ndim == 1 && mat_eq(&m, 4, 1, tricky), "round trip: 1-D .npy", "%s", err);
    mat_free(&m);
    p = path_of("v1.txt");
    rc = matio_write(p, &v1, err, sizeof err) || matio_read(p, &m, err, sizeof err);
    tt_check(rc == 0 && mat_eq(&m, 4, 1, tricky), "round trip: text vector is one column", "%s", err);
    mat_free(&m);

    /* streamed rows: the .npy header is fixed up with the final count */
    p = path_of("stream.npy");
    matio_writer *sw = matio_writer_open(p, 3, err, sizeof err);
    for (int r = 0; r < 1000 && sw; r++) {
        double row[3] = {r, -r * 0.5, r * 1e-3};
        matio_writer_row(sw, row);
    }
    rc = matio_writer_close(sw, err, sizeof err) || matio_read(p, &m, err, sizeof err);
    tt_check(rc == 0 && m.rows == 1000 && m.cols == 3 && m.v[999 * 3 + 1] == -499.5, "streamed .npy: 1000 rows",
             "%s %zu", err, m.rows);
    mat_free(&m);
    tt_check(matio_writer_open(path_of("no/such/dir.txt"), 2, err, sizeof err) == NULL &&
                 strstr(err, "cannot write"),
             "writer: unwritable path", "%s", err);
    char fmt[40];
    matio_format_double(fmt, sizeof fmt, 0.1);
    tt_check(strcmp(fmt, "0.1") == 0, "shortest text: 0.1", "%s", fmt);

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return tt_exit();
}
