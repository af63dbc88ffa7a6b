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
module tspu_sequencer #(
    parameter EXT_TABLE = 0
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
    wire        from_next = !start && phase == PH_SCHEDULE;
    wire [15:0] seg_after = from_next ? (16'hFFFE << seg_idx) : 16'hFFFF;   // k > seg_idx
    wire [4:0]  fs  = first_seg(nz & seg_after);
    wire        fs_ok = fs[4] && (cfg_n_segments[4] || fs[3:0] < cfg_n_segments[3:0]);

    wire [31:0] cnt1 = cnt + 32'd1;
    wire [32:0] smp1 = {1'b0, samples} + 33'd1;
    // The counters never pass their limits (cnt <= burnin / steps / thin,
    // samples < n_samples, the limits being held while a program runs), so
    // "reached" is an equality.
    wire        burn_end = cnt == cfg_burnin;
    wire        seg_end  = cnt == cur_steps;

    assign keep = commit && phase == PH_SAMPLING && cnt == cfg_thin;
    assign done = phase == PH_DONE;

    // enter_from(SCHEDULE) given the search result
    task enter_schedule;
        begin
            cnt <= 32'd1;
            if (fs_ok) begin
                phase   <= PH_SCHEDULE;
                seg_idx <= fs[3:0];
            end else if (cfg_n_samples != 32'd0) begin
                phase <= PH_SAMPLING;
            end else begin
                phase <= PH_DONE;
            end
        end
    endtask

    always @(posedge clk) begin
        if (rst) begin
            phase     <= PH_IDLE;
            seg_idx   <= 4'd0;
            cnt       <= 32'd1;
            samples   <= 32'd0;
            nz        <= 16'd0;
        end else begin
            if (seg_we)
                nz[seg_addr] <= seg_steps != 32'd0;
            if (start) begin
                samples <= 32'd0;
                cnt     <= 32'd1;
                seg_idx <= 4'd0;
                if (cfg_burnin != 32'd0) begin
                    phase <= PH_BURNIN;
                end else begin
                    enter_schedule;
                end
            end else if (commit) begin
                case (phase)
                    PH_BURNIN:
                        if (burn_end) enter_schedule;
                        else cnt <= cnt1;
                    PH_SCHEDULE:
                        if (seg_end) enter_schedule;
                        else cnt <= cnt1;
                    PH_SAMPLING:
                        if (keep) begin
                            cnt     <= 32'd1;
                            samples <= smp1[31:0];
                            if (smp1 == {1'b0, cfg_n_samples})
                                phase <= PH_DONE;
                        end else begin
                            cnt <= cnt1;
                        end
                    default: ;
                endcase
            end
        end
    end

// Formal properties: formal/tspu_sequencer_props.v (make formal).
endmodule
`default_nettype wire
