/*
 * tt.h - the tiny test reporter every C test uses.
 * Each check prints one line "PASS: name" or "FAIL: name -- detail"; the
 * runner (scripts/run_tests.sh) counts them, and counts a crashing or
 * non-zero-exiting test program as one more failure.
 */
#ifndef TT_H
#define TT_H

#include <stdarg.h>
#include <stdio.h>

static int tt_failed_count;

/* record a check; returns cond */
static inline int tt_check(int cond, const char *name, const char *fmt, ...)
{
    if (cond) {
        printf("PASS: %s\n", name);
    } else {
        printf("FAIL: %s -- ", name);
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        tt_failed_count++;
    }
    fflush(stdout);
    return cond;
}

/* informational line, not counted */
static inline void tt_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  # ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static inline int tt_exit(void) { return tt_failed_count ? 1 : 0; }

#endif
