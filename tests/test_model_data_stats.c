/*
 * test_model_data_stats.c - statistics of the data-driven drift
 * (docs/numerics.md, "Data-driven drift"), fixed seeds.
 *
 *  1. Gaussian prior x Gaussian likelihood at lambda = 1 (LM): the sample
 *     mean and covariance match the closed-form posterior of the problem the
 *     integers encode exactly (tspu_map_problem's A_eff / b_eff and
 *     tspu_map_data's X_eff / y_eff / ell_eff; LAPACKE), within batch-means
 *     error bars; would-fail twin: the posterior with the likelihood
 *     weighted 0.9 is rejected by the same check.
 *  2. Jarzynski: linear lambda ramps 0 -> 1 from the prior equilibrium;
 *     -log <exp(-beta W)> over many short runs matches beta dF of the
 *     Gaussian normalisers; twins: the mean work <W> (second law only),
 *     exp(+beta W) (sign of W) and dF without the constant 1/2 y'Ly are
 *     rejected by the same check; <W> >= dF.
 */
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tspu_fixmap.h"
#include "tspu_model.h"
#include "tt.h"

#define TT_RNG_SEED 0xBA7E5BA7E5ull
#include "tt_rng.h"

#define NM 4
#define KM 64

typedef struct {
    unsigned n, k;
    double P0[NM * NM], mu0[NM], b0[NM];
    double X[KM * NM], y[KM], ell[KM];
} gg_problem;

/* the problem the integers encode: A1 = A0 + lam X'LX, b1 = b0 + lam X'Ly,
 * c1 = lam/2 y'Ly (U = 1/2 x'Ax - b'x + c) */
static void posterior(const tspu_mapping *mp, const tspu_data_mapping *dm, unsigned n, unsigned k, double lam,
                      double *A, double *b, double *c)
{
    *c = 0;
    for (unsigned i = 0; i < n; i++) {
        b[i] = mp->b_eff[0][i];
        for (unsigned j = 0; j < n; j++)
            A[i * n + j] = mp->A_eff[0][i * n + j];
    }
    for (unsigned d = 0; d < k; d++) {
        const double l = lam * dm->ell_eff[d], yd = dm->y_eff[d];
        const double *x = dm->X_eff + (size_t)d * n;
        for (unsigned i = 0; i < n; i++) {
            b[i] += l * x[i] * yd;
            for (unsigned j = 0; j < n; j++)
                A[i * n + j] += l * x[i] * x[j];
        }
        *c += 0.5 * l * yd * yd;
    }
    /* A_eff may be asymmetric by rounding: the dynamics use it as is, the
     * stationary law is that of the symmetric part for the quadratic form;
     * the prior here is mapped from a symmetric matrix, so a_ij = a_ji */
}

/* mean = A^-1 b, cov = A^-1, logdet A */
static int gauss_solve(unsigned n, const double *A, const double *b, double *mean, double *cov, double *logdet)
{
    double L[NM * NM];
    memcpy(L, A, sizeof(double) * n * n);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (int)n, L, (int)n))
        return -1;
    *logdet = 0;
    for (unsigned i = 0; i < n; i++)
        *logdet += 2.0 * log(L[i * n + i]);
    memcpy(mean, b, sizeof(double) * n);
    LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (int)n, 1, L, (int)n, mean, 1);
    memcpy(cov, L, sizeof(double) * n * n);
    LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (int)n, cov, (int)n);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i + 1; j < n; j++)
            cov[i * n + j] = cov[j * n + i];
    return 0;
}

