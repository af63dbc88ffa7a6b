/* common.c - shared helpers of the tspu CLI (see cli.h). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tspu_link.h"
#include "tspu_regs.h"

/* ---- messages ------------------------------------------------------------------ */
int cli_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tspu: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tspu: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_info(const cli_ctx *c, const char *fmt, ...)
{
    if (!c->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("tspu: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- numbers -------------------------------------------------------------------- */
int cli_parse_u32(const char *opt, const char *s, uint32_t min, uint32_t *out)
{
    char *end;
    errno = 0;
    while (*s == ' ')
        s++;
    if (*s == '-')
        return cli_error(CLI_EXIT_USAGE, "%s: '%s' is negative; expected an integer >= %u", opt, s, min);
    /* accept 1e6 style too, when it is an exact integer */
    unsigned long long v = strtoull(s, &end, 10);
    if (*end == 'e' || *end == 'E' || *end == '.') {
        double d = strtod(s, &end);
        if (*end || !(d >= 0) || d != floor(d) || d > 4294967295.0)
            return cli_error(CLI_EXIT_USAGE, "%s: '%s' is not an integer in %u..4294967295", opt, s, min);
        v = (unsigned long long)d;
    } else if (end == s || *end || errno) {
        return cli_error(CLI_EXIT_USAGE, "%s: '%s' is not an integer in %u..4294967295", opt, s, min);
    }
    if (v < min || v > 4294967295ULL)
        return cli_error(CLI_EXIT_USAGE, "%s: %s is out of range (%u..4294967295)", opt, s, min);
    *out = (uint32_t)v;
    return 0;
}

int cli_parse_pos_double(const char *opt, const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end)
        return cli_error(CLI_EXIT_USAGE, "%s: '%s' is not a number", opt, s);
    if (!isfinite(v) || !(v > 0))
        return cli_error(CLI_EXIT_USAGE, "%s: %s must be positive and finite", opt, s);
    *out = v;
    return 0;
}

/* ---- options ------------------------------------------------------------------- */
/* value of "--name=V" / "--name V" / "-cV" / "-c V"; 1 matched, 0 not, <0 error */
static int opt_match(int argc, char **argv, int *i, const char *name, char shortname, int flag,
                     const char **val)
{
    const char *a = argv[*i];
    size_t nl = strlen(name);
    const char *inl = NULL;
    if (a[0] == '-' && a[1] == '-' && strncmp(a + 2, name, nl) == 0 && (a[2 + nl] == 0 || a[2 + nl] == '='))
        inl = a[2 + nl] == '=' ? a + 3 + nl : NULL;
    else if (shortname && a[0] == '-' && a[1] == shortname)
        inl = a[2] ? a + 2 : NULL;
    else
        return 0;
    if (flag) {
        if (inl)
            return cli_error(-CLI_EXIT_USAGE, "option --%s takes no value", name);
        *val = "1";
        return 1;
    }
    if (inl) {
        *val = inl;
        return 1;
    }
    if (*i + 1 >= argc)
        return cli_error(-CLI_EXIT_USAGE, "option --%s needs a value", name);
    *val = argv[++*i];
    return 1;
}

int cli_global_opt(cli_ctx *c, int argc, char **argv, int *i)
{
    const char *v;
    int r;
#define G(name, sh, flag)                                                                          \
    if ((r = opt_match(argc, argv, i, name, sh, flag, &v)) < 0)                                    \
        return CLI_EXIT_USAGE;                                                                     \
    else if (r)
    G("device", 'd', 0)
    {
        /* the first -d replaces $TSPU_DEVICE; more add devices to pool */
        if (c->device_opts++ == 0) {
            c->device = v;
        } else {
            if (c->n_more + 1 >= CLI_MAX_DEVICES)
                return cli_error(CLI_EXIT_USAGE, "-d: at most %d devices", CLI_MAX_DEVICES);
            c->more_device[c->n_more++] = v;
        }
        c->device_explicit = 1;
        return 1;
    }
    G("seed", 0, 0)
    {
        char *end;
        errno = 0;
        if (*v == '-' || !*v)
            return cli_error(CLI_EXIT_USAGE, "--seed: '%s' is not a non-negative integer", v);
        c->seed = strtoull(v, &end, 0);
        if (*end || errno)
            return cli_error(CLI_EXIT_USAGE, "--seed: '%s' is not an integer in 0..2^64-1", v);
        c->seed_given = 1;
        return 1;
    }
    G("json", 0, 1)
    {
        c->json = 1;
        return 1;
    }
    G("output", 'o', 0)
    {
        c->output = v;
        return 1;
    }
    G("verbose", 'v', 1)
    {
        c->verbose++;
        return 1;
    }
    G("progress", 0, 1)
    {
        c->progress = 1;
        return 1;
    }
    G("no-progress", 0, 1)
    {
        c->progress = 0;
        return 1;
    }
    G("timeout", 0, 0)
    {
        double s;
        if (cli_parse_pos_double("--timeout", v, &s))
            return CLI_EXIT_USAGE;
        c->stall_ms = s * 1e3 > 1e9 ? 1000000000 : (int)ceil(s * 1e3);
        return 1;
    }
#undef G
    return 0;
}

static void print_command_help(const cli_command *cmd)
{
    printf("usage: tspu [global options] %s %s [options]\n\n%s\n", cmd->name, cmd->args, cmd->summary);
    if (cmd->help && *cmd->help)
        printf("\n%s", cmd->help);
    printf("\nGlobal options (anywhere on the line): -d DEVICE, --seed S, --json, -o FILE, -v,\n"
           "  --progress / --no-progress, --timeout SECONDS.  See tspu --help and tspu(1).\n");
}

int cli_parse_opts(cli_ctx *c, const cli_command *cmd, int argc, char **argv, const cli_opt *opts,
                   const char **pos, int maxpos, int *npos)
{
    *npos = 0;
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1] != 0) {
            if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                print_command_help(cmd);
                return -1;
            }
            int r = cli_global_opt(c, argc, argv, &i);
            if (r == CLI_EXIT_USAGE)
                return r;
            if (r == 1)
                continue;
            int matched = 0;
            for (const cli_opt *o = opts; o && o->name; o++) {
                r = opt_match(argc, argv, &i, o->name, o->shortname, o->flag, o->val);
                if (r < 0)
                    return CLI_EXIT_USAGE;
                if (r) {
                    matched = 1;
                    break;
                }
            }
            if (matched)
                continue;
            return cli_error(CLI_EXIT_USAGE, "%s: unknown option '%s' (see tspu %s --help)", cmd->name, a,
                             cmd->name);
        }
        if (*npos >= maxpos)
            return cli_error(CLI_EXIT_USAGE, "%s: unexpected argument '%s' (usage: tspu %s %s)", cmd->name, a,
                             cmd->name, cmd->args);
        pos[(*npos)++] = a;
    }
    return 0;
}

