/*
 * model_bench.c - speed of the bit-exact C model (the "model" device).
 *
 * For each N it maps one random SPD problem (A = I + off-diagonal noise,
 * diagonally dominant, h = 0.05, beta = 1) with tspu_map_problem for the
 * Euler-Maruyama integrator and times the real workload of a sampling run:
 * fixed lambda (one coupling set), every step kept (thin 1) into the moment
 * accumulators and the sample FIFO, the FIFO drained by the host as it fills.
 * The best of several repetitions is reported (the least disturbed one).
 *
 *   model_bench [N ...]            one JSON object per line per N:
 *       {"n":8,"steps_per_s":...,"lane_updates_per_s":...,"ns_per_step":...}
 *   model_bench --problem N FILE   write the same problem, as the real
 *       numbers the integers encode (A_eff, b_eff, h, beta), for the numpy
 *       baseline: line 1 "n h beta", then n rows of A, then one row of b.
 *
 * lane-updates/s = steps/s * N: one lane-update is one coordinate advanced by
 * one step, the unit the numpy baseline is counted in too.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tspu_fixmap.h"
#include "tspu_model.h"

#define H_STEP 0.05
#define BETA 1.0
#define REPS 5
#define MIN_SECONDS 0.25 /* per repetition */

static uint64_t rng_s;
static double urand(void) /* xorshift64*, uniform in [0, 1) */
{
    rng_s ^= rng_s >> 12;
    rng_s ^= rng_s << 25;
    rng_s ^= rng_s >> 27;
    return (double)((rng_s * 2685821657736338717ull) >> 11) * 0x1p-53;
}

/* the benchmark problem for n, mapped for EM; the same for every caller */
static void make_problem(unsigned n, tspu_mapping *mp, tspu_model_config *cfg)
{
    static double A[TSPU_N_MAX * TSPU_N_MAX];
    double b[TSPU_N_MAX];
    rng_s = 0x9E3779B97F4A7C15ull ^ n;
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < i; j++)
            A[i * n + j] = A[j * n + i] = (2 * urand() - 1) / n;
    for (unsigned i = 0; i < n; i++) {
        double s = 1.0;
        for (unsigned j = 0; j < n; j++)
            if (j != i)
                s += A[i * n + j] < 0 ? -A[i * n + j] : A[i * n + j];
        A[i * n + i] = s; /* eigenvalues in [1, 3]: h * lambda_max = 0.15 */
        b[i] = 2 * urand() - 1;
    }
    tspu_problem pr = {.n = n, .A0 = A, .b0 = b, .beta = BETA, .h = H_STEP,
                       .integrator = TSPU_INT_EM, .x_range = 8.0};
    *cfg = tspu_model_default_config();
    char err[200];
    if (tspu_map_problem(&pr, mp, cfg, err, sizeof err)) {
        fprintf(stderr, "model_bench: N=%u: %s\n", n, err);
        exit(1);
    }
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* one timed sampling run of `steps` steps; returns seconds */
static double timed_run(tspu_model *m, tspu_model_config *cfg, uint32_t steps)
{
    static int16_t sink[1 << 16];
    const size_t cap = tspu_model_fifo_capacity(m);
    const uint64_t chunk = cap / tspu_model_n(m); /* steps that fill the FIFO */
    cfg->burnin = 0;
    cfg->thin = 1;
    cfg->n_samples = steps;
    cfg->n_segments = 0;
    cfg->lambda_init = 0;
    if (tspu_model_configure(m, cfg)) {
        fprintf(stderr, "model_bench: bad configuration\n");
        exit(1);
    }
    double t0 = now();
    tspu_model_start(m);
    while (!tspu_model_done(m)) {
        tspu_model_run(m, chunk);
        while (tspu_model_fifo_read(m, sink, sizeof sink / sizeof sink[0]) > 0) {
        }
    }
    double t = now() - t0;
    tspu_status st;
    tspu_model_read_status(m, &st);
    if (st.steps != steps || (st.flags & (TSPU_FLAG_SATURATED | TSPU_FLAG_FIFO_OVERFLOW))) {
        fprintf(stderr, "model_bench: unexpected run (steps %llu, flags %#x)\n",
                (unsigned long long)st.steps, st.flags);
        exit(1);
    }
    return t;
}

static void bench(unsigned n)
{
    tspu_mapping mp;
    tspu_model_config cfg;
    make_problem(n, &mp, &cfg);
    tspu_model *m = tspu_model_create(n, 8192);
    tspu_model_load_couplings(m, 0, mp.a[0], mp.b[0]);
    tspu_model_seed(m, 42);
    /* warm up and calibrate: grow the run until it takes MIN_SECONDS */
    uint32_t steps = 10000;
    for (;;) {
        double t = timed_run(m, &cfg, steps);
        if (t >= MIN_SECONDS || steps >= 400000000u)
            break;
        double want = steps * (MIN_SECONDS * 1.2 / (t > 1e-4 ? t : 1e-4));
        steps = want > 4e8 ? 400000000u : (uint32_t)want;
    }
    double best = 1e300;
    for (int r = 0; r < REPS; r++) {
        double t = timed_run(m, &cfg, steps);
        if (t < best)
            best = t;
    }
    tspu_model_destroy(m);
    const double sps = steps / best;
    printf("{\"n\": %u, \"steps_per_s\": %.6g, \"lane_updates_per_s\": %.6g, "
           "\"ns_per_step\": %.4g, \"steps_timed\": %u, \"repetitions\": %d}\n",
           n, sps, sps * n, 1e9 / sps, steps, REPS);
    fflush(stdout);
}

static int write_problem(unsigned n, const char *path)
{
    tspu_mapping mp;
    tspu_model_config cfg;
    make_problem(n, &mp, &cfg);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "model_bench: cannot write %s\n", path);
        return 1;
    }
    fprintf(f, "%u %.17g %.17g\n", n, H_STEP, BETA);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++)
            fprintf(f, "%.17g%c", mp.A_eff[0][i * n + j], j + 1 == n ? '\n' : ' ');
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "%.17g%c", mp.b_eff[0][i], i + 1 == n ? '\n' : ' ');
    return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--problem") == 0)
        return write_problem((unsigned)atoi(argv[2]), argv[3]);
    static const unsigned def[] = {8, 16, 32, 64};
    if (argc < 2) {
        for (unsigned k = 0; k < sizeof def / sizeof def[0]; k++)
            bench(def[k]);
        return 0;
    }
    for (int k = 1; k < argc; k++) {
        int n = atoi(argv[k]);
        if (n < TSPU_N_MIN || n > TSPU_N_MAX) {
            fprintf(stderr, "model_bench: N must be %d..%d\n", TSPU_N_MIN, TSPU_N_MAX);
            return 2;
        }
        bench((unsigned)n);
    }
    return 0;
}
