/*
 * model.c - the bit-exact reference model of the tspu unit.
 * The step below is the specification the RTL follows; docs/numerics.md
 * explains each line.  Hot loops run over lanes in structure-of-arrays form
 * so the compiler can vectorise them; the coupling product is computed in
 * double precision, which is exact here (|a*op| <= 2^30, |sum| <= 2^36 < 2^53).
 */
#include "tspu_model.h"

#include <stdlib.h>
#include <string.h>

#include "tspu_fixed.h"
#include "tspu_noise.h"

#define NN (TSPU_N_MAX * TSPU_N_MAX)

struct tspu_model {
    unsigned n;
    tspu_model_config cfg;
    double fscale, fround; /* from cfg.drift_shift, for force(): g and c   */
    /* coupling sets */
    int16_t a[2][NN];
    int32_t b[2][TSPU_N_MAX];
    double at[2][NN]; /* a transposed, as doubles: at[k][j*n+i] = a[k][i*n+j] */
    /* dynamic state */
    int32_t x[TSPU_N_MAX], p[TSPU_N_MAX];
    int32_t xop[TSPU_N_MAX]; /* op(x), refreshed after every state change */
    double xopd[TSPU_N_MAX]; /* the same as doubles, for the products      */
    int xop_valid;
    int32_t xi_prev[TSPU_N_MAX];
    uint32_t z[4][TSPU_N_MAX]; /* LFSR113 lane states, component-major */
    /* sequencer */
    tspu_phase phase;
    uint32_t phase_cnt, thin_cnt;
    unsigned seg_idx;
    uint32_t lambda_acc;
    /* results */
    tspu_status st;
    tspu_moments mom; /* count and sum; sumsq is built from sq, sqd on read */
    int64_t sq[NN];   /* sum op_i op_j over the full square, sq[i*n + j] */
    double sqd[NN];   /* the recent part of sq, exact in double (below)    */
    uint32_t sqd_count; /* samples in sqd                                 */
    int64_t work;
    /* data-driven drift memories (docs/numerics.md, "Data-driven drift") */
    int16_t dx[TSPU_DATA_MAX_WORDS]; /* X[d][j] at d*n + j                  */
    int16_t dy[TSPU_DATA_MAX_OBS], dl[TSPU_DATA_MAX_OBS];
    int16_t lt[TSPU_LINK_TABLE_SIZE];
    /* sample FIFO (ring of 16-bit words) */
    int16_t *fifo;
    size_t fifo_cap, fifo_head, fifo_level;
    tspu_model_observer obs;
    void *obs_ctx;
};

tspu_model_config tspu_model_default_config(void)
{
    tspu_model_config c;
    memset(&c, 0, sizeof c);
    c.integrator = TSPU_INT_LM;
    c.thin = 1;
    return c;
}

/* constants of the step that depend only on the configuration (see force) */
static void derive_constants(tspu_model *m)
{
    const unsigned d = m->cfg.drift_shift;
    m->fscale = 65536.0 / (double)((uint64_t)1 << d); /* g = 2^(16-D), exact */
    m->fround = d > 16 ? 0.5 : 0.0;
}

tspu_model *tspu_model_create(unsigned n, size_t fifo_words)
{
    if (n < TSPU_N_MIN || n > TSPU_N_MAX)
        return NULL;
    if (fifo_words == 0)
        fifo_words = 8192;
    tspu_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->fifo = calloc(fifo_words, sizeof *m->fifo);
    if (!m->fifo) {
        free(m);
        return NULL;
    }
    m->n = n;
    m->fifo_cap = fifo_words;
    m->cfg = tspu_model_default_config();
    derive_constants(m);
    m->phase = TSPU_PHASE_IDLE;
    tspu_model_seed(m, 1);
    return m;
}

void tspu_model_destroy(tspu_model *m)
{
    if (!m)
        return;
    free(m->fifo);
    free(m);
}

unsigned tspu_model_n(const tspu_model *m) { return m->n; }
size_t tspu_model_fifo_capacity(const tspu_model *m) { return m->fifo_cap; }

int tspu_model_configure(tspu_model *m, const tspu_model_config *c)
{
    /* a program reads its configuration while it runs: refuse changes then */
    if (m->phase != TSPU_PHASE_IDLE && m->phase != TSPU_PHASE_DONE)
        return TSPU_MODEL_EBUSY;
    if (c->integrator != TSPU_INT_EM && c->integrator != TSPU_INT_LM &&
        c->integrator != TSPU_INT_UD)
        return TSPU_MODEL_EINVAL;
    if (c->drift_shift > TSPU_SHIFT_MAX || c->ka_shift > TSPU_SHIFT_MAX ||
        c->ko_shift > TSPU_SHIFT_MAX || c->noise_shift > TSPU_NOISE_SHIFT_MAX)
        return TSPU_MODEL_EINVAL;
    if (c->thin == 0 || c->n_segments > TSPU_MAX_SEGMENTS ||
        c->lambda_init > TSPU_LAMBDA_ACC_ONE)
        return TSPU_MODEL_EINVAL;
    if (c->sample_momentum && c->integrator != TSPU_INT_UD)
        return TSPU_MODEL_EINVAL;
    size_t words = (size_t)m->n * (c->sample_momentum ? 2 : 1);
    if (c->n_samples > 0 && words > m->fifo_cap)
        return TSPU_MODEL_EINVAL;
    /* data-driven drift: shifts always in range, K within the memories */
    if (c->data_mode != TSPU_DATA_OFF && c->data_mode != TSPU_DATA_GAUSS &&
        c->data_mode != TSPU_DATA_LOGISTIC)
        return TSPU_MODEL_EINVAL;
    if (c->data_sr > TSPU_SHIFT_MAX || c->data_sg > TSPU_SHIFT_MAX ||
        c->data_dd > TSPU_SHIFT_MAX || c->n_obs > tspu_model_data_max_obs(m))
        return TSPU_MODEL_EINVAL;
    if (c->data_mode != TSPU_DATA_OFF && c->n_obs == 0)
        return TSPU_MODEL_EINVAL;
    m->cfg = *c;
    derive_constants(m);
    return TSPU_MODEL_OK;
}

