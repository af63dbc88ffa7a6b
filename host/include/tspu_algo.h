/*
 * tspu_algo.h - thermodynamic linear algebra on the unit (libtspualgo).
 *
 * Every algorithm works through the device API (tspu.h), so it runs on every
 * device ("model", "sim", "vboard", boards).  Estimators, planning rules and
 * error models are in docs/algorithms.md.
 *
 *   tspu_algo_opts o;  tspu_algo_opts_init(&o);  o.tol = 0.01;
 *   tspu_algo_result r;
 *   char err[256];
 *   int rc = tspu_algo_solve(dev, n, A, b, &o, &r, err, sizeof err);
 *   if (rc) { fprintf(stderr, "tspu: %s\n", err); ... }
 *   ... r.estimate[i], r.std_err[i] ...
 *   tspu_algo_result_free(&r);
 *
 * Return value: 0, TSPU_ALGO_E_INPUT for a bad problem (err holds one line:
 * not square, not positive definite, not stable, non-finite, too large for
 * the device, not representable), or a negative TSPU_E_* device error (err
 * holds the device's detail line).
 */
#ifndef TSPU_ALGO_H
#define TSPU_ALGO_H

#include <stddef.h>
#include <stdint.h>

#include "tspu.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TSPU_ALGO_E_INPUT (-100)     /* the problem was refused (err says why) */
#define TSPU_ALGO_E_CANCELLED (-101) /* opts.cancel asked to stop (the unit is stopped) */
#define TSPU_ALGO_MAX_DEVICES 8      /* devices one run may pool (dev + more_devs) */

/* verbosity levels passed to the log callback */
enum { TSPU_ALGO_LOG_WARN = 0, TSPU_ALGO_LOG_PLAN = 1, TSPU_ALGO_LOG_DEBUG = 2 };
typedef void (*tspu_algo_log_fn)(void *ctx, int level, const char *line);

typedef struct {
    /* accuracy target: the P-confidence half-width of every entry should be
     * <= tol * max|estimate| (solve, inv, lyap, expm) or <= tol (logdet,
     * absolute in log det).  Used only when samples is 0. */
    double tol;          /* default 0.02 */
    double confidence;   /* default 0.95 */
    /* overrides (0 = planned) */
    uint64_t samples;    /* kept samples in total (moments) / ramp pairs (logdet) */
    uint64_t burnin;     /* steps before the first batch; use burnin_set=1 for 0 */
    int burnin_set;
    uint32_t thin;       /* keep every thin-th step (FIFO-based algorithms) */
    double dt;           /* step h */
    double beta;         /* inverse temperature (0 = planned: 1, or auto for solve) */
    int integrator;      /* -1 = planned (LM; EM for expm), else tspu_integrator */
    uint64_t seed;       /* noise seed of chain 0 (chain k uses seed + k) */
    unsigned chains;     /* independent chains, pooled (default 1; at least one per device) */
    int mitigate;        /* stochastic rounding of A per chain (error mitigation) */
    /* more devices: chain c runs on device c mod D of (dev, more_devs[0], ...,
     * more_devs[n_more_devs - 1]), D = 1 + n_more_devs <= TSPU_ALGO_MAX_DEVICES,
     * one thread per device (each handle used by that thread only); chains are
     * pooled exactly as on one device, so the result does not depend on D */
    tspu_dev *const *more_devs;
    unsigned n_more_devs;
    unsigned batches;    /* batches per chain for batch means (0 = planned, >= 20) */
    uint64_t max_steps;  /* refuse plans beyond this many steps (default 2e10) */
    unsigned max_retries;/* saturation retries with a wider range (default 3) */
    int verbosity;       /* 0: warnings only, 1: the plan, 2: debug */
    tspu_algo_log_fn log;/* NULL: lines go to stderr */
    void *log_ctx;
    /* polled while the unit runs (about every device frame) and between
     * programs; nonzero: stop the unit and return TSPU_ALGO_E_CANCELLED
     * (e.g. a Ctrl-C flag).  NULL: never.  With more_devs, cancel and log
     * are also called from the device threads (must be thread-safe). */
    int (*cancel)(void *ctx);
    void *cancel_ctx;
} tspu_algo_opts;

void tspu_algo_opts_init(tspu_algo_opts *o);

