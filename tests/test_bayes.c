/*
 * test_bayes.c - thermodynamic Bayesian inference through libtspualgo
 * (tspu_algo_bayes, host/algo/algo_bayes.c; docs/bayes.md) on the "model"
 * device, fixed seeds.
 *
 *  1. Gaussian-Gaussian (design I, vector observations whitened to scalar
 *     rows) and 2. Bayesian linear regression (random design H): mean and
 *     covariance = the closed-form posterior of the problem the integers
 *     encode (LAPACKE) within 4 batch-means s.e.; two-sample tests of the
 *     samples against that Gaussian (per-coordinate KS of the standardised
 *     coordinates and KS of the Mahalanobis distance against chi^2_n, on a
 *     thinned, nearly independent subset); twins: the likelihood weighted
 *     0.9 (moments) and the covariance scaled by 1.3 (KS) are rejected.
 *  3. Logistic regression against the GSL reference MCMC
 *     (tests/ref_logreg.c): mean and covariance within 4 combined s.e.,
 *     held-out predictive accuracy equal within 0.05; twins: the reference
 *     with flipped labels is rejected on the mean and on the accuracy.
 *  4. Free energy: Jarzynski (forward) and BAR (forward + reverse ramps)
 *     estimates from the unit's work equal beta dF of the Gaussian
 *     normalisers within 4 s.e.; the mean work is rejected (twin); first
 *     law: the mean dU over the ramps equals <U_1>_post - <U_0>_prior within
 *     4 s.e. (so <Q> = <dU> - <W>); the heat twin Q = W - dU is rejected.
 *  5. Device without the data drift: refused with one line (a model device
 *     whose DATA block reads 0 is not available, so the check runs on the
 *     refusal path of tspu_bayes_device_check with K > DATA_MAX_OBS).
 */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_integration.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_logreg.h"
#include "tspu.h"
#include "tspu_algo.h"
#include "tt.h"

#define TT_RNG_SEED 0xBA7E5B0057ull
#include "tt_rng.h"

#define NM 8
#define KM 512

/* closed-form posterior of the encoded problem, likelihood weighted w:
 * A = P + w X'LX, b = P mu + w X'Ly, c = w/2 y'Ly; mean, cov, logdet A */
typedef struct {
    double A[NM * NM], b[NM], c, mean[NM], cov[NM * NM], logdet, L[NM * NM];
} gpost;

static int closed_form(const tspu_bayes_result *r, double w, gpost *g)
{
    const unsigned n = r->n;
    g->c = 0;
    for (unsigned i = 0; i < n; i++) {
        g->b[i] = r->prior_b_eff[i];
        for (unsigned j = 0; j < n; j++)
            g->A[i * n + j] = r->prior_prec_eff[i * n + j];
    }
    for (unsigned d = 0; d < r->k; d++) {
        const double l = w * r->ell_eff[d], y = r->y_eff[d], *x = r->X_eff + (size_t)d * n;
        for (unsigned i = 0; i < n; i++) {
            g->b[i] += l * x[i] * y;
            for (unsigned j = 0; j < n; j++)
                g->A[i * n + j] += l * x[i] * x[j];
        }
        g->c += 0.5 * l * y * y;
    }
    memcpy(g->L, g->A, sizeof(double) * n * n);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (int)n, g->L, (int)n))
        return -1;
    g->logdet = 0;
    for (unsigned i = 0; i < n; i++)
        g->logdet += 2.0 * log(g->L[i * n + i]);
    memcpy(g->mean, g->b, sizeof(double) * n);
    LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (int)n, 1, g->L, (int)n, g->mean, 1);
    memcpy(g->cov, g->L, sizeof(double) * n * n);
    LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (int)n, g->cov, (int)n);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i + 1; j < n; j++)
            g->cov[i * n + j] = g->cov[j * n + i];
    return 0;
}

/* the closed-form free energy beta dF = -ln Z1/Z0 of the encoded problem,
 * ln Z = n/2 ln 2pi - 1/2 ln det A + 1/2 b'A^-1 b - c; q[w] = b'A^-1 b at
 * weight w = 0, 1 and *c1 = c at w = 1 (for the equilibrium energies) */
