package engine

// The fallback JPEG decoder: libjpeg's own API (jpeglib.h), from the same
// libjpeg-turbo, for the files the TurboJPEG API refuses although libjpeg
// decodes them: sampling factors TurboJPEG cannot name (4:1:1 vertical,
// 3x1, a chroma component larger than luma...), as Pillow (which calls
// libjpeg the same way) does. Its settings are TurboJPEG's: islow DCT,
// fancy upsampling, and a warning stops the decode (TJFLAG_STOPONWARNING),
// so a damaged file is an error, never a grey-padded picture.
//
// libjpeg reports errors through a callback that must not return:
// piuma_jpeg_decode sets a setjmp point and the callback longjmps to it,
// both inside the same C function, never across Go frames.

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
	char message[JMSG_LENGTH_MAX];
} piuma_jerr;

static void piuma_jerr_exit(j_common_ptr cinfo) {
	piuma_jerr *e = (piuma_jerr *)cinfo->err;
	(*cinfo->err->format_message)(cinfo, e->message);
	longjmp(e->jump, 1);
}

// A warning (level -1: corrupt data, premature end) stops the decode.
static void piuma_jerr_emit(j_common_ptr cinfo, int level) {
	if (level < 0)
		piuma_jerr_exit(cinfo);
}

static void piuma_jerr_output(j_common_ptr cinfo) { (void)cinfo; }

// Decode data into out (w*h*bpp bytes, the caller computed w and h from the
// header and denom); color: 1 gray, 3 RGB, 4 CMYK (Adobe-inverted, as
// libjpeg returns it). Returns 0, or -1 with the message in msg.
static int piuma_jpeg_decode(const unsigned char *data, unsigned long size, int denom,
                             unsigned char *out, int w, int h, int color, char *msg) {
	struct jpeg_decompress_struct cinfo;
	piuma_jerr jerr;
	memset(&cinfo, 0, sizeof cinfo); // jpeg_destroy_decompress is safe on it
	cinfo.err = jpeg_std_error(&jerr.pub);
	jerr.pub.error_exit = piuma_jerr_exit;
	jerr.pub.emit_message = piuma_jerr_emit;
	jerr.pub.output_message = piuma_jerr_output;
	if (setjmp(jerr.jump)) {
		strncpy(msg, jerr.message, JMSG_LENGTH_MAX);
		jpeg_destroy_decompress(&cinfo);
		return -1;
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, size);
	jpeg_read_header(&cinfo, TRUE);
	cinfo.out_color_space = color == 1 ? JCS_GRAYSCALE : color == 4 ? JCS_CMYK : JCS_RGB;
	cinfo.scale_num = 1;
	cinfo.scale_denom = denom;
	cinfo.dct_method = JDCT_ISLOW;
	cinfo.do_fancy_upsampling = TRUE;
	jpeg_calc_output_dimensions(&cinfo);
	if ((int)cinfo.output_width != w || (int)cinfo.output_height != h ||
	    cinfo.output_components != color) {
		snprintf(msg, JMSG_LENGTH_MAX, "unexpected output %ux%u, %d components",
		         cinfo.output_width, cinfo.output_height, cinfo.output_components);
		jpeg_destroy_decompress(&cinfo);
		return -1;
	}
	jpeg_start_decompress(&cinfo);
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW row = out + (size_t)cinfo.output_scanline * (size_t)w * (size_t)color;
		jpeg_read_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	return 0;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// libjpegDecode decodes data scaled by 1/denom into packed pixels, as
// turbo.decode does. data and r.pix are passed only as call arguments (cgo
// pointer rules); libjpeg keeps neither after the call.
func libjpegDecode(data []byte, color jpegColor, fullW, fullH, denom int) (raster, error) {
	r := raster{w: (fullW + denom - 1) / denom, h: (fullH + denom - 1) / denom}
	switch color {
	case colorGray:
		r.bpp = 1
	case colorCMYK:
		r.bpp = 4
	default:
		r.bpp = 3
	}
	r.pix = make([]byte, r.w*r.h*r.bpp)
	var msg [C.JMSG_LENGTH_MAX]C.char
	if C.piuma_jpeg_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(denom),
		(*C.uchar)(unsafe.Pointer(&r.pix[0])), C.int(r.w), C.int(r.h), C.int(r.bpp), &msg[0]) != 0 {
		return raster{}, errors.New(C.GoString(&msg[0]))
	}
	return r, nil
}
