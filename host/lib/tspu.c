/* tspu.c - libtspu: device handle, open by device string, version handshake,
 * register/memory access, problem loading, run control, FIFO streaming with
 * drop detection, results.  Everything goes through the link (tspu_link.h),
 * so every device takes the same code path. */
#define _DEFAULT_SOURCE /* glob, clock_gettime */
#include "tspu.h"

#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tspu_backend.h"
#include "tspu_link.h"
#include "tspu_modeldev.h"
#include "tspu_noise.h"
#include "tspu_regs.h"

struct tspu_dev {
    tspu_link link;
    tspu_info info;
    unsigned words_per_sample;
    char err[256];
};

/* detail of the last failed tspu_open (there is no handle to hold it) */
static char open_err[256];

const char *tspu_strerror(int err)
{
    switch (err) {
    case TSPU_OK: return "success";
    case TSPU_E_NOT_FOUND: return "device not found";
    case TSPU_E_PERMISSION: return "no permission to open the device";
    case TSPU_E_BUSY: return "device busy (in use by another process)";
    case TSPU_E_TIMEOUT: return "timeout: the device did not answer";
    case TSPU_E_PROTOCOL: return "link protocol error (CRC, framing or NAK)";
    case TSPU_E_VERSION: return "gateware version mismatch";
    case TSPU_E_INVAL: return "invalid argument";
    case TSPU_E_SATURATED: return "the unit saturated a value";
    case TSPU_E_FIFO_OVERFLOW: return "sample FIFO overflow: samples were dropped";
    case TSPU_E_UNSUPPORTED: return "not supported by this device or build";
    case TSPU_E_IO: return "I/O error";
    case TSPU_E_NOMEM: return "out of memory";
    case TSPU_E_REJECTED: return "the unit rejected a value";
    default: return "unknown error";
    }
}

static int seterr(tspu_dev *d, int code, const char *fmt, ...)
{
    char *buf = d ? d->err : open_err;
    size_t len = d ? sizeof d->err : sizeof open_err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return code;
}

const char *tspu_last_error(const tspu_dev *d) { return d ? d->err : open_err; }

/* link errors get a detail line naming what failed */
static int chk(tspu_dev *d, int rc, const char *what)
{
    if (rc < 0)
        seterr(d, rc, "%s: %s%s", what, tspu_strerror(rc),
               d->link.last_nak == TSPU_NAK_ADDR ? " (address not mapped)" :
               d->link.last_nak == TSPU_NAK_ACCESS ? " (register is read-only)" : "");
    return rc;
}

/* ---- raw access ---------------------------------------------------------------- */
int tspu_mem_read(tspu_dev *d, uint16_t addr, uint32_t *v, size_t count)
{
    while (count > 0) {
        size_t k = count < TSPU_LINK_MAX_BURST_WORDS ? count : TSPU_LINK_MAX_BURST_WORDS;
        int rc = tspu_link_read(&d->link, addr, v, k);
        if (rc)
            return chk(d, rc, "read");
        addr = (uint16_t)(addr + k);
        v += k;
        count -= k;
    }
    return 0;
}

int tspu_mem_write(tspu_dev *d, uint16_t addr, const uint32_t *v, size_t count)
{
    while (count > 0) {
        size_t k = count < TSPU_LINK_MAX_BURST_WORDS ? count : TSPU_LINK_MAX_BURST_WORDS;
        int rc = tspu_link_write(&d->link, addr, v, k);
        if (rc)
            return chk(d, rc, "write");
        addr = (uint16_t)(addr + k);
        v += k;
        count -= k;
    }
    return 0;
}

int tspu_reg_read(tspu_dev *d, uint16_t addr, uint32_t *v) { return tspu_mem_read(d, addr, v, 1); }
int tspu_reg_write(tspu_dev *d, uint16_t addr, uint32_t v) { return tspu_mem_write(d, addr, &v, 1); }

/* ---- open / close ---------------------------------------------------------------- */
/* value of key in a "k=v&k=v" query; returns 1 if present */
static int query(const char *q, const char *key, char *out, size_t outlen)
{
    size_t kl = strlen(key);
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len > kl && strncmp(q, key, kl) == 0 && q[kl] == '=') {
            size_t vl = len - kl - 1;
            if (vl >= outlen)
                vl = outlen - 1;
            memcpy(out, q + kl + 1, vl);
            out[vl] = 0;
            return 1;
        }
        q = amp ? amp + 1 : NULL;
    }
    return 0;
}

static int query_num(const char *q, const char *key, unsigned long long *v)
{
    char buf[32], *end;
    if (!query(q, key, buf, sizeof buf))
        return 0;
    *v = strtoull(buf, &end, 0);
    return *end ? -1 : 1;
}

static int known_keys(const char *q, const char *const *keys)
{
    while (q && *q) {
        const char *eq = strchr(q, '='), *amp = strchr(q, '&');
        if (!eq || (amp && amp < eq))
            return 0;
        int ok = 0;
        for (const char *const *k = keys; *k; k++)
            if ((size_t)(eq - q) == strlen(*k) && strncmp(q, *k, strlen(*k)) == 0)
                ok = 1;
        if (!ok)
            return 0;
        q = amp ? amp + 1 : NULL;
    }
    return 1;
}

/* simulations registered by libtspusim_N*.a (tspu_backend.h) */
static struct {
    unsigned n;
    tspu_sim_factory open;
} sims[8];
static unsigned n_sims;

