/* test_devices.c - "the devices agree bit for bit" (issue 4): the same
 * program run on -d model and -d sim (the Verilated RTL behind the link:
 * frame codec, bridge, CSR, core) and, when given, -d vboard gives identical
 * samples, moments, work, status, final state and final lane seeds.
 * Programs: EM, LM (many more samples than the FIFO holds: FIFO_STALL and
 * peek/commit at work), UD with momentum samples, and a lambda ramp (work).
 * Also the RTL link under a fault-injecting channel (dropped, duplicated and
 * corrupted bytes) streams the same samples.
 * usage: test_devices [DEVICE ...]   (default: sim; each is compared with model) */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tspu.h"
#include "tspu_backend.h"
#include "tspu_link.h"
#include "tspu_regs.h"
#include "tt.h"

typedef struct {
    const char *name;
    tspu_model_config c;
    uint64_t seed;
} prog;

typedef struct {
    int16_t *w;
    size_t n, cap;
    tspu_status st;
    tspu_phase ph;
    tspu_moments mom;
    int64_t work;
    int32_t x[TSPU_N_MAX], p[TSPU_N_MAX];
    uint32_t z[TSPU_N_MAX][4];
    unsigned n_lanes;
    double wall;
    uint64_t retries;
} result;

static int on_samples(void *ctx, const int16_t *words, size_t count, unsigned wps)
{
    result *r = ctx;
    size_t k = count * wps;
    if (r->n + k > r->cap) {
        size_t cap = (r->n + k) * 2;
        int16_t *w = realloc(r->w, cap * sizeof *w);
        if (!w)
            return TSPU_E_NOMEM;
        r->w = w;
        r->cap = cap;
    }
    memcpy(r->w + r->n, words, k * sizeof *words);
    r->n += k;
    return 0;
}

static uint64_t rng;
static int64_t rr(int64_t lo, int64_t hi)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return lo + (int64_t)(z % (uint64_t)(hi - lo + 1));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* run p on an open device; 0 or a TSPU_E_* code (detail on stdout) */
static int run_on(tspu_dev *d, const prog *p, result *r)
{
    tspu_info in;
    tspu_get_info(d, &in);
    const unsigned n = in.n;
    r->n_lanes = n;
    static int16_t a[2][TSPU_N_MAX * TSPU_N_MAX];
    static int32_t b[2][TSPU_N_MAX], x0[TSPU_N_MAX], p0[TSPU_N_MAX];
    rng = p->seed * 7919 + n;
    for (unsigned s = 0; s < 2; s++) {
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < n; j++)
                a[s][i * n + j] = (int16_t)(i == j ? rr(2048 + 1024 * (1 - s), 4096 - 1024 * s) : rr(-150, 150));
        for (unsigned i = 0; i < n; i++)
            b[s][i] = (int32_t)rr(-(1 << 22), 1 << 22);
    }
    for (unsigned i = 0; i < n; i++) {
        x0[i] = (int32_t)rr(-(1 << 24), 1 << 24);
        p0[i] = (int32_t)rr(-(1 << 20), 1 << 20);
    }
    int rc;
    double t0 = now();
    if ((rc = tspu_load_couplings(d, 0, a[0], b[0])) || (rc = tspu_load_couplings(d, 1, a[1], b[1])) ||
        (rc = tspu_seed(d, p->seed)) || (rc = tspu_set_state(d, x0, p0)) ||
        (rc = tspu_configure(d, &p->c, 1)) || (rc = tspu_start(d)) ||
        (rc = tspu_stream(d, on_samples, r, 20000)) || (rc = tspu_read_status(d, &r->st, &r->ph)) ||
        (rc = tspu_read_moments(d, &r->mom)) || (rc = tspu_read_work(d, &r->work)) ||
        (rc = tspu_get_state(d, r->x, r->p))) {
        printf("  # %s: %s\n", tspu_strerror(rc), tspu_last_error(d));
        return rc;
    }
    for (unsigned i = 0; i < n; i++)
        if ((rc = tspu_get_lane_seed(d, i, r->z[i])))
            return rc;
    r->wall = now() - t0;
    struct tspu_link_stats_pub ls;
    tspu_get_link_stats(d, &ls);
    r->retries = ls.retries;
    return 0;
}

