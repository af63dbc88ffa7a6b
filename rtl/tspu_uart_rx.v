`default_nettype none
// tspu_uart_rx - 8N1 UART receiver; div = clocks per bit (>= 4), settable at
// run time (used as it is: the board changes it only while the line is quiet,
// so no copy per byte is kept).  The line is synchronised
// by two flops, a start bit is confirmed at its middle, the data bits are
// sampled at theirs (LSB first); a missing stop bit drops the byte
// (frame_err pulses), which the link's CRC and retry then cover.
module tspu_uart_rx (
    input  wire        clk,
    input  wire        rst,
    input  wire [15:0] div,
    input  wire        rx,
    output reg         valid,     // one-clock strobe with data
    output wire [7:0]  data,      // the byte (valid only with the strobe)
    output reg         frame_err
);
    reg [1:0]  sync;
    reg [15:0] cnt;    // clocks left in this bit (1: its last)
    reg [3:0]  bitn;   // 0 start, 1..8 data, 9 stop
    reg        busy;
    reg [7:0]  sh;
    wire       line = sync[1];
    assign data = sh;  // the shift register holds the byte until the next start bit

    always @(posedge clk) begin
        valid <= 1'b0; frame_err <= 1'b0;
        if (rst) begin
            sync <= 2'b11; cnt <= 16'd0; bitn <= 4'd0; busy <= 1'b0; sh <= 8'd0;
        end else begin
            sync <= {sync[0], rx};
            if (!busy) begin
                if (!line) begin // start bit edge: go to its middle
                    busy <= 1'b1; bitn <= 4'd0; cnt <= {1'b0, div[15:1]};
                end
            end else if (cnt != 16'd1) begin
                cnt <= cnt - 16'd1;
            end else begin
                cnt <= div;
                bitn <= bitn + 4'd1;
                case (bitn)
                    4'd0: if (line) busy <= 1'b0;            // a glitch, not a start bit
                    4'd9: begin
                        busy <= 1'b0;
                        if (line) valid <= 1'b1;
                        else frame_err <= 1'b1;
                    end
                    default: sh <= {line, sh[7:1]};
                endcase
            end
        end
    end
endmodule
`default_nettype wire
