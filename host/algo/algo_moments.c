/* algo_moments.c - solve, inv and lyap: estimators built from the unit's
 * moment accumulators, one program per batch (batch means), a pilot run
 * that plans the number of batches from --tol/--confidence, saturation
 * retries with a wider range, chains and error mitigation.
 * docs/algorithms.md has the estimators and the planning rules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algo_internal.h"

typedef enum { K_MEAN, K_COV } mkind;

typedef struct {
    mkind kind;
    const double *A, *b; /* what runs on the unit (n x n, n) */
    double beta, h;
    int integ;
    double range;        /* initial x_range */
    double relax;        /* slowest relaxation time, steps */
    int need_spd;        /* quantised A must stay SPD (else: stable) */
    double scale_floor;  /* a-priori lower bound of max|answer| (0: none) */
    int no_extend;       /* the answer is known to be 0: pilot only */
    /* per-batch transform of the covariance (n x n, in place) */
    void (*post)(void *ctx, const double *A_eff, double *c);
    void *post_ctx;
} mjob;

typedef struct {
    unsigned cap, K;      /* batches stored */
    unsigned n;
    double *mean, *raw2;  /* K x n, K x n*n */
    unsigned *chain;      /* chain of each batch */
} mstore;

static int ms_push(mstore *m, unsigned chain, const double *mean, const double *raw2)
{
    if (m->K == m->cap) {
        unsigned nc = m->cap ? 2 * m->cap : 64;
        double *a = realloc(m->mean, sizeof(double) * nc * m->n);
        if (!a)
            return -1;
        m->mean = a;
        double *b = realloc(m->raw2, sizeof(double) * nc * m->n * m->n);
        if (!b)
            return -1;
        m->raw2 = b;
        unsigned *c = realloc(m->chain, sizeof(unsigned) * nc);
        if (!c)
            return -1;
        m->chain = c;
        m->cap = nc;
    }
    memcpy(m->mean + (size_t)m->K * m->n, mean, sizeof(double) * m->n);
    memcpy(m->raw2 + (size_t)m->K * m->n * m->n, raw2, sizeof(double) * m->n * m->n);
    m->chain[m->K] = chain;
    m->K++;
    return 0;
}

/* merge consecutive groups of g batches (equal lengths: plain averages) */
static void ms_merge(mstore *m, unsigned g)
{
    const unsigned n = m->n, K = m->K / g;
    for (unsigned k = 0; k < K; k++) {
        double mean[TSPU_N_MAX] = {0}, *raw2 = calloc((size_t)n * n, sizeof(double));
        if (!raw2)
            return;
        for (unsigned q = 0; q < g; q++) {
            const unsigned src = k * g + q;
            for (unsigned i = 0; i < n; i++)
                mean[i] += m->mean[(size_t)src * n + i] / g;
            for (unsigned i = 0; i < n * n; i++)
                raw2[i] += m->raw2[(size_t)src * n * n + i] / g;
        }
        memcpy(m->mean + (size_t)k * n, mean, sizeof(double) * n);
        memcpy(m->raw2 + (size_t)k * n * n, raw2, sizeof(double) * n * n);
        m->chain[k] = m->chain[k * g];
        free(raw2);
    }
    m->K = K;
}

static void ms_free(mstore *m)
{
    free(m->mean);
    free(m->raw2);
    free(m->chain);
    memset(m, 0, sizeof *m);
}

/* per-batch values of the estimator (K x m) */
static double *ms_values(const mstore *ms, const mjob *j, const double *A_eff, unsigned *m_out)
{
    const unsigned n = ms->n, K = ms->K;
    const unsigned m = j->kind == K_MEAN ? n : n * n;
    double *v = malloc(sizeof(double) * K * m);
    if (!v)
        return NULL;
    if (j->kind == K_MEAN) {
        memcpy(v, ms->mean, sizeof(double) * K * n);
    } else {
        double gm[TSPU_N_MAX] = {0};
        for (unsigned k = 0; k < K; k++)
            for (unsigned i = 0; i < n; i++)
                gm[i] += ms->mean[k * n + i] / K;
        for (unsigned k = 0; k < K; k++) {
            const double *mk = ms->mean + (size_t)k * n, *r2 = ms->raw2 + (size_t)k * n * n;
            double *c = v + (size_t)k * m;
            for (unsigned a = 0; a < n; a++)
                for (unsigned b = 0; b < n; b++)
                    c[a * n + b] = r2[a * n + b] - mk[a] * gm[b] - gm[a] * mk[b] + gm[a] * gm[b];
            if (j->post)
                j->post(j->post_ctx, A_eff, c);
        }
    }
    *m_out = m;
    return v;
}