/* ---- inputs -------------------------------------------------------------------- */
int cli_read_matrix(const char *path, mat_t *m)
{
    char err[512];
    if (matio_read(path, m, err, sizeof err))
        return cli_error(CLI_EXIT_USAGE, "%s", err);
    return 0;
}

int cli_read_square(const char *path, mat_t *m)
{
    int rc = cli_read_matrix(path, m);
    if (rc)
        return rc;
    if (m->ndim != 2 || m->rows != m->cols) {
        rc = cli_error(CLI_EXIT_USAGE, "%s: A must be square, got %zu x %zu", path, m->rows,
                       m->ndim == 2 ? m->cols : (size_t)1);
    } else if (m->rows < TSPU_N_MIN) {
        rc = cli_error(CLI_EXIT_USAGE, "%s: N = %zu is too small (the unit needs N >= %d)", path, m->rows,
                       TSPU_N_MIN);
    } else if (m->rows > TSPU_N_MAX) {
        rc = cli_error(CLI_EXIT_USAGE, "%s: N = %zu is larger than any tspu (at most %d lanes)", path, m->rows,
                       TSPU_N_MAX);
    }
    if (rc)
        mat_free(m);
    return rc;
}

int cli_read_vector(const char *path, size_t n, mat_t *m)
{
    int rc = cli_read_matrix(path, m);
    if (rc)
        return rc;
    char err[512];
    if (matio_as_vector(path, m, err, sizeof err))
        rc = cli_error(CLI_EXIT_USAGE, "%s", err);
    else if (m->rows * m->cols != n)
        rc = cli_error(CLI_EXIT_USAGE, "%s: b has %zu entries, A is %zu x %zu", path, m->rows * m->cols, n, n);
    if (rc)
        mat_free(m);
    return rc;
}

