/*
 * test_model_stats.c - statistical validation of the unit's integrators on
 * the bit-exact model (host/model).
 *
 * What is tested
 *   1. SPD A = Q diag(lambda) Q^T (Q from the QR of a Gaussian matrix,
 *      lambda log-spaced 1..kappa), N in {2,4,8,16}, kappa in {10,100},
 *      for EM, LM and the underdamped integrator (UD):
 *        sample mean          -> A^-1 b
 *        beta * covariance    -> A^-1                          (LM, UD)
 *        covariance (EM)      -> beta^-1 A^-1 (I - hA/2)^-1    (EM bias)
 *        UD momenta           -> beta^-1 M I,  UD x-p block -> (h/2) beta^-1 I
 *      Overdamped: h lambda_max = 0.4.  UD: mass 1.5, h omega_max = 0.5,
 *      gamma = 2 sqrt(M lambda_min) (slowest mode critically damped).
 *   2. Stable non-symmetric A = SPD part (kappa 10) + skew part (largest
 *      entry 0.3 kappa), N = 4, 8, EM and LM: the covariance equals the exact
 *      stationary covariance of the discrete linear scheme (discrete Lyapunov
 *      equation), and the continuous Lyapunov solution
 *      A S + S A^T = (2/beta) I within a tolerance that adds the exactly
 *      computed discretisation bias |S_h - S| entrywise.  Both schemes are
 *      O(h) here (LM is exact only for symmetric A); h is HFAC = 3 % of the
 *      explicit stability limit min_k 2 Re(l_k)/|l_k|^2, where the bias is
 *      1-3 % (printed).
 *   Every family also runs its checking code against a deliberately wrong
 *   answer ("twin") and asserts that the check reports a failure:
 *      - A_eff with its smallest eigenvalue raised by 5 % (SPD means and
 *        covariances), the SPD part's smallest eigenvalue raised by 10 %
 *        (non-symmetric: the skew part spreads the change over all modes),
 *      - EM covariance against the unbiased beta^-1 A^-1,
 *      - LM covariance against the EM-biased formula (LM removes a bias that
 *        this run resolves),
 *      - UD x covariance against the other splitting order's (ABOBA)
 *        beta^-1 A^-1 (I - h^2 A / 4M)^-1, momenta against beta^-1 (1.05 M),
 *        the x-p block against 0,
 *      - the batch-means/theory error-bar ratio against the iid error bar,
 *      - the global calibration of the z-scores against doubled error bars.
 *   Runs must not raise the saturation, FIFO-overflow or moment-limit flags;
 *   for UD the FIFO samples must reproduce the unit's moment sums exactly,
 *   and for the overdamped runs tspu_moments_to_real must agree with the
 *   batch pool.
 *
 * Reference answers.  All come from LAPACK (LAPACKE over OpenBLAS): dposv /
 * dpotrf / dpotri for A^-1 b and A^-1, dgesv for the non-symmetric mean and
 * for the Kronecker forms of the Lyapunov equations, dgeev for spectral
 * radii, dsyev for eigenvectors, dgeqrf / dorgqr for the random orthogonal
 * matrices.  Random numbers for the test problems: GSL's mt19937, fixed seeds.
 * The references use the QUANTISED problem the integers encode
 * (tspu_mapping.A_eff, b_eff), so statistics are not confused with coupling
 * quantisation; the distance to the unquantised answer is printed as a note.
 *
 * The linear schemes (x in real units, M = I - h A):
 *   EM:  x' = M x + h b + s xi,                  s^2 = 2h/beta
 *   LM:  x' = M x + h b + c (xi' + xi),          c^2 = h/(2 beta)
 *        With y = x - c xi (y is independent of the current xi):
 *        y' = M y + h b + (I + M) c xi, so
 *        Cov x = S_y + c^2 I,  S_y = M S_y M^T + c^2 (I+M)(I+M)^T.
 *        For symmetric A this gives exactly beta^-1 A^-1 (0 < h lambda < 2).
 *   UD:  p1 = p - h (A x - b); x1 = x + a p1; p2 = c p1 + s xi;
 *        x2 = x1 + a p2,  a = h/(2M), c = exp(-gamma h / M),
 *        s^2 = (1 - c^2) M / beta.  State (x2, p2) evolves linearly with
 *        Phi = [[I - a h (1+c) A, a (1+c) I], [-c h A, c I]] and noise
 *        covariance s^2 [[a^2 I, a I], [a I, I]].  Its exact stationary
 *        covariance (discrete Lyapunov, computed below with the quantised
 *        coefficients ka, ko) is checked to equal
 *        [[A^-1, (h/2) I], [(h/2) I, M I]] / beta (to 1e-4; the ka / ko
 *        quantisation moves it by ~1e-5) before the samples are compared
 *        with that.  (x1, between the half drifts, is uncorrelated with p2;
 *        x2 = x1 + a p2 gives the x-p block a M / beta = h / (2 beta).)
 *
 * Error bars (effective sample size).
 *   Means.  For a stationary linear chain with lag covariances
 *   Gamma(0) = S, Gamma(k) = Ms^(k-1) G for k >= 1 (EM: G = M S; LM:
 *   G = M S_y + c^2 (I + M); UD: G = Phi S), the sample mean of the kept
 *   states x_{jT} (thinning T, ns kept samples) has asymptotic covariance
 *       Var(mean) = [S + W + W^T] / ns,  W = Ms^(T-1) (I - Ms^T)^-1 G,
 *   i.e. the long-run covariance sum_k Gamma(kT) divided by ns.  For T = 1
 *   and symmetric A this reduces, for EM and LM alike, to the textbook
 *   2 A^-2 / (beta h n) (n = steps).  The z-scores of the means use this
 *   exact theoretical standard error (normal reference distribution); the
 *   batch-means standard error of the same means is printed beside it as a
 *   cross-check of the theory (rms ratio within 0.8..1.25, each batch-means
 *   s.e. having ~7 % scatter with B = 100), and the same ratio test rejects
 *   the naive iid error bar sqrt(S/ns) (off by 3-7x).
 *   Covariances.  Batch means: B = 100 batches, each at least 800 slowest
 *   relaxation times long (relaxation time tau = -1/ln rho(step matrix), in
 *   steps), so batch averages are nearly independent (correlation between
 *   neighbours ~ tau/L < 0.2 %).  Each batch contributes
 *   C_k = mean over the batch of (x - m)(x - m)^T with m the GLOBAL mean
 *   (a per-batch mean would bias C_k by -2 tau/L relative), the estimate is
 *   mean_k C_k, its standard error sd_k(C_k)/sqrt(B), and z is compared with
 *   a Student t with B-1 degrees of freedom.
 *   Entries are checked in the standard basis and along the eigenvectors of
 *   the reference ("mode" means and variances: the slow mode carries most of
 *   A^-1 and the fast modes carry the EM bias, each with its own error bar).
 *   Run lengths: 1.25e5 tau steps (overdamped), so the slowest mode's
 *   variance has a relative standard error sqrt(2 tau_int / n) ~
 *   sqrt(2 / 1.25e5) = 0.4 % (tau_int of x^2 for an AR(1) mode is
 *   (1+rho^2)/(1-rho^2) ~ tau), and a 5 % change of the smallest eigenvalue
 *   is a ~12 sigma effect in that mode.  UD: 5e5 tau (a critically damped
 *   mode's x^2 decorrelates more slowly than rho(Phi)^k suggests);
 *   non-symmetric: 2e5 tau.
 *   Burn-in: 20 tau steps after starting at the exact mean (transient
 *   e^-20 of the initial covariance deficit).  Thinning T = clamp(tau/8, 1,
 *   10): much shorter than tau, so almost no information is lost for the slow
 *   modes, while the moment accumulation costs less.
 *
 * Threshold (multiple comparisons).  The program makes at most M_DECLARED
 * valid comparisons (the count is checked at the end).  With a family-wise
 * false-alarm probability ALPHA_FW = 1 %, Bonferroni gives a per-comparison
 * two-sided level ALPHA_FW / M_DECLARED: thresholds
 *   |z| < Qinv_normal(ALPHA_FW / (2 M_DECLARED)) = 4.75    (means)
 *   |t| < Qinv_t(ALPHA_FW / (2 M_DECLARED), B - 1) = 5.05  (covariances)
 * Because the comparisons are positively correlated Bonferroni is
 * conservative.  The twins are designed to exceed these thresholds with a
 * wide margin (their max |z| is printed).  At the end, the fraction of all
 * valid |z| above 2 must lie in 2..9 % (4.6 % expected): error bars that
 * were too wide would pass every threshold test, and this catches them.
 */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tspu_fixmap.h"
