/*
 * ref_logreg.h - host-side reference for Bayesian logistic regression:
 * a long random-walk Metropolis chain (GSL) whose proposal covariance is the
 * inverse Hessian at the MAP (found by Newton's method).  Used by the tests
 * to judge what the unit samples; it shares no code with host/algo.
 *
 * Posterior:  p(theta | X, y) ∝ N(theta; m, P^-1) * prod_d
 *             sigma(x_d.theta)^(w_d y_d) (1 - sigma(x_d.theta))^(w_d (1 - y_d))
 * with y_d in {0, 1} and weights w_d >= 0 (NULL: all 1).
 */
#ifndef REF_LOGREG_H
#define REF_LOGREG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t n;             /* dimension of theta                          */
    size_t d;             /* observations                                */
    const double *x;      /* d x n row-major design                      */
    const double *y;      /* d labels, 0 or 1                            */
    const double *w;      /* d weights or NULL                           */
    const double *m;      /* n prior mean (NULL: zero)                   */
    const double *prec;   /* n x n prior precision (SPD)                 */
} ref_logreg_problem;

typedef struct {
    double *map;          /* n: posterior mode                            */
    double *mean;         /* n: sample mean                               */
    double *mean_se;      /* n: batch-means standard error of the mean   */
    double *cov;          /* n x n: sample covariance                     */
    double *cov_se;       /* n x n: batch-means standard error of cov     */
    double accept;        /* Metropolis acceptance rate                   */
} ref_logreg_result;

/* log posterior up to a constant */
double ref_logreg_logpost(const ref_logreg_problem *pr, const double *theta);

/* MAP by Newton's method; hess_out (n x n, may be NULL) gets the negative
 * Hessian of the log posterior at the mode.  Returns 0, or -1 when Newton
 * did not converge in 100 iterations or the Hessian is not SPD. */
int ref_logreg_map(const ref_logreg_problem *pr, double *theta,
                   double *hess_out);

/* Runs burnin + n_samples*thin Metropolis steps from the MAP; n_samples must
 * be a multiple of 50 (50 batches for the standard errors).  The result
 * arrays are caller-owned.  Returns 0, or -1 on a bad problem. */
int ref_logreg_mcmc(const ref_logreg_problem *pr, size_t n_samples,
                    size_t burnin, size_t thin, uint64_t seed,
                    ref_logreg_result *res);

#endif
