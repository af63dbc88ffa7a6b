`default_nettype none
// tspu_csr - the register map (docs/regmap.md, regmap/tspu_regmap.json) on
// the ports of tspu_core.  The C model of these semantics is
// host/lib/model_dev.c; this block follows it:
//   - CONFIG and SCHEDULE are shadow registers taken at CTRL.START, which
//     checks them as tspu_model_configure does (a bad program, or START while
//     running, sets FLAGS.REJECTED and does not start); the schedule is copied
//     into the core, then the core is started;
//   - coupling / bias / state writes go to the core while it is idle (it
//     ignores them while running); coupling and bias read back from a shadow;
//   - lane seeds are collected per lane (a one-lane shadow filled from the
//     core) and taken when the frame ends or another lane is written: an
//     invalid LFSR113 state is refused and sets FLAGS.REJECTED;
//   - reading STEPS_LO / WORK_LO latches STEPS_HI / WORK_HI;
//   - the FIFO is read by peek/commit: peeked words move from the core FIFO
//     into a stage buffer (ring of MAX_FIFO_ELEMS words) and leave it when the
//     bridge commits them; FIFO_LEVEL counts both;
//   - CONFIG.FIFO_STALL: the core is held at a step boundary in the sampling
//     phase while its FIFO has no room for a whole sample (the rule of
//     md_frame_done, with the stage as a buffer of its own), so no sample is
//     dropped and the samples do not depend on host timing.
// Bus: one request at a time (bus_req held until the bus_ack pulse).
module tspu_csr #(
    parameter N = 16,                  // lanes of the core, 2..64
    parameter P = 8,                   // MACs of the core (reported)
    parameter FIFO_AW = 9,             // core FIFO of 2^FIFO_AW words
    parameter CLOCK_HZ = 12000000,     // reported clock of the unit
    parameter CYCLES_PER_STEP = 35,    // reported cycles per step
    parameter UART_DIV_RESET = 0       // UART_DIV at reset (0: no UART)
) (
    input  wire         clk,
    input  wire         rst,
    // burst check (combinational): 0 none, 1 ro, 2 wo, 3 rw
    input  wire [15:0]  chk_addr,
    output wire [1:0]   chk_acc,
    // request bus from the bridge
    input  wire         bus_req,
    input  wire [2:0]   bus_op,     // OP_* below
    input  wire [15:0]  bus_addr,   // address; PEEK: element index
    input  wire [31:0]  bus_wdata,  // WRITE data; COMMIT: element count
    output reg          bus_ack,
    output reg  [31:0]  bus_rdata,
    output wire [10:0]  fifo_avail, // elements a READ_FIFO may peek (<= 1024)
    // to the sim driver: the unit is stepping and has FIFO room
    output wire         run_free,
    // UART_DIV, for a board's UART
    output reg  [15:0]  uart_div,
    // ---- tspu_core ports ----
    output wire         core_rst,
    output wire [1:0]   cfg_integrator,
    output wire [5:0]   cfg_drift_shift,
    output wire [4:0]   cfg_noise_shift,
    output wire [15:0]  cfg_ka,
    output wire [5:0]   cfg_ka_shift,
    output wire [15:0]  cfg_ko,
    output wire [5:0]   cfg_ko_shift,
    output wire [31:0]  cfg_burnin,
    output wire [31:0]  cfg_thin,
    output wire [31:0]  cfg_n_samples,
    output wire [4:0]   cfg_n_segments,
    output wire [31:0]  cfg_lambda_init,
    output wire         cfg_sample_momentum,
    output reg          seg_we,
    output reg  [3:0]   seg_addr,
    output reg  [31:0]  seg_steps,
    output reg  [31:0]  seg_dlambda,
    output reg          cpl_we,
    output reg          cpl_set,
    output reg  [5:0]   cpl_row,
    output reg  [5:0]   cpl_col,
    output reg  [15:0]  cpl_data,
    output reg          bias_we,
    output reg          bias_set,
    output reg  [5:0]   bias_lane,
    output reg  [31:0]  bias_data,
    output reg          seed_we,
    output reg          seed_re,
    output reg  [5:0]   seed_lane,
    output reg  [1:0]   seed_word,
    output reg  [31:0]  seed_data,
    input  wire [127:0] seed_rdata,
    output reg          st_we,
    output reg          st_re,
    output reg          st_sel,
    output reg  [5:0]   st_lane,
    output reg  [31:0]  st_data,
    input  wire [31:0]  st_rdata,
    output reg          cmd_start,
    output reg          cmd_stop,
    output wire         hold,
    input  wire         held,
    output reg          mom_re,
    output reg  [11:0]  mom_addr,
    input  wire [63:0]  mom_rdata,
    input  wire [31:0]  mom_count,
    input  wire [63:0]  work,
    input  wire [4:0]   flags,
    input  wire [31:0]  sat_count,
    input  wire [31:0]  fifo_dropped,
    input  wire [63:0]  steps,
    input  wire [31:0]  samples,
    input  wire [31:0]  lambda_acc,
    input  wire [2:0]   phase,
    input  wire         busy,
    output reg          fifo_re,
    input  wire [15:0]  fifo_rdata,
    input  wire [FIFO_AW:0] fifo_level
);
    `include "tspu_regs.vh"

    localparam [2:0] OP_RD = 3'd0, OP_WR = 3'd1, OP_FD = 3'd2, OP_PEEK = 3'd3; // else OP_COMMIT (4)
    localparam T     = N * (N + 1) / 2;
    localparam DEPTH = 1 << FIFO_AW;
    localparam SMAX  = TSPU_LINK_MAX_FIFO_ELEMS;       // stage ring size
    localparam SAW   = $clog2(SMAX);
    localparam NSEG  = TSPU_WIN_SCHEDULE_SIZE / 2;
    localparam NCFG  = TSPU_REG_FIFO_STALL - TSPU_REG_INTEGRATOR + 1;
    localparam [2:0] PH_SAMPLING = 3'd3;

    // sized constants of the map (values fit their widths)
    /* verilator lint_off WIDTH */
    localparam [3:0] CI_BURNIN = TSPU_REG_BURNIN - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_DRIFT_SHIFT = TSPU_REG_DRIFT_SHIFT - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_FIFO_STALL = TSPU_REG_FIFO_STALL - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_INTEGRATOR = TSPU_REG_INTEGRATOR - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_KA = TSPU_REG_KA - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_KA_SHIFT = TSPU_REG_KA_SHIFT - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_KO = TSPU_REG_KO - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_KO_SHIFT = TSPU_REG_KO_SHIFT - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_LAMBDA_INIT = TSPU_REG_LAMBDA_INIT - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_NOISE_SHIFT = TSPU_REG_NOISE_SHIFT - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_N_SAMPLES = TSPU_REG_N_SAMPLES - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_N_SEGMENTS = TSPU_REG_N_SEGMENTS - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_SAMPLE_MOMENTUM = TSPU_REG_SAMPLE_MOMENTUM - TSPU_REG_INTEGRATOR;
    localparam [3:0] CI_THIN = TSPU_REG_THIN - TSPU_REG_INTEGRATOR;
    localparam [15:0] SZ_CPL = TSPU_WIN_COUPLING0_SIZE, SZ_BIAS = TSPU_WIN_BIAS0_SIZE,
                      SZ_ST = TSPU_WIN_STATE_X_SIZE, SZ_SEED = TSPU_WIN_LANE_SEED_SIZE,
                      SZ_MS = TSPU_WIN_MOM_SUM_SIZE, SZ_MQ = TSPU_WIN_MOM_SUMSQ_SIZE,
                      SZ_SCHED = TSPU_WIN_SCHEDULE_SIZE;
    localparam [15:0] N16 = N, NN16 = N * N, T16 = T;
    localparam [11:0] T12 = T, N12 = N, DEPTH12 = DEPTH;
    localparam [4:0]  SEG_LAST = NSEG - 1;
    localparam [15:0] UDIV_RESET = UART_DIV_RESET;
    localparam [31:0] N32 = N, DEPTH32 = DEPTH, NSEG32 = NSEG, P32 = P, CLK32 = CLOCK_HZ,
                      CPS32 = CYCLES_PER_STEP;
    /* verilator lint_on WIDTH */

    generate
        if (N < 2 || N > 64) begin : g_bad_n
            tspu_param_error_n_out_of_range u_err ();
        end
        if (SMAX != (1 << SAW)) begin : g_bad_stage
            tspu_param_error_stage_not_pow2 u_err ();
        end
        if (NSEG != 16) begin : g_bad_seg
            tspu_param_error_core_has_16_segments u_err ();
        end
    endgenerate

    assign chk_acc = f_tspu_access(chk_addr);

    // ---- registers ---------------------------------------------------------
    reg [31:0] scratch;
    reg [31:0] cfg [0:NCFG-1];          // CONFIG shadow, as written
    reg [31:0] sched [0:2*NSEG-1];      // SCHEDULE shadow
    reg [15:0] cpl_sh [0:2*N*N-1];      // coupling read-back
    reg [31:0] bias_sh [0:2*N-1];       // bias read-back
    // configuration the core runs (taken at START)
    reg [1:0]  a_int;   reg [5:0] a_drift; reg [4:0] a_noise; reg [15:0] a_ka;
    reg [5:0]  a_kash;  reg [15:0] a_ko;   reg [5:0] a_kosh;  reg [31:0] a_burnin;
    reg [31:0] a_thin;  reg [31:0] a_nsamp; reg [4:0] a_nseg; reg [31:0] a_linit;
    reg        a_sm, a_stall;
    assign cfg_integrator = a_int;   assign cfg_drift_shift = a_drift;
    assign cfg_noise_shift = a_noise; assign cfg_ka = a_ka; assign cfg_ka_shift = a_kash;
    assign cfg_ko = a_ko; assign cfg_ko_shift = a_kosh; assign cfg_burnin = a_burnin;
    assign cfg_thin = a_thin; assign cfg_n_samples = a_nsamp; assign cfg_n_segments = a_nseg;
    assign cfg_lambda_init = a_linit; assign cfg_sample_momentum = a_sm;

    reg        rejected;
    reg [31:0] steps_hi, work_hi;
    // one-lane seed shadow
    reg        sh_valid;
    reg [5:0]  sh_lane;
    reg [31:0] sh [0:3];
    // FIFO stage ring
    reg [15:0]  stage [0:SMAX-1];
    reg [SAW-1:0] s_head;
    reg [SAW:0]   s_len;

    // ---- FIFO room, stall -----------------------------------------------------
    // The stage is a buffer of its own: the core is held while its FIFO
    // has no room for a whole sample, so it refills the FIFO while the
    // bridge sends the staged words (the model's device counts both against
    // one capacity; with no drops the samples are the same either way).
    wire [10:0] used  = {{(10 - FIFO_AW){1'b0}}, fifo_level} + {{(10 - SAW){1'b0}}, s_len};
    wire [11:0] words = a_sm ? {N12[10:0], 1'b0} : N12;
    wire        room  = {{(11 - FIFO_AW){1'b0}}, fifo_level} + words <= DEPTH12;
    assign hold       = a_stall && phase == PH_SAMPLING && !room;
    wire   stalled    = hold && held;
    assign run_free   = busy && room && !held;
    assign fifo_avail = used;

    // ---- soft reset (CTRL.RESET) ------------------------------------------------
    reg soft_rst;
    assign core_rst = rst || soft_rst;
    wire   r_all = rst || soft_rst;

    // ---- START check (tspu_model_configure) ------------------------------------
    function cfg_ok;
        input dummy;
        reg [31:0] wd;
        begin
            wd = (cfg[CI_SAMPLE_MOMENTUM] & 32'd1) != 0 ? 2 * N32 : N32;
            cfg_ok = !dummy &&
                cfg[CI_INTEGRATOR] <= 32'd2 &&
                cfg[CI_DRIFT_SHIFT] <= 32'd62 &&
                cfg[CI_KA_SHIFT] <= 32'd62 &&
                cfg[CI_KO_SHIFT] <= 32'd62 &&
                cfg[CI_NOISE_SHIFT] <= 32'd20 &&
                cfg[CI_THIN] != 32'd0 &&
                cfg[CI_N_SEGMENTS] <= NSEG32 &&
                cfg[CI_LAMBDA_INIT] <= 32'h80000000 &&
                !((cfg[CI_SAMPLE_MOMENTUM] & 32'd1) != 0 &&
                  cfg[CI_INTEGRATOR] != 32'd2) &&
                !(cfg[CI_N_SAMPLES] != 32'd0 && wd > DEPTH32);
        end
    endfunction

    // ---- read mux of the plain registers ----------------------------------------
    wire [15:0] a = bus_addr;
    reg  [31:0] rd_plain;
    always @(*) begin
        rd_plain = 32'd0;
        if (a == TSPU_REG_MAGIC) rd_plain = TSPU_MAGIC;
        if (a == TSPU_REG_VERSION) rd_plain = TSPU_GW_VERSION;
        if (a == TSPU_REG_REGMAP_HASH) rd_plain = TSPU_REGMAP_HASH;
        if (a == TSPU_REG_N_LANES) rd_plain = N32;
        if (a == TSPU_REG_P_MACS) rd_plain = P32;
        if (a == TSPU_REG_WIDTHS)  // the formats of docs/numerics.md
            rd_plain = (32'd32 << TSPU_WIDTHS_STATE_LSB) | (32'd16 << TSPU_WIDTHS_OPERAND_LSB) |
                       (32'd16 << TSPU_WIDTHS_COUPLING_LSB) | (32'd32 << TSPU_WIDTHS_BIAS_LSB);
        if (a == TSPU_REG_FEATURES)
            rd_plain = (32'd1 << TSPU_FEATURES_EM_LSB) | (32'd1 << TSPU_FEATURES_LM_LSB) |
                       (32'd1 << TSPU_FEATURES_UD_LSB) | (32'd1 << TSPU_FEATURES_SCHEDULE_LSB) |
                       (32'd1 << TSPU_FEATURES_WORK_LSB) | (32'd1 << TSPU_FEATURES_MOMENTS_LSB) |
                       (32'd1 << TSPU_FEATURES_SAMPLE_MOMENTUM_LSB) | (32'd1 << TSPU_FEATURES_FIFO_STALL_LSB);
        if (a == TSPU_REG_CLOCK_HZ) rd_plain = CLK32;
        if (a == TSPU_REG_CYCLES_PER_STEP) rd_plain = CPS32;
        if (a == TSPU_REG_FIFO_DEPTH) rd_plain = DEPTH32;
        if (a == TSPU_REG_MAX_SEGMENTS) rd_plain = NSEG32;
        if (a == TSPU_REG_SCRATCH) rd_plain = scratch;
        if (a == TSPU_REG_UART_DIV) rd_plain = {16'd0, uart_div};
        if (a >= TSPU_REG_INTEGRATOR && a <= TSPU_REG_FIFO_STALL) rd_plain = cfg[a[3:0] - CI_INTEGRATOR];
        if (a == TSPU_REG_FLAGS)
            rd_plain = {27'd0, flags} | ({31'd0, rejected} << TSPU_FLAGS_REJECTED_LSB) |
                       ({31'd0, busy} << TSPU_FLAGS_RUNNING_LSB) | ({31'd0, stalled} << TSPU_FLAGS_STALLED_LSB);
        if (a == TSPU_REG_PHASE) rd_plain = {29'd0, phase};
        if (a == TSPU_REG_SAT_COUNT) rd_plain = sat_count;
        if (a == TSPU_REG_FIFO_DROPPED) rd_plain = fifo_dropped;
        if (a == TSPU_REG_STEPS_LO) rd_plain = steps[31:0];
        if (a == TSPU_REG_STEPS_HI) rd_plain = steps_hi;
        if (a == TSPU_REG_SAMPLES) rd_plain = samples;
        if (a == TSPU_REG_LAMBDA_ACC) rd_plain = lambda_acc;
        if (a == TSPU_REG_WORK_LO) rd_plain = work[31:0];
        if (a == TSPU_REG_WORK_HI) rd_plain = work_hi;
        if (a == TSPU_REG_MOM_COUNT) rd_plain = mom_count;
        if (a == TSPU_REG_FIFO_LEVEL) rd_plain = {21'd0, fifo_avail};
        if (a >= TSPU_WIN_SCHEDULE_BASE && a - TSPU_WIN_SCHEDULE_BASE < SZ_SCHED)
            rd_plain = sched[a[4:0]];
    end

    // window offsets
    wire [15:0] o_c0 = a - TSPU_WIN_COUPLING0_BASE, o_c1 = a - TSPU_WIN_COUPLING1_BASE;
    wire [15:0] o_b0 = a - TSPU_WIN_BIAS0_BASE, o_b1 = a - TSPU_WIN_BIAS1_BASE;
    wire [15:0] o_x  = a - TSPU_WIN_STATE_X_BASE, o_p = a - TSPU_WIN_STATE_P_BASE;
    wire [15:0] o_sd = a - TSPU_WIN_LANE_SEED_BASE;
    wire [15:0] o_ms = a - TSPU_WIN_MOM_SUM_BASE, o_mq = a - TSPU_WIN_MOM_SUMSQ_BASE;
    wire in_c0 = a >= TSPU_WIN_COUPLING0_BASE && o_c0 < SZ_CPL;
    wire in_c1 = a >= TSPU_WIN_COUPLING1_BASE && o_c1 < SZ_CPL;
    wire in_b0 = a >= TSPU_WIN_BIAS0_BASE && o_b0 < SZ_BIAS;
    wire in_b1 = a >= TSPU_WIN_BIAS1_BASE && o_b1 < SZ_BIAS;
    wire in_x  = a >= TSPU_WIN_STATE_X_BASE && o_x < SZ_ST;
    wire in_p  = a >= TSPU_WIN_STATE_P_BASE && o_p < SZ_ST;
    wire in_sd = a >= TSPU_WIN_LANE_SEED_BASE && o_sd < SZ_SEED;
    wire in_ms = a >= TSPU_WIN_MOM_SUM_BASE && o_ms < SZ_MS;
    wire in_mq = a >= TSPU_WIN_MOM_SUMSQ_BASE && o_mq < SZ_MQ;
    wire        c_set = in_c1;
    wire [15:0] c_off = in_c1 ? o_c1 : o_c0;
    wire        c_ok  = c_off < NN16;
    /* verilator lint_off WIDTH */ // quotient and remainder of a 16-bit offset by N
    wire [5:0]  c_row = c_off / N, c_col = c_off % N;
    /* verilator lint_on WIDTH */
    wire        b_set = in_b1;
    wire [15:0] b_off = in_b1 ? o_b1 : o_b0;
    wire [15:0] s_off = in_p ? o_p : o_x;
    wire [15:0] sd_lane = {2'd0, o_sd[15:2]};
    wire        sd_hit  = sh_valid && sh_lane == sd_lane[5:0];
    /* verilator lint_off WIDTH */ // shadow indices: set * size + offset, in range when c_ok / b_off < N
    wire [$clog2(2*N*N)-1:0] cpl_i  = c_set * N * N + c_off;
    wire [$clog2(2*N)-1:0]   bias_i = b_set * N + b_off;
    /* verilator lint_on WIDTH */
    wire [15:0] cpl_rd = cpl_sh[cpl_i];
    wire [15:0] peek_idx = bus_addr;
    wire [SAW-1:0] peek_pos = s_head + peek_idx[SAW-1:0];

    // ---- controller ----------------------------------------------------------------
    localparam [3:0] CS_IDLE = 4'd0, CS_RW1 = 4'd1, CS_RW2 = 4'd2, CS_SEG = 4'd3,
                     CS_GO = 4'd4, CS_FILL1 = 4'd5, CS_FILL2 = 4'd6, CS_FLUSH = 4'd7,
                     CS_POP1 = 4'd8, CS_POP2 = 4'd9;
    localparam [1:0] RK_ST = 2'd0, RK_SEED = 2'd1, RK_MOM = 2'd2;
    reg [3:0] cs;
    reg [1:0] rk;        // what CS_RW2 captures
    reg       rk_hi;     // moments: the high word
    reg [1:0] rk_word;   // seeds: the word
    reg [2:0] fl_k;      // flush: next word
    reg       fl_then;   // after a flush: continue with the pending seed write
    reg [4:0] sg;        // schedule copy index
    wire req = bus_req && !bus_ack;

    integer i;
    always @(posedge clk) begin
        // single-cycle strobes
        bus_ack <= 1'b0; seg_we <= 1'b0; cpl_we <= 1'b0; bias_we <= 1'b0; seed_we <= 1'b0;
        seed_re <= 1'b0; st_we <= 1'b0; st_re <= 1'b0; mom_re <= 1'b0; fifo_re <= 1'b0;
        cmd_start <= 1'b0; cmd_stop <= 1'b0; soft_rst <= 1'b0;
        if (r_all) begin
            bus_ack <= soft_rst && !rst; // CTRL.RESET is answered after the reset
            cs <= CS_IDLE; scratch <= 32'd0; uart_div <= UDIV_RESET; rejected <= 1'b0; steps_hi <= 32'd0; work_hi <= 32'd0;
            sh_valid <= 1'b0; sh_lane <= 6'd0; s_head <= {SAW{1'b0}}; s_len <= {(SAW+1){1'b0}};
            for (i = 0; i < NCFG; i = i + 1) cfg[i] <= 32'd0;
            cfg[CI_INTEGRATOR] <= 32'd1; // tspu_model_default_config: LM
            cfg[CI_THIN] <= 32'd1;       // thin 1
            for (i = 0; i < 2 * NSEG; i = i + 1) sched[i] <= 32'd0;
            a_int <= 2'd1; a_drift <= 6'd0; a_noise <= 5'd0; a_ka <= 16'd0; a_kash <= 6'd0;
            a_ko <= 16'd0; a_kosh <= 6'd0; a_burnin <= 32'd0; a_thin <= 32'd1; a_nsamp <= 32'd0;
            a_nseg <= 5'd0; a_linit <= 32'd0; a_sm <= 1'b0; a_stall <= 1'b0;
            rk <= RK_ST; rk_hi <= 1'b0; rk_word <= 2'd0; fl_k <= 3'd0; fl_then <= 1'b0; sg <= 5'd0;
            bus_rdata <= 32'd0;
        end else begin
            case (cs)
                CS_IDLE: if (req) begin
                    case (bus_op)
                        OP_RD: begin
                            bus_rdata <= rd_plain;
                            bus_ack <= 1'b1; // unless a core read follows (below)
                            if (a == TSPU_REG_STEPS_LO) steps_hi <= steps[63:32];
                            if (a == TSPU_REG_WORK_LO) work_hi <= work[63:32];
                            if ((in_c0 || in_c1)) bus_rdata <= c_ok ? {{16{cpl_rd[15]}}, cpl_rd} : 32'd0;
                            if ((in_b0 || in_b1)) bus_rdata <= b_off < N16 ? bias_sh[bias_i] : 32'd0;
                            if ((in_x || in_p) && s_off < N16) begin
                                st_re <= 1'b1; st_sel <= in_p; st_lane <= s_off[5:0];
                                rk <= RK_ST; cs <= CS_RW1; bus_ack <= 1'b0;
                            end
                            if (in_sd && sd_lane < N16) begin
                                if (sd_hit) bus_rdata <= sh[o_sd[1:0]];
                                else begin
                                    seed_re <= 1'b1; seed_lane <= sd_lane[5:0]; rk_word <= o_sd[1:0];
                                    rk <= RK_SEED; cs <= CS_RW1; bus_ack <= 1'b0;
                                end
                            end
                            if (in_ms && o_ms[15:1] < N16[14:0]) begin
                                mom_re <= 1'b1; mom_addr <= T12 + o_ms[12:1]; rk_hi <= o_ms[0];
                                rk <= RK_MOM; cs <= CS_RW1; bus_ack <= 1'b0;
                            end
                            if (in_mq && o_mq[15:1] < T16[14:0]) begin
                                mom_re <= 1'b1; mom_addr <= o_mq[12:1]; rk_hi <= o_mq[0];
                                rk <= RK_MOM; cs <= CS_RW1; bus_ack <= 1'b0;
                            end
                        end
                        OP_WR: begin
                            bus_ack <= 1'b1; // unless a longer operation follows (below)
                            if (a == TSPU_REG_CTRL) begin
                                if (bus_wdata[TSPU_CTRL_RESET_LSB]) begin
                                    soft_rst <= 1'b1; bus_ack <= 1'b0; // acked after the reset
                                end
                                else begin
                                    if (bus_wdata[TSPU_CTRL_STOP_LSB]) cmd_stop <= 1'b1;
                                    if (bus_wdata[TSPU_CTRL_START_LSB]) begin
                                        if (busy || !cfg_ok(1'b0)) rejected <= 1'b1;
                                        else begin sg <= 5'd0; cs <= CS_SEG; bus_ack <= 1'b0; end
                                    end
                                end
                            end
                            if (a == TSPU_REG_SCRATCH) scratch <= bus_wdata;
                            if (a == TSPU_REG_UART_DIV) uart_div <= bus_wdata[15:0];
                            if (a >= TSPU_REG_INTEGRATOR && a <= TSPU_REG_FIFO_STALL)
                                cfg[a[3:0] - CI_INTEGRATOR] <= (a == TSPU_REG_KA || a == TSPU_REG_KO) ?
                                    {{16{bus_wdata[15]}}, bus_wdata[15:0]} : bus_wdata;
                            if (a >= TSPU_WIN_SCHEDULE_BASE && a - TSPU_WIN_SCHEDULE_BASE < SZ_SCHED)
                                sched[a[4:0]] <= bus_wdata;
                            if ((in_c0 || in_c1) && c_ok && !busy) begin
                                cpl_sh[cpl_i] <= bus_wdata[15:0];
                                cpl_we <= 1'b1; cpl_set <= c_set; cpl_row <= c_row;
                                cpl_col <= c_col; cpl_data <= bus_wdata[15:0];
                            end
                            if ((in_b0 || in_b1) && b_off < N16 && !busy) begin
                                bias_sh[bias_i] <= bus_wdata;
                                bias_we <= 1'b1; bias_set <= b_set; bias_lane <= b_off[5:0];
                                bias_data <= bus_wdata;
                            end
                            if ((in_x || in_p) && s_off < N16) begin
                                st_we <= 1'b1; st_sel <= in_p; st_lane <= s_off[5:0]; st_data <= bus_wdata;
                            end
                            if (in_sd && sd_lane < N16) begin
                                if (sd_hit) sh[o_sd[1:0]] <= bus_wdata;
                                else if (sh_valid) begin
                                    fl_k <= 3'd0; fl_then <= 1'b1; cs <= CS_FLUSH; bus_ack <= 1'b0;
                                end else begin
                                    seed_re <= 1'b1; seed_lane <= sd_lane[5:0]; cs <= CS_FILL1;
                                    bus_ack <= 1'b0;
                                end
                            end
                        end
                        OP_FD: begin
                            if (sh_valid) begin fl_k <= 3'd0; fl_then <= 1'b0; cs <= CS_FLUSH; end
                            else bus_ack <= 1'b1;
                        end
                        OP_PEEK: begin
                            if (peek_idx < {{(15 - SAW){1'b0}}, s_len}) begin
                                bus_rdata <= {16'd0, stage[peek_pos]};
                                bus_ack <= 1'b1;
                            end else begin
                                fifo_re <= 1'b1; cs <= CS_POP1;
                            end
                        end
                        default: begin // OP_COMMIT (and unused codes)
                            if (bus_wdata[SAW:0] >= s_len) begin
                                s_head <= s_head + s_len[SAW-1:0];
                                s_len <= {(SAW+1){1'b0}};
                            end else begin
                                s_head <= s_head + bus_wdata[SAW-1:0];
                                s_len <= s_len - bus_wdata[SAW:0];
                            end
                            bus_ack <= 1'b1;
                        end
                    endcase
                end
                CS_RW1: cs <= CS_RW2; // the core reads
                CS_RW2: begin
                    case (rk)
                        RK_ST:   bus_rdata <= st_rdata;
                        RK_SEED: bus_rdata <= seed_rdata[32 * rk_word +: 32];
                        default: bus_rdata <= rk_hi ? mom_rdata[63:32] : mom_rdata[31:0];
                    endcase
                    bus_ack <= 1'b1; cs <= CS_IDLE;
                end
                CS_SEG: begin // copy the schedule into the core, then start it
                    seg_we <= 1'b1; seg_addr <= sg[3:0];
                    seg_steps <= sched[{sg[3:0], 1'b0}]; seg_dlambda <= sched[{sg[3:0], 1'b1}];
                    sg <= sg + 5'd1;
                    if (sg == SEG_LAST) cs <= CS_GO;
                end
                CS_GO: begin
                    a_int   <= cfg[CI_INTEGRATOR][1:0];
                    a_drift <= cfg[CI_DRIFT_SHIFT][5:0];
                    a_noise <= cfg[CI_NOISE_SHIFT][4:0];
                    a_ka    <= cfg[CI_KA][15:0];
                    a_kash  <= cfg[CI_KA_SHIFT][5:0];
                    a_ko    <= cfg[CI_KO][15:0];
                    a_kosh  <= cfg[CI_KO_SHIFT][5:0];
                    a_burnin <= cfg[CI_BURNIN];
                    a_thin  <= cfg[CI_THIN];
                    a_nsamp <= cfg[CI_N_SAMPLES];
                    a_nseg  <= cfg[CI_N_SEGMENTS][4:0];
                    a_linit <= cfg[CI_LAMBDA_INIT];
                    a_sm    <= cfg[CI_SAMPLE_MOMENTUM][0];
                    a_stall <= cfg[CI_FIFO_STALL][0];
                    rejected <= 1'b0;
                    s_len <= {(SAW+1){1'b0}}; // the core clears its FIFO at start
                    cmd_start <= 1'b1;        // cfg_* hold the new values from the next cycle
                    bus_ack <= 1'b1; cs <= CS_IDLE;
                end
                CS_FILL1: cs <= CS_FILL2;
                CS_FILL2: begin
                    sh[0] <= seed_rdata[31:0];  sh[1] <= seed_rdata[63:32];
                    sh[2] <= seed_rdata[95:64]; sh[3] <= seed_rdata[127:96];
                    sh[o_sd[1:0]] <= bus_wdata;
                    sh_valid <= 1'b1; sh_lane <= sd_lane[5:0];
                    bus_ack <= 1'b1; cs <= CS_IDLE;
                end
                CS_FLUSH: begin // take the shadowed lane (LFSR113 validity as the model)
                    if (fl_k == 3'd0 && !(sh[0] >= 32'd2 && sh[1] >= 32'd8 && sh[2] >= 32'd16 && sh[3] >= 32'd128)) begin
                        rejected <= 1'b1;
                        fl_k <= 3'd4;
                    end else if (fl_k != 3'd4) begin
                        seed_we <= 1'b1; seed_lane <= sh_lane; seed_word <= fl_k[1:0];
                        seed_data <= sh[fl_k[1:0]];
                        fl_k <= fl_k + 3'd1;
                    end else begin
                        sh_valid <= 1'b0;
                        if (fl_then) begin
                            seed_re <= 1'b1; seed_lane <= sd_lane[5:0]; cs <= CS_FILL1;
                        end else begin bus_ack <= 1'b1; cs <= CS_IDLE; end
                    end
                end
                CS_POP1: cs <= CS_POP2;
                CS_POP2: begin
                    stage[s_head + s_len[SAW-1:0]] <= fifo_rdata;
                    s_len <= s_len + 1'b1;
                    bus_rdata <= {16'd0, fifo_rdata};
                    bus_ack <= 1'b1; cs <= CS_IDLE;
                end
                default: cs <= CS_IDLE;
            endcase
        end
    end
endmodule
`default_nettype wire
