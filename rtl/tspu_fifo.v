`default_nettype none
// tspu_fifo - sample FIFO of 16-bit words in block RAM.  The writer reserves
// room for a whole sample before writing it (free >= words), so a sample is
// written whole or dropped whole; a write when full is ignored (and is a
// formal property violation).  Read data is valid the cycle after rd_en.
module tspu_fifo #(
    parameter AW = 9 // depth 2^AW words, 2..14
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          clear,
    input  wire          wr_en,
    input  wire [15:0]   wr_data,
    input  wire          rd_en,
    output wire [15:0]   rd_data,
    output reg  [AW:0]   level,
    output wire [AW:0]   free
);
    generate
        if (AW < 2 || AW > 14) begin : g_bad_param
            tspu_param_error_fifo_aw u_err ();
        end
    endgenerate

    localparam [AW:0] DEPTH = 1 << AW;
    reg [AW-1:0] wp, rp;
    wire do_wr = wr_en && level != DEPTH;
    wire do_rd = rd_en && level != 0;

    assign free = DEPTH - level;

    tspu_ram #(.W(16), .DEPTH(1 << AW), .AW(AW)) u_mem (
        .clk(clk), .we(do_wr), .waddr(wp), .wdata(wr_data),
        .re(do_rd), .raddr(rp), .rdata(rd_data));

    always @(posedge clk) begin
        if (rst || clear) begin
            wp    <= {AW{1'b0}};
            rp    <= {AW{1'b0}};
            level <= {(AW+1){1'b0}};
        end else begin
            if (do_wr) wp <= wp + 1'b1;
            if (do_rd) rp <= rp + 1'b1;
            // level +/- 1 formed beside the full / empty tests, then selected
            if (do_wr && !do_rd) level <= level + 1'b1;
            else if (do_rd && !do_wr) level <= level - 1'b1;
        end
    end

// Formal properties: formal/tspu_fifo_props.v (make formal).
endmodule
`default_nettype wire
