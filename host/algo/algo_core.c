/* algo_core.c - libtspualgo: options, messages, input checks, small dense
 * linear algebra over LAPACKE, the device session (map, load, run a program)
 * and batch statistics.  See docs/algorithms.md. */
#define _POSIX_C_SOURCE 200809L
#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_cdf.h>

#include "algo_internal.h"
#include "tspu_regs.h"

/* ---- options, messages -------------------------------------------------------- */
void tspu_algo_opts_init(tspu_algo_opts *o)
{
    memset(o, 0, sizeof *o);
    o->tol = 0.02;
    o->confidence = 0.95;
    o->integrator = -1;
    o->seed = 1;
    o->chains = 1;
    o->max_steps = 20000000000ull;
    o->max_retries = 3;
}

void tspu_algo_result_free(tspu_algo_result *r)
{
    free(r->estimate);
    free(r->std_err);
    free(r->quant_err);
    free(r->work_fwd);
    free(r->work_rev);
    free(r->A_eff);
    free(r->b_eff);
    memset(r, 0, sizeof *r);
}

double tspu_algo_z(double p)
{
    if (!(p > 0 && p < 1))
        p = 0.95;
    return gsl_cdf_ugaussian_Qinv((1.0 - p) / 2.0);
}

void alog(const tspu_algo_opts *o, int level, const char *fmt, ...)
{
    if (level > o->verbosity && level != TSPU_ALGO_LOG_WARN)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (o->log)
        o->log(o->log_ctx, level, line);
    else
        fprintf(stderr, "%s%s\n", level == TSPU_ALGO_LOG_WARN ? "warning: " : "", line);
}

int aerr(char *err, size_t len, int code, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return code;
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- linear algebra ------------------------------------------------------------- */
int la_chol(unsigned n, const double *A, double *L)
{
    memcpy(L, A, sizeof(double) * n * n);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, L, (lapack_int)n) != 0)
        return -1;
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i + 1; j < n; j++)
            L[i * n + j] = 0;
    return 0;
}

int la_spd_solve(unsigned n, const double *L, double *x)
{
    return LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, 1, L, (lapack_int)n, x, 1) ? -1 : 0;
}

static void unit_start(unsigned n, double *v)
{
    /* a fixed, generic start vector (not an eigenvector of structured A) */
    double s = 0;
    for (unsigned i = 0; i < n; i++) {
        v[i] = 1.0 + 0.37 * sin(1.3 * i + 0.2) + 0.01 * i;
        s += v[i] * v[i];
    }
    for (unsigned i = 0; i < n; i++)
        v[i] /= sqrt(s);
}

double la_lambda_max_sym(unsigned n, const double *A)
{
    double v[TSPU_N_MAX * 2], w[TSPU_N_MAX * 2], rq = 0;
    unit_start(n, v);
    for (int it = 0; it < 60; it++) {
        double s = 0;
        rq = 0;
        for (unsigned i = 0; i < n; i++) {
            double t = 0;
            for (unsigned j = 0; j < n; j++)
                t += A[i * n + j] * v[j];
            w[i] = t;
            rq += v[i] * t;
            s += t * t;
        }
        s = sqrt(s);
        if (s == 0)
            return 0;
        for (unsigned i = 0; i < n; i++)
            v[i] = w[i] / s;
    }
    return rq;
}

double la_lambda_min_spd(unsigned n, const double *L)
{
    double v[TSPU_N_MAX * 2], rq = 0;
    unit_start(n, v);
    for (int it = 0; it < 40; it++) {
        double w[TSPU_N_MAX * 2];
        memcpy(w, v, sizeof(double) * n);
        la_spd_solve(n, L, w);
        double s = 0;
        rq = 0;
        for (unsigned i = 0; i < n; i++) {
            rq += v[i] * w[i];
            s += w[i] * w[i];
        }
        s = sqrt(s);
        for (unsigned i = 0; i < n; i++)
            v[i] = w[i] / s;
    }
    return rq > 0 ? 1.0 / rq : 0; /* rq -> 1/lambda_min from below */
}