const tspu_model_config *tspu_model_get_config(const tspu_model *m) { return &m->cfg; }

int tspu_model_load_couplings(tspu_model *m, unsigned set, const int16_t *a,
                              const int32_t *b)
{
    if (set > 1 || !a)
        return TSPU_MODEL_EINVAL;
    const unsigned n = m->n;
    memcpy(m->a[set], a, (size_t)n * n * sizeof *a);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++)
            m->at[set][j * n + i] = (double)a[i * n + j];
    if (b)
        memcpy(m->b[set], b, n * sizeof *b);
    else
        memset(m->b[set], 0, sizeof m->b[set]);
    return TSPU_MODEL_OK;
}

int tspu_model_read_couplings(const tspu_model *m, unsigned set, int16_t *a,
                              int32_t *b)
{
    if (set > 1)
        return TSPU_MODEL_EINVAL;
    if (a)
        memcpy(a, m->a[set], (size_t)m->n * m->n * sizeof *a);
    if (b)
        memcpy(b, m->b[set], m->n * sizeof *b);
    return TSPU_MODEL_OK;
}

unsigned tspu_model_data_max_obs(const tspu_model *m)
{
    const unsigned k = TSPU_DATA_MAX_WORDS / m->n;
    return k < TSPU_DATA_MAX_OBS ? k : TSPU_DATA_MAX_OBS;
}

int tspu_model_load_data(tspu_model *m, unsigned first, unsigned count,
                         const int16_t *x, const int16_t *y, const int16_t *l)
{
    if (first > tspu_model_data_max_obs(m) || count > tspu_model_data_max_obs(m) - first)
        return TSPU_MODEL_EINVAL;
    if (x)
        memcpy(m->dx + (size_t)first * m->n, x, (size_t)count * m->n * sizeof *x);
    if (y)
        memcpy(m->dy + first, y, count * sizeof *y);
    if (l)
        memcpy(m->dl + first, l, count * sizeof *l);
    return TSPU_MODEL_OK;
}

int tspu_model_read_data(const tspu_model *m, unsigned first, unsigned count,
                         int16_t *x, int16_t *y, int16_t *l)
{
    if (first > tspu_model_data_max_obs(m) || count > tspu_model_data_max_obs(m) - first)
        return TSPU_MODEL_EINVAL;
    if (x)
        memcpy(x, m->dx + (size_t)first * m->n, (size_t)count * m->n * sizeof *x);
    if (y)
        memcpy(y, m->dy + first, count * sizeof *y);
    if (l)
        memcpy(l, m->dl + first, count * sizeof *l);
    return TSPU_MODEL_OK;
}

int tspu_model_load_link_table(tspu_model *m, const int16_t *t)
{
    if (!t)
        return TSPU_MODEL_EINVAL;
    memcpy(m->lt, t, sizeof m->lt);
    return TSPU_MODEL_OK;
}

int tspu_model_read_link_table(const tspu_model *m, int16_t *t)
{
    if (!t)
        return TSPU_MODEL_EINVAL;
    memcpy(t, m->lt, sizeof m->lt);
    return TSPU_MODEL_OK;
}

/* The two data passes (docs/numerics.md, "Data-driven drift") at operands
 * op: pass 1 per observation d (r = X_d op, z, s, e, g), pass 2 per lane
 * (G = X^T g, Fd), fused here: G accumulates as each g_d is known (every sum
 * is exact, so the order does not matter).  Plain int64: |r| <= 2^36,
 * |G|, |S| <= 2^40, G * 2^16 + 2^61 < 2^63.  Returns the clamps. */
static uint32_t data_passes(const tspu_model *m, const int32_t *op, unsigned n,
                            int32_t *zo, int32_t *so, int32_t *eo, int32_t *go,
                            int32_t *fd, int64_t *S_out)
{
    const tspu_model_config *c = &m->cfg;
    const unsigned K = c->n_obs, sr = c->data_sr, sg = c->data_sg;
    const int logistic = c->data_mode == TSPU_DATA_LOGISTIC;
    int64_t G[TSPU_N_MAX] = {0}, S = 0;
    uint32_t sat = 0;
    for (unsigned d = 0; d < K; d++) {
        const int16_t *restrict row = m->dx + (size_t)d * n;
        int64_t r = 0;
        for (unsigned j = 0; j < n; j++)
            r += (int64_t)row[j] * op[j];
        const int64_t z = tspu_sat(tspu_round_shift(r, sr), 16, &sat);
        int64_t s = z;
        if (logistic) {
            const unsigned u = (unsigned)(z + 32768); /* 0 .. 65535 */
            const unsigned k = u >> TSPU_LINK_FRAC_BITS, f = u & ((1u << TSPU_LINK_FRAC_BITS) - 1);
            const int64_t t0 = m->lt[k], t1 = m->lt[k + 1];
            s = t0 + tspu_round_shift((t1 - t0) * (int64_t)f, TSPU_LINK_FRAC_BITS);
        }
        const int64_t e = tspu_sat((int64_t)m->dy[d] - s, 16, &sat);
        const int64_t g = tspu_sat(tspu_round_shift((int64_t)m->dl[d] * e, sg), 16, &sat);
        S += g * e;
        for (unsigned j = 0; j < n; j++)
            G[j] += (int64_t)row[j] * g;
        if (zo) zo[d] = (int32_t)z;
        if (so) so[d] = (int32_t)s;
        if (eo) eo[d] = (int32_t)e;
        if (go) go[d] = (int32_t)g;
    }
    for (unsigned i = 0; i < n; i++)
        fd[i] = (int32_t)tspu_sat(tspu_scale16(G[i], c->data_dd), 32, &sat);
    *S_out = S;
    return sat;
}

