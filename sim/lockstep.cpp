// lockstep.cpp - runs the Verilated tspu_core and the bit-exact C model
// (host/model) side by side from the same configuration and seeds and
// compares every state word after every step, then moments, work, status,
// FIFO contents and seeds at the end.  Prints "PASS: name" / "FAIL: name --
// first mismatch (step, lane, word, both values)".  Cycles per step are
// measured between the core's step-done strobes.  No system call per clock;
// an FST trace is written only with +trace.
//
// usage: lockstep [--int em|lm|ud] [--steps S] [--seed K] [--ramp] [--sat]
//                 [--drain K] [--bench] [--expect-fail] [--name S] [+trace]
//                 [--dshift D] [--kshift A]   (drift shift D; UD ka_shift A,
//                                              ko_shift A + 2; default 16..18 / 18)
//                 [--data gauss|logistic] [--obs K] [--dsat]
//   --data: data-driven drift with K observations (a build with
//   -DRTL_DATA_MAX_OBS = the core's DATA_MAX_OBS > 0): prior = coupling set 0,
//   random design / targets / weights (--dsat: full-range data and small
//   shifts, so z, e, g, Fd and F clamp), Fd scaled from the data so the
//   drift stays stable; without --ramp lambda is 1 (or 0.7 for seeds that
//   are multiples of 3).  The data memories are read back at the end.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <cmath>
#include <string>
#include <vector>
#include <map>
#include "Vtspu_core.h"
#include "verilated.h"
#include "verilated_fst_c.h"
#include "tspu_model.h"

#ifndef TSPU_N
#error "build with -DTSPU_N=<N> matching -GN=<N>"
#endif
#ifndef FIFO_AW
#define FIFO_AW 9
#endif
#ifndef RTL_DATA_MAX_OBS
#define RTL_DATA_MAX_OBS 0 // the core's DATA_MAX_OBS (0: no data drift, no data ports used)
#endif

static const unsigned N = TSPU_N;
static Vtspu_core *top;
static VerilatedFstC *tfp;
static uint64_t cyc;

static void tick() {
    top->clk = 0; top->eval();
    if (tfp) tfp->dump(2 * cyc);
    top->clk = 1; top->eval();
    if (tfp) tfp->dump(2 * cyc + 1);
    cyc++;
}