int la_eig(unsigned n, const double *A, double *wr, double *wi)
{
    double *T = malloc(sizeof(double) * n * n);
    if (!T)
        return -1;
    memcpy(T, A, sizeof(double) * n * n);
    lapack_int rc = LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)n, T, (lapack_int)n, wr, wi,
                                  NULL, 1, NULL, 1);
    free(T);
    return rc ? -1 : 0;
}

int la_inv(unsigned n, const double *A, double *X)
{
    double *T = malloc(sizeof(double) * n * n);
    lapack_int *ipiv = malloc(sizeof(lapack_int) * n);
    int rc = -1;
    if (T && ipiv) {
        memcpy(T, A, sizeof(double) * n * n);
        for (unsigned i = 0; i < n * n; i++)
            X[i] = 0;
        for (unsigned i = 0; i < n; i++)
            X[i * n + i] = 1;
        rc = LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)n, T, (lapack_int)n, ipiv, X,
                           (lapack_int)n) ? -1 : 0;
    }
    free(T);
    free(ipiv);
    return rc;
}

void la_mul(unsigned n, const double *A, const double *B, double *C)
{
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++) {
            double t = 0;
            for (unsigned k = 0; k < n; k++)
                t += A[i * n + k] * B[k * n + j];
            C[i * n + j] = t;
        }
}

void la_mul_t(unsigned n, const double *A, const double *B, double *C)
{
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++) {
            double t = 0;
            for (unsigned k = 0; k < n; k++)
                t += A[i * n + k] * B[j * n + k];
            C[i * n + j] = t;
        }
}

double la_maxabs(size_t k, const double *v)
{
    double m = 0;
    for (size_t i = 0; i < k; i++)
        m = fmax(m, fabs(v[i]));
    return m;
}

int check_square(unsigned n, char *err, size_t len)
{
    if (n < 1)
        return aerr(err, len, TSPU_ALGO_E_INPUT, "matrix is empty");
    if (n > TSPU_N_MAX)
        return aerr(err, len, TSPU_ALGO_E_INPUT, "N = %u is larger than any tspu device (at most %d lanes)", n,
                    TSPU_N_MAX);
    return 0;
}

int check_finite(unsigned n, size_t k, const double *v, const char *what, char *err, size_t len)
{
    (void)n;
    for (size_t i = 0; i < k; i++)
        if (!isfinite(v[i]))
            return aerr(err, len, TSPU_ALGO_E_INPUT, "%s has a non-finite entry (index %zu)", what, i);
    return 0;
}

int tspu_algo_check_spd(unsigned n, const double *A, char *err, size_t len)
{
    int rc;
    if ((rc = check_square(n, err, len)) || (rc = check_finite(n, (size_t)n * n, A, "A", err, len)))
        return rc;
    double asym = 0, amax = la_maxabs((size_t)n * n, A);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < i; j++)
            asym = fmax(asym, fabs(A[i * n + j] - A[j * n + i]));
    if (asym > 1e-12 * amax)
        return aerr(err, len, TSPU_ALGO_E_INPUT,
                    "A is not symmetric (max |A - A^T| = %.3g); this command needs a symmetric positive definite A",
                    asym);
    double L[TSPU_N_MAX * TSPU_N_MAX];
    if (la_chol(n, A, L))
        return aerr(err, len, TSPU_ALGO_E_INPUT,
                    "A is not positive definite (Cholesky factorisation failed); this command needs SPD A");
    return 0;
}

int tspu_algo_check_stable(unsigned n, const double *A, char *err, size_t len)
{
    int rc;
    if ((rc = check_square(n, err, len)) || (rc = check_finite(n, (size_t)n * n, A, "A", err, len)))
        return rc;
    double wr[TSPU_N_MAX], wi[TSPU_N_MAX];
    if (la_eig(n, A, wr, wi))
        return aerr(err, len, TSPU_ALGO_E_INPUT, "eigenvalues of A could not be computed (dgeev failed)");
    for (unsigned i = 0; i < n; i++)
        if (!(wr[i] > 0))
            return aerr(err, len, TSPU_ALGO_E_INPUT,
                        "A is not stable: eigenvalue %.4g%+.4gi has Re <= 0 (need Re(lambda) > 0 for every eigenvalue)",
                        wr[i], wi[i]);
    return 0;
}