static double closed_dF(const tspu_bayes_result *r, double q[2], double *c1)
{
    gpost g0, g1;
    closed_form(r, 0.0, &g0);
    closed_form(r, 1.0, &g1);
    q[0] = q[1] = 0;
    for (unsigned i = 0; i < r->n; i++) {
        q[0] += g0.b[i] * g0.mean[i];
        q[1] += g1.b[i] * g1.mean[i];
    }
    *c1 = g1.c;
    return 0.5 * (g1.logdet - g0.logdet) - 0.5 * (q[1] - q[0]) + g1.c;
}

/* max |z| of the estimated mean and covariance against g */
static double moments_z(const tspu_bayes_result *r, const gpost *g)
{
    const unsigned n = r->n;
    double zmax = 0;
    for (unsigned i = 0; i < n; i++)
        zmax = fmax(zmax, fabs(r->mean[i] - g->mean[i]) / r->mean_se[i]);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i; j < n; j++)
            zmax = fmax(zmax, fabs(r->cov[i * n + j] - g->cov[i * n + j]) / r->cov_se[i * n + j]);
    return zmax;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* KS statistic of v (sorted in place) against the cdf F */
static double ks(double *v, size_t m, double (*F)(double, double), double par)
{
    qsort(v, m, sizeof *v, cmp_d);
    double d = 0;
    for (size_t i = 0; i < m; i++) {
        double f = F(v[i], par);
        d = fmax(d, fmax(fabs(f - (double)i / m), fabs((double)(i + 1) / m - f)));
    }
    return d;
}
static double F_norm(double x, double s) { return gsl_cdf_gaussian_P(x, s); }
static double F_chi2(double x, double n) { return gsl_cdf_chisq_P(x, n); }

/* KS checks of the samples against N(mean, scale * cov): returns the
 * largest KS statistic times sqrt(m) over the n coordinates and the
 * Mahalanobis distance; samples thinned by `every` */
static double two_sample(const tspu_bayes_result *r, const gpost *g, double scale, unsigned every, size_t *m_out)
{
    const unsigned n = r->n;
    const size_t m = r->n_samples / every;
    double *v = malloc(sizeof(double) * m), worst = 0;
    double L[NM * NM];
    memcpy(L, g->cov, sizeof(double) * n * n);
    for (unsigned i = 0; i < n * n; i++)
        L[i] *= scale;
    LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (int)n, L, (int)n);
    for (unsigned i = 0; i < n; i++) {
        for (size_t s = 0; s < m; s++)
            v[s] = (r->samples[s * every * n + i] - g->mean[i]) / sqrt(scale * g->cov[i * n + i]);
        worst = fmax(worst, ks(v, m, F_norm, 1.0) * sqrt((double)m));
    }
    for (size_t s = 0; s < m; s++) {
        double e[NM];
        for (unsigned i = 0; i < n; i++)
            e[i] = r->samples[s * every * n + i] - g->mean[i];
        /* solve L u = e: |u|^2 = e' (scale cov)^-1 e */
        LAPACKE_dtrtrs(LAPACK_ROW_MAJOR, 'L', 'N', 'N', (int)n, 1, L, (int)n, e, 1);
        double d2 = 0;
        for (unsigned i = 0; i < n; i++)
            d2 += e[i] * e[i];
        v[s] = d2;
    }
    worst = fmax(worst, ks(v, m, F_chi2, (double)n) * sqrt((double)m));
    free(v);
    *m_out = m;
    return worst;
}

static tspu_dev *open_model(void)
{
    tspu_dev *d = NULL;
    if (tspu_open(&d, "model?n=8") < 0)
        return NULL;
    return d;
}

