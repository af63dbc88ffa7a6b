`default_nettype none
// tspu_icebreaker_top - the unit on the iCEBreaker (iCE40UP5K-SG48), pins in
// constraints/icebreaker.pcf.  The 12 MHz oscillator on pin 35 drives an
// SB_PLL40_PAD (the pin is the PLL's pad input, so SB_PLL40_CORE cannot take
// it) whose output clocks everything at CLOCK_HZ; the settings are those
// `icepll -i 12 -o F -p` emits (DIVR 0, FILTER_RANGE 1, the smallest DIVQ whose
// VCO is >= 533 MHz; fpga/build.sh checks them against icepll).  CLOCK_HZ is
// what the ID block's CLOCK_HZ register reports (tspu info), and the UART
// divisor at reset is CLOCK_HZ / BAUD.  CLOCK_HZ = 12 MHz uses the pin
// directly (no PLL); CLOCK_HZ = 6 MHz divides the pin by two in a flip-flop
// onto a global buffer (the PLL cannot go below 16 MHz); its UART then
// starts at 1.5 Mbaud (UART_DIV 4).  The default, 36 MHz (PLL, 3 Mbaud,
// UART_DIV 12), is what the small core with its deep pipeline meets
// (docs/boards.md; `make bitstream` sets it from the Makefile's ICEBREAKER_MHZ).
//
// Behind the clock: tspu_vboard_top, the very UART + tspu_top that the
// Verilated board (sim/vboard.cpp, the "vboard" device) runs, on the FT2232H
// channel B UART (pins 6 RX / 9 TX).
//
// Reset: held while the PLL is not locked (asynchronous) or the user button
// (BTN_N, pin 10) is pressed, released synchronously 8 clocks later.
//
// LEDs (active low on the board, active high on the break-off PMOD 2):
//   LEDG_N  green: the core is running (stretched to >= ~1/8 s)
//   LEDR_N  red:   FLAGS.SATURATED or FLAGS.FIFO_OVERFLOW (sticky until START)
//   led[0]  link activity (a byte in or out, stretched)
//   led[1]  running           led[2] saturated        led[3] FIFO overflow
//   led[4]  heartbeat: the clock runs and the PLL is locked (~2.9 Hz at 48 MHz)
module tspu_icebreaker_top #(
    parameter N = 8,                 // lanes
    parameter P = 8,                 // MACs (the UP5K has 8 SB_MAC16)
    parameter FIFO_AW = 9,           // sample FIFO of 2^FIFO_AW words
    parameter CLOCK_HZ = 36000000,   // 6 or 12 MHz, or a PLL output: a multiple of 3 MHz in 18..132 MHz
    parameter BAUD = CLOCK_HZ < 12000000 ? 1500000 : 3000000, // UART line rate at reset
    // The UP5K's 5280 logic cells do not hold the whole core with the link:
    // this board's gateware is built without the underdamped integrator and
    // without the lambda schedule / second coupling set / work (FEATURES says
    // so; libtspu refuses programs that need them; docs/boards.md)
    parameter HAVE_UD = 0,
    parameter HAVE_SCHEDULE = 0
) (
    input  wire       clk_12m,       // pin 35
    input  wire       uart_rx,       // pin 6, from the FT2232H
    output wire       uart_tx,       // pin 9, to the FT2232H
    input  wire       btn_n,         // pin 10, user button
    output wire       ledr_n,        // pin 11
    output wire       ledg_n,        // pin 37
    output wire [4:0] led            // PMOD 2 break-off LEDs
);
    // ---- clock: SB_PLL40_PAD as icepll emits it ------------------------------
    localparam integer F_MHZ = CLOCK_HZ / 1000000;
    localparam integer Q = (F_MHZ * 8 >= 533) ? 3 : (F_MHZ * 16 >= 533) ? 4 : 5;
    localparam integer DIVF_I = (F_MHZ << Q) / 12 - 1;
    localparam [6:0] PLL_DIVF = DIVF_I[6:0];
    localparam [2:0] PLL_DIVQ = Q[2:0];
    generate
        if (CLOCK_HZ != 12000000 && CLOCK_HZ != 6000000 &&
            (CLOCK_HZ % 3000000 != 0 || CLOCK_HZ < 18000000 || CLOCK_HZ > 132000000)) begin : g_bad_clock
            tspu_param_error_clock_hz u_err ();  // no exact PLL setting / 3 Mbaud divisor
        end
    endgenerate

    wire clk, pll_lock;
    generate
        if (CLOCK_HZ == 12000000) begin : g_noppl
            assign clk = clk_12m;
            assign pll_lock = 1'b1;
        end else if (CLOCK_HZ == 6000000) begin : g_div2
            reg half = 1'b0;
            always @(posedge clk_12m) half <= !half;
            SB_GB u_gb (.USER_SIGNAL_TO_GLOBAL_BUFFER(half), .GLOBAL_BUFFER_OUTPUT(clk));
            assign pll_lock = 1'b1;
        end else begin : g_pll
            /* verilator lint_off PINMISSING */ // feedback, delay and SPI ports unused
            SB_PLL40_PAD #(
                .FEEDBACK_PATH("SIMPLE"),
                .DIVR(4'b0000),
                .DIVF(PLL_DIVF),
                .DIVQ(PLL_DIVQ),
                .FILTER_RANGE(3'b001)
            ) u_pll (
                .LOCK(pll_lock),
                .RESETB(1'b1),
                .BYPASS(1'b0),
                .PACKAGEPIN(clk_12m),
                .PLLOUTCORE(clk)
            );
            /* verilator lint_on PINMISSING */
        end
    endgenerate

    // ---- reset: asynchronous on lost lock, synchronous release ----------------
    reg [1:0] btn_q;   // button synchroniser; powers up 0 = pressed: reset at start
    reg [7:0] rdy_q;   // powers up 0 (iCE40 flip-flops start at 0): in reset
    always @(posedge clk) btn_q <= {btn_q[0], btn_n};
    always @(posedge clk or negedge pll_lock) begin
        if (!pll_lock) rdy_q <= 8'd0;
        else if (!btn_q[1]) rdy_q <= 8'd0;
        else rdy_q <= {rdy_q[6:0], 1'b1};
    end
    wire rst = !rdy_q[7];

    // ---- the unit: UART + tspu_top ------------------------------------------------
    wire        link_idle, tx_busy, core_busy;
    /* verilator lint_off UNUSEDSIGNAL */ // debug counters, FLAGS bits 4..2: not brought out
    wire [4:0]  core_flags;
    wire [15:0] rx_dropped, div_now;
    wire        run_free;
    /* verilator lint_on UNUSEDSIGNAL */
    tspu_vboard_top #(.N(N), .P(P), .FIFO_AW(FIFO_AW), .CLOCK_HZ(CLOCK_HZ), .BAUD(BAUD),
                      .RX_TIMEOUT(2048 * (CLOCK_HZ / BAUD) / 4), .HAVE_UD(HAVE_UD),
                      .HAVE_SCHEDULE(HAVE_SCHEDULE)) u_board (
        .clk(clk), .rst(rst), .uart_rx(uart_rx), .uart_tx(uart_tx),
        .rx_dropped(rx_dropped), .div_now(div_now), .link_idle(link_idle), .tx_busy(tx_busy),
        .run_free(run_free), .core_busy(core_busy), .core_flags(core_flags));

    // ---- LEDs: one shared prescaler, small stretch counters --------------------
    reg [23:0] pre;           // free running; tick every 2^16 clocks (1.4 ms at 48 MHz)
    reg        pre15;         // pre[15] a clock ago: it falls as pre[15:0] wraps
    wire       tick = pre15 && !pre[15];
    always @(posedge clk) begin
        pre   <= pre + 24'd1;
        pre15 <= pre[15];
    end
    reg [1:0] rx_line;        // the RX wire, resynchronised (activity only)
    always @(posedge clk) rx_line <= {rx_line[0], uart_rx};
    wire link_evt = !rx_line[1] || tx_busy || !link_idle;
    reg [3:0] act_cnt;        // link activity: ~16 ticks (~22 ms at 48 MHz)
    reg [6:0] run_cnt;        // running: ~128 ticks (~1/6 s at 48 MHz)
    always @(posedge clk) begin
        if (rst) begin
            act_cnt <= 4'd0; run_cnt <= 7'd0;
        end else begin
            if (link_evt) act_cnt <= 4'hF;
            else if (tick && act_cnt != 4'd0) act_cnt <= act_cnt - 4'd1;
            if (core_busy) run_cnt <= 7'h7F;
            else if (tick && run_cnt != 7'd0) run_cnt <= run_cnt - 7'd1;
        end
    end
    wire running = core_busy || run_cnt != 7'd0;
    wire sat = core_flags[0], ovf = core_flags[1];
    assign ledg_n = !running;
    assign ledr_n = !(sat || ovf);
    assign led = {pre[23] && pll_lock, ovf, sat, running, act_cnt != 4'd0};
endmodule
`default_nettype wire