static void make_problem(gg_problem *G, unsigned n, unsigned k, double lscale)
{
    memset(G, 0, sizeof *G);
    G->n = n;
    G->k = k;
    /* prior precision: well conditioned, correlated */
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++)
            G->P0[i * n + j] = i == j ? 1.0 + 0.5 * i : (i + j == 1 ? 0.3 : (i + j == 3 ? -0.2 : 0.0));
    for (unsigned i = 0; i < n; i++)
        G->mu0[i] = 0.4 * (double)i - 0.3;
    for (unsigned i = 0; i < n; i++) {
        G->b0[i] = 0;
        for (unsigned j = 0; j < n; j++)
            G->b0[i] += G->P0[i * n + j] * G->mu0[j];
    }
    double th[NM];
    for (unsigned i = 0; i < n; i++)
        th[i] = 1.0 - 0.7 * (double)i;
    for (unsigned d = 0; d < k; d++) {
        double z = 0;
        for (unsigned j = 0; j < n; j++) {
            G->X[d * n + j] = 2.0 * urand() - 1.0;
            z += G->X[d * n + j] * th[j];
        }
        G->ell[d] = lscale * (0.5 + urand());
        G->y[d] = z + nrand() / sqrt(G->ell[d]);
    }
}

static int map_all(const gg_problem *G, double h, double x_range, tspu_mapping *mp, tspu_data_mapping *dm,
                   tspu_model_config *cfg, tspu_problem *pr)
{
    *cfg = tspu_model_default_config();
    *pr = (tspu_problem){.n = G->n, .A0 = G->P0, .b0 = G->b0, .beta = 1.0, .h = h, .integrator = TSPU_INT_LM,
                         .x_range = x_range};
    char err[200];
    if (tspu_map_problem(pr, mp, cfg, err, sizeof err)) {
        tt_note("map_problem: %s", err);
        return -1;
    }
    tspu_data_problem dp = {.mode = TSPU_DATA_GAUSS, .k = G->k, .X = G->X, .y = G->y, .ell = G->ell};
    if (tspu_map_data(pr, mp, &dp, dm, cfg, err, sizeof err)) {
        tt_note("map_data: %s", err);
        return -1;
    }
    return 0;
}

static tspu_model *load_model(unsigned n, const tspu_mapping *mp, const tspu_data_mapping *dm,
                              const tspu_model_config *cfg, uint64_t seed)
{
    tspu_model *m = tspu_model_create(n, 1u << 16);
    if (!m || tspu_model_configure(m, cfg) != TSPU_MODEL_OK)
        return NULL;
    tspu_model_load_couplings(m, 0, mp->a[0], mp->b[0]);
    tspu_model_load_data(m, 0, dm->k, dm->x, dm->y, dm->l);
    tspu_model_seed(m, seed);
    int32_t x0[NM] = {0};
    tspu_model_set_state(m, x0, NULL);
    return m;
}

