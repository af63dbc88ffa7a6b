/* test_link_serial.c - the serial transport (termios) end to end: a child
 * process serves the model device's link endpoint on the master side of a
 * pseudo-terminal, the host opens "serial:/dev/pts/N?baud=3000000" like a
 * board, and the samples that come back are bit-identical to the bare model.
 * This is the path vboard will take (a pty named on a readiness line). */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 600
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tspu.h"
#include "tspu_link.h"
#include "tspu_modeldev.h"
#include "tt.h"

#define N 4

/* the device side: bytes from the master fd into the endpoint and back */
static void serve(int fd)
{
    tspu_modeldev_opts o = {.n = N, .fifo_words = 512, .steps_per_frame = 4000};
    tspu_modeldev *md = tspu_modeldev_create(&o);
    tspu_endpoint ep;
    tspu_ep_init(&ep, tspu_modeldev_regdev(md));
    uint8_t buf[4096];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 2); /* 2 ms quiet: the device's inter-byte timeout */
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            tspu_ep_idle(&ep);
            continue;
        }
        ssize_t k = read(fd, buf, sizeof buf);
        if (k <= 0)
            break; /* the host closed the slave: EIO */
        tspu_ep_rx(&ep, buf, (size_t)k);
        size_t n;
        while ((n = tspu_ep_tx(&ep, buf, sizeof buf)) > 0) {
            size_t off = 0;
            while (off < n) {
                ssize_t w = write(fd, buf + off, n - off);
                if (w < 0 && errno != EINTR && errno != EAGAIN)
                    _exit(0);
                if (w > 0)
                    off += (size_t)w;
            }
        }
    }
    tspu_ep_free(&ep);
    tspu_modeldev_destroy(md);
    _exit(0);
}

typedef struct {
    int16_t *w;
    size_t n, cap;
} words;

static int collect(void *ctx, const int16_t *w, size_t count, unsigned wps)
{
    words *o = ctx;
    size_t k = count * wps;
    if (o->n + k > o->cap)
        return -100;
    memcpy(o->w + o->n, w, k * sizeof *w);
    o->n += k;
    return 0;
}

int main(void)
{
    alarm(120); /* never hang the test run */
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m)) {
        tt_check(0, "pseudo-terminal available", "%s", strerror(errno));
        return tt_exit();
    }
    char spec[128];
    snprintf(spec, sizeof spec, "serial:%s?baud=3000000", ptsname(m));
    pid_t pid = fork();
    if (pid == 0)
        serve(m);
    close(m);

    static const double A[N * N] = {4.0, 1.0, 0.5, 0.0, 1.0, 3.0, 0.8, 0.2,
                                    0.5, 0.8, 2.0, 0.3, 0.0, 0.2, 0.3, 1.0};
    static const double b[N] = {1.0, -2.0, 0.5, 1.5};
    tspu_problem pr = {.n = N, .A0 = A, .b0 = b, .beta = 1.0, .h = 0.05,
                       .integrator = TSPU_INT_LM, .x_range = 12.0};
    tspu_mapping mp;
    tspu_model_config cfg = tspu_model_default_config();
    char err[200];
    tspu_map_problem(&pr, &mp, &cfg, err, sizeof err);
    cfg.burnin = 500;
    cfg.n_samples = 20000;

    /* reference: the bare model */
    words ref = {calloc(N * 20000, 2), 0, N * 20000}, got = {calloc(N * 20000, 2), 0, N * 20000};
    tspu_model *mo = tspu_model_create(N, 1 << 16);
    tspu_model_load_couplings(mo, 0, mp.a[0], mp.b[0]);
    tspu_model_load_couplings(mo, 1, mp.a[1], mp.b[1]);
    tspu_model_seed(mo, 31);
    tspu_model_configure(mo, &cfg);
    tspu_model_start(mo);
    while (!tspu_model_done(mo)) {
        tspu_model_run(mo, 1000);
        ref.n += tspu_model_fifo_read(mo, ref.w + ref.n, ref.cap - ref.n);
    }
    tspu_moments mref, mdev;
    tspu_model_read_moments(mo, &mref);
    tspu_model_destroy(mo);

    tspu_dev *d;
    int rc = tspu_open(&d, spec);
    if (tt_check(rc == 0, "open the model device through a pty as serial:PATH?baud=3000000", "%s",
                 tspu_last_error(NULL))) {
        tspu_info in;
        tspu_get_info(d, &in);
        tt_check(in.n == N && in.fifo_depth == 512, "info over the serial transport", "n %u", in.n);
        rc = tspu_open(&(tspu_dev *){NULL}, spec);
        tt_check(rc == TSPU_E_BUSY, "a second host on the same port is refused as busy", "rc %d", rc);
        if (!(rc = tspu_load_mapping(d, &mp)) && !(rc = tspu_seed(d, 31)) &&
            !(rc = tspu_configure(d, &cfg, 1)) && !(rc = tspu_start(d)))
            rc = tspu_stream(d, collect, &got, 5000);
        if (!rc)
            rc = tspu_read_moments(d, &mdev);
        tt_check(rc == 0 && got.n == ref.n && !memcmp(got.w, ref.w, ref.n * 2) && mdev.count == mref.count &&
                     !memcmp(mdev.sumsq, mref.sumsq, sizeof mref.sumsq),
                 "serial transport: 20000 samples and moments bit-identical to the bare model",
                 "rc %d (%s), %zu vs %zu words", rc, tspu_last_error(d), got.n, ref.n);
        tspu_close(d);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) /* the child ends when the slave closes */
        kill(pid, SIGKILL);
    free(ref.w);
    free(got.w);
    return tt_exit();
}