static int run(const char *dev, const prog *p, result *r)
{
    memset(r, 0, sizeof *r);
    tspu_dev *d;
    int rc = tspu_open(&d, dev);
    if (rc) {
        printf("  # open %s: %s\n", dev, tspu_last_error(NULL));
        return rc;
    }
    rc = run_on(d, p, r);
    tspu_close(d);
    return rc;
}

/* first difference between two results, or "" */
static const char *diff(const result *m, const result *s, char *buf, size_t len)
{
    buf[0] = 0;
    if (m->n != s->n)
        snprintf(buf, len, "sample words: model %zu, device %zu", m->n, s->n);
    for (size_t i = 0; !buf[0] && i < m->n; i++)
        if (m->w[i] != s->w[i])
            snprintf(buf, len, "sample word %zu: model %d, device %d", i, m->w[i], s->w[i]);
#define CMP(what, fmt, a, b) \
    if (!buf[0] && (a) != (b)) snprintf(buf, len, "%s: model " fmt ", device " fmt, what, a, b)
    CMP("flags", "0x%x", m->st.flags, s->st.flags);
    CMP("sat_count", "%u", m->st.sat_count, s->st.sat_count);
    CMP("fifo_dropped", "%u", m->st.fifo_dropped, s->st.fifo_dropped);
    CMP("steps", "%llu", (unsigned long long)m->st.steps, (unsigned long long)s->st.steps);
    CMP("samples", "%u", m->st.samples, s->st.samples);
    CMP("lambda_acc", "0x%x", m->st.lambda_acc, s->st.lambda_acc);
    CMP("phase", "%d", (int)m->ph, (int)s->ph);
    CMP("work", "%lld", (long long)m->work, (long long)s->work);
    CMP("moment count", "%u", m->mom.count, s->mom.count);
    const unsigned n = m->n_lanes;
    for (unsigned i = 0; i < n; i++) {
        CMP("moment sum", "%lld", (long long)m->mom.sum[i], (long long)s->mom.sum[i]);
        CMP("final x", "%d", m->x[i], s->x[i]);
        CMP("final p", "%d", m->p[i], s->p[i]);
        for (unsigned k = 0; k < 4; k++)
            CMP("final seed", "0x%x", m->z[i][k], s->z[i][k]);
    }
    for (unsigned k = 0; k < n * (n + 1) / 2; k++)
        CMP("moment sumsq", "%lld", (long long)m->mom.sumsq[k], (long long)s->mom.sumsq[k]);
#undef CMP
    return buf;
}

/* ---- a fault-injecting channel under the link (drops, duplicates, corrupts
 * request and answer bytes at a set rate) ---------------------------------- */
typedef struct {
    tspu_transport in;
    double rate;
    uint64_t faults;
    uint8_t pend[4096];
    size_t pn;
} faulty;

static int fault_now(faulty *f) { return (double)(rr(0, 1 << 30)) / (1 << 30) < f->rate; }

static int f_write(void *ctx, const uint8_t *buf, size_t n)
{
    faulty *f = ctx;
    uint8_t out[2 * 2048];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 2 < sizeof out; i++) {
        if (fault_now(f)) {
            f->faults++;
            int kind = (int)rr(0, 2);
            if (kind == 0)
                continue;                                    /* dropped */
            if (kind == 1)
                out[k++] = buf[i];                            /* duplicated */
            else {
                out[k++] = (uint8_t)(buf[i] ^ (uint8_t)rr(1, 255)); /* corrupted */
                continue;
            }
        }
        out[k++] = buf[i];
    }
    return f->in.write(f->in.ctx, out, k);
}