/* one program: burnin, then L kept samples (every thin-th step); appends a batch */
static int run_batch(sess *s, uint64_t burnin, uint32_t L, uint32_t thin, unsigned chain, mstore *ms, char *err,
                     size_t len)
{
    s->cfg.burnin = (uint32_t)burnin;
    s->cfg.thin = thin;
    s->cfg.n_samples = L;
    s->cfg.n_segments = 0;
    s->cfg.lambda_init = 0;
    int rc = sess_run(s, err, len);
    if (rc)
        return rc;
    if (s->last_flags & TSPU_FLAG_SATURATED)
        return 1;
    tspu_moments mom;
    if ((rc = tspu_read_moments(s->dev, &mom)))
        return dev_err(s, rc, err, len, "reading moments");
    const unsigned n = s->n, nd = s->nd;
    const double cnt = (double)mom.count, ox = s->mp.op_x;
    double mean[TSPU_N_MAX], raw2[TSPU_N_MAX * TSPU_N_MAX];
    for (unsigned i = 0; i < n; i++)
        mean[i] = (double)mom.sum[i] / cnt * ox;
    for (unsigned i = 0; i < n; i++)
        for (unsigned jj = i; jj < n; jj++) {
            unsigned k = i * nd - i * (i - 1) / 2 + (jj - i);
            double v = (double)mom.sumsq[k] / cnt;
            if (i == jj)
                v -= 1.0 / 12.0; /* Sheppard: operand rounding */
            raw2[i * n + jj] = raw2[jj * n + i] = v * ox * ox;
        }
    return ms_push(ms, chain, mean, raw2) ? aerr(err, len, TSPU_E_NOMEM, "out of memory") : 0;
}

static int check_quantised(sess *s, const mjob *j, char *err, size_t len)
{
    const unsigned n = s->n;
    double Aq[TSPU_N_MAX * TSPU_N_MAX];
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < n; k++)
            Aq[i * n + k] = s->mp.A_eff[0][i * s->nd + k];
    char e2[160];
    if (j->need_spd ? tspu_algo_check_spd(n, Aq, e2, sizeof e2) : tspu_algo_check_stable(n, Aq, e2, sizeof e2))
        return aerr(err, len, TSPU_ALGO_E_INPUT,
                    "A cannot be represented with 16-bit couplings: after quantisation it is no longer %s "
                    "(condition number too large for the format)",
                    j->need_spd ? "positive definite" : "stable");
    return 0;
}

static void copy_aeff(const sess *s, double *dst)
{
    for (unsigned i = 0; i < s->n; i++)
        for (unsigned k = 0; k < s->n; k++)
            dst[i * s->n + k] = s->mp.A_eff[0][i * s->nd + k];
}

/* the chains of one attempt (one mstore per chain: pooled in chain order,
 * so the answer does not depend on how chains are spread over devices) */
typedef struct {
    const mjob *j;
    double range;
    uint64_t burnin;
    uint32_t L, thin;
    unsigned Kc;    /* batches per chain */
    mstore *ms;     /* C stores */
    double *A_eff0; /* chain 0's quantised A */
    int stop;
} mrun;

/* chain c: a fresh start (its own rounding with --mitigate, seed + c, zero
 * state, burn-in) unless it has batches already (chain 0 after the pilot) */
static int m_chain(sess *s, unsigned c, void *ctx, char *err, size_t len)
{
    mrun *m = ctx;
    const tspu_algo_opts *o = s->o;
    const mjob *j = m->j;
    mstore *ms = &m->ms[c];
    int rc;
    if (ms->K == 0) {
        sess_chain_rng(s, c);
        if ((rc = sess_map(s, j->A, NULL, j->b, j->beta, j->h, j->integ, m->range, o->mitigate, err, len)) ||
            (rc = check_quantised(s, j, err, len)))
            return rc;
        if (c == 0)
            copy_aeff(s, m->A_eff0);
        if ((rc = sess_load(s, o->seed + c, err, len)))
            return rc;
    }
    for (unsigned k = ms->K; k < m->Kc; k++) {
        if (chain_stopped(&m->stop))
            return 0;
        if ((rc = run_batch(s, k == 0 ? m->burnin : 0, m->L, m->thin, c, ms, err, len)))
            return rc;
    }
    return 0;
}

/* the pilot (chain 0's first K0 batches) -> batches per chain; may merge the
 * pilot's batches and lengthen m->L */
