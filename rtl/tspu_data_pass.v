`default_nettype none
// tspu_data_pass - the two passes of the data-driven drift (docs/numerics.md,
// "Data-driven drift"; tspu_model_data_passes in host/model/model.c), one
// product per cycle on a borrowed 16x16 multiplier (multiplier 0 of the MAC
// array in tspu_core), with its data memory: one 16-bit single-port RAM
// (tspu_spram: an SB_SPRAM256KA on the iCE40UP) holding, by word,
//   XB = 0          X[d][j] at d*N + j          (d < KMAX)
//   YB = KMAX*N     y[d]
//   LB = YB + KMAX  l[d]
//   GB = LB + KMAX  g[d], written by pass 1, read by pass 2
//   TB = GB + KMAX  link table T[0..512]
// so KMAX*(N + 3) + 513 <= 16384 (KMAX = DATA_MAX_OBS of the gateware).
//
// start1: pass 1 over d = 0..K-1 with the operands `ops` (held):
//   r = sum_j X[d][j] op_j, z = sat16(round_shift(r, Sr)), s = z or the
//   table interpolation round_shift(T[k](128 - f) + T[k+1] f, 7),
//   e = sat16(y - s), g = sat16(round_shift(l e, Sg)), S += g e; g to GB + d.
// start2 (lane i): G = sum_d X[d][i] g_d, Fd = sat32(scale16(G, Dd)) on `fd`.
// `done` pulses at the end of each; every clamp pulses `sat` once.
// Shifts are serial: round_shift(v, s) = floor((v + 2^(s-1)) / 2^s) is the
// accumulator started at the bias 2^(s-1) and shifted right 8 bits per cycle
// while at least 8 are left, then one (s capped where the result no longer
// changes: z 38, g 32, Fd 42);
// scale16 with Dd <= 16 is G 2^(16 - Dd), shifted left until done or it no
// longer fits 32 bits (then sat32 clamps it to the same side).
// The memory's host port works while the engine is idle (the core gates it).
module tspu_data_pass #(
    parameter N       = 8,    // lanes, 2..64
    parameter KMAX    = 1024, // observations the memory holds, >= 1
    parameter BREAK_Z = 0     // 1: z truncated instead of rounded (harness self-test)
) (
    input  wire            clk,
    input  wire            rst,
    input  wire [1:0]      cfg_mode,   // 1 Gaussian, 2 logistic
    input  wire [10:0]     cfg_n_obs,  // K, 1..KMAX
    input  wire [5:0]      cfg_sr,
    input  wire [5:0]      cfg_sg,
    input  wire [5:0]      cfg_dd,
    input  wire [16*N-1:0] ops,        // operands op_j, lane j at [16j +: 16]
    input  wire            start1,
    input  wire            start2,
    input  wire [5:0]      lane,       // pass 2 lane (with start2)
    output wire            busy,
    output reg             done,
    output wire [31:0]     fd,         // Fd of the last pass 2
    output wire [43:0]     s_sum,      // S of the last pass 1
    output wire            sat,        // a clamp this cycle
    // borrowed multiplier: prod = mul_a * mul_b, registered (valid the next
    // cycle, held until the next mul_en)
    output reg             mul_en,
    output reg  [15:0]     mul_a,
    output reg  [15:0]     mul_b,
    input  wire [31:0]     prod,
    // host port (idle only): sel 0 X, 1 y, 2 l, 3 T; word index in the window
    input  wire            h_we,
    input  wire            h_re,
    input  wire [1:0]      h_sel,
    input  wire [13:0]     h_addr,
    input  wire [15:0]     h_wdata,
    output wire [15:0]     h_rdata,    // the cycle after h_re, held
    // per observation of pass 1 (tests): z, s, e at obs_valid, with g
    output wire            obs_valid,
    output wire [15:0]     obs_z,
    output wire [15:0]     obs_s,
    output wire [15:0]     obs_e,
    output wire [15:0]     obs_g
);
    localparam LW  = (N <= 2) ? 1 : $clog2(N);
    localparam AW  = 44;                  // accumulator: |r| < 2^37, |G| <= 2^40, + bias
    localparam XW  = KMAX * N;
    localparam TOT = KMAX * (N + 3) + 513;
    localparam MAW = $clog2(TOT);
    /* verilator lint_off WIDTH */ // sized copies of integer parameters (values fit)
    localparam [13:0] YB = XW, LB = XW + KMAX, GB = XW + 2 * KMAX, TB = XW + 3 * KMAX;
    localparam [13:0] XW14 = XW, KMAX14 = KMAX;
    localparam [13:0] NSTEP = N;
    localparam [LW-1:0] LAST_J = N - 1;
    /* verilator lint_on WIDTH */
    generate
        if (N < 2 || N > 64 || KMAX < 1 || KMAX > 1024 || TOT > 16384) begin : g_bad_param
            tspu_param_error_data_memory_too_large u_err ();
        end
    endgenerate

    // ---- memory -------------------------------------------------------------
    reg         m_we, m_re;
    reg  [13:0] m_off, m_idx;   // address = m_off + m_idx
    reg  [15:0] m_wd;
    /* verilator lint_off UNUSEDSIGNAL */ // MAW bits address TOT words
    wire [13:0] m_addr = m_off + m_idx;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [15:0] m_q;
    tspu_spram #(.DEPTH(TOT), .AW(MAW)) u_mem (
        .clk(clk), .we(m_we), .re(m_re), .addr(m_addr[MAW-1:0]), .wdata(m_wd), .rdata(m_q));

    // ---- state -----------------------------------------------------------------
    localparam [3:0] S_IDLE = 4'd0, S_ROW = 4'd1, S_ROWW = 4'd2, S_SHZ = 4'd3,
                     S_T0 = 4'd4, S_T1 = 4'd5, S_TW = 4'd6, S_Y = 4'd7, S_E = 4'd8,
                     S_L = 4'd9, S_LW = 4'd10, S_SHG = 4'd11, S_END1 = 4'd12,
                     S_P2 = 4'd13, S_P2W = 4'd14, S_SHF = 4'd15;
    reg [3:0]    st;
    reg [5:0]    cnt;      // shifts left to do
    reg          left;     // pass 2 with Dd <= 16: shift left
    reg [LW-1:0] j, jd;    // row column (issue / data stage)
    reg [10:0]   d;        // observation
    reg [13:0]   xa;       // X address (pass 1: runs over the rows; pass 2: lane + d N)
    reg          ph;       // pass 2: 0 read X, 1 read g
    reg signed [AW-1:0] acc, sacc;
    reg [15:0]   z_r, e_r, s_r;
    reg [31:0]   fd_r;
    // read tags (what the memory returns this cycle) and product tags
    localparam [2:0] R_NONE = 3'd0, R_X = 3'd1, R_T0 = 3'd2, R_T1 = 3'd3, R_Y = 3'd4,
                     R_L = 3'd5, R_X2 = 3'd6, R_G2 = 3'd7;
    localparam [1:0] P_NONE = 2'd0, P_ACC = 2'd1, P_S = 2'd2;
    reg [2:0] rtag;
    reg [1:0] ptag;
    reg       h_rv;        // the host read was in range
    // no memory data in flight: the last product (if any) lands at this
    // edge, so the accumulators are final in the next cycle
    wire      pipe_idle = rtag == R_NONE;

    assign busy  = st != S_IDLE;
    assign fd    = fd_r;
    assign s_sum = sacc;

    wire logistic = cfg_mode == 2'd2;
    wire [10:0] K = cfg_n_obs;
    wire last_d = d == K - 11'd1;

    // effective shifts (beyond these the result no longer changes)
    wire [5:0] sr_eff = (cfg_sr > 6'd38) ? 6'd38 : cfg_sr;
    wire [5:0] sg_eff = (cfg_sg > 6'd32) ? 6'd32 : cfg_sg;
    wire [5:0] dr     = cfg_dd - 6'd16;                        // Dd > 16: right shift
    wire [5:0] dr_eff = (cfg_dd > 6'd58) ? 6'd42 : dr;
    wire [5:0] dl     = 6'd16 - cfg_dd;                        // Dd <= 16: left shift
    wire       dd_left = cfg_dd <= 6'd16;
    // the rounding bias 2^(s-1) of a right shift by s (0 for s = 0)
    // (a decoder, not a shifter)
    function [AW-1:0] bias;
        input [5:0] s;
        integer q;
        begin
            for (q = 0; q < AW; q = q + 1)
                bias[q] = {26'd0, s} == q + 1;
        end
    endfunction
    // one decoder for the three loads of a bias: g (S_E), Fd (start2), z (else)
    // and the 64 of the table interpolation (S_T0: 2^(7-1))
    wire          b_g  = st == S_E;
    wire          b_d  = st == S_IDLE && start2;
    wire [5:0]    b_sh = b_g ? sg_eff : b_d ? (dd_left ? 6'd0 : dr_eff) : (st == S_T0) ? 6'd7 :
                         (BREAK_Z != 0) ? 6'd0 : sr_eff;
    wire [AW-1:0] bias_v = bias(b_sh);

    /* verilator lint_off UNUSEDSIGNAL */ // only the sign and the high bits decide
    function fits16;
        input [AW-1:0] v;
        begin
            fits16 = &v[AW-1:15] || ~|v[AW-1:15];
        end
    endfunction
    function fits32;
        input [AW-1:0] v;
        begin
            fits32 = &v[AW-1:31] || ~|v[AW-1:31];
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */
    wire [15:0] acc16 = fits16(acc) ? acc[15:0] : (acc[AW-1] ? 16'h8000 : 16'h7FFF);
    wire [31:0] acc32 = fits32(acc) ? acc[31:0] : (acc[AW-1] ? 32'h80000000 : 32'h7FFFFFFF);

    // logistic: u = z + 2^15, k = u >> 7, f = u & 127
    wire [15:0] u = {~z_r[15], z_r[14:0]};
    wire [8:0]  tk = u[15:7];
    wire [6:0]  tf = u[6:0];
    // s: z (Gaussian) or the interpolation (acc = 64 + T[k](128 - f) + T[k+1] f)
    wire [15:0] s_sel = logistic ? acc[22:7] : z_r;
    // e = sat16(y - s), y on the memory output
    wire [16:0] e_w = {m_q[15], m_q} - {s_sel[15], s_sel};
    wire        e_sat = e_w[16] != e_w[15];
    wire [15:0] e_c = e_sat ? (e_w[16] ? 16'h8000 : 16'h7FFF) : e_w[15:0];

    // operand of column jd: an N-way multiplexer (not a 16 N-bit shifter)
    reg [15:0] opj;
    integer oq;
    always @(*) begin
        opj = 16'd0;
        for (oq = 0; oq < N; oq = oq + 1)
            if ({{(32 - LW){1'b0}}, jd} == oq) opj = ops[16 * oq +: 16];
    end

    // one step of a right shift: 8 bits while at least 8 are left, else 1
    wire          sh8    = |cnt[5:3];
    wire [AW-1:0] acc_sr = sh8 ? (acc >>> 8) : (acc >>> 1);
    wire [5:0]    cnt_sr = cnt - (sh8 ? 6'd8 : 6'd1);

    // final cycles of the shift states
    wire shz_end = st == S_SHZ && cnt == 6'd0;
    wire shg_end = st == S_SHG && cnt == 6'd0;
    wire shf_end = st == S_SHF && (cnt == 6'd0 || (left && !fits32(acc)));
    assign sat = (shz_end && !fits16(acc)) || (rtag == R_Y && e_sat) ||
                 (shg_end && !fits16(acc)) || (shf_end && !fits32(acc));

    assign obs_valid = shg_end;
    assign obs_z = z_r;
    assign obs_s = s_r;
    assign obs_e = e_r;
    assign obs_g = acc16;

    // ---- memory port, multiplier (combinational) --------------------------------
    always @(*) begin
        m_we = 1'b0; m_re = 1'b0; m_off = 14'd0; m_idx = xa; m_wd = h_wdata;
        if (st == S_IDLE) begin
            m_idx = h_addr;
            m_off = (h_sel == 2'd1) ? YB : (h_sel == 2'd2) ? LB : (h_sel == 2'd3) ? TB : 14'd0;
            m_we  = h_we && h_ok;
            m_re  = h_re;
        end
        case (st)
            S_ROW: m_re = 1'b1;
            S_T0:  begin m_re = 1'b1; m_off = TB; m_idx = {5'd0, tk}; end
            S_T1:  begin m_re = 1'b1; m_off = TB; m_idx = {5'd0, tk} + 14'd1; end
            S_Y:   begin m_re = 1'b1; m_off = YB; m_idx = {3'd0, d}; end
            S_E:   begin m_re = 1'b1; m_off = LB; m_idx = {3'd0, d}; end
            S_SHG: begin m_we = cnt == 6'd0; m_off = GB; m_idx = {3'd0, d}; m_wd = acc16; end
            S_P2:  begin m_re = 1'b1; if (ph) begin m_off = GB; m_idx = {3'd0, d}; end end
            default: ;
        endcase
        mul_en = 1'b0; mul_a = m_q; mul_b = opj;
        case (rtag)
            R_X:  mul_en = 1'b1;
            R_T0: begin mul_en = 1'b1; mul_b = {8'd0, 8'd128 - {1'b0, tf}}; end
            R_T1: begin mul_en = 1'b1; mul_b = {9'd0, tf}; end
            R_L:  begin mul_en = 1'b1; mul_b = e_r; end
            R_G2: begin mul_en = 1'b1; mul_b = e_r; end
            default: ;
        endcase
        if (shg_end) begin   // g e for S
            mul_en = 1'b1; mul_a = acc16; mul_b = e_r;
        end
    end

    // host window ranges
    wire h_ok = (h_sel == 2'd0) ? h_addr < XW14 : (h_sel == 2'd3) ? h_addr < 14'd513 : h_addr < KMAX14;
    assign h_rdata = h_rv ? m_q : 16'd0;

    wire [AW-1:0] prod_x = {{(AW - 32){prod[31]}}, prod};

    // the accumulator: load a bias, add a product, shift (exclusive)
    wire acc_ld  = (st == S_IDLE && (start1 || start2)) || st == S_E || st == S_T0 || shg_end;
    wire acc_add = ptag == P_ACC;
    wire acc_sh  = ((st == S_SHZ || st == S_SHG) && cnt != 6'd0) || (st == S_SHF && !shf_end);
    always @(posedge clk) begin
        if (acc_ld) acc <= bias_v;
        else if (acc_add) acc <= acc + prod_x;
        else if (acc_sh) acc <= (st == S_SHF && left) ? acc <<< 1 : acc_sr;
    end

    always @(posedge clk) begin
        done <= 1'b0;
        if (st == S_IDLE && h_re) h_rv <= h_ok;
        // data stage
        jd <= j;
        rtag <= R_NONE;
        ptag <= mul_en ? ((shg_end) ? P_S : P_ACC) : P_NONE;
        if (rtag == R_Y) e_r <= e_c;
        if (rtag == R_X2) e_r <= m_q;
        // product stage (S; acc is updated in its own block below)
        if (ptag == P_S) sacc <= sacc + prod_x;
        if (rst) begin
            st <= S_IDLE; rtag <= R_NONE; ptag <= P_NONE; h_rv <= 1'b0;
            sacc <= {AW{1'b0}}; fd_r <= 32'd0;
        end else begin
            case (st)
                S_IDLE: begin
                    if (start1) begin
                        d <= 11'd0; xa <= 14'd0; j <= {LW{1'b0}};
                        sacc <= {AW{1'b0}};
                        st <= (K == 11'd0) ? S_END1 : S_ROW;
                    end
                    if (start2) begin
                        d <= 11'd0; xa <= {8'd0, lane}; ph <= 1'b0;
                        st <= (K == 11'd0) ? S_P2W : S_P2;
                    end
                end
                S_ROW: begin   // X[d][j], j = 0..N-1
                    rtag <= R_X; xa <= xa + 14'd1; j <= j + 1'b1;
                    if (j == LAST_J) begin j <= {LW{1'b0}}; st <= S_ROWW; end
                end
                S_ROWW: if (pipe_idle) begin cnt <= sr_eff; st <= S_SHZ; end
                S_SHZ: begin
                    if (cnt != 6'd0) begin
                        cnt <= cnt_sr;
                    end else begin
                        z_r <= acc16;
                        st <= logistic ? S_T0 : S_Y;
                    end
                end
                S_T0: begin rtag <= R_T0; st <= S_T1; end   // acc = 64 (bias of 7)
                S_T1: begin rtag <= R_T1; st <= S_TW; end
                S_TW: if (pipe_idle) st <= S_Y;
                S_Y:  begin rtag <= R_Y; st <= S_E; end
                S_E:  begin  // e from y (data stage); read l
                    s_r <= s_sel; rtag <= R_L; st <= S_L;
                end
                S_L:  st <= S_LW;   // l e issued (data stage)
                S_LW: if (pipe_idle) begin cnt <= sg_eff; st <= S_SHG; end
                S_SHG: begin
                    if (cnt != 6'd0) begin
                        cnt <= cnt_sr;
                    end else begin  // g: written to GB + d, g e issued for S
                        d <= d + 11'd1;
                        st <= last_d ? S_END1 : S_ROW;
                    end
                end
                S_END1: if (pipe_idle) begin done <= 1'b1; st <= S_IDLE; end
                S_P2: begin    // alternately X[d][lane] and g[d]
                    ph <= !ph;
                    if (!ph) begin
                        rtag <= R_X2; xa <= xa + NSTEP;
                    end else begin
                        rtag <= R_G2; d <= d + 11'd1;
                        if (last_d) st <= S_P2W;
                    end
                end
                S_P2W: if (pipe_idle) begin
                    cnt <= dd_left ? dl : dr_eff; left <= dd_left; st <= S_SHF;
                end
                S_SHF: begin
                    if (shf_end) begin
                        fd_r <= acc32; done <= 1'b1; st <= S_IDLE;
                    end else begin
                        cnt <= left ? cnt - 6'd1 : cnt_sr;
                    end
                end
                default: st <= S_IDLE;
            endcase
        end
    end
endmodule
`default_nettype wire
