/*
 * algo_bench.c - error vs emulated device time of tspu solve and inv
 * (libtspualgo on the "model" device), beside LAPACK on the host.
 * Run by bench/algo_bench.sh (from bench/run.sh, `make bench`).
 *
 *   algo_bench [N ...]        (default: 8 16)  ->  one JSON object on stdout
 *
 * Per N: one random SPD problem, A = Q diag(l) Q^T with Q from the QR of a
 * Gaussian matrix and l log-spaced from 1 to KAPPA = 100 (condition number
 * 100), b Gaussian; GSL mt19937 with a fixed seed per N, noise seeds fixed
 * per rung, so every run gives the same numbers (apart from the timings).
 *
 * Device: "model?n=N&p=P_MACS" - the bit-exact C model of the unit (its
 * step counts are the RTL's), with P = 8 multipliers as in the synthesised
 * gateware (docs/benchmarks.md, RTL section).  device_seconds is the
 * library's steps x cycles_per_step / clock_hz, both read from the device
 * (tspu_get_info); they are reported beside the rows.
 *
 * Per N and op (solve, inv), a ladder of sample counts (x4 per rung; the
 * planner chooses h, beta, burn-in and thinning, --samples overrides only
 * the count): the estimate is compared with LAPACK's answer of the float
 * problem (dposv; dpotrf + dpotri) -
 *   rel_error        ||est - ref||_F / ||ref||_F
 *   rel_error_max    max|est - ref| / max|ref|
 *   rel_stderr       sqrt(sum se^2) / ||ref||_F  (the Frobenius error the
 *                    reported standard errors predict)
 *   rel_error_quant  ||est - ref_q||_F / ||ref_q||_F against the answer of
 *                    the quantised problem the unit runs (result.A_eff/b_eff)
 * and the quantisation floor ||ref_q - ref||_F / ||ref||_F once per problem.
 * LAPACK is timed on the same problem (copy in + dposv, or copy in + dpotrf
 * + dpotri), best of BEST_OF batches of enough repetitions for >= 5 ms.
 */
#define _POSIX_C_SOURCE 199309L
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "tspu_algo.h"

#define NMAX 16
#define KAPPA 100.0
#define P_MACS 8
#define BEST_OF 15
#define REPEATS 4

static const uint64_t LADDER[] = {25000, 100000, 400000, 1600000, 6400000, 25600000};
#define NLADDER (sizeof LADDER / sizeof LADDER[0])

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- problem and LAPACK references ------------------------------------------------ */
/* the problems and LAPACK calls of the tests (tests/ref_spd.h) */
#define REF_SPD_NMAX NMAX
#include "../tests/ref_spd.h"

/* best-of-BEST_OF seconds per call of dposv (op 0) or dpotrf + dpotri (op 1),
 * copies of the inputs included (LAPACK overwrites them) */
static volatile double sink;
static double time_lapack(int op, unsigned n, const double *A, const double *b)
{
    double x[NMAX], X[NMAX * NMAX];
    long reps = 1;
    for (;;) { /* calibrate: reps for >= 5 ms */
        double t0 = now();
        for (long r = 0; r < reps; r++)
            op ? ref_spd_inverse_upper(n, A, X) : ref_spd_solve(n, A, b, x);
        if (now() - t0 >= 0.005)
            break;
        reps *= 2;
    }
    double best = 1e30;
    for (int k = 0; k < BEST_OF; k++) {
        double t0 = now();
        for (long r = 0; r < reps; r++) {
            op ? ref_spd_inverse_upper(n, A, X) : ref_spd_solve(n, A, b, x);
            sink += op ? X[0] : x[0];
        }
        double t = (now() - t0) / (double)reps;
        if (t < best)
            best = t;
    }
    return best;
}

static double frob(size_t k, const double *v)
{
    double s = 0;
    for (size_t i = 0; i < k; i++)
        s += v[i] * v[i];
    return sqrt(s);
}

static double frob_diff(size_t k, const double *a, const double *b)
{
    double s = 0;
    for (size_t i = 0; i < k; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

static double maxabs_rel(size_t k, const double *a, const double *ref)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < k; i++) {
        d = fmax(d, fabs(a[i] - ref[i]));
        m = fmax(m, fabs(ref[i]));
    }
    return d / m;
}

static void quiet(void *ctx, int level, const char *line)
{
    (void)ctx;
    if (level == TSPU_ALGO_LOG_WARN)
        fprintf(stderr, "algo_bench: warning: %s\n", line);
}

