package engine

// JPEG through libjpeg-turbo 2.1, as Pillow: one C function per decode or
// encode, each with a fresh jpeg_(de)compress_struct (no table of one file serves
// the next) and its own setjmp (error_exit never longjmps across a Go frame).
// Encode: JFIF, 4:2:0, islow DCT; optimize_coding makes, byte for byte, what
// `jpegoptim --strip-all` makes of the plain encode.

/*
#cgo LDFLAGS: -ljpeg
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

enum { J_OK, J_DAMAGED, J_UNSUPPORTED, J_TRUNCATED, J_NOMEM, J_CHANGED };

typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	int status;
	_Bool rows_read; // all of them: the end of the file ends the decode, a success
	char *msg; // the caller's, JMSG_LENGTH_MAX bytes
} piuma_jerr;

// Ends the decode or encode under way: back to its setjmp, with a J_ status.
static void piuma_jerr_exit(j_common_ptr c) {
	piuma_jerr *e = (piuma_jerr *)c->err;
	switch (c->err->msg_code) {
	case JERR_SOF_UNSUPPORTED: case JERR_BAD_PRECISION: case JERR_ARITH_NOTIMPL:
	case JERR_CCIR601_NOTIMPL: case JERR_CONVERSION_NOTIMPL: case JERR_FRACT_SAMPLE_NOTIMPL:
	case JERR_NOTIMPL: case JERR_NOT_COMPILED: case JERR_EMPTY_IMAGE:
		e->status = J_UNSUPPORTED; break;
	case JERR_INPUT_EOF: case JERR_INPUT_EMPTY: case JWRN_JPEG_EOF: e->status = J_TRUNCATED; break;
	case JERR_OUT_OF_MEMORY: case JERR_FILE_WRITE: e->status = J_NOMEM; break;
	case JERR_NO_SOI: e->status = J_CHANGED; break; // the probe saw a JPEG signature
	default: e->status = J_DAMAGED;
	}
	(*c->err->format_message)(c, e->msg);
	longjmp(e->jump, 1);
}

// Warnings (level -1) and traces are ignored, but for the end of the file: an
// error in the rows, the end after them (not libjpeg's fake EOI, which a cut
// segment there would read as its own bytes).
static void piuma_jerr_emit(j_common_ptr c, int level) {
	piuma_jerr *e = (piuma_jerr *)c->err;
	if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) {
		if (e->rows_read) longjmp(e->jump, 1); // e->status stays J_OK
		piuma_jerr_exit(c);
	}
}

// A failure of our own, in a function with piuma_jerr err and its setjmp.
#define PIUMA_JFAIL(st, ...) do { \
	snprintf(err.msg, JMSG_LENGTH_MAX, __VA_ARGS__); err.status = st; longjmp(err.jump, 1); } while (0)

#define MULDIV255(a, b, tmp) (tmp = (a) * (b) + 128, ((((tmp) >> 8) + (tmp)) >> 8))

// Decodes fp at 1/scale, if that makes w x h, into *pix (malloc'ed; *bpp 1 or 3).
static int piuma_jpeg_decode(FILE *fp, int scale, int w, int h, unsigned char **pix,
                             int *bpp, char *msg) {
	struct jpeg_decompress_struct cinfo;
	*pix = NULL;
	memset(&cinfo, 0, sizeof cinfo); // jpeg_destroy_decompress is safe on it
	piuma_jerr err = {.status = J_OK, .msg = msg};
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = piuma_jerr_exit;
	err.pub.emit_message = piuma_jerr_emit;
	if (setjmp(err.jump)) {
		if (err.status != J_OK) free(*pix);
	} else {
		jpeg_create_decompress(&cinfo);
		jpeg_stdio_src(&cinfo, fp);
		jpeg_read_header(&cinfo, TRUE);
		int n = cinfo.num_components; // 2, 5+ (the probe refuses them): libjpeg's "unsupported"
		cinfo.out_color_space = n == 1 ? JCS_GRAYSCALE : n == 4 ? JCS_CMYK : JCS_RGB; // YCCK too
		*bpp = n == 1 ? 1 : 3;
		cinfo.scale_num = 1;
		cinfo.scale_denom = scale;
		jpeg_calc_output_dimensions(&cinfo);
		if ((int)cinfo.output_width != w || (int)cinfo.output_height != h) PIUMA_JFAIL(J_CHANGED, "size");
		size_t row = (size_t)w * *bpp;
		*pix = malloc(row * h);
		if (*pix == NULL) PIUMA_JFAIL(J_NOMEM, "cannot allocate %zu bytes", row * h);
		// A CMYK row: libjpeg's memory (freed with cinfo), its failure an error exit.
		JSAMPROW cmyk = n != 4 ? NULL
			: (*cinfo.mem->alloc_small)((j_common_ptr)&cinfo, JPOOL_IMAGE, (size_t)w * 4);
		jpeg_start_decompress(&cinfo);
		while (cinfo.output_scanline < cinfo.output_height) {
			JSAMPROW out = *pix + row * cinfo.output_scanline, in = cmyk ? cmyk : out;
			jpeg_read_scanlines(&cinfo, &in, 1);
			for (int x = 0, tmp; cmyk && x < w; x++, in += 4, out += 3) {
				int nk = in[3]; // Pillow: "CMYK;I" (inverted), then cmyk2rgb
				out[0] = nk - MULDIV255(255 - in[0], nk, tmp);
				out[1] = nk - MULDIV255(255 - in[1], nk, tmp);
				out[2] = nk - MULDIV255(255 - in[2], nk, tmp);
			}
		}
		err.rows_read = 1;
		jpeg_finish_decompress(&cinfo);
	}
	jpeg_destroy_decompress(&cinfo);
	return err.status;
}

// Compresses w x h pixels (comps 1: gray, 3: RGB) into *out, *size bytes (the
// caller frees it) through a memory stream closed before the call returns
// (jpeg_mem_dest's buffer is lost after an error). Returns a J_ status.
static int piuma_jpeg_encode(const unsigned char *pix, int w, int h, int comps, int quality,
                             _Bool optimize, char **out, size_t *size, char *msg) {
	struct jpeg_compress_struct cinfo;
	FILE *fp = open_memstream(out, size);
	memset(&cinfo, 0, sizeof cinfo);
	piuma_jerr err = {.status = J_OK, .msg = msg};
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = piuma_jerr_exit;
	if (fp == NULL) err.status = J_NOMEM;
	else if (!setjmp(err.jump)) {
		jpeg_create_compress(&cinfo);
		jpeg_stdio_dest(&cinfo, fp);
		cinfo.image_width = w;
		cinfo.image_height = h;
		cinfo.input_components = comps;
		cinfo.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
		jpeg_set_defaults(&cinfo); // JFIF header, 4:2:0 for colour, islow DCT
		jpeg_set_quality(&cinfo, quality, TRUE);
		cinfo.optimize_coding = optimize;
		jpeg_start_compress(&cinfo, TRUE);
		while (cinfo.next_scanline < cinfo.image_height) {
			JSAMPROW row = (JSAMPROW)(pix + (size_t)cinfo.next_scanline * w * comps);
			jpeg_write_scanlines(&cinfo, &row, 1);
		}
		jpeg_finish_compress(&cinfo);
	}
	jpeg_destroy_compress(&cinfo);
	if (fp != NULL && (fclose(fp) != 0 || *out == NULL) && err.status == J_OK) err.status = J_NOMEM;
	if (err.status == J_NOMEM) // malloc, or the stream's realloc (JERR_FILE_WRITE)
		snprintf(msg, JMSG_LENGTH_MAX, "not enough memory");
	if (err.status != J_OK) free(*out);
	return err.status;
}
*/
import "C"