/* ------------------------------------------------------------------------ */
static void check_gaussian(const char *name, unsigned n, unsigned k, const double *P, const double *mu,
                           const double *X, const double *y, const double *ell, uint64_t seed)
{
    tspu_dev *d = open_model();
    tspu_bayes_problem p = {.likelihood = TSPU_DATA_GAUSS, .n = n, .k = k, .prior_prec = P, .prior_mean = mu,
                            .X = X, .y = y, .ell = ell};
    tspu_bayes_opts b;
    tspu_bayes_opts_init(&b);
    b.ramps = 2;
    tspu_algo_opts o;
    tspu_algo_opts_init(&o);
    o.seed = seed;
    o.chains = 2;
    o.tol = 0.04;
    tspu_bayes_result r;
    char err[256] = "";
    char nm[160];
    int rc = tspu_algo_bayes(d, &p, &b, &o, &r, err, sizeof err);
    snprintf(nm, sizeof nm, "%s: tspu_algo_bayes runs on the model, nothing clamped", name);
    if (!tt_check(rc == 0 && !(r.flags & TSPU_ALGO_FLAG_SATURATED), nm, "rc %d: %s", rc, err)) {
        tspu_close(d);
        return;
    }
    gpost g, g9;
    closed_form(&r, 1.0, &g);
    closed_form(&r, 0.9, &g9);
    double z1 = moments_z(&r, &g), z9 = moments_z(&r, &g9);
    tt_note("%s: n %u, K %u, %llu samples, %llu steps (%.3g device s), IAT %.3g steps; max |z| %.2f (twin %.2f)",
            name, n, k, (unsigned long long)r.n_samples, (unsigned long long)r.steps, r.device_seconds,
            r.iat_steps, z1, z9);
    tt_note("%s: mean %.4f %.4f (exact %.4f %.4f), s.e. %.2g", name, r.mean[0], r.mean[1], g.mean[0], g.mean[1],
            r.mean_se[0]);
    /* 4 s.e.: the estimates are t-distributed with >= 39 batches; P(|t| > 4)
     * ~ 3e-4 each, < 1 % over the <= 14 entries */
    snprintf(nm, sizeof nm, "%s: mean and covariance = closed-form posterior within 4 batch-means s.e.", name);
    tt_check(z1 < 4.0, nm, "max |z| %.2f", z1);
    snprintf(nm, sizeof nm, "%s twin: the likelihood weighted 0.9 is rejected by the same check", name);
    tt_check(z9 > 4.0, nm, "max |z| %.2f", z9);
    /* two-sample: every 8th sample (thin = 1 relaxation time: lag 8 has
     * correlation e^-8 in the slowest mode); sqrt(m) D > 1.95 is the 0.1 %
     * Kolmogorov level per test, n + 1 tests */
    size_t m;
    double ks1 = two_sample(&r, &g, 1.0, 8, &m), ks3 = two_sample(&r, &g, 1.3, 8, &m);
    tt_note("%s: KS sqrt(m) D max %.3f over %zu nearly independent samples (twin, cov x 1.3: %.3f)", name, ks1, m,
            ks3);
    snprintf(nm, sizeof nm, "%s: two-sample KS (coordinates, Mahalanobis chi^2) accepts the exact posterior", name);
    tt_check(ks1 < 1.95, nm, "sqrt(m) D = %.3f", ks1);
    snprintf(nm, sizeof nm, "%s twin: KS rejects the posterior with its covariance scaled by 1.3", name);
    tt_check(ks3 > 1.95, nm, "sqrt(m) D = %.3f", ks3);
    tspu_bayes_result_free(&r);
    tspu_close(d);
}

static void test_gauss_gauss(void)
{
    enum { n = 3, V = 8 }; /* V vector observations of theta, whitened: 3V rows */
    static double P[n * n], mu[n], X[3 * V * n], y[3 * V], ell[3 * V];
    const double th[n] = {0.8, -0.5, 1.2}, lp[n] = {2.0, 1.0, 0.5};
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++)
            P[i * n + j] = i == j ? 1.0 : (i + j == 1 ? 0.3 : 0.0);
    mu[0] = 0.2, mu[1] = 0, mu[2] = -0.3;
    /* L = diag(lp): each observation y ~ N(theta, L^-1) is n scalar rows */
    for (unsigned v = 0; v < V; v++)
        for (unsigned i = 0; i < n; i++) {
            const unsigned d = v * n + i;
            for (unsigned j = 0; j < n; j++)
                X[d * n + j] = i == j;
            y[d] = th[i] + nrand() / sqrt(lp[i]);
            ell[d] = lp[i];
        }
    check_gaussian("gauss-gauss", n, 3 * V, P, mu, X, y, ell, 11);
}