void tspu_register_sim(unsigned n, tspu_sim_factory f)
{
    for (unsigned i = 0; i < n_sims; i++)
        if (sims[i].n == n)
            return;
    if (n_sims < sizeof sims / sizeof sims[0]) {
        sims[n_sims].n = n;
        sims[n_sims].open = f;
        n_sims++;
    }
}

/* Baud rates the UART devices try when the spec names none: the board's
 * power-on rate is 4 clocks per bit, 3 Mbaud at 12 MHz and 1.5 Mbaud at the
 * iCEBreaker's default 6 MHz (docs/boards.md); the first that answers wins. */
static const unsigned auto_bauds[] = {3000000, 1500000};
#define AUTO_BAUDS (sizeof auto_bauds / sizeof auto_bauds[0])
/* tries of the LINK_RESET probe at a rate that may be wrong (200 ms each) */
#define PROBE_TRIES 5

/* Opens the transport of spec.  For serial, ftdi and vboard without ?baud=,
 * *auto_baud is set to 1 and the rate is auto_bauds[baud_idx]. */
static int open_transport(const char *spec, tspu_transport *tr, unsigned baud_idx, int *auto_baud)
{
    *auto_baud = 0;
    if (strncmp(spec, "model", 5) == 0 && (spec[5] == 0 || spec[5] == '?')) {
        const char *q = spec[5] ? spec + 6 : "";
        static const char *const keys[] = {"n", "fifo", "p", "clock", "cps", "version", "hash", "spf", "features", NULL};
        if (!known_keys(q, keys))
            return seterr(NULL, TSPU_E_INVAL,
                          "%s: unknown option (model takes n, fifo, p, clock, cps, version, hash, spf, features)", spec);
        tspu_modeldev_opts o;
        memset(&o, 0, sizeof o);
        unsigned long long v;
        int bad = 0;
#define OPT(key, field) if ((bad = query_num(q, key, &v)) == 1) o.field = v; else if (bad < 0) goto badnum;
        OPT("n", n) OPT("fifo", fifo_words) OPT("p", p) OPT("clock", clock_hz)
        OPT("cps", cycles_per_step) OPT("version", version) OPT("hash", regmap_hash)
        OPT("spf", steps_per_frame) OPT("features", features)
#undef OPT
        return tspu_transport_model(tr, &o, NULL, open_err, sizeof open_err);
    badnum:
        return seterr(NULL, TSPU_E_INVAL, "%s: option values must be numbers", spec);
    }
    if (strncmp(spec, "serial:", 7) == 0) {
        char path[200];
        const char *q = strchr(spec + 7, '?');
        size_t pl = q ? (size_t)(q - spec - 7) : strlen(spec + 7);
        if (pl == 0 || pl >= sizeof path)
            return seterr(NULL, TSPU_E_INVAL, "%s: expected serial:PATH[?baud=N]", spec);
        memcpy(path, spec + 7, pl);
        path[pl] = 0;
        unsigned long long baud = auto_bauds[baud_idx];
        static const char *const keys[] = {"baud", NULL};
        int given = q ? query_num(q + 1, "baud", &baud) : 0;
        if (q && (!known_keys(q + 1, keys) || given < 0))
            return seterr(NULL, TSPU_E_INVAL, "%s: expected serial:PATH[?baud=N]", spec);
        *auto_baud = !given;
        return tspu_transport_serial(tr, path, (unsigned)baud, open_err, sizeof open_err);
    }
    if (strncmp(spec, "sim", 3) == 0 && (spec[3] == 0 || spec[3] == '?')) {
        const char *q = spec[3] ? spec + 4 : "";
        static const char *const keys[] = {"n", NULL};
        unsigned long long n = 16;
        if (!known_keys(q, keys) || query_num(q, "n", &n) < 0)
            return seterr(NULL, TSPU_E_INVAL, "%s: expected sim[?n=N]", spec);
        for (unsigned i = 0; i < n_sims; i++)
            if (sims[i].n == n)
                return sims[i].open(tr, open_err, sizeof open_err);
        if (!n_sims)
            return seterr(NULL, TSPU_E_UNSUPPORTED,
                          "sim: not available in this build (no Verilated RTL linked: build with Verilator, or use -d model)");
        return seterr(NULL, TSPU_E_UNSUPPORTED, "%s: no simulation of N = %llu lanes in this build", spec, n);
    }
    if (strncmp(spec, "vboard", 6) == 0 && (spec[6] == 0 || spec[6] == '?')) {
        /* vboard[?clock=HZ][&baud=N]: clock puts the simulated line at HZ
         * with the host's own baud rate on it (sim/vboard.cpp) */
        const char *q = spec[6] ? spec + 7 : "";
        static const char *const keys[] = {"clock", "baud", NULL};
        unsigned long long clock = 0, baud = auto_bauds[baud_idx];
        int cgiven = query_num(q, "clock", &clock), given = query_num(q, "baud", &baud);
        if (!known_keys(q, keys) || cgiven < 0 || given < 0 || (cgiven && (clock < 1000000 || clock > 200000000)))
            return seterr(NULL, TSPU_E_INVAL, "%s: expected vboard[?clock=HZ (1e6..2e8)][&baud=N]", spec);
        *auto_baud = !given;
        return tspu_transport_vboard(tr, (unsigned)clock, (unsigned)baud, open_err, sizeof open_err);
    }
    if (strncmp(spec, "ftdi", 4) == 0 && (spec[4] == 0 || spec[4] == ':' || spec[4] == '?')) {
        /* ftdi[:serial=S][?baud=N] */
        char serial[64];
        const char *q = strchr(spec + 4, '?');
        int has_serial = 0;
        if (spec[4] == ':') {
            size_t pl = q ? (size_t)(q - spec - 5) : strlen(spec + 5);
            if (pl <= 7 || strncmp(spec + 5, "serial=", 7) != 0 || pl - 7 >= sizeof serial)
                return seterr(NULL, TSPU_E_INVAL, "%s: expected ftdi[:serial=S][?baud=N]", spec);
            memcpy(serial, spec + 12, pl - 7);
            serial[pl - 7] = 0;
            has_serial = 1;
        }
        unsigned long long baud = auto_bauds[baud_idx];
        static const char *const keys[] = {"baud", NULL};
        int given = q ? query_num(q + 1, "baud", &baud) : 0;
        if (q && (!q[1] || !known_keys(q + 1, keys) || given < 0))
            return seterr(NULL, TSPU_E_INVAL, "%s: expected ftdi[:serial=S][?baud=N]", spec);
        *auto_baud = !given;
        if (baud < 300 || baud > 3000000) /* the board's UART: 4 clocks per bit at least */
            return seterr(NULL, TSPU_E_INVAL, "%s: baud rate %llu out of range (300..3000000)", spec, baud);
        return tspu_transport_ftdi(tr, has_serial ? serial : NULL, (unsigned)baud, open_err, sizeof open_err);
    }
    return seterr(NULL, TSPU_E_NOT_FOUND,
                  "%s: unknown device (expected model, sim, vboard[?clock=HZ], serial:PATH[?baud=N], ftdi[:serial=S][?baud=N])", spec);
}

