`default_nettype none
// tspu_serial_mul - multi-cycle signed multiply p = a * b mod 2^W for the
// rare wide products (lambda interpolation, work), so they cost no DSP:
// radix-4 Booth digits of b, 9 cycles for an 18-bit b.  The accumulator
// shifts right two bits per cycle (a stays put, no operand shifter); the
// bits it drops are the low product bits.
//
// Area (one logic cell a bit: the adder LUT + carry + flip-flop, plus the
// operand LUT that picks 0 / a / 2a):
//  * the digit's sign is not applied to the operand (that would be a fifth
//    LUT input): the register holds acc ^ {neg} (neg = the sign of the digit
//    it is next added with), and acc - m = ~(~acc + m), so every cycle adds
//    |d| a and the adder LUT applies the XOR of the old and the new sign
//    with its free input;
//  * only p = a b mod 2^W is wanted, and bits below 2k + j of the result
//    never depend on bits above j of cycle k's sum, so the accumulator is
//    W bits wide (the top two of them constant ones, the all-ones start
//    value) and loses two valid bits a cycle: W - 18 are left at the end,
//    exactly p's upper part;
//  * the multiplier digits are shifted out at the bottom of `bl` while the
//    dropped product bits are shifted in at its top (no separate register).
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
    // {product bits dropped so far, multiplier bits not yet used}: after k
    // cycles bl = {lo[2k-1:0], b[17:2k]}, the digit's bits at bl[1:0]
    reg [17:0]   bl;
    reg          bprev;
    // acc ^ {neg}, bits [W-3:0]; the two above are garbage after the first
    // cycle (see above) and ones in it
    reg [W-3:0]  r;
    // this cycle's sign change neg ^ neg_next, registered (a single net, so
    // the XOR merges into the adder's LUTs), and the first cycle's carry-in
    reg          flip;
    reg          cin;

    wire         last  = cnt == 4'd8;
    // Booth digit d = -2 bl[1] + bl[0] + bprev in -2..2, |d| a added
    wire         one   = bl[0] ^ bprev;
    wire         two   = (bl[1] ^ bl[0]) & (bl[0] ~^ bprev);
    wire         neg   = bl[1];
    // flip of the next cycle: the next digit's sign vs the one after it
    // (none after the last digit)
    wire         flip_n = bl[3] ^ (bl[5] & (cnt != 4'd7));
    wire [W-1:0] x     = one ? a : two ? {a[W-2:0], 1'b0} : {W{1'b0}};
    // r starts at all ones = acc 0 for a negative first digit; for a positive
    // one it is acc -1, hence the carry-in
    wire [W-1:0] sum   = {2'b11, r} + x + {{(W - 1){1'b0}}, cin};

    assign p = {r[W-19:0], bl};

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            busy <= 1'b0;
            cnt  <= 4'd0;
        end else if (start) begin
            busy  <= 1'b1;
            cnt   <= 4'd0;
            bl    <= b;
            bprev <= 1'b0;
            r     <= {(W - 2){1'b1}};
            flip  <= b[1] ^ b[3];
            cin   <= !b[1];
        end else if (busy) begin
            r     <= sum[W-1:2] ^ {(W - 2){flip}};
            bl    <= {sum[1:0] ^ {2{neg}}, bl[17:2]};
            bprev <= bl[1];
            flip  <= flip_n;
            cin   <= 1'b0;
            cnt   <= cnt + 4'd1;
            if (last) begin
                busy <= 1'b0;
                done <= 1'b1;
            end
        end
    end
endmodule
`default_nettype wire
