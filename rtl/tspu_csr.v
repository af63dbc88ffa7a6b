`default_nettype none
// tspu_csr - the register map (docs/regmap.md, regmap/tspu_regmap.json) on
// the ports of tspu_core.  The C model of these semantics is
// host/lib/model_dev.c; this block follows it:
//   - CONFIG and SCHEDULE are shadow registers taken at CTRL.START, which
//     checks them as tspu_model_configure does (a bad program, or START while
//     running, sets FLAGS.REJECTED and does not start); the schedule is copied
//     into the core, then the configuration, then the core is started;
//   - coupling / bias / state writes go to the core while it is idle (it
//     ignores them while running); coupling and bias read back from a shadow;
//   - lane seeds are collected per lane (a one-lane shadow filled from the
//     core) and taken when the frame ends or another lane is written: an
//     invalid LFSR113 state is refused and sets FLAGS.REJECTED;
//   - reading STEPS_LO / WORK_LO latches STEPS_HI / WORK_HI (into the shadow
//     memory, in the clock the low word is taken);
//   - the FIFO is read by peek/commit: peeked words move from the core FIFO
//     into a stage buffer (ring of MAX_FIFO_ELEMS words) and leave it when the
//     bridge commits them; FIFO_LEVEL counts both;
//   - CONFIG.FIFO_STALL: the core is held at a step boundary in the sampling
//     phase while its FIFO has no room for a whole sample (the rule of
//     md_frame_done, with the stage as a buffer of its own), so no sample is
//     dropped and the samples do not depend on host timing.
// Area: every shadow lives in RAM, not in flip-flops.  One 32-bit shadow
// memory (two tspu_spram: SB_SPRAM256KA on the iCE40UP) holds, by word index,
//   0x0000 + {set, offset}   coupling read-back (sign-extended int16)
//   0x2000 + {set, lane}     bias read-back
//   0x2080 + word            the one-lane seed shadow
//   0x2100 + address[7:0]    SCRATCH, UART_DIV, CONFIG, SCHEDULE, STEPS_HI, WORK_HI (< 0x100)
//   0x2200 + index           the FIFO stage ring (low halves)
// (so the link leaves one of the UP5K's four SPRAMs free).  A hard reset
// clears the shadow memory below 0x2200 (8704 clocks), CTRL.RESET the registers
// (256 clocks); a request waits meanwhile.  Core write data, lanes and
// addresses come straight from the request (the bridge holds bus_addr and
// bus_wdata until the acknowledge), so they need no registers of their own.
// Bus: one request at a time (bus_req held until the bus_ack pulse).
module tspu_csr #(
    parameter N = 16,                  // lanes of the core, 2..64
    parameter P = 8,                   // MACs of the core (reported)
    parameter FIFO_AW = 9,             // core FIFO of 2^FIFO_AW words
    parameter CLOCK_HZ = 12000000,     // reported clock of the unit
    parameter CYCLES_PER_STEP = 35,    // reported cycles per step
    parameter UART_DIV_RESET = 0,      // UART_DIV at reset (0: no UART)
    parameter DATA_MAX_OBS = 0,        // the core's data-drift memory (0: not built)
    parameter HAVE_UD = 1,             // the core's features (tspu_core): FEATURES
    parameter HAVE_SCHEDULE = 1        //   reports them, START refuses programs needing them
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
    output wire [3:0]   seg_addr,
    output wire [31:0]  seg_steps,
    output wire [31:0]  seg_dlambda,
    output reg          cpl_we,
    output wire         cpl_set,
    output wire [5:0]   cpl_row,
    output wire [5:0]   cpl_col,
    output wire [15:0]  cpl_data,
    output reg          bias_we,
    output wire         bias_set,
    output wire [5:0]   bias_lane,
    output wire [31:0]  bias_data,
    output reg          seed_we,
    output reg          seed_re,
    output wire [5:0]   seed_lane,
    output wire [1:0]   seed_word,
    output wire [31:0]  seed_data,
    input  wire [127:0] seed_rdata,
    output reg          st_we,
    output reg          st_re,
    output wire         st_sel,
    output wire [5:0]   st_lane,
    output wire [31:0]  st_data,
    input  wire [31:0]  st_rdata,
    output reg          cmd_start,
    output reg          cmd_stop,
    output wire         hold,
    input  wire         held,
    output reg          mom_re,
    output wire [11:0]  mom_addr,
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
    input  wire [FIFO_AW:0] fifo_level,
    input  wire         fifo_room,  // the core has room for a whole sample (tspu_core fifo_room_now)
    // data-driven drift (DATA block, DATA_* windows; DATA_MAX_OBS > 0)
    output wire [1:0]   cfg_data_mode,
    output wire [10:0]  cfg_n_obs,
    output wire [5:0]   cfg_data_sr,
    output wire [5:0]   cfg_data_sg,
    output wire [5:0]   cfg_data_dd,
    output reg          dat_we,
    output reg          dat_re,
    output wire [1:0]   dat_sel,
    output wire [13:0]  dat_addr,
    output wire [15:0]  dat_wdata,
    input  wire [15:0]  dat_rdata
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
    localparam [3:0] CI_LAST = NCFG - 1;
    localparam [15:0] N16 = N, NN16 = N * N, T16 = T;
    localparam [11:0] T12 = T;
    localparam [15:0] UDIV_RESET = UART_DIV_RESET;
    localparam [31:0] N32 = N, DEPTH32 = DEPTH, NSEG32 = NSEG, P32 = P, CLK32 = CLOCK_HZ,
                      CPS32 = CYCLES_PER_STEP;
    // shadow memory word indices (header)
    localparam [13:0] SM_BIAS = 14'h2000, SM_SEED = 14'h2080, SM_REGS = 14'h2100, SM_STAGE = 14'h2200,
                      SM_LAST = 14'h21FF, SM_INT = SM_REGS + TSPU_REG_INTEGRATOR,
                      SM_THIN = SM_REGS + TSPU_REG_THIN, SM_CFG = SM_REGS + TSPU_REG_INTEGRATOR,
                      SM_SCHED = SM_REGS + TSPU_WIN_SCHEDULE_BASE, SM_UDIV = SM_REGS + TSPU_REG_UART_DIV;
    localparam SM_DEPTH = 14'h2400;
    localparam SCHED_END = TSPU_WIN_SCHEDULE_BASE + TSPU_WIN_SCHEDULE_SIZE;
    /* verilator lint_on WIDTH */
    // is the START configuration bad for these many sample words? (constants)
    localparam BAD_N  = N32 > DEPTH32;      // n_samples != 0 and N words do not fit
    localparam BAD_2N = 2 * N32 > DEPTH32;  // ... with momentum samples (2N words)

    generate
        if (N < 2 || N > 64) begin : g_bad_n
            tspu_param_error_n_out_of_range u_err ();
        end
        if (SMAX != (1 << SAW) || SMAX > 512) begin : g_bad_stage
            tspu_param_error_stage_not_pow2 u_err ();
        end
        if (NSEG != 16) begin : g_bad_seg
            tspu_param_error_core_has_16_segments u_err ();
        end
        if (TSPU_REG_STEPS_HI != TSPU_REG_STEPS_LO + 16'd1 || TSPU_REG_WORK_HI != TSPU_REG_WORK_LO + 16'd1 ||
            TSPU_REG_STEPS_LO[0] || TSPU_REG_WORK_LO[0]) begin : g_bad_hi
            tspu_param_error_hi_not_lo_plus_1 u_err ();
        end
        if (SCHED_END > 256 || TSPU_REG_FIFO_STALL > 16'd255) begin : g_bad_regs
            tspu_param_error_shadowed_registers_above_0x100 u_err ();
        end
    endgenerate

    function f_in;
        input [15:0] ad;
        input [15:0] base;
        input [15:0] size;
        begin
            f_in = ((ad ^ base) & ~(size - 16'd1)) == 16'd0;
        end
    endfunction
    // The burst check is f_tspu_access (generated from the table) evaluated
    // on constants only, so no comparator is built: a table of the 128
    // registers below 0x80 and one of the 1024 blocks of 64 words above
    // (every window there is 64-aligned, a multiple of 64 words: checked at
    // elaboration, both ends of every block must agree).
    function [255:0] f_acc_tab;
        input dummy;
        integer k;
        reg [15:0] ka;
        begin
            f_acc_tab = {255'd0, dummy};
            for (k = 0; k < 128; k = k + 1) begin
                ka = k[15:0];
                f_acc_tab[2 * k +: 2] = f_tspu_access(ka);
            end
        end
    endfunction
    function [2047:0] f_acc_blk;
        input dummy;
        integer k;
        reg [15:0] ka;
        begin
            f_acc_blk = {2047'd0, dummy};
            for (k = 2; k < 1024; k = k + 1) begin
                ka = k[15:0] << 6;
                f_acc_blk[2 * k +: 2] = f_tspu_access(ka);
            end
        end
    endfunction
    function acc_blk_bad; // a block whose ends differ
        input dummy;
        integer k;
        reg [15:0] ka;
        begin
            acc_blk_bad = dummy;
            for (k = 2; k < 1024; k = k + 1) begin
                ka = k[15:0] << 6;
                if (f_tspu_access(ka) != f_tspu_access(ka | 16'd63)) acc_blk_bad = 1'b1;
            end
        end
    endfunction
    localparam [255:0]  ACC_TAB = f_acc_tab(1'b0);
    localparam [2047:0] ACC_BLK = f_acc_blk(1'b0);
    localparam          ACC_BAD = acc_blk_bad(1'b0);
    generate
        if (ACC_BAD) begin : g_bad_windows
            tspu_param_error_window_not_64_aligned u_err ();
        end
    endgenerate
    assign chk_acc = chk_addr[15:7] == 9'd0 ? ACC_TAB[{chk_addr[6:0], 1'b0} +: 2]
                                            : ACC_BLK[{chk_addr[15:6], 1'b0} +: 2];

    // ---- the memories ------------------------------------------------------------------
    // shadow: registered controls, 32-bit words as two 16-bit halves
    reg         sm_we, sm_re;
    reg  [13:0] sm_a;
    reg  [1:0]  sm_src;   // write data: SRC_REQ the request, SRC_RD bus_rdata, SRC_CLR reset value
    localparam [1:0] SRC_REQ = 2'd0, SRC_RD = 2'd1, SRC_CLR = 2'd2, SRC_HI = 2'd3; // SRC_HI: STEPS / WORK high word
    wire [31:0] sm_q;
    reg  [31:0] sm_d;
    // stage ring
    tspu_spram #(.DEPTH(SM_DEPTH), .AW(14)) u_sm_lo (
        .clk(clk), .we(sm_we), .re(sm_re), .addr(sm_a), .wdata(sm_d[15:0]), .rdata(sm_q[15:0]));
    tspu_spram #(.DEPTH(SM_DEPTH), .AW(14)) u_sm_hi (
        .clk(clk), .we(sm_we), .re(sm_re), .addr(sm_a), .wdata(sm_d[31:16]), .rdata(sm_q[31:16]));

    // ---- registers ---------------------------------------------------------
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
    // one-lane seed shadow (its words in the shadow memory)
    reg        sh_valid;
    reg [5:0]  sh_lane;
    // FIFO stage ring
    reg [SAW-1:0] s_head;
    reg [SAW:0]   s_len;
    reg [SAW-1:0] s_tail;   // s_head + s_len (mod SMAX): where the next element is staged

    // ---- FIFO room, stall -----------------------------------------------------
    // The stage is a buffer of its own: the core is held while its FIFO
    // has no room for a whole sample, so it refills the FIFO while the
    // bridge sends the staged words (the model's device counts both against
    // one capacity; with no drops the samples are the same either way).
    wire [10:0] used  = {{(10 - FIFO_AW){1'b0}}, fifo_level} + {{(10 - SAW){1'b0}}, s_len};
    // room for a sample of N (2N with momentum, the core's
    // cfg_sample_momentum = a_sm) words: fifo_room, the core's own test
    wire        room  = fifo_room;
    // registered (Fmax: the level compare no longer feeds the core's step
    // decision): a keep pass fills the FIFO cycles before the next step
    // boundary, and a host read that makes room releases the hold a clock later
    reg    hold_q;
    always @(posedge clk) hold_q <= !rst && a_stall && phase == PH_SAMPLING && !room;
    assign hold       = hold_q;
    wire   stalled    = hold && held;
    reg    stalled_q;   // FLAGS.STALLED as read: a clock late (no compare in the read path)
    always @(posedge clk) stalled_q <= stalled;
    assign run_free   = busy && room && !held;
    reg [10:0] avail_q;   // used, a clock late (a lower bound while a READ_FIFO peeks: only the core adds)
    always @(posedge clk) avail_q <= used;
    assign fifo_avail = avail_q;

    // ---- soft reset (CTRL.RESET) ------------------------------------------------
    reg soft_rst;
    assign core_rst = rst || soft_rst;
    wire   r_all = rst || soft_rst;

    // ---- address decoding (windows are aligned powers of two) --------------------
    wire [15:0] a = bus_addr;
    wire in_c0 = f_in(a, TSPU_WIN_COUPLING0_BASE, TSPU_WIN_COUPLING0_SIZE[15:0]);
    wire in_c1 = f_in(a, TSPU_WIN_COUPLING1_BASE, TSPU_WIN_COUPLING1_SIZE[15:0]);
    wire in_b0 = f_in(a, TSPU_WIN_BIAS0_BASE, TSPU_WIN_BIAS0_SIZE[15:0]);
    wire in_b1 = f_in(a, TSPU_WIN_BIAS1_BASE, TSPU_WIN_BIAS1_SIZE[15:0]);
    wire in_x  = f_in(a, TSPU_WIN_STATE_X_BASE, TSPU_WIN_STATE_X_SIZE[15:0]);
    wire in_p  = f_in(a, TSPU_WIN_STATE_P_BASE, TSPU_WIN_STATE_P_SIZE[15:0]);
    wire in_sd = f_in(a, TSPU_WIN_LANE_SEED_BASE, TSPU_WIN_LANE_SEED_SIZE[15:0]);
    wire in_ms = f_in(a, TSPU_WIN_MOM_SUM_BASE, TSPU_WIN_MOM_SUM_SIZE[15:0]);
    wire in_mq = f_in(a, TSPU_WIN_MOM_SUMSQ_BASE, TSPU_WIN_MOM_SUMSQ_SIZE[15:0]);
    // DATA block (rw part): shadowed like CONFIG for the read-back; the
    // checked values are kept in flip-flops (w_*) and taken at START (a_d*)
    localparam HAVE_DATA = DATA_MAX_OBS > 0;
    // shadowed registers (UART_DIV too: read back from the shadow; the board's
    // UART takes the flip-flop copy uart_div).  The classes of the registers
    // (all below 0x80) are tables of constants indexed by a[6:0] (no
    // comparators): 0 shadowed, 1 DATA block, 2 STEPS_HI / WORK_HI
    function [127:0] f_rtab;
        input [1:0] c;
        integer k;
        reg [15:0] ka;
        begin
            f_rtab = 128'd0;
            for (k = 0; k < 128; k = k + 1) begin
                ka = k[15:0];
                case (c)
                    2'd0: f_rtab[k] = (ka >= TSPU_REG_INTEGRATOR && ka <= TSPU_REG_FIFO_STALL) ||
                                      f_in(ka, TSPU_WIN_SCHEDULE_BASE, TSPU_WIN_SCHEDULE_SIZE[15:0]) ||
                                      ka == TSPU_REG_SCRATCH || ka == TSPU_REG_UART_DIV ||
                                      (HAVE_DATA && ka >= TSPU_REG_DATA_MODE && ka <= TSPU_REG_DATA_DD);
                    2'd1: f_rtab[k] = HAVE_DATA && ka >= TSPU_REG_DATA_MODE && ka <= TSPU_REG_DATA_DD;
                    default: f_rtab[k] = ka == TSPU_REG_STEPS_HI || ka == TSPU_REG_WORK_HI;
                endcase
            end
        end
    endfunction
    localparam [127:0] RT_REGS = f_rtab(2'd0), RT_DREG = f_rtab(2'd1), RT_HI = f_rtab(2'd2);
    wire a_lo7   = a[15:7] == 9'd0;
    wire in_dreg = a_lo7 && RT_DREG[a[6:0]];
    wire in_regs = a_lo7 && RT_REGS[a[6:0]];
    // data windows -> the core's dat_* port (sel 0 X, 1 y, 2 l, 3 link table)
    wire in_dx = HAVE_DATA && f_in(a, TSPU_WIN_DATA_X_BASE, TSPU_WIN_DATA_X_SIZE[15:0]);
    wire in_dy = HAVE_DATA && f_in(a, TSPU_WIN_DATA_Y_BASE, TSPU_WIN_DATA_Y_SIZE[15:0]);
    wire in_dl = HAVE_DATA && f_in(a, TSPU_WIN_DATA_L_BASE, TSPU_WIN_DATA_L_SIZE[15:0]);
    wire in_dt = HAVE_DATA && f_in(a, TSPU_WIN_LINK_TABLE_BASE, TSPU_WIN_LINK_TABLE_SIZE[15:0]);
    wire in_dat = in_dx || in_dy || in_dl || in_dt;
    assign dat_sel   = in_dt ? 2'd3 : in_dl ? 2'd2 : in_dy ? 2'd1 : 2'd0;
    assign dat_addr  = in_dx ? a[13:0] : {4'd0, a[9:0]};
    assign dat_wdata = bus_wdata[15:0];
    // the DATA registers as written (checked as tspu_model_configure does)
    /* verilator lint_off WIDTH */
    localparam [31:0] DMO32 = DATA_MAX_OBS;
    /* verilator lint_on WIDTH */
    reg [1:0]  w_dm, a_dm;
    reg [10:0] w_k, a_k;
    reg [5:0]  w_sr, w_sg, w_dd, a_sr, a_sg, a_dd;
    reg        w_bad_dm, w_bad_k, w_k0, w_bad_sr, w_bad_sg, w_bad_dd;
    wire       data_bad = w_bad_dm || w_bad_k || w_bad_sr || w_bad_sg || w_bad_dd || (w_dm != 2'd0 && w_k0);
    assign cfg_data_mode = a_dm; assign cfg_n_obs = a_k;
    assign cfg_data_sr = a_sr; assign cfg_data_sg = a_sg; assign cfg_data_dd = a_dd;
    wire in_hi   = a_lo7 && RT_HI[a[6:0]]; // STEPS_HI, WORK_HI: shadowed at the LO read
    wire        in_c  = in_c0 || in_c1;
    wire        in_b  = in_b0 || in_b1;
    wire        in_st = in_x || in_p;
    wire [15:0] o_c  = a & (TSPU_WIN_COUPLING0_SIZE[15:0] - 16'd1);
    wire [15:0] o_b  = a & (TSPU_WIN_BIAS0_SIZE[15:0] - 16'd1);
    wire [15:0] o_s  = a & (TSPU_WIN_STATE_X_SIZE[15:0] - 16'd1);
    wire [15:0] o_sd = a & (TSPU_WIN_LANE_SEED_SIZE[15:0] - 16'd1);
    wire [15:0] o_ms = a & (TSPU_WIN_MOM_SUM_SIZE[15:0] - 16'd1);
    wire [15:0] o_mq = a & (TSPU_WIN_MOM_SUMSQ_SIZE[15:0] - 16'd1);
    // x < c for a constant c: a test of the high bits when c is a power of two
    function f_ltc;
        input [15:0] x;
        input [15:0] c;
        integer k;
        begin
            f_ltc = x < c;
            for (k = 0; k < 16; k = k + 1)
                if (c == (16'd1 << k)) f_ltc = (x >> k) == 16'd0;
        end
    endfunction
    wire        c_ok = f_ltc(o_c, NN16);
    wire        b_ok = f_ltc(o_b, N16);
    wire        s_ok = f_ltc(o_s, N16);
    wire [15:0] sd_lane = {2'd0, o_sd[15:2]};
    wire        sd_ok  = f_ltc(sd_lane, N16);
    wire        sd_hit = sh_valid && sh_lane == sd_lane[5:0];
    wire        ms_ok  = f_ltc({1'b0, o_ms[15:1]}, N16);
    wire        mq_ok  = f_ltc({1'b0, o_mq[15:1]}, T16);
    wire        is_k16 = a == TSPU_REG_KA || a == TSPU_REG_KO;  // int16 registers, sign-extended

    // shadow word of the request's address
    wire [13:0] sm_req = in_c ? {1'b0, in_c1, o_c[11:0]} :
                         in_b ? SM_BIAS | {7'd0, in_b1, o_b[5:0]} :
                         in_sd ? SM_SEED | {12'd0, o_sd[1:0]} : SM_REGS | {6'd0, a[7:0]};

    // core ports straight from the request
    /* verilator lint_off WIDTH */ // quotient and remainder of a coupling offset by N
    assign cpl_row = o_c / N;
    assign cpl_col = o_c % N;
    /* verilator lint_on WIDTH */
    assign cpl_set   = in_c1;
    assign cpl_data  = bus_wdata[15:0];
    assign bias_set  = in_b1;
    assign bias_lane = o_b[5:0];
    assign bias_data = bus_wdata;
    assign st_sel    = in_p;
    assign st_lane   = o_s[5:0];
    assign st_data   = bus_wdata;
    assign mom_addr  = in_ms ? T12 + o_ms[12:1] : o_mq[12:1];

    // ---- controller ----------------------------------------------------------------
    localparam [3:0] CS_IDLE = 4'd0, CS_RW1 = 4'd1, CS_RW2 = 4'd2, CS_CLR = 4'd3,
                     CS_CHK = 4'd4, CS_SEG = 4'd5, CS_CPY = 4'd6, CS_FILL = 4'd7,
                     CS_FLUSH = 4'd8, CS_POP1 = 4'd9, CS_POP2 = 4'd10;
    localparam [2:0] RK_ST = 3'd0, RK_SEED = 3'd1, RK_MOM = 3'd2, RK_SM = 3'd3, RK_STG = 3'd4,
                     RK_LO = 3'd5, RK_DAT = 3'd6;
    reg [3:0]  cs;
    reg [2:0]  rk;        // what CS_RW2 captures
    reg [13:0] cnt;       // clear address / sequence index
    reg [2:0]  ph;        // sequence step: 0 issue, 1 the memory reads, 2 use, 3 write (4: checks)
    reg        pass2;     // sequences of two passes: the second
    reg        bad;       // a check of the first pass failed
    reg        fl_then;   // after a flush: fill the lane of the pending seed write
    reg        clr_ack;   // acknowledge CTRL.RESET when the clear is done
    wire req = bus_req && !bus_ack;
    // Timing: a request is taken in its third clock (go).  bus_addr / bus_op /
    // bus_wdata are held until the acknowledge, and the state the decode
    // depends on (sh_*, s_*) changes only by requests, which are done by
    // then: in the first clock the address classes are registered (p_*), in
    // the second what they mean for the request (d_*).
    reg  req_q, req_qq;
    wire go = req && req_q && req_qq;
    always @(posedge clk) begin
        req_q  <= req;
        req_qq <= req && req_q;
    end
    reg        d_lo, d_smrd, d_strd, d_dat, d_sdrd, d_mom, d_ctrl, d_udiv, d_regs, d_cw, d_bw;
    reg        d_dreg, d_sdw, d_hit, d_sx, d_momhi, d_ring, d_call;
    reg [13:0] d_smreq;
    reg [31:0] d_rd;
    reg [SAW-1:0] d_pos;
    reg [SAW:0]   d_csub;

    assign seg_addr    = cnt[4:1];
    assign seg_steps   = bus_rdata;  // fetched first ...
    assign seg_dlambda = sm_q;       // ... the memory shows dlambda at seg_we
    assign seed_lane   = cs == CS_FLUSH ? sh_lane : sd_lane[5:0];
    assign seed_word   = cnt[1:0];
    assign seed_data   = sm_q;       // at seed_we, the shadow word of seed_word
    wire [31:0] seed_w = seed_rdata[32 * cnt[1:0] +: 32];
    // LFSR113 word cnt below its minimum (2, 8, 16, 128): z_q below

    // shadow write data; the word's kind registered beside its address
    // (Fmax: no address compare in front of the SPRAM's data pins):
    // clr_* the reset value of the word CS_CLR writes, d_work WORK_HI (not
    // STEPS_HI) at a LO read
    reg clr_one, clr_udiv, d_work;
    always @(*) begin
        case (sm_src)
            SRC_RD:  sm_d = bus_rdata;
            SRC_CLR: sm_d = clr_one ? 32'd1 : clr_udiv ? {16'd0, UDIV_RESET} : 32'd0; // LM, thin 1
            SRC_HI:  sm_d = d_work ? work[63:32] : steps[63:32];
            default: sm_d = d_sx ? {{16{bus_wdata[15]}}, bus_wdata[15:0]} : bus_wdata;
        endcase
    end

    // the START check of one CONFIG word (tspu_model_configure): wbad_q below
    //   INTEGRATOR > 2 (or UD without it), *_SHIFT > 62, NOISE_SHIFT > 20,
    //   THIN == 0, N_SEGMENTS > 16 (or > 0 without the schedule),
    //   LAMBDA_INIT > 2^31 (or != 0 without the schedule)
    reg c_sm, c_ud, c_ns;  // START check: SAMPLE_MOMENTUM set, INTEGRATOR UD, N_SAMPLES != 0
    reg wbad_q, z_q;       // cfg_word_bad, z_small of the word on sm_q, a clock late
    // Both as masks of sm_q registered from cnt (held while its word is
    // read), so that the bits of the word meet one reduction of its high
    // bits and small low ones: cfg_word_bad = any bit of hl / (hh: 31:8)
    // set, or the extra test of the word's kind (e_*); z_small = no bit of
    // zl / 31:8 set.  (cnt of a CONFIG word: cnt[3:0]; of a seed word: cnt[1:0])
    reg        hh;                      // any of bits 31:8 set is bad
    reg  [7:0] hl;                      // ... of bits 7:0
    reg  [7:1] zl;                      // z_small: bits 7:1 that must be 0 too
    reg        e_int, e_sh, e_noise, e_thin, e_nseg, e_lam;
    always @(posedge clk) begin
        hh <= 1'b0; hl <= 8'd0;
        {e_int, e_sh, e_noise, e_thin, e_nseg, e_lam} <= 6'd0;
        case (cnt[3:0])
            CI_INTEGRATOR: begin hh <= 1'b1; hl <= {6'h3F, HAVE_UD == 0, 1'b0}; e_int <= 1'b1; end
            CI_DRIFT_SHIFT, CI_KA_SHIFT, CI_KO_SHIFT: begin hh <= 1'b1; hl <= 8'hC0; e_sh <= 1'b1; end
            CI_NOISE_SHIFT: begin hh <= 1'b1; hl <= 8'hE0; e_noise <= 1'b1; end
            CI_THIN: e_thin <= 1'b1;
            CI_N_SEGMENTS: begin hh <= 1'b1; hl <= HAVE_SCHEDULE == 0 ? 8'hFF : 8'hE0; e_nseg <= 1'b1; end
            CI_LAMBDA_INIT: e_lam <= 1'b1;
            default: ;
        endcase
        case (cnt[1:0])
            2'd0: zl <= 7'h7F;   // >= 2
            2'd1: zl <= 7'h7C;   // >= 8
            2'd2: zl <= 7'h78;   // >= 16
            default: zl <= 7'h40; // >= 128
        endcase
    end
    // of the shadow word registered first (Fmax: the SPRAM's output meets
    // no logic), so the checks are a clock later (ph 4)
    reg [31:0] sm_qr;
    always @(posedge clk) sm_qr <= sm_q;
    wire w_h8  = |sm_qr[31:8];
    wire w_h30 = |sm_qr[30:8] || |sm_qr[7:0];   // |w[30:0]
    wire w_ex  = (e_int && &sm_qr[1:0]) || (e_sh && &sm_qr[5:0]) ||
                 (e_noise && sm_qr[4] && (sm_qr[3] || (sm_qr[2] && |sm_qr[1:0]))) ||
                 (e_thin && !w_h8 && ~|sm_qr[7:0]) || (e_nseg && sm_qr[4] && |sm_qr[3:0]) ||
                 (e_lam && (sm_qr[31] || HAVE_SCHEDULE == 0) && w_h30);
    always @(posedge clk) begin
        wbad_q <= (hh && w_h8) || |(sm_qr[7:0] & hl) || w_ex;
        z_q    <= !w_h8 && ~|(sm_qr[7:1] & zl);
    end
    wire cfg_bad = bad || (c_sm && !c_ud) || (c_ns && (c_sm ? BAD_2N : BAD_N)) || data_bad;

    // plain registers (everything below 0x80 that is neither shadowed nor a core read)
    reg [31:0] rd_plain;
    always @(*) begin
        rd_plain = 32'd0;
        if (a[15:7] == 9'd0) begin
            case (a[6:0])
                TSPU_REG_MAGIC[6:0]:    rd_plain = TSPU_MAGIC;
                TSPU_REG_VERSION[6:0]:  rd_plain = TSPU_GW_VERSION;
                TSPU_REG_REGMAP_HASH[6:0]: rd_plain = TSPU_REGMAP_HASH;
                TSPU_REG_N_LANES[6:0]:  rd_plain = N32;
                TSPU_REG_P_MACS[6:0]:   rd_plain = P32;
                TSPU_REG_WIDTHS[6:0]:   // the formats of docs/numerics.md
                    rd_plain = (32'd32 << TSPU_WIDTHS_STATE_LSB) | (32'd16 << TSPU_WIDTHS_OPERAND_LSB) |
                               (32'd16 << TSPU_WIDTHS_COUPLING_LSB) | (32'd32 << TSPU_WIDTHS_BIAS_LSB);
                TSPU_REG_FEATURES[6:0]:
                    rd_plain = (32'd1 << TSPU_FEATURES_EM_LSB) | (32'd1 << TSPU_FEATURES_LM_LSB) |
                               ({31'd0, HAVE_UD != 0} << TSPU_FEATURES_UD_LSB) |
                               ({31'd0, HAVE_SCHEDULE != 0} << TSPU_FEATURES_SCHEDULE_LSB) |
                               ({31'd0, HAVE_SCHEDULE != 0 || HAVE_DATA} << TSPU_FEATURES_WORK_LSB) |
                               (32'd1 << TSPU_FEATURES_MOMENTS_LSB) |
                               ({31'd0, HAVE_UD != 0} << TSPU_FEATURES_SAMPLE_MOMENTUM_LSB) |
                               (32'd1 << TSPU_FEATURES_FIFO_STALL_LSB) |
                               ({31'd0, HAVE_DATA} << TSPU_FEATURES_DATA_LSB);
                TSPU_REG_DATA_MAX_OBS[6:0]: rd_plain = DMO32;
                TSPU_REG_CLOCK_HZ[6:0]: rd_plain = CLK32;
                TSPU_REG_CYCLES_PER_STEP[6:0]: rd_plain = CPS32;
                TSPU_REG_FIFO_DEPTH[6:0]: rd_plain = DEPTH32;
                TSPU_REG_MAX_SEGMENTS[6:0]: rd_plain = NSEG32;
                TSPU_REG_FLAGS[6:0]:
                    rd_plain = {27'd0, flags} | ({31'd0, rejected} << TSPU_FLAGS_REJECTED_LSB) |
                               ({31'd0, busy} << TSPU_FLAGS_RUNNING_LSB) | ({31'd0, stalled_q} << TSPU_FLAGS_STALLED_LSB);
                TSPU_REG_PHASE[6:0]:    rd_plain = {29'd0, phase};
                TSPU_REG_SAT_COUNT[6:0]: rd_plain = sat_count;
                TSPU_REG_FIFO_DROPPED[6:0]: rd_plain = fifo_dropped;
                TSPU_REG_SAMPLES[6:0]:  rd_plain = samples;
                TSPU_REG_LAMBDA_ACC[6:0]: rd_plain = lambda_acc;
                TSPU_REG_MOM_COUNT[6:0]: rd_plain = mom_count;
                TSPU_REG_FIFO_LEVEL[6:0]: rd_plain = {21'd0, fifo_avail};
                default: rd_plain = 32'd0;
            endcase
        end
    end

    // the stage ring: one adder for the peek address (head + index, or the
    // end: head + len) and the commit (head + min(count, len))
    wire [15:0]    peek_idx = bus_addr;
    wire           in_ring  = peek_idx < {{(15 - SAW){1'b0}}, s_len};     // PEEK: a staged element
    wire [SAW:0]   c_sub    = s_len - bus_wdata[SAW:0];                      // COMMIT: len - count (if <= len)
    wire           c_all    = bus_wdata[SAW:0] >= s_len;                       // count >= len
    // PEEK (bus_op[2] = 0): head + index if staged, else the tail; COMMIT
    // (bus_op[2] = 1): head + count, or the tail when count >= len
    wire [SAW-1:0] r_sum    = s_head + (bus_op[2] ? bus_wdata[SAW-1:0] : peek_idx[SAW-1:0]);
    wire           r_sel    = bus_op[2] ? !c_all : in_ring;
    wire [SAW-1:0] r_pos    = r_sel ? r_sum : s_tail;

    // the request's next state, kind of read and acknowledge (the chain of
    // CS_IDLE), registered with the decode
    // (the address classes are disjoint: an OR of exclusive terms per bit, no
    // priority chain; rk is only read in CS_RW1 / CS_RW2, so it may change
    // with any request)
    // first clock: the address classes (p_*)
    reg p_lo, p_work, p_sm, p_st, p_sd, p_mom, p_dat, p_ring, p_ctrl, p_udiv, p_regs, p_cw, p_bw, p_dreg,
        p_sdw, p_hit, p_sx;
    always @(posedge clk) begin
        p_lo   <= a == TSPU_REG_STEPS_LO || a == TSPU_REG_WORK_LO;
        p_work <= a == TSPU_REG_WORK_LO;
        p_sm   <= (in_c && c_ok) || (in_b && b_ok) || in_regs || in_hi || (in_sd && sd_hit);
        p_st   <= in_st && s_ok;
        p_sd   <= in_sd && sd_ok && !sd_hit;
        p_mom  <= (in_ms && ms_ok) || (in_mq && mq_ok);
        p_dat  <= in_dat;
        p_ring <= in_ring;
        p_ctrl <= a == TSPU_REG_CTRL;
        p_udiv <= a == TSPU_REG_UART_DIV;
        p_regs <= in_regs;
        p_cw   <= in_c && c_ok;
        p_bw   <= in_b && b_ok;
        p_dreg <= in_dreg;
        p_sdw  <= in_sd && sd_ok;
        p_hit  <= sd_hit;
        p_sx   <= in_c || is_k16;
    end
    // second clock: what the request does (registered in d_*)
    wire op_rd = bus_op == OP_RD, op_wr = bus_op == OP_WR, op_fd = bus_op == OP_FD, op_pk = bus_op == OP_PEEK;
    wire w_rst = op_wr && p_ctrl && bus_wdata[TSPU_CTRL_RESET_LSB];
    wire w_chk = op_wr && p_ctrl && !bus_wdata[TSPU_CTRL_RESET_LSB] &&
                 bus_wdata[TSPU_CTRL_START_LSB] && !busy;
    wire w_sd  = op_wr && p_sd;                 // a seed word of another lane: flush / fill
    wire c_rw1 = (op_rd && (p_lo || p_sm || p_st || p_dat || p_sd || p_mom)) || (op_pk && p_ring);
    wire c_pop = op_pk && !p_ring;
    wire c_fl  = (w_sd && sh_valid) || (op_fd && sh_valid);
    wire c_fi  = w_sd && !sh_valid;
    // RK_ST 0, SEED 1, MOM 2, SM 3, STG 4, LO 5, DAT 6
    wire [2:0] n_rk  = {(op_rd && (p_lo || p_dat)) || (op_pk && p_ring),
                        op_rd && (p_mom || p_sm || p_dat),
                        op_rd && (p_sd || p_sm || p_lo)};
    generate
        if (RK_ST != 3'd0 || RK_SEED != 3'd1 || RK_MOM != 3'd2 || RK_SM != 3'd3 || RK_STG != 3'd4 ||
            RK_LO != 3'd5 || RK_DAT != 3'd6 || CS_IDLE != 4'd0) begin : g_bad_codes
            tspu_param_error_rk_cs_codes u_err ();
        end
    endgenerate
    // registered as the exclusive conditions; encoded in the clock of go
    reg [2:0] d_rk;
    reg       d_rw1, d_pop, d_chk, d_fl, d_fi, d_rst, d_busy;
    always @(posedge clk) begin
        d_rk <= n_rk; d_busy <= busy;
        d_rw1 <= c_rw1; d_pop <= c_pop; d_chk <= w_chk; d_fl <= c_fl; d_fi <= c_fi; d_rst <= w_rst;
    end
    wire [3:0] d_cs  = (d_rw1 ? CS_RW1 : 4'd0) | (d_pop ? CS_POP1 : 4'd0) | (d_chk ? CS_CHK : 4'd0) |
                       (d_fl ? CS_FLUSH : 4'd0) | (d_fi ? CS_FILL : 4'd0);
    wire       d_ack = !(d_rw1 || d_pop || d_chk || d_fl || d_fi || d_rst);

    // the request's decode, registered (see go)
    always @(posedge clk) begin
        d_lo    <= p_lo;
        d_work  <= p_work;
        d_smrd  <= p_sm;
        d_strd  <= p_st;
        d_dat   <= p_dat;
        d_sdrd  <= p_sd;
        d_mom   <= p_mom;
        d_ctrl  <= p_ctrl;
        d_udiv  <= p_udiv;
        d_regs  <= p_regs;
        d_cw    <= p_cw;
        d_bw    <= p_bw;
        d_dreg  <= p_dreg;
        d_sdw   <= p_sdw;
        d_hit   <= p_hit;
        d_sx    <= p_sx;
        d_momhi <= in_ms ? o_ms[0] : o_mq[0];
        d_smreq <= sm_req;
        d_rd    <= rd_plain;
        d_ring  <= p_ring;
        d_call  <= c_all;
        d_csub  <= c_sub;
        d_pos   <= r_pos;
    end

    // CS_CPY takes CONFIG word k in its ph 4 on cpy_k[k], decoded a clock
    // ahead (Fmax: each register's enable is one flip-flop, not the
    // controller's state, phase and word index); cleared by a reset, which
    // would otherwise leave one enable standing into the reset's next clock
    reg [15:0] cpy_k;
    always @(posedge clk)
        if (r_all) cpy_k <= 16'd0;
        else       cpy_k <= (cs == CS_CPY && ph == 3'd3) ? 16'd1 << cnt[3:0] : 16'd0;
    always @(posedge clk) begin
        if (r_all) begin
            a_int <= 2'd1; a_drift <= 6'd0; a_noise <= 5'd0; a_ka <= 16'd0; a_kash <= 6'd0;
            a_ko <= 16'd0; a_kosh <= 6'd0; a_burnin <= 32'd0; a_thin <= 32'd1; a_nsamp <= 32'd0;
            a_nseg <= 5'd0; a_linit <= 32'd0; a_sm <= 1'b0; a_stall <= 1'b0;
        end else begin
            if (cpy_k[CI_INTEGRATOR])  a_int    <= sm_qr[1:0];
            if (cpy_k[CI_DRIFT_SHIFT]) a_drift  <= sm_qr[5:0];
            if (cpy_k[CI_NOISE_SHIFT]) a_noise  <= sm_qr[4:0];
            if (cpy_k[CI_KA])          a_ka     <= sm_qr[15:0];
            if (cpy_k[CI_KA_SHIFT])    a_kash   <= sm_qr[5:0];
            if (cpy_k[CI_KO])          a_ko     <= sm_qr[15:0];
            if (cpy_k[CI_KO_SHIFT])    a_kosh   <= sm_qr[5:0];
            if (cpy_k[CI_BURNIN])      a_burnin <= sm_qr;
            if (cpy_k[CI_THIN])        a_thin   <= sm_qr;
            if (cpy_k[CI_N_SAMPLES])   a_nsamp  <= sm_qr;
            if (cpy_k[CI_N_SEGMENTS])  a_nseg   <= sm_qr[4:0];
            if (cpy_k[CI_LAMBDA_INIT]) a_linit  <= sm_qr;
            if (cpy_k[CI_SAMPLE_MOMENTUM]) a_sm <= sm_qr[0];
            if (cpy_k[CI_FIFO_STALL])  a_stall  <= sm_qr[0];
        end
    end

    always @(posedge clk) begin
        // single-cycle strobes
        bus_ack <= 1'b0; seg_we <= 1'b0; cpl_we <= 1'b0; bias_we <= 1'b0; seed_we <= 1'b0;
        seed_re <= 1'b0; st_we <= 1'b0; st_re <= 1'b0; mom_re <= 1'b0; fifo_re <= 1'b0;
        dat_we <= 1'b0; dat_re <= 1'b0;
        cmd_start <= 1'b0; cmd_stop <= 1'b0; soft_rst <= 1'b0;
        sm_we <= 1'b0; sm_re <= 1'b0;
        if (r_all) begin
            // clear the shadow memory: all of it at power-up, the registers at CTRL.RESET
            cs <= CS_CLR; cnt <= rst ? 14'd0 : SM_REGS; clr_ack <= soft_rst && !rst;
            sm_src <= SRC_CLR; sm_a <= 14'd0;
            uart_div <= UDIV_RESET; rejected <= 1'b0;
            sh_valid <= 1'b0; sh_lane <= 6'd0; s_head <= {SAW{1'b0}}; s_len <= {(SAW+1){1'b0}};
            s_tail <= {SAW{1'b0}};
            w_dm <= 2'd0; w_k <= 11'd0; w_sr <= 6'd0; w_sg <= 6'd0; w_dd <= 6'd0;
            a_dm <= 2'd0; a_k <= 11'd0; a_sr <= 6'd0; a_sg <= 6'd0; a_dd <= 6'd0;
            w_bad_dm <= 1'b0; w_bad_k <= 1'b0; w_k0 <= 1'b1; w_bad_sr <= 1'b0; w_bad_sg <= 1'b0;
            w_bad_dd <= 1'b0;
            rk <= RK_ST; ph <= 3'd0; pass2 <= 1'b0; bad <= 1'b0; fl_then <= 1'b0;
            c_sm <= 1'b0; c_ud <= 1'b0; c_ns <= 1'b0;
            bus_rdata <= 32'd0;
        end else begin
            case (cs)
                CS_IDLE: if (go) begin
                    // next state, kind of read and acknowledge: d_cs, d_rk, d_ack (n_* above)
                    cs <= d_cs; rk <= d_rk; bus_ack <= d_ack;
                    sm_src <= SRC_REQ; sm_a <= d_smreq;
                    case (bus_op)
                        OP_RD: begin
                            bus_rdata <= d_rd;  // (a plain register: acknowledged now)
                            if (d_lo) begin
                                // the low word now, the high word into its shadow in the same clock
                                sm_we <= 1'b1; sm_src <= SRC_HI; sm_a <= SM_REGS | {6'd0, a[7:1], 1'b1}; // STEPS_HI, WORK_HI (LO + 1, LO even)
                            end
                            if (d_smrd) sm_re <= 1'b1;
                            if (d_strd) st_re <= 1'b1;
                            if (d_dat) dat_re <= 1'b1;
                            if (d_sdrd) begin seed_re <= 1'b1; cnt <= {12'd0, o_sd[1:0]}; end
                            if (d_mom) mom_re <= 1'b1;
                        end
                        OP_WR: begin
                            if (d_ctrl) begin
                                if (bus_wdata[TSPU_CTRL_RESET_LSB]) soft_rst <= 1'b1; // acked after the reset
                                else begin
                                    if (bus_wdata[TSPU_CTRL_STOP_LSB]) cmd_stop <= 1'b1;
                                    if (bus_wdata[TSPU_CTRL_START_LSB]) begin
                                        if (d_busy) rejected <= 1'b1;
                                        else begin cnt <= 14'd0; ph <= 3'd0; bad <= 1'b0; end // CS_CHK
                                    end
                                end
                            end
                            if (d_udiv) uart_div <= bus_wdata[15:0];
                            if (d_regs) sm_we <= 1'b1;
                            if (d_cw && !busy) begin sm_we <= 1'b1; cpl_we <= 1'b1; end
                            if (d_bw && !busy) begin sm_we <= 1'b1; bias_we <= 1'b1; end
                            if (d_strd) st_we <= 1'b1;
                            if (d_dat) dat_we <= 1'b1;   // the core ignores it while running
                            if (d_dreg) begin
                                case (a)
                                    TSPU_REG_DATA_MODE: begin
                                        w_dm <= bus_wdata[1:0]; w_bad_dm <= |bus_wdata[31:2] || &bus_wdata[1:0];
                                    end
                                    TSPU_REG_N_OBS: begin
                                        w_k <= bus_wdata[10:0]; w_bad_k <= bus_wdata > DMO32; w_k0 <= ~|bus_wdata;
                                    end
                                    TSPU_REG_DATA_SR: begin w_sr <= bus_wdata[5:0]; w_bad_sr <= bus_wdata > 32'd62; end
                                    TSPU_REG_DATA_SG: begin w_sg <= bus_wdata[5:0]; w_bad_sg <= bus_wdata > 32'd62; end
                                    default: begin w_dd <= bus_wdata[5:0]; w_bad_dd <= bus_wdata > 32'd62; end
                                endcase
                            end
                            if (d_sdw) begin
                                if (d_hit) sm_we <= 1'b1;
                                else begin // CS_FLUSH, then CS_FILL (or CS_FILL)
                                    cnt <= 14'd0; ph <= 3'd0; pass2 <= 1'b0; bad <= 1'b0;
                                    fl_then <= 1'b1;
                                end
                            end
                        end
                        OP_FD: begin
                            if (sh_valid) begin // CS_FLUSH
                                cnt <= 14'd0; ph <= 3'd0; pass2 <= 1'b0; bad <= 1'b0;
                                fl_then <= 1'b0;
                            end
                        end
                        OP_PEEK: begin
                            sm_a <= SM_STAGE | {{(14 - SAW){1'b0}}, d_pos};
                            if (d_ring) sm_re <= 1'b1;   // CS_RW1
                            else fifo_re <= 1'b1;        // CS_POP1: the next element from the core, staged at the end
                        end
                        default: begin // OP_COMMIT (and unused codes): min(count, s_len) elements
                            s_head <= d_pos; // (s_tail stays)
                            s_len <= d_call ? {(SAW+1){1'b0}} : d_csub;
                        end
                    endcase
                end
                CS_RW1: begin // the core / a memory reads; STEPS_LO, WORK_LO: the clock their HI is shadowed
                    cs <= CS_RW2;
                    if (rk == RK_LO) begin
                        bus_rdata <= d_work ? work[31:0] : steps[31:0];
                        bus_ack <= 1'b1; cs <= CS_IDLE;
                    end
                end
                CS_RW2: begin
                    case (rk)
                        RK_ST:   bus_rdata <= st_rdata;
                        RK_SEED: bus_rdata <= seed_w;
                        RK_MOM:  bus_rdata <= d_momhi ? mom_rdata[63:32] : mom_rdata[31:0];
                        RK_SM:   bus_rdata <= sm_q;
                        RK_DAT:  bus_rdata <= {{16{dat_rdata[15]}}, dat_rdata};
                        default: bus_rdata <= {16'd0, sm_q[15:0]};  // RK_STG
                    endcase
                    bus_ack <= 1'b1; cs <= CS_IDLE;
                end
                CS_CLR: begin // one word a clock
                    sm_we <= 1'b1; sm_a <= cnt; cnt <= cnt + 14'd1;
                    clr_one <= cnt == SM_INT || cnt == SM_THIN; clr_udiv <= cnt == SM_UDIV;
                    if (cnt == SM_LAST) begin bus_ack <= clr_ack; cs <= CS_IDLE; end
                end
                // START: check CONFIG (CS_CHK), copy SCHEDULE into the core
                // (CS_SEG), take CONFIG (CS_CPY), start; one CONFIG word per 5 clocks
                CS_CHK, CS_CPY: begin // (the word is on sm_q at ph 2..4, sm_qr at 3..4; its check registered at 4)
                    ph <= ph == 3'd4 ? 3'd0 : ph + 3'd1;
                    if (ph == 3'd0) begin sm_re <= 1'b1; sm_a <= SM_CFG | cnt; end
                    if (ph == 3'd4) begin
                        cnt <= cnt + 14'd1;
                        if (cs == CS_CHK) begin
                            if (wbad_q) bad <= 1'b1;
                            if (cnt[3:0] == CI_SAMPLE_MOMENTUM) c_sm <= sm_qr[0];
                            if (cnt[3:0] == CI_INTEGRATOR) c_ud <= sm_qr == 32'd2;
                            if (cnt[3:0] == CI_N_SAMPLES) c_ns <= sm_qr != 32'd0;
                        end   // (CS_CPY: the word is taken below, on cpy_k)
                        if (cs == CS_CPY && cnt[3:0] == CI_LAST) begin
                            cnt <= 14'd0;
                            rejected <= 1'b0;
                            s_len <= {(SAW+1){1'b0}}; // the core clears its FIFO at start
                            s_tail <= s_head;
                            cmd_start <= 1'b1;        // cfg_* hold the new values from the next cycle
                            a_dm <= w_dm; a_k <= w_k; a_sr <= w_sr; a_sg <= w_sg; a_dd <= w_dd;
                            bus_ack <= 1'b1; cs <= CS_IDLE;
                        end
                    end
                    // the last CONFIG word checked: refuse, or go on with the schedule
                    if (cs == CS_CHK && ph == 3'd0 && cnt[3:0] == CI_LAST + 4'd1) begin
                        ph <= 3'd0; cnt <= 14'd0;
                        if (cfg_bad) begin rejected <= 1'b1; bus_ack <= 1'b1; cs <= CS_IDLE; end
                        else cs <= CS_SEG;
                        sm_re <= 1'b0;
                    end
                end
                CS_SEG: begin // word cnt of SCHEDULE: steps (even) into bus_rdata, then dlambda
                    ph <= ph + 3'd1;
                    if (ph == 3'd0) begin sm_re <= 1'b1; sm_a <= SM_SCHED | cnt; end
                    if (ph == 3'd1 && cnt[0]) seg_we <= 1'b1; // with dlambda on sm_q
                    if (ph == 3'd2) begin
                        ph <= 3'd0; cnt <= cnt + 14'd1;
                        if (!cnt[0]) bus_rdata <= sm_q;
                        if (cnt[4:0] == 5'd31) begin cnt <= 14'd0; cs <= CS_CPY; end
                    end
                end
                CS_FILL: begin // the lane's seed words from the core into the shadow
                    ph <= {1'b0, ph[1:0] + 2'd1};
                    if (cnt[2]) begin // then the word of the request
                        sm_we <= 1'b1; sm_src <= SRC_REQ; sm_a <= SM_SEED | {12'd0, o_sd[1:0]};
                        sh_valid <= 1'b1; sh_lane <= sd_lane[5:0];
                        bus_ack <= 1'b1; cs <= CS_IDLE;
                    end else begin
                        if (ph == 3'd0) seed_re <= 1'b1;
                        if (ph == 3'd2) bus_rdata <= seed_w;
                        if (ph == 3'd3) begin
                            sm_we <= 1'b1; sm_src <= SRC_RD; sm_a <= SM_SEED | cnt;
                            cnt <= cnt + 14'd1;
                        end
                    end
                end
                CS_FLUSH: begin // take the shadowed lane (LFSR113 validity as the model)
                    ph <= ph == 3'd4 ? 3'd0 : ph + 3'd1;
                    if (ph == 3'd0) begin sm_re <= 1'b1; sm_a <= SM_SEED | cnt; end
                    if (ph == 3'd1 && pass2) seed_we <= 1'b1; // with word cnt on sm_q
                    if (ph == 3'd4) begin // (z_small of the word registered)
                        cnt <= cnt + 14'd1;
                        if (z_q) bad <= 1'b1;
                        if (cnt[1:0] == 2'd3) begin
                            cnt <= 14'd0;
                            if (!pass2 && !bad && !z_q) pass2 <= 1'b1; // valid: take it
                            else begin
                                if (!pass2) rejected <= 1'b1;
                                sh_valid <= 1'b0; pass2 <= 1'b0;
                                if (fl_then) cs <= CS_FILL;
                                else begin bus_ack <= 1'b1; cs <= CS_IDLE; end
                            end
                        end
                    end
                end
                CS_POP1: cs <= CS_POP2;
                CS_POP2: begin
                    sm_we <= 1'b1; sm_src <= SRC_RD; // bus_rdata into the stage (sm_a = head + len)
                    s_len <= s_len + 1'b1; s_tail <= s_tail + 1'b1;
                    bus_rdata <= {16'd0, fifo_rdata};
                    bus_ack <= 1'b1; cs <= CS_IDLE;
                end
                default: cs <= CS_IDLE;
            endcase
        end
    end
endmodule
`default_nettype wire