int tspu_model_data_passes(const tspu_model *m, const int16_t *op, int32_t *z,
                           int32_t *s, int32_t *e, int32_t *g, int32_t *fd,
                           int64_t *S, uint32_t *sat)
{
    if (m->cfg.data_mode == TSPU_DATA_OFF || !op)
        return TSPU_MODEL_EINVAL;
    int32_t o[TSPU_N_MAX], f[TSPU_N_MAX];
    int64_t s_sum;
    for (unsigned i = 0; i < m->n; i++)
        o[i] = op[i];
    uint32_t k = data_passes(m, o, m->n, z, s, e, g, f, &s_sum);
    if (fd)
        memcpy(fd, f, m->n * sizeof *fd);
    if (S)
        *S = s_sum;
    if (sat)
        *sat += k;
    return TSPU_MODEL_OK;
}

void tspu_model_seed(tspu_model *m, uint64_t seed)
{
    uint32_t z[TSPU_N_MAX * 4];
    tspu_noise_seed_lanes(seed, m->n, z);
    for (unsigned i = 0; i < m->n; i++)
        tspu_model_set_lane_seed(m, i, z + 4 * i);
}

int tspu_model_set_lane_seed(tspu_model *m, unsigned lane, const uint32_t z[4])
{
    if (lane >= m->n || !tspu_lfsr113_valid(z))
        return TSPU_MODEL_EINVAL;
    for (int k = 0; k < 4; k++)
        m->z[k][lane] = z[k];
    return TSPU_MODEL_OK;
}

int tspu_model_get_lane_seed(const tspu_model *m, unsigned lane, uint32_t z[4])
{
    if (lane >= m->n)
        return TSPU_MODEL_EINVAL;
    for (int k = 0; k < 4; k++)
        z[k] = m->z[k][lane];
    return TSPU_MODEL_OK;
}

int tspu_model_set_state(tspu_model *m, const int32_t *x, const int32_t *p)
{
    if (x)
        memcpy(m->x, x, m->n * sizeof *x);
    if (p)
        memcpy(m->p, p, m->n * sizeof *p);
    memset(m->xi_prev, 0, sizeof m->xi_prev);
    m->xop_valid = 0;
    return TSPU_MODEL_OK;
}

void tspu_model_get_state(const tspu_model *m, int32_t *x, int32_t *p)
{
    if (x)
        memcpy(x, m->x, m->n * sizeof *x);
    if (p)
        memcpy(p, m->p, m->n * sizeof *p);
}

static void add_sat(uint32_t *acc, uint32_t v)
{
    *acc = (*acc > UINT32_MAX - v) ? UINT32_MAX : *acc + v;
}

/*
 * Speed.  The model is also a software device, so its step is written for
 * throughput; every loop below computes exactly the integers of the plain
 * per-lane formulas (bench/model_golden hashes every step of EM, LM and UD
 * against the output of the original, straightforward code).  How:
 *  - the run loop, with the step inlined, is compiled twice, for baseline
 *    x86-64 and for x86-64-v3 (AVX2, FMA), and the CPU picks one at load
 *    time (GCC function multiversioning: the binary stays portable, and the
 *    integers are the same: every product below is exact, so a fused
 *    multiply-add rounds exactly like the separate add);
 *  - for N a multiple of 4 the per-lane work is written four lanes at a time
 *    (vector extension, below), other N use plain loops that -O3 vectorises;
 *  - the products and the force use double, whose arithmetic is exact here
 *    (every value is representable, mostly whole numbers below 2^53; see
 *    force()), because x86 vectorises double <-> int32 conversions and
 *    double compares but not the int64 ones;
 *  - the run loop has copies for N = 8 and 16, where n is a constant;
 *  - rounding and clamping are branch-free selects that count their hits;
 *  - a fixed lambda uses the one force vector it needs, without a copy;
 *  - second moments are summed in double, by whole rows, and moved into
 *    the int64 sums every 2^22 samples (exact, see moments_add);
 *  - the noise loop keeps the four LFSR113 words of a lane in registers.
 * The floor() trick in force() needs IEEE double with round-to-nearest and
 * no value-changing optimisation, hence: */
#if defined(__FAST_MATH__)
#error "host/model/model.c must not be built with -ffast-math (its exact double arithmetic would break)"
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(TSPU_NO_MULTIVERSION)
#define TSPU_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#define TSPU_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define TSPU_MULTIVERSION
#define TSPU_ALWAYS_INLINE inline
#endif

/* Four lanes as one value (GCC / clang vector extension): for N a multiple of
 * 4 the per-lane loops are written with it, so each operation is one AVX2
 * instruction (two SSE2 ones on the baseline path) whatever the
 * auto-vectoriser would have made of them.  Memory is only touched through
 * memcpy (ld / st below: unaligned, no aliasing questions). */
