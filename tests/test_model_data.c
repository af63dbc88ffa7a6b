/*
 * test_model_data.c - the data-driven drift of the model (docs/numerics.md,
 * "Data-driven drift"): deterministic integer semantics.
 *
 *  1. an independent, deliberately plain reference step (its own rounding,
 *     clamps, LFSR113 noise, schedule) run in lockstep with the model for
 *     Gaussian and logistic data, EM / LM / UD, N = 2, 3, 5, 8, 16, lambda
 *     ramps up and down, holds at 0 and 1, tame and saturation-heavy data,
 *     80 random problems;
 *     mutated references (rounding, table index, clamp counting, lambda,
 *     work) must each be caught
 *  2. special cases: lambda held at 0 = the data-off run; logistic work
 *     stays 0; the work recomputed from the observed trajectory with
 *     tspu_model_data_passes; the passes API against the reference
 *  3. data memories, configuration checks (with valid twins)
 *  4. the model device: DATA registers and windows, DATA_MAX_OBS,
 *     FEATURES.DATA, REJECTED, writes while running ignored, device run =
 *     direct model run
 *  5. tspu_map_data: LSB relations, quantisation, link table error, refusals
 * Statistics (posterior, Jarzynski) are in test_model_data_stats.c.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tspu_fixmap.h"
#include "tspu_model.h"
#include "tspu_modeldev.h"
#include "tspu_regs.h"
#include "ref_work.h"
#include "tt.h"

#define NMAX TSPU_N_MAX
#define KMAX TSPU_DATA_MAX_OBS

/* ------------------------------------------------------------------ */
/* test-local random numbers (SplitMix64)                             */
static uint64_t rng_s = 0x0DA7A0DA7A0DA7A1ull;
static uint64_t rnd64(void)
{
    uint64_t z = (rng_s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int64_t rr(int64_t lo, int64_t hi) /* uniform in [lo, hi] */
{
    return lo + (int64_t)(rnd64() % (uint64_t)(hi - lo + 1));
}

/* ------------------------------------------------------------------ */
/* The reference: plain int64 arithmetic from the rules in numerics.md */
enum {
    MUT_NONE = 0,
    MUT_SR_FLOOR,       /* z = floor(r / 2^Sr) instead of rounding         */
    MUT_TABLE_OFF1,     /* interpolation between T[k+1] and T[k+2]        */
    MUT_FRAC_TIES_DOWN, /* interpolation rounds ties toward -inf          */
    MUT_G_NOCOUNT,      /* the g clamp is not counted                     */
    MUT_E_NOSAT,        /* e = y - s is not clamped to 16 bits            */
    MUT_LAMBDA0,        /* the data force uses lambda0 (old) not lambda1   */
    MUT_ALWAYS_PASSES,  /* passes (and their clamps) also at lambda held 0 */
    MUT_WORK_LE,        /* S = sum round_shift(l e e, Sg) instead of g e   */
    MUT_FD_FLOOR,       /* Fd = floor(G 2^16 / 2^Dd)                      */
    MUT_GAUSS_SIGMA,    /* Gaussian mode also goes through the table      */
    MUT_COUNT
};
static const char *mut_name[MUT_COUNT] = {
    "none", "Sr floor", "table index +1", "interpolation ties down", "g clamp uncounted",
    "e unclamped", "lambda0 in the force", "passes at lambda held 0", "work from l e e",
    "Fd floor", "Gaussian through the table"};
static int ref_mut;
static uint64_t lock_steps; /* steps run in lockstep (unmutated) */

static int64_t floor_div(int64_t v, unsigned s) /* floor(v / 2^s), by division */
{
    if (s == 0)
        return v;
    const int64_t d = (int64_t)1 << s;
    int64_t q = v / d;
    if (v % d != 0 && v < 0)
        q -= 1;
    return q;
}
static int64_t rnd(int64_t v, unsigned s) { return s ? floor_div(v + ((int64_t)1 << (s - 1)), s) : v; }
static int64_t rnd_down(int64_t v, unsigned s) { return s ? floor_div(v + ((int64_t)1 << (s - 1)) - 1, s) : v; }
static int64_t clampc(int64_t v, int bits, uint64_t *sat)
{
    const int64_t hi = ((int64_t)1 << (bits - 1)) - 1, lo = -hi - 1;
    if (v > hi) { ++*sat; return hi; }
    if (v < lo) { ++*sat; return lo; }
    return v;
}
static int64_t ref_op(int64_t v, uint64_t *sat) { return clampc(rnd(v, 16), 16, sat); }

static uint32_t taus(uint32_t z, unsigned q, unsigned s, unsigned k, uint32_t mask)
{
    return ((z & mask) << k) ^ (((z << q) ^ z) >> s);
}
static int64_t ref_noise(uint32_t z[4])
{
    int64_t s = 0;
    for (int call = 0; call < 2; call++) {
        z[0] = taus(z[0], 6, 13, 18, 0xFFFFFFFEu);
        z[1] = taus(z[1], 2, 27, 2, 0xFFFFFFF8u);
        z[2] = taus(z[2], 13, 21, 7, 0xFFFFFFF0u);
        z[3] = taus(z[3], 3, 12, 13, 0xFFFFFF80u);
        uint32_t u = z[0] ^ z[1] ^ z[2] ^ z[3];
        for (int b = 0; b < 4; b++)
            s += (u >> (8 * b)) & 0xFF;
    }
    return s - 1020;
}

typedef struct {
    unsigned n;
    tspu_model_config c;
    int64_t a0[NMAX][NMAX], b0[NMAX];
    int64_t X[KMAX][NMAX], y[KMAX], l[KMAX], T[TSPU_LINK_TABLE_SIZE];
    int64_t x[NMAX], p[NMAX], xi_prev[NMAX];
    uint32_t z[NMAX][4];
    int fresh;
    uint64_t t;
    int64_t lam, work;
    uint64_t sat;
    uint32_t flags;
} ref_t;

/* pass 1 and 2 at operands xo; returns Fd (n) and S; clamps into *sat */
static void ref_passes(const ref_t *r, const int64_t *xo, int64_t *fd, int64_t *S_out, uint64_t *sat,
                       int64_t *zs, int64_t *ss, int64_t *es, int64_t *gs)
{
    const tspu_model_config *c = &r->c;
    const unsigned n = r->n, K = c->n_obs;
    int64_t g[KMAX], S = 0;
    uint64_t dummy = 0;
    for (unsigned d = 0; d < K; d++) {
        int64_t acc = 0;
        for (unsigned j = 0; j < n; j++)
            acc += r->X[d][j] * xo[j];
        int64_t z = clampc(ref_mut == MUT_SR_FLOOR ? floor_div(acc, c->data_sr) : rnd(acc, c->data_sr), 16, sat);
        int64_t s = z;
        if (c->data_mode == TSPU_DATA_LOGISTIC || ref_mut == MUT_GAUSS_SIGMA) {
            int64_t u = z + 32768, k = u / 128, f = u % 128;
            if (ref_mut == MUT_TABLE_OFF1 && k < 511)
                k++;
            int64_t v = (r->T[k + 1] - r->T[k]) * f;
            s = r->T[k] + (ref_mut == MUT_FRAC_TIES_DOWN ? rnd_down(v, 7) : rnd(v, 7));
        }
        int64_t e = r->y[d] - s;
        if (ref_mut != MUT_E_NOSAT)
            e = clampc(e, 16, sat);
        g[d] = clampc(rnd(r->l[d] * e, c->data_sg), 16, ref_mut == MUT_G_NOCOUNT ? &dummy : sat);
        S += ref_mut == MUT_WORK_LE ? rnd(r->l[d] * e * e, c->data_sg) : g[d] * e;
        if (zs) zs[d] = z;
        if (ss) ss[d] = s;
        if (es) es[d] = e;
        if (gs) gs[d] = g[d];
    }
    for (unsigned i = 0; i < n; i++) {
        int64_t G = 0;
        for (unsigned d = 0; d < K; d++)
            G += r->X[d][i] * g[d];
        int64_t v = ref_mut == MUT_FD_FLOOR ? floor_div(G * 65536, c->data_dd) : rnd(G * 65536, c->data_dd);
        fd[i] = clampc(v, 32, sat);
    }
    *S_out = S;
}

static void ref_step(ref_t *r)
{
    const tspu_model_config *c = &r->c;
    const unsigned n = r->n;
    uint64_t sat = 0;
    /* the segment of step t */
    int64_t dl = 0;
    uint64_t u = r->t;
    if (u >= c->burnin) {
        u -= c->burnin;
        for (unsigned k = 0; k < c->n_segments; k++) {
            if (u < c->seg[k].steps) {
                dl = c->seg[k].dlambda;
                break;
            }
            u -= c->seg[k].steps;
        }
    }
    int64_t xo[NMAX];
    if (r->fresh) {
        for (unsigned i = 0; i < n; i++)
            (void)ref_op(r->x[i], &sat);
        r->fresh = 0;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t ignore = 0;
        xo[i] = ref_op(r->x[i], &ignore);
    }
    int64_t lam1 = r->lam + dl;
    if (lam1 < 0) { lam1 = 0; sat++; }
    if (lam1 > ((int64_t)1 << 31)) { lam1 = (int64_t)1 << 31; sat++; }
    const int64_t l0 = r->lam / 65536, l1 = lam1 / 65536, d = l1 - l0;

    int64_t f[NMAX];
    for (unsigned i = 0; i < n; i++) {
        int64_t y = 0;
        for (unsigned j = 0; j < n; j++)
            y += r->a0[i][j] * xo[j];
        f[i] = clampc(rnd(y * 65536, c->drift_shift) - r->b0[i], 32, &sat);
    }
    if (!(l1 == 0 && d == 0) || ref_mut == MUT_ALWAYS_PASSES) {
        int64_t fd[NMAX], S;
        ref_passes(r, xo, fd, &S, &sat, NULL, NULL, NULL, NULL);
        const int64_t lf = ref_mut == MUT_LAMBDA0 ? l0 : l1;
        for (unsigned i = 0; i < n; i++)
            f[i] = clampc(f[i] - rnd(lf * fd[i], 15), 32, &sat);
        if (d != 0 && c->data_mode == TSPU_DATA_GAUSS) {
            ref_work_add(&r->work, &r->flags, d * S);
        }
    }
    int64_t xi[NMAX];
    for (unsigned i = 0; i < n; i++)
        xi[i] = ref_noise(r->z[i]);
    const int64_t nm = (int64_t)1 << c->noise_shift;
    for (unsigned i = 0; i < n; i++) {
        if (c->integrator == TSPU_INT_EM) {
            r->x[i] = clampc(r->x[i] - f[i] + xi[i] * nm, 32, &sat);
        } else if (c->integrator == TSPU_INT_LM) {
            r->x[i] = clampc(r->x[i] - f[i] + (xi[i] + r->xi_prev[i]) * nm, 32, &sat);
            r->xi_prev[i] = xi[i];
        } else {
            int64_t p1 = clampc(r->p[i] - f[i], 32, &sat);
            int64_t q1 = ref_op(p1, &sat);
            int64_t x1 = clampc(r->x[i] + rnd(q1 * c->ka * 65536, c->ka_shift), 32, &sat);
            int64_t p2 = clampc(p1 - rnd(q1 * c->ko * 65536, c->ko_shift) + xi[i] * nm, 32, &sat);
            int64_t q2 = ref_op(p2, &sat);
            r->x[i] = clampc(x1 + rnd(q2 * c->ka * 65536, c->ka_shift), 32, &sat);
            r->p[i] = p2;
        }
    }
    for (unsigned i = 0; i < n; i++)
        (void)ref_op(r->x[i], &sat);
    r->lam = lam1;
    r->sat += sat;
    if (sat)
        r->flags |= TSPU_FLAG_SATURATED;
    r->t++;
}

/* ------------------------------------------------------------------ */
/* a random data problem                                              */
typedef struct {
    unsigned n, k;
    tspu_model_config c;
    int16_t a0[NMAX * NMAX];
    int32_t b0[NMAX];
    int16_t X[TSPU_DATA_MAX_WORDS], y[KMAX], l[KMAX], T[TSPU_LINK_TABLE_SIZE];
    int32_t x0[NMAX], p0[NMAX];
    uint64_t seed;
} dprob;

enum { SCHED_RAMP_UP, SCHED_RAMP_DOWN, SCHED_HOLD0, SCHED_HOLD1, SCHED_RANDOM };

/* the sigma table of tspu_map_data at lsb_z (for tame logistic cases) */
static void sigma_table(int16_t *T, double lsb_z)
{
    for (unsigned k = 0; k < TSPU_LINK_TABLE_SIZE; k++)
        T[k] = (int16_t)lround(16384.0 / (1.0 + exp(-((double)k * 128.0 - 32768.0) * lsb_z)));
}

/* wild = 0: tame (mostly unsaturated), 1: saturation-heavy */
static void random_dprob(dprob *P, unsigned n, unsigned k, tspu_integrator integ, tspu_data_mode mode,
                         int wild, int sched, int random_table)
{
    memset(P, 0, sizeof *P);
    P->n = n;
    P->k = k;
    tspu_model_config *c = &P->c;
    *c = tspu_model_default_config();
    c->integrator = integ;
    c->data_mode = mode;
    c->n_obs = k;
    /* prior: diagonally dominant, h A ~ 0.01..0.03 */
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = 0; j < n; j++)
            P->a0[i * n + j] = (int16_t)(i == j ? rr(20000, 32767) : rr(-32767 / (4 * (int)n), 32767 / (4 * (int)n)));
        P->b0[i] = (int32_t)rr(-(1 << 22), 1 << 22);
    }
    c->drift_shift = (unsigned)rr(19, 21);
    c->noise_shift = (unsigned)rr(8, 14);
    c->ka = (int16_t)rr(16000, 32767);
    c->ka_shift = 20;
    c->ko = (int16_t)rr(16000, 32767);
    c->ko_shift = 18;
    for (unsigned i = 0; i < n; i++) {
        P->x0[i] = (int32_t)rr(-(1 << 27), 1 << 27);
        P->p0[i] = (int32_t)rr(-(1 << 24), 1 << 24);
    }
    const int xr = wild ? 32767 : 4000;
    for (unsigned i = 0; i < k * n; i++)
        P->X[i] = (int16_t)(wild && rr(0, 7) == 0 ? (rr(0, 1) ? 32767 : -32768) : rr(-xr, xr));
    for (unsigned d = 0; d < k; d++) {
        if (mode == TSPU_DATA_LOGISTIC)
            P->y[d] = wild ? (int16_t)rr(-32768, 32767) : (int16_t)(rr(0, 1) * 16384);
        else
            P->y[d] = (int16_t)(wild ? rr(-32768, 32767) : rr(-3000, 3000));
        P->l[d] = (int16_t)(wild ? rr(-32768, 32767) : rr(0, 32767));
    }
    if (wild) {
        c->data_sr = (unsigned)rr(0, 24);
        c->data_sg = (unsigned)rr(0, 20);
        c->data_dd = (unsigned)rr(0, 40);
        if (rr(0, 5) == 0) { /* corner shifts */
            c->data_sr = rr(0, 1) ? 62 : 0;
            c->data_dd = rr(0, 1) ? 62 : 0;
        }
    } else {
        /* |r| ~ n 4000 2^11 (|op| ~ 2^11): z ~ 2^10 with Sr ~ 12 + log2 n */
        c->data_sr = 12 + (unsigned)ceil(log2((double)n)) + (unsigned)rr(0, 2);
        c->data_sg = 15;
        /* |G| ~ k 4000 2^10 = k 2^22; Fd ~ 2^16 .. 2^20 state LSBs */
        c->data_dd = 16 + 22 + (unsigned)ceil(log2((double)k)) - (unsigned)rr(16, 20);
    }
    if (random_table || wild)
        for (unsigned t = 0; t < TSPU_LINK_TABLE_SIZE; t++)
            P->T[t] = (int16_t)rr(-32768, 32767);
    else
        sigma_table(P->T, 1.0 / 2048.0);
    /* schedule */
    c->burnin = (uint32_t)rr(0, 200);
    c->thin = (uint32_t)rr(1, 4);
    c->n_samples = (uint32_t)rr(100, 600);
    switch (sched) {
    case SCHED_RAMP_UP: {
        uint32_t T = (uint32_t)rr(200, 2000);
        c->lambda_init = 0;
        c->n_segments = 2;
        c->seg[0].steps = T;
        c->seg[0].dlambda = (int32_t)(0x80000000u / T + (rr(0, 1) ? 7 : 0)); /* may overshoot: clamps */
        c->seg[1].steps = (uint32_t)rr(0, 300);
        break;
    }
    case SCHED_RAMP_DOWN: {
        uint32_t T = (uint32_t)rr(200, 2000);
        c->lambda_init = 0x80000000u;
        c->n_segments = 2;
        c->seg[0].steps = T;
        c->seg[0].dlambda = -(int32_t)(0x80000000u / T + 5); /* reaches 0, clamps, then held 0 */
        c->seg[1].steps = (uint32_t)rr(10, 300);
        break;
    }
    case SCHED_HOLD0: c->lambda_init = (uint32_t)rr(0, 0xFFFF); break; /* lambda16 = 0 */
    case SCHED_HOLD1: c->lambda_init = 0x80000000u; break;
    default:
        c->lambda_init = (uint32_t)rr(0, 0x80000000u);
        c->n_segments = (unsigned)rr(1, 5);
        for (unsigned s = 0; s < c->n_segments; s++) {
            c->seg[s].steps = (uint32_t)rr(0, 500);
            c->seg[s].dlambda = (int32_t)rr(-(1 << 24), 1 << 24);
        }
        break;
    }
    P->seed = rnd64();
}

