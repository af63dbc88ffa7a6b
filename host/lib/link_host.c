/* link_host.c - host end of the link: one request, one matching answer;
 * after a timeout, a NAK(CRC) or a broken answer the request is sent again
 * with the SAME sequence number, which the device recognises (it answers a
 * retried write without doing it twice and replays a FIFO read exactly). */
#include <string.h>

#include "tspu.h"
#include "tspu_link.h"

/* answers the host accepts: an ACK of any command or a NAK with one reason */
static int host_hdr_ok(void *ctx, uint8_t cmd, uint16_t len)
{
    (void)ctx;
    if (cmd == TSPU_LINK_NAK)
        return len == 1;
    if (!(cmd & TSPU_LINK_ACK_BIT))
        return 0;
    switch (cmd & (uint8_t)~TSPU_LINK_ACK_BIT) {
    case TSPU_CMD_PING:
    case TSPU_CMD_WRITE:
    case TSPU_CMD_LINK_RESET:
        return len == 0;
    case TSPU_CMD_READ:
        return len >= 4 && len <= 4 * TSPU_LINK_MAX_BURST_WORDS && len % 4 == 0;
    case TSPU_CMD_READ_FIFO:
        return len <= 2 * TSPU_LINK_MAX_FIFO_ELEMS && len % 2 == 0;
    default:
        return 0;
    }
}

void tspu_link_init(tspu_link *l, tspu_transport tr)
{
    memset(l, 0, sizeof *l);
    l->tr = tr;
    l->seq = 1;
    l->timeout_ms = 200;
    l->max_tries = 100; /* 1 KiB answers at 1e-3 byte errors fail 65% of the time */
    tspu_rx_init(&l->rx, host_hdr_ok, NULL);
}

/* One transaction.  On success the answer payload is in l->rx.payload
 * (l->rx.len bytes) and is exactly expect_len bytes when expect_len >= 0. */
static int xfer(tspu_link *l, uint8_t cmd, const uint8_t *req, size_t reqlen, long expect_len)
{
    uint8_t frame[TSPU_FRAME_MAX], buf[512];
    const uint8_t seq = l->seq;
    size_t flen = tspu_frame_encode(frame, cmd, seq, req, reqlen);
    if (!flen)
        return TSPU_E_INVAL;
    l->st.transactions++;
    l->last_nak = 0;
    for (int attempt = 0; attempt < l->max_tries; attempt++) {
        if (attempt)
            l->st.retries++;
        tspu_rx_reset(&l->rx);
        int rc = l->tr.write(l->tr.ctx, frame, flen);
        if (rc < 0)
            return rc;
        int retry = 0;
        while (!retry) {
            int n = l->tr.read(l->tr.ctx, buf, sizeof buf, l->timeout_ms);
            if (n < 0)
                return n;
            if (n == 0) { /* nothing (more) is coming: resend */
                l->st.timeouts++;
                break;
            }
            for (int i = 0; i < n && !retry; i++) {
                tspu_rx_event ev = tspu_rx_byte(&l->rx, buf[i]);
                if (ev == TSPU_RX_BAD_CRC) {
                    /* a whole answer arrived broken and nothing follows it:
                     * resend now instead of waiting for the timeout */
                    l->st.bad_frames++;
                    retry = 1;
                } else if (ev == TSPU_RX_FRAME) {
                    const tspu_rx *rx = &l->rx;
                    if (rx->cmd == TSPU_LINK_NAK) {
                        l->st.naks++;
                        if (rx->payload[0] == TSPU_NAK_CRC) {
                            retry = 1; /* our request was damaged on the way */
                        } else if (rx->seq == seq) {
                            /* refused: the transaction is over, and the next
                             * request must not be taken for a retry of it */
                            l->seq = (uint8_t)(seq + 1);
                            l->last_nak = rx->payload[0];
                            return rx->payload[0] == TSPU_NAK_ACCESS ? TSPU_E_INVAL : TSPU_E_PROTOCOL;
                        } else {
                            l->st.stale++;
                        }
                    } else if (rx->seq == seq && rx->cmd == (cmd | TSPU_LINK_ACK_BIT) &&
                               (expect_len < 0 || rx->len == expect_len)) {
                        /* bytes after the answer belong to nothing: with one
                         * request in flight the device sends nothing else */
                        l->seq = (uint8_t)(seq + 1);
                        return 0;
                    } else {
                        l->st.stale++; /* an answer to an earlier attempt */
                    }
                }
            }
        }
    }
    /* Given up.  The device may have done the request.  A write must not be
     * taken for a retry of it, so the next request gets a new number -- except
     * after READ_FIFO: the next READ_FIFO keeps the number, so it replays the
     * words the device may have set aside for us instead of losing them. */
    if (cmd != TSPU_CMD_READ_FIFO)
        l->seq = (uint8_t)(seq + 1);
    return TSPU_E_TIMEOUT;
}

int tspu_link_reset(tspu_link *l) { return xfer(l, TSPU_CMD_LINK_RESET, NULL, 0, 0); }
int tspu_link_ping(tspu_link *l) { return xfer(l, TSPU_CMD_PING, NULL, 0, 0); }

int tspu_link_read(tspu_link *l, uint16_t addr, uint32_t *v, size_t count)
{
    if (count == 0 || count > TSPU_LINK_MAX_BURST_WORDS)
        return TSPU_E_INVAL;
    uint8_t req[4];
    tspu_put16(req, addr);
    tspu_put16(req + 2, (uint32_t)count);
    int rc = xfer(l, TSPU_CMD_READ, req, 4, (long)(4 * count));
    if (rc)
        return rc;
    for (size_t i = 0; i < count; i++)
        v[i] = tspu_get32(l->rx.payload + 4 * i);
    return 0;
}

int tspu_link_write(tspu_link *l, uint16_t addr, const uint32_t *v, size_t count)
{
    if (count == 0 || count > TSPU_LINK_MAX_BURST_WORDS)
        return TSPU_E_INVAL;
    uint8_t req[2 + 4 * TSPU_LINK_MAX_BURST_WORDS];
    tspu_put16(req, addr);
    for (size_t i = 0; i < count; i++)
        tspu_put32(req + 2 + 4 * i, v[i]);
    return xfer(l, TSPU_CMD_WRITE, req, 2 + 4 * count, 0);
}

int tspu_link_read_fifo(tspu_link *l, uint16_t addr, int16_t *dst, size_t max, size_t *got)
{
    *got = 0;
    if (max == 0 || max > TSPU_LINK_MAX_FIFO_ELEMS)
        return TSPU_E_INVAL;
    uint8_t req[4];
    tspu_put16(req, addr);
    tspu_put16(req + 2, (uint32_t)max);
    int rc = xfer(l, TSPU_CMD_READ_FIFO, req, 4, -1);
    if (rc)
        return rc;
    size_t k = l->rx.len / 2;
    if (k > max)
        return TSPU_E_PROTOCOL;
    for (size_t i = 0; i < k; i++)
        dst[i] = (int16_t)tspu_get16(l->rx.payload + 2 * i);
    *got = k;
    return 0;
}
