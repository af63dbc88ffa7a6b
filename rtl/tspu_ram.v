`default_nettype none
// tspu_ram - simple dual-port RAM: one write port, one registered read port.
// Written in the form yosys maps onto SB_RAM40_4K (iCE40) and Verilator
// models directly.  The read register only changes when re is high, so a
// read result can be held for several cycles (the engine relies on this).
module tspu_ram #(
    parameter W     = 16,  // data width, >= 1
    parameter DEPTH = 256, // words, >= 2
    parameter AW    = 8    // address width, 2^AW >= DEPTH
) (
    input  wire          clk,
    input  wire          we,
    input  wire [AW-1:0] waddr,
    input  wire [W-1:0]  wdata,
    input  wire          re,
    input  wire [AW-1:0] raddr,
    output reg  [W-1:0]  rdata
);
    generate
        if (W < 1 || DEPTH < 2 || (1 << AW) < DEPTH) begin : g_bad_param
            tspu_param_error_ram_w_depth_aw u_err (); // elaboration fails on purpose
        end
    endgenerate

    // The engine never reads a word in the cycle it writes it (a block RAM
    // returns undefined data then): no_rw_check keeps yosys from building
    // read-during-write bypass logic; simulation reports any such cycle.
    (* no_rw_check *)
    reg [W-1:0] mem [0:DEPTH-1];
`ifndef SYNTHESIS
    always @(posedge clk)
        if (we && re && waddr == raddr)
            $display("FAIL: tspu_ram %m: word %0d read and written in one cycle", waddr);
`endif

    always @(posedge clk) begin
        if (we)
            mem[waddr] <= wdata;
        if (re)
            rdata <= mem[raddr];
    end
endmodule
`default_nettype wire
