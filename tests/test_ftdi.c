/* test_ftdi.c - the "ftdi" device on a machine without a board: spec
 * parsing (bad specs are TSPU_E_INVAL before any USB access), no FT2232H is
 * TSPU_E_NOT_FOUND with a one-line message naming 0403:6010 interface B,
 * the device listing names the ftdi type, and `tspu -d ftdi info` exits
 * non-zero with exactly one line on stderr.
 *
 * If an FT2232H (0403:6010) is attached, the not-found checks are skipped
 * (noted), since the answer then depends on the board and its permissions;
 * in a build without libftdi1, "ftdi" must be TSPU_E_UNSUPPORTED instead. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tspu.h"
#include "tt.h"

static int one_line(const char *s) { return s && *s && !strchr(s, '\n'); }

int main(int argc, char **argv)
{
    (void)argc;
    char name[160];

    /* bad specs: invalid argument, never a USB lookup */
    static const char *const bad[] = {
        "ftdi:bogus=1", "ftdi:", "ftdi:serial=", "ftdi?baud=abc", "ftdi?speed=1",
        "ftdi?", "ftdi:serial=X?baud=4000000", "ftdi?baud=100",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tspu_dev *d = (tspu_dev *)1;
        int rc = tspu_open(&d, bad[i]);
        const char *e = tspu_last_error(NULL);
        snprintf(name, sizeof name, "tspu_open(\"%s\") is TSPU_E_INVAL with one line", bad[i]);
        tt_check(rc == TSPU_E_INVAL && d == NULL && one_line(e), name, "rc %d (%s), message \"%s\"", rc,
                 tspu_strerror(rc), e ? e : "(null)");
    }

    /* the listing always names the device type; attached boards add lines */
    int len = tspu_list_devices(NULL, 0);
    char *list = malloc((size_t)len + 1);
    tspu_list_devices(list, (size_t)len + 1);
    tt_check(strstr(list, "ftdi: FT2232H interface B") != NULL, "tspu_list_devices names the ftdi device",
             "listing:\n%s", list);
    int board = strstr(list, "FT2232H 0403:6010") != NULL;
    int stub = strstr(list, "ftdi: FT2232H interface B through libftdi1 (not available") != NULL;
    free(list);
    if (stub) { /* a build without libftdi1 (Makefile: no pkg-config libftdi1) */
        tspu_dev *d = (tspu_dev *)1;
        int rc = tspu_open(&d, "ftdi");
        tt_check(rc == TSPU_E_UNSUPPORTED && one_line(tspu_last_error(NULL)),
                 "built without libftdi1: tspu_open(\"ftdi\") is TSPU_E_UNSUPPORTED", "rc %d", rc);
        return tt_exit();
    }
    if (board) {
        tt_note("an FT2232H is attached: not-found checks skipped");
        return tt_exit();
    }

    static const char *const absent[] = {"ftdi", "ftdi:serial=TSPU-TEST-NONE", "ftdi?baud=1500000"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        tspu_dev *d = (tspu_dev *)1;
        int rc = tspu_open(&d, absent[i]);
        const char *e = tspu_last_error(NULL);
        snprintf(name, sizeof name, "tspu_open(\"%s\") without a board is TSPU_E_NOT_FOUND", absent[i]);
        tt_check(rc == TSPU_E_NOT_FOUND && d == NULL, name, "rc %d (%s): %s", rc, tspu_strerror(rc), e);
        snprintf(name, sizeof name, "  its message is one line naming 0403:6010 interface B");
        tt_check(one_line(e) && strstr(e, "0403:6010") && strstr(e, "interface B"), name, "\"%s\"", e);
        if (i == 0)
            tt_note("%s", e);
    }

    /* the CLI: build/bin/tspu beside this program's directory */
    char cli[4096];
    const char *slash = strrchr(argv[0], '/');
    snprintf(cli, sizeof cli, "%.*s../bin/tspu", slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
    if (access(cli, X_OK) != 0) {
        tt_check(0, "tspu -d ftdi info", "CLI %s not built", cli);
        return tt_exit();
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' -d ftdi info 2>&1 >/dev/null", cli);
    FILE *p = popen(cmd, "r");
    char err[4096];
    size_t n = p ? fread(err, 1, sizeof err - 1, p) : 0;
    err[n] = 0;
    int st = p ? pclose(p) : -1;
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += err[i] == '\n';
    tt_check(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0, "tspu -d ftdi info exits non-zero",
             "status %d", st);
    tt_check(lines == 1 && n > 0 && err[n - 1] == '\n', "tspu -d ftdi info: exactly one line on stderr",
             "%d lines: \"%s\"", lines, err);
    tt_note("stderr: %.*s", n ? (int)n - 1 : 0, err);
    return tt_exit();
}