/* ---- device ----------------------------------------------------------------------- */
static int open_error(const char *spec, int rc)
{
    const char *detail = tspu_last_error(NULL);
    int code = rc == TSPU_E_INVAL ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
    if (detail && *detail)
        return cli_error(code, "cannot open device: %s", detail);
    return cli_error(code, "cannot open device %s: %s", spec, tspu_strerror(rc));
}

int cli_open_device(cli_ctx *c)
{
    if (c->n_more && !c->multi_ok)
        return cli_error(CLI_EXIT_USAGE, "-d was given %u times: only solve, inv, logdet, lyap and expm pool several "
                         "devices", c->n_more + 1);
    const char *spec = c->device && *c->device ? c->device : TSPU_DEFAULT_DEVICE;
    int rc = tspu_open(&c->dev, spec);
    if (rc == TSPU_E_UNSUPPORTED && !c->device_explicit) {
        cli_info(c, "the default device '%s' is not available in this build; using 'model'", spec);
        spec = "model";
        rc = tspu_open(&c->dev, spec);
    }
    if (rc < 0) {
        c->dev = NULL;
        return open_error(spec, rc);
    }
    tspu_get_info(c->dev, &c->info);
    cli_info(c, "device %s: N=%u, gateware %u.%u.%u", c->info.device, c->info.n, (c->info.version >> 16) & 0xFF,
             (c->info.version >> 8) & 0xFF, c->info.version & 0xFF);
    for (unsigned k = 0; k < c->n_more; k++) {
        const char *sk = c->more_device[k];
        rc = tspu_open(&c->more_dev[k], sk);
        if (rc < 0) {
            c->more_dev[k] = NULL;
            rc = open_error(sk, rc);
            cli_close_device(c);
            return rc;
        }
        tspu_get_info(c->more_dev[k], &c->more_info[k]);
        cli_info(c, "device %u %s: N=%u", k + 2, c->more_info[k].device, c->more_info[k].n);
    }
    return CLI_EXIT_OK;
}

void cli_close_device(cli_ctx *c)
{
    if (c->dev)
        tspu_close(c->dev);
    c->dev = NULL;
    for (unsigned k = 0; k < c->n_more; k++) {
        if (c->more_dev[k])
            tspu_close(c->more_dev[k]);
        c->more_dev[k] = NULL;
    }
}

/* ---- planning ------------------------------------------------------------------- */
int cli_spd_plan(const char *name, const double *A, const double *b, unsigned n, double beta, double *mean,
                 double *sd, double *lam_min, double *lam_max)
{
    double amax = 0, asym = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++) {
            amax = fmax(amax, fabs(A[i * n + j]));
            asym = fmax(asym, fabs(A[i * n + j] - A[j * n + i]));
        }
    if (amax == 0)
        return cli_error(CLI_EXIT_USAGE, "%s: A is zero, not positive definite", name);
    if (asym > 1e-10 * amax)
        return cli_error(CLI_EXIT_USAGE,
                         "%s: A is not symmetric (max |A - A^T| = %.3g); sample needs a symmetric "
                         "positive-definite A", name, asym);
    const size_t nn = (size_t)n * n;
    double *L = malloc(nn * sizeof *L), *W = malloc(nn * sizeof *W), *ev = malloc(n * sizeof *ev);
    int rc = CLI_EXIT_OK;
    if (!L || !W || !ev) {
        rc = cli_error(CLI_EXIT_RUNTIME, "out of memory");
        goto out;
    }
    memcpy(L, A, nn * sizeof *L);
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, L, (lapack_int)n);
    if (info != 0) {
        rc = cli_error(CLI_EXIT_USAGE,
                       "%s: A is not positive definite (Cholesky fails at row %d); sample needs a "
                       "symmetric positive-definite A", name, (int)info);
        goto out;
    }
    for (unsigned i = 0; i < n; i++)
        mean[i] = b ? b[i] : 0.0;
    LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, 1, L, (lapack_int)n, mean, 1);
    LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, L, (lapack_int)n);
    for (unsigned i = 0; i < n; i++)
        sd[i] = sqrt(L[i * n + i] / beta);
    memcpy(W, A, nn * sizeof *W);
    if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)n, W, (lapack_int)n, ev) != 0) {
        rc = cli_error(CLI_EXIT_RUNTIME, "%s: eigenvalue computation failed", name);
        goto out;
    }
    *lam_min = ev[0];
    *lam_max = ev[n - 1];
