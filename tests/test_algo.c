/*
 * test_algo.c - accuracy suite of libtspualgo (tspu_algo.h) on the "model"
 * device, through the device API exactly as the CLI uses it.
 *
 * What is tested
 *   1. SPD suite: A = Q diag(l) Q^T (Q from the QR of a Gaussian matrix,
 *      l log-spaced 1..kappa), N in {4, 8, 16}, kappa in {10, 100, 1000},
 *      b Gaussian, fixed seeds (GSL mt19937).  solve, inv and logdet.
 *      Each estimate is compared with the exact answer of the QUANTISED
 *      problem the unit runs (result.A_eff / b_eff; LAPACKE dposv, dpotrf,
 *      dpotri): every entry within 4 of its reported standard errors.  The
 *      distance between the quantised and the float problem's answers
 *      (quantisation error) is printed separately, beside the library's
 *      first-order prediction result.quant_err (it is not part of std_err;
 *      docs/algorithms.md).
 *   2. lyap: stable non-symmetric A (SPD part + skew part), D = 2I and a
 *      general SPD D, and a strongly non-normal A whose first x_range guess
 *      saturates (exercises the retry).  Compared with the exact stationary
 *      covariance of the discrete LM scheme run on the unit (discrete
 *      Lyapunov equation, Kronecker form, LAPACKE dgesv), transformed as the
 *      estimator does; the continuous solution A S + S A^T = D is printed
 *      with the discretisation bias the planner predicted.
 *   3. expm: symmetric and non-symmetric stable A: compared with the exact
 *      lag-k map (I - h A_eff)^k (matrix powers) for calibration, and with
 *      exp(-A_eff) (GSL gsl_linalg_exponential_ss) within 4 se + 2 x the
 *      predicted bias.
 *   4. Calibration over every z-score of the suite: the fraction within 2
 *      standard errors must lie in [0.90, 0.985] (nominal 0.954; the band
 *      allows for the correlation of the entries of one matrix and for the
 *      ~2 % spread of batch-means error bars).
 *   5. Twins: each check is run against a wrong answer and must fail:
 *      solve and inv against the answer of (1 + 4 tol) A_eff (wrong by 4 tol
 *      relative: the planner promises z * se <= tol * max|answer|, so the
 *      largest entry is off by >= 4 z standard errors), logdet against
 *      log det + 6 se, calibration with halved and with doubled error bars.
 *   6. Input checks: not symmetric, not positive definite (Cholesky), not
 *      stable (dgeev), non-finite, N larger than the device, quantisation
 *      destroys positive definiteness (kappa = 1e7): each a one-line error.
 *      A cancel callback ends a run with TSPU_ALGO_E_CANCELLED.
 *   7. Error mitigation: kappa = 1000 inv with --mitigate (stochastic
 *      rounding per chain, 8 chains) against the UNquantised A^-1.
 *   7b. Error mitigation for logdet (mean of per-chain BAR) and expm (pooled
 *      lag covariances): diagonal problems built so that deterministic
 *      rounding is visibly biased; unmitigated must miss the UNquantised
 *      answer by > 4 se (the twin), mitigated must hit it within 4 se.
 *   8. The underdamped integrator (BAOAB, friction 2 sqrt(lambda_min)) for
 *      solve and inv at kappa = 1000 (its z-scores join the calibration).
 *   9. Several devices (opts.more_devs): 4 chains on two model devices equal
 *      the same chains on one, bit for bit (inv, inv --mitigate, logdet,
 *      expm; twin: other seeds differ), within 4 se of the exact answer,
 *      device time halved; a device too small for N and a repeated handle
 *      are one-line errors.
 * Usage: test_algo [SECTION...] runs only the named sections (spd lyap expm
 * ud calibration input mitigation mitigation2 multi extrapolate).
 */
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "tspu_algo.h"
#include "tt.h"

#define NMAX 16

/* ---- all z-scores, for the calibration check ------------------------------------ */
static double *zs;
static int *zfam, cur_fam;
static size_t nz, zcap;
static const char *fam_names[] = {"solve", "inv", "logdet", "lyap", "expm"};
static void zpush(double z)
{
    if (nz == zcap) {
        zcap = zcap ? 2 * zcap : 1024;
        zs = realloc(zs, zcap * sizeof *zs);
        zfam = realloc(zfam, zcap * sizeof *zfam);
    }
    zfam[nz] = cur_fam;
    zs[nz++] = z;
}

static double zscan(size_t k, const double *est, const double *se, const double *ref, double scale_se, int push)
{
    double zmax = 0;
    for (size_t i = 0; i < k; i++) {
        double z = (est[i] - ref[i]) / (se[i] * scale_se);
        if (push)
            zpush(z);
        zmax = fmax(zmax, fabs(z));
    }
    return zmax;
}

/* ---- problems --------------------------------------------------------------------- */
/* make_spd and the LAPACK references: tests/ref_spd.h (shared with bench/algo_bench.c) */
#define REF_SPD_NMAX NMAX
#include "ref_spd.h"

static double la_maxabs_test(size_t k, const double *v)
{
    double m = 0;
    for (size_t i = 0; i < k; i++)
        m = fmax(m, fabs(v[i]));
    return m;
}

static double rel_diff(size_t k, const double *a, const double *b)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < k; i++) {
        d = fmax(d, fabs(a[i] - b[i]));
        m = fmax(m, fabs(b[i]));
    }
    return d / m;
}

static void quiet(void *ctx, int level, const char *line)
{
    (void)ctx;
    if (level == TSPU_ALGO_LOG_WARN)
        printf("  # warning: %s\n", line);
}

static tspu_algo_opts opts(double tol, uint64_t seed)
{
    tspu_algo_opts o;
    tspu_algo_opts_init(&o);
    o.tol = tol;
    o.seed = seed;
    o.log = quiet;
    return o;
}

static int open_model(tspu_dev **d, unsigned n)
{
    char spec[64];
    snprintf(spec, sizeof spec, "model?n=%u", n);
    int rc = tspu_open(d, spec);
    if (rc)
        printf("FAIL: open %s -- %s\n", spec, tspu_last_error(NULL));
    return rc;
}

static double total_wall, total_dev;

