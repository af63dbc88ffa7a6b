`default_nettype none
// tspu_serial_mul - multi-cycle signed multiply p = a * b mod 2^W for the
// rare wide products (lambda interpolation, work), so they cost no DSP:
// radix-4 Booth digits of b, 9 cycles for an 18-bit b.  The accumulator
// shifts right two bits per cycle (a stays put, no operand shifter); the
// bits it drops are the low product bits.
module tspu_serial_mul #(
    parameter W = 64 // width of a and p, >= 19
) (
    input  wire                clk,
    input  wire                rst,
    input  wire                start,
    input  wire signed [W-1:0] a,     // held from start until done
    input  wire signed [17:0]  b,
    output reg                 done,  // one-cycle pulse, p valid from then on
    output wire signed [W-1:0] p      // (until the next start)
);
    generate
        if (W < 19) begin : g_bad_param
            tspu_param_error_smul_w u_err ();
        end
    endgenerate

    reg          busy;
    reg [3:0]    cnt;
    reg [17:0]   bb;
    reg          bprev;
    // acc = (partial product) / 4^k; |acc| < 2 |a| / 3 + 2 |a|: W + 2 bits
    reg [W+1:0]  acc;
    reg [17:0]   lo;

    // Booth digit d = -2 bb[1] + bb[0] + bprev in -2..2
    wire         one  = bb[0] ^ bprev;
    wire         two  = (bb[1] && !bb[0] && !bprev) || (!bb[1] && bb[0] && bprev);
    wire         neg  = bb[1];                      // d = 0 with neg: ~0 + 1 = 0
    wire [W+1:0] ax   = {{2{a[W-1]}}, a};
    wire [W+1:0] mag  = one ? ax : two ? {ax[W:0], 1'b0} : {(W + 2){1'b0}};
    wire [W+1:0] sum  = acc + (mag ^ {(W + 2){neg}}) + {{(W + 1){1'b0}}, neg};

    assign p = {acc[W-19:0], lo};

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            busy <= 1'b0;
            cnt  <= 4'd0;
        end else if (start) begin
            busy  <= 1'b1;
            cnt   <= 4'd0;
            bb    <= b;
            bprev <= 1'b0;
            acc   <= {(W + 2){1'b0}};
            lo    <= 18'd0;
        end else if (busy) begin
            acc   <= {{2{sum[W+1]}}, sum[W+1:2]};
            lo    <= {sum[1:0], lo[17:2]};
            bprev <= bb[1];
            bb    <= {2'b00, bb[17:2]};
            cnt   <= cnt + 4'd1;
            if (cnt == 4'd8) begin
                busy <= 1'b0;
                done <= 1'b1;
            end
        end
    end
endmodule
`default_nettype wire
