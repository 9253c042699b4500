/* piuma_api.h: the C types shared by the Go core (core/core.go) and the C glue
 * (piuma/_piuma.c); cgo copies them into libpiuma_core.h: one definition. */
#ifndef PIUMA_API_H
#define PIUMA_API_H
#include <stdint.h>

/* What went wrong with a file: one category per result, shared with Python
 * (piuma/_files.py CATEGORIES, checked by a test). Keep the numbers. */
enum {
    PIUMA_OK = 0,
    PIUMA_EMPTY = 1,        /* empty file */
    PIUMA_NOT_IMAGE = 2,    /* not a JPEG or PNG image */
    PIUMA_TOO_LARGE = 3,    /* over max_pixels */
    PIUMA_TRUNCATED = 4,    /* the file ends early */
    PIUMA_DAMAGED = 5,      /* the decoder refused the data */
    PIUMA_UNSUPPORTED = 6,  /* a valid file of a kind not handled */
    PIUMA_UNREADABLE = 7,   /* open/read failed, not a regular file, changed meanwhile */
    PIUMA_CANNOT_WRITE = 8, /* the output could not be written */
    PIUMA_NO_MEMORY = 9,    /* over its share of max_memory, or an allocation failed */
    PIUMA_CANCELLED = 10,   /* the batch was cancelled before this file started */
    PIUMA_INTERNAL = 11     /* a bug: a Go panic, panic(nil) or runtime.Goexit */
};

enum { PIUMA_JPEG = 1, PIUMA_PNG = 2 };

/* One file, as the probe left it. Strings are borrowed for the whole call. */
typedef struct {
    const char *source;      /* the file to read */
    const char *destination; /* the output's final path (its folder exists) */
    const char *temp;        /* a unique temp path in the same folder */
    int32_t format;          /* PIUMA_JPEG or PIUMA_PNG */
    int32_t width, height;   /* as stored in the file */
    int32_t scale;           /* JPEG: decode at 1/scale (1, 2, 4 or 8) */
    int32_t out_width, out_height; /* resize target, in the stored orientation */
    int32_t orientation;     /* EXIF 1..8: applied after the resize */
    uint64_t stamp[4];       /* the file probed: device, inode, size, ctime ns (0s: unchecked) */
} piuma_job;

/* Batch settings. */
typedef struct {
    int32_t quality;    /* JPEG quality, 1..100 */
    int32_t workers;    /* worker goroutines, >= 1 */
    int32_t optimize;   /* optimise in process: optimised Huffman tables, libimagequant */
} piuma_options;

/* Shared with another thread while a batch runs, C memory: both sides use C
 * atomics only (the Go core through small C functions in its preamble). */
typedef struct {
    int64_t done;   /* files finished */
    int32_t cancel; /* set by anyone: files not started yet are cancelled */
} piuma_progress;

/* One result, for jobs[i]. The glue presets every field to a failure
 * (PIUMA_INTERNAL, "not processed") before the call. error is malloc'ed by
 * the core (C.CString) and freed once by the glue, with free(). */
typedef struct {
    int32_t category;  /* PIUMA_OK or what went wrong */
    char *error;       /* NULL when ok: the details, in the decoder's own words */
    int64_t bytes_in, bytes_out;
    int32_t width, height; /* output size */
    double seconds;        /* wall time in its worker */
} piuma_result;

#endif