/* ------------------------------------------------------------------ */
/* 1. posterior at lambda = 1                                          */
static void test_posterior(void)
{
    enum { n = 3, k = 40, B = 40 };
    static gg_problem G;
    make_problem(&G, n, k, 4.0);
    static tspu_data_mapping dm;
    tspu_mapping mp;
    tspu_model_config cfg;
    tspu_problem pr;
    /* h: h * lambda_max(posterior precision) ~ 0.3 (LM is exact in the
     * stationary covariance for any stable h; h only sets the speed) */
    double A[n * n], b[n], c, mean[n], cov[n * n], ld;
    if (map_all(&G, 0.01, 8.0, &mp, &dm, &cfg, &pr)) {
        tt_check(0, "posterior: mapping", "refused");
        return;
    }
    posterior(&mp, &dm, n, k, 1.0, A, b, &c);
    double tr = 0;
    for (unsigned i = 0; i < n; i++)
        tr += A[i * n + i];
    const double h = 0.3 / tr; /* tr >= lambda_max */
    if (map_all(&G, h, 8.0, &mp, &dm, &cfg, &pr)) {
        tt_check(0, "posterior: mapping", "refused");
        return;
    }
    posterior(&mp, &dm, n, k, 1.0, A, b, &c);
    gauss_solve(n, A, b, mean, cov, &ld);
    /* the slowest mode relaxes in 1/(h lambda_min) steps: thin by that */
    double evals[n], Ac[n * n];
    memcpy(Ac, A, sizeof Ac);
    LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', n, Ac, n, evals);
    const double tau = 1.0 / (h * evals[0]);
    const uint32_t thin = (uint32_t)ceil(tau / 4);
    const uint32_t ns = 40000; /* B batches of 1000 samples, each ~250 tau */
    cfg.lambda_init = TSPU_LAMBDA_ACC_ONE;
    cfg.burnin = (uint32_t)(20 * tau);
    cfg.thin = thin;
    cfg.n_samples = ns;
    tspu_model *m = load_model(n, &mp, &dm, &cfg, 0x5EED0001);
    tspu_model_start(m);
    static int16_t buf[40000 * n];
    size_t got = 0;
    while (!tspu_model_done(m)) {
        tspu_model_run(m, 1u << 16);
        got += tspu_model_fifo_read(m, buf + got, sizeof buf / sizeof buf[0] - got);
    }
    got += tspu_model_fifo_read(m, buf + got, sizeof buf / sizeof buf[0] - got);
    tspu_status st;
    tspu_model_read_status(m, &st);
    tt_note("posterior: n %u, K %u, h %.4g, eigenvalues %.3g..%.3g, tau %.0f steps, thin %u, Sr %u Sg %u Dd %u",
            n, k, h, evals[0], evals[n - 1], tau, thin, cfg.data_sr, cfg.data_sg, cfg.data_dd);
    tt_check(got == (size_t)ns * n && !(st.flags & TSPU_FLAG_SATURATED), "posterior: run complete, nothing clamped",
             "%zu words, %lu clamps", got, (unsigned long)st.sat_count);
    /* statistics: global mean, then batch means of x and of (x-m)(x-m)^T */
    double gm[n] = {0};
    const double ox = mp.op_x;
    for (size_t s = 0; s < ns; s++)
        for (unsigned i = 0; i < n; i++)
            gm[i] += buf[s * n + i] * ox / ns;
    const unsigned nstat = n + n * (n + 1) / 2;
    double bs[B][n + n * (n + 1) / 2];
    memset(bs, 0, sizeof bs);
    const size_t bl = ns / B;
    for (unsigned q = 0; q < B; q++) {
        for (size_t s = q * bl; s < (q + 1) * bl; s++) {
            double v[n];
            for (unsigned i = 0; i < n; i++)
                v[i] = buf[s * n + i] * ox;
            unsigned t = 0;
            for (unsigned i = 0; i < n; i++)
                bs[q][t++] += v[i] / bl;
            for (unsigned i = 0; i < n; i++)
                for (unsigned j = i; j < n; j++)
                    bs[q][t++] += (v[i] - gm[i]) * (v[j] - gm[j]) / bl;
        }
        unsigned t = n;
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = i; j < n; j++, t++)
                if (i == j)
                    bs[q][t] -= ox * ox / 12.0; /* Sheppard */
    }
    double est[n + n * (n + 1) / 2], se[n + n * (n + 1) / 2];
    for (unsigned t = 0; t < nstat; t++) {
        double s1 = 0, s2 = 0;
        for (unsigned q = 0; q < B; q++)
            s1 += bs[q][t];
        s1 /= B;
        for (unsigned q = 0; q < B; q++)
            s2 += (bs[q][t] - s1) * (bs[q][t] - s1);
        est[t] = s1;
        se[t] = sqrt(s2 / (B - 1) / B);
    }
    /* max |z| over the 9 statistics; the batch estimates are t with 39
     * degrees of freedom: P(|t| > 4) = 2.7e-4 each, ~0.25 % for all 9 */
    for (int twin = 0; twin < 2; twin++) {
        double At[n * n], bt[n], ct, mt[n], ctv[n * n], ldt;
        posterior(&mp, &dm, n, k, twin ? 0.9 : 1.0, At, bt, &ct);
        gauss_solve(n, At, bt, mt, ctv, &ldt);
        double zmax = 0, rel_cov = 0;
        unsigned t = 0;
        for (unsigned i = 0; i < n; i++, t++)
            zmax = fmax(zmax, fabs(est[t] - mt[i]) / se[t]);
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = i; j < n; j++, t++) {
                zmax = fmax(zmax, fabs(est[t] - ctv[i * n + j]) / se[t]);
                rel_cov = fmax(rel_cov, fabs(est[t] - ctv[i * n + j]) / sqrt(ctv[i * n + i] * ctv[j * n + j]));
            }
        if (!twin) {
            tt_check(zmax < 4.0, "posterior at lambda 1: mean and covariance = closed form within 4 batch-means s.e.",
                     "max |z| %.2f", zmax);
            tt_note("posterior: max |z| %.2f, max cov error %.2g of sd_i sd_j; mean %.4f %.4f %.4f (exact %.4f %.4f %.4f)",
                    zmax, rel_cov, est[0], est[1], est[2], mt[0], mt[1], mt[2]);
        } else {
            tt_check(zmax > 4.0, "posterior twin: likelihood weighted 0.9 is rejected by the same check",
                     "max |z| %.2f", zmax);
        }
    }
    tspu_model_destroy(m);
}