import "unsafe"

var jpegStatus = [...]Category{C.J_OK: OK, C.J_DAMAGED: Damaged, C.J_UNSUPPORTED: Unsupported,
	C.J_TRUNCATED: Truncated, C.J_NOMEM: NoMemory, C.J_CHANGED: Unreadable}

// decodeJPEG decodes fp at 1/scale, which must give w x h pixels: gray or RGB.
func decodeJPEG(fp *C.FILE, scale, w, h int) (image, error) {
	var pix *C.uchar
	var bpp C.int
	var msg [C.JMSG_LENGTH_MAX]C.char
	st := C.piuma_jpeg_decode(fp, C.int(scale), C.int(w), C.int(h), &pix, &bpp, &msg[0])
	switch st {
	case C.J_OK:
		return image{unsafe.Slice((*byte)(pix), w*h*int(bpp)), w, h, int(bpp)}, nil
	case C.J_CHANGED: // another size, or not a JPEG any more
		return image{}, errChanged
	}
	return image{}, fail(jpegStatus[st], "%s", C.GoString(&msg[0]))
}

// encodeJPEG compresses a gray or RGB image; the result is C memory (cfree it).
func encodeJPEG(m image, quality int, optimize bool) ([]byte, error) {
	var out *C.char
	var size C.size_t
	var msg [C.JMSG_LENGTH_MAX]C.char
	st := C.piuma_jpeg_encode((*C.uchar)(&m.pix[0]), C.int(m.w), C.int(m.h), C.int(m.bpp),
		C.int(quality), C._Bool(optimize), &out, &size, &msg[0])
	if st != C.J_OK {
		return nil, fail(jpegStatus[st], "cannot encode JPEG: %s", C.GoString(&msg[0]))
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(out)), int(size)), nil
}
