/* cmd_bayes.c - `tspu posterior` (Gaussian prior x Gaussian likelihood,
 * optional design H) and `tspu logreg` (Bayesian logistic regression) over
 * tspu_algo_bayes (host/algo/algo_bayes.c; docs/bayes.md).  Each is one row
 * of the command table in main.c. */
#define _POSIX_C_SOURCE 200809L
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tspu_algo.h"

#define BAYES_OPTS_HELP                                                                                 \
    "Protocol (docs/bayes.md): burn-in at lambda = 0 (the prior), ramps of the\n"                       \
    "likelihood weight lambda 0 -> 1 (work read from the unit), a hold at lambda = 1,\n"                \
    "then posterior samples.  Planned from --tol/--confidence unless overridden:\n"                    \
    "  --tol EPS          P-confidence half-width <= EPS x posterior s.d. (mean) and\n"                \
    "                     EPS x sqrt(S_ii S_jj) (covariance) (default 0.05)\n"                         \
    "  --confidence P     confidence of --tol (default 0.95)\n"                                         \
    "  --samples N        posterior samples in total (overrides the plan)\n"                            \
    "  --burnin N         steps of the first burn-in at lambda = 0\n"                                   \
    "  --thin N           keep every N-th step (default: one relaxation time)\n"                        \
    "  --dt H             time step (default 1 / lambda_max of the posterior precision)\n"              \
    "  --chains K         independent chains, pooled (default 1)\n"                                     \
    "  --batches N        batches per chain for batch means (>= 10)\n"                                 \
    "  --max-steps N      cap on the planned sampling steps (default 2e10)\n"                           \
    "  --ramps R          forward ramps over all chains (default 8; logreg: 1 per chain)\n"            \
    "  --ramp-steps T     steps per ramp (default 4 prior relaxation times)\n"                          \
    "  --schedule FILE    lambda knots 0 ... 1 passed at equal times (piecewise linear)\n"             \
    "  --reverse          a reverse ramp 1 -> 0 after each forward one (BAR free energy)\n"            \
    "  --trace            read W and the state at every schedule knot (--json trace)\n"                 \
    "  --hold N           steps at lambda = 1 before sampling\n"                                       \
    "  --ti M             free energy by thermodynamic integration over M Gauss-Legendre\n"          \
    "                     nodes (samples at each lambda; works for logreg too)\n"                      \
    "Output: mean, covariance and their batch-means standard errors on stdout (text),\n"              \
    "work W, heat Q = dU - W and the free energy estimates (kT units; Gaussian\n"                      \
    "likelihood only); --json: one object (mean, mean_stderr, cov, cov_stderr, work,\n"                \
    "heat, free_energy, ... and the common fields); -o FILE writes the samples\n"                      \
    "(.npy or text, one per row).  The device needs the data-driven drift\n"                           \
    "(FEATURES.DATA = 1) and DATA_MAX_OBS >= the number of scalar observations.\n"

const char cmd_posterior_help[] =
    "Gaussian posterior of theta: prior theta ~ N(m, P^-1) (P from --prior-prec, or\n"
    "the inverse of --prior-cov; m = 0 by default), observations y_i ~ N(H theta, L^-1)\n"
    "(the rows of --data Y, each a vector of length r = rows of H; H = I by default).\n"
    "L (--lik-prec) is a number (L = l I), a vector (diagonal) or an r x r SPD matrix;\n"
    "a full L is whitened on the host (L = R R^T, rows R^T H and targets R^T y), so the\n"
    "unit sees K r scalar observations.  The prior precision may be a number (p I).\n"
    "Linear regression (a design row per scalar observation): --data a single row\n"
    "y_1 ... y_K and --design the K x n rows, --lik-prec the noise precision.\n"
    "\n"
    "  --prior-mean m     prior mean (vector, default 0)\n"
    "  --prior-prec P     prior precision (n x n SPD, or a number)\n"
    "  --prior-cov S      prior covariance (n x n SPD) instead of --prior-prec\n"
    "  --lik-prec L       likelihood precision (number, r-vector or r x r SPD)\n"
    "  --data Y           observations, K x r (one per row)\n"
    "  --design H         r x n design (default: the identity, r = n)\n\n" BAYES_OPTS_HELP;