#if defined(__GNUC__) && !defined(TSPU_NO_V4D) /* -DTSPU_NO_V4D: scalar loops only */
#define TSPU_V4D 1
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4i __attribute__((vector_size(32))); /* comparison masks */
typedef int32_t v4s __attribute__((vector_size(16)));
/* These helpers must be inlined even at -O0: the AVX2 clone and a baseline
 * helper would pass 32-byte vectors differently (GCC's -Wpsabi note). */
#pragma GCC diagnostic ignored "-Wpsabi"
/* m ? a : b per element, m from a comparison (all ones or zero) */
static TSPU_ALWAYS_INLINE v4d v4d_ld(const double *p) { v4d v; memcpy(&v, p, sizeof v); return v; }
static TSPU_ALWAYS_INLINE void v4d_st(double *p, v4d v) { memcpy(p, &v, sizeof v); }
static TSPU_ALWAYS_INLINE v4s v4s_ld(const int32_t *p) { v4s v; memcpy(&v, p, sizeof v); return v; }
static TSPU_ALWAYS_INLINE void v4s_st(int32_t *p, v4s v) { memcpy(p, &v, sizeof v); }
static TSPU_ALWAYS_INLINE v4d v4d_sel(v4i m, v4d a, v4d b) { return (v4d)(((v4i)a & m) | ((v4i)b & ~m)); }
static TSPU_ALWAYS_INLINE v4d v4d_set1(double a) { return (v4d){a, a, a, a}; }
/* v clamped to int32 range; clamps counted (as -1 per hit) into *cnt */
static TSPU_ALWAYS_INLINE v4d v4d_sat32(v4d v, v4i *cnt)
{
    const v4d hi = v4d_set1((double)INT32_MAX), lo = v4d_set1((double)INT32_MIN);
    const v4i up = v > hi, dn = v < lo;
    *cnt += up + dn;
    return v4d_sel(up, hi, v4d_sel(dn, lo, v));
}
static TSPU_ALWAYS_INLINE uint32_t v4i_hits(v4i cnt) { return (uint32_t)-(cnt[0] + cnt[1] + cnt[2] + cnt[3]); }
#endif

/* op(v) = sat16(round(v / 2^16)) on int32 only: (v + 2^15) >> 16 equals
 * (v >> 16) + bit 15 of v, which cannot overflow; only +32768 can clamp. */
static TSPU_ALWAYS_INLINE uint32_t operands(const int32_t *restrict x, int32_t *restrict op,
                                            double *restrict opd, unsigned n)
{
    uint32_t s = 0;
    for (unsigned i = 0; i < n; i++) {
        int32_t o = (x[i] >> 16) + ((x[i] >> 15) & 1);
        s += o > 32767;
        o = o > 32767 ? 32767 : o;
        op[i] = o;
        opd[i] = (double)o;
    }
    return s;
}

static TSPU_ALWAYS_INLINE void refresh_operands(tspu_model *m, uint32_t *sat, unsigned n)
{
    *sat += operands(m->x, m->xop, m->xopd, n);
    m->xop_valid = 1;
}

/* skip empty segments; move to sampling / done when none is left */
static void enter_from(tspu_model *m, tspu_phase ph)
{
    m->phase_cnt = 0;
    if (ph == TSPU_PHASE_BURNIN) {
        if (m->cfg.burnin > 0) {
            m->phase = TSPU_PHASE_BURNIN;
            return;
        }
        ph = TSPU_PHASE_SCHEDULE;
        m->seg_idx = 0;
    }
    if (ph == TSPU_PHASE_SCHEDULE) {
        while (m->seg_idx < m->cfg.n_segments && m->cfg.seg[m->seg_idx].steps == 0)
            m->seg_idx++;
        if (m->seg_idx < m->cfg.n_segments) {
            m->phase = TSPU_PHASE_SCHEDULE;
            return;
        }
        ph = TSPU_PHASE_SAMPLING;
    }
    if (ph == TSPU_PHASE_SAMPLING && m->cfg.n_samples > 0) {
        m->phase = TSPU_PHASE_SAMPLING;
        m->thin_cnt = 0;
        return;
    }
    m->phase = TSPU_PHASE_DONE;
    m->st.flags |= TSPU_FLAG_DONE;
}

void tspu_model_start(tspu_model *m)
{
    memset(&m->mom, 0, sizeof m->mom);
    memset(m->sq, 0, sizeof m->sq);
    memset(m->sqd, 0, sizeof m->sqd);
    m->sqd_count = 0;
    memset(&m->st, 0, sizeof m->st);
    m->work = 0;
    m->fifo_head = m->fifo_level = 0;
    m->lambda_acc = m->cfg.lambda_init;
    m->seg_idx = 0;
    m->thin_cnt = 0;
    m->xop_valid = 0;
    enter_from(m, TSPU_PHASE_BURNIN);
}

int tspu_model_done(const tspu_model *m) { return m->phase == TSPU_PHASE_DONE; }
tspu_phase tspu_model_phase(const tspu_model *m) { return m->phase; }

/* Second moments: sqd[i*n + j] += op_i * op_j for j >= i (row-major
 * square; some entries j < i are filled too, never read), in double:
 * rows vectorise as plain multiply-adds, and every product
 * (|op_i op_j| <= 2^30) and every partial sum stays an exact integer as long
 * as sqd holds at most 2^22 samples (2^22 * 2^30 = 2^52 < 2^53); then it is
 * moved into the int64 sums.  read_moments adds the two and takes the upper
 * triangle. */
#define SQD_MAX_SAMPLES (1u << 22)

static void sqd_flush(tspu_model *m)
{
    const unsigned nn = m->n * m->n;
    for (unsigned k = 0; k < nn; k++) {
        m->sq[k] += (int64_t)m->sqd[k];
        m->sqd[k] = 0.0;
    }
    m->sqd_count = 0;
}