static void test_linreg(void)
{
    enum { n = 4, k = 60 };
    static double P[n * n], X[k * n], y[k];
    const double th[n] = {1.0, -0.7, 0.4, 0.0};
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++)
            P[i * n + j] = i == j ? 0.5 : 0.0;
    for (unsigned d = 0; d < k; d++) {
        double z = 0;
        for (unsigned j = 0; j < n; j++) {
            X[d * n + j] = 2.0 * urand() - 1.0;
            z += X[d * n + j] * th[j];
        }
        y[d] = z + 0.5 * nrand();
    }
    /* noise precision 4 (sd 0.5) for every row: ell = NULL would mean 1 */
    static double ell[k];
    for (unsigned d = 0; d < k; d++)
        ell[d] = 4.0;
    check_gaussian("linreg", n, k, P, NULL, X, y, ell, 12);
}

/* ------------------------------------------------------------------------ */
static void test_logreg(void)
{
    enum { n = 3, k = 80, kt = 400 };
    static double X[k * n], y[k], Xt[kt * n], yt[kt], yflip[k];
    const double th[n] = {1.5, -1.0, 0.5};
    double P[n * n] = {0};
    for (unsigned i = 0; i < n; i++)
        P[i * n + i] = 0.5;
    for (unsigned d = 0; d < k + kt; d++) {
        double *x = d < k ? X + d * n : Xt + (d - k) * n, z = 0;
        x[0] = 1.0; /* intercept */
        for (unsigned j = 1; j < n; j++)
            x[j] = 2.0 * nrand() * 0.7;
        for (unsigned j = 0; j < n; j++)
            z += x[j] * th[j];
        double lab = urand() < 1.0 / (1.0 + exp(-z)) ? 1.0 : 0.0;
        if (d < k)
            y[d] = lab;
        else
            yt[d - k] = lab;
    }
    for (unsigned d = 0; d < k; d++)
        yflip[d] = 1.0 - y[d];
    tspu_dev *dev = open_model();
    tspu_bayes_problem p = {.likelihood = TSPU_DATA_LOGISTIC, .n = n, .k = k, .prior_prec = P, .X = X, .y = y,
                            .predict = Xt, .n_predict = kt};
    tspu_bayes_opts b;
    tspu_bayes_opts_init(&b);
    tspu_algo_opts o;
    tspu_algo_opts_init(&o);
    o.seed = 21;
    o.chains = 2;
    o.tol = 0.04;
    tspu_bayes_result r;
    char err[256] = "";
    int rc = tspu_algo_bayes(dev, &p, &b, &o, &r, err, sizeof err);
    tspu_close(dev);
    if (!tt_check(rc == 0 && !(r.flags & TSPU_ALGO_FLAG_SATURATED), "logreg: tspu_algo_bayes runs on the model",
                  "rc %d: %s", rc, err))
        return;
    /* reference: 50 batches of the GSL random-walk Metropolis chain */
    double rm[2][n], rmse[2][n], rc_[2][n * n], rcse[2][n * n], rmap[n];
    for (int f = 0; f < 2; f++) {
        ref_logreg_problem rp = {.n = n, .d = k, .x = X, .y = f ? yflip : y, .prec = P};
        ref_logreg_result rr = {.map = rmap, .mean = rm[f], .mean_se = rmse[f], .cov = rc_[f], .cov_se = rcse[f]};
        ref_logreg_mcmc(&rp, 100000, 5000, 4, 77 + f, &rr);
    }
    double zm = 0, zf = 0;
    for (unsigned i = 0; i < n; i++) {
        zm = fmax(zm, fabs(r.mean[i] - rm[0][i]) / hypot(r.mean_se[i], rmse[0][i]));
        zf = fmax(zf, fabs(r.mean[i] - rm[1][i]) / hypot(r.mean_se[i], rmse[1][i]));
        for (unsigned j = i; j < n; j++)
            zm = fmax(zm, fabs(r.cov[i * n + j] - rc_[0][i * n + j]) / hypot(r.cov_se[i * n + j], rcse[0][i * n + j]));
    }
    tt_note("logreg: %llu samples, IAT %.3g steps, link error %.2g; mean %.4f %.4f %.4f (ref %.4f %.4f %.4f), max |z| "
            "%.2f, flipped-label twin %.1f",
            (unsigned long long)r.n_samples, r.iat_steps, r.link_err, r.mean[0], r.mean[1], r.mean[2], rm[0][0],
            rm[0][1], rm[0][2], zm, zf);
    /* combined s.e. of two independent estimates; the table's bias (link
     * error ~1e-4 in sigma) is far below them */
    tt_check(zm < 4.0, "logreg: mean and covariance = reference MCMC within 4 combined s.e.", "max |z| %.2f", zm);
    tt_check(zf > 4.0, "logreg twin: the reference with flipped labels is rejected", "max |z| %.2f", zf);
    /* held-out accuracy: unit predictive mean vs the reference's plug-in
     * sigma(x . mean) and the flipped twin; both classifiers see the same
     * 400 points, so 0.05 is ~2.5 binomial s.e. of one accuracy and the two
     * classify nearly identically */
    unsigned ok_u = 0, ok_r = 0, ok_f = 0;
    for (unsigned t = 0; t < kt; t++) {
        double zr = 0, zf2 = 0;
        for (unsigned j = 0; j < n; j++) {
            zr += Xt[t * n + j] * rm[0][j];
            zf2 += Xt[t * n + j] * rm[1][j];
        }
        ok_u += (r.pred[t] > 0.5) == (yt[t] > 0.5);
        ok_r += (zr > 0) == (yt[t] > 0.5);
        ok_f += (zf2 > 0) == (yt[t] > 0.5);
    }
    double au = ok_u / (double)kt, ar = ok_r / (double)kt, af = ok_f / (double)kt;
    tt_note("logreg: held-out accuracy unit %.3f, reference %.3f, flipped twin %.3f; pred[0] %.4f +- %.2g", au, ar, af,
            r.pred[0], r.pred_se[0]);
    tt_check(fabs(au - ar) <= 0.05, "logreg: held-out predictive accuracy = reference within 0.05", "%.3f vs %.3f",
             au, ar);
    tt_check(fabs(au - af) > 0.05, "logreg twin: the flipped-label classifier's accuracy is rejected", "%.3f vs %.3f",
             au, af);
    tspu_bayes_result_free(&r);
}

