/* tt_rng.h - the tests' reproducible random numbers: SplitMix64 uniforms and
 * Box-Muller normals.  Define TT_RNG_SEED (the test's fixed seed) before
 * including it; urand() and nrand() then draw from rng_s. */
#ifndef TT_RNG_H
#define TT_RNG_H

#include <math.h>
#include <stdint.h>

#ifndef TT_RNG_SEED
#error "define TT_RNG_SEED (the test's fixed seed) before including tt_rng.h"
#endif

static uint64_t rng_s = TT_RNG_SEED;
static inline double urand(void) /* uniform [0, 1) from SplitMix64 */
{
    uint64_t z = (rng_s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}
static inline double nrand(void)
{
    double u = urand(), v = urand();
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

#endif
