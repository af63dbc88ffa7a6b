/* tspu_backend.h - registration hook for device backends that live outside
 * libtspu (which stays pure C): the "sim" device (Verilated RTL, C++, one
 * static library per lane count: libtspusim_N16.a ...) registers itself from
 * a constructor when it is linked in.  A build without Verilator links no
 * such library and "sim" answers TSPU_E_UNSUPPORTED. */
#ifndef TSPU_BACKEND_H
#define TSPU_BACKEND_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tspu_transport;
/* make a transport to a fresh simulated unit; 0 or a TSPU_E_* code with a
 * one-line reason in err */
typedef int (*tspu_sim_factory)(struct tspu_transport *tr, char *err, size_t errlen);
/* register the simulation of an N-lane unit (called from constructors) */
void tspu_register_sim(unsigned n, tspu_sim_factory f);

/* the "vboard" device: spawn the Verilated board (tspu-vboard), wait for its
 * readiness line, open its pty with the serial transport (host/lib/vboard.c) */
int tspu_transport_vboard(struct tspu_transport *tr, unsigned clock_hz, unsigned baud, char *err, size_t errlen);

/* the byte transport of a device string without the handshake (tests put a
 * fault-injecting channel between it and tspu_open_transport) */
int tspu_transport_open(struct tspu_transport *tr, const char *spec, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
