/*
 * bench_go_call: what one C->Go call costs, with no Python anywhere.
 *
 * Every line read from stdin holds a number N: a C loop calls the Go core's
 * exported Sum (core/main.go) N times and prints the CPU seconds this thread
 * spent (CLOCK_THREAD_CPUTIME_ID: time other processes run is not counted). So
 * bench.py can calibrate it and interleave it with the Python engines. The
 * program is linked with libnewmath_core.so (one Go runtime, nothing else):
 * it needs no guard. Built by `make` as build/bench_go_call.
 *
 *     build/bench_go_call <<< 1000000
 *
 * Every call from C into Go goes through cgo's callback path (cgocallback:
 * switch to the Go stack, the M attached to this C thread since Go 1.21,
 * exitsyscall/entersyscall): that, not the addition, is what this measures.
 * (#cgo noescape/nocallback, Go 1.22/1.24, only cheapen calls from Go to C.)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "libnewmath_core.h" /* cgo's header: Sum's exact signature */

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(void)
{
    char line[64];
    while (fgets(line, sizeof line, stdin) != NULL) {
        long long number = atoll(line);
        if (number <= 0) {
            fprintf(stderr, "usage: one number of calls per line on stdin, got %s", line);
            return 2;
        }
        long long check = 0;
        double start = now_s();
        for (long long i = 0; i < number; i++) {
            long long result = 0;
            epg_go_panic panic = {NULL, NULL};
            /* a varies, so the compiler cannot hoist the call out */
            if (Sum(i & 7, 4, &result, &panic) != 1 || panic.value != NULL) {
                fprintf(stderr, "Sum failed at call %lld\n", i);
                return 1;
            }
            check += result;
        }
        double seconds = now_s() - start;
        /* The sum of (i & 7) + 4 over the loop: proof every call ran. */
        long long expected = 0;
        for (long long i = 0; i < number; i++)
            expected += (i & 7) + 4;
        if (check != expected) {
            fprintf(stderr, "wrong total %lld, expected %lld\n", check, expected);
            return 1;
        }
        printf("%.9f\n", seconds);
        fflush(stdout);
    }
    return 0;
}
