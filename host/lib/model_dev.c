/* model_dev.c - the register semantics of the unit (docs/regmap.md) around
 * the bit-exact model.  What the RTL's CSR block must do, in C:
 *   - CONFIG / DATA / SCHEDULE are shadow registers, taken at CTRL.START,
 *     which validates them (an invalid program sets FLAGS.REJECTED, no start);
 *   - coupling, bias, state, seed and data-memory writes take effect at the
 *     end of the frame that carries them (the model loads whole vectors);
 *     data-memory writes (DATA_X, DATA_Y, DATA_L, LINK_TABLE) while a
 *     program runs are ignored;
 *   - *_LO reads latch *_HI;
 *   - the FIFO is read by peek/commit (the link endpoint replays a lost
 *     READ_FIFO answer from the committed head);
 *   - with CONFIG.FIFO_STALL the sequencer waits for FIFO room, so no sample
 *     is ever dropped and the output does not depend on host timing.
 * Model time passes in frame_done: each frame (and each idle tick) lets the
 * model run up to steps_per_frame steps. */
#include "tspu.h"
#include "tspu_modeldev.h"

#include <stdlib.h>
#include <string.h>

#include "tspu_regs.h"

/* the status flags of the map are the model's flags */
_Static_assert(TSPU_FLAGS_SATURATED == TSPU_FLAG_SATURATED, "flag map");
_Static_assert(TSPU_FLAGS_FIFO_OVERFLOW == TSPU_FLAG_FIFO_OVERFLOW, "flag map");
_Static_assert(TSPU_FLAGS_WORK_OVERFLOW == TSPU_FLAG_WORK_OVERFLOW, "flag map");
_Static_assert(TSPU_FLAGS_MOMENT_LIMIT == TSPU_FLAG_MOMENT_LIMIT, "flag map");
_Static_assert(TSPU_FLAGS_DONE == TSPU_FLAG_DONE, "flag map");
_Static_assert(TSPU_WIN_COUPLING0_SIZE >= TSPU_N_MAX * TSPU_N_MAX, "coupling window");
_Static_assert(TSPU_WIN_BIAS0_SIZE >= TSPU_N_MAX, "bias window");
_Static_assert(TSPU_WIN_LANE_SEED_SIZE >= 4 * TSPU_N_MAX, "seed window");
_Static_assert(TSPU_WIN_MOM_SUMSQ_SIZE >= TSPU_N_MAX * (TSPU_N_MAX + 1), "sumsq window");
_Static_assert(TSPU_WIN_SCHEDULE_SIZE >= 2 * TSPU_MAX_SEGMENTS, "schedule window");
_Static_assert(TSPU_WIN_DATA_X_SIZE >= TSPU_DATA_MAX_WORDS, "data X window");
_Static_assert(TSPU_WIN_DATA_Y_SIZE >= TSPU_DATA_MAX_OBS, "data y window");
_Static_assert(TSPU_WIN_DATA_L_SIZE >= TSPU_DATA_MAX_OBS, "data l window");
_Static_assert(TSPU_WIN_LINK_TABLE_SIZE >= TSPU_LINK_TABLE_SIZE, "link table window");

#define NCFG (TSPU_REG_FIFO_STALL - TSPU_REG_INTEGRATOR + 1)
#define NDCFG (TSPU_REG_DATA_DD - TSPU_REG_DATA_MODE + 1) /* DATA block, rw part */
#define STAGE_MAX TSPU_LINK_MAX_FIFO_ELEMS

