/*
 * tspu_fixmap.h - map a floating-point problem onto the unit's integers and
 * bring results back (docs/numerics.md, "From a float problem to integers").
 */
#ifndef TSPU_FIXMAP_H
#define TSPU_FIXMAP_H

#include <stddef.h>
#include <stdint.h>

#include "tspu_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned n;
    const double *A0, *b0; /* n*n row-major, n (b0 may be NULL: zero)      */
    const double *A1, *b1; /* optional second coupling set (NULL: none)    */
    double beta;           /* inverse temperature (> 0)                    */
    double h;              /* time step (> 0)                              */
    tspu_integrator integrator;
    double gamma, mass;    /* underdamped friction and mass (> 0)          */
    double x_range;        /* |x| the state must hold, real units (> 0)    */
    double p_range;        /* |p| for UD; 0: 10 sqrt(M/beta)               */
} tspu_problem;

typedef struct {
    unsigned n;
    int16_t a[2][TSPU_N_MAX * TSPU_N_MAX];
    int32_t b[2][TSPU_N_MAX];
    /* the problem the integers encode exactly (quantised A and b) */
    double A_eff[2][TSPU_N_MAX * TSPU_N_MAX];
    double b_eff[2][TSPU_N_MAX];
    double lsb_x;    /* real value of one position LSB                 */
    double lsb_p;    /* real value of one momentum LSB (UD)            */
    double lsb_f;    /* real value of one force LSB (= lsb_x, or lsb_p) */
    double op_x;     /* real value of one position operand LSB (2^16 lsb_x) */
    double op_p;     /* real value of one momentum operand LSB          */
    double lsb_work; /* real work (units of U) of one work LSB          */
    double noise_step_sd; /* real s.d. of the injected noise per step    */
} tspu_mapping;

/* Fills *mp and the integer fields of *cfg (integrator, shifts, ka, ko);
 * sequencer fields of *cfg are left as they are.  Returns 0, or -1 with a
 * one-line reason in err. */
int tspu_map_problem(const tspu_problem *pr, tspu_mapping *mp,
                     tspu_model_config *cfg, char *err, size_t errlen);

/* lambda (0..1) as a lambda-accumulator value */
uint32_t tspu_lambda_to_acc(double lambda);

/* Moments of the position operands -> mean (n) and covariance (n*n) in real
 * units; the covariance has Sheppard's correction op_x^2/12 removed from
 * the diagonal.  Returns -1 if count < 2. */
int tspu_moments_to_real(const tspu_mapping *mp, const tspu_moments *mom,
                         double *mean, double *cov);

/* ---- data-driven drift (docs/numerics.md, "Data-driven drift") ---------- */
typedef struct {
    tspu_data_mode mode;  /* TSPU_DATA_GAUSS or TSPU_DATA_LOGISTIC            */
    unsigned k;           /* observations (1..TSPU_DATA_MAX_OBS, k*n <= 16384) */
    const double *X;      /* k*n row-major design (n from the tspu_problem)   */
    const double *y;      /* k targets: Gaussian real values; logistic labels
                           * in [0, 1] (0/1)                                 */
    const double *ell;    /* k weights: Gaussian precisions (> 0); logistic
                           * weights (NULL: all 1)                            */
    double z_range;       /* |x_d^T theta| the predictor must hold; 0: from
                           * the state range, max_d sum_j |X_dj| * x_range,
                           * and for Gaussian at least 2 max|y|              */
} tspu_data_problem;

typedef struct {
    unsigned k;
    int16_t x[TSPU_DATA_MAX_WORDS]; /* X, k*n row-major (stride n)           */
    int16_t y[TSPU_DATA_MAX_OBS];
    int16_t l[TSPU_DATA_MAX_OBS];
    int16_t table[TSPU_LINK_TABLE_SIZE]; /* logistic: sigma in Q1.14          */
    /* the problem the integers encode exactly: X_eff = x lsb_X,
     * y_eff = y lsb_e, ell_eff = l lsb_l (Gaussian: U_lik = 1/2 sum ell_eff
     * (y_eff - X_eff theta)^2) */
    double X_eff[TSPU_DATA_MAX_WORDS];
    double y_eff[TSPU_DATA_MAX_OBS];
    double ell_eff[TSPU_DATA_MAX_OBS];
    double lsb_X;     /* real value of one X LSB                            */
    double lsb_z;     /* real predictor x^T theta of one z LSB (2^Sr lsb_X op_x) */
    double lsb_e;     /* real residual of one y / s / e LSB (Gaussian lsb_z,
                       * logistic 2^-14)                                    */
    double lsb_l;     /* real weight of one l LSB                           */
    double lsb_work;  /* Gaussian: real work of one work LSB, 2^(Sg-16) lsb_l lsb_e^2 */
    double link_err;  /* logistic: max |interpolated table - sigma| over the
                       * 16-bit predictor range (0 for Gaussian)           */
} tspu_data_mapping;

/* Maps the data problem onto the integers, for the prior mapping *mp of
 * *pr (lsb_x, lsb_f, h): fills *dm and the data fields of *cfg (data_mode,
 * n_obs, data_sr, data_sg, data_dd).  Returns 0, or -1 with a one-line
 * reason in err.  *dm is large (~200 KB): allocate it. */
int tspu_map_data(const tspu_problem *pr, const tspu_mapping *mp,
                  const tspu_data_problem *dp, tspu_data_mapping *dm,
                  tspu_model_config *cfg, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