static tspu_model *dprob_model(const dprob *P, char *why, size_t wl)
{
    tspu_model *m = tspu_model_create(P->n, 1u << 16);
    if (!m) {
        snprintf(why, wl, "create failed");
        return NULL;
    }
    int rc = tspu_model_configure(m, &P->c);
    if (rc != TSPU_MODEL_OK) {
        snprintf(why, wl, "configure refused (%d)", rc);
        tspu_model_destroy(m);
        return NULL;
    }
    tspu_model_load_couplings(m, 0, P->a0, P->b0);
    /* garbage in set 1: data mode must not use it */
    int16_t a1[NMAX * NMAX];
    int32_t b1[NMAX];
    for (unsigned i = 0; i < P->n * P->n; i++)
        a1[i] = (int16_t)rr(-32768, 32767);
    for (unsigned i = 0; i < P->n; i++)
        b1[i] = (int32_t)rr(INT32_MIN, INT32_MAX);
    tspu_model_load_couplings(m, 1, a1, b1);
    tspu_model_load_data(m, 0, P->k, P->X, P->y, P->l);
    tspu_model_load_link_table(m, P->T);
    tspu_model_seed(m, P->seed);
    tspu_model_set_state(m, P->x0, P->p0);
    return m;
}

static void ref_from(ref_t *r, const dprob *P, const tspu_model *m)
{
    memset(r, 0, sizeof *r);
    r->n = P->n;
    r->c = P->c;
    for (unsigned i = 0; i < P->n; i++) {
        r->b0[i] = P->b0[i];
        for (unsigned j = 0; j < P->n; j++)
            r->a0[i][j] = P->a0[i * P->n + j];
        r->x[i] = P->x0[i];
        r->p[i] = P->p0[i];
        tspu_model_get_lane_seed(m, i, r->z[i]);
    }
    for (unsigned d = 0; d < P->k; d++) {
        for (unsigned j = 0; j < P->n; j++)
            r->X[d][j] = P->X[d * P->n + j];
        r->y[d] = P->y[d];
        r->l[d] = P->l[d];
    }
    for (unsigned t = 0; t < TSPU_LINK_TABLE_SIZE; t++)
        r->T[t] = P->T[t];
    r->lam = P->c.lambda_init;
    r->fresh = 1;
}