static int plan_from_pilot(const tspu_algo_opts *o, const mjob *j, mrun *m, unsigned C, unsigned K0, double z,
                           tspu_algo_result *r, char *err, size_t len)
{
    mstore *ms0 = &m->ms[0];
    unsigned mm;
    double *v = ms_values(ms0, j, m->A_eff0, &mm);
    double *mu = v ? malloc(sizeof(double) * mm * 2) : NULL;
    if (!v || !mu) {
        free(v);
        return aerr(err, len, TSPU_E_NOMEM, "out of memory");
    }
    batch_stats(ms0->K, mm, v, mu, mu + mm);
    double scale = fmax(la_maxabs(mm, mu), j->scale_floor), semax = la_maxabs(mm, mu + mm);
    if (j->no_extend)
        scale = INFINITY; /* b = 0: x = 0, a relative tol means nothing */
    double target = o->tol * scale / z;
    double need = target > 0 && isfinite(target) ? ceil(K0 * (semax / target) * (semax / target)) : K0;
    free(v);
    free(mu);
    const uint32_t L = m->L, thin = m->thin;
    const uint64_t burnin = m->burnin;
    double kc = ceil(need / C);
    if (kc < K0)
        kc = K0;
    if (kc * C < 20)
        kc = ceil(20.0 / C);
    double total = kc * C * (double)L * thin + C * (double)burnin;
    if (total > (double)o->max_steps) {
        kc = floor(((double)o->max_steps - C * (double)burnin) / ((double)C * L * thin));
        if (kc < K0)
            kc = K0;
        r->flags |= TSPU_ALGO_FLAG_TRUNCATED;
        alog(o, TSPU_ALGO_LOG_WARN, "the plan for tol %.3g needs %.3g steps, above max_steps %.3g: running %.0f batches",
             o->tol, need * L * (double)thin, (double)o->max_steps, kc * C);
    }
    /* at most ~200 programs per chain (each costs link transactions): longer
     * batches instead, the pilot's batches merged in groups of g (g divides
     * K0 or is a multiple of it, so every batch has the same length) */
    if (kc > 200 && !o->batches) {
        unsigned g = 0;
        static const unsigned gs[] = {2, 5, 10, 25, 50};
        for (unsigned t = 0; t < 5 && !g; t++)
            if (ceil(kc / gs[t]) <= 200 && (double)L * gs[t] <= 4294967295.0)
                g = gs[t];
        if (g) {
            ms_merge(ms0, g);
            m->L = L * g;
            kc = ceil(kc / g);
            if (kc < ms0->K)
                kc = ms0->K;
        }
    }
    m->Kc = (unsigned)kc;
    alog(o, TSPU_ALGO_LOG_PLAN,
         "plan: pilot of %u batches gave max stderr %.3g vs target %.3g (tol %.3g of max|est| %.3g, z %.3f): %u "
         "chain(s) x %u batches x %u samples (thin %u)",
         K0, semax, target, o->tol, scale, z, C, m->Kc, m->L, thin);
    return 0;
}