const char cmd_logreg_help[] =
    "Bayesian logistic regression: P(y_d = 1) = sigma(x_d . theta), prior theta ~\n"
    "N(m, P^-1).  The unit evaluates sigma from a 513-entry link table (its\n"
    "interpolation error is reported as link_err); the work counter is not defined\n"
    "for the logistic likelihood, so no work is reported; --ti M gives the free\n"                    \
    "energy (minus the log evidence) by thermodynamic integration.\n"
    "\n"
    "  --features X       K x n design (add a column of ones for an intercept)\n"
    "  --labels y         K labels, each 0 or 1\n"
    "  --prior-prec P     prior precision (n x n SPD or a number; default 1)\n"
    "  --prior-var s2     prior variance s2 (P = I / s2) instead of --prior-prec\n"
    "  --prior-mean m     prior mean (default 0)\n"
    "  --predict Xnew     M x n rows: posterior mean of sigma(x . theta) and its s.e.\n\n" BAYES_OPTS_HELP;

/* a number (when s parses whole as one and is not an existing file) or a matrix file */
static int read_num_or_mat(const char *opt, const char *s, mat_t *m, double *num, int *is_num)
{
    char *end;
    double v = strtod(s, &end);
    FILE *f = fopen(s, "r");
    if (f)
        fclose(f);
    *is_num = 0;
    if (end != s && *end == 0 && !f) {
        if (!isfinite(v))
            return cli_error(CLI_EXIT_USAGE, "%s: %s is not finite", opt, s);
        *num = v;
        *is_num = 1;
        return 0;
    }
    return cli_read_matrix(s, m);
}

static int is_vector(const mat_t *m) { return m->ndim == 1 || m->cols == 1 || m->rows == 1; }

typedef struct {
    const tspu_bayes_result *r;
    int gauss;
    const char *output;
} bayes_extra;

static void json_vec(cli_json *j, const char *key, const double *v, size_t n)
{
    cli_json_key(j, key);
    if (!v) {
        cli_json_open(j, '[');
        cli_json_close(j, ']');
        return;
    }
    mat_t m = {.rows = n, .cols = 1, .ndim = 1, .v = (double *)v};
    cli_json_mat(j, &m);
}

static void json_mat(cli_json *j, const char *key, const double *v, size_t r, size_t c)
{
    cli_json_key(j, key);
    mat_t m = {.rows = r, .cols = c, .ndim = 2, .v = (double *)v};
    cli_json_mat(j, &m);
}

