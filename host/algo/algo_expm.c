/* algo_expm.c - exp(-A) from the lag autocovariance of streamed FIFO
 * samples.  For the OU process C(tau) = E[x(t+tau) x(t)^T] = exp(-A tau) S,
 * so exp(-A) = C(1) S^-1.  On the unit (EM, step h = 1/k, M = I - h A) the
 * lag-k autocovariance is exactly M^k S_d, so C(k) S_d^-1 = (I - hA)^k: the
 * only bias is (I - hA)^(1/h) - exp(-A) ~ -(h/2) A^2 exp(-A) (planned
 * below tol/2).  Error bars: batch means of the delta-method influence
 * (C_b - E S_b) S^-1.  docs/algorithms.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algo_internal.h"

typedef struct {
    unsigned n, nd, m;       /* lanes used, lanes per sample, lag in samples */
    uint64_t Lb;             /* samples per batch */
    unsigned K, cap;         /* batches started */
    double *S, *C;           /* per batch sums, K x n*n */
    uint64_t *cs, *cc;       /* per batch counts */
    uint64_t t;              /* samples seen in this chain */
    double ring[8][TSPU_N_MAX];
    unsigned have;           /* samples in the ring (since program start) */
    int nomem, cancelled;
    const tspu_algo_opts *o;
} acc_t;

static int acc_grow(acc_t *a, unsigned K)
{
    if (K <= a->cap)
        return 0;
    unsigned nc = a->cap ? 2 * a->cap : 64;
    while (nc < K)
        nc *= 2;
    const size_t nn = (size_t)a->n * a->n;
    double *S = realloc(a->S, sizeof(double) * nc * nn);
    if (!S)
        return -1;
    a->S = S;
    double *C = realloc(a->C, sizeof(double) * nc * nn);
    if (!C)
        return -1;
    a->C = C;
    uint64_t *cs = realloc(a->cs, sizeof(uint64_t) * nc), *cc;
    if (!cs)
        return -1;
    a->cs = cs;
    if (!(cc = realloc(a->cc, sizeof(uint64_t) * nc)))
        return -1;
    a->cc = cc;
    memset(a->S + a->cap * nn, 0, sizeof(double) * (nc - a->cap) * nn);
    memset(a->C + a->cap * nn, 0, sizeof(double) * (nc - a->cap) * nn);
    memset(a->cs + a->cap, 0, sizeof(uint64_t) * (nc - a->cap));
    memset(a->cc + a->cap, 0, sizeof(uint64_t) * (nc - a->cap));
    a->cap = nc;
    return 0;
}

static int on_samples(void *ctx, const int16_t *w, size_t count, unsigned wps)
{
    acc_t *a = ctx;
    const unsigned n = a->n;
    const size_t nn = (size_t)n * n;
    if (a->o->cancel && a->o->cancel(a->o->cancel_ctx)) {
        a->cancelled = 1;
        return -1; /* tspu_stream stops the unit */
    }
    for (size_t s = 0; s < count; s++) {
        const int16_t *x = w + s * wps;
        unsigned k = (unsigned)(a->t / a->Lb);
        if (k >= a->K) {
            if (acc_grow(a, k + 1)) {
                a->nomem = 1;
                return -1;
            }
            a->K = k + 1;
        }
        double *S = a->S + k * nn, *C = a->C + k * nn;
        double xv[TSPU_N_MAX];
        for (unsigned i = 0; i < n; i++)
            xv[i] = x[i];
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < n; j++)
                S[i * n + j] += xv[i] * xv[j];
        a->cs[k]++;
        if (a->have >= a->m) {
            const double *y = a->ring[(a->have - a->m) % 8];
            for (unsigned i = 0; i < n; i++)
                for (unsigned j = 0; j < n; j++)
                    C[i * n + j] += xv[i] * y[j];
            a->cc[k]++;
        }
        memcpy(a->ring[a->have % 8], xv, sizeof(double) * n);
        a->have++;
        a->t++;
    }
    return 0;
}

