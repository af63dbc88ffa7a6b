`default_nettype none
// tspu_noise_lanes - the per-lane noise engine: N LFSR113 states in block
// RAM (one 32-bit memory per component so the host can write one word),
// a registered read of one lane, and the shaped sample of the lane read.
// Advancing a lane = read it (rd_en), then write z_adv back (adv_we).
// Host seed port: word writes (seed_we) and lane reads (rd_en, then z_q).
// Seed writes and advances never meet (the host seeds an idle engine); the
// write data is the seed word while seed_we, and z_adv / xi are only valid
// while seed_we is low (see tspu_noise_shape).
module tspu_noise_lanes #(
    parameter N  = 8, // lanes, 2..64
    parameter LW = 3, // lane index width, 2^LW >= N
    parameter REG_XI = 0 // 1: xi is the sample of the lane read the cycle before
) (
    input  wire               clk,
    input  wire               rd_en,
    input  wire [LW-1:0]      rd_lane,
    input  wire               adv_we,    // write z_adv of the lane last read
    input  wire [LW-1:0]      adv_lane,
    input  wire               seed_we,
    input  wire [LW-1:0]      seed_lane,
    input  wire [1:0]         seed_word,
    input  wire [31:0]        seed_data,
    output wire [127:0]       z_q,       // state of the lane last read
    output wire [127:0]       z_adv,     // that state after two calls (!seed_we)
    output wire signed [11:0] xi         // shaped sample of those two calls (!seed_we;
                                         // REG_XI: of the previous cycle's lane)
);
    generate
        if (N < 2 || N > 64 || (1 << LW) < N) begin : g_bad_param
            tspu_param_error_noise_n_lw u_err ();
        end
    endgenerate

    genvar k;
    generate
        for (k = 0; k < 4; k = k + 1) begin : g_comp
            wire we = adv_we | (seed_we && seed_word == k);
            wire [LW-1:0] wa = seed_we ? seed_lane : adv_lane;
            tspu_ram #(.W(32), .DEPTH(N), .AW(LW)) u_mem (
                .clk(clk), .we(we), .waddr(wa), .wdata(z_adv[32*k +: 32]),
                .re(rd_en), .raddr(rd_lane), .rdata(z_q[32*k +: 32]));
        end
    endgenerate

    tspu_noise_shape #(.REG_BYTES(REG_XI)) u_shape (.clk(clk), .z(z_q), .seed_we(seed_we), .seed_word(seed_word),
                              .seed_data(seed_data),
                              .z_wr(z_adv), .xi(xi));
endmodule
`default_nettype wire