static void extra_json(cli_json *j, void *ctx)
{
    const bayes_extra *e = ctx;
    const tspu_bayes_result *r = e->r;
    const tspu_algo_plan *p = &r->plan;
    const unsigned n = r->n;
    json_vec(j, "mean", r->mean, n);
    json_vec(j, "mean_stderr", r->mean_se, n);
    json_mat(j, "cov", r->cov, n, n);
    json_mat(j, "cov_stderr", r->cov_se, n, n);
    if (r->n_predict) {
        json_vec(j, "predict", r->pred, r->n_predict);
        json_vec(j, "predict_stderr", r->pred_se, r->n_predict);
    }
    if (r->work) {
        json_vec(j, "work", r->work, r->n_ramps);
        cli_json_key(j, "work_mean");
        cli_json_num(j, r->work_mean);
        cli_json_key(j, "work_stderr");
        cli_json_num(j, r->work_se);
        json_vec(j, "heat", r->heat, r->n_ramps);
        cli_json_key(j, "heat_mean");
        cli_json_num(j, r->heat_mean);
        cli_json_key(j, "heat_stderr");
        cli_json_num(j, r->heat_se);
        json_vec(j, "delta_u", r->du, r->n_ramps);
        if (r->work_rev) {
            json_vec(j, "work_reverse", r->work_rev, r->n_ramps);
            json_vec(j, "heat_reverse", r->heat_rev, r->n_ramps);
        }
        if (r->n_knots) {
            cli_json_key(j, "trace");
            cli_json_open(j, '{');
            json_vec(j, "lambda", r->knots, r->n_knots);
            json_mat(j, "work", r->trace_w, r->n_ramps, r->n_knots);
            json_mat(j, "heat", r->trace_q, r->n_ramps, r->n_knots);
            cli_json_close(j, '}');
        }
    } else {
        cli_json_key(j, "work");
        cli_json_num(j, NAN);
    }
    if (r->ramp_end)
        json_mat(j, "ramp_end", r->ramp_end, r->n_ramps, n);
    cli_json_key(j, "free_energy");
    cli_json_open(j, '{');
    cli_json_key(j, "jarzynski");
    cli_json_num(j, r->dF_jarzynski);
    cli_json_key(j, "jarzynski_stderr");
    cli_json_num(j, r->dF_jarzynski_se);
    cli_json_key(j, "bar");
    cli_json_num(j, r->dF_bar);
    cli_json_key(j, "bar_stderr");
    cli_json_num(j, r->dF_bar_se);
    cli_json_key(j, "ti");
    cli_json_num(j, r->dF_ti);
    cli_json_key(j, "ti_stderr");
    cli_json_num(j, r->dF_ti_se);
    if (r->n_ti) {
        json_vec(j, "ti_lambda", r->ti_lambda, r->n_ti);
        json_vec(j, "ti_u_lik", r->ti_u, r->n_ti);
        json_vec(j, "ti_u_lik_stderr", r->ti_u_se, r->n_ti);
    }
    cli_json_close(j, '}');
    cli_json_key(j, "iat_steps");
    cli_json_num(j, r->iat_steps);
    if (!e->gauss) {
        cli_json_key(j, "link_err");
        cli_json_num(j, r->link_err);
    }
    cli_json_key(j, "plan");
    cli_json_open(j, '{');
    cli_json_key(j, "n");
    cli_json_int(j, p->n);
    cli_json_key(j, "n_device");
    cli_json_int(j, p->n_dev);
    cli_json_key(j, "observations");
    cli_json_int(j, r->k);
    cli_json_key(j, "integrator");
    cli_json_str(j, "lm");
    cli_json_key(j, "dt");
    cli_json_num(j, p->h);
    cli_json_plan_run(j, p);
    cli_json_key(j, "ramp_steps");
    cli_json_int(j, (long long)p->ramp_steps);
    cli_json_key(j, "ramps");
    cli_json_int(j, p->ramp_pairs);
    cli_json_key(j, "hold_steps");
    cli_json_int(j, (long long)p->hold_steps);
    cli_json_plan_end(j, p, r->flags);
    if (e->output) {
        cli_json_key(j, "output");
        cli_json_str(j, e->output);
    }
}

static void print_rows(const char *title, const double *v, unsigned rows, unsigned cols)
{
    char b[40];
    printf("# %s\n", title);
    for (unsigned i = 0; i < rows; i++) {
        for (unsigned k = 0; k < cols; k++) {
            matio_format_double(b, sizeof b, v[i * cols + k]);
            printf("%s%s", k ? " " : "", b);
        }
        printf("\n");
    }
}

static void print_text(const tspu_bayes_result *r)
{
    const unsigned n = r->n;
    print_rows("posterior mean", r->mean, 1, n);
    print_rows("standard error of the mean (batch means)", r->mean_se, 1, n);
    print_rows("posterior covariance", r->cov, n, n);
    print_rows("standard error of the covariance", r->cov_se, n, n);
    if (r->n_predict) {
        double *t = malloc(sizeof(double) * 2 * r->n_predict);
        if (t) {
            for (unsigned i = 0; i < r->n_predict; i++) {
                t[2 * i] = r->pred[i];
                t[2 * i + 1] = r->pred_se[i];
            }
            print_rows("predictive P(y = 1) and its standard error, one row per --predict row", t, r->n_predict, 2);
            free(t);
        }
    }
    if (r->work) {
        printf("# work <W> = %.6g +- %.2g kT over %u ramps; heat <Q> = %.6g +- %.2g kT (Q = dU - W)\n", r->work_mean,
               r->work_se, r->n_ramps, r->heat_mean, r->heat_se);
        printf("# free energy dF (Jarzynski) = %.6g +- %.2g kT", r->dF_jarzynski, r->dF_jarzynski_se);
        if (isfinite(r->dF_bar))
            printf("; BAR = %.6g +- %.2g kT", r->dF_bar, r->dF_bar_se);
        printf("; dissipated <W> - dF = %.4g kT\n", r->work_mean - (isfinite(r->dF_bar) ? r->dF_bar : r->dF_jarzynski));
    }
    if (r->n_ti)
        printf("# free energy dF (thermodynamic integration, %u nodes) = %.6g +- %.2g kT\n", r->n_ti, r->dF_ti,
               r->dF_ti_se);
    printf("# %llu samples, %llu steps, %.4g s of device time\n", (unsigned long long)r->n_samples,
           (unsigned long long)r->steps, r->device_seconds);
}