out:
    free(L);
    free(W);
    free(ev);
    return rc;
}

void cli_pad_problem(const double *A, const double *b, unsigned n, unsigned N, double *Ap, double *bp)
{
    double dmax = 0;
    for (unsigned i = 0; i < n; i++)
        dmax = fmax(dmax, A[i * n + i]);
    for (unsigned i = 0; i < N; i++) {
        bp[i] = i < n && b ? b[i] : 0.0;
        for (unsigned j = 0; j < N; j++)
            Ap[i * N + j] = i < n && j < n ? A[i * n + j] : i == j ? dmax : 0.0;
    }
}

/* ---- running --------------------------------------------------------------------- */
static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig)
{
    if (g_interrupted) { /* a second Ctrl-C: leave at once */
        signal(sig, SIG_DFL);
        raise(sig);
    }
    g_interrupted = 1;
}

void cli_install_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
}

int cli_interrupted(void) { return g_interrupted != 0; }

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int progress_enabled(const cli_ctx *c)
{
    if (c->progress >= 0)
        return c->progress;
    return isatty(STDERR_FILENO);
}

static void fmt_rate(char *buf, size_t len, double r)
{
    if (r >= 1e6)
        snprintf(buf, len, "%.2f M", r / 1e6);
    else if (r >= 1e3)
        snprintf(buf, len, "%.1f k", r / 1e3);
    else
        snprintf(buf, len, "%.0f ", r);
}

void cli_progress(const cli_ctx *c, cli_progress_state *ps, const char *what, uint64_t done, uint64_t total)
{
    double t = cli_now();
    if (ps->t0 == 0) {
        ps->t0 = ps->last = t;
        return;
    }
    if (t - ps->t0 < 1.0 || t - ps->last < 1.0 || !progress_enabled(c))
        return;
    ps->last = t;
    const int tty = isatty(STDERR_FILENO);
    double el = t - ps->t0, rate = done / el;
    char r[32];
    fmt_rate(r, sizeof r, rate);
    char eta[48] = "";
    if (total && done && done <= total)
        snprintf(eta, sizeof eta, ", ETA %.0f s", (double)(total - done) / rate);
    fprintf(stderr, "%stspu: %s: %llu", tty ? "\r\033[K" : "", what, (unsigned long long)done);
    if (total)
        fprintf(stderr, "/%llu (%.0f%%)", (unsigned long long)total, 100.0 * (double)done / (double)total);
    fprintf(stderr, ", %s%s/s%s, %.0f s%s", r, strcmp(what, "burn-in") == 0 ? "steps" : "samples", eta, el,
            tty ? "" : "\n");
    fflush(stderr);
    ps->shown = tty ? 2 : 1;
}

void cli_progress_end(cli_progress_state *ps)
{
    if (ps->shown == 2)
        fputc('\n', stderr);
    ps->shown = 0;
}

static const char *phase_name(tspu_phase p)
{
    switch (p) {
    case TSPU_PHASE_IDLE: return "idle";
    case TSPU_PHASE_BURNIN: return "burn-in";
    case TSPU_PHASE_SCHEDULE: return "schedule";
    case TSPU_PHASE_SAMPLING: return "sampling";
    case TSPU_PHASE_DONE: return "done";
    }
    return "?";
}

