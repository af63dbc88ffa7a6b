// test_data_pass.cpp - unit test of rtl/tspu_data_pass.v (the data-driven
// drift's two passes) against tspu_model_data_passes (host/model): for
// random problems (Gaussian and logistic, K from 1 to KMAX, every shift
// range, tame and saturation-heavy data) the RTL's z, s, e, g of every
// observation, S, Fd of every lane and the number of clamps must equal the
// model's.  The multiplier the engine borrows in tspu_core is emulated here
// (registered 16x16 product).  Also: the host port writes / reads the four
// windows (out-of-range words read 0, writes to them are ignored).
// usage: test_data_pass [--cases C] [--seed S] [--expect-fail]
//   (--expect-fail: the RTL was built broken; PASS when a mismatch is found)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <string>
#include <vector>
#include "Vtspu_data_pass.h"
#include "verilated.h"
#include "tspu_model.h"

#ifndef TSPU_N
#error "build with -DTSPU_N=<N> -DKMAX=<K> matching -GN, -GKMAX"
#endif
static const unsigned N = TSPU_N;
static Vtspu_data_pass *t;
static uint64_t cyc;
static unsigned sat_pulses;

static void tick() {
    t->clk = 0; t->eval();
    const bool en = t->mul_en;
    const int16_t a = (int16_t)t->mul_a, b = (int16_t)t->mul_b;
    if (t->sat) sat_pulses++;
    t->clk = 1; t->eval();
    if (en) t->prod = (uint32_t)((int32_t)a * (int32_t)b);
    t->eval();
    cyc++;
}