/* ------------------------------------------------------------------------ */
static void test_free_energy(void)
{
    enum { n = 2, k = 6 };
    double P[n * n] = {1.0, 0.2, 0.2, 0.8}, mu[n] = {0.3, -0.2}, X[k * n], y[k], ell[k];
    for (unsigned d = 0; d < k; d++) {
        X[d * n] = 2 * urand() - 1;
        X[d * n + 1] = 2 * urand() - 1;
        y[d] = X[d * n] - 0.5 * X[d * n + 1] + nrand();
        ell[d] = 0.5 + urand();
    }
    tspu_dev *dev = open_model();
    tspu_bayes_problem p = {.likelihood = TSPU_DATA_GAUSS, .n = n, .k = k, .prior_prec = P, .prior_mean = mu,
                            .X = X, .y = y, .ell = ell};
    tspu_bayes_opts b;
    tspu_bayes_opts_init(&b);
    b.ramps = 1500;
    b.reverse = 1;
    b.keep_samples = 0;
    tspu_algo_opts o;
    tspu_algo_opts_init(&o);
    o.seed = 31;
    o.samples = 2000;
    o.dt = 0.02;
    tspu_bayes_result r;
    char err[256] = "";
    int rc = tspu_algo_bayes(dev, &p, &b, &o, &r, err, sizeof err);
    tspu_close(dev);
    if (!tt_check(rc == 0 && r.work && r.work_rev, "free energy: forward and reverse ramps on the model", "rc %d: %s",
                  rc, err))
        return;
    double q[2], c1;
    const double dF = closed_dF(&r, q, &c1);
    /* equilibrium energies: <U>_A = n/2 + U(mean) = n/2 - 1/2 b'A^-1 b + c */
    const double E0 = 0.5 * n - 0.5 * q[0], E1 = 0.5 * n - 0.5 * q[1] + c1;
    double mdu = 0, vdu = 0;
    for (unsigned i = 0; i < r.n_ramps; i++)
        mdu += r.du[i] / r.n_ramps;
    for (unsigned i = 0; i < r.n_ramps; i++)
        vdu += (r.du[i] - mdu) * (r.du[i] - mdu) / (r.n_ramps - 1);
    const double se_du = sqrt(vdu / r.n_ramps);
    tt_note("free energy: %u ramps of %llu steps; dF %.4f; Jarzynski %.4f +- %.4f, BAR %.4f +- %.4f, <W> %.4f +- "
            "%.4f, <Q> %.4f, <dU> %.4f +- %.4f vs %.4f",
            r.n_ramps, (unsigned long long)r.plan.ramp_steps, dF, r.dF_jarzynski, r.dF_jarzynski_se, r.dF_bar,
            r.dF_bar_se, r.work_mean, r.work_se, r.heat_mean, mdu, se_du, E1 - E0);
    /* 4 s.e. (delta method / bootstrap); the Jarzynski bias var(W)/(2M) is
     * < 0.1 s.e. at M = 1500 with var(W) ~ 0.5 */
    tt_check(fabs(r.dF_jarzynski - dF) < 4 * r.dF_jarzynski_se,
             "free energy: Jarzynski from the unit's work = beta dF (closed form) within 4 s.e.", "%.4f vs %.4f",
             r.dF_jarzynski, dF);
    tt_check(fabs(r.dF_bar - dF) < 4 * r.dF_bar_se, "free energy: BAR (forward + reverse ramps) = beta dF within 4 s.e.",
             "%.4f vs %.4f", r.dF_bar, dF);
    tt_check(fabs(r.work_mean - dF) > 4 * r.work_se && r.work_mean > dF,
             "free energy twin: the mean work (second law, <W> > dF) is rejected as dF", "<W> %.4f", r.work_mean);
    tt_check(fabs(mdu - (E1 - E0)) < 4 * se_du,
             "first law: <dU> over the ramps = <U_1>_post - <U_0>_prior within 4 s.e. (Q = dU - W)", "%.4f vs %.4f",
             mdu, E1 - E0);
    tt_check(fabs(mdu - 2 * r.work_mean - (E1 - E0)) > 4 * se_du,
             "first law twin: the heat sign flipped (dU' = W - Q) is rejected", "%.4f",
             2 * r.work_mean - mdu);
    tspu_bayes_result_free(&r);
}

