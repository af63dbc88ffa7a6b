/*
 * test_link_regs.c - the register semantics of the gateware's link side
 * (rtl/tspu_csr.v: shadows in SPRAM, START check and copy, seed-lane shadow,
 * STEPS/WORK latch, CTRL.RESET) against the model device, word for word.
 *
 * The same script of register and memory accesses runs on the model device
 * (host/lib/model_dev.c, the specification) and on the Verilated gateware
 * (sim?n=8, sim = N 16, vboard when built); every word read is recorded and
 * the traces must be identical.  The script covers coupling and bias
 * read-back (negative values, junk in the upper half of int16 words, offsets
 * beyond N*N in the window), CONFIG read-back as written with KA / KO
 * sign-extended, SCHEDULE and SCRATCH, START refused for a bad CONFIG
 * (FLAGS.REJECTED) and accepted for a good one, lane seeds (a valid one taken,
 * an invalid LFSR113 state refused), CTRL.RESET (registers back to their
 * defaults) and STEPS_LO/HI, WORK_LO/HI after a short run.
 * Would-fail twin: the model's trace with one word changed must be found
 * different by the same comparison.
 *
 * The iCEBreaker's small gateware (tspu-vboard-small: N = 8, HAVE_UD =
 * HAVE_SCHEDULE = 0) must refuse at START, in the register block itself, a
 * program written raw that needs a feature it lacks (UD, schedule segments,
 * a lambda strictly between 0 and 1), report those FEATURES bits as 0, and
 * take the same program with EM (twin: the refusal is the feature's).
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tspu.h"
#include "tspu_regs.h"
#include "tspu_model.h"

#define MAXW 20000
typedef struct {
    uint32_t w[MAXW];
    char what[MAXW][24];
    size_t n;
    int err;
} trace;

static void rec(trace *t, const char *what, uint32_t v)
{
    if (t->n < MAXW) {
        t->w[t->n] = v;
        snprintf(t->what[t->n], sizeof t->what[0], "%s", what);
        t->n++;
    }
}

static void rd(tspu_dev *d, trace *t, const char *what, uint16_t a, size_t count)
{
    uint32_t buf[1024];
    if (tspu_mem_read(d, a, buf, count)) {
        t->err = 1;
        return;
    }
    for (size_t i = 0; i < count; i++)
        rec(t, what, buf[i]);
}

static void wr(tspu_dev *d, trace *t, uint16_t a, const uint32_t *v, size_t count)
{
    if (tspu_mem_write(d, a, v, count))
        t->err = 1;
}

static void wr1(tspu_dev *d, trace *t, uint16_t a, uint32_t v) { wr(d, t, a, &v, 1); }

static void read_regs(tspu_dev *d, trace *t)
{
    rd(d, t, "SCRATCH", TSPU_REG_SCRATCH, 1);
    rd(d, t, "CONFIG", TSPU_REG_INTEGRATOR, TSPU_REG_FIFO_STALL - TSPU_REG_INTEGRATOR + 1);
    rd(d, t, "SCHEDULE", TSPU_WIN_SCHEDULE_BASE, TSPU_WIN_SCHEDULE_SIZE);
    rd(d, t, "FLAGS", TSPU_REG_FLAGS, 1);
    rd(d, t, "STEPS_LO/HI", TSPU_REG_STEPS_LO, 2);
    rd(d, t, "WORK_LO/HI", TSPU_REG_WORK_LO, 2);
}

static void read_all(tspu_dev *d, trace *t, unsigned n)
{
    read_regs(d, t);
    rd(d, t, "COUPLING0", TSPU_WIN_COUPLING0_BASE, n * n + 3);
    rd(d, t, "COUPLING1", TSPU_WIN_COUPLING1_BASE, n * n);
    rd(d, t, "BIAS0", TSPU_WIN_BIAS0_BASE, n + 2);
    rd(d, t, "BIAS1", TSPU_WIN_BIAS1_BASE, n);
}

static void script(tspu_dev *d, trace *t, unsigned n)
{
    uint32_t v[1024];
    read_all(d, t, n);
    /* (the lanes' seeds at reset are not compared: the gateware's core starts
       them at 0, the model at its default seed; libtspu always seeds) */
    if (tspu_seed(d, 7))
        t->err = 1;
    /* couplings and biases: negative values, junk above bit 15 */
    for (unsigned i = 0; i < n * n; i++)
        v[i] = (i % 3 == 0) ? (uint32_t)(-(int32_t)(37 * i + 1)) : (i % 3 == 1) ? 0xABCD0000u + 1000u * i : 17u * i;
    wr(d, t, TSPU_WIN_COUPLING0_BASE, v, n * n);
    for (unsigned i = 0; i < n * n; i++)
        v[i] = 0x8000u + i;
    wr(d, t, TSPU_WIN_COUPLING1_BASE, v, n * n);
    for (unsigned i = 0; i < n; i++)
        v[i] = 0x80000000u + 12345u * i;
    wr(d, t, TSPU_WIN_BIAS0_BASE, v, n);
    for (unsigned i = 0; i < n; i++)
        v[i] = (uint32_t)(-(int32_t)(99 * i));
    wr(d, t, TSPU_WIN_BIAS1_BASE, v, n);
    /* CONFIG as written (KA, KO sign-extended), SCHEDULE, SCRATCH */
    wr1(d, t, TSPU_REG_KA, 0x1234FFF0u);
    wr1(d, t, TSPU_REG_KO, 0x00017FFFu);
    wr1(d, t, TSPU_REG_BURNIN, 0xDEADBEEFu);
    wr1(d, t, TSPU_REG_THIN, 0);            /* a bad program: START refused */
    wr1(d, t, TSPU_REG_LAMBDA_INIT, 0x80000001u);
    for (unsigned i = 0; i < TSPU_WIN_SCHEDULE_SIZE; i++)
        v[i] = 0x01010101u * i;
    wr(d, t, TSPU_WIN_SCHEDULE_BASE, v, TSPU_WIN_SCHEDULE_SIZE);
    wr1(d, t, TSPU_REG_SCRATCH, 0xC0FFEE00u);
    read_all(d, t, n);
    wr1(d, t, TSPU_REG_CTRL, TSPU_CTRL_START);
    rd(d, t, "FLAGS after bad START", TSPU_REG_FLAGS, 1);
    /* lane seeds: valid, then an invalid LFSR113 state (z0 < 2) */
    uint32_t z[4] = {0x12345678u, 0x9ABCDEF0u, 0x0F0F0F0Fu, 0xF0F0F0F0u}, zr[4];
    if (tspu_set_lane_seed(d, 1, z) || tspu_get_lane_seed(d, 1, zr))
        t->err = 1;
    for (int k = 0; k < 4; k++)
        rec(t, "seed lane 1", zr[k]);
    uint32_t bad[4] = {1u, 0x100u, 0x100u, 0x1000u};
    wr(d, t, (uint16_t)(TSPU_WIN_LANE_SEED_BASE + 4 * 2), bad, 4);
    rd(d, t, "FLAGS after bad seed", TSPU_REG_FLAGS, 1);
    rd(d, t, "seed lane 2", (uint16_t)(TSPU_WIN_LANE_SEED_BASE + 4 * 2), 4);
    /* a seed word written and read back within one frame's worth of lanes */
    wr1(d, t, (uint16_t)(TSPU_WIN_LANE_SEED_BASE + 4 * 0 + 3), 0x55555555u);
    rd(d, t, "seed lane 0", TSPU_WIN_LANE_SEED_BASE, 4);
    /* CTRL.RESET: registers back to their defaults (the couplings are not
       compared: the gateware keeps them, the model clears them -- a known
       difference, docs/protocol.md) */
    wr1(d, t, TSPU_REG_CTRL, TSPU_CTRL_RESET);
    read_regs(d, t);
    for (unsigned i = 0; i < n * n; i++)
        v[i] = (i % (n + 1) == 0) ? 0x2000u : (uint32_t)(-(int32_t)(i % 7));
    wr(d, t, TSPU_WIN_COUPLING0_BASE, v, n * n);
    wr(d, t, TSPU_WIN_COUPLING1_BASE, v, n * n);
    for (unsigned i = 0; i < n; i++)
        v[i] = 1000u * i;
    wr(d, t, TSPU_WIN_BIAS0_BASE, v, n);
    wr(d, t, TSPU_WIN_BIAS1_BASE, v, n);
    /* a short run: a good program from the defaults (LM, thin 1), 100 steps
       of burn-in, then every register and the couplings and biases again */
    wr1(d, t, TSPU_REG_BURNIN, 100);
    wr1(d, t, TSPU_REG_DRIFT_SHIFT, 8);
    wr1(d, t, TSPU_REG_NOISE_SHIFT, 4);
    wr1(d, t, TSPU_REG_N_SAMPLES, 0);
    wr1(d, t, TSPU_REG_CTRL, TSPU_CTRL_START);
    for (int k = 0; k < 1000; k++) {
        uint32_t f = 0;
        if (tspu_reg_read(d, TSPU_REG_FLAGS, &f)) {
            t->err = 1;
            break;
        }
        if (!(f & (1u << TSPU_FLAGS_RUNNING_LSB)))
            break;
    }
    read_all(d, t, n);
}