static uint64_t rng_s;
static uint64_t rnd() { // splitmix64
    uint64_t z = (rng_s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int64_t rrange(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

struct Obs { int32_t x[TSPU_N_MAX], p[TSPU_N_MAX]; uint32_t lambda; uint64_t step; int have; };
static void observer(void *ctx, uint64_t step, const int32_t *x, const int32_t *p, uint32_t la) {
    Obs *o = (Obs *)ctx;
    memcpy(o->x, x, N * sizeof *x); memcpy(o->p, p, N * sizeof *p);
    o->lambda = la; o->step = step; o->have = 1;
}

static std::string name;
static bool expect_fail;
static int finish(bool ok, const char *detail) {
    if (expect_fail) {
        if (!ok) printf("PASS: %s (broken RTL caught: %s)\n", name.c_str(), detail);
        else printf("FAIL: %s -- broken RTL was not caught\n", name.c_str());
        return ok ? 1 : 0;
    }
    if (ok) printf("PASS: %s%s\n", name.c_str(), detail);
    else printf("FAIL: %s -- %s\n", name.c_str(), detail);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    std::string integ = "lm";
    uint64_t S = 100000, seed = 1;
    bool ramp = false, sat = false, bench = false, trace = false;
    unsigned drain = 997;
    int dshift = -1, kshift = -1;
    std::string data;
    unsigned K = 0;
    bool dsat = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto nxt = [&]() { return std::string(i + 1 < argc ? argv[++i] : ""); };
        if (a == "--int") integ = nxt();
        else if (a == "--steps") S = strtoull(nxt().c_str(), 0, 0);
        else if (a == "--seed") seed = strtoull(nxt().c_str(), 0, 0);
        else if (a == "--ramp") ramp = true;
        else if (a == "--sat") sat = true;
        else if (a == "--bench") bench = true;
        else if (a == "--drain") drain = (unsigned)strtoul(nxt().c_str(), 0, 0);
        else if (a == "--expect-fail") expect_fail = true;
        else if (a == "--name") name = nxt();
        else if (a == "--dshift") dshift = atoi(nxt().c_str());
        else if (a == "--kshift") kshift = atoi(nxt().c_str());
        else if (a == "+trace") trace = true;
        else if (a == "--data") data = nxt();
        else if (a == "--obs") K = (unsigned)strtoul(nxt().c_str(), 0, 0);
        else if (a == "--dsat") dsat = true;
    }
    if (name.empty())
        name = "lockstep N=" + std::to_string(N) + " " + integ + (ramp ? " ramp" : "") + (sat ? " sat" : "") +
               (dshift >= 0 ? " D=" + std::to_string(dshift) : "") +
               (kshift >= 0 ? " Sa=" + std::to_string(kshift) : "") +
               (data.empty() ? "" : " data " + data + " K=" + std::to_string(K) + (dsat ? " dsat" : "")) +
               " " + std::to_string(S) + " steps";
    if (!data.empty() && (RTL_DATA_MAX_OBS == 0 || K < 1 || K > RTL_DATA_MAX_OBS))
        return finish(false, "--data needs a build with DATA_MAX_OBS >= K >= 1");
    rng_s = seed * 7919 + N;

    // ---- configuration ----
    tspu_model_config c = tspu_model_default_config();
    c.integrator = integ == "em" ? TSPU_INT_EM : integ == "ud" ? TSPU_INT_UD : TSPU_INT_LM;
    c.drift_shift = 16 + (unsigned)rrange(0, 2);
    c.noise_shift = sat ? 20 : 10;
    c.ka = 16384; c.ka_shift = 18; c.ko = 16384; c.ko_shift = 20;
    if (dshift >= 0) c.drift_shift = (unsigned)dshift;
    if (kshift >= 0) { c.ka_shift = (unsigned)kshift; c.ko_shift = (unsigned)(kshift + 2 > 62 ? 62 : kshift + 2); }
    c.thin = 7;
    c.sample_momentum = c.integrator == TSPU_INT_UD;
    if (bench) {
        c.burnin = (uint32_t)S; c.n_samples = 0;
    } else if (ramp) {
        uint32_t b = (uint32_t)(S * 3 / 10), r = (uint32_t)(S / 5), h = (uint32_t)(S / 10);
        c.burnin = b;
        c.n_segments = 4;
        c.seg[0].steps = r; c.seg[0].dlambda = (int32_t)(0x80000000u / r + 5); // overshoots: clamps
        c.seg[1].steps = 0; c.seg[1].dlambda = 12345;                         // skipped
        c.seg[2].steps = h; c.seg[2].dlambda = 0;                              // lambda = 1
        c.seg[3].steps = h; c.seg[3].dlambda = -(int32_t)(0x40000000u / h);   // down to ~1/2
        uint64_t rest = S - b - r - 2 * h;
        c.n_samples = (uint32_t)(rest / c.thin);
        c.lambda_init = 0x1000;
    } else {
        c.burnin = (uint32_t)(S * 3 / 10);
        c.n_samples = (uint32_t)((S - c.burnin) / c.thin);
        c.lambda_init = (seed & 1) ? 0 : 0x80000000u; // set 0 only / set 1 only
    }
    std::vector<int16_t> a0(N * N), a1(N * N);
    std::vector<int32_t> b0(N), b1(N), x0(N), p0(N);
    for (unsigned i = 0; i < N; i++)
        for (unsigned j = 0; j < N; j++) {
            a0[i * N + j] = (int16_t)(i == j ? rrange(3072, 4096) : rrange(-128, 128));
            a1[i * N + j] = (int16_t)(i == j ? rrange(2048, 3072) : rrange(-200, 200));
        }
    if (sat) { a0[0] = 32767; a0[1] = -32768; a1[N + 1] = -32768; }
    for (unsigned i = 0; i < N; i++) {
        b0[i] = (int32_t)rrange(-(1 << 22), 1 << 22);
        b1[i] = (int32_t)rrange(-(1 << 22), 1 << 22);
        x0[i] = (int32_t)rrange(-(1 << 24), 1 << 24);
        p0[i] = (int32_t)rrange(-(1 << 20), 1 << 20);
    }
    if (sat) x0[0] = 0x7FFFC000; // operand of the initial state clamps

    // ---- data-driven drift ----
    std::vector<int16_t> dX, dy, dl, dT(TSPU_LINK_TABLE_SIZE);
    if (!data.empty()) {
        c.data_mode = data == "logistic" ? TSPU_DATA_LOGISTIC : TSPU_DATA_GAUSS;
        c.n_obs = K;
        if (bench) c.lambda_init = 0x80000000u; // the passes every step
        else if (!ramp) c.lambda_init = (seed % 3 == 0) ? 0x5A000000u : 0x80000000u;
        dX.resize(K * N); dy.resize(K); dl.resize(K);
        double tr = 0; // trace of X^T L X: bounds the data curvature
        for (unsigned d = 0; d < K; d++) {
            for (unsigned j = 0; j < N; j++) {
                dX[d * N + j] = (int16_t)(dsat ? rrange(-32768, 32767) : rrange(-2048, 2048));
                tr += (double)dX[d * N + j] * dX[d * N + j] * 1024.0;
            }
            if (c.data_mode == TSPU_DATA_LOGISTIC) dy[d] = (int16_t)((rnd() & 1) ? 16384 : 0);
            else dy[d] = (int16_t)(dsat ? rrange(-32768, 32767) : rrange(-8192, 8192));
            dl[d] = (int16_t)(dsat ? rrange(-32768, 32767) : rrange(0, 1024));
        }
        for (unsigned k = 0; k < TSPU_LINK_TABLE_SIZE; k++) // sigma(z / 2048) in Q1.14
            dT[k] = (int16_t)(16384.0 / (1.0 + exp(-((128.0 * k - 32768.0) / 2048.0))) + 0.5);
        if (dsat) {
            c.data_sr = (unsigned)rrange(0, 4); c.data_sg = (unsigned)rrange(0, 4); c.data_dd = (unsigned)rrange(4, 14);
        } else {
            // |z| ~ sqrt(N) 2^11 |op| / 2^Sr with |op| ~ 2^10; l e < 2^24; then
            // Fd / x <= tr 2^-(Sr + Sg + Dd) <= 1/16 beside the prior's 1/16..1/64
            c.data_sr = 10; c.data_sg = c.data_mode == TSPU_DATA_LOGISTIC ? 10 : 9;
            int dd = (int)ceil(log2(tr > 1 ? tr : 1)) + 4 - (int)c.data_sr - (int)c.data_sg;
            c.data_dd = (unsigned)(dd < 0 ? 0 : dd > 62 ? 62 : dd);
        }
    }

    tspu_model *m = tspu_model_create(N, (size_t)1 << FIFO_AW);
    if (!m || tspu_model_configure(m, &c) != TSPU_MODEL_OK) return finish(false, "model rejects the configuration");
    tspu_model_load_couplings(m, 0, a0.data(), b0.data());
    tspu_model_load_couplings(m, 1, a1.data(), b1.data());
    if (!data.empty()) {
        tspu_model_load_data(m, 0, K, dX.data(), dy.data(), dl.data());
        tspu_model_load_link_table(m, dT.data());
    }
    tspu_model_seed(m, seed * 1000003ull);
    tspu_model_set_state(m, x0.data(), p0.data());
    Obs obs; obs.have = 0;
    tspu_model_set_observer(m, observer, &obs);

    // ---- RTL setup ----
    top = new Vtspu_core;
    if (trace) {
        Verilated::traceEverOn(true);
        tfp = new VerilatedFstC;
        top->trace(tfp, 99);
        tfp->open("lockstep.fst");
    }
    top->rst = 1; tick(); tick(); top->rst = 0;
    top->cfg_integrator = c.integrator; top->cfg_drift_shift = c.drift_shift;
    top->cfg_noise_shift = c.noise_shift; top->cfg_ka = (uint16_t)c.ka; top->cfg_ka_shift = c.ka_shift;
    top->cfg_ko = (uint16_t)c.ko; top->cfg_ko_shift = c.ko_shift; top->cfg_burnin = c.burnin;
    top->cfg_thin = c.thin; top->cfg_n_samples = c.n_samples; top->cfg_n_segments = c.n_segments;
    top->cfg_lambda_init = c.lambda_init; top->cfg_sample_momentum = c.sample_momentum;
#if RTL_DATA_MAX_OBS > 0
    top->cfg_data_mode = c.data_mode; top->cfg_n_obs = c.n_obs; top->cfg_data_sr = c.data_sr;
    top->cfg_data_sg = c.data_sg; top->cfg_data_dd = c.data_dd;
    if (!data.empty()) {
        auto dwr = [&](unsigned sel, unsigned a, int16_t v) {
            top->dat_we = 1; top->dat_sel = sel; top->dat_addr = a; top->dat_wdata = (uint16_t)v; tick(); top->dat_we = 0;
        };
        for (unsigned w = 0; w < K * N; w++) dwr(0, w, dX[w]);
        for (unsigned d = 0; d < K; d++) { dwr(1, d, dy[d]); dwr(2, d, dl[d]); }
        for (unsigned k = 0; k < TSPU_LINK_TABLE_SIZE; k++) dwr(3, k, dT[k]);
    }
#endif
    for (unsigned k = 0; k < TSPU_MAX_SEGMENTS; k++) {
        top->seg_we = 1; top->seg_addr = k; top->seg_steps = c.seg[k].steps;
        top->seg_dlambda = (uint32_t)c.seg[k].dlambda; tick();
    }
    top->seg_we = 0;
    for (unsigned s = 0; s < 2; s++)
        for (unsigned i = 0; i < N; i++) {
            for (unsigned j = 0; j < N; j++) {
                top->cpl_we = 1; top->cpl_set = s; top->cpl_row = i; top->cpl_col = j;
                top->cpl_data = (uint16_t)(s ? a1 : a0)[i * N + j]; tick();
            }
            top->cpl_we = 0;
            top->bias_we = 1; top->bias_set = s; top->bias_lane = i;
            top->bias_data = (uint32_t)(s ? b1 : b0)[i]; tick(); top->bias_we = 0;
        }
    for (unsigned i = 0; i < N; i++) {
        uint32_t z[4];
        tspu_model_get_lane_seed(m, i, z);
        for (unsigned k = 0; k < 4; k++) {
            top->seed_we = 1; top->seed_lane = i; top->seed_word = k; top->seed_data = z[k]; tick();
        }
        top->seed_we = 0;
        top->st_we = 1; top->st_sel = 0; top->st_lane = i; top->st_data = (uint32_t)x0[i]; tick();
        top->st_sel = 1; top->st_data = (uint32_t)p0[i]; tick(); top->st_we = 0;
    }

    tspu_model_start(m);
    top->cmd_start = 1; tick(); top->cmd_start = 0;

    // ---- lockstep ----
    char msg[512];
    std::vector<int32_t> rx(N), rp(N);
    std::vector<int> wrote(N);
    std::map<uint64_t, uint64_t> hist;
    uint64_t last_done_cyc = cyc, k = 0;
    bool is_ud = c.integrator == TSPU_INT_UD;
    while (!tspu_model_done(m)) {
        bool hold = drain && k > 0 && k % drain == 0;
        // hold is raised once this step has begun (its first write-back), so
        // the engine stops at the boundary after it, not before it
        obs.have = 0;
        tspu_model_run(m, 1);
        if (!obs.have) return finish(false, "model observer not called");
        std::fill(wrote.begin(), wrote.end(), 0);
        uint64_t t0 = cyc;
        bool done = false;
        while (!done) {
            top->clk = 0; top->eval();
            if (top->obs_valid) {
                unsigned l = top->obs_lane;
                if (l >= N) return finish(false, "write-back to a lane >= N");
                rx[l] = (int32_t)top->obs_x; rp[l] = (int32_t)top->obs_p; wrote[l]++;
                top->hold = hold;
            }
            done = top->obs_step_done;
            tick();
            if (cyc - t0 > 10000000) {
                snprintf(msg, sizeof msg, "step %llu: RTL did not finish the step", (unsigned long long)k);
                return finish(false, msg);
            }
        }
        hist[cyc - last_done_cyc]++;
        last_done_cyc = cyc;
        for (unsigned l = 0; l < N; l++) {
            if (wrote[l] != 1) {
                snprintf(msg, sizeof msg, "step %llu lane %u: written %d times", (unsigned long long)k, l, wrote[l]);
                return finish(false, msg);
            }
            if (rx[l] != obs.x[l] || (is_ud && rp[l] != obs.p[l])) {
                bool isx = rx[l] != obs.x[l];
                snprintf(msg, sizeof msg, "first mismatch: step %llu lane %u word %s: rtl %d (0x%08x) model %d (0x%08x)",
                         (unsigned long long)k, l, isx ? "x" : "p", isx ? rx[l] : rp[l],
                         (uint32_t)(isx ? rx[l] : rp[l]), isx ? obs.x[l] : obs.p[l],
                         (uint32_t)(isx ? obs.x[l] : obs.p[l]));
                return finish(false, msg);
            }
        }
        if (top->lambda_acc != obs.lambda) {
            snprintf(msg, sizeof msg, "first mismatch: step %llu word lambda_acc: rtl 0x%08x model 0x%08x",
                     (unsigned long long)k, top->lambda_acc, obs.lambda);
            return finish(false, msg);
        }
        if (hold) { // drain both FIFOs at the same step boundary and compare
            uint64_t t1 = cyc;
            while (!top->held && top->busy) { tick(); if (cyc - t1 > 10000000) return finish(false, "RTL did not reach the hold point"); }
            size_t lvl = tspu_model_fifo_level(m);
            if (top->fifo_level != lvl) {
                snprintf(msg, sizeof msg, "step %llu word fifo_level: rtl %u model %zu", (unsigned long long)k, top->fifo_level, lvl);
                return finish(false, msg);
            }
            std::vector<int16_t> w(lvl);
            tspu_model_fifo_read(m, w.data(), lvl);
            for (size_t q = 0; q < lvl; q++) {
                top->fifo_re = 1; tick(); top->fifo_re = 0; top->eval();
                if ((int16_t)top->fifo_rdata != w[q]) {
                    snprintf(msg, sizeof msg, "step %llu fifo word %zu: rtl %d model %d", (unsigned long long)k, q, (int16_t)top->fifo_rdata, w[q]);
                    return finish(false, msg);
                }
            }
            top->hold = 0;
            last_done_cyc = cyc; // drained cycles are not step cycles
        }
        k++;
    }
    top->hold = 0;
    { uint64_t t1 = cyc; while (top->busy) { tick(); if (cyc - t1 > 1000000) return finish(false, "RTL not done"); } }

    // ---- end of program: status, work, moments, FIFO, seeds, state ----
    tspu_status st; tspu_model_read_status(m, &st);
    struct { const char *w; uint64_t r, m; } sc[] = {
        {"flags", top->flags, st.flags}, {"sat_count", top->sat_count, st.sat_count},
        {"fifo_dropped", top->fifo_dropped, st.fifo_dropped}, {"steps", top->steps, st.steps},
        {"samples", top->samples, st.samples}, {"lambda_acc", top->lambda_acc, st.lambda_acc},
        {"work", top->work, (uint64_t)tspu_model_read_work(m)},
    };
    for (auto &e : sc)
        if (e.r != e.m) {
            snprintf(msg, sizeof msg, "end: word %s: rtl %lld (0x%llx) model %lld (0x%llx)", e.w, (long long)e.r,
                     (unsigned long long)e.r, (long long)e.m, (unsigned long long)e.m);
            return finish(false, msg);
        }
    tspu_moments mom; tspu_model_read_moments(m, &mom);
    if (top->mom_count != mom.count) {
        snprintf(msg, sizeof msg, "end: moment count rtl %u model %u", top->mom_count, mom.count);
        return finish(false, msg);
    }
    unsigned T = N * (N + 1) / 2;
    for (unsigned a = 0; a < T + N; a++) {
        top->mom_re = 1; top->mom_addr = a; tick(); top->mom_re = 0; top->eval();
        int64_t want = a < T ? mom.sumsq[a] : mom.sum[a - T];
        if ((int64_t)top->mom_rdata != want) {
            snprintf(msg, sizeof msg, "end: moment word %u (%s): rtl %lld model %lld", a, a < T ? "sumsq" : "sum",
                     (long long)top->mom_rdata, (long long)want);
            return finish(false, msg);
        }
    }
    size_t lvl = tspu_model_fifo_level(m);
    if (top->fifo_level != lvl) {
        snprintf(msg, sizeof msg, "end: fifo_level rtl %u model %zu", top->fifo_level, lvl);
        return finish(false, msg);
    }
    std::vector<int16_t> w(lvl);
    tspu_model_fifo_read(m, w.data(), lvl);
    for (size_t q = 0; q < lvl; q++) {
        top->fifo_re = 1; tick(); top->fifo_re = 0; top->eval();
        if ((int16_t)top->fifo_rdata != w[q]) {
            snprintf(msg, sizeof msg, "end: fifo word %zu: rtl %d model %d", q, (int16_t)top->fifo_rdata, w[q]);
            return finish(false, msg);
        }
    }
    std::vector<int32_t> mx(N), mp(N);
    tspu_model_get_state(m, mx.data(), mp.data());
    for (unsigned i = 0; i < N; i++) {
        uint32_t z[4];
        tspu_model_get_lane_seed(m, i, z);
        top->seed_re = 1; top->seed_lane = i; tick(); top->seed_re = 0; top->eval();
        for (unsigned q = 0; q < 4; q++)
            if (top->seed_rdata[q] != z[q]) {
                snprintf(msg, sizeof msg, "end: lane %u seed word %u: rtl 0x%08x model 0x%08x", i, q, top->seed_rdata[q], z[q]);
                return finish(false, msg);
            }
        for (unsigned s = 0; s < 2; s++) {
            top->st_re = 1; top->st_sel = s; top->st_lane = i; tick(); top->st_re = 0; top->eval();
            int32_t want = s ? mp[i] : mx[i];
            if ((int32_t)top->st_rdata != want) {
                snprintf(msg, sizeof msg, "end: lane %u state %s read back: rtl %d model %d", i, s ? "p" : "x", (int32_t)top->st_rdata, want);
                return finish(false, msg);
            }
        }
    }
#if RTL_DATA_MAX_OBS > 0
    // the data memories read back through the host port
    if (!data.empty()) {
        std::vector<int16_t> mX(K * N), my(K), ml(K), mT(TSPU_LINK_TABLE_SIZE);
        tspu_model_read_data(m, 0, K, mX.data(), my.data(), ml.data());
        tspu_model_read_link_table(m, mT.data());
        auto drd = [&](unsigned sel, unsigned a) {
            top->dat_re = 1; top->dat_sel = sel; top->dat_addr = a; tick(); top->dat_re = 0; top->eval();
            return (int16_t)top->dat_rdata;
        };
        for (unsigned sel = 0; sel < 4; sel++) {
            const unsigned cnt = sel == 0 ? K * N : sel == 3 ? TSPU_LINK_TABLE_SIZE : K;
            const int16_t *want = sel == 0 ? mX.data() : sel == 1 ? my.data() : sel == 2 ? ml.data() : mT.data();
            for (unsigned a = 0; a < cnt; a++) {
                int16_t v = drd(sel, a);
                if (v != want[a]) {
                    snprintf(msg, sizeof msg, "end: data memory %u word %u: rtl %d model %d", sel, a, v, want[a]);
                    return finish(false, msg);
                }
            }
        }
    }
#endif
    // cycles per step: the most common interval is the steady-state figure
    uint64_t mode = 0, modecnt = 0, mn = UINT64_MAX, mx_c = 0, tot = 0, cnt = 0;
    for (auto &h : hist) {
        if (h.second > modecnt) { modecnt = h.second; mode = h.first; }
        if (h.first < mn) mn = h.first;
        if (h.first > mx_c) mx_c = h.first;
        tot += h.first * h.second; cnt += h.second;
    }
    if (tfp) tfp->close();
    snprintf(msg, sizeof msg, " (cycles/step: steady %llu, min %llu, max %llu, mean %.1f; sat %u, dropped %u, samples %u%s)",
             (unsigned long long)mode, (unsigned long long)mn, (unsigned long long)mx_c, cnt ? (double)tot / cnt : 0.0,
             st.sat_count, st.fifo_dropped, st.samples,
             (ramp ? ("; work " + std::to_string((long long)tspu_model_read_work(m))).c_str() : ""));
    if (bench) printf("BENCH n=%u cycles_per_step=%llu\n", N, (unsigned long long)mode);
    int rc = finish(true, msg);
    delete top;
    tspu_model_destroy(m);
    return rc;
}