/* ------------------------------------------------------------------------ */
/* thermodynamic integration: Gaussian against the closed form, logistic
 * against 2-D grid quadrature of the evidence ratio */
static double ti_run(const tspu_bayes_problem *p, uint64_t seed, tspu_bayes_result *r, char *err, size_t len)
{
    tspu_dev *dev = open_model();
    tspu_bayes_opts b;
    tspu_bayes_opts_init(&b);
    b.ramps = 1;
    b.keep_samples = 0;
    b.ti_points = 12;
    tspu_algo_opts o;
    tspu_algo_opts_init(&o);
    o.seed = seed;
    o.chains = 2;
    o.samples = 16000; /* 4000 per chain and node */
    int rc = tspu_algo_bayes(dev, p, &b, &o, r, err, len);
    tspu_close(dev);
    return rc;
}

static void test_ti(void)
{
    enum { n = 2, k = 30 };
    double P[n * n] = {1.0, 0.2, 0.2, 0.8}, mu[n] = {0.3, -0.2}, X[k * n], y[k], yl[k], ell[k];
    for (unsigned d = 0; d < k; d++) {
        X[d * n] = 2 * urand() - 1;
        X[d * n + 1] = 2 * urand() - 1;
        y[d] = X[d * n] - 0.5 * X[d * n + 1] + nrand();
        ell[d] = 0.5 + urand();
        yl[d] = urand() < 1.0 / (1.0 + exp(-(1.5 * X[d * n] - 2.0 * X[d * n + 1]))) ? 1.0 : 0.0;
    }
    char err[256] = "";
    tspu_bayes_result r;
    tspu_bayes_problem pg = {.likelihood = TSPU_DATA_GAUSS, .n = n, .k = k, .prior_prec = P, .prior_mean = mu,
                             .X = X, .y = y, .ell = ell};
    int rc = ti_run(&pg, 41, &r, err, sizeof err);
    if (tt_check(rc == 0 && isfinite(r.dF_ti), "thermodynamic integration (Gaussian) runs", "rc %d: %s", rc, err)) {
        double q[2], c1;
        const double dF = closed_dF(&r, q, &c1);
        /* the exact integrand at the nodes, <U_lik>_lam = 1/2 sum l ((y - x.m)^2 + x'C x),
         * through the same quadrature: separates the quadrature error from the sampling */
        double quad = 0, zn = 0;
        gsl_integration_glfixed_table *gl = gsl_integration_glfixed_table_alloc(r.n_ti);
        for (unsigned q = 0; q < r.n_ti; q++) {
            gpost gq;
            double uu, ww;
            gsl_integration_glfixed_point(0.0, 1.0, q, &uu, &ww, gl);
            closed_form(&r, uu * uu, &gq);
            double u = 0;
            for (unsigned d = 0; d < k; d++) {
                const double *x = r.X_eff + d * n;
                double e = r.y_eff[d] - (x[0] * gq.mean[0] + x[1] * gq.mean[1]);
                double v = x[0] * x[0] * gq.cov[0] + 2 * x[0] * x[1] * gq.cov[1] + x[1] * x[1] * gq.cov[3];
                u += 0.5 * r.ell_eff[d] * (e * e + v);
            }
            zn = fmax(zn, fabs(r.ti_u[q] - u) / r.ti_u_se[q]);
            quad += 2 * uu * ww * u;
        }
        gsl_integration_glfixed_table_free(gl);
        tt_note("TI Gaussian: quadrature of the exact integrand %.5f (error %.1g); node means vs exact max |z| %.2f",
                quad, quad - dF, zn);
        tt_note("TI Gaussian: %.4f +- %.4f vs dF %.4f (12 Gauss-Legendre nodes in sqrt(lambda))", r.dF_ti,
                r.dF_ti_se, dF);
        /* 4 s.e. of the node means (20 batches per node); the 12-node
         * quadrature of this smooth integrand is exact to < 1e-4 */
        tt_check(fabs(r.dF_ti - dF) < 4 * r.dF_ti_se, "TI (Gaussian): int <U_lik>_lambda = beta dF within 4 s.e.",
                 "%.4f vs %.4f", r.dF_ti, dF);
        tt_check(fabs(r.ti_u[0] * 1.0 - dF) > 4 * r.dF_ti_se,
                 "TI twin: <U_lik> at the first node alone (no integration) is rejected", "%.4f", r.ti_u[0]);
        tspu_bayes_result_free(&r);
    }
    tspu_bayes_problem pl = {.likelihood = TSPU_DATA_LOGISTIC, .n = n, .k = k, .prior_prec = P, .prior_mean = mu,
                             .X = X, .y = yl};
    rc = ti_run(&pl, 42, &r, err, sizeof err);
    if (!tt_check(rc == 0 && isfinite(r.dF_ti), "thermodynamic integration (logistic) runs", "rc %d: %s", rc, err))
        return;
    /* -ln Z1/Z0 by quadrature on a 601 x 601 grid over +-9 prior s.d. */
    double S[4] = {P[3], -P[1], -P[2], P[0]}, det = P[0] * P[3] - P[1] * P[2];
    double sd0 = sqrt(S[0] / det), sd1 = sqrt(S[3] / det), z0 = 0, z1 = 0;
    enum { G = 601 };
    for (int a = 0; a < G; a++)
        for (int c = 0; c < G; c++) {
            double th[2] = {mu[0] + sd0 * 9.0 * (2.0 * a / (G - 1) - 1), mu[1] + sd1 * 9.0 * (2.0 * c / (G - 1) - 1)};
            double e0 = th[0] - r.prior_b_eff[0] * 0, up;
            (void)e0;
            /* the encoded prior: 1/2 th'A th - b'th */
            up = 0.5 * (r.prior_prec_eff[0] * th[0] * th[0] + 2 * r.prior_prec_eff[1] * th[0] * th[1] +
                        r.prior_prec_eff[3] * th[1] * th[1]) - r.prior_b_eff[0] * th[0] - r.prior_b_eff[1] * th[1];
            double ul = 0;
            for (unsigned d = 0; d < k; d++) {
                double zz = r.X_eff[d * n] * th[0] + r.X_eff[d * n + 1] * th[1];
                double sp = zz > 0 ? zz + log1p(exp(-zz)) : log1p(exp(zz));
                ul += r.ell_eff[d] * (sp - r.y_eff[d] * zz);
            }
            z0 += exp(-up);
            z1 += exp(-up - ul);
        }
    const double dF = -log(z1 / z0);
    tt_note("TI logistic: %.4f +- %.4f vs -ln Z1/Z0 = %.4f (grid quadrature), link error %.2g", r.dF_ti, r.dF_ti_se,
            dF, r.link_err);
    tt_check(fabs(r.dF_ti - dF) < 4 * r.dF_ti_se,
             "TI (logistic): free energy (minus the log evidence ratio) = grid quadrature within 4 s.e.",
             "%.4f vs %.4f", r.dF_ti, dF);
    tt_check(fabs(r.dF_ti - (dF + 1.0)) > 4 * r.dF_ti_se, "TI twin (logistic): dF + 1 kT is rejected", "%.4f",
             r.dF_ti);
    tspu_bayes_result_free(&r);
}