static int run(const char *spec, trace *t, unsigned *n_out)
{
    tspu_dev *d = NULL;
    memset(t, 0, sizeof *t);
    if (tspu_open(&d, spec)) {
        printf("  # %s: %s\n", spec, tspu_last_error(NULL));
        return -1;
    }
    tspu_info info;
    tspu_get_info(d, &info);
    *n_out = info.n;
    script(d, t, info.n);
    tspu_close(d);
    return t->err ? -2 : 0;
}

static size_t first_diff(const trace *a, const trace *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++)
        if (a->w[i] != b->w[i])
            return i;
    return a->n == b->n ? (size_t)-1 : n;
}

/* one raw program on the small gateware: FLAGS.REJECTED after START? */
static int small_start(tspu_dev *d, uint32_t integ, uint32_t nseg, uint32_t linit, uint32_t *fl)
{
    uint32_t cfg[TSPU_REG_FIFO_STALL - TSPU_REG_INTEGRATOR + 1] = {0};
    cfg[TSPU_REG_INTEGRATOR - TSPU_REG_INTEGRATOR] = integ;
    cfg[TSPU_REG_THIN - TSPU_REG_INTEGRATOR] = 1;
    cfg[TSPU_REG_BURNIN - TSPU_REG_INTEGRATOR] = 10;
    cfg[TSPU_REG_N_SEGMENTS - TSPU_REG_INTEGRATOR] = nseg;
    cfg[TSPU_REG_LAMBDA_INIT - TSPU_REG_INTEGRATOR] = linit;
    int rc = tspu_mem_write(d, TSPU_REG_INTEGRATOR, cfg, sizeof cfg / sizeof cfg[0]);
    if (!rc)
        rc = tspu_reg_write(d, TSPU_REG_CTRL, TSPU_CTRL_START);
    if (!rc)
        rc = tspu_reg_read(d, TSPU_REG_FLAGS, fl);
    uint32_t f = *fl;
    for (int k = 0; !rc && (f & TSPU_FLAGS_RUNNING) && k < 1000; k++) /* let an accepted run end */
        rc = tspu_reg_read(d, TSPU_REG_FLAGS, &f);
    return rc;
}

