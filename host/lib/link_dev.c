/* link_dev.c - device end of the link: the executable specification of the
 * Verilog bridge (docs/protocol.md, "Device").  It parses requests, NAKs a
 * frame with a bad CRC, executes each request once, answers a retried
 * request (same sequence number and command as the last one) without
 * executing it again, and reads the FIFO by peek/commit so that the answer
 * to a retried READ_FIFO is the same words, not the next ones. */
#include <stdlib.h>
#include <string.h>

#include "tspu_link.h"

/* Requests the device accepts.  Anything else is taken for line noise and
 * dropped at the header, so the parser resynchronises at once. */
static int dev_hdr_ok(void *ctx, uint8_t cmd, uint16_t len)
{
    (void)ctx;
    switch (cmd) {
    case TSPU_CMD_PING:
    case TSPU_CMD_LINK_RESET:
        return len == 0;
    case TSPU_CMD_READ:
    case TSPU_CMD_READ_FIFO:
        return len == 4;
    case TSPU_CMD_WRITE:
        return len >= 6 && (len - 2) % 4 == 0;
    default:
        return 0;
    }
}

int tspu_ep_init(tspu_endpoint *ep, tspu_regdev dev)
{
    memset(ep, 0, sizeof *ep);
    ep->dev = dev;
    ep->out_cap = 4 * TSPU_FRAME_MAX;
    ep->out = malloc(ep->out_cap);
    if (!ep->out)
        return -1;
    tspu_rx_init(&ep->rx, dev_hdr_ok, NULL);
    return 0;
}

void tspu_ep_free(tspu_endpoint *ep)
{
    free(ep->out);
    ep->out = NULL;
}

static void emit(tspu_endpoint *ep, uint8_t type, uint8_t seq, const uint8_t *p, size_t len)
{
    if (ep->out_cap - ep->out_len < TSPU_FRAME_MAX) {
        size_t cap = ep->out_cap * 2;
        uint8_t *o = realloc(ep->out, cap);
        if (!o)
            return; /* the host times out and retries */
        ep->out = o;
        ep->out_cap = cap;
    }
    ep->out_len += tspu_frame_encode(ep->out + ep->out_len, type, seq, p, len);
}

static void nak(tspu_endpoint *ep, uint8_t seq, uint8_t why)
{
    emit(ep, TSPU_LINK_NAK, seq, &why, 1);
    if (why == TSPU_NAK_CRC)
        ep->st.nak_crc++;
    else
        ep->st.nak_other++;
}

static void commit_pending(tspu_endpoint *ep)
{
    if (ep->pend && ep->pend_n && ep->dev.commit)
        ep->dev.commit(ep->dev.ctx, ep->pend_addr, ep->pend_n);
    ep->pend = 0;
    ep->pend_n = 0;
}

/* READ (also re-run for a retry: reads have no side effects) */
static uint8_t do_read(tspu_endpoint *ep, const tspu_rx *rx)
{
    const uint16_t addr = (uint16_t)tspu_get16(rx->payload);
    const size_t cnt = tspu_get16(rx->payload + 2);
    if (cnt == 0 || cnt > TSPU_LINK_MAX_BURST_WORDS || addr + cnt > (1u << TSPU_ADDR_BITS))
        return TSPU_NAK_ADDR;
    int why = ep->dev.check(ep->dev.ctx, addr, cnt, 0);
    if (why)
        return (uint8_t)why;
    uint8_t p[4 * TSPU_LINK_MAX_BURST_WORDS];
    for (size_t i = 0; i < cnt; i++)
        tspu_put32(p + 4 * i, ep->dev.read(ep->dev.ctx, (uint16_t)(addr + i)));
    emit(ep, TSPU_CMD_READ | TSPU_LINK_ACK_BIT, rx->seq, p, 4 * cnt);
    return 0;
}

/* WRITE: all addresses are checked before any is written */
static uint8_t do_write(tspu_endpoint *ep, const tspu_rx *rx)
{
    const uint16_t addr = (uint16_t)tspu_get16(rx->payload);
    const size_t cnt = (rx->len - 2u) / 4u;
    if (cnt > TSPU_LINK_MAX_BURST_WORDS || addr + cnt > (1u << TSPU_ADDR_BITS))
        return TSPU_NAK_ADDR;
    int why = ep->dev.check(ep->dev.ctx, addr, cnt, 1);
    if (why)
        return (uint8_t)why;
    for (size_t i = 0; i < cnt; i++)
        ep->dev.write(ep->dev.ctx, (uint16_t)(addr + i), tspu_get32(rx->payload + 2 + 4 * i));
    emit(ep, TSPU_CMD_WRITE | TSPU_LINK_ACK_BIT, rx->seq, NULL, 0);
    return 0;
}

