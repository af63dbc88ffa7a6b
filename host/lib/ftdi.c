/* ftdi.c - the "ftdi[:serial=S][?baud=N]" device: the board's UART reached
 * through libftdi1 on libusb-1.0, without the ftdi_sio kernel driver.
 *
 * iCEBreaker: FT2232H (0403:6010); interface A is the SPI flash (iceprog),
 * interface B is the UART of the tspu link (FPGA pins 6 RX / 9 TX).  The
 * transport opens interface B, resets the chip's UART engine, sets the
 * latency timer to 1 ms (the chip sends a partly filled USB packet after at
 * most 1 ms instead of 16: short link answers come back fast), 8N1, no flow
 * control, the baud rate (default 3 Mbaud, the board's rate at power-on:
 * UART_DIV 4 at 12 MHz), and purges both chip buffers.
 *
 * Errors, as bladeRF / HackRF separate them:
 *   no FT2232H (or none with that serial)   TSPU_E_NOT_FOUND
 *   found, libusb_open gives ACCESS         TSPU_E_PERMISSION (udev rules hint)
 *   found, interface B claimed elsewhere    TSPU_E_BUSY
 * The device is opened by this file's own enumeration (ftdi_usb_find_all,
 * then libusb_open to read the serial) rather than ftdi_usb_open_desc, whose
 * -4 "usb_open() failed" hides the libusb reason (ACCESS vs anything else);
 * the final open is ftdi_usb_open_dev, whose -5 is a failed claim (busy) and
 * -8 a refused kernel-driver detach (permission).
 *
 * Built without libftdi1 (no TSPU_HAVE_FTDI) the device answers
 * TSPU_E_UNSUPPORTED.  See docs/boards.md "FTDI link". */
#define _DEFAULT_SOURCE /* clock_gettime */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tspu.h"
#include "tspu_link.h"

#define TSPU_FTDI_VID 0x0403
#define TSPU_FTDI_PID 0x6010

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

#ifndef TSPU_HAVE_FTDI

int tspu_transport_ftdi(tspu_transport *tr, const char *serial, unsigned baud, char *err, size_t errlen)
{
    (void)tr, (void)serial, (void)baud;
    return fail(err, errlen, TSPU_E_UNSUPPORTED,
                "ftdi: not available in this build (built without libftdi1; install libftdi1-dev and rebuild, "
                "or use serial:/dev/ttyUSB1)");
}

int tspu_ftdi_list(char *buf, size_t len)
{
    return snprintf(buf, len, "ftdi: FT2232H interface B through libftdi1 (not available in this build)\n");
}

#else /* TSPU_HAVE_FTDI */

#include <ftdi.h>
#include <libusb.h>

#define UDEV_HINT "install host/udev/60-tspu.rules (make install, or copy it to /etc/udev/rules.d), " \
                  "then udevadm control --reload && udevadm trigger and replug the board"

