/*
 * tspu.h - libtspu, the host library of the tspu unit.
 *
 * One API for every device: the Verilated RTL ("sim"), a Verilated board on a
 * pty ("vboard"), a board over a serial port ("serial:PATH[?baud=N]") or
 * libftdi ("ftdi[:serial=S][?baud=N]", docs/boards.md), and the bit-exact C
 * model ("model").  Every device is reached through the same link
 * (tspu_link.h) and register map (docs/regmap.md), so the host code path is
 * the same for all of them.
 *
 *   tspu_dev *d;
 *   int rc = tspu_open(&d, "model");
 *   if (rc < 0) { fprintf(stderr, "%s\n", tspu_strerror(rc)); ... }
 *   tspu_load_mapping(d, &mapping); tspu_seed(d, 42);
 *   tspu_configure(d, &cfg); tspu_start(d);
 *   tspu_stream(d, on_samples, ctx, timeout_ms);
 *   tspu_read_moments(d, &mom); tspu_close(d);
 *
 * Errors are negative TSPU_E_* codes; tspu_strerror names them and
 * tspu_last_error(d) gives a one-line detail of the last failure.
 */
#ifndef TSPU_H
#define TSPU_H

#include <stddef.h>
#include <stdint.h>

#include "tspu_fixmap.h"
#include "tspu_model.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    TSPU_OK = 0,
    TSPU_E_NOT_FOUND = -1,     /* no such device                              */
    TSPU_E_PERMISSION = -2,    /* device exists, access denied                */
    TSPU_E_BUSY = -3,          /* device exists, in use by someone else       */
    TSPU_E_TIMEOUT = -4,       /* no (valid) answer within the deadline       */
    TSPU_E_PROTOCOL = -5,      /* CRC / framing / NAK / not a tspu            */
    TSPU_E_VERSION = -6,       /* gateware version or register map mismatch   */
    TSPU_E_INVAL = -7,         /* invalid argument                            */
    TSPU_E_SATURATED = -8,     /* the unit clamped a value (flag SATURATED)   */
    TSPU_E_FIFO_OVERFLOW = -9, /* samples were dropped (flag FIFO_OVERFLOW)   */
    TSPU_E_UNSUPPORTED = -10,  /* not supported by this device or build       */
    TSPU_E_IO = -11,           /* operating-system I/O error                  */
    TSPU_E_NOMEM = -12,        /* out of memory                               */
    TSPU_E_REJECTED = -13,     /* the unit refused a value (flag REJECTED)    */
};

const char *tspu_strerror(int err);

typedef struct tspu_dev tspu_dev;

/* Open by device string: "model[?n=N&fifo=W&p=P&clock=HZ&version=V]",
 * "sim", "vboard", "serial:PATH[?baud=N]", "ftdi[:serial=S][?baud=N]"; NULL or ""
 * means the default device (TSPU_DEFAULT_DEVICE).  Performs the version
 * handshake: a device with another magic is TSPU_E_PROTOCOL, another
 * gateware major version or register-map hash is TSPU_E_VERSION. */
#define TSPU_DEFAULT_DEVICE "sim"
int tspu_open(tspu_dev **dev, const char *spec);
void tspu_close(tspu_dev *dev);
/* Open over a caller-made byte transport (struct tspu_transport in
 * tspu_link.h; the handle owns it and closes it): new backends, and tests
 * that put a fault-injecting channel under the link.  name is for info. */
struct tspu_transport;
int tspu_open_transport(tspu_dev **dev, const struct tspu_transport *tr, const char *name);
const char *tspu_last_error(const tspu_dev *dev);

/* Device types this build knows, one per line as "name: description";
 * returns the length written (like snprintf). */
int tspu_list_devices(char *buf, size_t len);

typedef struct {
    uint32_t magic, version, regmap_hash;
    unsigned n, p;
    unsigned state_bits, operand_bits, coupling_bits, bias_bits;
    uint32_t features;       /* TSPU_FEATURES_* bits (tspu_regs.h)       */
    uint32_t clock_hz, cycles_per_step, fifo_depth, max_segments;
    uint32_t data_max_obs;   /* DATA_MAX_OBS: observations K the data-driven
                              * drift holds (0 without FEATURES.DATA)    */
    char device[64];         /* the device string it was opened with     */
} tspu_info;
int tspu_get_info(tspu_dev *dev, tspu_info *info);

/* raw bus access (word addresses of docs/regmap.md); bursts of any length */
int tspu_reg_read(tspu_dev *dev, uint16_t addr, uint32_t *v);
int tspu_reg_write(tspu_dev *dev, uint16_t addr, uint32_t v);
int tspu_mem_read(tspu_dev *dev, uint16_t addr, uint32_t *v, size_t count);
int tspu_mem_write(tspu_dev *dev, uint16_t addr, const uint32_t *v, size_t count);

/* problem: coupling set (0/1) as N*N int16 row-major and N int32 bias (NULL
 * for zero), N = the device's lane count */
