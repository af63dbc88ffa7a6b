/* algo_logdet.c - log det A from the work of ramps between a*I and A,
 * accumulated on the unit (two coupling sets, lambda schedule segments,
 * tspu_read_work), forward and reverse, combined with Bennett's acceptance
 * ratio.  Derivation, schedule and error model: docs/algorithms.md.
 *
 *   Z_lambda = (2 pi / beta)^(N/2) det(A_lambda)^(-1/2)        (b = 0)
 *   Delta F  = -(1/beta) ln(Z_1 / Z_0) = (1/(2 beta)) (log det A - N log a)
 *   log det A = N log a + 2 beta Delta F = N log a + 2 Delta f,
 *   Delta f = beta Delta F from BAR on the works beta W_F, beta W_R. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algo_internal.h"

/* ---- BAR ----------------------------------------------------------------------- */
static double fermi(double x) { return x > 0 ? exp(-x) / (1.0 + exp(-x)) : 1.0 / (1.0 + exp(x)); }

/* Delta f solving sum_F fermi(wF - df + M) = sum_R fermi(wR + df - M),
 * M = ln(nF / nR) (Bennett 1976; Shirts et al. 2003) */
double algo_bar(unsigned nf, const double *wf, unsigned nr, const double *wr)
{
    const double M = log((double)nf / nr);
    double lo = INFINITY, hi = -INFINITY;
    for (unsigned i = 0; i < nf; i++) {
        lo = fmin(lo, wf[i]);
        hi = fmax(hi, wf[i]);
    }
    for (unsigned i = 0; i < nr; i++) {
        lo = fmin(lo, -wr[i]);
        hi = fmax(hi, -wr[i]);
    }
    lo -= 50;
    hi += 50;
    for (int it = 0; it < 64; it++) {
        double mid = 0.5 * (lo + hi), g = 0;
        for (unsigned i = 0; i < nf; i++)
            g += fermi(wf[i] - mid + M);
        for (unsigned i = 0; i < nr; i++)
            g -= fermi(wr[i] + mid - M);
        if (g > 0) /* g increases with df */
            hi = mid;
        else
            lo = mid;
    }
    return 0.5 * (lo + hi);
}

/* Jarzynski: -ln mean exp(-w) */
static double jarz(unsigned n, const double *w)
{
    double m = INFINITY, s = 0;
    for (unsigned i = 0; i < n; i++)
        m = fmin(m, w[i]);
    for (unsigned i = 0; i < n; i++)
        s += exp(-(w[i] - m));
    return m - log(s / n);
}

uint64_t algo_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* bootstrap standard errors of BAR and forward Jarzynski */
static void bootstrap(unsigned n, const double *wf, const double *wr, double *se_bar, double *se_jar)
{
    enum { B = 200 };
    double *f = malloc(sizeof(double) * n), *r = malloc(sizeof(double) * n);
    double sb = 0, sb2 = 0, sj = 0, sj2 = 0;
    uint64_t st = 12345;
    if (!f || !r) {
        *se_bar = *se_jar = INFINITY;
        free(f);
        free(r);
        return;
    }
    for (int b = 0; b < B; b++) {
        for (unsigned i = 0; i < n; i++) {
            f[i] = wf[algo_rng_next(&st) % n];
            r[i] = wr[algo_rng_next(&st) % n];
        }
        double d = algo_bar(n, f, n, r), j = jarz(n, f);
        sb += d;
        sb2 += d * d;
        sj += j;
        sj2 += j * j;
    }
    *se_bar = sqrt(fmax(0, sb2 / B - (sb / B) * (sb / B)) * B / (B - 1));
    *se_jar = sqrt(fmax(0, sj2 / B - (sj / B) * (sj / B)) * B / (B - 1));
    free(f);
    free(r);
}

/* ---- schedule ------------------------------------------------------------------ */
/* Piecewise-linear lambda(t) with equal time per segment of equal
 * "thermodynamic length" of a two-mode proxy (eigenvalues a -> lmin and
 * a -> lmax): friction zeta(lambda) = sum (l - a)^2 / mu(lambda)^3 for an
 * overdamped mode of stiffness mu; the minimum-dissipation protocol moves
 * at speed ~ zeta^-1/2 (slow where the slow mode is soft). */
