/*
 * test_ref_logreg.c - checks the reference logistic-regression MCMC
 * (tests/ref_logreg.c) against posterior moments computed by quadrature on
 * a fine grid (n = 1 and n = 2), so that the tests that later judge the unit
 * against this reference stand on something checked.
 *
 * Tolerance: the chain's mean and variance come with batch-means standard
 * errors (50 batches); the quadrature error is < 1e-8 relative.  With
 * 3 + 5 = 8 checked quantities a 4-sigma threshold gives a false-failure
 * probability below 8 * 6.3e-5 = 5e-4 (Gaussian tails, t_49 a little
 * heavier: still < 1e-3).  The seeds are fixed, so the run is reproducible.
 * Power: the posterior here is skewed (20 observations), so its mode differs
 * from its mean by several standard errors; the twin checks that the same
 * threshold rejects the mode as the mean, and rejects the chain of a problem
 * with two labels flipped.
 */
#include "ref_logreg.h"
#include "tt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define D_OBS 20

/* posterior moments of theta (n = 1 or 2) by the trapezoid rule on a grid
 * of half-width 12 prior-or-posterior standard deviations around the mode */
static void grid_moments(const ref_logreg_problem *pr, const double *mode,
                         const double *halfw, double *mean, double *cov)
{
    size_t n = pr->n, g = n == 1 ? 20001 : 801;
    double w = 0, m[2] = {0, 0}, s[4] = {0, 0, 0, 0}, lmax;
    lmax = ref_logreg_logpost(pr, mode);
    for (size_t a = 0; a < g; a++)
        for (size_t b = 0; b < (n == 1 ? 1 : g); b++) {
            double th[2];
            th[0] = mode[0] + halfw[0] * (2.0 * (double)a / (double)(g - 1) - 1);
            if (n == 2)
                th[1] = mode[1] + halfw[1] * (2.0 * (double)b / (double)(g - 1) - 1);
            double p = exp(ref_logreg_logpost(pr, th) - lmax);
            w += p;
            for (size_t i = 0; i < n; i++) {
                m[i] += p * th[i];
                for (size_t j = 0; j < n; j++)
                    s[i * n + j] += p * th[i] * th[j];
            }
        }
    for (size_t i = 0; i < n; i++)
        mean[i] = m[i] / w;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            cov[i * n + j] = s[i * n + j] / w - mean[i] * mean[j];
}

static void make_data(size_t n, double *x, double *y, unsigned seed)
{
    /* a fixed LCG: deterministic data without another RNG dependency */
    unsigned long st = seed;
    double truth[2] = {1.2, -0.7};
    for (size_t k = 0; k < D_OBS; k++) {
        double z = 0;
        for (size_t j = 0; j < n; j++) {
            st = st * 6364136223846793005ul + 1442695040888963407ul;
            x[k * n + j] = ((double)(st >> 11) / 9007199254740992.0) * 4 - 2;
            z += x[k * n + j] * truth[j];
        }
        st = st * 6364136223846793005ul + 1442695040888963407ul;
        double u = (double)(st >> 11) / 9007199254740992.0;
        y[k] = u < 1.0 / (1.0 + exp(-z)) ? 1.0 : 0.0;
    }
}

static void run_case(size_t n)
{
    double x[D_OBS * 2], y[D_OBS], prec[4] = {0.5, 0.1, 0.1, 0.8};
    if (n == 1)
        prec[0] = 0.5;
    make_data(n, x, y, 7u + (unsigned)n);
    ref_logreg_problem pr = {n, D_OBS, x, y, NULL, NULL, prec};

    double map[2], mean[2], mse[2], cov[4], cse[4];
    ref_logreg_result res = {map, mean, mse, cov, cse, 0};
    size_t ns = 200000;
    int rc = ref_logreg_mcmc(&pr, ns, 2000, 2, 12345 + n, &res);
    char name[128];
    snprintf(name, sizeof name, "ref_logreg n=%zu: MCMC runs", n);
    if (!tt_check(rc == 0, name, "rc %d", rc))
        return;
    snprintf(name, sizeof name, "ref_logreg n=%zu: acceptance in [0.15, 0.7]", n);
    tt_check(res.accept > 0.15 && res.accept < 0.7, name, "%.3f", res.accept);

    double gm[2], gc[4], halfw[2];
    for (size_t i = 0; i < n; i++)
        halfw[i] = 12.0 * sqrt(cov[i * n + i]);
    grid_moments(&pr, map, halfw, gm, gc);

    for (size_t i = 0; i < n; i++) {
        double z = (mean[i] - gm[i]) / mse[i];
        snprintf(name, sizeof name, "ref_logreg n=%zu: mean[%zu] vs quadrature", n, i);
        tt_check(fabs(z) < 4, name, "mcmc %.5f quad %.5f se %.2g z %.2f",
                 mean[i], gm[i], mse[i], z);
        tt_note("n=%zu mean[%zu] %.5f quad %.5f se %.2g z %.2f", n, i, mean[i],
                gm[i], mse[i], z);
        double zv = (cov[i * n + i] - gc[i * n + i]) / cse[i * n + i];
        snprintf(name, sizeof name, "ref_logreg n=%zu: var[%zu] vs quadrature", n, i);
        tt_check(fabs(zv) < 4, name, "mcmc %.5f quad %.5f se %.2g z %.2f",
                 cov[i * n + i], gc[i * n + i], cse[i * n + i], zv);
        /* twin: the mode is not the mean of this skewed posterior */
        double zt = (map[i] - gm[i]) / mse[i];
        snprintf(name, sizeof name,
                 "ref_logreg n=%zu twin: the mode as mean[%zu] is rejected", n, i);
        tt_check(fabs(zt) >= 4, name, "z %.2f", zt);
    }
    if (n == 2) {
        double z = (cov[1] - gc[1]) / cse[1];
        tt_check(fabs(z) < 4, "ref_logreg n=2: cov[0,1] vs quadrature",
                 "mcmc %.5f quad %.5f z %.2f", cov[1], gc[1], z);
    }

    /* twin: a chain of a different problem (two labels flipped) fails */
    double y2[D_OBS];
    memcpy(y2, y, sizeof y2);
    y2[0] = 1 - y2[0];
    y2[1] = 1 - y2[1];
    ref_logreg_problem pr2 = pr;
    pr2.y = y2;
    double map2[2], mean2[2], mse2[2], cov2[4], cse2[4];
    ref_logreg_result r2 = {map2, mean2, mse2, cov2, cse2, 0};
    ref_logreg_mcmc(&pr2, ns, 2000, 2, 999 + n, &r2);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double z = fabs(mean2[i] - gm[i]) / mse2[i];
        if (z > worst)
            worst = z;
    }
    snprintf(name, sizeof name,
             "ref_logreg n=%zu twin: flipped-label chain is rejected", n);
    tt_check(worst >= 4, name, "max z %.2f", worst);
}

int main(void)
{
    run_case(1);
    run_case(2);
    return tt_exit();
}
