/*
 * bench_go_call: what one C->Go call costs, with no Python anywhere.
 *
 * A C loop calls the Go core's exported Sum (core/main.go) `number` times and
 * prints ns per call; every line read from stdin ("go") runs one such timing,
 * so bench.py can interleave it with the Python engines. The program is
 * linked with libnewmath_core.so (one Go runtime, nothing else): it needs no
 * guard. Built by `make` as build/bench_go_call.
 *
 *     build/bench_go_call 1000000 <<< go
 *
 * Every call from C into Go goes through cgo's callback path (cgocallback:
 * switch to the Go stack, the M attached to this C thread since Go 1.21,
 * exitsyscall/entersyscall): that, not the addition, is what this measures.
 * (#cgo noescape/nocallback, Go 1.22/1.24, only cheapen calls from Go to C.)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libnewmath_core.h" /* cgo's header: Sum's exact signature */

static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
    long long number = argc > 1 ? atoll(argv[1]) : 0;
    if (number <= 0) {
        fprintf(stderr, "usage: %s NUMBER   (then one line per timing on stdin)\n", argv[0]);
        return 2;
    }
    char line[64];
    long long check = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        double start = now_ns();
        for (long long i = 0; i < number; i++) {
            long long result;
            epg_go_panic panic = {NULL, NULL};
            /* a varies, so the compiler cannot hoist the call out */
            if (Sum(i & 7, 4, &result, &panic) != 0 || panic.value != NULL) {
                fprintf(stderr, "Sum failed at call %lld\n", i);
                return 1;
            }
            check += result;
        }
        double ns = (now_ns() - start) / (double)number;
        /* The sum of (i & 7) + 4 over the loop: proof every call ran. */
        long long expected = 0;
        for (long long i = 0; i < number; i++)
            expected += (i & 7) + 4;
        if (check != expected) {
            fprintf(stderr, "wrong total %lld, expected %lld\n", check, expected);
            return 1;
        }
        check = 0;
        printf("%.3f\n", ns);
        fflush(stdout);
    }
    return 0;
}