int tspu_transport_open(tspu_transport *tr, const char *spec, char *err, size_t errlen)
{
    open_err[0] = 0;
    int auto_baud;
    int rc = open_transport(spec, tr, 0, &auto_baud);
    if (rc && err && errlen)
        snprintf(err, errlen, "%s", open_err);
    return rc;
}

/* probe_tries > 0: the rate may be wrong, give LINK_RESET only that many tries */
static int handshake(tspu_dev *d, int probe_tries)
{
    uint32_t id[TSPU_REG_MAX_SEGMENTS - TSPU_REG_MAGIC + 1];
    const int tries = d->link.max_tries;
    if (probe_tries > 0)
        d->link.max_tries = probe_tries;
    int rc = tspu_link_reset(&d->link);
    d->link.max_tries = tries;
    if (rc)
        return seterr(d, rc, "no answer from the device: %s", tspu_strerror(rc));
    rc = tspu_link_read(&d->link, TSPU_REG_MAGIC, id, sizeof id / sizeof id[0]);
    if (rc)
        return seterr(d, rc, "reading the ID block: %s", tspu_strerror(rc));
#define ID(name) id[TSPU_REG_##name - TSPU_REG_MAGIC]
    tspu_info *in = &d->info;
    in->magic = ID(MAGIC);
    in->version = ID(VERSION);
    in->regmap_hash = ID(REGMAP_HASH);
    in->n = ID(N_LANES);
    in->p = ID(P_MACS);
    in->state_bits = (ID(WIDTHS) & TSPU_WIDTHS_STATE_MASK) >> TSPU_WIDTHS_STATE_LSB;
    in->operand_bits = (ID(WIDTHS) & TSPU_WIDTHS_OPERAND_MASK) >> TSPU_WIDTHS_OPERAND_LSB;
    in->coupling_bits = (ID(WIDTHS) & TSPU_WIDTHS_COUPLING_MASK) >> TSPU_WIDTHS_COUPLING_LSB;
    in->bias_bits = (ID(WIDTHS) & TSPU_WIDTHS_BIAS_MASK) >> TSPU_WIDTHS_BIAS_LSB;
    in->features = ID(FEATURES);
    in->clock_hz = ID(CLOCK_HZ);
    in->cycles_per_step = ID(CYCLES_PER_STEP);
    in->fifo_depth = ID(FIFO_DEPTH);
    in->max_segments = ID(MAX_SEGMENTS);
#undef ID
    in->data_max_obs = 0; /* a gateware without the data drift reads 0 */
    if ((in->features & TSPU_FEATURES_DATA) &&
        (rc = tspu_link_read(&d->link, TSPU_REG_DATA_MAX_OBS, &in->data_max_obs, 1)))
        return seterr(d, rc, "reading DATA_MAX_OBS: %s", tspu_strerror(rc));
    if (in->magic != TSPU_MAGIC)
        return seterr(d, TSPU_E_PROTOCOL, "not a tspu: magic 0x%08X, expected 0x%08X", in->magic, TSPU_MAGIC);
    const unsigned gw_major = (in->version & TSPU_VERSION_MAJOR_MASK) >> TSPU_VERSION_MAJOR_LSB;
    if (gw_major != TSPU_GW_VERSION_MAJOR || in->regmap_hash != TSPU_REGMAP_HASH)
        return seterr(d, TSPU_E_VERSION,
                      "gateware %u.%u.%u (register map 0x%08X) does not match this host library "
                      "%u.%u.%u (register map 0x%08X): rebuild one of them from the same tree",
                      gw_major, (in->version >> TSPU_VERSION_MINOR_LSB) & 0xFF, in->version & 0xFF,
                      in->regmap_hash, TSPU_GW_VERSION_MAJOR, TSPU_GW_VERSION_MINOR,
                      TSPU_GW_VERSION_PATCH, TSPU_REGMAP_HASH);
    if (in->n < TSPU_N_MIN || in->n > TSPU_N_MAX || in->state_bits != TSPU_STATE_BITS ||
        in->operand_bits != TSPU_OPERAND_BITS || in->coupling_bits != TSPU_COUPLING_BITS ||
        in->bias_bits != TSPU_BIAS_BITS)
        return seterr(d, TSPU_E_VERSION, "gateware formats (N=%u, widths %u/%u/%u/%u) are not the ones this host library speaks",
                      in->n, in->state_bits, in->operand_bits, in->coupling_bits, in->bias_bits);
    d->words_per_sample = in->n;
    return 0;
}