static TSPU_ALWAYS_INLINE void moments_add(double *restrict sqd, int64_t *restrict sum,
                                           const int32_t *restrict op,
                                           const double *restrict opd, unsigned n)
{
#ifdef TSPU_V4D
    if (n % 4 == 0) {
        /* row i from the 4-block holding the diagonal: j < i is never read */
        for (unsigned i = 0; i < n; i++) {
            const double oi = opd[i];
            double *row = sqd + (size_t)i * n;
            sum[i] += op[i];
            for (unsigned k = i / 4 * 4; k < n; k += 4)
                v4d_st(row + k, v4d_ld(row + k) + oi * v4d_ld(opd + k));
        }
        return;
    }
#endif
    for (unsigned i = 0; i < n; i++) {
        const double oi = opd[i];
        double *restrict row = sqd + (size_t)i * n;
        sum[i] += op[i];
        for (unsigned j = 0; j < n; j++)
            row[j] += oi * opd[j];
    }
}

static TSPU_ALWAYS_INLINE void keep_sample(tspu_model *m, const int32_t *pop, unsigned n)
{
    if (m->mom.count == UINT32_MAX) {
        m->st.flags |= TSPU_FLAG_MOMENT_LIMIT;
    } else {
        m->mom.count++;
        if (m->sqd_count == SQD_MAX_SAMPLES)
            sqd_flush(m);
        m->sqd_count++;
        switch (n) { /* constant n: unrolled */
        case 8: moments_add(m->sqd, m->mom.sum, m->xop, m->xopd, 8); break;
        case 16: moments_add(m->sqd, m->mom.sum, m->xop, m->xopd, 16); break;
        default: moments_add(m->sqd, m->mom.sum, m->xop, m->xopd, n); break;
        }
    }
    const size_t words = m->cfg.sample_momentum ? 2u * n : n;
    if (m->fifo_cap - m->fifo_level < words) {
        add_sat(&m->st.fifo_dropped, 1);
        m->st.flags |= TSPU_FLAG_FIFO_OVERFLOW;
        return;
    }
    size_t w = m->fifo_head + m->fifo_level; /* < 2 * cap */
    if (w >= m->fifo_cap)
        w -= m->fifo_cap;
    if (w + words <= m->fifo_cap) { /* no wrap: straight copies */
        int16_t *restrict dst = m->fifo + w;
        for (unsigned i = 0; i < n; i++)
            dst[i] = (int16_t)m->xop[i];
        if (m->cfg.sample_momentum)
            for (unsigned i = 0; i < n; i++)
                dst[n + i] = (int16_t)pop[i];
    } else {
        for (unsigned i = 0; i < n; i++) {
            m->fifo[w] = (int16_t)m->xop[i];
            w = (w + 1 == m->fifo_cap) ? 0 : w + 1;
        }
        if (m->cfg.sample_momentum)
            for (unsigned i = 0; i < n; i++) {
                m->fifo[w] = (int16_t)pop[i];
                w = (w + 1 == m->fifo_cap) ? 0 : w + 1;
            }
    }
    m->fifo_level += words;
}

/* acc = a_set * op in double, exact (see the file comment) */
#ifdef TSPU_V4D
/* rows i0 .. i0+w-1 of acc = init + a op (w a multiple of 4, at most 16): the
 * row sums stay in registers over all columns; columns j and j+1 go into
 * separate accumulators, added at the end: two dependency chains instead of
 * one (the sums are exact in any order) */
static TSPU_ALWAYS_INLINE void matvec_rows(const double *restrict at, const double *restrict op,
                                           double *restrict acc, unsigned n, unsigned i0,
                                           unsigned w, double init)
{
    v4d a0[4], a1[4];
    for (unsigned k = 0; k < w / 4; k++) {
        a0[k] = v4d_set1(init);
        a1[k] = v4d_set1(0.0);
    }
    for (unsigned j = 0; j < n; j += 2) {
        const double *c0 = at + (size_t)j * n + i0, *c1 = c0 + n;
        for (unsigned k = 0; k < w / 4; k++) {
            a0[k] += v4d_ld(c0 + 4 * k) * op[j];
            a1[k] += v4d_ld(c1 + 4 * k) * op[j + 1];
        }
    }
    for (unsigned k = 0; k < w / 4; k++)
        v4d_st(acc + i0 + 4 * k, a0[k] + a1[k]);
}
#endif

/* acc = init + a_set * op; init is 0 or 1/2, so every partial sum is exact */
static TSPU_ALWAYS_INLINE void matvec_n(const double *restrict at, const double *restrict op,
                                        double *restrict acc, unsigned n, double init)
{
#ifdef TSPU_V4D
    if (n % 4 == 0) {
        for (unsigned i0 = 0; i0 < n; i0 += 16)
            switch (n - i0 < 16 ? n - i0 : 16) { /* constant widths: sums in registers */
            case 16: matvec_rows(at, op, acc, n, i0, 16, init); break;
            case 12: matvec_rows(at, op, acc, n, i0, 12, init); break;
            case 8: matvec_rows(at, op, acc, n, i0, 8, init); break;
            default: matvec_rows(at, op, acc, n, i0, 4, init); break;
            }
        return;
    }
#endif
    for (unsigned i = 0; i < n; i++)
        acc[i] = init;
    for (unsigned j = 0; j < n; j++) {
        const double xj = op[j];
        const double *restrict col = at + (size_t)j * n;
        for (unsigned i = 0; i < n; i++)
            acc[i] += col[i] * xj;
    }
}

