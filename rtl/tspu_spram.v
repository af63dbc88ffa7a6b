`default_nettype none
// tspu_spram - single-port RAM, 16 bits wide, with a registered read: the
// link side's memories (the bridge's request payload, the CSR block's
// read-back shadows and FIFO stage).  With TSPU_ICE40 defined (fpga/build.sh)
// it is one iCE40UP SB_SPRAM256KA (16K x 16; the UP5K has four); otherwise a
// behavioural array of DEPTH words that Verilator models directly.
// One access a clock: we writes wdata at addr; re (with !we) reads addr into
// rdata, which holds until the next read.  Users never look at rdata in the
// cycle after a write (the SPRAM leaves it undefined then).
module tspu_spram #(
    parameter DEPTH = 16384, // words used (behavioural model), 2..16384
    parameter AW    = 14     // address width, 2^AW >= DEPTH, <= 14
) (
    input  wire          clk,
    input  wire          we,
    input  wire          re,
    input  wire [AW-1:0] addr,
    input  wire [15:0]   wdata,
    output wire [15:0]   rdata
);
    generate
        if (DEPTH < 2 || (1 << AW) < DEPTH || AW > 14) begin : g_bad_param
            tspu_param_error_spram_depth_aw u_err (); // elaboration fails on purpose
        end
    endgenerate
`ifdef TSPU_ICE40
    wire [13:0] a14 = {{(14 - AW){1'b0}}, addr};
    SB_SPRAM256KA u_spram (
        .ADDRESS(a14), .DATAIN(wdata), .MASKWREN(4'b1111), .WREN(we),
        .CHIPSELECT(we || re), .CLOCK(clk), .STANDBY(1'b0), .SLEEP(1'b0),
        .POWEROFF(1'b1), .DATAOUT(rdata));
`else
    reg [15:0] mem [0:DEPTH-1];
    reg [15:0] q;
    integer k;
    initial begin
        for (k = 0; k < DEPTH; k = k + 1) mem[k] = 16'd0;
        q = 16'd0;
    end
    /* verilator lint_off WIDTH */ // addr indexes DEPTH words (< 2^AW)
    always @(posedge clk) begin
        if (we) mem[addr] <= wdata;
        else if (re) q <= mem[addr];
    end
    /* verilator lint_on WIDTH */
    assign rdata = q;
`endif
endmodule
`default_nettype wire
