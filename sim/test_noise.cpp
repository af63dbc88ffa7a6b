// test_noise.cpp - per-module test of rtl/tspu_noise_lanes.v against the C
// model's tspu_noise_next: seeds N lanes through the seed port, advances
// lanes in a scrambled order and compares every sample and every state word.
#include <cstdio>
#include <cstdint>
#include <cstring>
#include "Vtspu_noise_lanes.h"
#include "verilated.h"
extern "C" {
#include "tspu_noise.h"
}

static Vtspu_noise_lanes *t;
static void tick() { t->clk = 0; t->eval(); t->clk = 1; t->eval(); }

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    t = new Vtspu_noise_lanes;
    const unsigned n = 8;
    uint32_t z[8 * 4];
    tspu_noise_seed_lanes(0x1234567ull, n, z);
    t->adv_we = 0; t->rd_en = 0; t->seed_we = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < 4; k++) {
            t->seed_we = 1; t->seed_lane = i; t->seed_word = k; t->seed_data = z[4 * i + k];
            tick();
        }
    t->seed_we = 0;
    long bad = 0, checks = 0;
    uint32_t x = 12345;
    for (int it = 0; it < 200000; it++) {
        x = x * 1103515245u + 12345u;
        unsigned lane = (x >> 16) % n;
        t->rd_en = 1; t->rd_lane = lane; tick(); t->rd_en = 0;
        t->eval();
        int32_t want = tspu_noise_next(&z[4 * lane]);
        int32_t got = (int16_t)(t->xi << 4) >> 4;
        t->adv_we = 1; t->adv_lane = lane; tick(); t->adv_we = 0;
        checks++;
        if (got != want) {
            if (bad++ < 5) printf("  # mismatch it %d lane %u: rtl %d model %d\n", it, lane, got, want);
        }
    }
    // read back all states
    for (unsigned i = 0; i < n; i++) {
        t->rd_en = 1; t->rd_lane = i; tick(); t->rd_en = 0; t->eval();
        for (unsigned k = 0; k < 4; k++)
            if (t->z_q[k] != z[4 * i + k]) {
                if (bad++ < 10) printf("  # state mismatch lane %u word %u\n", i, k);
            }
    }
    if (bad == 0) printf("PASS: rtl noise lanes match tspu_noise_next (%ld samples, N=%u)\n", checks, n);
    else printf("FAIL: rtl noise lanes -- %ld mismatches\n", bad);
    delete t;
    return bad ? 1 : 0;
}