static int device_error(const cli_ctx *c, int rc, const char *what)
{
    const char *d = tspu_last_error(c->dev);
    return cli_error(CLI_EXIT_RUNTIME, "%s: %s: %s", c->info.device, what, d && *d ? d : tspu_strerror(rc));
}

int cli_run_sampling(cli_ctx *c, unsigned wps, uint64_t total, cli_sample_fn fn, void *fctx, tspu_status *st)
{
    enum { CHUNK = TSPU_LINK_MAX_FIFO_ELEMS };
    int16_t *buf = malloc((CHUNK + 2 * TSPU_N_MAX) * sizeof *buf);
    if (!buf)
        return cli_error(CLI_EXIT_RUNTIME, "out of memory");
    size_t have = 0;
    uint64_t done = 0, last_steps = 0;
    double last_move = cli_now();
    cli_progress_state ps = {0};
    cli_progress(c, &ps, "sampling", 0, total);
    int finishing = 0, rc = CLI_EXIT_OK, stopped = 0;
    tspu_phase phase = TSPU_PHASE_IDLE;
    memset(st, 0, sizeof *st);
    for (;;) {
        if (cli_interrupted() && !stopped) {
            int r = tspu_stop(c->dev);
            if (r < 0) {
                rc = device_error(c, r, "stop");
                break;
            }
            stopped = 1;
            finishing = 1; /* drain what the FIFO holds, then leave */
            rc = CLI_EXIT_INTERRUPT;
        }
        size_t got;
        int r = tspu_fifo_read(c->dev, buf + have, CHUNK, &got);
        if (r < 0) {
            rc = device_error(c, r, "reading samples");
            break;
        }
        have += got;
        size_t whole = have / wps, k;
        for (k = 0; k < whole; k++) {
            if ((r = fn(fctx, buf + k * wps, wps)) != 0) {
                tspu_stop(c->dev);
                rc = r;
                goto out;
            }
        }
        done += whole;
        memmove(buf, buf + whole * wps, (have - whole * wps) * sizeof *buf);
        have -= whole * wps;
        if (got) {
            last_move = cli_now();
            cli_progress(c, &ps, "sampling", done, total);
            continue;
        }
        if (finishing)
            break;
        if ((r = tspu_read_status(c->dev, st, &phase)) < 0) {
            rc = device_error(c, r, "reading status");
            break;
        }
        if (!(st->flags & TSPU_FLAGS_RUNNING)) {
            finishing = 1;
            continue;
        }
        if (phase == TSPU_PHASE_BURNIN)
            cli_progress(c, &ps, "burn-in", st->steps, 0);
        else
            cli_progress(c, &ps, "sampling", done, total);
        if (st->steps != last_steps) {
            last_steps = st->steps;
            last_move = cli_now();
        } else if (c->stall_ms > 0 && (cli_now() - last_move) * 1e3 > c->stall_ms) {
            cli_progress_end(&ps);
            tspu_stop(c->dev);
            rc = cli_error(CLI_EXIT_RUNTIME,
                           "%s: stalled: no samples and no steps for %.1f s (phase %s, step %llu, %llu of %llu "
                           "samples): %s",
                           c->info.device, c->stall_ms / 1e3, phase_name(phase), (unsigned long long)st->steps,
                           (unsigned long long)done, (unsigned long long)total,
                           st->flags & TSPU_FLAGS_STALLED ? "the unit waits on a full FIFO that is not draining"
                                                          : "the unit answers but does not step");
            goto out;
        }
    }
    cli_progress_end(&ps);
    if (rc == CLI_EXIT_OK || rc == CLI_EXIT_INTERRUPT) {
        int r = tspu_read_status(c->dev, st, &phase);
        if (r < 0)
            rc = device_error(c, r, "reading status");
        else if (have && rc == CLI_EXIT_OK)
            rc = cli_error(CLI_EXIT_RUNTIME, "%s: %zu words left over, not a whole sample", c->info.device, have);
    }
out:
    cli_progress_end(&ps);
    free(buf);
    return rc;
}