/* model and reference step by step; 1 if they agree on every step */
static int lockstep(const dprob *P, int mut, uint64_t max_steps, char *why, size_t wl, uint32_t *sat_out,
                    int64_t *work_out)
{
    tspu_model *m = dprob_model(P, why, wl);
    if (!m)
        return 0;
    ref_t *r = malloc(sizeof *r);
    ref_from(r, P, m);
    ref_mut = mut;
    tspu_model_start(m);
    int ok = 1;
    why[0] = 0;
    const unsigned n = P->n;
    const uint32_t fmask = TSPU_FLAG_SATURATED | TSPU_FLAG_WORK_OVERFLOW;
    int16_t sink[4096];
    for (uint64_t t = 0; t < max_steps && !tspu_model_done(m); t++) {
        if (tspu_model_run(m, 1) != 1) {
            snprintf(why, wl, "model did not step at %llu", (unsigned long long)t);
            ok = 0;
            break;
        }
        ref_step(r);
        if (mut == MUT_NONE)
            lock_steps++;
        int32_t x[NMAX], p[NMAX];
        tspu_model_get_state(m, x, p);
        tspu_status st;
        tspu_model_read_status(m, &st);
        for (unsigned i = 0; ok && i < n; i++) {
            if (x[i] != r->x[i])
                snprintf(why, wl, "step %llu: x[%u] = %ld, ref %lld", (unsigned long long)t, i, (long)x[i],
                         (long long)r->x[i]), ok = 0;
            else if (P->c.integrator == TSPU_INT_UD && p[i] != r->p[i])
                snprintf(why, wl, "step %llu: p[%u] = %ld, ref %lld", (unsigned long long)t, i, (long)p[i],
                         (long long)r->p[i]), ok = 0;
        }
        if (ok && st.lambda_acc != (uint32_t)r->lam)
            snprintf(why, wl, "step %llu: lambda %lu, ref %lld", (unsigned long long)t,
                     (unsigned long)st.lambda_acc, (long long)r->lam), ok = 0;
        if (ok && tspu_model_read_work(m) != r->work)
            snprintf(why, wl, "step %llu: work %lld, ref %lld", (unsigned long long)t,
                     (long long)tspu_model_read_work(m), (long long)r->work), ok = 0;
        if (ok && st.sat_count != (uint32_t)(r->sat > UINT32_MAX ? UINT32_MAX : r->sat))
            snprintf(why, wl, "step %llu: sat_count %lu, ref %llu", (unsigned long long)t,
                     (unsigned long)st.sat_count, (unsigned long long)r->sat), ok = 0;
        if (ok && (st.flags & fmask) != r->flags)
            snprintf(why, wl, "step %llu: flags 0x%x, ref 0x%x", (unsigned long long)t, st.flags & fmask,
                     r->flags), ok = 0;
        if (!ok)
            break;
        while (tspu_model_fifo_read(m, sink, 4096) > 0) {
        }
    }
    if (sat_out) {
        tspu_status st;
        tspu_model_read_status(m, &st);
        *sat_out = st.sat_count;
    }
    if (work_out)
        *work_out = tspu_model_read_work(m);
    ref_mut = MUT_NONE;
    free(r);
    tspu_model_destroy(m);
    return ok;
}