#include "tspu_model.h"
#include "tt.h"

#define NMAX 16
#define DMAX (2 * NMAX)
#define BATCHES 100
#define ALPHA_FW 0.01
#define M_DECLARED 5000
#define TAU_STEPS 1.25e5 /* run length in relaxation times               */
#define BURN_TAU 20.0    /* burn-in in relaxation times                  */
#define PERTURB 0.05     /* twin: smallest eigenvalue raised by 5 %       */
#define HFAC 0.03        /* non-symmetric A: h = HFAC * stability limit  */
#define PERTURB_NS 0.10  /* non-symmetric twin: lambda_min(sym part) +10% */
#define TAU_STEPS_NS 2e5 /* non-symmetric runs: longer (see lyap_case)    */
#define TAU_STEPS_UD 5e5 /* UD: the critically damped slow mode's x^2 decorrelates slower than rho(Phi)^k */
#define SKEW 0.3         /* non-symmetric A: max |skew entry| = SKEW kappa */

static double THR_Z, THR_T;
static int n_cmp_valid;
static int n_z_cal, n_z_gt2, n_z_gt3, n_z_gt4; /* calibration of the error bars */
static double total_model_seconds;

static double now_s(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

/* ------------------------------------------------------------------------ */
/* small dense helpers (row-major); the solvers are LAPACK                   */

static void mat_mul(int d, const double *A, const double *B, double *C)
{
    double t[DMAX * DMAX];
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++)
                s += A[i * d + k] * B[k * d + j];
            t[i * d + j] = s;
        }
    memcpy(C, t, sizeof(double) * d * d);
}

static void mat_transpose(int d, const double *A, double *T)
{
    double t[DMAX * DMAX];
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            t[j * d + i] = A[i * d + j];
    memcpy(T, t, sizeof(double) * d * d);
}

static void mat_eye(int d, double *E)
{
    memset(E, 0, sizeof(double) * d * d);
    for (int i = 0; i < d; i++)
        E[i * d + i] = 1.0;
}

static void mat_pow(int d, const double *A, unsigned k, double *P)
{
    double t[DMAX * DMAX];
    mat_eye(d, t);
    for (unsigned i = 0; i < k; i++)
        mat_mul(d, t, A, t);
    memcpy(P, t, sizeof(double) * d * d);
}

static double max_abs_diff(int m, const double *a, const double *b)
{
    double r = 0;
    for (int i = 0; i < m; i++)
        r = fmax(r, fabs(a[i] - b[i]));
    return r;
}

static double max_abs(int m, const double *a)
{
    double r = 0;
    for (int i = 0; i < m; i++)
        r = fmax(r, fabs(a[i]));
    return r;
}

/* inverse of an SPD matrix (dpotrf + dpotri); 0 on success */
static int spd_inverse(int d, const double *A, double *inv)
{
    memcpy(inv, A, sizeof(double) * d * d);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', d, inv, d) != 0)
        return -1;
    if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', d, inv, d) != 0)
        return -1;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < i; j++)
            inv[i * d + j] = inv[j * d + i];
    return 0;
}

/* x = A^-1 b for SPD A (dposv) */
static int spd_solve(int d, const double *A, const double *b, double *x)
{
    double L[DMAX * DMAX];
    memcpy(L, A, sizeof(double) * d * d);
    memcpy(x, b, sizeof(double) * d);
    return LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', d, 1, L, d, x, 1) ? -1 : 0;
}

/* X = A^-1 B for a general A, B with nrhs columns (dgesv) */
static int gen_solve(int d, const double *A, int nrhs, const double *B, double *X)
{
    double L[DMAX * DMAX];
    lapack_int ipiv[DMAX];
    memcpy(L, A, sizeof(double) * d * d);
    memcpy(X, B, sizeof(double) * d * nrhs);
    return LAPACKE_dgesv(LAPACK_ROW_MAJOR, d, nrhs, L, d, ipiv, X, nrhs) ? -1 : 0;
}

/* S = M S M^T + Q (discrete Lyapunov) via the Kronecker system, dgesv */
static int dlyap(int d, const double *M, const double *Q, double *S)
{
    const int d2 = d * d;
    double *K = malloc(sizeof(double) * d2 * d2);
    lapack_int *ipiv = malloc(sizeof(lapack_int) * d2);
    if (!K || !ipiv)
        return -1;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            for (int k = 0; k < d; k++)
                for (int l = 0; l < d; l++)
                    K[(size_t)(i * d + j) * d2 + k * d + l] =
                        (i == k && j == l ? 1.0 : 0.0) - M[i * d + k] * M[j * d + l];
    memcpy(S, Q, sizeof(double) * d2);
    int r = LAPACKE_dgesv(LAPACK_ROW_MAJOR, d2, 1, K, d2, ipiv, S, 1);
    free(K);
    free(ipiv);
    for (int i = 0; i < d; i++) /* symmetrise the rounding noise */
        for (int j = 0; j < i; j++)
            S[i * d + j] = S[j * d + i] = 0.5 * (S[i * d + j] + S[j * d + i]);
    return r ? -1 : 0;
}

/* A S + S A^T = R (continuous Lyapunov) via the Kronecker system, dgesv */
static int clyap(int d, const double *A, const double *R, double *S)
{
    const int d2 = d * d;
    double *K = calloc((size_t)d2 * d2, sizeof(double));
    lapack_int *ipiv = malloc(sizeof(lapack_int) * d2);
    if (!K || !ipiv)
        return -1;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            for (int k = 0; k < d; k++) {
                K[(size_t)(i * d + j) * d2 + k * d + j] += A[i * d + k];
                K[(size_t)(i * d + j) * d2 + i * d + k] += A[j * d + k];
            }
    memcpy(S, R, sizeof(double) * d2);
    int r = LAPACKE_dgesv(LAPACK_ROW_MAJOR, d2, 1, K, d2, ipiv, S, 1);
    free(K);
    free(ipiv);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < i; j++)
            S[i * d + j] = S[j * d + i] = 0.5 * (S[i * d + j] + S[j * d + i]);
    return r ? -1 : 0;
}

/* eigenvalues of a general matrix (dgeev); returns the spectral radius */
static double gen_eigvals(int d, const double *M, double *wr, double *wi)
{
    double a[DMAX * DMAX];
    memcpy(a, M, sizeof(double) * d * d);
    if (LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'N', d, a, d, wr, wi, NULL, 1, NULL, 1) != 0)
        return NAN;
    double r = 0;
    for (int i = 0; i < d; i++)
        r = fmax(r, hypot(wr[i], wi[i]));
    return r;
}

static double spectral_radius(int d, const double *M)
{
    double wr[DMAX], wi[DMAX];
    return gen_eigvals(d, M, wr, wi);
}

/* eigenvalues (ascending) and eigenvectors (columns of U) of symmetric S */
static int sym_eig(int d, const double *S, double *w, double *U)
{
    memcpy(U, S, sizeof(double) * d * d);
    return LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', d, U, d, w) ? -1 : 0;
}

/* random orthogonal Q: QR of a Gaussian matrix (dgeqrf + dorgqr) */
static void random_orthogonal(gsl_rng *r, int n, double *Q)
{
    double tau[NMAX];
    for (int i = 0; i < n * n; i++)
        Q[i] = gsl_ran_gaussian(r, 1.0);
    LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, n, n, Q, n, tau);
    LAPACKE_dorgqr(LAPACK_ROW_MAJOR, n, n, n, Q, n, tau);
}

/* A = Q diag(lam) Q^T, exactly symmetric */
static void spd_from_eig(int n, const double *Q, const double *lam, double *A)
{
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++)
                s += Q[i * n + k] * lam[k] * Q[j * n + k];
            A[i * n + j] = A[j * n + i] = s;
        }
}

/* ------------------------------------------------------------------------ */
/* running the model in batches                                              */

