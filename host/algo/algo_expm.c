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
    if (rc == TSPU_E_FIFO_OVERFLOW) {
        s->flags |= TSPU_ALGO_FLAG_FIFO_OVERFLOW;
        alog(s->o, TSPU_ALGO_LOG_WARN, "the unit dropped samples (FIFO full; no FIFO stall on this device): lag "
                                       "pairs across a gap are wrong (flag fifo_overflow)");
        rc = 0;
    }
    if (rc)
        return dev_err(s, rc, err, len, "streaming samples");
    tspu_status st;
    if ((rc = tspu_read_status(s->dev, &st, NULL)))
        return dev_err(s, rc, err, len, "status");
    s->steps += st.steps;
    s->last_flags = st.flags;
    return (st.flags & TSPU_FLAG_SATURATED) ? 1 : 0;
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

int tspu_algo_expm(tspu_dev *dev, unsigned n, const double *A, const tspu_algo_opts *o, tspu_algo_result *r,
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
    unsigned K0 = o->batches ? o->batches : 50, Kt = 0;
    if (o->samples) {
        Kt = o->batches ? o->batches : 50;
        Lb = o->samples / Kt ? o->samples / Kt : 1;
    }
    acc_t a;
    memset(&a, 0, sizeof a);
    a.n = n;
    a.o = o;
    a.m = mlag;
    a.Lb = Lb;
    unsigned attempt = 0;
    double *E = malloc(sizeof(double) * n * n);
    double *Z = NULL;
    if (!E)
        return aerr(err, len, TSPU_E_NOMEM, "out of memory");
    for (;;) {
        a.K = 0;
        a.t = 0;
        if (a.cap) {
            memset(a.S, 0, sizeof(double) * a.cap * n * n);
            memset(a.C, 0, sizeof(double) * a.cap * n * n);
            memset(a.cs, 0, sizeof(uint64_t) * a.cap);
            memset(a.cc, 0, sizeof(uint64_t) * a.cap);
        }
        if ((rc = sess_map(&s, A, NULL, NULL, beta, h, integ, range, 0, err, len)))
            goto out;
        if ((rc = sess_load(&s, o->seed, err, len)))
            goto out;
        unsigned Kfirst = Kt ? Kt : K0;
        uint64_t total = (uint64_t)Kfirst * Lb;
        int sat = 0;
        uint64_t done = 0;
        while (done < total && !sat) {
            uint64_t ns = total - done > 0xffffffffull ? 0xffffffffull : total - done;
            rc = stream_program(&s, &a, done == 0 ? burnin : 0, thin, (uint32_t)ns, err, len);
            if (rc < 0)
                goto out;
            sat = rc == 1;
            rc = 0;
            done += ns;
        }
        if (!sat && !Kt) {
            /* pilot: plan */
            Z = realloc(Z, sizeof(double) * a.K * n * n);
            double *mu = malloc(sizeof(double) * 2 * n * n);
            if (!Z || !mu || estimate(&a, a.K, s.mp.op_x, symm, E, Z)) {
                free(mu);
                rc = aerr(err, len, TSPU_E_NOMEM, "expm: estimate failed (out of memory or singular covariance)");
                goto out;
            }
            batch_stats(a.K, n * n, Z, mu, mu + n * n);
            double scale = la_maxabs((size_t)n * n, mu), semax = la_maxabs((size_t)n * n, mu + n * n);
            double target = o->tol * scale / z;
            double need = ceil(a.K * (semax / target) * (semax / target));
            free(mu);
            double cost = need * Lb * thin;
            if (cost > (double)o->max_steps) {
                need = floor((double)o->max_steps / ((double)Lb * thin));
                r->flags |= TSPU_ALGO_FLAG_TRUNCATED;
                alog(o, TSPU_ALGO_LOG_WARN, "expm: tol %.3g needs more than max_steps: running %.0f batches", o->tol, need);
            }
            if (need < a.K)
                need = a.K;
            alog(o, TSPU_ALGO_LOG_PLAN, "expm pilot: %u batches, max stderr %.3g vs target %.3g: %.0f batches", a.K,
                 semax, target, need);
            total = (uint64_t)need * Lb;
            while (done < total && !sat) {
                uint64_t ns = total - done > 0xffffffffull ? 0xffffffffull : total - done;
                rc = stream_program(&s, &a, 0, thin, (uint32_t)ns, err, len);
                if (rc < 0)
                    goto out;
                sat = rc == 1;
                rc = 0;
                done += ns;
            }
        }
        if (!sat)
            break;
        if (attempt >= o->max_retries) {
            r->flags |= TSPU_ALGO_FLAG_SATURATED;
            alog(o, TSPU_ALGO_LOG_WARN, "expm: the unit still saturates after %u retries (flag saturated)", attempt);
            break;
        }
        r->flags |= TSPU_ALGO_FLAG_RETRIED;
        alog(o, TSPU_ALGO_LOG_WARN, "the unit saturated at x_range %.4g: retrying with %.4g", range, 2 * range);
        range *= 2;
        attempt++;
    }
    /* a trailing partial batch is dropped: every batch has Lb samples */
    {
        unsigned K = a.K;
        if (K > 1 && a.cs[K - 1] < a.Lb)
            K--;
        Z = realloc(Z, sizeof(double) * (K ? K : 1) * n * n);
        r->estimate = malloc(sizeof(double) * n * n);
        r->std_err = malloc(sizeof(double) * n * n);
        r->quant_err = calloc((size_t)n * n, sizeof(double));
        r->A_eff = malloc(sizeof(double) * n * n);
        if (!Z || !r->estimate || !r->std_err || !r->quant_err || !r->A_eff ||
            estimate(&a, K, s.mp.op_x, symm, E, Z)) {
            rc = aerr(err, len, TSPU_E_NOMEM, "expm: estimate failed (out of memory or singular covariance)");
            goto out;
        }
        double *mu = r->estimate;
        batch_stats(K, n * n, Z, mu, r->std_err);
        memcpy(r->estimate, E, sizeof(double) * n * n);
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < n; j++)
                r->A_eff[i * n + j] = s.mp.A_eff[0][i * s.nd + j];
        r->samples = (uint64_t)K * a.Lb;
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
        r->plan.chains = 1;
        r->plan.batches = K;
        r->plan.batch_samples = a.Lb;
        r->plan.x_range = range;
        r->plan.z = z;
        r->plan.retries = attempt;
        r->plan.lag_steps = k;
        r->plan.bias_est = bias;
        snprintf(r->plan.note, sizeof r->plan.note,
                 "estimator: C(k) S^-1 = (I - hA)^k with k = 1/h = %u (lag %u samples); bias ~ (h/2) max|l^2 e^-l| = "
                 "%.2g absolute, not in std_err", k, mlag, bias);
        fill_result_common(r, &s, n, n);
        if (s.last_flags & TSPU_FLAG_SATURATED)
            r->flags |= TSPU_ALGO_FLAG_SATURATED;
        alog(o, TSPU_ALGO_LOG_PLAN,
             "expm: N=%u, EM, h=%.4g, Re lambda in [%.4g, ...], |lambda| <= %.4g, relaxation %.0f steps, burn-in %llu, "
             "thin %u, %u batches x %llu samples, x_range %.4g; %s",
             n, h, remin, absmax, relax, (unsigned long long)burnin, thin, K, (unsigned long long)a.Lb, range,
             r->plan.note);
    }
out:
    free(E);
    free(Z);
    free(a.S);
    free(a.C);
    free(a.cs);
    free(a.cc);
    return rc;
}