/* ------------------------------------------------------------------ */
/* 1. lockstep                                                         */
static void test_lockstep(void)
{
    static const struct {
        unsigned n, k;
        tspu_integrator integ;
        tspu_data_mode mode;
        int wild, sched, rtab;
        const char *what;
    } cs[] = {
        {2, 12, TSPU_INT_EM, TSPU_DATA_GAUSS, 0, SCHED_RAMP_UP, 0, "Gaussian N=2 K=12 EM, ramp 0->1"},
        {3, 40, TSPU_INT_LM, TSPU_DATA_GAUSS, 0, SCHED_RAMP_UP, 0, "Gaussian N=3 K=40 LM, ramp 0->1"},
        {5, 7, TSPU_INT_UD, TSPU_DATA_GAUSS, 0, SCHED_RAMP_DOWN, 0, "Gaussian N=5 K=7 UD, ramp 1->0, hold 0"},
        {8, 100, TSPU_INT_LM, TSPU_DATA_GAUSS, 0, SCHED_HOLD1, 0, "Gaussian N=8 K=100 LM, lambda 1"},
        {16, 64, TSPU_INT_LM, TSPU_DATA_GAUSS, 0, SCHED_RANDOM, 0, "Gaussian N=16 K=64 LM, random schedule"},
        {4, 1, TSPU_INT_EM, TSPU_DATA_GAUSS, 0, SCHED_HOLD0, 0, "Gaussian N=4 K=1 EM, lambda held 0"},
        {2, 30, TSPU_INT_LM, TSPU_DATA_LOGISTIC, 0, SCHED_RAMP_UP, 0, "logistic N=2 K=30 LM (sigma table), ramp"},
        {8, 50, TSPU_INT_UD, TSPU_DATA_LOGISTIC, 0, SCHED_HOLD1, 1, "logistic N=8 K=50 UD, random table"},
        {3, 20, TSPU_INT_EM, TSPU_DATA_LOGISTIC, 0, SCHED_RAMP_DOWN, 1, "logistic N=3 K=20 EM, random table, ramp down"},
        {16, 1024, TSPU_INT_LM, TSPU_DATA_GAUSS, 0, SCHED_HOLD1, 0, "Gaussian N=16 K=1024 (full memory) LM"},
        {2, 33, TSPU_INT_LM, TSPU_DATA_GAUSS, 1, SCHED_RAMP_UP, 0, "wild Gaussian N=2 K=33 LM (saturating)"},
        {5, 17, TSPU_INT_UD, TSPU_DATA_GAUSS, 1, SCHED_RANDOM, 0, "wild Gaussian N=5 K=17 UD (saturating)"},
        {8, 64, TSPU_INT_EM, TSPU_DATA_LOGISTIC, 1, SCHED_RANDOM, 1, "wild logistic N=8 K=64 EM (saturating)"},
        {3, 9, TSPU_INT_LM, TSPU_DATA_GAUSS, 1, SCHED_RAMP_DOWN, 0, "wild Gaussian N=3 K=9 LM, ramp down (lambda 0 clamps)"},
        {16, 200, TSPU_INT_LM, TSPU_DATA_LOGISTIC, 1, SCHED_HOLD0, 1, "wild logistic N=16 K=200, lambda held 0"},
    };
    const unsigned nc = sizeof cs / sizeof cs[0];
    static dprob P[sizeof cs / sizeof cs[0]];
    uint32_t sats[sizeof cs / sizeof cs[0]];
    uint64_t sat_total = 0;
    for (unsigned i = 0; i < nc; i++) {
        random_dprob(&P[i], cs[i].n, cs[i].k, cs[i].integ, cs[i].mode, cs[i].wild, cs[i].sched, cs[i].rtab);
        char why[256], name[160];
        int64_t w = 0;
        const uint64_t cap = cs[i].k >= 1000 ? 600 : 4000;
        int ok = lockstep(&P[i], MUT_NONE, cap, why, sizeof why, &sats[i], &w);
        snprintf(name, sizeof name, "lockstep %s", cs[i].what);
        tt_check(ok, name, "%s", why);
        tt_note("%s: %lu clamps, work %lld", cs[i].what, (unsigned long)sats[i], (long long)w);
        sat_total += sats[i];
    }
    /* random extra cases: any N, K, mode, integrator, schedule, tame or wild */
    {
        int bad = 0;
        char why[256] = "";
        unsigned bad_case = 0;
        for (unsigned rep = 0; rep < 80 && !bad; rep++) {
            dprob Q;
            unsigned n = (unsigned)rr(2, 16), k = (unsigned)rr(1, 120);
            random_dprob(&Q, n, k, (tspu_integrator)rr(0, 2), rr(0, 1) ? TSPU_DATA_LOGISTIC : TSPU_DATA_GAUSS,
                         (int)rr(0, 1), (int)rr(0, 4), (int)rr(0, 1));
            uint32_t sat;
            if (!lockstep(&Q, MUT_NONE, 3000, why, sizeof why, &sat, NULL)) {
                bad = 1;
                bad_case = rep;
            }
            sat_total += sat;
        }
        tt_check(!bad, "lockstep: 80 random data problems (N 2..16, K 1..120, all integrators and modes)",
                 "case %u: %s", bad_case, why);
    }
    tt_note("lockstep: %llu steps, %llu clamps counted over all cases", (unsigned long long)lock_steps,
            (unsigned long long)sat_total);
    /* the tame Gaussian ramps do not saturate (at most the lambda overshoot
     * clamp at the end of the ramp), the wild ones do */
    tt_check(sats[0] <= 1 && sats[1] <= 1 && sats[10] > 1000 && sats[11] > 1000 && sats[12] > 1000,
             "lockstep: tame cases unsaturated, wild ones saturation-heavy",
             "clamps %lu %lu / %lu %lu %lu", (unsigned long)sats[0], (unsigned long)sats[1],
             (unsigned long)sats[10], (unsigned long)sats[11], (unsigned long)sats[12]);

    /* every mutation is caught by at least one case */
    for (int mut = 1; mut < MUT_COUNT; mut++) {
        int caught = -1;
        char why[256];
        for (unsigned i = 0; i < nc && caught < 0; i++) {
            if (cs[i].k >= 1000)
                continue;
            if (!lockstep(&P[i], mut, 4000, why, sizeof why, NULL, NULL))
                caught = (int)i;
        }
        char name[160];
        snprintf(name, sizeof name, "mutated reference caught: %s", mut_name[mut]);
        tt_check(caught >= 0, name, "no case disagreed");
        if (caught >= 0)
            tt_note("%s: caught by \"%s\": %s", mut_name[mut], cs[caught].what, why);
    }
}

/* ------------------------------------------------------------------ */
/* 2. special cases                                                    */
typedef struct {
    tspu_model *m;
    uint32_t lam_prev;
    int64_t w;      /* work recomputed */
    int32_t x_prev[NMAX];
    int bad;
} wctx;

static void work_obs(void *ctx, uint64_t step, const int32_t *x, const int32_t *p, uint32_t lam)
{
    (void)step;
    (void)p;
    wctx *W = ctx;
    const unsigned n = tspu_model_n(W->m);
    int32_t d = (int32_t)(lam >> 16) - (int32_t)(W->lam_prev >> 16);
    if (d != 0) {
        int16_t op[NMAX];
        for (unsigned i = 0; i < n; i++) {
            int32_t o = (W->x_prev[i] >> 16) + ((W->x_prev[i] >> 15) & 1);
            op[i] = (int16_t)(o > 32767 ? 32767 : o);
        }
        int64_t S = 0;
        if (tspu_model_data_passes(W->m, op, NULL, NULL, NULL, NULL, NULL, &S, NULL) != TSPU_MODEL_OK)
            W->bad = 1;
        W->w += d * S;
    }
    W->lam_prev = lam;
    memcpy(W->x_prev, x, n * sizeof *x);
}