/* ------------------------------------------------------------------ */
/* 2. Jarzynski                                                        */
static void test_jarzynski(void)
{
    enum { n = 2, k = 6 };
    static gg_problem G;
    make_problem(&G, n, k, 1.0);
    static tspu_data_mapping dm;
    tspu_mapping mp;
    tspu_model_config cfg;
    tspu_problem pr;
    const double h = 0.01;
    if (map_all(&G, h, 10.0, &mp, &dm, &cfg, &pr)) {
        tt_check(0, "jarzynski: mapping", "refused");
        return;
    }
    double A0[n * n], b0[n], c0, A1[n * n], b1[n], c1, m0[n], m1[n], C0[n * n], C1[n * n], ld0, ld1;
    posterior(&mp, &dm, n, k, 0.0, A0, b0, &c0);
    posterior(&mp, &dm, n, k, 1.0, A1, b1, &c1);
    gauss_solve(n, A0, b0, m0, C0, &ld0);
    gauss_solve(n, A1, b1, m1, C1, &ld1);
    /* beta dF = -log Z1/Z0, log Z = n/2 log 2pi - 1/2 logdet A + 1/2 b'A^-1 b - c (beta = 1) */
    double q0 = 0, q1 = 0;
    for (unsigned i = 0; i < n; i++) {
        q0 += b0[i] * m0[i];
        q1 += b1[i] * m1[i];
    }
    const double dF = 0.5 * ld1 - 0.5 * ld0 - 0.5 * (q1 - q0) + c1;
    const double dF_noc = dF - c1; /* twin: the constant of the likelihood forgotten */
    double ev0[n], Ac[n * n];
    memcpy(Ac, A0, sizeof Ac);
    LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', n, Ac, n, ev0);
    const double tau0 = 1.0 / (h * ev0[0]);
    const uint32_t T = 512; /* ramp steps, a power of two: dlambda = 2^31/T exactly */
    const unsigned M = 10000;
    cfg.lambda_init = 0;
    cfg.burnin = (uint32_t)(10 * tau0); /* back to the prior equilibrium from the last ramp's end */
    cfg.n_segments = 1;
    cfg.seg[0].steps = T;
    cfg.seg[0].dlambda = (int32_t)(0x80000000u / T);
    cfg.n_samples = 0;
    tspu_model *m = load_model(n, &mp, &dm, &cfg, 0x5EED0002);
    /* start in the prior's mean; the first burn-in does the rest */
    int32_t x0[NM];
    for (unsigned i = 0; i < n; i++)
        x0[i] = (int32_t)lround(m0[i] / mp.lsb_x);
    tspu_model_set_state(m, x0, NULL);
    static double W[10000];
    int clean = 1;
    for (unsigned r = 0; r < M; r++) {
        tspu_model_start(m);
        tspu_model_run(m, UINT64_MAX);
        tspu_status st;
        tspu_model_read_status(m, &st);
        clean &= st.lambda_acc == TSPU_LAMBDA_ACC_ONE && !(st.flags & (TSPU_FLAG_SATURATED | TSPU_FLAG_WORK_OVERFLOW));
        W[r] = (double)tspu_model_read_work(m) * dm.lsb_work;
    }
    tspu_model_destroy(m);
    tt_check(clean, "jarzynski: every ramp reached lambda 1, nothing clamped", "clamps");
    /* estimates with delta-method standard errors */
    double wmin = W[0], wmax = W[0], mw = 0, vw = 0;
    for (unsigned r = 0; r < M; r++) {
        wmin = fmin(wmin, W[r]);
        wmax = fmax(wmax, W[r]);
        mw += W[r] / M;
    }
    for (unsigned r = 0; r < M; r++)
        vw += (W[r] - mw) * (W[r] - mw) / (M - 1);
    const double se_mw = sqrt(vw / M);
    double est[2], se[2];
    for (int sgn = 0; sgn < 2; sgn++) { /* 0: exp(-W), 1: the sign twin exp(+W) */
        const double s = sgn ? 1.0 : -1.0, ref = sgn ? wmax : wmin;
        double e1 = 0, e2 = 0;
        for (unsigned r = 0; r < M; r++) {
            double e = exp(s * (W[r] - ref));
            e1 += e / M;
            e2 += e * e / M;
        }
        const double sd = sqrt(fmax(e2 - e1 * e1, 0) * M / (M - 1));
        /* -log<e^{-W}>, and for the twin W' = -W: -log<e^{-W'}> = -log<e^{+W}> */
        est[sgn] = -(log(e1) + s * ref);
        se[sgn] = sd / (sqrt((double)M) * e1);
    }
    tt_note("jarzynski: n %u, K %u, h %.3g, ramp %u steps (%.1f prior tau), %u runs; dF %.4f, "
            "-log<e^-W> %.4f +- %.4f, <W> %.4f +- %.4f (dissipated %.3f), sd(W) %.3f",
            n, k, h, T, T / tau0, M, dF, est[0], se[0], mw, se_mw, mw - dF, sqrt(vw));
    /* |estimate - dF| < 4 s.e.: the estimator's s.e. from the delta method
     * (its O(var/M) bias is < 0.1 s.e. at these sizes) */
    tt_check(fabs(est[0] - dF) < 4 * se[0], "jarzynski: -log<exp(-beta W)> = beta dF (closed form) within 4 s.e.",
             "%.4f vs %.4f (s.e. %.4f)", est[0], dF, se[0]);
    tt_check(mw > dF + 4 * se_mw, "jarzynski: second law, <W> > dF by more than 4 s.e. (the ramp dissipates)",
             "<W> %.4f dF %.4f", mw, dF);
    tt_check(fabs(mw - dF) > 4 * se_mw && fabs(mw - dF) > 4 * se[0],
             "jarzynski twin: the mean work as dF estimate is rejected by the same check", "<W> %.4f", mw);
    tt_check(fabs(est[1] - dF) > 4 * se[1] && fabs(est[1] - dF) > 4 * se[0],
             "jarzynski twin: exp(+beta W) (wrong sign of W) is rejected", "%.4f +- %.4f", est[1], se[1]);
    tt_check(fabs(est[0] - dF_noc) > 4 * se[0], "jarzynski twin: dF without 1/2 y'Ly is rejected",
             "%.4f vs %.4f", est[0], dF_noc);
}

int main(void)
{
    test_posterior();
    test_jarzynski();
    return tt_exit();
}
