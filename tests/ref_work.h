/*
 * ref_work.h - the saturating 64-bit work accumulation of the plain
 * references in tests/test_model_unit.c and tests/test_model_data.c
 * (docs/numerics.md: W clamps at +-2^63 and sets WORK_OVERFLOW), written
 * without wider arithmetic so it is independent of host/model/model.c.
 */
#ifndef REF_WORK_H
#define REF_WORK_H

#include <stdint.h>

#include "tspu_model.h"

static inline void ref_work_add(int64_t *work, uint32_t *flags, int64_t dw)
{
    if (dw > 0 && *work > INT64_MAX - dw) {
        *work = INT64_MAX;
        *flags |= TSPU_FLAG_WORK_OVERFLOW;
    } else if (dw < 0 && *work < INT64_MIN - dw) {
        *work = INT64_MIN;
        *flags |= TSPU_FLAG_WORK_OVERFLOW;
    } else {
        *work += dw;
    }
}

#endif
