`default_nettype none
// tspu_frame_tx - frame encoder of the link (docs/protocol.md,
// host/lib/link_frame.c tspu_frame_encode): on start it sends SYNC, TYPE,
// SEQ, LEN (little-endian), then takes LEN payload bytes from the bridge
// (pay_valid/pay_ready; pay_last marks the last, so no count is kept) and appends the CRC-16/CCITT-FALSE of TYPE..PAYLOAD,
// most significant byte first.  The payload is streamed, never buffered;
// typ, seq and len are read while the frame is sent (the bridge holds them
// until busy falls), so they are not copied.
module tspu_frame_tx (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,     // starts a frame (only while !busy)
    input  wire [7:0]  typ,
    input  wire [7:0]  seq,
    input  wire [10:0] len,
    input  wire        pay_valid,
    input  wire        pay_last,  // with pay_valid: the payload's last byte
    input  wire [7:0]  pay_data,
    output wire        pay_ready,
    output reg         out_valid,
    output reg  [7:0]  out_data,
    input  wire        out_ready,
    output wire        busy       // a frame is being sent (or its last byte waits)
);
    `include "tspu_regs.vh"

    localparam [2:0] T_IDLE = 3'd0, T_TYPE = 3'd1, T_SEQ = 3'd2, T_LENLO = 3'd3,
                     T_LENHI = 3'd4, T_PAY = 3'd5, T_CRCH = 3'd6, T_CRCL = 3'd7;
    reg [2:0]  state;

    wire can = !out_valid || out_ready;   // the output register is free this cycle
    // The CRC takes a summed byte from out_data in the clock after it is
    // loaded (pend), not from the byte multiplexer: the CRC bytes wait
    // until it has (T_CRCH loads only with !pend).
    reg  pend;
    assign pay_ready = state == T_PAY && can;
    assign busy = state != T_IDLE || out_valid;

    // the byte loaded this cycle (state order), and whether the CRC takes it
    reg [7:0] nb;
    reg       load, sum;
    wire [15:0] crc, crc_next;
    always @(*) begin
        nb = 8'd0; load = 1'b0; sum = 1'b0;
        case (state)
            T_TYPE:  begin nb = typ; load = can; sum = 1'b1; end
            T_SEQ:   begin nb = seq; load = can; sum = 1'b1; end
            T_LENLO: begin nb = len[7:0]; load = can; sum = 1'b1; end
            T_LENHI: begin nb = {5'd0, len[10:8]}; load = can; sum = 1'b1; end
            T_PAY:   begin nb = pay_data; load = can && pay_valid; sum = 1'b1; end
            T_CRCH:  begin nb = crc[15:8]; load = can && !pend; end
            T_CRCL:  begin nb = crc[7:0]; load = can; end
            default: ;
        endcase
    end
    tspu_crc16 #(.POLY(TSPU_LINK_CRC_POLY), .INIT(TSPU_LINK_CRC_INIT)) u_crc (
        .clk(clk), .rst(rst), .init(start && state == T_IDLE), .en(pend), .din(out_data),
        .crc(crc), .crc_next(crc_next));
    /* verilator lint_off UNUSEDSIGNAL */ // the CRC is sent from its register
    wire unused_crc_next = ^crc_next;
    /* verilator lint_on UNUSEDSIGNAL */

    always @(posedge clk) begin
        if (rst) begin
            state <= T_IDLE; out_valid <= 1'b0; out_data <= 8'd0; pend <= 1'b0;
        end else begin
            pend <= load && sum;
            if (out_valid && out_ready) out_valid <= 1'b0;
            if (state == T_IDLE) begin
                if (start && can) begin
                    out_valid <= 1'b1; out_data <= TSPU_LINK_SYNC;
                    state <= T_TYPE;
                end
            end else if (load) begin
                out_valid <= 1'b1; out_data <= nb;
                case (state)
                    T_TYPE:  state <= T_SEQ;
                    T_SEQ:   state <= T_LENLO;
                    T_LENLO: state <= T_LENHI;
                    T_LENHI: state <= (len == 11'd0) ? T_CRCH : T_PAY;
                    T_PAY: begin
                        if (pay_last) state <= T_CRCH;
                    end
                    T_CRCH:  state <= T_CRCL;
                    default: state <= T_IDLE; // T_CRCL
                endcase
            end
        end
    end
endmodule
`default_nettype wire