/* the driver: returns 0 and fills r (estimate, std_err, plan, counters) */
static int run_moments(sess *s, const mjob *j, tspu_algo_result *r, char *err, size_t len)
{
    const tspu_algo_opts *o = s->o;
    const unsigned n = s->n;
    const double z = tspu_algo_z(o->confidence);
    unsigned C = plan_chains(o);
    if (o->mitigate && C < 4) {
        alog(o, TSPU_ALGO_LOG_WARN, "--mitigate pools chains with independently rounded couplings: using 4 chains");
        C = 4;
    }
    /* thin 1 by default: the moment accumulators see every step for free,
     * so thinning would only discard information; --thin is honoured */
    const uint32_t thin = o->thin ? o->thin : 1;
    double Lr = ceil(50.0 * j->relax / thin);
    if (Lr < 500.0 / thin)
        Lr = ceil(500.0 / thin);
    unsigned K0 = o->batches ? o->batches : 50;
    uint64_t burnin = o->burnin_set ? o->burnin : (uint64_t)ceil(12.0 * j->relax) + 200;
    unsigned Kc_fixed = 0;
    if (o->samples) {
        unsigned Kt = o->batches ? o->batches * C : 50;
        if (Kt < 20)
            Kt = 20;
        Kc_fixed = (Kt + C - 1) / C;
        Lr = floor((double)o->samples / ((double)Kc_fixed * C));
        if (Lr < 1)
            Lr = 1;
    }
    if (Lr > 4294967295.0)
        Lr = 4294967295.0;
    if (burnin > 0xffffffffull)
        burnin = 0xffffffffull;
    double range = j->range;
    double *A_eff0 = malloc(sizeof(double) * n * n);
    mstore *ms = calloc(C, sizeof *ms);
    mstore all = {.n = n};
    spool pool = {.D = 1, .s = {s}};
    int rc = 0;
    unsigned attempt;
    mrun m = {.j = j, .thin = thin, .burnin = burnin, .ms = ms, .A_eff0 = A_eff0};
    if (!A_eff0 || !ms) {
        rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
        goto out;
    }
    for (unsigned c = 0; c < C; c++)
        ms[c].n = n;
    if ((rc = pool_open(&pool, s, err, len)))
        goto out;
    for (attempt = 0;; attempt++) {
        for (unsigned c = 0; c < C; c++)
            ms[c].K = 0;
        int sat = 0;
        m.stop = 0;
        m.range = range;
        m.L = (uint32_t)Lr;
        m.Kc = Kc_fixed ? Kc_fixed : K0;
        if (!Kc_fixed) {
            /* pilot on device 0, then every chain (chain 0 goes on) */
            rc = m_chain(s, 0, &m, err, len);
            if (rc < 0)
                goto out;
            sat = rc == 1;
            rc = 0;
            if (!sat && (rc = plan_from_pilot(o, j, &m, C, K0, z, r, err, len)))
                goto out;
        }
        if ((rc = run_attempt(&pool, C, m_chain, &m, &m.stop, &sat, err, len)) < 0)
            goto out;
        if (!sat)
            break;
        if (attempt >= o->max_retries) {
            r->flags |= TSPU_ALGO_FLAG_SATURATED;
            alog(o, TSPU_ALGO_LOG_WARN, "the unit still saturates with x_range %.4g after %u retries: the answer is not "
                 "a faithful sample (flag saturated)", range, attempt);
            /* finish the run at this range so that there is an answer */
            break;
        }
        note_retry(o, &r->flags, "x_range", &range);
    }
    const uint32_t L = m.L;
    /* pool the chains in chain order (as one device would run them) */
    for (unsigned c = 0; c < C; c++)
        for (unsigned k = 0; k < ms[c].K; k++)
            if (ms_push(&all, c, ms[c].mean + (size_t)k * n, ms[c].raw2 + (size_t)k * n * n)) {
                rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
                goto out;
            }
    if (r->flags & TSPU_ALGO_FLAG_SATURATED && all.K < 2) {
        rc = aerr(err, len, TSPU_E_SATURATED, "the unit saturated in every attempt (x_range up to %.4g)", range);
        goto out;
    }
    {
        unsigned mm;
        double *v = ms_values(&all, j, A_eff0, &mm);
        r->estimate = calloc(mm, sizeof(double));
        r->std_err = calloc(mm, sizeof(double));
        r->quant_err = calloc(mm, sizeof(double));
        if (!v || !r->estimate || !r->std_err || !r->quant_err) {
            free(v);
            rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
            goto out;
        }
        batch_stats(all.K, mm, v, r->estimate, r->std_err);
        if (o->mitigate) {
            /* chains carry different rounding errors: error bars from the
             * spread of the chain means (each chain: its own batch mean) */
            double *cm = calloc((size_t)C * mm, sizeof(double)), *t = malloc(sizeof(double) * mm);
            unsigned *cnt = calloc(C, sizeof(unsigned));
            if (cm && t && cnt) {
                for (unsigned k = 0; k < all.K; k++) {
                    cnt[all.chain[k]]++;
                    for (unsigned q = 0; q < mm; q++)
                        cm[(size_t)all.chain[k] * mm + q] += v[(size_t)k * mm + q];
                }
                for (unsigned c = 0; c < C; c++)
                    for (unsigned q = 0; q < mm; q++)
                        cm[(size_t)c * mm + q] /= cnt[c] ? cnt[c] : 1;
                double *se2 = malloc(sizeof(double) * mm);
                if (se2) {
                    batch_stats(C, mm, cm, t, se2);
                    for (unsigned q = 0; q < mm; q++)
                        r->std_err[q] = fmax(r->std_err[q], se2[q]);
                    free(se2);
                }
            }
            free(cm);
            free(t);
            free(cnt);
        }
        free(v);
        r->samples = (uint64_t)all.K * L;
    }
    r->A_eff = A_eff0;
    A_eff0 = NULL;
    r->plan.n = n;
    r->plan.n_dev = s->nd;
    r->plan.integrator = j->integ;
    r->plan.h = j->h;
    r->plan.beta = j->beta;
    r->plan.relax_steps = j->relax;
    r->plan.burnin = burnin;
    r->plan.thin = thin;
    r->plan.chains = C;
    r->plan.batches = m.Kc;
    r->plan.batch_samples = L;
    r->plan.x_range = range;
    r->plan.z = z;
    r->plan.retries = attempt;
    if (s->last_flags & TSPU_FLAG_SATURATED)
        r->flags |= TSPU_ALGO_FLAG_SATURATED;
out:
    pool_close(&pool);
    free(A_eff0);
    if (ms)
        for (unsigned c = 0; c < C; c++)
            ms_free(&ms[c]);
    free(ms);
    ms_free(&all);
    return rc;
}

