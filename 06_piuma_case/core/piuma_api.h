/* piuma_api.h: the C types shared by the Go core (core.go) and the C glue
 * (piuma/_piuma.c). cgo copies the preamble that includes this file into the
 * generated libpiuma_core.h, so both sides see one definition. */
#ifndef PIUMA_API_H
#define PIUMA_API_H
#include <stdint.h>

/* Batch settings. Strings are borrowed for the duration of PiumaRun. */
typedef struct {
    const char *src, *dst;
    int width, height, quality, workers;
    int64_t max_pixels;
    int64_t max_memory; /* bytes all workers may use for decoding; 0: the Go default */
    int stdlib_jpeg; /* 0: libjpeg-turbo, 1: Go's image/jpeg */
    int draft;       /* DCT-domain downscaling (libjpeg-turbo only) */
    int lanczos;     /* 1: Lanczos resize kernel, 0: bicubic */
    int optimize;    /* optimise the outputs: in process, or with the tools */
    int tools;       /* 1: jpegoptim / pngquant subprocesses, 0: in process */
    const char *jpegoptim, *pngquant; /* tool paths when optimize and tools */
} piuma_options;

/* Shared with another thread while a batch runs: the Go core updates total
 * and done atomically; anyone may set cancel (read atomically by Go). */
typedef struct {
    int64_t total, done;
    int32_t cancel;
} piuma_progress;

/* One result; strings are C memory owned by the array (PiumaFreeResults). */
typedef struct {
    char *source, *destination;
    char *error; /* NULL when the file succeeded */
    int64_t bytes_in, bytes_out;
    int32_t width, height;
    double seconds;
} piuma_result;

#endif