/* ---- 1. SPD suite --------------------------------------------------------------------- */
static void spd_suite(void)
{
    static const unsigned Ns[] = {4, 8, 16};
    static const double kappas[] = {10, 100, 1000};
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    int twin_solve_caught = 0, twin_inv_caught = 0, twin_ld_caught = 0, twins = 0;
    for (unsigned a = 0; a < 3; a++) {
        const unsigned n = Ns[a];
        tspu_dev *d;
        if (open_model(&d, n))
            continue;
        for (unsigned c = 0; c < 3; c++) {
            const double kappa = kappas[c];
            gsl_rng_set(g, 1000 + 10 * n + c);
            double A[NMAX * NMAX], b[NMAX], ref[NMAX * NMAX], ref0[NMAX * NMAX], refw[NMAX * NMAX];
            ref_make_spd(g, n, kappa, A);
            for (unsigned i = 0; i < n; i++)
                b[i] = gsl_ran_gaussian(g, 1.0) * sqrt(kappa);
            char name[128], err[256];
            tspu_algo_result r;
            uint64_t seed = 77 + 3 * n + c;

            /* solve */
            cur_fam = 0;
            tspu_algo_opts o = opts(0.01, seed);
            snprintf(name, sizeof name, "solve N=%u kappa=%g", n, kappa);
            if (tspu_algo_solve(d, n, A, b, &o, &r, err, sizeof err)) {
                tt_check(0, name, "%s", err);
            } else {
                ref_spd_solve(n, r.A_eff, r.b_eff, ref);
                ref_spd_solve(n, A, b, ref0);
                double zmax = zscan(n, r.estimate, r.std_err, ref, 1, 1);
                double qpred = 0;
                for (unsigned i = 0; i < n; i++)
                    qpred = fmax(qpred, fabs(r.quant_err[i]));
                tt_check(zmax < 4 && !(r.flags & TSPU_ALGO_FLAG_SATURATED), name,
                         "max |z| = %.2f vs the quantised problem's answer (flags %u)", zmax, r.flags);
                tt_note("%s: max|z| %.2f, rel. stat. error %.2g, quantisation error %.2g (predicted %.2g), %llu steps, "
                        "%.3f s device, %.3f s wall",
                        name, zmax, rel_diff(n, r.estimate, ref), rel_diff(n, ref, ref0),
                        qpred / la_maxabs_test(n, ref0), (unsigned long long)r.steps, r.device_seconds,
                        r.wall_seconds);
                total_wall += r.wall_seconds;
                total_dev += r.device_seconds;
                /* twin: the answer of (1 + 4 tol) A_eff, wrong by 4 tol relative */
                for (unsigned i = 0; i < n; i++)
                    refw[i] = ref[i] / (1 + 4 * o.tol);
                twins++;
                twin_solve_caught += zscan(n, r.estimate, r.std_err, refw, 1, 0) >= 4;
                tspu_algo_result_free(&r);
            }

            /* inv */
            cur_fam = 1;
            o = opts(0.03, seed + 1000);
            snprintf(name, sizeof name, "inv N=%u kappa=%g", n, kappa);
            if (tspu_algo_inv(d, n, A, &o, &r, err, sizeof err)) {
                tt_check(0, name, "%s", err);
            } else {
                ref_spd_inverse(n, r.A_eff, ref);
                ref_spd_inverse(n, A, ref0);
                double zmax = zscan((size_t)n * n, r.estimate, r.std_err, ref, 1, 0);
                for (unsigned i = 0; i < n; i++) /* calibration: the upper triangle */
                    for (unsigned j = i; j < n; j++)
                        zpush((r.estimate[i * n + j] - ref[i * n + j]) / r.std_err[i * n + j]);
                double qpred = la_maxabs_test((size_t)n * n, r.quant_err);
                tt_check(zmax < 4 && !(r.flags & TSPU_ALGO_FLAG_SATURATED), name,
                         "max |z| = %.2f vs the quantised problem's answer (flags %u)", zmax, r.flags);
                tt_note("%s: max|z| %.2f, rel. stat. error %.2g, quantisation error %.2g (predicted %.2g), %llu steps, "
                        "%.3f s device, %.3f s wall",
                        name, zmax, rel_diff((size_t)n * n, r.estimate, ref), rel_diff((size_t)n * n, ref, ref0),
                        qpred / la_maxabs_test((size_t)n * n, ref0), (unsigned long long)r.steps, r.device_seconds,
                        r.wall_seconds);
                total_wall += r.wall_seconds;
                total_dev += r.device_seconds;
                for (unsigned i = 0; i < n * n; i++)
                    refw[i] = ref[i] / (1 + 4 * o.tol);
                twin_inv_caught += zscan((size_t)n * n, r.estimate, r.std_err, refw, 1, 0) >= 4;
                tspu_algo_result_free(&r);
            }

            /* logdet */
            cur_fam = 2;
            o = opts(0.05, seed + 2000);
            snprintf(name, sizeof name, "logdet N=%u kappa=%g", n, kappa);
            if (tspu_algo_logdet(d, n, A, &o, &r, err, sizeof err)) {
                tt_check(0, name, "%s", err);
            } else {
                double lq = ref_spd_logdet(n, r.A_eff), l0 = ref_spd_logdet(n, A);
                double z = (r.estimate[0] - lq) / r.std_err[0];
                zpush(z);
                tt_check(fabs(z) < 4 && !(r.flags & TSPU_ALGO_FLAG_SATURATED), name,
                         "z = %.2f (estimate %.5f +- %.5f, quantised answer %.5f, flags %u)", z, r.estimate[0],
                         r.std_err[0], lq, r.flags);
                tt_note("%s: %.5f +- %.5f (z %.2f), Jarzynski %.5f +- %.5f, exact %.5f, quantisation %.2g (predicted "
                        "%.2g), %u ramp pairs of %llu steps, %llu steps, %.3f s wall",
                        name, r.estimate[0], r.std_err[0], z, r.logdet_jarzynski, r.logdet_jarzynski_se, l0, lq - l0,
                        r.quant_err[0], r.plan.ramp_pairs, (unsigned long long)r.plan.ramp_steps,
                        (unsigned long long)r.steps, r.wall_seconds);
                total_wall += r.wall_seconds;
                total_dev += r.device_seconds;
                twin_ld_caught += fabs(r.estimate[0] - (lq + 6 * r.std_err[0])) / r.std_err[0] >= 4;
                tspu_algo_result_free(&r);
            }
        }
        tspu_close(d);
    }
    tt_check(twin_solve_caught == twins, "twin: solve check fails against the answer of (1 + 4 tol) A_eff",
             "caught %d of %d", twin_solve_caught, twins);
    tt_check(twin_inv_caught == twins, "twin: inv check fails against the answer of (1 + 4 tol) A_eff", "caught %d of %d",
             twin_inv_caught, twins);
    tt_check(twin_ld_caught == twins, "twin: logdet check fails against log det + 6 se", "caught %d of %d",
             twin_ld_caught, twins);
    gsl_rng_free(g);
}