static int stream_program(sess *s, acc_t *a, uint64_t burnin, uint32_t thin, uint32_t ns, char *err, size_t len)
{
    s->cfg.burnin = (uint32_t)burnin;
    s->cfg.thin = thin;
    s->cfg.n_samples = ns;
    s->cfg.n_segments = 0;
    s->cfg.lambda_init = 0;
    s->cfg.sample_momentum = 0;
    int rc = tspu_configure(s->dev, &s->cfg, s->fifo_stall);
    if (!rc)
        rc = tspu_start(s->dev);
    if (rc)
        return dev_err(s, rc, err, len, "starting a program");
    a->have = 0; /* lag pairs never span two programs */
    rc = tspu_stream(s->dev, on_samples, a, 30000);
    if (a->nomem)
        return aerr(err, len, TSPU_E_NOMEM, "out of memory");
    if (a->cancelled)
        return aerr(err, len, TSPU_ALGO_E_CANCELLED, "interrupted: the unit was stopped");
    return sess_stream_end(s, rc,
                           "the unit dropped samples (FIFO full; no FIFO stall on this device): lag "
                           "pairs across a gap are wrong (flag fifo_overflow)",
                           err, len);
}

/* estimate E = C S^-1 and per-batch influence values Z_b (K x n*n) */
static int estimate(const acc_t *a, unsigned K, double ox, int symm, double *E, double *Z)
{
    const unsigned n = a->n;
    const size_t nn = (size_t)n * n;
    double S[TSPU_N_MAX * TSPU_N_MAX] = {0}, C[TSPU_N_MAX * TSPU_N_MAX] = {0}, Si[TSPU_N_MAX * TSPU_N_MAX];
    uint64_t ns = 0, nc = 0;
    for (unsigned k = 0; k < K; k++) {
        for (size_t q = 0; q < nn; q++) {
            S[q] += a->S[k * nn + q];
            C[q] += a->C[k * nn + q];
        }
        ns += a->cs[k];
        nc += a->cc[k];
    }
    if (ns < 2 || nc < 2)
        return -1;
    for (size_t q = 0; q < nn; q++) {
        S[q] = S[q] / ns * ox * ox;
        C[q] = C[q] / nc * ox * ox;
    }
    for (unsigned i = 0; i < n; i++)
        S[i * n + i] -= ox * ox / 12.0; /* Sheppard */
    if (symm)
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < i; j++)
                C[i * n + j] = C[j * n + i] = 0.5 * (C[i * n + j] + C[j * n + i]);
    if (la_inv(n, S, Si))
        return -1;
    la_mul(n, C, Si, E);
    for (unsigned k = 0; k < K; k++) {
        double Sb[TSPU_N_MAX * TSPU_N_MAX], Cb[TSPU_N_MAX * TSPU_N_MAX], T[TSPU_N_MAX * TSPU_N_MAX];
        double fs = a->cs[k] ? ox * ox / a->cs[k] : 0, fc = a->cc[k] ? ox * ox / a->cc[k] : 0;
        for (size_t q = 0; q < nn; q++) {
            Sb[q] = a->S[k * nn + q] * fs;
            Cb[q] = a->C[k * nn + q] * fc;
        }
        for (unsigned i = 0; i < n; i++)
            Sb[i * n + i] -= ox * ox / 12.0;
        if (symm)
            for (unsigned i = 0; i < n; i++)
                for (unsigned j = 0; j < i; j++)
                    Cb[i * n + j] = Cb[j * n + i] = 0.5 * (Cb[i * n + j] + Cb[j * n + i]);
        la_mul(n, E, Sb, T);
        for (size_t q = 0; q < nn; q++)
            Cb[q] -= T[q];
        la_mul(n, Cb, Si, Z + k * nn);
        for (size_t q = 0; q < nn; q++)
            Z[k * nn + q] += E[q]; /* centred on E: batch_stats gives E and its se */
    }
    if (symm) {
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < i; j++)
                E[i * n + j] = E[j * n + i] = 0.5 * (E[i * n + j] + E[j * n + i]);
        for (unsigned k = 0; k < K; k++) {
            double *z = Z + k * nn;
            for (unsigned i = 0; i < n; i++)
                for (unsigned j = 0; j < i; j++)
                    z[i * n + j] = z[j * n + i] = 0.5 * (z[i * n + j] + z[j * n + i]);
        }
    }
    return 0;
}