static void small_gateware(void)
{
#ifdef VBOARD_SMALL
    const char *prev = getenv("TSPU_VBOARD");
    char saved[4096] = "";
    if (prev)
        snprintf(saved, sizeof saved, "%s", prev);
    setenv("TSPU_VBOARD", VBOARD_SMALL, 1);
    tspu_dev *d = NULL;
    int rc = tspu_open(&d, "vboard");
    uint32_t feat = 0, fl = 0;
    if (!rc)
        rc = tspu_reg_read(d, TSPU_REG_FEATURES, &feat);
    const uint32_t lack = TSPU_FEATURES_UD | TSPU_FEATURES_SCHEDULE | TSPU_FEATURES_WORK;
    printf("%s: small gateware (vboard N=8, no UD, no schedule) reports FEATURES 0x%X without UD / SCHEDULE / WORK\n",
           !rc && (feat & lack) == 0 && (feat & TSPU_FEATURES_EM) ? "PASS" : "FAIL", feat);
    static const struct { const char *what; uint32_t integ, nseg, linit; int rej; } c[] = {
        {"a raw UD program is rejected at START", TSPU_INT_UD, 0, 0, 1},
        {"a raw program with a schedule segment is rejected at START", TSPU_INT_EM, 1, 0, 1},
        {"a raw program at lambda 1/2 is rejected at START", TSPU_INT_EM, 0, 0x40000000u, 1},
        {"twin: the same program with EM at lambda 1 is taken", TSPU_INT_EM, 0, 0x80000000u, 0},
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        if (!rc)
            rc = small_start(d, c[k].integ, c[k].nseg, c[k].linit, &fl);
        const int rej = (fl & TSPU_FLAGS_REJECTED) != 0;
        printf("%s: small gateware: %s (rc %d FLAGS 0x%X)\n", !rc && rej == c[k].rej ? "PASS" : "FAIL",
               c[k].what, rc, fl);
    }
    tspu_close(d);
    if (prev) /* the full vboard below */
        setenv("TSPU_VBOARD", saved, 1);
    else
        unsetenv("TSPU_VBOARD");
#endif
}