typedef struct {
    cli_algo_args a; /* --tol ... --max-steps (CLI_ALGO_OPTS) */
    const char *ramps, *ramp_steps, *sched, *reverse, *trace, *hold, *ti;
} popts;

static int parse_common(const popts *q, tspu_algo_opts *o, tspu_bayes_opts *b, mat_t *sched)
{
    uint32_t u;
    uint64_t v;
    o->tol = 0.05;
    if (cli_parse_algo_args(&q->a, 10, o))
        return CLI_EXIT_USAGE;
    if (q->ramps) {
        if (cli_parse_u32("--ramps", q->ramps, 1, &u))
            return CLI_EXIT_USAGE;
        b->ramps = u;
    }
    if (q->ramp_steps) {
        if (cli_parse_u64("--ramp-steps", q->ramp_steps, &v))
            return CLI_EXIT_USAGE;
        if (!v)
            return cli_error(CLI_EXIT_USAGE, "--ramp-steps: must be at least 1");
        b->ramp_steps = v;
    }
    if (q->hold) {
        if (cli_parse_u64("--hold", q->hold, &v))
            return CLI_EXIT_USAGE;
        b->hold_steps = v;
    }
    if (q->ti) {
        if (cli_parse_u32("--ti", q->ti, 2, &u))
            return CLI_EXIT_USAGE;
        if (u > TSPU_BAYES_TI_MAX)
            return cli_error(CLI_EXIT_USAGE, "--ti: %u nodes, at most %d", u, TSPU_BAYES_TI_MAX);
        b->ti_points = u;
    }
    b->reverse = q->reverse != NULL;
    b->trace = q->trace != NULL;
    if (q->sched) {
        int rc = cli_read_matrix(q->sched, sched);
        if (rc)
            return rc;
        if (!is_vector(sched) || sched->rows * sched->cols < 2)
            return cli_error(CLI_EXIT_USAGE, "%s: the schedule must be a vector of at least 2 lambda knots",
                             q->sched);
        b->schedule = sched->v;
        b->n_schedule = (unsigned)(sched->rows * sched->cols - 1);
    }
    return 0;
}