/* one chain: its accumulators and progress */
typedef struct {
    acc_t a;
    int started;
    uint64_t done; /* samples streamed */
    double A_eff[TSPU_N_MAX * TSPU_N_MAX];
} echain;

typedef struct {
    unsigned n;
    const double *A;
    double beta, h, range;
    int integ, mitigate;
    uint32_t thin;
    uint64_t burnin, total; /* total: samples per chain */
    echain *ch;
    int stop;
} erun;

static void acc_reset(acc_t *a)
{
    a->K = 0;
    a->t = 0;
    a->have = 0;
    if (a->cap) {
        const size_t nn = (size_t)a->n * a->n;
        memset(a->S, 0, sizeof(double) * a->cap * nn);
        memset(a->C, 0, sizeof(double) * a->cap * nn);
        memset(a->cs, 0, sizeof(uint64_t) * a->cap);
        memset(a->cc, 0, sizeof(uint64_t) * a->cap);
    }
}

static void acc_free(acc_t *a)
{
    free(a->S);
    free(a->C);
    free(a->cs);
    free(a->cc);
    a->S = a->C = NULL;
    a->cs = a->cc = NULL;
    a->cap = a->K = 0;
}

/* whole batches of a chain (a trailing partial batch is dropped) */
static unsigned acc_whole(const acc_t *a)
{
    unsigned K = a->K;
    if (K > 1 && a->cs[K - 1] < a->Lb)
        K--;
    return K;
}

/* append the whole batches of src to dst */
static int acc_append(acc_t *dst, const acc_t *src)
{
    const unsigned K = acc_whole(src), K0 = dst->K;
    const size_t nn = (size_t)dst->n * dst->n;
    if (acc_grow(dst, K0 + K))
        return -1;
    memcpy(dst->S + K0 * nn, src->S, sizeof(double) * K * nn);
    memcpy(dst->C + K0 * nn, src->C, sizeof(double) * K * nn);
    memcpy(dst->cs + K0, src->cs, sizeof(uint64_t) * K);
    memcpy(dst->cc + K0, src->cc, sizeof(uint64_t) * K);
    dst->K = K0 + K;
    return 0;
}

/* chain c: a fresh start (its own rounding with --mitigate, seed + c, zero
 * state, burn-in) unless started (chain 0 after the pilot), then samples up
 * to m->total */
static int e_chain(sess *s, unsigned c, void *ctx, char *err, size_t len)
{
    erun *m = ctx;
    echain *ch = &m->ch[c];
    int rc;
    if (!ch->started) {
        sess_chain_rng(s, c);
        if ((rc = sess_map(s, m->A, NULL, NULL, m->beta, m->h, m->integ, m->range, m->mitigate, err, len)))
            return rc;
        if ((rc = sess_load(s, s->o->seed + c, err, len)))
            return rc;
        for (unsigned i = 0; i < m->n; i++)
            for (unsigned j = 0; j < m->n; j++)
                ch->A_eff[i * m->n + j] = s->mp.A_eff[0][i * s->nd + j];
        acc_reset(&ch->a);
        ch->done = 0;
        ch->started = 1;
    }
    while (ch->done < m->total) {
        if (chain_stopped(&m->stop))
            return 0;
        uint64_t ns = m->total - ch->done > 0xffffffffull ? 0xffffffffull : m->total - ch->done;
        rc = stream_program(s, &ch->a, ch->done == 0 ? m->burnin : 0, m->thin, (uint32_t)ns, err, len);
        if (rc)
            return rc;
        ch->done += ns;
    }
    return 0;
}

static int expm_run(tspu_dev *dev, unsigned n, const double *A, const tspu_algo_opts *o, tspu_algo_result *r,
                    char *err, size_t len);
typedef struct {
    tspu_dev *dev;
    unsigned n;
    const double *A;
} expm_args;
static int expm_fn(void *ctx, const tspu_algo_opts *o, tspu_algo_result *r, char *err, size_t len)
{
    expm_args *a = ctx;
    return expm_run(a->dev, a->n, a->A, o, r, err, len);
}