typedef struct {
    int d;                                /* sampled vector: n or 2n (UD)    */
    double mean[DMAX], cov[DMAX * DMAX];  /* estimates, real units           */
    double bcov[BATCHES][DMAX * DMAX];    /* per-batch C_k, real units       */
    double bmean[BATCHES][DMAX];          /* per-batch means, real units     */
    double lib_mean[NMAX], lib_cov[NMAX * NMAX]; /* tspu_moments_to_real   */
    uint64_t samples, steps;
    uint32_t flags, sat_count;
    long moment_mismatch; /* UD: hardware moments != FIFO sums (must be 0) */
    double seconds;
} est_t;

typedef struct {
    unsigned n;
    int ud_mom;    /* sample momenta too (UD)                             */
    unsigned thin;
    uint32_t L;    /* kept samples per batch                              */
    uint32_t burnin;
    uint64_t seed;
} run_plan;

static int64_t g_s1[BATCHES][DMAX], g_s2[BATCHES][DMAX * DMAX];

static int run_chain(const tspu_mapping *mp, const tspu_model_config *cfg0,
                     const run_plan *pl, const int32_t *x0, est_t *e)
{
    const unsigned n = pl->n;
    const int d = pl->ud_mom ? 2 * (int)n : (int)n;
    const size_t words = (size_t)d;
    const size_t fifo_cap = 1u << 15;
    memset(e, 0, sizeof *e);
    e->d = d;
    tspu_model *m = tspu_model_create(n, fifo_cap);
    if (!m)
        return -1;
    tspu_model_load_couplings(m, 0, mp->a[0], mp->b[0]);
    tspu_model_seed(m, pl->seed);
    tspu_model_set_state(m, x0, NULL);
    tspu_model_config cfg = *cfg0;
    cfg.burnin = pl->burnin;
    cfg.thin = pl->thin;
    cfg.n_samples = 0;
    cfg.n_segments = 0;
    cfg.sample_momentum = pl->ud_mom;
    if (tspu_model_configure(m, &cfg) != 0) {
        tspu_model_destroy(m);
        return -1;
    }
    const double t0 = now_s();
    tspu_status st;
    tspu_model_start(m);
    tspu_model_run(m, UINT64_MAX);
    tspu_model_read_status(m, &st);
    e->flags |= st.flags & ~TSPU_FLAG_DONE;
    e->sat_count += st.sat_count;
    e->steps += st.steps;

    cfg.burnin = 0;
    cfg.n_samples = pl->L;
    tspu_model_configure(m, &cfg);
    memset(g_s1, 0, sizeof g_s1);
    memset(g_s2, 0, sizeof g_s2);
    tspu_moments pooled;
    memset(&pooled, 0, sizeof pooled);
    const size_t chunk_samples = fifo_cap / words / 2;
    const uint64_t chunk_steps = (uint64_t)chunk_samples * pl->thin;
    int16_t *buf = malloc(sizeof(int16_t) * fifo_cap);
    if (!buf) {
        tspu_model_destroy(m);
        return -1;
    }
    const size_t bufw = (fifo_cap / words) * words;
    for (int k = 0; k < BATCHES; k++) {
        int64_t *s1 = g_s1[k], *s2 = g_s2[k];
        tspu_model_start(m);
        while (!tspu_model_done(m)) {
            tspu_model_run(m, chunk_steps);
            size_t got;
            while ((got = tspu_model_fifo_read(m, buf, bufw)) > 0) {
                if (!pl->ud_mom)
                    continue; /* overdamped: the hardware moments are used */
                for (size_t o = 0; o + words <= got; o += words) {
                    const int16_t *v = buf + o;
                    for (int i = 0; i < d; i++) {
                        const int64_t vi = v[i];
                        s1[i] += vi;
                        for (int j = i; j < d; j++)
                            s2[i * d + j] += vi * v[j];
                    }
                }
            }
        }
        tspu_moments mom;
        tspu_model_read_moments(m, &mom);
        tspu_model_read_status(m, &st);
        e->flags |= st.flags & ~TSPU_FLAG_DONE;
        e->sat_count += st.sat_count;
        e->steps += st.steps;
        /* hardware (position) moments */
        unsigned q = 0;
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = i; j < n; j++, q++) {
                if (pl->ud_mom) {
                    if (s2[i * d + j] != mom.sumsq[q])
                        e->moment_mismatch++;
                } else {
                    s2[i * d + j] = mom.sumsq[q];
                }
                pooled.sumsq[q] += mom.sumsq[q];
            }
        for (unsigned i = 0; i < n; i++) {
            if (pl->ud_mom) {
                if (s1[i] != mom.sum[i])
                    e->moment_mismatch++;
            } else {
                s1[i] = mom.sum[i];
            }
            pooled.sum[i] += mom.sum[i];
        }
        if (mom.count != pl->L)
            e->moment_mismatch++;
        pooled.count += mom.count;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < i; j++)
                s2[i * d + j] = s2[j * d + i];
    }
    e->seconds = now_s() - t0;
    total_model_seconds += e->seconds;
    free(buf);
    tspu_model_destroy(m);

    /* post-processing, in operand units first */
    const long double L = pl->L, ntot = (long double)pl->L * BATCHES;
    long double mg[DMAX];
    double scale[DMAX];
    for (int i = 0; i < d; i++) {
        long double s = 0;
        for (int k = 0; k < BATCHES; k++)
            s += g_s1[k][i];
        mg[i] = s / ntot;
        scale[i] = i < (int)n ? mp->op_x : mp->op_p;
        e->mean[i] = (double)mg[i] * scale[i];
    }
    memset(e->cov, 0, sizeof e->cov);
    for (int k = 0; k < BATCHES; k++) {
        for (int i = 0; i < d; i++) {
            e->bmean[k][i] = (double)((long double)g_s1[k][i] / L) * scale[i];
            for (int j = 0; j < d; j++) {
                long double c = ((long double)g_s2[k][i * d + j] - mg[i] * g_s1[k][j] -
                                 mg[j] * g_s1[k][i]) / L + mg[i] * mg[j];
                if (i == j)
                    c -= 1.0L / 12.0L; /* Sheppard: operand rounding */
                double v = (double)c * scale[i] * scale[j];
                e->bcov[k][i * d + j] = v;
                e->cov[i * d + j] += v / BATCHES;
            }
        }
    }
    e->samples = (uint64_t)ntot;
    tspu_moments_to_real(mp, &pooled, e->lib_mean, e->lib_cov);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* comparisons                                                               */

#define VMAX (DMAX * DMAX + DMAX)

typedef struct {
    int m;
    double est[VMAX], se[VMAX], ref[VMAX], allow[VMAX];
    char label[VMAX][24];
} cmpvec;

typedef struct {
    double maxz;
    int idx;
} zres;

static zres zmax(const cmpvec *v, const double *ref)
{
    zres r = {0.0, -1};
    for (int i = 0; i < v->m; i++) {
        double dev = fabs(v->est[i] - ref[i]) - v->allow[i];
        double z = dev > 0 ? dev / v->se[i] : 0.0;
        if (!(z <= r.maxz) || r.idx < 0) {
            r.maxz = z;
            r.idx = i;
        }
    }
    return r;
}

/* flatten means: entries of block [o, o+k) and projections on the columns
 * of U (k*k, may be NULL).  V: covariance of the mean estimate (d*d). */
static void flat_mean(cmpvec *v, const est_t *e, int o, int k, const double *U,
                      const double *V, const double *ref, double *ref_out,
                      const double *wrong, double *wrong_out)
{
    const int d = e->d;
    for (int i = 0; i < k; i++) {
        int q = v->m++;
        v->est[q] = e->mean[o + i];
        v->se[q] = sqrt(V[(o + i) * d + o + i]);
        v->allow[q] = 0;
        ref_out[q] = ref[i];
        if (wrong)
            wrong_out[q] = wrong[i];
        snprintf(v->label[q], sizeof v->label[q], "m[%d]", o + i);
    }
    if (!U)
        return;
    for (int c = 0; c < k; c++) {
        int q = v->m++;
        double es = 0, rs = 0, ws = 0, var = 0;
        for (int i = 0; i < k; i++) {
            es += U[i * k + c] * e->mean[o + i];
            rs += U[i * k + c] * ref[i];
            if (wrong)
                ws += U[i * k + c] * wrong[i];
            for (int j = 0; j < k; j++)
                var += U[i * k + c] * V[(o + i) * d + o + j] * U[j * k + c];
        }
        v->est[q] = es;
        v->se[q] = sqrt(var);
        v->allow[q] = 0;
        ref_out[q] = rs;
        if (wrong)
            wrong_out[q] = ws;
        snprintf(v->label[q], sizeof v->label[q], "mode-mean %d", c);
    }
}

