/* cmd_info.c - `tspu info` (the unit's ID block) and `tspu devices`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tspu_regs.h"

const char cmd_info_help[] =
    "Opens the device and prints its identity: gateware version, register-map hash,\n"
    "lanes N, MACs P, number formats, integrators, clock, features, cycles per step,\n"
    "FIFO depth, and the observations K the data-driven drift holds (\"data obs\",\n"
    "DATA_MAX_OBS; 0 without the \"data\" feature).  With --json, one object with\n"
    "the same fields.\n";

const char cmd_devices_help[] =
    "Lists the device types this build knows and the serial ports present.  The\n"
    "default device is " TSPU_DEFAULT_DEVICE " (falling back to model when this build lacks it).\n";

/* FEATURES bits by number; names from libtspu (tspu_feature_name) */
#define NFEAT 32
#define INTEGRATOR_BITS (TSPU_FEATURES_EM | TSPU_FEATURES_LM | TSPU_FEATURES_UD)

int cmd_info(cli_ctx *c, int argc, char **argv)
{
    const char *pos[1];
    int npos, rc = cli_parse_opts(c, cli_find_command("info"), argc, argv, NULL, pos, 0, &npos);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if ((rc = cli_open_device(c)))
        return rc;
    const tspu_info *in = &c->info;
    char ver[32];
    snprintf(ver, sizeof ver, "%u.%u.%u", (in->version & TSPU_VERSION_MAJOR_MASK) >> TSPU_VERSION_MAJOR_LSB,
             (in->version >> TSPU_VERSION_MINOR_LSB) & 0xFF, in->version & 0xFF);
    const double steps_per_s = in->cycles_per_step ? (double)in->clock_hz / in->cycles_per_step : 0;
    if (c->json) {
        cli_json j;
        cli_json_begin(&j);
        cli_json_key(&j, "device");
        cli_json_str(&j, in->device);
        cli_json_key(&j, "magic");
        cli_json_int(&j, in->magic);
        cli_json_key(&j, "gateware_version");
        cli_json_str(&j, ver);
        cli_json_key(&j, "regmap_hash");
        cli_json_int(&j, in->regmap_hash);
        cli_json_key(&j, "n");
        cli_json_int(&j, in->n);
        cli_json_key(&j, "p");
        cli_json_int(&j, in->p);
        cli_json_key(&j, "widths");
        cli_json_open(&j, '{');
        cli_json_key(&j, "state");
        cli_json_int(&j, in->state_bits);
        cli_json_key(&j, "operand");
        cli_json_int(&j, in->operand_bits);
        cli_json_key(&j, "coupling");
        cli_json_int(&j, in->coupling_bits);
        cli_json_key(&j, "bias");
        cli_json_int(&j, in->bias_bits);
        cli_json_close(&j, '}');
        cli_json_key(&j, "integrators");
        cli_json_open(&j, '[');
        for (size_t k = 0; k < NFEAT; k++)
            if (((1u << k) & INTEGRATOR_BITS) && (in->features & (1u << k)) && tspu_feature_name(1u << k))
                cli_json_str(&j, tspu_feature_name(1u << k));
        cli_json_close(&j, ']');
        cli_json_key(&j, "features");
        cli_json_open(&j, '[');
        for (size_t k = 0; k < NFEAT; k++)
            if (!((1u << k) & INTEGRATOR_BITS) && (in->features & (1u << k)) && tspu_feature_name(1u << k))
                cli_json_str(&j, tspu_feature_name(1u << k));
        cli_json_close(&j, ']');
        cli_json_key(&j, "clock_hz");
        cli_json_int(&j, in->clock_hz);
        cli_json_key(&j, "cycles_per_step");
        cli_json_int(&j, in->cycles_per_step);
        cli_json_key(&j, "steps_per_second");
        cli_json_num(&j, steps_per_s);
        cli_json_key(&j, "fifo_depth");
        cli_json_int(&j, in->fifo_depth);
        cli_json_key(&j, "max_segments");
        cli_json_int(&j, in->max_segments);
        cli_json_key(&j, "data_max_obs");
        cli_json_int(&j, in->data_max_obs);
        cli_json_end(&j);
    } else {
        printf("device           %s\n", in->device);
        printf("id               magic 0x%08X, gateware %s, register map 0x%08X\n", in->magic, ver, in->regmap_hash);
        printf("lanes N          %u\n", in->n);
        printf("MACs P           %u\n", in->p);
        printf("widths           state %u, operand %u, coupling %u, bias %u bits\n", in->state_bits,
               in->operand_bits, in->coupling_bits, in->bias_bits);
        printf("integrators     ");
        for (size_t k = 0; k < NFEAT; k++)
            if (((1u << k) & INTEGRATOR_BITS) && (in->features & (1u << k)) && tspu_feature_name(1u << k))
                printf(" %s", tspu_feature_name(1u << k));
        printf("\nfeatures        ");
        for (size_t k = 0; k < NFEAT; k++)
            if (!((1u << k) & INTEGRATOR_BITS) && (in->features & (1u << k)) && tspu_feature_name(1u << k))
                printf(" %s", tspu_feature_name(1u << k));
        printf("\nclock            %u Hz\n", in->clock_hz);
        printf("cycles/step      %u (%.4g steps/s)\n", in->cycles_per_step, steps_per_s);
        printf("FIFO depth       %u words\n", in->fifo_depth);
        printf("schedule         %u segments\n", in->max_segments);
        if (in->data_max_obs)
            printf("data obs         %u (max observations K of the data-driven drift)\n", in->data_max_obs);
        else
            printf("data obs         0 (no data-driven drift in this gateware)\n");
    }
    cli_close_device(c);
    return CLI_EXIT_OK;
}

int cmd_devices(cli_ctx *c, int argc, char **argv)
{
    const char *pos[1];
    int npos, rc = cli_parse_opts(c, cli_find_command("devices"), argc, argv, NULL, pos, 0, &npos);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    int len = tspu_list_devices(NULL, 0);
    char *buf = malloc((size_t)len + 1);
    if (!buf)
        return cli_error(CLI_EXIT_RUNTIME, "out of memory");
    tspu_list_devices(buf, (size_t)len + 1);
    if (!c->json) {
        fputs(buf, stdout);
        printf("default: %s\n", TSPU_DEFAULT_DEVICE);
        free(buf);
        return CLI_EXIT_OK;
    }
    cli_json j;
    cli_json_begin(&j);
    cli_json_key(&j, "default");
    cli_json_str(&j, TSPU_DEFAULT_DEVICE);
    cli_json_key(&j, "devices");
    cli_json_open(&j, '[');
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char *sep = strstr(line, ": ");
        cli_json_open(&j, '{');
        if (sep)
            *sep = 0;
        cli_json_key(&j, "name");
        cli_json_str(&j, line);
        cli_json_key(&j, "description");
        cli_json_str(&j, sep ? sep + 2 : "");
        cli_json_close(&j, '}');
    }
    cli_json_close(&j, ']');
    cli_json_end(&j);
    free(buf);
    return CLI_EXIT_OK;
}
