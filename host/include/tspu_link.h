/*
 * tspu_link.h - the framed, CRC-checked, sequence-numbered link that carries
 * the tspu bus (docs/protocol.md), both ends:
 *   - frame codec: CRC-16/CCITT-FALSE, encoder, byte-at-a-time parser;
 *   - host end: one transaction = request + matching response, with timeout,
 *     resynchronisation and retry under the SAME sequence number;
 *   - device end: parser, NAK on a bad frame, de-duplication of a retried
 *     request by sequence number, and peek/commit FIFO reads so a retried
 *     READ_FIFO replays exactly the words of the lost answer.
 * The device end is the executable specification of the Verilog bridge.
 * Constants (sync byte, commands, NAK reasons, limits) come from the
 * generated tspu_regs.h.
 */
#ifndef TSPU_LINK_H
#define TSPU_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "tspu_regs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- codec -------------------------------------------------------------- */
/* frame: SYNC CMD SEQ LEN_LO LEN_HI PAYLOAD[LEN] CRC_HI CRC_LO,
 * CRC-16/CCITT-FALSE over CMD..PAYLOAD */
#define TSPU_FRAME_OVERHEAD 7
#define TSPU_FRAME_MAX (TSPU_FRAME_OVERHEAD + TSPU_LINK_MAX_PAYLOAD)

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0);
 * check value for "123456789" is 0x29B1.  Continue a CRC by passing the
 * previous result as crc, start with TSPU_LINK_CRC_INIT. */
uint16_t tspu_crc16(uint16_t crc, const uint8_t *p, size_t n);

/* Encode a frame into out (room for TSPU_FRAME_MAX); returns its length,
 * 0 if len > TSPU_LINK_MAX_PAYLOAD. */
size_t tspu_frame_encode(uint8_t *out, uint8_t cmd, uint8_t seq,
                         const uint8_t *payload, size_t len);

typedef enum {
    TSPU_RX_NONE = 0,  /* byte consumed, no frame yet            */
    TSPU_RX_FRAME,     /* a frame with a good CRC is in the parser */
    TSPU_RX_BAD_CRC,   /* a whole frame arrived with a bad CRC     */
} tspu_rx_event;

/* Header check: returns nonzero if (cmd, len) can start a frame.  A header
 * that cannot is dropped at once and the parser hunts for the next sync
 * byte among the bytes after it (fast resynchronisation). */
typedef int (*tspu_hdr_check)(void *ctx, uint8_t cmd, uint16_t len);

typedef struct {
    int state;
    uint8_t hdr[4]; /* cmd, seq, len lo, len hi */
    unsigned hn;
    size_t got;
    uint16_t crc_rx;
    tspu_hdr_check check;
    void *check_ctx;
    int check_crc;        /* 1 normally; 0 only for the test that shows why */
    /* the last frame */
    uint8_t cmd, seq;
    uint16_t len;
    uint8_t payload[TSPU_LINK_MAX_PAYLOAD];
    /* counters */
    uint64_t n_frames, n_bad_crc, n_bad_hdr;
} tspu_rx;

void tspu_rx_init(tspu_rx *rx, tspu_hdr_check check, void *ctx);
/* drop a partial frame and hunt for sync (after an idle timeout) */
void tspu_rx_reset(tspu_rx *rx);
tspu_rx_event tspu_rx_byte(tspu_rx *rx, uint8_t b);

/* little-endian helpers for payloads */
static inline void tspu_put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void tspu_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t tspu_get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static inline uint32_t tspu_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- byte transport (the backend below the link) ------------------------ */
typedef struct tspu_transport {
    /* send all n bytes; 0 or a negative TSPU_E_* code */
    int (*write)(void *ctx, const uint8_t *buf, size_t n);
    /* wait up to timeout_ms for bytes; returns how many (0: timed out) or a
     * negative TSPU_E_* code */
    int (*read)(void *ctx, uint8_t *buf, size_t max, int timeout_ms);
    void (*close)(void *ctx);
    void *ctx;
} tspu_transport;

/* Transports in this library (return 0 or a negative TSPU_E_* code with a
 * one-line reason in err):
 *   model: the link endpoint in front of the model device, in-process; a
 *          read that finds no answer is an idle line (the endpoint drops a
 *          partial frame and lets model time pass) and returns 0 at once.
 *   serial: termios, 8N1 raw, any standard baud rate, exclusive (flock). */