struct tspu_modeldev {
    tspu_modeldev_opts o;
    tspu_model *m;
    unsigned n;
    uint32_t scratch;
    uint32_t uart_div; /* no UART here: only stored (regmap: 0 at power-on) */
    uint32_t cfg[NCFG];
    uint32_t sched[2 * TSPU_MAX_SEGMENTS];
    uint32_t dcfg[NDCFG]; /* DATA_MODE .. DATA_DD, taken at START */
    /* data memories as written (the model's copy is loaded at frame end);
     * writes while running are ignored, as in the RTL */
    int16_t dx[TSPU_DATA_MAX_WORDS], dy[TSPU_DATA_MAX_OBS], dl[TSPU_DATA_MAX_OBS];
    int16_t lt[TSPU_LINK_TABLE_SIZE];
    int data_dirty, table_dirty;
    /* writes collected during a frame */
    int16_t a[2][TSPU_N_MAX * TSPU_N_MAX];
    int32_t b[2][TSPU_N_MAX];
    int coup_dirty[2];
    int32_t x[TSPU_N_MAX], p[TSPU_N_MAX];
    int state_dirty;
    uint32_t z[TSPU_N_MAX][4];
    uint64_t seed_touched; /* bit per lane */
    /* sequencer control */
    int running, stalled, rejected, fifo_stall;
    /* latches */
    uint32_t steps_hi, work_hi;
    /* moments cache, refreshed once per frame when read */
    tspu_moments mom;
    int mom_valid;
    /* FIFO words peeked by the link but not yet committed */
    int16_t stage[STAGE_MAX];
    size_t stage_len;
};

static void power_on(tspu_modeldev *d)
{
    tspu_model *m = tspu_model_create(d->n, d->o.fifo_words);
    if (!m)
        return; /* keep the old model: creation only fails on memory */
    tspu_model_destroy(d->m);
    d->m = m;
    d->scratch = 0;
    d->uart_div = 0;
    memset(d->sched, 0, sizeof d->sched);
    memset(d->dcfg, 0, sizeof d->dcfg);
    memset(d->dx, 0, sizeof d->dx);
    memset(d->dy, 0, sizeof d->dy);
    memset(d->dl, 0, sizeof d->dl);
    memset(d->lt, 0, sizeof d->lt);
    d->data_dirty = d->table_dirty = 0;
    memset(d->a, 0, sizeof d->a);
    memset(d->b, 0, sizeof d->b);
    d->coup_dirty[0] = d->coup_dirty[1] = 0;
    d->state_dirty = 0;
    d->seed_touched = 0;
    d->running = d->stalled = d->rejected = d->fifo_stall = 0;
    d->steps_hi = d->work_hi = 0;
    d->mom_valid = 0;
    d->stage_len = 0;
    tspu_model_config c = tspu_model_default_config();
    memset(d->cfg, 0, sizeof d->cfg);
    d->cfg[TSPU_REG_INTEGRATOR - TSPU_REG_INTEGRATOR] = (uint32_t)c.integrator;
    d->cfg[TSPU_REG_THIN - TSPU_REG_INTEGRATOR] = c.thin;
}

tspu_modeldev *tspu_modeldev_create(const tspu_modeldev_opts *o)
{
    tspu_modeldev *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (o)
        d->o = *o;
    if (!d->o.n)
        d->o.n = 8;
    if (d->o.n < TSPU_N_MIN || d->o.n > TSPU_N_MAX) {
        free(d);
        return NULL;
    }
    if (!d->o.fifo_words)
        d->o.fifo_words = 8192;
    if (!d->o.p)
        d->o.p = d->o.n;
    if (!d->o.clock_hz)
        d->o.clock_hz = 12000000;
    if (!d->o.cycles_per_step)
        d->o.cycles_per_step = (d->o.n * d->o.n + d->o.p - 1) / d->o.p + 4;
    if (!d->o.version)
        d->o.version = TSPU_GW_VERSION;
    if (!d->o.regmap_hash)
        d->o.regmap_hash = TSPU_REGMAP_HASH;
    if (!d->o.steps_per_frame)
        d->o.steps_per_frame = 1u << 16;
    const uint32_t all = TSPU_FEATURES_EM | TSPU_FEATURES_LM | TSPU_FEATURES_UD | TSPU_FEATURES_SCHEDULE |
                         TSPU_FEATURES_WORK | TSPU_FEATURES_MOMENTS | TSPU_FEATURES_SAMPLE_MOMENTUM |
                         TSPU_FEATURES_FIFO_STALL | TSPU_FEATURES_DATA;
    d->o.features = d->o.features ? d->o.features & all : all;
    d->n = d->o.n;
    power_on(d);
    if (!d->m) {
        free(d);
        return NULL;
    }
    return d;
}

