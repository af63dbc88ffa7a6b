/*
 * tspu_noise.h - the unit's noise source (docs/numerics.md, "Noise").
 * Per lane: one L'Ecuyer LFSR113 (four Tausworthe components, 113 state bits,
 * each call a leap of 18/2/7/13 component steps, 32 fresh output bits).
 * Per step and lane: two calls; xi = sum of the 8 output bytes - 1020.
 * Lane streams: SplitMix64(seed) gives lane 0; lane i+1 = lane i with each
 * component k jumped ahead by stride_k = floor((2^d_k - 1)/phi) calls (GF(2)
 * matrix powers; d = 31, 29, 28, 25; phi the golden ratio).  The component
 * periods 2^d_k - 1 are pairwise coprime, so this is one jump of the combined
 * generator (by the CRT number J with J = stride_k mod 2^d_k - 1): lanes are
 * disjoint segments of its period-2^113 sequence, and golden-ratio spacing
 * keeps every pair of 64 lanes >= 0.8 % of each component's period apart
 * (no two lanes replay one component sequence at a lag below 136000 steps).
 */
#ifndef TSPU_NOISE_H
#define TSPU_NOISE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* one LFSR113 call on the four component words held separately: the form
 * used in loops over lanes (components stored lane-major), which the compiler
 * can keep in vector registers, one lane per element */
static inline uint32_t tspu_lfsr113_next4(uint32_t *z0, uint32_t *z1, uint32_t *z2,
                                          uint32_t *z3)
{
    uint32_t b;
    b = ((*z0 << 6) ^ *z0) >> 13;
    *z0 = ((*z0 & 0xFFFFFFFEu) << 18) ^ b;
    b = ((*z1 << 2) ^ *z1) >> 27;
    *z1 = ((*z1 & 0xFFFFFFF8u) << 2) ^ b;
    b = ((*z2 << 13) ^ *z2) >> 21;
    *z2 = ((*z2 & 0xFFFFFFF0u) << 7) ^ b;
    b = ((*z3 << 3) ^ *z3) >> 12;
    *z3 = ((*z3 & 0xFFFFFF80u) << 13) ^ b;
    return *z0 ^ *z1 ^ *z2 ^ *z3;
}

/* one LFSR113 call: advances z[0..3], returns the 32-bit output */
static inline uint32_t tspu_lfsr113_next(uint32_t z[4])
{
    return tspu_lfsr113_next4(&z[0], &z[1], &z[2], &z[3]);
}

/* sum of the four bytes of u */
static inline int32_t tspu_bytesum(uint32_t u)
{
    uint32_t t = (u & 0x00FF00FFu) + ((u >> 8) & 0x00FF00FFu);
    return (int32_t)((t & 0xFFFFu) + (t >> 16));
}

/* one shaped noise sample: two LFSR113 calls */
static inline int32_t tspu_noise_next(uint32_t z[4])
{
    uint32_t u = tspu_lfsr113_next(z);
    uint32_t v = tspu_lfsr113_next(z);
    return tspu_bytesum(u) + tspu_bytesum(v) - 1020;
}

/* valid LFSR113 state: z0 >= 2, z1 >= 8, z2 >= 16, z3 >= 128 */
int tspu_lfsr113_valid(const uint32_t z[4]);
/* per-component lane stride, calls (see the file comment) */
#define TSPU_LANE_STRIDE_0 1327217884u /* floor((2^31-1)/phi) */
#define TSPU_LANE_STRIDE_1 331804470u  /* floor((2^29-1)/phi) */
#define TSPU_LANE_STRIDE_2 165902234u  /* floor((2^28-1)/phi) */
#define TSPU_LANE_STRIDE_3 20737778u   /* floor((2^25-1)/phi) */
extern const uint64_t tspu_lane_stride[4];
/* lane 0 state from a 64-bit seed */
void tspu_lfsr113_from_seed(uint64_t seed, uint32_t z[4]);
/* advance z by 2^log2_steps calls (log2_steps 0..127) */
void tspu_lfsr113_jump_pow2(uint32_t z[4], unsigned log2_steps);
/* advance component k of z by calls[k] calls, independently per component */
void tspu_lfsr113_jump(uint32_t z[4], const uint64_t calls[4]);
/* lane states for n lanes from one seed (z is n*4 words) */
void tspu_noise_seed_lanes(uint64_t seed, unsigned n, uint32_t *z);

/* Exact distribution of xi: p[k] = P(xi = k - 1020) for k in 0..2040. */
#define TSPU_NOISE_SUPPORT 2041
void tspu_noise_pmf(double p[TSPU_NOISE_SUPPORT]);

#ifdef __cplusplus
}
#endif
#endif
