/* algo_bayes.c - thermodynamic Bayesian inference on the unit (issue 7):
 * Gaussian posteriors and Bayesian logistic regression through the
 * data-driven drift (docs/numerics.md, "Data-driven drift"), with the
 * likelihood switched on by lambda ramps whose work the unit accumulates.
 * Protocol, estimators and error model: docs/bayes.md.
 *
 * Per chain c (seed + c): map the prior (coupling set 0, A0 = P, b0 = P mu)
 * and the data (tspu_map_data), load them, start at the prior mean; then
 *   burn-in at lambda = 0                         (prior equilibrium)
 *   repeat: [hold at 0] ramp 0 -> 1 [hold at 1, ramp 1 -> 0]   (work, heat)
 *   hold at lambda = 1, sample                    (posterior)
 * Every ramp is one or more programs of schedule segments; the work counter
 * is read after each, the state before and after (heat Q = dU - W).  The
 * host never forms X^T X: planning uses matrix-free products X^T (l o (X v)). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_integration.h>

#include "algo_internal.h"
#include "tspu_regs.h"

void tspu_bayes_opts_init(tspu_bayes_opts *b)
{
    memset(b, 0, sizeof *b);
    b->keep_samples = 1;
}

void tspu_bayes_result_free(tspu_bayes_result *r)
{
    free(r->mean);
    free(r->mean_se);
    free(r->cov);
    free(r->cov_se);
    free(r->pred);
    free(r->pred_se);
    free(r->samples);
    free(r->work);
    free(r->heat);
    free(r->du);
    free(r->work_rev);
    free(r->heat_rev);
    free(r->ramp_end);
    free(r->ti_lambda);
    free(r->ti_u);
    free(r->ti_u_se);
    free(r->knots);
    free(r->trace_w);
    free(r->trace_q);
    free(r->prior_prec_eff);
    free(r->prior_b_eff);
    free(r->X_eff);
    free(r->y_eff);
    free(r->ell_eff);
    memset(r, 0, sizeof *r);
}

/* ---- input checks ---------------------------------------------------------------- */
int tspu_bayes_check(const tspu_bayes_problem *p, char *err, size_t len)
{
    const unsigned n = p->n, k = p->k;
    const int logistic = p->likelihood == TSPU_DATA_LOGISTIC;
    if (p->likelihood != TSPU_DATA_GAUSS && !logistic)
        return aerr(err, len, TSPU_ALGO_E_INPUT, "likelihood must be Gaussian or logistic");
    if (n < 1 || n > TSPU_N_MAX)
        return aerr(err, len, TSPU_ALGO_E_INPUT, "dimension %u: must be 1..%d", n, TSPU_N_MAX);
    if (k < 1)
        return aerr(err, len, TSPU_ALGO_E_INPUT, "no observations");
    if (!p->prior_prec || !p->X || !p->y)
        return aerr(err, len, TSPU_ALGO_E_INPUT, "missing prior precision, design or targets");
    int rc;
    if ((rc = check_finite(n, (size_t)n * n, p->prior_prec, "the prior precision", err, len)) ||
        (p->prior_mean && (rc = check_finite(n, n, p->prior_mean, "the prior mean", err, len))) ||
        (rc = check_finite(n, (size_t)k * n, p->X, "the design", err, len)) ||
        (rc = check_finite(n, k, p->y, logistic ? "the labels" : "the data", err, len)) ||
        (p->ell && (rc = check_finite(n, k, p->ell, "the likelihood precisions", err, len))) ||
        (p->predict && (rc = check_finite(n, (size_t)p->n_predict * n, p->predict, "the prediction rows", err, len))))
        return rc;
    char e2[200];
    if (tspu_algo_check_spd(n, p->prior_prec, e2, sizeof e2))
        return aerr(err, len, TSPU_ALGO_E_INPUT, "prior precision: %s", strstr(e2, "A is") ? e2 + 2 : e2);
    for (unsigned d = 0; d < k; d++) {
        if (logistic && p->y[d] != 0.0 && p->y[d] != 1.0)
            return aerr(err, len, TSPU_ALGO_E_INPUT, "label %u is %g: labels must be 0 or 1", d + 1, p->y[d]);
        if (p->ell && (logistic ? p->ell[d] < 0 : !(p->ell[d] > 0)))
            return aerr(err, len, TSPU_ALGO_E_INPUT, "weight of observation %u is %g: it must be %s", d + 1,
                        p->ell[d], logistic ? ">= 0" : "a precision > 0");
    }
    double xm = la_maxabs((size_t)k * n, p->X);
    if (xm == 0)
        return aerr(err, len, TSPU_ALGO_E_INPUT, "the design matrix is all zero");
    return 0;
}

int tspu_bayes_device_check(tspu_dev *dev, unsigned k, char *err, size_t len)
{
    tspu_info in;
    int rc = tspu_get_info(dev, &in);
    if (rc)
        return aerr(err, len, rc, "device info: %s (%s)", tspu_strerror(rc), tspu_last_error(dev));
    const uint32_t kmax = in.data_max_obs;
    if (!(in.features & TSPU_FEATURES_DATA) || kmax == 0)
        return aerr(err, len, TSPU_E_UNSUPPORTED, "device '%s' gateware has no data-driven drift (FEATURES.DATA=0)",
                    in.device);
    if (k > kmax)
        return aerr(err, len, TSPU_ALGO_E_INPUT,
                    "%u observations: the device '%s' holds at most DATA_MAX_OBS = %u (N = %u lanes)", k, in.device,
                    kmax, in.n);
    return 0;
}

/* ---- matrix-free planning: H v = P v + X^T (c o (X v)) ------------------------------- */
typedef struct {
    unsigned n, k;
    const double *P, *X, *c; /* c: per-observation curvature (k) */
} hop;

static void hop_apply(const hop *h, const double *v, double *out)
{
    for (unsigned i = 0; i < h->n; i++) {
        double t = 0;
        for (unsigned j = 0; j < h->n; j++)
            t += h->P[i * h->n + j] * v[j];
        out[i] = t;
    }
    for (unsigned d = 0; d < h->k; d++) {
        const double *x = h->X + (size_t)d * h->n;
        double z = 0;
        for (unsigned j = 0; j < h->n; j++)
            z += x[j] * v[j];
        z *= h->c[d];
        for (unsigned i = 0; i < h->n; i++)
            out[i] += x[i] * z;
    }
}

