/*
 * cli.h - the shared parts of the tspu command-line tool: the command table,
 * global options, error reporting and exit codes, device opening, problem
 * range planning, the sampling run loop (progress, Ctrl-C, stall watchdog)
 * and result output (text, .npy, --json).
 *
 * Adding a command (e.g. the algorithms of host/algo) is one line in the
 * table of host/cli/main.c:
 *     {"solve", "A b", "x ~ A^-1 b", solve_help, cmd_solve},
 * with `int cmd_solve(cli_ctx *c, int argc, char **argv)` written against
 * these helpers: cli_parse_opts for its options, cli_read_matrix /
 * cli_read_vector for its inputs, cli_open_device, cli_run_sampling (or its
 * own loop calling cli_interrupted / cli_progress), and cli_emit_result for
 * output.  A command returns one of the CLI_EXIT_* codes.
 */
#ifndef TSPU_CLI_H
#define TSPU_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "matio.h"
#include "tspu.h"
#include "tspu_algo.h"

/* exit status (docs/tspu.1, EXIT STATUS) */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_RUNTIME = 1,     /* device / link / I/O error at run time        */
    CLI_EXIT_USAGE = 2,       /* bad command line or bad input data           */
    CLI_EXIT_INTERRUPT = 130, /* SIGINT: the unit was stopped, partial output */
};

#define CLI_MAX_DEVICES 8 /* -d given up to this many times (algorithm commands) */

typedef struct cli_ctx {
    /* global options */
    const char *device;  /* -d; NULL: the library default (with fallback) */
    int device_explicit; /* -d was given: never fall back                */
    unsigned device_opts; /* how many -d on the command line             */
    const char *more_device[CLI_MAX_DEVICES - 1]; /* the second, third ... -d */
    unsigned n_more;
    int multi_ok;        /* the command pools several devices (cmd_algo.c) */
    uint64_t seed;
    int seed_given;
    int json;
    const char *output; /* -o FILE or NULL                               */
    int verbose;
    int progress;       /* 1 forced on (--progress), 0 forced off, -1 auto */
    int stall_ms;       /* stall watchdog (--timeout SECONDS)            */
    /* state */
    const char *cmd;
    tspu_dev *dev;
    tspu_info info;
    tspu_dev *more_dev[CLI_MAX_DEVICES - 1]; /* opened when multi_ok */
    tspu_info more_info[CLI_MAX_DEVICES - 1];
    double t_start; /* monotonic seconds at program start            */
} cli_ctx;

/* a command: name, argument synopsis, one-line summary, help, entry */
typedef struct {
    const char *name, *args, *summary;
    const char *help; /* options of the command, printed by --help   */
    int (*run)(cli_ctx *c, int argc, char **argv);
} cli_command;