static double sd_over_batches(const double *x, double *mean_out)
{
    double s = 0, s2 = 0;
    for (int k = 0; k < BATCHES; k++)
        s += x[k];
    const double mu = s / BATCHES;
    for (int k = 0; k < BATCHES; k++)
        s2 += (x[k] - mu) * (x[k] - mu);
    if (mean_out)
        *mean_out = mu;
    return sqrt(s2 / (BATCHES - 1));
}

/* flatten a covariance block: rows [ro, ro+kr) x cols [co, co+kc) of the
 * estimate (upper triangle if the block is diagonal), then, for a diagonal
 * block with U, the mode variances u^T C u.  refs are kr x kc matrices. */
static void flat_cov(cmpvec *v, const est_t *e, int ro, int kr, int co, int kc,
                     const double *U, const double *ref, double *ref_out,
                     const double *wrong, double *wrong_out, const double *allow)
{
    const int d = e->d, diag = ro == co;
    double x[BATCHES];
    for (int i = 0; i < kr; i++)
        for (int j = diag ? i : 0; j < kc; j++) {
            int q = v->m++;
            for (int k = 0; k < BATCHES; k++)
                x[k] = e->bcov[k][(ro + i) * d + co + j];
            v->se[q] = sd_over_batches(x, &v->est[q]) / sqrt(BATCHES);
            v->allow[q] = allow ? allow[i * kc + j] : 0.0;
            ref_out[q] = ref[i * kc + j];
            if (wrong)
                wrong_out[q] = wrong[i * kc + j];
            snprintf(v->label[q], sizeof v->label[q], "C[%d,%d]", ro + i, co + j);
        }
    if (!diag || !U)
        return;
    const int k = kr;
    for (int c = 0; c < k; c++) {
        int q = v->m++;
        double rs = 0, ws = 0, as = 0;
        for (int b = 0; b < BATCHES; b++) {
            double s = 0;
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                    s += U[i * k + c] * e->bcov[b][(ro + i) * d + co + j] * U[j * k + c];
            x[b] = s;
        }
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                const double w = U[i * k + c] * U[j * k + c];
                rs += w * ref[i * k + j];
                if (wrong)
                    ws += w * wrong[i * k + j];
                if (allow)
                    as += fabs(w) * allow[i * k + j];
            }
        v->se[q] = sd_over_batches(x, &v->est[q]) / sqrt(BATCHES);
        v->allow[q] = as;
        ref_out[q] = rs;
        if (wrong)
            wrong_out[q] = ws;
        snprintf(v->label[q], sizeof v->label[q], "mode-var %d", c);
    }
}

/* valid check: all |z| below thr; returns max |z| */
static double check_valid(const char *name, const cmpvec *v, const double *ref, double thr)
{
    zres r = zmax(v, ref);
    n_cmp_valid += v->m;
    for (int i = 0; i < v->m; i++) {
        if (v->allow[i] != 0.0) /* bias allowance: not a pure z (excluded) */
            continue;
        n_z_cal++;
        const double z = fabs(v->est[i] - ref[i]) / v->se[i];
        n_z_gt2 += z > 2.0;
        n_z_gt3 += z > 3.0;
        n_z_gt4 += z > 4.0;
    }
    tt_check(r.maxz < thr, name, "max |z| = %.2f >= %.2f at %s (est %.6g, ref %.6g, se %.3g)",
             r.maxz, thr, r.idx >= 0 ? v->label[r.idx] : "-", r.idx >= 0 ? v->est[r.idx] : 0,
             r.idx >= 0 ? ref[r.idx] : 0, r.idx >= 0 ? v->se[r.idx] : 0);
    return r.maxz;
}

/* twin: the same check against a wrong reference must fail */
static double check_twin(const char *name, const cmpvec *v, const double *wrong, double thr)
{
    zres r = zmax(v, wrong);
    tt_check(r.maxz >= thr, name,
             "the check did not detect the wrong answer: max |z| = %.2f < %.2f", r.maxz, thr);
    return r.maxz;
}

/* ------------------------------------------------------------------------ */
/* long-run covariance of the sample mean (see the file comment)             */

static int mean_var_theory(int d, const double *Ms, const double *S, const double *G,
                           unsigned T, double ns, double *V)
{
    double MT[DMAX * DMAX], MT1[DMAX * DMAX], IM[DMAX * DMAX], X[DMAX * DMAX];
    mat_pow(d, Ms, T, MT);
    mat_pow(d, Ms, T - 1, MT1);
    mat_eye(d, IM);
    for (int i = 0; i < d * d; i++)
        IM[i] -= MT[i];
    if (gen_solve(d, IM, d, G, X))
        return -1;
    mat_mul(d, MT1, X, X); /* W */
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            V[i * d + j] = (S[i * d + j] + X[i * d + j] + X[j * d + i]) / ns;
    return 0;
}

/* ------------------------------------------------------------------------ */

static const char *int_name(tspu_integrator k)
{
    return k == TSPU_INT_EM ? "EM" : k == TSPU_INT_LM ? "LM" : "UD";
}

/* plan thinning, batch length and burn-in from the relaxation time */
static void make_plan(run_plan *pl, double tau, double tau_steps)
{
    double t = floor(tau / 8.0);
    pl->thin = (unsigned)(t < 1 ? 1 : t > 10 ? 10 : t);
    double steps = tau_steps * tau;
    double L = ceil(steps / ((double)BATCHES * pl->thin));
    pl->L = (uint32_t)L;
    pl->burnin = (uint32_t)ceil(BURN_TAU * tau);
}

static int64_t to_state(double v, double lsb)
{
    return (int64_t)llround(v / lsb);
}

static est_t g_est;

