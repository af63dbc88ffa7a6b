/*
 * model_golden.c - golden trace of the bit-exact model, to keep performance
 * work on host/model/ honest.  For EM, LM and UD at N = 2, 8, 16, 64 and a set
 * of programs (lambda ramps between two coupling sets, fixed lambda at 0, 1
 * and in between, saturating dynamics, a small FIFO that overflows) it hashes
 * every state word of every step (through the observer) and, at the end of
 * each program, the moments, work, status, FIFO words, lane seeds and state.
 *
 *   model_golden             print one hash line per case and a total
 *   model_golden FILE        compare with FILE (a saved output); exit 1 on
 *                            any difference
 *
 * bench/golden/model_golden.txt holds the output of the model as of commit
 * 0b76f24 (before any optimisation).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tspu_fixmap.h"
#include "tspu_model.h"

/* FNV-1a, 64 bit, fed 32-bit words little-endian */
typedef struct {
    uint64_t h;
} hash64;

static void hput32(hash64 *s, uint32_t w)
{
    for (int k = 0; k < 4; k++) {
        s->h ^= (w >> (8 * k)) & 0xFFu;
        s->h *= 0x100000001B3ull;
    }
}

static void hput64(hash64 *s, uint64_t w)
{
    hput32(s, (uint32_t)w);
    hput32(s, (uint32_t)(w >> 32));
}

typedef struct {
    hash64 hs;
    unsigned n;
    uint64_t steps;
} trace;

static void observe(void *ctx, uint64_t step, const int32_t *x, const int32_t *p,
                    uint32_t lambda_acc)
{
    trace *t = ctx;
    hput64(&t->hs, step);
    for (unsigned i = 0; i < t->n; i++)
        hput32(&t->hs, (uint32_t)x[i]);
    for (unsigned i = 0; i < t->n; i++)
        hput32(&t->hs, (uint32_t)p[i]);
    hput32(&t->hs, lambda_acc);
    t->steps++;
}

/* deterministic generator for the test problems (xorshift64*) */
static uint64_t rng_s = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_s ^= rng_s >> 12;
    rng_s ^= rng_s << 25;
    rng_s ^= rng_s >> 27;
    return rng_s * 2685821657736338717ull;
}
static double urand(void) { return (double)(rnd() >> 11) * 0x1p-53; }

/* random SPD matrix: diagonally dominant, entries in [-1, 1] off the diagonal */
static void spd(unsigned n, double *A, double diag)
{
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j <= i; j++) {
            double v = i == j ? 0 : (2 * urand() - 1) * 0.5;
            A[i * n + j] = A[j * n + i] = v;
        }
    for (unsigned i = 0; i < n; i++) {
        double s = diag;
        for (unsigned j = 0; j < n; j++)
            if (j != i)
                s += A[i * n + j] < 0 ? -A[i * n + j] : A[i * n + j];
        A[i * n + i] = s;
    }
}

static void finish(trace *t, tspu_model *m)
{
    const unsigned n = t->n;
    tspu_moments mom;
    tspu_model_read_moments(m, &mom);
    hput32(&t->hs, mom.count);
    for (unsigned i = 0; i < n; i++)
        hput64(&t->hs, (uint64_t)mom.sum[i]);
    for (unsigned k = 0; k < n * (n + 1) / 2; k++)
        hput64(&t->hs, (uint64_t)mom.sumsq[k]);
    hput64(&t->hs, (uint64_t)tspu_model_read_work(m));
    tspu_status st;
    tspu_model_read_status(m, &st);
    hput32(&t->hs, st.flags);
    hput32(&t->hs, st.sat_count);
    hput32(&t->hs, st.fifo_dropped);
    hput64(&t->hs, st.steps);
    hput32(&t->hs, st.samples);
    hput32(&t->hs, st.lambda_acc);
    hput32(&t->hs, (uint32_t)tspu_model_phase(m));
    int32_t x[TSPU_N_MAX], p[TSPU_N_MAX];
    tspu_model_get_state(m, x, p);
    for (unsigned i = 0; i < n; i++) {
        hput32(&t->hs, (uint32_t)x[i]);
        hput32(&t->hs, (uint32_t)p[i]);
        uint32_t z[4];
        tspu_model_get_lane_seed(m, i, z);
        for (int k = 0; k < 4; k++)
            hput32(&t->hs, z[k]);
    }
}

