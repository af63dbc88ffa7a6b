/* model_demo.c - `make demo` for now: solve A x = b and estimate A^-1 on the
 * bit-exact model with the LM integrator, batch-means error bars, and the
 * LAPACK answer beside it.  The tspu CLI (issue: host link) replaces this. */
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tspu_fixmap.h"
#include "tspu_model.h"

#define N 4
#define BATCHES 20

int main(void)
{
    const double A[N * N] = {4.0, 1.0, 0.5, 0.0, 1.0, 3.0, 0.8, 0.2,
                             0.5, 0.8, 2.0, 0.3, 0.0, 0.2, 0.3, 1.0};
    const double b[N] = {1.0, -2.0, 0.5, 1.5};
    const double beta = 1.0;

    /* reference: LAPACK Cholesky solve and inverse */
    double L[N * N], xref[N], inv[N * N];
    memcpy(L, A, sizeof L);
    memcpy(xref, b, sizeof xref);
    if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', N, 1, L, N, xref, 1) != 0 ||
        LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', N, L, N) != 0) {
        fprintf(stderr, "demo: A is not positive definite\n");
        return 1;
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < i; j++)
            L[i * N + j] = L[j * N + i];
    memcpy(inv, L, sizeof inv);

    double range = 0, sdmax = 0;
    for (int i = 0; i < N; i++) {
        range = fmax(range, fabs(xref[i]));
        sdmax = fmax(sdmax, sqrt(inv[i * N + i] / beta));
    }
    tspu_problem pr = {.n = N, .A0 = A, .b0 = b, .beta = beta, .h = 0.05,
                       .integrator = TSPU_INT_LM, .x_range = range + 8 * sdmax};
    tspu_mapping mp;
    tspu_model_config cfg = tspu_model_default_config();
    char err[200];
    if (tspu_map_problem(&pr, &mp, &cfg, err, sizeof err)) {
        fprintf(stderr, "demo: %s\n", err);
        return 1;
    }
    tspu_model *m = tspu_model_create(N, 0);
    tspu_model_load_couplings(m, 0, mp.a[0], mp.b[0]);
    tspu_model_seed(m, 2026);
    cfg.burnin = 2000;
    cfg.thin = 4;
    cfg.n_samples = 0;
    tspu_model_configure(m, &cfg);
    tspu_model_start(m);
    tspu_model_run(m, UINT64_MAX); /* burn-in */

    double bm[BATCHES][N], bc[BATCHES][N * N];
    cfg.burnin = 0;
    cfg.n_samples = 25000;
    tspu_model_configure(m, &cfg);
    for (int k = 0; k < BATCHES; k++) {
        tspu_moments mom;
        tspu_model_start(m);
        while (!tspu_model_done(m)) {
            int16_t sink[8192];
            tspu_model_run(m, 1000);
            while (tspu_model_fifo_read(m, sink, 8192) > 0) {
            }
        }
        tspu_model_read_moments(m, &mom);
        tspu_moments_to_real(&mp, &mom, bm[k], bc[k]);
    }
    printf("tspu demo: N=%d, LM integrator, h=%.3g, beta=%.3g, %d x %u samples on the bit-exact model\n",
           N, pr.h, beta, BATCHES, cfg.n_samples);
    printf("%-10s %12s %12s %12s %8s\n", "quantity", "estimate", "stderr", "exact", "z");
    for (int i = 0; i < N; i++) {
        double s = 0, s2 = 0;
        for (int k = 0; k < BATCHES; k++) {
            s += bm[k][i];
            s2 += bm[k][i] * bm[k][i];
        }
        double mean = s / BATCHES, se = sqrt((s2 / BATCHES - mean * mean) / (BATCHES - 1));
        printf("x[%d]       %12.5f %12.5f %12.5f %8.2f\n", i, mean, se, xref[i], (mean - xref[i]) / se);
    }
    for (int i = 0; i < N; i++)
        for (int j = i; j < N; j++) {
            double s = 0, s2 = 0;
            for (int k = 0; k < BATCHES; k++) {
                double v = bc[k][i * N + j] * beta;
                s += v;
                s2 += v * v;
            }
            double mean = s / BATCHES, se = sqrt((s2 / BATCHES - mean * mean) / (BATCHES - 1));
            printf("inv[%d,%d]   %12.5f %12.5f %12.5f %8.2f\n", i, j, mean, se, inv[i * N + j],
                   (mean - inv[i * N + j]) / se);
        }
    tspu_status st;
    tspu_model_read_status(m, &st);
    printf("flags: saturated=%u fifo_overflow=%u\n", st.flags & TSPU_FLAG_SATURATED ? 1 : 0,
           st.flags & TSPU_FLAG_FIFO_OVERFLOW ? 1 : 0);
    tspu_model_destroy(m);
    return 0;
}