int main(void)
{
    small_gateware();
    static trace tm, ts;
    const char *pairs[][2] = {{"model?n=8", "sim?n=8"}, {"model?n=16", "sim"}, {"model?n=16", "vboard"}};
    for (unsigned p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        unsigned nm = 0, ns = 0;
        int rm = run(pairs[p][0], &tm, &nm), rs = run(pairs[p][1], &ts, &ns);
        char name[128];
        snprintf(name, sizeof name, "link registers: %s = %s word for word", pairs[p][1], pairs[p][0]);
        if (rs == -1 && p == 2) {
            printf("PASS: %s (skipped: vboard not built)\n", name);
            continue;
        }
        if (rm || rs || nm != ns) {
            printf("FAIL: %s (open/access error %d %d, N %u %u)\n", name, rm, rs, nm, ns);
            continue;
        }
        size_t i = first_diff(&tm, &ts);
        uint32_t steps = 0;
        for (size_t k = 0; k < tm.n; k++)
            if (!strcmp(tm.what[k], "STEPS_LO/HI"))
                steps = tm.w[k] == 0 ? steps : tm.w[k];
        if (i == (size_t)-1)
            printf("PASS: %s (%zu words read, a run of %u steps)\n", name, tm.n, steps);
        else
            printf("FAIL: %s: word %zu (%s) 0x%08x vs 0x%08x\n", name, i, i < tm.n ? tm.what[i] : "?",
                   i < tm.n ? tm.w[i] : 0, i < ts.n ? ts.w[i] : 0);
        if (p == 0) { /* would-fail twin: the model's trace with one word changed */
            ts = tm;
            ts.w[ts.n / 2] ^= 0x10u;
            i = first_diff(&tm, &ts);
            printf("%s: twin: a trace with word %zu changed is found different\n",
                   i == ts.n / 2 ? "PASS" : "FAIL", ts.n / 2);
        }
    }
    return 0;
}