typedef struct {
    unsigned nseg;
    uint32_t steps[TSPU_MAX_SEGMENTS];
    int32_t dl[TSPU_MAX_SEGMENTS];
} sched;

static void make_schedule(double a, double lmin, double lmax, uint64_t T, unsigned maxseg, int reverse, sched *sc)
{
    enum { G = 2000 };
    double ell[G + 1];
    ell[0] = 0;
    for (int g = 1; g <= G; g++) {
        double l = (g - 0.5) / G;
        double m1 = a + l * (lmin - a), m2 = a + l * (lmax - a);
        double zeta = (lmin - a) * (lmin - a) / (m1 * m1 * m1) + (lmax - a) * (lmax - a) / (m2 * m2 * m2);
        ell[g] = ell[g - 1] + sqrt(zeta) / G;
    }
    unsigned S = maxseg - 1; /* the last entry is the exact-endpoint fix-up */
    if (ell[G] <= 0)
        S = 1;
    double knots[TSPU_MAX_SEGMENTS + 1];
    knots[0] = 0;
    int g = 0;
    for (unsigned s = 1; s < S; s++) {
        double target = ell[G] * s / S;
        while (g < G && ell[g + 1] < target)
            g++;
        double frac = ell[g + 1] > ell[g] ? (target - ell[g]) / (ell[g + 1] - ell[g]) : 0;
        knots[s] = (g + frac) / G;
    }
    knots[S] = 1.0;
    /* segments in the direction of travel; accumulator arithmetic is exact */
    int64_t acc = reverse ? (int64_t)TSPU_LAMBDA_ACC_ONE : 0;
    uint64_t per = T / S ? T / S : 1;
    sc->nseg = 0;
    for (unsigned s = 0; s < S; s++) {
        double lt = reverse ? knots[S - 1 - s] : knots[s + 1];
        int64_t target = (int64_t)llround(lt * 2147483648.0);
        int64_t span = target - acc;
        int64_t dl = span / (int64_t)per; /* toward zero: never overshoots */
        if (dl == 0)
            continue;
        sc->steps[sc->nseg] = (uint32_t)per;
        sc->dl[sc->nseg] = (int32_t)dl;
        sc->nseg++;
        acc += dl * (int64_t)per;
    }
    int64_t end = reverse ? 0 : (int64_t)TSPU_LAMBDA_ACC_ONE;
    if (acc != end) {
        sc->steps[sc->nseg] = 1;
        sc->dl[sc->nseg] = (int32_t)(end - acc);
        sc->nseg++;
    }
}

static void set_program(sess *s, uint64_t hold, const sched *sc, int reverse)
{
    s->cfg.burnin = (uint32_t)(hold > 0xffffffffull ? 0xffffffffull : hold);
    s->cfg.thin = 1;
    s->cfg.n_samples = 0;
    s->cfg.lambda_init = reverse ? TSPU_LAMBDA_ACC_ONE : 0;
    s->cfg.n_segments = sc->nseg;
    for (unsigned k = 0; k < sc->nseg; k++) {
        s->cfg.seg[k].steps = sc->steps[k];
        s->cfg.seg[k].dlambda = sc->dl[k];
    }
}

/* one ramp; returns 1 on saturation */
static int ramp(sess *s, uint64_t hold, const sched *sc, int reverse, double beta, double *w, char *err, size_t len)
{
    set_program(s, hold, sc, reverse);
    int rc = sess_run(s, err, len);
    if (rc)
        return rc;
    if (s->last_flags & TSPU_FLAG_SATURATED)
        return 1;
    int64_t W;
    if ((rc = tspu_read_work(s->dev, &W)))
        return dev_err(s, rc, err, len, "reading work");
    *w = beta * (double)W * s->mp.lsb_work;
    return 0;
}

static double *wf_tmp_alloc(unsigned k) { return malloc(sizeof(double) * (k ? k : 1)); }

/* the ramps of one chain */
typedef struct {
    double *wf, *wr;  /* beta W forward / reverse, np each */
    unsigned np, cap;
    int started;      /* mapped, seeded, holding at lambda = 0 */
    double aq;        /* its quantised reference a */
    double qerr;      /* first-order quantisation error of its A_eff */
    double A_eff[TSPU_N_MAX * TSPU_N_MAX]; /* its set 1 (n x n) */
} lchain;

