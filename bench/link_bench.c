/* link_bench.c - streams a long LM run (N = 16, every step kept, FIFO_STALL)
 * from a device and prints one JSON object: samples, wall seconds, samples/s.
 * bench/link_bench.sh runs it on "sim" and on "vboard" (whose simulated line
 * statistics the board writes to $TSPU_VBOARD_STATS when it is closed).
 * usage: link_bench DEVICE SAMPLES */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tspu.h"

static unsigned long long words;
static int on_samples(void *ctx, const int16_t *w, size_t count, unsigned wps)
{
    (void)ctx;
    (void)w;
    words += (unsigned long long)count * wps;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: link_bench DEVICE SAMPLES\n");
        return 2;
    }
    const unsigned samples = (unsigned)strtoul(argv[2], NULL, 0);
    tspu_dev *d;
    int rc = tspu_open(&d, argv[1]);
    if (rc) {
        fprintf(stderr, "link_bench: %s\n", tspu_last_error(NULL));
        return 1;
    }
    tspu_info in;
    tspu_get_info(d, &in);
    const unsigned n = in.n;
    int16_t a[TSPU_N_MAX * TSPU_N_MAX];
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++)
            a[i * n + j] = (int16_t)(i == j ? 3072 : ((i * 7 + j * 3) % 11) * 10 - 50);
    tspu_model_config c = tspu_model_default_config();
    c.integrator = TSPU_INT_LM;
    c.drift_shift = 17;
    c.noise_shift = 10;
    c.burnin = 100;
    c.thin = 1;
    c.n_samples = samples;
    struct timespec t0, t1;
    if ((rc = tspu_load_couplings(d, 0, a, NULL)) || (rc = tspu_load_couplings(d, 1, a, NULL)) ||
        (rc = tspu_seed(d, 7)) || (rc = tspu_configure(d, &c, 1)))
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((rc = tspu_start(d)) || (rc = tspu_stream(d, on_samples, NULL, 20000)))
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("{\"device\": \"%s\", \"n\": %u, \"samples\": %llu, \"wall_s\": %.4f, \"samples_per_s\": %.1f}\n",
           argv[1], n, words / n, wall, (double)(words / n) / wall);
out:
    if (rc)
        fprintf(stderr, "link_bench: %s: %s\n", tspu_strerror(rc), tspu_last_error(d));
    tspu_close(d);
    return rc ? 1 : 0;
}