/* ---- JSON ------------------------------------------------------------------------ */
/* before every value or key: a comma unless it is the first in its container
 * (a key sets "first" so that its value takes none) */
static void jpre(cli_json *j)
{
    int d = j->depth < 16 ? j->depth : 15;
    if (!j->first[d])
        fputc(',', stdout);
    j->first[d] = 0;
}

static void jstr_raw(const char *s)
{
    fputc('"', stdout);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            fputc(ch, stdout);
    }
    fputc('"', stdout);
}

void cli_json_begin(cli_json *j)
{
    memset(j, 0, sizeof *j);
    j->first[0] = 1;
    cli_json_open(j, '{');
}

void cli_json_open(cli_json *j, char bracket)
{
    jpre(j);
    fputc(bracket, stdout);
    j->depth++;
    j->first[j->depth < 16 ? j->depth : 15] = 1;
}

void cli_json_close(cli_json *j, char bracket)
{
    fputc(bracket, stdout);
    j->depth--;
}

void cli_json_key(cli_json *j, const char *key)
{
    jpre(j);
    jstr_raw(key);
    fputc(':', stdout);
    j->first[j->depth < 16 ? j->depth : 15] = 1;
}

void cli_json_str(cli_json *j, const char *s)
{
    jpre(j);
    jstr_raw(s);
}

void cli_json_num(cli_json *j, double v)
{
    jpre(j);
    if (!isfinite(v)) {
        fputs("null", stdout);
        return;
    }
    char b[40];
    matio_format_double(b, sizeof b, v);
    fputs(b, stdout);
}

void cli_json_int(cli_json *j, long long v)
{
    jpre(j);
    printf("%lld", v);
}

void cli_json_uint(cli_json *j, unsigned long long v)
{
    jpre(j);
    printf("%llu", v);
}

void cli_json_bool(cli_json *j, int v)
{
    jpre(j);
    fputs(v ? "true" : "false", stdout);
}

void cli_json_mat(cli_json *j, const mat_t *m)
{
    if (m->ndim == 1 || m->cols == 1) {
        cli_json_open(j, '[');
        for (size_t i = 0; i < m->rows * m->cols; i++)
            cli_json_num(j, m->v[i]);
        cli_json_close(j, ']');
        return;
    }
    cli_json_open(j, '[');
    for (size_t i = 0; i < m->rows; i++) {
        cli_json_open(j, '[');
        for (size_t k = 0; k < m->cols; k++)
            cli_json_num(j, m->v[i * m->cols + k]);
        cli_json_close(j, ']');
    }
    cli_json_close(j, ']');
}

void cli_json_end(cli_json *j)
{
    cli_json_close(j, '}');
    fputc('\n', stdout);
    fflush(stdout);
}

/* ---- results --------------------------------------------------------------------- */
double cli_device_seconds(const cli_ctx *c, uint64_t steps)
{
    if (!c->info.clock_hz)
        return NAN;
    return (double)steps * (double)c->info.cycles_per_step / (double)c->info.clock_hz;
}

