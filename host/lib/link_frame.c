/* link_frame.c - CRC-16/CCITT-FALSE, frame encoder and the byte-at-a-time
 * frame parser shared by both ends of the link (docs/protocol.md). */
#include <string.h>

#include "tspu_link.h"

/* table-driven, MSB first; the table is built once from the polynomial */
static uint16_t crc_tab[256];
static int crc_tab_ready;

static void crc_init_tab(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)(i << 8);
        for (int k = 0; k < 8; k++)
            c = (uint16_t)((c & 0x8000u) ? ((unsigned)c << 1) ^ TSPU_LINK_CRC_POLY : (unsigned)c << 1);
        crc_tab[i] = c;
    }
    crc_tab_ready = 1;
}

uint16_t tspu_crc16(uint16_t crc, const uint8_t *p, size_t n)
{
    if (!crc_tab_ready)
        crc_init_tab(); /* idempotent: a race only rebuilds the same table */
    for (size_t i = 0; i < n; i++)
        crc = (uint16_t)((crc << 8) ^ crc_tab[((crc >> 8) ^ p[i]) & 0xFFu]);
    return crc;
}

size_t tspu_frame_encode(uint8_t *out, uint8_t cmd, uint8_t seq,
                         const uint8_t *payload, size_t len)
{
    if (len > TSPU_LINK_MAX_PAYLOAD)
        return 0;
    out[0] = TSPU_LINK_SYNC;
    out[1] = cmd;
    out[2] = seq;
    tspu_put16(out + 3, (uint32_t)len);
    if (len)
        memcpy(out + 5, payload, len);
    uint16_t c = tspu_crc16(TSPU_LINK_CRC_INIT, out + 1, 4 + len);
    out[5 + len] = (uint8_t)(c >> 8);
    out[6 + len] = (uint8_t)c;
    return len + TSPU_FRAME_OVERHEAD;
}

enum { S_HUNT, S_HDR, S_PAY, S_CRC1, S_CRC2 };

void tspu_rx_init(tspu_rx *rx, tspu_hdr_check check, void *ctx)
{
    memset(rx, 0, sizeof *rx);
    rx->check = check;
    rx->check_ctx = ctx;
    rx->check_crc = 1;
    rx->state = S_HUNT;
}

void tspu_rx_reset(tspu_rx *rx) { rx->state = S_HUNT; }

tspu_rx_event tspu_rx_byte(tspu_rx *rx, uint8_t b)
{
    switch (rx->state) {
    case S_HUNT:
        if (b == TSPU_LINK_SYNC) {
            rx->state = S_HDR;
            rx->hn = 0;
        }
        return TSPU_RX_NONE;
    case S_HDR:
        rx->hdr[rx->hn++] = b;
        if (rx->hn < 4)
            return TSPU_RX_NONE;
        {
            uint16_t len = (uint16_t)tspu_get16(rx->hdr + 2);
            if (len > TSPU_LINK_MAX_PAYLOAD ||
                (rx->check && !rx->check(rx->check_ctx, rx->hdr[0], len))) {
                /* not a real header: the sync byte was data.  Hunt again
                 * among the four header bytes, then carry on. */
                uint8_t h[4];
                memcpy(h, rx->hdr, 4);
                rx->n_bad_hdr++;
                rx->state = S_HUNT;
                for (int i = 0; i < 4; i++)
                    (void)tspu_rx_byte(rx, h[i]); /* cannot complete a frame */
                return TSPU_RX_NONE;
            }
            rx->cmd = rx->hdr[0];
            rx->seq = rx->hdr[1];
            rx->len = len;
            rx->got = 0;
            rx->state = len ? S_PAY : S_CRC1;
        }
        return TSPU_RX_NONE;
    case S_PAY:
        rx->payload[rx->got++] = b;
        if (rx->got == rx->len)
            rx->state = S_CRC1;
        return TSPU_RX_NONE;
    case S_CRC1:
        rx->crc_rx = (uint16_t)(b << 8);
        rx->state = S_CRC2;
        return TSPU_RX_NONE;
    default: { /* S_CRC2 */
        rx->crc_rx |= b;
        rx->state = S_HUNT;
        uint16_t c = tspu_crc16(TSPU_LINK_CRC_INIT, rx->hdr, 4);
        c = tspu_crc16(c, rx->payload, rx->len);
        if (c != rx->crc_rx && rx->check_crc) {
            rx->n_bad_crc++;
            return TSPU_RX_BAD_CRC;
        }
        rx->n_frames++;
        return TSPU_RX_FRAME;
    }
    }
}