/* ---- device session ---------------------------------------------------------------- */
int dev_err(sess *s, int rc, char *err, size_t len, const char *what)
{
    if (s->o && s->o->n_more_devs && s->info.device[0]) /* several devices: say which one */
        return aerr(err, len, rc, "%s on %s: %s (%s)", what, s->info.device, tspu_strerror(rc),
                    tspu_last_error(s->dev));
    return aerr(err, len, rc, "%s: %s (%s)", what, tspu_strerror(rc), tspu_last_error(s->dev));
}

int sess_open(sess *s, tspu_dev *dev, const tspu_algo_opts *o, unsigned n, char *err, size_t len)
{
    memset(s, 0, sizeof *s);
    s->dev = dev;
    s->o = o;
    s->n = n;
    s->t0 = now_s();
    int rc = tspu_get_info(dev, &s->info);
    if (rc)
        return dev_err(s, rc, err, len, "device info");
    if (n > s->info.n)
        return aerr(err, len, TSPU_ALGO_E_INPUT, "N = %u is larger than the device (%u lanes on %s)", n,
                    s->info.n, s->info.device);
    if (n < 1)
        return aerr(err, len, TSPU_ALGO_E_INPUT, "matrix is empty");
    s->nd = s->info.n;
    s->fifo_stall = (s->info.features & TSPU_FEATURES_FIFO_STALL) ? 1 : 0;
    s->rng = 0x9e3779b97f4a7c15ull ^ o->seed;
    s->gamma = s->mass = 1.0;
    /* the other devices: the problem must fit every one of them */
    if (o->n_more_devs) {
        if (o->n_more_devs + 1 > TSPU_ALGO_MAX_DEVICES || !o->more_devs)
            return aerr(err, len, TSPU_ALGO_E_INPUT, "%u devices: at most %d can be pooled", o->n_more_devs + 1,
                        TSPU_ALGO_MAX_DEVICES);
        for (unsigned d = 0; d < o->n_more_devs; d++) {
            tspu_dev *dd = o->more_devs[d];
            if (!dd)
                return aerr(err, len, TSPU_ALGO_E_INPUT, "device %u is missing (NULL handle)", d + 2);
            if (dd == dev)
                return aerr(err, len, TSPU_ALGO_E_INPUT, "device %u is the same handle as device 1", d + 2);
            for (unsigned e = 0; e < d; e++)
                if (o->more_devs[e] == dd)
                    return aerr(err, len, TSPU_ALGO_E_INPUT, "device %u is the same handle as device %u", d + 2,
                                e + 2);
            tspu_info in;
            if ((rc = tspu_get_info(dd, &in)))
                return aerr(err, len, rc, "device info (device %u): %s (%s)", d + 2, tspu_strerror(rc),
                            tspu_last_error(dd));
            if (n > in.n)
                return aerr(err, len, TSPU_ALGO_E_INPUT,
                            "N = %u is larger than the device %s (%u lanes); every device must hold the problem",
                            n, in.device, in.n);
        }
    }
    return 0;
}

void sess_chain_rng(sess *s, unsigned chain)
{
    s->rng = 0x9e3779b97f4a7c15ull ^ s->o->seed ^ ((uint64_t)chain * 0xd1b54a32d192ed03ull);
}

unsigned plan_chains(const tspu_algo_opts *o)
{
    unsigned C = o->chains ? o->chains : 1, D = 1 + o->n_more_devs;
    return C < D ? D : C;
}

int pool_open(spool *p, sess *s0, char *err, size_t len)
{
    const tspu_algo_opts *o = s0->o;
    memset(p, 0, sizeof *p);
    p->D = 1;
    p->s[0] = s0;
    for (unsigned d = 0; d < o->n_more_devs; d++) {
        sess *t = malloc(sizeof *t);
        if (!t) {
            pool_close(p);
            return aerr(err, len, TSPU_E_NOMEM, "out of memory");
        }
        /* sess_open checked these devices through s0 (o->more_devs) */
        tspu_algo_opts o1 = *o;
        o1.n_more_devs = 0;
        int rc = sess_open(t, o->more_devs[d], &o1, s0->n, err, len);
        t->o = o; /* o1 is gone after this block */
        if (rc) {
            free(t);
            pool_close(p);
            return rc;
        }
        t->gamma = s0->gamma;
        t->mass = s0->mass;
        p->s[p->D++] = t;
    }
    return 0;
}