void cli_emit_json(cli_ctx *c, const cli_result *r, void (*extra)(cli_json *, void *), void *ectx)
{
    cli_json j;
    cli_json_begin(&j);
    cli_json_key(&j, "command");
    cli_json_str(&j, c->cmd);
    cli_json_key(&j, "estimate");
    cli_json_mat(&j, r->estimate);
    cli_json_key(&j, "stderr");
    cli_json_mat(&j, r->stderr_);
    cli_json_key(&j, "samples");
    cli_json_int(&j, (long long)r->samples);
    cli_json_key(&j, "steps");
    cli_json_int(&j, (long long)r->steps);
    /* several devices (-d more than once): "device" joins them with ",",
     * "devices" lists them; one device: its string and a list of one */
    char devs[CLI_MAX_DEVICES * 65] = "";
    snprintf(devs, sizeof devs, "%s", c->info.device);
    for (unsigned k = 0; k < c->n_more && c->more_dev[k]; k++) {
        size_t l = strlen(devs);
        snprintf(devs + l, sizeof devs - l, ",%s", c->more_info[k].device);
    }
    cli_json_key(&j, "device");
    cli_json_str(&j, devs);
    cli_json_key(&j, "devices");
    cli_json_open(&j, '[');
    cli_json_str(&j, c->info.device);
    for (unsigned k = 0; k < c->n_more && c->more_dev[k]; k++)
        cli_json_str(&j, c->more_info[k].device);
    cli_json_close(&j, ']');
    cli_json_key(&j, "device_seconds");
    cli_json_num(&j, r->device_seconds);
    cli_json_key(&j, "wall_seconds");
    cli_json_num(&j, r->wall_seconds);
    cli_json_key(&j, "seed");
    cli_json_uint(&j, c->seed);
    cli_json_key(&j, "flags");
    cli_json_open(&j, '{');
    cli_json_key(&j, "saturated");
    cli_json_bool(&j, r->saturated);
    cli_json_key(&j, "fifo_overflow");
    cli_json_bool(&j, r->fifo_overflow);
    cli_json_key(&j, "interrupted");
    cli_json_bool(&j, r->interrupted);
    cli_json_key(&j, "saturation_count");
    cli_json_int(&j, r->sat_count);
    cli_json_close(&j, '}');
    if (extra)
        extra(&j, ectx);
    cli_json_end(&j);
}

void cli_warn_flags(const cli_result *r)
{
    if (r->saturated)
        cli_warn("the unit saturated %u values; the result is biased (the state range was too narrow)",
                 r->sat_count);
    if (r->fifo_overflow)
        cli_warn("the unit dropped samples (FIFO overflow); the samples are not consecutive");
}

int cli_emit_result(cli_ctx *c, const cli_result *r, void (*extra)(cli_json *, void *), void *ectx)
{
    char err[512];
    if (c->output && matio_write(c->output, r->estimate, err, sizeof err))
        return cli_error(CLI_EXIT_RUNTIME, "%s", err);
    if (c->json) {
        cli_emit_json(c, r, extra, ectx);
    } else if (!c->output) {
        const size_t cols = r->estimate->ndim == 1 ? 1 : r->estimate->cols;
        matio_writer *w = matio_writer_stream(stdout, cols);
        for (size_t i = 0; w && i < r->estimate->rows * r->estimate->cols / cols; i++)
            matio_writer_row(w, r->estimate->v + i * cols);
        if (matio_writer_close(w, err, sizeof err))
            return cli_error(CLI_EXIT_RUNTIME, "%s", err);
    }
    cli_warn_flags(r);
    return CLI_EXIT_OK;
}

int cli_parse_u64(const char *opt, const char *s, uint64_t *out)
{
    char *end;
    if (*s == '-')
        return cli_error(CLI_EXIT_USAGE, "%s: '%s' is negative", opt, s);
    double d = strtod(s, &end);
    if (end == s || *end || !(d >= 0) || d != floor(d) || d > 1.8e19)
        return cli_error(CLI_EXIT_USAGE, "%s: '%s' is not a non-negative integer", opt, s);
    *out = (uint64_t)d;
    return 0;
}

