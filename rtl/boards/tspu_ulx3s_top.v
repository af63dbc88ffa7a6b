`default_nettype none
// tspu_ulx3s_top - the unit on the ULX3S (ECP5 LFE5U-85F), pins in
// constraints/ulx3s.lpf.  The 25 MHz oscillator drives an EHXPLLL with the
// settings `ecppll -i 25 -o F` emits (CLKI_DIV 5 and, by F, CLKFB_DIV /
// CLKOP_DIV / CLKOP_CPHASE: 15 MHz 3/40/19, 30 MHz 6/20/9, 45 MHz 9/13/6,
// 60 MHz 12/10/4:
// exact, and a whole number of clocks per bit at 3 Mbaud).  CLOCK_HZ is what
// the ID block reports.  Behind the clock: tspu_vboard_top (UART + tspu_top)
// on the FT231X USB UART, as on the iCEBreaker (tspu_icebreaker_top).
// Reset: PLL not locked or FIRE1 pressed, released synchronously.
// LEDs: 0 link activity, 1 running, 2 saturated, 3 FIFO overflow,
// 7 heartbeat; 4..6 off.
module tspu_ulx3s_top #(
    parameter N = 16,
    parameter P = 8,
    parameter FIFO_AW = 9,
    parameter CLOCK_HZ = 15000000,   // 15, 30, 45 or 60 MHz
    parameter BAUD = 3000000
) (
    input  wire       clk_25mhz,
    input  wire       ftdi_txd,      // FPGA receives
    output wire       ftdi_rxd,      // FPGA transmits
    input  wire       btn_fire1,
    output wire [7:0] led
);
    localparam integer FB_DIV = CLOCK_HZ == 15000000 ? 3 : CLOCK_HZ == 45000000 ? 9 :
                                CLOCK_HZ == 60000000 ? 12 : 6;
    localparam integer OP_DIV = CLOCK_HZ == 15000000 ? 40 : CLOCK_HZ == 45000000 ? 13 :
                                CLOCK_HZ == 60000000 ? 10 : 20;
    localparam integer OP_CPH = (OP_DIV - 1) / 2;
    generate
        if (CLOCK_HZ != 15000000 && CLOCK_HZ != 30000000 && CLOCK_HZ != 45000000 &&
            CLOCK_HZ != 60000000) begin : g_bad_clock
            tspu_param_error_clock_hz u_err ();
        end
    endgenerate

    wire clk, pll_lock;
    /* verilator lint_off PINMISSING */
    (* FREQUENCY_PIN_CLKI="25" *)
    (* ICP_CURRENT="12" *) (* LPF_RESISTOR="8" *) (* MFG_ENABLE_FILTEROPAMP="1" *) (* MFG_GMCREF_SEL="2" *)
    EHXPLLL #(
        .PLLRST_ENA("DISABLED"), .INTFB_WAKE("DISABLED"), .STDBY_ENABLE("DISABLED"),
        .DPHASE_SOURCE("DISABLED"), .OUTDIVIDER_MUXA("DIVA"), .OUTDIVIDER_MUXB("DIVB"),
        .OUTDIVIDER_MUXC("DIVC"), .OUTDIVIDER_MUXD("DIVD"),
        .CLKI_DIV(5), .CLKOP_ENABLE("ENABLED"), .CLKOP_DIV(OP_DIV), .CLKOP_CPHASE(OP_CPH),
        .CLKOP_FPHASE(0), .FEEDBK_PATH("CLKOP"), .CLKFB_DIV(FB_DIV)
    ) u_pll (
        .RST(1'b0), .STDBY(1'b0), .CLKI(clk_25mhz), .CLKOP(clk), .CLKFB(clk),
        .PHASESEL0(1'b0), .PHASESEL1(1'b0), .PHASEDIR(1'b1), .PHASESTEP(1'b1),
        .PHASELOADREG(1'b1), .PLLWAKESYNC(1'b0), .ENCLKOP(1'b0), .LOCK(pll_lock));
    /* verilator lint_on PINMISSING */

    reg [1:0] btn_q;
    reg [7:0] rdy_q;
    always @(posedge clk) btn_q <= {btn_q[0], btn_fire1};
    always @(posedge clk or negedge pll_lock) begin
        if (!pll_lock) rdy_q <= 8'd0;
        else if (btn_q[1]) rdy_q <= 8'd0;
        else rdy_q <= {rdy_q[6:0], 1'b1};
    end
    wire rst = !rdy_q[7];

    wire        link_idle, tx_busy, core_busy;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [4:0]  core_flags;
    wire [15:0] rx_dropped, div_now;
    wire        run_free;
    /* verilator lint_on UNUSEDSIGNAL */
    tspu_vboard_top #(.N(N), .P(P), .FIFO_AW(FIFO_AW), .CLOCK_HZ(CLOCK_HZ), .BAUD(BAUD),
                      .RX_TIMEOUT(2048 * (CLOCK_HZ / 3000000) / 4)) u_board (
        .clk(clk), .rst(rst), .uart_rx(ftdi_txd), .uart_tx(ftdi_rxd),
        .rx_dropped(rx_dropped), .div_now(div_now), .link_idle(link_idle), .tx_busy(tx_busy),
        .run_free(run_free), .core_busy(core_busy), .core_flags(core_flags));

    reg [23:0] pre;
    reg        tick;
    always @(posedge clk) begin
        pre  <= pre + 24'd1;
        tick <= pre[15:0] == 16'hFFFF;
    end
    reg [1:0] rx_line;
    always @(posedge clk) rx_line <= {rx_line[0], ftdi_txd};
    wire link_evt = !rx_line[1] || tx_busy || !link_idle;
    reg [3:0] act_cnt;
    reg [6:0] run_cnt;
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
    assign led = {pre[23] && pll_lock, 3'b000, core_flags[1], core_flags[0], running, act_cnt != 4'd0};
endmodule
`default_nettype wire