static int f_read(void *ctx, uint8_t *buf, size_t max, int timeout_ms)
{
    faulty *f = ctx;
    uint8_t tmp[512];
    if (max > sizeof tmp / 2)
        max = sizeof tmp / 2;
    int n = f->in.read(f->in.ctx, tmp, max, timeout_ms);
    if (n <= 0)
        return n;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (fault_now(f)) {
            f->faults++;
            int kind = (int)rr(0, 2);
            if (kind == 0)
                continue;
            if (kind == 1)
                buf[k++] = tmp[i];
            else {
                buf[k++] = (uint8_t)(tmp[i] ^ (uint8_t)rr(1, 255));
                continue;
            }
        }
        buf[k++] = tmp[i];
    }
    return k ? k : f_read(ctx, buf, max, timeout_ms);
}

static void f_close(void *ctx)
{
    faulty *f = ctx;
    f->in.close(f->in.ctx);
}

/* ---- raw frames against a device's byte transport ------------------------- */
typedef struct {
    tspu_transport tr;
    tspu_rx rx;
} raw_link;

static int any_hdr(void *ctx, uint8_t cmd, uint16_t len)
{
    (void)ctx;
    (void)cmd;
    return len <= TSPU_LINK_MAX_PAYLOAD;
}

/* send bytes, return the first answer frame (cmd, seq, payload) or -1 */
static int raw_xfer(raw_link *l, const uint8_t *bytes, size_t n)
{
    if (l->tr.write(l->tr.ctx, bytes, n))
        return -1;
    tspu_rx_reset(&l->rx);
    uint8_t buf[512];
    for (int tries = 0; tries < 64; tries++) {
        int k = l->tr.read(l->tr.ctx, buf, sizeof buf, 500);
        if (k <= 0)
            return -1;
        for (int i = 0; i < k; i++)
            if (tspu_rx_byte(&l->rx, buf[i]) == TSPU_RX_FRAME)
                return 0;
    }
    return -1;
}

static int raw_frame(raw_link *l, uint8_t cmd, uint8_t seq, const uint8_t *p, size_t len)
{
    uint8_t f[TSPU_FRAME_MAX];
    size_t n = tspu_frame_encode(f, cmd, seq, p, len);
    return raw_xfer(l, f, n);
}