static void test_special(void)
{
    char why[256];
    /* lambda held at 0: the data-on run equals the data-off run (set 1
     * zero, so the data-off force is F0 too) and counts nothing extra */
    {
        dprob P;
        random_dprob(&P, 4, 25, TSPU_INT_LM, TSPU_DATA_GAUSS, 1, SCHED_HOLD0, 0);
        P.c.lambda_init = 0;
        tspu_model *m1 = dprob_model(&P, why, sizeof why);
        tspu_model_config off = P.c;
        off.data_mode = TSPU_DATA_OFF;
        tspu_model *m2 = tspu_model_create(P.n, 1u << 16);
        tspu_model_configure(m2, &off);
        tspu_model_load_couplings(m2, 0, P.a0, P.b0);
        tspu_model_load_couplings(m2, 1, P.a0, P.b0);
        tspu_model_seed(m2, P.seed);
        tspu_model_set_state(m2, P.x0, P.p0);
        tspu_model_start(m1);
        tspu_model_start(m2);
        tspu_model_run(m1, 3000);
        tspu_model_run(m2, 3000);
        int32_t x1[NMAX], x2[NMAX];
        tspu_model_get_state(m1, x1, NULL);
        tspu_model_get_state(m2, x2, NULL);
        tspu_status s1, s2;
        tspu_model_read_status(m1, &s1);
        tspu_model_read_status(m2, &s2);
        tt_check(!memcmp(x1, x2, P.n * sizeof *x1) && s1.sat_count == s2.sat_count,
                 "lambda held 0 (saturating data): same run as data off, no data clamps counted",
                 "sat %lu vs %lu", (unsigned long)s1.sat_count, (unsigned long)s2.sat_count);
        tspu_model_destroy(m1);
        tspu_model_destroy(m2);
    }
    /* logistic: W stays 0 over a ramp; Gaussian: W from the observed
     * trajectory through tspu_model_data_passes */
    {
        dprob P;
        random_dprob(&P, 3, 30, TSPU_INT_LM, TSPU_DATA_LOGISTIC, 0, SCHED_RAMP_UP, 0);
        tspu_model *m = dprob_model(&P, why, sizeof why);
        tspu_model_start(m);
        tspu_model_run(m, 100000);
        tspu_status st;
        tspu_model_read_status(m, &st);
        tt_check(tspu_model_read_work(m) == 0 && st.lambda_acc == 0x80000000u && tspu_model_done(m),
                 "logistic: the work counter stays 0 over a 0->1 ramp", "work %lld",
                 (long long)tspu_model_read_work(m));
        tspu_model_destroy(m);
        for (int variant = 0; variant < 2; variant++) {
            random_dprob(&P, 5, 40, variant ? TSPU_INT_UD : TSPU_INT_LM, TSPU_DATA_GAUSS, 0,
                         variant ? SCHED_RANDOM : SCHED_RAMP_UP, 0);
            m = dprob_model(&P, why, sizeof why);
            wctx W = {.m = m, .lam_prev = P.c.lambda_init};
            memcpy(W.x_prev, P.x0, sizeof W.x_prev);
            tspu_model_set_observer(m, work_obs, &W);
            tspu_model_start(m);
            tspu_model_run(m, 100000);
            int64_t wm = tspu_model_read_work(m);
            char name[128];
            snprintf(name, sizeof name, "Gaussian %s: W = sum dlambda S(op before the step) via tspu_model_data_passes",
                     variant ? "UD random schedule" : "LM ramp");
            tt_check(!W.bad && wm == W.w && wm != 0, name, "model %lld, recomputed %lld", (long long)wm,
                     (long long)W.w);
            tspu_model_destroy(m);
        }
    }
    /* the passes API against the reference, at random operands */
    {
        int bad = 0, n_cases = 0;
        for (int rep = 0; rep < 40 && !bad; rep++) {
            dprob P;
            unsigned n = (unsigned)rr(2, 16), k = (unsigned)rr(1, 200);
            random_dprob(&P, n, k, TSPU_INT_LM, rep & 1 ? TSPU_DATA_LOGISTIC : TSPU_DATA_GAUSS, rep % 3 == 0,
                         SCHED_HOLD1, rep % 4 == 1);
            tspu_model *m = dprob_model(&P, why, sizeof why);
            ref_t *r = malloc(sizeof *r);
            ref_from(r, &P, m);
            int16_t op[NMAX];
            int64_t xo[NMAX];
            for (unsigned i = 0; i < n; i++)
                xo[i] = op[i] = (int16_t)(rep % 3 == 0 ? rr(-32768, 32767) : rr(-3000, 3000));
            static int32_t z[KMAX], s[KMAX], e[KMAX], g[KMAX];
            static int64_t rz[KMAX], rs[KMAX], re[KMAX], rg[KMAX];
            int32_t fd[NMAX];
            int64_t rfd[NMAX], S, rS;
            uint32_t sat = 5;
            uint64_t rsat = 5;
            tspu_model_data_passes(m, op, z, s, e, g, fd, &S, &sat);
            ref_passes(r, xo, rfd, &rS, &rsat, rz, rs, re, rg);
            bad |= S != rS || sat != rsat;
            for (unsigned d = 0; d < k; d++)
                bad |= z[d] != rz[d] || s[d] != rs[d] || e[d] != re[d] || g[d] != rg[d];
            for (unsigned i = 0; i < n; i++)
                bad |= fd[i] != rfd[i];
            n_cases++;
            free(r);
            tspu_model_destroy(m);
        }
        tt_check(!bad, "tspu_model_data_passes = reference (z, s, e, g, Fd, S, clamps) on 40 random cases",
                 "case %d differs", n_cases - 1);
        tspu_model *m = tspu_model_create(4, 0);
        int16_t op[4] = {0};
        tt_check(tspu_model_data_passes(m, op, NULL, NULL, NULL, NULL, NULL, NULL, NULL) == TSPU_MODEL_EINVAL,
                 "tspu_model_data_passes refuses data mode off", "accepted");
        tspu_model_destroy(m);
    }
    /* interpolation: exact at the breakpoints, between them, the two ends */
    {
        dprob P;
        random_dprob(&P, 2, 1, TSPU_INT_LM, TSPU_DATA_LOGISTIC, 0, SCHED_HOLD1, 1);
        P.c.data_sr = 0;
        P.X[0] = 1;
        P.X[1] = 0;
        P.y[0] = 0;
        P.l[0] = 0;
        tspu_model *m = dprob_model(&P, why, sizeof why);
        int bad = 0;
        static const int16_t zs[] = {-32768, -32767, -32704, -32705, -32640, 0, 64, 63, 65, 127, 32767, 32640, 32704};
        for (unsigned q = 0; q < sizeof zs / sizeof zs[0]; q++) {
            int16_t op[2] = {zs[q], 0};
            int32_t s;
            tspu_model_data_passes(m, op, NULL, &s, NULL, NULL, NULL, NULL, NULL);
            int64_t u = zs[q] + 32768, k = u / 128, f = u % 128;
            double want = P.T[k] + ((double)(P.T[k + 1] - P.T[k])) * f / 128.0; /* exact rational */
            int64_t w2 = (int64_t)floor(want + 0.5);
            bad |= s != w2;
            if (f == 0)
                bad |= s != P.T[k];
        }
        tt_check(!bad, "link table: s = nearest(T[k] + (T[k+1]-T[k]) f/128), ties up; T[k] at breakpoints; z=32767 uses T[512]",
                 "mismatch");
        tspu_model_destroy(m);
    }
}