/* ---- one N ------------------------------------------------------------------------ */
static int bench_n(unsigned n, int *first_row)
{
    char spec[64], err[256];
    snprintf(spec, sizeof spec, "model?n=%u&p=%u", n, P_MACS);
    tspu_dev *d;
    if (tspu_open(&d, spec)) {
        fprintf(stderr, "algo_bench: open %s: %s\n", spec, tspu_last_error(NULL));
        return 1;
    }
    tspu_info info;
    if (tspu_get_info(d, &info)) {
        fprintf(stderr, "algo_bench: info %s: %s\n", spec, tspu_last_error(d));
        tspu_close(d);
        return 1;
    }

    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, 4200 + n);
    double A[NMAX * NMAX], b[NMAX], ref_x[NMAX], ref_inv[NMAX * NMAX];
    ref_make_spd(g, n, KAPPA, A);
    for (unsigned i = 0; i < n; i++)
        b[i] = gsl_ran_gaussian(g, 1.0);
    gsl_rng_free(g);
    if (ref_spd_solve(n, A, b, ref_x) || ref_spd_inverse(n, A, ref_inv)) {
        fprintf(stderr, "algo_bench: LAPACK failed on the N=%u problem\n", n);
        tspu_close(d);
        return 1;
    }
    double lap_t[2] = {time_lapack(0, n, A, b), time_lapack(1, n, A, b)};

    int rc = 0;
    for (int op = 0; op < 2 && !rc; op++) {
        const size_t k = op ? (size_t)n * n : n;
        const double *ref = op ? ref_inv : ref_x;
        const double refF = frob(k, ref);
        for (unsigned s = 0; s < NLADDER && !rc; s++) {
            /* REPEATS independent runs (noise seeds) per rung: errors are RMS over them */
            unsigned flags = 0;
            double e2 = 0, emax = 0, se2 = 0, eq2 = 0, qf = 0, wall = 0, errs[REPEATS];
            tspu_algo_result r;
            for (unsigned rep = 0; rep < REPEATS; rep++) {
                tspu_algo_opts o;
                tspu_algo_opts_init(&o);
                o.samples = LADDER[s];
                o.seed = 100000 * (uint64_t)n + 10000 * (uint64_t)op + 100 * (uint64_t)s + rep;
                o.log = quiet;
                int e = op ? tspu_algo_inv(d, n, A, &o, &r, err, sizeof err)
                           : tspu_algo_solve(d, n, A, b, &o, &r, err, sizeof err);
                if (e) {
                    fprintf(stderr, "algo_bench: %s N=%u samples=%llu: %s\n", op ? "inv" : "solve", n,
                            (unsigned long long)LADDER[s], err);
                    rc = 1;
                    break;
                }
                double ref_q[NMAX * NMAX];
                if (op ? ref_spd_inverse(n, r.A_eff, ref_q) : ref_spd_solve(n, r.A_eff, r.b_eff, ref_q)) {
                    fprintf(stderr, "algo_bench: LAPACK failed on the quantised problem\n");
                    rc = 1;
                    tspu_algo_result_free(&r);
                    break;
                }
                errs[rep] = frob_diff(k, r.estimate, ref) / refF;
                e2 += errs[rep] * errs[rep];
                emax += maxabs_rel(k, r.estimate, ref);
                se2 += pow(frob(k, r.std_err) / refF, 2);
                eq2 += pow(frob_diff(k, r.estimate, ref_q) / frob(k, ref_q), 2);
                qf = fmax(qf, frob_diff(k, ref_q, ref) / refF);
                wall += r.wall_seconds;
                flags |= r.flags;
                if (rep + 1 < REPEATS)
                    tspu_algo_result_free(&r);
            }
            if (rc)
                break;
            printf("%s\n    {\"n\": %u, \"op\": \"%s\", \"samples\": %llu, \"steps\": %llu, "
                   "\"device_seconds\": %.9g, \"wall_seconds\": %.6g, \"rel_error\": %.6g, "
                   "\"rel_error_max\": %.6g, \"rel_stderr\": %.6g, \"rel_error_quant\": %.6g, "
                   "\"quant_floor\": %.6g, \"lapack_seconds\": %.6g, \"lapack_routine\": \"%s\", "
                   "\"repeats\": %u, \"rel_error_runs\": [",
                   *first_row ? "" : ",", n, op ? "inv" : "solve", (unsigned long long)r.samples,
                   (unsigned long long)r.steps, r.device_seconds, wall / REPEATS, sqrt(e2 / REPEATS),
                   emax / REPEATS, sqrt(se2 / REPEATS), sqrt(eq2 / REPEATS), qf, lap_t[op],
                   op ? "dpotrf+dpotri" : "dposv", REPEATS);
            for (unsigned rep = 0; rep < REPEATS; rep++)
                printf("%s%.6g", rep ? ", " : "", errs[rep]);
            printf("], \"cycles_per_step\": %u, \"clock_hz\": %u, \"p_macs\": %u, "
                   "\"dt\": %.6g, \"beta\": %.6g, \"burnin\": %llu, \"thin\": %u, \"batches\": %u, "
                   "\"relax_steps\": %.6g, \"flags\": %u, \"device\": \"%s\"}",
                   info.cycles_per_step, info.clock_hz, info.p, r.plan.h, r.plan.beta,
                   (unsigned long long)r.plan.burnin, r.plan.thin, r.plan.batches * r.plan.chains,
                   r.plan.relax_steps, flags, r.device);
            fflush(stdout);
            *first_row = 0;
            fprintf(stderr, "  N=%-2u %-5s samples %9llu: rel. error %.3g (stderr predicts %.3g), %.4g s device, "
                            "%.3g s wall\n",
                    n, op ? "inv" : "solve", (unsigned long long)r.samples, sqrt(e2 / REPEATS),
                    sqrt(se2 / REPEATS), r.device_seconds, wall / REPEATS);
            tspu_algo_result_free(&r);
        }
    }
    tspu_close(d);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned ns[8], nn = 0;
    for (int i = 1; i < argc && nn < 8; i++) {
        char *end;
        unsigned long v = strtoul(argv[i], &end, 10);
        if (*end || v < 2 || v > NMAX) {
            fprintf(stderr, "usage: algo_bench [N ...]  (2 <= N <= %d; default 8 16)\n", NMAX);
            return 2;
        }
        ns[nn++] = (unsigned)v;
    }
    if (!nn) {
        ns[nn++] = 8;
        ns[nn++] = 16;
    }
    printf("{\"benchmark\": \"algo\", \"kappa\": %g, \"lapack_best_of\": %d, \"repeats\": %d, \"rows\": [",
           KAPPA, BEST_OF, REPEATS);
    int first = 1, rc = 0;
    for (unsigned i = 0; i < nn && !rc; i++)
        rc = bench_n(ns[i], &first);
    printf("\n]}\n");
    return rc;
}