/* open the device, run, print; the problem is checked already */
static int run_bayes(cli_ctx *c, const char *what, tspu_bayes_problem *p, tspu_bayes_opts *b, tspu_algo_opts *o)
{
    char err[512] = "";
    int rc;
    c->multi_ok = 1;
    if ((rc = cli_open_device(c)))
        return rc;
    int dr = tspu_bayes_device_check(c->dev, p->k, err, sizeof err);
    for (unsigned d = 0; !dr && d < c->n_more; d++)
        dr = tspu_bayes_device_check(c->more_dev[d], p->k, err, sizeof err);
    if (dr) {
        cli_close_device(c);
        return cli_error(dr == TSPU_ALGO_E_INPUT ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME, "%s", err);
    }
    cli_algo_hooks(c, o);
    b->keep_samples = c->output != NULL;
    matio_writer *w = NULL;
    if (c->output) { /* before the run: a bad path costs nothing */
        char e2[512];
        if (!(w = matio_writer_open(c->output, p->n, e2, sizeof e2))) {
            cli_close_device(c);
            return cli_error(CLI_EXIT_USAGE, "%s", e2);
        }
    }
    tspu_bayes_result r;
    rc = tspu_algo_bayes(c->dev, p, b, o, &r, err, sizeof err);
    if (rc == TSPU_E_UNSUPPORTED) {
        rc = cli_error(CLI_EXIT_RUNTIME, "%s", err);
    } else if (rc < 0) {
        rc = cli_algo_error(c, rc, what, err);
    } else {
        rc = CLI_EXIT_OK;
        if (w) {
            char e2[512];
            for (uint64_t s = 0; s < r.n_samples && r.samples; s++)
                matio_writer_row(w, r.samples + s * r.n);
            if (matio_writer_close(w, e2, sizeof e2))
                rc = cli_error(CLI_EXIT_RUNTIME, "%s", e2);
            w = NULL;
        }
        mat_t em = {.rows = r.n, .cols = 1, .ndim = 1, .v = r.mean};
        mat_t sm = {.rows = r.n, .cols = 1, .ndim = 1, .v = r.mean_se};
        cli_result res = {.estimate = &em, .stderr_ = &sm, .samples = r.n_samples, .steps = r.steps,
                          .device_seconds = r.device_seconds, .wall_seconds = cli_now() - c->t_start,
                          .saturated = (r.flags & TSPU_ALGO_FLAG_SATURATED) != 0,
                          .fifo_overflow = (r.flags & TSPU_ALGO_FLAG_FIFO_OVERFLOW) != 0};
        if (rc == CLI_EXIT_OK) {
            if (c->json) {
                bayes_extra ex = {&r, p->likelihood == TSPU_DATA_GAUSS, c->output};
                cli_emit_json(c, &res, extra_json, &ex);
            } else {
                print_text(&r);
            }
            cli_warn_flags(&res);
            if (r.flags & TSPU_ALGO_FLAG_TRUNCATED)
                cli_warn("the plan was capped by --max-steps: the tolerance is not reached");
        }
        tspu_bayes_result_free(&r);
    }
    if (w) { /* no result: leave no half file behind */
        char e2[512];
        matio_writer_close(w, e2, sizeof e2);
        remove(c->output);
    }
    cli_close_device(c);
    return rc;
}

#define COMMON_OPTS(q)                                                                                  \
    CLI_ALGO_OPTS(q.a), {"ramps", 0, 0, &q.ramps}, {"ramp-steps", 0, 0, &q.ramp_steps},                 \
        {"schedule", 0, 0, &q.sched}, {"reverse", 0, 1, &q.reverse}, {"trace", 0, 1, &q.trace},         \
        {"hold", 0, 0, &q.hold}, {"ti", 0, 0, &q.ti}

/* P as n x n from a number or a matrix file; checks the shape */
static int prior_matrix(const char *opt, const char *arg, unsigned n, int inverse, double *P)
{
    mat_t m = {0};
    double num;
    int isn, rc = read_num_or_mat(opt, arg, &m, &num, &isn);
    if (rc)
        return rc;
    if (isn) {
        if (!(num > 0))
            return cli_error(CLI_EXIT_USAGE, "%s: %s must be positive", opt, arg);
        for (unsigned i = 0; i < n * n; i++)
            P[i] = i % (n + 1) == 0 ? (inverse ? 1.0 / num : num) : 0.0;
        return 0;
    }
    if (m.ndim != 2 || m.rows != n || m.cols != n) {
        rc = cli_error(CLI_EXIT_USAGE, "%s: %s is %zu x %zu, the parameter has dimension %u (need %u x %u)", opt, arg,
                       m.rows, m.ndim == 2 ? m.cols : (size_t)1, n, n, n);
        mat_free(&m);
        return rc;
    }
    char err[256];
    if (tspu_algo_check_spd(n, m.v, err, sizeof err)) {
        rc = cli_error(CLI_EXIT_USAGE, "%s: %s: the prior %s is not symmetric positive definite (%s)", opt, arg,
                       inverse ? "covariance" : "precision", strstr(err, "Cholesky") ? "Cholesky fails" : err);
        mat_free(&m);
        return rc;
    }
    if (inverse) {
        memcpy(P, m.v, sizeof(double) * n * n);
        LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, P, (lapack_int)n);
        LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, P, (lapack_int)n);
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = i + 1; j < n; j++)
                P[i * n + j] = P[j * n + i];
    } else {
        memcpy(P, m.v, sizeof(double) * n * n);
    }
    mat_free(&m);
    return 0;
}