void tspu_modeldev_destroy(tspu_modeldev *d)
{
    if (!d)
        return;
    tspu_model_destroy(d->m);
    free(d);
}

tspu_model *tspu_modeldev_model(tspu_modeldev *d) { return d->m; }

/* ---- address decoding ----------------------------------------------------- */
enum { ACC_NONE = 0, ACC_RO = 1, ACC_WO = 2, ACC_RW = 3 };
#define ACC_ro ACC_RO
#define ACC_wo ACC_WO
#define ACC_rw ACC_RW

static int access_of(uint16_t a)
{
#define X(name, addr, acc) if (a == (addr)) return ACC_##acc;
    TSPU_REG_LIST(X)
#undef X
#define X(name, base, size, acc) if (a >= (base) && a < (base) + (size)) return ACC_##acc;
    TSPU_WIN_LIST(X)
#undef X
    return ACC_NONE;
}

static int md_check(void *ctx, uint16_t addr, size_t count, int write)
{
    (void)ctx;
    for (size_t i = 0; i < count; i++) {
        int acc = access_of((uint16_t)(addr + i));
        if (acc == ACC_NONE)
            return TSPU_NAK_ADDR;
        if (write && !(acc & ACC_WO))
            return TSPU_NAK_ACCESS;
    }
    return 0;
}

static int in_win(uint16_t a, unsigned base, unsigned size, unsigned *off)
{
    if (a < base || a >= base + size)
        return 0;
    *off = a - base;
    return 1;
}

/* ---- batched writes --------------------------------------------------------- */
static void flush(tspu_modeldev *d)
{
    for (unsigned k = 0; k < 2; k++)
        if (d->coup_dirty[k]) {
            tspu_model_load_couplings(d->m, k, d->a[k], d->b[k]);
            d->coup_dirty[k] = 0;
        }
    if (d->data_dirty) {
        tspu_model_load_data(d->m, 0, tspu_model_data_max_obs(d->m), d->dx, d->dy, d->dl);
        d->data_dirty = 0;
    }
    if (d->table_dirty) {
        tspu_model_load_link_table(d->m, d->lt);
        d->table_dirty = 0;
    }
    if (d->state_dirty) {
        tspu_model_set_state(d->m, d->x, d->p);
        d->state_dirty = 0;
    }
    for (unsigned i = 0; d->seed_touched && i < d->n; i++)
        if (d->seed_touched >> i & 1) {
            if (tspu_model_set_lane_seed(d->m, i, d->z[i]) != TSPU_MODEL_OK)
                d->rejected = 1;
            d->seed_touched &= ~(1ull << i);
        }
}

static void start(tspu_modeldev *d)
{
    flush(d);
    const uint32_t *r = d->cfg;
#define R(name) r[TSPU_REG_##name - TSPU_REG_INTEGRATOR]
    tspu_model_config c = tspu_model_default_config();
    if (R(INTEGRATOR) > TSPU_INT_UD) {
        d->rejected = 1;
        return;
    }
    c.integrator = (tspu_integrator)R(INTEGRATOR);
    c.drift_shift = R(DRIFT_SHIFT);
    c.noise_shift = R(NOISE_SHIFT);
    c.ka = (int16_t)R(KA);
    c.ka_shift = R(KA_SHIFT);
    c.ko = (int16_t)R(KO);
    c.ko_shift = R(KO_SHIFT);
    c.burnin = R(BURNIN);
    c.thin = R(THIN);
    c.n_samples = R(N_SAMPLES);
    c.n_segments = R(N_SEGMENTS);
    c.lambda_init = R(LAMBDA_INIT);
    c.sample_momentum = (int)(R(SAMPLE_MOMENTUM) & 1u);
    const int stall = (int)(R(FIFO_STALL) & 1u);
#undef R
#define DR(name) d->dcfg[TSPU_REG_##name - TSPU_REG_DATA_MODE]
    if (DR(DATA_MODE) > TSPU_DATA_LOGISTIC) {
        d->rejected = 1;
        return;
    }
    c.data_mode = (tspu_data_mode)DR(DATA_MODE);
    c.n_obs = DR(N_OBS);
    c.data_sr = DR(DATA_SR);
    c.data_sg = DR(DATA_SG);
    c.data_dd = DR(DATA_DD);
#undef DR
    for (unsigned k = 0; k < TSPU_MAX_SEGMENTS; k++) {
        c.seg[k].steps = d->sched[2 * k];
        c.seg[k].dlambda = (int32_t)d->sched[2 * k + 1];
    }
    if (tspu_config_features(&c, stall) & ~d->o.features) {
        d->rejected = 1; /* as a gateware built without them */
        return;
    }
    if (tspu_model_configure(d->m, &c) != TSPU_MODEL_OK) {
        d->rejected = 1;
        return;
    }
    d->rejected = 0;
    d->fifo_stall = stall;
    d->stage_len = 0;
    d->mom_valid = 0;
    tspu_model_start(d->m);
    d->running = !tspu_model_done(d->m);
    d->stalled = 0;
}

