`default_nettype none
// tspu_core - the tspu Langevin unit: N lanes, a P-wide MAC array over the
// coupling memory, the three integrators (EM, LM, UD), two coupling sets with
// the lambda schedule and on-chip work, the sequencer, the moment
// accumulators and the sample FIFO.  Bit-exact with step() in
// host/model/model.c.  docs/architecture.md describes the pipeline.
//
// Interface: plain ports.  cfg_* are held stable while busy.  Host writes
// (seg_*, cpl_*, bias_*, seed_*, st_*) and host reads (seed_re, st_re,
// mom_re; data the next cycle) are honoured only while !busy.  fifo_re works
// at any time.  hold=1 makes the engine wait at the next step boundary
// (held=1 there); it is how a host drains the FIFO at a defined point.
// obs_* show every lane write-back and the end of every step (lockstep).
/* verilator lint_off UNUSEDSIGNAL */ // lane/row/col ports are 6 bits for N <= 64; LW bits used
module tspu_core #(
    parameter N = 8,              // lanes, 2..64
    parameter P = 8,              // parallel multipliers, power of 2, 1..16
    parameter FIFO_AW = 9,        // sample FIFO of 2^FIFO_AW 16-bit words
    parameter BREAK_ROUNDING = 0, // 1: operand rounding deliberately wrong
                                  //    (only for the harness self-test)
    parameter DATA_MAX_OBS = 0,   // data-driven drift: observations its memory
                                  //    holds (tspu_data_pass KMAX); 0 = not built
    parameter BREAK_DATA = 0,     // 1: z truncated (data-path harness self-test)
    // features a small FPGA may leave out (FEATURES; docs/boards.md): the
    // underdamped integrator, and the lambda schedule with its second
    // coupling set, interpolation and work.  Without both (and without the
    // data drift) every step is a fast step: the slow lane path, the serial
    // multiplier and the work sum are not built.  The register block refuses
    // programs that need them at START.
    parameter HAVE_UD = 1,
    parameter HAVE_SCHEDULE = 1
) (
    input  wire        clk,
    input  wire        rst,
    // configuration (tspu_model_config)
    input  wire [1:0]  cfg_integrator,   // 0 EM, 1 LM, 2 UD
    input  wire [5:0]  cfg_drift_shift,  // 0..62
    input  wire [4:0]  cfg_noise_shift,  // 0..20
    input  wire [15:0] cfg_ka,
    input  wire [5:0]  cfg_ka_shift,
    input  wire [15:0] cfg_ko,
    input  wire [5:0]  cfg_ko_shift,
    input  wire [31:0] cfg_burnin,
    input  wire [31:0] cfg_thin,         // >= 1
    input  wire [31:0] cfg_n_samples,
    input  wire [4:0]  cfg_n_segments,   // 0..16
    input  wire [31:0] cfg_lambda_init,  // 0..2^31
    input  wire        cfg_sample_momentum,
    // data-driven drift (read only when DATA_MAX_OBS > 0): data_mode 0 off,
    // 1 Gaussian, 2 logistic; K = n_obs (1..DATA_MAX_OBS); Sr, Sg, Dd
    input  wire [1:0]  cfg_data_mode,
    input  wire [10:0] cfg_n_obs,
    input  wire [5:0]  cfg_data_sr,
    input  wire [5:0]  cfg_data_sg,
    input  wire [5:0]  cfg_data_dd,
    // data memories (idle only, like st_*): dat_sel 0 X (word d*N + j), 1 y,
    // 2 l, 3 link table; words outside a window read 0, writes are ignored
    input  wire        dat_we,
    input  wire        dat_re,
    input  wire [1:0]  dat_sel,
    input  wire [13:0] dat_addr,
    input  wire [15:0] dat_wdata,
    output wire [15:0] dat_rdata,
    // segment table
    input  wire        seg_we,
    input  wire [3:0]  seg_addr,
    input  wire [31:0] seg_steps,
    input  wire [31:0] seg_dlambda,
    // couplings A[set][row][col] (int16) and biases b[set][lane] (int32)
    input  wire        cpl_we,
    input  wire        cpl_set,
    input  wire [5:0]  cpl_row,
    input  wire [5:0]  cpl_col,
    input  wire [15:0] cpl_data,
    input  wire        bias_we,
    input  wire        bias_set,
    input  wire [5:0]  bias_lane,
    input  wire [31:0] bias_data,
    // LFSR113 lane states: word writes, lane reads (seed_rdata = {z3,z2,z1,z0})
    input  wire        seed_we,
    input  wire        seed_re,
    input  wire [5:0]  seed_lane,
    input  wire [1:0]  seed_word,
    input  wire [31:0] seed_data,
    output wire [127:0] seed_rdata,
    // state x (st_sel 0) / p (st_sel 1); a write also clears the LM memory
    input  wire        st_we,
    input  wire        st_re,
    input  wire        st_sel,
    input  wire [5:0]  st_lane,
    input  wire [31:0] st_data,
    output wire [31:0] st_rdata,
    // commands
    input  wire        cmd_start,
    input  wire        cmd_stop,
    input  wire        hold,
    output wire        held,
    // results: moments (addr < T: sumsq[addr], T+i: sum[i]; T = N(N+1)/2;
    // T+N+k holds segment k as {dlambda, steps})
    input  wire        mom_re,
    input  wire [11:0] mom_addr,
    output wire [63:0] mom_rdata,
    output reg  [31:0] mom_count,
    output reg  [63:0] work,
    // status (tspu_status)
    output reg  [4:0]  flags,
    output reg  [31:0] sat_count,
    output reg  [31:0] fifo_dropped,
    output reg  [63:0] steps,
    output wire [31:0] samples,
    output reg  [31:0] lambda_acc,
    output wire [2:0]  phase,
    output wire        busy,
    // sample FIFO read port
    input  wire        fifo_re,
    output wire [15:0] fifo_rdata,
    output wire [FIFO_AW:0] fifo_level,
    output wire        fifo_room_now,  // room for a whole sample (tspu_csr: FIFO-stall hold)
    // observation (lockstep): lane write-backs and step ends
    output wire        obs_valid,
    output wire [5:0]  obs_lane,
    output wire [31:0] obs_x,
    output wire [31:0] obs_p,
    output wire        obs_step_done
);
    /* verilator lint_on UNUSEDSIGNAL */
    `include "tspu_fixed.vh"

    // ---- parameters ------------------------------------------------------
    localparam C    = (N + P - 1) / P;       // chunks per row
    localparam NP   = C * P;                 // padded operand count
    localparam LW   = (N <= 2) ? 1 : $clog2(N);
    localparam CPLD = 2 * N * C;             // coupling words per multiplier
    localparam CAW  = $clog2(CPLD);
    localparam T    = N * (N + 1) / 2;       // upper-triangle entries
    localparam MOMD = T + N;
    localparam MOMS = MOMD + 16;             // + the segment table {dlambda, steps}
    localparam MAW  = $clog2(MOMS);
    localparam CW   = (C <= 1) ? 1 : $clog2(C);
    localparam YW   = 32 + LW;                // |row sum Y| <= N 2^30
    // |S| <= N 2^15 2^34 (work sum); |d16 round_shift(S, 16)| < 2^(52 + LW)
    localparam SW   = 51 + LW;
    localparam MW   = 53 + LW;                // serial product width
    localparam [SW-1:0] S_BIAS = {{(SW - 16){1'b0}}, 16'h8000};
    /* verilator lint_off WIDTH */ // sized copies of integer parameters (values fit)
    localparam [LW-1:0] LAST_LANE  = N - 1;
    localparam [CW-1:0] LAST_CHUNK = C - 1;
    localparam [MAW-1:0] MOM_LAST  = MOMD - 1;
    localparam [MAW-1:0] TK        = T;
    localparam [MAW-1:0] SEGBASE   = MOMD;
    /* verilator lint_on WIDTH */

    generate
        if (N < 2 || N > 64) begin : g_bad_n
            tspu_param_error_n_out_of_range u_err ();
        end
        if (P < 1 || P > 16 || (P & (P - 1)) != 0) begin : g_bad_p
            tspu_param_error_p_not_pow2_1_16 u_err ();
        end
        if (MOMS > 4096) begin : g_bad_mom
            tspu_param_error_moments_too_large u_err ();
        end
    endgenerate

    // operand: sat16(round_shift(x, 16)); BREAK_ROUNDING drops the half LSB
    // round_shift(x, 16) = x[31:16] + x[15]; it exceeds 32767 only when
    // x[31:16] = 0x7FFF and x[15] = 1, so the clamp is a saturating increment
    /* verilator lint_off UNUSEDSIGNAL */ // x[14:0] is below the rounding bit
    function f_op_sat;
        input [31:0] x;
        begin
            f_op_sat = BREAK_ROUNDING == 0 && x[15] && x[31:16] == 16'h7FFF;
        end
    endfunction
    // (the clamp selects after the incrementer, so the 16-input compare runs
    // beside its carry chain instead of in front of it)
    function [15:0] f_op;
        input [31:0] x;
        begin
            f_op = (BREAK_ROUNDING == 0 && x[31:16] == 16'h7FFF) ? 16'h7FFF
                 : x[31:16] + {15'd0, BREAK_ROUNDING == 0 && x[15]};
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */

    // the integrator datapath is DW bits wide: every sum below is below 2^35
    // in magnitude (32-bit terms, |noise| < 2^32, scale16 results within
    // [-2^34, 2^34]), and only its sat32 is ever used
    localparam DW = 36;
    function [DW-1:0] d_sx32;
        input [31:0] v;
        begin
            d_sx32 = {{(DW - 32){v[31]}}, v};
        end
    endfunction
    /* verilator lint_off UNUSEDSIGNAL */ // only bits 31 and up decide
    function d_is_sat;
        input [DW-1:0] v;
        begin
            d_is_sat = !(&v[DW-1:31] || ~|v[DW-1:31]);
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */
    function [31:0] d_sat32;
        input [DW-1:0] v;
        begin
            d_sat32 = d_is_sat(v) ? (v[DW-1] ? 32'h80000000 : 32'h7FFFFFFF) : v[31:0];
        end
    endfunction
    // a - b in 34 bits as a carry select of two 17-bit halves (Fmax): the
    // high half is formed with and without the low half's borrow side by
    // side, and the borrow picks one
    function [33:0] d_sub34_cs;
        input [33:0] a, b;
        reg   [17:0] lo;
        reg   [16:0] hn, hb;
        begin
            lo = {1'b0, a[16:0]} - {1'b0, b[16:0]};   // [17]: borrow
            hn = a[33:17] - b[33:17];
            hb = a[33:17] + ~b[33:17];                 // - 1 more
            d_sub34_cs = {lo[17] ? hb : hn, lo[16:0]};
        end
    endfunction

    localparam [1:0] INT_LM = 2'd1, INT_UD = 2'd2; // INT_EM = 0
    localparam [2:0] PH_IDLE = 3'd0, PH_SCHEDULE = 3'd2;
    wire is_ud = HAVE_UD != 0 && cfg_integrator == INT_UD;
    localparam SLOW = HAVE_UD != 0 || HAVE_SCHEDULE != 0 || DATA_MAX_OBS > 0; // slow steps built
    // Without slow steps the fast datapath is pipelined deeper (Fmax on the
    // UP5K): P1 in three stages (scale16 shift | clamp, t0 - b | + and sat32),
    // the noise in two (the calls' bits | the byte sums) beside it, and P2 in
    // three (noise - F | x + . | sat32, operand, write-back).  Slow steps
    // chain their integrator states through the same adders and keep the
    // two-stage P1 / P2 (docs/architecture.md, "Deep pipeline").
    localparam DEEP = !SLOW;
    // deep builds whose rows have three or more chunks of whole MAC width
    // keep their operands in block RAMs (the operand buffers below; from
    // 8 words on yosys maps a tspu_ram to SB_RAM40_4K, below that to
    // flip-flops, which would cost more than the rotating registers)
    localparam OPS_RAM = DEEP && C > 2 && N % P == 0;
    // without the schedule: no segments, lambda 0 or 2^31 (START checks it)
    wire [4:0]  n_seg = HAVE_SCHEDULE != 0 ? cfg_n_segments : 5'd0;
    wire [31:0] l_init = HAVE_SCHEDULE != 0 ? cfg_lambda_init : {cfg_lambda_init[31], 31'd0};
    wire is_lm = cfg_integrator == INT_LM;

    // ---- controller states ---------------------------------------------
    localparam [3:0] C_IDLE = 4'd0, C_CLR = 4'd1, C_INIT = 4'd2, C_INITW = 4'd3,
                     C_FAST = 4'd4, C_DRAIN = 4'd5, C_SLOW_ISS = 4'd6,
                     C_SLOW_WAIT = 4'd7, C_SLOW_WORK = 4'd8, C_SLOW_END = 4'd9,
                     C_GAP = 4'd10, C_NEXT = 4'd11, C_KEEP = 4'd12,
                     C_KEEP_DRAIN = 4'd13, C_DONE = 4'd14, C_DATA = 4'd15;
    reg [3:0] ctl;
    assign busy = ctl != C_IDLE && ctl != C_DONE;
    wire host_ok = !busy;

    // ---- sequencer ---------------------------------------------------------
    wire        seq_start = cmd_start && host_ok;
    wire        seq_commit;
    wire [2:0]  seq_phase;
    wire [31:0] cur_dl;
    wire        seq_keep, seq_done;
    // the segment table lives in the moment RAM (words SEGBASE + k): it is
    // read there every busy cycle the keep pass leaves the port free (the
    // keep pass only runs in the sampling phase, where cur_dl is unused)
    wire [3:0]  seq_tab_idx;
    wire [63:0] seq_tab_q;
    tspu_sequencer #(.EXT_TABLE(1), .HAVE_SCHEDULE(HAVE_SCHEDULE)) u_seq (
        .clk(clk), .rst(rst), .start(seq_start), .commit(seq_commit),
        .cfg_burnin(cfg_burnin), .cfg_thin(cfg_thin), .cfg_n_samples(cfg_n_samples),
        .cfg_n_segments(n_seg),
        .seg_we(seg_we && host_ok), .seg_addr(seg_addr), .seg_steps(seg_steps),
        .seg_dlambda(seg_dlambda), .tab_idx(seq_tab_idx),
        .tab_steps(seq_tab_q[31:0]), .tab_dl(seq_tab_q[63:32]),
        .phase(seq_phase), .cur_dl(cur_dl), .keep(seq_keep), .samples(samples),
        .done(seq_done));
    assign phase = (ctl == C_IDLE) ? PH_IDLE : seq_phase;

    // ---- step begin: lambda schedule (combinational, model step 1) -------
    // (outside the schedule phase the sum is lambda_acc itself: the phase
    // selects after the adder, where the clamp's LUTs take it for free)
    wire        la_sch = seq_phase == PH_SCHEDULE;
    wire signed [33:0] la_add = $signed({2'b00, lambda_acc}) + $signed({{2{cur_dl[31]}}, cur_dl});
    wire [33:0] la_sum = la_sch ? la_add : {2'b00, lambda_acc};
    wire        la_lo = la_sch && la_add[33];
    wire        la_hi = !la_sum[33] && (la_sum[32] || (la_sum[31] && |la_sum[30:0])); // > 2^31
    wire [31:0] la_c  = HAVE_SCHEDULE == 0 ? lambda_acc :   // constant lambda
                        la_lo ? 32'd0 : la_hi ? 32'h80000000 : la_sum[31:0];
    wire [15:0] b_l1  = la_c[31:16];
    wire [15:0] b_l0  = lambda_acc[31:16];
    wire signed [16:0] b_d16 = $signed({1'b0, b_l1}) - $signed({1'b0, b_l0});
    // data mode: the prior (set 0) always, set 1 never; the data passes
    // unless lambda is held at 0 (exactly where set 1 would be needed)
    wire dmode   = DATA_MAX_OBS > 0 && cfg_data_mode != 2'd0;
    wire b_lam   = !(b_l1 == 16'h0000 && b_d16 == 17'sd0);
    wire b_need0 = dmode || !(b_l1 == 16'h8000 && b_d16 == 17'sd0);
    wire b_need1 = !dmode && b_lam;
    wire b_dpass = dmode && b_lam;
    wire b_fast  = !SLOW || (!is_ud && !(b_need0 && b_need1) && !b_dpass);
    wire b_set   = !b_need0;

    // la_c, b_l1 and b_d16 do not change between the begin of a step and its
    // commit (lambda_acc, the phase and cur_dl only move at a commit, cur_dl
    // being valid two cycles later, and a step is at least 5 cycles), so the
    // step uses them directly: lambda_acc <= la_c at the commit.
    wire signed [16:0] d16_reg = b_d16;
    reg need0, need1, fast_reg, set_reg, keep_reg, stop_req;
    reg dpass, dp_p2, dp_start2;   // data step; pass 2 phase; pass 2 start pulse

    // ---- issue stage and MAC pipeline -------------------------------------
    reg [LW-1:0] cur_row;
    reg [CW-1:0] cur_chunk;
    reg          slow_set, first_iss;
    wire         chunk_last = cur_chunk == LAST_CHUNK;
    reg          iss_valid, iss_set;
    reg [LW-1:0] iss_row;
    reg [CW-1:0] iss_chunk;
    reg          m_valid, m_set, m_first, m_last;
    reg [LW-1:0] m_row;
    reg          a_valid, a_set, a_first, a_last;
    reg [LW-1:0] a_row;
    // deep: the adder tree takes two cycles (A, A2; TREE_REG of the MAC array)
    reg          a2_valid, a2_set, a2_first, a2_last;
    reg [LW-1:0] a2_row;
    reg          y_valid, y_set;
    reg [LW-1:0] y_row;
    reg          q_valid;
    reg [LW-1:0] q_row;
    reg          q_last;   // q_row == LAST_LANE, decided a stage earlier (Fmax)
    // deep pipeline only: Y1 = y_*, then Y2, Y3, Q1, Q2; Q3 = q_* (write-back)
    reg          y2_valid, y3_valid, q1_valid, q2_valid;
    reg [LW-1:0] y2_row, y3_row, q1_row, q2_row;


    // coupling word address {set, row, chunk} = (set*N + row)*C + chunk
    /* verilator lint_off UNUSEDSIGNAL */ // 32-bit arithmetic, CAW bits used
    wire [31:0] cpl_raddr_w = ({31'd0, iss_set} * N + {{(32 - LW){1'b0}}, iss_row}) * C
                              + {{(32 - CW){1'b0}}, iss_chunk};
    wire [31:0] cpl_waddr_w = ({31'd0, cpl_set} * N + {26'd0, cpl_row}) * C + {26'd0, cpl_col} / P;
    wire [31:0] cpl_wlane_w = {26'd0, cpl_col} % P;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [CAW-1:0] cpl_raddr;
    wire [CAW-1:0] cpl_waddr;
    localparam PW = (P <= 1) ? 0 : $clog2(P);
    generate
        if (N == (1 << LW) && C == 1) begin : g_cadr1  // {set, row}
            assign cpl_raddr = {iss_set, iss_row};
            assign cpl_waddr = {cpl_set, cpl_row[LW-1:0]};
        end else if (N == (1 << LW) && C == (1 << CW)) begin : g_cadr2  // {set, row, chunk}
            assign cpl_raddr = {iss_set, iss_row, iss_chunk};
            assign cpl_waddr = {cpl_set, cpl_row[LW-1:0], cpl_col[PW +: CW]};
        end else begin : g_cadr
            assign cpl_raddr = cpl_raddr_w[CAW-1:0];
            assign cpl_waddr = cpl_waddr_w[CAW-1:0];
        end
    endgenerate
    wire [16*P-1:0] coef;
    genvar gk;
    generate
        // read every clock but while the host writes (Fmax: the enable is
        // not the issue decision; only the clock after an issue looks at
        // the data, and the engine never issues while the host may write)
        wire cpl_re = !(cpl_we && host_ok);
        for (gk = 0; gk < P; gk = gk + 1) begin : g_cpl
            tspu_ram #(.W(16), .DEPTH(CPLD), .AW(CAW)) u_cpl (
                .clk(clk), .we(cpl_we && host_ok && cpl_wlane_w == gk),
                .waddr(cpl_waddr), .wdata(cpl_data),
                .re(cpl_re), .raddr(cpl_raddr), .rdata(coef[16*gk +: 16]));
        end
    endgenerate

    // operand window of the chunk in the M stage (the operand buffers below)
    wire [16*P-1:0] opw;

    reg         aux_en;
    reg  [15:0] aux_a, aux_b;
    /* verilator lint_off UNUSEDSIGNAL */ // |Y| < 2^(YW-1): the bits above YW are sign copies
    wire signed [39:0] acc;
    /* verilator lint_on UNUSEDSIGNAL */
    wire signed [31:0] prod0;
    tspu_mac_array #(.P(P), .ACC(C > 1 ? 1 : 0), .TREE_REG(DEEP ? 1 : 0)) u_mac (
        .clk(clk), .mul_en(m_valid), .coef(coef), .opw(opw),
        .aux_en(aux_en), .aux_a(aux_a), .aux_b(aux_b),
        .acc_en(DEEP ? a2_valid : a_valid), .acc_first(DEEP ? a2_first : a_first),
        .acc(acc), .prod0(prod0));

    // ---- per-lane memories -------------------------------------------------
    reg           xp_re, b_re, z_re, xip_re;
    reg  [LW-1:0] z_ra, xip_ra;
    reg  [LW:0]   xp_ra, b_ra;  // xp: {p, lane}
    wire [31:0]   xpq, bq;
    wire [11:0]   xipq;
    reg  [N-1:0]  xip_ok;  // LM memory valid bits (set_state clears them)

    wire          wb_valid;
    wire [LW-1:0] wb_lane;
    wire [31:0]   wb_x, wb_p;
    // UD keeps its intermediate values in the lane RAMs: x1 is written at
    // LS_U2 and read back for LS_U4, p1 at LS_INTEG (read back for LS_U3),
    // p2 at LS_U3 (wb_p / p2_r only feed the obs_p port)
    wire          ud_xw, ud_pw;
    wire [127:0]  z_q;
    /* verilator lint_off UNUSEDSIGNAL */ // written back inside tspu_noise_lanes
    wire [127:0]  z_adv;
    /* verilator lint_on UNUSEDSIGNAL */
    wire signed [11:0] xi;

    wire host_st_we = st_we && host_ok;
    // x and p live in one memory (word {p, lane}) with one read port: every
    // reader wants one of them at a time (UD reads p just before LS_INTEG,
    // and each UD state writes one word while it reads the next); host
    // writes (idle) never meet engine writes (busy)
    wire [LW:0]   xp_wa = host_st_we ? {st_sel, st_lane[LW-1:0]} : {ud_pw, wb_lane};
    wire [31:0]   xp_wd = host_st_we ? st_data : wb_x;
    tspu_ram #(.W(32), .DEPTH(2 << LW), .AW(LW + 1)) u_xp (
        .clk(clk), .we(wb_valid || ud_xw || ud_pw || host_st_we),
        .waddr(xp_wa), .wdata(xp_wd), .re(xp_re), .raddr(xp_ra), .rdata(xpq));
    // LM memory: xi of this step, written where it is used (deep: Y2, from xi_r)
    wire          xip_we    = DEEP ? y2_valid && is_lm : wb_valid && is_lm;
    wire [LW-1:0] xip_lane  = DEEP ? y2_row : wb_lane;
    wire [11:0]   xi_use;
    tspu_ram #(.W(12), .DEPTH(N), .AW(LW)) u_xip (
        .clk(clk), .we(xip_we), .waddr(xip_lane), .wdata(xi_use),
        .re(xip_re), .raddr(xip_ra), .rdata(xipq));
    tspu_ram #(.W(32), .DEPTH(2 << LW), .AW(LW + 1)) u_b (
        .clk(clk), .we(bias_we && host_ok), .waddr({bias_set, bias_lane[LW-1:0]}),
        .wdata(bias_data), .re(b_re), .raddr(b_ra), .rdata(bq));
    // deep: the lane's state is read in A, advanced and written back in A2
    wire          z_adv_we   = DEEP ? a2_valid && a2_last : wb_valid;
    wire [LW-1:0] z_adv_lane = DEEP ? a2_row : wb_lane;
    tspu_noise_lanes #(.N(N), .LW(LW), .REG_XI(DEEP ? 1 : 0)) u_noise (
        .clk(clk), .rd_en(z_re), .rd_lane(z_ra), .adv_we(z_adv_we), .adv_lane(z_adv_lane),
        .seed_we(seed_we && host_ok), .seed_lane(seed_lane[LW-1:0]), .seed_word(seed_word),
        .seed_data(seed_data), .z_q(z_q), .z_adv(z_adv), .xi(xi));
    assign seed_rdata = z_q;

    // ---- slow lane FSM registers (declared early: they feed the muxes) ---
    localparam [3:0] LS_IDLE = 4'd0, LS_B0 = 4'd1, LS_B1 = 4'd2, LS_WY = 4'd3,
                     LS_INT = 4'd4, LS_WK = 4'd5, LS_INTEG = 4'd6, LS_U2 = 4'd7,
                     LS_U3 = 4'd8, LS_U4 = 4'd9;
    reg [3:0]    ls_r;
    // without slow steps the lane FSM never leaves LS_IDLE: a constant lets
    // synthesis drop every slow-path branch of the datapath
    wire [3:0]   ls = SLOW ? ls_r : LS_IDLE;
    reg [LW-1:0] lane_r;
    reg          lane_go;      // combinational: controller starts lane_r
    reg          got0, got1;
    reg [31:0]   f0_r, fs_r, p2_r;
    reg [32:0]   df_r;         // F1 - F0
    reg [33:0]   e_r;          // (F1 - b1) - (F0 - b0), the work term's factor
    reg [15:0]   opq;          // op(p1) of a UD lane (LS_INTEG -> LS_U2), or op(x_i) of the keep pass
    reg signed [SW-1:0] s_acc;   // S + 2^15: the work sum, biased for round_shift

    // ---- scale16, shared by P1 (Y, D) and the UD kicks (prod0, Sa / So) -----
    // scale16(v, s) = round(v 2^16 / 2^s) = (t >>> 1) + t[0], t = (v 2^17) >>> s
    // (s = 0: t[0] = 0, exact).  Only sat32 of sums with terms below 2^32 is
    // ever taken, so (t >>> 1) is clamped to [-2^34, 2^34 - 1]: a clamped
    // value saturates all those sums to the same side as the exact one.
    // The UD states never overlap a P1 row (the next lane issues after U4).
    wire          sc_ud = (ls == LS_U2) || (ls == LS_U3) || (ls == LS_U4);
    wire [YW-1:0] sc_v  = sc_ud ? {{(YW - 32){prod0[31]}}, prod0} : acc[YW-1:0];
    wire [5:0]    sc_s  = sc_ud ? u_sh : cfg_drift_shift;
    wire signed [YW+16:0] sc_t = $signed({sc_v, 17'd0}) >>> sc_s;
    // deep: the shifted value is registered (Y1 -> Y2)
    wire [YW+16:0] sc_tq;
    wire          sc_hi = !sc_tq[YW+16] && (|sc_tq[YW+16:35]);
    wire          sc_lo = sc_tq[YW+16] && !(&sc_tq[YW+16:35]);
    wire [34:0]   sc_c  = sc_hi ? {1'b0, {34{1'b1}}} : sc_lo ? {1'b1, 34'd0} : sc_tq[35:1];
    wire [DW-1:0] sc    = {{(DW - 35){sc_c[34]}}, sc_c} + {{(DW - 1){1'b0}}, sc_tq[0]};

    // ---- P1: force of the finished row (fast and slow) --------------------
    // F = sat32(scale16(Y) - b): two stages deep, (clamp, t0 - b) then the sum
    wire [DW-1:0] f_pre;
    wire          f_valid;   // the P1 stage that forms F
    wire [DW-1:0] f_q;       // F before its clamp where it is clamped (deep: Q1)
    wire          f_q_valid;
    generate
        if (DEEP) begin : g_p1deep
            reg [YW+16:0] sc_t_r;
            reg [34:0]    sc_c_r;
            reg [32:0]    nb_r;    // t0 - b, the bias read in Y1
            always @(posedge clk) begin
                sc_t_r <= sc_t;
                sc_c_r <= sc_c;
                nb_r   <= {32'd0, sc_tq[0]} - {bq[31], bq};
            end
            // F is registered before its clamp (Y3 -> Q1): the clamp goes to
            // Q1, in front of u = noise - F
            reg [DW-1:0]  fp_r;
            always @(posedge clk) fp_r <= f_pre;
            assign sc_tq   = sc_t_r;
            assign f_pre   = {{(DW - 35){sc_c_r[34]}}, sc_c_r} + {{(DW - 33){nb_r[32]}}, nb_r};
            assign f_valid = y3_valid;
            assign f_q = fp_r;
            assign f_q_valid = q1_valid;
        end else begin : g_p1
            assign sc_tq   = sc_t;
            assign f_pre   = sc - d_sx32(bq);   // bias read in the ACC stage
            assign f_valid = y_valid;
            assign f_q = f_pre;
            assign f_q_valid = y_valid;
        end
    endgenerate
    wire [33:0] g_new = {{2{f_new[31]}}, f_new} - {{2{bq[31]}}, bq};   // F - b
    wire [31:0] f_new = d_sat32(f_pre);
    wire        f_sat = f_q_valid && d_is_sat(f_q);

    // ---- integrate (EM / LM) and UD steps ---------------------------------
    // F of the lane: f0_r for fast rows and for slow steps of one set (its row
    // is kept in f0_r whatever the set), the blend fs_r when both sets are used
    wire [31:0]  f_in   = ((fast_reg || !(need0 && need1)) && !dpass) ? f0_r : fs_r;
    // deep: xi (of the byte sums of Y1) is registered, and so is the LM
    // memory's valid bit of the lane (Y1: no other lane of the step is
    // written between); the sum is formed in Y2 and registered, shifted in Y3
    wire xip_valid;
    wire signed [12:0] xi_sum = is_lm ? ($signed({xi_use[11], xi_use}) +
                              (xip_valid ? $signed({xipq[11], xipq}) : 13'sd0))
                              : $signed({xi_use[11], xi_use});
    wire signed [12:0] xi_sum_q;
    generate
        if (DEEP) begin : g_xideep
            reg [11:0] xi_r;
            reg        xok_r;
            reg signed [12:0] xs_r;
            always @(posedge clk) begin
                xi_r  <= xi;
                xok_r <= xip_ok[y_row];
                xs_r  <= xi_sum;
            end
            assign xi_use = xi_r;
            assign xip_valid = xok_r;
            assign xi_sum_q = xs_r;
        end else begin : g_xi
            assign xi_use = xi;
            assign xip_valid = xip_ok[xip_lane];
            assign xi_sum_q = xi_sum;
        end
    endgenerate
    // xi_sum << Sn (Sn <= 20): |noise| <= 4080 * 2^20 < 2^32; UD (not LM) uses
    // xi alone, and only in LS_U3 (p2)
    wire        n_en    = !is_ud || ls == LS_U3;
    wire signed [32:0] noise_s = $signed({{20{xi_sum_q[12]}}, xi_sum_q}) <<< cfg_noise_shift;
    wire signed [32:0] noise_t = n_en ? noise_s : 33'sd0;
    // UD, one product per state (multiplier 0 of the MAC array, prod0)
    wire [5:0]   u_sh      = (ls == LS_U3) ? cfg_ko_shift : cfg_ka_shift;
    // One adder serves every integrator sum, R = A -/+ B + noise (the UD
    // states come one after the other, never beside a fast write-back):
    //   EM / LM          x_new = x   - F  + noise   (fast, or slow LS_INTEG)
    //   UD LS_INTEG      p1    = p   - F
    //   UD LS_U2         x1    = x   + scale16(ka op(p1))
    //   UD LS_U3         p2    = p1  - scale16(ko op(x1)) + noise
    //   UD LS_U4         x2    = x1  + scale16(ka op(p2))    (write-back)
    wire          r_p1  = ls == LS_INTEG && is_ud;
    wire [31:0]   r_a   = xpq;   // p for LS_INTEG (UD) and U3 (p1), else x (U4: x1, re-read)
    wire [DW-1:0] r_b   = sc_ud ? sc : d_sx32(f_in);
    wire          r_neg = !(ls == LS_U2 || ls == LS_U4);
    // two carry chains, x/p + noise first (|.| < 2^33): the negation of r_b
    // sits in the LUT of its multiplexer (a three-input sum would map to a
    // carry-save stage of two LUTs a bit)
    wire [DW-1:0] r_sum;
    generate
        if (DEEP) begin : g_p2deep
            // Y3: noise registered; Q1: u = noise - F; Q2: r = x + u (x read
            // in Q1); Q3 takes sat32 of the registered r
            // u = noise - sat32(F): the three candidates (F, or its clamp to
            // 2^31 - 1 or -2^31) are subtracted side by side and the clamp
            // selects after the adders
            // (|u| < 2^32 + 2^31: 34 bits.)  Fmax: the subtractions are
            // carry selects (d_sub34_cs); nz + 2^31 only adds to bits 33:31
            reg [32:0]    noise_r;
            reg [33:0]    u_r;
            reg [DW-1:0]  r_r;
            wire [33:0]   nz     = {noise_r[32], noise_r};
            wire [33:0]   fx     = {{2{f_q[31]}}, f_q[31:0]};
            localparam [33:0] FMAX = 34'h07FFFFFFF;
            wire [33:0]   u_f    = d_sub34_cs(nz, fx);
            wire [33:0]   u_fmax = d_sub34_cs(nz, FMAX);   // nz - (2^31 - 1)
            wire [33:0]   u_fmin = {nz[33:31] + 3'd1, nz[30:0]};                // nz + 2^31
            wire          f_clamp = d_is_sat(f_q);
            always @(posedge clk) begin
                noise_r <= noise_t;
                u_r     <= !f_clamp ? u_f : f_q[DW-1] ? u_fmin : u_fmax;
                r_r     <= d_sx32(r_a) + {{(DW - 34){u_r[33]}}, u_r};
            end
            assign r_sum = r_r;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_rb = r_neg | (|r_b);
            /* verilator lint_on UNUSEDSIGNAL */
        end else begin : g_p2
            (* keep *) wire [34:0] r_ac = {{3{r_a[31]}}, r_a} + {{2{noise_t[32]}}, noise_t};
            assign r_sum = {{(DW - 35){r_ac[34]}}, r_ac} + (r_b ^ {DW{r_neg}}) + {{(DW - 1){1'b0}}, r_neg};
        end
    endgenerate
    wire [31:0]   r_v   = d_sat32(r_sum);
    wire          r_sat = d_is_sat(r_sum);
    // op(r_v) beside the clamp, not after it: op(0x7FFFFFFF) = 0x7FFF (an
    // operand saturation), op(0x80000000) = 0x8000
    wire [15:0]   r_op  = r_sat ? (r_sum[DW-1] ? 16'h8000 : 16'h7FFF) : f_op(r_sum[31:0]);
    wire          r_opsat = r_sat ? BREAK_ROUNDING == 0 && !r_sum[DW-1] : f_op_sat(r_sum[31:0]);

    wire wb_fast = q_valid && fast_reg;
    wire wb_slow = (ls == LS_INTEG && !is_ud) || ls == LS_U4;
    assign wb_valid  = wb_fast || wb_slow;
    assign wb_lane   = wb_fast ? q_row : lane_r;
    assign wb_x      = r_v;
    assign wb_p      = p2_r;
    assign ud_xw     = ls == LS_U2;
    assign ud_pw     = r_p1 || ls == LS_U3;
    wire   wb_xsat   = wb_valid && r_sat;
    wire [15:0] wb_op = r_op;
    wire   wb_opsat  = wb_valid && r_opsat;

    assign obs_valid = wb_valid;
    assign obs_lane  = {{(6 - LW){1'b0}}, wb_lane};
    assign obs_x     = wb_x;
    assign obs_p     = wb_p;

    // ---- serial multiplier (interpolation, work) ---------------------------
    reg                mul_start;
    reg  [MW-1:0]      mul_a;
    reg  signed [17:0] mul_b;
    wire               mul_done;
    wire [MW-1:0]      mul_p;
    generate
        if (SLOW) begin : g_smul
            tspu_serial_mul #(.W(MW)) u_smul (.clk(clk), .rst(rst), .start(mul_start), .a(mul_a),
                                    .b(mul_b), .done(mul_done), .p(mul_p));
        end else begin : g_nosmul   // every step fast: no interpolation, no work
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_mul = mul_start | (|mul_a) | (|mul_b);
            /* verilator lint_on UNUSEDSIGNAL */
            assign mul_done = 1'b0; assign mul_p = {MW{1'b0}};
        end
    endgenerate
    wire [63:0]        mul_p64 = {{(64 - MW){mul_p[MW-1]}}, mul_p};

    // the lane FSM enters LS_INTEG at the next edge (UD reads p then; the x
    // of the lane start has served the work term's op(x) by then)
    wire to_integ = (ls == LS_WY && (got0 || !need0) && (got1 || !need1) && !((need0 && need1) || dpass))
                 || (ls == LS_INT && mul_done && !(d16_reg != 17'sd0 && !dpass))
                 || (ls == LS_WK && mul_done);
    wire ud_p_rd  = is_ud && to_integ;

    // ---- data-driven drift (tspu_data_pass; docs/architecture.md) ----------
    // Pass 1 runs at the begin of a data step (C_DATA), pass 2 of lane i
    // before its MAC row; the lane FSM then forms
    // F = sat32(F0 - round_shift(l1 Fd, 15)) on the serial multiplier, and the
    // step's work (Gaussian) is d16 * S.  The engine borrows multiplier 0.
    wire        dp_done, dp_sat, dp_mul_en;
    wire [15:0] dp_mul_a, dp_mul_b;
    wire [31:0] dp_fd;
    wire [43:0] dp_s;
    wire        dp_start1;   // a data step begins (assigned with do_next_slow)
    generate
        if (DATA_MAX_OBS > 0) begin : g_data
            /* verilator lint_off UNUSEDSIGNAL */ // per-observation test outputs
            wire        o_v, o_busy;
            wire [15:0] o_z, o_s, o_e, o_g;
            /* verilator lint_on UNUSEDSIGNAL */
            tspu_data_pass #(.N(N), .KMAX(DATA_MAX_OBS), .BREAK_Z(BREAK_DATA)) u_data (
                .clk(clk), .rst(rst), .cfg_mode(cfg_data_mode), .cfg_n_obs(cfg_n_obs),
                .cfg_sr(cfg_data_sr), .cfg_sg(cfg_data_sg), .cfg_dd(cfg_data_dd),
                .ops(ops_all), .start1(dp_start1), .start2(dp_start2),
                .lane({{(6 - LW){1'b0}}, lane_r}), .busy(o_busy), .done(dp_done), .fd(dp_fd),
                .s_sum(dp_s), .sat(dp_sat), .mul_en(dp_mul_en), .mul_a(dp_mul_a),
                .mul_b(dp_mul_b), .prod(prod0),
                .h_we(dat_we && host_ok), .h_re(dat_re && host_ok), .h_sel(dat_sel),
                .h_addr(dat_addr), .h_wdata(dat_wdata), .h_rdata(dat_rdata),
                .obs_valid(o_v), .obs_z(o_z), .obs_s(o_s), .obs_e(o_e), .obs_g(o_g));
        end else begin : g_nodata
            /* verilator lint_off UNUSEDSIGNAL */ // no engine to start
            wire unused_start = dp_start1 | dp_start2;
            /* verilator lint_on UNUSEDSIGNAL */
            assign dp_done = 1'b0; assign dp_sat = 1'b0;
            assign dp_mul_en = 1'b0; assign dp_mul_a = 16'd0; assign dp_mul_b = 16'd0;
            assign dp_fd = 32'd0; assign dp_s = 44'd0; assign dat_rdata = 16'd0;
        end
    endgenerate
    // work (Gaussian data steps): W += d16 S; no work term for logistic data
    wire          work_skip = dpass && cfg_data_mode == 2'd2;
    wire [MW-1:0] dps_m = {{(MW - 44){dp_s[43]}}, dp_s};
    wire [MW-1:0] dfd_m = {{(MW - 32){dp_fd[31]}}, dp_fd};
    // F = sat32(F0 - round_shift(l1 Fd, 15)); |l1 Fd| <= 2^46
    wire [33:0] fdat_w = {{2{f0_r[31]}}, f0_r} - ({mul_p[47], mul_p[47:15]} + {33'd0, mul_p[14]});
    wire        fdat_sat = !(&fdat_w[33:31] || ~|fdat_w[33:31]);
    wire [31:0] fdat = fdat_sat ? (fdat_w[33] ? 32'h80000000 : 32'h7FFFFFFF) : fdat_w[31:0];
    wire        fdat_cnt = ls == LS_INT && mul_done && dpass && fdat_sat;
    // operands of the serial products, MW bits
    wire [MW-1:0] df_m  = {{(MW - 33){df_r[32]}}, df_r};
    wire [MW-1:0] e_m   = {{(MW - 34){e_r[33]}}, e_r};
    // round_shift(S, 16) = floor((S + 2^15) / 2^16): s_acc starts at 2^15
    // (|S| < 2^(49 + LW), so the bias cannot overflow SW bits)
    wire [MW-1:0] s16_m = {{(MW - SW + 16){s_acc[SW-1]}}, s_acc[SW-1:16]};

    // the operands of the next serial product, selected by the state that
    // starts it (LS_WY: l1 (F1 - F0); LS_INT: the work term e op(x); else the
    // step's work d16 S): loaded every cycle the multiplier does not hold
    // them (from its start until its done), so no load condition is decoded
    wire [MW-1:0]      ma_d = (ls == LS_INT) ? e_m : (ls == LS_WY) ? (dpass ? dfd_m : df_m)
                            : (dpass ? dps_m : s16_m);
    wire signed [17:0] mb_d = (ls == LS_INT) ? {{2{xq_op[15]}}, xq_op} : (ls == LS_WY) ? {2'b00, b_l1}
                            : {d16_reg[16], d16_reg};
    reg                ma_busy;
    always @(posedge clk) begin
        if (rst) ma_busy <= 1'b0;
        else ma_busy <= (mul_start || ma_busy) && !mul_done;
        if (!mul_start && (!ma_busy || mul_done)) begin
            mul_a <= ma_d; mul_b <= mb_d;
        end
    end

    // ---- init refresh, keep pass --------------------------------------------
    reg [LW-1:0] ir;            // init read lane
    reg          iq_valid, iq2_valid;  // x read data / its registered op(x)
    reg [LW-1:0] iq_lane, iq2_lane;
    wire         init_wr = iq2_valid;

    // keep-pass token generator: SUM i, PAIR (i, j>=i), momentum p[j]
    localparam [1:0] K_SUM = 2'd0, K_PAIR = 2'd1, K_MP = 2'd2, K_END = 2'd3;
    reg [1:0]     kmode;
    reg [LW-1:0]  ki, kj;
    reg [MAW-1:0] kk;
    reg           fifo_ok, mom_ok;
    reg           k0_valid;       // combinational: a token issues this cycle
    reg           kx_valid, kx_sum, kx_mp, kx_fifo;   // x / p read data
    reg [MAW-1:0] kx_k;
    reg           k1_valid, k1_sum, k1_mp, k1_fifo;   // its op registered: product, FIFO
    reg [MAW-1:0] k1_k;
    reg           k2_valid, k2_mp;
    reg [MAW-1:0] k2_k;
    reg [1:0]     kdrain;
    assign        st_rdata = xpq;
    // op(x) of the x read port (init refresh, work term, keep pass) or of p
    // (momentum words of the keep pass): one rounding unit, registered for
    // the init refresh and the keep pass (Fmax: the rounding no longer
    // feeds the operand register or multiplier 0 in the same cycle)
    wire [15:0]   xq_op = f_op(xpq);
    reg  [15:0]   xq_op_r;
    reg           xq_opsat_r;
    always @(posedge clk) begin
        xq_op_r    <= xq_op;
        xq_opsat_r <= f_op_sat(xpq);
    end
    wire [15:0]   init_op = xq_op_r;
    wire          init_sat = iq2_valid && xq_opsat_r;
    wire [15:0]   k1_op = xq_op_r;
    // F0 + round(l1 (F1 - F0) / 2^15) is within [F0, F1]: the low 32 bits suffice
    wire [31:0] interp = f0_r + mul_p[46:15] + {31'd0, mul_p[14]};

    // moment memory
    reg            mom_clr_we;
    reg [MAW-1:0]  mom_clr_a;
    wire           seg_wr = seg_we && host_ok;   // segment table word (host)
    // The 64-bit read-modify-write is split in two 32-bit halves a cycle
    // apart (Fmax: no 64-bit carry chain): the low word is read in k1 and
    // written in k2 (+ the product), the high word read in k2 and written in
    // k3 (+ the product's sign extension + the low word's carry).  A keep
    // pass touches every word once, so no read meets a pending write.  Host
    // reads, clears, segment words and the sequencer's table reads use both
    // halves in the same cycle.
    wire [MAW-1:0] seg_wa = SEGBASE + {{(MAW - 4){1'b0}}, seg_addr};
    wire [MAW-1:0] seg_ra = SEGBASE + {{(MAW - 4){1'b0}}, seq_tab_idx};
    wire [31:0]    mom_lo_q, mom_hi_q;
    wire [32:0]    mom_lo_sum = {1'b0, mom_lo_q} + {1'b0, prod0};   // x_i x_j, or x_i (times 1)
    reg            k3_valid, k3_mp, k3_cy, k3_sgn;
    reg [MAW-1:0]  k3_k;
    always @(posedge clk) begin
        k3_valid <= !rst && k2_valid; k3_mp <= k2_mp; k3_k <= k2_k;
        k3_cy <= mom_lo_sum[32]; k3_sgn <= prod0[31];
    end
    wire [31:0]    mom_hi_sum = mom_hi_q + {32{k3_sgn}} + {31'd0, k3_cy};
    wire           lo_seg_re = busy && !k1_valid;
    wire           hi_seg_re = busy && !k2_valid;
    tspu_ram #(.W(32), .DEPTH(MOMS), .AW(MAW)) u_mom_lo (
        .clk(clk), .we(mom_clr_we || (k2_valid && !k2_mp && mom_ok) || seg_wr),
        .waddr(mom_clr_we ? mom_clr_a : seg_wr ? seg_wa : k2_k),
        .wdata(mom_clr_we ? 32'd0 : seg_wr ? seg_steps : mom_lo_sum[31:0]),
        .re((k1_valid && !k1_mp) || (mom_re && host_ok) || lo_seg_re),
        .raddr(k1_valid ? k1_k : lo_seg_re ? seg_ra : mom_addr[MAW-1:0]), .rdata(mom_lo_q));
    tspu_ram #(.W(32), .DEPTH(MOMS), .AW(MAW)) u_mom_hi (
        .clk(clk), .we(mom_clr_we || (k3_valid && !k3_mp && mom_ok) || seg_wr),
        .waddr(mom_clr_we ? mom_clr_a : seg_wr ? seg_wa : k3_k),
        .wdata(mom_clr_we ? 32'd0 : seg_wr ? seg_dlambda : mom_hi_sum),
        .re((k2_valid && !k2_mp) || (mom_re && host_ok) || hi_seg_re),
        .raddr(k2_valid ? k2_k : hi_seg_re ? seg_ra : mom_addr[MAW-1:0]), .rdata(mom_hi_q));
    wire [63:0]    mom_q = {mom_hi_q, mom_lo_q};
    assign mom_rdata = mom_q;
    assign seq_tab_q = mom_q;

    // sample FIFO
    wire          fifo_clear = seq_start;
    wire          fifo_we = k1_valid && k1_fifo && fifo_ok;
    /* verilator lint_off UNUSEDSIGNAL */ // room is decided on the level
    wire [FIFO_AW:0] fifo_free;
    /* verilator lint_on UNUSEDSIGNAL */
    tspu_fifo #(.AW(FIFO_AW)) u_fifo (
        .clk(clk), .rst(rst), .clear(fifo_clear), .wr_en(fifo_we), .wr_data(k1_op),
        .rd_en(fifo_re), .rd_data(fifo_rdata), .level(fifo_level), .free(fifo_free));
    // room for a whole sample: free >= words, i.e. level <= depth - words
    // (constants: no subtractor; a sample larger than the FIFO never fits)
    localparam integer R1 = (1 << FIFO_AW) - N, R2 = (1 << FIFO_AW) - 2 * N;
    /* verilator lint_off WIDTH */ // sized copies of integer parameters (values fit)
    localparam [15:0] ROOM1 = (R1 >= 0) ? R1 : 0, ROOM2 = (R2 >= 0) ? R2 : 0;
    /* verilator lint_on WIDTH */
    wire [15:0] level16   = {{(15 - FIFO_AW){1'b0}}, fifo_level};
    // (the one test of it: tspu_csr holds the core on fifo_room_now too)
    assign fifo_room_now = cfg_sample_momentum ? (R2 >= 0 && level16 <= ROOM2)
                                               : (R1 >= 0 && level16 <= ROOM1);
    // registered (Fmax): the level a clock old.  A keep pass's last FIFO
    // write is cycles before the next step boundary, and host reads only
    // add room, so at worst a sample waits for a room one clock old
    reg         fifo_room;
    always @(posedge clk) fifo_room <= fifo_room_now;

    // ---- read-port multiplexing (the users are mutually exclusive) -------
    always @(*) begin
        xp_re = 1'b0; xp_ra = {(LW + 1){1'b0}};
        z_re = 1'b0; z_ra = {LW{1'b0}};
        xip_re = 1'b0; xip_ra = {LW{1'b0}};
        b_re = 1'b0; b_ra = {(LW + 1){1'b0}};
        if (!DEEP && y_valid && fast_reg) begin   // fast P1 -> P2 operands
            xp_re = 1'b1; xp_ra = {1'b0, y_row};
            z_re = 1'b1; z_ra = y_row;
            xip_re = 1'b1; xip_ra = y_row;
        end
        if (!DEEP && a_valid && a_last) begin     // ACC -> P1 bias (fast and slow)
            b_re = 1'b1; b_ra = {a_set, a_row};
        end
        if (DEEP && a_valid && a_last) begin      // deep: noise state for A2
            z_re = 1'b1; z_ra = a_row;
        end
        if (DEEP && y_valid) begin                // deep: bias for Y2
            b_re = 1'b1; b_ra = {y_set, y_row};
        end
        if (DEEP && y_valid) begin                // deep: LM memory for Y2
            xip_re = 1'b1; xip_ra = y_row;
        end
        if (DEEP && q1_valid) begin               // deep: x for Q2
            xp_re = 1'b1; xp_ra = {1'b0, q1_row};
        end
        if (lane_go) begin                        // slow lane start
            xp_re = 1'b1; xp_ra = {1'b0, lane_r};
            z_re = 1'b1; z_ra = lane_r;
            xip_re = 1'b1; xip_ra = lane_r;
        end
        if (ud_p_rd) begin                        // UD: p for LS_INTEG (x was read at the lane start)
            xp_re = 1'b1; xp_ra = {1'b1, lane_r};
        end
        if (r_p1) begin                           // x for LS_U2
            xp_re = 1'b1; xp_ra = {1'b0, lane_r};
        end
        if (ls == LS_U2) begin                    // p1 back for LS_U3
            xp_re = 1'b1; xp_ra = {1'b1, lane_r};
        end
        if (ls == LS_U3) begin                    // x1 back for LS_U4
            xp_re = 1'b1; xp_ra = {1'b0, lane_r};
        end
        if (ctl == C_INIT) begin
            xp_re = 1'b1; xp_ra = {1'b0, ir};
        end
        if (k0_valid) begin
            xp_re = 1'b1;
            if (kmode == K_MP) xp_ra = {1'b1, kj};
            else xp_ra = {1'b0, (kmode == K_SUM) ? ki : kj};
        end
        if (host_ok && st_re) begin
            xp_re = 1'b1; xp_ra = {st_sel, st_lane[LW-1:0]};
        end
        if (host_ok && seed_re) begin
            z_re = 1'b1; z_ra = seed_lane[LW-1:0];
        end
    end

    // ---- saturation events of this cycle ---------------------------------
    reg        la_sat_now;
    reg [2:0]  ud_sat_now;
    // F's clamp is counted a cycle late (Fmax: F's adder and clamp no longer
    // feed the event sum); its lane is written back cycles later anyway
    reg        f_sat_q;
    always @(posedge clk) f_sat_q <= !rst && f_sat;
    wire [3:0] sat_inc = {3'd0, dp_sat} + {3'd0, fdat_cnt} + {3'd0, la_sat_now} + {3'd0, f_sat_q} + {3'd0, wb_xsat} +
                         {3'd0, wb_opsat} + {3'd0, init_sat} + {1'b0, ud_sat_now};
    // registered: the count is added a cycle after the events (Fmax: the
    // write-back's sat32 no longer feeds the 32-bit saturating add)
    reg  [3:0]  sat_inc_q;
    always @(posedge clk) sat_inc_q <= rst ? 4'd0 : sat_inc;
    wire [32:0] sat_sum = {1'b0, sat_count} + {29'd0, sat_inc_q};
    wire [31:0] mom_inc  = mom_count + 32'd1;
    wire [31:0] drop_inc = fifo_dropped + 32'd1;
    reg         mom_full, drop_full;   // mom_count / fifo_dropped == 2^32 - 1

    // ---- operand buffers ---------------------------------------------------
    // Every producer (fast rows, slow lanes, the initial refresh; never two
    // at once) writes lanes 0..N-1 in order, and the last write swaps the
    // operands in use for the ones produced (Jacobi double buffer).
    wire             op_wr  = wb_valid || init_wr;
    wire [15:0]      op_in  = wb_valid ? wb_op : init_op;
    wire wb_last = wb_fast ? q_last : lane_r == LAST_LANE;   // wb_lane == LAST_LANE
    wire swap = (wb_valid && wb_last) || (init_wr && iq2_lane == LAST_LANE);
    // a fast step ends with its last write-back, a slow one in C_SLOW_END
    assign obs_step_done = (wb_fast && q_last) || (SLOW && ctl == C_SLOW_END);
    /* verilator lint_off UNUSEDSIGNAL */ // only the data pass reads every operand at once
    wire [16*N-1:0]  ops_all;
    /* verilator lint_on UNUSEDSIGNAL */
    generate
        if (OPS_RAM) begin : g_opram
            // One small block RAM per MAC instead of 2 N x 16 flip-flops (N = 16
            // fits the UP5K): MAC k's operand of chunk c at {bank, c}.  The
            // issue reads the bank in use beside the coupling RAMs (both arrive
            // in the M stage); the step being produced writes the other bank
            // and its last write flips the bank.  The next step's first issue
            // may fall in that clock: it reads the new bank's chunk 0 while lane
            // N-1 is written into chunk C-1 != 0, never the same word.
            localparam KW = (P <= 1) ? 1 : $clog2(P);
            /* verilator lint_off WIDTH */ // sized copies of integer parameters (values fit)
            localparam [KW-1:0] LAST_K = P - 1;
            /* verilator lint_on WIDTH */
            reg          bank;
            reg [KW-1:0] wk;    // MAC of the next write
            reg [CW-1:0] wc;    // chunk of the next write
            always @(posedge clk) begin
                if (rst) begin
                    bank <= 1'b0; wk <= {KW{1'b0}}; wc <= {CW{1'b0}};
                end else if (op_wr) begin
                    if (swap) begin
                        bank <= !bank; wk <= {KW{1'b0}}; wc <= {CW{1'b0}};
                    end else if (wk == LAST_K) begin
                        wk <= {KW{1'b0}}; wc <= wc + 1'b1;
                    end else begin
                        wk <= wk + 1'b1;
                    end
                end
            end
            wire rbank = swap ? !bank : bank;
            // read every clock (Fmax: no enable of the issue decision; only
            // the clock after an issue looks at the data): reads are of bank
            // rbank, writes of !bank, and in the swap clock (read !bank) a
            // read is of chunk 0 (or the issue's) while the write is of
            // chunk C - 1 (C > 2)
            genvar go;
            for (go = 0; go < P; go = go + 1) begin : g_op
                /* verilator lint_off WIDTH */
                localparam [KW-1:0] K = go;
                /* verilator lint_on WIDTH */
                tspu_ram #(.W(16), .DEPTH(2 << CW), .AW(CW + 1)) u_op (
                    .clk(clk), .we(op_wr && wk == K), .waddr({!bank, wc}), .wdata(op_in),
                    .re(1'b1), .raddr({rbank, iss_chunk}), .rdata(opw[16*go +: 16]));
            end
            assign ops_all = {16*N{1'b0}};
        end else begin : g_opff
            // opn is a shift register: the new operand enters at the top, and
            // after lane N-1 lane i is at i.  opr (in use) rotates by one chunk
            // after every M cycle (every row issues chunks 0..C-1 in order), so
            // the window is always its low 16 P bits and the rotation is the
            // LUT in front of each operand flip-flop (no C-way multiplexer)
            reg [16*NP-1:0] opr;
            /* verilator lint_off UNUSEDSIGNAL */ // opn[15:0] (last step's lane 0) shifts out
            reg [16*N-1:0]  opn;
            /* verilator lint_on UNUSEDSIGNAL */
            wire [16*N-1:0]  opn_sh = {op_in, opn[16*N-1:16]};
            wire [16*NP-1:0] opn_next;
            if (NP > N) begin : g_pad
                assign opn_next = {{(16 * (NP - N)){1'b0}}, opn_sh}; // padding columns: 0
            end else begin : g_nopad
                assign opn_next = opn_sh;
            end
            // opr after one M cycle: chunk c moves to c - 1, chunk 0 to C - 1
            wire [16*NP-1:0] opr_rot;
            if (C > 1) begin : g_rot
                assign opr_rot = {opr[16*P-1:0], opr[16*NP-1:16*P]};
            end else begin : g_norot
                assign opr_rot = opr;
            end
            always @(posedge clk) begin
                if (rst) begin
                    opn <= {16*N{1'b0}};
                end else begin
                    if (op_wr) opn <= opn_sh;
                end
                if (swap) opr <= opn_next;
                else if (m_valid) opr <= opr_rot;
            end
            assign opw = opr[16*P-1:0];
            assign ops_all = opr[16*N-1:0];
        end
    endgenerate
`ifndef SYNTHESIS
    // the rotation / bank swap assumes no row is in the M stage when the operands swap
    always @(posedge clk)
        if (!rst && swap && m_valid && C > 1)
            $display("FAIL: tspu_core %m: operand swap during an M cycle");
`endif

    // ---- step-level decisions shared by the controller -------------------
    wire next_keep = keep_reg;
    wire do_next_fast, do_next_slow;
    // (in C_DRAIN every write-back is a fast one)
    wire at_decide = (ctl == C_NEXT) || (ctl == C_DRAIN && wb_fast && q_last);
    wire go_step   = at_decide && !next_keep && !seq_done && !stop_req && !hold;
    assign do_next_fast = go_step && b_fast;
    assign do_next_slow = go_step && !b_fast;
    assign dp_start1    = do_next_slow && b_dpass;
    assign held = ctl == C_NEXT && hold && !next_keep;

    // the last issue of a fast step, of the registers C_FAST issues from
    // (Fmax: not of the issue multiplexer)
    wire last_iss = cur_row == LAST_LANE && chunk_last;
    assign seq_commit = (ctl == C_FAST && last_iss) || (SLOW && ctl == C_SLOW_END);
    /* verilator lint_off UNUSEDSIGNAL */ // only the sign bit decides overflow
    wire [63:0] work_sum = work + mul_p64;
    /* verilator lint_on UNUSEDSIGNAL */


    // ---- run counters (cleared at the start; saturating) ------------------
    // one block with a plain clear / load per counter, so each flip-flop
    // takes its clear on its reset pin and its load on its enable
    wire work_ld  = SLOW && ctl == C_SLOW_WORK && d16_reg != 17'sd0 && !work_skip && mul_done;
    wire work_ovf = work[63] == mul_p64[63] && work_sum[63] != work[63];
    wire keep_now = at_decide && next_keep;
    // the lane's datapath registers (no reset: each is written before it is read)
    always @(posedge clk) begin
        if (f_valid && (fast_reg || !y_set || !(need0 && need1))) f0_r <= f_new;
        // e_r = g1 - g0 as g - e_r twice (e_r is cleared at the lane start)
        if (ls == LS_IDLE && lane_go) e_r <= 34'd0;
        else if (y_valid && !fast_reg) e_r <= g_new - e_r;
        if (y_valid && !fast_reg && y_set) df_r <= {f_new[31], f_new} - {f0_r[31], f0_r};
        if (ls == LS_INT && mul_done) fs_r <= dpass ? fdat : interp;
        if (ls == LS_INTEG && is_ud) opq <= r_op;
        else if (k1_valid && k1_sum) opq <= k1_op;
        if (ls == LS_U3) p2_r <= r_v;
    end
    // the work sum of a step: set to the bias at its begin, one term per lane
    always @(posedge clk)
        if (rst || do_next_fast || do_next_slow) s_acc <= S_BIAS;
        else if (ls == LS_WK && mul_done) s_acc <= s_acc + mul_p[SW-1:0];
    reg steps_lo_ones;   // steps[31:0] == 2^32 - 1
    // work: only slow steps add to it (a constant 0 without them)
    always @(posedge clk)
        if (rst || seq_start || !SLOW) work <= 64'd0;
        else if (work_ld) work <= work_ovf ? (mul_p64[63] ? 64'h8000000000000000 : 64'h7FFFFFFFFFFFFFFF)
                                           : work_sum;
    always @(posedge clk) begin
        if (rst || seq_start) begin
            sat_count <= 32'd0; fifo_dropped <= 32'd0; steps <= 64'd0; steps_lo_ones <= 1'b0;
            mom_count <= 32'd0; mom_full <= 1'b0; drop_full <= 1'b0;
        end else begin
            if (sat_inc_q != 4'd0) sat_count <= sat_sum[32] ? 32'hFFFFFFFF : sat_sum[31:0];
            // two 32-bit incrementers (Fmax): the high word's carry is the
            // flag "low word all ones", kept up to date at every increment
            if (seq_commit) begin
                steps[31:0] <= steps[31:0] + 32'd1;
                if (steps_lo_ones) steps[63:32] <= steps[63:32] + 32'd1;
                steps_lo_ones <= steps[31:0] == 32'hFFFFFFFE;
            end
            // saturating at 2^32 - 1: *_full (the counter is there) is kept
            // beside it, so no carry-out reaches the enables (Fmax)
            if (keep_now && !mom_full) begin
                mom_count <= mom_inc[31:0]; mom_full <= mom_count == 32'hFFFFFFFE;
            end
            if (keep_now && !fifo_room && !drop_full) begin
                fifo_dropped <= drop_inc[31:0]; drop_full <= fifo_dropped == 32'hFFFFFFFE;
            end
        end
    end

    // ---- MAC pipeline tags and keep-pass stages ---------------------------
    always @(posedge clk) begin
        if (rst) begin
            m_valid <= 1'b0; a_valid <= 1'b0; a2_valid <= 1'b0; y_valid <= 1'b0; q_valid <= 1'b0;
            y2_valid <= 1'b0; y3_valid <= 1'b0; q1_valid <= 1'b0; q2_valid <= 1'b0;
            kx_valid <= 1'b0; k1_valid <= 1'b0; k2_valid <= 1'b0; iq2_valid <= 1'b0;
        end else begin
            m_valid <= iss_valid; m_set <= iss_set; m_row <= iss_row;
            m_first <= iss_chunk == {CW{1'b0}}; m_last <= iss_chunk == LAST_CHUNK;
            a_valid <= m_valid; a_set <= m_set; a_row <= m_row;
            a_first <= m_first; a_last <= m_last;
            a2_valid <= DEEP && a_valid; a2_set <= a_set; a2_row <= a_row;
            a2_first <= a_first; a2_last <= a_last;
            if (DEEP) begin y_valid <= a2_valid && a2_last; y_set <= a2_set; y_row <= a2_row; end
            else begin y_valid <= a_valid && a_last; y_set <= a_set; y_row <= a_row; end
            y2_valid <= DEEP && y_valid; y2_row <= y_row;
            y3_valid <= y2_valid; y3_row <= y2_row;
            q1_valid <= y3_valid; q1_row <= y3_row;
            q2_valid <= q1_valid; q2_row <= q1_row;
            if (DEEP) begin q_valid <= q2_valid; q_row <= q2_row; q_last <= q2_row == LAST_LANE; end
            else begin q_valid <= y_valid && fast_reg; q_row <= y_row; q_last <= y_row == LAST_LANE; end
            kx_valid <= k0_valid; kx_sum <= kmode == K_SUM; kx_mp <= kmode == K_MP;
            kx_fifo <= (kmode == K_PAIR && ki == 0) || kmode == K_MP;
            kx_k <= (kmode == K_SUM) ? TK + {{(MAW - LW){1'b0}}, ki} : kk;
            k1_valid <= kx_valid; k1_sum <= kx_sum; k1_mp <= kx_mp;
            k1_fifo <= kx_fifo; k1_k <= kx_k;
            iq2_valid <= iq_valid; iq2_lane <= iq_lane;
            k2_valid <= k1_valid; k2_mp <= k1_mp; k2_k <= k1_k;
        end
    end

    // multiplier 0 of the MAC array, borrowed by UD and the moment pass
    always @(*) begin
        aux_en = 1'b0; aux_a = 16'd0; aux_b = 16'd0; ud_sat_now = 3'd0;
        if (ls == LS_INTEG && is_ud) begin
            aux_en = 1'b1; aux_a = r_op; aux_b = cfg_ka;
            ud_sat_now = {2'd0, r_sat} + {2'd0, r_opsat};
        end
        if (ls == LS_U2) begin
            aux_en = 1'b1; aux_a = opq; aux_b = cfg_ko;
            ud_sat_now = {2'd0, r_sat};
        end
        if (ls == LS_U3) begin
            aux_en = 1'b1; aux_a = r_op; aux_b = cfg_ka;
            ud_sat_now = {2'd0, r_sat} + {2'd0, r_opsat};
        end
        if (dp_mul_en) begin            // data passes
            aux_en = 1'b1; aux_a = dp_mul_a; aux_b = dp_mul_b;
        end
        if (k1_valid && !k1_mp) begin   // pair: op_i op_j; sum: op_i * 1
            aux_en = 1'b1; aux_a = k1_sum ? 16'd1 : opq; aux_b = k1_op;
        end
    end
    // ---- controller --------------------------------------------------------
    always @(*) begin
        iss_valid = 1'b0; iss_set = set_reg; iss_row = {LW{1'b0}}; iss_chunk = {CW{1'b0}};
        lane_go = 1'b0; la_sat_now = 1'b0; k0_valid = 1'b0;
        if (do_next_fast) begin
            iss_valid = 1'b1; iss_set = b_set;
        end
        if (do_next_fast || do_next_slow)
            la_sat_now = HAVE_SCHEDULE != 0 && (la_lo || la_hi);   // lambda 0 or 2^31 otherwise
        if (ctl == C_FAST) begin
            iss_valid = 1'b1; iss_row = cur_row; iss_chunk = cur_chunk;
        end
        if (SLOW && ctl == C_SLOW_ISS) begin
            iss_valid = 1'b1; iss_row = lane_r; iss_chunk = cur_chunk; iss_set = slow_set;
            lane_go = first_iss;
        end
        if (ctl == C_KEEP && kmode != K_END)
            k0_valid = 1'b1;
    end


    always @(posedge clk) begin
        mom_clr_we <= 1'b0;
        mul_start  <= 1'b0;
        dp_start2  <= 1'b0;
        if (cmd_stop) stop_req <= 1'b1;
        if (rst) begin
            ctl <= C_IDLE;
            flags <= 5'd0; lambda_acc <= 32'd0;
            keep_reg <= 1'b0; stop_req <= 1'b0; fast_reg <= 1'b1; xip_ok <= {N{1'b0}};
            need0 <= 1'b1; need1 <= 1'b0; set_reg <= 1'b0;
            dpass <= 1'b0; dp_p2 <= 1'b0;
            cur_row <= {LW{1'b0}}; cur_chunk <= {CW{1'b0}}; lane_r <= {LW{1'b0}};
            slow_set <= 1'b0; first_iss <= 1'b0; ir <= {LW{1'b0}}; iq_valid <= 1'b0;
            kmode <= K_END; kdrain <= 2'd0; ls_r <= LS_IDLE; got0 <= 1'b0; got1 <= 1'b0;
        end else begin
            // saturation counter (saturating) and sticky flag
            if (sat_inc_q != 4'd0) begin
                flags[0] <= 1'b1;
            end
            if (seq_done) flags[4] <= 1'b1;
            if (host_st_we) xip_ok <= {N{1'b0}};
            if (xip_we) xip_ok[xip_lane] <= 1'b1;
            iq_valid <= 1'b0;

            // begin of a step (fast or slow)
            if (do_next_fast || do_next_slow) begin
                need0 <= b_need0; need1 <= b_need1; fast_reg <= b_fast; set_reg <= b_set;
                dpass <= b_dpass; dp_p2 <= 1'b0;
            end

            case (ctl)
                C_IDLE, C_DONE: begin
                    if (seq_start) begin
                        flags <= 5'd0;
                        lambda_acc <= l_init; keep_reg <= 1'b0; stop_req <= 1'b0;
                        mom_clr_we <= 1'b1; mom_clr_a <= {MAW{1'b0}};
                        ctl <= C_CLR;
                    end
                end
                C_CLR: begin  // clear the moment memory, one word a cycle
                    if (mom_clr_a != MOM_LAST) begin
                        mom_clr_we <= 1'b1; mom_clr_a <= mom_clr_a + 1'b1;
                    end else if (seq_done) begin
                        ctl <= C_DONE;
                    end else begin
                        ir <= {LW{1'b0}}; ctl <= C_INIT;
                    end
                end
                C_INIT: begin  // first step's operand refresh (xop_valid = 0)
                    iq_valid <= 1'b1; iq_lane <= ir;
                    if (ir == LAST_LANE) ctl <= C_INITW;
                    else ir <= ir + 1'b1;
                end
                C_INITW: if (init_wr && iq2_lane == LAST_LANE) ctl <= C_NEXT;
                C_FAST: begin
                    if (last_iss) begin
                        lambda_acc <= la_c;
                        keep_reg <= seq_keep;
                        ctl <= C_DRAIN;
                    end
                    if (chunk_last) begin
                        cur_chunk <= {CW{1'b0}}; cur_row <= cur_row + 1'b1;
                    end else begin
                        cur_chunk <= cur_chunk + 1'b1;
                    end
                end
                C_SLOW_ISS: if (SLOW) begin
                    first_iss <= 1'b0;
                    if (chunk_last) begin
                        cur_chunk <= {CW{1'b0}};
                        if (slow_set == 1'b0 && need1) slow_set <= 1'b1;
                        else ctl <= C_SLOW_WAIT;
                    end else begin
                        cur_chunk <= cur_chunk + 1'b1;
                    end
                end
                C_DATA: if (SLOW && dp_done) begin  // pass 1 done: pass 2 of lane 0; pass 2 done: the row
                    if (!dp_p2) begin
                        dp_p2 <= 1'b1; dp_start2 <= 1'b1;
                    end else begin
                        cur_chunk <= {CW{1'b0}}; slow_set <= 1'b0; first_iss <= 1'b1;
                        ctl <= C_SLOW_ISS;
                    end
                end
                C_SLOW_WAIT: if (SLOW) begin
                    if (wb_slow) begin
                        if (lane_r == LAST_LANE) begin
                            ctl <= C_SLOW_WORK;
                            if (d16_reg != 17'sd0 && !work_skip) begin
                                mul_start <= 1'b1;   // mul_a / mul_b: ma_d / mb_d
                            end
                        end else begin
                            lane_r <= lane_r + 1'b1; cur_chunk <= {CW{1'b0}};
                            slow_set <= !need0; first_iss <= 1'b1;
                            ctl <= C_SLOW_ISS;
                            if (dpass) begin ctl <= C_DATA; dp_start2 <= 1'b1; end
                        end
                    end
                end
                C_SLOW_WORK: if (SLOW) begin
                    if (d16_reg == 17'sd0 || work_skip) begin
                        ctl <= C_SLOW_END;
                    end else if (mul_done) begin
                        // saturating 64-bit add (model: __builtin_add_overflow)
                        if (work_ovf) flags[2] <= 1'b1;
                        ctl <= C_SLOW_END;
                    end
                end
                C_SLOW_END: if (SLOW) begin
                    lambda_acc <= la_c;
                    keep_reg <= seq_keep;
                    ctl <= C_GAP;
                end
                C_GAP: ctl <= C_NEXT;
                C_KEEP: begin
                    if (kmode == K_END) begin
                        kdrain <= 2'd3; ctl <= C_KEEP_DRAIN;
                    end
                end
                C_KEEP_DRAIN: begin
                    if (kdrain == 2'd0) begin
                        keep_reg <= 1'b0; ctl <= C_NEXT;
                    end else kdrain <= kdrain - 1'b1;
                end
                default: ;
            endcase


            // ---- slow lane FSM (model step 2..5 for one lane) ----
            if (y_valid && !fast_reg) begin
                if (y_set) got1 <= 1'b1;
                else got0 <= 1'b1;
            end
            case (ls)
                LS_IDLE: if (lane_go) begin
                    ls_r <= LS_B0; got0 <= 1'b0; got1 <= 1'b0;
                end
                LS_B0: ls_r <= LS_B1;   // (two cycles, kept for the lane timing)
                LS_B1: ls_r <= LS_WY;
                LS_WY: if ((got0 || !need0) && (got1 || !need1)) begin
                    if ((need0 && need1) || dpass) begin
                        mul_start <= 1'b1; ls_r <= LS_INT;
                    end else begin
                        ls_r <= LS_INTEG;   // F is in f0_r
                    end
                end
                LS_INT: if (mul_done) begin
                    if (d16_reg != 17'sd0 && !dpass) begin
                        mul_start <= 1'b1;
                        ls_r <= LS_WK;
                    end else ls_r <= LS_INTEG;
                end
                LS_WK: if (mul_done) ls_r <= LS_INTEG;
                LS_INTEG: if (is_ud) begin
                    ls_r <= LS_U2;
                end else ls_r <= LS_IDLE;
                LS_U2: ls_r <= LS_U3;
                LS_U3: ls_r <= LS_U4;
                LS_U4: ls_r <= LS_IDLE;
                default: ls_r <= LS_IDLE;
            endcase

            // step boundary decisions (C_NEXT, or the last write-back of a fast step)
            if (at_decide) begin
                if (next_keep) begin
                    // keep_sample: moments (unless at the limit) and FIFO (whole or dropped)
                    ctl <= C_KEEP; kmode <= K_SUM; ki <= {LW{1'b0}}; kj <= {LW{1'b0}};
                    kk <= {MAW{1'b0}};
                    // saturating counts: mom_full is "at 2^32 - 1"
                    mom_ok <= !mom_full;
                    if (mom_full) flags[3] <= 1'b1;
                    fifo_ok <= fifo_room;
                    if (!fifo_room) begin
                        flags[1] <= 1'b1;
                    end
                end else if (seq_done) begin
                    ctl <= C_DONE;
                end else if (stop_req) begin
                    ctl <= C_IDLE; stop_req <= 1'b0;
                end else if (hold) begin
                    ctl <= C_NEXT;
                end else if (b_fast) begin
                    // row 0 chunk 0 issued this cycle
                    if (C == 1) begin cur_row <= 1; cur_chunk <= 0; end
                    else begin cur_row <= 0; cur_chunk <= 1; end
                    ctl <= C_FAST;
                end else begin
                    lane_r <= {LW{1'b0}}; cur_chunk <= {CW{1'b0}};
                    slow_set <= !b_need0; first_iss <= 1'b1;
                    ctl <= b_dpass ? C_DATA : C_SLOW_ISS;
                end
            end

            // keep-pass token generator
            if (k0_valid) begin
                case (kmode)
                    K_SUM: begin kmode <= K_PAIR; kj <= ki; end
                    K_PAIR: begin
                        kk <= kk + 1'b1;
                        if (kj == LAST_LANE) begin
                            if (ki == LAST_LANE) begin
                                kmode <= cfg_sample_momentum ? K_MP : K_END; kj <= {LW{1'b0}};
                            end else begin
                                ki <= ki + 1'b1; kmode <= K_SUM;
                            end
                        end else kj <= kj + 1'b1;
                    end
                    K_MP: begin
                        if (kj == LAST_LANE) kmode <= K_END;
                        else kj <= kj + 1'b1;
                    end
                    default: ;
                endcase
            end
        end
    end
endmodule
`default_nettype wire