static int prior_mean(const char *arg, unsigned n, double *mu)
{
    if (!arg)
        return 0;
    mat_t m = {0};
    int rc = cli_read_matrix(arg, &m);
    if (rc)
        return rc;
    if (!is_vector(&m) || m.rows * m.cols != n)
        rc = cli_error(CLI_EXIT_USAGE, "--prior-mean: %s has %zu x %zu entries, the parameter has dimension %u", arg,
                       m.rows, m.ndim == 2 ? m.cols : (size_t)1, n);
    else
        memcpy(mu, m.v, sizeof(double) * n);
    mat_free(&m);
    return rc;
}

int cmd_posterior(cli_ctx *c, int argc, char **argv)
{
    popts q = {0};
    const char *o_pm = NULL, *o_pp = NULL, *o_pc = NULL, *o_lp = NULL, *o_data = NULL, *o_design = NULL;
    const cli_opt opts[] = {
        COMMON_OPTS(q),
        {"prior-mean", 0, 0, &o_pm},
        {"prior-prec", 0, 0, &o_pp},
        {"prior-cov", 0, 0, &o_pc},
        {"lik-prec", 0, 0, &o_lp},
        {"data", 0, 0, &o_data},
        {"design", 0, 0, &o_design},
        {NULL, 0, 0, NULL},
    };
    const cli_command *self = cli_find_command("posterior");
    const char *pos[1];
    int npos, rc = cli_parse_opts(c, self, argc, argv, opts, pos, 0, &npos);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (!o_data)
        return cli_error(CLI_EXIT_USAGE, "posterior: missing --data Y (observations, one per row)");
    if (!o_lp)
        return cli_error(CLI_EXIT_USAGE, "posterior: missing --lik-prec L (likelihood precision)");
    if (!o_pp == !o_pc)
        return cli_error(CLI_EXIT_USAGE, "posterior: give exactly one of --prior-prec P and --prior-cov S");
    tspu_algo_opts o;
    tspu_algo_opts_init(&o);
    tspu_bayes_opts b;
    tspu_bayes_opts_init(&b);
    mat_t sched = {0}, Y = {0}, H = {0}, L = {0};
    double *P = NULL, *mu = NULL, *X = NULL, *y = NULL, *ell = NULL, *R = NULL, *ldiag = NULL;
    if ((rc = parse_common(&q, &o, &b, &sched)))
        goto out;
    if ((rc = cli_read_matrix(o_data, &Y)))
        goto out;
    if (Y.ndim == 1) { /* a 1-D .npy: K scalar observations */
        Y.cols = 1;
        Y.ndim = 2;
    }
    unsigned r_dim = (unsigned)Y.cols, n;
    if (o_design) {
        if ((rc = cli_read_matrix(o_design, &H)))
            goto out;
        if (H.ndim == 1) { /* one row */
            H.cols = H.rows;
            H.rows = 1;
            H.ndim = 2;
        }
        if (H.rows != r_dim) {
            rc = cli_error(CLI_EXIT_USAGE, "--design: %s has %zu rows, each observation in %s has %u entries", o_design,
                           H.rows, o_data, r_dim);
            goto out;
        }
        n = (unsigned)H.cols;
    } else {
        n = r_dim;
    }
    if (n > TSPU_N_MAX) {
        rc = cli_error(CLI_EXIT_USAGE, "posterior: the parameter has dimension %u, larger than any tspu (%d lanes)", n,
                       TSPU_N_MAX);
        goto out;
    }
    const size_t K = Y.rows, rows = K * r_dim;
    P = malloc(sizeof(double) * n * n);
    mu = calloc(n, sizeof(double));
    X = malloc(sizeof(double) * rows * n);
    y = malloc(sizeof(double) * rows);
    ell = malloc(sizeof(double) * rows);
    if (!P || !mu || !X || !y || !ell) {
        rc = cli_error(CLI_EXIT_RUNTIME, "out of memory");
        goto out;
    }
    if ((rc = prior_matrix(o_pp ? "--prior-prec" : "--prior-cov", o_pp ? o_pp : o_pc, n, o_pc != NULL, P)) ||
        (rc = prior_mean(o_pm, n, mu)))
        goto out;
    /* likelihood precision: number, r-vector (diagonal) or r x r SPD */
    double lnum;
    int lisn;
    if ((rc = read_num_or_mat("--lik-prec", o_lp, &L, &lnum, &lisn)))
        goto out;
    int full = 0;
    R = malloc(sizeof(double) * r_dim * (L.rows == r_dim && L.cols == r_dim && L.ndim == 2 ? r_dim : 1));
    ldiag = malloc(sizeof(double) * r_dim);
    if (!R || !ldiag) {
        rc = cli_error(CLI_EXIT_RUNTIME, "out of memory");
        goto out;
    }
    if (lisn) {
        if (!(lnum > 0)) {
            rc = cli_error(CLI_EXIT_USAGE, "--lik-prec: %s must be positive", o_lp);
            goto out;
        }
        for (unsigned i = 0; i < r_dim; i++)
            ldiag[i] = lnum;
    } else if (is_vector(&L) && L.rows * L.cols == r_dim) {
        for (unsigned i = 0; i < r_dim; i++) {
            ldiag[i] = L.v[i];
            if (!(ldiag[i] > 0)) {
                rc = cli_error(CLI_EXIT_USAGE, "--lik-prec: %s: entry %u is %g, precisions must be positive", o_lp,
                               i + 1, ldiag[i]);
                goto out;
            }
        }
    } else if (L.ndim == 2 && L.rows == r_dim && L.cols == r_dim) {
        char e2[256];
        if (tspu_algo_check_spd(r_dim, L.v, e2, sizeof e2)) {
            rc = cli_error(CLI_EXIT_USAGE, "--lik-prec: %s: the likelihood precision is not symmetric positive definite",
                           o_lp);
            goto out;
        }
        memcpy(R, L.v, sizeof(double) * r_dim * r_dim);
        LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)r_dim, R, (lapack_int)r_dim);
        for (unsigned i = 0; i < r_dim; i++)
            for (unsigned j = i + 1; j < r_dim; j++)
                R[i * r_dim + j] = 0;
        full = 1;
    } else {
        rc = cli_error(CLI_EXIT_USAGE, "--lik-prec: %s is %zu x %zu: need a number, %u entries or %u x %u", o_lp,
                       L.rows, L.ndim == 2 ? L.cols : (size_t)1, r_dim, r_dim, r_dim);
        goto out;
    }
    /* scalar rows: diagonal L -> rows of H with ell = L_ii; full L = R R^T ->
     * rows of R^T H, targets R^T y, ell = 1 (a transform of the data) */
    for (size_t kk = 0; kk < K; kk++)
        for (unsigned a = 0; a < r_dim; a++) {
            const size_t d = kk * r_dim + a;
            for (unsigned j = 0; j < n; j++) {
                double v = 0;
                if (!full) {
                    v = o_design ? H.v[a * n + j] : (double)(a == j);
                } else {
                    for (unsigned i = 0; i < r_dim; i++)
                        v += R[i * r_dim + a] * (o_design ? H.v[i * n + j] : (double)(i == j));
                }
                X[d * n + j] = v;
            }
            if (!full) {
                y[d] = Y.v[kk * r_dim + a];
                ell[d] = ldiag[a];
            } else {
                double t = 0;
                for (unsigned i = 0; i < r_dim; i++)
                    t += R[i * r_dim + a] * Y.v[kk * r_dim + i];
                y[d] = t;
                ell[d] = 1.0;
            }
        }
    tspu_bayes_problem p = {.likelihood = TSPU_DATA_GAUSS, .n = n, .k = (unsigned)rows, .prior_prec = P,
                            .prior_mean = mu, .X = X, .y = y, .ell = ell};
    char err[256];
    if (rows > 0xffffffffu || tspu_bayes_check(&p, err, sizeof err)) {
        rc = cli_error(CLI_EXIT_USAGE, "posterior: %s", rows > 0xffffffffu ? "too many observations" : err);
        goto out;
    }
    rc = run_bayes(c, "posterior", &p, &b, &o);