/* One SPD case: N, kappa, integrator. */
static void spd_case(int n, double kappa, tspu_integrator integ, double beta, uint64_t seed)
{
    char nm[160], tag[64];
    snprintf(tag, sizeof tag, "%s N=%d kappa=%g", int_name(integ), n, kappa);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    double Q[NMAX * NMAX], lam[NMAX] = {0}, A[NMAX * NMAX], xt[NMAX], b[NMAX], c[NMAX];
    random_orthogonal(r, n, Q);
    for (int i = 0; i < n; i++)
        lam[i] = pow(kappa, (double)i / (n - 1)); /* log-spaced 1..kappa */
    spd_from_eig(n, Q, lam, A);
    for (int k = 0; k < n; k++) /* x* with a component 1.5 along every mode */
        c[k] = gsl_rng_uniform(r) < 0.5 ? -1.5 : 1.5;
    for (int i = 0; i < n; i++) {
        xt[i] = 0;
        for (int k = 0; k < n; k++)
            xt[i] += Q[i * n + k] * c[k];
    }
    for (int i = 0; i < n; i++) {
        b[i] = 0;
        for (int j = 0; j < n; j++)
            b[i] += A[i * n + j] * xt[j];
    }
    gsl_rng_free(r);

    /* unquantised references */
    double Ainv[NMAX * NMAX], xref[NMAX];
    spd_inverse(n, A, Ainv);
    spd_solve(n, A, b, xref);

    /* problem parameters */
    const int ud = integ == TSPU_INT_UD;
    const double mass = 1.5;
    double h, gamma = 0;
    if (!ud) {
        h = 0.4 / kappa; /* h lambda_max = 0.4 */
    } else {
        h = 0.5 * sqrt(mass / kappa);        /* h omega_max = 0.5          */
        gamma = 2.0 * sqrt(mass * lam[0]);   /* slowest mode critically damped */
    }
    double sdmax = 0;
    for (int i = 0; i < n; i++) /* EM's covariance is the widest */
        sdmax = fmax(sdmax, sqrt(Ainv[i * n + i] / beta /
                                 (integ == TSPU_INT_EM ? 1.0 - 0.5 * h * kappa : 1.0)));
    tspu_problem pr = {.n = (unsigned)n, .A0 = A, .b0 = b, .beta = beta, .h = h,
                       .integrator = integ, .gamma = gamma, .mass = mass,
                       .x_range = max_abs(n, xref) + 8.0 * sdmax};
    tspu_mapping mp;
    tspu_model_config cfg = tspu_model_default_config();
    char err[200];
    if (tspu_map_problem(&pr, &mp, &cfg, err, sizeof err)) {
        snprintf(nm, sizeof nm, "%s: map problem", tag);
        tt_check(0, nm, "%s", err);
        return;
    }
    const double *Ae = mp.A_eff[0], *be = mp.b_eff[0];

    /* quantised references */
    double Aeinv[NMAX * NMAX], mref[NMAX], w[NMAX], U[NMAX * NMAX];
    spd_inverse(n, Ae, Aeinv);
    spd_solve(n, Ae, be, mref);
    sym_eig(n, Ae, w, U);
    /* twin problem: smallest eigenvalue of A_eff raised by PERTURB */
    double Aw[NMAX * NMAX], Awinv[NMAX * NMAX], mwrong[NMAX];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            Aw[i * n + j] = Ae[i * n + j] + PERTURB * w[0] * U[i * n] * U[j * n];
    spd_inverse(n, Aw, Awinv);
    spd_solve(n, Aw, be, mwrong);

    /* step matrix, stationary covariance S of the sampled vector, G */
    const int d = ud ? 2 * n : n;
    double Ms[DMAX * DMAX], S[DMAX * DMAX], G[DMAX * DMAX];
    double Sem[NMAX * NMAX], Semw[NMAX * NMAX]; /* EM formula, A_eff and twin */
    {
        double B2[NMAX * NMAX], A2[NMAX * NMAX];
        mat_mul(n, Ae, Ae, A2);
        for (int i = 0; i < n * n; i++)
            B2[i] = 2.0 * Ae[i] - h * A2[i];
        spd_inverse(n, B2, Sem); /* (2A - hA^2)^-1 */
        for (int i = 0; i < n * n; i++)
            Sem[i] *= 2.0 / beta; /* = beta^-1 A^-1 (I - hA/2)^-1 */
        mat_mul(n, Aw, Aw, A2);
        for (int i = 0; i < n * n; i++)
            B2[i] = 2.0 * Aw[i] - h * A2[i];
        spd_inverse(n, B2, Semw);
        for (int i = 0; i < n * n; i++)
            Semw[i] *= 2.0 / beta;
    }
    double Sud_claim[DMAX * DMAX];
    if (!ud) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Ms[i * n + j] = (i == j) - h * Ae[i * n + j];
        double Qn[NMAX * NMAX];
        if (integ == TSPU_INT_EM) {
            mat_eye(n, Qn);
            for (int i = 0; i < n * n; i++)
                Qn[i] *= 2.0 * h / beta;
            dlyap(n, Ms, Qn, S);
            snprintf(nm, sizeof nm, "%s: EM formula = discrete Lyapunov (LAPACK)", tag);
            tt_check(max_abs_diff(n * n, S, Sem) < 1e-9 * max_abs(n * n, Sem), nm,
                     "max diff %.3g", max_abs_diff(n * n, S, Sem));
            mat_mul(n, Ms, S, G);
        } else {
            const double c2 = h / (2.0 * beta);
            double IpM[NMAX * NMAX], Sy[NMAX * NMAX];
            mat_eye(n, IpM);
            for (int i = 0; i < n * n; i++)
                IpM[i] += Ms[i];
            double T1[NMAX * NMAX];
            mat_transpose(n, IpM, T1);
            mat_mul(n, IpM, T1, Qn);
            for (int i = 0; i < n * n; i++)
                Qn[i] *= c2;
            dlyap(n, Ms, Qn, Sy);
            memcpy(S, Sy, sizeof(double) * n * n);
            for (int i = 0; i < n; i++)
                S[i * n + i] += c2;
            double Sl[NMAX * NMAX];
            memcpy(Sl, Aeinv, sizeof Sl);
            for (int i = 0; i < n * n; i++)
                Sl[i] /= beta;
            snprintf(nm, sizeof nm, "%s: LM discrete Lyapunov = beta^-1 A^-1 exactly", tag);
            tt_check(max_abs_diff(n * n, S, Sl) < 1e-9 * max_abs(n * n, Sl), nm,
                     "max diff %.3g", max_abs_diff(n * n, S, Sl));
            mat_mul(n, Ms, Sy, G);
            for (int i = 0; i < n * n; i++)
                G[i] += c2 * IpM[i];
        }
    } else {
        /* effective coefficients of the quantised scheme */
        const double a = cfg.ka * ldexp(1.0, -(int)cfg.ka_shift) * mp.lsb_x / mp.lsb_p;
        const double cc = 1.0 - cfg.ko * ldexp(1.0, -(int)cfg.ko_shift);
        const double s2 = mp.noise_step_sd * mp.noise_step_sd;
        memset(Ms, 0, sizeof Ms);
        double Qn[DMAX * DMAX];
        memset(Qn, 0, sizeof Qn);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                Ms[i * d + j] = (i == j) - a * h * (1.0 + cc) * Ae[i * n + j];
                Ms[(n + i) * d + j] = -cc * h * Ae[i * n + j];
            }
            Ms[i * d + n + i] = a * (1.0 + cc);
            Ms[(n + i) * d + n + i] = cc;
            Qn[i * d + i] = s2 * a * a;
            Qn[i * d + n + i] = Qn[(n + i) * d + i] = s2 * a;
            Qn[(n + i) * d + n + i] = s2;
        }
        dlyap(d, Ms, Qn, S);
        mat_mul(d, Ms, S, G);
        memset(Sud_claim, 0, sizeof Sud_claim);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++)
                Sud_claim[i * d + j] = Aeinv[i * n + j] / beta;
            Sud_claim[(n + i) * d + n + i] = mass / beta;
        }
        /* x and p blocks: the claim; x-p block: a M/beta I (x1, the state
         * between the half drifts, is uncorrelated with p2, and
         * x2 = x1 + a p2) */
        double dx = 0, dp = 0, dxp = 0, nx = max_abs(n * n, Aeinv) / beta;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                Sud_claim[i * d + n + j] = Sud_claim[(n + j) * d + i] =
                    i == j ? a * mass / beta : 0.0;
                dx = fmax(dx, fabs(S[i * d + j] - Sud_claim[i * d + j]));
                dp = fmax(dp, fabs(S[(n + i) * d + n + j] - Sud_claim[(n + i) * d + n + j]));
                dxp = fmax(dxp, fabs(S[i * d + n + j] - Sud_claim[i * d + n + j]));
            }
        snprintf(nm, sizeof nm,
                 "%s: UD exact stationary covariance (discrete Lyapunov) = [A^-1, (h/2) I; (h/2) I, M]/beta",
                 tag);
        const double sxp = a * mass / beta;
        tt_check(dx < 1e-4 * nx && dp < 1e-4 * mass / beta && dxp < 1e-4 * sxp, nm,
                 "rel. deviations xx %.3g pp %.3g xp %.3g", dx / nx, dp * beta / mass, dxp / sxp);
        tt_note("%s: UD Lyapunov vs claim: rel. dev. xx %.2g, pp %.2g, xp %.2g (from ka=%d/2^%u, "
                "ko=%d/2^%u; far below the s.e.)",
                tag, dx / nx, dp * beta / mass, dxp / sxp, cfg.ka, cfg.ka_shift, cfg.ko,
                cfg.ko_shift);
    }
    const double rho = spectral_radius(d, Ms);
    const double tau = -1.0 / log(rho);

    run_plan pl = {.n = (unsigned)n, .ud_mom = ud, .seed = seed * 7919u + 17u};
    make_plan(&pl, tau, ud ? TAU_STEPS_UD : TAU_STEPS);
    int32_t x0[NMAX];
    for (int i = 0; i < n; i++)
        x0[i] = (int32_t)to_state(mref[i], mp.lsb_x);
    est_t *e = &g_est;
    if (run_chain(&mp, &cfg, &pl, x0, e)) {
        snprintf(nm, sizeof nm, "%s: run", tag);
        tt_check(0, nm, "model run failed");
        return;
    }
    snprintf(nm, sizeof nm, "%s: no saturation / FIFO overflow, moments consistent", tag);
    tt_check(!(e->flags & (TSPU_FLAG_SATURATED | TSPU_FLAG_FIFO_OVERFLOW |
                           TSPU_FLAG_MOMENT_LIMIT)) &&
                 e->moment_mismatch == 0,
             nm, "flags 0x%x, sat_count %u, moment mismatches %ld", e->flags, e->sat_count,
             e->moment_mismatch);
    if (!ud) {
        /* the host library's conversion agrees with the batch pool */
        double dmv = max_abs_diff(n, e->lib_mean, e->mean), dc = 0;
        for (int i = 0; i < n * n; i++)
            dc = fmax(dc, fabs(e->lib_cov[i] * (1.0 - 1.0 / e->samples) - e->cov[i]));
        snprintf(nm, sizeof nm, "%s: tspu_moments_to_real agrees with the batch pool", tag);
        tt_check(dmv < 1e-9 * (max_abs(n, e->mean) + 1) && dc < 1e-9 * max_abs(n * n, e->cov),
                 nm, "mean diff %.3g, cov diff %.3g", dmv, dc);
    }

    /* ---- means */
    double V[DMAX * DMAX];
    mean_var_theory(d, Ms, S, G, pl.thin, (double)e->samples, V);
    static cmpvec v;
    double ref[VMAX], wrong[VMAX];
    double mref_d[DMAX] = {0}, mwrong_d[DMAX] = {0};
    memcpy(mref_d, mref, sizeof(double) * n);
    memcpy(mwrong_d, mwrong, sizeof(double) * n);
    v.m = 0;
    flat_mean(&v, e, 0, n, U, V, mref_d, ref, mwrong_d, wrong);
    if (ud)
        flat_mean(&v, e, n, n, NULL, V, mref_d + n /* zeros */, ref, mref_d + n, wrong);
    snprintf(nm, sizeof nm, "%s: sample mean -> A^-1 b (theory s.e.)", tag);
    double zm = check_valid(nm, &v, ref, THR_Z);
    snprintf(nm, sizeof nm, "%s: twin: mean check rejects A with lambda_min +5%%", tag);
    double zmw = check_twin(nm, &v, wrong, THR_Z);
    /* batch-means s.e. of the means vs theory */
    double rr = 0;
    int nr = 0;
    for (int i = 0; i < d; i++) {
        double x[BATCHES];
        for (int k = 0; k < BATCHES; k++)
            x[k] = e->bmean[k][i];
        double sbm = sd_over_batches(x, NULL) / sqrt(BATCHES);
        double r_ = sbm / sqrt(V[i * d + i]);
        rr += r_ * r_;
        nr++;
    }
    rr = sqrt(rr / nr);
    snprintf(nm, sizeof nm, "%s: batch-means s.e. of the mean matches the theory (rms ratio)", tag);
    tt_check(rr > 0.8 && rr < 1.25, nm, "rms ratio %.3f", rr);
    /* twin: the same ratio test against the naive iid error bar sqrt(S_ii/ns) */
    double naive = 0, rr_iid = 0;
    for (int i = 0; i < d; i++) {
        double x[BATCHES];
        for (int k = 0; k < BATCHES; k++)
            x[k] = e->bmean[k][i];
        const double sbm = sd_over_batches(x, NULL) / sqrt(BATCHES);
        const double siid = sqrt(S[i * d + i] / e->samples);
        rr_iid += (sbm / siid) * (sbm / siid);
        naive = fmax(naive, sqrt(V[i * d + i]) / siid);
    }
    rr_iid = sqrt(rr_iid / d);
    snprintf(nm, sizeof nm, "%s: twin: the ratio test rejects the iid error bar", tag);
    tt_check(!(rr_iid > 0.8 && rr_iid < 1.25), nm, "rms ratio to the iid s.e. %.3f", rr_iid);

    /* ---- covariances */
    const double *Sref_x, *Swrong_x;
    double Sx[NMAX * NMAX], Sxw[NMAX * NMAX], Sb[NMAX * NMAX];
    if (integ == TSPU_INT_EM) {
        Sref_x = Sem;
        Swrong_x = Semw;
    } else {
        for (int i = 0; i < n * n; i++) {
            Sx[i] = Aeinv[i] / beta;
            Sxw[i] = Awinv[i] / beta;
        }
        Sref_x = Sx;
        Swrong_x = Sxw;
    }
    v.m = 0;
    flat_cov(&v, e, 0, n, 0, n, U, Sref_x, ref, Swrong_x, wrong, NULL);
    snprintf(nm, sizeof nm, "%s: %s", tag,
             integ == TSPU_INT_EM ? "covariance -> beta^-1 A^-1 (I - hA/2)^-1"
                                  : "beta * covariance -> A^-1");
    double zc = check_valid(nm, &v, ref, THR_T);
    snprintf(nm, sizeof nm, "%s: twin: covariance check rejects A with lambda_min +5%%", tag);
    double zcw = check_twin(nm, &v, wrong, THR_T);
    double zb = 0;
    if (integ == TSPU_INT_EM) { /* EM against the unbiased answer */
        for (int i = 0; i < n * n; i++)
            Sb[i] = Aeinv[i] / beta;
        cmpvec *t = &v;
        double r2[VMAX];
        t->m = 0;
        flat_cov(t, e, 0, n, 0, n, U, Sb, r2, NULL, NULL, NULL);
        snprintf(nm, sizeof nm, "%s: twin: EM covariance is not beta^-1 A^-1 (bias resolved)", tag);
        zb = check_twin(nm, t, r2, THR_T);
    } else if (integ == TSPU_INT_LM) { /* LM against the EM-biased formula */
        double r2[VMAX];
        v.m = 0;
        flat_cov(&v, e, 0, n, 0, n, U, Sem, r2, NULL, NULL, NULL);
        snprintf(nm, sizeof nm, "%s: twin: covariance is not the EM-biased one (bias removed)", tag);
        zb = check_twin(nm, &v, r2, THR_T);
    } else { /* UD against the O(h^2)-biased x covariance of the other
              * splitting order (ABOBA): beta^-1 A^-1 (I - h^2 A / 4M)^-1 */
        double r2[VMAX], B2[NMAX * NMAX], A2[NMAX * NMAX];
        mat_mul(n, Ae, Ae, A2);
        for (int i = 0; i < n * n; i++)
            B2[i] = Ae[i] - h * h / (4.0 * mass) * A2[i];
        spd_inverse(n, B2, Sb);
        for (int i = 0; i < n * n; i++)
            Sb[i] /= beta;
        v.m = 0;
        flat_cov(&v, e, 0, n, 0, n, U, Sb, r2, NULL, NULL, NULL);
        snprintf(nm, sizeof nm,
                 "%s: twin: x covariance is not the ABOBA one A^-1 (I - h^2 A/4M)^-1 / beta", tag);
        zb = check_twin(nm, &v, r2, THR_T);
    }
    double zp = 0, zpw = 0, zxp = 0, zxpw = 0;
    if (ud) {
        double Sp[NMAX * NMAX] = {0}, Spw[NMAX * NMAX] = {0}, Sxp[NMAX * NMAX] = {0},
               Sxpw[NMAX * NMAX] = {0};
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                Sp[i * n + j] = i == j ? mass / beta : 0.0;
                Spw[i * n + j] = i == j ? 1.05 * mass / beta : 0.0;
                Sxp[i * n + j] = 0.0;
                Sxpw[i * n + j] = 0.0;
            }
        v.m = 0;
        flat_cov(&v, e, n, n, n, n, NULL, Sp, ref, Spw, wrong, NULL);
        snprintf(nm, sizeof nm, "%s: momentum covariance -> beta^-1 M I", tag);
        zp = check_valid(nm, &v, ref, THR_T);
        snprintf(nm, sizeof nm, "%s: twin: momentum check rejects beta^-1 (1.05 M)", tag);
        zpw = check_twin(nm, &v, wrong, THR_T);
        /* x-p cross block: (h/2)/beta I at this sampling point (exact
         * Lyapunov value); twin: the naive 0 */
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Sxp[i * n + j] = Sud_claim[i * d + n + j];
        v.m = 0;
        flat_cov(&v, e, 0, n, n, n, NULL, Sxp, ref, Sxpw, wrong, NULL);
        snprintf(nm, sizeof nm, "%s: x-p cross-covariance -> (h/2)/beta I", tag);
        zxp = check_valid(nm, &v, ref, THR_T);
        snprintf(nm, sizeof nm,
                 "%s: twin: cross check rejects a zero x-p covariance", tag);
        zxpw = check_twin(nm, &v, wrong, THR_T);
    }

    /* notes: figures and the distance to the unquantised problem */
    double semax = 0, covse = 0;
    for (int i = 0; i < n; i++)
        semax = fmax(semax, sqrt(V[i * d + i]));
    {
        double x[BATCHES];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < BATCHES; k++)
                x[k] = e->bcov[k][i * d + i];
            covse = fmax(covse, sd_over_batches(x, NULL) / sqrt(BATCHES));
        }
    }
    double dq_mean = max_abs_diff(n, mref, xref);
    double dq_inv = max_abs_diff(n * n, Aeinv, Ainv) / beta;
    tt_note("%s beta=%g h=%.4g tau=%.0f steps thin=%u: %llu steps, %llu samples, %.2f s", tag,
            beta, h, tau, pl.thin, (unsigned long long)e->steps,
            (unsigned long long)e->samples, e->seconds);
    tt_note("%s max|z|: mean %.2f (twin %.1f), cov %.2f (twin %.1f, bias twin %.1f)%s", tag, zm,
            zmw, zc, zcw, zb, "");
    if (ud)
        tt_note("%s max|z|: momentum cov %.2f (twin %.1f), x-p cross %.2f (twin %.1f)", tag, zp,
                zpw, zxp, zxpw);
    tt_note("%s s.e.(mean) batch/theory rms %.3f; naive iid s.e. too small by up to %.1fx; "
            "quantisation: |A_eff^-1 b_eff - A^-1 b| = %.2g (%.2g s.e.), |A_eff^-1 - A^-1|/beta = "
            "%.2g (%.2g s.e.)",
            tag, rr, naive, dq_mean, dq_mean / semax, dq_inv, dq_inv / covse);
}