static int open_dev(tspu_dev **devp, const tspu_transport *tr, const char *spec, int probe_tries)
{
    *devp = NULL;
    tspu_dev *d = calloc(1, sizeof *d);
    if (!d) {
        tr->close(tr->ctx);
        return seterr(NULL, TSPU_E_NOMEM, "out of memory");
    }
    tspu_link_init(&d->link, *tr);
    snprintf(d->info.device, sizeof d->info.device, "%s", spec);
    int rc = handshake(d, probe_tries);
    if (rc) {
        seterr(NULL, rc, "%s: %s", spec, d->err);
        tspu_close(d);
        return rc;
    }
    *devp = d;
    return 0;
}

int tspu_open_transport(tspu_dev **devp, const tspu_transport *tr, const char *spec)
{
    return open_dev(devp, tr, spec, 0);
}

int tspu_open(tspu_dev **devp, const char *spec)
{
    *devp = NULL;
    open_err[0] = 0;
    if (!spec || !*spec)
        spec = TSPU_DEFAULT_DEVICE;
    tspu_transport tr;
    int auto_baud;
    int rc = open_transport(spec, &tr, 0, &auto_baud);
    if (rc || !auto_baud) /* a named rate: a silent line fails in 2 s, not 20 */
        return rc ? rc : open_dev(devp, &tr, spec, strncmp(spec, "ftdi", 4) == 0 || strncmp(spec, "serial:", 7) == 0 ||
                                                   strncmp(spec, "vboard", 6) == 0 ? 2 * PROBE_TRIES : 0);
    /* no rate named: try each power-on rate; only silence moves on */
    for (unsigned i = 0; i < AUTO_BAUDS; i++) {
        if (i && (rc = open_transport(spec, &tr, i, &auto_baud)))
            return rc;
        rc = open_dev(devp, &tr, spec, PROBE_TRIES);
        if (rc != TSPU_E_TIMEOUT) {
            if (!rc && i) /* name the rate that answered */
                snprintf((*devp)->info.device, sizeof (*devp)->info.device, "%s%cbaud=%u", spec,
                         strchr(spec, '?') ? '&' : '?', auto_bauds[i]);
            return rc;
        }
    }
    return seterr(NULL, TSPU_E_TIMEOUT, "%s: no answer at %u or %u baud (a board at another rate: add ?baud=N)",
                  spec, auto_bauds[0], auto_bauds[1]);
}

void tspu_close(tspu_dev *d)
{
    if (!d)
        return;
    if (d->link.tr.close)
        d->link.tr.close(d->link.tr.ctx);
    free(d);
}

int tspu_list_devices(char *buf, size_t len)
{
    int w = snprintf(buf, len,
                     "model: the bit-exact C model behind the register map (model?n=N&fifo=W)\n"
                     "%s",
                     n_sims ? "sim: the Verilated RTL in-process (sim?n=N)\n"
                            : "sim: the Verilated RTL in-process (not available in this build)\n");
    w += snprintf((size_t)w < len ? buf + w : NULL, (size_t)w < len ? len - (size_t)w : 0,
                     "vboard[?clock=HZ]: the Verilated board on a pty, 3 Mbaud UART (runs tspu-vboard; clock: a board at HZ, the line at the host rate)\n");
    {
        size_t used = w < 0 ? 0 : (size_t)w;
        w += tspu_ftdi_list(used < len ? buf + used : NULL, used < len ? len - used : 0);
    }
    glob_t g;
    if (glob("/dev/ttyUSB*", 0, NULL, &g) == 0 || glob("/dev/ttyACM*", GLOB_APPEND, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            size_t used = w < 0 ? 0 : (size_t)w;
            w += snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0,
                          "serial:%s: serial port\n", g.gl_pathv[i]);
        }
    }
    globfree(&g);
    return w;
}

int tspu_get_info(tspu_dev *d, tspu_info *info)
{
    *info = d->info;
    return 0;
}

int tspu_get_link_stats(tspu_dev *d, struct tspu_link_stats_pub *st)
{
    const tspu_link_stats *s = &d->link.st;
    st->transactions = s->transactions;
    st->retries = s->retries;
    st->timeouts = s->timeouts;
    st->naks = s->naks;
    st->bad_frames = s->bad_frames;
    st->stale = s->stale;
    return 0;
}