typedef struct {
    struct ftdi_context *f;
} ftdi_tr;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int ftdi_tr_write(void *ctx, const uint8_t *buf, size_t n)
{
    ftdi_tr *t = ctx;
    while (n > 0) {
        int chunk = n > 65536 ? 65536 : (int)n;
        int k = ftdi_write_data(t->f, buf, chunk);
        if (k == LIBUSB_ERROR_TIMEOUT)
            return TSPU_E_TIMEOUT;
        if (k < 0)
            return TSPU_E_IO; /* unplugged (LIBUSB_ERROR_NO_DEVICE) or a USB error */
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

/* ftdi_read_data returns what the chip has (0 when a USB IN packet brought
 * only the two status bytes, which the chip sends every latency period, 1 ms
 * here), so this loops until bytes come or the deadline passes; each turn
 * waits on the USB, no busy spin. */
static int ftdi_tr_read(void *ctx, uint8_t *buf, size_t max, int timeout_ms)
{
    ftdi_tr *t = ctx;
    const double deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int want = max > 65536 ? 65536 : (int)max;
    for (;;) {
        int k = ftdi_read_data(t->f, buf, want);
        if (k > 0)
            return k;
        if (k < 0 && k != LIBUSB_ERROR_TIMEOUT)
            return TSPU_E_IO;
        if (now_ms() >= deadline)
            return 0;
    }
}

static void ftdi_tr_close(void *ctx)
{
    ftdi_tr *t = ctx;
    ftdi_usb_close(t->f);
    ftdi_free(t->f);
    free(t);
}

/* The serial number of dev into out ("" if it has none); 0, or the libusb
 * error of opening it (LIBUSB_ERROR_ACCESS without the udev rules). */
static int dev_serial(libusb_device *dev, char *out, size_t outlen)
{
    struct libusb_device_descriptor desc;
    libusb_device_handle *h;
    out[0] = 0;
    int rc = libusb_get_device_descriptor(dev, &desc);
    if (rc < 0)
        return rc;
    if ((rc = libusb_open(dev, &h)) < 0)
        return rc;
    if (desc.iSerialNumber &&
        libusb_get_string_descriptor_ascii(h, desc.iSerialNumber, (unsigned char *)out, (int)outlen) < 0)
        out[0] = 0;
    libusb_close(h);
    return 0;
}

int tspu_transport_ftdi(tspu_transport *tr, const char *serial, unsigned baud, char *err, size_t errlen)
{
    if (baud < 300 || baud > 3000000)
        return fail(err, errlen, TSPU_E_INVAL, "ftdi: baud rate %u out of range (300..3000000)", baud);
    struct ftdi_context *f = ftdi_new();
    if (!f) /* libusb_init failed: no USB here at all */
        return fail(err, errlen, TSPU_E_NOT_FOUND,
                    "ftdi: no FT2232H %04x:%04x (interface B) found: libusb cannot be initialised on this machine",
                    TSPU_FTDI_VID, TSPU_FTDI_PID);
    int rc;
    char what[96];
    snprintf(what, sizeof what, "FT2232H %04x:%04x interface B%s%s", TSPU_FTDI_VID, TSPU_FTDI_PID,
             serial ? " serial " : "", serial ? serial : "");
    /* ftdi_sio lets go of interface B while we hold it and gets it back on
     * close (/dev/ttyUSB1 reappears); interface A (iceprog) is untouched */
    f->module_detach_mode = AUTO_DETACH_REATACH_SIO_MODULE;
    if ((rc = ftdi_set_interface(f, INTERFACE_B)) < 0) {
        rc = fail(err, errlen, TSPU_E_IO, "ftdi: %s: %s", what, ftdi_get_error_string(f));
        goto out_free;
    }

    /* find the board: all 0403:6010 devices, the first (or the one with the
     * serial) that we may open */
    struct ftdi_device_list *list = NULL;
    int n = ftdi_usb_find_all(f, &list, TSPU_FTDI_VID, TSPU_FTDI_PID);
    if (n < 0) {
        rc = fail(err, errlen, TSPU_E_IO, "ftdi: listing USB devices: %s", ftdi_get_error_string(f));
        goto out_free;
    }
    libusb_device *pick = NULL;
    int denied = 0, found = 0;
    char seen[128] = "", sn[64];
    for (struct ftdi_device_list *l = list; l; l = l->next) {
        int e = dev_serial(l->dev, sn, sizeof sn);
        if (e == LIBUSB_ERROR_ACCESS) {
            denied++; /* cannot read its serial either: count it, keep looking */
            continue;
        }
        if (e < 0)
            continue;
        found++;
        if (serial && strcmp(sn, serial) != 0) {
            size_t u = strlen(seen);
            snprintf(seen + u, sizeof seen - u, "%s%s", u ? ", " : "", sn[0] ? sn : "(none)");
            continue;
        }
        pick = l->dev;
        break;
    }
    if (!pick) {
        if (denied)
            rc = fail(err, errlen, TSPU_E_PERMISSION,
                      "ftdi: %s: found %d FT2232H device%s but no permission to open %s: " UDEV_HINT, what, denied,
                      denied > 1 ? "s" : "", denied > 1 ? "them" : "it");
        else if (found)
            rc = fail(err, errlen, TSPU_E_NOT_FOUND, "ftdi: no %s (attached serials: %s)", what, seen);
        else
            rc = fail(err, errlen, TSPU_E_NOT_FOUND, "ftdi: no %s found (is the board plugged in?)", what);
        ftdi_list_free(&list);
        goto out_free;
    }
    rc = ftdi_usb_open_dev(f, pick);
    ftdi_list_free(&list);
    if (rc < 0) {
        int code = rc == -5 ? TSPU_E_BUSY : rc == -8 ? TSPU_E_PERMISSION : TSPU_E_IO;
        rc = fail(err, errlen, code, "ftdi: %s: %s%s", what,
                  code == TSPU_E_BUSY ? "interface B is in use by another program (another tspu, or another "
                                        "libftdi/libusb program)"
                                      : ftdi_get_error_string(f),
                  code == TSPU_E_PERMISSION ? "; " UDEV_HINT : "");
        goto out_free;
    }

    /* set the UART up */
    const char *step;
    if ((step = "reset", ftdi_usb_reset(f) < 0) ||
        (step = "latency timer 1 ms", ftdi_set_latency_timer(f, 1) < 0) ||
        (step = "bit mode reset (UART)", ftdi_set_bitmode(f, 0, BITMODE_RESET) < 0) ||
        (step = "8N1", ftdi_set_line_property(f, BITS_8, STOP_BIT_1, NONE) < 0) ||
        (step = "no flow control", ftdi_setflowctrl(f, SIO_DISABLE_FLOW_CTRL) < 0) ||
        (step = "baud rate", ftdi_set_baudrate(f, (int)baud) < 0) ||
        (step = "purge buffers", ftdi_tcioflush(f) < 0)) {
        rc = fail(err, errlen, TSPU_E_IO, "ftdi: %s: setting %s: %s", what, step, ftdi_get_error_string(f));
        ftdi_usb_close(f);
        goto out_free;
    }
    /* bulk IN transfers end after one latency period at most, so this only
     * bounds a wedged USB; the read loop keeps the caller's deadline */
    f->usb_read_timeout = 50;
    f->usb_write_timeout = 1000;

    ftdi_tr *t = calloc(1, sizeof *t);
    if (!t) {
        rc = fail(err, errlen, TSPU_E_NOMEM, "ftdi: out of memory");
        ftdi_usb_close(f);
        goto out_free;
    }
    t->f = f;
    tr->write = ftdi_tr_write;
    tr->read = ftdi_tr_read;
    tr->close = ftdi_tr_close;
    tr->ctx = t;
    return 0;

out_free:
    ftdi_free(f);
    return rc;
}

int tspu_ftdi_list(char *buf, size_t len)
{
    int w = snprintf(buf, len, "ftdi: FT2232H interface B through libftdi1 (ftdi[:serial=S][?baud=N])\n");
    struct ftdi_context *f = ftdi_new();
    if (!f)
        return w;
    struct ftdi_device_list *list = NULL;
    if (ftdi_usb_find_all(f, &list, TSPU_FTDI_VID, TSPU_FTDI_PID) > 0) {
        for (struct ftdi_device_list *l = list; l; l = l->next) {
            char sn[64];
            size_t used = w < 0 ? 0 : (size_t)w;
            int e = dev_serial(l->dev, sn, sizeof sn);
            unsigned bus = libusb_get_bus_number(l->dev), addr = libusb_get_device_address(l->dev);
            if (e == LIBUSB_ERROR_ACCESS)
                w += snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0,
                              "ftdi: FT2232H %04x:%04x on USB %03u/%03u (no permission: install host/udev/60-tspu.rules)\n",
                              TSPU_FTDI_VID, TSPU_FTDI_PID, bus, addr);
            else if (e == 0 && sn[0])
                w += snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0,
                              "ftdi:serial=%s: FT2232H %04x:%04x on USB %03u/%03u\n", sn, TSPU_FTDI_VID,
                              TSPU_FTDI_PID, bus, addr);
            else
                w += snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0,
                              "ftdi: FT2232H %04x:%04x on USB %03u/%03u (no serial number)\n", TSPU_FTDI_VID,
                              TSPU_FTDI_PID, bus, addr);
        }
    }
    ftdi_list_free(&list);
    ftdi_free(f);
    return w;
}

#endif /* TSPU_HAVE_FTDI */
