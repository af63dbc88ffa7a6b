/*
 * test_model_unit.c - deterministic unit tests of the model's integer
 * semantics (host/model/model.c, docs/numerics.md "One step").
 *
 *  1. fixed-point primitives (round_shift, scale16, sat, operand)
 *  2. an independent, deliberately plain reference step run in lockstep
 *     with the model (every state word, lambda, work, counters, flags,
 *     moments, FIFO, noise state) for N = 2, 5, 16, with random couplings,
 *     shifts, schedules and saturating cases; plus mutated references that
 *     must disagree (the comparison can fail)
 *  3. sequencer: phases, exact step counts, skipped phases, thinning, done,
 *     partial runs and chunked runs
 *  4. FIFO: whole samples, overflow accounting, order, momentum layout,
 *     moments independent of the FIFO and equal to sums over its samples
 *  5. work: integer recomputation from the observed trajectory, floating
 *     point check through the fixmap's lsb_work, lambda clamping, need0/need1
 *  6. configuration and seeding errors
 * Statistical properties live in test_model_stats.c and test_noise.c.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tspu_fixed.h"
#include "tspu_fixmap.h"
#include "tspu_model.h"
#include "tspu_noise.h"
#include "ref_work.h"
#include "tt.h"

#define NMAX TSPU_N_MAX
#define NTRI (NMAX * (NMAX + 1) / 2)

/* ------------------------------------------------------------------ */
/* test-local random numbers (SplitMix64)                             */
static uint64_t rng_s = 0x1234567887654321ull;
static uint64_t rnd64(void)
{
    uint64_t z = (rng_s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* uniform integer in [lo, hi] */
static int64_t rnd_range(int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1u;
    if (span == 0)
        return (int64_t)rnd64();
    return lo + (int64_t)(rnd64() % span);
}

/* ------------------------------------------------------------------ */
/* The reference: plain int64 arithmetic, written from the rules in
 * docs/numerics.md without reusing the model's helpers.               */

/* floor(v / 2^s) by exact integer division (no shifts of negatives) */
static int64_t ref_floor_div_pow2(int64_t v, unsigned s)
{
    if (s == 0)
        return v;
    const int64_t d = (int64_t)1 << s;
    int64_t q = v / d; /* truncates toward zero */
    if (v % d != 0 && v < 0)
        q -= 1;
    return q;
}

/* mutations of the reference, each must make the lockstep fail */
enum {
    MUT_NONE = 0,
    MUT_DRIFT_FLOOR,   /* scale16 in the force truncates instead of rounding */
    MUT_LAMBDA_FLOOR,  /* the lambda interpolation truncates                 */
    MUT_LM_NO_MEMORY,  /* LM forgets xi_prev                                 */
    MUT_WORK_SHIFT15,  /* work uses round_shift(S, 15)                       */
    MUT_OPSAT_NOCOUNT, /* operand clamps are not counted                     */
    MUT_UD_FRICTION_P, /* friction from p1 (not op(p1) * 2^16)               */
    MUT_DRIFT_TIES_DOWN,  /* force scale16 rounds ties toward -inf            */
    MUT_LAMBDA_TIES_DOWN, /* lambda interpolation rounds ties toward -inf     */
    MUT_OP_TIES_DOWN,     /* operands round ties toward -inf                  */
};
static int ref_mut;

/* round(v / 2^s), ties toward +inf */
static int64_t ref_round(int64_t v, unsigned s)
{
    if (s == 0)
        return v;
    return ref_floor_div_pow2(v + ((int64_t)1 << (s - 1)), s);
}

/* round(v / 2^s), ties toward -inf (for the mutations only) */
static int64_t ref_round_ties_down(int64_t v, unsigned s)
{
    if (s == 0)
        return v;
    return ref_floor_div_pow2(v + ((int64_t)1 << (s - 1)) - 1, s);
}

static int64_t ref_clamp(int64_t v, int64_t lo, int64_t hi, uint64_t *sat)
{
    if (v < lo) {
        ++*sat;
        return lo;
    }
    if (v > hi) {
        ++*sat;
        return hi;
    }
    return v;
}
static int64_t ref_clamp32(int64_t v, uint64_t *sat)
{
    return ref_clamp(v, INT32_MIN, INT32_MAX, sat);
}
static int64_t ref_round_ties_down(int64_t v, unsigned s);
static int64_t ref_op(int64_t v, uint64_t *sat)
{
    uint64_t dummy = 0;
    if (ref_mut == MUT_OPSAT_NOCOUNT)
        sat = &dummy;
    if (ref_mut == MUT_OP_TIES_DOWN)
        return ref_clamp(ref_round_ties_down(v, 16), -32768, 32767, sat);
    return ref_clamp(ref_round(v, 16), -32768, 32767, sat);
}
/* coefficient product: round(v * 2^16 / 2^s) */
static int64_t ref_coef(int64_t v, unsigned s) { return ref_round(v * 65536, s); }

/* LFSR113, one call (L'Ecuyer 1999), written out per component */
static uint32_t ref_taus(uint32_t z, unsigned q, unsigned s, unsigned k, uint32_t mask)
{
    uint32_t b = ((z << q) ^ z) >> s;
    return ((z & mask) << k) ^ b;
}
static uint32_t ref_lfsr113(uint32_t z[4])
{
    /* component (q, s, k, mask) of L'Ecuyer's table */
    z[0] = ref_taus(z[0], 6, 13, 18, 0xFFFFFFFEu);
    z[1] = ref_taus(z[1], 2, 27, 2, 0xFFFFFFF8u);
    z[2] = ref_taus(z[2], 13, 21, 7, 0xFFFFFFF0u);
    z[3] = ref_taus(z[3], 3, 12, 13, 0xFFFFFF80u);
    return z[0] ^ z[1] ^ z[2] ^ z[3];
}
static int64_t ref_noise(uint32_t z[4])
{
    int64_t s = 0;
    for (int call = 0; call < 2; call++) {
        uint32_t u = ref_lfsr113(z);
        for (int byte = 0; byte < 4; byte++)
            s += (u >> (8 * byte)) & 0xFF;
    }
    return s - 1020;
}

typedef struct {
    unsigned n;
    tspu_model_config c;
    size_t fifo_cap;
    int64_t a[2][NMAX][NMAX], b[2][NMAX];
    int64_t x[NMAX], p[NMAX], xi_prev[NMAX];
    uint32_t z[NMAX][4];
    int fresh; /* operands of the current state not yet counted */
    uint64_t t;
    int64_t lam, work;
    uint64_t sat;
    uint32_t flags, samples, dropped;
    uint64_t total;
    /* moments */
    uint32_t count;
    int64_t sum[NMAX], sumsq[NTRI];
    /* FIFO: ring */
    int16_t *fifo;
    size_t head, level;
} ref_t;

/* take configuration, couplings, seeds and state from the model (after
 * set_state: xi_prev = 0) */
static void ref_init(ref_t *r, const tspu_model *m)
{
    memset(r, 0, sizeof *r);
    r->n = tspu_model_n(m);
    r->c = *tspu_model_get_config(m);
    r->fifo_cap = tspu_model_fifo_capacity(m);
    r->fifo = calloc(r->fifo_cap, sizeof *r->fifo);
    for (unsigned k = 0; k < 2; k++) {
        int16_t a[NMAX * NMAX];
        int32_t b[NMAX];
        tspu_model_read_couplings(m, k, a, b);
        for (unsigned i = 0; i < r->n; i++) {
            r->b[k][i] = b[i];
            for (unsigned j = 0; j < r->n; j++)
                r->a[k][i][j] = a[i * r->n + j];
        }
    }
    int32_t x[NMAX], p[NMAX];
    tspu_model_get_state(m, x, p);
    for (unsigned i = 0; i < r->n; i++) {
        r->x[i] = x[i];
        r->p[i] = p[i];
        tspu_model_get_lane_seed(m, i, r->z[i]);
    }
}
static void ref_free(ref_t *r) { free(r->fifo); }

static void ref_start(ref_t *r)
{
    const tspu_model_config *c = &r->c;
    r->t = 0;
    r->lam = c->lambda_init;
    r->work = 0;
    r->sat = 0;
    r->flags = 0;
    r->samples = 0;
    r->dropped = 0;
    r->count = 0;
    memset(r->sum, 0, sizeof r->sum);
    memset(r->sumsq, 0, sizeof r->sumsq);
    r->head = r->level = 0;
    r->fresh = 1;
    r->total = c->burnin + (uint64_t)c->n_samples * c->thin;
    for (unsigned k = 0; k < c->n_segments; k++)
        r->total += c->seg[k].steps;
    if (r->total == 0)
        r->flags |= TSPU_FLAG_DONE;
}

static void ref_fifo_push(ref_t *r, int64_t v)
{
    r->fifo[(r->head + r->level) % r->fifo_cap] = (int16_t)v;
    r->level++;
}
static size_t ref_fifo_read(ref_t *r, int16_t *dst, size_t max)
{
    size_t k = 0;
    while (k < max && r->level > 0) {
        dst[k++] = r->fifo[r->head];
        r->head = (r->head + 1) % r->fifo_cap;
        r->level--;
    }
    return k;
}

static void ref_step(ref_t *r)
{
    const tspu_model_config *c = &r->c;
    const unsigned n = r->n;
    uint64_t sat = 0;

    /* where in the program is step t? */
    enum { BURN, SCHED, SAMP } phase;
    int64_t dl = 0;
    uint64_t u = r->t;
    if (u < c->burnin) {
        phase = BURN;
    } else {
        u -= c->burnin;
        phase = SAMP;
        for (unsigned k = 0; k < c->n_segments; k++) {
            if (u < c->seg[k].steps) {
                phase = SCHED;
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
        uint64_t ignore = 0; /* counted when this state was produced */
        xo[i] = ref_op(r->x[i], &ignore);
    }

    /* 1. lambda */
    int64_t lam1 = ref_clamp(r->lam + dl, 0, (int64_t)1 << 31, &sat);
    int64_t l0 = r->lam / 65536, l1 = lam1 / 65536, d = l1 - l0;
    int use0 = !(l1 == 32768 && d == 0);
    int use1 = !(l1 == 0 && d == 0);

    /* 2. forces */
    int64_t F[2][NMAX], f[NMAX];
    for (int k = 0; k < 2; k++) {
        if (!(k ? use1 : use0))
            continue;
        for (unsigned i = 0; i < n; i++) {
            int64_t y = 0;
            for (unsigned j = 0; j < n; j++)
                y += r->a[k][i][j] * xo[j];
            int64_t sc = ref_mut == MUT_DRIFT_FLOOR       ? ref_floor_div_pow2(y * 65536, c->drift_shift)
                         : ref_mut == MUT_DRIFT_TIES_DOWN ? ref_round_ties_down(y * 65536, c->drift_shift)
                                                          : ref_coef(y, c->drift_shift);
            F[k][i] = ref_clamp32(sc - r->b[k][i], &sat);
        }
    }
    for (unsigned i = 0; i < n; i++) {
        if (use0 && use1) {
            int64_t t = l1 * (F[1][i] - F[0][i]);
            f[i] = F[0][i] + (ref_mut == MUT_LAMBDA_FLOOR       ? ref_floor_div_pow2(t, 15)
                              : ref_mut == MUT_LAMBDA_TIES_DOWN ? ref_round_ties_down(t, 15)
                                                                : ref_round(t, 15));
        } else {
            f[i] = use0 ? F[0][i] : F[1][i];
        }
    }

    /* 3. work */
    if (d != 0) {
        int64_t s = 0;
        for (unsigned i = 0; i < n; i++)
            s += xo[i] * ((F[1][i] - F[0][i]) - (r->b[1][i] - r->b[0][i]));
        ref_work_add(&r->work, &r->flags, d * ref_round(s, ref_mut == MUT_WORK_SHIFT15 ? 15 : 16));
    }

    /* 4. noise */
    int64_t xi[NMAX];
    for (unsigned i = 0; i < n; i++)
        xi[i] = ref_noise(r->z[i]);
    const int64_t nmul = (int64_t)1 << c->noise_shift;

    /* 5. update */
    int64_t pop[NMAX];
    for (unsigned i = 0; i < n; i++) {
        if (c->integrator == TSPU_INT_EM) {
            r->x[i] = ref_clamp32(r->x[i] - f[i] + xi[i] * nmul, &sat);
        } else if (c->integrator == TSPU_INT_LM) {
            int64_t mem = ref_mut == MUT_LM_NO_MEMORY ? 0 : r->xi_prev[i];
            r->x[i] = ref_clamp32(r->x[i] - f[i] + (xi[i] + mem) * nmul, &sat);
            r->xi_prev[i] = xi[i];
        } else {
            int64_t p1 = ref_clamp32(r->p[i] - f[i], &sat);
            int64_t q1 = ref_op(p1, &sat);
            int64_t x1 = ref_clamp32(r->x[i] + ref_coef(q1 * c->ka, c->ka_shift), &sat);
            int64_t fr = ref_mut == MUT_UD_FRICTION_P ? ref_round(p1 * c->ko, c->ko_shift)
                                                      : ref_coef(q1 * c->ko, c->ko_shift);
            int64_t p2 = ref_clamp32(p1 - fr + xi[i] * nmul, &sat);
            int64_t q2 = ref_op(p2, &sat);
            r->x[i] = ref_clamp32(x1 + ref_coef(q2 * c->ka, c->ka_shift), &sat);
            r->p[i] = p2;
            pop[i] = q2;
        }
    }
    r->lam = lam1;
    for (unsigned i = 0; i < n; i++)
        xo[i] = ref_op(r->x[i], &sat);

    /* 6. sampling */
    if (phase == SAMP && (u + 1) % c->thin == 0) {
        if (r->count == UINT32_MAX) {
            r->flags |= TSPU_FLAG_MOMENT_LIMIT;
        } else {
            r->count++;
            unsigned k = 0;
            for (unsigned i = 0; i < n; i++) {
                r->sum[i] += xo[i];
                for (unsigned j = i; j < n; j++)
                    r->sumsq[k++] += xo[i] * xo[j];
            }
        }
        size_t words = c->sample_momentum ? 2 * n : n;
        if (r->fifo_cap - r->level >= words) {
            for (unsigned i = 0; i < n; i++)
                ref_fifo_push(r, xo[i]);
            if (c->sample_momentum)
                for (unsigned i = 0; i < n; i++)
                    ref_fifo_push(r, pop[i]);
        } else {
            if (r->dropped != UINT32_MAX)
                r->dropped++;
            r->flags |= TSPU_FLAG_FIFO_OVERFLOW;
        }
        r->samples++;
    }
    r->sat += sat;
    if (sat)
        r->flags |= TSPU_FLAG_SATURATED;
    r->t++;
    if (r->t == r->total)
        r->flags |= TSPU_FLAG_DONE;
}

static uint32_t ref_sat_count(const ref_t *r) { return r->sat > UINT32_MAX ? UINT32_MAX : (uint32_t)r->sat; }

/* ------------------------------------------------------------------ */
/* lockstep via the observer                                          */
typedef struct {
    ref_t *r;
    tspu_model *m;
    int64_t bad_step;
    char what[200];
} lock_ctx;

static void lock_obs(void *ctx, uint64_t step, const int32_t *x, const int32_t *p, uint32_t lam)
{
    lock_ctx *L = ctx;
    ref_t *r = L->r;
    ref_step(r);
    if (L->bad_step >= 0)
        return;
    char *w = L->what;
    const size_t wl = sizeof L->what;
    int bad = 0;
    if (step != r->t - 1) {
        snprintf(w, wl, "step index %llu, ref %llu", (unsigned long long)step,
                 (unsigned long long)(r->t - 1));
        bad = 1;
    }
    for (unsigned i = 0; !bad && i < r->n; i++) {
        if (x[i] != r->x[i]) {
            snprintf(w, wl, "x[%u] = %ld, ref %ld", i, (long)x[i], (long)r->x[i]);
            bad = 1;
        } else if (r->c.integrator == TSPU_INT_UD && p[i] != r->p[i]) {
            snprintf(w, wl, "p[%u] = %ld, ref %ld", i, (long)p[i], (long)r->p[i]);
            bad = 1;
        }
    }
    tspu_status st;
    tspu_model_read_status(L->m, &st);
    int64_t work = tspu_model_read_work(L->m);
    if (!bad && (int64_t)lam != r->lam)
        snprintf(w, wl, "lambda %lu, ref %lld", (unsigned long)lam, (long long)r->lam), bad = 1;
    if (!bad && st.lambda_acc != lam)
        snprintf(w, wl, "status lambda %lu != observer %lu", (unsigned long)st.lambda_acc,
                 (unsigned long)lam), bad = 1;
    if (!bad && work != r->work)
        snprintf(w, wl, "work %lld, ref %lld", (long long)work, (long long)r->work), bad = 1;
    if (!bad && st.sat_count != ref_sat_count(r))
        snprintf(w, wl, "sat_count %lu, ref %lu", (unsigned long)st.sat_count,
                 (unsigned long)ref_sat_count(r)), bad = 1;
    if (!bad && st.flags != r->flags)
        snprintf(w, wl, "flags 0x%x, ref 0x%x", st.flags, r->flags), bad = 1;
    if (!bad && (st.steps != r->t || st.samples != r->samples || st.fifo_dropped != r->dropped))
        snprintf(w, wl, "steps/samples/dropped %llu/%lu/%lu, ref %llu/%lu/%lu",
                 (unsigned long long)st.steps, (unsigned long)st.samples,
                 (unsigned long)st.fifo_dropped, (unsigned long long)r->t,
                 (unsigned long)r->samples, (unsigned long)r->dropped), bad = 1;
    if (!bad && tspu_model_fifo_level(L->m) != r->level)
        snprintf(w, wl, "fifo level %zu, ref %zu", tspu_model_fifo_level(L->m), r->level), bad = 1;
    if (bad)
        L->bad_step = (int64_t)step;
}

/* a random problem for the lockstep */
typedef struct {
    unsigned n;
    size_t fifo_words;
    tspu_model_config c;
    int16_t a[2][NMAX * NMAX];
    int32_t b[2][NMAX];
    int32_t x0[NMAX], p0[NMAX];
    uint64_t seed;
} problem_t;

static void random_problem(problem_t *P, unsigned n, tspu_integrator integ, int wild)
{
    memset(P, 0, sizeof *P);
    P->n = n;
    tspu_model_config *c = &P->c;
    *c = tspu_model_default_config();
    c->integrator = integ;
    if (wild) {
        /* anything goes: saturates a lot */
        for (int k = 0; k < 2; k++) {
            for (unsigned i = 0; i < n * n; i++)
                P->a[k][i] = (int16_t)rnd_range(-32768, 32767);
            for (unsigned i = 0; i < n; i++)
                P->b[k][i] = (int32_t)rnd_range(INT32_MIN, INT32_MAX);
        }
        c->drift_shift = (unsigned)rnd_range(0, 62);
        c->noise_shift = (unsigned)rnd_range(0, 20);
        c->ka = (int16_t)rnd_range(-32768, 32767);
        c->ko = (int16_t)rnd_range(-32768, 32767);
        c->ka_shift = (unsigned)rnd_range(0, 62);
        c->ko_shift = (unsigned)rnd_range(0, 62);
        for (unsigned i = 0; i < n; i++) {
            P->x0[i] = (int32_t)rnd_range(INT32_MIN, INT32_MAX);
            P->p0[i] = (int32_t)rnd_range(INT32_MIN, INT32_MAX);
        }
    } else {
        /* stable dynamics: diagonally dominant, h*A ~ 0.01..0.06 */
        for (int k = 0; k < 2; k++) {
            for (unsigned i = 0; i < n; i++)
                for (unsigned j = 0; j < n; j++)
                    P->a[k][i * n + j] = (int16_t)(i == j ? rnd_range(20000, 32767)
                                                          : rnd_range(-32767 / (4 * (int)n), 32767 / (4 * (int)n)));
            for (unsigned i = 0; i < n; i++)
                P->b[k][i] = (int32_t)rnd_range(-(1 << 22), 1 << 22);
        }
        c->drift_shift = (unsigned)rnd_range(19, 21);
        /* up to 20: the state then reaches the rails now and then */
        c->noise_shift = (unsigned)rnd_range(6, 20);
        c->ka = (int16_t)rnd_range(16000, 32767);
        c->ka_shift = 20;
        c->ko = (int16_t)rnd_range(16000, 32767);
        c->ko_shift = 18;
        for (unsigned i = 0; i < n; i++) {
            P->x0[i] = (int32_t)rnd_range(-(1 << 28), 1 << 28);
            P->p0[i] = (int32_t)rnd_range(-(1 << 24), 1 << 24);
        }
        if (rnd_range(0, 3) == 0) /* start on the rail: op(X) clamps */
            P->x0[0] = INT32_MAX - (int32_t)rnd_range(0, 40000);
    }
    c->burnin = (uint32_t)rnd_range(0, 300);
    c->n_segments = (unsigned)rnd_range(0, 5);
    for (unsigned k = 0; k < c->n_segments; k++) {
        c->seg[k].steps = rnd_range(0, 3) == 0 ? 0 : (uint32_t)rnd_range(1, 600);
        switch (rnd_range(0, 3)) {
        case 0: /* ramp of exactly 1.0 over the segment, often overshooting */
            c->seg[k].dlambda = (int32_t)((int64_t)1 << 31) / (int32_t)(c->seg[k].steps ? c->seg[k].steps : 1);
            break;
        case 1: c->seg[k].dlambda = (int32_t)rnd_range(-(1 << 24), 1 << 24); break;
        case 2: c->seg[k].dlambda = (int32_t)(rnd_range(-64, 64) * 65536); break;
        default: c->seg[k].dlambda = (int32_t)rnd_range(INT32_MIN, INT32_MAX); break;
        }
    }
    c->lambda_init = (uint32_t)(rnd_range(0, 3) == 0 ? (rnd_range(0, 1) << 31) : rnd_range(0, (int64_t)1 << 31));
    c->thin = (uint32_t)rnd_range(1, 5);
    c->n_samples = (uint32_t)rnd_range(0, 700);
    c->sample_momentum = integ == TSPU_INT_UD && rnd_range(0, 1);
    size_t words = (size_t)n * (c->sample_momentum ? 2 : 1);
    P->fifo_words = rnd_range(0, 1) ? (size_t)rnd_range((int64_t)words, (int64_t)(4 * words + 3))
                                    : (size_t)rnd_range(1000, 20000);
    P->seed = rnd64();
}

static tspu_model *problem_model(const problem_t *P)
{
    tspu_model *m = tspu_model_create(P->n, P->fifo_words);
    if (!m)
        return NULL;
    if (tspu_model_configure(m, &P->c) != TSPU_MODEL_OK) {
        tspu_model_destroy(m);
        return NULL;
    }
    tspu_model_load_couplings(m, 0, P->a[0], P->b[0]);
    tspu_model_load_couplings(m, 1, P->a[1], P->b[1]);
    tspu_model_seed(m, P->seed);
    tspu_model_set_state(m, P->x0, P->p0);
    return m;
}

/* Run a problem in lockstep with the reference (mutation mut), with random
 * chunk sizes and random partial FIFO reads.  Returns 1 if everything
 * agreed; *why says what failed first; *sat_out the saturation count. */
static int lockstep(const problem_t *P, int mut, char *why, size_t whylen, uint32_t *sat_out,
                    uint64_t *steps_out)
{
    tspu_model *m = problem_model(P);
    if (!m) {
        snprintf(why, whylen, "model setup failed");
        return 0;
    }
    ref_t *r = malloc(sizeof *r);
    ref_init(r, m);
    ref_mut = mut;
    lock_ctx L = {.r = r, .m = m, .bad_step = -1};
    tspu_model_set_observer(m, lock_obs, &L);
    tspu_model_start(m);
    ref_start(r);
    int ok = 1;
    why[0] = 0;
    int16_t *b1 = malloc(sizeof(int16_t) * (P->fifo_words + 8));
    int16_t *b2 = malloc(sizeof(int16_t) * (P->fifo_words + 8));
    uint64_t steps = 0;
    for (int guard = 0; guard < 1000000 && !tspu_model_done(m); guard++) {
        uint64_t k = (uint64_t)rnd_range(1, 400);
        steps += tspu_model_run(m, k);
        if (L.bad_step >= 0)
            break;
        size_t want = (size_t)rnd_range(0, (int64_t)P->fifo_words + 2);
        size_t g1 = tspu_model_fifo_read(m, b1, want);
        size_t g2 = ref_fifo_read(r, b2, want);
        if (g1 != g2 || memcmp(b1, b2, g1 * sizeof *b1)) {
            snprintf(why, whylen, "FIFO read differs at step %llu (%zu vs %zu words)",
                     (unsigned long long)r->t, g1, g2);
            ok = 0;
            break;
        }
    }
    if (ok && L.bad_step >= 0) {
        snprintf(why, whylen, "step %lld: %s", (long long)L.bad_step, L.what);
        ok = 0;
    }
    if (ok && (!tspu_model_done(m) || steps != r->total)) {
        snprintf(why, whylen, "ran %llu steps, expected %llu (done=%d)", (unsigned long long)steps,
                 (unsigned long long)r->total, tspu_model_done(m));
        ok = 0;
    }
    if (ok) {
        tspu_moments mom;
        tspu_model_read_moments(m, &mom);
        const unsigned n = P->n;
        int mb = mom.count != r->count;
        for (unsigned i = 0; i < n; i++)
            mb |= mom.sum[i] != r->sum[i];
        for (unsigned k = 0; k < n * (n + 1) / 2; k++)
            mb |= mom.sumsq[k] != r->sumsq[k];
        if (mb) {
            snprintf(why, whylen, "moments differ");
            ok = 0;
        }
        for (unsigned i = 0; ok && i < n; i++) {
            uint32_t z[4];
            tspu_model_get_lane_seed(m, i, z);
            if (memcmp(z, r->z[i], sizeof z)) {
                snprintf(why, whylen, "lane %u noise state differs", i);
                ok = 0;
            }
        }
        size_t g1 = tspu_model_fifo_read(m, b1, P->fifo_words + 8);
        size_t g2 = ref_fifo_read(r, b2, P->fifo_words + 8);
        if (ok && (g1 != g2 || memcmp(b1, b2, g1 * sizeof *b1))) {
            snprintf(why, whylen, "final FIFO contents differ");
            ok = 0;
        }
    }
    if (sat_out) {
        tspu_status st;
        tspu_model_read_status(m, &st);
        *sat_out = st.sat_count;
    }
    if (steps_out)
        *steps_out = steps;
    ref_mut = MUT_NONE;
    free(b1);
    free(b2);
    ref_free(r);
    free(r);
    tspu_model_destroy(m);
    return ok;
}

/* ------------------------------------------------------------------ */
/* 1. primitives                                                      */
static void test_primitives(void)
{
    /* round_shift: ties toward +inf, negatives, s = 0 */
    static const struct {
        int64_t v;
        unsigned s;
        int64_t want;
    } rs[] = {
        {0, 0, 0},       {5, 0, 5},      {-5, 0, -5},     {INT64_MAX, 0, INT64_MAX},
        {INT64_MIN, 0, INT64_MIN},
        {1, 1, 1},       {-1, 1, 0},     {3, 1, 2},       {-3, 1, -1},  /* ties up */
        {2, 1, 1},       {-2, 1, -1},    {5, 2, 1},       {6, 2, 2},    /* 1.25, 1.5 */
        {-5, 2, -1},     {-6, 2, -1},    {-7, 2, -2},     {7, 2, 2},    /* -1.25,-1.5,-1.75 */
        {32768, 16, 1},  {32767, 16, 0}, {-32768, 16, 0}, {-32769, 16, -1},
        {98304, 16, 2},  {-98304, 16, -1},                              /* +-1.5 */
        {(int64_t)1 << 61, 62, 1},       {-((int64_t)1 << 61), 62, 0},
        {((int64_t)1 << 61) - 1, 62, 0}, {-((int64_t)1 << 61) - 1, 62, -1},
        {(int64_t)3 << 60, 62, 1},       {-((int64_t)3 << 60), 62, -1},
    };
    int ok = 1;
    char buf[160] = "";
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
        int64_t g = tspu_round_shift(rs[i].v, rs[i].s);
        if (g != rs[i].want && ok) {
            snprintf(buf, sizeof buf, "round_shift(%lld, %u) = %lld, want %lld", (long long)rs[i].v,
                     rs[i].s, (long long)g, (long long)rs[i].want);
            ok = 0;
        }
    }
    tt_check(ok, "primitives: round_shift table (ties toward +inf, negatives, s=0, s=62)", "%s", buf);

    /* against the exact definition floor(v/2^s + 1/2) on random values */
    ok = 1;
    for (int it = 0; it < 200000 && ok; it++) {
        unsigned s = (unsigned)rnd_range(0, 62);
        int64_t v = rnd_range(-((int64_t)1 << 60), (int64_t)1 << 60) >> rnd_range(0, 60);
        int64_t want = ref_round(v, s);
        if (tspu_round_shift(v, s) != want) {
            snprintf(buf, sizeof buf, "round_shift(%lld, %u) = %lld, want %lld", (long long)v, s,
                     (long long)tspu_round_shift(v, s), (long long)want);
            ok = 0;
        }
        /* and the defining inequality |v - q 2^s| <= 2^(s-1), tie -> up */
        if (ok && s > 0) {
            __int128 q = want, d = (__int128)1 << s;
            __int128 e = (__int128)v - q * d; /* v = q d + e, -d/2 <= e < d/2 */
            if (!(e >= -d / 2 && e < d / 2)) {
                snprintf(buf, sizeof buf, "reference rounding wrong at v=%lld s=%u", (long long)v, s);
                ok = 0;
            }
        }
    }
    tt_check(ok, "primitives: round_shift = floor(v/2^s + 1/2) on 200000 random (v, s)", "%s", buf);

    /* scale16 = round(v * 2^16 / 2^s) */
    ok = 1;
    ok &= tspu_scale16(3, 16) == 3 && tspu_scale16(-3, 16) == -3;
    ok &= tspu_scale16(1, 17) == 1 && tspu_scale16(-1, 17) == 0; /* +-0.5 */
    ok &= tspu_scale16(3, 18) == 1 && tspu_scale16(-3, 18) == -1; /* +-0.75 */
    ok &= tspu_scale16(5, 0) == 5 * 65536 && tspu_scale16(-5, 0) == -5 * 65536;
    ok &= tspu_scale16((int64_t)1 << 36, 62) == 0 && tspu_scale16((int64_t)1 << 45, 62) == 1;
    ok &= tspu_scale16(-((int64_t)1 << 45), 62) == 0; /* -0.5 ties up */
    for (int it = 0; it < 100000 && ok; it++) {
        unsigned s = (unsigned)rnd_range(0, 62);
        int64_t v = rnd_range(-((int64_t)1 << 46), (int64_t)1 << 46);
        ok &= tspu_scale16(v, s) == ref_coef(v, s);
    }
    tt_check(ok, "primitives: scale16 table and 100000 random values", "");

    /* sat: clamps to the format and counts each clamp */
    uint32_t sat = 0;
    ok = 1;
    ok &= tspu_sat(INT32_MAX, 32, &sat) == INT32_MAX && sat == 0;
    ok &= tspu_sat(INT32_MIN, 32, &sat) == INT32_MIN && sat == 0;
    ok &= tspu_sat((int64_t)INT32_MAX + 1, 32, &sat) == INT32_MAX && sat == 1;
    ok &= tspu_sat((int64_t)INT32_MIN - 1, 32, &sat) == INT32_MIN && sat == 2;
    ok &= tspu_sat(INT64_MAX, 32, &sat) == INT32_MAX && sat == 3;
    ok &= tspu_sat(INT64_MIN, 32, &sat) == INT32_MIN && sat == 4;
    ok &= tspu_sat(32767, 16, &sat) == 32767 && tspu_sat(-32768, 16, &sat) == -32768 && sat == 4;
    ok &= tspu_sat(32768, 16, &sat) == 32767 && tspu_sat(-32769, 16, &sat) == -32768 && sat == 6;
    ok &= tspu_sat(0, 16, &sat) == 0 && sat == 6;
    tt_check(ok, "primitives: sat clamps at 16/32 bits and counts every clamp (and only clamps)",
             "sat=%u", sat);

    /* operand: round(v/2^16), clamp at +32767 only near 2^31 */
    sat = 0;
    ok = 1;
    ok &= tspu_operand(0, &sat) == 0 && tspu_operand(32767, &sat) == 0;
    ok &= tspu_operand(32768, &sat) == 1 && tspu_operand(-32768, &sat) == 0;
    ok &= tspu_operand(-32769, &sat) == -1 && tspu_operand(65536, &sat) == 1;
    ok &= tspu_operand(2147450879, &sat) == 32767 && sat == 0; /* 2^31 - 2^15 - 1 */
    tt_check(ok, "primitives: operand rounding, no clamp below 2^31 - 2^15", "sat=%u", sat);
    ok = tspu_operand(2147450880, &sat) == 32767 && sat == 1; /* rounds to 32768 */
    ok &= tspu_operand(INT32_MAX, &sat) == 32767 && sat == 2;
    tt_check(ok, "primitives: operand of X >= 2^31 - 2^15 clamps to +32767 and counts", "sat=%u", sat);
    sat = 0;
    ok = tspu_operand(INT32_MIN, &sat) == -32768 && tspu_operand(INT32_MIN + 32767, &sat) == -32768 &&
         tspu_operand(INT32_MIN + 32768, &sat) == -32767 && sat == 0;
    tt_check(ok, "primitives: negative operands never clamp (INT32_MIN -> -32768 exactly)", "sat=%u", sat);
    /* exhaustive-ish: every operand equals the reference over a stride */
    ok = 1;
    for (int64_t v = INT32_MIN; v <= INT32_MAX && ok; v += 4099) {
        uint32_t s1 = 0;
        uint64_t s2 = 0;
        int32_t g = tspu_operand((int32_t)v, &s1);
        ok &= g == ref_op(v, &s2) && s1 == s2;
    }
    tt_check(ok, "primitives: operand == reference over the whole 32-bit range (stride 4099)", "");
}

/* ------------------------------------------------------------------ */
/* 2. lockstep                                                         */
static void test_lockstep(void)
{
    static const unsigned ns[] = {2, 5, 16};
    static const tspu_integrator integs[] = {TSPU_INT_EM, TSPU_INT_LM, TSPU_INT_UD};
    static const char *iname[] = {"EM", "LM", "UD"};
    for (unsigned ni = 0; ni < 3; ni++)
        for (unsigned ii = 0; ii < 3; ii++)
            for (int wild = 0; wild < 2; wild++) {
                int ok = 1, reps = wild ? 6 : 10;
                char why[256] = "";
                uint64_t tot_steps = 0, tot_sat = 0;
                int any_sat = 0, any_clean = 0;
                for (int rep = 0; rep < reps && ok; rep++) {
                    problem_t P;
                    random_problem(&P, ns[ni], integs[ii], wild);
                    /* at least a few thousand steps over the reps */
                    if (rep == 0) {
                        P.c.burnin = 1500;
                        P.c.n_samples = 800;
                    }
                    uint32_t satc;
                    uint64_t steps;
                    ok = lockstep(&P, MUT_NONE, why, sizeof why, &satc, &steps);
                    tot_steps += steps;
                    tot_sat += satc;
                    any_sat |= satc > 0;
                    any_clean |= satc == 0;
                }
                tt_check(ok, "lockstep: model == reference", "N=%u %s %s: %s", ns[ni], iname[ii],
                         wild ? "wild" : "stable", why);
                tt_note("N=%u %s %s: %llu steps, %llu clamps (runs with/without clamps: %d/%d)",
                        ns[ni], iname[ii], wild ? "wild" : "stable", (unsigned long long)tot_steps,
                        (unsigned long long)tot_sat, any_sat, any_clean);
                if (wild)
                    tt_check(any_sat, "lockstep: wild configurations do saturate", "N=%u %s", ns[ni],
                             iname[ii]);
            }

    /* a stable run that stays clean and one that is pinned to the rails */
    {
        problem_t P;
        random_problem(&P, 5, TSPU_INT_LM, 0);
        P.c.noise_shift = 8;
        P.x0[0] = 0;
        P.c.lambda_init = 0;
        P.c.n_segments = 2; /* 0 -> 1 -> 0.5, no clamp */
        P.c.seg[0] = (tspu_segment){1024, 1 << 21};
        P.c.seg[1] = (tspu_segment){512, -(1 << 21)};
        char why[256];
        uint32_t satc;
        int ok = lockstep(&P, MUT_NONE, why, sizeof why, &satc, NULL);
        tt_check(ok && satc == 0, "lockstep: stable LM run without any clamp", "%s sat=%u", why, satc);
    }

    /* tie-heavy: D = 17 makes scale16(Y, D) an exact tie for every odd Y,
     * lambda16 = 2^14 makes the interpolation a tie for every odd F1 - F0 */
    for (int integ = 0; integ < 3; integ++) {
        problem_t P;
        random_problem(&P, 5, (tspu_integrator)integ, 0);
        for (int k = 0; k < 2; k++)
            for (unsigned i = 0; i < 25; i++)
                P.a[k][i] = (int16_t)(P.a[k][i] / 5);
        P.c.drift_shift = 17;
        P.c.lambda_init = 1u << 30;
        P.c.n_segments = 0;
        P.c.burnin = 1000;
        P.c.n_samples = 500;
        char why[256] = "";
        int ok = lockstep(&P, MUT_NONE, why, sizeof why, NULL, NULL);
        int caught1 = !lockstep(&P, MUT_DRIFT_TIES_DOWN, why + 128, 128, NULL, NULL);
        int caught2 = !lockstep(&P, MUT_LAMBDA_TIES_DOWN, why + 128, 128, NULL, NULL);
        tt_check(ok && caught1 && caught2,
                 "lockstep: tie-heavy run (D = 17, lambda = 1/2) agrees; ties-down references do not",
                 "integrator %d: ok %d caught %d %d: %s", integ, ok, caught1, caught2, why);
    }

    /* extreme products: N = 64, every coupling -32768 (or +32767) and every
     * operand -32768 (or the clamped +32767): |Y| reaches 2^36, the largest
     * value the coupling accumulator must hold exactly */
    for (int sign = 0; sign < 2; sign++)
        for (int integ = 0; integ < 3; integ++) {
            problem_t P;
            random_problem(&P, 64, (tspu_integrator)integ, 1);
            for (int k = 0; k < 2; k++) {
                for (unsigned i = 0; i < 64 * 64; i++)
                    P.a[k][i] = sign ? 32767 : -32768;
                for (unsigned i = 0; i < 64; i++)
                    P.b[k][i] = k ? INT32_MIN : 0;
            }
            for (unsigned i = 0; i < 64; i++)
                P.x0[i] = sign ? INT32_MAX : INT32_MIN;
            P.c.drift_shift = (unsigned)(sign ? 40 + integ : 44 + integ);
            P.c.burnin = 200;
            P.c.n_samples = 100;
            char why[256] = "";
            uint32_t satc;
            int ok = lockstep(&P, MUT_NONE, why, sizeof why, &satc, NULL);
            tt_check(ok, "lockstep: N=64 extreme couplings and operands (|Y| = 2^36)", "%s %d: %s",
                     sign ? "+32767" : "-32768", integ, why);
        }

    /* negative twins: each mutation of the reference must be caught */
    static const struct {
        int mut;
        tspu_integrator integ;
        const char *name;
    } muts[] = {
        {MUT_DRIFT_FLOOR, TSPU_INT_EM, "force truncates instead of rounding"},
        {MUT_LAMBDA_FLOOR, TSPU_INT_LM, "lambda interpolation truncates"},
        {MUT_LM_NO_MEMORY, TSPU_INT_LM, "LM without xi_prev"},
        {MUT_WORK_SHIFT15, TSPU_INT_EM, "work rounded by 2^15"},
        {MUT_OPSAT_NOCOUNT, TSPU_INT_EM, "operand clamps not counted"},
        {MUT_UD_FRICTION_P, TSPU_INT_UD, "friction from p instead of op(p)"},
        {MUT_DRIFT_TIES_DOWN, TSPU_INT_LM, "force ties rounded toward -inf"},
        {MUT_LAMBDA_TIES_DOWN, TSPU_INT_EM, "lambda interpolation ties toward -inf"},
        {MUT_OP_TIES_DOWN, TSPU_INT_EM, "operand ties toward -inf"},
    };
    for (size_t k = 0; k < sizeof muts / sizeof muts[0]; k++) {
        problem_t P;
        random_problem(&P, 5, muts[k].integ, 0);
        P.c.burnin = 50;
        P.c.n_segments = 1;
        P.c.seg[0].steps = 1000;
        P.c.seg[0].dlambda = 1 << 21; /* 0 -> 1 over 1024 steps */
        P.c.lambda_init = 0;
        P.c.n_samples = 100;
        P.c.drift_shift = 20;
        P.x0[0] = INT32_MAX; /* operand clamp on the first step */
        for (unsigned i = 1; i < 5; i++) /* exact operand ties, +-(1000.5 * 2^16) */
            P.x0[i] = (i & 1 ? -1 : 1) * (1000 * 65536 + 32768);
        char why[256] = "";
        int ok = lockstep(&P, muts[k].mut, why, sizeof why, NULL, NULL);
        tt_check(!ok, "lockstep negative twin: mutated reference disagrees", "%s: lockstep passed",
                 muts[k].name);
        tt_note("mutation '%s' caught: %s", muts[k].name, why);
    }
}

/* ------------------------------------------------------------------ */
/* 3. sequencer                                                        */
static tspu_model *simple_model(unsigned n, size_t fifo, const tspu_model_config *c, uint64_t seed)
{
    tspu_model *m = tspu_model_create(n, fifo);
    int16_t a[NMAX * NMAX] = {0};
    int32_t b[NMAX] = {0};
    for (unsigned i = 0; i < n; i++) {
        a[i * n + i] = 30000;
        b[i] = 1000 * (int32_t)i;
        if (i + 1 < n)
            a[i * n + i + 1] = a[(i + 1) * n + i] = -3000;
    }
    tspu_model_load_couplings(m, 0, a, b);
    for (unsigned i = 0; i < n; i++)
        a[i * n + i] = 20000;
    tspu_model_load_couplings(m, 1, a, NULL);
    if (tspu_model_configure(m, c) != TSPU_MODEL_OK) {
        tspu_model_destroy(m);
        return NULL;
    }
    tspu_model_seed(m, seed);
    int32_t x[NMAX] = {0}, p[NMAX] = {0};
    tspu_model_set_state(m, x, p);
    return m;
}

typedef struct {
    uint64_t calls, last_step;
    int order_ok;
    uint32_t lam[4096];
    int32_t x[4096][8], p[4096][8];
    unsigned n;
} rec_ctx;
static void rec_obs(void *ctx, uint64_t step, const int32_t *x, const int32_t *p, uint32_t lam)
{
    rec_ctx *R = ctx;
    if (step != R->calls)
        R->order_ok = 0;
    if (step < 4096) {
        R->lam[step] = lam;
        for (unsigned i = 0; i < R->n && i < 8; i++) {
            R->x[step][i] = x[i];
            R->p[step][i] = p[i];
        }
    }
    R->calls++;
    R->last_step = step;
}

static void test_sequencer(void)
{
    tspu_model_config c = tspu_model_default_config();
    c.integrator = TSPU_INT_LM;
    c.drift_shift = 20;
    c.noise_shift = 10;
    c.burnin = 10;
    c.n_segments = 3;
    c.seg[0] = (tspu_segment){5, 1 << 20};
    c.seg[1] = (tspu_segment){0, 1 << 30}; /* skipped: must have no effect */
    c.seg[2] = (tspu_segment){7, -(1 << 18)};
    c.thin = 3;
    c.n_samples = 4;
    c.lambda_init = 1u << 29;
    tspu_model *m = simple_model(3, 0, &c, 7);
    rec_ctx *R = calloc(1, sizeof *R);
    R->n = 3;
    R->order_ok = 1;
    tspu_model_set_observer(m, rec_obs, R);

    tt_check(tspu_model_phase(m) == TSPU_PHASE_IDLE && tspu_model_run(m, 100) == 0 && R->calls == 0,
             "sequencer: idle before start, run does nothing", "phase %d", tspu_model_phase(m));
    tspu_model_start(m);
    /* expected phase before each step, samples after each step */
    int ok = 1, bad = -1;
    uint32_t lam = c.lambda_init;
    for (int t = 0; t < 34; t++) {
        tspu_phase want = t < 10 ? TSPU_PHASE_BURNIN : t < 22 ? TSPU_PHASE_SCHEDULE : TSPU_PHASE_SAMPLING;
        if (tspu_model_phase(m) != want || tspu_model_done(m)) {
            ok = 0;
            bad = t;
            break;
        }
        if (tspu_model_run(m, 1) != 1) {
            ok = 0;
            bad = t;
            break;
        }
        if (t >= 10 && t < 15)
            lam += 1u << 20;
        else if (t >= 15 && t < 22)
            lam -= 1u << 18;
        tspu_status st;
        tspu_model_read_status(m, &st);
        uint32_t want_samples = t < 22 ? 0 : (uint32_t)(t - 22 + 1) / 3;
        if (st.steps != (uint64_t)t + 1 || st.samples != want_samples || st.lambda_acc != lam ||
            R->lam[t] != lam || ((st.flags & TSPU_FLAG_DONE) != 0) != (t == 33)) {
            ok = 0;
            bad = t;
            break;
        }
        if (tspu_model_fifo_level(m) != 3 * want_samples) {
            ok = 0;
            bad = t;
            break;
        }
    }
    tt_check(ok, "sequencer: burnin 10, segments 5/0/7, 4 samples thin 3: phases, lambda, samples, flags",
             "first bad step %d", bad);
    tt_check(tspu_model_done(m) && tspu_model_phase(m) == TSPU_PHASE_DONE && tspu_model_run(m, 100) == 0 &&
                 R->calls == 34 && R->order_ok,
             "sequencer: exactly 34 = 10 + 12 + 4*3 steps, then done and run returns 0",
             "calls %llu", (unsigned long long)R->calls);

    /* partial counts */
    tspu_model_start(m);
    uint64_t r1 = tspu_model_run(m, 10), r2 = tspu_model_run(m, 20), r3 = tspu_model_run(m, 1000),
             r4 = tspu_model_run(m, 1000);
    tt_check(r1 == 10 && r2 == 20 && r3 == 4 && r4 == 0 && tspu_model_done(m),
             "sequencer: run returns partial counts (10, 20, 4, 0)", "%llu %llu %llu %llu",
             (unsigned long long)r1, (unsigned long long)r2, (unsigned long long)r3,
             (unsigned long long)r4);

    /* restart keeps state and seeds, clears counters */
    {
        tspu_status st;
        tspu_model_read_status(m, &st);
        int32_t x1[3], x2[3];
        uint32_t z1[4], z2[4];
        tspu_model_get_state(m, x1, NULL);
        tspu_model_get_lane_seed(m, 1, z1);
        tspu_model_start(m);
        tspu_status st2;
        tspu_model_read_status(m, &st2);
        tspu_model_get_state(m, x2, NULL);
        tspu_model_get_lane_seed(m, 1, z2);
        tspu_moments mom;
        tspu_model_read_moments(m, &mom);
        tt_check(st.steps == 34 && st2.steps == 0 && st2.samples == 0 && st2.flags == 0 &&
                     st2.lambda_acc == c.lambda_init && tspu_model_fifo_level(m) == 0 && mom.count == 0 &&
                     tspu_model_read_work(m) == 0 && !memcmp(x1, x2, sizeof x1) && !memcmp(z1, z2, sizeof z1),
                 "sequencer: start clears counters/flags/FIFO/moments/work, keeps state and seeds", "");
    }

    /* zero-length phases */
    {
        tspu_model_config z = c;
        z.burnin = 0;
        z.n_segments = 2;
        z.seg[0].steps = 0;
        z.seg[1].steps = 0;
        z.n_samples = 5;
        z.thin = 2;
        /* the program started above is running: a new configuration is
         * refused until it is done */
        tt_check(tspu_model_configure(m, &z) == TSPU_MODEL_EBUSY,
                 "config: refused (busy) while a program runs", "");
        tspu_model_run(m, UINT64_MAX);
        tt_check(tspu_model_configure(m, &z) == TSPU_MODEL_OK,
                 "config: accepted once the program is done", "");
        tspu_model_start(m);
        int ok1 = tspu_model_phase(m) == TSPU_PHASE_SAMPLING;
        uint64_t s = tspu_model_run(m, UINT64_MAX);
        tspu_status st;
        tspu_model_read_status(m, &st);
        tt_check(ok1 && s == 10 && st.samples == 5 && st.lambda_acc == c.lambda_init,
                 "sequencer: empty burn-in and segments skipped, straight to sampling (5 x thin 2)",
                 "phase ok %d steps %llu", ok1, (unsigned long long)s);

        z.n_samples = 0;
        z.burnin = 0;
        z.n_segments = 0;
        tspu_model_configure(m, &z);
        R->calls = 0;
        tspu_model_start(m);
        tspu_model_read_status(m, &st);
        tt_check(tspu_model_done(m) && (st.flags & TSPU_FLAG_DONE) && tspu_model_run(m, 5) == 0 && R->calls == 0,
                 "sequencer: empty program is done at start, 0 steps", "");

        z.burnin = 3;
        z.n_segments = 1;
        z.seg[0] = (tspu_segment){4, 1000};
        tspu_model_configure(m, &z);
        tspu_model_start(m);
        s = tspu_model_run(m, UINT64_MAX);
        tspu_model_read_status(m, &st);
        tt_check(s == 7 && (st.flags & TSPU_FLAG_DONE) && st.samples == 0 && tspu_model_fifo_level(m) == 0,
                 "sequencer: no sampling phase: done after burn-in + schedule (7 steps)", "%llu",
                 (unsigned long long)s);

        z.burnin = 0;
        z.n_segments = 0;
        z.n_samples = 3;
        z.thin = 1;
        tspu_model_configure(m, &z);
        tspu_model_start(m);
        s = tspu_model_run(m, UINT64_MAX);
        tt_check(s == 3 && tspu_model_fifo_level(m) == 9, "sequencer: thin 1 keeps every step", "");
        R->calls = 0;
        tspu_model_start(m);
        tspu_model_read_status(m, &st);
        int done_before = (st.flags & TSPU_FLAG_DONE) != 0;
        tspu_model_run(m, 2);
        tspu_model_read_status(m, &st);
        int done_mid = (st.flags & TSPU_FLAG_DONE) != 0;
        tt_check(!done_before && !done_mid && !tspu_model_done(m), "sequencer: done flag clear until the end",
                 "");
    }
    free(R);
    tspu_model_destroy(m);

    /* chunked runs are identical to one big run */
    {
        tspu_model_config cc = tspu_model_default_config();
        cc.integrator = TSPU_INT_UD;
        cc.drift_shift = 20;
        cc.noise_shift = 12;
        cc.ka = 26214;
        cc.ka_shift = 20;
        cc.ko = 26214;
        cc.ko_shift = 18;
        cc.burnin = 777;
        cc.n_segments = 3;
        cc.seg[0] = (tspu_segment){1000, 1 << 21};
        cc.seg[1] = (tspu_segment){333, -(1 << 22)};
        cc.seg[2] = (tspu_segment){500, 3 << 20};
        cc.thin = 3;
        cc.n_samples = 900;
        cc.sample_momentum = 1;
        const unsigned chunks[] = {0, 1, 7, 1000};
        int32_t xs[4][5], ps[4][5];
        uint32_t zs[4][5][4];
        tspu_moments moms[4];
        tspu_status sts[4];
        int64_t works[4];
        int16_t fifos[4][2048];
        size_t flen[4];
        uint64_t totals[4];
        for (int k = 0; k < 4; k++) {
            tspu_model *mm = simple_model(5, 2000, &cc, 99);
            tspu_model_start(mm);
            uint64_t tot = 0;
            if (chunks[k] == 0) {
                tot = tspu_model_run(mm, UINT64_MAX);
            } else {
                uint64_t g;
                while ((g = tspu_model_run(mm, chunks[k])) > 0) {
                    if (g > chunks[k])
                        tot = UINT64_MAX;
                    tot += g;
                }
            }
            totals[k] = tot;
            tspu_model_get_state(mm, xs[k], ps[k]);
            for (unsigned i = 0; i < 5; i++)
                tspu_model_get_lane_seed(mm, i, zs[k][i]);
            tspu_model_read_moments(mm, &moms[k]);
            tspu_model_read_status(mm, &sts[k]);
            works[k] = tspu_model_read_work(mm);
            flen[k] = tspu_model_fifo_read(mm, fifos[k], 2048);
            tspu_model_destroy(mm);
        }
        int same = 1;
        for (int k = 1; k < 4; k++) {
            same &= totals[k] == totals[0] && !memcmp(xs[k], xs[0], sizeof xs[0]) &&
                    !memcmp(ps[k], ps[0], sizeof ps[0]) && !memcmp(zs[k], zs[0], sizeof zs[0]) &&
                    !memcmp(&moms[k], &moms[0], sizeof moms[0]) && works[k] == works[0] &&
                    !memcmp(&sts[k], &sts[0], sizeof sts[0]) && flen[k] == flen[0] &&
                    !memcmp(fifos[k], fifos[0], flen[0] * sizeof fifos[0][0]);
        }
        uint64_t want = 777 + 1000 + 333 + 500 + 900 * 3;
        tt_check(same && totals[0] == want && sts[0].steps == want,
                 "sequencer: chunks of 1, 7, 1000 give the state/seeds/moments/work/status/FIFO of one run",
                 "totals %llu %llu %llu %llu want %llu", (unsigned long long)totals[0],
                 (unsigned long long)totals[1], (unsigned long long)totals[2],
                 (unsigned long long)totals[3], (unsigned long long)want);
        tt_check(sts[0].fifo_dropped > 0 && works[0] != 0,
                 "sequencer: the chunk comparison covers FIFO drops and work", "dropped %u work %lld",
                 sts[0].fifo_dropped, (long long)works[0]);
        /* negative twin: a different seed gives a different end state */
        tspu_model *mm = simple_model(5, 2000, &cc, 100);
        tspu_model_start(mm);
        tspu_model_run(mm, UINT64_MAX);
        int32_t xo[5];
        tspu_model_get_state(mm, xo, NULL);
        tspu_model_destroy(mm);
        tt_check(memcmp(xo, xs[0], sizeof xo) != 0, "sequencer negative twin: another seed, another end state",
                 "");
    }
}

/* ------------------------------------------------------------------ */
/* 4. FIFO                                                             */
typedef struct {
    unsigned n;
    int momentum;
    uint64_t burn; /* steps before sampling */
    uint32_t thin;
    uint64_t steps;
    size_t kept;
    int16_t (*smp)[2 * 8]; /* op(x), op(p) of every kept sample, as observed */
} kept_ctx;
static void kept_obs(void *ctx, uint64_t step, const int32_t *x, const int32_t *p, uint32_t lam)
{
    (void)lam;
    kept_ctx *K = ctx;
    K->steps++;
    if (step >= K->burn && (step - K->burn + 1) % K->thin == 0) {
        uint64_t s = 0;
        for (unsigned i = 0; i < K->n; i++) {
            K->smp[K->kept][i] = (int16_t)ref_op(x[i], &s);
            K->smp[K->kept][K->n + i] = (int16_t)ref_op(p[i], &s);
        }
        K->kept++;
    }
}

static void test_fifo(void)
{
    const unsigned n = 5;
    tspu_model_config c = tspu_model_default_config();
    c.integrator = TSPU_INT_LM;
    c.drift_shift = 20;
    c.noise_shift = 14;
    c.burnin = 20;
    c.thin = 2;
    c.n_samples = 10;
    kept_ctx K = {.n = n, .burn = 20, .thin = 2};
    K.smp = calloc(20000, sizeof *K.smp);

    /* 12 words: room for two samples of 5 */
    tspu_model *m = simple_model(n, 12, &c, 5);
    tspu_model_set_observer(m, kept_obs, &K);
    tspu_model_start(m);
    int whole = 1;
    while (tspu_model_run(m, 1))
        whole &= tspu_model_fifo_level(m) % n == 0;
    tspu_status st;
    tspu_model_read_status(m, &st);
    tt_check(whole && tspu_model_fifo_level(m) == 10 && st.fifo_dropped == 8 &&
                 (st.flags & TSPU_FLAG_FIFO_OVERFLOW) && st.samples == 10 && K.kept == 10,
             "fifo: 12-word FIFO holds 2 whole samples of 5, 8 dropped and flagged",
             "level %zu dropped %u flags 0x%x", tspu_model_fifo_level(m), st.fifo_dropped, st.flags);
    int16_t buf[64];
    size_t got = tspu_model_fifo_read(m, buf, 64);
    tt_check(got == 10 && !memcmp(buf, K.smp[0], n * 2) && !memcmp(buf + n, K.smp[1], n * 2) &&
                 tspu_model_fifo_level(m) == 0,
             "fifo: the kept samples are the first two, in order, equal to op(x) at the kept steps", "got %zu",
             got);

    /* partial reads make room word by word; samples are never split */
    c.n_samples = 40;
    c.thin = 1;
    tspu_model_configure(m, &c);
    K.kept = 0;
    K.steps = 0;
    K.thin = 1;
    tspu_model_start(m);
    int16_t stream[4096];
    size_t slen = 0;
    size_t cap = 12, level = 0;
    int acc_ok = 1;
    size_t expect_idx[64], nexp = 0;
    uint32_t drops = 0;
    for (int guard = 0; guard < 10000 && !tspu_model_done(m); guard++) {
        size_t before = K.kept;
        tspu_model_run(m, 1);
        if (K.kept > before) { /* a sample was kept: written iff room */
            if (cap - level >= n) {
                expect_idx[nexp++] = K.kept - 1;
                level += n;
            } else {
                drops++;
            }
        }
        acc_ok &= tspu_model_fifo_level(m) == level;
        size_t want = (size_t)rnd_range(0, 4);
        size_t g = tspu_model_fifo_read(m, stream + slen, want);
        slen += g;
        level -= g;
    }
    slen += tspu_model_fifo_read(m, stream + slen, 64);
    int stream_ok = slen == nexp * n;
    for (size_t k = 0; stream_ok && k < nexp; k++)
        stream_ok &= !memcmp(stream + k * n, K.smp[expect_idx[k]], n * 2);
    tspu_model_read_status(m, &st);
    tt_check(acc_ok && stream_ok && st.fifo_dropped == drops && drops > 0 && nexp > 2,
             "fifo: with partial reads a sample is written whole iff n words are free; stream = whole samples in order",
             "acc %d stream %d (len %zu, %zu samples) dropped %u/%u", acc_ok, stream_ok, slen, nexp,
             st.fifo_dropped, drops);
    tspu_model_destroy(m);

    /* sticky overflow flag; cleared by start only */
    {
        tspu_model_config c2 = c;
        c2.burnin = 0;
        c2.n_samples = 4;
        m = simple_model(n, 10, &c2, 6);
        tspu_model_start(m);
        tspu_model_run(m, 3); /* third sample dropped */
        tspu_model_fifo_read(m, buf, 64);
        tspu_model_run(m, 1); /* fits again */
        tspu_model_read_status(m, &st);
        int sticky = (st.flags & TSPU_FLAG_FIFO_OVERFLOW) && st.fifo_dropped == 1 && tspu_model_fifo_level(m) == n;
        tspu_model_start(m);
        tspu_model_read_status(m, &st);
        tt_check(sticky && !(st.flags & TSPU_FLAG_FIFO_OVERFLOW) && st.fifo_dropped == 0,
                 "fifo: overflow flag is sticky after the FIFO drains, cleared by start", "");
        tspu_model_destroy(m);
    }

    /* sample_momentum layout: n op(x) then n op(p) */
    {
        tspu_model_config cu = tspu_model_default_config();
        cu.integrator = TSPU_INT_UD;
        cu.drift_shift = 20;
        cu.noise_shift = 14;
        cu.ka = 26214;
        cu.ka_shift = 20;
        cu.ko = 26214;
        cu.ko_shift = 18;
        cu.burnin = 50;
        cu.thin = 3;
        cu.n_samples = 100;
        cu.sample_momentum = 1;
        const unsigned nu = 3;
        kept_ctx KU = {.n = nu, .burn = 50, .thin = 3, .smp = K.smp};
        m = simple_model(nu, 4096, &cu, 8);
        tspu_model_set_observer(m, kept_obs, &KU);
        tspu_model_start(m);
        tspu_model_run(m, UINT64_MAX);
        int16_t w[4096];
        size_t g = tspu_model_fifo_read(m, w, 4096);
        int lay = g == 100 * 2 * nu && KU.kept == 100;
        int pnz = 0;
        for (size_t k = 0; lay && k < 100; k++) {
            lay &= !memcmp(w + k * 2 * nu, KU.smp[k], 2 * nu * sizeof(int16_t));
            for (unsigned i = 0; i < nu; i++)
                pnz |= w[k * 2 * nu + nu + i] != 0;
        }
        tt_check(lay && pnz, "fifo: sample_momentum layout is n op(x) then n op(p) per sample",
                 "words %zu kept %zu", g, KU.kept);
        /* moments are of x only */
        tspu_moments mom;
        tspu_model_read_moments(m, &mom);
        int64_t s0 = 0;
        for (size_t k = 0; k < 100; k++)
            s0 += w[k * 2 * nu];
        tt_check(mom.count == 100 && mom.sum[0] == s0, "fifo: with sample_momentum the moments are of op(x) only",
                 "");
        tspu_model_destroy(m);
    }

    /* moments: unaffected by FIFO overflow; equal to sums over the samples */
    {
        tspu_model_config cm = c;
        cm.burnin = 100;
        cm.thin = 2;
        cm.n_samples = 1500;
        tspu_model *big = simple_model(n, 1500 * n, &cm, 11);
        tspu_model *tiny = simple_model(n, n, &cm, 11);
        tspu_model_start(big);
        tspu_model_start(tiny);
        tspu_model_run(big, UINT64_MAX);
        tspu_model_run(tiny, UINT64_MAX);
        tspu_moments mb, mt;
        tspu_model_read_moments(big, &mb);
        tspu_model_read_moments(tiny, &mt);
        tspu_status sb, stt;
        tspu_model_read_status(big, &sb);
        tspu_model_read_status(tiny, &stt);
        tt_check(!memcmp(&mb, &mt, sizeof mb) && stt.fifo_dropped == 1499 && sb.fifo_dropped == 0 &&
                     mb.count == 1500,
                 "fifo: moments identical with a full FIFO (1499 dropped) and a large one", "dropped %u/%u",
                 stt.fifo_dropped, sb.fifo_dropped);
        int16_t *w = malloc(1500 * n * sizeof *w);
        size_t g = tspu_model_fifo_read(big, w, 1500 * n);
        int64_t sum[NMAX] = {0}, sq[NTRI] = {0};
        for (size_t k = 0; k < g / n; k++) {
            unsigned q = 0;
            for (unsigned i = 0; i < n; i++) {
                sum[i] += w[k * n + i];
                for (unsigned j = i; j < n; j++)
                    sq[q++] += (int64_t)w[k * n + i] * w[k * n + j];
            }
        }
        int eq = g == 1500 * n;
        for (unsigned i = 0; i < n; i++)
            eq &= sum[i] == mb.sum[i];
        for (unsigned q = 0; q < n * (n + 1) / 2; q++)
            eq &= sq[q] == mb.sumsq[q];
        tt_check(eq, "fifo: moments equal sums over the FIFO samples exactly (upper-triangle order)", "");
        /* negative twin: leaving out one sample changes the sums */
        int64_t s1 = sum[0] - w[0], q1 = sq[0] - (int64_t)w[0] * w[0];
        tt_check(s1 != mb.sum[0] || q1 != mb.sumsq[0],
                 "fifo negative twin: sums without the first sample differ from the moments", "");
        free(w);
        tspu_model_destroy(big);
        tspu_model_destroy(tiny);
    }
    free(K.smp);
}

/* ------------------------------------------------------------------ */
/* 5. work and lambda                                                  */
typedef struct {
    unsigned n;
    uint64_t steps;
    int32_t (*x)[NMAX];
    uint32_t *lam;
} traj_ctx;
static void traj_obs(void *ctx, uint64_t step, const int32_t *x, const int32_t *p, uint32_t lam)
{
    (void)p;
    traj_ctx *T = ctx;
    memcpy(T->x[step + 1], x, T->n * sizeof *x);
    T->lam[step + 1] = lam;
    T->steps = step + 1;
}

/* W from an observed trajectory with the integer rules; variant 1 drops
 * the bias correction (a wrong spec, for the negative twin) */
static int64_t work_from_traj(const traj_ctx *T, const int16_t *a0, const int32_t *b0, const int16_t *a1,
                              const int32_t *b1, unsigned D, int variant)
{
    const unsigned n = T->n;
    int64_t W = 0;
    for (uint64_t t = 0; t < T->steps; t++) {
        int64_t l0 = T->lam[t] >> 16, l1 = T->lam[t + 1] >> 16, d = l1 - l0;
        if (d == 0)
            continue;
        int64_t xo[NMAX], s = 0;
        uint64_t sat = 0;
        for (unsigned i = 0; i < n; i++)
            xo[i] = ref_op(T->x[t][i], &sat);
        for (unsigned i = 0; i < n; i++) {
            int64_t y0 = 0, y1 = 0;
            for (unsigned j = 0; j < n; j++) {
                y0 += (int64_t)a0[i * n + j] * xo[j];
                y1 += (int64_t)a1[i * n + j] * xo[j];
            }
            int64_t f0 = ref_clamp32(ref_coef(y0, D) - b0[i], &sat);
            int64_t f1 = ref_clamp32(ref_coef(y1, D) - b1[i], &sat);
            s += xo[i] * ((f1 - f0) - (variant == 1 ? 0 : ((int64_t)b1[i] - b0[i])));
        }
        W += d * ref_round(s, 16);
    }
    return W;
}

static void test_work(void)
{
    const unsigned n = 3;
    const double A0[9] = {2.0, 0.3, 0.0, 0.3, 1.5, 0.2, 0.0, 0.2, 1.0};
    const double A1[9] = {3.0, -0.4, 0.1, -0.4, 2.5, 0.0, 0.1, 0.0, 4.0};
    const double b0[3] = {0.5, -1.0, 0.25};
    const double b1[3] = {-0.5, 0.8, 1.5};
    tspu_problem pr = {.n = n, .A0 = A0, .b0 = b0, .A1 = A1, .b1 = b1, .beta = 1.0, .h = 0.02,
                       .integrator = TSPU_INT_LM, .x_range = 8.0};
    tspu_mapping mp;
    tspu_model_config c = tspu_model_default_config();
    char err[200];
    int mr = tspu_map_problem(&pr, &mp, &c, err, sizeof err);
    tt_check(mr == 0, "work: fixmap maps the two-set problem", "%s", err);
    if (mr)
        return;

    const int T_RAMP = 2048;
    traj_ctx T = {.n = n};
    T.x = calloc(20000, sizeof *T.x);
    T.lam = calloc(20000, sizeof *T.lam);

    for (int variant = 0; variant < 2; variant++) {
        /* variant 0: dlambda = 2^31/2048 = 2^20 (d16 = 16 every step)
         * variant 1: dlambda not a multiple of 2^16 (d16 = 32 or 33), ramps
         * up, holds, and down again */
        c.burnin = 300;
        if (variant == 0) {
            c.n_segments = 1;
            c.seg[0] = (tspu_segment){(uint32_t)T_RAMP, 1 << 20};
        } else {
            c.n_segments = 3;
            c.seg[0] = (tspu_segment){1000, 2147483}; /* to 0.9999997 */
            c.seg[1] = (tspu_segment){200, 0};
            c.seg[2] = (tspu_segment){1500, -1431655}; /* back to 500 */
        }
        c.lambda_init = 0;
        c.thin = 1;
        c.n_samples = 200;
        tspu_model *m = tspu_model_create(n, 0);
        tspu_model_configure(m, &c);
        tspu_model_load_couplings(m, 0, mp.a[0], mp.b[0]);
        tspu_model_load_couplings(m, 1, mp.a[1], mp.b[1]);
        tspu_model_seed(m, 31337 + (uint64_t)variant);
        int32_t x0[3] = {0, 0, 0};
        tspu_model_set_state(m, x0, NULL);
        memcpy(T.x[0], x0, sizeof x0);
        T.lam[0] = c.lambda_init;
        tspu_model_set_observer(m, traj_obs, &T);
        tspu_model_start(m);
        tspu_model_run(m, c.burnin);
        int64_t w_burn = tspu_model_read_work(m);
        tspu_model_run(m, UINT64_MAX);
        int64_t W = tspu_model_read_work(m);
        tspu_status st;
        tspu_model_read_status(m, &st);
        tt_check(w_burn == 0, "work: zero during burn-in (no lambda change)", "variant %d: %lld", variant,
                 (long long)w_burn);
        tt_check(st.sat_count == 0, "work: the ramp runs without saturation", "variant %d sat %u", variant,
                 st.sat_count);

        int64_t Wi = work_from_traj(&T, mp.a[0], mp.b[0], mp.a[1], mp.b[1], c.drift_shift, 0);
        tt_check(W == Wi && W != 0, "work: W recomputed from the observed trajectory (integer rules) matches",
                 "variant %d: model %lld, recomputed %lld", variant, (long long)W, (long long)Wi);
        int64_t Wbad = work_from_traj(&T, mp.a[0], mp.b[0], mp.a[1], mp.b[1], c.drift_shift, 1);
        tt_check(Wbad != W, "work negative twin: recomputation without the bias term differs", "variant %d",
                 variant);

        /* floating point: W_real = sum dlambda * (U1 - U0)(x_t) with the
         * effective problem, at x = op(X) * op_x.  Rounding bound per step,
         * in work LSBs: |d16| * (1/2 + sum|op_i| / 2^16) (the final
         * round_shift, and two roundings of 1/2 in each scale16 term of S). */
        double Wf = 0, Wf_noh = 0, bound = 0, Wf_nominal = 0, lam_q_bound = 0;
        for (uint64_t t = 0; t < T.steps; t++) {
            int64_t l0 = T.lam[t] >> 16, l1 = T.lam[t + 1] >> 16, d = l1 - l0;
            double x[3], dU = 0, dU_noh = 0, sop = 0;
            uint64_t sat = 0;
            for (unsigned i = 0; i < n; i++) {
                int64_t o = ref_op(T.x[t][i], &sat);
                x[i] = (double)o * mp.op_x;
                sop += fabs((double)o);
            }
            for (unsigned i = 0; i < n; i++) {
                double q = 0;
                for (unsigned j = 0; j < n; j++)
                    q += (mp.A_eff[1][i * n + j] - mp.A_eff[0][i * n + j]) * x[j];
                dU += 0.5 * x[i] * q - (mp.b_eff[1][i] - mp.b_eff[0][i]) * x[i];
                dU_noh += x[i] * q - (mp.b_eff[1][i] - mp.b_eff[0][i]) * x[i];
            }
            Wf += (double)d / 32768.0 * dU;
            Wf_noh += (double)d / 32768.0 * dU_noh;
            bound += fabs((double)d) * (0.5 + sop / 65536.0);
            /* the nominal schedule, dlambda / 2^31 per step, for variant 1 */
            int64_t dl = 0;
            if (t >= c.burnin) {
                uint64_t u = t - c.burnin;
                for (unsigned k = 0; k < c.n_segments; k++) {
                    if (u < c.seg[k].steps) {
                        dl = c.seg[k].dlambda;
                        break;
                    }
                    u -= c.seg[k].steps;
                }
            }
            Wf_nominal += (double)dl / 2147483648.0 * dU;
            lam_q_bound += fabs((double)d / 32768.0 - (double)dl / 2147483648.0) * fabs(dU);
        }
        double Wr = (double)W * mp.lsb_work, bnd = bound * mp.lsb_work + 1e-9 * fabs(Wf);
        tt_check(fabs(Wr - Wf) <= bnd,
                 "work: W_int * lsb_work = sum dlambda (U1-U0)(x_t) from A_eff/b_eff within the rounding bound",
                 "variant %d: %.9g vs %.9g, bound %.3g", variant, Wr, Wf, bnd);
        tt_note("variant %d: W_real %.6f, float %.6f, |diff| %.3g, bound %.3g", variant, Wr, Wf, fabs(Wr - Wf),
                bnd);
        tt_check(fabs(Wr - Wf_noh) > bnd, "work negative twin: U without the 1/2 is outside the bound",
                 "variant %d: %.9g vs %.9g", variant, Wr, Wf_noh);
        if (variant == 0)
            tt_check(Wf_nominal == Wf, "work: dlambda = 2^20 makes the 16-bit lambda steps exact", "");
        else
            tt_check(fabs(Wr - Wf_nominal) <= bnd + lam_q_bound,
                     "work: nominal schedule (dlambda/2^31) within rounding + lambda-quantisation bound",
                     "%.9g vs %.9g", Wr, Wf_nominal);
        tspu_model_destroy(m);
    }
    free(T.x);
    free(T.lam);

    /* lambda clamps count saturation */
    {
        tspu_model_config cl = tspu_model_default_config();
        cl.integrator = TSPU_INT_EM;
        cl.noise_shift = 0;
        cl.n_segments = 1;
        int16_t a[4] = {0, 0, 0, 0};
        tspu_model *m = tspu_model_create(2, 0);
        tspu_model_load_couplings(m, 0, a, NULL);
        tspu_model_load_couplings(m, 1, a, NULL);
        int32_t x0[2] = {0, 0};
        tspu_status st;
        /* up: 2^31 - 2500 + 1000 per step: step 3 clamps, then 4, 5 */
        cl.lambda_init = 0x80000000u - 2500;
        cl.seg[0] = (tspu_segment){5, 1000};
        tspu_model_configure(m, &cl);
        tspu_model_set_state(m, x0, NULL);
        tspu_model_start(m);
        tspu_model_run(m, UINT64_MAX);
        tspu_model_read_status(m, &st);
        tt_check(st.sat_count == 3 && (st.flags & TSPU_FLAG_SATURATED) && st.lambda_acc == 0x80000000u,
                 "lambda: accumulator clamps at 1.0, each clamping step counted", "sat %u acc %u", st.sat_count,
                 st.lambda_acc);
        /* down: 2500 - 1000 per step */
        cl.lambda_init = 2500;
        cl.seg[0] = (tspu_segment){5, -1000};
        tspu_model_configure(m, &cl);
        tspu_model_start(m);
        tspu_model_run(m, UINT64_MAX);
        tspu_model_read_status(m, &st);
        tt_check(st.sat_count == 3 && st.lambda_acc == 0, "lambda: accumulator clamps at 0, counted",
                 "sat %u acc %u", st.sat_count, st.lambda_acc);
        /* twin: landing exactly on 1.0 and 0 is not a clamp */
        cl.lambda_init = 0x80000000u - 5000;
        cl.seg[0] = (tspu_segment){5, 1000};
        tspu_model_configure(m, &cl);
        tspu_model_start(m);
        tspu_model_run(m, UINT64_MAX);
        tspu_model_read_status(m, &st);
        int ok = st.sat_count == 0 && st.lambda_acc == 0x80000000u;
        cl.lambda_init = 5000;
        cl.seg[0] = (tspu_segment){5, -1000};
        tspu_model_configure(m, &cl);
        tspu_model_start(m);
        tspu_model_run(m, UINT64_MAX);
        tspu_model_read_status(m, &st);
        ok &= st.sat_count == 0 && st.lambda_acc == 0;
        tt_check(ok, "lambda negative twin: reaching exactly 1.0 or 0 does not count", "sat %u", st.sat_count);
        /* extreme steps */
        cl.lambda_init = 0;
        cl.n_segments = 2;
        cl.seg[0] = (tspu_segment){2, INT32_MAX};
        cl.seg[1] = (tspu_segment){2, INT32_MIN};
        tspu_model_configure(m, &cl);
        tspu_model_start(m);
        tspu_model_run(m, 1);
        tspu_model_read_status(m, &st);
        uint32_t acc1 = st.lambda_acc;
        tspu_model_run(m, UINT64_MAX);
        tspu_model_read_status(m, &st);
        tt_check(acc1 == (uint32_t)INT32_MAX && st.lambda_acc == 0 && st.sat_count == 2,
                 "lambda: INT32_MAX / INT32_MIN steps clamp once each way", "acc1 %u acc %u sat %u", acc1,
                 st.lambda_acc, st.sat_count);
        tspu_model_destroy(m);
    }

    /* need0/need1: at lambda = 1 (no ramp) set 0 is never read, at
     * lambda = 0 set 1 is never read -- not even for saturation counting */
    {
        const unsigned nn = 4;
        int16_t good[16], garbage[16];
        int32_t bgood[4], bgarb[4];
        for (unsigned i = 0; i < 16; i++) {
            good[i] = (int16_t)(i % 5 == 0 ? 28000 : (int)(i * 37 % 200) - 100);
            garbage[i] = 32767;
        }
        for (unsigned i = 0; i < nn; i++) {
            bgood[i] = 100000 * (int32_t)i;
            bgarb[i] = INT32_MIN;
        }
        tspu_model_config cn = tspu_model_default_config();
        cn.integrator = TSPU_INT_LM;
        cn.drift_shift = 20; /* garbage force saturates through b = INT32_MIN */
        cn.noise_shift = 12;
        cn.burnin = 500;
        cn.thin = 1;
        cn.n_samples = 100;
        struct {
            uint32_t lam;
            int garbage_set;
            int expect_same;
            const char *name;
        } cases[] = {
            {0x80000000u, 0, 1, "lambda = 1.0: garbage in set 0 has no effect"},
            {0, 1, 1, "lambda = 0: garbage in set 1 has no effect"},
            {0xFFFF, 1, 1, "lambda acc 0xFFFF (lambda16 = 0): garbage in set 1 has no effect"},
            {0x80000000u - 0x10000, 0, 0, "negative twin: lambda16 = 32767 reads set 0"},
            {0x10000, 1, 0, "negative twin: lambda16 = 1 reads set 1"},
        };
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            int32_t xe[2][4];
            tspu_status st[2];
            tspu_moments mo[2];
            for (int g = 0; g < 2; g++) {
                cn.lambda_init = cases[k].lam;
                tspu_model *m = tspu_model_create(nn, 0);
                tspu_model_configure(m, &cn);
                const int16_t *gs = good;
                const int16_t *other = g ? garbage : gs;
                const int32_t *bother = g ? bgarb : bgood;
                tspu_model_load_couplings(m, (unsigned)cases[k].garbage_set, other, bother);
                tspu_model_load_couplings(m, (unsigned)!cases[k].garbage_set, gs, bgood);
                tspu_model_seed(m, 4242);
                int32_t x0[4] = {1 << 20, -(1 << 20), 0, 12345};
                tspu_model_set_state(m, x0, NULL);
                tspu_model_start(m);
                tspu_model_run(m, UINT64_MAX);
                tspu_model_get_state(m, xe[g], NULL);
                tspu_model_read_status(m, &st[g]);
                tspu_model_read_moments(m, &mo[g]);
                tspu_model_destroy(m);
            }
            int same = !memcmp(xe[0], xe[1], sizeof xe[0]) && st[0].sat_count == st[1].sat_count &&
                       st[0].flags == st[1].flags && !memcmp(&mo[0], &mo[1], sizeof mo[0]);
            if (cases[k].expect_same)
                tt_check(same && st[1].sat_count == 0, "need0/need1", "%s: same %d sat %u", cases[k].name, same,
                         st[1].sat_count);
            else
                tt_check(!same && st[1].sat_count > 0, "need0/need1", "%s: same %d sat %u", cases[k].name, same,
                         st[1].sat_count);
            tt_note("%s", cases[k].name);
        }
    }
}

/* ------------------------------------------------------------------ */
/* 6. configuration and seeding                                        */
static void test_config(void)
{
    tspu_model *m = tspu_model_create(4, 64);
    tt_check(m && tspu_model_n(m) == 4 && tspu_model_fifo_capacity(m) == 64, "config: create(4, 64)", "");
    tspu_model *bad1 = tspu_model_create(1, 0), *bad2 = tspu_model_create(65, 0);
    tspu_model *two = tspu_model_create(2, 0), *big = tspu_model_create(64, 0);
    tt_check(!bad1 && !bad2 && two && big && tspu_model_fifo_capacity(two) == 8192,
             "config: create rejects N=1 and N=65, accepts 2 and 64, default FIFO 8192 words", "");
    tspu_model_destroy(two);
    tspu_model_destroy(big);

    tspu_model_config good = tspu_model_default_config();
    good.integrator = TSPU_INT_EM;
    good.drift_shift = 17;
    good.burnin = 3;
    good.n_samples = 2;
    tt_check(tspu_model_configure(m, &good) == TSPU_MODEL_OK, "config: a valid configuration is accepted", "");

    struct {
        const char *name;
        tspu_model_config bad, ok; /* rejected, and its accepted twin */
    } cases[16];
    int nc = 0;
#define CASE(NAME, FIELD_BAD, FIELD_OK)                                                                     \
    do {                                                                                                    \
        cases[nc].name = NAME;                                                                              \
        cases[nc].bad = good;                                                                               \
        cases[nc].ok = good;                                                                                \
        { tspu_model_config *c = &cases[nc].bad; FIELD_BAD; }                                               \
        { tspu_model_config *c = &cases[nc].ok; FIELD_OK; }                                                 \
        nc++;                                                                                               \
    } while (0)
    CASE("integrator 3", c->integrator = (tspu_integrator)3, c->integrator = TSPU_INT_UD);
    CASE("integrator -1", c->integrator = (tspu_integrator)-1, c->integrator = TSPU_INT_EM);
    CASE("drift_shift 63", c->drift_shift = 63, c->drift_shift = 62);
    CASE("ka_shift 63", c->ka_shift = 63, c->ka_shift = 62);
    CASE("ko_shift 63", c->ko_shift = 63, c->ko_shift = 62);
    CASE("noise_shift 21", c->noise_shift = 21, c->noise_shift = 20);
    CASE("thin 0", c->thin = 0, c->thin = 1);
    CASE("17 segments", c->n_segments = 17, c->n_segments = 16);
    CASE("lambda_init 2^31+1", c->lambda_init = 0x80000001u, c->lambda_init = 0x80000000u);
    CASE("lambda_init 2^32-1", c->lambda_init = 0xFFFFFFFFu, c->lambda_init = 0);
    CASE("sample_momentum with EM", c->sample_momentum = 1, c->sample_momentum = 0);
    CASE("sample_momentum with LM", (c->integrator = TSPU_INT_LM, c->sample_momentum = 1),
         (c->integrator = TSPU_INT_UD, c->sample_momentum = 1));
#undef CASE
    for (int k = 0; k < nc; k++) {
        tspu_model_configure(m, &good);
        tspu_model_config before = *tspu_model_get_config(m);
        int rb = tspu_model_configure(m, &cases[k].bad);
        int unchanged = !memcmp(&before, tspu_model_get_config(m), sizeof before);
        int ro = tspu_model_configure(m, &cases[k].ok);
        tt_check(rb == TSPU_MODEL_EINVAL && unchanged && ro == TSPU_MODEL_OK,
                 "config: bad value rejected, config unchanged; boundary twin accepted", "%s: bad->%d unchanged %d ok->%d",
                 cases[k].name, rb, unchanged, ro);
    }
    /* FIFO must hold a whole sample */
    {
        tspu_model *s = tspu_model_create(4, 7);
        tspu_model_config c = good;
        c.integrator = TSPU_INT_UD;
        int r1 = tspu_model_configure(s, &c); /* 4 words fit */
        c.sample_momentum = 1;
        int r2 = tspu_model_configure(s, &c); /* 8 words do not */
        c.n_samples = 0;
        int r3 = tspu_model_configure(s, &c); /* no sampling: fine */
        tt_check(r1 == 0 && r2 == TSPU_MODEL_EINVAL && r3 == 0,
                 "config: rejects a sample wider than the FIFO only when sampling", "%d %d %d", r1, r2, r3);
        tspu_model_destroy(s);
    }
    /* couplings */
    {
        int16_t a[16], ar[16];
        int32_t b[4] = {1, -2, 3, INT32_MIN}, br[4];
        for (int i = 0; i < 16; i++)
            a[i] = (int16_t)(i * 1000 - 8000);
        int ok = tspu_model_load_couplings(m, 2, a, b) == TSPU_MODEL_EINVAL &&
                 tspu_model_load_couplings(m, 0, NULL, b) == TSPU_MODEL_EINVAL &&
                 tspu_model_read_couplings(m, 2, ar, br) == TSPU_MODEL_EINVAL;
        ok &= tspu_model_load_couplings(m, 1, a, b) == 0 && tspu_model_read_couplings(m, 1, ar, br) == 0 &&
              !memcmp(a, ar, sizeof a) && !memcmp(b, br, sizeof b);
        ok &= tspu_model_load_couplings(m, 1, a, NULL) == 0 && tspu_model_read_couplings(m, 1, NULL, br) == 0 &&
              br[0] == 0 && br[3] == 0;
        tt_check(ok, "config: couplings: set > 1 and a = NULL rejected; read back; b = NULL is zero bias", "");
    }

    /* lane seeds */
    {
        static const uint32_t minz[4] = {2, 8, 16, 128};
        uint32_t z[4], zr[4], zbefore[4];
        int ok = 1;
        for (int k = 0; k < 4; k++) {
            uint32_t t[4] = {12345, 12345, 12345, 12345};
            tspu_model_get_lane_seed(m, 2, zbefore);
            t[k] = minz[k] - 1;
            ok &= tspu_model_set_lane_seed(m, 2, t) == TSPU_MODEL_EINVAL;
            tspu_model_get_lane_seed(m, 2, zr);
            ok &= !memcmp(zr, zbefore, sizeof zr);
            t[k] = minz[k]; /* boundary twin */
            ok &= tspu_model_set_lane_seed(m, 2, t) == 0;
            tspu_model_get_lane_seed(m, 2, zr);
            ok &= !memcmp(zr, t, sizeof zr);
        }
        tt_check(ok, "seed: component below its minimum (2, 8, 16, 128) rejected, state kept; minimum accepted", "");
        uint32_t zero[4] = {0, 0, 0, 0};
        ok = tspu_model_set_lane_seed(m, 0, zero) == TSPU_MODEL_EINVAL;
        z[0] = 0xDEADBEEF;
        z[1] = 0x12345678;
        z[2] = 0xCAFEBABE;
        z[3] = 0x0BADF00D;
        ok &= tspu_model_set_lane_seed(m, 4, z) == TSPU_MODEL_EINVAL &&
              tspu_model_get_lane_seed(m, 4, zr) == TSPU_MODEL_EINVAL;
        ok &= tspu_model_set_lane_seed(m, 3, z) == 0 && tspu_model_get_lane_seed(m, 3, zr) == 0 &&
              !memcmp(z, zr, sizeof z);
        tt_check(ok, "seed: all-zero state and lane >= N rejected; set/get round trip", "");

        /* seeding is deterministic and matches the noise library */
        tspu_model *m2 = tspu_model_create(4, 64);
        tspu_model_seed(m, 777);
        tspu_model_seed(m2, 777);
        uint32_t lanes[16];
        tspu_noise_seed_lanes(777, 4, lanes);
        ok = 1;
        for (unsigned i = 0; i < 4; i++) {
            tspu_model_get_lane_seed(m, i, z);
            tspu_model_get_lane_seed(m2, i, zr);
            ok &= !memcmp(z, zr, sizeof z) && !memcmp(z, lanes + 4 * i, sizeof z) && tspu_lfsr113_valid(z);
        }
        /* lane i+1 = lane i jumped by the lane stride */
        uint32_t j[4];
        memcpy(j, lanes, sizeof j);
        tspu_lfsr113_jump(j, tspu_lane_stride);
        ok &= !memcmp(j, lanes + 4, sizeof j);
        tspu_model_seed(m2, 778);
        tspu_model_get_lane_seed(m2, 0, zr);
        tspu_model_get_lane_seed(m, 0, z);
        ok &= memcmp(z, zr, sizeof z) != 0;
        tt_check(ok, "seed: deterministic, = tspu_noise_seed_lanes, lanes one stride apart; other seed differs", "");

        /* same seed -> same trajectory; writing lane seeds back replays it */
        tspu_model_config c = good;
        c.integrator = TSPU_INT_LM;
        c.noise_shift = 10;
        c.burnin = 100;
        c.n_samples = 0;
        tspu_model_configure(m, &c);
        tspu_model_configure(m2, &c);
        tspu_model_seed(m2, 777);
        int32_t x0[4] = {0, 0, 0, 0}, x1[4], x2[4];
        uint32_t saved[4][4];
        for (unsigned i = 0; i < 4; i++)
            tspu_model_get_lane_seed(m, i, saved[i]);
        tspu_model_set_state(m, x0, NULL);
        tspu_model_set_state(m2, x0, NULL);
        tspu_model_start(m);
        tspu_model_start(m2);
        tspu_model_run(m, UINT64_MAX);
        tspu_model_run(m2, UINT64_MAX);
        tspu_model_get_state(m, x1, NULL);
        tspu_model_get_state(m2, x2, NULL);
        ok = !memcmp(x1, x2, sizeof x1);
        for (unsigned i = 0; i < 4; i++)
            tspu_model_set_lane_seed(m, i, saved[i]);
        tspu_model_set_state(m, x0, NULL);
        tspu_model_start(m);
        tspu_model_run(m, UINT64_MAX);
        tspu_model_get_state(m, x2, NULL);
        ok &= !memcmp(x1, x2, sizeof x1);
        /* set_state clears the LM memory: without set_state the replay differs */
        for (unsigned i = 0; i < 4; i++)
            tspu_model_set_lane_seed(m, i, saved[i]);
        tspu_model_set_state(m, x0, NULL);
        tspu_model_start(m);
        tspu_model_run(m, 50);
        int32_t xh[4];
        tspu_model_get_state(m, xh, NULL);
        tspu_model_set_state(m, xh, NULL); /* clears xi_prev mid-run */
        tspu_model_run(m, UINT64_MAX);
        tspu_model_get_state(m, x2, NULL);
        int differs = memcmp(x1, x2, sizeof x1) != 0;
        tt_check(ok && differs,
                 "seed: same seed same trajectory; restoring lane seeds replays it; set_state resets LM memory",
                 "replay %d, memory reset visible %d", ok, differs);
        tspu_model_destroy(m2);
    }
    tspu_model_destroy(m);
}

int main(void)
{
    test_primitives();
    test_config();
    test_sequencer();
    test_fifo();
    test_work();
    test_lockstep();
    return tt_exit();
}