/* one error line "tspu: ...\n" on stderr; returns code */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_info(const cli_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- options ------------------------------------------------------------------ */
/* A command's option: "--name" (and optional short 'c'), with an argument
 * unless flag.  cli_parse_opts walks argv[1..]: global options are accepted
 * anywhere, the command's options by table, the rest are positional and
 * collected into pos (at most maxpos, else a usage error).  Returns 0,
 * CLI_EXIT_USAGE (message printed), or -1 for --help (help printed). */
typedef struct {
    const char *name;
    char shortname;
    int flag;
    const char **val; /* receives the argument (or "1" for a flag) */
} cli_opt;
int cli_parse_opts(cli_ctx *c, const cli_command *cmd, int argc, char **argv, const cli_opt *opts,
                   const char **pos, int maxpos, int *npos);
/* handles a global option at argv[*i]; returns 1 if it was one (advancing
 * *i past its argument), 0 if not, CLI_EXIT_USAGE on a bad value */
int cli_global_opt(cli_ctx *c, int argc, char **argv, int *i);

/* number parsing for option values: usage error with a message on failure */
int cli_parse_u32(const char *opt, const char *s, uint32_t min, uint32_t *out);
int cli_parse_pos_double(const char *opt, const char *s, double *out);
/* a non-negative integer (1e6 style too) up to 1.8e19 */
int cli_parse_u64(const char *opt, const char *s, uint64_t *out);

/* ---- inputs ----------------------------------------------------------------------- */
int cli_read_matrix(const char *path, mat_t *m);           /* CLI_EXIT_USAGE on error */
int cli_read_square(const char *path, mat_t *m);           /* n x n, n >= 2 */
int cli_read_vector(const char *path, size_t n, mat_t *m); /* length n */

/* ---- device -------------------------------------------------------------------- */
/* opens c->device (default: TSPU_DEFAULT_DEVICE, falling back to "model"
 * when it is not in this build), fills c->info; returns a CLI_EXIT_* code.
 * -d given more than once: with c->multi_ok the other devices are opened too
 * (more_dev, more_info; any failure closes them all, one error line),
 * otherwise a usage error.  cli_close_device closes them all. */
int cli_open_device(cli_ctx *c);
void cli_close_device(cli_ctx *c);

/* ---- planning ----------------------------------------------------------------- */
/* For a symmetric positive-definite A (n x n, row-major) and b (or NULL):
 * mean = A^-1 b, sd[i] = sqrt((A^-1)_ii / beta), lam_min / lam_max the
 * extreme eigenvalues.  Returns 0, or CLI_EXIT_USAGE with a message naming
 * what (not symmetric / not positive definite). */
int cli_spd_plan(const char *name, const double *A, const double *b, unsigned n, double beta,
                 double *mean, double *sd, double *lam_min, double *lam_max);

/* Embed an n x n problem in the device's N lanes: the extra lanes get a
 * decoupled diagonal c = max_i A_ii (their spread is then no wider than any
 * real lane's), b = 0.  Out: N*N and N arrays. */
void cli_pad_problem(const double *A, const double *b, unsigned n, unsigned N, double *Ap, double *bp);

/* ---- running ------------------------------------------------------------------- */
void cli_install_sigint(void);
int cli_interrupted(void);
double cli_now(void); /* monotonic seconds */

/* progress line, at most once a second, after the first second, when stderr
 * is a tty or --progress; done/total in samples (total 0: unknown) */
typedef struct {
    double t0, last;
    int shown;
} cli_progress_state;
void cli_progress(const cli_ctx *c, cli_progress_state *ps, const char *what, uint64_t done,
                  uint64_t total);
void cli_progress_end(cli_progress_state *ps);

/* Streams the configured, started program: on_sample gets each whole sample
 * (words_per_sample 16-bit operands); progress on stderr, Ctrl-C stops the
 * unit (returns CLI_EXIT_INTERRUPT), the stall watchdog names what is stuck
 * (CLI_EXIT_RUNTIME).  *st receives the final status. */
typedef int (*cli_sample_fn)(void *ctx, const int16_t *op, unsigned words);
int cli_run_sampling(cli_ctx *c, unsigned words_per_sample, uint64_t total_samples, cli_sample_fn fn,
                     void *fctx, tspu_status *st);

/* ---- output ------------------------------------------------------------------- */
/* minimal JSON writer to stdout */
typedef struct {
    int depth, first[16];
} cli_json;
void cli_json_begin(cli_json *j);
void cli_json_key(cli_json *j, const char *key);
void cli_json_num(cli_json *j, double v); /* non-finite: null */
void cli_json_int(cli_json *j, long long v);
void cli_json_uint(cli_json *j, unsigned long long v);
void cli_json_str(cli_json *j, const char *s);
void cli_json_bool(cli_json *j, int v);
void cli_json_open(cli_json *j, char bracket); /* '{' or '[' */
void cli_json_close(cli_json *j, char bracket);
void cli_json_mat(cli_json *j, const mat_t *m); /* vector (ndim 1) or list of rows */
void cli_json_end(cli_json *j);

/* the common part of every result */
typedef struct {
    const mat_t *estimate, *stderr_; /* same shape; stderr_ entries may be NaN (null) */
    uint64_t samples, steps;
    double device_seconds, wall_seconds;
    int saturated, fifo_overflow, interrupted;
    uint32_t sat_count;
} cli_result;
/* device_seconds from steps and the device's clock */
double cli_device_seconds(const cli_ctx *c, uint64_t steps);
/* --json: the object with every contract key (extra: fn adds its own keys);
 * otherwise the estimate as text on stdout or to -o */
int cli_emit_result(cli_ctx *c, const cli_result *r, void (*extra)(cli_json *, void *), void *ectx);
/* the --json object alone, and the warning lines for the flags */
void cli_emit_json(cli_ctx *c, const cli_result *r, void (*extra)(cli_json *, void *), void *ectx);
void cli_warn_flags(const cli_result *r);

/* ---- commands (host/cli/cmd_*.c) ------------------------------------------------- */
int cmd_info(cli_ctx *c, int argc, char **argv);
int cmd_devices(cli_ctx *c, int argc, char **argv);
int cmd_sample(cli_ctx *c, int argc, char **argv);
extern const char cmd_info_help[], cmd_devices_help[], cmd_sample_help[];
/* algorithms over libtspualgo (cmd_algo.c) */
int cmd_solve(cli_ctx *c, int argc, char **argv);
int cmd_inv(cli_ctx *c, int argc, char **argv);
int cmd_logdet(cli_ctx *c, int argc, char **argv);
int cmd_lyap(cli_ctx *c, int argc, char **argv);
int cmd_expm(cli_ctx *c, int argc, char **argv);
extern const char cmd_solve_help[], cmd_inv_help[], cmd_logdet_help[], cmd_lyap_help[], cmd_expm_help[];
/* Bayesian inference over tspu_algo_bayes (cmd_bayes.c) */
int cmd_posterior(cli_ctx *c, int argc, char **argv);
int cmd_logreg(cli_ctx *c, int argc, char **argv);
extern const char cmd_posterior_help[], cmd_logreg_help[];
extern const cli_command cli_commands[]; /* main.c; ends with a NULL name */
const cli_command *cli_find_command(const char *name);

/* ---- shared by the algorithm commands (cmd_algo.c, cmd_bayes.c) ----------------- */
/* the planning options every algorithm command takes; CLI_ALGO_OPTS(q) is
 * their rows of a cli_opt table (--beta is cmd_algo's own row) */
typedef struct {
    const char *tol, *conf, *samples, *burnin, *thin, *chains, *batches, *max, *beta, *dt;
} cli_algo_args;
#define CLI_ALGO_OPTS(q)                                                                                \
    {"tol", 0, 0, &(q).tol}, {"confidence", 0, 0, &(q).conf}, {"samples", 0, 0, &(q).samples},         \
        {"burnin", 0, 0, &(q).burnin}, {"thin", 0, 0, &(q).thin}, {"dt", 0, 0, &(q).dt},                \
        {"chains", 0, 0, &(q).chains}, {"batches", 0, 0, &(q).batches}, {"max-steps", 0, 0, &(q).max}
/* into *o (the fields given); --batches at least min_batches; 0 or
 * CLI_EXIT_USAGE (message printed) */
int cli_parse_algo_args(const cli_algo_args *q, uint32_t min_batches, tspu_algo_opts *o);
/* a seed from /dev/urandom (the clock when that fails) */
uint64_t cli_random_seed(void);
/* after cli_open_device: the seed (random unless --seed), verbosity, log
 * and Ctrl-C hooks, the further devices of -d */
void cli_algo_hooks(cli_ctx *c, tspu_algo_opts *o);
/* the exit status of a failed algorithm run (rc < 0), its message printed:
 * Ctrl-C 130, bad input 2 ("WHAT: err"), else 1 ("DEVICE: err") */
int cli_algo_error(cli_ctx *c, int rc, const char *what, const char *err);
/* --json "plan" fields the algorithm commands share, in their order:
 * lambda_min ... batches; then x_range, retries, note, the plan's closing
 * brace and "truncated" (TSPU_ALGO_FLAG_TRUNCATED of flags) */
void cli_json_plan_run(cli_json *j, const tspu_algo_plan *p);
void cli_json_plan_end(cli_json *j, const tspu_algo_plan *p, unsigned flags);

#endif