/* A program's burn-in at lambda 0 is an ordinary step even in data mode (the
 * passes do not run while lambda is held at 0); everything else of a data
 * program costs tspu_step_cycles. */
void sess_count_steps(sess *s, uint64_t steps)
{
    uint64_t plain = 0;
    if (s->cfg.data_mode != TSPU_DATA_OFF && s->cfg.lambda_init == 0)
        plain = steps < s->cfg.burnin ? steps : s->cfg.burnin;
    s->steps += steps;
    s->cycles += (double)plain * s->info.cycles_per_step +
                 (double)(steps - plain) * tspu_step_cycles(&s->info, &s->cfg);
}

double sess_seconds(const sess *s)
{
    return s->cycles / (double)(s->info.clock_hz ? s->info.clock_hz : 1);
}

void pool_close(spool *p)
{
    sess *s0 = p->s[0];
    for (unsigned d = 1; d < p->D; d++) {
        sess *t = p->s[d];
        s0->more_steps += t->steps;
        s0->more_seconds = fmax(s0->more_seconds, sess_seconds(t));
        s0->flags |= t->flags;
        if (s0->more_n < d) { /* names once, in device order */
            size_t l = strlen(s0->more_names);
            snprintf(s0->more_names + l, sizeof s0->more_names - l, ",%s", t->info.device);
            s0->more_n = d;
        }
        free(t);
    }
    p->D = 1;
}

typedef struct {
    spool *p;
    unsigned d, c0, C;
    chain_fn fn;
    void *ctx;
    int *stop;
    int *rcs;        /* per chain */
    char (*errs)[256];
} chain_thread;

static void *chain_worker(void *arg)
{
    chain_thread *t = arg;
    const unsigned D = t->p->D;
    unsigned c = t->c0 + ((t->d + D - t->c0 % D) % D); /* first chain of this device */
    for (; c < t->C; c += D) {
        if (chain_stopped(t->stop))
            break;
        int rc = t->fn(t->p->s[t->d], c, t->ctx, t->errs[c], sizeof t->errs[c]);
        t->rcs[c] = rc;
        if (rc) {
            __atomic_store_n(t->stop, 1, __ATOMIC_RELAXED);
            break;
        }
    }
    return NULL;
}

int run_chains(spool *p, unsigned c0, unsigned C, chain_fn fn, void *ctx, int *stop, char *err, size_t len)
{
    if (c0 >= C)
        return 0;
    if (p->D == 1 || C - c0 == 1) {
        for (unsigned c = c0; c < C; c++) {
            int rc = fn(p->s[c % p->D], c, ctx, err, len);
            if (rc) {
                __atomic_store_n(stop, 1, __ATOMIC_RELAXED);
                return rc;
            }
        }
        return 0;
    }
    int *rcs = calloc(C, sizeof(int));
    char (*errs)[256] = calloc(C, sizeof *errs);
    chain_thread th[TSPU_ALGO_MAX_DEVICES];
    pthread_t tid[TSPU_ALGO_MAX_DEVICES];
    int started[TSPU_ALGO_MAX_DEVICES] = {0};
    if (!rcs || !errs) {
        free(rcs);
        free(errs);
        return aerr(err, len, TSPU_E_NOMEM, "out of memory");
    }
    for (unsigned d = 0; d < p->D; d++) {
        th[d] = (chain_thread){.p = p, .d = d, .c0 = c0, .C = C, .fn = fn, .ctx = ctx, .stop = stop, .rcs = rcs,
                               .errs = errs};
        if (d > 0 && pthread_create(&tid[d], NULL, chain_worker, &th[d]) == 0)
            started[d] = 1;
        else if (d > 0)
            chain_worker(&th[d]); /* no thread: run it here, in order */
    }
    chain_worker(&th[0]); /* device 0 in the calling thread */
    for (unsigned d = 1; d < p->D; d++)
        if (started[d])
            pthread_join(tid[d], NULL);
    int rc = 0;
    unsigned at = 0;
    for (unsigned c = c0; c < C && rc >= 0; c++)
        if (rcs[c] < 0 || (rcs[c] && !rc)) {
            rc = rcs[c];
            at = c;
        }
    if (rc)
        aerr(err, len, rc, "%s", errs[at]);
    free(rcs);
    free(errs);
    return rc;
}

