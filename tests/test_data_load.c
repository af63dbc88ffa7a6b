/* test_data_load.c - tspu_load_data (libtspu) on the model device:
 *  - tspu_info.data_max_obs is the model's K limit min(1024, 16384 / N)
 *    (N = 8: 1024, N = 32: 512) and `data` is in FEATURES;
 *  - a full load (K = DATA_MAX_OBS, so K*N fills the X window at N = 32,
 *    several bursts per window) reads back word for word through
 *    tspu_mem_read: X, y, l, the link table and the DATA registers;
 *    its twin: the same comparison on a copy with one word changed fails;
 *  - data mode off writes zero DATA registers and needs no arrays;
 *  - bad sizes and values are refused with TSPU_E_INVAL and a detail line
 *    (K = 0, K = DATA_MAX_OBS + 1, a shift of 63, a missing link table, a bad
 *    mode), and a refused call leaves the device's DATA registers as they were.
 */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tspu.h"
#include "tspu_regs.h"
#include "tt.h"

#define TT_RNG_SEED 0xDA7A10ADull
#include "tt_rng.h"

static int16_t r16(void) { return (int16_t)(urand() * 65536.0 - 32768.0); }

/* words w[0..count-1] equal the int16 v sign-extended */
static int same_i16(const uint32_t *w, const int16_t *v, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (w[i] != (uint32_t)(int32_t)v[i])
            return 0;
    return 1;
}

static int read_regs(tspu_dev *d, uint32_t r[5]) { return tspu_mem_read(d, TSPU_REG_DATA_MODE, r, 5); }