/* F = sat32(round(Y * 2^16 / 2^D) - b) for coupling set `set`, as doubles
 * holding the exact int32 values; returns the clamps.  All in double so it
 * vectorises (no int64 conversions, no 64-bit shifts); the two forms below
 * each say why their arithmetic is exact. */
static TSPU_ALWAYS_INLINE uint32_t force(const tspu_model *m, unsigned set, double *restrict f,
                                         unsigned n)
{
    const unsigned d = m->cfg.drift_shift;
    const double scale = m->fscale; /* g = 2^(16-D) */
    const double magic = 0x1.8p52;
    const int32_t *restrict b = m->b[set];
    double acc[TSPU_N_MAX];
#ifdef TSPU_V4D
    if (n % 4 == 0) {
        /* The same integers with a shorter chain of dependent operations
         * (this is the critical path of a step):
         *  - round_shift(Y 2^16, D) = floor(Y g + 1/2) = nearest(w) with
         *    w = (Y + c) g, c = 1/2 for D > 16 and 0 otherwise: for D <= 16
         *    Y g is whole; for D > 16 the fraction of w is an odd multiple of
         *    g/2 < 1/2, never a tie, and nearest(w) = floor(Y g + 1/2).  The
         *    c is the matvec's starting value, so w costs one product.
         *  - nearest(w) - b = (w + (M - b)) - M, M = 1.5 * 2^52: M - b is
         *    whole, and while |w - b| < 2^51 the sum lies in [2^52, 2^53),
         *    where the doubles are exactly the integers, so its one rounding
         *    is nearest(w) (no ties, see above).  Beyond that the result may
         *    be a unit off, but it is far outside int32 and clamps the same. */
        const double c = m->fround; /* c: 1/2 if D > 16, else 0 */
        switch (n) {
        case 8: matvec_n(m->at[set], m->xopd, acc, 8, c); break;
        case 16: matvec_n(m->at[set], m->xopd, acc, 16, c); break;
        case 32: matvec_n(m->at[set], m->xopd, acc, 32, c); break;
        case 64: matvec_n(m->at[set], m->xopd, acc, 64, c); break;
        default: matvec_n(m->at[set], m->xopd, acc, n, c); break;
        }
        const v4d vm = v4d_set1(magic);
        v4i cnt = {0, 0, 0, 0};
        for (unsigned k = 0; k < n; k += 4) {
            const v4d mb = vm - __builtin_convertvector(v4s_ld(b + k), v4d);
            const v4d w = v4d_ld(acc + k) * scale;
            v4d_st(f + k, v4d_sat32((w + mb) - vm, &cnt));
        }
        return v4i_hits(cnt);
    }
#endif
    /* Plain form: w = Y g + 1/2 is exact (|Y| <= 2^36 gives |w| <= 2^51
     * with no bit below 2^-1 when D <= 16, a 36-bit span otherwise), and
     * floor(w) = round_shift(Y 2^16, D).  D = 0: w = Y 2^16, already whole.
     * |w| is first limited to 2^40 (beyond that F clamps the same way), and
     * below it floor() is done exactly with the 1.5 * 2^52 rounding trick
     * (round to nearest, then step down if that went up), with no libm. */
    matvec_n(m->at[set], m->xopd, acc, n, 0.0);
    const double half = d ? 0.5 : 0.0, lim = 0x1p40;
    const double hi = (double)INT32_MAX, lo = (double)INT32_MIN;
    int64_t s = 0;
    for (unsigned i = 0; i < n; i++) {
        double w = acc[i] * scale + half;
        w = w > lim ? lim : w;
        w = w < -lim ? -lim : w;
        const double r = (w + magic) - magic;               /* nearest integer */
        const double v = (r > w ? r - 1.0 : r) - (double)b[i]; /* floor(w) - b */
        s += (v > hi) + (v < lo);
        f[i] = v > hi ? hi : v < lo ? lo : v;
    }
    return (uint32_t)s;
}

/* one shaped noise sample per lane, lanes side by side (see tspu_noise.h) */
static TSPU_ALWAYS_INLINE void noise_lanes(uint32_t (*restrict z)[TSPU_N_MAX],
                                           int32_t *restrict xi, unsigned n)
{
    uint32_t *restrict z0 = z[0], *restrict z1 = z[1], *restrict z2 = z[2], *restrict z3 = z[3];
    for (unsigned i = 0; i < n; i++) {
        uint32_t a = z0[i], b = z1[i], c = z2[i], d = z3[i];
        const uint32_t u = tspu_lfsr113_next4(&a, &b, &c, &d);
        const uint32_t v = tspu_lfsr113_next4(&a, &b, &c, &d);
        z0[i] = a;
        z1[i] = b;
        z2[i] = c;
        z3[i] = d;
        xi[i] = tspu_bytesum(u) + tspu_bytesum(v) - TSPU_NOISE_OFFSET;
    }
}

/* x' = sat32(x - F + noise) for EM and LM, in double: every term is a whole
 * number below 2^33 in size, so the sum is exact; the clamp is a select that
 * counts its hits (vectorises).  Then the new operands op(x'). */