int sess_stream_end(sess *s, int rc, const char *overflow_warning, char *err, size_t len)
{
    if (rc == TSPU_E_FIFO_OVERFLOW) {
        s->flags |= TSPU_ALGO_FLAG_FIFO_OVERFLOW;
        if (overflow_warning)
            alog(s->o, TSPU_ALGO_LOG_WARN, "%s", overflow_warning);
        rc = 0;
    }
    if (rc)
        return dev_err(s, rc, err, len, "streaming samples");
    tspu_status st;
    if ((rc = tspu_read_status(s->dev, &st, NULL)))
        return dev_err(s, rc, err, len, "status");
    sess_count_steps(s, st.steps);
    s->last_flags = st.flags;
    return (st.flags & TSPU_FLAG_SATURATED) ? 1 : 0;
}

int run_attempt(spool *p, unsigned C, chain_fn fn, void *ctx, int *stop, int *sat, char *err, size_t len)
{
    if (*sat)
        return 0;
    int rc = run_chains(p, 0, C, fn, ctx, stop, err, len);
    if (rc < 0)
        return rc;
    *sat = rc == 1;
    return 0;
}

void note_retry(const tspu_algo_opts *o, unsigned *flags, const char *what, double *range)
{
    *flags |= TSPU_ALGO_FLAG_RETRIED;
    alog(o, TSPU_ALGO_LOG_WARN, "the unit saturated at %s %.4g: retrying with %.4g", what, *range, 2 * *range);
    *range *= 2;
}