int tspu_load_couplings(tspu_dev *dev, unsigned set, const int16_t *a, const int32_t *b);
int tspu_read_couplings(tspu_dev *dev, unsigned set, int16_t *a, int32_t *b);
/* both sets of a tspu_map_problem result (mp->n must equal the device N) */
int tspu_load_mapping(tspu_dev *dev, const tspu_mapping *mp);
/* Data-driven drift (FEATURES.DATA; docs/numerics.md, "Data-driven drift"):
 * the DATA registers from the data fields of *cfg (data_mode, n_obs = K,
 * data_sr, data_sg, data_dd; tspu_map_data fills them) and the data
 * memories: x is K*N int16 row-major with N = the device's lane count
 * (stride N), y and l are K int16, table is the TSPU_LINK_TABLE_SIZE-entry
 * link table (needed for TSPU_DATA_LOGISTIC, else ignored and may be NULL).
 * Taken at the next tspu_start, like tspu_configure.  data_mode
 * TSPU_DATA_OFF writes the registers only (x, y, l, table may be NULL),
 * switching the data drift off.  TSPU_E_INVAL (with tspu_last_error) when K
 * is not 1..DATA_MAX_OBS (tspu_info.data_max_obs), K*N exceeds the X window,
 * a shift is over 62 or an array is missing; TSPU_E_UNSUPPORTED when the
 * gateware has no data-driven drift. */
int tspu_load_data(tspu_dev *dev, const tspu_model_config *cfg, const int16_t *x, const int16_t *y,
                   const int16_t *l, const int16_t *table);
/* lane seeds derived from one 64-bit seed exactly as tspu_model_seed does */
int tspu_seed(tspu_dev *dev, uint64_t seed);
int tspu_set_lane_seed(tspu_dev *dev, unsigned lane, const uint32_t z[4]);
int tspu_get_lane_seed(tspu_dev *dev, unsigned lane, uint32_t z[4]);
int tspu_set_state(tspu_dev *dev, const int32_t *x, const int32_t *p);
int tspu_get_state(tspu_dev *dev, int32_t *x, int32_t *p);

/* program, start, stop */
/* Clock cycles one step of configuration c takes on this gateware: the ID
 * block's CYCLES_PER_STEP, or, for a step that runs the data passes
 * (c->data_mode != OFF and lambda not held at 0), the RTL's cost model of
 * docs/architecture.md ("Data-driven drift"): K (3N + 6 + sh(Sr) + sh(Sg)
 * [+ 5 logistic]) + 27 N [+ 10 N underdamped], sh(s) = s/8 + s%8 + 1 with
 * s capped at 38 (Sr) / 32 (Sg) — within ~3 % of the lockstep-measured
 * cycles (bench/results/rtl.json data_rows).  For device_seconds. */
double tspu_step_cycles(const tspu_info *info, const tspu_model_config *c);

/* The FEATURES bits (docs/regmap.md) a program needs: its integrator,
 * SCHEDULE for schedule segments or a lambda strictly between 0 and 2^31
 * (the two coupling sets), SAMPLE_MOMENTUM, FIFO_STALL, DATA for a data
 * drift.  A gateware built without some (a small FPGA) reports them 0 and
 * refuses such a program at START; tspu_configure refuses it first
 * (TSPU_E_UNSUPPORTED, naming the feature), tspu_read_moments and
 * tspu_read_work without MOMENTS / WORK. */
uint32_t tspu_config_features(const tspu_model_config *cfg, int fifo_stall);
/* "em", "lm", "ud", "schedule", "work", "moments", "sample_momentum",
 * "fifo_stall", "data" for one FEATURES bit; NULL for another value */
const char *tspu_feature_name(uint32_t bit);

int tspu_configure(tspu_dev *dev, const tspu_model_config *cfg, int fifo_stall);
int tspu_start(tspu_dev *dev); /* TSPU_E_REJECTED if the unit refused the config */
int tspu_stop(tspu_dev *dev);
int tspu_reset(tspu_dev *dev);

/* results */
int tspu_read_status(tspu_dev *dev, tspu_status *st, tspu_phase *phase);
int tspu_read_moments(tspu_dev *dev, tspu_moments *mom);
int tspu_read_work(tspu_dev *dev, int64_t *work);

/* FIFO: up to max words now (*got of them) */
int tspu_fifo_read(tspu_dev *dev, int16_t *dst, size_t max, size_t *got);

/* Stream whole samples until the program is done: on_samples gets batches of
 * complete samples (words = count * words_per_sample).  A nonzero return from
 * on_samples stops the unit and ends the stream with that value.  Returns 0,
 * TSPU_E_FIFO_OVERFLOW if the unit dropped samples (drop detection; the
 * stream itself still ends normally), TSPU_E_TIMEOUT if nothing progressed
 * for stall_ms, or another error. */
typedef int (*tspu_sample_cb)(void *ctx, const int16_t *words, size_t count,
                              unsigned words_per_sample);
int tspu_stream(tspu_dev *dev, tspu_sample_cb on_samples, void *ctx, int stall_ms);

/* link counters (retries, timeouts, NAKs) for diagnostics */
struct tspu_link_stats_pub {
    uint64_t transactions, retries, timeouts, naks, bad_frames, stale;
};
int tspu_get_link_stats(tspu_dev *dev, struct tspu_link_stats_pub *st);

#ifdef __cplusplus
}
#endif
#endif
