`default_nettype none
// tspu_fifo_props - formal properties of rtl/tspu_fifo.v, checked by
// formal/run.sh (yosys + yosys-smtbmc, bounded).  The wrapper instantiates
// the FIFO unchanged and observes only its ports; every input is free
// (smtbmc picks any value each cycle), the only assumption is a reset in the
// first cycle.  Writes into a full FIFO and reads from an empty one are
// allowed, so the checks include "no corruption on full/empty".
//
// Properties (spec = a FIFO of 2^AW words cleared by rst or clear):
//  * count: level equals the spec count (accepted writes - accepted reads,
//    a write is accepted iff not full, a read iff not empty), so it never
//    overflows past 2^AW nor underflows below 0; free == 2^AW - level.
//  * data integrity: two tracked words, each any accepted write the solver
//    picks (free inputs f_pick_a/b): the read that reaches it returns it the
//    cycle after, unchanged.  As the pick is free this covers every word of
//    every trace: in order, unchanged, none lost or duplicated, whatever is
//    written while full or read while empty.
//  * rd_data holds its value when no read is accepted.
// White-box lemmas (also proven) make the set inductive, so formal/run.sh
// proves it unbounded by k-induction besides the BMC: the pointer difference
// equals the count, a tracked word's RAM slot is rp + (words in front of it)
// and holds the word until it is read.  f_wp, f_rp and f_memv are left
// undriven here; formal/run.sh connects them (yosys `connect -set`, after
// flatten and memory_map) to dut.wp, dut.rp and dut.u_mem.mem[*].
// The whole-sample write-or-drop decision and the dropped counter live in
// tspu_core (fifo_room / fifo_dropped), not in this module.
module tspu_fifo_props #(
    parameter AW = 2
) (
    input wire        clk,
    input wire        rst,
    input wire        clear,
    input wire        wr_en,
    input wire [15:0] wr_data,
    input wire        rd_en,
    input wire        f_pick_a,   // free: track this write
    input wire        f_pick_b
);
    localparam integer DEPTH = 1 << AW;
    wire [15:0] rd_data;
    wire [AW:0] level, free;

    tspu_fifo #(.AW(AW)) dut (
        .clk(clk), .rst(rst), .clear(clear), .wr_en(wr_en), .wr_data(wr_data),
        .rd_en(rd_en), .rd_data(rd_data), .level(level), .free(free));

    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume (rst);

    // ---- spec count ------------------------------------------------------
    reg  [AW:0] f_cnt;
    wire        f_acc_w = wr_en && f_cnt != DEPTH;
    wire        f_acc_r = rd_en && f_cnt != 0;

    // ---- white-box view (connected by formal/run.sh) -----------------------
    wire [AW-1:0]       f_wp, f_rp;
    wire [16*DEPTH-1:0] f_memv;

    // ---- two tracked words ---------------------------------------------------
    // A tracked word is any accepted write the solver chooses (f_pick_*, a
    // free input, so every write of every trace is covered).  f_ahead_* counts
    // the words in front of it; the read that finds f_ahead_* == 0 must return
    // it, the cycle after, unchanged.
    reg          f_pa, f_pb;              // tracked word in the FIFO
    reg [AW:0]   f_ahead_a, f_ahead_b;
    reg [AW-1:0] f_addr_a, f_addr_b;      // its RAM slot (white-box lemma)
    reg [15:0]   f_da, f_db;
    reg          f_chk_a, f_chk_b;        // it was read last cycle
    wire [AW:0]  f_in_front = f_cnt - {{AW{1'b0}}, f_acc_r};

    always @(posedge clk) begin
        f_chk_a <= 1'b0;
        f_chk_b <= 1'b0;
        if (rst || clear) begin
            f_cnt <= {(AW+1){1'b0}};
            f_pa  <= 1'b0;
            f_pb  <= 1'b0;
        end else begin
            f_cnt <= f_cnt + {{AW{1'b0}}, f_acc_w} - {{AW{1'b0}}, f_acc_r};
            if (f_pa && f_acc_r) begin
                if (f_ahead_a == 0) begin f_pa <= 1'b0; f_chk_a <= 1'b1; end
                else f_ahead_a <= f_ahead_a - 1'b1;
            end
            if (f_pb && f_acc_r) begin
                if (f_ahead_b == 0) begin f_pb <= 1'b0; f_chk_b <= 1'b1; end
                else f_ahead_b <= f_ahead_b - 1'b1;
            end
            if (f_acc_w && f_pick_a && !f_pa) begin
                f_pa <= 1'b1; f_da <= wr_data; f_ahead_a <= f_in_front; f_addr_a <= f_wp;
            end
            if (f_acc_w && f_pick_b && !f_pb) begin
                f_pb <= 1'b1; f_db <= wr_data; f_ahead_b <= f_in_front; f_addr_b <= f_wp;
            end
        end
    end

    wire [15:0] f_slot_a = f_memv[16*f_addr_a +: 16];
    wire [15:0] f_slot_b = f_memv[16*f_addr_b +: 16];

    always @(*) if (f_past_valid) begin
        // the ports
        assert (level == f_cnt);
        assert (free == DEPTH - f_cnt);
        assert (f_cnt <= DEPTH);
        if (f_chk_a) assert (rd_data == f_da);
        if (f_chk_b) assert (rd_data == f_db);
        // white-box lemmas
        assert (f_wp - f_rp == f_cnt[AW-1:0]);
        if (f_pa) begin
            assert (f_ahead_a < f_cnt);
            assert (f_addr_a == f_rp + f_ahead_a[AW-1:0]);
            assert (f_slot_a == f_da);
        end
        if (f_pb) begin
            assert (f_ahead_b < f_cnt);
            assert (f_addr_b == f_rp + f_ahead_b[AW-1:0]);
            assert (f_slot_b == f_db);
        end
        // two words in flight keep their order
        if (f_pa && f_pb && f_ahead_a < f_ahead_b)
            assert (f_addr_b - f_addr_a == f_ahead_b[AW-1:0] - f_ahead_a[AW-1:0]);
    end
    // rd_data only changes on an accepted read
    always @(posedge clk) if (f_past_valid && !$past(rst) && !$past(clear) && !$past(f_acc_r))
        assert (rd_data == $past(rd_data));
endmodule
`default_nettype wire