/* ---- register reads ---------------------------------------------------------- */
static const tspu_moments *moments(tspu_modeldev *d)
{
    if (!d->mom_valid) {
        tspu_model_read_moments(d->m, &d->mom);
        d->mom_valid = 1;
    }
    return &d->mom;
}

static uint32_t md_read(void *ctx, uint16_t a)
{
    tspu_modeldev *d = ctx;
    tspu_status st;
    unsigned off;
    const unsigned n = d->n;
    switch (a) {
    case TSPU_REG_MAGIC: return TSPU_MAGIC;
    case TSPU_REG_VERSION: return d->o.version;
    case TSPU_REG_REGMAP_HASH: return d->o.regmap_hash;
    case TSPU_REG_N_LANES: return n;
    case TSPU_REG_P_MACS: return d->o.p;
    case TSPU_REG_WIDTHS:
        return (uint32_t)TSPU_STATE_BITS << TSPU_WIDTHS_STATE_LSB |
               (uint32_t)TSPU_OPERAND_BITS << TSPU_WIDTHS_OPERAND_LSB |
               (uint32_t)TSPU_COUPLING_BITS << TSPU_WIDTHS_COUPLING_LSB |
               (uint32_t)TSPU_BIAS_BITS << TSPU_WIDTHS_BIAS_LSB;
    case TSPU_REG_FEATURES: return d->o.features;
    case TSPU_REG_DATA_MAX_OBS: return tspu_model_data_max_obs(d->m);
    case TSPU_REG_CLOCK_HZ: return d->o.clock_hz;
    case TSPU_REG_CYCLES_PER_STEP: return d->o.cycles_per_step;
    case TSPU_REG_FIFO_DEPTH: return (uint32_t)tspu_model_fifo_capacity(d->m);
    case TSPU_REG_MAX_SEGMENTS: return TSPU_MAX_SEGMENTS;
    case TSPU_REG_CTRL: return 0;
    case TSPU_REG_SCRATCH: return d->scratch;
    case TSPU_REG_UART_DIV: return d->uart_div;
    case TSPU_REG_FLAGS:
        tspu_model_read_status(d->m, &st);
        return st.flags | (d->rejected ? TSPU_FLAGS_REJECTED : 0) |
               (d->running ? TSPU_FLAGS_RUNNING : 0) | (d->stalled ? TSPU_FLAGS_STALLED : 0);
    case TSPU_REG_PHASE: return (uint32_t)tspu_model_phase(d->m);
    case TSPU_REG_SAT_COUNT: tspu_model_read_status(d->m, &st); return st.sat_count;
    case TSPU_REG_FIFO_DROPPED: tspu_model_read_status(d->m, &st); return st.fifo_dropped;
    case TSPU_REG_STEPS_LO:
        tspu_model_read_status(d->m, &st);
        d->steps_hi = (uint32_t)(st.steps >> 32);
        return (uint32_t)st.steps;
    case TSPU_REG_STEPS_HI: return d->steps_hi;
    case TSPU_REG_SAMPLES: tspu_model_read_status(d->m, &st); return st.samples;
    case TSPU_REG_LAMBDA_ACC: tspu_model_read_status(d->m, &st); return st.lambda_acc;
    case TSPU_REG_WORK_LO: {
        uint64_t w = (uint64_t)tspu_model_read_work(d->m);
        d->work_hi = (uint32_t)(w >> 32);
        return (uint32_t)w;
    }
    case TSPU_REG_WORK_HI: return d->work_hi;
    case TSPU_REG_MOM_COUNT: return moments(d)->count;
    case TSPU_REG_FIFO_LEVEL: return (uint32_t)(tspu_model_fifo_level(d->m) + d->stage_len);
    case TSPU_REG_FIFO_DATA: return 0; /* only READ_FIFO pops */
    default: break;
    }
    if (a >= TSPU_REG_INTEGRATOR && a <= TSPU_REG_FIFO_STALL)
        return d->cfg[a - TSPU_REG_INTEGRATOR];
    if (a >= TSPU_REG_DATA_MODE && a <= TSPU_REG_DATA_DD)
        return d->dcfg[a - TSPU_REG_DATA_MODE];
    if (in_win(a, TSPU_WIN_SCHEDULE_BASE, TSPU_WIN_SCHEDULE_SIZE, &off))
        return off < 2 * TSPU_MAX_SEGMENTS ? d->sched[off] : 0;
    {
        const unsigned kmax = tspu_model_data_max_obs(d->m);
        if (in_win(a, TSPU_WIN_DATA_X_BASE, TSPU_WIN_DATA_X_SIZE, &off))
            return off < kmax * n ? (uint32_t)(int32_t)d->dx[off] : 0;
        if (in_win(a, TSPU_WIN_DATA_Y_BASE, TSPU_WIN_DATA_Y_SIZE, &off))
            return off < kmax ? (uint32_t)(int32_t)d->dy[off] : 0;
        if (in_win(a, TSPU_WIN_DATA_L_BASE, TSPU_WIN_DATA_L_SIZE, &off))
            return off < kmax ? (uint32_t)(int32_t)d->dl[off] : 0;
        if (in_win(a, TSPU_WIN_LINK_TABLE_BASE, TSPU_WIN_LINK_TABLE_SIZE, &off))
            return off < TSPU_LINK_TABLE_SIZE ? (uint32_t)(int32_t)d->lt[off] : 0;
    }
    for (unsigned k = 0; k < 2; k++) {
        if (in_win(a, k ? TSPU_WIN_COUPLING1_BASE : TSPU_WIN_COUPLING0_BASE, TSPU_WIN_COUPLING0_SIZE, &off))
            return off < n * n ? (uint32_t)(int32_t)d->a[k][off] : 0;
        if (in_win(a, k ? TSPU_WIN_BIAS1_BASE : TSPU_WIN_BIAS0_BASE, TSPU_WIN_BIAS0_SIZE, &off))
            return off < n ? (uint32_t)d->b[k][off] : 0;
    }
    if (in_win(a, TSPU_WIN_STATE_X_BASE, TSPU_WIN_STATE_X_SIZE, &off) ||
        in_win(a, TSPU_WIN_STATE_P_BASE, TSPU_WIN_STATE_P_SIZE, &off)) {
        if (off >= n)
            return 0;
        int32_t x[TSPU_N_MAX], p[TSPU_N_MAX];
        if (d->state_dirty) {
            memcpy(x, d->x, sizeof x);
            memcpy(p, d->p, sizeof p);
        } else {
            tspu_model_get_state(d->m, x, p);
        }
        return (uint32_t)(a < TSPU_WIN_STATE_P_BASE ? x[off] : p[off]);
    }
    if (in_win(a, TSPU_WIN_LANE_SEED_BASE, TSPU_WIN_LANE_SEED_SIZE, &off)) {
        unsigned lane = off / 4;
        if (lane >= n)
            return 0;
        uint32_t z[4];
        if (d->seed_touched >> lane & 1)
            memcpy(z, d->z[lane], sizeof z);
        else
            tspu_model_get_lane_seed(d->m, lane, z);
        return z[off % 4];
    }
    if (in_win(a, TSPU_WIN_MOM_SUM_BASE, TSPU_WIN_MOM_SUM_SIZE, &off)) {
        if (off / 2 >= n)
            return 0;
        uint64_t v = (uint64_t)moments(d)->sum[off / 2];
        return (uint32_t)(off & 1 ? v >> 32 : v);
    }
    if (in_win(a, TSPU_WIN_MOM_SUMSQ_BASE, TSPU_WIN_MOM_SUMSQ_SIZE, &off)) {
        if (off / 2 >= n * (n + 1) / 2)
            return 0;
        uint64_t v = (uint64_t)moments(d)->sumsq[off / 2];
        return (uint32_t)(off & 1 ? v >> 32 : v);
    }
    return 0;
}