static TSPU_ALWAYS_INLINE uint32_t overdamped_update(int32_t *restrict x, const double *restrict f,
                                                     const int32_t *restrict xi,
                                                     const int32_t *restrict xi_prev, double nscale,
                                                     int32_t *restrict op, double *restrict opd,
                                                     unsigned n)
{
#ifdef TSPU_V4D
    if (n % 4 == 0) {
        /* the same, four lanes at a time, and operands() on the new x while
         * it is still in registers (reading it back from memory in wider
         * pieces than it was stored in would stall store forwarding) */
        v4i cnt = {0, 0, 0, 0};
        v4s ocnt = {0, 0, 0, 0};
        const v4s omax = {32767, 32767, 32767, 32767};
        for (unsigned k = 0; k < n; k += 4) {
            const v4s noise = v4s_ld(xi + k) + v4s_ld(xi_prev + k);
            const v4d v = __builtin_convertvector(v4s_ld(x + k), v4d) - v4d_ld(f + k) +
                          __builtin_convertvector(noise, v4d) * nscale;
            const v4s xs = __builtin_convertvector(v4d_sat32(v, &cnt), v4s);
            v4s_st(x + k, xs);
            v4s o = (xs >> 16) + ((xs >> 15) & 1);
            const v4s up = o > omax;
            ocnt += up;
            o = (o & ~up) | (omax & up);
            v4s_st(op + k, o);
            v4d_st(opd + k, __builtin_convertvector(o, v4d));
        }
        return v4i_hits(cnt) - (uint32_t)(ocnt[0] + ocnt[1] + ocnt[2] + ocnt[3]);
    }
#endif
    const double hi = (double)INT32_MAX, lo = (double)INT32_MIN;
    int64_t s = 0;
    for (unsigned i = 0; i < n; i++) {
        const double v = (double)x[i] - f[i] + (double)(xi[i] + xi_prev[i]) * nscale;
        s += (v > hi) + (v < lo);
        x[i] = (int32_t)(v > hi ? hi : v < lo ? lo : v);
    }
    return (uint32_t)s + operands(x, op, opd, n);
}

/* one step; n is m->n, passed so that callers can make it a constant */
static TSPU_ALWAYS_INLINE void step(tspu_model *m, unsigned n)
{
    const tspu_model_config *c = &m->cfg;
    uint32_t sat = 0;

    if (!m->xop_valid)
        refresh_operands(m, &sat, n);

    /* 1. lambda schedule */
    int64_t la = m->lambda_acc;
    if (m->phase == TSPU_PHASE_SCHEDULE)
        la += c->seg[m->seg_idx].dlambda;
    if (la < 0) {
        la = 0;
        sat++;
    } else if (la > (int64_t)TSPU_LAMBDA_ACC_ONE) {
        la = TSPU_LAMBDA_ACC_ONE;
        sat++;
    }
    const int32_t l0 = (int32_t)(m->lambda_acc >> 16), l1 = (int32_t)(la >> 16);
    const int32_t d16 = l1 - l0;
    const int need0 = !(l1 == TSPU_LAMBDA_ONE && d16 == 0);
    const int need1 = !(l1 == 0 && d16 == 0);

    /* 2. force F = round(Y * 2^16 / 2^D) - b for each needed set; F is
     * then f0 or f1 itself, or the blend */
    double f0[TSPU_N_MAX], f1[TSPU_N_MAX], fb[TSPU_N_MAX];
    const double *f;
    if (c->data_mode != TSPU_DATA_OFF) {
        /* data-driven drift: prior from set 0, F = F0 - lambda1 Fd, work
         * from sum g e (Gaussian); the passes are skipped at lambda = 0
         * held (then F = F0 and nothing of them is counted) */
        sat += force(m, 0, f0, n);
        f = f0;
        if (!(l1 == 0 && d16 == 0)) {
            int32_t fd[TSPU_N_MAX];
            int64_t S;
            sat += data_passes(m, m->xop, n, NULL, NULL, NULL, NULL, fd, &S);
            for (unsigned i = 0; i < n; i++)
                fb[i] = (double)tspu_sat((int64_t)f0[i] - tspu_round_shift((int64_t)l1 * fd[i], 15),
                                         32, &sat);
            f = fb;
            if (d16 != 0 && c->data_mode == TSPU_DATA_GAUSS) {
                int64_t dw = (int64_t)d16 * S, nw; /* |dw| <= 2^55 */
                if (__builtin_add_overflow(m->work, dw, &nw)) {
                    nw = dw > 0 ? INT64_MAX : INT64_MIN;
                    m->st.flags |= TSPU_FLAG_WORK_OVERFLOW;
                }
                m->work = nw;
            }
        }
    } else {
        if (need0)
            sat += force(m, 0, f0, n);
        if (need1)
            sat += force(m, 1, f1, n);
        if (need0 && need1) {
            /* f0 + round(l1 (f1 - f0) / 2^15) lies between f0 and f1: fits int32 */
            for (unsigned i = 0; i < n; i++) {
                const int64_t a0 = (int64_t)f0[i], a1 = (int64_t)f1[i];
                fb[i] = (double)(a0 + tspu_round_shift((int64_t)l1 * (a1 - a0), 15));
            }
            f = fb;
        } else {
            f = need0 ? f0 : f1;
        }

        /* 3. work for the lambda switch at the current state */
        if (d16 != 0) {
            int64_t s = 0;
            for (unsigned i = 0; i < n; i++)
                s += (int64_t)m->xop[i] *
                     (((int64_t)f1[i] - (int64_t)f0[i]) - ((int64_t)m->b[1][i] - m->b[0][i]));
            int64_t dw = (int64_t)d16 * tspu_round_shift(s, TSPU_WORK_SHIFT), nw;
            if (__builtin_add_overflow(m->work, dw, &nw)) {
                nw = dw > 0 ? INT64_MAX : INT64_MIN;
                m->st.flags |= TSPU_FLAG_WORK_OVERFLOW;
            }
            m->work = nw;
        }
    }

    /* 4. noise: one shaped sample per lane */
    int32_t xi[TSPU_N_MAX];
    noise_lanes(m->z, xi, n);

    /* 5. integrator */
    const unsigned sn = c->noise_shift;
    const double nscale = (double)(1u << sn); /* xi << Sn as a product */
    int32_t pop2[TSPU_N_MAX];
    int32_t *restrict x = m->x;
    switch (c->integrator) {
    case TSPU_INT_EM: {
        static const int32_t zero[TSPU_N_MAX];
        sat += overdamped_update(x, f, xi, zero, nscale, m->xop, m->xopd, n);
        break;
    }
    case TSPU_INT_LM:
        sat += overdamped_update(x, f, xi, m->xi_prev, nscale, m->xop, m->xopd, n);
        memcpy(m->xi_prev, xi, n * sizeof *xi);
        break;
    case TSPU_INT_UD:
        for (unsigned i = 0; i < n; i++) {
            /* B: full kick with the force at x (two half kicks merged) */
            int64_t p1 = tspu_sat((int64_t)m->p[i] - (int64_t)f[i], 32, &sat);
            int64_t op1 = tspu_operand((int32_t)p1, &sat);
            /* A: half drift */
            int64_t x1 = tspu_sat((int64_t)m->x[i] + tspu_scale16(op1 * c->ka, c->ka_shift), 32, &sat);
            /* O: exact OU, p <- c p + noise, as p - (1-c) p */
            int64_t p2 = tspu_sat(p1 - tspu_scale16(op1 * c->ko, c->ko_shift) +
                                      (int64_t)xi[i] * ((int64_t)1 << sn), 32, &sat); /* no UB: xi < 0 */
            int32_t op2 = tspu_operand((int32_t)p2, &sat);
            /* A: half drift */
            m->x[i] = (int32_t)tspu_sat(x1 + tspu_scale16((int64_t)op2 * c->ka, c->ka_shift), 32, &sat);
            m->p[i] = (int32_t)p2;
            pop2[i] = op2;
        }
        refresh_operands(m, &sat, n); /* (EM and LM did it in their update) */
        break;
    }
    m->lambda_acc = (uint32_t)la;
    m->st.steps++;
    if (sat) {
        add_sat(&m->st.sat_count, sat);
        m->st.flags |= TSPU_FLAG_SATURATED;
    }

    /* 6. sequencer */
    switch (m->phase) {
    case TSPU_PHASE_BURNIN:
        if (++m->phase_cnt >= c->burnin) {
            m->seg_idx = 0;
            enter_from(m, TSPU_PHASE_SCHEDULE);
        }
        break;
    case TSPU_PHASE_SCHEDULE:
        if (++m->phase_cnt >= c->seg[m->seg_idx].steps) {
            m->seg_idx++;
            enter_from(m, TSPU_PHASE_SCHEDULE);
        }
        break;
    case TSPU_PHASE_SAMPLING:
        if (++m->thin_cnt >= c->thin) {
            m->thin_cnt = 0;
            keep_sample(m, pop2, n);
            if (++m->st.samples >= c->n_samples)
                { m->phase = TSPU_PHASE_DONE; m->st.flags |= TSPU_FLAG_DONE; }
        }
        break;
    default:
        break;
    }
    if (m->obs)
        m->obs(m->obs_ctx, m->st.steps - 1, m->x, m->p, m->lambda_acc);
}

