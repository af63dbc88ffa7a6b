`default_nettype none
// tspu_sequencer_props - formal properties of rtl/tspu_sequencer.v, checked
// by formal/run.sh (yosys + yosys-smtbmc, bounded).  The wrapper instantiates
// the sequencer unchanged and observes only its ports, against a reference
// written differently from the RTL: the program of a run is
//   B = cfg_burnin steps, then the segments k < cfg_n_segments in order, each
//   for its steps (0 = skipped), S steps in all, then sampling, one kept
//   sample every T = cfg_thin steps, until N = cfg_n_samples are kept: done.
// The reference keeps its own phase, counts the steps left in burn-in / the
// current segment down (f_left), finds the next segment with a scan of a
// shadow of the segment table, counts the sampling steps modulo T (f_tmod)
// and the kept samples (f_kept).
//
// Properties, every cycle after reset:
//  * phase is exactly the reference phase (IDLE before the first start,
//    then BURNIN -> SCHEDULE -> SAMPLING -> DONE, each only when due, so the
//    phases are ordered and empty segments never show up);
//  * keep == (commit && SAMPLING && this is a T-th sampling step): no sample
//    during burn-in or the schedule, exactly every thin-th sampling step;
//  * samples == the reference count; done == the reference done, i.e. done
//    only once exactly N samples were kept (and then samples == N);
//  * in SCHEDULE, once settled (cur_dl is valid two cycles after a commit),
//    cur_dl is the dlambda of the reference segment: segments in order,
//    empty ones skipped;
//  * phase never moves backwards within a run.
// White-box lemmas (also proven) make the set inductive, so formal/run.sh
// proves it unbounded by k-induction besides the BMC: the RTL counters
// (phase_cnt, thin_cnt, seg_idx, nz, cur_steps) equal the reference's.  The
// f_w_* wires are left undriven here; formal/run.sh connects them with yosys
// `connect -set` after flatten.
//
// Environment (what tspu_core guarantees, plus small numbers so a bounded
// check reaches the end of whole programs): reset in the first cycle; start
// only when no program runs (idle or done); commit never with start nor in
// the cycle right after a start or a commit (a step takes >= 5 cycles);
// configuration and segment table held while a program runs; segment writes
// only when no program runs and not with start.  cfg_burnin < 8,
// 1 <= cfg_thin < 4, cfg_n_samples < 6, cfg_n_segments <= 16, segment steps
// < 4, and a segment's dlambda carries its own index in its low bits (so
// cur_dl names the segment).  The RTL counters and table stay 32 bits wide.
module tspu_sequencer_props #(
    parameter EXT_TABLE = 0   // as tspu_sequencer; 1: this wrapper owns the table
) (
    input wire        clk,
    input wire        rst,
    input wire        start,
    input wire        commit,
    input wire [31:0] cfg_burnin,
    input wire [31:0] cfg_thin,
    input wire [31:0] cfg_n_samples,
    input wire [4:0]  cfg_n_segments,
    input wire        seg_we,
    input wire [3:0]  seg_addr,
    input wire [31:0] seg_steps,
    input wire [31:0] seg_dlambda
);
    localparam [2:0] PH_IDLE = 3'd0, PH_BURNIN = 3'd1, PH_SCHEDULE = 3'd2,
                     PH_SAMPLING = 3'd3, PH_DONE = 3'd4;

    reg  [31:0] f_sv;              // shadow table: steps of segment k, 2 bits
    wire [2:0]  phase;
    wire [31:0] cur_dl, samples;
    wire        keep, done;

    wire [3:0]  tab_idx;
    reg  [31:0] tab_steps, tab_dl;

    tspu_sequencer #(.EXT_TABLE(EXT_TABLE)) dut (
        .clk(clk), .rst(rst), .start(start), .commit(commit),
        .cfg_burnin(cfg_burnin), .cfg_thin(cfg_thin), .cfg_n_samples(cfg_n_samples),
        .cfg_n_segments(cfg_n_segments),
        .seg_we(seg_we), .seg_addr(seg_addr), .seg_steps(seg_steps),
        .seg_dlambda(seg_dlambda),
        .phase(phase), .cur_dl(cur_dl),
        .tab_idx(tab_idx), .tab_steps(tab_steps), .tab_dl(tab_dl),
        .keep(keep), .samples(samples), .done(done));

    // EXT_TABLE = 1: the table owner (tspu_core keeps it in the moment RAM),
    // abstracted: entry tab_idx one cycle later, from the shadow table below
    // (steps < 4, dlambda = the entry's index, see the environment).
    always @(posedge clk) begin
        tab_steps <= {30'd0, f_sv[2 * tab_idx +: 2]};
        tab_dl    <= {28'd0, tab_idx};
    end

    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;

    // ---- reference state ---------------------------------------------------
    reg        f_run;              // a start was seen since reset
    reg [2:0]  f_ph;               // reference phase
    reg [2:0]  f_left;             // steps left in burn-in / the current segment
    reg [3:0]  f_seg;              // current segment
    reg [1:0]  f_tmod;             // sampling steps since the last keep
    reg [2:0]  f_kept;
    reg [2:0]  f_B, f_N;           // the program, captured at start
    reg [1:0]  f_T;
    reg [4:0]  f_NS;
    reg [15:0] f_nzs;              // segment k written with steps != 0
    reg [31:0] f_rsv;              // ... the table of the running program,
    reg [15:0] f_rnzs;             //     captured at start
    reg        f_settle;           // no commit / start in the previous cycle
    integer k;

    // the first segment k >= from that the program runs: k < n_segments,
    // steps != 0 ({found, k}); a scan from the top, last hit wins
    function [4:0] f_next;
        input [4:0]  from;
        input [4:0]  nseg;
        input [15:0] nzv;
        integer j;
        begin
            f_next = 5'd0;
            for (j = 15; j >= 0; j = j - 1)
                if (j >= from && j < nseg && nzv[j]) f_next = {1'b1, j[3:0]};
        end
    endfunction

    wire f_active = f_run && f_ph != PH_DONE;
    wire f_keep   = commit && f_run && f_ph == PH_SAMPLING && f_tmod == f_T - 2'd1;
    // where the program goes after burn-in (from = 0) / after segment f_seg
    wire [4:0] f_nx = f_next((f_ph == PH_SCHEDULE) ? {1'b0, f_seg} + 5'd1 : 5'd0, f_NS, f_rnzs);

    // ---- environment ---------------------------------------------------------
    always @(*) begin
        if (!f_past_valid) assume (rst);
        assume (cfg_thin != 32'd0 && cfg_thin < 32'd4);
        assume (cfg_burnin < 32'd8 && cfg_n_samples < 32'd6);
        assume (cfg_n_segments <= 5'd16);
        if (seg_we) assume (seg_steps < 32'd4 && seg_dlambda == {28'd0, seg_addr});
        if (f_active) begin
            assume (!start && !seg_we);
            assume (cfg_burnin == {29'd0, f_B} && cfg_thin == {30'd0, f_T} &&
                    cfg_n_samples == {29'd0, f_N} && cfg_n_segments == f_NS);
        end
        assume (!(start && (commit || seg_we)));
        if (!f_settle) assume (!commit);
    end

    // enter the schedule at segment r, or sampling, or done (model: enter_from)
    task f_enter;
        input [4:0] r;
        input [2:0] n;
        begin
            if (r[4]) begin
                f_ph <= PH_SCHEDULE; f_seg <= r[3:0]; f_left <= {1'b0, f_sv[2 * r[3:0] +: 2]};
            end else if (n != 3'd0) f_ph <= PH_SAMPLING;
            else f_ph <= PH_DONE;
        end
    endtask

    always @(posedge clk) begin
        f_settle <= !commit && !start;
        if (rst) begin
            f_run <= 1'b0;
            f_ph  <= PH_IDLE;
            f_nzs <= 16'd0;
            f_rnzs <= 16'd0;
        end else begin
            if (seg_we) begin
                f_sv[2 * seg_addr +: 2] <= seg_steps[1:0];
                f_nzs[seg_addr]         <= seg_steps != 32'd0;
            end
            if (start) begin
                f_run <= 1'b1; f_tmod <= 2'd0; f_kept <= 3'd0;
                f_B <= cfg_burnin[2:0]; f_T <= cfg_thin[1:0];
                f_N <= cfg_n_samples[2:0]; f_NS <= cfg_n_segments;
                f_rsv <= f_sv; f_rnzs <= f_nzs;
                if (cfg_burnin != 32'd0) begin
                    f_ph <= PH_BURNIN; f_left <= cfg_burnin[2:0];
                end else
                    f_enter(f_next(5'd0, cfg_n_segments, f_nzs), cfg_n_samples[2:0]);
            end else if (commit && f_run) begin
                case (f_ph)
                    PH_BURNIN, PH_SCHEDULE:
                        if (f_left == 3'd1) f_enter(f_nx, f_N);
                        else f_left <= f_left - 3'd1;
                    PH_SAMPLING:
                        if (f_keep) begin
                            f_tmod <= 2'd0; f_kept <= f_kept + 3'd1;
                            if (f_kept + 3'd1 == f_N) f_ph <= PH_DONE;
                        end else f_tmod <= f_tmod + 2'd1;
                    default: ;
                endcase
            end
        end
    end

    // ---- white-box view (connected by formal/run.sh with `connect -set` to
    // dut.phase_cnt, dut.thin_cnt, dut.seg_idx, dut.nz, dut.cur_steps) -------
    wire [31:0] f_w_phase_cnt, f_w_thin_cnt, f_w_cur_steps;
    wire [3:0]  f_w_seg_idx;
    wire [15:0] f_w_nz;
    wire [2:0]  f_seg_steps = {1'b0, f_rsv[2 * f_seg +: 2]};

    // ---- properties ----------------------------------------------------------
    always @(*) if (f_past_valid) begin
        assert (phase == f_ph);
        assert (keep == f_keep);
        assert (done == (f_ph == PH_DONE));
        assert (samples == (f_run ? {29'd0, f_kept} : 32'd0));
        if (done) assert (f_kept == f_N && samples == {29'd0, f_N});
        if (keep) assert (commit && phase == PH_SAMPLING);
        if (f_ph == PH_SCHEDULE && f_settle)
            assert (cur_dl == {28'd0, f_seg});
    end
    // white-box lemmas: the RTL counters are the reference's (these make each
    // unrolled step local for the solver)
    always @(*) if (f_past_valid) begin
        assert (f_w_nz == f_nzs);
        // (the RTL counter includes the step in progress: done + 1)
        if (f_ph == PH_BURNIN)   assert (f_w_phase_cnt == {29'd0, f_B - f_left} + 32'd1);
        if (f_ph == PH_SCHEDULE) begin
            assert (f_w_seg_idx == f_seg);
            assert (f_w_phase_cnt == {29'd0, f_seg_steps - f_left} + 32'd1);
            assert (f_left != 3'd0 && f_left <= f_seg_steps);
            assert ({1'b0, f_seg} < f_NS && f_rnzs[f_seg]);
            if (f_settle) assert (f_w_cur_steps == {29'd0, f_seg_steps});
        end
        if (f_ph == PH_SAMPLING) assert (f_w_thin_cnt == {30'd0, f_tmod} + 32'd1);
        // the reference's own invariants
        for (k = 0; k < 16; k = k + 1) begin
            if (f_nzs[k]) assert (f_sv[2 * k +: 2] != 2'd0);
            if (f_rnzs[k]) assert (f_rsv[2 * k +: 2] != 2'd0);
        end
        assert (f_run == (f_ph != PH_IDLE));
        if (f_active) assert (f_rsv == f_sv && f_rnzs == f_nzs);
        if (f_run) assert (f_T != 2'd0 && f_tmod < f_T && f_kept <= f_N && f_NS <= 5'd16);
        if (f_ph == PH_BURNIN) assert (f_left != 3'd0 && f_left <= f_B);
        if (f_ph == PH_SAMPLING) assert (f_kept < f_N);
        if (f_ph == PH_BURNIN || f_ph == PH_SCHEDULE) assert (f_kept == 3'd0 && f_tmod == 2'd0);
    end
    // EXT_TABLE = 0: the internal table (dut.g_tab.steps_mem / dl_mem, words
    // connected by formal/run.sh) holds what was written, for live entries
    generate if (EXT_TABLE == 0) begin : g_int
        wire [32*16-1:0] f_w_smem, f_w_dmem;
        always @(*) if (f_past_valid)
            for (k = 0; k < 16; k = k + 1)
                if (f_nzs[k]) begin
                    assert (f_w_smem[32 * k +: 32] == {30'd0, f_sv[2 * k +: 2]});
                    assert (f_w_dmem[32 * k +: 32] == k);
                end
    end endgenerate
    always @(posedge clk)
        if (f_past_valid && !$past(rst) && !$past(start) && $past(f_run))
            assert (phase >= $past(phase));
endmodule
`default_nettype wire