/* ---- 2. lyap ------------------------------------------------------------------------- */
/* solve K vec(X) = vec(Q) for the n^2 x n^2 Kronecker operator given by kop */
static void kron_solve(unsigned n, const double *A, int discrete, const double *Q, double *X)
{
    const unsigned m = n * n;
    double *K = calloc((size_t)m * m, sizeof(double));
    lapack_int *ip = malloc(sizeof(lapack_int) * m);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++)
            for (unsigned k = 0; k < n; k++)
                for (unsigned l = 0; l < n; l++) {
                    double v;
                    if (discrete) /* X - M X M^T */
                        v = (i == k && j == l ? 1.0 : 0.0) - A[i * n + k] * A[j * n + l];
                    else /* A X + X A^T */
                        v = (j == l ? A[i * n + k] : 0.0) + (i == k ? A[j * n + l] : 0.0);
                    K[(size_t)(i * n + j) * m + k * n + l] = v;
                }
    memcpy(X, Q, sizeof(double) * m);
    LAPACKE_dgesv(LAPACK_ROW_MAJOR, (int)m, 1, K, (int)m, ip, X, 1);
    free(K);
    free(ip);
}

/* exact stationary covariance of the LM scheme x' = M x + c (xi + xi'):
 * Cov x = S_y + c^2 I, S_y = M S_y M^T + c^2 (I+M)(I+M)^T (tests/test_model_stats.c) */
static void lm_discrete_cov(unsigned n, const double *A, double h, double beta, double *S)
{
    double M[NMAX * NMAX], Q[NMAX * NMAX];
    const double c2 = h / (2 * beta);
    for (unsigned i = 0; i < n * n; i++)
        M[i] = (i % (n + 1) == 0 ? 1.0 : 0.0) - h * A[i];
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++) {
            double s = 0;
            for (unsigned k = 0; k < n; k++)
                s += (M[i * n + k] + (i == k)) * (M[j * n + k] + (j == k));
            Q[i * n + j] = c2 * s;
        }
    kron_solve(n, M, 1, Q, S);
    for (unsigned i = 0; i < n; i++)
        S[i * n + i] += c2;
}

static void lyap_case(const char *label, unsigned n, const double *A, const double *D, double tol, uint64_t seed,
                      int expect_retry)
{
    tspu_dev *d;
    if (open_model(&d, n))
        return;
    tspu_algo_opts o = opts(tol, seed);
    tspu_algo_result r;
    char err[256], name[128];
    cur_fam = 3;
    snprintf(name, sizeof name, "lyap %s N=%u", label, n);
    if (tspu_algo_lyap(d, n, A, D, &o, &r, err, sizeof err)) {
        tt_check(0, name, "%s", err);
        tspu_close(d);
        return;
    }
    /* exact discrete target of what ran: the transformed At (r.A_eff), then
     * the estimator's transform (beta/2) L S L^T */
    double Sd[NMAX * NMAX], ref[NMAX * NMAX], cont[NMAX * NMAX], Dm[NMAX * NMAX];
    lm_discrete_cov(n, r.A_eff, r.plan.h, r.plan.beta, Sd);
    if (D) {
        double L[NMAX * NMAX], T[NMAX * NMAX];
        memcpy(L, D, sizeof(double) * n * n);
        LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (int)n, L, (int)n);
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = i + 1; j < n; j++)
                L[i * n + j] = 0;
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < n; j++) {
                double s = 0;
                for (unsigned k = 0; k < n; k++)
                    s += L[i * n + k] * Sd[k * n + j];
                T[i * n + j] = s;
            }
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < n; j++) {
                double s = 0;
                for (unsigned k = 0; k < n; k++)
                    s += T[i * n + k] * L[j * n + k];
                ref[i * n + j] = 0.5 * r.plan.beta * s;
            }
        memcpy(Dm, D, sizeof(double) * n * n);
    } else {
        for (unsigned i = 0; i < n * n; i++) {
            ref[i] = r.plan.beta * Sd[i]; /* (beta/2) * 2 */
            Dm[i] = (i % (n + 1) == 0) ? 2.0 : 0.0;
        }
    }
    kron_solve(n, A, 0, Dm, cont);
    double zmax = zscan((size_t)n * n, r.estimate, r.std_err, ref, 1, 1);
    double bias = rel_diff((size_t)n * n, ref, cont);
    double rc_ok = !(r.flags & TSPU_ALGO_FLAG_SATURATED) && (!expect_retry || (r.flags & TSPU_ALGO_FLAG_RETRIED));
    tt_check(zmax < 4 && rc_ok, name, "max |z| = %.2f vs the exact discrete stationary covariance (flags %u)", zmax,
             r.flags);
    /* the continuous answer: within 4 se plus twice the planned bias */
    double worst = 0, scale = la_maxabs_test((size_t)n * n, cont);
    for (unsigned i = 0; i < n * n; i++)
        worst = fmax(worst, fabs(r.estimate[i] - cont[i]) - 4 * r.std_err[i]);
    snprintf(name, sizeof name, "lyap %s N=%u vs continuous A S + S A^T = D", label, n);
    tt_check(worst <= 2 * r.plan.bias_est * scale + 1e-12, name,
             "excess %.3g over 4 se, allowed 2 x bias %.3g (actual discretisation bias %.3g)", worst / scale,
             r.plan.bias_est, bias);
    tt_note("lyap %s N=%u: max|z| %.2f; discretisation bias %.2g relative (planned %.2g), h = %.4g, %llu steps, "
            "retries %u, %.3f s wall",
            label, n, zmax, bias, r.plan.bias_est, r.plan.h, (unsigned long long)r.steps, r.plan.retries,
            r.wall_seconds);
    total_wall += r.wall_seconds;
    tspu_algo_result_free(&r);
    tspu_close(d);
}

static void make_stable(gsl_rng *g, unsigned n, double kappa, double skew, double *A)
{
    ref_make_spd(g, n, kappa, A);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < i; j++) {
            double s = gsl_ran_gaussian(g, skew);
            A[i * n + j] += s;
            A[j * n + i] -= s;
        }
}

static void lyap_suite(void)
{
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    double A[NMAX * NMAX], D[NMAX * NMAX];
    gsl_rng_set(g, 501);
    make_stable(g, 4, 10, 1.0, A);
    lyap_case("D=2I", 4, A, NULL, 0.03, 11, 0);
    gsl_rng_set(g, 502);
    make_stable(g, 8, 10, 1.0, A);
    ref_make_spd(g, 8, 5, D);
    lyap_case("general D", 8, A, D, 0.03, 12, 0);
    /* strongly non-normal: symmetric part indefinite, the first range guess is
     * far too small (stationary variance ~ 600) */
    double B[4] = {1.0, 50.0, 0.0, 1.5};
    lyap_case("non-normal (saturation retry)", 2, B, NULL, 0.03, 13, 1);
    gsl_rng_free(g);
}