static void log_plan(const tspu_algo_opts *o, const char *what, const tspu_algo_result *r)
{
    const tspu_algo_plan *p = &r->plan;
    static const char *names[] = {"EM", "LM", "UD"};
    alog(o, TSPU_ALGO_LOG_PLAN,
         "%s: N=%u (device %u lanes), %s, h=%.4g, beta=%.4g, lambda in [%.4g, %.4g], relaxation %.0f steps, burn-in "
         "%llu, %u chain(s) x %u batches x %llu samples (thin %u), x_range %.4g, %u saturation retries%s%s",
         what, p->n, p->n_dev, names[p->integrator % 3], p->h, p->beta, p->lambda_min, p->lambda_max, p->relax_steps,
         (unsigned long long)p->burnin, p->chains, p->batches, (unsigned long long)p->batch_samples, p->thin,
         p->x_range, p->retries, p->note[0] ? "; " : "", p->note);
}

/* ---- SPD front end: checks, spectrum, h, relaxation ---------------------------- */
typedef struct {
    double L[TSPU_N_MAX * TSPU_N_MAX];
    double lmin, lmax, h;
    int integ;
} spd_plan;

static int spd_front(unsigned n, const double *A, const tspu_algo_opts *o, spd_plan *p, char *err, size_t len)
{
    int rc = tspu_algo_check_spd(n, A, err, len);
    if (rc)
        return rc;
    la_chol(n, A, p->L);
    p->lmax = la_lambda_max_sym(n, A) * 1.02; /* power iteration approaches from below */
    p->lmin = la_lambda_min_spd(n, p->L);     /* inverse iteration approaches from above */
    p->integ = o->integrator < 0 ? TSPU_INT_LM : o->integrator;
    p->h = plan_h_spd(o, p->lmax);
    if (p->integ == TSPU_INT_UD && p->h * sqrt(p->lmax / 1.02) >= 2.0)
        return aerr(err, len, TSPU_ALGO_E_INPUT, "step %.4g is unstable for the underdamped integrator: h * "
                    "sqrt(lambda_max) = %.3g must be < 2", p->h, p->h * sqrt(p->lmax / 1.02));
    if (p->integ != TSPU_INT_UD && p->h * p->lmax >= 2.0 / 1.02)
        return aerr(err, len, TSPU_ALGO_E_INPUT, "step %.4g is unstable: h * lambda_max = %.3g must be < 2", p->h,
                    p->h * p->lmax / 1.02);
    return 0;
}

static double spd_relax(const spd_plan *p)
{
    /* slowest mode: overdamped 1/(h lambda_min); UD (gamma = 2 sqrt(lambda_min),
     * M = 1, critically damped slowest mode): 1/(h sqrt(lambda_min)) */
    if (p->integ == TSPU_INT_UD)
        return 1.0 / (p->h * sqrt(p->lmin / 1.05));
    return 1.0 / (p->h * p->lmin / 1.05); /* 5 % margin: lmin is an upper estimate */
}

