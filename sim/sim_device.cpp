// sim_device.cpp - the "sim" device: the Verilated tspu_top in-process behind
// a tspu_transport.  Request bytes are pushed into the top's byte port and
// the clock runs in batches until the answer is out; no system call per clock.
// Time passes for the unit the way it does on a board between host requests:
// before each request the unit runs freely (up to a budget of clocks) while
// it is stepping and its FIFO has room for a sample, which is where a board
// would be when the host comes back.  With CONFIG.FIFO_STALL the samples do
// not depend on this at all.  One build per lane count: TSPU_SIM_N and the
// Verilator prefix VTOP (Vtspu_top_n16 ...) are set by the Makefile.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

#include "verilated.h"

#define STR2(x) #x
#define STR(x) STR2(x)
#define HDR(x) STR(x.h)
#include HDR(VTOP)

extern "C" {
#include "tspu.h"
#include "tspu_backend.h"
#include "tspu_link.h"
}

#ifndef TSPU_SIM_N
#error "build with -DTSPU_SIM_N=<N> matching -GN=<N>"
#endif

namespace {

// clocks a request may take before the device is taken for dead (a 256-word
// read is ~1e4 clocks; the RX timeout of a dropped byte is 4096)
const uint64_t ANSWER_CLOCKS = 1ull << 22;
// clocks the unit may run on its own between two requests
const uint64_t FREE_CLOCKS = 1ull << 22;

struct Sim {
    VerilatedContext ctx;
    VTOP *top;
    std::deque<uint8_t> in;
    std::vector<uint8_t> out;
    uint64_t cycles = 0;

    Sim() { top = new VTOP(&ctx); }
    ~Sim() { top->final(); delete top; }

    // one clock: inputs were set before; handshakes are taken at the edge
    inline void tick()
    {
        top->in_valid = !in.empty();
        top->in_data = in.empty() ? 0 : in.front();
        top->out_ready = 1;
        top->clk = 0;
        top->eval();
        const bool took = top->in_valid && top->in_ready;
        if (top->out_valid)
            out.push_back((uint8_t)top->out_data);
        top->clk = 1;
        top->eval();
        if (took)
            in.pop_front();
        cycles++;
    }
    void reset()
    {
        top->rst = 1;
        for (int i = 0; i < 4; i++)
            tick();
        top->rst = 0;
        tick();
    }
    void run_free()
    {
        for (uint64_t c = 0; c < FREE_CLOCKS && top->run_free && in.empty(); c += 64)
            for (int k = 0; k < 64; k++)
                tick();
    }
};

int sim_write(void *ctx, const uint8_t *buf, size_t n)
{
    Sim *s = static_cast<Sim *>(ctx);
    if (s->in.empty() && s->out.empty() && s->top->link_idle)
        s->run_free(); // the host was away: the unit ran meanwhile
    s->in.insert(s->in.end(), buf, buf + n);
    return 0;
}

int sim_read(void *ctx, uint8_t *buf, size_t max, int timeout_ms)
{
    Sim *s = static_cast<Sim *>(ctx);
    (void)timeout_ms; // simulated: the answer comes within ANSWER_CLOCKS or never
    for (uint64_t c = 0; s->out.empty() && c < ANSWER_CLOCKS; c += 32) {
        if (s->in.empty() && s->top->link_idle)
            break; // nothing is coming
        for (int k = 0; k < 32; k++)
            s->tick();
    }
    size_t k = s->out.size() < max ? s->out.size() : max;
    if (k) {
        memcpy(buf, s->out.data(), k);
        s->out.erase(s->out.begin(), s->out.begin() + (long)k);
    }
    return (int)k;
}

void sim_close(void *ctx)
{
    Sim *s = static_cast<Sim *>(ctx);
    if (getenv("TSPU_SIM_STATS")) // simulated clocks, for benchmarks
        fprintf(stderr, "tspu-sim: %llu clocks\n", (unsigned long long)s->cycles);
    delete s;
}

int sim_open(tspu_transport *tr, char *err, size_t errlen)
{
    Sim *s = new (std::nothrow) Sim;
    if (!s) {
        snprintf(err, errlen, "sim: out of memory");
        return TSPU_E_NOMEM;
    }
    s->reset();
    tr->write = sim_write;
    tr->read = sim_read;
    tr->close = sim_close;
    tr->ctx = s;
    return 0;
}

struct Reg {
    Reg() { tspu_register_sim(TSPU_SIM_N, sim_open); }
} reg;

} // namespace

// referenced with -Wl,-u,... so that a static link pulls this object in
extern "C" {
int TSPU_SIM_ANCHOR = TSPU_SIM_N;
}