out:
    mat_free(&sched);
    mat_free(&Y);
    mat_free(&H);
    mat_free(&L);
    free(P);
    free(mu);
    free(X);
    free(y);
    free(ell);
    free(R);
    free(ldiag);
    return rc;
}

int cmd_logreg(cli_ctx *c, int argc, char **argv)
{
    popts q = {0};
    const char *o_X = NULL, *o_y = NULL, *o_pp = NULL, *o_pv = NULL, *o_pm = NULL, *o_pred = NULL;
    const cli_opt opts[] = {
        COMMON_OPTS(q),
        {"features", 0, 0, &o_X},
        {"labels", 0, 0, &o_y},
        {"prior-prec", 0, 0, &o_pp},
        {"prior-var", 0, 0, &o_pv},
        {"prior-mean", 0, 0, &o_pm},
        {"predict", 0, 0, &o_pred},
        {NULL, 0, 0, NULL},
    };
    const cli_command *self = cli_find_command("logreg");
    const char *pos[1];
    int npos, rc = cli_parse_opts(c, self, argc, argv, opts, pos, 0, &npos);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (!o_X || !o_y)
        return cli_error(CLI_EXIT_USAGE, "logreg: missing %s", !o_X ? "--features X" : "--labels y");
    if (o_pp && o_pv)
        return cli_error(CLI_EXIT_USAGE, "logreg: give at most one of --prior-prec and --prior-var");
    tspu_algo_opts o;
    tspu_algo_opts_init(&o);
    tspu_bayes_opts b;
    tspu_bayes_opts_init(&b);
    mat_t sched = {0}, X = {0}, Y = {0}, Xn = {0};
    double *P = NULL, *mu = NULL;
    if ((rc = parse_common(&q, &o, &b, &sched)) || (rc = cli_read_matrix(o_X, &X)) || (rc = cli_read_matrix(o_y, &Y)))
        goto out;
    if (X.ndim == 1) {
        X.cols = 1;
        X.ndim = 2;
    }
    const unsigned n = (unsigned)X.cols;
    if (n > TSPU_N_MAX) {
        rc = cli_error(CLI_EXIT_USAGE, "--features: %u features, larger than any tspu (%d lanes)", n, TSPU_N_MAX);
        goto out;
    }
    if (!is_vector(&Y) || Y.rows * Y.cols != X.rows) {
        rc = cli_error(CLI_EXIT_USAGE, "--labels: %s has %zu x %zu entries, %s has %zu rows (need one label per row)",
                       o_y, Y.rows, Y.ndim == 2 ? Y.cols : (size_t)1, o_X, X.rows);
        goto out;
    }
    if (o_pred) {
        if ((rc = cli_read_matrix(o_pred, &Xn)))
            goto out;
        if (Xn.ndim == 1) {
            Xn.cols = Xn.rows;
            Xn.rows = 1;
            Xn.ndim = 2;
        }
        if (Xn.cols != n) {
            rc = cli_error(CLI_EXIT_USAGE, "--predict: %s has %zu columns, the features have %u", o_pred, Xn.cols, n);
            goto out;
        }
    }
    P = malloc(sizeof(double) * n * n);
    mu = calloc(n, sizeof(double));
    if (!P || !mu) {
        rc = cli_error(CLI_EXIT_RUNTIME, "out of memory");
        goto out;
    }
    if (o_pv) {
        double s2;
        if ((rc = cli_parse_pos_double("--prior-var", o_pv, &s2)))
            goto out;
        for (unsigned i = 0; i < n * n; i++)
            P[i] = i % (n + 1) == 0 ? 1.0 / s2 : 0.0;
    } else if ((rc = prior_matrix("--prior-prec", o_pp ? o_pp : "1", n, 0, P))) {
        goto out;
    }
    if ((rc = prior_mean(o_pm, n, mu)))
        goto out;
    tspu_bayes_problem p = {.likelihood = TSPU_DATA_LOGISTIC, .n = n, .k = (unsigned)X.rows, .prior_prec = P,
                            .prior_mean = mu, .X = X.v, .y = Y.v, .predict = o_pred ? Xn.v : NULL,
                            .n_predict = o_pred ? (unsigned)Xn.rows : 0};
    char err[256];
    if (tspu_bayes_check(&p, err, sizeof err)) {
        rc = cli_error(CLI_EXIT_USAGE, "logreg: %s", err);
        goto out;
    }
    rc = run_bayes(c, "logreg", &p, &b, &o);
out:
    mat_free(&sched);
    mat_free(&X);
    mat_free(&Y);
    mat_free(&Xn);
    free(P);
    free(mu);
    return rc;
}