int tspu_algo_solve(tspu_dev *dev, unsigned n, const double *A, const double *b, const tspu_algo_opts *o,
                    tspu_algo_result *r, char *err, size_t len)
{
    memset(r, 0, sizeof *r);
    spd_plan p;
    sess s;
    int rc;
    if ((rc = spd_front(n, A, o, &p, err, len)) || (rc = check_finite(n, n, b, "b", err, len)))
        return rc;
    if ((rc = sess_open(&s, dev, o, n, err, len)))
        return rc;
    if (p.integ == TSPU_INT_UD) {
        /* BAOAB: x covariance exact for any stable h, mean exact; mass 1,
         * friction 2 sqrt(lambda_min) (slowest mode critically damped) */
        s.mass = 1.0;
        s.gamma = 2.0 * sqrt(p.lmin / 1.05);
    }
    /* x_range from |A^-1 b| (Cholesky solve of the planning step) + 8 sigma,
     * sigma_max^2 <= 1/(beta lambda_min).  beta: given, or chosen so that
     * the slowest mode's sigma is |x|_inf / 4 (precision of the mean is then
     * set by the relaxation time alone; docs/algorithms.md). */
    double x[TSPU_N_MAX];
    memcpy(x, b, sizeof(double) * n);
    la_spd_solve(n, p.L, x);
    double xn = la_maxabs(n, x);
    double beta = o->beta > 0 ? o->beta : (xn > 0 ? 16.0 / (p.lmin * xn * xn) : 1.0);
    double range = xn + 8.0 / sqrt(beta * p.lmin / 1.05);
    /* |x|_inf >= |b|_2 / (lambda_max sqrt(n)): a floor for the tol scale */
    double bn = 0;
    for (unsigned i = 0; i < n; i++)
        bn += b[i] * b[i];
    mjob j = {.kind = K_MEAN, .A = A, .b = b, .beta = beta, .h = p.h, .integ = p.integ, .range = range,
              .relax = spd_relax(&p), .need_spd = 1, .scale_floor = sqrt(bn) / (p.lmax * sqrt((double)n)),
              .no_extend = bn == 0};
    if ((rc = run_moments(&s, &j, r, err, len)))
        return rc;
    r->plan.lambda_min = p.lmin;
    r->plan.lambda_max = p.lmax / 1.02;
    snprintf(r->plan.note, sizeof r->plan.note, "estimator: time average of x (exact mean for EM and LM)");
    /* quantisation: x_eff - x ~= -A^-1 (A_eff - A) x_hat (first order) */
    double dx[TSPU_N_MAX];
    for (unsigned i = 0; i < n; i++) {
        double t = 0;
        for (unsigned k = 0; k < n; k++)
            t += (r->A_eff[i * n + k] - A[i * n + k]) * r->estimate[k];
        dx[i] = -t;
    }
    la_spd_solve(n, p.L, dx);
    memcpy(r->quant_err, dx, sizeof(double) * n);
    r->b_eff = malloc(sizeof(double) * n);
    if (r->b_eff)
        for (unsigned i = 0; i < n; i++)
            r->b_eff[i] = s.mp.b_eff[0][i];
    fill_result_common(r, &s, n, 1);
    log_plan(o, "solve", r);
    return 0;
}

/* inv: beta * covariance; EM: times (I - h A_eff / 2), the exact EM bias */
typedef struct {
    unsigned n;
    double beta, h;
    int em;
} inv_post_ctx;

static void inv_post(void *ctx, const double *A_eff, double *c)
{
    inv_post_ctx *q = ctx;
    const unsigned n = q->n;
    for (unsigned i = 0; i < n * n; i++)
        c[i] *= q->beta;
    if (q->em) {
        double M[TSPU_N_MAX * TSPU_N_MAX], T[TSPU_N_MAX * TSPU_N_MAX];
        for (unsigned i = 0; i < n * n; i++)
            M[i] = (i % (n + 1) == 0 ? 1.0 : 0.0) - 0.5 * q->h * A_eff[i];
        la_mul(n, c, M, T);
        for (unsigned i = 0; i < n; i++)
            for (unsigned k = 0; k < n; k++)
                c[i * n + k] = 0.5 * (T[i * n + k] + T[k * n + i]);
    }
}

