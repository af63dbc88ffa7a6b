`default_nettype none
// tspu_crc16 - CRC-16/CCITT-FALSE of the link (docs/protocol.md), one byte a
// clock: polynomial 0x1021, MSB first, no reflection, no final XOR.  crc is
// the CRC of the bytes taken since the last init; crc_next is what it becomes
// if din is taken this cycle (for a frame end check in the same cycle).
module tspu_crc16 #(
    parameter [15:0] POLY = 16'h1021, // generator polynomial (x^16 implied)
    parameter [15:0] INIT = 16'hFFFF  // register value after init
) (
    input  wire        clk,
    input  wire        rst,      // synchronous, active high: crc <= INIT
    input  wire        init,     // crc <= INIT (takes priority over en)
    input  wire        en,       // take din
    input  wire [7:0]  din,
    output reg  [15:0] crc,
    output wire [15:0] crc_next
);
    function [15:0] f_crc_byte;
        input [15:0] c;
        input [7:0]  d;
        integer k;
        reg [15:0] x;
        begin
            x = c ^ {d, 8'h00};
            for (k = 0; k < 8; k = k + 1)
                x = x[15] ? ({x[14:0], 1'b0} ^ POLY) : {x[14:0], 1'b0};
            f_crc_byte = x;
        end
    endfunction

    assign crc_next = f_crc_byte(crc, din);

    always @(posedge clk) begin
        if (rst || init)
            crc <= INIT;
        else if (en)
            crc <= crc_next;
    end
endmodule
`default_nettype wire
