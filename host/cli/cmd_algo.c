/* cmd_algo.c - the algorithm commands (solve, inv, logdet, lyap, expm) over
 * libtspualgo (tspu_algo.h): one driver, one small entry per command; each is
 * one row of the command table in main.c. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tspu_algo.h"

#define ALGO_OPTS_HELP                                                                                  \
    "Options (planned from --tol/--confidence unless overridden):\n"                                  \
    "  --tol EPS          target: P-confidence half-width <= EPS * max|estimate|\n"                      \
    "                     (logdet: absolute) (default 0.02)\n"                                             \
    "  --confidence P     confidence of --tol (default 0.95)\n"                                           \
    "  --samples N        kept samples in total (logdet: ramp pairs); overrides the plan\n"              \
    "  --burnin N         steps before the first batch\n"                                                 \
    "  --thin N           keep every N-th step\n"                                                         \
    "  --integrator I     em | lm | ud\n"                                                                 \
    "  --beta B, --dt H   inverse temperature, time step\n"                                               \
    "  --chains K         independent chains, pooled (default 1; at least one per device)\n"             \
    "  --mitigate         stochastic rounding of A per chain (error mitigation; >= 4 chains)\n"           \
    "  --batches N        batches per chain for batch means (>= 20)\n"                                   \
    "  --extrapolate      lyap, expm: Richardson in h, 2 R(h/2) - R(h) (O(h) bias removed)\n"              \
    "  --max-steps N      refuse plans longer than N steps (default 2e10)\n"                              \
    "The result goes to stdout as text, or to -o FILE (.npy or text); --json adds\n"                      \
    "stderr, samples, steps, device_seconds, flags and the plan.  Ctrl-C stops the\n"                    \
    "unit and exits with status 130 (no estimate; a second Ctrl-C ends at once).\n"                     \
    "Several devices: give -d more than once (e.g. -d model -d sim); chain k runs\n"                     \
    "on device k mod D, all devices at once, pooled as --chains on one device (the\n"                    \
    "same answer for the same seed); device_seconds is the longest device's time.\n"

const char cmd_solve_help[] = "Estimates x = A^-1 b from the mean of x ~ N(A^-1 b, A^-1/beta); A symmetric\n"
                              "positive definite.\n\n" ALGO_OPTS_HELP;
const char cmd_inv_help[] = "Estimates A^-1 from the covariance of x ~ N(0, A^-1/beta); A SPD.\n\n" ALGO_OPTS_HELP;
const char cmd_logdet_help[] = "Estimates log det A from forward and reverse work ramps (Bennett acceptance\n"
                               "ratio); A SPD.  Result: one number.\n\n" ALGO_OPTS_HELP;
const char cmd_lyap_help[] = "Solves A S + S A^T = D for S from the stationary covariance of dx = -A x dt +\n"
                             "noise; A stable (Re lambda > 0), D symmetric positive definite (default 2I).\n\n"
                             ALGO_OPTS_HELP;
const char cmd_expm_help[] = "Estimates exp(-A) from the lag autocovariance of the samples; A stable.\n\n" ALGO_OPTS_HELP;

enum { K_SOLVE, K_INV, K_LOGDET, K_LYAP, K_EXPM };

typedef struct {
    const tspu_algo_result *r;
    int kind;
} algo_extra;

static const char *integ_name(int k)
{
    return k == TSPU_INT_EM ? "em" : k == TSPU_INT_LM ? "lm" : k == TSPU_INT_UD ? "ud" : "?";
}

static void extra_json(cli_json *j, void *ctx)
{
    const algo_extra *e = ctx;
    const tspu_algo_result *r = e->r;
    const tspu_algo_plan *p = &r->plan;
    if (r->quant_err) {
        mat_t q = {.rows = r->rows, .cols = r->cols, .ndim = r->cols == 1 ? 1 : 2, .v = r->quant_err};
        cli_json_key(j, "quant_err");
        cli_json_mat(j, &q);
    }
    cli_json_key(j, "plan");
    cli_json_open(j, '{');
    cli_json_key(j, "n");
    cli_json_int(j, p->n);
    cli_json_key(j, "n_device");
    cli_json_int(j, p->n_dev);
    cli_json_key(j, "integrator");
    cli_json_str(j, integ_name(p->integrator));
    cli_json_key(j, "dt");
    cli_json_num(j, p->h);
    cli_json_key(j, "beta");
    cli_json_num(j, p->beta);
    cli_json_plan_run(j, p);
    cli_json_plan_end(j, p, r->flags);
    if (e->kind == K_LOGDET) {
        cli_json_key(j, "logdet_jarzynski");
        cli_json_num(j, r->logdet_jarzynski);
        cli_json_key(j, "logdet_jarzynski_stderr");
        cli_json_num(j, r->logdet_jarzynski_se);
    }
}

static int run_algo(cli_ctx *c, int argc, char **argv, int kind)
{
    static const char *const names[] = {"solve", "inv", "logdet", "lyap", "expm"};
    cli_algo_args q = {0};
    const char *o_int = NULL, *o_mit = NULL, *o_ext = NULL;
    const cli_opt opts[] = {
        CLI_ALGO_OPTS(q),           {"beta", 0, 0, &q.beta},       {"integrator", 0, 0, &o_int},
        {"mitigate", 0, 1, &o_mit}, {"extrapolate", 0, 1, &o_ext}, {NULL, 0, 0, NULL},
    };
    const cli_command *self = cli_find_command(names[kind]);
    const int want = kind == K_SOLVE ? 2 : 1, maxpos = kind == K_LYAP ? 2 : want;
    const char *pos[2];
    int npos, rc = cli_parse_opts(c, self, argc, argv, opts, pos, maxpos, &npos);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (npos < want)
        return cli_error(CLI_EXIT_USAGE, "%s: missing %s (usage: tspu %s %s)", self->name,
                         npos == 0 ? "the matrix A" : "the vector b", self->name, self->args);

    tspu_algo_opts o;
    tspu_algo_opts_init(&o);
    if (cli_parse_algo_args(&q, 20, &o))
        return CLI_EXIT_USAGE;
    if (o_int) {
        if (strcmp(o_int, "em") == 0)
            o.integrator = TSPU_INT_EM;
        else if (strcmp(o_int, "lm") == 0)
            o.integrator = TSPU_INT_LM;
        else if (strcmp(o_int, "ud") == 0)
            o.integrator = TSPU_INT_UD;
        else
            return cli_error(CLI_EXIT_USAGE, "--integrator: unknown integrator '%s' (em, lm or ud)", o_int);
    }
    o.mitigate = o_mit != NULL;
    if (o_ext && kind != K_LYAP && kind != K_EXPM)
        return cli_error(CLI_EXIT_USAGE, "%s: --extrapolate applies to lyap and expm (the others have no O(h) bias)",
                         self->name);
    o.extrapolate = o_ext != NULL;

    mat_t A = {0}, B = {0};
    if ((rc = cli_read_square(pos[0], &A)))
        return rc;
    const unsigned n = (unsigned)A.rows;
    if (npos > 1) {
        rc = kind == K_LYAP ? cli_read_square(pos[1], &B) : cli_read_vector(pos[1], n, &B);
        if (!rc && kind == K_LYAP && B.rows != n)
            rc = cli_error(CLI_EXIT_USAGE, "%s: D is %zu x %zu, A is %u x %u", pos[1], B.rows, B.cols, n, n);
        if (rc) {
            mat_free(&A);
            mat_free(&B);
            return rc;
        }
    }
    char err[512] = "";
    if ((kind == K_LYAP || kind == K_EXPM ? tspu_algo_check_stable(n, A.v, err, sizeof err)
                                          : tspu_algo_check_spd(n, A.v, err, sizeof err))) {
        rc = cli_error(CLI_EXIT_USAGE, "%s: %s", pos[0], err);
        goto out;
    }
    c->multi_ok = 1; /* -d more than once: chains over every device */
    if ((rc = cli_open_device(c)))
        goto out;
    cli_algo_hooks(c, &o);
    tspu_algo_result r;
    memset(&r, 0, sizeof r);
    switch (kind) {
    case K_SOLVE: rc = tspu_algo_solve(c->dev, n, A.v, B.v, &o, &r, err, sizeof err); break;
    case K_INV: rc = tspu_algo_inv(c->dev, n, A.v, &o, &r, err, sizeof err); break;
    case K_LOGDET: rc = tspu_algo_logdet(c->dev, n, A.v, &o, &r, err, sizeof err); break;
    case K_LYAP: rc = tspu_algo_lyap(c->dev, n, A.v, B.v, &o, &r, err, sizeof err); break;
    default: rc = tspu_algo_expm(c->dev, n, A.v, &o, &r, err, sizeof err); break;
    }
    if (rc < 0) {
        rc = cli_algo_error(c, rc, pos[0], err);
    } else {
        const int vec = r.cols == 1;
        mat_t em = {.rows = r.rows, .cols = r.cols, .ndim = vec ? 1 : 2, .v = r.estimate};
        mat_t sm = {.rows = r.rows, .cols = r.cols, .ndim = vec ? 1 : 2, .v = r.std_err};
        if (kind == K_LOGDET) /* a scalar: one number */
            em.ndim = sm.ndim = 1;
        cli_result res = {.estimate = &em, .stderr_ = &sm, .samples = r.samples, .steps = r.steps,
                          .device_seconds = r.device_seconds, .wall_seconds = cli_now() - c->t_start,
                          .saturated = (r.flags & TSPU_ALGO_FLAG_SATURATED) != 0,
                          .fifo_overflow = (r.flags & TSPU_ALGO_FLAG_FIFO_OVERFLOW) != 0};
        algo_extra ex = {&r, kind};
        rc = cli_emit_result(c, &res, extra_json, &ex);
        if (r.flags & TSPU_ALGO_FLAG_TRUNCATED)
            cli_warn("the plan was capped by --max-steps: the tolerance is not reached");
    }
    tspu_algo_result_free(&r);
out:
    cli_close_device(c);
    mat_free(&A);
    mat_free(&B);
    return rc;
}

int cmd_solve(cli_ctx *c, int argc, char **argv) { return run_algo(c, argc, argv, K_SOLVE); }
int cmd_inv(cli_ctx *c, int argc, char **argv) { return run_algo(c, argc, argv, K_INV); }
int cmd_logdet(cli_ctx *c, int argc, char **argv) { return run_algo(c, argc, argv, K_LOGDET); }
int cmd_lyap(cli_ctx *c, int argc, char **argv) { return run_algo(c, argc, argv, K_LYAP); }
int cmd_expm(cli_ctx *c, int argc, char **argv) { return run_algo(c, argc, argv, K_EXPM); }