/* ------------------------------------------------------------------ */
/* 3. memories and configuration                                       */
static void test_config(void)
{
    tspu_model *m = tspu_model_create(16, 0);
    tspu_model *m64 = tspu_model_create(64, 0);
    tspu_model *m5 = tspu_model_create(5, 0);
    tt_check(tspu_model_data_max_obs(m) == 1024 && tspu_model_data_max_obs(m64) == 256 &&
                 tspu_model_data_max_obs(m5) == 1024,
             "DATA_MAX_OBS = min(1024, 16384/N): 1024 at N=16, 256 at N=64", "%u %u %u",
             tspu_model_data_max_obs(m), tspu_model_data_max_obs(m64), tspu_model_data_max_obs(m5));
    /* memories: round trip, partial loads, NULL parts, range */
    static int16_t x[TSPU_DATA_MAX_WORDS], y[KMAX], l[KMAX], x2[TSPU_DATA_MAX_WORDS], y2[KMAX], l2[KMAX];
    for (unsigned i = 0; i < TSPU_DATA_MAX_WORDS; i++)
        x[i] = (int16_t)rr(-32768, 32767);
    for (unsigned i = 0; i < KMAX; i++) {
        y[i] = (int16_t)rr(-32768, 32767);
        l[i] = (int16_t)rr(-32768, 32767);
    }
    int ok = tspu_model_load_data(m, 0, 1024, x, y, l) == TSPU_MODEL_OK;
    ok &= tspu_model_load_data(m, 10, 5, x + 3, NULL, y) == TSPU_MODEL_OK; /* rows 10..14 of X, l */
    ok &= tspu_model_read_data(m, 0, 1024, x2, y2, l2) == TSPU_MODEL_OK;
    int same = !memcmp(x2, x, 10 * 16 * 2) && !memcmp(x2 + 160, x + 3, 80 * 2) &&
               !memcmp(x2 + 240, x + 240, (16384 - 240) * 2) && !memcmp(y2, y, sizeof y) &&
               !memcmp(l2, l, 20) && !memcmp(l2 + 10, y, 10) && !memcmp(l2 + 15, l + 15, (KMAX - 15) * 2);
    tt_check(ok && same, "data memories: load / partial load / read back", "ok %d same %d", ok, same);
    tt_check(tspu_model_load_data(m, 1000, 25, x, y, l) == TSPU_MODEL_EINVAL &&
                 tspu_model_load_data(m64, 0, 257, x, y, l) == TSPU_MODEL_EINVAL &&
                 tspu_model_load_data(m64, 256, 0, x, y, l) == TSPU_MODEL_OK &&
                 tspu_model_read_data(m, 1025, 0, x2, y2, l2) == TSPU_MODEL_EINVAL,
             "data memories: rows beyond DATA_MAX_OBS refused", "accepted");
    int16_t t[TSPU_LINK_TABLE_SIZE], t2[TSPU_LINK_TABLE_SIZE];
    for (unsigned i = 0; i < TSPU_LINK_TABLE_SIZE; i++)
        t[i] = (int16_t)rr(-32768, 32767);
    tt_check(tspu_model_load_link_table(m, t) == 0 && tspu_model_read_link_table(m, t2) == 0 &&
                 !memcmp(t, t2, sizeof t) && tspu_model_load_link_table(m, NULL) == TSPU_MODEL_EINVAL,
             "link table: load / read back (513 entries)", "mismatch");

    /* configuration: each bad field refused, its fixed twin accepted */
    struct {
        const char *what;
        tspu_data_mode mode;
        unsigned k, sr, sg, dd, n;
        int ok;
    } cc[] = {
        {"mode 3", (tspu_data_mode)3, 10, 0, 0, 0, 16, 0},
        {"mode 2 (twin)", TSPU_DATA_LOGISTIC, 10, 0, 0, 0, 16, 1},
        {"Gaussian with K = 0", TSPU_DATA_GAUSS, 0, 0, 0, 0, 16, 0},
        {"off with K = 0 (twin)", TSPU_DATA_OFF, 0, 0, 0, 0, 16, 1},
        {"K = 1025 at N = 16", TSPU_DATA_GAUSS, 1025, 0, 0, 0, 16, 0},
        {"K = 1024 at N = 16 (twin)", TSPU_DATA_GAUSS, 1024, 0, 0, 0, 16, 1},
        {"K = 257 at N = 64", TSPU_DATA_GAUSS, 257, 0, 0, 0, 64, 0},
        {"K = 256 at N = 64 (twin)", TSPU_DATA_GAUSS, 256, 0, 0, 0, 64, 1},
        {"Sr = 63", TSPU_DATA_GAUSS, 5, 63, 0, 0, 16, 0},
        {"Sg = 63", TSPU_DATA_GAUSS, 5, 0, 63, 0, 16, 0},
        {"Dd = 63", TSPU_DATA_GAUSS, 5, 0, 0, 63, 16, 0},
        {"Sr = Sg = Dd = 62 (twin)", TSPU_DATA_GAUSS, 5, 62, 62, 62, 16, 1},
        {"off with Dd = 63", TSPU_DATA_OFF, 0, 0, 0, 63, 16, 0},
    };
    for (unsigned i = 0; i < sizeof cc / sizeof cc[0]; i++) {
        tspu_model *mm = cc[i].n == 64 ? m64 : m;
        tspu_model_config c = tspu_model_default_config();
        tspu_model_config before = *tspu_model_get_config(mm);
        c.data_mode = cc[i].mode;
        c.n_obs = cc[i].k;
        c.data_sr = cc[i].sr;
        c.data_sg = cc[i].sg;
        c.data_dd = cc[i].dd;
        int rc = tspu_model_configure(mm, &c);
        char name[128];
        snprintf(name, sizeof name, "configure: %s %s", cc[i].what, cc[i].ok ? "accepted" : "refused");
        int unchanged = !memcmp(&before, tspu_model_get_config(mm), sizeof before);
        tt_check(cc[i].ok ? rc == TSPU_MODEL_OK : (rc == TSPU_MODEL_EINVAL && unchanged), name, "rc %d", rc);
    }
    tspu_model_destroy(m);
    tspu_model_destroy(m64);
    tspu_model_destroy(m5);
}