int tspu_algo_expm(tspu_dev *dev, unsigned n, const double *A, const tspu_algo_opts *o, tspu_algo_result *r,
                   char *err, size_t len)
{
    if (!o->extrapolate)
        return expm_run(dev, n, A, o, r, err, len);
    expm_args a = {dev, n, A};
    return richardson(expm_fn, &a, o, r, err, len);
}

static int expm_run(tspu_dev *dev, unsigned n, const double *A, const tspu_algo_opts *o, tspu_algo_result *r,
                    char *err, size_t len)
{
    memset(r, 0, sizeof *r);
    int rc = tspu_algo_check_stable(n, A, err, len);
    if (rc)
        return rc;
    double wr[TSPU_N_MAX], wi[TSPU_N_MAX];
    la_eig(n, A, wr, wi);
    double remin = INFINITY, absmax = 0, hlim = INFINITY, bmax = 0;
    for (unsigned i = 0; i < n; i++) {
        double a2 = wr[i] * wr[i] + wi[i] * wi[i];
        remin = fmin(remin, wr[i]);
        absmax = fmax(absmax, sqrt(a2));
        hlim = fmin(hlim, 2.0 * wr[i] / a2);
        bmax = fmax(bmax, a2 * exp(-wr[i]));
    }
    double asym = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < i; k++)
            asym = fmax(asym, fabs(A[i * n + k] - A[k * n + i]));
    const int symm = asym <= 1e-12 * la_maxabs((size_t)n * n, A);
    sess s;
    if ((rc = sess_open(&s, dev, o, n, err, len)))
        return rc;
    int integ = o->integrator < 0 ? TSPU_INT_EM : o->integrator;
    if (integ != TSPU_INT_EM) {
        alog(o, TSPU_ALGO_LOG_WARN, "expm: C(k) S^-1 = (I - hA)^k holds for EM only; using EM");
        integ = TSPU_INT_EM;
    }
    /* step: bias |(h/2) l^2 e^-l| <= tol/2 * e^-Re(l_min) (the largest
     * eigenvalue of exp(-A)); stability margins h |l|max <= 0.5, h <= h_lim/4 */
    double h = o->dt > 0 ? o->dt : fmin(fmin(0.5 / absmax, 0.25 * hlim), o->tol * exp(-remin) / bmax);
    unsigned mlag = 4, thin, k;
    {
        double kd = ceil(1.0 / h);
        if (kd > 1e8)
            return aerr(err, len, TSPU_ALGO_E_INPUT, "expm: the step %.3g needs %.3g steps per time unit (too many)",
                        h, kd);
        k = (unsigned)kd;
        if (o->thin) {
            thin = o->thin;
            k = ((k + thin - 1) / thin) * thin;
            mlag = k / thin;
        } else if (k < mlag) {
            thin = 1;
            mlag = k;
        } else {
            thin = (k + mlag - 1) / mlag;
            k = thin * mlag;
        }
        if (mlag > 8)
            return aerr(err, len, TSPU_ALGO_E_INPUT, "expm: --thin %u leaves a lag of %u samples (at most 8)", thin, mlag);
        h = 1.0 / k;
    }
    const double bias = 0.5 * h * bmax;
    const double beta = o->beta > 0 ? o->beta : 1.0;
    double Ms[TSPU_N_MAX * TSPU_N_MAX], Lm[TSPU_N_MAX * TSPU_N_MAX];
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++)
            Ms[i * n + j] = 0.5 * (A[i * n + j] + A[j * n + i]);
    double var = !la_chol(n, Ms, Lm) ? fmin(n / (beta * la_lambda_min_spd(n, Lm) / 1.05), 4.0 * n / (beta * remin))
                                     : 4.0 / (beta * remin);
    double range = 8.0 * sqrt(var * 1.1);
    const double relax = 1.0 / (h * remin);
    const double z = tspu_algo_z(o->confidence);
    uint64_t burnin = o->burnin_set ? o->burnin : (uint64_t)ceil(12 * relax) + 200;
    if (burnin > 0xffffffffull)
        burnin = 0xffffffffull;
    uint64_t Lb = (uint64_t)ceil(50.0 * relax / thin);
    if (Lb < 200)
        Lb = 200;
    unsigned C = plan_chains(o);
    if (o->mitigate && C < 4) {
        alog(o, TSPU_ALGO_LOG_WARN, "--mitigate pools chains with independently rounded couplings: using 4 chains");
        C = 4;
    }
    unsigned K0 = o->batches ? o->batches : 50, Kc_fixed = 0;
    if (o->samples) {
        unsigned Kt = o->batches ? o->batches : 50;
        Kc_fixed = (Kt + C - 1) / C;
        Lb = o->samples / ((uint64_t)Kc_fixed * C) ? o->samples / ((uint64_t)Kc_fixed * C) : 1;
    }
    echain *ch = calloc(C, sizeof *ch);
    acc_t all;
    memset(&all, 0, sizeof all);
    all.n = n;
    all.Lb = Lb;
    spool pool = {.D = 1, .s = {&s}};
    unsigned attempt = 0;
    double *E = malloc(sizeof(double) * n * n);
    double *Z = NULL;
    erun m = {.n = n, .A = A, .beta = beta, .h = h, .integ = integ, .mitigate = o->mitigate, .thin = thin,
              .burnin = burnin, .ch = ch};
    if (!E || !ch) {
        rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
        goto out;
    }
    for (unsigned c = 0; c < C; c++) {
        ch[c].a.n = n;
        ch[c].a.o = o;
        ch[c].a.m = mlag;
        ch[c].a.Lb = Lb;
    }
    if ((rc = pool_open(&pool, &s, err, len)))
        goto out;
    for (;;) {
        for (unsigned c = 0; c < C; c++)
            ch[c].started = 0;
        m.range = range;
        m.stop = 0;
        int sat = 0;
        if (Kc_fixed) {
            m.total = (uint64_t)Kc_fixed * Lb;
        } else {
            /* pilot: chain 0 on device 0, then the plan */
            m.total = (uint64_t)K0 * Lb;
            rc = e_chain(&s, 0, &m, err, len);
            if (rc < 0)
                goto out;
            sat = rc == 1;
            rc = 0;
            if (!sat) {
                acc_t *a = &ch[0].a;
                Z = realloc(Z, sizeof(double) * a->K * n * n);
                double *mu = malloc(sizeof(double) * 2 * n * n);
                if (!Z || !mu || estimate(a, a->K, s.mp.op_x, symm, E, Z)) {
                    free(mu);
                    rc = aerr(err, len, TSPU_E_NOMEM, "expm: estimate failed (out of memory or singular covariance)");
                    goto out;
                }
                batch_stats(a->K, n * n, Z, mu, mu + n * n);
                double scale = la_maxabs((size_t)n * n, mu), semax = la_maxabs((size_t)n * n, mu + n * n);
                double target = o->tol * scale / z;
                double need = ceil(a->K * (semax / target) * (semax / target));
                free(mu);
                double cost = need * Lb * thin;
                if (cost > (double)o->max_steps) {
                    need = floor((double)o->max_steps / ((double)Lb * thin));
                    r->flags |= TSPU_ALGO_FLAG_TRUNCATED;
                    alog(o, TSPU_ALGO_LOG_WARN, "expm: tol %.3g needs more than max_steps: running %.0f batches", o->tol,
                         need);
                }
                double kc = ceil(need / C); /* per chain, at least the pilot's */
                if (kc < a->K)
                    kc = a->K;
                alog(o, TSPU_ALGO_LOG_PLAN, "expm pilot: %u batches, max stderr %.3g vs target %.3g: %u chain(s) x %.0f "
                     "batches", a->K, semax, target, C, kc);
                m.total = (uint64_t)kc * Lb;
            }
        }
        if ((rc = run_attempt(&pool, C, e_chain, &m, &m.stop, &sat, err, len)) < 0)
            goto out;
        if (!sat)
            break;
        if (attempt >= o->max_retries) {
            r->flags |= TSPU_ALGO_FLAG_SATURATED;
            alog(o, TSPU_ALGO_LOG_WARN, "expm: the unit still saturates after %u retries (flag saturated)", attempt);
            break;
        }
        note_retry(o, &r->flags, "x_range", &range);
        attempt++;
    }
    /* pool: every chain's whole batches, in chain order */
    for (unsigned c = 0; c < C; c++)
        if (acc_append(&all, &ch[c].a)) {
            rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
            goto out;
        }
    {
        unsigned K = all.K;
        Z = realloc(Z, sizeof(double) * (K ? K : 1) * n * n);
        r->estimate = malloc(sizeof(double) * n * n);
        r->std_err = malloc(sizeof(double) * n * n);
        r->quant_err = calloc((size_t)n * n, sizeof(double));
        r->A_eff = malloc(sizeof(double) * n * n);
        if (!Z || !r->estimate || !r->std_err || !r->quant_err || !r->A_eff ||
            estimate(&all, K, s.mp.op_x, symm, E, Z)) {
            rc = aerr(err, len, TSPU_E_NOMEM, "expm: estimate failed (out of memory or singular covariance)");
            goto out;
        }
        double *mu = r->estimate;
        batch_stats(K, n * n, Z, mu, r->std_err);
        memcpy(r->estimate, E, sizeof(double) * n * n);
        if (o->mitigate) {
            /* chains carry different rounding errors (batches of one chain
             * share theirs): error bars also from the spread of the chain
             * estimates C_c S_c^-1, the larger of the two per entry */
            double *Ec = malloc(sizeof(double) * C * n * n), *Zc = NULL, *t = malloc(sizeof(double) * 2 * n * n);
            unsigned used = 0;
            for (unsigned c = 0; Ec && t && c < C; c++) {
                unsigned Kc = acc_whole(&ch[c].a);
                double *zz = Kc ? realloc(Zc, sizeof(double) * Kc * n * n) : NULL;
                if (!zz)
                    continue;
                Zc = zz;
                if (!estimate(&ch[c].a, Kc, s.mp.op_x, symm, Ec + (size_t)used * n * n, Zc))
                    used++;
            }
            if (used >= 2) {
                batch_stats(used, n * n, Ec, t, t + n * n);
                for (unsigned q = 0; q < n * n; q++)
                    r->std_err[q] = fmax(r->std_err[q], t[n * n + q]);
            }
            free(Ec);
            free(Zc);
            free(t);
        }
        memcpy(r->A_eff, ch[0].A_eff, sizeof(double) * n * n);
        r->samples = (uint64_t)K * all.Lb;
        r->plan.n = n;
        r->plan.n_dev = s.nd;
        r->plan.integrator = integ;
        r->plan.h = h;
        r->plan.beta = beta;
        r->plan.lambda_min = remin;
        r->plan.lambda_max = absmax;
        r->plan.relax_steps = relax;
        r->plan.burnin = burnin;
        r->plan.thin = thin;
        r->plan.chains = C;
        r->plan.batches = C ? K / C : K;
        r->plan.batch_samples = all.Lb;
        r->plan.x_range = range;
        r->plan.z = z;
        r->plan.retries = attempt;
        r->plan.lag_steps = k;
        r->plan.bias_est = bias;
        snprintf(r->plan.note, sizeof r->plan.note,
                 "estimator: C(k) S^-1 = (I - hA)^k with k = 1/h = %u (lag %u samples), pooled over %u chain(s)%s; bias ~ "
                 "(h/2) max|l^2 e^-l| = %.2g absolute, not in std_err", k, mlag, C,
                 o->mitigate ? " with stochastically rounded A" : "", bias);
        pool_close(&pool);
        fill_result_common(r, &s, n, n);
        if (s.last_flags & TSPU_FLAG_SATURATED)
            r->flags |= TSPU_ALGO_FLAG_SATURATED;
        alog(o, TSPU_ALGO_LOG_PLAN,
             "expm: N=%u, EM, h=%.4g, Re lambda in [%.4g, ...], |lambda| <= %.4g, relaxation %.0f steps, burn-in %llu, "
             "thin %u, %u batches x %llu samples, x_range %.4g; %s",
             n, h, remin, absmax, relax, (unsigned long long)burnin, thin, K, (unsigned long long)all.Lb, range,
             r->plan.note);
    }
out:
    pool_close(&pool);
    free(E);
    free(Z);
    if (ch)
        for (unsigned c = 0; c < C; c++)
            acc_free(&ch[c].a);
    free(ch);
    acc_free(&all);
    return rc;
}
