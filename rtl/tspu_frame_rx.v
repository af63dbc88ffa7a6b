`default_nettype none
// tspu_frame_rx - device end of the link's frame parser (docs/protocol.md,
// host/lib/link_frame.c tspu_rx_byte with link_dev.c dev_hdr_ok): hunt for
// SYNC, take CMD SEQ LEN, accept only headers that can be a request (else the
// SYNC was data: the four header bytes are scanned again, one a clock, from
// the header shift register), take LEN payload bytes into the bridge's buffer and
// the CRC (summed with the frame: a good one leaves the CRC register 0).  A complete frame (good or bad CRC) is held until the bridge takes it
// (in_ready is low meanwhile).  A frame that stalls for TIMEOUT clocks is
// abandoned (a dropped byte must not swallow the next request).
module tspu_frame_rx #(
    parameter TIMEOUT = 4096 // idle clocks that abandon a half-received frame, >= 2
) (
    input  wire        clk,
    input  wire        rst,
    // byte stream in
    input  wire        in_valid,
    input  wire [7:0]  in_data,
    output wire        in_ready,
    // payload bytes (written as they arrive)
    output wire        pay_we,
    output wire [10:0] pay_addr,
    output wire [7:0]  pay_data,
    // the frame waiting for the bridge
    output wire        frm_valid,
    output reg         frm_crc_ok,
    output wire [7:0]  frm_cmd,
    output wire [7:0]  frm_seq,
    output wire [10:0] frm_len,
    input  wire        frm_take,
    output wire        busy       // inside a frame (not hunting, not holding)
);
    `include "tspu_regs.vh"

    generate
        if (TIMEOUT < 2) begin : g_bad_timeout
            tspu_param_error_timeout_too_small u_err ();
        end
    endgenerate

    localparam [3:0] S_HUNT = 4'd0, S_HDR = 4'd1, S_PAY = 4'd2, S_CRC1 = 4'd3,
                     S_CRC2 = 4'd4, S_FULL = 4'd5, S_HREG = 4'd6, S_HCHK = 4'd7,
                     S_CCHK = 4'd8;
    reg [3:0]  state;
    // h0..h3: the last four bytes taken while hunting or in a header, the
    // latest in h3 (a shift register): CMD, SEQ, LEN_LO, LEN_HI once a
    // header is complete (held with the frame)
    reg [7:0]  h0, h1, h2, h3;
    reg [1:0]  hn;             // header bytes taken
    reg [10:0] got;            // payload bytes taken
    reg [10:0] rem;            // payload bytes still to come (a down counter: no adder in the end test)
    reg        from_rp;        // replaying h0..h3 (a SYNC that was data)
    reg [1:0]  ri;             // bytes replayed
    reg [$clog2(TIMEOUT+1)-1:0] idle;

    // request headers the device accepts (link_dev.c dev_hdr_ok): hdr_ok below

    // A replay takes h0 and shifts it back in at h3 (a rotation): the four
    // bytes come out in order, and the shift register still holds the last
    // four bytes taken.
    wire [7:0] b     = from_rp ? h0 : in_data;
    assign in_ready  = (state == S_HUNT || state == S_HDR || state == S_PAY || state == S_CRC1 ||
                        state == S_CRC2) && !from_rp;
    wire       take  = from_rp || (in_valid && in_ready);

    // the header, checked in the two clocks after its last byte (Fmax: the
    // byte taken meets no compare; the compares are registered in S_HREG,
    // acted on in S_HCHK): CMD h0, SEQ h1, LEN_LO h2, LEN_HI h3
    localparam [15:0] MAXP = TSPU_LINK_MAX_PAYLOAD[15:0];
    wire        hi0    = h3 == 8'd0;
    wire        len_ok = h3 < MAXP[15:8] || (h3 == MAXP[15:8] && h2 <= MAXP[7:0]); // LEN <= MAX_PAYLOAD
    wire        len0   = hi0 && h2 == 8'd0;
    wire        len4   = hi0 && h2 == 8'd4;
    wire        lenw   = (!hi0 || h2 >= 8'd6) && h2[1:0] == 2'b10;              // >= 6, 2 mod 4
    wire        c_pr   = h0 == TSPU_CMD_PING || h0 == TSPU_CMD_LINK_RESET;
    wire        c_rd   = h0 == TSPU_CMD_READ || h0 == TSPU_CMD_READ_FIFO;
    wire        c_wr   = h0 == TSPU_CMD_WRITE;
    wire        hdr_ok = len_ok && ((c_pr && len0) || (c_rd && len4) || (c_wr && lenw));
    wire        h_sh   = take && (state == S_HUNT || state == S_HDR);
    reg         hdr_ok_q, len0_q;
    always @(posedge clk) begin
        hdr_ok_q <= hdr_ok;
        len0_q   <= len0;
    end

    wire [15:0] crc, crc_next;
    wire crc_init = take && state == S_HUNT && b == TSPU_LINK_SYNC;
    wire crc_en   = take && state != S_HUNT; // the CRC bytes too (nothing is taken in S_FULL)
    // the CRC runs a clock behind the bytes (Fmax: the byte's handshake
    // meets a flip-flop, not the CRC's enable); its check is in S_CCHK, the
    // clock after the last CRC byte
    reg       c_init, c_en;
    reg [7:0] cb;
    always @(posedge clk) begin
        c_init <= crc_init; c_en <= crc_en; cb <= b;
    end
    tspu_crc16 #(.POLY(TSPU_LINK_CRC_POLY), .INIT(TSPU_LINK_CRC_INIT)) u_crc (
        .clk(clk), .rst(rst), .init(c_init), .en(c_en), .din(cb),
        .crc(crc), .crc_next(crc_next));
    /* verilator lint_off UNUSEDSIGNAL */ // the check is of crc_next (CRC_LO summed)
    wire unused_crc = ^crc;
    /* verilator lint_on UNUSEDSIGNAL */
    assign frm_len = {h3[2:0], h2};  // LEN, known <= MAX_PAYLOAD

    assign pay_we    = take && state == S_PAY;
    assign pay_addr  = got;
    assign pay_data  = b;
    assign frm_valid = state == S_FULL;
    assign frm_cmd   = h0;
    assign frm_seq   = h1;
    assign busy      = state != S_HUNT && state != S_FULL;

    always @(posedge clk) begin
        if (rst) begin
            state <= S_HUNT; hn <= 2'd0; got <= 11'd0; rem <= 11'd0; from_rp <= 1'b0; ri <= 2'd0;
            idle <= 0; frm_crc_ok <= 1'b0;
            h0 <= 8'd0; h1 <= 8'd0; h2 <= 8'd0; h3 <= 8'd0;
        end else begin
            if (from_rp) begin
                ri <= ri + 2'd1;
                if (ri == 2'd3) from_rp <= 1'b0;
            end
            if (h_sh) begin h0 <= h1; h1 <= h2; h2 <= h3; h3 <= b; end
            if (take || !busy) idle <= 0;
            else if (idle != TIMEOUT[$clog2(TIMEOUT+1)-1:0]) idle <= idle + 1'b1;

            if (busy && !take && idle == TIMEOUT[$clog2(TIMEOUT+1)-1:0]) begin
                state <= S_HUNT; // the line went quiet inside a frame
            end else if (take) begin
                case (state)
                    S_HUNT: if (b == TSPU_LINK_SYNC) begin state <= S_HDR; hn <= 2'd0; end
                    S_HDR: begin
                        hn <= hn + 2'd1;
                        if (hn == 2'd3) state <= S_HREG;
                    end
                    S_PAY: begin
                        got <= got + 11'd1; rem <= rem - 11'd1;
                        if (rem == 11'd1) state <= S_CRC1;
                    end
                    S_CRC1: state <= S_CRC2;
                    S_CRC2: state <= S_CCHK;
                    default: ;
                endcase
            end
            if (state == S_CCHK) begin   // the last CRC byte is in crc_next now
                frm_crc_ok <= crc_next == 16'd0;
                state <= S_FULL;
            end
            if (state == S_HREG) state <= S_HCHK;  // (nothing is taken in S_HREG, S_HCHK)
            if (state == S_HCHK) begin
                if (hdr_ok_q) begin
                    got <= 11'd0; rem <= frm_len;
                    state <= len0_q ? S_CRC1 : S_PAY;
                end else begin
                    // the SYNC was data: scan the header bytes again
                    from_rp <= 1'b1; ri <= 2'd0;
                    state <= S_HUNT;
                end
            end
            if (state == S_FULL && frm_take) state <= S_HUNT;
        end
    end
endmodule
`default_nettype wire