int tspu_transport_serial(tspu_transport *tr, const char *path, unsigned baud,
                          char *err, size_t errlen);
/*   ftdi: libftdi1, FT2232H 0403:6010 interface B (the iCEBreaker's UART),
 *          the first board or the one with that USB serial (NULL: any),
 *          latency timer 1 ms, 8N1, baud up to 3000000 (host/lib/ftdi.c);
 *          TSPU_E_UNSUPPORTED in a build without libftdi1. */
int tspu_transport_ftdi(tspu_transport *tr, const char *serial, unsigned baud,
                        char *err, size_t errlen);
/* the ftdi lines of tspu_list_devices: the device type and each attached
 * FT2232H (snprintf-style return) */
int tspu_ftdi_list(char *buf, size_t len);

/* ---- host end ----------------------------------------------------------- */
typedef struct {
    uint64_t transactions, retries, timeouts, naks, bad_frames, stale;
} tspu_link_stats;

typedef struct {
    tspu_transport tr;
    uint8_t seq;
    int timeout_ms;   /* per attempt                                   */
    int max_tries;    /* attempts per transaction before TSPU_E_TIMEOUT */
    tspu_rx rx;
    tspu_link_stats st;
    int last_nak;     /* reason of the last NAK that ended a transaction */
} tspu_link;

void tspu_link_init(tspu_link *l, tspu_transport tr);
/* LINK_RESET: the device forgets its last sequence number.  Sent once after
 * opening, so a new host never collides with a stale sequence number. */
int tspu_link_reset(tspu_link *l);
int tspu_link_ping(tspu_link *l);
/* bursts of at most TSPU_LINK_MAX_BURST_WORDS words */
int tspu_link_read(tspu_link *l, uint16_t addr, uint32_t *v, size_t count);
int tspu_link_write(tspu_link *l, uint16_t addr, const uint32_t *v, size_t count);
/* fixed-address read of a 16-bit stream port: up to max (<= MAX_FIFO_ELEMS)
 * elements, *got of them delivered exactly once */
int tspu_link_read_fifo(tspu_link *l, uint16_t addr, int16_t *dst, size_t max, size_t *got);

/* ---- device end --------------------------------------------------------- */
/* Register semantics behind the endpoint.  Return 0 or a TSPU_NAK_* reason. */
typedef struct {
    /* may the whole burst [addr, addr+count) be read / written? */
    int (*check)(void *ctx, uint16_t addr, size_t count, int write);
    uint32_t (*read)(void *ctx, uint16_t addr);
    void (*write)(void *ctx, uint16_t addr, uint32_t v);
    /* stream port: copy up to max elements from the committed head without
     * removing them; commit removes n delivered elements */
    int (*is_stream)(void *ctx, uint16_t addr);
    size_t (*peek)(void *ctx, uint16_t addr, int16_t *dst, size_t max);
    void (*commit)(void *ctx, uint16_t addr, size_t n);
    /* after every executed frame: apply batched writes, let time pass */
    void (*frame_done)(void *ctx);
    void *ctx;
} tspu_regdev;

typedef struct {
    uint64_t frames, executed, duplicates, nak_crc, nak_other, resets;
} tspu_ep_stats;

typedef struct {
    tspu_regdev dev;
    tspu_rx rx;
    /* de-duplication: the last executed request */
    int have_last;
    uint8_t last_seq, last_cmd, last_nak;
    /* FIFO read not yet committed (committed by the next new request) */
    int pend;
    uint16_t pend_addr;
    size_t pend_n;
    /* output bytes, collected until the transport takes them */
    uint8_t *out;
    size_t out_len, out_cap;
    tspu_ep_stats st;
} tspu_endpoint;

int tspu_ep_init(tspu_endpoint *ep, tspu_regdev dev);
void tspu_ep_free(tspu_endpoint *ep);
/* feed received bytes; responses are appended to ep->out */
void tspu_ep_rx(tspu_endpoint *ep, const uint8_t *buf, size_t n);
/* the line was idle longer than the inter-byte timeout: drop a partial frame */
void tspu_ep_idle(tspu_endpoint *ep);
/* take up to max response bytes */
size_t tspu_ep_tx(tspu_endpoint *ep, uint8_t *buf, size_t max);

#ifdef __cplusplus
}
#endif
#endif
