/* algo_internal.h - shared pieces of libtspualgo (not installed). */
#ifndef TSPU_ALGO_INTERNAL_H
#define TSPU_ALGO_INTERNAL_H

#include <stdint.h>

#include "tspu.h"
#include "tspu_algo.h"
#include "tspu_fixmap.h"

/* ---- messages --------------------------------------------------------------- */
void alog(const tspu_algo_opts *o, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int aerr(char *err, size_t len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
double now_s(void);

/* ---- small dense linear algebra (row-major, LAPACKE underneath) ------------- */
int la_chol(unsigned n, const double *A, double *L);      /* lower L, 0 or -1 */
int la_spd_solve(unsigned n, const double *L, double *x); /* with la_chol's L  */
double la_lambda_max_sym(unsigned n, const double *A);    /* power iteration   */
double la_lambda_min_spd(unsigned n, const double *L);    /* inverse iteration */
int la_eig(unsigned n, const double *A, double *wr, double *wi); /* dgeev */
int la_inv(unsigned n, const double *A, double *Ainv);    /* dgesv            */
void la_mul(unsigned n, const double *A, const double *B, double *C); /* C = A B */
void la_mul_t(unsigned n, const double *A, const double *B, double *C); /* C = A B^T */
double la_maxabs(size_t k, const double *v);
int check_finite(unsigned n, size_t k, const double *v, const char *what, char *err, size_t len);
int check_square(unsigned n, char *err, size_t len);

/* ---- device session ------------------------------------------------------- */
typedef struct {
    tspu_dev *dev;
    tspu_info info;
    const tspu_algo_opts *o;
    unsigned n, nd;       /* problem size, device lanes */
    tspu_problem pr;      /* padded to nd */
    double A0[TSPU_N_MAX * TSPU_N_MAX], A1[TSPU_N_MAX * TSPU_N_MAX];
    double b0[TSPU_N_MAX];
    int two_sets;
    tspu_mapping mp;
    tspu_model_config cfg;
    int fifo_stall;       /* the gateware can stall on a full FIFO */
    uint64_t steps;       /* all programs */
    double cycles;        /* their clock cycles (sess_count_steps) */
    unsigned flags;       /* TSPU_ALGO_FLAG_* accumulated */
    uint32_t last_flags;  /* unit flags of the last program */
    double t0;
    uint64_t rng;         /* for stochastic rounding */
    double gamma, mass;   /* underdamped friction and mass (sess_open: 1, 1) */
    /* the other devices of a pool, folded in by pool_close */
    uint64_t more_steps;
    double more_seconds;  /* the largest device time among them */
    char more_names[200]; /* ",dev1,dev2" */
    unsigned more_n;
} sess;

/* adds a finished program's steps (and their cycles) to s */
void sess_count_steps(sess *s, uint64_t steps);
/* device time of s's programs: cycles / clock */
double sess_seconds(const sess *s);

int sess_open(sess *s, tspu_dev *dev, const tspu_algo_opts *o, unsigned n, char *err, size_t len);
/* the stochastic-rounding stream of chain c (chain 0: the session's first) */
void sess_chain_rng(sess *s, unsigned chain);
/* set the problem (n x n A0, optional A1, optional b), pad to the device and
 * map it with range x_range; mitigate: stochastic rounding of the couplings
 * (1: set 0, and set 1 = set 0 when A1 is NULL; 2: set 1 only) */
int sess_map(sess *s, const double *A0, const double *A1, const double *b, double beta, double h,
             int integ, double x_range, int mitigate, char *err, size_t len);
/* reload the mapping, seed, zero the state */
int sess_load(sess *s, uint64_t seed, char *err, size_t len);
/* run one program with s->cfg to completion; sets last_flags */
int sess_run(sess *s, char *err, size_t len);
/* devices errors -> err */
int dev_err(sess *s, int rc, char *err, size_t len, const char *what);
/* after tspu_stream returned rc: a FIFO overflow is flagged (and
 * overflow_warning, if not NULL, logged), another error reported; the run's
 * steps and flags go into *s.  1 if the unit saturated, 0, or an error. */
int sess_stream_end(sess *s, int rc, const char *overflow_warning, char *err, size_t len);

/* ---- several devices: one session per device, chains round-robin ----------- */
typedef struct {
    unsigned D;
    sess *s[TSPU_ALGO_MAX_DEVICES]; /* s[0]: the caller's session */
} spool;
/* sessions on o->more_devs (parameters gamma, mass copied from s0) */
int pool_open(spool *p, sess *s0, char *err, size_t len);
/* folds the other sessions' steps, flags and names into s[0]; frees them */
void pool_close(spool *p);
/* Runs chains c0..C-1, chain c on p->s[c % D] (one thread per device, its
 * chains in increasing order; D = 1: inline).  fn returns 0, 1 (saturated:
 * the others are asked to stop through *stop) or a negative error.  Returns
 * the negative error of the lowest chain, else 1 if any chain saturated,
 * else 0; err gets that chain's message. */
typedef int (*chain_fn)(sess *s, unsigned chain, void *ctx, char *err, size_t len);
int run_chains(spool *p, unsigned c0, unsigned C, chain_fn fn, void *ctx, int *stop, char *err, size_t len);
static inline int chain_stopped(const int *stop) { return __atomic_load_n(stop, __ATOMIC_RELAXED); }
/* chains: at least one per device */
unsigned plan_chains(const tspu_algo_opts *o);

/* ---- Richardson extrapolation in h (opts.extrapolate) ------------------------- */
typedef int (*algo_run_fn)(void *ctx, const tspu_algo_opts *o, tspu_algo_result *r, char *err, size_t len);
int richardson(algo_run_fn fn, void *ctx, const tspu_algo_opts *o, tspu_algo_result *r, char *err, size_t len);

/* ---- batch statistics ------------------------------------------------------ */
/* K batch values of a vector of m entries, row k = batch k: mean and
 * standard error of the mean (batch means) */
void batch_stats(unsigned K, unsigned m, const double *vals, double *mean, double *se);

/* ---- free energies (algo_logdet.c; also algo_bayes.c) ---------------------- */
/* Bennett's acceptance ratio: Delta f (kT units) from nf forward works wf and
 * nr reverse works wr, by bisection */
double algo_bar(unsigned nf, const double *wf, unsigned nr, const double *wr);
/* SplitMix64 step (bootstrap resampling with a fixed seed) */
uint64_t algo_rng_next(uint64_t *s);

/* ---- saturation retries (solve/inv/lyap, expm, logdet, bayes) ---------------- */
/* one attempt's chains 0..C-1 unless the pilot saturated already (*sat);
 * *sat = 1 when a chain saturated; 0 or a negative error */
int run_attempt(spool *p, unsigned C, chain_fn fn, void *ctx, int *stop, int *sat, char *err, size_t len);
/* after a saturated attempt: RETRIED into *flags (the result's), warn, double *range ("x_range",
 * "theta range": what) */
void note_retry(const tspu_algo_opts *o, unsigned *flags, const char *what, double *range);

/* common planning helpers */
double plan_h_spd(const tspu_algo_opts *o, double lmax);
void fill_result_common(tspu_algo_result *r, sess *s, unsigned rows, unsigned cols);

#endif