/* What the planner chose (and why). */
typedef struct {
    unsigned n, n_dev;     /* problem size, device lanes (padding if larger) */
    int integrator;
    double h, beta;
    double lambda_min, lambda_max; /* spectral estimates (Re parts for lyap/expm) */
    double relax_steps;    /* slowest relaxation time in steps, 1/(h lambda_min) */
    uint64_t burnin;       /* steps */
    uint32_t thin;
    unsigned chains, batches;       /* batches per chain */
    uint64_t batch_samples;         /* kept samples per batch */
    double x_range;        /* |x| the state holds (real units) */
    double z;              /* two-sided normal quantile of the confidence */
    unsigned retries;      /* saturation retries done */
    /* logdet */
    double a;              /* reference a*I */
    uint64_t ramp_steps, hold_steps;
    unsigned ramp_pairs;
    /* expm */
    unsigned lag_steps;    /* 1/h */
    double bias_est;       /* planned/estimated discretisation bias (relative or absolute, see docs) */
    char note[256];        /* one line: planning remarks */
} tspu_algo_plan;

#define TSPU_ALGO_FLAG_SATURATED 0x01u     /* the unit clamped a value in the final run */
#define TSPU_ALGO_FLAG_FIFO_OVERFLOW 0x02u /* samples used by the estimate were dropped */
#define TSPU_ALGO_FLAG_RETRIED 0x04u       /* saturation forced a wider range (retries) */
#define TSPU_ALGO_FLAG_WORK_OVERFLOW 0x08u
#define TSPU_ALGO_FLAG_TRUNCATED 0x10u     /* plan capped by max_steps: tol not reached */

typedef struct {
    unsigned rows, cols;   /* shape of estimate (solve: n x 1, logdet: 1 x 1) */
    double *estimate;      /* rows*cols, row-major */
    double *std_err;       /* one standard error per entry (statistical) */
    /* reference-free quantisation diagnostics: the answer of the problem the
     * integers encode (A_eff) differs from the float problem's by about
     * quant_err (first-order estimate, same units as estimate, per entry);
     * it is NOT included in std_err (docs/algorithms.md) */
    double *quant_err;
    uint64_t samples;      /* kept samples (or ramps for logdet) */
    uint64_t steps;        /* unit steps, all programs */
    double device_seconds; /* steps * cycles_per_step / clock_hz; several devices run
                            * in parallel: the largest of theirs */
    double wall_seconds;
    unsigned flags;        /* TSPU_ALGO_FLAG_* */
    char device[256];      /* the device string; several: joined with "," */
    unsigned n_devices;
    tspu_algo_plan plan;
    /* logdet extras: forward/reverse work (beta W) and the Jarzynski value */
    double logdet_jarzynski, logdet_jarzynski_se;
    double *work_fwd, *work_rev; /* beta W per ramp, ramp_pairs each */
    /* the quantised problem actually run (chain 0), for references */
    double *A_eff;         /* n*n */
    double *b_eff;         /* n (solve) */
} tspu_algo_result;

void tspu_algo_result_free(tspu_algo_result *r);

/* x ~= A^-1 b, A symmetric positive definite (n x n), b n-vector. */
int tspu_algo_solve(tspu_dev *dev, unsigned n, const double *A, const double *b,
                    const tspu_algo_opts *o, tspu_algo_result *r, char *err, size_t errlen);
/* A^-1, A SPD. */
int tspu_algo_inv(tspu_dev *dev, unsigned n, const double *A,
                  const tspu_algo_opts *o, tspu_algo_result *r, char *err, size_t errlen);
/* log det A, A SPD (1 x 1 result). */
int tspu_algo_logdet(tspu_dev *dev, unsigned n, const double *A,
                     const tspu_algo_opts *o, tspu_algo_result *r, char *err, size_t errlen);
/* Sigma with A Sigma + Sigma A^T = D, A stable (Re lambda > 0), D SPD
 * (NULL: 2 I). */
int tspu_algo_lyap(tspu_dev *dev, unsigned n, const double *A, const double *D,
                   const tspu_algo_opts *o, tspu_algo_result *r, char *err, size_t errlen);
/* exp(-A), A stable. */
int tspu_algo_expm(tspu_dev *dev, unsigned n, const double *A,
                   const tspu_algo_opts *o, tspu_algo_result *r, char *err, size_t errlen);

/* Input checks on their own (the CLI may call them before opening a device):
 * returns 0 or TSPU_ALGO_E_INPUT with one line in err. */
int tspu_algo_check_spd(unsigned n, const double *A, char *err, size_t errlen);
int tspu_algo_check_stable(unsigned n, const double *A, char *err, size_t errlen);

/* Two-sided normal quantile for confidence P (0 < P < 1). */
double tspu_algo_z(double confidence);

#ifdef __cplusplus
}
#endif
#endif
