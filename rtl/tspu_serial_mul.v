`default_nettype none
// tspu_serial_mul - multi-cycle signed multiply p = a * b mod 2^W for the
// rare wide products (lambda interpolation, work), so they cost no DSP:
// two bits of b per cycle (radix 4), 9 cycles for an 18-bit b.
module tspu_serial_mul #(
    parameter W = 64 // width of a and p, >= 4
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               start,
    input  wire signed [W-1:0] a,
    input  wire signed [17:0] b,
    output reg                done,  // one-cycle pulse, p valid from then on
    output reg  signed [W-1:0] p
);
    generate
        if (W < 4) begin : g_bad_param
            tspu_param_error_smul_w u_err ();
        end
    endgenerate

    reg        busy;
    reg [3:0]  cnt;
    reg [W-1:0] aa;
    reg [17:0] bb;

    // two's complement: b = sum_{k<17} b_k 2^k - b_17 2^17
    wire [W-1:0] add0 = bb[0] ? aa : {W{1'b0}};
    wire [W-1:0] add1 = bb[1] ? (cnt == 4'd8 ? -(aa << 1) : (aa << 1)) : {W{1'b0}};

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            busy <= 1'b0;
            cnt  <= 4'd0;
        end else if (start) begin
            busy <= 1'b1;
            cnt  <= 4'd0;
            aa   <= a;
            bb   <= b;
            p    <= {W{1'b0}};
        end else if (busy) begin
            p   <= p + $signed(add0) + $signed(add1);
            aa  <= aa << 2;
            bb  <= bb >> 2;
            cnt <= cnt + 4'd1;
            if (cnt == 4'd8) begin
                busy <= 1'b0;
                done <= 1'b1;
            end
        end
    end
endmodule
`default_nettype wire
