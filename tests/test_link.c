/* test_link.c - the link protocol and libtspu over the model device.
 *  1. CRC-16/CCITT-FALSE check value, frame codec round trip, every single
 *     bit flip of a frame is caught, resynchronisation after garbage.
 *  2. A fault-injecting byte channel (dropped, duplicated, corrupted bytes at
 *     a fixed rate and seed) between the host link and a device endpoint in
 *     front of a counting FIFO and a RAM: >= 1e5 transactions at 1e-3, no
 *     undetected error, every FIFO value exactly once and in order.  Twin:
 *     the same with the CRC check switched off lets corrupted data through.
 *  3. libtspu on "model": handshake, version mismatch, errors, and samples,
 *     moments, work and status bit-identical to the bare model -- also
 *     through the faulty channel and with a FIFO far smaller than the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tspu.h"
#include "tspu_link.h"
#include "tspu_modeldev.h"
#include "tt.h"

/* ---- deterministic generator ----------------------------------------------- */
static uint64_t rng_s = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng_s ^= rng_s >> 12;
    rng_s ^= rng_s << 25;
    rng_s ^= rng_s >> 27;
    return rng_s * 0x2545F4914F6CDD1Dull;
}
static double urand(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

/* ---- 1. codec --------------------------------------------------------------- */
static int accept_all(void *ctx, uint8_t cmd, uint16_t len) { (void)ctx; (void)cmd; (void)len; return 1; }

static void test_codec(void)
{
    const uint8_t chk[] = "123456789";
    uint16_t c = tspu_crc16(TSPU_LINK_CRC_INIT, chk, 9);
    tt_check(c == 0x29B1, "crc16 CCITT-FALSE check value of \"123456789\" is 0x29B1", "got 0x%04X", c);

    /* round trip of random frames, with garbage and false sync bytes before */
    tspu_rx rx;
    tspu_rx_init(&rx, accept_all, NULL);
    int ok = 1;
    uint8_t f[TSPU_FRAME_MAX], pay[TSPU_LINK_MAX_PAYLOAD];
    for (int t = 0; t < 2000 && ok; t++) {
        size_t len = rnd() % (TSPU_LINK_MAX_PAYLOAD + 1);
        for (size_t i = 0; i < len; i++)
            pay[i] = (uint8_t)rnd();
        uint8_t cmd = (uint8_t)rnd(), seq = (uint8_t)rnd();
        size_t fl = tspu_frame_encode(f, cmd, seq, pay, len);
        tspu_rx_reset(&rx);
        int got = 0;
        for (size_t i = 0; i < fl; i++)
            if (tspu_rx_byte(&rx, f[i]) == TSPU_RX_FRAME)
                got++;
        ok = got == 1 && rx.cmd == cmd && rx.seq == seq && rx.len == len && !memcmp(rx.payload, pay, len);
    }
    tt_check(ok, "frame codec: 2000 random frames (0..1026 payload bytes) round-trip", "mismatch");

    /* every single-bit error of a frame is detected */
    size_t len = 64;
    for (size_t i = 0; i < len; i++)
        pay[i] = (uint8_t)rnd();
    size_t fl = tspu_frame_encode(f, TSPU_CMD_WRITE, 7, pay, len);
    long undetected = 0, tried = 0;
    for (size_t bit = 8; bit < 8 * fl; bit++) { /* the sync byte itself aside */
        uint8_t g[TSPU_FRAME_MAX];
        memcpy(g, f, fl);
        g[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        tspu_rx_reset(&rx);
        for (size_t i = 0; i < fl; i++)
            if (tspu_rx_byte(&rx, g[i]) == TSPU_RX_FRAME)
                undetected++;
        /* a damaged length leaves the parser waiting: feed filler */
        for (int i = 0; i < TSPU_FRAME_MAX; i++)
            if (tspu_rx_byte(&rx, 0) == TSPU_RX_FRAME)
                undetected++;
        tried++;
    }
    tt_check(undetected == 0, "frame codec: all single-bit errors of a 71-byte frame detected",
             "%ld of %ld got through", undetected, tried);

    /* resynchronisation: a header that cannot be a request is skipped at once */
    tspu_rx drx;
    tspu_endpoint ep;
    (void)ep;
    uint8_t stream[64];
    size_t k = 0;
    stream[k++] = TSPU_LINK_SYNC; /* false sync with an impossible length */
    stream[k++] = 0x77;
    stream[k++] = 0x00;
    stream[k++] = 0xFF;
    stream[k++] = 0xFF;
    uint8_t rq[4] = {0, 0, 1, 0};
    k += tspu_frame_encode(stream + k, TSPU_CMD_READ, 3, rq, 4);
    tspu_rx_init(&drx, NULL, NULL);
    int frames = 0;
    for (size_t i = 0; i < k; i++)
        frames += tspu_rx_byte(&drx, stream[i]) == TSPU_RX_FRAME;
    tt_check(frames == 1 && drx.seq == 3 && drx.n_bad_hdr == 1,
             "frame parser: resynchronises right after a false sync byte", "frames %d bad headers %llu",
             frames, (unsigned long long)drx.n_bad_hdr);
}

/* ---- 2. fault-injecting channel ---------------------------------------------- */
typedef struct {
    double rate;
    uint64_t dropped, duplicated, corrupted, bytes;
} faults;

/* pass n bytes through the channel into out (room for 2n); returns count */
static size_t channel(faults *fc, const uint8_t *in, size_t n, uint8_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        fc->bytes++;
        if (urand() < fc->rate) {
            switch (rnd() % 3) {
            case 0: fc->dropped++; continue;
            case 1: fc->duplicated++; out[k++] = in[i]; out[k++] = in[i]; continue;
            default: fc->corrupted++; out[k++] = in[i] ^ (uint8_t)(1 + rnd() % 255); continue;
            }
        }
        out[k++] = in[i];
    }
    return k;
}

typedef struct {
    tspu_endpoint ep;
    faults fc;
    uint8_t pend[2 * TSPU_FRAME_MAX * 8];
    size_t pend_len;
} faulty_tr;

static int ft_write(void *ctx, const uint8_t *buf, size_t n)
{
    faulty_tr *t = ctx;
    uint8_t tmp[2 * TSPU_FRAME_MAX];
    size_t k = channel(&t->fc, buf, n, tmp);
    tspu_ep_rx(&t->ep, tmp, k);
    return 0;
}

static int ft_read(void *ctx, uint8_t *buf, size_t max, int timeout_ms)
{
    faulty_tr *t = ctx;
    (void)timeout_ms;
    if (t->pend_len == 0) {
        uint8_t tmp[TSPU_FRAME_MAX];
        size_t n = tspu_ep_tx(&t->ep, tmp, sizeof tmp);
        if (n == 0) { /* quiet line: both ends time out */
            tspu_ep_idle(&t->ep);
            return 0;
        }
        t->pend_len = channel(&t->fc, tmp, n, t->pend);
    }
    size_t k = t->pend_len < max ? t->pend_len : max;
    memcpy(buf, t->pend, k);
    memmove(t->pend, t->pend + k, t->pend_len - k);
    t->pend_len -= k;
    return (int)k;
}

static void ft_close(void *ctx) { (void)ctx; }

/* counting device: a RAM at 0..RAM-1 and a FIFO port producing 0,1,2,... */
#define RAM 1024
#define PORT 0x7000
#define QCAP 4096
typedef struct {
    uint32_t ram[RAM];
    uint64_t head, tail; /* values head..tail-1 are in the FIFO */
    int stopped;         /* no more values: the final drain */
} countdev;

static int cd_check(void *ctx, uint16_t a, size_t n, int w)
{
    (void)ctx;
    (void)w;
    return a + n <= RAM ? 0 : TSPU_NAK_ADDR;
}
static uint32_t cd_read(void *ctx, uint16_t a) { return ((countdev *)ctx)->ram[a]; }
static void cd_write(void *ctx, uint16_t a, uint32_t v) { ((countdev *)ctx)->ram[a] = v; }
static int cd_is_stream(void *ctx, uint16_t a) { (void)ctx; return a == PORT; }
static size_t cd_peek(void *ctx, uint16_t a, int16_t *dst, size_t max)
{
    countdev *d = ctx;
    (void)a;
    size_t k = 0;
    for (uint64_t v = d->head; v < d->tail && k < max; v++)
        dst[k++] = (int16_t)(uint16_t)v;
    return k;
}
static void cd_commit(void *ctx, uint16_t a, size_t n)
{
    (void)a;
    ((countdev *)ctx)->head += n;
}
static void cd_frame_done(void *ctx)
{
    countdev *d = ctx;
    if (d->stopped)
        return;
    uint64_t add = rnd() % 300;
    if (d->tail - d->head + add > QCAP)
        add = QCAP - (d->tail - d->head);
    d->tail += add;
}

typedef struct {
    long transactions, undetected, fifo_bad, failures;
    uint64_t delivered;
    tspu_link_stats ls;
    tspu_ep_stats es;
    faults fc;
} link_result;

static link_result run_link(long n_trans, double rate, int crc_on, int seed)
{
    link_result r;
    memset(&r, 0, sizeof r);
    rng_s = 0x9E3779B97F4A7C15ull ^ (uint64_t)seed;
    static countdev cd;
    memset(&cd, 0, sizeof cd);
    static faulty_tr ft;
    memset(&ft, 0, sizeof ft);
    tspu_regdev rd = {cd_check, cd_read, cd_write, cd_is_stream, cd_peek, cd_commit, cd_frame_done, &cd};
    tspu_ep_init(&ft.ep, rd);
    ft.ep.rx.check_crc = crc_on;
    ft.fc.rate = rate;
    tspu_transport tr = {ft_write, ft_read, ft_close, &ft};
    static tspu_link l;
    tspu_link_init(&l, tr);
    l.rx.check_crc = crc_on;
    static uint32_t shadow[RAM];
    memset(shadow, 0, sizeof shadow);
    uint64_t expect = 0; /* next FIFO value */
    ft.fc.rate = 0;
    tspu_link_reset(&l); /* a clean start, as tspu_open does */
    ft.fc.rate = rate;
    for (long t = 0; t < n_trans; t++) {
        int op = (int)(rnd() % 3);
        int rc;
        if (op == 0) {
            size_t n = 1 + rnd() % 64;
            uint16_t a = (uint16_t)(rnd() % (RAM - n + 1));
            uint32_t v[64];
            for (size_t i = 0; i < n; i++)
                v[i] = (uint32_t)rnd();
            rc = tspu_link_write(&l, a, v, n);
            if (rc == 0)
                memcpy(shadow + a, v, n * sizeof *v);
        } else if (op == 1) {
            size_t n = 1 + rnd() % 64;
            uint16_t a = (uint16_t)(rnd() % (RAM - n + 1));
            uint32_t v[64];
            rc = tspu_link_read(&l, a, v, n);
            if (rc == 0 && memcmp(v, shadow + a, n * sizeof *v)) {
                r.undetected++;
                memcpy(shadow + a, v, n * sizeof *v); /* count each damage once */
            }
        } else {
            size_t max = 1 + rnd() % TSPU_LINK_MAX_FIFO_ELEMS, got;
            int16_t v[TSPU_LINK_MAX_FIFO_ELEMS];
            rc = tspu_link_read_fifo(&l, PORT, v, max, &got);
            for (size_t i = 0; rc == 0 && i < got; i++) {
                if ((uint16_t)v[i] != (uint16_t)expect) {
                    r.fifo_bad++;
                    if (getenv("LINK_DEBUG") && crc_on && r.fifo_bad < 5)
                        fprintf(stderr, "break at t=%ld: i=%zu of %zu (max %zu): expect %u got %u; retries so far %llu seq %u\n",
                                t, i, got, max, (unsigned)(uint16_t)expect, (unsigned)(uint16_t)v[i],
                                (unsigned long long)l.st.retries, l.seq);
                    expect = (uint16_t)v[i]; /* resync the checker: count each break once */
                }
                expect++;
                r.delivered++;
            }
        }
        if (rc)
            r.failures++;
        r.transactions++;
    }
    /* clean line, producer stopped: drain the FIFO to the end, compare the RAM */
    ft.fc.rate = 0;
    cd.stopped = 1;
    for (;;) {
        size_t got;
        int16_t v[TSPU_LINK_MAX_FIFO_ELEMS];
        if (tspu_link_read_fifo(&l, PORT, v, TSPU_LINK_MAX_FIFO_ELEMS, &got) || got == 0)
            break;
        for (size_t i = 0; i < got; i++) {
            if ((uint16_t)v[i] != (uint16_t)expect) {
                r.fifo_bad++;
                expect = (uint16_t)v[i];
            }
            expect++;
            r.delivered++;
        }
    }
    tspu_link_ping(&l); /* commits the last FIFO read */
    if (r.delivered != cd.tail || cd.head != cd.tail)
        r.fifo_bad++;
    for (size_t a = 0; a < RAM; a += 64) {
        uint32_t v[64];
        if (tspu_link_read(&l, (uint16_t)a, v, 64) == 0 && memcmp(v, shadow + a, sizeof v))
            r.undetected++;
    }
    r.ls = l.st;
    r.es = ft.ep.st;
    r.fc = ft.fc;
    tspu_ep_free(&ft.ep);
    return r;
}

static void test_faults(void)
{
    const long N = 100000;
    link_result r = run_link(N, 1e-3, 1, 1);
    tt_note("1e-3 byte errors: %ld transactions, %llu bytes on the wire, %llu dropped / %llu duplicated / "
            "%llu corrupted; %llu retries, %llu timeouts, %llu NAKs, %llu bad answers, %llu duplicate "
            "requests answered from the record, %llu FIFO words delivered",
            r.transactions, (unsigned long long)r.fc.bytes, (unsigned long long)r.fc.dropped,
            (unsigned long long)r.fc.duplicated, (unsigned long long)r.fc.corrupted,
            (unsigned long long)r.ls.retries, (unsigned long long)r.ls.timeouts,
            (unsigned long long)r.ls.naks, (unsigned long long)r.ls.bad_frames,
            (unsigned long long)r.es.duplicates, (unsigned long long)r.delivered);
    tt_check(r.transactions >= 100000 && r.fc.dropped + r.fc.duplicated + r.fc.corrupted > 1000,
             "fault channel: >= 1e5 transactions with > 1000 injected byte faults", "%ld transactions",
             r.transactions);
    tt_check(r.ls.retries > 0 && r.es.duplicates > 0,
             "fault channel: retries happen and the device recognises retried requests", "retries %llu dup %llu",
             (unsigned long long)r.ls.retries, (unsigned long long)r.es.duplicates);
    tt_check(r.undetected == 0, "fault channel at 1e-3: 0 undetected errors (reads, writes, final RAM compare)",
             "%ld", r.undetected);
    tt_check(r.fifo_bad == 0, "fault channel at 1e-3: every FIFO value delivered exactly once, in order",
             "%ld breaks in the counting sequence", r.fifo_bad);
    tt_check(r.failures == 0, "fault channel at 1e-3: no transaction gave up", "%ld", r.failures);

    /* soak (not in make test): TSPU_LINK_SOAK=K runs K more seeds of 1e5 */
    const char *soak = getenv("TSPU_LINK_SOAK");
    if (soak) {
        long k = atol(soak), und = 0, bad = 0, fail = 0;
        uint64_t bad_frames = 0;
        for (long s = 0; s < k; s++) {
            link_result q = run_link(N, 1e-3, 1, 1000 + (int)s);
            und += q.undetected;
            bad += q.fifo_bad;
            fail += q.failures;
            bad_frames += q.ls.bad_frames + q.es.nak_crc;
        }
        tt_check(und == 0 && bad == 0 && fail == 0, "soak: more seeds at 1e-3, no undetected error or FIFO break",
                 "%ld undetected, %ld FIFO breaks, %ld gave up", und, bad, fail);
        tt_note("soak: %ld x 1e5 transactions, %llu frames failed their CRC", k, (unsigned long long)bad_frames);
    }

    /* would-fail twin: no CRC check, corrupted data gets through */
    link_result t = run_link(20000, 1e-3, 0, 1);
    tt_check(t.undetected + t.fifo_bad > 0,
             "twin: with the CRC check off, corrupted bytes reach the data (so the test above can fail)",
             "nothing got through");
    tt_note("twin without CRC: %ld undetected data errors, %ld FIFO sequence breaks", t.undetected, t.fifo_bad);
}

/* ---- 3. libtspu on the model device ------------------------------------------------ */
static void test_open_errors(void)
{
    tspu_dev *d;
    int rc = tspu_open(&d, "model?n=4");
    if (!tt_check(rc == 0, "open model?n=4", "%s: %s", tspu_strerror(rc), tspu_last_error(NULL)))
        return;
    tspu_info in;
    tspu_get_info(d, &in);
    tt_check(in.magic == TSPU_MAGIC && in.n == 4 && in.state_bits == 32 && in.operand_bits == 16 &&
                 in.coupling_bits == 16 && in.bias_bits == 32 && in.max_segments == TSPU_MAX_SEGMENTS &&
                 in.fifo_depth == 8192 && in.clock_hz == 12000000,
             "info: magic, N, widths, segments, FIFO depth, clock", "n %u", in.n);
    uint32_t v = 0;
    rc = tspu_reg_write(d, TSPU_REG_SCRATCH, 0xDEADBEEF);
    if (!rc)
        rc = tspu_reg_read(d, TSPU_REG_SCRATCH, &v);
    tt_check(rc == 0 && v == 0xDEADBEEF, "scratch register write/read", "rc %d v 0x%08X", rc, v);
    rc = tspu_reg_write(d, TSPU_REG_N_LANES, 9);
    tt_check(rc == TSPU_E_INVAL, "write to a read-only register is refused (NAK ACCESS)", "rc %d", rc);
    rc = tspu_reg_read(d, 0x0FFF, &v);
    tt_check(rc == TSPU_E_PROTOCOL, "read of an unmapped address is refused (NAK ADDR)", "rc %d (%s)", rc,
             tspu_last_error(d));
    tspu_model_config c = tspu_model_default_config();
    c.drift_shift = 63;
    c.n_samples = 1;
    rc = tspu_configure(d, &c, 1);
    if (!rc)
        rc = tspu_start(d);
    tt_check(rc == TSPU_E_REJECTED, "an invalid program is rejected at START (FLAGS.REJECTED)", "rc %d", rc);
    uint32_t bad[4] = {1, 1, 1, 1};
    tt_check(tspu_set_lane_seed(d, 0, bad) == TSPU_E_INVAL, "an invalid LFSR113 seed is refused by the host", "");
    tspu_close(d);

    /* a gateware without UD (FEATURES 0x23: EM, LM, MOMENTS) refuses a UD
     * program at START even when the host writes it raw; the same program is
     * taken by the full model (twin: the refusal is the feature's, not the
     * program's) */
    const char *specs[2] = {"model?n=4&features=0x23", "model?n=4"};
    for (int k = 0; k < 2; k++) {
        if ((rc = tspu_open(&d, specs[k])))
            break;
        uint32_t cfg[TSPU_REG_FIFO_STALL - TSPU_REG_INTEGRATOR + 1] = {0};
        cfg[TSPU_REG_INTEGRATOR - TSPU_REG_INTEGRATOR] = TSPU_INT_UD;
        cfg[TSPU_REG_THIN - TSPU_REG_INTEGRATOR] = 1;
        cfg[TSPU_REG_BURNIN - TSPU_REG_INTEGRATOR] = 10;
        uint32_t fl = 0, feat = 0;
        rc = tspu_mem_write(d, TSPU_REG_INTEGRATOR, cfg, sizeof cfg / sizeof cfg[0]);
        if (!rc)
            rc = tspu_reg_write(d, TSPU_REG_CTRL, TSPU_CTRL_START);
        if (!rc)
            rc = tspu_reg_read(d, TSPU_REG_FLAGS, &fl);
        if (!rc)
            rc = tspu_reg_read(d, TSPU_REG_FEATURES, &feat);
        const int rej = (fl & TSPU_FLAGS_REJECTED) != 0;
        tt_check(rc == 0 && rej == (k == 0), k ? "twin: the full model takes a raw UD program"
                                               : "a gateware without UD rejects a raw UD program at START",
                 "rc %d FLAGS 0x%X FEATURES 0x%X", rc, fl, feat);
        tspu_close(d);
    }

    rc = tspu_open(&d, "model?version=0x020000");
    tt_check(rc == TSPU_E_VERSION && d == NULL, "handshake refuses another gateware major version",
             "rc %d", rc);
    tt_note("%s", tspu_last_error(NULL));
    rc = tspu_open(&d, "model?hash=0x12345678");
    tt_check(rc == TSPU_E_VERSION, "handshake refuses another register map", "rc %d", rc);
    rc = tspu_open(&d, "model?version=0x000105");
    tt_check(rc == 0, "handshake accepts another minor/patch version", "rc %d", rc);
    tspu_close(d);
    rc = tspu_open(&d, "nonsense");
    tt_check(rc == TSPU_E_NOT_FOUND, "unknown device string: not found", "rc %d", rc);
    rc = tspu_open(&d, "sim");
    tt_check(rc == TSPU_E_UNSUPPORTED, "sim: a clear 'not available in this build'", "rc %d", rc);
    tt_note("%s", tspu_last_error(NULL));
    rc = tspu_open(&d, "serial:/dev/tspu-no-such-port");
    tt_check(rc == TSPU_E_NOT_FOUND, "serial: a missing port is 'not found'", "rc %d", rc);
    rc = tspu_open(&d, "serial:/dev/null");
    tt_check(rc == TSPU_E_IO, "serial: a non-tty is an I/O error, not a hang", "rc %d (%s)", rc,
             tspu_last_error(NULL));
    rc = tspu_open(&d, "model?n=99");
    tt_check(rc == TSPU_E_INVAL, "model: N out of range is an invalid argument", "rc %d", rc);
    const char *sn[] = {"not found", "no permission", "busy", "timeout", "protocol", "version", "invalid",
                        "saturated", "overflow"};
    int distinct = 1;
    for (int e = -1; e >= -9; e--)
        if (!strstr(tspu_strerror(e), sn[-e - 1]) && !strstr(tspu_strerror(e), "permission") &&
            !strstr(tspu_strerror(e), "saturated"))
            distinct = 0;
    tt_check(distinct, "tspu_strerror names each error", "");
}

/* the problem used for the run tests: N = 4, two coupling sets, a lambda ramp */
#define PN 4
typedef struct {
    tspu_mapping mp;
    tspu_model_config cfg;
} problem;

static void make_problem(problem *p, tspu_integrator integ, uint32_t n_samples, uint32_t thin)
{
    static const double A0[PN * PN] = {4.0, 1.0, 0.5, 0.0, 1.0, 3.0, 0.8, 0.2,
                                       0.5, 0.8, 2.0, 0.3, 0.0, 0.2, 0.3, 1.0};
    static const double A1[PN * PN] = {2.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0,
                                       0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 2.0};
    static const double b0[PN] = {1.0, -2.0, 0.5, 1.5}, b1[PN] = {0.0, 0.5, 0.0, -0.5};
    tspu_problem pr = {.n = PN, .A0 = A0, .b0 = b0, .A1 = A1, .b1 = b1, .beta = 1.0, .h = 0.05,
                       .integrator = integ, .gamma = 1.0, .mass = 1.0, .x_range = 12.0};
    p->cfg = tspu_model_default_config();
    char err[200];
    if (tspu_map_problem(&pr, &p->mp, &p->cfg, err, sizeof err))
        fprintf(stderr, "map: %s\n", err);
    p->cfg.burnin = 300;
    p->cfg.n_segments = 2;
    p->cfg.seg[0].steps = 400;
    p->cfg.seg[0].dlambda = 1 << 21; /* ramp lambda up: work is done */
    p->cfg.seg[1].steps = 100;
    p->cfg.seg[1].dlambda = -(1 << 20);
    p->cfg.thin = thin;
    p->cfg.n_samples = n_samples;
    p->cfg.sample_momentum = integ == TSPU_INT_UD;
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

/* the reference: the bare model, drained after every step chunk */
static void reference(const problem *p, uint64_t seed, words *out, tspu_moments *mom, int64_t *work,
                      tspu_status *st)
{
    tspu_model *m = tspu_model_create(PN, 1 << 16);
    tspu_model_load_couplings(m, 0, p->mp.a[0], p->mp.b[0]);
    tspu_model_load_couplings(m, 1, p->mp.a[1], p->mp.b[1]);
    tspu_model_seed(m, seed);
    tspu_model_configure(m, &p->cfg);
    tspu_model_start(m);
    while (!tspu_model_done(m)) {
        tspu_model_run(m, 1000);
        out->n += tspu_model_fifo_read(m, out->w + out->n, out->cap - out->n);
    }
    tspu_model_read_moments(m, mom);
    *work = tspu_model_read_work(m);
    tspu_model_read_status(m, st);
    tspu_model_destroy(m);
}

typedef struct {
    int rc;
    tspu_moments mom;
    int64_t work;
    tspu_status st;
    struct tspu_link_stats_pub ls;
} dev_result;

static dev_result run_dev(tspu_dev *d, const problem *p, uint64_t seed, int stall, words *out)
{
    dev_result r;
    memset(&r, 0, sizeof r);
    if ((r.rc = tspu_load_mapping(d, &p->mp)) || (r.rc = tspu_seed(d, seed)) ||
        (r.rc = tspu_configure(d, &p->cfg, stall)) || (r.rc = tspu_start(d)))
        return r;
    r.rc = tspu_stream(d, collect, out, 5000);
    int rc2;
    if ((rc2 = tspu_read_moments(d, &r.mom)) || (rc2 = tspu_read_work(d, &r.work)) ||
        (rc2 = tspu_read_status(d, &r.st, NULL)))
        r.rc = r.rc ? r.rc : rc2;
    tspu_get_link_stats(d, &r.ls);
    return r;
}

static int same_results(const dev_result *r, const words *a, const words *b, const tspu_moments *mom,
                        int64_t work, const tspu_status *st)
{
    return a->n == b->n && !memcmp(a->w, b->w, a->n * sizeof *a->w) && r->mom.count == mom->count &&
           !memcmp(r->mom.sum, mom->sum, PN * sizeof mom->sum[0]) &&
           !memcmp(r->mom.sumsq, mom->sumsq, PN * (PN + 1) / 2 * sizeof mom->sumsq[0]) && r->work == work &&
           r->st.steps == st->steps && r->st.samples == st->samples && r->st.sat_count == st->sat_count &&
           r->st.lambda_acc == st->lambda_acc && (r->st.flags & 0x1F) == st->flags;
}

static void test_model_device(void)
{
    const size_t cap = 1 << 20;
    words ref = {calloc(cap, 2), 0, cap}, got = {calloc(cap, 2), 0, cap};
    tspu_moments mom;
    int64_t work;
    tspu_status st;
    static const struct { tspu_integrator integ; const char *name; uint32_t thin; } runs[] = {
        {TSPU_INT_LM, "LM", 1}, {TSPU_INT_EM, "EM", 3}, {TSPU_INT_UD, "UD (momentum samples)", 2}};
    for (int k = 0; k < 3; k++) {
        problem p;
        make_problem(&p, runs[k].integ, 20000, runs[k].thin);
        ref.n = got.n = 0;
        reference(&p, 77 + k, &ref, &mom, &work, &st);
        tspu_dev *d;
        int rc = tspu_open(&d, "model?n=4&spf=5000");
        if (!tt_check(rc == 0, "open model", "%s", tspu_last_error(NULL)))
            break;
        dev_result r = run_dev(d, &p, 77 + k, 1, &got);
        tspu_close(d);
        char name[160];
        snprintf(name, sizeof name, "model device, %s: samples, moments, work, status bit-identical to the bare model",
                 runs[k].name);
        tt_check(r.rc == 0 && same_results(&r, &got, &ref, &mom, work, &st), name,
                 "rc %d (%s), %zu vs %zu words, work %lld vs %lld", r.rc, tspu_strerror(r.rc), got.n, ref.n,
                 (long long)r.work, (long long)work);
        if (k == 0)
            tt_note("LM run: %zu sample words, work %lld, %llu link transactions", got.n, (long long)work,
                    (unsigned long long)r.ls.transactions);
    }

    /* a FIFO of 64 words (16 samples) under a 20000-sample run: the unit stalls, drops nothing */
    problem p;
    make_problem(&p, TSPU_INT_LM, 20000, 1);
    ref.n = 0;
    reference(&p, 5, &ref, &mom, &work, &st);
    tspu_dev *d;
    tspu_open(&d, "model?n=4&fifo=64&spf=100000");
    got.n = 0;
    dev_result r = run_dev(d, &p, 5, 1, &got);
    tspu_close(d);
    tt_check(r.rc == 0 && r.st.fifo_dropped == 0 && same_results(&r, &got, &ref, &mom, work, &st),
             "FIFO_STALL with a 64-word FIFO: nothing dropped, output bit-identical", "rc %d dropped %u", r.rc,
             r.st.fifo_dropped);
    /* the same without stalling drops samples, and the host says so */
    tspu_open(&d, "model?n=4&fifo=64&spf=100000");
    got.n = 0;
    r = run_dev(d, &p, 5, 0, &got);
    tspu_close(d);
    tt_check(r.rc == TSPU_E_FIFO_OVERFLOW && r.st.fifo_dropped > 0 &&
                 got.n == (size_t)(20000 - r.st.fifo_dropped) * PN,
             "no stall, 64-word FIFO: drops are detected (TSPU_E_FIFO_OVERFLOW) and counted exactly",
             "rc %d dropped %u words %zu", r.rc, r.st.fifo_dropped, got.n);

    /* the model device behind the fault-injecting channel */
    static faulty_tr ft;
    memset(&ft, 0, sizeof ft);
    tspu_modeldev_opts o = {.n = PN, .fifo_words = 256, .steps_per_frame = 3000};
    tspu_modeldev *md = tspu_modeldev_create(&o);
    tspu_ep_init(&ft.ep, tspu_modeldev_regdev(md));
    ft.fc.rate = 1e-3;
    rng_s = 12345;
    tspu_transport tr = {ft_write, ft_read, ft_close, &ft};
    int rc = tspu_open_transport(&d, &tr, "model+faults");
    if (tt_check(rc == 0, "open the model device over the faulty channel", "%s", tspu_last_error(NULL))) {
        make_problem(&p, TSPU_INT_LM, 50000, 1);
        ref.n = got.n = 0;
        reference(&p, 9, &ref, &mom, &work, &st);
        r = run_dev(d, &p, 9, 1, &got);
        tt_note("faulty channel: %llu transactions, %llu retries, %llu faults injected",
                (unsigned long long)r.ls.transactions, (unsigned long long)r.ls.retries,
                (unsigned long long)(ft.fc.dropped + ft.fc.duplicated + ft.fc.corrupted));
        tt_check(r.rc == 0 && r.ls.retries > 0 && same_results(&r, &got, &ref, &mom, work, &st),
                 "model device over 1e-3 byte faults: 50000 samples, moments, work bit-identical",
                 "rc %d (%s) words %zu vs %zu", r.rc, tspu_last_error(d), got.n, ref.n);
        tspu_close(d);
    }
    tspu_ep_free(&ft.ep);
    tspu_modeldev_destroy(md);
    free(ref.w);
    free(got.w);
}

int main(void)
{
    test_codec();
    test_faults();
    test_open_errors();
    test_model_device();
    return tt_exit();
}
