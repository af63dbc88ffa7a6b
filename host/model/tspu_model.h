/*
 * tspu_model.h - bit-exact C reference model of the tspu Langevin unit.
 *
 * This is the integer specification of the unit: for the same configuration,
 * matrices and seeds, the RTL (rtl/) produces exactly these integers step for
 * step.  Every format, rounding and saturation rule is described in
 * docs/numerics.md; the comments here only name them.  Only libc is used.
 *
 * Typical use:
 *   tspu_model *m = tspu_model_create(8, 0);
 *   tspu_model_config c = tspu_model_default_config();   set fields ...
 *   tspu_model_configure(m, &c);
 *   tspu_model_load_couplings(m, 0, a0, b0);             int16 A, int32 b
 *   tspu_model_seed(m, 12345);
 *   tspu_model_start(m);
 *   while (!tspu_model_done(m)) { tspu_model_run(m, 100000); drain FIFO ... }
 *   tspu_model_read_moments(m, &mom);
 */
#ifndef TSPU_MODEL_H
#define TSPU_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Parameters of the unit (see docs/numerics.md, "Formats") ---------- */
#define TSPU_N_MIN 2
#define TSPU_N_MAX 64
#define TSPU_STATE_BITS 32      /* x and p: signed 32-bit                   */
#define TSPU_OPERAND_BITS 16    /* multiplier operands: signed 16-bit       */
#define TSPU_OPERAND_SHIFT 16   /* operand = sat16(round(state / 2^16))     */
#define TSPU_COUPLING_BITS 16   /* A entries: signed 16-bit                 */
#define TSPU_BIAS_BITS 32       /* b entries: signed 32-bit, state units    */
#define TSPU_LAMBDA_BITS 16     /* lambda used in the drift: 0..2^15        */
#define TSPU_LAMBDA_ONE 32768   /* lambda = 1.0                             */
#define TSPU_LAMBDA_ACC_ONE 0x80000000u /* lambda accumulator value of 1.0   */
#define TSPU_MAX_SEGMENTS 16    /* schedule segments                        */
#define TSPU_SHIFT_MAX 62       /* largest drift / coefficient shift        */
#define TSPU_NOISE_SHIFT_MAX 20 /* largest noise left shift                 */
#define TSPU_WORK_SHIFT 16      /* work: S is rounded by 2^16 before *dl    */

/* Data-driven drift (docs/numerics.md, "Data-driven drift").  K observations
 * (config n_obs): design rows X[d][0..N-1] (int16, row-major with stride N),
 * targets y[d] (int16), weights l[d] (int16), and for the logistic mode a
 * host-loaded link table T[0..512] (int16, sigma in Q1.14 at 512 equal
 * intervals of the 16-bit predictor, linear interpolation). */
#define TSPU_DATA_MAX_OBS 1024      /* K limit of the model                  */
#define TSPU_DATA_MAX_WORDS 16384   /* K*N limit (X memory, one UP5K SPRAM)  */
#define TSPU_LINK_TABLE_SIZE 513    /* T entries: breakpoints of 512 pieces  */
#define TSPU_LINK_FRAC_BITS 7       /* u = z + 2^15: k = u >> 7, f = u & 127 */
#define TSPU_LINK_ONE 16384         /* sigma = 1.0 in the table (Q1.14)      */

/* Noise: xi = (sum of the 8 bytes of two LFSR113 outputs) - 1020.
 * Exact moments: mean 0, variance 8*(256^2-1)/12 = 43690, skewness 0,
 * excess kurtosis -6*(256^2+1)/(5*(256^2-1))/8, support [-1020, 1020].  */
#define TSPU_NOISE_BYTES 8
#define TSPU_NOISE_OFFSET 1020
#define TSPU_NOISE_VAR 43690
#define TSPU_NOISE_MAX 1020

typedef enum {
    TSPU_INT_EM = 0, /* overdamped Euler-Maruyama                          */
    TSPU_INT_LM = 1, /* overdamped, Leimkuhler-Matthews noise (xi_k+xi_k+1) */
    TSPU_INT_UD = 2  /* underdamped: kick, half drift, exact OU, half drift */
} tspu_integrator;

typedef enum {
    TSPU_DATA_OFF = 0,      /* no data drift: coupling sets 0 and 1 as before   */
    TSPU_DATA_GAUSS = 1,    /* s = z, residual e = y - z, work from sum g*e     */
    TSPU_DATA_LOGISTIC = 2  /* s = T-interpolated sigma(z); no work term       */
} tspu_data_mode;

typedef struct {
    uint32_t steps;  /* steps in this segment (0: segment skipped)        */
    int32_t dlambda; /* added to the 32-bit lambda accumulator each step  */
} tspu_segment;