/* ---- problem ------------------------------------------------------------------ */
int tspu_load_couplings(tspu_dev *d, unsigned set, const int16_t *a, const int32_t *b)
{
    const unsigned n = d->info.n;
    if (set > 1 || !a)
        return seterr(d, TSPU_E_INVAL, "load_couplings: set must be 0 or 1 and A given");
    uint32_t w[TSPU_N_MAX * TSPU_N_MAX];
    for (unsigned i = 0; i < n * n; i++)
        w[i] = (uint32_t)(int32_t)a[i];
    int rc = tspu_mem_write(d, (uint16_t)(set ? TSPU_WIN_COUPLING1_BASE : TSPU_WIN_COUPLING0_BASE), w, (size_t)n * n);
    if (rc)
        return rc;
    for (unsigned i = 0; i < n; i++)
        w[i] = b ? (uint32_t)b[i] : 0;
    return tspu_mem_write(d, (uint16_t)(set ? TSPU_WIN_BIAS1_BASE : TSPU_WIN_BIAS0_BASE), w, n);
}

int tspu_read_couplings(tspu_dev *d, unsigned set, int16_t *a, int32_t *b)
{
    const unsigned n = d->info.n;
    if (set > 1)
        return seterr(d, TSPU_E_INVAL, "read_couplings: set must be 0 or 1");
    uint32_t w[TSPU_N_MAX * TSPU_N_MAX];
    int rc;
    if (a) {
        if ((rc = tspu_mem_read(d, (uint16_t)(set ? TSPU_WIN_COUPLING1_BASE : TSPU_WIN_COUPLING0_BASE), w, (size_t)n * n)))
            return rc;
        for (unsigned i = 0; i < n * n; i++)
            a[i] = (int16_t)w[i];
    }
    if (b) {
        if ((rc = tspu_mem_read(d, (uint16_t)(set ? TSPU_WIN_BIAS1_BASE : TSPU_WIN_BIAS0_BASE), w, n)))
            return rc;
        for (unsigned i = 0; i < n; i++)
            b[i] = (int32_t)w[i];
    }
    return 0;
}

int tspu_load_mapping(tspu_dev *d, const tspu_mapping *mp)
{
    if (mp->n != d->info.n)
        return seterr(d, TSPU_E_INVAL, "problem has N = %u but the device has N = %u lanes", mp->n, d->info.n);
    int rc = tspu_load_couplings(d, 0, mp->a[0], mp->b[0]);
    return rc ? rc : tspu_load_couplings(d, 1, mp->a[1], mp->b[1]);
}

/* one int16 array into a window, sign-extended to words */
static int write_i16(tspu_dev *d, uint16_t base, const int16_t *v, size_t count)
{
    uint32_t w[TSPU_LINK_MAX_BURST_WORDS];
    while (count > 0) {
        size_t k = count < TSPU_LINK_MAX_BURST_WORDS ? count : TSPU_LINK_MAX_BURST_WORDS;
        for (size_t i = 0; i < k; i++)
            w[i] = (uint32_t)(int32_t)v[i];
        int rc = tspu_mem_write(d, base, w, k);
        if (rc)
            return rc;
        base = (uint16_t)(base + k);
        v += k;
        count -= k;
    }
    return 0;
}

int tspu_load_data(tspu_dev *d, const tspu_model_config *c, const int16_t *x, const int16_t *y,
                   const int16_t *l, const int16_t *table)
{
    const unsigned n = d->info.n, k = c->n_obs, kmax = d->info.data_max_obs;
    const tspu_data_mode mode = c->data_mode;
    if (mode != TSPU_DATA_OFF && mode != TSPU_DATA_GAUSS && mode != TSPU_DATA_LOGISTIC)
        return seterr(d, TSPU_E_INVAL, "load_data: data mode %d is not off (0), Gaussian (1) or logistic (2)", (int)mode);
    if (mode != TSPU_DATA_OFF) {
        if (!(d->info.features & TSPU_FEATURES_DATA) || kmax == 0)
            return seterr(d, TSPU_E_UNSUPPORTED, "load_data: this gateware has no data-driven drift (FEATURES.DATA = 0)");
        if (k < 1 || k > kmax || (size_t)k * n > TSPU_WIN_DATA_X_SIZE || k > TSPU_WIN_DATA_Y_SIZE)
            return seterr(d, TSPU_E_INVAL, "load_data: %u observations, the device holds 1..DATA_MAX_OBS = %u (N = %u lanes)",
                          k, kmax, n);
        if (c->data_sr > 62 || c->data_sg > 62 || c->data_dd > 62)
            return seterr(d, TSPU_E_INVAL, "load_data: shifts Sr %u, Sg %u, Dd %u: each must be 0..62", c->data_sr,
                          c->data_sg, c->data_dd);
        if (!x || !y || !l || (mode == TSPU_DATA_LOGISTIC && !table))
            return seterr(d, TSPU_E_INVAL, "load_data: X, y and l (and the link table for logistic) must be given");
        int rc;
        if ((rc = write_i16(d, TSPU_WIN_DATA_X_BASE, x, (size_t)k * n)) ||
            (rc = write_i16(d, TSPU_WIN_DATA_Y_BASE, y, k)) || (rc = write_i16(d, TSPU_WIN_DATA_L_BASE, l, k)) ||
            (mode == TSPU_DATA_LOGISTIC && (rc = write_i16(d, TSPU_WIN_LINK_TABLE_BASE, table, TSPU_LINK_TABLE_SIZE))))
            return rc;
    }
    uint32_t r[TSPU_REG_DATA_DD - TSPU_REG_DATA_MODE + 1];
#define R(name) r[TSPU_REG_##name - TSPU_REG_DATA_MODE]
    R(DATA_MODE) = (uint32_t)mode;
    R(N_OBS) = mode != TSPU_DATA_OFF ? k : 0;
    R(DATA_SR) = mode != TSPU_DATA_OFF ? c->data_sr : 0;
    R(DATA_SG) = mode != TSPU_DATA_OFF ? c->data_sg : 0;
    R(DATA_DD) = mode != TSPU_DATA_OFF ? c->data_dd : 0;
#undef R
    return tspu_mem_write(d, TSPU_REG_DATA_MODE, r, sizeof r / sizeof r[0]);
}

