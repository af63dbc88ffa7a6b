`default_nettype none
// tspu_vboard_top - the Verilated board: an 8N1 UART (the iCEBreaker's
// FT2232H channel B in the real thing) in front of tspu_top.  The bit time
// is div clocks (12 MHz / 3 Mbaud = 4 by default) and can be changed at run
// time through the div port (a board would take it from a register; the
// simulation drives it).  A received byte that finds the link busy is
// dropped and counted (the link's CRC and retry recover it).
module tspu_vboard_top #(
    parameter N = 16,              // lanes
    parameter P = 8,               // MACs
    parameter FIFO_AW = 9,         // sample FIFO of 2^FIFO_AW words
    parameter CLOCK_HZ = 12000000, // the board clock
    parameter RX_TIMEOUT = 2048    // idle clocks that abandon a half frame (~50 byte times at 3 Mbaud)
) (
    input  wire        clk,
    input  wire        rst,
    input  wire [15:0] div,        // clocks per bit, >= 4
    input  wire        uart_rx,    // from the host (FTDI TX)
    output wire        uart_tx,    // to the host (FTDI RX)
    output reg  [15:0] rx_dropped, // bytes lost at a busy link (saturating)
    output wire        link_idle,
    output wire        tx_busy,    // the UART is sending a byte
    output wire        run_free
);
    wire       rx_valid, rx_err;
    wire [7:0] rx_data;
    tspu_uart_rx u_urx (.clk(clk), .rst(rst), .div(div), .rx(uart_rx),
                        .valid(rx_valid), .data(rx_data), .frame_err(rx_err));
    /* verilator lint_off UNUSEDSIGNAL */ // a framing error only loses the byte
    wire unused_err = rx_err;
    /* verilator lint_on UNUSEDSIGNAL */

    wire       in_ready, out_valid, tx_ready;
    wire [7:0] out_data;
    tspu_top #(.N(N), .P(P), .FIFO_AW(FIFO_AW), .CLOCK_HZ(CLOCK_HZ), .RX_TIMEOUT(RX_TIMEOUT)) u_top (
        .clk(clk), .rst(rst), .in_valid(rx_valid), .in_data(rx_data), .in_ready(in_ready),
        .out_valid(out_valid), .out_data(out_data), .out_ready(tx_ready),
        .link_idle(link_idle), .run_free(run_free));

    tspu_uart_tx u_utx (.clk(clk), .rst(rst), .div(div), .in_valid(out_valid), .in_data(out_data),
                        .in_ready(tx_ready), .tx(uart_tx));
    assign tx_busy = !tx_ready;

    always @(posedge clk) begin
        if (rst) rx_dropped <= 16'd0;
        else if (rx_valid && !in_ready && rx_dropped != 16'hFFFF) rx_dropped <= rx_dropped + 16'd1;
    end
endmodule
`default_nettype wire