static void raw_tests(const char *dev)
{
    char name[200], err[256];
    raw_link l;
    memset(&l, 0, sizeof l);
    snprintf(name, sizeof name, "%s: raw frames (retry not re-executed, NAK CRC/ADDR/ACCESS, resync)", dev);
    if (tspu_transport_open(&l.tr, dev, err, sizeof err)) {
        tt_check(0, name, "%s", err);
        return;
    }
    tspu_rx_init(&l.rx, any_hdr, NULL);
    const char *bad = NULL;
    uint8_t p[8];
#define EXPECT(cond, what) if (!bad && !(cond)) bad = what
    EXPECT(raw_frame(&l, TSPU_CMD_LINK_RESET, 0, NULL, 0) == 0 && l.rx.cmd == 0x85, "LINK_RESET ack");
    tspu_put16(p, TSPU_REG_SCRATCH);
    tspu_put32(p + 2, 0x11111111);
    EXPECT(raw_frame(&l, TSPU_CMD_WRITE, 1, p, 6) == 0 && l.rx.cmd == 0x83 && l.rx.seq == 1, "WRITE ack");
    tspu_put32(p + 2, 0x22222222); /* same SEQ and CMD: a retry, not done again */
    EXPECT(raw_frame(&l, TSPU_CMD_WRITE, 1, p, 6) == 0 && l.rx.cmd == 0x83 && l.rx.seq == 1, "retried WRITE ack");
    tspu_put16(p + 2, 1);
    EXPECT(raw_frame(&l, TSPU_CMD_READ, 2, p, 4) == 0 && l.rx.cmd == 0x82 && l.rx.len == 4 &&
               tspu_get32(l.rx.payload) == 0x11111111, "the retried WRITE was executed again");
    {   /* a damaged request: NAK(CRC) with the SEQ as received */
        uint8_t f[TSPU_FRAME_MAX];
        size_t n = tspu_frame_encode(f, TSPU_CMD_READ, 0x77, p, 4);
        f[n - 1] ^= 0x5A;
        EXPECT(raw_xfer(&l, f, n) == 0 && l.rx.cmd == 0xFF && l.rx.seq == 0x77 && l.rx.len == 1 &&
                   l.rx.payload[0] == TSPU_NAK_CRC, "NAK CRC");
    }
    {   /* line noise with a SYNC in it, then a PING: back in step */
        uint8_t f[64] = {0x00, 0xA5, 0x42, 0xA5, 0x07, 0x99, 0xA5, 0x01};
        size_t n = 8 + tspu_frame_encode(f + 8, TSPU_CMD_PING, 3, NULL, 0);
        EXPECT(raw_xfer(&l, f, n) == 0 && l.rx.cmd == 0x81 && l.rx.seq == 3, "resync after noise");
    }
    tspu_put16(p, TSPU_REG_MAGIC);
    tspu_put32(p + 2, 1);
    EXPECT(raw_frame(&l, TSPU_CMD_WRITE, 4, p, 6) == 0 && l.rx.cmd == 0xFF && l.rx.payload[0] == TSPU_NAK_ACCESS,
           "NAK ACCESS");
    EXPECT(raw_frame(&l, TSPU_CMD_WRITE, 4, p, 6) == 0 && l.rx.cmd == 0xFF && l.rx.payload[0] == TSPU_NAK_ACCESS,
           "retried refused WRITE: same NAK");
    tspu_put16(p, 0x7FFF);
    tspu_put16(p + 2, 1);
    EXPECT(raw_frame(&l, TSPU_CMD_READ, 5, p, 4) == 0 && l.rx.cmd == 0xFF && l.rx.payload[0] == TSPU_NAK_ADDR,
           "NAK ADDR (unmapped)");
    tspu_put16(p, TSPU_REG_MAX_SEGMENTS); /* the last ID register and the hole after it */
    tspu_put16(p + 2, 2); /* a burst crossing into unmapped space is refused whole */
    EXPECT(raw_frame(&l, TSPU_CMD_READ, 6, p, 4) == 0 && l.rx.cmd == 0xFF && l.rx.payload[0] == TSPU_NAK_ADDR,
           "NAK ADDR (burst)");
    tspu_put16(p, TSPU_REG_SCRATCH);
    tspu_put16(p + 2, 16);
    EXPECT(raw_frame(&l, TSPU_CMD_READ_FIFO, 7, p, 4) == 0 && l.rx.cmd == 0xFF && l.rx.payload[0] == TSPU_NAK_ADDR,
           "READ_FIFO of a non-stream address");
    tspu_put16(p, TSPU_REG_FIFO_DATA);
    EXPECT(raw_frame(&l, TSPU_CMD_READ_FIFO, 8, p, 4) == 0 && l.rx.cmd == 0x84 && l.rx.len == 0,
           "READ_FIFO of an empty FIFO");
#undef EXPECT
    tt_check(!bad, name, "%s", bad ? bad : "");
    l.tr.close(l.tr.ctx);
}