/* ---- 3. expm --------------------------------------------------------------------------- */
static void expm_case(const char *label, unsigned n, const double *A, double tol, uint64_t seed)
{
    tspu_dev *d;
    if (open_model(&d, n))
        return;
    tspu_algo_opts o = opts(tol, seed);
    tspu_algo_result r;
    char err[256], name[128];
    cur_fam = 4;
    snprintf(name, sizeof name, "expm %s N=%u", label, n);
    if (tspu_algo_expm(d, n, A, &o, &r, err, sizeof err)) {
        tt_check(0, name, "%s", err);
        tspu_close(d);
        return;
    }
    double P[NMAX * NMAX], M[NMAX * NMAX], T[NMAX * NMAX];
    for (unsigned i = 0; i < n * n; i++) {
        M[i] = (i % (n + 1) == 0 ? 1.0 : 0.0) - r.plan.h * r.A_eff[i];
        P[i] = (i % (n + 1) == 0) ? 1.0 : 0.0;
    }
    for (unsigned t = 0; t < r.plan.lag_steps; t++) {
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < n; j++) {
                double s = 0;
                for (unsigned k = 0; k < n; k++)
                    s += P[i * n + k] * M[k * n + j];
                T[i * n + j] = s;
            }
        memcpy(P, T, sizeof(double) * n * n);
    }
    gsl_matrix *G = gsl_matrix_alloc(n, n), *E = gsl_matrix_alloc(n, n);
    for (unsigned i = 0; i < n * n; i++)
        G->data[i] = -r.A_eff[i];
    gsl_linalg_exponential_ss(G, E, GSL_PREC_DOUBLE);
    double zmax = zscan((size_t)n * n, r.estimate, r.std_err, P, 1, 1);
    tt_check(zmax < 4 && !(r.flags & (TSPU_ALGO_FLAG_SATURATED | TSPU_ALGO_FLAG_FIFO_OVERFLOW)), name,
             "max |z| = %.2f vs (I - h A_eff)^k (flags %u)", zmax, r.flags);
    double worst = 0, bias = 0;
    for (unsigned i = 0; i < n * n; i++) {
        worst = fmax(worst, fabs(r.estimate[i] - E->data[i]) - 4 * r.std_err[i]);
        bias = fmax(bias, fabs(P[i] - E->data[i]));
    }
    snprintf(name, sizeof name, "expm %s N=%u vs exp(-A_eff)", label, n);
    tt_check(worst <= 2 * r.plan.bias_est, name, "excess %.3g over 4 se, allowed 2 x bias %.3g", worst,
             r.plan.bias_est);
    tt_note("expm %s N=%u: max|z| %.2f, bias |(I-hA)^k - exp(-A)| %.2g (planned %.2g), k = %u, thin %u, %llu samples, "
            "%llu steps, %.3f s wall",
            label, n, zmax, bias, r.plan.bias_est, r.plan.lag_steps, r.plan.thin, (unsigned long long)r.samples,
            (unsigned long long)r.steps, r.wall_seconds);
    total_wall += r.wall_seconds;
    gsl_matrix_free(G);
    gsl_matrix_free(E);
    tspu_algo_result_free(&r);
    tspu_close(d);
}

static void expm_suite(void)
{
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    double A[NMAX * NMAX];
    gsl_rng_set(g, 601);
    ref_make_spd(g, 4, 10, A);
    for (unsigned i = 0; i < 16; i++)
        A[i] *= 0.3; /* spectrum 0.3 .. 3 */
    expm_case("symmetric", 4, A, 0.03, 21);
    gsl_rng_set(g, 602);
    make_stable(g, 8, 5, 0.5, A);
    for (unsigned i = 0; i < 64; i++)
        A[i] *= 0.5;
    expm_case("non-symmetric", 8, A, 0.04, 22);
    gsl_rng_free(g);
}

/* ---- 4. calibration ---------------------------------------------------------------------- */
static double frac_within(double k, double scale)
{
    size_t in = 0;
    for (size_t i = 0; i < nz; i++)
        in += fabs(zs[i] / scale) < k;
    return nz ? (double)in / nz : 0;
}

static void calibration(void)
{
    const double lo = 0.90, hi = 0.985;
    double f2 = frac_within(2, 1), f1 = frac_within(1, 1), f3 = frac_within(3, 1), m = 0, v = 0;
    for (size_t i = 0; i < nz; i++)
        m += zs[i] / nz;
    for (size_t i = 0; i < nz; i++)
        v += (zs[i] - m) * (zs[i] - m) / (nz - 1);
    tt_note("calibration over %zu z-scores: within 1 se %.3f (0.683), 2 se %.3f (0.954), 3 se %.3f (0.997); mean z "
            "%.3f, var z %.3f",
            nz, f1, f2, f3, m, v);
    for (int f = 0; f < 5; f++) {
        size_t c = 0, i1 = 0, i2 = 0;
        double vv = 0;
        for (size_t i = 0; i < nz; i++)
            if (zfam[i] == f) {
                c++;
                i1 += fabs(zs[i]) < 1;
                i2 += fabs(zs[i]) < 2;
                vv += zs[i] * zs[i];
            }
        if (c)
            tt_note("  %-6s %4zu z-scores: within 1 se %.3f, within 2 se %.3f, mean z^2 %.3f", fam_names[f], c,
                    (double)i1 / c, (double)i2 / c, vv / c);
    }
    tt_check(f2 >= lo && f2 <= hi, "calibration: fraction within 2 se in [0.90, 0.985]", "%.3f", f2);
    /* twins: the same z-scores with halved / doubled error bars must fail */
    double fh = frac_within(2, 0.5), fd = frac_within(2, 2.0);
    tt_check(!(fh >= lo && fh <= hi), "twin: calibration fails with halved error bars", "%.3f within 2 se", fh);
    tt_check(!(fd >= lo && fd <= hi), "twin: calibration fails with doubled error bars", "%.3f within 2 se", fd);
}

/* ---- 6. input checks ------------------------------------------------------------------------ */
static void expect_err(const char *name, int rc, const char *err, const char *needle)
{
    tt_check(rc == TSPU_ALGO_E_INPUT && strstr(err, needle) && !strchr(err, '\n'), name, "rc %d, message \"%s\"", rc,
             err);
    if (rc == TSPU_ALGO_E_INPUT)
        tt_note("%s -> \"%s\"", name, err);
}

static int cancel_after(void *ctx)
{
    return ++*(int *)ctx > 5;
}

