`default_nettype none
// tspu_fit_top - synthesis-only wrapper for place-and-route fit checks of
// tspu_core (synth/run.sh): the core has ~1000 port bits, far more than the
// SG48 package's pins.  Every core input is driven from a 64-bit shift
// register loaded through one pin (ports share its bits, as host ports share
// one write-data bus behind a register block), and the outputs are folded
// into one 32-bit word (XOR of all 32-bit slices, the cost of a read
// multiplexer) of which one bit, chosen by the shift register, leaves on a
// pin.  Nothing is constant, so synthesis keeps all of the core's logic.
// Its own cost (64 DFF + ~250 LUT) is measured by run.sh with the core as a
// black box and reported separately.
module tspu_fit_top #(
    parameter N = 16,
    parameter P = 8,
    parameter FIFO_AW = 9,
    parameter DATA_MAX_OBS = 0   // the core's data drift (synth/run.sh: SYNTH_DATA)
) (
    input  wire clk,
    input  wire rst,
    input  wire sin,
    output reg  sout
);
    reg [63:0] sh;
    always @(posedge clk) sh <= {sh[62:0], sin};

    wire [31:0] d = sh[31:0];
    wire [11:0] a = sh[43:32];
    wire [19:0] c = sh[63:44];

    wire [127:0] seed_rdata;
    wire [31:0]  st_rdata, mom_count, sat_count, fifo_dropped, samples, lambda_acc;
    wire [63:0]  mom_rdata, work, steps;
    wire [4:0]   flags;
    wire [2:0]   phase;
    wire         busy, held;
    wire [15:0]  fifo_rdata;
    wire [FIFO_AW:0] fifo_level;
    /* verilator lint_off UNUSEDSIGNAL */ // lockstep observation ports are left open
    wire         obs_valid, obs_step_done;
    wire [5:0]   obs_lane;
    wire [31:0]  obs_x, obs_p;
    /* verilator lint_on UNUSEDSIGNAL */

    wire [15:0] dat_rdata;
    tspu_core #(.N(N), .P(P), .FIFO_AW(FIFO_AW), .DATA_MAX_OBS(DATA_MAX_OBS)) u_core (
        .cfg_data_mode(a[1:0]), .cfg_n_obs(a[10:0]), .cfg_data_sr(d[5:0]), .cfg_data_sg(d[11:6]),
        .cfg_data_dd(d[17:12]), .dat_we(c[5]), .dat_re(c[6]), .dat_sel(a[9:8]),
        .dat_addr({c[1:0], a}), .dat_wdata(d[31:16]), .dat_rdata(dat_rdata),
        .clk(clk), .rst(rst),
        .cfg_integrator(d[1:0]), .cfg_drift_shift(d[7:2]), .cfg_noise_shift(d[12:8]),
        .cfg_ka(d[31:16]), .cfg_ka_shift(a[5:0]), .cfg_ko(d[15:0]), .cfg_ko_shift(a[11:6]),
        .cfg_burnin(d), .cfg_thin({d[30:0], c[0]}), .cfg_n_samples({d[29:0], c[1:0]}),
        .cfg_n_segments(c[6:2]), .cfg_lambda_init({c[1:0], d[31:2]}),
        .cfg_sample_momentum(c[7]),
        .seg_we(c[8]), .seg_addr(a[3:0]), .seg_steps(d), .seg_dlambda({d[15:0], d[31:16]}),
        .cpl_we(c[9]), .cpl_set(a[11]), .cpl_row(a[5:0]), .cpl_col(a[10:5]), .cpl_data(d[15:0]),
        .bias_we(c[10]), .bias_set(a[11]), .bias_lane(a[5:0]), .bias_data(d),
        .seed_we(c[11]), .seed_re(c[12]), .seed_lane(a[5:0]), .seed_word(a[7:6]),
        .seed_data(d), .seed_rdata(seed_rdata),
        .st_we(c[13]), .st_re(c[14]), .st_sel(a[11]), .st_lane(a[5:0]), .st_data(d),
        .st_rdata(st_rdata),
        .cmd_start(c[15]), .cmd_stop(c[16]), .hold(c[17]), .held(held),
        .mom_re(c[18]), .mom_addr(a), .mom_rdata(mom_rdata), .mom_count(mom_count), .work(work),
        .flags(flags), .sat_count(sat_count), .fifo_dropped(fifo_dropped), .steps(steps),
        .samples(samples), .lambda_acc(lambda_acc), .phase(phase), .busy(busy),
        .fifo_re(c[19]), .fifo_rdata(fifo_rdata), .fifo_level(fifo_level),
        .obs_valid(obs_valid), .obs_lane(obs_lane), .obs_x(obs_x), .obs_p(obs_p),
        .obs_step_done(obs_step_done));

    wire [31:0] fold = seed_rdata[31:0] ^ seed_rdata[63:32] ^ seed_rdata[95:64] ^
                       seed_rdata[127:96] ^ st_rdata ^ mom_count ^ sat_count ^
                       fifo_dropped ^ samples ^ lambda_acc ^ mom_rdata[31:0] ^
                       mom_rdata[63:32] ^ work[31:0] ^ work[63:32] ^ steps[31:0] ^
                       steps[63:32] ^ {fifo_rdata, {(15 - FIFO_AW){1'b0}}, fifo_level} ^
                       {22'd0, flags, phase, busy, held} ^ {16'd0, dat_rdata};
    reg [31:0] fold_q;
    always @(posedge clk) begin
        fold_q <= fold;
        sout   <= fold_q[c[4:0]];
    end
endmodule
`default_nettype wire
