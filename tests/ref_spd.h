/* tests/ref_spd.h - random SPD test problems and their LAPACK references,
 * shared by tests/test_algo.c and bench/algo_bench.c (one generator, so the
 * benchmark's problems are the tests' problems).  Header-only, static inline.
 * Needs <lapacke.h>, <gsl/gsl_randist.h>, <math.h>, <string.h>. */
#ifndef TSPU_REF_SPD_H
#define TSPU_REF_SPD_H

#ifndef REF_SPD_NMAX
#define REF_SPD_NMAX 16
#endif

/* Q: a Haar-ish random orthogonal n x n matrix (QR of a Gaussian one) */
static inline void ref_rand_orth(gsl_rng *g, unsigned n, double *Q)
{
    double tau[REF_SPD_NMAX];
    for (unsigned i = 0; i < n * n; i++)
        Q[i] = gsl_ran_gaussian(g, 1.0);
    LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (int)n, (int)n, Q, (int)n, tau);
    LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (int)n, (int)n, (int)n, Q, (int)n, tau);
}

/* A = Q diag(kappa^(k/(n-1))) Q^T: eigenvalues 1..kappa, geometric (n >= 2) */
static inline void ref_make_spd(gsl_rng *g, unsigned n, double kappa, double *A)
{
    double Q[REF_SPD_NMAX * REF_SPD_NMAX];
    ref_rand_orth(g, n, Q);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j <= i; j++) {
            double s = 0;
            for (unsigned k = 0; k < n; k++)
                s += Q[i * n + k] * pow(kappa, (double)k / (n - 1)) * Q[j * n + k];
            A[i * n + j] = A[j * n + i] = s;
        }
}

/* x = A^-1 b (dposv); 0 or LAPACK's info */
static inline int ref_spd_solve(unsigned n, const double *A, const double *b, double *x)
{
    double L[REF_SPD_NMAX * REF_SPD_NMAX];
    memcpy(L, A, sizeof(double) * n * n);
    memcpy(x, b, sizeof(double) * n);
    return LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (int)n, 1, L, (int)n, x, 1);
}

/* the upper triangle of A^-1 (dpotrf + dpotri); 0 or LAPACK's info */
static inline int ref_spd_inverse_upper(unsigned n, const double *A, double *X)
{
    memcpy(X, A, sizeof(double) * n * n);
    int rc = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (int)n, X, (int)n);
    return rc ? rc : LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', (int)n, X, (int)n);
}

/* X = A^-1, full */
static inline int ref_spd_inverse(unsigned n, const double *A, double *X)
{
    int rc = ref_spd_inverse_upper(n, A, X);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < i; j++)
            X[i * n + j] = X[j * n + i];
    return rc;
}

/* log det A by Cholesky */
static inline double ref_spd_logdet(unsigned n, const double *A)
{
    double L[REF_SPD_NMAX * REF_SPD_NMAX], s = 0;
    memcpy(L, A, sizeof L[0] * n * n);
    LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (int)n, L, (int)n);
    for (unsigned i = 0; i < n; i++)
        s += 2 * log(L[i * n + i]);
    return s;
}

#endif
