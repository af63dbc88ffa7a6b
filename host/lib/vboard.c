/* vboard.c - the "vboard" device: spawn the Verilated board (tspu-vboard,
 * sim/vboard.cpp), wait for its readiness line "tspu-vboard: ready on PATH"
 * with a deadline, then talk to it through the serial transport on that pty
 * (8N1 at the given baud rate).  The simulated line follows the board's
 * UART_DIV, or, with clock_hz != 0, runs at clock_hz with the host's own baud
 * rate on it (the pty's termios), so a wrong rate garbles the line as it
 * would on a board (tspu-vboard +clock_hz=N).  Closing the device stops the
 * board.
 * The board program is $TSPU_VBOARD, else tspu-vboard next to the running
 * program (or in ../bin from it), else tspu-vboard on the PATH. */
#define _GNU_SOURCE /* prctl, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tspu.h"
#include "tspu_backend.h"
#include "tspu_link.h"

#define READY_PREFIX "tspu-vboard: ready on "
#define READY_DEADLINE_MS 10000

typedef struct {
    tspu_transport ser;
    pid_t pid;
} vboard_tr;

static int vb_write(void *ctx, const uint8_t *buf, size_t n)
{
    vboard_tr *t = ctx;
    return t->ser.write(t->ser.ctx, buf, n);
}

static int vb_read(void *ctx, uint8_t *buf, size_t max, int timeout_ms)
{
    vboard_tr *t = ctx;
    return t->ser.read(t->ser.ctx, buf, max, timeout_ms);
}

static void stop_child(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) { /* up to 2 s, then for good */
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void vb_close(void *ctx)
{
    vboard_tr *t = ctx;
    t->ser.close(t->ser.ctx);
    stop_child(t->pid);
    free(t);
}

static int fail(char *err, size_t len, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return code;
}

/* the board program: $TSPU_VBOARD, beside this program, ../bin, PATH */
static void find_board(char out[PATH_MAX], size_t len)
{
    const char *env = getenv("TSPU_VBOARD");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char self[PATH_MAX / 2];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    if (k > 0) {
        self[k] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            snprintf(out, len, "%s/tspu-vboard", self);
            if (access(out, X_OK) == 0)
                return;
            snprintf(out, len, "%s/../bin/tspu-vboard", self);
            if (access(out, X_OK) == 0)
                return;
        }
    }
    snprintf(out, len, "tspu-vboard");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int tspu_transport_vboard(tspu_transport *tr, unsigned clock_hz, unsigned baud, char *err, size_t errlen)
{
    char clock_arg[40];
    snprintf(clock_arg, sizeof clock_arg, "+clock_hz=%u", clock_hz);
    char prog[PATH_MAX];
    find_board(prog, sizeof prog);
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return fail(err, errlen, TSPU_E_IO, "vboard: pipe: %s", strerror(errno));
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return fail(err, errlen, TSPU_E_IO, "vboard: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* the board goes when its host goes */
        if (getppid() != parent)
            _exit(1);
        dup2(pfd[1], STDOUT_FILENO);
        char *const argv[] = {prog, clock_hz ? clock_arg : NULL, NULL};
        execvp(prog, argv);
        dprintf(STDOUT_FILENO, "tspu-vboard: cannot run %s: %s\n", prog, strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    /* the readiness line, within the deadline */
    char line[512];
    size_t used = 0;
    double t_end = now_ms() + READY_DEADLINE_MS;
    int rc = 0;
    char path[sizeof line] = "";
    for (;;) {
        char *nl = memchr(line, '\n', used);
        if (nl) {
            *nl = 0;
            if (strncmp(line, READY_PREFIX, strlen(READY_PREFIX)) == 0) {
                snprintf(path, sizeof path, "%s", line + strlen(READY_PREFIX));
                break;
            }
            rc = fail(err, errlen, TSPU_E_NOT_FOUND, "vboard: %s", line);
            break;
        }
        int left = (int)(t_end - now_ms());
        if (left <= 0) {
            rc = fail(err, errlen, TSPU_E_TIMEOUT, "vboard: %s did not report ready within %d ms", prog,
                      READY_DEADLINE_MS);
            break;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t k = read(pfd[0], line + used, sizeof line - 1 - used);
        if (k <= 0) {
            rc = fail(err, errlen, TSPU_E_NOT_FOUND, "vboard: %s exited before it was ready", prog);
            break;
        }
        used += (size_t)k;
        if (used >= sizeof line - 1) {
            rc = fail(err, errlen, TSPU_E_PROTOCOL, "vboard: unexpected output from %s", prog);
            break;
        }
    }
    close(pfd[0]);
    if (rc) {
        stop_child(pid);
        return rc;
    }
    vboard_tr *t = calloc(1, sizeof *t);
    if (!t) {
        stop_child(pid);
        return fail(err, errlen, TSPU_E_NOMEM, "vboard: out of memory");
    }
    t->pid = pid;
    rc = tspu_transport_serial(&t->ser, path, baud, err, errlen);
    if (rc) {
        stop_child(pid);
        free(t);
        return rc;
    }
    tr->write = vb_write;
    tr->read = vb_read;
    tr->close = vb_close;
    tr->ctx = t;
    return 0;
}