/* ---- algorithm commands ------------------------------------------------------------ */
int cli_parse_algo_args(const cli_algo_args *q, uint32_t min_batches, tspu_algo_opts *o)
{
    uint32_t u;
    uint64_t v;
    if (q->tol && cli_parse_pos_double("--tol", q->tol, &o->tol))
        return CLI_EXIT_USAGE;
    if (q->conf) {
        if (cli_parse_pos_double("--confidence", q->conf, &o->confidence))
            return CLI_EXIT_USAGE;
        if (!(o->confidence < 1))
            return cli_error(CLI_EXIT_USAGE, "--confidence: %s must be between 0 and 1", q->conf);
    }
    if (q->samples) {
        if (cli_parse_u64("--samples", q->samples, &v))
            return CLI_EXIT_USAGE;
        if (!v)
            return cli_error(CLI_EXIT_USAGE, "--samples: must be at least 1");
        o->samples = v;
    }
    if (q->burnin) {
        if (cli_parse_u64("--burnin", q->burnin, &o->burnin))
            return CLI_EXIT_USAGE;
        o->burnin_set = 1;
    }
    if (q->thin) {
        if (cli_parse_u32("--thin", q->thin, 1, &u))
            return CLI_EXIT_USAGE;
        o->thin = u;
    }
    if (q->chains) {
        if (cli_parse_u32("--chains", q->chains, 1, &u))
            return CLI_EXIT_USAGE;
        o->chains = u;
    }
    if (q->batches) {
        if (cli_parse_u32("--batches", q->batches, min_batches, &u))
            return CLI_EXIT_USAGE;
        o->batches = u;
    }
    if (q->max) {
        if (cli_parse_u64("--max-steps", q->max, &v))
            return CLI_EXIT_USAGE;
        o->max_steps = v;
    }
    if ((q->beta && cli_parse_pos_double("--beta", q->beta, &o->beta)) ||
        (q->dt && cli_parse_pos_double("--dt", q->dt, &o->dt)))
        return CLI_EXIT_USAGE;
    return 0;
}

uint64_t cli_random_seed(void)
{
    uint64_t s = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(&s, sizeof s, 1, f) != 1)
            s = 0;
        fclose(f);
    }
    if (!s)
        s = (uint64_t)(cli_now() * 1e9);
    return s;
}

static void algo_log(void *ctx, int level, const char *line)
{
    const cli_ctx *c = ctx;
    if (level == TSPU_ALGO_LOG_WARN)
        cli_warn("%s", line);
    else if (c->verbose >= level)
        fprintf(stderr, "tspu: %s\n", line);
}

static int algo_cancel(void *ctx)
{
    (void)ctx;
    return cli_interrupted();
}

void cli_algo_hooks(cli_ctx *c, tspu_algo_opts *o)
{
    if (!c->seed_given)
        c->seed = cli_random_seed();
    o->seed = c->seed;
    o->verbosity = c->verbose;
    o->log = algo_log;
    o->log_ctx = c;
    /* Ctrl-C: the library polls the hook, stops the unit and returns CANCELLED */
    o->cancel = algo_cancel;
    o->cancel_ctx = c;
    o->more_devs = c->more_dev;
    o->n_more_devs = c->n_more;
}

int cli_algo_error(cli_ctx *c, int rc, const char *what, const char *err)
{
    if (rc == TSPU_ALGO_E_CANCELLED)
        return cli_error(CLI_EXIT_INTERRUPT, "interrupted: stopped the unit (%s)", c->info.device);
    if (rc == TSPU_ALGO_E_INPUT)
        return cli_error(CLI_EXIT_USAGE, "%s: %s", what, err);
    return cli_error(CLI_EXIT_RUNTIME, "%s: %s", c->info.device, err[0] ? err : tspu_strerror(rc));
}

void cli_json_plan_run(cli_json *j, const tspu_algo_plan *p)
{
    cli_json_key(j, "lambda_min");
    cli_json_num(j, p->lambda_min);
    cli_json_key(j, "lambda_max");
    cli_json_num(j, p->lambda_max);
    cli_json_key(j, "burnin");
    cli_json_int(j, (long long)p->burnin);
    cli_json_key(j, "thin");
    cli_json_int(j, p->thin);
    cli_json_key(j, "chains");
    cli_json_int(j, p->chains);
    cli_json_key(j, "batches");
    cli_json_int(j, p->batches);
}

void cli_json_plan_end(cli_json *j, const tspu_algo_plan *p, unsigned flags)
{
    cli_json_key(j, "x_range");
    cli_json_num(j, p->x_range);
    cli_json_key(j, "retries");
    cli_json_int(j, p->retries);
    cli_json_key(j, "note");
    cli_json_str(j, p->note);
    cli_json_close(j, '}');
    cli_json_key(j, "truncated");
    cli_json_bool(j, (flags & TSPU_ALGO_FLAG_TRUNCATED) != 0);
}
