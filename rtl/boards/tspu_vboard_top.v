`default_nettype none
// tspu_vboard_top - the Verilated board: an 8N1 UART (the iCEBreaker's
// FT2232H channel B in the real thing) in front of tspu_top.  The bit time
// is div_now clocks: UART_DIV (register, reset CLOCK_HZ / BAUD = 4 at 12 MHz
// and 3 Mbaud), taken once the link and both wires are quiet, i.e. after the
// answer to the write that changed it has gone out at the old rate.  A received byte that finds the link busy is
// dropped and counted (the link's CRC and retry recover it).
module tspu_vboard_top #(
    parameter N = 16,              // lanes
    parameter P = 8,               // MACs
    parameter FIFO_AW = 9,         // sample FIFO of 2^FIFO_AW words
    parameter CLOCK_HZ = 12000000, // the board clock
    parameter BAUD = 3000000,      // line rate at reset
    parameter RX_TIMEOUT = 2048,   // idle clocks that abandon a half frame (~50 byte times at 3 Mbaud)
    parameter HAVE_UD = 1,         // core features (tspu_core; FEATURES)
    parameter HAVE_SCHEDULE = 1
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        uart_rx,    // from the host (FTDI TX)
    output wire        uart_tx,    // to the host (FTDI RX)
    output reg  [15:0] rx_dropped, // bytes lost at a busy link (saturating)
    output reg  [15:0] div_now,    // clocks per bit in use
    output wire        link_idle,
    output wire        tx_busy,    // the UART is sending a byte
    output wire        run_free,
    output wire        core_busy,  // status for a real board's LEDs (tspu_icebreaker_top)
    output wire [4:0]  core_flags
);
    wire       rx_valid, rx_err;
    wire [7:0] rx_data;
    /* verilator lint_off WIDTH */ // checked below: 4..65535
    localparam [15:0] DIV0 = CLOCK_HZ / BAUD;
    /* verilator lint_on WIDTH */
    generate
        if (CLOCK_HZ / BAUD < 4 || CLOCK_HZ / BAUD > 65535) begin : g_bad_baud
            tspu_param_error_baud_divisor u_err ();
        end
    endgenerate

    tspu_uart_rx u_urx (.clk(clk), .rst(rst), .div(div_now), .rx(uart_rx),
                        .valid(rx_valid), .data(rx_data), .frame_err(rx_err));
    /* verilator lint_off UNUSEDSIGNAL */ // a framing error only loses the byte
    wire unused_err = rx_err;
    /* verilator lint_on UNUSEDSIGNAL */

    wire       in_ready, out_valid, tx_ready;
    wire [7:0] out_data;
    wire [15:0] uart_div;
    tspu_top #(.N(N), .P(P), .FIFO_AW(FIFO_AW), .CLOCK_HZ(CLOCK_HZ), .RX_TIMEOUT(RX_TIMEOUT),
               .UART_DIV_RESET(CLOCK_HZ / BAUD), .HAVE_UD(HAVE_UD), .HAVE_SCHEDULE(HAVE_SCHEDULE)) u_top (
        .clk(clk), .rst(rst), .in_valid(rx_valid), .in_data(rx_data), .in_ready(in_ready),
        .out_valid(out_valid), .out_data(out_data), .out_ready(tx_ready),
        .link_idle(link_idle), .run_free(run_free), .uart_div(uart_div),
        .core_busy(core_busy), .core_flags(core_flags));

    tspu_uart_tx u_utx (.clk(clk), .rst(rst), .div(div_now), .in_valid(out_valid), .in_data(out_data),
                        .in_ready(tx_ready), .busy(tx_busy), .tx(uart_tx));

    // a new divisor is taken when nothing is on its way
    always @(posedge clk) begin
        if (rst) div_now <= DIV0;
        else if (uart_div >= 16'd4 && link_idle && !tx_busy && !rx_valid)
            div_now <= uart_div;  // (taking the same value again changes nothing)
    end

    always @(posedge clk) begin
        if (rst) rx_dropped <= 16'd0;
        else if (rx_valid && !in_ready && rx_dropped != 16'hFFFF) rx_dropped <= rx_dropped + 16'd1;
    end
endmodule
`default_nettype wire