int main(int argc, char **argv)
{
    const char *devs_default[] = {"sim", "sim?n=8", "vboard"};
    const char **devs = argc > 1 ? (const char **)argv + 1 : devs_default;
    int ndev = argc > 1 ? argc - 1 : (int)(sizeof devs_default / sizeof devs_default[0]);

    prog ps[4];
    memset(ps, 0, sizeof ps);
    for (int i = 0; i < 4; i++) {
        ps[i].c = tspu_model_default_config();
        ps[i].c.drift_shift = 16;
        ps[i].c.noise_shift = 10;
        ps[i].seed = 1000 + (uint64_t)i;
    }
    ps[0].name = "EM";
    ps[0].c.integrator = TSPU_INT_EM;
    ps[0].c.burnin = 300;
    ps[0].c.thin = 3;
    ps[0].c.n_samples = 200;
    ps[1].name = "LM (FIFO stall: 20x the FIFO)";
    ps[1].c.integrator = TSPU_INT_LM;
    ps[1].c.drift_shift = 17;
    ps[1].c.burnin = 100;
    ps[1].c.n_samples = 640;
    ps[2].name = "UD with momentum samples";
    ps[2].c.integrator = TSPU_INT_UD;
    ps[2].c.ka = 16384;
    ps[2].c.ka_shift = 18;
    ps[2].c.ko = 16384;
    ps[2].c.ko_shift = 20;
    ps[2].c.sample_momentum = 1;
    ps[2].c.burnin = 200;
    ps[2].c.thin = 2;
    ps[2].c.n_samples = 150;
    ps[3].name = "lambda ramp (work)";
    ps[3].c.integrator = TSPU_INT_LM;
    ps[3].c.burnin = 100;
    ps[3].c.lambda_init = 0x1000;
    ps[3].c.n_segments = 3;
    ps[3].c.seg[0].steps = 400;
    ps[3].c.seg[0].dlambda = (int32_t)(0x80000000u / 400 + 3); /* overshoots: clamps */
    ps[3].c.seg[1].steps = 50;
    ps[3].c.seg[1].dlambda = 0;
    ps[3].c.seg[2].steps = 200;
    ps[3].c.seg[2].dlambda = -(int32_t)(0x40000000u / 200);
    ps[3].c.thin = 2;
    ps[3].c.n_samples = 100;

    char name[256], buf[256];
    for (int di = 0; di < ndev; di++) {
        tspu_dev *d;
        tspu_info in;
        snprintf(name, sizeof name, "%s: open (version handshake)", devs[di]);
        int rc = tspu_open(&d, devs[di]);
        if (!tt_check(rc == 0, name, "%s", tspu_last_error(NULL)))
            continue;
        tspu_get_info(d, &in);
        snprintf(name, sizeof name, "%s: ID block (magic, N, features, segments)", devs[di]);
        tt_check(in.magic == TSPU_MAGIC && in.n >= 2 && (in.features & 0xFF) == 0xFF && in.max_segments == 16, name,
                 "magic 0x%08X N %u features 0x%x", in.magic, in.n, in.features);
        tt_note("%s: N %u, P %u, clock %u Hz, %u cycles/step, FIFO %u words", devs[di], in.n, in.p,
                in.clock_hz, in.cycles_per_step, in.fifo_depth);
        /* refusals: unmapped address, read-only register, bad program */
        uint32_t v = 0;
        snprintf(name, sizeof name, "%s: NAK ADDR / ACCESS, scratch, REJECTED", devs[di]);
        int r1 = tspu_reg_read(d, 0x7FFF, &v);
        int r2 = tspu_reg_write(d, TSPU_REG_MAGIC, 1);
        int r3 = tspu_reg_write(d, TSPU_REG_SCRATCH, 0xDEADBEEF);
        uint32_t sc = 0;
        int r4 = tspu_reg_read(d, TSPU_REG_SCRATCH, &sc);
        tspu_model_config bad = tspu_model_default_config();
        bad.thin = 0;
        int r5 = tspu_configure(d, &bad, 1);
        int r6 = tspu_start(d);
        tt_check(r1 == TSPU_E_PROTOCOL && r2 == TSPU_E_INVAL && !r3 && !r4 && sc == 0xDEADBEEF && !r5 &&
                     r6 == TSPU_E_REJECTED, name, "rc %d %d %d %d %d %d scratch 0x%x", r1, r2, r3, r4, r5, r6, sc);
        /* UART_DIV: a board's UART runs at the new rate after the write's
         * answer (the vboard's host side follows it) */
        if (strcmp(devs[di], "vboard") == 0) {
            snprintf(name, sizeof name, "%s: UART_DIV 4 -> 8 -> 4 at run time (3 -> 1.5 -> 3 Mbaud)", devs[di]);
            uint32_t d0 = 0, d1 = 0, d2 = 0;
            int q1 = tspu_reg_read(d, TSPU_REG_UART_DIV, &d0);
            int q2 = tspu_reg_write(d, TSPU_REG_UART_DIV, 8);
            int q3 = tspu_reg_read(d, TSPU_REG_UART_DIV, &d1); /* at 1.5 Mbaud */
            int q4 = tspu_reg_write(d, TSPU_REG_UART_DIV, 4);
            int q5 = tspu_reg_read(d, TSPU_REG_UART_DIV, &d2);
            tt_check(!q1 && !q2 && !q3 && !q4 && !q5 && d0 == 4 && d1 == 8 && d2 == 4, name,
                     "rc %d %d %d %d %d, div %u %u %u", q1, q2, q3, q4, q5, d0, d1, d2);
        }
        tspu_close(d);

        for (int pi = 0; pi < 4; pi++) {
            result m, s;
            snprintf(name, sizeof name, "%s = model bit for bit: %s", devs[di], ps[pi].name);
            char mdev[64];
            int rs = run(devs[di], &ps[pi], &s);
            snprintf(mdev, sizeof mdev, "model?n=%u", s.n_lanes ? s.n_lanes : 16);
            int rm = run(mdev, &ps[pi], &m);
            if (rm || rs) {
                tt_check(0, name, "run failed: model %s, %s %s", tspu_strerror(rm), devs[di], tspu_strerror(rs));
            } else {
                diff(&m, &s, buf, sizeof buf);
                if (tt_check(!buf[0] && m.n > 0, name, "%s", buf[0] ? buf : "no samples"))
                    tt_note("%zu sample words, %llu steps, work %lld, %s %.2f s", s.n,
                            (unsigned long long)s.st.steps, (long long)s.work, devs[di], s.wall);
            }
            free(m.w);
            free(s.w);
        }
    }

    raw_tests("model?n=16"); /* the specification passes its own test */
    for (int di = 0; di < ndev; di++)
        raw_tests(devs[di]);

    /* the RTL link under faults: same samples as the model, nothing lost */
    for (int di = 0; di < ndev; di++) {
        if (strcmp(devs[di], "sim") != 0)
            continue;
        faulty f;
        memset(&f, 0, sizeof f);
        f.rate = 2e-3;
        char err[256];
        int rc = tspu_transport_open(&f.in, "sim", err, sizeof err);
        result m, s;
        memset(&s, 0, sizeof s);
        snprintf(name, sizeof name, "sim under a faulty channel (drop/dup/corrupt 2e-3 per byte) = model");
        if (rc) {
            tt_check(0, name, "%s", err);
            continue;
        }
        tspu_transport tr = {.write = f_write, .read = f_read, .close = f_close, .ctx = &f};
        tspu_dev *d;
        rng = 12345;
        rc = tspu_open_transport(&d, &tr, "sim+faults");
        int rm = run("model?n=16", &ps[1], &m);
        if (!rc) {
            rc = run_on(d, &ps[1], &s);
            tspu_close(d);
        }
        if (rc || rm) {
            tt_check(0, name, "run failed: %s / %s", tspu_strerror(rc), tspu_strerror(rm));
        } else {
            diff(&m, &s, buf, sizeof buf);
            if (tt_check(!buf[0] && f.faults > 20 && s.retries > 0, name, "%s (faults %llu, retries %llu)",
                         buf[0] ? buf : "too few faults", (unsigned long long)f.faults,
                         (unsigned long long)s.retries))
                tt_note("%llu injected faults, %llu retries, %zu sample words identical",
                        (unsigned long long)f.faults, (unsigned long long)s.retries, s.n);
        }
        free(m.w);
        free(s.w);
    }
    return tt_failed_count ? 1 : 0;
}
