`default_nettype none
// tspu_lfsr113 - one L'Ecuyer LFSR113 state update (host/model/tspu_noise.h,
// tspu_lfsr113_next): four Tausworthe components, each call a leap of
// 18/2/7/13 component steps.  Pure wiring + 2-input XORs.  The call's 32
// output bits are the XOR of the four words of z_next (tspu_noise_shape
// forms them).  z = {z3, z2, z1, z0}, 32 bits each.
module tspu_lfsr113 (
    input  wire [127:0] z,
    output wire [127:0] z_next
);
    wire [31:0] z0 = z[31:0];
    wire [31:0] z1 = z[63:32];
    wire [31:0] z2 = z[95:64];
    wire [31:0] z3 = z[127:96];

    // 32-bit intermediates make the C uint32 truncation explicit
    wire [31:0] t0 = (z0 << 6) ^ z0;
    wire [31:0] t1 = (z1 << 2) ^ z1;
    wire [31:0] t2 = (z2 << 13) ^ z2;
    wire [31:0] t3 = (z3 << 3) ^ z3;
    wire [31:0] b0 = t0 >> 13;
    wire [31:0] b1 = t1 >> 27;
    wire [31:0] b2 = t2 >> 21;
    wire [31:0] b3 = t3 >> 12;
    wire [31:0] m0 = z0 & 32'hFFFFFFFE;
    wire [31:0] m1 = z1 & 32'hFFFFFFF8;
    wire [31:0] m2 = z2 & 32'hFFFFFFF0;
    wire [31:0] m3 = z3 & 32'hFFFFFF80;
    wire [31:0] s0 = m0 << 18;
    wire [31:0] s1 = m1 << 2;
    wire [31:0] s2 = m2 << 7;
    wire [31:0] s3 = m3 << 13;
    wire [31:0] n0 = s0 ^ b0;
    wire [31:0] n1 = s1 ^ b1;
    wire [31:0] n2 = s2 ^ b2;
    wire [31:0] n3 = s3 ^ b3;

    assign z_next = {n3, n2, n1, n0};
endmodule
`default_nettype wire