static double dot(unsigned n, const double *a, const double *b)
{
    double s = 0;
    for (unsigned i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* conjugate gradients for H x = b (H SPD, n <= 64: at most a few n iterations) */
static void hop_solve(const hop *h, const double *b, double *x)
{
    const unsigned n = h->n;
    double r[TSPU_N_MAX] = {0}, p[TSPU_N_MAX] = {0}, q[TSPU_N_MAX] = {0}; /* zeroed: quiets -O1 maybe-uninitialized */
    for (unsigned i = 0; i < n; i++) {
        x[i] = 0;
        r[i] = p[i] = b[i];
    }
    double rr = dot(n, r, r), r0 = rr;
    for (unsigned it = 0; it < 4 * n + 20 && rr > 1e-28 * r0 && rr > 0; it++) {
        hop_apply(h, p, q);
        double a = rr / dot(n, p, q);
        for (unsigned i = 0; i < n; i++) {
            x[i] += a * p[i];
            r[i] -= a * q[i];
        }
        double rn = dot(n, r, r);
        for (unsigned i = 0; i < n; i++)
            p[i] = r[i] + rn / rr * p[i];
        rr = rn;
    }
}

/* the Rayleigh quotient of power iteration on H (inverse = 0) or H^-1 by CG
 * solves (inverse = 1), from a fixed start vector; 0 when H v vanishes */
static double hop_power(const hop *h, int inverse, int iters)
{
    double v[TSPU_N_MAX], w[TSPU_N_MAX], rq = 0;
    for (unsigned i = 0; i < h->n; i++)
        v[i] = 1.0 + 0.37 * sin(1.3 * i + 0.2) + 0.01 * i;
    double s = sqrt(dot(h->n, v, v));
    for (unsigned i = 0; i < h->n; i++)
        v[i] /= s;
    for (int it = 0; it < iters; it++) {
        if (inverse)
            hop_solve(h, v, w);
        else
            hop_apply(h, v, w);
        rq = dot(h->n, v, w);
        s = sqrt(dot(h->n, w, w));
        if (inverse ? !(s > 0) : s == 0)
            return 0;
        for (unsigned i = 0; i < h->n; i++)
            v[i] = w[i] / s;
    }
    return rq;
}

static double hop_lmax(const hop *h) { return hop_power(h, 0, 80); }

/* smallest eigenvalue by inverse iteration with CG solves (from above) */
static double hop_lmin(const hop *h)
{
    const double rq = hop_power(h, 1, 40);
    return rq > 0 ? 1.0 / rq : 0;
}

/* ---- free-energy estimators ---------------------------------------------------------- */
/* Jarzynski -ln <exp(-w)> and its delta-method standard error */
static void jarzynski(unsigned n, const double *w, double *est, double *se)
{
    double m = INFINITY, e1 = 0, e2 = 0;
    for (unsigned i = 0; i < n; i++)
        m = fmin(m, w[i]);
    for (unsigned i = 0; i < n; i++) {
        double e = exp(-(w[i] - m));
        e1 += e / n;
        e2 += e * e / n;
    }
    *est = m - log(e1);
    *se = n > 1 ? sqrt(fmax(e2 - e1 * e1, 0) * n / (n - 1)) / (sqrt((double)n) * e1) : INFINITY;
}

static void mean_se(unsigned n, const double *w, double *mu, double *se)
{
    double s = 0, ss = 0;
    for (unsigned i = 0; i < n; i++)
        s += w[i];
    s /= n;
    for (unsigned i = 0; i < n; i++)
        ss += (w[i] - s) * (w[i] - s);
    *mu = s;
    *se = n > 1 ? sqrt(ss / ((double)n * (n - 1))) : INFINITY;
}

static double bar_bootstrap_se(unsigned n, const double *wf, const double *wr)
{
    enum { B = 200 };
    double *f = malloc(sizeof(double) * n), *r = malloc(sizeof(double) * n), s = 0, s2 = 0;
    uint64_t st = 4242;
    if (!f || !r) {
        free(f);
        free(r);
        return INFINITY;
    }
    for (int b = 0; b < B; b++) {
        for (unsigned i = 0; i < n; i++) {
            f[i] = wf[algo_rng_next(&st) % n];
            r[i] = wr[algo_rng_next(&st) % n];
        }
        double d = algo_bar(n, f, n, r);
        s += d;
        s2 += d * d;
    }
    free(f);
    free(r);
    return sqrt(fmax(0, s2 / B - (s / B) * (s / B)) * B / (B - 1));
}

/* ---- the ramp as programs of schedule segments --------------------------------------- */
#define MAX_KNOTS 257
#define MAX_SEGS (2 * MAX_KNOTS)
typedef struct {
    unsigned nseg;
    uint32_t steps[MAX_SEGS];
    int32_t dl[MAX_SEGS];
    unsigned piece[MAX_SEGS]; /* knot interval of each segment */
    unsigned npieces;
    uint64_t total;
} ramp_plan;

/* knots l_0..l_S at equal times, T steps in all (T >= S); reverse runs them
 * backwards.  Per interval: one segment of T/S steps with dl rounded toward
 * zero (never overshoots), then a one-step fix-up onto the knot exactly. */
static void make_ramp(const double *knots, unsigned S, uint64_t T, int reverse, ramp_plan *rp)
{
    uint64_t per = T / S ? T / S : 1;
    if (per > 0xffffffffull)
        per = 0xffffffffull;
    rp->nseg = 0;
    rp->npieces = S;
    rp->total = 0;
    int64_t acc = llround((reverse ? knots[S] : knots[0]) * 2147483648.0);
    for (unsigned i = 0; i < S; i++) {
        double lt = reverse ? knots[S - 1 - i] : knots[i + 1];
        int64_t target = llround(lt * 2147483648.0);
        int64_t span = target - acc;
        int64_t dl = span / (int64_t)per;
        rp->steps[rp->nseg] = (uint32_t)per;
        rp->dl[rp->nseg] = (int32_t)dl;
        rp->piece[rp->nseg++] = i;
        rp->total += per;
        acc += dl * (int64_t)per;
        if (acc != target) {
            rp->steps[rp->nseg] = 1;
            rp->dl[rp->nseg] = (int32_t)(target - acc);
            rp->piece[rp->nseg++] = i;
            rp->total += 1;
            acc = target;
        }
    }
}

/* ---- chains ------------------------------------------------------------------------ */
typedef struct {
    double *x;        /* samples, ns x n */
    uint64_t ns, cap;
    double *w, *q, *du, *wr, *qr; /* per ramp */
    double *tw, *tq;  /* trace: per ramp x (S + 1) */
    double *xe;       /* theta at each forward ramp's end, per ramp x n */
    double *ti;       /* thermodynamic integration: node x TI_KB batch means of U_lik */
    unsigned nr, nrr;
    int started;
    int saturated;
} bchain;

typedef struct {
    const tspu_bayes_problem *p;
    const tspu_bayes_opts *b;
    unsigned n, nd, k;
    double h, range;
    double *A0, *b0;   /* n x n, n (prior, float) */
    double *Xp;        /* k x nd padded design */
    double *ellv;      /* k (Gaussian: precisions; logistic: weights) */
    const double *knots;
    unsigned S;
    uint64_t T, hold0, hold1, burnin0;
    uint32_t thin;
    unsigned ramps_per_chain;
    uint64_t ns_chain; /* samples per chain */
    bchain *ch;
    int stop;
    /* chain 0's effective problem, for the result */
    tspu_data_mapping *dm0;
    tspu_mapping mp0;
    unsigned maxseg;
    /* thermodynamic integration (opts.ti_points): nodes, weights, per-node plan */
    unsigned ti_M;
    double ti_lam[TSPU_BAYES_TI_MAX], ti_w[TSPU_BAYES_TI_MAX];
    uint64_t ti_hold[TSPU_BAYES_TI_MAX], ti_ns;
    uint32_t ti_thin[TSPU_BAYES_TI_MAX];
} brun;

static int bc_push_sample(bchain *c, unsigned n, const double *v)
{
    if (c->ns == c->cap) {
        uint64_t nc = c->cap ? 2 * c->cap : 4096;
        double *t = realloc(c->x, sizeof(double) * nc * n);
        if (!t)
            return -1;
        c->x = t;
        c->cap = nc;
    }
    memcpy(c->x + c->ns * n, v, sizeof(double) * n);
    c->ns++;
    return 0;
}

/* U_lambda(theta) of the encoded problem (problem lanes; Gaussian) */
static double u_lambda(const brun *m, const sess *s, const tspu_data_mapping *dm, const int32_t *X, double lam)
{
    const unsigned n = m->n, nd = m->nd;
    double th[TSPU_N_MAX];
    for (unsigned i = 0; i < nd; i++)
        th[i] = (double)X[i] * s->mp.lsb_x;
    double u = 0;
    for (unsigned i = 0; i < n; i++) {
        double t = 0;
        for (unsigned j = 0; j < n; j++)
            t += s->mp.A_eff[0][i * nd + j] * th[j];
        u += 0.5 * th[i] * t - s->mp.b_eff[0][i] * th[i];
    }
    if (lam != 0) {
        double ul = 0;
        for (unsigned d = 0; d < dm->k; d++) {
            double z = 0;
            for (unsigned j = 0; j < n; j++)
                z += dm->X_eff[(size_t)d * nd + j] * th[j];
            double e = dm->y_eff[d] - z;
            ul += 0.5 * dm->ell_eff[d] * e * e;
        }
        u += lam * ul;
    }
    return u;
}

typedef struct {
    brun *m;
    bchain *c;
    const tspu_algo_opts *o;
    double ox;
    int nomem, cancelled;
} sample_ctx;

static int on_samples(void *ctx, const int16_t *w, size_t count, unsigned wps)
{
    sample_ctx *sc = ctx;
    if (sc->o->cancel && sc->o->cancel(sc->o->cancel_ctx)) {
        sc->cancelled = 1;
        return -1;
    }
    double v[TSPU_N_MAX];
    for (size_t s = 0; s < count; s++) {
        for (unsigned i = 0; i < sc->m->n; i++)
            v[i] = (double)w[s * wps + i] * sc->ox;
        if (bc_push_sample(sc->c, sc->m->n, v)) {
            sc->nomem = 1;
            return -1;
        }
    }
    return 0;
}

/* one program: burnin steps at lambda_init, then segments; returns 1 on saturation */
static int run_prog(sess *s, uint64_t burnin, uint32_t lambda_init, const ramp_plan *rp, unsigned s0, unsigned s1,
                    char *err, size_t len)
{
    s->cfg.burnin = (uint32_t)(burnin > 0xffffffffull ? 0xffffffffull : burnin);
    s->cfg.thin = 1;
    s->cfg.n_samples = 0;
    s->cfg.lambda_init = lambda_init;
    s->cfg.sample_momentum = 0;
    s->cfg.n_segments = 0;
    for (unsigned q = s0; rp && q < s1; q++) {
        s->cfg.seg[s->cfg.n_segments].steps = rp->steps[q];
        s->cfg.seg[s->cfg.n_segments].dlambda = rp->dl[q];
        s->cfg.n_segments++;
    }
    if (s->cfg.burnin == 0 && s->cfg.n_segments == 0)
        return 0;
    int rc = sess_run(s, err, len);
    if (rc)
        return rc;
    return (s->last_flags & TSPU_FLAG_SATURATED) ? 1 : 0;
}

static uint32_t acc_at(const ramp_plan *rp, uint32_t start, unsigned upto)
{
    int64_t a = start;
    for (unsigned q = 0; q < upto; q++)
        a += (int64_t)rp->dl[q] * rp->steps[q];
    return (uint32_t)a;
}

/* one ramp (forward or reverse), split into programs: every knot (trace) or
 * as many segments as the device holds; W accumulated over the programs */
static int do_ramp(sess *s, brun *m, const tspu_data_mapping *dm, const ramp_plan *rp, int reverse, double *w_out,
                   double *q_out, double *du_out, double *tw, double *tq, double *xe, char *err, size_t len)
{
    const uint32_t start = reverse ? TSPU_LAMBDA_ACC_ONE : 0;
    const int gauss = m->p->likelihood == TSPU_DATA_GAUSS;
    int32_t X0[TSPU_N_MAX], X1[TSPU_N_MAX];
    int rc;
    if ((rc = tspu_get_state(s->dev, X0, NULL)))
        return dev_err(s, rc, err, len, "reading the state");
    const double u0 = gauss ? u_lambda(m, s, dm, X0, reverse ? 1.0 : 0.0) : 0;
    double W = 0;
    if (tw) {
        tw[0] = 0;
        tq[0] = 0;
    }
    unsigned q = 0;
    while (q < rp->nseg) {
        unsigned e = q;
        if (m->b->trace) {
            while (e < rp->nseg && rp->piece[e] == rp->piece[q])
                e++;
        } else {
            e = q + m->maxseg < rp->nseg ? q + m->maxseg : rp->nseg;
        }
        if ((rc = run_prog(s, 0, acc_at(rp, start, q), rp, q, e, err, len)))
            return rc;
        if (gauss) {
            int64_t wi;
            if ((rc = tspu_read_work(s->dev, &wi)))
                return dev_err(s, rc, err, len, "reading work");
            W += (double)wi * dm->lsb_work;
        }
        if (tw && gauss) {
            unsigned kn = rp->piece[e - 1] + 1;
            double lam = (double)acc_at(rp, start, e) / 2147483648.0;
            if ((rc = tspu_get_state(s->dev, X1, NULL)))
                return dev_err(s, rc, err, len, "reading the state");
            tw[kn] = W;
            tq[kn] = u_lambda(m, s, dm, X1, lam) - u0 - W;
        }
        q = e;
    }
    if ((rc = tspu_get_state(s->dev, X1, NULL)))
        return dev_err(s, rc, err, len, "reading the state");
    for (unsigned i = 0; xe && i < m->n; i++)
        xe[i] = (double)X1[i] * s->mp.lsb_x;
    if (gauss) {
        double du = u_lambda(m, s, dm, X1, reverse ? 0.0 : 1.0) - u0;
        *w_out = W;
        *q_out = du - W;
        if (du_out)
            *du_out = du;
    } else {
        *w_out = *q_out = NAN;
        if (du_out)
            *du_out = NAN;
    }
    return 0;
}

static int load_chain(sess *s, brun *m, unsigned c, tspu_data_mapping *dm, char *err, size_t len)
{
    const tspu_algo_opts *o = s->o;
    int rc;
    sess_chain_rng(s, c);
    if ((rc = sess_map(s, m->A0, NULL, m->b0, 1.0, m->h, TSPU_INT_LM, m->range, 0, err, len)))
        return rc;
    tspu_data_problem dp = {.mode = (tspu_data_mode)m->p->likelihood, .k = m->k, .X = m->Xp, .y = m->p->y,
                            .ell = m->ellv};
    char e2[200];
    if (tspu_map_data(&s->pr, &s->mp, &dp, dm, &s->cfg, e2, sizeof e2))
        return aerr(err, len, TSPU_ALGO_E_INPUT, "cannot represent the data in the unit's formats: %s", e2);
    if ((rc = sess_load(s, o->seed + c, err, len)))
        return rc;
    /* data memories, link table, DATA registers (taken at START) */
    rc = tspu_load_data(s->dev, &s->cfg, dm->x, dm->y, dm->l, dm->table);
    /* start at the prior mean */
    int32_t x0[TSPU_N_MAX] = {0};
    for (unsigned i = 0; !rc && i < m->n; i++) {
        double mu = m->p->prior_mean ? m->p->prior_mean[i] : 0.0;
        x0[i] = (int32_t)llround(mu / s->mp.lsb_x);
    }
    if (!rc)
        rc = tspu_set_state(s->dev, x0, NULL);
    if (rc)
        return dev_err(s, rc, err, len, "loading the data");
    return 0;
}

static int grow_ramps(bchain *ch, unsigned want, unsigned nk)
{
    double **arr[] = {&ch->w, &ch->q, &ch->du, &ch->wr, &ch->qr};
    for (unsigned a = 0; a < 5; a++) {
        double *t = realloc(*arr[a], sizeof(double) * (want ? want : 1));
        if (!t)
            return -1;
        *arr[a] = t;
    }
    double *t0 = realloc(ch->xe, sizeof(double) * (want ? want : 1) * TSPU_N_MAX);
    if (!t0)
        return -1;
    ch->xe = t0;
    double *t1 = realloc(ch->tw, sizeof(double) * (want ? want : 1) * nk);
    if (!t1)
        return -1;
    ch->tw = t1;
    double *t2 = realloc(ch->tq, sizeof(double) * (want ? want : 1) * nk);
    if (!t2)
        return -1;
    ch->tq = t2;
    return 0;
}

/* sampling program at lambda = 1 (hold first), streamed */
static int sample_prog(sess *s, brun *m, bchain *ch, uint64_t hold, uint64_t ns, uint32_t lambda_acc,
                       uint32_t thin, char *err, size_t len)
{
    while (ns > 0) {
        uint32_t take = ns > 0xffffffffull ? 0xffffffffu : (uint32_t)ns;
        s->cfg.burnin = (uint32_t)(hold > 0xffffffffull ? 0xffffffffull : hold);
        s->cfg.thin = thin;
        s->cfg.n_samples = take;
        s->cfg.n_segments = 0;
        s->cfg.lambda_init = lambda_acc;
        s->cfg.sample_momentum = 0;
        int rc = tspu_configure(s->dev, &s->cfg, s->fifo_stall);
        if (!rc)
            rc = tspu_start(s->dev);
        if (rc)
            return dev_err(s, rc, err, len, "starting a program");
        sample_ctx sc = {.m = m, .c = ch, .o = s->o, .ox = s->mp.op_x};
        rc = tspu_stream(s->dev, on_samples, &sc, 30000);
        if (sc.nomem)
            return aerr(err, len, TSPU_E_NOMEM, "out of memory");
        if (sc.cancelled)
            return aerr(err, len, TSPU_ALGO_E_CANCELLED, "interrupted: the unit was stopped");
        if ((rc = sess_stream_end(s, rc, NULL, err, len)))
            return rc; /* saturated (1) or an error */
        ns -= take;
        hold = 0;
    }
    return 0;
}

/* U_lik of the encoded problem at theta (problem lanes): Gaussian
 * 1/2 sum l (y - x.theta)^2, logistic sum l [log(1 + e^z) - y z] */
static double u_lik(const brun *m, const double *th)
{
    const tspu_data_mapping *dm = m->dm0;
    const unsigned n = m->n, nd = m->nd;
    double u = 0;
    for (unsigned d = 0; d < dm->k; d++) {
        double z = 0;
        for (unsigned j = 0; j < n; j++)
            z += dm->X_eff[(size_t)d * nd + j] * th[j];
        if (m->p->likelihood == TSPU_DATA_GAUSS) {
            double e = dm->y_eff[d] - z;
            u += 0.5 * dm->ell_eff[d] * e * e;
        } else {
            double sp = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
            u += dm->ell_eff[d] * (sp - dm->y_eff[d] * z);
        }
    }
    return u;
}

#define TI_KB 10 /* batches per chain and node */

/* thermodynamic integration: samples at each node lambda_k (after a hold),
 * batch means of U_lik per node */
static int ti_chain(sess *s, brun *m, bchain *ch, char *err, size_t len)
{
    free(ch->ti);
    ch->ti = calloc((size_t)m->ti_M * TI_KB, sizeof(double));
    if (!ch->ti)
        return aerr(err, len, TSPU_E_NOMEM, "out of memory");
    for (unsigned k = 0; k < m->ti_M; k++) {
        bchain tmp;
        memset(&tmp, 0, sizeof tmp);
        int rc = sample_prog(s, m, &tmp, m->ti_hold[k], m->ti_ns, tspu_lambda_to_acc(m->ti_lam[k]), m->ti_thin[k],
                             err, len);
        if (rc) {
            free(tmp.x);
            return rc;
        }
        const uint64_t L = tmp.ns / TI_KB;
        for (unsigned q = 0; q < TI_KB && L; q++) {
            double a = 0;
            for (uint64_t t = q * L; t < (q + 1) * L; t++)
                a += u_lik(m, tmp.x + t * m->n);
            ch->ti[k * TI_KB + q] = a / (double)L;
        }
        free(tmp.x);
    }
    return 0;
}

/* chain c: the whole protocol, or (started: chain 0 after the pilot) more samples */
static int b_chain(sess *s, unsigned c, void *ctx, char *err, size_t len)
{
    brun *m = ctx;
    bchain *ch = &m->ch[c];
    int rc;
    if (ch->started) {
        rc = ch->ns >= m->ns_chain ? 0
                                    : sample_prog(s, m, ch, 0, m->ns_chain - ch->ns, TSPU_LAMBDA_ACC_ONE, m->thin, err, len);
        if (rc == 0 && m->ti_M)
            rc = ti_chain(s, m, ch, err, len);
        if (rc == 1)
            ch->saturated = 1;
        return rc;
    }
    tspu_data_mapping *dm = malloc(sizeof *dm);
    if (!dm)
        return aerr(err, len, TSPU_E_NOMEM, "out of memory");
    if ((rc = load_chain(s, m, c, dm, err, len)))
        goto out;
    if (c == 0) {
        memcpy(m->dm0, dm, sizeof *dm);
        m->mp0 = s->mp;
    }
    ch->started = 1;
    ch->nr = ch->nrr = 0;
    const unsigned R = m->ramps_per_chain, nk = m->S + 1;
    if (grow_ramps(ch, R + 1, nk)) {
        rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
        goto out;
    }
    /* burn-in at lambda = 0: the prior's equilibrium */
    if ((rc = run_prog(s, m->burnin0, 0, NULL, 0, 0, err, len)))
        goto out;
    ramp_plan *rf = malloc(sizeof *rf), *rr = malloc(sizeof *rr);
    if (!rf || !rr) {
        free(rf);
        free(rr);
        rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
        goto out;
    }
    make_ramp(m->knots, m->S, m->T, 0, rf);
    make_ramp(m->knots, m->S, m->T, 1, rr);
    for (unsigned r = 0; r < R && !rc; r++) {
        if (chain_stopped(&m->stop))
            break;
        if (r > 0 && (rc = run_prog(s, m->hold0, 0, NULL, 0, 0, err, len)))
            break;
        if ((rc = do_ramp(s, m, dm, rf, 0, &ch->w[ch->nr], &ch->q[ch->nr], &ch->du[ch->nr],
                          m->b->trace ? ch->tw + (size_t)ch->nr * nk : NULL,
                          m->b->trace ? ch->tq + (size_t)ch->nr * nk : NULL, ch->xe + (size_t)ch->nr * m->n, err,
                          len)))
            break;
        ch->nr++;
        if (m->b->reverse) {
            if ((rc = run_prog(s, m->hold1, TSPU_LAMBDA_ACC_ONE, NULL, 0, 0, err, len)))
                break;
            if ((rc = do_ramp(s, m, dm, rr, 1, &ch->wr[ch->nrr], &ch->qr[ch->nrr], NULL, NULL, NULL, NULL, err, len)))
                break;
            ch->nrr++;
            if (r + 1 == R) { /* back at lambda = 0: one more hold and ramp up to sample */
                if ((rc = run_prog(s, m->hold0, 0, NULL, 0, 0, err, len)))
                    break;
                double w, q;
                if ((rc = do_ramp(s, m, dm, rf, 0, &w, &q, NULL, NULL, NULL, NULL, err, len)))
                    break;
            }
        }
    }
    free(rf);
    free(rr);
    if (rc)
        goto out;
    rc = sample_prog(s, m, ch, m->hold1, m->ns_chain, TSPU_LAMBDA_ACC_ONE, m->thin, err, len);
    if (rc == 0 && m->ti_M && c != 0)
        rc = ti_chain(s, m, ch, err, len);
out:
    free(dm);
    if (rc == 1)
        ch->saturated = 1;
    return rc;
}

/* ---- statistics ---------------------------------------------------------------------- */
/* batch means over all chains: K batches of each chain's samples */
typedef struct {
    unsigned m;      /* statistics per batch */
    unsigned K;      /* batches in all */
    double *v;       /* K x m */
} bstats;

static double sig(double t) { return t >= 0 ? 1.0 / (1.0 + exp(-t)) : exp(t) / (1.0 + exp(t)); }

/* per batch: mean (n), centred second moment (n*n, about the global mean gm,
 * Sheppard-corrected), predictive (n_predict) */
static int batch_values(const brun *m, unsigned C, unsigned Kc, uint64_t L, const double *gm, double ox, bstats *bs)
{
    const unsigned n = m->n, np = m->p->predict ? m->p->n_predict : 0;
    bs->m = n + n * n + np;
    bs->K = C * Kc;
    bs->v = calloc((size_t)bs->K * bs->m, sizeof(double));
    if (!bs->v)
        return -1;
    for (unsigned c = 0; c < C; c++)
        for (unsigned q = 0; q < Kc; q++) {
            double *row = bs->v + (size_t)(c * Kc + q) * bs->m;
            for (uint64_t t = q * L; t < (q + 1) * L; t++) {
                const double *x = m->ch[c].x + t * n;
                for (unsigned i = 0; i < n; i++)
                    row[i] += x[i];
                for (unsigned i = 0; i < n; i++)
                    for (unsigned j = 0; j < n; j++)
                        row[n + i * n + j] += (x[i] - gm[i]) * (x[j] - gm[j]);
                for (unsigned p = 0; p < np; p++)
                    row[n + n * n + p] += sig(dot(n, m->p->predict + (size_t)p * n, x));
            }
            for (unsigned a = 0; a < bs->m; a++)
                row[a] /= (double)L;
            for (unsigned i = 0; i < n; i++)
                row[n + i * n + i] -= ox * ox / 12.0;
        }
    return 0;
}

/* max over the mean and covariance entries of se / target */
static double tol_ratio(unsigned n, const double *est, const double *se, double tol, double z)
{
    double r = 0;
    for (unsigned i = 0; i < n; i++) {
        double sd = sqrt(fmax(est[n + i * n + i], 0));
        if (sd > 0)
            r = fmax(r, se[i] * z / (tol * sd));
        for (unsigned j = 0; j < n; j++) {
            double sc = sqrt(fmax(est[n + i * n + i] * est[n + j * n + j], 0));
            if (sc > 0)
                r = fmax(r, se[n + i * n + j] * z / (tol * sc));
        }
    }
    return r;
}

static int compute_stats(const brun *m, unsigned C, unsigned Kc, double ox, double *est, double *se, double *iat,
                         uint64_t *Lout)
{
    const unsigned n = m->n;
    uint64_t ns = m->ch[0].ns;
    for (unsigned c = 1; c < C; c++)
        if (m->ch[c].ns < ns)
            ns = m->ch[c].ns;
    uint64_t L = ns / Kc;
    if (L < 1)
        return -1;
    double gm[TSPU_N_MAX] = {0}, var[TSPU_N_MAX] = {0};
    const double N = (double)C * Kc * L;
    for (unsigned c = 0; c < C; c++)
        for (uint64_t t = 0; t < Kc * L; t++)
            for (unsigned i = 0; i < n; i++)
                gm[i] += m->ch[c].x[t * n + i] / N;
    bstats bs;
    if (batch_values(m, C, Kc, L, gm, ox, &bs))
        return -1;
    batch_stats(bs.K, bs.m, bs.v, est, se);
    /* integrated autocorrelation time (samples): L var(batch means) / var(x) */
    double tmax = 0;
    for (unsigned i = 0; i < n; i++) {
        var[i] = est[n + i * n + i] + ox * ox / 12.0;
        double vb = se[i] * se[i] * bs.K; /* variance of the batch means */
        if (var[i] > 0)
            tmax = fmax(tmax, (double)L * vb / var[i]);
    }
    *iat = tmax;
    *Lout = L;
    free(bs.v);
    return 0;
}

/* ---- the driver ------------------------------------------------------------------------ */
int tspu_algo_bayes(tspu_dev *dev, const tspu_bayes_problem *p, const tspu_bayes_opts *bo, const tspu_algo_opts *o,
                    tspu_bayes_result *r, char *err, size_t len)
{
    memset(r, 0, sizeof *r);
    r->dF_jarzynski = r->dF_jarzynski_se = r->dF_bar = r->dF_bar_se = r->dF_ti = r->dF_ti_se = NAN;
    r->work_mean = r->work_se = r->heat_mean = r->heat_se = NAN;
    tspu_bayes_opts bdef;
    if (!bo) {
        tspu_bayes_opts_init(&bdef);
        bo = &bdef;
    }
    int rc = tspu_bayes_check(p, err, len);
    if (rc)
        return rc;
    if ((rc = tspu_bayes_device_check(dev, p->k, err, len)))
        return rc;
    for (unsigned d = 0; d < o->n_more_devs && o->more_devs; d++)
        if ((rc = tspu_bayes_device_check(o->more_devs[d], p->k, err, len)))
            return rc;
    const unsigned n = p->n, k = p->k;
    const int gauss = p->likelihood == TSPU_DATA_GAUSS;
    /* schedule knots */
    double lin[2] = {0.0, 1.0};
    const double *knots = lin;
    unsigned S = 1;
    if (bo->schedule) {
        S = bo->n_schedule;
        if (S < 1 || S + 1 > MAX_KNOTS)
            return aerr(err, len, TSPU_ALGO_E_INPUT, "schedule: %u pieces, must be 1..%d", S, MAX_KNOTS - 1);
        for (unsigned i = 0; i <= S; i++)
            if (!isfinite(bo->schedule[i]) || bo->schedule[i] < 0 || bo->schedule[i] > 1 ||
                (i > 0 && bo->schedule[i] < bo->schedule[i - 1]))
                return aerr(err, len, TSPU_ALGO_E_INPUT,
                            "schedule: lambda knots must rise from 0 to 1 within [0, 1] (knot %u is %g)", i + 1,
                            bo->schedule[i]);
        if (bo->schedule[0] != 0 || bo->schedule[S] != 1)
            return aerr(err, len, TSPU_ALGO_E_INPUT, "schedule: the first knot must be 0 and the last 1");
        knots = bo->schedule;
    }
    int integ = o->integrator < 0 ? TSPU_INT_LM : o->integrator;
    if (integ != TSPU_INT_LM)
        alog(o, TSPU_ALGO_LOG_WARN, "posterior sampling uses the LM integrator (exact stationary covariance for the "
                                    "Gaussian posterior); the requested integrator is ignored");
    sess s;
    if ((rc = sess_open(&s, dev, o, n, err, len)))
        return rc;
    const unsigned nd = s.nd;
    brun m;
    memset(&m, 0, sizeof m);
    m.p = p;
    m.b = bo;
    m.n = n;
    m.nd = nd;
    m.k = k;
    m.knots = knots;
    m.S = S;
    unsigned C = plan_chains(o);
    spool pool = {.D = 1, .s = {&s}};
    double *curv = malloc(sizeof(double) * k);
    m.A0 = malloc(sizeof(double) * n * n);
    m.b0 = malloc(sizeof(double) * n);
    m.Xp = calloc((size_t)k * nd, sizeof(double));
    m.ellv = malloc(sizeof(double) * k);
    m.ch = calloc(C, sizeof *m.ch);
    m.dm0 = malloc(sizeof *m.dm0);
    if (!curv || !m.A0 || !m.b0 || !m.Xp || !m.ellv || !m.ch || !m.dm0) {
        rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(m.A0, p->prior_prec, sizeof(double) * n * n);
    for (unsigned i = 0; i < n; i++) {
        double t = 0;
        for (unsigned j = 0; j < n; j++)
            t += p->prior_prec[i * n + j] * (p->prior_mean ? p->prior_mean[j] : 0.0);
        m.b0[i] = t;
    }
    for (unsigned d = 0; d < k; d++) {
        for (unsigned j = 0; j < n; j++)
            m.Xp[(size_t)d * nd + j] = p->X[(size_t)d * n + j];
        m.ellv[d] = p->ell ? p->ell[d] : 1.0;
    }
    /* ---- planning (matrix free) ---- */
    double lmin0, lmax0, lmin1, lmax1, post_mean[TSPU_N_MAX];
    {
        for (unsigned d = 0; d < k; d++)
            curv[d] = 0;
        hop h0 = {.n = n, .k = k, .P = p->prior_prec, .X = p->X, .c = curv};
        lmax0 = hop_lmax(&h0) * 1.02;
        lmin0 = hop_lmin(&h0) / 1.05;
        /* posterior precision (Gaussian) or the largest curvature of the
         * logistic likelihood (sigma' <= 1/4) */
        for (unsigned d = 0; d < k; d++)
            curv[d] = gauss ? m.ellv[d] : 0.25 * m.ellv[d];
        hop h1 = {.n = n, .k = k, .P = p->prior_prec, .X = p->X, .c = curv};
        lmax1 = hop_lmax(&h1) * 1.02;
        if (gauss) {
            lmin1 = hop_lmin(&h1) / 1.05;
            /* planning estimate of the posterior mean (range only) */
            double rhs[TSPU_N_MAX];
            memcpy(rhs, m.b0, sizeof(double) * n);
            for (unsigned d = 0; d < k; d++)
                for (unsigned i = 0; i < n; i++)
                    rhs[i] += p->X[(size_t)d * n + i] * m.ellv[d] * p->y[d];
            hop_solve(&h1, rhs, post_mean);
        } else {
            /* curvature at the prior mean (a planning guess; the batch means
             * measure the real mixing) */
            for (unsigned d = 0; d < k; d++) {
                double z = p->prior_mean ? dot(n, p->X + (size_t)d * n, p->prior_mean) : 0.0, sg = sig(z);
                curv[d] = m.ellv[d] * sg * (1 - sg);
            }
            hop hc = {.n = n, .k = k, .P = p->prior_prec, .X = p->X, .c = curv};
            lmin1 = fmax(hop_lmin(&hc) / 1.05, lmin0);
            for (unsigned i = 0; i < n; i++)
                post_mean[i] = p->prior_mean ? p->prior_mean[i] : 0.0;
        }
    }
    m.h = o->dt > 0 ? o->dt : 1.0 / lmax1;
    if (m.h * lmax1 >= 2.0 / 1.02) {
        rc = aerr(err, len, TSPU_ALGO_E_INPUT, "step %.4g is unstable: h * lambda_max(posterior precision) = %.3g "
                  "must be < 2", m.h, m.h * lmax1 / 1.02);
        goto out;
    }
    const double tau0 = 1.0 / (m.h * lmin0), tau1 = 1.0 / (m.h * lmin1) * (gauss ? 1.0 : 2.0);
    {
        double mu_inf = 0, pm_inf = la_maxabs(n, post_mean);
        for (unsigned i = 0; i < n && p->prior_mean; i++)
            mu_inf = fmax(mu_inf, fabs(p->prior_mean[i]));
        m.range = fmax(mu_inf + 8.0 / sqrt(lmin0), pm_inf + 8.0 / sqrt(lmin1));
    }
    m.burnin0 = o->burnin_set ? o->burnin : (uint64_t)ceil(10 * tau0) + 100;
    m.hold0 = bo->hold0_steps ? bo->hold0_steps : (uint64_t)ceil(5 * tau0) + 20;
    m.hold1 = bo->hold_steps ? bo->hold_steps : (uint64_t)ceil(5 * tau1) + 20;
    m.T = bo->ramp_steps ? bo->ramp_steps : (uint64_t)ceil(4 * tau0);
    if (m.T < S)
        m.T = S;
    m.thin = o->thin ? o->thin : (uint32_t)fmax(1.0, ceil(tau1));
    {
        unsigned R = bo->ramps ? bo->ramps : (gauss ? 8 : C);
        if (R < C)
            R = C;
        m.ramps_per_chain = (R + C - 1) / C;
    }
    m.maxseg = TSPU_MAX_SEGMENTS;
    if ((rc = pool_open(&pool, &s, err, len)))
        goto out;
    for (unsigned d = 0; d < pool.D; d++)
        if (pool.s[d]->info.max_segments < m.maxseg)
            m.maxseg = pool.s[d]->info.max_segments;
    if (m.maxseg < 2) {
        rc = aerr(err, len, TSPU_E_UNSUPPORTED, "the device has fewer than 2 schedule segments");
        goto out;
    }
    if (bo->ti_points) {
        if (bo->ti_points < 2 || bo->ti_points > TSPU_BAYES_TI_MAX) {
            rc = aerr(err, len, TSPU_ALGO_E_INPUT, "thermodynamic integration: %u nodes, must be 2..%d",
                      bo->ti_points, TSPU_BAYES_TI_MAX);
            goto out;
        }
        gsl_integration_glfixed_table *gl = gsl_integration_glfixed_table_alloc(bo->ti_points);
        if (!gl) {
            rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
            goto out;
        }
        m.ti_M = bo->ti_points;
        for (unsigned k = 0; k < m.ti_M; k++) {
            double u, w;
            gsl_integration_glfixed_point(0.0, 1.0, k, &u, &w, gl);
            m.ti_lam[k] = u * u;   /* lambda = u^2: nodes dense near 0, where <U_lik> falls fastest */
            m.ti_w[k] = 2.0 * u * w; /* d lambda = 2 u du */
            /* lambda_min(P + lambda D) is concave in lambda: above the chord */
            double lm = (1 - m.ti_lam[k]) * lmin0 + m.ti_lam[k] * lmin1;
            double tau = 1.0 / (m.h * lm);
            m.ti_hold[k] = (uint64_t)ceil(5 * tau) + 20;
            m.ti_thin[k] = (uint32_t)fmax(1.0, ceil(tau));
        }
        gsl_integration_glfixed_table_free(gl);
    }
    const double z = tspu_algo_z(o->confidence);
    const unsigned Kc = o->batches ? o->batches : (unsigned)fmax(10.0, ceil(40.0 / C));
    /* samples: N_eff = 2 (z / tol)^2 for the covariance entries (se(S_ij) <=
     * sqrt(2 S_ii S_jj / N_eff)); thin = tau1 steps gives an integrated
     * autocorrelation time of about 2.2 samples for the slowest mode */
    uint64_t ns_plan;
    if (o->samples) {
        ns_plan = (o->samples + C - 1) / C;
    } else {
        double need = 2.0 * (z / o->tol) * (z / o->tol) * 2.2 / C;
        ns_plan = (uint64_t)ceil(need);
    }
    if (ns_plan < (uint64_t)Kc * 10)
        ns_plan = (uint64_t)Kc * 10;
    unsigned attempt = 0;
    double est_ratio = 0;
    for (;;) {
        for (unsigned c = 0; c < C; c++) {
            m.ch[c].ns = 0;
            m.ch[c].started = 0;
            m.ch[c].saturated = 0;
        }
        m.stop = 0;
        m.ns_chain = ns_plan;
        int sat = 0;
        /* pilot: chain 0, then the plan (more samples per chain if needed) */
        rc = b_chain(&s, 0, &m, err, len);
        if (rc < 0)
            goto out;
        sat = rc == 1;
        rc = 0;
        if (!sat && !o->samples) {
            unsigned mm = n + n * n + (p->predict ? p->n_predict : 0);
            double *est = malloc(sizeof(double) * mm), *se = malloc(sizeof(double) * mm), iat;
            uint64_t L;
            if (!est || !se || compute_stats(&m, 1, Kc * C > 20 ? Kc * C : 20, s.mp.op_x, est, se, &iat, &L)) {
                free(est);
                free(se);
                rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
                goto out;
            }
            /* chain 0 holds 1/C of the final samples: its s.e. shrinks by sqrt(C) */
            double ratio = tol_ratio(n, est, se, o->tol, z) / sqrt((double)C);
            est_ratio = ratio;
            free(est);
            free(se);
            if (ratio > 1.1) {
                double want = ceil((double)ns_plan * ratio * ratio * 1.1);
                double steps = want * C * m.thin;
                if (steps > (double)o->max_steps) {
                    want = floor((double)o->max_steps / ((double)C * m.thin));
                    if (want < ns_plan)
                        want = ns_plan;
                    r->flags |= TSPU_ALGO_FLAG_TRUNCATED;
                    alog(o, TSPU_ALGO_LOG_WARN, "the plan for tol %.3g needs %.3g steps, above max_steps: %.0f "
                         "samples per chain", o->tol, steps, want);
                }
                m.ns_chain = (uint64_t)want;
            }
            alog(o, TSPU_ALGO_LOG_PLAN, "pilot (chain 0, %llu samples): max se/target %.3g at %u chain(s): %llu "
                 "samples per chain", (unsigned long long)ns_plan, ratio, C, (unsigned long long)m.ns_chain);
        }
        m.ti_ns = m.ns_chain / 4 > 20 * TI_KB ? m.ns_chain / 4 : 20 * TI_KB;
        if ((rc = run_attempt(&pool, C, b_chain, &m, &m.stop, &sat, err, len)) < 0)
            goto out;
        if (!sat)
            break;
        if (attempt >= o->max_retries) {
            rc = aerr(err, len, TSPU_E_SATURATED, "the unit still saturates with theta range %.4g after %u retries",
                      m.range, attempt);
            goto out;
        }
        note_retry(o, &r->flags, "theta range", &m.range);
        attempt++;
        for (unsigned c = 0; c < C; c++)
            free(m.ch[c].x), m.ch[c].x = NULL, m.ch[c].cap = 0;
    }
    (void)est_ratio;
    /* ---- results ---- */
    {
        const double ox = m.mp0.op_x;
        const unsigned np = p->predict ? p->n_predict : 0, mm = n + n * n + np;
        double *est = malloc(sizeof(double) * mm), *se = malloc(sizeof(double) * mm), iat;
        uint64_t L;
        r->mean = malloc(sizeof(double) * n);
        r->mean_se = malloc(sizeof(double) * n);
        r->cov = malloc(sizeof(double) * n * n);
        r->cov_se = malloc(sizeof(double) * n * n);
        if (!est || !se || !r->mean || !r->mean_se || !r->cov || !r->cov_se ||
            compute_stats(&m, C, Kc, ox, est, se, &iat, &L)) {
            free(est);
            free(se);
            rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
            goto out;
        }
        memcpy(r->mean, est, sizeof(double) * n);
        memcpy(r->mean_se, se, sizeof(double) * n);
        memcpy(r->cov, est + n, sizeof(double) * n * n);
        memcpy(r->cov_se, se + n, sizeof(double) * n * n);
        if (np) {
            r->pred = malloc(sizeof(double) * np);
            r->pred_se = malloc(sizeof(double) * np);
            if (r->pred && r->pred_se) {
                memcpy(r->pred, est + n + n * n, sizeof(double) * np);
                memcpy(r->pred_se, se + n + n * n, sizeof(double) * np);
                r->n_predict = np;
            }
        }
        free(est);
        free(se);
        r->iat_steps = iat * m.thin;
        r->n_samples = (uint64_t)C * Kc * L;
        if (bo->keep_samples) {
            r->samples = malloc(sizeof(double) * r->n_samples * n);
            if (r->samples)
                for (unsigned c = 0; c < C; c++)
                    memcpy(r->samples + (size_t)c * Kc * L * n, m.ch[c].x, sizeof(double) * Kc * L * n);
        }
        /* thermodynamics: works of all chains, chain order */
        unsigned nr = 0, nrr = 0;
        for (unsigned c = 0; c < C; c++) {
            nr += m.ch[c].nr;
            nrr += m.ch[c].nrr;
        }
        r->n_ramps = nr;
        const unsigned nk = S + 1;
        if (nr && (r->ramp_end = malloc(sizeof(double) * nr * n)))
            for (unsigned c = 0, a = 0; c < C; a += m.ch[c].nr, c++)
                memcpy(r->ramp_end + (size_t)a * n, m.ch[c].xe, sizeof(double) * m.ch[c].nr * n);
        if (gauss && nr) {
            r->work = malloc(sizeof(double) * nr);
            r->heat = malloc(sizeof(double) * nr);
            r->du = malloc(sizeof(double) * nr);
            if (bo->trace) {
                r->n_knots = nk;
                r->knots = malloc(sizeof(double) * nk);
                r->trace_w = malloc(sizeof(double) * nr * nk);
                r->trace_q = malloc(sizeof(double) * nr * nk);
            }
            if (nrr) {
                r->work_rev = malloc(sizeof(double) * nrr);
                r->heat_rev = malloc(sizeof(double) * nrr);
            }
            if (!r->work || !r->heat || !r->du || (bo->trace && (!r->knots || !r->trace_w || !r->trace_q)) ||
                (nrr && (!r->work_rev || !r->heat_rev))) {
                rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
                goto out;
            }
            for (unsigned c = 0, a = 0, b = 0; c < C; c++) {
                memcpy(r->work + a, m.ch[c].w, sizeof(double) * m.ch[c].nr);
                memcpy(r->heat + a, m.ch[c].q, sizeof(double) * m.ch[c].nr);
                memcpy(r->du + a, m.ch[c].du, sizeof(double) * m.ch[c].nr);
                if (bo->trace) {
                    memcpy(r->trace_w + (size_t)a * nk, m.ch[c].tw, sizeof(double) * m.ch[c].nr * nk);
                    memcpy(r->trace_q + (size_t)a * nk, m.ch[c].tq, sizeof(double) * m.ch[c].nr * nk);
                }
                a += m.ch[c].nr;
                if (nrr) {
                    memcpy(r->work_rev + b, m.ch[c].wr, sizeof(double) * m.ch[c].nrr);
                    memcpy(r->heat_rev + b, m.ch[c].qr, sizeof(double) * m.ch[c].nrr);
                    b += m.ch[c].nrr;
                }
            }
            if (bo->trace) {
                /* knot lambdas as the unit reached them */
                ramp_plan *rf = malloc(sizeof *rf);
                if (rf) {
                    make_ramp(knots, S, m.T, 0, rf);
                    r->knots[0] = 0;
                    for (unsigned q = 0; q < rf->nseg; q++)
                        r->knots[rf->piece[q] + 1] = (double)acc_at(rf, 0, q + 1) / 2147483648.0;
                    free(rf);
                }
            }
            mean_se(nr, r->work, &r->work_mean, &r->work_se);
            mean_se(nr, r->heat, &r->heat_mean, &r->heat_se);
            jarzynski(nr, r->work, &r->dF_jarzynski, &r->dF_jarzynski_se);
            if (nrr && nrr == nr) {
                r->dF_bar = algo_bar(nr, r->work, nrr, r->work_rev);
                r->dF_bar_se = bar_bootstrap_se(nr, r->work, r->work_rev);
            }
        }
        if (m.ti_M) {
            const unsigned M = m.ti_M, KB = C * TI_KB;
            double *v = malloc(sizeof(double) * KB * M);
            r->ti_lambda = malloc(sizeof(double) * M);
            r->ti_u = malloc(sizeof(double) * M);
            r->ti_u_se = malloc(sizeof(double) * M);
            if (!v || !r->ti_lambda || !r->ti_u || !r->ti_u_se) {
                free(v);
                rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
                goto out;
            }
            for (unsigned c = 0; c < C; c++)
                for (unsigned q = 0; q < TI_KB; q++)
                    for (unsigned k = 0; k < M; k++)
                        v[(size_t)(c * TI_KB + q) * M + k] = m.ch[c].ti ? m.ch[c].ti[k * TI_KB + q] : NAN;
            batch_stats(KB, M, v, r->ti_u, r->ti_u_se);
            free(v);
            double f = 0, f2 = 0;
            for (unsigned k = 0; k < M; k++) {
                r->ti_lambda[k] = m.ti_lam[k];
                f += m.ti_w[k] * r->ti_u[k];
                f2 += m.ti_w[k] * m.ti_w[k] * r->ti_u_se[k] * r->ti_u_se[k];
            }
            r->n_ti = M;
            r->dF_ti = f;
            r->dF_ti_se = sqrt(f2);
        }
        /* the encoded problem */
        r->n = n;
        r->k = k;
        r->link_err = m.dm0->link_err;
        r->prior_prec_eff = malloc(sizeof(double) * n * n);
        r->prior_b_eff = malloc(sizeof(double) * n);
        r->X_eff = malloc(sizeof(double) * (size_t)k * n);
        r->y_eff = malloc(sizeof(double) * k);
        r->ell_eff = malloc(sizeof(double) * k);
        if (r->prior_prec_eff && r->prior_b_eff && r->X_eff && r->y_eff && r->ell_eff) {
            for (unsigned i = 0; i < n; i++) {
                r->prior_b_eff[i] = m.mp0.b_eff[0][i];
                for (unsigned j = 0; j < n; j++)
                    r->prior_prec_eff[i * n + j] = m.mp0.A_eff[0][i * nd + j];
            }
            for (unsigned d = 0; d < k; d++) {
                for (unsigned j = 0; j < n; j++)
                    r->X_eff[(size_t)d * n + j] = m.dm0->X_eff[(size_t)d * nd + j];
                r->y_eff[d] = m.dm0->y_eff[d];
                r->ell_eff[d] = m.dm0->ell_eff[d];
            }
        }
        tspu_algo_plan *pl = &r->plan;
        pl->n = n;
        pl->n_dev = nd;
        pl->integrator = TSPU_INT_LM;
        pl->h = m.h;
        pl->beta = 1.0;
        pl->lambda_min = lmin1 * (gauss ? 1.05 : 1.0);
        pl->lambda_max = lmax1 / 1.02;
        pl->relax_steps = tau1;
        pl->burnin = m.burnin0;
        pl->thin = m.thin;
        pl->chains = C;
        pl->batches = Kc;
        pl->batch_samples = L;
        pl->x_range = m.range;
        pl->z = z;
        pl->retries = attempt;
        pl->ramp_steps = m.T;
        pl->hold_steps = m.hold1;
        pl->ramp_pairs = nr;
        snprintf(pl->note, sizeof pl->note,
                 "%s likelihood, K=%u; prior lambda in [%.4g, %.4g] (relaxation %.0f steps); ramp %llu steps in %u "
                 "piece(s), %u ramp(s)%s, holds %llu / %llu steps; IAT %.3g steps%s",
                 gauss ? "Gaussian" : "logistic", k, lmin0 * 1.05, lmax0 / 1.02, tau0, (unsigned long long)m.T, S,
                 nr, bo->reverse ? " + reverse" : "", (unsigned long long)m.hold0, (unsigned long long)m.hold1,
                 r->iat_steps, gauss ? "" : "; no work counter for the logistic likelihood");
        if (r->iat_steps > 0 && (double)L * m.thin < 10 * r->iat_steps)
            alog(o, TSPU_ALGO_LOG_WARN, "batches of %llu steps are shorter than 10 integrated autocorrelation times "
                 "(%.3g steps): the error bars may be too small", (unsigned long long)(L * m.thin), r->iat_steps);
        pool_close(&pool);
        for (unsigned c = 0; c < C; c++)
            if (m.ch[c].saturated)
                r->flags |= TSPU_ALGO_FLAG_SATURATED;
        r->steps = s.steps + s.more_steps;
        r->device_seconds = fmax(sess_seconds(&s), s.more_seconds);
        r->wall_seconds = now_s() - s.t0;
        r->flags |= s.flags;
        r->n_devices = 1 + s.more_n;
        snprintf(r->device, sizeof r->device, "%.63s%.190s", s.info.device, s.more_names);
        alog(o, TSPU_ALGO_LOG_PLAN,
             "bayes: N=%u (device %u lanes), LM, h=%.4g, posterior lambda in [%.4g, %.4g], relaxation %.0f steps, "
             "burn-in %llu, %u chain(s) x %u batches x %llu samples (thin %u), theta range %.4g, %u retries; %s",
             n, nd, m.h, pl->lambda_min, pl->lambda_max, tau1, (unsigned long long)m.burnin0, C, Kc,
             (unsigned long long)L, m.thin, m.range, attempt, pl->note);
    }
out:
    pool_close(&pool);
    if (m.ch)
        for (unsigned c = 0; c < C; c++) {
            free(m.ch[c].x);
            free(m.ch[c].w);
            free(m.ch[c].q);
            free(m.ch[c].du);
            free(m.ch[c].wr);
            free(m.ch[c].qr);
            free(m.ch[c].tw);
            free(m.ch[c].tq);
            free(m.ch[c].xe);
            free(m.ch[c].ti);
        }
    free(m.ch);
    free(m.A0);
    free(m.b0);
    free(m.Xp);
    free(m.ellv);
    free(m.dm0);
    free(curv);
    if (rc)
        tspu_bayes_result_free(r);
    return rc;
}
