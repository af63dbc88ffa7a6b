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
    int extrapolate;     /* lyap, expm: Richardson in h, R0 = (h1 R(h2) - h2 R(h1)) / (h1 - h2)
                          * from runs at the planned h1 and h2 ~ h1/2 (independent seeds):
                          * the O(h) discretisation bias is removed, O(h^2) remains */
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

/* ---- Bayesian inference (host/algo/algo_bayes.c; docs/bayes.md) ----------
 * U_lambda(theta) = U_prior(theta) + lambda U_lik(theta), beta = 1:
 * the prior N(prior_mean, prior_prec^-1) is coupling set 0, the K
 * observations sit in the unit's data memories (data-driven drift,
 * docs/numerics.md); each chain: burn-in at lambda = 0 (the prior's
 * equilibrium), ramps lambda 0 -> 1 (work read back from the unit; optional
 * reverse ramps 1 -> 0), a hold at lambda = 1, then samples of the posterior.
 * The device must report FEATURES.DATA = 1 and DATA_MAX_OBS >= K. */
typedef struct {
    int likelihood;            /* TSPU_DATA_GAUSS or TSPU_DATA_LOGISTIC            */
    unsigned n;                /* dimension of theta                              */
    unsigned k;                /* observations (scalar rows)                      */
    const double *prior_prec;  /* n x n symmetric positive definite               */
    const double *prior_mean;  /* n (NULL: zero)                                  */
    const double *X;           /* k x n row-major: y_d ~ N(x_d . theta, 1/ell_d)
                                * or P(y_d = 1) = sigma(x_d . theta)             */
    const double *y;           /* k: Gaussian targets; logistic labels 0 / 1     */
    const double *ell;         /* k: Gaussian precisions (> 0); logistic weights
                                * (>= 0); NULL: all 1                            */
    const double *predict;     /* n_predict x n rows: posterior mean of
                                * sigma(x . theta) (logistic), with error bars    */
    unsigned n_predict;
} tspu_bayes_problem;

typedef struct {
    uint64_t ramp_steps;       /* duration of one ramp (0: planned, 4 relaxation
                                * times of the prior)                            */
    const double *schedule;    /* NULL: linear ramp; else n_schedule + 1 lambda
                                * knots 0 = l_0 <= ... <= l_S = 1 passed at equal
                                * times (piecewise linear between them)          */
    unsigned n_schedule;
    unsigned ramps;            /* forward ramps over all chains (0: 8 Gaussian,
                                * one per chain logistic)                        */
    int reverse;               /* a reverse ramp 1 -> 0 after each forward one:
                                * Bennett's acceptance ratio                     */
    int trace;                 /* one program per schedule piece: W and theta
                                * read at every knot (trace_* below)             */
    uint64_t hold_steps;       /* hold at lambda = 1 before sampling (0: planned) */
    uint64_t hold0_steps;      /* hold at lambda = 0 before each ramp (0: planned) */
    int keep_samples;          /* return every sample (result.samples)            */
    unsigned ti_points;        /* thermodynamic integration: dF = int_0^1
                                * <U_lik>_lambda dlambda from samples at this many
                                * Gauss-Legendre nodes in u (lambda = u^2); 0: off.
                                * The one free-energy estimate for the logistic
                                * likelihood (U_lik evaluated by the host)       */
} tspu_bayes_opts;
#define TSPU_BAYES_TI_MAX 64

typedef struct {
    unsigned n, k;
    double *mean, *mean_se;    /* n: posterior mean, batch-means standard error  */
    double *cov, *cov_se;      /* n x n                                          */
    double *pred, *pred_se;    /* n_predict                                      */
    unsigned n_predict;
    double *samples;           /* n_samples x n, chain after chain (keep_samples) */
    uint64_t n_samples;
    /* thermodynamics (units of kT; Gaussian likelihood only: the unit has no
     * work counter for the logistic one, work_* are then NULL and NaN) */
    unsigned n_ramps;          /* forward ramps                                  */
    double *work, *heat, *du;  /* per forward ramp: W, Q = dU - W, dU            */
    double *work_rev, *heat_rev; /* per reverse ramp (reverse: n_ramps)          */
    double *ramp_end;          /* n_ramps x n: theta at the end of each forward ramp */
    double work_mean, work_se, heat_mean, heat_se;
    double dF_jarzynski, dF_jarzynski_se; /* -ln <exp(-W)>, delta-method s.e.   */
    double dF_bar, dF_bar_se;  /* BAR (reverse ramps), bootstrap s.e.; else NaN   */
    double dF_ti, dF_ti_se;    /* thermodynamic integration (ti_points); else NaN */
    unsigned n_ti;
    double *ti_lambda, *ti_u, *ti_u_se; /* nodes, <U_lik> and its s.e. per node  */
    /* trace (opts.trace): knot lambdas and, per forward ramp, W and Q at each */
    unsigned n_knots;
    double *knots;             /* n_knots                                        */
    double *trace_w, *trace_q; /* n_ramps x n_knots                              */
    double iat_steps;          /* integrated autocorrelation time of the slowest
                                * entry of the mean (steps, from batch means)    */
    double link_err;           /* logistic: max |table - sigma| (docs/numerics.md) */
    /* the problem the integers encode (chain 0), for references */
    double *prior_prec_eff;    /* n x n                                          */
    double *prior_b_eff;       /* n: P mu as encoded                             */
    double *X_eff, *y_eff, *ell_eff; /* k x n, k, k                               */
    uint64_t steps;
    double device_seconds, wall_seconds;
    unsigned flags;            /* TSPU_ALGO_FLAG_*                                */
    char device[256];
    unsigned n_devices;
    tspu_algo_plan plan;
} tspu_bayes_result;

void tspu_bayes_opts_init(tspu_bayes_opts *b);
void tspu_bayes_result_free(tspu_bayes_result *r);
/* The problem's checks alone (shapes, finite values, labels, SPD prior):
 * 0 or TSPU_ALGO_E_INPUT with one line in err. */
int tspu_bayes_check(const tspu_bayes_problem *p, char *err, size_t errlen);
/* 0 if the device has the data-driven drift for k observations; else
 * TSPU_E_UNSUPPORTED (no FEATURES.DATA) or TSPU_ALGO_E_INPUT (k too large)
 * with one line in err. */
int tspu_bayes_device_check(tspu_dev *dev, unsigned k, char *err, size_t errlen);
/* Posterior samples and moments; o: tol (half-width <= tol x the posterior
 * s.d. for the mean, tol x sqrt(S_ii S_jj) for the covariance), confidence,
 * samples, burnin (the first hold at lambda = 0), thin, dt, chains, batches,
 * seed, max_steps, verbosity, log, cancel, more_devs. */
int tspu_algo_bayes(tspu_dev *dev, const tspu_bayes_problem *p, const tspu_bayes_opts *b,
                    const tspu_algo_opts *o, tspu_bayes_result *r, char *err, size_t errlen);

/* Two-sided normal quantile for confidence P (0 < P < 1). */
double tspu_algo_z(double confidence);

#ifdef __cplusplus
}
#endif
#endif
