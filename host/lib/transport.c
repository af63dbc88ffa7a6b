/* transport.c - byte transports under the link: the in-process model
 * endpoint and a termios serial port. */
#define _DEFAULT_SOURCE /* flock, cfmakeraw, B3000000 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tspu.h"
#include "tspu_link.h"
#include "tspu_modeldev.h"

static int fail(char *err, size_t len, int code, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- model ------------------------------------------------------------------ */
typedef struct {
    tspu_modeldev *md;
    tspu_endpoint ep;
} model_tr;

static int model_write(void *ctx, const uint8_t *buf, size_t n)
{
    model_tr *t = ctx;
    tspu_ep_rx(&t->ep, buf, n);
    return 0;
}

static int model_read(void *ctx, uint8_t *buf, size_t max, int timeout_ms)
{
    model_tr *t = ctx;
    (void)timeout_ms; /* the endpoint answers at once or never */
    size_t n = tspu_ep_tx(&t->ep, buf, max);
    if (n == 0)
        tspu_ep_idle(&t->ep);
    return (int)n;
}

static void model_close(void *ctx)
{
    model_tr *t = ctx;
    tspu_ep_free(&t->ep);
    tspu_modeldev_destroy(t->md);
    free(t);
}

int tspu_transport_model(tspu_transport *tr, const tspu_modeldev_opts *o,
                         tspu_modeldev **md, char *err, size_t errlen)
{
    model_tr *t = calloc(1, sizeof *t);
    if (!t)
        return fail(err, errlen, TSPU_E_NOMEM, "model: out of memory");
    t->md = tspu_modeldev_create(o);
    if (!t->md) {
        free(t);
        return fail(err, errlen, TSPU_E_INVAL, "model: bad options (N must be %d..%d)",
                    TSPU_N_MIN, TSPU_N_MAX);
    }
    if (tspu_ep_init(&t->ep, tspu_modeldev_regdev(t->md))) {
        tspu_modeldev_destroy(t->md);
        free(t);
        return fail(err, errlen, TSPU_E_NOMEM, "model: out of memory");
    }
    tr->write = model_write;
    tr->read = model_read;
    tr->close = model_close;
    tr->ctx = t;
    if (md)
        *md = t->md;
    return 0;
}

/* ---- serial ------------------------------------------------------------------ */
typedef struct {
    int fd;
} serial_tr;

static int serial_write(void *ctx, const uint8_t *buf, size_t n)
{
    serial_tr *t = ctx;
    while (n > 0) {
        ssize_t k = write(t->fd, buf, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd p = {.fd = t->fd, .events = POLLOUT};
                if (poll(&p, 1, 1000) <= 0)
                    return TSPU_E_TIMEOUT;
                continue;
            }
            return TSPU_E_IO;
        }
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

static int serial_read(void *ctx, uint8_t *buf, size_t max, int timeout_ms)
{
    serial_tr *t = ctx;
    struct pollfd p = {.fd = t->fd, .events = POLLIN};
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return TSPU_E_IO;
        if (r == 0)
            return 0;
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
            return TSPU_E_IO; /* the board (or the vboard process) went away */
        ssize_t k = read(t->fd, buf, max);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0)
            return TSPU_E_IO;
        return (int)k;
    }
}

static void serial_close(void *ctx)
{
    serial_tr *t = ctx;
    close(t->fd);
    free(t);
}

static speed_t baud_const(unsigned baud)
{
    static const struct { unsigned b; speed_t s; } tab[] = {
        {9600, B9600}, {19200, B19200}, {38400, B38400}, {57600, B57600},
        {115200, B115200}, {230400, B230400}, {460800, B460800}, {500000, B500000},
        {921600, B921600}, {1000000, B1000000}, {1500000, B1500000},
        {2000000, B2000000}, {3000000, B3000000}, {4000000, B4000000},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].b == baud)
            return tab[i].s;
    return 0;
}

int tspu_transport_serial(tspu_transport *tr, const char *path, unsigned baud,
                          char *err, size_t errlen)
{
    speed_t sp = baud_const(baud);
    if (!sp)
        return fail(err, errlen, TSPU_E_INVAL, "serial: unsupported baud rate %u", baud);
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        int code = (e == ENOENT || e == ENODEV || e == ENXIO) ? TSPU_E_NOT_FOUND
                   : (e == EACCES || e == EPERM)             ? TSPU_E_PERMISSION
                   : (e == EBUSY)                            ? TSPU_E_BUSY
                                                             : TSPU_E_IO;
        return fail(err, errlen, code, "serial: %s: %s%s", path, strerror(e),
                    code == TSPU_E_PERMISSION ? " (add yourself to group dialout, or install the udev rules)" : "");
    }
    /* one host per port: a second tspu on the same board would interleave frames */
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return fail(err, errlen, TSPU_E_BUSY, "serial: %s is in use by another process", path);
    }
    struct termios tio;
    if (tcgetattr(fd, &tio) < 0) {
        close(fd);
        return fail(err, errlen, TSPU_E_IO, "serial: %s is not a terminal device", path);
    }
    cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    cfsetispeed(&tio, sp);
    cfsetospeed(&tio, sp);
    if (tcsetattr(fd, TCSANOW, &tio) < 0) {
        close(fd);
        return fail(err, errlen, TSPU_E_IO, "serial: %s: cannot set %u baud 8N1", path, baud);
    }
    tcflush(fd, TCIOFLUSH); /* stale bytes from an earlier session */
    serial_tr *t = calloc(1, sizeof *t);
    if (!t) {
        close(fd);
        return fail(err, errlen, TSPU_E_NOMEM, "serial: out of memory");
    }
    t->fd = fd;
    tr->write = serial_write;
    tr->read = serial_read;
    tr->close = serial_close;
    tr->ctx = t;
    return 0;
}
