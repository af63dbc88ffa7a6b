`default_nettype none
// tspu_noise_shape - one shaped noise sample (tspu_noise_next): two LFSR113
// calls, xi = bytesum(u) + bytesum(v) - 1020, in [-1020, 1020] (12 bits),
// and the lane RAM's write data: the state after the two calls, or while
// seed_we the host's seed word (in word seed_word).
//
// A call's 32 output bits are the XOR of the four words of its new state;
// v, the second call's, is taken from the write data (one 4-input XOR a bit,
// the state words being nets anyway), so xi is only valid while seed_we is
// low (the host seeds an idle engine, tspu_core never uses xi then).
//
// xi = w - 1024 with w = bytesum + 4 in [4, 2044] (11 bits): xi[9:0] = w[9:0]
// and xi[11:10] = 2 x ~w[10].  With TSPU_ICE40 the byte sum is a tree of
// seven ripple adders (SB_CARRY, one logic cell a bit; the first four carry
// in the +4): yosys would merge the eight-operand sum into one carry-save
// $macc of full adders (two LUTs per full adder, ~60 % more cells).
//
// REG_BYTES = 1 (the deep pipeline of a core without slow steps) registers
// the 64 output bits of the two calls: xi then belongs to the z of the
// previous cycle, and z_wr still to this cycle's z.
module tspu_noise_shape #(
    parameter REG_BYTES = 0
) (
    /* verilator lint_off UNUSEDSIGNAL */ // REG_BYTES = 0: combinational
    input  wire               clk,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [127:0]       z,
    input  wire               seed_we,
    input  wire [1:0]         seed_word,
    input  wire [31:0]        seed_data,
    output wire [127:0]       z_wr,      // z after two calls, word seed_word
                                         // seed_data while seed_we
    output wire signed [11:0] xi         // valid while !seed_we
);
    wire [127:0] z_mid;
    wire [127:0] z_next;

    tspu_lfsr113 u_call0 (.z(z),     .z_next(z_mid));
    tspu_lfsr113 u_call1 (.z(z_mid), .z_next(z_next));
    // a call's output: the XOR of the four words of its new state
    wire [31:0] u = z_mid[31:0] ^ z_mid[63:32] ^ z_mid[95:64] ^ z_mid[127:96];

    // only the word being seeded takes seed_data (the same word in all four
    // would let synthesis see v = 0 while seeding, and rebuild v from z)
    genvar k;
    generate
        for (k = 0; k < 4; k = k + 1) begin : g_wr
            assign z_wr[32 * k +: 32] = (seed_we && seed_word == k) ? seed_data
                                                                   : z_next[32 * k +: 32];
        end
    endgenerate
    wire [31:0] v = z_wr[31:0] ^ z_wr[63:32] ^ z_wr[95:64] ^ z_wr[127:96];

    wire [63:0] bytes;
    generate
        if (REG_BYTES != 0) begin : g_reg
            reg [63:0] bytes_r;
            always @(posedge clk) bytes_r <= {v, u};
            assign bytes = bytes_r;
        end else begin : g_comb
            assign bytes = {v, u};
        end
    endgenerate
    wire [10:0] w;
`ifdef TSPU_ICE40
    // a binary tree of ripple adders, heap-numbered: node 8 + m is byte m,
    // node n < 8 is node 2n + node 2n+1 (the four byte pairs + 1 carry in: 9
    // bits, then 10, then w = node 1, 11 bits), each an SB_LUT4 sum and an
    // SB_CARRY per bit and a top LUT for the carry out
    wire [10:0] t [1:15];
    genvar n, i;
    generate
        for (n = 8; n < 16; n = n + 1) begin : g_leaf
            assign t[n] = {3'd0, bytes[8 * (n - 8) +: 8]};
        end
        for (n = 1; n < 8; n = n + 1) begin : g_node
            localparam integer WIN = (n >= 4) ? 8 : (n >= 2) ? 9 : 10;  // input width
            wire [WIN:0] c;
            wire [WIN:0] sum;
            assign c[0] = n >= 4;   // the + 4 of the offset, one per byte pair
            for (i = 0; i < WIN; i = i + 1) begin : g_bit
                SB_LUT4 #(.LUT_INIT(16'h6996)) u_lut (
                    .I0(1'b0), .I1(t[2 * n][i]), .I2(t[2 * n + 1][i]), .I3(c[i]), .O(sum[i]));
                SB_CARRY u_c (.I0(t[2 * n][i]), .I1(t[2 * n + 1][i]), .CI(c[i]), .CO(c[i + 1]));
            end
            SB_LUT4 #(.LUT_INIT(16'h6996)) u_top (
                .I0(1'b0), .I1(1'b0), .I2(1'b0), .I3(c[WIN]), .O(sum[WIN]));
            if (WIN < 10) begin : g_pad
                assign t[n] = {{(10 - WIN){1'b0}}, sum};
            end else begin : g_full
                assign t[n] = sum;
            end
        end
    endgenerate
    assign w = t[1];
`else
    // eight bytes, each zero-extended to 11 bits (sum + 4 <= 2044)
    assign w = {3'd0, bytes[7:0]}   + {3'd0, bytes[15:8]}  + {3'd0, bytes[23:16]}
             + {3'd0, bytes[31:24]} + {3'd0, bytes[39:32]} + {3'd0, bytes[47:40]}
             + {3'd0, bytes[55:48]} + {3'd0, bytes[63:56]} + 11'd4;
`endif
    assign xi = {~w[10], ~w[10], w[9:0]};
endmodule
`default_nettype wire
