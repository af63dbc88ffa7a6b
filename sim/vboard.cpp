// vboard.cpp - the Verilated board (tspu_vboard_top: UART + tspu_top) on a
// pseudo-terminal.  It opens a pty, prints "tspu-vboard: ready on /dev/pts/N"
// on stdout and then converts the bytes of the pty to and from UART bit
// timing on the board's rx/tx pins: 8N1, DIV clocks per bit of a simulated
// 12 MHz clock (DIV 4 = 3 Mbaud at reset; the board's UART_DIV register
// changes it at run time, and this side follows it, as a host would switch
// its own baud rate after the write).  The pty is read and written in batches
// (one read and at most one write per batch of clocks), never per clock.
// +clock_hz=N: the simulated clock runs at N Hz and the line at the host's
// own baud rate (the pty's termios speed): N / baud clocks per bit on both
// wires, whatever the board's UART_DIV says, so a host at the wrong rate
// garbles the line as on a real board (a 6 MHz board answers at 1.5 Mbaud).
// Simulated time runs while anything happens (bits on a wire, a frame in the
// link, the unit stepping); when all is quiet it waits for the host without
// advancing, so host turnaround costs no simulated time.
//
// Statistics for bench/link_bench.sh: the sample payload of the READ_FIFO
// answers, and the simulated interval from the first to the end of the last
// non-empty one, written as JSON to $TSPU_VBOARD_STATS at exit (SIGTERM or
// SIGINT, or the host closing its end).
//
// usage: tspu-vboard
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include "Vtspu_vboard_top.h"
#include "verilated.h"

static volatile sig_atomic_t stop_flag;
static void on_signal(int) { stop_flag = 1; }

namespace {

const int BATCH = 1024; // clocks between two looks at the pty

struct UartToBoard { // drives the board's rx pin from a byte queue
    std::deque<uint8_t> q;
    unsigned bits = 0, left = 0, cnt = 0;
    int pin(unsigned div)
    {
        if (left == 0) {
            if (q.empty())
                return 1;
            bits = (1u << 9) | ((unsigned)q.front() << 1); // stop, data, start
            q.pop_front();
            left = 10;
            cnt = 0;
        }
        int v = bits & 1;
        if (++cnt == div) {
            cnt = 0;
            bits >>= 1;
            left--;
        }
        return v;
    }
    bool busy() const { return left || !q.empty(); }
};

struct UartFromBoard { // samples the board's tx pin
    int state = 0; // 0 idle, 1 receiving
    unsigned cnt = 0, bitn = 0, sh = 0;
    // returns a byte (0..255) when one completes, else -1
    int clock(int pin, unsigned div)
    {
        if (state == 0) {
            if (!pin) {
                state = 1;
                cnt = div / 2;
                bitn = 0;
                sh = 0;
            }
            return -1;
        }
        if (cnt) {
            cnt--;
            return -1;
        }
        cnt = div - 1;
        if (bitn == 0) {
            if (pin)
                state = 0; // glitch
        } else if (bitn <= 8) {
            sh |= (unsigned)pin << (bitn - 1);
        } else {
            state = 0;
            bitn = 0;
            return pin ? (int)sh : -1; // stop bit
        }
        bitn++;
        return -1;
    }
    bool busy() const { return state != 0; }
};

struct Stats { // READ_FIFO answers seen on the board's tx line
    int st = 0;
    unsigned fifo_div = 0; // clocks per bit during the last of them
    unsigned cmd = 0, len = 0, got = 0;
    uint64_t start = 0, first = 0, last = 0, payload = 0, frames = 0;
    void byte(uint8_t b, uint64_t now, unsigned div)
    {
        switch (st) {
        case 0: if (b == 0xA5) { st = 1; start = now - 10ull * div; } break;
        case 1: cmd = b; st = 2; break;
        case 2: st = 3; break;
        case 3: len = b; st = 4; break;
        case 4: len |= (unsigned)b << 8; got = 0; st = len ? 5 : 6; break;
        case 5: if (++got == len) st = 6; break;
        case 6: st = 7; break;
        default:
            st = 0;
            if (getenv("TSPU_VBOARD_TRACE"))
                fprintf(stderr, "frame %02x len %u start %llu end %llu\n", cmd, len, (unsigned long long)start,
                        (unsigned long long)now);
            if (cmd == 0x84 && len > 0) {
                fifo_div = div;
                if (!frames++)
                    first = start;
                last = now;
                payload += len;
            }
        }
    }
};

} // namespace