/* run the program to the end, draining the FIFO every `drain` steps
 * (0: never), hashing every word read */
static void run_program(trace *t, tspu_model *m, uint64_t chunk, int drain_every)
{
    int16_t buf[4096];
    int k = 0;
    tspu_model_start(m);
    while (!tspu_model_done(m)) {
        uint64_t did = tspu_model_run(m, chunk);
        if (did == 0)
            break;
        if (drain_every && ++k % drain_every == 0) {
            size_t got;
            while ((got = tspu_model_fifo_read(m, buf, 37)) > 0)
                for (size_t i = 0; i < got; i++)
                    hput32(&t->hs, (uint32_t)(int32_t)buf[i]);
        }
    }
    size_t got;
    while ((got = tspu_model_fifo_read(m, buf, 4096)) > 0)
        for (size_t i = 0; i < got; i++)
            hput32(&t->hs, (uint32_t)(int32_t)buf[i]);
    finish(t, m);
}

enum { P_RAMP, P_FIX0, P_FIX1, P_FIXMID, P_SAT, P_NPROG };
static const char *prog_name[P_NPROG] = {"ramp", "fix0", "fix1", "fixmid", "sat"};
static const char *int_name[3] = {"EM", "LM", "UD"};

static uint64_t one_case(tspu_integrator integ, unsigned n, int prog)
{
    static double A0[TSPU_N_MAX * TSPU_N_MAX], A1[TSPU_N_MAX * TSPU_N_MAX];
    double b0[TSPU_N_MAX], b1[TSPU_N_MAX];
    spd(n, A0, 1.0);
    spd(n, A1, 2.0);
    for (unsigned i = 0; i < n; i++) {
        b0[i] = 2 * urand() - 1;
        b1[i] = 3 * urand() - 1.5;
    }
    tspu_problem pr = {.n = n, .A0 = A0, .b0 = b0, .A1 = A1, .b1 = b1, .beta = 1.0,
                       .h = 0.02, .integrator = integ, .gamma = 1.0, .mass = 1.0,
                       .x_range = 8.0};
    if (prog == P_FIX0)
        pr.A1 = pr.b1 = NULL;
    tspu_mapping mp;
    tspu_model_config cfg = tspu_model_default_config();
    char err[200];
    if (tspu_map_problem(&pr, &mp, &cfg, err, sizeof err)) {
        fprintf(stderr, "model_golden: %s\n", err);
        exit(2);
    }
    const size_t fifo = prog == P_RAMP ? 6 * n + 1 : 0;
    tspu_model *m = tspu_model_create(n, fifo);
    trace t = {.hs = {0xCBF29CE484222325ull}, .n = n};
    tspu_model_set_observer(m, observe, &t);
    tspu_model_seed(m, 1000 + 17 * n + 3 * (unsigned)integ + (unsigned)prog);

    int16_t a[2][TSPU_N_MAX * TSPU_N_MAX];
    int32_t b[2][TSPU_N_MAX];
    memcpy(a, mp.a, sizeof a);
    memcpy(b, mp.b, sizeof b);
    if (prog == P_SAT) {
        /* raw integers: big couplings, little shift, loud noise, so every
         * clamp in the step is exercised */
        for (int s = 0; s < 2; s++) {
            for (unsigned i = 0; i < n * n; i++)
                a[s][i] = (int16_t)(rnd() >> 48);
            for (unsigned i = 0; i < n; i++)
                b[s][i] = (int32_t)(rnd() >> 32);
        }
        cfg.drift_shift = (unsigned)(rnd() % 20);
        cfg.noise_shift = 20;
        if (integ == TSPU_INT_UD) {
            cfg.ka = (int16_t)(rnd() >> 48);
            cfg.ka_shift = 3;
            cfg.ko = (int16_t)(rnd() >> 48);
            cfg.ko_shift = 5;
        }
    }
    tspu_model_load_couplings(m, 0, a[0], b[0]);
    if (prog != P_FIX0)
        tspu_model_load_couplings(m, 1, a[1], b[1]);

    int32_t x0[TSPU_N_MAX], p0[TSPU_N_MAX];
    for (unsigned i = 0; i < n; i++) {
        x0[i] = (int32_t)(rnd() >> 34);
        p0[i] = (int32_t)(rnd() >> 36);
    }
    tspu_model_set_state(m, x0, integ == TSPU_INT_UD ? p0 : NULL);

    cfg.thin = 1;
    cfg.n_samples = 300;
    cfg.burnin = 40;
    cfg.sample_momentum = integ == TSPU_INT_UD;
    switch (prog) {
    case P_RAMP:
        cfg.lambda_init = 0x10000000u;
        cfg.thin = 3;
        cfg.n_segments = 6;
        cfg.seg[0] = (tspu_segment){200, 0x00400000};
        cfg.seg[1] = (tspu_segment){0, 0x12345678};
        cfg.seg[2] = (tspu_segment){77, -0x00123456};
        cfg.seg[3] = (tspu_segment){150, 0x01000000}; /* overshoots 1: clamps */
        cfg.seg[4] = (tspu_segment){60, 0};
        cfg.seg[5] = (tspu_segment){90, -0x02000000}; /* undershoots 0: clamps */
        break;
    case P_FIX0:
        cfg.lambda_init = 0;
        break;
    case P_FIX1:
        cfg.lambda_init = TSPU_LAMBDA_ACC_ONE;
        cfg.thin = 2;
        break;
    case P_FIXMID:
        cfg.lambda_init = 0x2AAAAAAAu;
        break;
    case P_SAT:
        cfg.lambda_init = 0x40000000u;
        cfg.n_segments = 1;
        cfg.seg[0] = (tspu_segment){100, 0x00300000};
        break;
    }
    if (tspu_model_configure(m, &cfg)) {
        fprintf(stderr, "model_golden: bad config\n");
        exit(2);
    }
    run_program(&t, m, 13, prog == P_RAMP ? 5 : 1);
    /* a second start: state, seeds and LM noise memory carry over */
    cfg.burnin = 0;
    cfg.n_samples = 100;
    tspu_model_configure(m, &cfg);
    run_program(&t, m, 1000, 1);
    if (getenv("GOLDEN_VERBOSE")) {
        tspu_status st;
        tspu_model_read_status(m, &st);
        fprintf(stderr, "%s N=%u %s: steps %llu flags %#x sat %u dropped %u work %lld\n",
                int_name[integ], n, prog_name[prog], (unsigned long long)t.steps, st.flags,
                st.sat_count, st.fifo_dropped, (long long)tspu_model_read_work(m));
    }
    tspu_model_destroy(m);
    hput64(&t.hs, t.steps);
    return t.hs.h;
}

