/* main.c - the tspu command-line tool: global options and the command table.
 *
 *   tspu [-d DEVICE] [--seed S] [--json] [-o FILE] [-v] COMMAND ...
 *
 * Commands are rows of cli_commands[] below; each is a function in
 * host/cli/cmd_*.c written against cli.h.  Exit status: 0 ok, 1 runtime or
 * device error, 2 usage or input error, 130 interrupted (docs/tspu.1). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tspu_regs.h"

/* The command table: a command plugs in with one row here (and its entry
 * function, e.g. in cmd_algo.c for the algorithms of libtspualgo). */
const cli_command cli_commands[] = {
    {"info", "", "identity of the device: gateware, N, widths, integrators, clock, features", cmd_info_help,
     cmd_info},
    {"sample", "A [b]", "raw samples of x ~ N(A^-1 b, A^-1/beta)", cmd_sample_help, cmd_sample},
    {"solve", "A b", "x ~ A^-1 b (A symmetric positive definite)", cmd_solve_help, cmd_solve},
    {"inv", "A", "~ A^-1 (A symmetric positive definite)", cmd_inv_help, cmd_inv},
    {"logdet", "A", "~ log det A (A symmetric positive definite)", cmd_logdet_help, cmd_logdet},
    {"lyap", "A [D]", "S with A S + S A^T = D (D defaults to 2I; A stable)", cmd_lyap_help, cmd_lyap},
    {"expm", "A", "~ exp(-A) (A stable)", cmd_expm_help, cmd_expm},
    {"posterior", "--data Y --lik-prec L ...", "Gaussian posterior (prior, likelihood, data [design H])",
     cmd_posterior_help, cmd_posterior},
    {"logreg", "--features X --labels y ...", "Bayesian logistic regression posterior", cmd_logreg_help,
     cmd_logreg},
    {"devices", "", "list the device types and serial ports", cmd_devices_help, cmd_devices},
    {NULL, NULL, NULL, NULL, NULL},
};

const cli_command *cli_find_command(const char *name)
{
    for (const cli_command *k = cli_commands; k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tspu [-d DEVICE] [--seed S] [--json] [-o FILE] [-v] COMMAND [ARGS] [OPTIONS]\n"
            "\n"
            "Drives a tspu, a thermodynamic stochastic processing unit (emulated), from the\n"
            "command line.  Matrices and vectors are plain text (numbers separated by\n"
            "blanks, one row per line, '#' comments) or NumPy .npy (float64), by extension.\n"
            "\n"
            "Commands:\n");
    for (const cli_command *k = cli_commands; k->name; k++) {
        char head[40];
        snprintf(head, sizeof head, "%s %s", k->name, k->args);
        fprintf(f, "  %-16s %s\n", head, k->summary);
    }
    fprintf(f,
            "  help [COMMAND]   this text, or a command's options (also: COMMAND --help)\n"
            "\n"
            "Global options (before or after the command):\n"
            "  -d, --device DEV  model[?n=N&...] | sim | vboard | serial:PATH[?baud=N] | ftdi[:serial=S]\n"
            "                    (default $TSPU_DEVICE, else %s; if the default is not in\n"
            "                    this build, model is used); solve, inv, logdet, lyap and\n"
            "                    expm take -d several times and pool their chains over them\n"
            "  --seed S          noise seed (default: random; reported by --json and -v)\n"
            "  --json            print one JSON object with the results\n"
            "  -o, --output FILE write the result (or the samples) to FILE (.npy or text)\n"
            "  -v, --verbose     say what is happening on stderr\n"
            "  --progress        progress on stderr once a second even when it is not a tty\n"
            "  --no-progress     never show progress\n"
            "  --timeout SEC     stall watchdog: give up after SEC seconds without progress (default 10)\n"
            "  -h, --help        help;  --version  version\n"
            "\n"
            "Exit status: 0 success, 1 device or run-time error, 2 bad usage or input,\n"
            "130 interrupted (Ctrl-C: the unit is stopped and partial results are written).\n"
            "See tspu(1).\n",
            TSPU_DEFAULT_DEVICE);
}

int main(int argc, char **argv)
{
    cli_ctx c;
    memset(&c, 0, sizeof c);
    c.progress = -1;
    c.stall_ms = 10000;
    c.t_start = cli_now();
    const char *env = getenv("TSPU_DEVICE");
    if (env && *env) {
        c.device = env;
        c.device_explicit = 1;
    }
    /* global options up to the command */
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(a, "--version") == 0) {
            printf("tspu %u.%u.%u (register map 0x%08X)\n", TSPU_GW_VERSION_MAJOR, TSPU_GW_VERSION_MINOR,
                   TSPU_GW_VERSION_PATCH, TSPU_REGMAP_HASH);
            return CLI_EXIT_OK;
        }
        if (a[0] != '-' || a[1] == 0)
            break;
        int r = cli_global_opt(&c, argc, argv, &i);
        if (r == CLI_EXIT_USAGE)
            return r;
        if (r == 0)
            return cli_error(CLI_EXIT_USAGE, "unknown option '%s' (see tspu --help)", a);
    }
    if (i >= argc) {
        cli_error(CLI_EXIT_USAGE, "missing command (try tspu --help)");
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[i];
    if (strcmp(name, "help") == 0) {
        if (i + 1 < argc) {
            const cli_command *k = cli_find_command(argv[i + 1]);
            if (!k)
                return cli_error(CLI_EXIT_USAGE, "help: unknown command '%s'", argv[i + 1]);
            char *hv[] = {(char *)k->name, (char *)"--help", NULL};
            return k->run(&c, 2, hv);
        }
        usage(stdout);
        return CLI_EXIT_OK;
    }
    const cli_command *cmd = cli_find_command(name);
    if (!cmd) {
        char list[256] = "";
        for (const cli_command *k = cli_commands; k->name; k++) {
            strncat(list, k->name, sizeof list - strlen(list) - 1);
            if (k[1].name)
                strncat(list, ", ", sizeof list - strlen(list) - 1);
        }
        return cli_error(CLI_EXIT_USAGE, "unknown command '%s' (commands: %s)", name, list);
    }
    c.cmd = cmd->name;
    cli_install_sigint();
    int rc = cmd->run(&c, argc - i, argv + i);
    if (fflush(stdout) != 0 && rc == CLI_EXIT_OK)
        rc = cli_error(CLI_EXIT_RUNTIME, "writing to stdout failed");
    return rc;
}