static double urand(uint64_t *st)
{
    /* splitmix64 -> [0, 1) */
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static void pad(unsigned n, unsigned nd, const double *A, double *P, double diag)
{
    for (unsigned i = 0; i < nd; i++)
        for (unsigned j = 0; j < nd; j++)
            P[i * nd + j] = (i < n && j < n) ? A[i * n + j] : (i == j ? diag : 0.0);
}

int sess_map(sess *s, const double *A0, const double *A1, const double *b, double beta, double h, int integ,
             double x_range, int mitigate, char *err, size_t len)
{
    const unsigned n = s->n, nd = s->nd;
    double tr = 0;
    for (unsigned i = 0; i < n; i++)
        tr += A0[i * n + i];
    double diag = tr / n > 0 ? tr / n : 1.0; /* padding lanes: mean eigenvalue, decoupled */
    pad(n, nd, A0, s->A0, diag);
    s->two_sets = A1 != NULL;
    if (A1)
        pad(n, nd, A1, s->A1, diag);
    for (unsigned i = 0; i < nd; i++)
        s->b0[i] = (b && i < n) ? b[i] : 0.0;
    memset(&s->pr, 0, sizeof s->pr);
    s->pr.n = nd;
    s->pr.A0 = s->A0;
    s->pr.b0 = s->b0;
    s->pr.A1 = A1 ? s->A1 : NULL;
    s->pr.b1 = A1 ? s->b0 : NULL;
    s->pr.beta = beta;
    s->pr.h = h;
    s->pr.integrator = (tspu_integrator)integ;
    s->pr.gamma = s->gamma;
    s->pr.mass = s->mass;
    s->pr.x_range = x_range;
    s->cfg = tspu_model_default_config();
    char e2[200];
    if (tspu_map_problem(&s->pr, &s->mp, &s->cfg, e2, sizeof e2))
        return aerr(err, len, TSPU_ALGO_E_INPUT, "cannot represent the problem in the unit's fixed-point formats: %s",
                    e2);
    if (mitigate) {
        /* stochastic rounding of set 0 (mitigate 2: set 1, the A of a
         * two-set problem): E[a] = h A 2^D exactly (error mitigation) */
        const unsigned set = (mitigate == 2 && A1) ? 1 : 0;
        const double *Ar = set ? s->A1 : s->A0;
        const double kf = h * s->mp.lsb_x / s->mp.lsb_f * ldexp(1.0, (int)s->cfg.drift_shift);
        int symm = 1;
        for (unsigned i = 0; i < nd && symm; i++)
            for (unsigned k = 0; k < i; k++)
                if (Ar[i * nd + k] != Ar[k * nd + i])
                    symm = 0;
        for (unsigned i = 0; i < nd; i++)
            for (unsigned k = 0; k < nd; k++) {
                unsigned e = i * nd + k;
                if (symm && k < i) { /* a symmetric A stays symmetric: mirror */
                    s->mp.a[set][e] = s->mp.a[set][k * nd + i];
                    s->mp.A_eff[set][e] = s->mp.A_eff[set][k * nd + i];
                    continue;
                }
                double v = Ar[e] * kf, f = floor(v);
                double q = f + (urand(&s->rng) < v - f ? 1.0 : 0.0);
                if (q > 32767)
                    q = 32767;
                if (q < -32768)
                    q = -32768;
                s->mp.a[set][e] = (int16_t)q;
                s->mp.A_eff[set][e] = q / kf;
            }
        if (!A1) {
            memcpy(s->mp.a[1], s->mp.a[0], sizeof s->mp.a[0]);
            memcpy(s->mp.A_eff[1], s->mp.A_eff[0], sizeof s->mp.A_eff[0]);
        }
    }
    return 0;
}

int sess_load(sess *s, uint64_t seed, char *err, size_t len)
{
    int rc = tspu_load_mapping(s->dev, &s->mp);
    if (!rc)
        rc = tspu_seed(s->dev, seed);
    int32_t z[TSPU_N_MAX] = {0};
    if (!rc)
        rc = tspu_set_state(s->dev, z, s->pr.integrator == TSPU_INT_UD ? z : NULL);
    if (rc)
        return dev_err(s, rc, err, len, "loading the problem");
    return 0;
}

int sess_run(sess *s, char *err, size_t len)
{
    int rc = tspu_configure(s->dev, &s->cfg, 0);
    if (!rc)
        rc = tspu_start(s->dev);
    if (rc)
        return dev_err(s, rc, err, len, "starting a program");
    tspu_status st;
    tspu_phase ph;
    uint64_t last = 0;
    double tprog = now_s();
    for (;;) {
        if (s->o->cancel && s->o->cancel(s->o->cancel_ctx)) {
            tspu_stop(s->dev);
            return aerr(err, len, TSPU_ALGO_E_CANCELLED, "interrupted: the unit was stopped");
        }
        if ((rc = tspu_read_status(s->dev, &st, &ph)))
            return dev_err(s, rc, err, len, "status");
        if (ph == TSPU_PHASE_DONE || (st.flags & TSPU_FLAG_DONE))
            break;
        if (st.steps != last) {
            last = st.steps;
            tprog = now_s();
        } else {
            if (now_s() - tprog > 30.0)
                return aerr(err, len, TSPU_E_TIMEOUT, "the unit made no progress for 30 s (phase %d, %llu steps)",
                            (int)ph, (unsigned long long)st.steps);
            if (now_s() - tprog > 0.002) { /* a real device: do not spin */
                struct timespec ts = {0, 200000};
                nanosleep(&ts, NULL);
            }
        }
    }
    sess_count_steps(s, st.steps);
    s->last_flags = st.flags;
    if (st.flags & TSPU_FLAG_WORK_OVERFLOW)
        s->flags |= TSPU_ALGO_FLAG_WORK_OVERFLOW;
    return 0;
}

/* ---- statistics ------------------------------------------------------------------- */
void batch_stats(unsigned K, unsigned m, const double *v, double *mean, double *se)
{
    for (unsigned j = 0; j < m; j++) {
        double s = 0;
        for (unsigned k = 0; k < K; k++)
            s += v[(size_t)k * m + j];
        double mu = s / K, ss = 0;
        for (unsigned k = 0; k < K; k++) {
            double d = v[(size_t)k * m + j] - mu;
            ss += d * d;
        }
        mean[j] = mu;
        se[j] = K > 1 ? sqrt(ss / ((double)K * (K - 1))) : INFINITY;
    }
}

double plan_h_spd(const tspu_algo_opts *o, double lmax)
{
    if (o->dt > 0)
        return o->dt;
    /* LM: exact covariance for any h lambda < 2; h lambda_max = 1 leaves
     * margin for the power-iteration estimate and keeps the fast modes
     * well damped.  EM: h lambda_max = 0.5 (its covariance is corrected). */
    int integ = o->integrator < 0 ? TSPU_INT_LM : o->integrator;
    if (integ == TSPU_INT_UD)
        return 1.0 / sqrt(lmax);
    return (integ == TSPU_INT_EM ? 0.5 : 1.0) / lmax;
}

void fill_result_common(tspu_algo_result *r, sess *s, unsigned rows, unsigned cols)
{
    r->rows = rows;
    r->cols = cols;
    /* several devices run in parallel: the device time is the longest one's */
    r->steps = s->steps + s->more_steps;
    r->device_seconds = fmax(sess_seconds(s), s->more_seconds);
    r->wall_seconds = now_s() - s->t0;
    r->flags |= s->flags;
    r->n_devices = 1 + s->more_n;
    snprintf(r->device, sizeof r->device, "%.63s%.190s", s->info.device, s->more_names);
}

/* ---- Richardson extrapolation in h ---------------------------------------------- */
/* R(h) = R0 + c h + O(h^2): runs at the planned h1 and at h2 ~ h1/2 (--dt
 * h1/2; expm rounds to a whole number of steps per time unit), independent
 * noise seeds, then R0 ~= w R(h2) - (w - 1) R(h1) with w = h1 / (h1 - h2)
 * (2 for h2 = h1/2); standard errors add in quadrature with the weights:
 * se^2 = w^2 se2^2 + (w - 1)^2 se1^2.  Steps, samples and device time add
 * (the runs follow each other). */
int richardson(algo_run_fn fn, void *ctx, const tspu_algo_opts *o, tspu_algo_result *r, char *err, size_t len)
{
    tspu_algo_opts o1 = *o;
    o1.extrapolate = 0;
    tspu_algo_result r1;
    memset(r, 0, sizeof *r);
    int rc = fn(ctx, &o1, &r1, err, len);
    if (rc)
        return rc;
    tspu_algo_opts o2 = o1;
    o2.dt = 0.5 * r1.plan.h;
    o2.seed = o->seed ^ 0x5851f42d4c957f2dull; /* independent of run 1's chains */
    o2.samples = o->samples;
    rc = fn(ctx, &o2, r, err, len);
    if (rc) {
        tspu_algo_result_free(&r1);
        return rc;
    }
    const double h1 = r1.plan.h, h2 = r->plan.h;
    if (!(h2 < h1)) {
        tspu_algo_result_free(&r1);
        tspu_algo_result_free(r);
        return aerr(err, len, TSPU_ALGO_E_INPUT, "--extrapolate: the second step %.4g is not below the first %.4g", h2,
                    h1);
    }
    const double w = h1 / (h1 - h2);
    const size_t k = (size_t)r->rows * r->cols;
    double dmax = 0;
    for (size_t i = 0; i < k; i++) {
        dmax = fmax(dmax, fabs(r1.estimate[i] - r->estimate[i]));
        r->estimate[i] = w * r->estimate[i] - (w - 1) * r1.estimate[i];
        r->std_err[i] = sqrt(w * w * r->std_err[i] * r->std_err[i] + (w - 1) * (w - 1) * r1.std_err[i] * r1.std_err[i]);
        if (r->quant_err && r1.quant_err)
            r->quant_err[i] = w * r->quant_err[i] - (w - 1) * r1.quant_err[i];
    }
    r->samples += r1.samples;
    r->steps += r1.steps;
    r->device_seconds += r1.device_seconds;
    r->wall_seconds += r1.wall_seconds;
    r->flags |= r1.flags;
    /* the O(h) bias at h2 was about |R(h1) - R(h2)| (h2 / (h1 - h2)); what is
     * left is O(h^2): not estimated (bias_est: 0) */
    r->plan.bias_est = 0;
    size_t nl = strlen(r->plan.note);
    snprintf(r->plan.note + nl, sizeof r->plan.note - nl,
             "; Richardson: %.4g R(h=%.4g) - %.4g R(h=%.4g), max|R(h1) - R(h2)| %.3g (the O(h) bias removed)", w, h2,
             w - 1, h1, dmax);
    tspu_algo_result_free(&r1);
    return 0;
}