int main(int argc, char **argv)
{
    static const unsigned ns[] = {2, 8, 16, 64};
    char out[64 * 1024];
    size_t len = 0;
    hash64 all = {0xCBF29CE484222325ull};
    for (int integ = 0; integ < 3; integ++)
        for (unsigned k = 0; k < sizeof ns / sizeof ns[0]; k++)
            for (int prog = 0; prog < P_NPROG; prog++) {
                uint64_t h = one_case((tspu_integrator)integ, ns[k], prog);
                hput64(&all, h);
                len += (size_t)snprintf(out + len, sizeof out - len, "%s N=%-2u %-6s %016llx\n",
                                        int_name[integ], ns[k], prog_name[prog],
                                        (unsigned long long)h);
            }
    len += (size_t)snprintf(out + len, sizeof out - len, "total %016llx\n",
                            (unsigned long long)all.h);
    if (argc < 2) {
        fputs(out, stdout);
        return 0;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        fprintf(stderr, "model_golden: cannot open %s\n", argv[1]);
        return 2;
    }
    static char want[64 * 1024];
    size_t wl = fread(want, 1, sizeof want - 1, f);
    fclose(f);
    want[wl] = 0;
    if (wl != len || memcmp(want, out, len) != 0) {
        fputs(out, stdout);
        fprintf(stderr, "model_golden: MISMATCH with %s\n", argv[1]);
        return 1;
    }
    printf("model_golden: all %zu hashes match %s\n", (size_t)(3 * 4 * P_NPROG), argv[1]);
    return 0;
}