/* READ_FIFO: peek n <= max elements; they stay in the FIFO until the next
 * new request commits them.  replay: send exactly the pending ones again. */
static uint8_t do_read_fifo(tspu_endpoint *ep, const tspu_rx *rx, int replay)
{
    const uint16_t addr = (uint16_t)tspu_get16(rx->payload);
    size_t max = tspu_get16(rx->payload + 2);
    if (!ep->dev.is_stream || !ep->dev.is_stream(ep->dev.ctx, addr))
        return TSPU_NAK_ADDR;
    if (max > TSPU_LINK_MAX_FIFO_ELEMS)
        max = TSPU_LINK_MAX_FIFO_ELEMS;
    int16_t v[TSPU_LINK_MAX_FIFO_ELEMS];
    size_t n;
    if (replay) {
        n = ep->dev.peek(ep->dev.ctx, addr, v, ep->pend_n);
    } else {
        n = ep->dev.peek(ep->dev.ctx, addr, v, max);
        ep->pend = 1;
        ep->pend_addr = addr;
        ep->pend_n = n;
    }
    uint8_t p[2 * TSPU_LINK_MAX_FIFO_ELEMS];
    for (size_t i = 0; i < n; i++)
        tspu_put16(p + 2 * i, (uint16_t)v[i]);
    emit(ep, TSPU_CMD_READ_FIFO | TSPU_LINK_ACK_BIT, rx->seq, p, 2 * n);
    return 0;
}

static void execute(tspu_endpoint *ep)
{
    const tspu_rx *rx = &ep->rx;
    ep->st.frames++;
    if (rx->cmd == TSPU_CMD_LINK_RESET) {
        commit_pending(ep);
        ep->have_last = 0;
        ep->st.resets++;
        emit(ep, TSPU_CMD_LINK_RESET | TSPU_LINK_ACK_BIT, rx->seq, NULL, 0);
        return;
    }
    const int dup = ep->have_last && rx->seq == ep->last_seq && rx->cmd == ep->last_cmd;
    if (dup) {
        ep->st.duplicates++;
        if (ep->last_nak)
            nak(ep, rx->seq, ep->last_nak);
        else if (rx->cmd == TSPU_CMD_WRITE || rx->cmd == TSPU_CMD_PING)
            emit(ep, rx->cmd | TSPU_LINK_ACK_BIT, rx->seq, NULL, 0); /* done already */
        else if (rx->cmd == TSPU_CMD_READ)
            (void)do_read(ep, rx);
        else
            (void)do_read_fifo(ep, rx, 1);
        return;
    }
    commit_pending(ep); /* the host has the previous answer */
    uint8_t why = 0;
    switch (rx->cmd) {
    case TSPU_CMD_PING:
        emit(ep, TSPU_CMD_PING | TSPU_LINK_ACK_BIT, rx->seq, NULL, 0);
        break;
    case TSPU_CMD_READ:
        why = do_read(ep, rx);
        break;
    case TSPU_CMD_WRITE:
        why = do_write(ep, rx);
        break;
    default: /* TSPU_CMD_READ_FIFO: the header check admits nothing else */
        why = do_read_fifo(ep, rx, 0);
        break;
    }
    if (why)
        nak(ep, rx->seq, why);
    ep->have_last = 1;
    ep->last_seq = rx->seq;
    ep->last_cmd = rx->cmd;
    ep->last_nak = why;
    ep->st.executed++;
    if (ep->dev.frame_done)
        ep->dev.frame_done(ep->dev.ctx);
}

void tspu_ep_rx(tspu_endpoint *ep, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tspu_rx_event ev = tspu_rx_byte(&ep->rx, buf[i]);
        if (ev == TSPU_RX_FRAME)
            execute(ep);
        else if (ev == TSPU_RX_BAD_CRC)
            nak(ep, ep->rx.seq, TSPU_NAK_CRC); /* seq as received, maybe damaged */
    }
}

void tspu_ep_idle(tspu_endpoint *ep)
{
    tspu_rx_reset(&ep->rx);
    /* time passes for the device while the line is quiet */
    if (ep->dev.frame_done)
        ep->dev.frame_done(ep->dev.ctx);
}

size_t tspu_ep_tx(tspu_endpoint *ep, uint8_t *buf, size_t max)
{
    size_t n = ep->out_len < max ? ep->out_len : max;
    memcpy(buf, ep->out, n);
    memmove(ep->out, ep->out + n, ep->out_len - n);
    ep->out_len -= n;
    return n;
}
