package engine

// The JPEG encoder: libjpeg's own API (jpeglib.h), not TurboJPEG's, because
// it is the API that can set optimize_coding, the optimised Huffman tables
// that jpegoptim writes. TurboJPEG exposes that only from version 3
// (TJPARAM_OPTIMIZE); Debian 12 ships 2.1.5, whose only switch is the
// TJ_OPTIMIZE environment variable: process-wide state read by every
// thread, not something a library may set.
//
// With optimize_coding the encoder makes two passes over the quantised
// coefficients (one to count symbols, one to write them): the coefficients,
// hence the pixels, are exactly those of the plain encode, and the file is
// what `jpegoptim --strip-all` would make of it (a Go test checks both).
// jpeg_set_defaults writes the JFIF header only, no EXIF, ICC or comment:
// "no metadata" costs nothing here.
//
// The encoder takes either packed pixels (gray or RGB) or the three planes
// of a 4:2:0 YCbCr image (raw_data_in: no colour conversion and no chroma
// downsampling, see jpegplanes.go). libjpeg reports errors with longjmp, so
// the whole encode is one C function: no Go frame is ever jumped over.
//
// cgo pointer rules: the pixels are Go memory passed as call arguments only;
// the compressed output is C memory (jpeg_mem_dest's malloc) copied into Go
// memory and freed before the call returns to Go code that could lose it.

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	char msg[JMSG_LENGTH_MAX];
} piuma_jerr;

static void piuma_jerr_exit(j_common_ptr cinfo) {
	piuma_jerr *e = (piuma_jerr *)cinfo->err;
	(*cinfo->err->format_message)(cinfo, e->msg);
	longjmp(e->jump, 1);
}

static void piuma_jerr_quiet(j_common_ptr cinfo, int level) {
	(void)cinfo; (void)level; // the encoder's warnings: nothing to report
}

// A source row, or a row of scratch padded to `need` samples by repeating
// the last one: raw_data_in reads whole 8x8 blocks, so rows must cover
// width_in_blocks * 8 samples (libjpeg's own downsampler pads the same way).
static JSAMPROW piuma_row(const unsigned char *plane, int stride, int w, int h,
                          int y, int need, JSAMPROW scratch) {
	const unsigned char *src = plane + (size_t)(y < h ? y : h - 1) * stride;
	if (need <= w)
		return (JSAMPROW)src;
	memcpy(scratch, src, w);
	memset(scratch + w, src[w - 1], need - w);
	return scratch;
}