/* ------------------------------------------------------------------ */
/* 4. the model device                                                 */
static void test_device(void)
{
    tspu_modeldev_opts o = {.n = 5, .steps_per_frame = 1000};
    tspu_modeldev *dv = tspu_modeldev_create(&o);
    tspu_regdev R = tspu_modeldev_regdev(dv);
#define WR(a, v) (R.write(R.ctx, (uint16_t)(a), (uint32_t)(v)))
#define RD(a) (R.read(R.ctx, (uint16_t)(a)))
#define FRAME() (R.frame_done(R.ctx))
    tt_check(RD(TSPU_REG_DATA_MAX_OBS) == 1024 && (RD(TSPU_REG_FEATURES) & TSPU_FEATURES_DATA) &&
                 (RD(TSPU_REG_FEATURES) & 0xFF) == 0xFF,
             "device: DATA_MAX_OBS 1024 (N=5), FEATURES.DATA set", "max_obs %u features 0x%x",
             RD(TSPU_REG_DATA_MAX_OBS), RD(TSPU_REG_FEATURES));
    tt_check(R.check(R.ctx, TSPU_REG_DATA_MAX_OBS, 1, 1) == TSPU_NAK_ACCESS &&
                 R.check(R.ctx, TSPU_REG_DATA_MODE, 5, 1) == 0 &&
                 R.check(R.ctx, TSPU_WIN_DATA_X_BASE, 256, 1) == 0 &&
                 R.check(R.ctx, TSPU_WIN_LINK_TABLE_BASE + 0x3FF, 1, 0) == 0 &&
                 R.check(R.ctx, TSPU_WIN_DATA_X_BASE - 1, 2, 0) == TSPU_NAK_ADDR,
             "device: DATA_MAX_OBS read-only, DATA registers and windows mapped, hole below DATA_X unmapped",
             "check codes wrong");
    /* a data problem through the registers */
    dprob P;
    random_dprob(&P, 5, 37, TSPU_INT_LM, TSPU_DATA_GAUSS, 0, SCHED_RAMP_UP, 0);
    P.c.n_samples = 300;
    P.c.thin = 1;
    const tspu_model_config *c = &P.c;
    WR(TSPU_REG_INTEGRATOR, c->integrator);
    WR(TSPU_REG_DRIFT_SHIFT, c->drift_shift);
    WR(TSPU_REG_NOISE_SHIFT, c->noise_shift);
    WR(TSPU_REG_BURNIN, c->burnin);
    WR(TSPU_REG_THIN, c->thin);
    WR(TSPU_REG_N_SAMPLES, c->n_samples);
    WR(TSPU_REG_N_SEGMENTS, c->n_segments);
    WR(TSPU_REG_LAMBDA_INIT, c->lambda_init);
    WR(TSPU_REG_FIFO_STALL, 1);
    for (unsigned s = 0; s < c->n_segments; s++) {
        WR(TSPU_WIN_SCHEDULE_BASE + 2 * s, c->seg[s].steps);
        WR(TSPU_WIN_SCHEDULE_BASE + 2 * s + 1, c->seg[s].dlambda);
    }
    for (unsigned i = 0; i < 25; i++)
        WR(TSPU_WIN_COUPLING0_BASE + i, P.a0[i]);
    for (unsigned i = 0; i < 5; i++)
        WR(TSPU_WIN_BIAS0_BASE + i, P.b0[i]);
    for (unsigned i = 0; i < 37 * 5; i++)
        WR(TSPU_WIN_DATA_X_BASE + i, P.X[i]);
    for (unsigned d = 0; d < 37; d++) {
        WR(TSPU_WIN_DATA_Y_BASE + d, P.y[d]);
        WR(TSPU_WIN_DATA_L_BASE + d, P.l[d]);
    }
    for (unsigned t = 0; t < TSPU_LINK_TABLE_SIZE; t++)
        WR(TSPU_WIN_LINK_TABLE_BASE + t, P.T[t]);
    WR(TSPU_WIN_LINK_TABLE_BASE + 600, 77); /* beyond the table: ignored */
    WR(TSPU_REG_DATA_MODE, c->data_mode);
    WR(TSPU_REG_N_OBS, c->n_obs);
    WR(TSPU_REG_DATA_SR, c->data_sr);
    WR(TSPU_REG_DATA_SG, c->data_sg);
    WR(TSPU_REG_DATA_DD, c->data_dd);
    for (unsigned i = 0; i < 5; i++)
        WR(TSPU_WIN_STATE_X_BASE + i, P.x0[i]);
    tspu_model_seed(tspu_modeldev_model(dv), P.seed);
    FRAME();
    int rb = RD(TSPU_REG_DATA_MODE) == (uint32_t)c->data_mode && RD(TSPU_REG_N_OBS) == c->n_obs &&
             RD(TSPU_REG_DATA_SR) == c->data_sr && RD(TSPU_REG_DATA_SG) == c->data_sg &&
             RD(TSPU_REG_DATA_DD) == c->data_dd && (int16_t)RD(TSPU_WIN_DATA_X_BASE + 7) == P.X[7] &&
             (int32_t)RD(TSPU_WIN_DATA_Y_BASE + 36) == P.y[36] && (int32_t)RD(TSPU_WIN_DATA_L_BASE + 3) == P.l[3] &&
             (int32_t)RD(TSPU_WIN_LINK_TABLE_BASE + 512) == P.T[512] && RD(TSPU_WIN_LINK_TABLE_BASE + 600) == 0 &&
             RD(TSPU_WIN_DATA_X_BASE + 1024 * 5) == 0;
    int16_t mx[37 * 5], my[37];
    tspu_model_read_data(tspu_modeldev_model(dv), 0, 37, mx, my, NULL);
    rb &= !memcmp(mx, P.X, sizeof mx) && !memcmp(my, P.y, sizeof my);
    tt_check(rb, "device: DATA registers and windows read back (sign-extended), loaded into the model",
             "mismatch");
    /* a bad data program is REJECTED */
    WR(TSPU_REG_DATA_MODE, 3);
    WR(TSPU_REG_CTRL, TSPU_CTRL_START);
    int rej1 = (RD(TSPU_REG_FLAGS) & TSPU_FLAGS_REJECTED) != 0;
    WR(TSPU_REG_DATA_MODE, c->data_mode);
    WR(TSPU_REG_N_OBS, 1025);
    WR(TSPU_REG_CTRL, TSPU_CTRL_START);
    int rej2 = (RD(TSPU_REG_FLAGS) & TSPU_FLAGS_REJECTED) != 0;
    WR(TSPU_REG_N_OBS, c->n_obs);
    WR(TSPU_REG_CTRL, TSPU_CTRL_START);
    int acc = !(RD(TSPU_REG_FLAGS) & TSPU_FLAGS_REJECTED) && (RD(TSPU_REG_FLAGS) & TSPU_FLAGS_RUNNING);
    tt_check(rej1 && rej2 && acc, "device: DATA_MODE 3 / N_OBS > DATA_MAX_OBS rejected at START, the fixed program runs",
             "%d %d %d", rej1, rej2, acc);
    /* writes while running are ignored */
    WR(TSPU_WIN_DATA_Y_BASE + 0, P.y[0] ^ 0x55);
    WR(TSPU_WIN_LINK_TABLE_BASE + 0, P.T[0] ^ 0x55);
    int ign = (int32_t)RD(TSPU_WIN_DATA_Y_BASE) == P.y[0] && (int32_t)RD(TSPU_WIN_LINK_TABLE_BASE) == P.T[0];
    /* run to the end through frames, draining the FIFO */
    static int16_t samples_dev[300 * 5];
    size_t got = 0;
    for (int guard = 0; guard < 100000 && (RD(TSPU_REG_FLAGS) & TSPU_FLAGS_RUNNING); guard++) {
        FRAME();
        int16_t buf[512];
        size_t k = R.peek(R.ctx, TSPU_REG_FIFO_DATA, buf, 512);
        R.commit(R.ctx, TSPU_REG_FIFO_DATA, k);
        if (got + k <= 300 * 5)
            memcpy(samples_dev + got, buf, k * 2);
        got += k;
    }
    FRAME();
    {
        int16_t buf[512];
        size_t k;
        while ((k = R.peek(R.ctx, TSPU_REG_FIFO_DATA, buf, 512)) > 0) {
            R.commit(R.ctx, TSPU_REG_FIFO_DATA, k);
            if (got + k <= 300 * 5)
                memcpy(samples_dev + got, buf, k * 2);
            got += k;
        }
    }
    int64_t wdev = (int64_t)((uint64_t)RD(TSPU_REG_WORK_LO) | (uint64_t)RD(TSPU_REG_WORK_HI) << 32);
    /* the same program on a bare model */
    char why[128];
    tspu_model *m = dprob_model(&P, why, sizeof why);
    tspu_model_start(m);
    static int16_t samples_m[300 * 5];
    size_t gm = 0;
    while (!tspu_model_done(m)) {
        tspu_model_run(m, 100);
        gm += tspu_model_fifo_read(m, samples_m + gm, 300 * 5 - gm);
    }
    gm += tspu_model_fifo_read(m, samples_m + gm, 300 * 5 - gm);
    tt_check(ign && got == 1500 && gm == 1500 && !memcmp(samples_dev, samples_m, sizeof samples_m) &&
                 wdev == tspu_model_read_work(m) && wdev != 0,
             "device: data writes ignored while running; samples and work = the bare model's",
             "ign %d got %zu/%zu work %lld vs %lld", ign, got, gm, (long long)wdev,
             (long long)tspu_model_read_work(m));
    tspu_model_destroy(m);
    /* RESET clears the data registers and memories */
    WR(TSPU_REG_CTRL, TSPU_CTRL_RESET);
    tt_check(RD(TSPU_REG_DATA_MODE) == 0 && RD(TSPU_REG_N_OBS) == 0 && RD(TSPU_WIN_DATA_X_BASE + 7) == 0 &&
                 RD(TSPU_WIN_LINK_TABLE_BASE + 512) == 0,
             "device: RESET clears the DATA block and the data memories", "not cleared");
#undef WR
#undef RD
#undef FRAME
    tspu_modeldev_destroy(dv);
}