static void run(unsigned n)
{
    char spec[32], name[160];
    snprintf(spec, sizeof spec, "model?n=%u", n);
    tspu_dev *d;
    int rc = tspu_open(&d, spec);
    snprintf(name, sizeof name, "open %s", spec);
    if (!tt_check(rc == 0, name, "%s", tspu_last_error(NULL)))
        return;
    tspu_info in;
    tspu_get_info(d, &in);
    const unsigned kmax = TSPU_DATA_MAX_OBS < TSPU_DATA_MAX_WORDS / n ? TSPU_DATA_MAX_OBS : TSPU_DATA_MAX_WORDS / n;
    snprintf(name, sizeof name, "N=%u: info data_max_obs = min(1024, 16384/N) = %u, FEATURES.DATA", n, kmax);
    tt_check(in.data_max_obs == kmax && (in.features & TSPU_FEATURES_DATA), name, "data_max_obs %u, features 0x%X",
             in.data_max_obs, in.features);

    const unsigned k = in.data_max_obs;
    int16_t *x = malloc(sizeof(int16_t) * (size_t)k * n), y[TSPU_DATA_MAX_OBS], l[TSPU_DATA_MAX_OBS],
            table[TSPU_LINK_TABLE_SIZE];
    uint32_t *w = malloc(sizeof(uint32_t) * (size_t)k * n);
    for (size_t i = 0; i < (size_t)k * n; i++)
        x[i] = r16();
    for (unsigned i = 0; i < k; i++) {
        y[i] = r16();
        l[i] = r16();
    }
    for (unsigned i = 0; i < TSPU_LINK_TABLE_SIZE; i++)
        table[i] = r16();
    tspu_model_config c;
    memset(&c, 0, sizeof c);
    c.data_mode = TSPU_DATA_LOGISTIC;
    c.n_obs = k;
    c.data_sr = 7;
    c.data_sg = 62;
    c.data_dd = 13;
    rc = tspu_load_data(d, &c, x, y, l, table);
    snprintf(name, sizeof name, "N=%u: load K = DATA_MAX_OBS = %u (logistic)", n, k);
    tt_check(rc == 0, name, "rc %d: %s", rc, tspu_last_error(d));

    int ok = tspu_mem_read(d, TSPU_WIN_DATA_X_BASE, w, (size_t)k * n) == 0 && same_i16(w, x, (size_t)k * n);
    snprintf(name, sizeof name, "N=%u: X reads back (%u words)", n, k * n);
    tt_check(ok, name, "mismatch");
    /* the twin: the same judge on a copy with one word changed */
    x[(size_t)k * n / 2] ^= 0x0100;
    snprintf(name, sizeof name, "N=%u: twin: X with one word changed does not compare equal", n);
    tt_check(!same_i16(w, x, (size_t)k * n), name, "the comparison missed a changed word");
    ok = tspu_mem_read(d, TSPU_WIN_DATA_Y_BASE, w, k) == 0 && same_i16(w, y, k);
    ok = ok && tspu_mem_read(d, TSPU_WIN_DATA_L_BASE, w, k) == 0 && same_i16(w, l, k);
    ok = ok && tspu_mem_read(d, TSPU_WIN_LINK_TABLE_BASE, w, TSPU_LINK_TABLE_SIZE) == 0 &&
         same_i16(w, table, TSPU_LINK_TABLE_SIZE);
    snprintf(name, sizeof name, "N=%u: y, l and the link table read back", n);
    tt_check(ok, name, "mismatch");
    uint32_t r[5], r2[5];
    ok = read_regs(d, r) == 0 && r[0] == TSPU_DATA_LOGISTIC && r[1] == k && r[2] == 7 && r[3] == 62 && r[4] == 13;
    snprintf(name, sizeof name, "N=%u: DATA registers = mode, K, Sr, Sg, Dd", n);
    tt_check(ok, name, "%u %u %u %u %u", r[0], r[1], r[2], r[3], r[4]);

    /* refusals: each leaves the registers as they were */
    struct {
        const char *what, *detail;
        unsigned mode, k, sr;
        int table;
    } bad[] = {
        {"K = 0", "DATA_MAX_OBS", TSPU_DATA_GAUSS, 0, 7, 1},
        {"K = DATA_MAX_OBS + 1", "DATA_MAX_OBS", TSPU_DATA_GAUSS, k + 1, 7, 1},
        {"shift Sr = 63", "0..62", TSPU_DATA_GAUSS, k, 63, 1},
        {"logistic without a link table", "link table", TSPU_DATA_LOGISTIC, k, 7, 0},
        {"data mode 3", "mode 3", 3, k, 7, 1},
    };
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        tspu_model_config cb = c;
        cb.data_mode = (tspu_data_mode)bad[b].mode;
        cb.n_obs = bad[b].k;
        cb.data_sr = bad[b].sr;
        rc = tspu_load_data(d, &cb, x, y, l, bad[b].table ? table : NULL);
        ok = rc == TSPU_E_INVAL && strstr(tspu_last_error(d), bad[b].detail) && read_regs(d, r2) == 0 &&
             memcmp(r, r2, sizeof r) == 0;
        snprintf(name, sizeof name, "N=%u: refused (TSPU_E_INVAL, registers unchanged): %s", n, bad[b].what);
        tt_check(ok, name, "rc %d, '%s'", rc, tspu_last_error(d));
    }

    /* a later program configured without the data drift must not inherit
     * it: tspu_configure writes the DATA registers from its configuration */
    tspu_model_config plain = tspu_model_default_config();
    rc = tspu_load_data(d, &c, x, y, l, table);
    ok = rc == 0 && read_regs(d, r) == 0 && r[0] == TSPU_DATA_LOGISTIC; /* twin: still on before */
    snprintf(name, sizeof name, "N=%u twin: the data drift is on before the plain configure", n);
    tt_check(ok, name, "rc %d, mode %u", rc, r[0]);
    rc = tspu_configure(d, &plain, 0);
    ok = rc == 0 && read_regs(d, r) == 0 && !r[0] && !r[1];
    snprintf(name, sizeof name, "N=%u: tspu_configure with data_mode OFF switches the drift off", n);
    tt_check(ok, name, "rc %d: %s; mode %u K %u", rc, tspu_last_error(d), r[0], r[1]);
    rc = tspu_configure(d, &c, 0);
    ok = rc == 0 && read_regs(d, r) == 0 && r[0] == TSPU_DATA_LOGISTIC && r[1] == k && r[2] == 7 && r[3] == 62 &&
         r[4] == 13;
    snprintf(name, sizeof name, "N=%u: tspu_configure with the data fields writes them", n);
    tt_check(ok, name, "rc %d: %s; %u %u %u %u %u", rc, tspu_last_error(d), r[0], r[1], r[2], r[3], r[4]);

    /* device time: a data step costs the RTL's cost model, more than the
     * plain step, and grows with K (measured figures: docs/architecture.md,
     * N = 8, K = 128, Gaussian, Sr 10, Sg 9: 4942 cycles; the model within 3 %) */
    tspu_model_config g = c;
    g.data_mode = TSPU_DATA_GAUSS;
    g.integrator = TSPU_INT_LM;
    g.n_obs = 128;
    g.data_sr = 10;
    g.data_sg = 9;
    tspu_info gi = in;
    gi.n = 8;
    double cyc = tspu_step_cycles(&gi, &g);
    snprintf(name, sizeof name, "N=%u: tspu_step_cycles (N=8, K=128) within 3 %% of the measured 4942", n);
    tt_check(fabs(cyc - 4942) <= 0.03 * 4942, name, "%.0f", cyc);
    ok = tspu_step_cycles(&in, &plain) == in.cycles_per_step;
    snprintf(name, sizeof name, "N=%u: tspu_step_cycles without data = CYCLES_PER_STEP", n);
    tt_check(ok, name, "%.0f vs %u", tspu_step_cycles(&in, &plain), in.cycles_per_step);

    /* data mode off: registers only, no arrays */
    tspu_model_config off;
    memset(&off, 0, sizeof off);
    off.n_obs = 5; /* ignored when off */
    rc = tspu_load_data(d, &off, NULL, NULL, NULL, NULL);
    ok = rc == 0 && read_regs(d, r) == 0 && !r[0] && !r[1] && !r[2] && !r[3] && !r[4];
    snprintf(name, sizeof name, "N=%u: data mode off writes zero DATA registers", n);
    tt_check(ok, name, "rc %d: %s; %u %u %u %u %u", rc, tspu_last_error(d), r[0], r[1], r[2], r[3], r[4]);
    free(x);
    free(w);
    tspu_close(d);
}

int main(void)
{
    run(8);
    run(32);
    return tt_exit();
}