static void input_checks(void)
{
    tspu_dev *d;
    if (open_model(&d, 4))
        return;
    tspu_algo_opts o = opts(0.1, 1);
    tspu_algo_result r;
    char err[256];
    double ns[16] = {2, 1, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2};
    double nspd[16] = {1, 2, 0, 0, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    double unst[16] = {1, 0, 0, 0, 0, -0.5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    double nanA[16] = {1, 0, 0, 0, 0, NAN, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    double b[4] = {1, 1, 1, 1}, binf[4] = {1, INFINITY, 1, 1};
    expect_err("input: solve refuses a non-symmetric A", tspu_algo_solve(d, 4, ns, b, &o, &r, err, sizeof err), err,
               "not symmetric");
    expect_err("input: inv refuses an indefinite A (Cholesky)", tspu_algo_inv(d, 4, nspd, &o, &r, err, sizeof err),
               err, "Cholesky");
    expect_err("input: logdet refuses an indefinite A", tspu_algo_logdet(d, 4, nspd, &o, &r, err, sizeof err), err,
               "positive definite");
    expect_err("input: lyap refuses an unstable A", tspu_algo_lyap(d, 4, unst, NULL, &o, &r, err, sizeof err), err,
               "not stable");
    expect_err("input: expm refuses an unstable A", tspu_algo_expm(d, 4, unst, &o, &r, err, sizeof err), err,
               "not stable");
    expect_err("input: non-finite A", tspu_algo_inv(d, 4, nanA, &o, &r, err, sizeof err), err, "non-finite");
    double I4[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    expect_err("input: non-finite b", tspu_algo_solve(d, 4, I4, binf, &o, &r, err, sizeof err), err, "non-finite");
    double lyD[16] = {1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    expect_err("input: lyap refuses an indefinite D", tspu_algo_lyap(d, 4, I4, lyD, &o, &r, err, sizeof err), err,
               "D must be");
    double A8[64] = {0};
    for (int i = 0; i < 8; i++)
        A8[i * 9] = 1;
    expect_err("input: N larger than the device", tspu_algo_inv(d, 8, A8, &o, &r, err, sizeof err), err,
               "larger than the device");
    /* kappa 1e7: 16-bit couplings cannot hold the small eigenvalue */
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, 9);
    double K[16];
    ref_make_spd(g, 4, 1e7, K);
    expect_err("input: kappa 1e7 is not representable in 16-bit couplings",
               tspu_algo_inv(d, 4, K, &o, &r, err, sizeof err), err, "cannot be represented");
    gsl_rng_free(g);
    /* b = 0: x = 0 exactly, a relative tol is meaningless: pilot only */
    double b0[4] = {0, 0, 0, 0};
    if (tspu_algo_solve(d, 4, I4, b0, &o, &r, err, sizeof err)) {
        tt_check(0, "solve with b = 0", "%s", err);
    } else {
        double zmax = 0;
        for (unsigned i = 0; i < 4; i++)
            zmax = fmax(zmax, fabs(r.estimate[i] / r.std_err[i]));
        tt_check(zmax < 4 && r.plan.batches == 50, "solve with b = 0: x = 0 within 4 se, pilot only",
                 "max |z| %.2f, %u batches", zmax, r.plan.batches);
        tspu_algo_result_free(&r);
    }
    /* a cancel callback stops the run with its own code */
    int polls = 0;
    o.cancel = cancel_after;
    o.cancel_ctx = &polls;
    int rc = tspu_algo_inv(d, 4, I4, &o, &r, err, sizeof err);
    tt_check(rc == TSPU_ALGO_E_CANCELLED && strstr(err, "interrupted"), "cancel: opts.cancel stops a run",
             "rc %d, \"%s\"", rc, err);
    tspu_close(d);
}

/* ---- 7. error mitigation ----------------------------------------------------------------------- */
static void mitigation(void)
{
    const unsigned n = 8;
    tspu_dev *d;
    if (open_model(&d, n))
        return;
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, 1000 + 10 * n + 2); /* the kappa = 1000 problem of the suite */
    double A[NMAX * NMAX], ref0[NMAX * NMAX], refq[NMAX * NMAX];
    ref_make_spd(g, n, 1000, A);
    ref_spd_inverse(n, A, ref0);
    char err[256];
    tspu_algo_result r;
    tspu_algo_opts o = opts(0.01, 4242);
    o.mitigate = 1;
    o.chains = 8;
    if (tspu_algo_inv(d, n, A, &o, &r, err, sizeof err)) {
        tt_check(0, "mitigate: inv kappa=1000", "%s", err);
    } else {
        ref_spd_inverse(n, r.A_eff, refq);
        double zmax = zscan((size_t)n * n, r.estimate, r.std_err, ref0, 1, 0);
        tt_check(zmax < 4, "mitigate: pooled stochastically rounded chains vs the UNquantised A^-1",
                 "max |z| = %.2f", zmax);
        tt_note("mitigate: 8 chains, max|z| %.2f vs unquantised A^-1 (rel. error %.2g; one chain's rounding alone is "
                "%.2g off), %llu steps, %.3f s wall",
                zmax, rel_diff((size_t)n * n, r.estimate, ref0), rel_diff((size_t)n * n, refq, ref0),
                (unsigned long long)r.steps, r.wall_seconds);
        total_wall += r.wall_seconds;
        tspu_algo_result_free(&r);
    }
    gsl_rng_free(g);
    tspu_close(d);
}

/* ---- 7b. error mitigation for logdet and expm ------------------------------------------------
 * A diagonal problem whose deterministic rounding is visibly biased:
 * A = diag(c, 1, x*, ..., x*), where x* is rounded down by 0.48 LSB of its
 * coupling: one probe run (2 ramp pairs / 200 samples) on diag(c, 1, 1.2,
 * ...) gives result.A_eff, hence the coupling scale kf (A_eff = q / kf with
 * integer q: the q of the entry 1 that also reproduces A_eff of c), and
 * x* = (round(1.2 kf) + 0.48) / kf.  The mapping stays the same (it depends
 * on c, lambda_min = 1, h and N only).  Relative error of x*: about
 * 0.48 / (1.2 kf) ~ c / 65536 (kf ~ 32767 / c), while the relaxation time is
 * ~c steps: the bias is visible at modest cost.  Unmitigated, the answer is
 * that of A_eff: the check "within 4 se of the UNquantised answer" must
 * fail (the twin).  With --mitigate (8 chains, stochastic rounding per
 * chain: x* rounds up with probability 0.48, unbiased on average) the same
 * check must pass.  logdet: N = 8 (the lanes' biases add up in log det);
 * expm: N = 3 (each entry is checked on its own). */
static void diag_problem(unsigned n, double c, double x, double *A)
{
    memset(A, 0, sizeof(double) * n * n);
    A[0] = c;
    A[n + 1] = 1.0;
    for (unsigned i = 2; i < n; i++)
        A[i * n + i] = x;
}

static double find_biased(tspu_dev *d, unsigned n, double c, int expm, double tol, double *rel, double *kf_out)
{
    double A[NMAX * NMAX];
    diag_problem(n, c, 1.2, A);
    tspu_algo_opts o = opts(tol, 99);
    o.samples = expm ? 200 : 2;
    o.burnin_set = 1;
    tspu_algo_result r;
    char err[256];
    *rel = 0;
    *kf_out = 0;
    if (expm ? tspu_algo_expm(d, n, A, &o, &r, err, sizeof err) : tspu_algo_logdet(d, n, A, &o, &r, err, sizeof err))
        return 1.2;
    /* kf from the mapping the run used (tspu_map_problem with its plan),
     * checked against the run's A_eff */
    double kf = 0, x = 1.2;
    tspu_problem pr = {.n = n, .A0 = A, .beta = r.plan.beta, .h = r.plan.h,
                       .integrator = (tspu_integrator)r.plan.integrator, .gamma = 1, .mass = 1,
                       .x_range = r.plan.x_range};
    tspu_mapping mp;
    tspu_model_config cfg = tspu_model_default_config();
    if (!tspu_map_problem(&pr, &mp, &cfg, err, sizeof err)) {
        kf = pr.h * mp.lsb_x / mp.lsb_f * ldexp(1.0, (int)cfg.drift_shift);
        for (unsigned i = 0; i < n; i++)
            if (mp.A_eff[0][i * n + i] != r.A_eff[i * n + i])
                kf = 0;
    }
    if (kf > 0) {
        x = (round(1.2 * kf) + 0.48) / kf;
        *rel = (round(1.2 * kf) / kf - x) / x;
    }
    *kf_out = kf;
    tspu_algo_result_free(&r);
    return x;
}

static void mitigation_logdet_expm(void)
{
    char err[256];
    tspu_algo_result r;
    double A[NMAX * NMAX];
    for (int ex = 0; ex < 2; ex++) {
        const unsigned n = ex ? 3 : 8;
        const double c = ex ? 8000 : 10000, tol = ex ? 0.1 : 0.25;
        tspu_dev *d;
        if (open_model(&d, n))
            return;
        double rel, kf, x = find_biased(d, n, c, ex, tol, &rel, &kf);
        diag_problem(n, c, x, A);
        double ref[NMAX * NMAX] = {0}, refq[NMAX * NMAX] = {0};
        if (!ex)
            ref[0] = log(c) + (n - 2) * log(x);
        else
            for (unsigned i = 0; i < n; i++)
                ref[i * n + i] = exp(-A[i * n + i]);
        const size_t k = ex ? (size_t)n * n : 1;
        const char *name = ex ? "expm" : "logdet";
        for (int mit = 0; mit < 2; mit++) {
            tspu_algo_opts o = opts(tol, 777);
            o.mitigate = mit;
            o.chains = mit ? 8 : 1;
            /* expm: fixed samples (the plan would follow the noisy entries
             * E_i0 = C_i0 / S_00 of the stiff lane); 14000 give se(E_22) ~
             * 0.013 against a rounding bias of ~0.08 (z ~ 6) */
            if (ex)
                o.samples = 14000;
            int rc = ex ? tspu_algo_expm(d, n, A, &o, &r, err, sizeof err)
                        : tspu_algo_logdet(d, n, A, &o, &r, err, sizeof err);
            if (rc) {
                tt_check(0, mit ? "mitigate: run" : "mitigate twin: run", "%s %s", name, err);
                continue;
            }
            double zmax = zscan(k, r.estimate, r.std_err, ref, 1, 0);
            if (!ex) {
                refq[0] = 0;
                for (unsigned i = 0; i < n; i++)
                    refq[0] += log(r.A_eff[i * n + i]);
            } else {
                for (unsigned i = 0; i < n; i++)
                    refq[i * n + i] = exp(-r.A_eff[i * n + i]);
            }
            double zq = zscan(k, r.estimate, r.std_err, refq, 1, 0);
            if (mit)
                tt_check(zmax < 4, ex ? "mitigate: expm, pooled rounded chains vs the UNquantised exp(-A)"
                                      : "mitigate: logdet, mean of per-chain BAR vs the UNquantised log det A",
                         "max |z| = %.2f", zmax);
            else
                tt_check(zmax >= 4 && zq < 4,
                         ex ? "mitigate twin: unmitigated expm is biased (> 4 se off exp(-A), within 4 se of exp(-A_eff))"
                            : "mitigate twin: unmitigated logdet is biased (> 4 se off, within 4 se of log det A_eff)",
                         "max |z| = %.2f vs A, %.2f vs A_eff", zmax, zq);
            tt_note("%s diag(%g, 1, %.4f x %u) (kf %.4g, x rounded %.3g relative): %s max|z| %.2f vs A, %.2f vs chain 0's "
                    "A_eff, %s %.5g +- %.2g (exact %.5g), %llu steps, %.2f s wall",
                    name, c, x, n - 2, kf, rel, mit ? "mitigated (8 chains)" : "unmitigated", zmax, zq,
                    ex ? "entry (2,2)" : "estimate", r.estimate[ex ? 2 * n + 2 : 0], r.std_err[ex ? 2 * n + 2 : 0],
                    ref[ex ? 2 * n + 2 : 0], (unsigned long long)r.steps, r.wall_seconds);
            total_wall += r.wall_seconds;
            tspu_algo_result_free(&r);
        }
        tspu_close(d);
    }
}

/* ---- 8. underdamped integrator (BAOAB) for solve and inv --------------------------------- */
static void underdamped(void)
{
    const unsigned n = 8;
    tspu_dev *d;
    if (open_model(&d, n))
        return;
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, 1000 + 10 * n + 2); /* the kappa = 1000 problem of the suite */
    double A[NMAX * NMAX], b[NMAX], ref[NMAX * NMAX];
    ref_make_spd(g, n, 1000, A);
    for (unsigned i = 0; i < n; i++)
        b[i] = gsl_ran_gaussian(g, 1.0) * sqrt(1000.0);
    char err[256];
    tspu_algo_result r;
    tspu_algo_opts o = opts(0.01, 31337);
    o.integrator = TSPU_INT_UD;
    cur_fam = 0;
    if (tspu_algo_solve(d, n, A, b, &o, &r, err, sizeof err)) {
        tt_check(0, "UD: solve kappa=1000", "%s", err);
    } else {
        ref_spd_solve(n, r.A_eff, r.b_eff, ref);
        double zmax = zscan(n, r.estimate, r.std_err, ref, 1, 1);
        tt_check(zmax < 4, "UD: solve N=8 kappa=1000", "max |z| = %.2f", zmax);
        tt_note("UD solve N=8 kappa=1000: max|z| %.2f, rel. stat. error %.2g, %llu steps (h %.4g, friction %.3g)", zmax,
                rel_diff(n, r.estimate, ref), (unsigned long long)r.steps, r.plan.h, 2 * sqrt(r.plan.lambda_min));
        total_wall += r.wall_seconds;
        tspu_algo_result_free(&r);
    }
    o = opts(0.03, 31338);
    o.integrator = TSPU_INT_UD;
    cur_fam = 1;
    if (tspu_algo_inv(d, n, A, &o, &r, err, sizeof err)) {
        tt_check(0, "UD: inv kappa=1000", "%s", err);
    } else {
        ref_spd_inverse(n, r.A_eff, ref);
        double zmax = zscan((size_t)n * n, r.estimate, r.std_err, ref, 1, 0);
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = i; j < n; j++)
                zpush((r.estimate[i * n + j] - ref[i * n + j]) / r.std_err[i * n + j]);
        tt_check(zmax < 4, "UD: inv N=8 kappa=1000", "max |z| = %.2f", zmax);
        tt_note("UD inv N=8 kappa=1000: max|z| %.2f, rel. stat. error %.2g, %llu steps", zmax,
                rel_diff((size_t)n * n, r.estimate, ref), (unsigned long long)r.steps);
        total_wall += r.wall_seconds;
        tspu_algo_result_free(&r);
    }
    gsl_rng_free(g);
    tspu_close(d);
}

/* ---- 9. several devices ---------------------------------------------------------------------
 * Chains spread over two model devices (opts.more_devs: chain c on device
 * c mod 2, one thread per device) must give bit for bit the answer of the
 * same chains on one device (chain c is seeded seed + c and rounded with
 * its own stream wherever it runs; the pool is in chain order), and that
 * answer is within 4 se of the exact one (LAPACK on A_eff; logdet: log det
 * A_eff; expm: exp(-A_eff) within 4 se + 2 x the predicted bias).  The
 * device time of the pair is the longer device's: below the one-device
 * time.  Input checks: a device too small for N, the same handle twice. */
static int same_result(const tspu_algo_result *a, const tspu_algo_result *b)
{
    const size_t k = (size_t)a->rows * a->cols;
    return a->rows == b->rows && a->cols == b->cols && a->steps == b->steps && a->samples == b->samples &&
           !memcmp(a->estimate, b->estimate, k * sizeof(double)) && !memcmp(a->std_err, b->std_err, k * sizeof(double));
}

static void multi_device(void)
{
    const unsigned n = 4;
    tspu_dev *d0, *d1, *d2;
    if (open_model(&d0, n))
        return;
    if (open_model(&d1, n)) {
        tspu_close(d0);
        return;
    }
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, 4711);
    double A[NMAX * NMAX], S[NMAX * NMAX];
    ref_make_spd(g, n, 10, A);
    /* a stable non-symmetric A for expm: SPD part + a skew part */
    memcpy(S, A, sizeof S);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < i; j++) {
            double w = 0.3 * gsl_ran_gaussian(g, 1.0);
            S[i * n + j] += w;
            S[j * n + i] -= w;
        }
    char err[256];
    static const char *names[] = {"inv", "inv --mitigate", "logdet", "expm"};
    for (int t = 0; t < 4; t++) {
        tspu_algo_result r1, r2;
        tspu_algo_opts o = opts(t == 2 ? 0.1 : 0.05, 5150 + t);
        o.chains = 4;
        o.mitigate = t == 1;
        int rc1, rc2;
#define RUN(res) (t <= 1 ? tspu_algo_inv(d0, n, A, &o, &res, err, sizeof err)                                         \
                  : t == 2 ? tspu_algo_logdet(d0, n, A, &o, &res, err, sizeof err)                                   \
                           : tspu_algo_expm(d0, n, S, &o, &res, err, sizeof err))
        rc1 = RUN(r1);
        if (rc1) {
            tt_check(0, "multi-device: one-device run", "%s: %s", names[t], err);
            continue;
        }
        tspu_dev *more[1] = {d1};
        o.more_devs = more;
        o.n_more_devs = 1;
        rc2 = RUN(r2);