/* ------------------------------------------------------------------ */
/* 5. the mapping                                                      */
static void test_mapping(void)
{
    enum { n = 3, k = 50 };
    double A[n * n] = {2.0, 0.3, 0.0, 0.3, 1.5, -0.2, 0.0, -0.2, 1.0}, b[n] = {0.5, -1.0, 0.25};
    static double X[k * n], y[k], ell[k];
    for (unsigned i = 0; i < k * n; i++)
        X[i] = (double)rr(-1000000, 1000000) / 400000.0;
    for (unsigned d = 0; d < k; d++) {
        y[d] = (double)rr(-1000000, 1000000) / 200000.0;
        ell[d] = 0.5 + (double)rr(0, 1000000) / 1000000.0;
    }
    tspu_problem pr = {.n = n, .A0 = A, .b0 = b, .beta = 1.0, .h = 0.01, .integrator = TSPU_INT_LM, .x_range = 8.0};
    tspu_mapping mp;
    tspu_model_config cfg = tspu_model_default_config();
    char err[200];
    int rc = tspu_map_problem(&pr, &mp, &cfg, err, sizeof err);
    static tspu_data_mapping dm;
    tspu_data_problem dp = {.mode = TSPU_DATA_GAUSS, .k = k, .X = X, .y = y, .ell = ell};
    rc |= tspu_map_data(&pr, &mp, &dp, &dm, &cfg, err, sizeof err);
    tt_check(rc == 0, "map_data: Gaussian problem maps", "%s", err);
    double rel = fabs(ldexp(mp.lsb_f, 16 - (int)cfg.data_dd) /
                          (pr.h * dm.lsb_X * ldexp(dm.lsb_l, (int)cfg.data_sg) * dm.lsb_e) - 1.0);
    double xerr = 0, xm = 0, lerr = 0;
    int16_t lmax = 0, xmaxi = 0;
    for (unsigned i = 0; i < k * n; i++) {
        xerr = fmax(xerr, fabs(dm.X_eff[i] - X[i]));
        xm = fmax(xm, fabs(X[i]));
        xmaxi = (int16_t)(abs(dm.x[i]) > xmaxi ? abs(dm.x[i]) : xmaxi);
    }
    for (unsigned d = 0; d < k; d++) {
        lerr = fmax(lerr, fabs(dm.ell_eff[d] - ell[d]) / ell[d]);
        lmax = (int16_t)(dm.l[d] > lmax ? dm.l[d] : lmax);
    }
    tt_check(rc == 0 && rel < 1e-12 && xerr <= 0.5 * dm.lsb_X * (1 + 1e-9) && xmaxi == 32767 &&
                 lmax > 16383 && lerr < 2.0 / 16384 && cfg.n_obs == k && cfg.data_mode == TSPU_DATA_GAUSS &&
                 fabs(dm.lsb_z - ldexp(dm.lsb_X * mp.op_x, (int)cfg.data_sr)) < 1e-15 * dm.lsb_z &&
                 dm.lsb_e == dm.lsb_z,
             "map_data: 2^(16-Dd) lsb_f = h lsb_X 2^Sg lsb_l lsb_e; X at full 15 bits, |dX| <= lsb_X/2; max l in 2^14..2^15",
             "rel %.3g xerr %.3g/%.3g xmax %d lmax %d lerr %.3g", rel, xerr, dm.lsb_X, xmaxi, lmax, lerr);
    double want_w = ldexp(dm.lsb_l * dm.lsb_e * dm.lsb_e, (int)cfg.data_sg - 16);
    tt_check(fabs(dm.lsb_work / want_w - 1) < 1e-12,
             "map_data: lsb_work = 2^(Sg-16) lsb_l lsb_e^2", "%.6g vs %.6g", dm.lsb_work, want_w);
    /* the predictor range holds z_range + max|y| */
    double zr = 0, ym = 0;
    for (unsigned d = 0; d < k; d++) {
        double s = 0;
        for (unsigned j = 0; j < n; j++)
            s += fabs(X[d * n + j]);
        zr = fmax(zr, s * pr.x_range);
        ym = fmax(ym, fabs(y[d]));
    }
    tt_check(32767.0 * dm.lsb_z >= zr + ym && 32767.0 * dm.lsb_z < 2.0 * (zr + ym) * (1 + 1e-9),
             "map_data: z holds max_d sum|X_d| x_range + max|y| within one bit", "%.4g vs %.4g",
             32767.0 * dm.lsb_z, zr + ym);
    /* logistic: table and its error bound (numerics.md) */
    static double lab[k];
    for (unsigned d = 0; d < k; d++)
        lab[d] = (double)(d % 2);
    tspu_data_problem lp = {.mode = TSPU_DATA_LOGISTIC, .k = k, .X = X, .y = lab, .z_range = 16.0};
    tspu_model_config lc = cfg;
    rc = tspu_map_data(&pr, &mp, &lp, &dm, &lc, err, sizeof err);
    double h = 128 * dm.lsb_z, bound = h * h / 8 * 0.0963 + 1.0 / 16384;
    tt_check(rc == 0 && dm.y[1] == 16384 && dm.y[0] == 0 && dm.table[256] == 8192 && dm.table[512] <= 16384 &&
                 dm.link_err > 0 && dm.link_err <= bound && dm.lsb_e == 1.0 / 16384 && lc.data_mode == TSPU_DATA_LOGISTIC,
             "map_data logistic: labels 0 / 16384, T[256] = sigma(0), interpolation error within h^2/8 max|sigma''| + 2^-14",
             "rc %d err %.3g bound %.3g T256 %d (%s)", rc, dm.link_err, bound, dm.table[256], err);
    tt_note("logistic table at z range %.3g (lsb_z %.3g): max |sigma error| %.3g", 32767 * dm.lsb_z, dm.lsb_z,
            dm.link_err);
    /* refusals */
    static double Z[k * n];
    tspu_data_problem bad = dp;
    bad.X = Z;
    int r1 = tspu_map_data(&pr, &mp, &bad, &dm, &lc, err, sizeof err);
    bad = dp;
    bad.k = 0;
    int r2 = tspu_map_data(&pr, &mp, &bad, &dm, &lc, err, sizeof err);
    static double ell0[k];
    bad = dp;
    bad.ell = ell0;
    int r3 = tspu_map_data(&pr, &mp, &bad, &dm, &lc, err, sizeof err);
    bad = lp;
    bad.y = y;
    int r4 = tspu_map_data(&pr, &mp, &bad, &dm, &lc, err, sizeof err);
    tt_check(r1 < 0 && r2 < 0 && r3 < 0 && r4 < 0, "map_data refuses: zero design, K = 0, zero precision, labels outside [0,1]",
             "%d %d %d %d", r1, r2, r3, r4);
}

int main(void)
{
    test_config();
    test_special();
    test_device();
    test_mapping();
    test_lockstep();
    return tt_exit();
}