/* ---- register writes ------------------------------------------------------------ */
static void md_write(void *ctx, uint16_t a, uint32_t v)
{
    tspu_modeldev *d = ctx;
    unsigned off;
    const unsigned n = d->n;
    if (a == TSPU_REG_CTRL) {
        if (v & TSPU_CTRL_RESET)
            power_on(d);
        if (v & TSPU_CTRL_STOP) {
            d->running = 0;
            d->stalled = 0;
        }
        if (v & TSPU_CTRL_START)
            start(d);
        return;
    }
    if (a == TSPU_REG_SCRATCH) {
        d->scratch = v;
        return;
    }
    if (a == TSPU_REG_UART_DIV) {
        d->uart_div = v & 0xFFFFu;
        return;
    }
    if (a >= TSPU_REG_INTEGRATOR && a <= TSPU_REG_FIFO_STALL) {
        if (a == TSPU_REG_KA || a == TSPU_REG_KO)
            v = (uint32_t)(int32_t)(int16_t)v; /* int16 registers */
        d->cfg[a - TSPU_REG_INTEGRATOR] = v;
        return;
    }
    if (a >= TSPU_REG_DATA_MODE && a <= TSPU_REG_DATA_DD) {
        d->dcfg[a - TSPU_REG_DATA_MODE] = v;
        return;
    }
    if (in_win(a, TSPU_WIN_SCHEDULE_BASE, TSPU_WIN_SCHEDULE_SIZE, &off)) {
        if (off < 2 * TSPU_MAX_SEGMENTS)
            d->sched[off] = v;
        return;
    }
    {
        const unsigned kmax = tspu_model_data_max_obs(d->m);
        int16_t *dst = NULL;
        if (in_win(a, TSPU_WIN_DATA_X_BASE, TSPU_WIN_DATA_X_SIZE, &off))
            dst = off < kmax * n ? &d->dx[off] : NULL;
        else if (in_win(a, TSPU_WIN_DATA_Y_BASE, TSPU_WIN_DATA_Y_SIZE, &off))
            dst = off < kmax ? &d->dy[off] : NULL;
        else if (in_win(a, TSPU_WIN_DATA_L_BASE, TSPU_WIN_DATA_L_SIZE, &off))
            dst = off < kmax ? &d->dl[off] : NULL;
        else if (in_win(a, TSPU_WIN_LINK_TABLE_BASE, TSPU_WIN_LINK_TABLE_SIZE, &off)) {
            if (off < TSPU_LINK_TABLE_SIZE && !d->running) {
                d->lt[off] = (int16_t)v;
                d->table_dirty = 1;
            }
            return;
        } else
            off = ~0u;
        if (off != ~0u) { /* a data window: ignored beyond K_max or while running */
            if (dst && !d->running) {
                *dst = (int16_t)v;
                d->data_dirty = 1;
            }
            return;
        }
    }
    for (unsigned k = 0; k < 2; k++) {
        if (in_win(a, k ? TSPU_WIN_COUPLING1_BASE : TSPU_WIN_COUPLING0_BASE, TSPU_WIN_COUPLING0_SIZE, &off)) {
            if (off < n * n) {
                d->a[k][off] = (int16_t)v;
                d->coup_dirty[k] = 1;
            }
            return;
        }
        if (in_win(a, k ? TSPU_WIN_BIAS1_BASE : TSPU_WIN_BIAS0_BASE, TSPU_WIN_BIAS0_SIZE, &off)) {
            if (off < n) {
                d->b[k][off] = (int32_t)v;
                d->coup_dirty[k] = 1;
            }
            return;
        }
    }
    if (in_win(a, TSPU_WIN_STATE_X_BASE, TSPU_WIN_STATE_X_SIZE, &off) ||
        in_win(a, TSPU_WIN_STATE_P_BASE, TSPU_WIN_STATE_P_SIZE, &off)) {
        if (off >= n)
            return;
        if (!d->state_dirty) {
            tspu_model_get_state(d->m, d->x, d->p);
            d->state_dirty = 1;
        }
        if (a < TSPU_WIN_STATE_P_BASE)
            d->x[off] = (int32_t)v;
        else
            d->p[off] = (int32_t)v;
        return;
    }
    if (in_win(a, TSPU_WIN_LANE_SEED_BASE, TSPU_WIN_LANE_SEED_SIZE, &off)) {
        unsigned lane = off / 4;
        if (lane >= n)
            return;
        if (!(d->seed_touched >> lane & 1)) {
            tspu_model_get_lane_seed(d->m, lane, d->z[lane]);
            d->seed_touched |= 1ull << lane;
        }
        d->z[lane][off % 4] = v;
        return;
    }
}

