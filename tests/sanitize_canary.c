/* sanitize_canary - one deliberate error, chosen by argv[1], that
 * tests/test_sanitize.sh runs to show its tools would catch one (the
 * would-fail half of that test): built with the sanitizers it must be
 * stopped by ASan (heap), UBSan (ub) or LeakSanitizer (leak); built plainly,
 * valgrind must report it (uninit, leak).  Not part of any library. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    volatile int n = 8; /* volatile: the compiler cannot see the error coming */
    if (argc != 2) {
        fprintf(stderr, "usage: sanitize_canary clean|heap|ub|uninit|leak\n");
        return 2;
    }
    if (!strcmp(argv[1], "clean")) /* no error: does the sanitizer runtime run here? */
        return n == 8 ? 0 : 1;
    if (!strcmp(argv[1], "heap")) { /* a write one past the end of a block */
        char *p = malloc((size_t)n);
        if (!p)
            return 1;
        for (int i = 0; i <= n; i++)
            p[i] = (char)i;
        int r = p[n / 2];
        free(p);
        return r == 4 ? 0 : 1;
    }
    if (!strcmp(argv[1], "ub")) { /* signed overflow */
        volatile int big = INT_MAX;
        int s = big + n;
        printf("%d\n", s);
        return 0;
    }
    if (!strcmp(argv[1], "uninit")) { /* a branch on memory never written */
        int *p = malloc(sizeof *p * (size_t)n);
        if (!p)
            return 1;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized" /* the error is the point */
        int r = p[n / 2] == 12345;
#pragma GCC diagnostic pop
        if (r)
            puts("12345");
        free(p);
        return 0;
    }
    if (!strcmp(argv[1], "leak")) { /* a block whose last pointer is dropped */
        char *volatile p = malloc((size_t)n * 16);
        if (!p)
            return 1;
        p[0] = 1;
        p = NULL;
        return 0;
    }
    fprintf(stderr, "sanitize_canary: unknown error kind '%s'\n", argv[1]);
    return 2;
}