typedef struct {
    unsigned n;
    const double *A, *A0, *L;
    double beta, h, range, lmin, lmax;
    int integ, mitigate;
    uint64_t T, hold0, hold1;
    unsigned maxseg, want; /* ramp pairs per chain */
    lchain *ch;
    unsigned nseg;         /* segments of the forward schedule */
    int stop;
} lrun;

static int l_push(lchain *c)
{
    if (c->np < c->cap)
        return 0;
    unsigned cap = c->cap ? 2 * c->cap : 64;
    double *t1 = realloc(c->wf, sizeof(double) * cap);
    if (!t1)
        return -1;
    c->wf = t1;
    double *t2 = realloc(c->wr, sizeof(double) * cap);
    if (!t2)
        return -1;
    c->wr = t2;
    c->cap = cap;
    return 0;
}

/* chain c: a fresh start (its own rounding of A with --mitigate, seed + c,
 * a long first hold) unless started (chain 0 after the pilot), then ramp
 * pairs up to m->want */
static int l_chain(sess *s, unsigned c, void *ctx, char *err, size_t len)
{
    lrun *m = ctx;
    lchain *ch = &m->ch[c];
    const unsigned n = m->n;
    int rc;
    uint64_t first_hold = m->hold0;
    if (!ch->started) {
        sess_chain_rng(s, c);
        if ((rc = sess_map(s, m->A0, m->A, NULL, m->beta, m->h, m->integ, m->range, m->mitigate ? 2 : 0, err, len)))
            return rc;
        if ((rc = sess_load(s, s->o->seed + c, err, len)))
            return rc;
        ch->started = 1;
        ch->aq = s->mp.A_eff[0][0];
        for (unsigned i = 0; i < n; i++)
            for (unsigned k = 0; k < n; k++)
                ch->A_eff[i * n + k] = s->mp.A_eff[1][i * s->nd + k];
        /* quantisation, first order: log det A_eff - log det A ~= tr(A^-1 (A_eff - A))
         * (and a_q vs a enters exactly through N log a_q) */
        double q = 0, col[TSPU_N_MAX];
        for (unsigned k = 0; k < n; k++) {
            for (unsigned i = 0; i < n; i++)
                col[i] = ch->A_eff[i * n + k] - m->A[i * n + k];
            la_spd_solve(n, m->L, col);
            q += col[k];
        }
        ch->qerr = q;
        first_hold = 2 * m->hold0;
    }
    sched sf, sr;
    make_schedule(ch->aq, m->lmin, m->lmax, m->T, m->maxseg, 0, &sf);
    make_schedule(ch->aq, m->lmin, m->lmax, m->T, m->maxseg, 1, &sr);
    if (c == 0)
        m->nseg = sf.nseg;
    while (ch->np < m->want) {
        if (chain_stopped(&m->stop))
            return 0;
        if (l_push(ch))
            return aerr(err, len, TSPU_E_NOMEM, "out of memory");
        rc = ramp(s, first_hold, &sf, 0, m->beta, &ch->wf[ch->np], err, len);
        if (rc == 0)
            rc = ramp(s, m->hold1, &sr, 1, m->beta, &ch->wr[ch->np], err, len);
        if (rc)
            return rc;
        first_hold = m->hold0;
        ch->np++;
    }
    return 0;
}