int tspu_algo_inv(tspu_dev *dev, unsigned n, const double *A, const tspu_algo_opts *o, tspu_algo_result *r,
                  char *err, size_t len)
{
    memset(r, 0, sizeof *r);
    spd_plan p;
    sess s;
    int rc;
    if ((rc = spd_front(n, A, o, &p, err, len)))
        return rc;
    if ((rc = sess_open(&s, dev, o, n, err, len)))
        return rc;
    if (p.integ == TSPU_INT_UD) {
        /* BAOAB: x covariance exact for any stable h, mean exact; mass 1,
         * friction 2 sqrt(lambda_min) (slowest mode critically damped) */
        s.mass = 1.0;
        s.gamma = 2.0 * sqrt(p.lmin / 1.05);
    }
    double beta = o->beta > 0 ? o->beta : 1.0;
    double range = 8.0 / sqrt(beta * p.lmin / 1.05);
    inv_post_ctx q = {.n = n, .beta = beta, .h = p.h, .em = p.integ == TSPU_INT_EM};
    /* max|A^-1| >= max_i 1/A_ii (SPD): a floor for the tol scale */
    double dmin = INFINITY;
    for (unsigned i = 0; i < n; i++)
        dmin = fmin(dmin, A[i * n + i]);
    mjob j = {.kind = K_COV, .A = A, .b = NULL, .beta = beta, .h = p.h, .integ = p.integ, .range = range,
              .relax = spd_relax(&p), .need_spd = 1, .post = inv_post, .post_ctx = &q, .scale_floor = 1.0 / dmin};
    if ((rc = run_moments(&s, &j, r, err, len)))
        return rc;
    r->plan.lambda_min = p.lmin;
    r->plan.lambda_max = p.lmax / 1.02;
    snprintf(r->plan.note, sizeof r->plan.note, "estimator: beta * sample covariance%s",
             q.em ? " times (I - h A/2) (exact EM bias correction)" : " (LM: exact for symmetric A)");
    /* quantisation: d(A^-1) ~= -X (A_eff - A) X with X the estimate */
    double D[TSPU_N_MAX * TSPU_N_MAX], T[TSPU_N_MAX * TSPU_N_MAX];
    for (unsigned i = 0; i < n * n; i++)
        D[i] = r->A_eff[i] - A[i];
    la_mul(n, r->estimate, D, T);
    la_mul(n, T, r->estimate, D);
    for (unsigned i = 0; i < n * n; i++)
        r->quant_err[i] = -D[i];
    fill_result_common(r, &s, n, n);
    log_plan(o, "inv", r);
    return 0;
}

/* ---- lyap ------------------------------------------------------------------------- */
/* With D = L L^T: Sigma solves A Sigma + Sigma A^T = D  iff  S = L^-1 Sigma L^-T
 * solves At S + S At^T = I with At = L^-1 A L (similar to A: same spectrum,
 * still stable).  The unit with At gives S' with At S' + S' At^T = (2/beta) I,
 * so S = (beta/2) S' and Sigma = (beta/2) L S' L^T (linear: applied per batch). */
typedef struct {
    unsigned n;
    double beta;
    double L[TSPU_N_MAX * TSPU_N_MAX];
    int identity; /* D = d I: L = sqrt(d) I */
    double d;
} lyap_ctx;

static void lyap_post(void *ctx, const double *A_eff, double *c)
{
    (void)A_eff;
    lyap_ctx *q = ctx;
    const unsigned n = q->n;
    if (q->identity) {
        for (unsigned i = 0; i < n * n; i++)
            c[i] *= 0.5 * q->beta * q->d;
        return;
    }
    double T[TSPU_N_MAX * TSPU_N_MAX], U[TSPU_N_MAX * TSPU_N_MAX];
    la_mul(n, q->L, c, T);
    la_mul_t(n, T, q->L, U);
    for (unsigned i = 0; i < n * n; i++)
        c[i] = 0.5 * q->beta * U[i];
}

static int lyap_run(tspu_dev *dev, unsigned n, const double *A, const double *D, const tspu_algo_opts *o,
                    tspu_algo_result *r, char *err, size_t len);
typedef struct {
    tspu_dev *dev;
    unsigned n;
    const double *A, *D;
} lyap_args;
static int lyap_fn(void *ctx, const tspu_algo_opts *o, tspu_algo_result *r, char *err, size_t len)
{
    lyap_args *a = ctx;
    return lyap_run(a->dev, a->n, a->A, a->D, o, r, err, len);
}

int tspu_algo_lyap(tspu_dev *dev, unsigned n, const double *A, const double *D, const tspu_algo_opts *o,
                   tspu_algo_result *r, char *err, size_t len)
{
    if (!o->extrapolate)
        return lyap_run(dev, n, A, D, o, r, err, len);
    lyap_args a = {dev, n, A, D};
    return richardson(lyap_fn, &a, o, r, err, len);
}