int main(int argc, char **argv)
{
    unsigned long clock_hz = 0; // 0: the line follows the board's UART_DIV
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '+') {
            fprintf(stderr, "usage: tspu-vboard [+clock_hz=N]\n");
            return 2;
        }
        if (strncmp(argv[i], "+clock_hz=", 10) == 0) {
            char *end;
            clock_hz = strtoul(argv[i] + 10, &end, 10);
            if (*end || clock_hz < 1000000) {
                fprintf(stderr, "tspu-vboard: +clock_hz=N needs N >= 1000000\n");
                return 2;
            }
        }
    }
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m)) {
        perror("tspu-vboard: posix_openpt");
        return 1;
    }
    const char *sname = ptsname(m);
    std::string slave = sname ? sname : "";
    // hold the slave open (raw) so the master never sees a hang-up between hosts
    int s = open(slave.c_str(), O_RDWR | O_NOCTTY);
    struct termios tio;
    if (s < 0 || tcgetattr(s, &tio)) {
        perror("tspu-vboard: pty slave");
        return 1;
    }
    cfmakeraw(&tio);
    tcsetattr(s, TCSANOW, &tio);
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);

    VerilatedContext ctx;
    ctx.commandArgs(argc, argv);
    Vtspu_vboard_top top(&ctx);
    uint64_t clk = 0;
    UartToBoard to;
    UartFromBoard from;
    Stats stats;
    std::vector<uint8_t> out;
    bool just_answered = false;
    unsigned div = 4, host_div = 0;
    // clocks per bit of the host's rate on the line (+clock_hz mode)
    auto termios_div = [&]() -> unsigned {
        struct termios t;
        if (tcgetattr(s, &t))
            return 4;
        static const struct { speed_t sp; unsigned long b; } tab[] = {
            {B9600, 9600}, {B19200, 19200}, {B38400, 38400}, {B57600, 57600}, {B115200, 115200},
            {B230400, 230400}, {B460800, 460800}, {B500000, 500000}, {B921600, 921600},
            {B1000000, 1000000}, {B1500000, 1500000}, {B2000000, 2000000}, {B3000000, 3000000},
            {B4000000, 4000000}};
        speed_t sp = cfgetospeed(&t);
        for (const auto &e : tab)
            if (e.sp == sp) {
                const unsigned d = (unsigned)((clock_hz + e.b / 2) / e.b);
                return d ? d : 1;
            }
        return 4;
    };
    auto tick = [&]() -> bool { // true when a byte reached the host side
        div = host_div ? host_div : top.div_now >= 4 ? top.div_now : 4;
        top.uart_rx = to.pin(div);
        top.clk = 0;
        top.eval();
        int b = from.clock(top.uart_tx, div);
        if (b >= 0) {
            out.push_back((uint8_t)b);
            stats.byte((uint8_t)b, clk, div);
        }
        top.clk = 1;
        top.eval();
        clk++;
        return b >= 0;
    };
    top.uart_rx = 1;
    top.rst = 1;
    for (int i = 0; i < 8; i++)
        tick();
    top.rst = 0;

    printf("tspu-vboard: ready on %s\n", slave.c_str());
    fflush(stdout);

    uint8_t buf[4096];
    while (!stop_flag) {
        // the line is quiet: no bits on either wire, no frame in the link
        const bool line_quiet = !to.busy() && !from.busy() && top.link_idle && !top.tx_busy;
        const bool quiet = line_quiet && !top.run_free;
        if (!out.empty()) {
            ssize_t k = write(m, out.data(), out.size());
            if (k > 0)
                out.erase(out.begin(), out.begin() + k);
        }
        // An answer has just gone out: the host answers it at once in
        // simulated time, so wait for it (briefly) before the clock runs on.
        // Nothing at all to do: wait for the host without advancing.
        int wait_ms = quiet ? 100 : (line_quiet && just_answered) ? 20 : 0;
        struct pollfd p = {m, POLLIN, 0};
        int r = poll(&p, 1, out.empty() ? wait_ms : 0);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && (p.revents & POLLIN)) {
            ssize_t k = read(m, buf, sizeof buf);
            if (k > 0)
                to.q.insert(to.q.end(), buf, buf + k);
        }
        just_answered = false;
        if (clock_hz)
            host_div = termios_div();
        if (quiet && to.q.empty())
            continue; // nothing to simulate
        for (int i = 0; i < BATCH; i++)
            if (tick() && top.link_idle && !top.tx_busy && to.q.empty()) {
                just_answered = true; // the last byte of an answer: hand it over now
                break;
            }
    }
    const char *path = getenv("TSPU_VBOARD_STATS");
    if (path && *path) {
        FILE *f = fopen(path, "w");
        if (f) {
            fprintf(f, "{\"div\": %u, \"div_now\": %u, \"cycles\": %llu, \"fifo_frames\": %llu, \"fifo_payload_bytes\": %llu, "
                       "\"fifo_interval_cycles\": %llu, \"rx_dropped\": %u}\n",
                    stats.fifo_div, (unsigned)top.div_now, (unsigned long long)clk, (unsigned long long)stats.frames,
                    (unsigned long long)stats.payload, (unsigned long long)(stats.last - stats.first),
                    (unsigned)top.rx_dropped);
            fclose(f);
        }
    }
    top.final();
    close(s);
    close(m);
    return 0;
}