int tspu_seed(tspu_dev *d, uint64_t seed)
{
    uint32_t z[4 * TSPU_N_MAX];
    tspu_noise_seed_lanes(seed, d->info.n, z); /* the same lanes as tspu_model_seed */
    return tspu_mem_write(d, TSPU_WIN_LANE_SEED_BASE, z, 4 * (size_t)d->info.n);
}

int tspu_set_lane_seed(tspu_dev *d, unsigned lane, const uint32_t z[4])
{
    if (lane >= d->info.n || !tspu_lfsr113_valid(z))
        return seterr(d, TSPU_E_INVAL, "lane seed: lane %u out of range or not a valid LFSR113 state", lane);
    return tspu_mem_write(d, (uint16_t)(TSPU_WIN_LANE_SEED_BASE + 4 * lane), z, 4);
}

int tspu_get_lane_seed(tspu_dev *d, unsigned lane, uint32_t z[4])
{
    if (lane >= d->info.n)
        return seterr(d, TSPU_E_INVAL, "lane seed: lane %u out of range", lane);
    return tspu_mem_read(d, (uint16_t)(TSPU_WIN_LANE_SEED_BASE + 4 * lane), z, 4);
}

int tspu_set_state(tspu_dev *d, const int32_t *x, const int32_t *p)
{
    int rc = 0;
    if (x)
        rc = tspu_mem_write(d, TSPU_WIN_STATE_X_BASE, (const uint32_t *)x, d->info.n);
    if (!rc && p)
        rc = tspu_mem_write(d, TSPU_WIN_STATE_P_BASE, (const uint32_t *)p, d->info.n);
    return rc;
}

int tspu_get_state(tspu_dev *d, int32_t *x, int32_t *p)
{
    int rc = 0;
    if (x)
        rc = tspu_mem_read(d, TSPU_WIN_STATE_X_BASE, (uint32_t *)x, d->info.n);
    if (!rc && p)
        rc = tspu_mem_read(d, TSPU_WIN_STATE_P_BASE, (uint32_t *)p, d->info.n);
    return rc;
}

/* ---- program and run ------------------------------------------------------------- */
static const struct {
    uint32_t bit;
    const char *name, *reg, *what;
} feature_tab[] = {
    {TSPU_FEATURES_EM, "em", "EM", "Euler-Maruyama integrator"},
    {TSPU_FEATURES_LM, "lm", "LM", "Leimkuhler-Matthews integrator"},
    {TSPU_FEATURES_UD, "ud", "UD", "underdamped integrator"},
    {TSPU_FEATURES_SCHEDULE, "schedule", "SCHEDULE", "lambda schedule (second coupling set)"},
    {TSPU_FEATURES_WORK, "work", "WORK", "work counter"},
    {TSPU_FEATURES_MOMENTS, "moments", "MOMENTS", "moment accumulators"},
    {TSPU_FEATURES_SAMPLE_MOMENTUM, "sample_momentum", "SAMPLE_MOMENTUM", "momentum samples"},
    {TSPU_FEATURES_FIFO_STALL, "fifo_stall", "FIFO_STALL", "FIFO stall"},
    {TSPU_FEATURES_DATA, "data", "DATA", "data-driven drift"},
};
#define NFEATURES (sizeof feature_tab / sizeof feature_tab[0])

const char *tspu_feature_name(uint32_t bit)
{
    for (size_t i = 0; i < NFEATURES; i++)
        if (feature_tab[i].bit == bit)
            return feature_tab[i].name;
    return NULL;
}

uint32_t tspu_config_features(const tspu_model_config *c, int fifo_stall)
{
    uint32_t f = c->integrator == TSPU_INT_EM ? TSPU_FEATURES_EM
                 : c->integrator == TSPU_INT_LM ? TSPU_FEATURES_LM
                                                : TSPU_FEATURES_UD;
    if (c->n_segments || (c->lambda_init != 0 && c->lambda_init != 0x80000000u))
        f |= TSPU_FEATURES_SCHEDULE;
    if (c->sample_momentum)
        f |= TSPU_FEATURES_SAMPLE_MOMENTUM;
    if (fifo_stall)
        f |= TSPU_FEATURES_FIFO_STALL;
    if (c->data_mode != TSPU_DATA_OFF)
        f |= TSPU_FEATURES_DATA;
    return f;
}

/* TSPU_E_UNSUPPORTED naming the first of the missing bits */
static int no_feature(tspu_dev *d, uint32_t missing)
{
    for (size_t i = 0; i < NFEATURES; i++)
        if (missing & feature_tab[i].bit)
            return seterr(d, TSPU_E_UNSUPPORTED, "this gateware has no %s (FEATURES.%s = 0)", feature_tab[i].what,
                          feature_tab[i].reg);
    return 0;
}

