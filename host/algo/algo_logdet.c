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
static double bar(unsigned nf, const double *wf, unsigned nr, const double *wr)
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

static uint64_t rng_next(uint64_t *s)
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
            f[i] = wf[rng_next(&st) % n];
            r[i] = wr[rng_next(&st) % n];
        }
        double d = bar(n, f, n, r), j = jarz(n, f);
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
    if (o->mitigate)
        alog(o, TSPU_ALGO_LOG_WARN, "logdet: --mitigate is not implemented for logdet; ignored");
    int integ = o->integrator < 0 ? TSPU_INT_LM : o->integrator;
    if (integ != TSPU_INT_LM)
        alog(o, TSPU_ALGO_LOG_WARN, "logdet: only LM has an unbiased quasi-static limit (EM samples "
                                    "N(0, (A - hA^2/2)^-1/beta)); running the requested integrator anyway");
    if (integ == TSPU_INT_UD) {
        integ = TSPU_INT_LM;
    }
    const double beta = o->beta > 0 ? o->beta : 1.0;
    const double a = sqrt(lmin * lmax); /* reference a*I: geometric middle of the spectrum */
    const double h = o->dt > 0 ? o->dt : 1.0 / lmax;
    const double tau1 = 1.0 / (h * lmin), tau0 = 1.0 / (h * a);
    const double z = tspu_algo_z(o->confidence);
    double range = 8.0 / sqrt(beta * lmin);
    double *A0 = malloc(sizeof(double) * n * n);
    if (!A0)
        return aerr(err, len, TSPU_E_NOMEM, "out of memory");
    for (unsigned i = 0; i < n * n; i++)
        A0[i] = (i % (n + 1) == 0) ? a : 0.0;
    const unsigned maxseg = s.info.max_segments < TSPU_MAX_SEGMENTS ? s.info.max_segments : TSPU_MAX_SEGMENTS;
    if (maxseg < 2) {
        free(A0);
        return aerr(err, len, TSPU_E_UNSUPPORTED, "logdet needs at least 2 schedule segments on the device");
    }
    const uint64_t hold1 = (uint64_t)ceil(5 * tau1), hold0 = (uint64_t)ceil(5 * tau0) + 10;
    const unsigned P0 = 16; /* pilot pairs */
    unsigned cap = 0, np = 0, attempt = 0;
    double *wf = NULL, *wr = NULL;
    uint64_t T = (uint64_t)ceil(8 * tau1);
    sched sf, sr;
    unsigned want = o->samples ? (unsigned)o->samples : P0;
    int planned = o->samples != 0;
    for (;;) {
        if ((rc = sess_map(&s, A0, A, NULL, beta, h, integ, range, 0, err, len)))
            goto out;
        if ((rc = sess_load(&s, o->seed, err, len)))
            goto out;
        make_schedule(s.mp.A_eff[0][0], lmin, lmax, T, maxseg, 0, &sf);
        make_schedule(s.mp.A_eff[0][0], lmin, lmax, T, maxseg, 1, &sr);
        np = 0;
        int sat = 0;
        uint64_t first_hold = 2 * hold0;
        while (np < want && !sat) {
            if (np == cap) {
                cap = cap ? 2 * cap : 64;
                double *t1 = realloc(wf, sizeof(double) * cap), *t2 = t1 ? realloc(wr, sizeof(double) * cap) : NULL;
                if (!t1 || !t2) {
                    if (t1)
                        wf = t1;
                    rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
                    goto out;
                }
                wf = t1;
                wr = t2;
            }
            rc = ramp(&s, np == 0 ? first_hold : hold0, &sf, 0, beta, &wf[np], err, len);
            if (rc == 0)
                rc = ramp(&s, hold1, &sr, 1, beta, &wr[np], err, len);
            if (rc < 0)
                goto out;
            sat = rc == 1;
            rc = 0;
            if (!sat)
                np++;
            if (!sat && np == want && !planned) {
                /* pilot: the forward work spread must allow BAR overlap */
                double m = 0, v = 0;
                for (unsigned i = 0; i < np; i++)
                    m += wf[i] / np;
                for (unsigned i = 0; i < np; i++)
                    v += (wf[i] - m) * (wf[i] - m) / (np - 1);
                if (v > 4.0 && T < (uint64_t)1 << 34 && !(o->samples)) {
                    alog(o, TSPU_ALGO_LOG_PLAN, "logdet pilot: var(beta W_F) = %.3g at ramp %llu steps: doubling the ramp",
                         v, (unsigned long long)T);
                    T *= 2;
                    make_schedule(s.mp.A_eff[0][0], lmin, lmax, T, maxseg, 0, &sf);
                    make_schedule(s.mp.A_eff[0][0], lmin, lmax, T, maxseg, 1, &sr);
                    np = 0; /* discard: the works belong to the old ramp */
                    first_hold = hold0;
                    continue;
                }
                double sb, sj;
                bootstrap(np, wf, wr, &sb, &sj);
                double target = o->tol / z / 2.0; /* se(log det) = 2 se(Delta f) */
                double need = ceil(np * (sb / target) * (sb / target));
                double per = 2.0 * T + hold0 + hold1;
                if (need * per > (double)o->max_steps) {
                    need = floor((double)o->max_steps / per);
                    r->flags |= TSPU_ALGO_FLAG_TRUNCATED;
                    alog(o, TSPU_ALGO_LOG_WARN, "logdet: tol %.3g needs more than max_steps; running %.0f ramp pairs",
                         o->tol, need);
                }
                if (need < np)
                    need = np;
                if (need > 1e6)
                    need = 1e6;
                want = (unsigned)need;
                planned = 1;
                alog(o, TSPU_ALGO_LOG_PLAN,
                     "logdet pilot: %u pairs, var(beta W_F) = %.3g, se(log det) = %.3g vs target %.3g: %u pairs", np, v,
                     2 * sb, o->tol / z, want);
            }
        }
        if (!sat)
            break;
        if (attempt >= o->max_retries) {
            r->flags |= TSPU_ALGO_FLAG_SATURATED;
            alog(o, TSPU_ALGO_LOG_WARN, "logdet: the unit still saturates after %u retries (flag saturated)", attempt);
            if (np < 2) {
                rc = aerr(err, len, TSPU_E_SATURATED, "logdet: the unit saturated in every attempt");
                goto out;
            }
            break;
        }
        r->flags |= TSPU_ALGO_FLAG_RETRIED;
        alog(o, TSPU_ALGO_LOG_WARN, "the unit saturated at x_range %.4g: retrying with %.4g", range, 2 * range);
        range *= 2;
        attempt++;
    }
    {
        const double aq = s.mp.A_eff[0][0];
        double df = bar(np, wf, np, wr), dj = jarz(np, wf), sb, sj;
        bootstrap(np, wf, wr, &sb, &sj);
        r->estimate = malloc(sizeof(double));
        r->std_err = malloc(sizeof(double));
        r->quant_err = malloc(sizeof(double));
        r->A_eff = malloc(sizeof(double) * n * n);
        if (!r->estimate || !r->std_err || !r->quant_err || !r->A_eff) {
            rc = aerr(err, len, TSPU_E_NOMEM, "out of memory");
            goto out;
        }
        r->estimate[0] = n * log(aq) + 2 * df;
        r->std_err[0] = 2 * sb;
        r->logdet_jarzynski = n * log(aq) + 2 * dj;
        r->logdet_jarzynski_se = 2 * sj;
        for (unsigned i = 0; i < n; i++)
            for (unsigned k = 0; k < n; k++)
                r->A_eff[i * n + k] = s.mp.A_eff[1][i * s.nd + k];
        /* quantisation, first order: log det A_eff - log det A ~= tr(A^-1 (A_eff - A))
         * (and a_q vs a enters exactly through N log a_q) */
        double q = 0, col[TSPU_N_MAX];
        for (unsigned k = 0; k < n; k++) {
            for (unsigned i = 0; i < n; i++)
                col[i] = r->A_eff[i * n + k] - A[i * n + k];
            la_spd_solve(n, L, col);
            q += col[k];
        }
        r->quant_err[0] = q;
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
        r->plan.burnin = 2 * hold0;
        r->plan.thin = 1;
        r->plan.chains = 1;
        r->plan.x_range = range;
        r->plan.z = z;
        r->plan.retries = attempt;
        r->plan.a = aq;
        r->plan.ramp_steps = T;
        r->plan.hold_steps = hold1;
        r->plan.ramp_pairs = np;
        /* dissipation (<W_F> + <W_R>)/2 in kT; the Jarzynski bias for
         * Gaussian work is about var(beta W_F)/(2 n) */
        snprintf(r->plan.note, sizeof r->plan.note,
                 "BAR on %u forward + %u reverse ramps of %llu steps (%u segments), a = %.4g; mean dissipation %.3g kT; "
                 "forward Jarzynski %.5g +- %.2g",
                 np, np, (unsigned long long)T, sf.nseg, aq, 0.5 * (mf + mr), r->logdet_jarzynski,
                 r->logdet_jarzynski_se);
        fill_result_common(r, &s, 1, 1);
        static const char *names[] = {"EM", "LM", "UD"};
        alog(o, TSPU_ALGO_LOG_PLAN, "logdet: N=%u, %s, h=%.4g, beta=%.3g, lambda in [%.4g, %.4g], relaxation %.0f steps, "
             "holds %llu / %llu steps; %s",
             n, names[integ % 3], h, beta, r->plan.lambda_min, r->plan.lambda_max, tau1,
             (unsigned long long)hold0, (unsigned long long)hold1, r->plan.note);
        if (s.last_flags & TSPU_FLAG_SATURATED)
            r->flags |= TSPU_ALGO_FLAG_SATURATED;
    }
out:
    free(A0);
    free(wf);
    free(wr);
    return rc;
}