/* ------------------------------------------------------------------------ */
/* Non-symmetric stable A: Lyapunov                                          */

static void lyap_case(int n, double kappa, tspu_integrator integ, double beta, uint64_t seed)
{
    char nm[160], tag[64];
    snprintf(tag, sizeof tag, "%s non-symmetric N=%d", int_name(integ), n);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    double Q[NMAX * NMAX], lam[NMAX], A[NMAX * NMAX], b[NMAX], K[NMAX * NMAX];
    random_orthogonal(r, n, Q);
    for (int i = 0; i < n; i++)
        lam[i] = pow(kappa, (double)i / (n - 1));
    spd_from_eig(n, Q, lam, A);
    /* skew part K = s (G - G^T)/2: real parts of eig(A) stay >= lambda_min */
    double kn = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            K[i * n + j] = gsl_ran_gaussian(r, 1.0);
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            double s = 0.5 * (K[i * n + j] - K[j * n + i]);
            K[i * n + j] = s;
            K[j * n + i] = -s;
            kn = fmax(kn, fabs(s));
        }
    for (int i = 0; i < n * n; i++)
        A[i] += SKEW * kappa / kn * K[i];
    for (int i = 0; i < n; i++)
        b[i] = 1.5 * gsl_ran_gaussian(r, 1.0) * kappa / 2;
    gsl_rng_free(r);

    double I2[NMAX * NMAX], xref[NMAX];
    mat_eye(n, I2);
    for (int i = 0; i < n * n; i++)
        I2[i] *= 2.0 / beta;
    gen_solve(n, A, 1, b, xref);
    double Sc0[NMAX * NMAX];
    clyap(n, A, I2, Sc0);
    /* Step: explicit schemes are stable for mode k when h < 2 Re(l_k) / |l_k|^2;
     * h is HFAC times the smallest such limit, which keeps the O(h)
     * discretisation bias of the rotating modes small. */
    double hlim = INFINITY;
    {
        double wr[NMAX], wi[NMAX];
        gen_eigvals(n, A, wr, wi);
        for (int i = 0; i < n; i++) {
            if (!(wr[i] > 0)) {
                snprintf(nm, sizeof nm, "%s: test matrix is stable", tag);
                tt_check(0, nm, "eigenvalue %g%+gi", wr[i], wi[i]);
                return;
            }
            hlim = fmin(hlim, 2.0 * wr[i] / (wr[i] * wr[i] + wi[i] * wi[i]));
        }
    }
    if (getenv("STATS_EXPLORE")) { /* diagnostic: bias of both schemes vs h */
        for (double hf = 0.3; hf > 0.005; hf /= 3) {
            double hh = hf * hlim, Mx[NMAX * NMAX], Qn[NMAX * NMAX], Se[NMAX * NMAX],
                   Sl[NMAX * NMAX], IpM[NMAX * NMAX], T1[NMAX * NMAX];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    Mx[i * n + j] = (i == j) - hh * A[i * n + j];
            mat_eye(n, Qn);
            for (int i = 0; i < n * n; i++)
                Qn[i] *= 2.0 * hh / beta;
            dlyap(n, Mx, Qn, Se);
            mat_eye(n, IpM);
            for (int i = 0; i < n * n; i++)
                IpM[i] += Mx[i];
            mat_transpose(n, IpM, T1);
            mat_mul(n, IpM, T1, Qn);
            for (int i = 0; i < n * n; i++)
                Qn[i] *= hh / (2 * beta);
            dlyap(n, Mx, Qn, Sl);
            for (int i = 0; i < n; i++)
                Sl[i * n + i] += hh / (2 * beta);
            double rr = spectral_radius(n, Mx);
            tt_note("explore %s hf=%.3g h=%.4g tau=%.0f EM bias %.3g LM bias %.3g", tag, hf, hh,
                    -1 / log(rr), max_abs_diff(n * n, Se, Sc0) / max_abs(n * n, Sc0),
                    max_abs_diff(n * n, Sl, Sc0) / max_abs(n * n, Sc0));
        }
    }
    const double h = HFAC * hlim;
    double sdmax = 0;
    for (int i = 0; i < n; i++)
        sdmax = fmax(sdmax, sqrt(Sc0[i * n + i]));
    tspu_problem pr = {.n = (unsigned)n, .A0 = A, .b0 = b, .beta = beta, .h = h,
                       .integrator = integ, .x_range = max_abs(n, xref) + 9.0 * sdmax};
    tspu_mapping mp;
    tspu_model_config cfg = tspu_model_default_config();
    char err[200];
    if (tspu_map_problem(&pr, &mp, &cfg, err, sizeof err)) {
        snprintf(nm, sizeof nm, "%s: map problem", tag);
        tt_check(0, nm, "%s", err);
        return;
    }
    const double *Ae = mp.A_eff[0], *be = mp.b_eff[0];
    double mref[NMAX], Aw[NMAX * NMAX], mwrong[NMAX];
    gen_solve(n, Ae, 1, be, mref);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            Aw[i * n + j] = Ae[i * n + j] + PERTURB_NS * lam[0] * Q[i * n] * Q[j * n];
    gen_solve(n, Aw, 1, be, mwrong);

    /* exact discrete-time covariance of the linear scheme, for A and twin */
    double Ms[NMAX * NMAX], S[NMAX * NMAX], G[NMAX * NMAX], Sw[NMAX * NMAX];
    double Sc[NMAX * NMAX], Scw[NMAX * NMAX];
    for (int pass = 0; pass < 2; pass++) {
        const double *AA = pass ? Aw : Ae;
        double Mx[NMAX * NMAX], Qn[NMAX * NMAX], Sd[NMAX * NMAX], Gx[NMAX * NMAX];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Mx[i * n + j] = (i == j) - h * AA[i * n + j];
        if (integ == TSPU_INT_EM) {
            mat_eye(n, Qn);
            for (int i = 0; i < n * n; i++)
                Qn[i] *= 2.0 * h / beta;
            dlyap(n, Mx, Qn, Sd);
            mat_mul(n, Mx, Sd, Gx);
        } else {
            const double c2 = h / (2.0 * beta);
            double IpM[NMAX * NMAX], T1[NMAX * NMAX], Sy[NMAX * NMAX];
            mat_eye(n, IpM);
            for (int i = 0; i < n * n; i++)
                IpM[i] += Mx[i];
            mat_transpose(n, IpM, T1);
            mat_mul(n, IpM, T1, Qn);
            for (int i = 0; i < n * n; i++)
                Qn[i] *= c2;
            dlyap(n, Mx, Qn, Sy);
            memcpy(Sd, Sy, sizeof Sd);
            for (int i = 0; i < n; i++)
                Sd[i * n + i] += c2;
            mat_mul(n, Mx, Sy, Gx);
            for (int i = 0; i < n * n; i++)
                Gx[i] += c2 * IpM[i];
        }
        clyap(n, AA, I2, pass ? Scw : Sc);
        if (!pass) {
            memcpy(Ms, Mx, sizeof Ms);
            memcpy(S, Sd, sizeof S);
            memcpy(G, Gx, sizeof G);
        } else {
            memcpy(Sw, Sd, sizeof Sw);
        }
    }
    /* sanity of the continuous solution: residual of A S + S A^T - 2/beta I */
    {
        double AS[NMAX * NMAX], res = 0;
        mat_mul(n, Ae, Sc, AS);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                res = fmax(res, fabs(AS[i * n + j] + AS[j * n + i] - I2[i * n + j]));
        snprintf(nm, sizeof nm, "%s: continuous Lyapunov residual (LAPACK solve)", tag);
        tt_check(res < 1e-10 * (2.0 / beta), nm, "residual %.3g", res);
    }
    const double rho = spectral_radius(n, Ms);
    const double tau = -1.0 / log(rho);
    run_plan pl = {.n = (unsigned)n, .ud_mom = 0, .seed = seed * 104729u + 5u + (unsigned)integ};
    make_plan(&pl, tau, TAU_STEPS_NS);
    int32_t x0[NMAX];
    for (int i = 0; i < n; i++)
        x0[i] = (int32_t)to_state(mref[i], mp.lsb_x);
    est_t *e = &g_est;
    if (run_chain(&mp, &cfg, &pl, x0, e)) {
        snprintf(nm, sizeof nm, "%s: run", tag);
        tt_check(0, nm, "model run failed");
        return;
    }
    snprintf(nm, sizeof nm, "%s: no saturation / FIFO overflow", tag);
    tt_check(!(e->flags & (TSPU_FLAG_SATURATED | TSPU_FLAG_FIFO_OVERFLOW)), nm,
             "flags 0x%x, sat_count %u", e->flags, e->sat_count);

    double w[NMAX], U[NMAX * NMAX];
    sym_eig(n, S, w, U); /* principal axes of the reference covariance */
    double V[NMAX * NMAX];
    mean_var_theory(n, Ms, S, G, pl.thin, (double)e->samples, V);
    static cmpvec v;
    double ref[VMAX], wrong[VMAX];
    v.m = 0;
    flat_mean(&v, e, 0, n, U, V, mref, ref, mwrong, wrong);
    snprintf(nm, sizeof nm, "%s: sample mean -> A^-1 b", tag);
    double zm = check_valid(nm, &v, ref, THR_Z);
    snprintf(nm, sizeof nm, "%s: twin: mean check rejects perturbed A", tag);
    double zmw = check_twin(nm, &v, wrong, THR_Z);

    v.m = 0;
    flat_cov(&v, e, 0, n, 0, n, U, S, ref, Sw, wrong, NULL);
    snprintf(nm, sizeof nm, "%s: covariance -> exact discrete-time Lyapunov solution", tag);
    double zd = check_valid(nm, &v, ref, THR_T);
    snprintf(nm, sizeof nm, "%s: twin: discrete-Lyapunov check rejects perturbed A", tag);
    double zdw = check_twin(nm, &v, wrong, THR_T);

    /* continuous Lyapunov: allowance = |S_h - S| entrywise (exact bias) */
    double allow[NMAX * NMAX], bias_rel = 0, bias_z = 0;
    for (int i = 0; i < n * n; i++)
        allow[i] = fabs(S[i] - Sc[i]);
    bias_rel = max_abs(n * n, allow) / max_abs(n * n, Sc);
    v.m = 0;
    flat_cov(&v, e, 0, n, 0, n, U, Sc, ref, Scw, wrong, allow);
    for (int i = 0; i < v.m; i++)
        bias_z = fmax(bias_z, v.allow[i] / v.se[i]);
    snprintf(nm, sizeof nm,
             "%s: covariance -> continuous Lyapunov A S + S A^T = 2/beta I (+ discretisation bias)",
             tag);
    double zcl = check_valid(nm, &v, ref, THR_T);
    snprintf(nm, sizeof nm, "%s: twin: continuous-Lyapunov check rejects perturbed A", tag);
    double zclw = check_twin(nm, &v, wrong, THR_T);
    tt_note("%s beta=%g h=%.4g (HFAC=%g of the stability limit) tau=%.0f thin=%u: %llu steps, %.2f s", tag,
            beta, h, HFAC, tau, pl.thin, (unsigned long long)e->steps, e->seconds);
    tt_note("%s max|z|: mean %.2f (twin %.1f), discrete Lyapunov %.2f (twin %.1f), continuous "
            "%.2f (twin %.1f); discretisation bias max %.2g rel = up to %.1f s.e.",
            tag, zm, zmw, zd, zdw, zcl, zclw, bias_rel, bias_z);
}