int tspu_algo_logdet(tspu_dev *dev, unsigned n, const double *A, const tspu_algo_opts *o, tspu_algo_result *r,
                     char *err, size_t len)
{
    memset(r, 0, sizeof *r);
    int rc = tspu_algo_check_spd(n, A, err, len);
    if (rc)
        return rc;
    double L[TSPU_N_MAX * TSPU_N_MAX];
    la_chol(n, A, L);
    const double lmax = la_lambda_max_sym(n, A) * 1.02, lmin = la_lambda_min_spd(n, L) / 1.05;
    sess s;
    if ((rc = sess_open(&s, dev, o, n, err, len)))
        return rc;
    int integ = o->integrator < 0 ? TSPU_INT_LM : o->integrator;
    if (integ != TSPU_INT_LM)
        alog(o, TSPU_ALGO_LOG_WARN, "logdet: only LM has an unbiased quasi-static limit (EM samples "
                                    "N(0, (A - hA^2/2)^-1/beta)); running the requested integrator anyway");
    if (integ == TSPU_INT_UD) {
        integ = TSPU_INT_LM;
    }
    unsigned C = plan_chains(o);
    if (o->mitigate && C < 4) {
        alog(o, TSPU_ALGO_LOG_WARN, "--mitigate pools chains with independently rounded couplings: using 4 chains");
        C = 4;
    }
    const double beta = o->beta > 0 ? o->beta : 1.0;
    const double a = sqrt(lmin * lmax); /* reference a*I: geometric middle of the spectrum */
    const double h = o->dt > 0 ? o->dt : 1.0 / lmax;
    const double tau1 = 1.0 / (h * lmin), tau0 = 1.0 / (h * a);
    const double z = tspu_algo_z(o->confidence);
    double range = 8.0 / sqrt(beta * lmin);
    double *A0 = malloc(sizeof(double) * n * n);
    lchain *ch = calloc(C, sizeof *ch);
    spool pool = {.D = 1, .s = {&s}};
    double *wf = NULL, *wr = NULL;
    if (!A0 || !ch) {
        rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < n * n; i++)
        A0[i] = (i % (n + 1) == 0) ? a : 0.0;
    if ((rc = pool_open(&pool, &s, err, len)))
        goto out;
    /* the schedule must be the same on every device: the fewest segments */
    unsigned maxseg = TSPU_MAX_SEGMENTS;
    for (unsigned d = 0; d < pool.D; d++)
        if (pool.s[d]->info.max_segments < maxseg)
            maxseg = pool.s[d]->info.max_segments;
    if (maxseg < 2) {
        rc = aerr(err, len, TSPU_E_UNSUPPORTED, "logdet needs at least 2 schedule segments on the device");
        goto out;
    }
    const unsigned P0 = 16; /* pilot pairs */
    lrun m = {.n = n, .A = A, .A0 = A0, .L = L, .beta = beta, .h = h, .lmin = lmin, .lmax = lmax, .integ = integ,
              .mitigate = o->mitigate, .hold0 = (uint64_t)ceil(5 * tau0) + 10, .hold1 = (uint64_t)ceil(5 * tau1),
              .maxseg = maxseg, .ch = ch};
    unsigned attempt = 0;
    for (;;) {
        for (unsigned c = 0; c < C; c++)
            ch[c].np = ch[c].started = 0;
        m.range = range;
        m.T = (uint64_t)ceil(8 * tau1);
        m.stop = 0;
        int sat = 0;
        if (o->samples) {
            m.want = (unsigned)((o->samples + C - 1) / C);
        } else {
            /* pilot: chain 0 on device 0; the forward work spread must allow
             * BAR overlap (else a twice longer ramp), then the plan */
            for (;;) {
                m.want = P0;
                rc = l_chain(&s, 0, &m, err, len);
                if (rc < 0)
                    goto out;
                if ((sat = rc == 1))
                    break;
                const unsigned np = ch[0].np;
                double mu = 0, v = 0;
                for (unsigned i = 0; i < np; i++)
                    mu += ch[0].wf[i] / np;
                for (unsigned i = 0; i < np; i++)
                    v += (ch[0].wf[i] - mu) * (ch[0].wf[i] - mu) / (np - 1);
                if (v > 4.0 && m.T < (uint64_t)1 << 34) {
                    alog(o, TSPU_ALGO_LOG_PLAN, "logdet pilot: var(beta W_F) = %.3g at ramp %llu steps: doubling the ramp",
                         v, (unsigned long long)m.T);
                    m.T *= 2;
                    ch[0].np = 0; /* discard: the works belong to the old ramp */
                    continue;
                }
                double sb, sj;
                bootstrap(np, ch[0].wf, ch[0].wr, &sb, &sj);
                double target = o->tol / z / 2.0; /* se(log det) = 2 se(Delta f) */
                double need = ceil(np * (sb / target) * (sb / target));
                double per = 2.0 * m.T + m.hold0 + m.hold1;
                if (need * per > (double)o->max_steps) {
                    need = floor((double)o->max_steps / per);
                    r->flags |= TSPU_ALGO_FLAG_TRUNCATED;
                    alog(o, TSPU_ALGO_LOG_WARN, "logdet: tol %.3g needs more than max_steps; running %.0f ramp pairs",
                         o->tol, need);
                }
                if (need > 1e6)
                    need = 1e6;
                /* per chain; every chain gets at least the pilot's pairs (its
                 * own BAR with --mitigate) */
                need = ceil(need / C);
                if (need < np)
                    need = np;
                m.want = (unsigned)need;
                alog(o, TSPU_ALGO_LOG_PLAN,
                     "logdet pilot: %u pairs, var(beta W_F) = %.3g, se(log det) = %.3g vs target %.3g: %u chain(s) x %u "
                     "pairs", np, v, 2 * sb, o->tol / z, C, m.want);
                break;
            }
        }
        if ((rc = run_attempt(&pool, C, l_chain, &m, &m.stop, &sat, err, len)) < 0)
            goto out;
        if (!sat)
            break;
        if (attempt >= o->max_retries) {
            r->flags |= TSPU_ALGO_FLAG_SATURATED;
            alog(o, TSPU_ALGO_LOG_WARN, "logdet: the unit still saturates after %u retries (flag saturated)", attempt);
            break;
        }
        note_retry(o, &r->flags, "x_range", &range);
        attempt++;
    }
    {
        /* all works in chain order */
        unsigned np = 0, nc = 0;
        for (unsigned c = 0; c < C; c++)
            np += ch[c].np;
        wf = malloc(sizeof(double) * (np ? np : 1));
        wr = malloc(sizeof(double) * (np ? np : 1));
        r->estimate = malloc(sizeof(double));
        r->std_err = malloc(sizeof(double));
        r->quant_err = malloc(sizeof(double));
        r->A_eff = malloc(sizeof(double) * n * n);
        if (!wf || !wr || !r->estimate || !r->std_err || !r->quant_err || !r->A_eff) {
            rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
            goto out;
        }
        for (unsigned c = 0, k = 0; c < C; c++) {
            memcpy(wf + k, ch[c].wf, sizeof(double) * ch[c].np);
            memcpy(wr + k, ch[c].wr, sizeof(double) * ch[c].np);
            k += ch[c].np;
            nc += ch[c].np >= 2;
        }
        if (np < 2 || (o->mitigate && nc < 2)) {
            rc = aerr(err, len, TSPU_E_SATURATED, "logdet: the unit saturated in every attempt");
            goto out;
        }
        const double aq = ch[0].aq;
        if (!o->mitigate) {
            /* one A_eff for every chain: the works are draws of the same two
             * distributions, so BAR on all of them (its maximum-likelihood
             * form) is the efficient pool; bootstrap error bars */
            double df = algo_bar(np, wf, np, wr), dj = jarz(np, wf), sb, sj;
            bootstrap(np, wf, wr, &sb, &sj);
            r->estimate[0] = n * log(aq) + 2 * df;
            r->std_err[0] = 2 * sb;
            r->logdet_jarzynski = n * log(aq) + 2 * dj;
            r->logdet_jarzynski_se = 2 * sj;
            r->quant_err[0] = ch[0].qerr;
        } else {
            /* every chain has its own rounded A_eff,c (E[A_eff,c] = A): each
             * chain's BAR estimates log det A_eff,c; the mean over chains
             * cancels the first-order rounding error.  Pooled works would
             * mix free-energy differences nonlinearly (an exponential
             * average over chains), so: the mean of the per-chain values,
             * error bar the larger of the spread of the chain values / sqrt(C)
             * (rounding + sampling) and the combined bootstrap errors */
            double *e[2] = {wf_tmp_alloc(C), wf_tmp_alloc(C)}, sum[2] = {0, 0}, s2[2] = {0, 0}, q = 0;
            if (!e[0] || !e[1]) {
                free(e[0]);
                free(e[1]);
                rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
                goto out;
            }
            unsigned k = 0, used = 0;
            for (unsigned c = 0; c < C; c++) {
                if (ch[c].np < 2) {
                    k += ch[c].np;
                    continue;
                }
                double sb, sj;
                bootstrap(ch[c].np, wf + k, wr + k, &sb, &sj);
                {
                    e[0][used] = n * log(ch[c].aq) + 2 * algo_bar(ch[c].np, wf + k, ch[c].np, wr + k);
                    e[1][used] = n * log(ch[c].aq) + 2 * jarz(ch[c].np, wf + k);
                    sum[0] += e[0][used];
                    sum[1] += e[1][used];
                    s2[0] += 4 * sb * sb;
                    s2[1] += 4 * sj * sj;
                    q += ch[c].qerr;
                    used++;
                }
                k += ch[c].np;
            }
            double sd[2] = {0, 0};
            for (int t = 0; t < 2; t++) {
                double mu = sum[t] / used, ss = 0;
                for (unsigned c = 0; c < used; c++)
                    ss += (e[t][c] - mu) * (e[t][c] - mu);
                sd[t] = sqrt(ss / ((double)used * (used - 1)));
            }
            r->estimate[0] = sum[0] / used;
            r->std_err[0] = fmax(sd[0], sqrt(s2[0]) / used);
            r->logdet_jarzynski = sum[1] / used;
            r->logdet_jarzynski_se = fmax(sd[1], sqrt(s2[1]) / used);
            r->quant_err[0] = q / used;
            free(e[0]);
            free(e[1]);
        }
        memcpy(r->A_eff, ch[0].A_eff, sizeof(double) * n * n);
        r->work_fwd = wf;
        r->work_rev = wr;
        wf = wr = NULL;
        r->samples = np;
        double mf = 0, mr = 0;
        for (unsigned i = 0; i < np; i++) {
            mf += r->work_fwd[i] / np;
            mr += r->work_rev[i] / np;
        }
        r->plan.n = n;
        r->plan.n_dev = s.nd;
        r->plan.integrator = integ;
        r->plan.h = h;
        r->plan.beta = beta;
        r->plan.lambda_min = lmin * 1.05;
        r->plan.lambda_max = lmax / 1.02;
        r->plan.relax_steps = tau1;
        r->plan.burnin = 2 * m.hold0;
        r->plan.thin = 1;
        r->plan.chains = C;
        r->plan.x_range = range;
        r->plan.z = z;
        r->plan.retries = attempt;
        r->plan.a = aq;
        r->plan.ramp_steps = m.T;
        r->plan.hold_steps = m.hold1;
        r->plan.ramp_pairs = np;
        pool_close(&pool);
        /* dissipation (<W_F> + <W_R>)/2 in kT; the Jarzynski bias for
         * Gaussian work is about var(beta W_F)/(2 n) */
        snprintf(r->plan.note, sizeof r->plan.note,
                 "BAR on %u forward + %u reverse ramps of %llu steps (%u segments) in %u chain(s)%s, a = %.4g; mean "
                 "dissipation %.3g kT; forward Jarzynski %.5g +- %.2g",
                 np, np, (unsigned long long)m.T, m.nseg, C, o->mitigate ? " (mean of per-chain BAR, --mitigate)" : "",
                 aq, 0.5 * (mf + mr), r->logdet_jarzynski, r->logdet_jarzynski_se);
        fill_result_common(r, &s, 1, 1);
        static const char *names[] = {"EM", "LM", "UD"};
        alog(o, TSPU_ALGO_LOG_PLAN, "logdet: N=%u, %s, h=%.4g, beta=%.3g, lambda in [%.4g, %.4g], relaxation %.0f steps, "
             "holds %llu / %llu steps; %s",
             n, names[integ % 3], h, beta, r->plan.lambda_min, r->plan.lambda_max, tau1,
             (unsigned long long)m.hold0, (unsigned long long)m.hold1, r->plan.note);
        if (s.last_flags & TSPU_FLAG_SATURATED)
            r->flags |= TSPU_ALGO_FLAG_SATURATED;
    }
out:
    pool_close(&pool);
    if (ch)
        for (unsigned c = 0; c < C; c++) {
            free(ch[c].wf);
            free(ch[c].wr);
        }
    free(ch);
    free(A0);
    free(wf);
    free(wr);
    return rc;
}
