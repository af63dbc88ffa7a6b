/* cmd_sample.c - `tspu sample A [b]`: raw samples of x ~ N(A^-1 b, A^-1/beta)
 * from the unit, in real units, with their mean and batch-means error bars. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tspu_regs.h"

const char cmd_sample_help[] =
    "Draws samples of x from the unit loaded with U(x) = x'Ax/2 - b'x at inverse\n"
    "temperature beta: x ~ N(A^-1 b, A^-1/beta) for a symmetric positive-definite A.\n"
    "Samples are printed one per line in real units (or written to -o FILE, .npy or\n"
    "text); --json prints a summary object (estimate = sample mean, stderr = batch\n"
    "means) instead, and the samples go to -o FILE if given.\n"
    "\n"
    "Options:\n"
    "  --samples N        samples to keep (default 10000)\n"
    "  --burnin N         steps before the first sample (default: 10 relaxation\n"
    "                     times of the slowest mode, at least 100)\n"
    "  --thin N           keep every N-th step (default 1)\n"
    "  --integrator I     em | lm | ud (default lm: exact covariance for 0 < h*lambda < 2)\n"
    "  --beta B           inverse temperature (default 1)\n"
    "  --dt H             time step (default 0.25/lambda_max; ud: 0.25*sqrt(mass/lambda_max))\n"
    "  --gamma G          friction, ud only (default 1)\n"
    "  --mass M           mass, ud only (default 1)\n"
    "  --range R          |x| the state format must hold, real units (default\n"
    "                     max|A^-1 b| + 8 max sigma); values beyond it saturate\n";

typedef struct {
    unsigned n;
    double op_x;
    matio_writer *w;
    double *row, *sum;
    double *bsum; /* nb x n batch sums */
    uint64_t k, total;
    unsigned nb;
    int write_failed;
} sample_acc;

static int on_sample(void *ctx, const int16_t *op, unsigned words)
{
    (void)words;
    sample_acc *a = ctx;
    for (unsigned i = 0; i < a->n; i++) {
        a->row[i] = (double)op[i] * a->op_x;
        a->sum[i] += a->row[i];
    }
    if (a->nb) {
        uint64_t j = a->k * a->nb / a->total;
        if (j < a->nb)
            for (unsigned i = 0; i < a->n; i++)
                a->bsum[j * a->n + i] += a->row[i];
    }
    a->k++;
    if (a->w && matio_writer_row(a->w, a->row)) {
        a->write_failed = 1;
        return CLI_EXIT_RUNTIME;
    }
    return 0;
}

typedef struct {
    const char *integrator;
    double beta, dt, gamma, mass, x_range;
    uint32_t burnin, thin;
    const char *output;
} sample_extra;

static void extra_json(cli_json *j, void *ctx)
{
    const sample_extra *e = ctx;
    cli_json_key(j, "integrator");
    cli_json_str(j, e->integrator);
    cli_json_key(j, "beta");
    cli_json_num(j, e->beta);
    cli_json_key(j, "dt");
    cli_json_num(j, e->dt);
    if (strcmp(e->integrator, "ud") == 0) {
        cli_json_key(j, "gamma");
        cli_json_num(j, e->gamma);
        cli_json_key(j, "mass");
        cli_json_num(j, e->mass);
    }
    cli_json_key(j, "burnin");
    cli_json_int(j, e->burnin);
    cli_json_key(j, "thin");
    cli_json_int(j, e->thin);
    cli_json_key(j, "x_range");
    cli_json_num(j, e->x_range);
    if (e->output) {
        cli_json_key(j, "output");
        cli_json_str(j, e->output);
    }
}