/* ---- FIFO stream port ---------------------------------------------------------- */
static int md_is_stream(void *ctx, uint16_t addr)
{
    (void)ctx;
    return addr == TSPU_REG_FIFO_DATA;
}

static size_t md_peek(void *ctx, uint16_t addr, int16_t *dst, size_t max)
{
    tspu_modeldev *d = ctx;
    (void)addr;
    if (max > STAGE_MAX)
        max = STAGE_MAX;
    if (d->stage_len < max)
        d->stage_len += tspu_model_fifo_read(d->m, d->stage + d->stage_len, max - d->stage_len);
    size_t k = d->stage_len < max ? d->stage_len : max;
    memcpy(dst, d->stage, k * sizeof *dst);
    return k;
}

static void md_commit(void *ctx, uint16_t addr, size_t k)
{
    tspu_modeldev *d = ctx;
    (void)addr;
    if (k > d->stage_len)
        k = d->stage_len;
    memmove(d->stage, d->stage + k, (d->stage_len - k) * sizeof *d->stage);
    d->stage_len -= k;
}

/* ---- time -------------------------------------------------------------------------- */
static void md_frame_done(void *ctx)
{
    tspu_modeldev *d = ctx;
    flush(d);
    d->mom_valid = 0;
    if (!d->running)
        return;
    const tspu_model_config *c = tspu_model_get_config(d->m);
    const size_t words = (size_t)d->n * (c->sample_momentum ? 2u : 1u);
    const size_t cap = tspu_model_fifo_capacity(d->m);
    uint64_t budget = d->o.steps_per_frame;
    d->stalled = 0;
    while (budget > 0 && !tspu_model_done(d->m)) {
        uint64_t chunk = budget;
        if (d->fifo_stall) {
            /* k free sample slots: k*thin steps keep at most k samples */
            size_t used = tspu_model_fifo_level(d->m) + d->stage_len;
            uint64_t k = used < cap ? (cap - used) / words : 0;
            if (k == 0) {
                if (tspu_model_phase(d->m) == TSPU_PHASE_SAMPLING) {
                    d->stalled = 1;
                    break;
                }
                chunk = 1; /* before sampling: step until sampling begins */
            } else if (k * c->thin < chunk) {
                chunk = k * c->thin;
            }
        }
        uint64_t ran = tspu_model_run(d->m, chunk);
        if (ran == 0)
            break;
        budget -= ran;
    }
    if (tspu_model_done(d->m))
        d->running = 0;
}

tspu_regdev tspu_modeldev_regdev(tspu_modeldev *d)
{
    tspu_regdev r = {
        .check = md_check,
        .read = md_read,
        .write = md_write,
        .is_stream = md_is_stream,
        .peek = md_peek,
        .commit = md_commit,
        .frame_done = md_frame_done,
        .ctx = d,
    };
    return r;
}
