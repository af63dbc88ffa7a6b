`default_nettype none
// tspu_sequencer - the program of a run, exactly as step() / enter_from() in
// host/model/model.c: burn-in steps, then the schedule segments (segments of
// 0 steps are skipped), then sampling (every thin-th step kept) until
// n_samples are kept, then done.  One commit pulse per finished step.
// The segment table (16 x {steps, dlambda}) is written by the host; cur_dl
// is the dlambda of the current segment, valid two cycles after a commit.
// EXT_TABLE = 1: the table lives outside (tspu_core keeps it in spare words
// of the moment RAM); the owner reads entry tab_idx every cycle and returns
// it on tab_steps / tab_dl one cycle later (a registered RAM read), which
// gives the same timing as the internal table.
// HAVE_SCHEDULE = 0 (a core without the lambda schedule, whose register block
// refuses segments at START): the schedule phase is never entered, so its
// segment search, table compares and seg_idx are constants synthesis drops.
module tspu_sequencer #(
    parameter EXT_TABLE = 0,
    parameter HAVE_SCHEDULE = 1
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,       // clears counters, enters burn-in
    input  wire        commit,      // a step finished
    input  wire [31:0] cfg_burnin,
    input  wire [31:0] cfg_thin,    // >= 1
    input  wire [31:0] cfg_n_samples,
    input  wire [4:0]  cfg_n_segments, // 0..16
    input  wire        seg_we,
    input  wire [3:0]  seg_addr,
    input  wire [31:0] seg_steps,
    /* verilator lint_off UNUSEDSIGNAL */ // EXT_TABLE selects seg_dlambda or tab_*
    input  wire [31:0] seg_dlambda,
    output reg  [2:0]  phase,       // TSPU_PHASE_* of tspu_model.h
    output wire [31:0] cur_dl,
    output wire [3:0]  tab_idx,     // EXT_TABLE: entry to read
    input  wire [31:0] tab_steps,   // EXT_TABLE: entry tab_idx, one cycle later
    input  wire [31:0] tab_dl,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire        keep,        // with commit: this step's sample is kept
    output reg  [31:0] samples,
    output wire        done
);
    localparam [2:0] PH_IDLE = 3'd0, PH_BURNIN = 3'd1, PH_SCHEDULE = 3'd2,
                     PH_SAMPLING = 3'd3, PH_DONE = 3'd4;

    reg [15:0] nz;          // nz[k]: segment k has steps != 0 (for skipping)
    wire [31:0] cur_steps;
    reg [3:0]  seg_idx;
    // one step counter for every phase: steps of the burn-in / the current
    // segment, or steps since the last kept sample, counting the step in
    // progress (1 at the phase's first step), so the limits compare with the
    // register itself, not with an incremented copy (the phases never
    // overlap; phase_cnt / thin_cnt name it for the formal lemmas)
    reg [31:0] cnt;
    /* verilator lint_off UNUSEDSIGNAL */ // names for formal/run.sh only
    wire [31:0] phase_cnt = cnt;
    wire [31:0] thin_cnt  = cnt;
    /* verilator lint_on UNUSEDSIGNAL */

    assign tab_idx = seg_idx;
    generate
        if (EXT_TABLE == 0) begin : g_tab
            reg [31:0] steps_mem [0:15];
            reg [31:0] dl_mem [0:15];
            reg [31:0] steps_q, dl_q;
            always @(posedge clk) begin
                if (seg_we) begin
                    steps_mem[seg_addr] <= seg_steps;
                    dl_mem[seg_addr]    <= seg_dlambda;
                end
                steps_q <= steps_mem[seg_idx];
                dl_q    <= dl_mem[seg_idx];
            end
            assign cur_steps = steps_q;
            assign cur_dl    = dl_q;
        end else begin : g_ext
            assign cur_steps = tab_steps;
            assign cur_dl    = tab_dl;
        end
    endgenerate

    // enter_from(SCHEDULE): the first segment k >= from with steps != 0 and
    // k < n_segments, from = seg_idx + 1 at the end of a segment, else 0.
    // One priority encoder over nz & (k > seg_idx); the lowest such k is the
    // answer iff it is below n_segments (a lower nonzero k < n_segments would
    // have been found first), so no 16-bit n_segments mask.
    function [4:0] first_seg; // {found, index}
        input [15:0] cand;
        integer k;
        begin
            first_seg = 5'd0;
            for (k = 15; k >= 0; k = k - 1)
                if (cand[k])
                    first_seg = {1'b1, k[3:0]};
        end
    endfunction
    // at start: from 0
    wire [4:0]  fs0    = first_seg(nz);
    wire        fs0_ok = HAVE_SCHEDULE != 0 && fs0[4] && (cfg_n_segments[4] || fs0[3:0] < cfg_n_segments[3:0]);
    // at a commit: from seg_idx + 1 in the schedule, else from 0
    wire [15:0] seg_after = phase == PH_SCHEDULE ? (16'hFFFE << seg_idx) : 16'hFFFF;   // k > seg_idx
    wire [4:0]  fs  = first_seg(nz & seg_after);
    wire        fs_ok = HAVE_SCHEDULE != 0 && fs[4] && (cfg_n_segments[4] || fs[3:0] < cfg_n_segments[3:0]);

    wire [31:0] cnt1 = cnt + 32'd1;
    wire [31:0] smp1 = samples + 32'd1;
    // The counters never pass their limits (cnt <= burnin / steps / thin,
    // samples < n_samples, the limits being held while a program runs), so
    // "reached" is an equality.
    //
    // Timing: what a commit decides on is registered a clock before (the
    // *_q below).  A commit never comes with a start, nor in the clock after
    // a start or a commit (a step takes several clocks), and the
    // configuration and the segment table (nz) are held while a program
    // runs, so in a clock with a commit the registers equal what they were
    // computed from.  cur_steps (the table entry of seg_idx, read a clock
    // late) is one clock later still: in the clock after the entry of a
    // segment (ent) the registered compare would see the previous entry, so
    // the first step of a segment ends it iff cur_steps == 1 (cnt is 1),
    // compared in the clock of the commit (fresh_q).
    reg [31:0] ns_m1;       // cfg_n_samples - 1
    reg        ent;         // cnt was set to 1 at the last clock edge
    reg        end_q;       // a commit now ends burn-in or the (not fresh) segment
    reg        fresh_q;     // ... or the fresh segment, if cur_steps == 1
    reg        thin_q;      // cnt == thin: a commit in sampling keeps a sample
    reg        last_q;      // ... the last one (samples == n_samples - 1)
    reg [2:0]  tgt_q;       // the phase enter_from(SCHEDULE) goes to
    reg        act_q;       // phase is BURNIN, SCHEDULE or SAMPLING (a commit counts)
    reg [3:0]  fs1_q;       // the segment after this one ...
    reg        fs1_ok_q;    // ... runs
    always @(posedge clk) begin
        ns_m1   <= cfg_n_samples - 32'd1;
        thin_q  <= cnt == cfg_thin;
        last_q  <= samples == ns_m1;
        fs1_q   <= fs[3:0];
        if (rst) begin // (the phase conditions hold no stale decision over a reset)
            end_q <= 1'b0; fresh_q <= 1'b0; act_q <= 1'b0; fs1_ok_q <= 1'b0; tgt_q <= PH_DONE;
        end else begin
            end_q   <= (phase == PH_BURNIN && cnt == cfg_burnin) ||
                       (HAVE_SCHEDULE != 0 && phase == PH_SCHEDULE && !ent && cnt == cur_steps);
            fresh_q <= HAVE_SCHEDULE != 0 && phase == PH_SCHEDULE && ent;
            act_q   <= phase == PH_BURNIN || phase == PH_SCHEDULE || phase == PH_SAMPLING;
            fs1_ok_q <= fs_ok;
            tgt_q    <= fs_ok ? PH_SCHEDULE : cfg_n_samples != 32'd0 ? PH_SAMPLING : PH_DONE;
        end
    end
    // (cur_steps == 1 meets only the last level: enter is enter_a, or enter_f
    // if it holds)
    wire        seg1    = cur_steps == 32'd1;
    wire        enter_a = commit && end_q;
    wire        enter_f = commit && fresh_q;
    wire        enter   = enter_a || (enter_f && seg1);   // enter_from(SCHEDULE)
    wire        one_now = start || keep || enter_a;       // cnt <= 1 (also with enter_f && seg1)
    // the phase after this clock if enter_f && seg1, and if not
    reg  [2:0]  ph_no;
    always @(*) begin
        ph_no = phase;
        if (start) begin
            if (cfg_burnin != 32'd0)         ph_no = PH_BURNIN;
            else if (fs0_ok)                 ph_no = PH_SCHEDULE;
            else if (cfg_n_samples != 32'd0) ph_no = PH_SAMPLING;
            else                             ph_no = PH_DONE;
        end else if (enter_a) ph_no = tgt_q;
        else if (keep && last_q) ph_no = PH_DONE;
    end
    wire [2:0]  ph_yes = tgt_q;   // (enter_f excludes start, enter_a, keep)

    assign keep = commit && phase == PH_SAMPLING && thin_q;
    assign done = phase == PH_DONE;

    always @(posedge clk) begin
        if (rst) begin
            phase     <= PH_IDLE;
            seg_idx   <= 4'd0;
            cnt       <= 32'd1;
            samples   <= 32'd0;
            nz        <= 16'd0;
            ent       <= 1'b0;
        end else begin
            if (seg_we)
                nz[seg_addr] <= seg_steps != 32'd0;
            ent <= one_now || (enter_f && seg1);
            if (one_now || (enter_f && seg1)) cnt <= 32'd1;
            else if (commit && act_q)         cnt <= cnt1;
            phase <= (enter_f && seg1) ? ph_yes : ph_no;
            if (start) begin
                samples <= 32'd0;
                seg_idx <= (cfg_burnin == 32'd0 && fs0_ok) ? fs0[3:0] : 4'd0;
            end else if (enter && fs1_ok_q) seg_idx <= fs1_q;
            else if (keep) samples <= smp1;
        end
    end

// Formal properties: formal/tspu_sequencer_props.v (make formal).
endmodule
`default_nettype wire
