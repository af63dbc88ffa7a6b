/*
 * tspu_modeldev.h - the bit-exact C model behind the unit's register map
 * (docs/regmap.md): the register semantics the RTL implements, as a
 * tspu_regdev for the link endpoint.  This is the "model" device of
 * tspu_open, and with the endpoint the executable specification of the
 * bus side of the unit.
 */
#ifndef TSPU_MODELDEV_H
#define TSPU_MODELDEV_H

#include <stddef.h>
#include <stdint.h>

#include "tspu_link.h"
#include "tspu_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned n;               /* lanes (default 8)                          */
    size_t fifo_words;        /* FIFO depth in 16-bit words (default 8192)  */
    unsigned p;               /* reported MACs (default n)                  */
    uint32_t clock_hz;        /* reported clock (default 12 MHz, iCEBreaker) */
    uint32_t cycles_per_step; /* reported (default n*n/p + 4, placeholder)  */
    uint32_t version;         /* reported VERSION (default TSPU_GW_VERSION) */
    uint32_t regmap_hash;     /* reported REGMAP_HASH (default generated)   */
    uint64_t steps_per_frame; /* model steps allowed per frame / idle tick  */
    uint32_t features;        /* FEATURES it reports (default all): a gateware
                                 built without some (a small FPGA) refuses, at
                                 START, a program that needs a missing one */
} tspu_modeldev_opts;

typedef struct tspu_modeldev tspu_modeldev;

/* zero fields of *o take the defaults; NULL o: all defaults */
tspu_modeldev *tspu_modeldev_create(const tspu_modeldev_opts *o);
void tspu_modeldev_destroy(tspu_modeldev *d);
tspu_regdev tspu_modeldev_regdev(tspu_modeldev *d);
/* the model inside (tests compare it with a free-running model) */
tspu_model *tspu_modeldev_model(tspu_modeldev *d);

/* A transport whose far end is a link endpoint in front of a new model
 * device (the "model" device of tspu_open).  *md (optional) receives the
 * device, owned by the transport. */
int tspu_transport_model(tspu_transport *tr, const tspu_modeldev_opts *o,
                         tspu_modeldev **md, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