static void test_refusals(void)
{
    tspu_dev *dev = open_model();
    char err[256] = "";
    int rc = tspu_bayes_device_check(dev, 5000, err, sizeof err);
    tt_check(rc == TSPU_ALGO_E_INPUT && strstr(err, "DATA_MAX_OBS"), "refusal: K beyond the device's DATA_MAX_OBS",
             "rc %d: %s", rc, err);
    rc = tspu_bayes_device_check(dev, 10, err, sizeof err);
    tt_check(rc == 0, "device check: the model has the data drift", "rc %d: %s", rc, err);
    double P[4] = {1, 2, 2, 1}, X[4] = {1, 0, 0, 1}, y[2] = {0, 1}, y2[2] = {0, 0.5};
    tspu_bayes_problem p = {.likelihood = TSPU_DATA_LOGISTIC, .n = 2, .k = 2, .prior_prec = P, .X = X, .y = y};
    rc = tspu_bayes_check(&p, err, sizeof err);
    tt_check(rc == TSPU_ALGO_E_INPUT && strstr(err, "positive definite"), "refusal: prior not SPD", "%s", err);
    P[1] = P[2] = 0;
    p.y = y2;
    rc = tspu_bayes_check(&p, err, sizeof err);
    tt_check(rc == TSPU_ALGO_E_INPUT && strstr(err, "0 or 1"), "refusal: label not 0/1", "%s", err);
    p.y = y;
    X[1] = NAN;
    rc = tspu_bayes_check(&p, err, sizeof err);
    tt_check(rc == TSPU_ALGO_E_INPUT && strstr(err, "non-finite"), "refusal: non-finite design", "%s", err);
    tspu_close(dev);
}

int main(void)
{
    test_refusals();
    test_gauss_gauss();
    test_linreg();
    test_logreg();
    test_free_energy();
    test_ti();
    return tt_exit();
}