static uint64_t rng_s;
static uint64_t rnd() { // splitmix64
    uint64_t z = (rng_s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int64_t rr(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }
// an int16 of a random magnitude class (small, medium, full, extreme)
static int16_t r16(int cls) {
    switch (cls) {
    case 0: return (int16_t)rr(-64, 64);
    case 1: return (int16_t)rr(-2048, 2048);
    case 2: return (int16_t)rr(-32768, 32767);
    default: return (int16_t)((rnd() & 1) ? 32767 - rr(0, 3) : -32768 + rr(0, 3));
    }
}

static void host_write(unsigned sel, unsigned addr, int16_t v) {
    t->h_we = 1; t->h_sel = sel; t->h_addr = addr; t->h_wdata = (uint16_t)v; tick(); t->h_we = 0;
}
static int16_t host_read(unsigned sel, unsigned addr) {
    t->h_re = 1; t->h_sel = sel; t->h_addr = addr; tick(); t->h_re = 0; t->eval();
    return (int16_t)t->h_rdata;
}

static bool expect_fail;
static int fails;
static void report(bool ok, const std::string &name, const std::string &detail) {
    if (expect_fail) return;
    if (ok) printf("PASS: %s%s\n", name.c_str(), detail.c_str());
    else { printf("FAIL: %s -- %s\n", name.c_str(), detail.c_str()); fails++; }
}

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    unsigned cases = 200;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--cases" && i + 1 < argc) cases = (unsigned)strtoul(argv[++i], 0, 0);
        else if (a == "--seed" && i + 1 < argc) seed = strtoull(argv[++i], 0, 0);
        else if (a == "--expect-fail") expect_fail = true;
    }
    rng_s = seed * 1000003ull + N;
    const unsigned KM = KMAX;
    const std::string tag = "data_pass N=" + std::to_string(N) + " KMAX=" + std::to_string(KM);
    t = new Vtspu_data_pass;
    t->rst = 1; tick(); tick(); t->rst = 0; tick();

    // ---- host port: window bounds and read-back ----
    {
        bool ok = true;
        char msg[256] = "";
        const unsigned lim[4] = {KM * N, KM, KM, 513};
        for (unsigned sel = 0; sel < 4 && ok; sel++) {
            const unsigned a[3] = {0, lim[sel] - 1, (unsigned)rr(0, lim[sel] - 1)};
            for (unsigned k = 0; k < 3; k++) host_write(sel, a[k], (int16_t)(0x1234 + 17 * sel + k));
            if (lim[sel] < 16384) host_write(sel, lim[sel], 0x7777); // ignored
            for (unsigned k = 0; k < 3 && ok; k++) {
                int16_t v = host_read(sel, a[k]);
                int16_t want = (int16_t)(0x1234 + 17 * sel + k);
                if (k == 2 && (a[2] == a[0] || a[2] == a[1])) continue;
                if (v != want) { ok = false; snprintf(msg, sizeof msg, "sel %u word %u reads %d, wrote %d", sel, a[k], v, want); }
            }
            if (ok && lim[sel] < 16384 && host_read(sel, lim[sel]) != 0) {
                ok = false; snprintf(msg, sizeof msg, "sel %u word %u (out of range) does not read 0", sel, lim[sel]);
            }
        }
        report(ok, tag + " host windows (bounds, read-back)", ok ? "" : msg);
    }

    // ---- random problems ----
    tspu_model *m = tspu_model_create(N, 0);
    std::vector<int16_t> X(KM * N), y(KM), l(KM), T(TSPU_LINK_TABLE_SIZE), op(N);
    std::vector<int32_t> z(KM), s(KM), e(KM), g(KM), fd(N);
    unsigned n_ok = 0, n_sat_cases = 0, n_log = 0;
    uint64_t sat_total = 0, steps_cyc = 0;
    std::string first_fail;
    for (unsigned cs = 0; cs < cases && first_fail.empty(); cs++) {
        const bool heavy = cs % 3 == 2;      // saturation-heavy
        tspu_model_config c = tspu_model_default_config();
        c.data_mode = (cs & 1) ? TSPU_DATA_LOGISTIC : TSPU_DATA_GAUSS;
        const unsigned kc = (unsigned)rr(0, 9);
        c.n_obs = kc < 5 ? (unsigned)rr(1, 8) : kc < 8 ? (unsigned)rr(1, KM < 64 ? KM : 64)
                                                      : (unsigned)rr(1, KM);
        if (cs % 17 == 5) c.n_obs = KM;
        if (heavy) {
            c.data_sr = (unsigned)rr(0, 6); c.data_sg = (unsigned)rr(0, 6); c.data_dd = (unsigned)rr(0, 12);
        } else {
            c.data_sr = (unsigned)rr(10, 22); c.data_sg = (unsigned)rr(8, 20); c.data_dd = (unsigned)rr(14, 40);
        }
        if (cs % 11 == 3) { c.data_sr = (unsigned)rr(0, 62); c.data_sg = (unsigned)rr(0, 62); c.data_dd = (unsigned)rr(0, 62); }
        if (cs % 13 == 4) { c.data_sr = 62; c.data_sg = 62; c.data_dd = 62; }
        if (cs % 13 == 6) { c.data_sr = 0; c.data_sg = 0; c.data_dd = 0; }
        if (tspu_model_configure(m, &c) != TSPU_MODEL_OK) { first_fail = "model rejects a configuration"; break; }
        const int cx = heavy ? 3 : (int)rr(0, 2), cy = heavy ? 3 : (int)rr(0, 2), cl = heavy ? 2 : (int)rr(0, 2);
        for (unsigned d = 0; d < c.n_obs; d++) {
            for (unsigned j = 0; j < N; j++) X[d * N + j] = r16(rnd() % 4 == 0 ? 2 : cx);
            y[d] = c.data_mode == TSPU_DATA_LOGISTIC && !heavy ? (int16_t)((rnd() & 1) ? 16384 : 0) : r16(cy);
            l[d] = heavy ? r16(3) : (int16_t)rr(cl == 0 ? -4 : 0, cl == 2 ? 32767 : 4096);
        }
        for (unsigned k = 0; k < TSPU_LINK_TABLE_SIZE; k++)
            T[k] = (cs % 4 == 1) ? (int16_t)rr(-32768, 32767) // arbitrary table, extreme differences
                                 : (int16_t)(16384.0 / (1.0 + __builtin_exp(-((128.0 * k - 32768.0) / 2048.0))));
        for (unsigned j = 0; j < N; j++) op[j] = r16(heavy ? 3 : (int)rr(0, 2));
        tspu_model_load_data(m, 0, c.n_obs, X.data(), y.data(), l.data());
        tspu_model_load_link_table(m, T.data());
        int64_t S = 0;
        uint32_t msat = 0;
        tspu_model_data_passes(m, op.data(), z.data(), s.data(), e.data(), g.data(), fd.data(), &S, &msat);

        // RTL: load, pass 1, pass 2 for every lane
        for (unsigned w = 0; w < c.n_obs * N; w++) host_write(0, w, X[w]);
        for (unsigned d = 0; d < c.n_obs; d++) { host_write(1, d, y[d]); host_write(2, d, l[d]); }
        if (c.data_mode == TSPU_DATA_LOGISTIC)
            for (unsigned k = 0; k < TSPU_LINK_TABLE_SIZE; k++) host_write(3, k, T[k]);
        t->cfg_mode = c.data_mode; t->cfg_n_obs = c.n_obs;
        t->cfg_sr = c.data_sr; t->cfg_sg = c.data_sg; t->cfg_dd = c.data_dd;
        // ops is a 32-bit word (N = 2) or a VlWide of them: word j / 2
        uint32_t *opw = reinterpret_cast<uint32_t *>(&t->ops);
        for (unsigned j = 0; j < N; j++) {
            const uint32_t w = (uint16_t)op[j];
            opw[j / 2] = (opw[j / 2] & (j & 1 ? 0x0000FFFFu : 0xFFFF0000u)) | (j & 1 ? w << 16 : w);
        }
        sat_pulses = 0;
        const uint64_t c0 = cyc;
        char msg[400];
        t->start1 = 1; tick(); t->start1 = 0;
        unsigned dobs = 0;
        while (true) {
            t->clk = 0; t->eval();
            if (t->obs_valid) {
                if (dobs >= c.n_obs) { first_fail = "more observations than K"; break; }
                const int32_t rz = (int16_t)t->obs_z, rs = (int16_t)t->obs_s, re = (int16_t)t->obs_e, rg = (int16_t)t->obs_g;
                if (rz != z[dobs] || rs != s[dobs] || re != e[dobs] || rg != g[dobs]) {
                    snprintf(msg, sizeof msg, "case %u (mode %d K %u Sr %u Sg %u Dd %u) obs %u: rtl z s e g = %d %d %d %d, model %d %d %d %d",
                             cs, c.data_mode, c.n_obs, c.data_sr, c.data_sg, c.data_dd, dobs, rz, rs, re, rg,
                             z[dobs], s[dobs], e[dobs], g[dobs]);
                    first_fail = msg; break;
                }
                dobs++;
            }
            if (t->done) break;
            tick();
            if (cyc - c0 > 10000000) { first_fail = "pass 1 does not finish"; break; }
        }
        if (!first_fail.empty()) break;
        tick();
        if (dobs != c.n_obs) { snprintf(msg, sizeof msg, "case %u: %u observations seen, K = %u", cs, dobs, c.n_obs); first_fail = msg; break; }
        int64_t rS = (int64_t)(t->s_sum << 20) >> 20; // 44-bit signed
        if (rS != S) {
            snprintf(msg, sizeof msg, "case %u (mode %d K %u): S rtl %lld model %lld", cs, c.data_mode, c.n_obs, (long long)rS, (long long)S);
            first_fail = msg; break;
        }
        const uint64_t c1 = cyc;
        for (unsigned i = 0; i < N && first_fail.empty(); i++) {
            t->lane = i; t->start2 = 1; tick(); t->start2 = 0;
            uint64_t w0 = cyc;
            while (true) { t->clk = 0; t->eval(); if (t->done) break; tick(); if (cyc - w0 > 10000000) break; }
            tick();
            if ((int32_t)t->fd != fd[i]) {
                snprintf(msg, sizeof msg, "case %u (mode %d K %u Dd %u) lane %u: Fd rtl %d model %d", cs, c.data_mode, c.n_obs,
                         c.data_dd, i, (int32_t)t->fd, fd[i]);
                first_fail = msg;
            }
        }
        if (!first_fail.empty()) break;
        if (sat_pulses != msat) {
            snprintf(msg, sizeof msg, "case %u (mode %d K %u Sr %u Sg %u Dd %u): clamps rtl %u model %u", cs, c.data_mode,
                     c.n_obs, c.data_sr, c.data_sg, c.data_dd, sat_pulses, msat);
            first_fail = msg; break;
        }
        (void)c1;
        steps_cyc += cyc - c0;
        sat_total += msat;
        n_sat_cases += msat > 0;
        n_log += c.data_mode == TSPU_DATA_LOGISTIC;
        n_ok++;
    }
    tspu_model_destroy(m);
    if (expect_fail) {
        if (!first_fail.empty()) printf("PASS: %s broken twin (z truncated) caught: %s\n", tag.c_str(), first_fail.c_str());
        else printf("FAIL: %s broken twin (z truncated) not caught in %u cases\n", tag.c_str(), n_ok);
        delete t;
        return 0;
    }
    char det[200];
    snprintf(det, sizeof det, " (%u cases, %u logistic, %u with clamps, %llu clamps)", n_ok, n_log, n_sat_cases,
             (unsigned long long)sat_total);
    report(first_fail.empty(), tag + " z, s, e, g, S, Fd and clamps = tspu_model_data_passes", first_fail.empty() ? det : first_fail);
    // the test must have exercised the clamps and both modes
    report(n_sat_cases * 10 >= n_ok && n_log * 3 >= n_ok, tag + " coverage: clamps and both modes",
           first_fail.empty() ? "" : " (run stopped early)");
    delete t;
    return 0;
}
