`default_nettype none
// tspu_uart_tx - 8N1 UART transmitter; div = clocks per bit (>= 1), settable
// at run time (used as it is: the board changes it only between bytes).  Start bit, 8 data bits LSB first,
// stop bit.  A byte is taken into a holding register (in_ready = it is
// empty: a flip-flop, so the sender's handshake meets no logic of the
// shifter) and moves into the shifter while it is idle or in the last clock
// of a stop bit: bytes go out back to back, 10 bit times each.  busy: a
// byte is held or being sent.
module tspu_uart_tx (
    input  wire        clk,
    input  wire        rst,
    input  wire [15:0] div,
    input  wire        in_valid,
    input  wire [7:0]  in_data,
    output wire        in_ready,
    output wire        busy,
    output wire        tx
);
    reg [9:0]  sh;      // {stop, data, start}, LSB goes out first
    reg [3:0]  left;    // bits still to send
    reg [15:0] cnt;     // clocks left in this bit (1: its last)
    reg        c1;      // cnt == 1 (registered with cnt)
    reg [7:0]  hold;    // the byte taken, not yet in the shifter
    reg        hfull;
    wire       shift_free = left == 4'd0 || (left == 4'd1 && c1);
    assign in_ready = !hfull;
    assign busy = hfull || left != 4'd0;
    assign tx = sh[0];

    always @(posedge clk) begin
        if (rst) begin
            sh <= 10'h3FF; left <= 4'd0; cnt <= 16'd0; c1 <= 1'b0; hold <= 8'd0; hfull <= 1'b0;
        end else begin
            if (in_valid && !hfull) begin hold <= in_data; hfull <= 1'b1; end
            if (hfull && shift_free) begin
                sh <= {1'b1, hold, 1'b0}; left <= 4'd10; cnt <= div; c1 <= div == 16'd1;
                hfull <= 1'b0;
            end else if (left == 4'd0) begin
                // idle: the line stays high
            end else if (!c1) begin
                cnt <= cnt - 16'd1; c1 <= cnt == 16'd2;
            end else begin
                sh <= {1'b1, sh[9:1]};
                left <= left - 4'd1;
                cnt <= div; c1 <= div == 16'd1;
            end
        end
    end
endmodule
`default_nettype wire
