/*
 * tspu_fixed.h - the fixed-point primitives of the unit (docs/numerics.md).
 * Every rounding in the unit is round_shift: add half an output LSB, then an
 * arithmetic right shift (round to nearest, ties toward +infinity).  Every
 * clamp is counted by the caller.
 */
#ifndef TSPU_FIXED_H
#define TSPU_FIXED_H

#include <stdint.h>

/* round(v / 2^s), ties up; s in 0..62.  v must leave room for the half-LSB. */
static inline int64_t tspu_round_shift(int64_t v, unsigned s)
{
    if (s == 0)
        return v;
    return (v + ((int64_t)1 << (s - 1))) >> s; /* arithmetic shift (gcc, clang) */
}

/* The scaling used by every coefficient product: round(v * 2^16 / 2^s). */
static inline int64_t tspu_scale16(int64_t v, unsigned s)
{
    return tspu_round_shift(v * 65536, s);
}

/* Clamp to signed `bits` bits; *sat is incremented when it clamps. */
static inline int64_t tspu_sat(int64_t v, unsigned bits, uint32_t *sat)
{
    const int64_t hi = ((int64_t)1 << (bits - 1)) - 1, lo = -hi - 1;
    if (v > hi) {
        ++*sat;
        return hi;
    }
    if (v < lo) {
        ++*sat;
        return lo;
    }
    return v;
}

/* Multiplier operand of a 32-bit state word: sat16(round(v / 2^16)). */
static inline int32_t tspu_operand(int32_t v, uint32_t *sat)
{
    return (int32_t)tspu_sat(tspu_round_shift(v, 16), 16, sat);
}

#endif
