/*
 * ref_logreg.c - reference posterior for Bayesian logistic regression:
 * Newton's method to the mode, then random-walk Metropolis with proposal
 * covariance (2.38^2/n) H^-1 (H: negative Hessian at the mode), the
 * asymptotically optimal scaling for a near-Gaussian target.  GSL supplies
 * the random numbers and the Cholesky factorisations.
 */
#include "ref_logreg.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REF_BATCHES 50

/* log(1 + e^z) without overflow */
static double softplus(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static double sigmoid(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

static double prior_mean(const ref_logreg_problem *pr, size_t i)
{
    return pr->m ? pr->m[i] : 0.0;
}

static double weight(const ref_logreg_problem *pr, size_t k)
{
    return pr->w ? pr->w[k] : 1.0;
}

double ref_logreg_logpost(const ref_logreg_problem *pr, const double *theta)
{
    size_t n = pr->n;
    double q = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            q += (theta[i] - prior_mean(pr, i)) * pr->prec[i * n + j] *
                 (theta[j] - prior_mean(pr, j));
    double lp = -0.5 * q;
    for (size_t k = 0; k < pr->d; k++) {
        double z = 0.0;
        for (size_t j = 0; j < n; j++)
            z += pr->x[k * n + j] * theta[j];
        lp += weight(pr, k) * (pr->y[k] * z - softplus(z));
    }
    return lp;
}

/* gradient g and negative Hessian h (n x n) of the log posterior */
static void grad_hess(const ref_logreg_problem *pr, const double *theta,
                      double *g, double *h)
{
    size_t n = pr->n;
    for (size_t i = 0; i < n; i++) {
        g[i] = 0.0;
        for (size_t j = 0; j < n; j++) {
            g[i] -= pr->prec[i * n + j] * (theta[j] - prior_mean(pr, j));
            h[i * n + j] = pr->prec[i * n + j];
        }
    }
    for (size_t k = 0; k < pr->d; k++) {
        const double *xk = pr->x + k * n;
        double z = 0.0;
        for (size_t j = 0; j < n; j++)
            z += xk[j] * theta[j];
        double s = sigmoid(z), w = weight(pr, k);
        for (size_t i = 0; i < n; i++) {
            g[i] += w * (pr->y[k] - s) * xk[i];
            for (size_t j = 0; j < n; j++)
                h[i * n + j] += w * s * (1.0 - s) * xk[i] * xk[j];
        }
    }
}

int ref_logreg_map(const ref_logreg_problem *pr, double *theta,
                   double *hess_out)
{
    size_t n = pr->n;
    if (n == 0)
        return -1;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    double *g = malloc(n * sizeof *g), *h = malloc(n * n * sizeof *h);
    gsl_vector *step = gsl_vector_alloc(n);
    int rc = -1;
    for (size_t i = 0; i < n; i++)
        theta[i] = prior_mean(pr, i);
    for (int it = 0; it < 100; it++) {
        grad_hess(pr, theta, g, h);
        gsl_matrix_view hv = gsl_matrix_view_array(h, n, n);
        gsl_vector_view gv = gsl_vector_view_array(g, n);
        if (gsl_linalg_cholesky_decomp1(&hv.matrix) != GSL_SUCCESS)
            break;
        gsl_linalg_cholesky_solve(&hv.matrix, &gv.vector, step);
        double norm = 0.0, scale = 0.0;
        for (size_t i = 0; i < n; i++) {
            theta[i] += gsl_vector_get(step, i);
            norm += gsl_vector_get(step, i) * gsl_vector_get(step, i);
            scale += theta[i] * theta[i];
        }
        if (norm <= 1e-24 * (1.0 + scale)) {
            rc = 0;
            break;
        }
    }
    if (rc == 0 && hess_out) {
        grad_hess(pr, theta, g, hess_out);
    }
    gsl_vector_free(step);
    free(g);
    free(h);
    gsl_set_error_handler(old);
    return rc;
}

int ref_logreg_mcmc(const ref_logreg_problem *pr, size_t n_samples,
                    size_t burnin, size_t thin, uint64_t seed,
                    ref_logreg_result *res)
{
    size_t n = pr->n;
    if (n == 0 || thin == 0 || n_samples < REF_BATCHES ||
        n_samples % REF_BATCHES != 0)
        return -1;
    double *h = malloc(n * n * sizeof *h);
    if (ref_logreg_map(pr, res->map, h) != 0) {
        free(h);
        return -1;
    }
    /* proposal: theta + c L^-T xi with H = L L^T, so Cov = c^2 H^-1 */
    gsl_matrix_view hv = gsl_matrix_view_array(h, n, n);
    gsl_linalg_cholesky_decomp1(&hv.matrix);
    double c = 2.38 / sqrt((double)n);

    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)seed);
    double *cur = malloc(n * sizeof *cur), *prop = malloc(n * sizeof *prop);
    gsl_vector *xi = gsl_vector_alloc(n);
    memcpy(cur, res->map, n * sizeof *cur);
    double lp = ref_logreg_logpost(pr, cur);

    size_t per_batch = n_samples / REF_BATCHES;
    size_t nn = n * n;
    /* per-batch sums of theta and theta theta^T */
    double *bs = calloc(REF_BATCHES * n, sizeof *bs);
    double *bss = calloc(REF_BATCHES * nn, sizeof *bss);
    size_t accepted = 0, total = burnin + n_samples * thin;
    for (size_t t = 0; t < total; t++) {
        for (size_t i = 0; i < n; i++)
            gsl_vector_set(xi, i, gsl_ran_gaussian_ziggurat(rng, 1.0));
        gsl_blas_dtrsv(CblasLower, CblasTrans, CblasNonUnit, &hv.matrix, xi);
        for (size_t i = 0; i < n; i++)
            prop[i] = cur[i] + c * gsl_vector_get(xi, i);
        double lq = ref_logreg_logpost(pr, prop);
        if (log(gsl_rng_uniform_pos(rng)) < lq - lp) {
            memcpy(cur, prop, n * sizeof *cur);
            lp = lq;
            accepted++;
        }
        if (t >= burnin && (t - burnin + 1) % thin == 0) {
            size_t s = (t - burnin + 1) / thin - 1, b = s / per_batch;
            for (size_t i = 0; i < n; i++) {
                bs[b * n + i] += cur[i];
                for (size_t j = 0; j < n; j++)
                    bss[b * nn + i * n + j] += cur[i] * cur[j];
            }
        }
    }
    res->accept = (double)accepted / (double)total;

    /* pooled mean / covariance; batch-means errors from the spread of the
     * per-batch estimates (each batch long against the autocorrelation) */
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t b = 0; b < REF_BATCHES; b++)
            s += bs[b * n + i];
        res->mean[i] = s / (double)n_samples;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t b = 0; b < REF_BATCHES; b++)
                s += bss[b * nn + i * n + j];
            res->cov[i * n + j] =
                (s - (double)n_samples * res->mean[i] * res->mean[j]) /
                (double)(n_samples - 1);
        }
    for (size_t i = 0; i < n; i++) {
        double v = 0.0;
        for (size_t b = 0; b < REF_BATCHES; b++) {
            double d = bs[b * n + i] / (double)per_batch - res->mean[i];
            v += d * d;
        }
        res->mean_se[i] = sqrt(v / (REF_BATCHES - 1) / REF_BATCHES);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double v = 0.0;
            for (size_t b = 0; b < REF_BATCHES; b++) {
                double mi = bs[b * n + i] / (double)per_batch;
                double mj = bs[b * n + j] / (double)per_batch;
                double cb = bss[b * nn + i * n + j] / (double)per_batch -
                            mi * mj;
                double d = cb - res->cov[i * n + j];
                v += d * d;
            }
            res->cov_se[i * n + j] = sqrt(v / (REF_BATCHES - 1) / REF_BATCHES);
        }

    free(bs);
    free(bss);
    gsl_vector_free(xi);
    free(cur);
    free(prop);
    gsl_rng_free(rng);
    free(h);
    return 0;
}