/* The multiversioned unit: the run loop with step() inlined into it, with
 * copies for N = 8 and 16 where every lane loop is unrolled and the step's
 * temporaries stay in registers. */
#define RUN_LOOP(N)                                                                         \
    while (done < max_steps && m->phase != TSPU_PHASE_DONE && m->phase != TSPU_PHASE_IDLE) { \
        step(m, N);                                                                         \
        done++;                                                                             \
    }
TSPU_MULTIVERSION
static uint64_t run_steps(tspu_model *m, uint64_t max_steps)
{
    uint64_t done = 0;
    switch (m->n) {
    case 8: RUN_LOOP(8) break;
    case 16: RUN_LOOP(16) break;
    default: RUN_LOOP(m->n) break;
    }
    return done;
}

uint64_t tspu_model_run(tspu_model *m, uint64_t max_steps)
{
    return run_steps(m, max_steps);
}

size_t tspu_model_fifo_level(const tspu_model *m) { return m->fifo_level; }

size_t tspu_model_fifo_read(tspu_model *m, int16_t *dst, size_t max_words)
{
    size_t k = 0;
    while (k < max_words && m->fifo_level > 0) { /* at most two pieces of the ring */
        size_t len = m->fifo_cap - m->fifo_head;
        if (len > m->fifo_level)
            len = m->fifo_level;
        if (len > max_words - k)
            len = max_words - k;
        memcpy(dst + k, m->fifo + m->fifo_head, len * sizeof *dst);
        k += len;
        m->fifo_head += len;
        if (m->fifo_head == m->fifo_cap)
            m->fifo_head = 0;
        m->fifo_level -= len;
    }
    return k;
}

void tspu_model_read_moments(const tspu_model *m, tspu_moments *mom)
{
    const unsigned n = m->n;
    *mom = m->mom;
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i; j < n; j++)
            mom->sumsq[k++] = m->sq[i * n + j] + (int64_t)m->sqd[i * n + j];
}
int64_t tspu_model_read_work(const tspu_model *m) { return m->work; }

void tspu_model_read_status(const tspu_model *m, tspu_status *st)
{
    *st = m->st;
    st->lambda_acc = m->lambda_acc;
}

void tspu_model_set_observer(tspu_model *m, tspu_model_observer f, void *ctx)
{
    m->obs = f;
    m->obs_ctx = ctx;
}
