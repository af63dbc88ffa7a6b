`default_nettype none
// tspu_top - the unit behind a byte-stream port: frame parser, bridge, frame
// encoder, register block and tspu_core.  The "sim" device drives the byte
// port directly (no UART timing); board tops put a UART in front of it.
module tspu_top #(
    parameter N = 16,               // lanes, 2..64
    parameter P = 8,                // parallel multipliers, power of 2, 1..16
    parameter FIFO_AW = 9,          // sample FIFO of 2^FIFO_AW 16-bit words
    parameter CLOCK_HZ = 12000000,  // clock of the unit, reported in CLOCK_HZ
    parameter RX_TIMEOUT = 4096,    // idle clocks that abandon a half-received frame
    parameter UART_DIV_RESET = 0,   // UART_DIV register at reset (0: no UART)
    parameter DATA_MAX_OBS = 0,     // data-driven drift: observations (0: not built)
    parameter HAVE_UD = 1,          // underdamped integrator built (tspu_core)
    parameter HAVE_SCHEDULE = 1,    // lambda schedule, second coupling set and work built
    // reported: the steady figure N*ceil(N/P) + 3 of bench/results/rtl.json
    // (N=2: 5, N=8: 11, N=16: 35 at P=8); a core without slow steps has the
    // deep pipeline, 5 cycles more (N=8: 16, N=16: 40; docs/architecture.md)
    parameter CYCLES_PER_STEP = N * ((N + P - 1) / P) +
                                ((HAVE_UD == 0 && HAVE_SCHEDULE == 0 && DATA_MAX_OBS == 0) ? 8 : 3)
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       in_valid,
    input  wire [7:0] in_data,
    output wire       in_ready,
    output wire       out_valid,
    output wire [7:0] out_data,
    input  wire       out_ready,
    // for the simulation driver: the link is idle / the unit steps freely
    output wire       link_idle,
    output wire       run_free,
    output wire [15:0] uart_div,    // the UART_DIV register (board tops)
    // board status LEDs: the core is running, its FLAGS bits 4..0 (sticky until START)
    output wire       core_busy,
    output wire [4:0] core_flags
);
    wire        pay_we, frm_valid, frm_crc_ok, frm_take, rx_busy;
    wire [10:0] pay_addr, frm_len;
    wire [7:0]  pay_data, frm_cmd, frm_seq;
    tspu_frame_rx #(.TIMEOUT(RX_TIMEOUT)) u_rx (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_data(in_data), .in_ready(in_ready),
        .pay_we(pay_we), .pay_addr(pay_addr), .pay_data(pay_data),
        .frm_valid(frm_valid), .frm_crc_ok(frm_crc_ok), .frm_cmd(frm_cmd), .frm_seq(frm_seq),
        .frm_len(frm_len), .frm_take(frm_take), .busy(rx_busy));

    wire        tx_start, tx_pay_valid, tx_pay_last, tx_pay_ready, tx_busy;
    wire [7:0]  tx_typ, tx_seq, tx_pay_data;
    wire [10:0] tx_len;
    tspu_frame_tx u_tx (
        .clk(clk), .rst(rst), .start(tx_start), .typ(tx_typ), .seq(tx_seq), .len(tx_len),
        .pay_valid(tx_pay_valid), .pay_last(tx_pay_last), .pay_data(tx_pay_data), .pay_ready(tx_pay_ready),
        .out_valid(out_valid), .out_data(out_data), .out_ready(out_ready), .busy(tx_busy));

    wire [15:0] chk_addr, bus_addr;
    wire [1:0]  chk_acc;
    wire        bus_req, bus_ack, br_idle;
    wire [2:0]  bus_op;
    wire [31:0] bus_wdata, bus_rdata;
    wire [10:0] fifo_avail;
    tspu_bridge u_bridge (
        .clk(clk), .rst(rst), .pay_we(pay_we), .pay_addr(pay_addr), .pay_data(pay_data),
        .frm_valid(frm_valid), .frm_crc_ok(frm_crc_ok), .frm_cmd(frm_cmd), .frm_seq(frm_seq),
        .frm_len(frm_len), .frm_take(frm_take),
        .tx_start(tx_start), .tx_typ(tx_typ), .tx_seq(tx_seq), .tx_len(tx_len),
        .tx_pay_valid(tx_pay_valid), .tx_pay_last(tx_pay_last), .tx_pay_data(tx_pay_data), .tx_pay_ready(tx_pay_ready),
        .tx_busy(tx_busy), .chk_addr(chk_addr), .chk_acc(chk_acc),
        .bus_req(bus_req), .bus_op(bus_op), .bus_addr(bus_addr), .bus_wdata(bus_wdata),
        .bus_ack(bus_ack), .bus_rdata(bus_rdata), .fifo_avail(fifo_avail), .idle(br_idle));

    assign link_idle = br_idle && !rx_busy && !tx_busy;

    // ---- core -------------------------------------------------------------------
    wire        core_rst;
    wire [1:0]  cfg_integrator;
    wire [5:0]  cfg_drift_shift, cfg_ka_shift, cfg_ko_shift;
    wire [4:0]  cfg_noise_shift, cfg_n_segments;
    wire [15:0] cfg_ka, cfg_ko;
    wire [31:0] cfg_burnin, cfg_thin, cfg_n_samples, cfg_lambda_init;
    wire        cfg_sample_momentum;
    wire        seg_we, cpl_we, cpl_set, bias_we, bias_set, seed_we, seed_re, st_we, st_re, st_sel;
    wire [3:0]  seg_addr;
    wire [31:0] seg_steps, seg_dlambda, bias_data, seed_data, st_data, st_rdata;
    wire [5:0]  cpl_row, cpl_col, bias_lane, seed_lane, st_lane;
    wire [15:0] cpl_data;
    wire [1:0]  seed_word;
    wire [127:0] seed_rdata;
    wire        cmd_start, cmd_stop, hold, held, mom_re, busy, fifo_re;
    wire [11:0] mom_addr;
    wire [63:0] mom_rdata, work, steps;
    wire [31:0] mom_count, sat_count, fifo_dropped, samples, lambda_acc;
    wire [4:0]  flags;
    wire [2:0]  phase;
    wire [15:0] fifo_rdata;
    wire [FIFO_AW:0] fifo_level;
    wire        fifo_room;
    assign core_busy  = busy;
    assign core_flags = flags;

    // data-driven drift: DATA registers / windows to the core
    wire [1:0]  cfg_data_mode, dat_sel;
    wire [10:0] cfg_n_obs;
    wire [5:0]  cfg_data_sr, cfg_data_sg, cfg_data_dd;
    wire        dat_we, dat_re;
    wire [13:0] dat_addr;
    wire [15:0] dat_wdata, dat_rdata;
    tspu_csr #(.N(N), .P(P), .FIFO_AW(FIFO_AW), .CLOCK_HZ(CLOCK_HZ),
               .CYCLES_PER_STEP(CYCLES_PER_STEP), .UART_DIV_RESET(UART_DIV_RESET),
               .DATA_MAX_OBS(DATA_MAX_OBS), .HAVE_UD(HAVE_UD), .HAVE_SCHEDULE(HAVE_SCHEDULE)) u_csr (
        .cfg_data_mode(cfg_data_mode), .cfg_n_obs(cfg_n_obs), .cfg_data_sr(cfg_data_sr),
        .cfg_data_sg(cfg_data_sg), .cfg_data_dd(cfg_data_dd), .dat_we(dat_we), .dat_re(dat_re),
        .dat_sel(dat_sel), .dat_addr(dat_addr), .dat_wdata(dat_wdata), .dat_rdata(dat_rdata),
        .clk(clk), .rst(rst), .chk_addr(chk_addr), .chk_acc(chk_acc),
        .bus_req(bus_req), .bus_op(bus_op), .bus_addr(bus_addr), .bus_wdata(bus_wdata),
        .bus_ack(bus_ack), .bus_rdata(bus_rdata), .fifo_avail(fifo_avail), .run_free(run_free),
        .uart_div(uart_div), .core_rst(core_rst),
        .cfg_integrator(cfg_integrator), .cfg_drift_shift(cfg_drift_shift),
        .cfg_noise_shift(cfg_noise_shift), .cfg_ka(cfg_ka), .cfg_ka_shift(cfg_ka_shift),
        .cfg_ko(cfg_ko), .cfg_ko_shift(cfg_ko_shift), .cfg_burnin(cfg_burnin),
        .cfg_thin(cfg_thin), .cfg_n_samples(cfg_n_samples), .cfg_n_segments(cfg_n_segments),
        .cfg_lambda_init(cfg_lambda_init), .cfg_sample_momentum(cfg_sample_momentum),
        .seg_we(seg_we), .seg_addr(seg_addr), .seg_steps(seg_steps), .seg_dlambda(seg_dlambda),
        .cpl_we(cpl_we), .cpl_set(cpl_set), .cpl_row(cpl_row), .cpl_col(cpl_col), .cpl_data(cpl_data),
        .bias_we(bias_we), .bias_set(bias_set), .bias_lane(bias_lane), .bias_data(bias_data),
        .seed_we(seed_we), .seed_re(seed_re), .seed_lane(seed_lane), .seed_word(seed_word),
        .seed_data(seed_data), .seed_rdata(seed_rdata),
        .st_we(st_we), .st_re(st_re), .st_sel(st_sel), .st_lane(st_lane), .st_data(st_data),
        .st_rdata(st_rdata), .cmd_start(cmd_start), .cmd_stop(cmd_stop), .hold(hold), .held(held),
        .mom_re(mom_re), .mom_addr(mom_addr), .mom_rdata(mom_rdata), .mom_count(mom_count),
        .work(work), .flags(flags), .sat_count(sat_count), .fifo_dropped(fifo_dropped),
        .steps(steps), .samples(samples), .lambda_acc(lambda_acc), .phase(phase), .busy(busy),
        .fifo_re(fifo_re), .fifo_rdata(fifo_rdata), .fifo_level(fifo_level), .fifo_room(fifo_room));

    /* verilator lint_off UNUSEDSIGNAL */ // lockstep observation ports: not used here
    wire        obs_valid, obs_step_done;
    wire [5:0]  obs_lane;
    wire [31:0] obs_x, obs_p;
    /* verilator lint_on UNUSEDSIGNAL */
    tspu_core #(.N(N), .P(P), .FIFO_AW(FIFO_AW), .DATA_MAX_OBS(DATA_MAX_OBS), .HAVE_UD(HAVE_UD),
                .HAVE_SCHEDULE(HAVE_SCHEDULE)) u_core (
        .clk(clk), .rst(core_rst),
        .cfg_data_mode(cfg_data_mode), .cfg_n_obs(cfg_n_obs), .cfg_data_sr(cfg_data_sr),
        .cfg_data_sg(cfg_data_sg), .cfg_data_dd(cfg_data_dd), .dat_we(dat_we), .dat_re(dat_re),
        .dat_sel(dat_sel), .dat_addr(dat_addr), .dat_wdata(dat_wdata), .dat_rdata(dat_rdata),
        .cfg_integrator(cfg_integrator), .cfg_drift_shift(cfg_drift_shift),
        .cfg_noise_shift(cfg_noise_shift), .cfg_ka(cfg_ka), .cfg_ka_shift(cfg_ka_shift),
        .cfg_ko(cfg_ko), .cfg_ko_shift(cfg_ko_shift), .cfg_burnin(cfg_burnin),
        .cfg_thin(cfg_thin), .cfg_n_samples(cfg_n_samples), .cfg_n_segments(cfg_n_segments),
        .cfg_lambda_init(cfg_lambda_init), .cfg_sample_momentum(cfg_sample_momentum),
        .seg_we(seg_we), .seg_addr(seg_addr), .seg_steps(seg_steps), .seg_dlambda(seg_dlambda),
        .cpl_we(cpl_we), .cpl_set(cpl_set), .cpl_row(cpl_row), .cpl_col(cpl_col), .cpl_data(cpl_data),
        .bias_we(bias_we), .bias_set(bias_set), .bias_lane(bias_lane), .bias_data(bias_data),
        .seed_we(seed_we), .seed_re(seed_re), .seed_lane(seed_lane), .seed_word(seed_word),
        .seed_data(seed_data), .seed_rdata(seed_rdata),
        .st_we(st_we), .st_re(st_re), .st_sel(st_sel), .st_lane(st_lane), .st_data(st_data),
        .st_rdata(st_rdata), .cmd_start(cmd_start), .cmd_stop(cmd_stop), .hold(hold), .held(held),
        .mom_re(mom_re), .mom_addr(mom_addr), .mom_rdata(mom_rdata), .mom_count(mom_count),
        .work(work), .flags(flags), .sat_count(sat_count), .fifo_dropped(fifo_dropped),
        .steps(steps), .samples(samples), .lambda_acc(lambda_acc), .phase(phase), .busy(busy),
        .fifo_re(fifo_re), .fifo_rdata(fifo_rdata), .fifo_level(fifo_level),
        .fifo_room_now(fifo_room), .obs_valid(obs_valid), .obs_lane(obs_lane), .obs_x(obs_x), .obs_p(obs_p),
        .obs_step_done(obs_step_done));
endmodule
`default_nettype wire