#undef RUN
        if (rc2) {
            tt_check(0, "multi-device: two-device run", "%s: %s", names[t], err);
            tspu_algo_result_free(&r1);
            continue;
        }
        char nm[160];
        snprintf(nm, sizeof nm, "multi-device: %s, 4 chains on model + model = on one model, bit for bit", names[t]);
        tt_check(same_result(&r1, &r2) && r2.n_devices == 2 && strchr(r2.device, ','), nm,
                 "steps %llu / %llu, device '%s'", (unsigned long long)r1.steps, (unsigned long long)r2.steps,
                 r2.device);
        if (t == 0) { /* twin: chain seeds shifted by one (seed + 1): the comparison must see it */
            tspu_algo_result r3;
            o.seed++;
            if (!tspu_algo_inv(d0, n, A, &o, &r3, err, sizeof err)) {
                tt_check(!same_result(&r1, &r3), "twin: multi-device bit-for-bit check rejects other chain seeds",
                         "equal");
                tspu_algo_result_free(&r3);
            }
        }
        snprintf(nm, sizeof nm, "multi-device: %s, device_seconds of the pair = the longer device's (< one device's)",
                 names[t]);
        tt_check(r2.device_seconds < r1.device_seconds && r2.device_seconds >= 0.5 * r1.device_seconds * 0.999, nm,
                 "%.4g s vs %.4g s", r2.device_seconds, r1.device_seconds);
        double ref[NMAX * NMAX], zmax;
        const size_t k = (size_t)r2.rows * r2.cols;
        if (t <= 1) {
            ref_spd_inverse(n, t == 1 ? A : r2.A_eff, ref); /* mitigated: vs the unquantised A^-1 */
            zmax = zscan(k, r2.estimate, r2.std_err, ref, 1, 0);
        } else if (t == 2) {
            ref[0] = ref_spd_logdet(n, r2.A_eff);
            zmax = zscan(1, r2.estimate, r2.std_err, ref, 1, 0);
        } else {
            gsl_matrix_view av = gsl_matrix_view_array(r2.A_eff, n, n);
            gsl_matrix *Em = gsl_matrix_alloc(n, n), *Am = gsl_matrix_alloc(n, n);
            gsl_matrix_memcpy(Am, &av.matrix);
            gsl_matrix_scale(Am, -1.0);
            gsl_linalg_exponential_ss(Am, Em, GSL_PREC_DOUBLE);
            zmax = 0;
            for (unsigned i = 0; i < n * n; i++)
                zmax = fmax(zmax, fabs(r2.estimate[i] - Em->data[i]) / (4 * r2.std_err[i] + 2 * r2.plan.bias_est) * 4);
            gsl_matrix_free(Em);
            gsl_matrix_free(Am);
        }
        snprintf(nm, sizeof nm, "multi-device: %s pooled over two devices within 4 se of the exact answer", names[t]);
        tt_check(zmax < 4, nm, "max |z| = %.2f", zmax);
        tt_note("multi-device %s: max|z| %.2f, %llu steps, device time %.4g s (one device %.4g s), wall %.2f s (one "
                "device %.2f s)", names[t], zmax, (unsigned long long)r2.steps, r2.device_seconds, r1.device_seconds,
                r2.wall_seconds, r1.wall_seconds);
        total_wall += r1.wall_seconds + r2.wall_seconds;
        tspu_algo_result_free(&r1);
        tspu_algo_result_free(&r2);
    }
    /* input checks */
    tspu_algo_result r;
    tspu_algo_opts o = opts(0.1, 1);
    if (!tspu_open(&d2, "model?n=2")) {
        tspu_dev *more[1] = {d2};
        o.more_devs = more;
        o.n_more_devs = 1;
        expect_err("multi-device: N larger than the second device", tspu_algo_inv(d0, n, A, &o, &r, err, sizeof err),
                   err, "larger than the device model?n=2");
        tspu_close(d2);
    }
    tspu_dev *same[1] = {d0};
    o.more_devs = same;
    o.n_more_devs = 1;
    expect_err("multi-device: the same handle twice", tspu_algo_inv(d0, n, A, &o, &r, err, sizeof err), err,
               "same handle");
    gsl_rng_free(g);
    tspu_close(d0);
    tspu_close(d1);
}