typedef struct {
    tspu_integrator integrator;
    unsigned drift_shift;  /* D: F = round(Y*2^16 / 2^D) - b, 0..62       */
    unsigned noise_shift;  /* Sn: noise enters as xi << Sn, 0..20         */
    /* underdamped only: half-drift x += round(op(p)*ka*2^16 / 2^sa),
     * friction p -= round(op(p)*ko*2^16 / 2^so)                          */
    int16_t ka;
    unsigned ka_shift;
    int16_t ko;
    unsigned ko_shift;
    /* sequencer: burn-in, then the schedule segments, then sampling */
    uint32_t burnin;    /* steps before the schedule, no samples        */
    uint32_t thin;      /* keep every thin-th step while sampling (>=1) */
    uint32_t n_samples; /* kept samples; 0 = no sampling phase          */
    unsigned n_segments;
    tspu_segment seg[TSPU_MAX_SEGMENTS];
    uint32_t lambda_init;     /* lambda accumulator at start (0..2^31)    */
    int sample_momentum;      /* UD: FIFO samples carry op(p) after op(x) */
    /* data-driven drift (all zero: off).  With data_mode != OFF the force is
     * F = sat32(F0 - round_shift(lambda1 * Fd, 15)), F0 from coupling set 0,
     * set 1 unused; Fd = sat32(scale16(X^T g, data_dd)) (see numerics.md). */
    tspu_data_mode data_mode;
    unsigned n_obs;     /* K: observations used, 1..tspu_model_data_max_obs  */
    unsigned data_sr;   /* Sr: z = sat16(round_shift(X op, Sr)), 0..62        */
    unsigned data_sg;   /* Sg: g = sat16(round_shift(l * e, Sg)), 0..62       */
    unsigned data_dd;   /* Dd: Fd = sat32(round_shift(G * 2^16, Dd)), 0..62   */
} tspu_model_config;

/* Moments of the 16-bit position operands over the kept samples.
 * sum[i] = sum op(x_i); sumsq[k] = sum op(x_i)*op(x_j) for i <= j in
 * row-major upper-triangle order (k = i*n - i*(i-1)/2 + (j-i)).        */
typedef struct {
    uint32_t count;
    int64_t sum[TSPU_N_MAX];
    int64_t sumsq[TSPU_N_MAX * (TSPU_N_MAX + 1) / 2];
} tspu_moments;

/* Status flags (sticky until tspu_model_start) */
#define TSPU_FLAG_SATURATED 0x01u     /* some value was clamped            */
#define TSPU_FLAG_FIFO_OVERFLOW 0x02u /* a kept sample was dropped         */
#define TSPU_FLAG_WORK_OVERFLOW 0x04u /* the work accumulator clamped      */
#define TSPU_FLAG_MOMENT_LIMIT 0x08u  /* 2^32-1 samples: moments stopped   */
#define TSPU_FLAG_DONE 0x10u          /* the program finished              */

typedef struct {
    uint32_t flags;
    uint32_t sat_count;      /* clamps counted (saturating at 2^32-1)    */
    uint32_t fifo_dropped;   /* kept samples dropped because FIFO full   */
    uint64_t steps;          /* steps since start                        */
    uint32_t samples;        /* kept samples since start                 */
    uint32_t lambda_acc;     /* current lambda accumulator               */
} tspu_status;

typedef enum {
    TSPU_PHASE_IDLE = 0,
    TSPU_PHASE_BURNIN = 1,
    TSPU_PHASE_SCHEDULE = 2,
    TSPU_PHASE_SAMPLING = 3,
    TSPU_PHASE_DONE = 4
} tspu_phase;

typedef struct tspu_model tspu_model;

/* Error codes returned by the model (negative) */
#define TSPU_MODEL_OK 0
#define TSPU_MODEL_EINVAL (-1)
#define TSPU_MODEL_EBUSY (-2) /* configure while a program is running */

tspu_model *tspu_model_create(unsigned n, size_t fifo_words);
void tspu_model_destroy(tspu_model *m);
unsigned tspu_model_n(const tspu_model *m);
size_t tspu_model_fifo_capacity(const tspu_model *m);

tspu_model_config tspu_model_default_config(void);
/* Checks every field; returns TSPU_MODEL_EINVAL and leaves m unchanged on a
 * bad value, TSPU_MODEL_EBUSY while a program runs (not idle or done).
 * Does not touch state, seeds or couplings. */
int tspu_model_configure(tspu_model *m, const tspu_model_config *c);
const tspu_model_config *tspu_model_get_config(const tspu_model *m);

