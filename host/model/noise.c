/* noise.c - LFSR113 seeding, jump-ahead and the exact pmf of the shaped noise. */
#include "tspu_noise.h"

#include <string.h>

int tspu_lfsr113_valid(const uint32_t z[4])
{
    return z[0] >= 2 && z[1] >= 8 && z[2] >= 16 && z[3] >= 128;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void tspu_lfsr113_from_seed(uint64_t seed, uint32_t z[4])
{
    static const uint32_t min[4] = {2, 8, 16, 128};
    uint64_t s = seed;
    for (int k = 0; k < 4; k++) {
        z[k] = (uint32_t)(splitmix64(&s) >> 32);
        if (z[k] < min[k])
            z[k] += min[k];
    }
}

/* A component's one-call map is linear over GF(2) on its 32-bit word; a
 * matrix is stored as 32 columns: col[c] = image of bit c. */
typedef struct {
    uint32_t col[32];
} gf2mat;

static uint32_t gf2_apply(const gf2mat *m, uint32_t v)
{
    uint32_t r = 0;
    for (int c = 0; c < 32; c++)
        if (v >> c & 1u)
            r ^= m->col[c];
    return r;
}

static gf2mat gf2_mul(const gf2mat *a, const gf2mat *b) /* a*b: b first */
{
    gf2mat r;
    for (int c = 0; c < 32; c++)
        r.col[c] = gf2_apply(a, b->col[c]);
    return r;
}

static uint32_t component_step(int k, uint32_t z)
{
    uint32_t w[4] = {0, 0, 0, 0};
    w[k] = z;
    (void)tspu_lfsr113_next(w);
    return w[k];
}

static gf2mat component_matrix(int k)
{
    gf2mat m;
    for (int c = 0; c < 32; c++)
        m.col[c] = component_step(k, 1u << c);
    return m;
}

void tspu_lfsr113_jump_pow2(uint32_t z[4], unsigned log2_steps)
{
    for (int k = 0; k < 4; k++) {
        gf2mat m = component_matrix(k);
        for (unsigned i = 0; i < log2_steps; i++)
            m = gf2_mul(&m, &m);
        z[k] = gf2_apply(&m, z[k]);
    }
}

void tspu_lfsr113_jump(uint32_t z[4], const uint64_t calls[4])
{
    for (int k = 0; k < 4; k++) {
        gf2mat p = component_matrix(k); /* T^(2^bit) */
        for (uint64_t e = calls[k]; e; e >>= 1) {
            if (e & 1u)
                z[k] = gf2_apply(&p, z[k]);
            if (e >> 1)
                p = gf2_mul(&p, &p);
        }
    }
}

const uint64_t tspu_lane_stride[4] = {TSPU_LANE_STRIDE_0, TSPU_LANE_STRIDE_1,
                                      TSPU_LANE_STRIDE_2, TSPU_LANE_STRIDE_3};

void tspu_noise_seed_lanes(uint64_t seed, unsigned n, uint32_t *z)
{
    uint32_t cur[4];
    tspu_lfsr113_from_seed(seed, cur);
    for (unsigned i = 0; i < n; i++) {
        memcpy(z + 4 * i, cur, sizeof cur);
        tspu_lfsr113_jump(cur, tspu_lane_stride);
    }
}

void tspu_noise_pmf(double p[TSPU_NOISE_SUPPORT])
{
    /* 8-fold convolution of the uniform byte distribution, exactly in
     * integer counts (each count < 2^64), then normalised. */
    static uint64_t cnt[TSPU_NOISE_SUPPORT], nxt[TSPU_NOISE_SUPPORT];
    memset(cnt, 0, sizeof cnt);
    cnt[0] = 1;
    unsigned width = 1;
    for (int b = 0; b < 8; b++) {
        memset(nxt, 0, sizeof nxt);
        for (unsigned i = 0; i < width; i++)
            for (unsigned v = 0; v < 256; v++)
                nxt[i + v] += cnt[i];
        width += 255;
        memcpy(cnt, nxt, sizeof cnt);
    }
    for (unsigned i = 0; i < TSPU_NOISE_SUPPORT; i++)
        p[i] = (double)cnt[i] * 0x1p-64;
}