int tspu_configure(tspu_dev *d, const tspu_model_config *c, int fifo_stall)
{
    if (c->n_segments > d->info.max_segments)
        return seterr(d, TSPU_E_INVAL, "%u schedule segments, the device has %u", c->n_segments, d->info.max_segments);
    /* (DATA has its own message below) */
    uint32_t missing = tspu_config_features(c, fifo_stall) & ~d->info.features & ~(uint32_t)TSPU_FEATURES_DATA;
    if (missing)
        return no_feature(d, missing);
    uint32_t r[TSPU_REG_FIFO_STALL - TSPU_REG_INTEGRATOR + 1];
#define R(name) r[TSPU_REG_##name - TSPU_REG_INTEGRATOR]
    R(INTEGRATOR) = (uint32_t)c->integrator;
    R(DRIFT_SHIFT) = c->drift_shift;
    R(NOISE_SHIFT) = c->noise_shift;
    R(KA) = (uint32_t)(int32_t)c->ka;
    R(KA_SHIFT) = c->ka_shift;
    R(KO) = (uint32_t)(int32_t)c->ko;
    R(KO_SHIFT) = c->ko_shift;
    R(BURNIN) = c->burnin;
    R(THIN) = c->thin;
    R(N_SAMPLES) = c->n_samples;
    R(N_SEGMENTS) = c->n_segments;
    R(LAMBDA_INIT) = c->lambda_init;
    R(SAMPLE_MOMENTUM) = c->sample_momentum ? 1u : 0u;
    R(FIFO_STALL) = fifo_stall ? 1u : 0u;
#undef R
    int rc = tspu_mem_write(d, TSPU_REG_INTEGRATOR, r, sizeof r / sizeof r[0]);
    if (rc)
        return rc;
    uint32_t s[2 * TSPU_MAX_SEGMENTS];
    for (unsigned k = 0; k < TSPU_MAX_SEGMENTS; k++) {
        s[2 * k] = k < c->n_segments ? c->seg[k].steps : 0;
        s[2 * k + 1] = k < c->n_segments ? (uint32_t)c->seg[k].dlambda : 0;
    }
    unsigned nseg = d->info.max_segments < TSPU_MAX_SEGMENTS ? d->info.max_segments : TSPU_MAX_SEGMENTS;
    if ((rc = tspu_mem_write(d, TSPU_WIN_SCHEDULE_BASE, s, 2 * (size_t)nseg)))
        return rc;
    /* the data drift belongs to the configuration: a program configured
     * without it (data_mode OFF) must not inherit a previous posterior's */
    if (d->info.features & TSPU_FEATURES_DATA) {
        uint32_t dr[TSPU_REG_DATA_DD - TSPU_REG_DATA_MODE + 1];
        int on = c->data_mode != TSPU_DATA_OFF;
        dr[TSPU_REG_DATA_MODE - TSPU_REG_DATA_MODE] = (uint32_t)c->data_mode;
        dr[TSPU_REG_N_OBS - TSPU_REG_DATA_MODE] = on ? c->n_obs : 0;
        dr[TSPU_REG_DATA_SR - TSPU_REG_DATA_MODE] = on ? c->data_sr : 0;
        dr[TSPU_REG_DATA_SG - TSPU_REG_DATA_MODE] = on ? c->data_sg : 0;
        dr[TSPU_REG_DATA_DD - TSPU_REG_DATA_MODE] = on ? c->data_dd : 0;
        if ((rc = tspu_mem_write(d, TSPU_REG_DATA_MODE, dr, sizeof dr / sizeof dr[0])))
            return rc;
    } else if (c->data_mode != TSPU_DATA_OFF) {
        return seterr(d, TSPU_E_UNSUPPORTED, "this gateware has no data-driven drift (FEATURES.DATA = 0)");
    }
    d->words_per_sample = d->info.n * (c->sample_momentum ? 2u : 1u);
    return 0;
}

static unsigned serial_shift_cycles(unsigned s, unsigned cap)
{
    if (s > cap)
        s = cap;
    return s / 8 + s % 8 + 1;
}

double tspu_step_cycles(const tspu_info *info, const tspu_model_config *c)
{
    if (c->data_mode == TSPU_DATA_OFF || c->n_obs == 0)
        return info->cycles_per_step;
    double n = info->n, k = c->n_obs;
    double per_obs = 3 * n + 6 + serial_shift_cycles(c->data_sr, 38) + serial_shift_cycles(c->data_sg, 32) +
                     (c->data_mode == TSPU_DATA_LOGISTIC ? 5 : 0);
    return k * per_obs + 27 * n + (c->integrator == TSPU_INT_UD ? 10 * n : 0);
}

int tspu_start(tspu_dev *d)
{
    uint32_t f;
    int rc = tspu_reg_write(d, TSPU_REG_CTRL, TSPU_CTRL_START);
    if (!rc)
        rc = tspu_reg_read(d, TSPU_REG_FLAGS, &f);
    if (rc)
        return rc;
    if (f & TSPU_FLAGS_REJECTED)
        return seterr(d, TSPU_E_REJECTED, "start: the unit rejected the configuration (a field is out of range)");
    return 0;
}

int tspu_stop(tspu_dev *d) { return tspu_reg_write(d, TSPU_REG_CTRL, TSPU_CTRL_STOP); }
int tspu_reset(tspu_dev *d) { return tspu_reg_write(d, TSPU_REG_CTRL, TSPU_CTRL_RESET); }