int cmd_sample(cli_ctx *c, int argc, char **argv)
{
    const char *o_samples = NULL, *o_burnin = NULL, *o_thin = NULL, *o_int = NULL, *o_beta = NULL,
               *o_dt = NULL, *o_gamma = NULL, *o_mass = NULL, *o_range = NULL;
    const cli_opt opts[] = {
        {"samples", 0, 0, &o_samples}, {"burnin", 0, 0, &o_burnin}, {"thin", 0, 0, &o_thin},
        {"integrator", 0, 0, &o_int},  {"beta", 0, 0, &o_beta},     {"dt", 0, 0, &o_dt},
        {"gamma", 0, 0, &o_gamma},     {"mass", 0, 0, &o_mass},     {"range", 0, 0, &o_range},
        {NULL, 0, 0, NULL},
    };
    const char *pos[2];
    int npos, rc = cli_parse_opts(c, cli_find_command("sample"), argc, argv, opts, pos, 2, &npos);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (npos < 1)
        return cli_error(CLI_EXIT_USAGE, "sample: missing the matrix A (usage: tspu sample A [b])");

    /* option values */
    uint32_t n_samples = 10000, burnin = 0, thin = 1;
    double beta = 1.0, dt = 0, gamma = 1.0, mass = 1.0, range = 0;
    tspu_integrator integ = TSPU_INT_LM;
    const char *iname = "lm";
    if ((o_samples && cli_parse_u32("--samples", o_samples, 1, &n_samples)) ||
        (o_burnin && cli_parse_u32("--burnin", o_burnin, 0, &burnin)) ||
        (o_thin && cli_parse_u32("--thin", o_thin, 1, &thin)) ||
        (o_beta && cli_parse_pos_double("--beta", o_beta, &beta)) ||
        (o_dt && cli_parse_pos_double("--dt", o_dt, &dt)) ||
        (o_gamma && cli_parse_pos_double("--gamma", o_gamma, &gamma)) ||
        (o_mass && cli_parse_pos_double("--mass", o_mass, &mass)) ||
        (o_range && cli_parse_pos_double("--range", o_range, &range)))
        return CLI_EXIT_USAGE;
    if (o_int) {
        if (strcmp(o_int, "em") == 0)
            integ = TSPU_INT_EM;
        else if (strcmp(o_int, "lm") == 0)
            integ = TSPU_INT_LM;
        else if (strcmp(o_int, "ud") == 0)
            integ = TSPU_INT_UD;
        else
            return cli_error(CLI_EXIT_USAGE, "--integrator: unknown integrator '%s' (em, lm or ud)", o_int);
        iname = o_int;
    }
    if (integ != TSPU_INT_UD && (o_gamma || o_mass))
        return cli_error(CLI_EXIT_USAGE, "--gamma and --mass apply to --integrator ud only");

    /* inputs */
    mat_t A = {0}, b = {0};
    if ((rc = cli_read_square(pos[0], &A)))
        return rc;
    const unsigned n = (unsigned)A.rows;
    if (npos > 1 && (rc = cli_read_vector(pos[1], n, &b))) {
        mat_free(&A);
        return rc;
    }
    double *mean = calloc(n, sizeof *mean), *sd = calloc(n, sizeof *sd);
    double lmin = 0, lmax = 0;
    double *Ap = NULL, *bp = NULL, *sum = NULL, *bsum = NULL, *row = NULL, *est = NULL, *se = NULL;
    tspu_mapping *mp = NULL;
    matio_writer *w = NULL;
    if (!mean || !sd) {
        rc = cli_error(CLI_EXIT_RUNTIME, "out of memory");
        goto out;
    }
    if ((rc = cli_spd_plan(pos[0], A.v, b.v, n, beta, mean, sd, &lmin, &lmax)))
        goto out;
    double x_range = 0, sdmax = 0;
    for (unsigned i = 0; i < n; i++) {
        x_range = fmax(x_range, fabs(mean[i]));
        sdmax = fmax(sdmax, sd[i]);
    }
    x_range += 8 * sdmax;
    if (o_range)
        x_range = range;
    const int ud = integ == TSPU_INT_UD;
    const double omega = ud ? sqrt(lmax / mass) : lmax; /* stability: dt * omega < 2 */
    if (!o_dt)
        dt = 0.25 / omega;
    if (dt * omega >= 2.0) {
        rc = cli_error(CLI_EXIT_USAGE, "--dt %g: unstable for this A (%s = %.4g must be < 2; the default dt is %.4g)",
                       dt, ud ? "dt*sqrt(lambda_max/mass)" : "dt*lambda_max", dt * omega, 0.25 / omega);
        goto out;
    }
    if (!o_burnin) {
        double rate = ud ? fmin(lmin / gamma, gamma / (2 * mass)) : lmin; /* slowest relaxation, 1/time */
        double b10 = ceil(10.0 / (dt * rate));
        burnin = b10 < 100 ? 100 : b10 > 4e9 ? 4000000000u : (uint32_t)b10;
    }
    if (integ == TSPU_INT_EM)
        cli_info(c, "EM: the sample covariance is A^-1 (I - dt A/2)^-1 / beta, up to %.2g%% above A^-1/beta",
                 100 * dt * lmax / (2 - dt * lmax));

    /* device */
    if ((rc = cli_open_device(c)))
        goto out;
    const unsigned N = c->info.n;
    if (n > N) {
        rc = cli_error(CLI_EXIT_USAGE, "%s: N = %u is larger than the device's %u lanes (%s)", pos[0], n, N,
                       c->info.device);
        goto out;
    }
    if (integ == TSPU_INT_EM ? !(c->info.features & TSPU_FEATURES_EM)
        : integ == TSPU_INT_LM ? !(c->info.features & TSPU_FEATURES_LM)
                               : !(c->info.features & TSPU_FEATURES_UD)) {
        rc = cli_error(CLI_EXIT_USAGE, "--integrator %s: not supported by this gateware (%s)", iname, c->info.device);
        goto out;
    }
    Ap = malloc((size_t)N * N * sizeof *Ap);
    bp = malloc(N * sizeof *bp);
    mp = malloc(sizeof *mp);
    if (!Ap || !bp || !mp) {
        rc = cli_error(CLI_EXIT_RUNTIME, "out of memory");
        goto out;
    }
    cli_pad_problem(A.v, b.v, n, N, Ap, bp);
    tspu_problem pr = {.n = N, .A0 = Ap, .b0 = bp, .beta = beta, .h = dt, .integrator = integ,
                       .gamma = gamma, .mass = mass, .x_range = x_range};
    tspu_model_config cfg = tspu_model_default_config();
    char err[256];
    if (tspu_map_problem(&pr, mp, &cfg, err, sizeof err)) {
        rc = cli_error(CLI_EXIT_USAGE, "%s: cannot map the problem onto the unit: %s", pos[0], err);
        goto out;
    }
    cfg.burnin = burnin;
    cfg.thin = thin;
    cfg.n_samples = n_samples;
    cfg.n_segments = 0;
    if (!c->seed_given)
        c->seed = cli_random_seed();
    cli_info(c, "%s, dt=%.4g, beta=%.4g, burn-in %u, thin %u, %u samples, x range %.4g, seed %llu", iname, dt,
             beta, burnin, thin, n_samples, x_range, (unsigned long long)c->seed);

    int32_t zero[TSPU_N_MAX] = {0};
    int r;
    if ((r = tspu_load_mapping(c->dev, mp)) < 0 || (r = tspu_seed(c->dev, c->seed)) < 0 ||
        (r = tspu_set_state(c->dev, zero, zero)) < 0 ||
        (r = tspu_configure(c->dev, &cfg, (c->info.features & TSPU_FEATURES_FIFO_STALL) ? 1 : 0)) < 0 ||
        (r = tspu_start(c->dev)) < 0) {
        const char *d = tspu_last_error(c->dev);
        rc = cli_error(CLI_EXIT_RUNTIME, "%s: %s", c->info.device, d && *d ? d : tspu_strerror(r));
        goto out;
    }

    /* output */
    if (c->output) {
        if (!(w = matio_writer_open(c->output, n, err, sizeof err))) {
            tspu_stop(c->dev);
            rc = cli_error(CLI_EXIT_USAGE, "%s", err);
            goto out;
        }
    } else if (!c->json) {
        w = matio_writer_stream(stdout, n);
    }
    const unsigned nb = n_samples >= 40 ? 20 : n_samples >= 4 ? n_samples / 2 : 0;
    sum = calloc(n, sizeof *sum);
    row = calloc(n, sizeof *row);
    bsum = calloc((size_t)(nb ? nb : 1) * n, sizeof *bsum);
    est = calloc(n, sizeof *est);
    se = calloc(n, sizeof *se);
    if (!sum || !row || !bsum || !est || !se) {
        tspu_stop(c->dev);
        rc = cli_error(CLI_EXIT_RUNTIME, "out of memory");
        goto out;
    }
    sample_acc acc = {.n = n, .op_x = mp->op_x, .w = w, .row = row, .sum = sum, .bsum = bsum,
                      .total = n_samples, .nb = nb};
    tspu_status st;
    rc = cli_run_sampling(c, N, n_samples, on_sample, &acc, &st);
    char werr[512] = "";
    int wrc = matio_writer_close(w, werr, sizeof werr);
    w = NULL;
    if (acc.write_failed || wrc) {
        rc = cli_error(CLI_EXIT_RUNTIME, "%s", werr[0] ? werr : "write failed");
        goto out;
    }
    if (rc != CLI_EXIT_OK && rc != CLI_EXIT_INTERRUPT)
        goto out;

    /* summary: mean and batch means over the batches that are complete */
    const uint64_t got = acc.k;
    unsigned full = 0;
    if (nb) {
        full = nb;
        if (got < n_samples)
            full = (unsigned)(got * nb / n_samples); /* batches [0, full) are complete */
    }
    for (unsigned i = 0; i < n; i++) {
        est[i] = got ? sum[i] / (double)got : NAN;
        se[i] = NAN;
        if (full >= 2) {
            double m = 0, s2 = 0;
            for (unsigned j = 0; j < full; j++) {
                uint64_t lo = ((uint64_t)j * n_samples + nb - 1) / nb, hi = ((uint64_t)(j + 1) * n_samples + nb - 1) / nb;
                double bm = bsum[j * n + i] / (double)(hi - lo);
                m += bm;
                s2 += bm * bm;
            }
            m /= full;
            double var = (s2 / full - m * m) * full / (full - 1);
            se[i] = sqrt(fmax(var, 0) / full);
        }
    }
    mat_t em = {.rows = n, .cols = 1, .ndim = 1, .v = est}, sm = {.rows = n, .cols = 1, .ndim = 1, .v = se};
    cli_result res = {.estimate = &em, .stderr_ = &sm, .samples = got, .steps = st.steps,
                      .device_seconds = cli_device_seconds(c, st.steps), .wall_seconds = cli_now() - c->t_start,
                      .saturated = (st.flags & TSPU_FLAGS_SATURATED) != 0,
                      .fifo_overflow = (st.flags & TSPU_FLAGS_FIFO_OVERFLOW) != 0 || st.fifo_dropped,
                      .interrupted = rc == CLI_EXIT_INTERRUPT, .sat_count = st.sat_count};
    sample_extra ex = {iname, beta, dt, gamma, mass, x_range, burnin, thin, c->output};
    if (c->json)
        cli_emit_json(c, &res, extra_json, &ex);
    cli_warn_flags(&res);
    if (rc == CLI_EXIT_INTERRUPT)
        cli_error(rc, "interrupted: stopped the unit after %llu of %u samples (written)", (unsigned long long)got,
                  n_samples);
    else
        cli_info(c, "%llu samples, %llu steps, %.3g device s, %.3g wall s", (unsigned long long)got,
                 (unsigned long long)st.steps, res.device_seconds, res.wall_seconds);
out:
    if (w)
        matio_writer_close(w, NULL, 0);
    cli_close_device(c);
    mat_free(&A);
    mat_free(&b);
    free(mean);
    free(sd);
    free(Ap);
    free(bp);
    free(mp);
    free(sum);
    free(row);
    free(bsum);
    free(est);
    free(se);
    return rc;
}