static int lyap_run(tspu_dev *dev, unsigned n, const double *A, const double *D, const tspu_algo_opts *o,
                    tspu_algo_result *r, char *err, size_t len)
{
    memset(r, 0, sizeof *r);
    int rc;
    if ((rc = tspu_algo_check_stable(n, A, err, len)))
        return rc;
    lyap_ctx q;
    memset(&q, 0, sizeof q);
    q.n = n;
    double At[TSPU_N_MAX * TSPU_N_MAX];
    memcpy(At, A, sizeof(double) * n * n);
    q.identity = 1;
    q.d = 2.0;
    if (D) {
        if ((rc = check_finite(n, (size_t)n * n, D, "D", err, len)))
            return rc;
        char e2[200];
        if (tspu_algo_check_spd(n, D, e2, sizeof e2))
            return aerr(err, len, TSPU_ALGO_E_INPUT, "D must be symmetric positive definite: %s", e2);
        int diag = 1;
        for (unsigned i = 0; i < n; i++)
            for (unsigned k = 0; k < n; k++)
                if ((i == k && D[i * n + k] != D[0]) || (i != k && D[i * n + k] != 0))
                    diag = 0;
        if (diag) {
            q.d = D[0];
        } else {
            q.identity = 0;
            la_chol(n, D, q.L);
            /* At = L^-1 A L */
            double Li[TSPU_N_MAX * TSPU_N_MAX], T[TSPU_N_MAX * TSPU_N_MAX];
            if (la_inv(n, q.L, Li))
                return aerr(err, len, TSPU_ALGO_E_INPUT, "D is singular");
            la_mul(n, Li, A, T);
            la_mul(n, T, q.L, At);
        }
    }
    double wr[TSPU_N_MAX], wi[TSPU_N_MAX];
    la_eig(n, At, wr, wi);
    double remin = INFINITY, absmax = 0, hlim = INFINITY;
    for (unsigned i = 0; i < n; i++) {
        double a2 = wr[i] * wr[i] + wi[i] * wi[i];
        remin = fmin(remin, wr[i]);
        absmax = fmax(absmax, sqrt(a2));
        hlim = fmin(hlim, 2.0 * wr[i] / a2);
    }
    sess s;
    if ((rc = sess_open(&s, dev, o, n, err, len)))
        return rc;
    int integ = o->integrator < 0 ? TSPU_INT_LM : o->integrator;
    if (integ == TSPU_INT_UD) {
        alog(o, TSPU_ALGO_LOG_WARN, "lyap: the underdamped integrator does not apply; using LM");
        integ = TSPU_INT_LM;
    }
    /* step: the O(h) bias of EM/LM for non-symmetric A is about
     * 0.8 (h / h_lim) relative (docs/numerics.md: 3 % of h_lim gives
     * 0.5-2.4 %); aim for a bias of tol/2, never above h_lim/4 or
     * h |lambda|max = 0.5.  A symmetric At needs no such care with LM. */
    double asym = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < i; k++)
            asym = fmax(asym, fabs(At[i * n + k] - At[k * n + i]));
    int symmetric = asym <= 1e-12 * la_maxabs((size_t)n * n, At);
    double h = o->dt > 0 ? o->dt : fmin(0.5 / absmax, 0.25 * hlim);
    double bias_est = (symmetric && integ == TSPU_INT_LM) ? 0.0 : 0.8 * h / hlim;
    if (!(o->dt > 0) && !(symmetric && integ == TSPU_INT_LM)) {
        double hb = 0.5 * o->tol / 0.8 * hlim;
        if (hb < h)
            h = hb;
        bias_est = 0.8 * h / hlim;
    }
    if (symmetric && integ == TSPU_INT_LM)
        h = o->dt > 0 ? o->dt : 1.0 / absmax;
    double beta = o->beta > 0 ? o->beta : 1.0;
    q.beta = beta;
    /* range: if the symmetric part Ms is PD, E|x|^2 <= N / (beta mu_min(Ms));
     * otherwise a guess from Re lambda_min, widened by the saturation retries */
    double Ms[TSPU_N_MAX * TSPU_N_MAX], Lm[TSPU_N_MAX * TSPU_N_MAX];
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < n; k++)
            Ms[i * n + k] = 0.5 * (At[i * n + k] + At[k * n + i]);
    double var;
    if (!la_chol(n, Ms, Lm))
        var = fmin(n / (beta * la_lambda_min_spd(n, Lm) / 1.05), 4.0 * n / (beta * remin));
    else
        var = 4.0 / (beta * remin);
    double range = 8.0 * sqrt(var);
    mjob j = {.kind = K_COV, .A = At, .b = NULL, .beta = beta, .h = h, .integ = integ, .range = range,
              .relax = 1.0 / (h * remin), .need_spd = 0, .post = lyap_post, .post_ctx = &q};
    if ((rc = run_moments(&s, &j, r, err, len)))
        return rc;
    r->plan.lambda_min = remin;
    r->plan.lambda_max = absmax;
    r->plan.bias_est = bias_est;
    snprintf(r->plan.note, sizeof r->plan.note,
             "estimator: (beta/2) L cov L^T with D = L L^T; h = %.3g of the limit min 2Re(l)/|l|^2 = %.4g; "
             "discretisation bias ~%.2g relative, not in std_err",
             h / hlim, hlim, bias_est);
    fill_result_common(r, &s, n, n);
    log_plan(o, "lyap", r);
    return 0;
}
