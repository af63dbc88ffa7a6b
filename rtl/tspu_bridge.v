`default_nettype none
// tspu_bridge - device end of the link (docs/protocol.md); it follows
// host/lib/link_dev.c, the executable specification:
//   - a frame with a bad CRC is answered NAK(CRC) with its SEQ as received;
//   - the last executed request (SEQ, CMD, NAK reason) is remembered: a
//     request with the same SEQ and CMD is a retry -- a WRITE or PING is not
//     executed again (ACK again), a READ is read again, a READ_FIFO replays
//     exactly the elements it peeked, a refused one gets the same NAK;
//   - a new request first commits the elements of the last READ_FIFO (the
//     host has its answer), LINK_RESET commits and forgets the last request;
//   - a burst is checked whole before any of it is done (NAK ADDR/ACCESS);
//   - after every executed request the CSR block is told the frame ended.
// The payload of a request is kept in a buffer (WRITE data is checked before
// it is written): a tspu_spram (SB_SPRAM256KA on the iCE40UP) of 16-bit words,
// filled a byte pair at a time (every request payload has an even length);
// ADDR and COUNT (words 0 and 1) are read from it first, a WRITE's data word
// i is words 2i+1 (low half) and 2i+2 (read last: the RAM output is the
// high half of bus_wdata during the bus write).  The request's CMD is read
// from tspu_frame_rx, which holds the frame until it is taken.  Answers are
// streamed through tspu_frame_tx, which reads tx_typ, tx_seq and tx_len
// while it sends: a new frame is taken up only once it is idle.  An answer
// word is sent byte by byte from bus_rdata, which holds it until the next
// request (the next word is fetched once the last byte is handed over).
module tspu_bridge (
    input  wire        clk,
    input  wire        rst,
    // from tspu_frame_rx
    input  wire        pay_we,
    input  wire [10:0] pay_addr,
    input  wire [7:0]  pay_data,
    input  wire        frm_valid,
    input  wire        frm_crc_ok,
    /* verilator lint_off UNUSEDSIGNAL */ // CMD is 1..5 (frame_rx takes no other): bits 7:3 are 0
    input  wire [7:0]  frm_cmd,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [7:0]  frm_seq,
    /* verilator lint_off UNUSEDSIGNAL */ // a WRITE's LEN is 2 + 4k: bits 1:0 are known
    input  wire [10:0] frm_len,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire        frm_take,
    // to tspu_frame_tx
    output wire        tx_start,
    output reg  [7:0]  tx_typ,
    output wire [7:0]  tx_seq,
    output reg  [10:0] tx_len,
    output wire        tx_pay_valid,
    output wire        tx_pay_last,
    output wire [7:0]  tx_pay_data,
    input  wire        tx_pay_ready,
    input  wire        tx_busy,
    // to tspu_csr
    output wire [15:0] chk_addr,
    input  wire [1:0]  chk_acc,
    output reg         bus_req,
    output reg  [2:0]  bus_op,
    output wire [15:0] bus_addr,
    output wire [31:0] bus_wdata,
    input  wire        bus_ack,
    input  wire [31:0] bus_rdata,
    input  wire [10:0] fifo_avail,
    output wire        idle          // no request in progress
);
    `include "tspu_regs.vh"

    localparam [2:0] OP_RD = 3'd0, OP_WR = 3'd1, OP_FD = 3'd2, OP_PEEK = 3'd3, OP_COMMIT = 3'd4;
    /* verilator lint_off WIDTH */ // link limits as 17-bit counts (they fit)
    localparam [16:0] MAXF = TSPU_LINK_MAX_FIFO_ELEMS, MAXW = TSPU_LINK_MAX_BURST_WORDS;
    /* verilator lint_on WIDTH */

    // request payload: byte pairs into a 16-bit RAM; the bridge reads it only
    // while the frame is held (frame_rx writes no payload then)
    localparam PW = TSPU_LINK_MAX_PAYLOAD / 2;
    reg  [7:0]  pay_lo;        // the even byte, until its odd partner comes
    reg  [9:0]  pb_ra;         // read address
    reg         pb_re;
    wire [15:0] pb_q;
    // a pair is written a clock after its odd byte (Fmax: the byte's
    // handshake does not reach the SPRAM; the frame is complete two CRC
    // bytes later, so the bridge never reads a pair still being written)
    reg         pw_we;
    reg  [9:0]  pw_a;
    reg  [15:0] pw_d;
    always @(posedge clk) begin
        if (pay_we && !pay_addr[0]) pay_lo <= pay_data;
        pw_we <= pay_we && pay_addr[0];
        pw_a  <= pay_addr[10:1];
        pw_d  <= {pay_data, pay_lo};
    end
    tspu_spram #(.DEPTH(PW), .AW(10)) u_pbuf (
        .clk(clk), .we(pw_we), .re(pb_re),
        .addr(pw_we ? pw_a : pb_ra), .wdata(pw_d), .rdata(pb_q));

    localparam [4:0] B_IDLE = 5'd0, B_DISP = 5'd1, B_COMMIT = 5'd2, B_EXEC = 5'd3,
                     B_CHK = 5'd4, B_WR = 5'd5, B_HDR = 5'd6, B_RD = 5'd7, B_SEND = 5'd8,
                     B_FD = 5'd9, B_TAKE = 5'd10, B_FSTART = 5'd11, B_P0 = 5'd12, B_P1 = 5'd13,
                     B_WL = 5'd14, B_WH = 5'd15, B_NAK = 5'd16;
    reg [4:0]  st;
    reg [7:0]  seq;
    wire [2:0] cmd = frm_cmd[2:0];  // held by frame_rx until B_TAKE; CMD < 8
    wire [7:0] ack = {TSPU_LINK_ACK_BIT[7:3], cmd};  // its ACK type
    reg [15:0] addr;        // the burst's first address (0 for READ_FIFO: element i is at i)
    reg [15:0] wlo;         // bus_wdata[15:0]: a WRITE's low half, COMMIT's count
    reg [9:0]  cnt;         // words (READ/WRITE) or elements (READ_FIFO), <= 512 once checked
    reg        cbig;        // the request's COUNT was >= 1024 (cnt holds its low bits)
    reg [9:0]  i;
    reg        is_new;      // executed (not a retry): record, tell the CSR
    reg        have_last;
    reg [7:0]  last_seq;
    reg [2:0]  last_cmd;
    reg [1:0]  last_nak;    // NAK reasons are 1..3 (checked below)
    reg [9:0]  pend_n;
    reg        chk_wr;      // the burst check is for a write
    reg [1:0]  nak_why;
    reg [1:0]  kind;        // answer payload: 0 none, 1 NAK byte, 2 words, 3 FIFO elements
    reg [1:0]  bi;          // the byte of bus_rdata being sent
    // timing (the flattened board top): the burst address addr + i kept in a
    // register of its own (ba, moved with i and addr), and the compares the
    // state machine branches on registered a clock before they are used
    // (their inputs are stable by then: see each use)
    reg [15:0] ba;          // addr + i (mod 2^16): chk_addr, bus_addr
    reg        dup_q;       // dup (frm_seq, cmd and last_* are stable from B_IDLE to B_DISP)
    reg        last_q;      // i + 1 == cnt (i is stable for a clock before each use)
    reg        lw_q;        // word i is the answer's last (i == cnt after the increment)
    reg        cp;          // B_CHK: 0 the check of word i is registered, 1 it is used
    reg        ck_bad, ck_bad_a; // chk_bad, chk_bad_a of word i, registered

    generate
        if (TSPU_NAK_CRC > 8'd3 || TSPU_NAK_ADDR > 8'd3 || TSPU_NAK_ACCESS > 8'd3 ||
            TSPU_NAK_CRC == 8'd0 || TSPU_NAK_ADDR == 8'd0 || TSPU_NAK_ACCESS == 8'd0) begin : g_bad_nak
            tspu_param_error_nak_reasons_not_1_to_3 u_err ();
        end
        if (TSPU_CMD_PING > 8'd7 || TSPU_CMD_READ > 8'd7 || TSPU_CMD_WRITE > 8'd7 ||
            TSPU_CMD_READ_FIFO > 8'd7 || TSPU_CMD_LINK_RESET > 8'd7 || TSPU_LINK_ACK_BIT[2:0] != 3'd0) begin : g_bad_cmd
            tspu_param_error_cmd_codes_not_below_8 u_err ();
        end
    endgenerate
    localparam [1:0] K_NONE = 2'd0, K_NAK = 2'd1, K_WORDS = 2'd2, K_FIFO = 2'd3;

    assign idle     = st == B_IDLE && !frm_valid;
    assign frm_take = st == B_TAKE;
    assign tx_start = st == B_HDR && !tx_busy;
    assign tx_pay_valid = st == B_SEND;
    assign tx_pay_data  = kind == K_NAK ? {6'd0, nak_why} : bus_rdata[{bi, 3'b000} +: 8];
    wire   last_b       = kind == K_NAK || (kind == K_FIFO ? bi[0] : &bi); // the last byte of a word
    wire   last_w       = kind == K_NAK || lw_q;       // ... of the last word: the answer's last
    assign tx_pay_last  = last_b && last_w;
    assign tx_seq   = seq;
    assign chk_addr = ba;                              // addr + i: the address of word i
    assign bus_addr = chk_addr;                        // word i; PEEK: element i
    assign bus_wdata = {pb_q, wlo};                    // the RAM holds the high half during a write
    wire   last     = last_q;                          // word i is the burst's last
    wire   av_less  = fifo_avail < {1'b0, cnt};        // fewer elements than asked

    wire        dup    = dup_q;

    task answer;
        input [7:0]  typ;
        input [10:0] len;
        input [1:0]  k;
        begin
            tx_typ <= typ; tx_len <= len; kind <= k; st <= B_HDR;
        end
    endtask

    task refuse; // answered from B_NAK
        input [1:0] why;
        begin
            nak_why <= why; st <= B_NAK;
        end
    endtask

    // the burst check of word i: its address is outside the map (or past
    // 0xFFFF, or the COUNT is bad: word 0), or it is not writable
    // (B_CHK uses the check registered in the clock before: ck_*)
    wire   chk_bad_a = (i == 10'd0 ? (cnt == 10'd0 || cbig || cnt > MAXW[9:0]) : chk_addr == 16'd0) ||
                       chk_acc == 2'd0;
    wire   chk_bad   = chk_bad_a || (chk_wr && !chk_acc[1]);
    always @(posedge clk) begin
        ck_bad   <= chk_bad;
        ck_bad_a <= chk_bad_a;
        last_q  <= i + 10'd1 == cnt;
        dup_q   <= have_last && frm_seq == last_seq && cmd == last_cmd;
    end

    always @(posedge clk) begin
        if (rst) begin
            st <= B_IDLE; seq <= 8'd0; addr <= 16'd0; wlo <= 16'd0; cnt <= 10'd0; i <= 10'd0; cbig <= 1'b0;
            is_new <= 1'b0; have_last <= 1'b0; last_seq <= 8'd0; last_cmd <= 3'd0; last_nak <= 2'd0;
            pend_n <= 10'd0; chk_wr <= 1'b0; nak_why <= 2'd0; kind <= K_NONE;
            bi <= 2'd0; bus_req <= 1'b0; bus_op <= OP_RD;
            tx_typ <= 8'd0; tx_len <= 11'd0;
            pb_re <= 1'b0; pb_ra <= 10'd0;
            ba <= 16'd0; lw_q <= 1'b0; cp <= 1'b0;
        end else begin
            if (bus_ack) bus_req <= 1'b0;
            pb_re <= 1'b0;
            case (st)
                B_IDLE: if (frm_valid && !tx_busy) begin
                    seq <= frm_seq;
                    i <= 10'd0; ba <= addr; is_new <= 1'b0; cbig <= 1'b0;
                    if (!frm_crc_ok) refuse(TSPU_NAK_CRC[1:0]); // is_new is 0: not remembered
                    else begin
                        pb_re <= 1'b1; pb_ra <= 10'd0; st <= B_P0; // ADDR
                    end
                end
                B_P0: st <= B_P1;  // the RAM reads ADDR
                B_P1: begin        // ADDR (then COUNT: READ, READ_FIFO) on pb_q
                    if (pb_ra[0]) begin
                        cnt <= pb_q[9:0]; cbig <= |pb_q[15:10]; st <= B_DISP;
                    end else begin
                        addr <= pb_q; ba <= pb_q; // (i = 0)
                        if (cmd == TSPU_CMD_WRITE[2:0]) begin
                            cnt <= {1'b0, frm_len[10:2]}; st <= B_DISP;
                        end else begin
                            pb_re <= 1'b1; pb_ra <= 10'd1; st <= B_P0;
                        end
                    end
                end
                B_DISP: begin
                    if (cmd == TSPU_CMD_LINK_RESET[2:0]) begin
                        have_last <= 1'b0;
                        st <= B_COMMIT;
                    end else if (dup) begin
                        if (last_nak != 2'd0) refuse(last_nak);
                        else if (cmd == TSPU_CMD_WRITE[2:0] || cmd == TSPU_CMD_PING[2:0])
                            answer(ack, 11'd0, K_NONE);
                        else if (cmd == TSPU_CMD_READ[2:0]) begin
                            chk_wr <= 1'b0; st <= B_CHK;
                        end else begin // READ_FIFO: the same elements again
                            cnt <= pend_n; addr <= 16'd0; ba <= 16'd0; // (i = 0)
                            answer(ack, {pend_n, 1'b0}, K_FIFO);
                        end
                    end else begin
                        is_new <= 1'b1;
                        have_last <= 1'b1; last_seq <= seq; last_cmd <= cmd; last_nak <= 2'd0;
                        st <= B_COMMIT;
                    end
                end
                B_COMMIT: begin // the host has the answer of the last READ_FIFO
                    if (pend_n != 10'd0) begin // (0 when none is pending)
                        if (!bus_req) begin
                            bus_req <= 1'b1; bus_op <= OP_COMMIT; wlo <= {6'd0, pend_n};
                        end
                        if (bus_ack) begin pend_n <= 10'd0; st <= B_EXEC; end
                    end else begin
                        st <= B_EXEC;
                    end
                end
                B_EXEC: begin
                    if (cmd == TSPU_CMD_LINK_RESET[2:0] || cmd == TSPU_CMD_PING[2:0])
                        answer(ack, 11'd0, K_NONE);
                    else if (cmd == TSPU_CMD_READ[2:0]) begin
                        chk_wr <= 1'b0; st <= B_CHK;
                    end else if (cmd == TSPU_CMD_WRITE[2:0]) begin
                        chk_wr <= 1'b1; st <= B_CHK;
                    end else if (addr != TSPU_REG_FIFO_DATA)
                        refuse(TSPU_NAK_ADDR[1:0]);
                    else begin
                        if (cbig || cnt > MAXF[9:0]) cnt <= MAXF[9:0];
                        addr <= 16'd0; ba <= 16'd0; // (i = 0)
                        st <= B_FSTART; // fifo_avail after the commit
                    end
                end
                B_FSTART: begin
                    if (av_less) cnt <= fifo_avail[9:0];
                    pend_n <= av_less ? fifo_avail[9:0] : cnt[9:0];
                    answer(ack,
                           av_less ? {fifo_avail[9:0], 1'b0} : {cnt[9:0], 1'b0}, K_FIFO);
                end
                B_CHK: begin // every address of the burst, one in two clocks (cp 0: ck_* take word i)
                    cp <= !cp;
                    if (cp) begin
                        if (ck_bad)
                            refuse(ck_bad_a ? TSPU_NAK_ADDR[1:0] : TSPU_NAK_ACCESS[1:0]);
                        else if (last) begin
                            i <= 10'd0; ba <= addr;
                            if (chk_wr) st <= B_WR;
                            else answer(ack, {cnt[8:0], 2'b00}, K_WORDS);
                        end else begin
                            i <= i + 10'd1; ba <= ba + 16'd1;
                        end
                    end
                end
                B_WR: begin // word i: its halves from the payload (2i+1, 2i+2), then the bus
                    pb_re <= 1'b1; pb_ra <= {i[8:0], 1'b1}; st <= B_WL;
                end
                B_WL: if (!pb_re) begin // the RAM has read; the high half next
                    if (!pb_ra[0]) begin
                        st <= B_WH;
                        bus_req <= 1'b1; bus_op <= OP_WR;
                    end else begin
                        wlo <= pb_q;
                        pb_re <= 1'b1; pb_ra <= pb_ra + 10'd1;
                    end
                end
                B_WH: if (bus_ack) begin
                    if (last) answer(ack, 11'd0, K_NONE);
                    else begin i <= i + 10'd1; ba <= ba + 16'd1; st <= B_WR; end
                end
                B_HDR: if (!tx_busy) begin
                    i <= 10'd0; ba <= addr;
                    case (kind)
                        K_NONE:  st <= B_FD;
                        K_NAK:   begin bi <= 2'd0; st <= B_SEND; end
                        default: st <= (cnt == 10'd0) ? B_FD : B_RD;
                    endcase
                end
                B_RD: begin // word / element i into bus_rdata
                    if (bus_ack) begin // (i was set two clocks before the request at least: last_q holds)
                        bi <= 2'd0; i <= i + 10'd1; ba <= ba + 16'd1; lw_q <= last; st <= B_SEND;
                    end else if (!bus_req) begin
                        bus_req <= 1'b1;
                        bus_op <= (kind == K_FIFO) ? OP_PEEK : OP_RD;
                    end
                end
                B_SEND: if (tx_pay_ready) begin
                    bi <= bi + 2'd1;
                    if (last_b) st <= last_w ? B_FD : B_RD;
                end
                B_FD: begin // the frame has ended: tell the CSR block (batched seeds)
                    if (!is_new) st <= B_TAKE;
                    else begin
                        if (!bus_req && !bus_ack) begin bus_req <= 1'b1; bus_op <= OP_FD; end
                        if (bus_ack) st <= B_TAKE;
                    end
                end
                B_NAK: begin // a refused request: remembered if it was executed
                    if (is_new) last_nak <= nak_why;
                    answer(TSPU_LINK_NAK, 11'd1, K_NAK);
                end
                default: st <= B_IDLE; // B_TAKE
            endcase
        end
    end
endmodule
`default_nettype wire