int tspu_read_status(tspu_dev *d, tspu_status *st, tspu_phase *phase)
{
    uint32_t r[TSPU_REG_MOM_COUNT - TSPU_REG_FLAGS + 1]; /* one burst: LO before HI */
    int rc = tspu_mem_read(d, TSPU_REG_FLAGS, r, sizeof r / sizeof r[0]);
    if (rc)
        return rc;
#define R(name) r[TSPU_REG_##name - TSPU_REG_FLAGS]
    if (st) {
        st->flags = R(FLAGS);
        st->sat_count = R(SAT_COUNT);
        st->fifo_dropped = R(FIFO_DROPPED);
        st->steps = (uint64_t)R(STEPS_HI) << 32 | R(STEPS_LO);
        st->samples = R(SAMPLES);
        st->lambda_acc = R(LAMBDA_ACC);
    }
    if (phase)
        *phase = (tspu_phase)R(PHASE);
#undef R
    return 0;
}

int tspu_read_work(tspu_dev *d, int64_t *work)
{
    if (!(d->info.features & TSPU_FEATURES_WORK))
        return no_feature(d, TSPU_FEATURES_WORK);
    uint32_t r[2];
    int rc = tspu_mem_read(d, TSPU_REG_WORK_LO, r, 2);
    if (!rc)
        *work = (int64_t)((uint64_t)r[1] << 32 | r[0]);
    return rc;
}

int tspu_read_moments(tspu_dev *d, tspu_moments *mom)
{
    if (!(d->info.features & TSPU_FEATURES_MOMENTS))
        return no_feature(d, TSPU_FEATURES_MOMENTS);
    const unsigned n = d->info.n, nt = n * (n + 1) / 2;
    uint32_t cnt;
    int rc = tspu_reg_read(d, TSPU_REG_MOM_COUNT, &cnt);
    if (rc)
        return rc;
    uint32_t *w = malloc(2 * (size_t)nt * sizeof *w); /* 16 KiB at N = 64 */
    if (!w)
        return seterr(d, TSPU_E_NOMEM, "out of memory");
    memset(mom, 0, sizeof *mom);
    mom->count = cnt;
    if (!(rc = tspu_mem_read(d, TSPU_WIN_MOM_SUM_BASE, w, 2 * (size_t)n)))
        for (unsigned i = 0; i < n; i++)
            mom->sum[i] = (int64_t)((uint64_t)w[2 * i + 1] << 32 | w[2 * i]);
    if (!rc && !(rc = tspu_mem_read(d, TSPU_WIN_MOM_SUMSQ_BASE, w, 2 * (size_t)nt)))
        for (unsigned k = 0; k < nt; k++)
            mom->sumsq[k] = (int64_t)((uint64_t)w[2 * k + 1] << 32 | w[2 * k]);
    free(w);
    return rc;
}

/* ---- FIFO ---------------------------------------------------------------------------- */
int tspu_fifo_read(tspu_dev *d, int16_t *dst, size_t max, size_t *got)
{
    *got = 0;
    while (*got < max) {
        size_t want = max - *got, k;
        if (want > TSPU_LINK_MAX_FIFO_ELEMS)
            want = TSPU_LINK_MAX_FIFO_ELEMS;
        int rc = tspu_link_read_fifo(&d->link, TSPU_REG_FIFO_DATA, dst + *got, want, &k);
        if (rc)
            return chk(d, rc, "FIFO read");
        *got += k;
        if (k < want)
            break; /* empty for now */
    }
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int tspu_stream(tspu_dev *d, tspu_sample_cb cb, void *ctx, int stall_ms)
{
    const unsigned wps = d->words_per_sample;
    int16_t buf[TSPU_LINK_MAX_FIFO_ELEMS + 2 * TSPU_N_MAX];
    size_t have = 0; /* words of an incomplete sample carried over */
    uint64_t last_steps = 0;
    double last_progress = now_ms();
    int finishing = 0;
    for (;;) {
        size_t got;
        int rc = tspu_fifo_read(d, buf + have, TSPU_LINK_MAX_FIFO_ELEMS, &got);
        if (rc)
            return rc;
        have += got;
        size_t whole = have / wps;
        if (whole) {
            int r = cb(ctx, buf, whole, wps);
            if (r) {
                tspu_stop(d);
                return r;
            }
            memmove(buf, buf + whole * wps, (have - whole * wps) * sizeof *buf);
            have -= whole * wps;
        }
        if (got) {
            last_progress = now_ms();
            continue;
        }
        if (finishing)
            break; /* not running and the FIFO is empty: that was everything */
        tspu_status st;
        if ((rc = tspu_read_status(d, &st, NULL)))
            return rc;
        if (!(st.flags & TSPU_FLAGS_RUNNING)) {
            finishing = 1; /* no new samples from now on: drain what is left */
            continue;
        }
        if (st.steps != last_steps) {
            last_steps = st.steps;
            last_progress = now_ms();
        } else if (stall_ms > 0 && now_ms() - last_progress > stall_ms) {
            return seterr(d, TSPU_E_TIMEOUT, "stream: no samples and no steps for %d ms (unit %s)", stall_ms,
                          st.flags & TSPU_FLAGS_STALLED ? "stalled on a full FIFO" : "not stepping");
        }
    }
    if (have)
        return seterr(d, TSPU_E_PROTOCOL, "stream: %zu words left over, not a whole sample", have);
    tspu_status st;
    int rc = tspu_read_status(d, &st, NULL);
    if (rc)
        return rc;
    if (st.fifo_dropped || (st.flags & TSPU_FLAGS_FIFO_OVERFLOW))
        return seterr(d, TSPU_E_FIFO_OVERFLOW, "stream: the unit dropped %u samples (FIFO full)", st.fifo_dropped);
    return 0;
}