/* Coupling set k (0 or 1): a is n*n row-major int16, b is n int32 (b may be
 * NULL for zero bias). */
int tspu_model_load_couplings(tspu_model *m, unsigned set, const int16_t *a,
                              const int32_t *b);
int tspu_model_read_couplings(const tspu_model *m, unsigned set, int16_t *a,
                              int32_t *b);

/* Data memories (data-driven drift).  Rows first .. first+count-1 of X
 * (count*N int16, row-major: x[(d-first)*N + j]), y and l (count each); any
 * of x, y, l may be NULL to leave that memory as it is.  Rows must lie below
 * tspu_model_data_max_obs(m).  The memories hold what was loaded whatever
 * the configuration (power-on: zero); config n_obs says how many rows a
 * step uses.  Like the couplings, they take effect at the next step (the
 * model device and the RTL ignore data writes while a program runs). */
int tspu_model_load_data(tspu_model *m, unsigned first, unsigned count,
                         const int16_t *x, const int16_t *y, const int16_t *l);
int tspu_model_read_data(const tspu_model *m, unsigned first, unsigned count,
                         int16_t *x, int16_t *y, int16_t *l);
/* Link table T[0..TSPU_LINK_TABLE_SIZE-1] for TSPU_DATA_LOGISTIC. */
int tspu_model_load_link_table(tspu_model *m, const int16_t *t);
int tspu_model_read_link_table(const tspu_model *m, int16_t *t);
/* K limit of this instance: min(TSPU_DATA_MAX_OBS, TSPU_DATA_MAX_WORDS / N)
 * (the model device reports it as DATA_MAX_OBS). */
unsigned tspu_model_data_max_obs(const tspu_model *m);

/* The two data passes at given operands op[0..N-1] with the loaded data and
 * the current configuration (data_mode != OFF), exactly as a step computes
 * them (for the host's U evaluation, lockstep debugging and tests).  Any
 * output pointer may be NULL: z, s, e, g have n_obs entries; fd has N
 * (Fd_i after its clamp); *S = sum_d g_d e_d; *sat += the clamps of the
 * passes (z, e, g, Fd; not the final force).  Returns TSPU_MODEL_EINVAL
 * when data_mode is OFF. */
int tspu_model_data_passes(const tspu_model *m, const int16_t *op, int32_t *z,
                           int32_t *s, int32_t *e, int32_t *g, int32_t *fd,
                           int64_t *S, uint32_t *sat);

/* Noise seeds.  tspu_model_seed derives every lane's LFSR113 state from one
 * 64-bit host seed (SplitMix64, then lane i jumped ahead i*2^64 steps).
 * Raw per-lane states (4 words per lane) can be written and read back. */
void tspu_model_seed(tspu_model *m, uint64_t seed);
int tspu_model_set_lane_seed(tspu_model *m, unsigned lane, const uint32_t z[4]);
int tspu_model_get_lane_seed(const tspu_model *m, unsigned lane, uint32_t z[4]);

/* State: positions x (and momenta p for UD) as signed 32-bit integers.
 * set_state also clears the LM noise memory. p may be NULL. */
int tspu_model_set_state(tspu_model *m, const int32_t *x, const int32_t *p);
void tspu_model_get_state(const tspu_model *m, int32_t *x, int32_t *p);

/* Start the programmed sequence: clears moments, work, counters, flags and
 * the FIFO, loads lambda_init.  State and seeds carry over. */
void tspu_model_start(tspu_model *m);
/* Advance by at most max_steps steps of the program; returns steps done
 * (0 once the program is done or idle). */
uint64_t tspu_model_run(tspu_model *m, uint64_t max_steps);
int tspu_model_done(const tspu_model *m);
tspu_phase tspu_model_phase(const tspu_model *m);

/* Sample FIFO of 16-bit words; a kept sample is n words (2n with
 * sample_momentum), written whole or dropped whole. */
size_t tspu_model_fifo_level(const tspu_model *m);
size_t tspu_model_fifo_read(tspu_model *m, int16_t *dst, size_t max_words);

void tspu_model_read_moments(const tspu_model *m, tspu_moments *mom);
int64_t tspu_model_read_work(const tspu_model *m);
void tspu_model_read_status(const tspu_model *m, tspu_status *st);

/* Per-step observer for lockstep checking: called after every step with the
 * step index (from start), the state and the lambda accumulator in effect. */
typedef void (*tspu_model_observer)(void *ctx, uint64_t step,
                                    const int32_t *x, const int32_t *p,
                                    uint32_t lambda_acc);
void tspu_model_set_observer(tspu_model *m, tspu_model_observer f, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
