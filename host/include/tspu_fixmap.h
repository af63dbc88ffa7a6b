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

#ifdef __cplusplus
}
#endif
#endif
