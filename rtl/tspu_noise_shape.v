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
module tspu_noise_shape (
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

    wire [63:0] bytes = {v, u};
    wire [10:0] w;
`ifdef TSPU_ICE40
    // level 1: byte pairs + 1 (9 bits), level 2: 10 bits, level 3: 11 bits
    wire [35:0] s1;   // 4 x 9
    wire [19:0] s2;   // 2 x 10
    genvar j, i;
    generate
        for (j = 0; j < 4; j = j + 1) begin : g_l1
            wire [8:0] c;
            assign c[0] = 1'b1;
            for (i = 0; i < 8; i = i + 1) begin : g_bit
                SB_LUT4 #(.LUT_INIT(16'h6996)) u_lut (
                    .I0(1'b0), .I1(bytes[16 * j + i]), .I2(bytes[16 * j + 8 + i]),
                    .I3(c[i]), .O(s1[9 * j + i]));
                SB_CARRY u_c (.I0(bytes[16 * j + i]), .I1(bytes[16 * j + 8 + i]),
                              .CI(c[i]), .CO(c[i + 1]));
            end
            SB_LUT4 #(.LUT_INIT(16'h6996)) u_top (
                .I0(1'b0), .I1(1'b0), .I2(1'b0), .I3(c[8]), .O(s1[9 * j + 8]));
        end
        for (j = 0; j < 2; j = j + 1) begin : g_l2
            wire [9:0] c;
            assign c[0] = 1'b0;
            for (i = 0; i < 9; i = i + 1) begin : g_bit
                SB_LUT4 #(.LUT_INIT(16'h6996)) u_lut (
                    .I0(1'b0), .I1(s1[18 * j + i]), .I2(s1[18 * j + 9 + i]),
                    .I3(c[i]), .O(s2[10 * j + i]));
                SB_CARRY u_c (.I0(s1[18 * j + i]), .I1(s1[18 * j + 9 + i]),
                              .CI(c[i]), .CO(c[i + 1]));
            end
            SB_LUT4 #(.LUT_INIT(16'h6996)) u_top (
                .I0(1'b0), .I1(1'b0), .I2(1'b0), .I3(c[9]), .O(s2[10 * j + 9]));
        end
        begin : g_l3
            wire [10:0] c;
            assign c[0] = 1'b0;
            for (i = 0; i < 10; i = i + 1) begin : g_bit
                SB_LUT4 #(.LUT_INIT(16'h6996)) u_lut (
                    .I0(1'b0), .I1(s2[i]), .I2(s2[10 + i]), .I3(c[i]), .O(w[i]));
                SB_CARRY u_c (.I0(s2[i]), .I1(s2[10 + i]), .CI(c[i]), .CO(c[i + 1]));
            end
            SB_LUT4 #(.LUT_INIT(16'h6996)) u_top (
                .I0(1'b0), .I1(1'b0), .I2(1'b0), .I3(c[10]), .O(w[10]));
        end
    endgenerate
`else
    // eight bytes, each zero-extended to 11 bits (sum + 4 <= 2044)
    assign w = {3'd0, bytes[7:0]}   + {3'd0, bytes[15:8]}  + {3'd0, bytes[23:16]}
             + {3'd0, bytes[31:24]} + {3'd0, bytes[39:32]} + {3'd0, bytes[47:40]}
             + {3'd0, bytes[55:48]} + {3'd0, bytes[63:56]} + 11'd4;
`endif
    assign xi = {~w[10], ~w[10], w[9:0]};
endmodule
`default_nettype wire