/* ---- 10. Richardson extrapolation in h (opts.extrapolate) -------------------------------------
 * lyap (non-symmetric A, LM) and expm (EM) at a deliberately coarse step,
 * where the O(h) discretisation bias is several standard errors: the plain
 * run must miss the CONTINUOUS answer (A S + S A^T = 2I by LAPACK dgesv on
 * the Kronecker form; exp(-A) by GSL) by > 4 se (the twin), the
 * extrapolated run 2 R(h/2) - R(h) (error bars propagated) must be within
 * 4 se.  Quantisation (~1e-4 relative here) is far below either. */
static void extrapolation(void)
{
    const unsigned n = 3;
    tspu_dev *d;
    if (open_model(&d, n))
        return;
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, 6060);
    double A[NMAX * NMAX], ref[NMAX * NMAX], Q[NMAX * NMAX] = {0};
    make_stable(g, n, 4, 1.0, A);
    char err[256];
    for (int ex = 0; ex < 2; ex++) {
        const char *name = ex ? "expm" : "lyap";
        if (!ex) {
            for (unsigned i = 0; i < n; i++)
                Q[i * n + i] = 2.0;
            kron_solve(n, A, 0, Q, ref);
        } else {
            gsl_matrix_view av = gsl_matrix_view_array(A, n, n);
            gsl_matrix *Em = gsl_matrix_alloc(n, n), *Am = gsl_matrix_alloc(n, n);
            gsl_matrix_memcpy(Am, &av.matrix);
            gsl_matrix_scale(Am, -1.0);
            gsl_linalg_exponential_ss(Am, Em, GSL_PREC_DOUBLE);
            memcpy(ref, Em->data, sizeof(double) * n * n);
            gsl_matrix_free(Em);
            gsl_matrix_free(Am);
        }
        for (int xt = 0; xt < 2; xt++) {
            tspu_algo_opts o = opts(0.02, 8080);
            o.dt = ex ? 1.0 / 16 : 0.05; /* coarse: O(h) bias of many se */
            o.samples = ex ? 200000 : 2000000;
            o.extrapolate = xt;
            tspu_algo_result r;
            int rc = ex ? tspu_algo_expm(d, n, A, &o, &r, err, sizeof err)
                        : tspu_algo_lyap(d, n, A, NULL, &o, &r, err, sizeof err);
            if (rc) {
                tt_check(0, "extrapolate: run", "%s: %s", name, err);
                continue;
            }
            double zmax = zscan((size_t)n * n, r.estimate, r.std_err, ref, 1, 0);
            char nm[160];
            if (xt) {
                snprintf(nm, sizeof nm, "extrapolate: %s 2 R(h/2) - R(h) within 4 se of the continuous answer", name);
                tt_check(zmax < 4, nm, "max |z| = %.2f", zmax);
            } else {
                snprintf(nm, sizeof nm, "extrapolate twin: plain %s at h = %.3g misses the continuous answer by > 4 se",
                         name, r.plan.h);
                tt_check(zmax >= 4, nm, "max |z| = %.2f", zmax);
            }
            tt_note("%s %s: h %.4g, max|z| %.2f vs the continuous answer, rel. error %.2g, %llu steps, %.2f s wall; %s",
                    name, xt ? "extrapolated" : "plain", r.plan.h, zmax, rel_diff((size_t)n * n, r.estimate, ref),
                    (unsigned long long)r.steps, r.wall_seconds, xt ? strstr(r.plan.note, "Richardson") : "");
            total_wall += r.wall_seconds;
            tspu_algo_result_free(&r);
        }
    }
    gsl_rng_free(g);
    tspu_close(d);
}

/* tests/test_algo [SECTION...]: every section, or only the named ones
 * (spd lyap expm ud calibration input mitigation mitigation2 multi) */
static int want(int argc, char **argv, const char *name)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (want(argc, argv, "spd"))
        spd_suite();
    if (want(argc, argv, "lyap"))
        lyap_suite();
    if (want(argc, argv, "expm"))
        expm_suite();
    if (want(argc, argv, "ud"))
        underdamped();
    if (want(argc, argv, "calibration"))
        calibration();
    if (want(argc, argv, "input"))
        input_checks();
    if (want(argc, argv, "mitigation"))
        mitigation();
    if (want(argc, argv, "mitigation2"))
        mitigation_logdet_expm();
    if (want(argc, argv, "multi"))
        multi_device();
    if (want(argc, argv, "extrapolate"))
        extrapolation();
    tt_note("algorithm wall time %.1f s, emulated device time %.1f s", total_wall, total_dev);
    free(zs);
    free(zfam);
    return tt_exit();
}
