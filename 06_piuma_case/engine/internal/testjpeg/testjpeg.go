// Package testjpeg writes the JPEG files the engine's tests need and no
// encoder of the engine writes: any sampling factors, CMYK and YCCK colour,
// arithmetic coding. It is libjpeg's own encoder, for tests only.
package testjpeg

/*
#cgo LDFLAGS: -ljpeg
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
} tj_err;

static void tj_exit(j_common_ptr c) { longjmp(((tj_err *)c->err)->jump, 1); }

// in: 1 gray, 3 RGB, 4 CMYK (Adobe-inverted, as libjpeg takes it); out: the
// JPEG colour space (JCS_*). samp: h, v sampling factors of each component.
// *out is jpeg_mem_dest's buffer: the caller frees it (after a success).
static int tj_encode(const unsigned char *pix, int w, int h, int comps, int space,
		const int *samp, int quality, int arith, unsigned char **out, unsigned long *size) {
	struct jpeg_compress_struct c;
	tj_err err;
	memset(&c, 0, sizeof c);
	c.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = tj_exit;
	if (setjmp(err.jump)) {
		jpeg_destroy_compress(&c);
		return -1;
	}
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, out, size);
	c.image_width = w;
	c.image_height = h;
	c.input_components = comps;
	c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 3 ? JCS_RGB : JCS_CMYK;
	jpeg_set_defaults(&c);
	jpeg_set_colorspace(&c, (J_COLOR_SPACE)space);
	jpeg_set_quality(&c, quality, TRUE);
	c.arith_code = arith ? TRUE : FALSE;
	for (int i = 0; i < comps; i++) {
		c.comp_info[i].h_samp_factor = samp[2 * i];
		c.comp_info[i].v_samp_factor = samp[2 * i + 1];
	}
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW row = (JSAMPROW)(pix + (size_t)c.next_scanline * w * comps);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	return 0;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// JPEG colour spaces (libjpeg's J_COLOR_SPACE).
const (
	Gray  = C.JCS_GRAYSCALE
	RGB   = C.JCS_RGB // Adobe transform 0: no colour transform
	YCbCr = C.JCS_YCbCr
	CMYK  = C.JCS_CMYK
	YCCK  = C.JCS_YCCK
)

// Encode compresses w x h pixels of len(samp) components (gray, RGB or
// Adobe-inverted CMYK) into the JPEG colour space space, with the sampling
// factors samp[i] = {h, v} of each component.
func Encode(pix []byte, w, h int, space int, samp [][2]int, quality int, arith bool) ([]byte, error) {
	flat := make([]C.int, 0, 2*len(samp))
	for _, s := range samp {
		flat = append(flat, C.int(s[0]), C.int(s[1]))
	}
	a := 0
	if arith {
		a = 1
	}
	var out *C.uchar
	var size C.ulong
	rc := C.tj_encode((*C.uchar)(unsafe.Pointer(&pix[0])), C.int(w), C.int(h), C.int(len(samp)),
		C.int(space), &flat[0], C.int(quality), C.int(a), &out, &size)
	if rc != 0 { // (*out may be stale after an error: left alone, in a test)
		return nil, errors.New("libjpeg could not encode this")
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(size)), nil
}