int main(void)
{
    THR_Z = gsl_cdf_ugaussian_Qinv(ALPHA_FW / (2.0 * M_DECLARED));
    THR_T = gsl_cdf_tdist_Qinv(ALPHA_FW / (2.0 * M_DECLARED), BATCHES - 1);
    tt_note("thresholds (family-wise %.0f%% over <= %d comparisons, Bonferroni): |z| < %.2f "
            "(normal), |t| < %.2f (t, %d d.o.f.)",
            100 * ALPHA_FW, M_DECLARED, THR_Z, THR_T, BATCHES - 1);
    const double t0 = now_s();
    static const int Ns[4] = {2, 4, 8, 16};
    static const double betas[4] = {1.0, 2.5, 0.5, 1.0};
    static const double kappas[2] = {10.0, 100.0};
    uint64_t seed = 101;
    for (int in = 0; in < 4; in++)
        for (int ik = 0; ik < 2; ik++)
            for (int ig = 0; ig < 3; ig++)
                spd_case(Ns[in], kappas[ik], (tspu_integrator)ig, betas[in], seed++);
    lyap_case(4, 10.0, TSPU_INT_EM, 1.0, 501); /* same A for EM and LM */
    lyap_case(4, 10.0, TSPU_INT_LM, 1.0, 501);
    lyap_case(8, 10.0, TSPU_INT_EM, 2.0, 503);
    lyap_case(8, 10.0, TSPU_INT_LM, 2.0, 503);
    tt_check(n_cmp_valid <= M_DECLARED, "comparison count within the declared budget",
             "%d > %d", n_cmp_valid, M_DECLARED);
    /* Calibration of all error bars together: for correct standard errors
     * P(|z| > 2) = 4.6 % (normal; 4.8 % for t_99).  The comparisons are
     * correlated (entries of one matrix share the slow-mode fluctuation),
     * so the count scatters more than a binomial; the accepted band 2..9 %
     * is wide.  Error bars twice too large would give P(|z| > 2) = P(|z| > 4
     * for the true s.e.) ~ 0.01 %; twice too small ~ 32 %. */
    const double f2 = (double)n_z_gt2 / n_z_cal, f4 = (double)n_z_gt4 / n_z_cal;
    tt_check(f2 > 0.02 && f2 < 0.09, "error bars calibrated: fraction of |z| > 2 in 2..9 %",
             "fraction %.4f", f2);
    tt_check(!(f4 > 0.02 && f4 < 0.09),
             "twin: calibration test rejects error bars doubled (fraction of |z| > 4)",
             "fraction %.4f", f4);
    tt_note("calibration over %d z-scores (the continuous-Lyapunov ones, which carry a bias "
            "allowance, excluded): |z| > 2: %d (%.2f %%, expect ~4.6), |z| > 3: %d (%.2f %%, "
            "expect ~0.27), |z| > 4: %d",
            n_z_cal, n_z_gt2, 100 * f2, n_z_gt3, 100.0 * n_z_gt3 / n_z_cal, n_z_gt4);
    tt_note("%d valid comparisons; model time %.1f s, total %.1f s", n_cmp_valid,
            total_model_seconds, now_s() - t0);
    return tt_exit();
}