// planes == 0: p0 holds packed pixels (comps 1: gray, 3: RGB), stride s0.
// planes == 1: p0, p1, p2 are the Y, Cb, Cr planes of a 4:2:0 image of
// w x h (chroma (w+1)/2 x (h+1)/2), strides s0, s1, s2.
// Returns 0, or -1 with msg set. *out is malloc'd memory (caller frees) even
// on error, when libjpeg had started writing.
static int piuma_jpeg_compress(int planes, const unsigned char *p0,
		const unsigned char *p1, const unsigned char *p2, int s0, int s1, int s2,
		int w, int h, int comps, int quality, int optimize,
		unsigned char **out, unsigned long *size, char *msg, size_t msglen) {
	struct jpeg_compress_struct cinfo;
	piuma_jerr err;
	JSAMPROW scratch = NULL; // volatile through setjmp: set before it only
	memset(&cinfo, 0, sizeof cinfo);
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = piuma_jerr_exit;
	err.pub.emit_message = piuma_jerr_quiet;
	// Blocks cover ceil(w/8)*8 luma and ceil(w/16)*8 chroma samples a row.
	int yneed = (w + 7) / 8 * 8, cneed = (w + 15) / 16 * 8;
	if (planes && comps == 3) {
		scratch = malloc((size_t)16 * yneed + (size_t)16 * cneed);
		if (scratch == NULL) {
			snprintf(msg, msglen, "out of memory");
			return -1;
		}
	}
	if (setjmp(err.jump)) {
		snprintf(msg, msglen, "%s", err.msg);
		jpeg_destroy_compress(&cinfo);
		free(scratch);
		return -1;
	}
	jpeg_create_compress(&cinfo);
	jpeg_mem_dest(&cinfo, out, size);
	cinfo.image_width = w;
	cinfo.image_height = h;
	cinfo.input_components = comps;
	cinfo.in_color_space = comps == 1 ? JCS_GRAYSCALE : (planes ? JCS_YCbCr : JCS_RGB);
	jpeg_set_defaults(&cinfo); // JFIF header, 4:2:0 for colour, ISLOW DCT: as TurboJPEG
	jpeg_set_quality(&cinfo, quality, TRUE);
	cinfo.optimize_coding = optimize ? TRUE : FALSE;
	if (planes && comps == 3) {
		cinfo.raw_data_in = TRUE;
		cinfo.comp_info[0].h_samp_factor = cinfo.comp_info[0].v_samp_factor = 2;
		cinfo.comp_info[1].h_samp_factor = cinfo.comp_info[1].v_samp_factor = 1;
		cinfo.comp_info[2].h_samp_factor = cinfo.comp_info[2].v_samp_factor = 1;
	}
	jpeg_start_compress(&cinfo, TRUE);
	if (planes && comps == 3) {
		JSAMPROW y_rows[16], cb_rows[8], cr_rows[8];
		JSAMPARRAY data[3] = {y_rows, cb_rows, cr_rows};
		int cw = (w + 1) / 2, ch = (h + 1) / 2;
		JSAMPROW sy = scratch, sc = scratch + (size_t)16 * yneed;
		while (cinfo.next_scanline < cinfo.image_height) {
			int y0 = (int)cinfo.next_scanline;
			// One iMCU row: 16 luma rows, 8 of each chroma plane, each with
			// its own scratch row in case it needs padding on the right.
			for (int i = 0; i < 16; i++)
				y_rows[i] = piuma_row(p0, s0, w, h, y0 + i, yneed, sy + (size_t)i * yneed);
			for (int i = 0; i < 8; i++) {
				cb_rows[i] = piuma_row(p1, s1, cw, ch, y0 / 2 + i, cneed, sc + (size_t)i * cneed);
				cr_rows[i] = piuma_row(p2, s2, cw, ch, y0 / 2 + i, cneed, sc + (size_t)(8 + i) * cneed);
			}
			jpeg_write_raw_data(&cinfo, data, 16);
		}
	} else {
		while (cinfo.next_scanline < cinfo.image_height) {
			JSAMPROW row = (JSAMPROW)(p0 + (size_t)cinfo.next_scanline * s0);
			jpeg_write_scanlines(&cinfo, &row, 1);
		}
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	free(scratch);
	return 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// jpegEncode compresses packed gray (bpp 1) or RGB (bpp 3) pixels at quality
// (4:2:0 for RGB); optimize asks for optimised Huffman tables.
func jpegEncode(r raster, quality int, optimize bool) ([]byte, error) {
	if r.bpp != 1 && r.bpp != 3 {
		return nil, fmt.Errorf("cannot encode JPEG: %d bytes per pixel", r.bpp)
	}
	return jpegCompress(false, [3][]byte{r.pix}, [3]int{r.w * r.bpp}, r.w, r.h, r.bpp, quality, optimize)
}

func jpegCompress(planes bool, p [3][]byte, strides [3]int, w, h, comps, quality int,
	optimize bool) ([]byte, error) {
	if w <= 0 || h <= 0 || len(p[0]) == 0 {
		return nil, errors.New("cannot encode JPEG: empty image")
	}
	var ptr [3]*C.uchar
	for i := range p {
		if len(p[i]) > 0 {
			ptr[i] = (*C.uchar)(unsafe.Pointer(&p[i][0]))
		}
	}
	var out *C.uchar
	var size C.ulong
	var msg [200]C.char
	rc := C.piuma_jpeg_compress(C.int(b2i(planes)), ptr[0], ptr[1], ptr[2],
		C.int(strides[0]), C.int(strides[1]), C.int(strides[2]), C.int(w), C.int(h),
		C.int(comps), C.int(quality), C.int(b2i(optimize)), &out, &size,
		&msg[0], C.size_t(len(msg)))
	if out != nil {
		defer C.free(unsafe.Pointer(out))
	}
	if rc != 0 {
		return nil, fmt.Errorf("cannot encode JPEG: %s", C.GoString(&msg[0]))
	}
	return C.GoBytes(unsafe.Pointer(out), C.int(size)), nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// inProcess reports whether outputs are optimised in this process.
func (c *converter) inProcess() bool {
	return c.opts.Optimize && c.opts.Optimizer == InProcess
}
