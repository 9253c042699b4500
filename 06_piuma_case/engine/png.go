package engine

// PNG through libspng 0.7.3 (fuzzed; limits on image size, inflated metadata
// and chunk count; chunk CRCs checked). Decode: gray without tRNS -> 1 byte a
// pixel, else RGBA8 with tRNS applied (16-bit: the high byte, as Pillow).
// Encode: true colour as Pillow saves it (zlib level 6, adaptive filters; Go's
// image/png was 20% faster when measured, but the optimiser stops this encode
// early, where both cost the same); the palette file byte for byte as pngquant writes it
// (but for zlib's 2-byte header of an image under 16 KiB, where libpng names a smaller window).

/*
#cgo LDFLAGS: -lspng
#include <stdlib.h>
#include <string.h>
#include <spng.h>

enum { PNG_OVER = -4 }; // over the limit

// Decodes fp, a w x h PNG, into *pix (malloc'ed; *bpp 1 or 4): 0, or an error.
static int piuma_png_decode(FILE *fp, int w, int h, unsigned char **pix, int *bpp) {
	*pix = NULL;
	spng_ctx *ctx = spng_ctx_new(0);
	struct spng_ihdr ihdr;
	struct spng_trns trns;
	size_t size = 0;
	int fmt = SPNG_FMT_RGBA8, rc = ctx ? spng_set_png_file(ctx, fp) : SPNG_EMEM;
	// Text, iCCP and friends may inflate to 1 MiB each, 64 MiB in all (Pillow's
	// MAX_TEXT_CHUNK, MAX_TEXT_MEMORY); never other pixels than the probe saw.
	if (!rc) rc = spng_set_chunk_limits(ctx, 1 << 20, 64 << 20);
	if (!rc) rc = spng_get_ihdr(ctx, &ihdr);
	int trns_rc = rc ? rc : spng_get_trns(ctx, &trns); // reads the chunks up to the image data
	if (trns_rc != SPNG_ECHUNKAVAIL) rc = trns_rc; // 0: a tRNS chunk
	// Then the size: a second IHDR (Pillow's) is libspng's error, not a change.
	if (!rc && (ihdr.width != (uint32_t)w || ihdr.height != (uint32_t)h)) rc = SPNG_EUSER_WIDTH;
	int gray = !rc && ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE;
	if (gray && trns_rc == 0 && ihdr.bit_depth < 8) {
		// A key out of range for 1, 2 or 4 bits (Pillow's 1_trns.png: 255):
		// libpng, hence Pillow, keeps its low bits; libspng never matches it.
		trns.gray &= (1 << ihdr.bit_depth) - 1;
		rc = spng_set_trns(ctx, &trns);
	}
	*bpp = gray && trns_rc == SPNG_ECHUNKAVAIL ? 1 : 4;
	if (*bpp == 1) // gray, no tRNS: 1, 2, 4, 8 bits as G8; 16 bits as they are, then halved
		fmt = ihdr.bit_depth == 16 ? SPNG_FMT_PNG : SPNG_FMT_G8;
	if (!rc) rc = spng_decoded_image_size(ctx, fmt, &size);
	if (!rc && (*pix = malloc(size)) == NULL) rc = SPNG_EMEM;
	if (!rc) rc = spng_decode_image(ctx, *pix, size, fmt, SPNG_DECODE_TRNS);
	// The chunks after the image: the last IDAT's CRC checked (libspng stops
	// inflating at the last row); no IEND is fine, as for Pillow.
	if (!rc) {
		rc = spng_decode_chunks(ctx);
		if (rc == SPNG_IO_EOF || rc == SPNG_EOF) rc = 0;
	}
	if (!rc && fmt == SPNG_FMT_PNG) // host-endian 16-bit samples -> their high byte
		for (size_t i = 0; i < (size_t)w * h; i++)
			(*pix)[i] = ((uint16_t *)*pix)[i] >> 8;
	spng_ctx_free(ctx);
	if (rc) free(*pix);
	return rc;
}

// Encodes h rows (len bytes) as a w x h PNG into *out, *size bytes (the caller
// frees it) through a memory stream closed before the call returns. plte: n
// RGBA entries, or NULL. limit > 0: PNG_OVER once the file is larger.
static int piuma_png_encode(const unsigned char *pix, size_t len, int w, int h, int color,
                            int depth, const unsigned char *plte, int n, long limit,
                            char **out, size_t *size) {
	FILE *fp = open_memstream(out, size);
	spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
	struct spng_ihdr ihdr = {w, h, depth, color, 0, 0, 0};
	int rc = fp && ctx ? spng_set_png_file(ctx, fp) : SPNG_EMEM;
	if (!rc) rc = spng_set_ihdr(ctx, &ihdr);
	if (!rc && plte != NULL) {
		struct spng_plte p = {.n_entries = n};
		struct spng_trns t = {.n_type3_entries = 0};
		for (int i = 0; i < n; i++) {
			p.entries[i] = (struct spng_plte_entry){plte[4 * i], plte[4 * i + 1], plte[4 * i + 2], 255};
			t.type3_alpha[i] = plte[4 * i + 3];
			if (plte[4 * i + 3] != 255) t.n_type3_entries = i + 1;
		}
		rc = spng_set_plte(ctx, &p);
		if (!rc && t.n_type3_entries) rc = spng_set_trns(ctx, &t);
		if (!rc) rc = spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, 9);
		if (!rc) rc = spng_set_option(ctx, SPNG_IMG_MEM_LEVEL, 5);
		if (!rc) rc = spng_set_option(ctx, SPNG_FILTER_CHOICE, SPNG_DISABLE_FILTERING);
	} else if (!rc) {
		// Pillow's (libspng's Z_FILTERED took 10% more CPU when measured, sizes within 1%).
		rc = spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, 6);
		if (!rc) rc = spng_set_option(ctx, SPNG_IMG_COMPRESSION_STRATEGY, 0); // Z_DEFAULT_STRATEGY
		if (!rc) rc = spng_set_option(ctx, SPNG_FILTER_CHOICE, SPNG_FILTER_CHOICE_ALL);
	}
	if (!rc) rc = spng_encode_image(ctx, NULL, 0, SPNG_FMT_PNG, SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE);
	for (int y = 0; !rc && y < h; y++) {
		rc = spng_encode_row(ctx, pix + len / h * y, len / h);
		if (rc == SPNG_EOI) rc = 0; // the last row, and IEND, are written
		if (!rc && limit && ftell(fp) > limit) rc = PNG_OVER;
	}
	spng_ctx_free(ctx);
	if (rc == SPNG_IO_ERROR) rc = SPNG_EMEM; // a write to memory fails for lack of it
	if (fp && (fclose(fp) || !*out) && !rc) rc = SPNG_EMEM;
	if (rc) free(*out);
	return rc;
}
*/
import "C"

import (
	"errors"
	"math"
	"sort"
	"unsafe"
)

// decodePNG decodes fp, a w x h PNG: gray, or RGBA.
func decodePNG(fp *C.FILE, w, h int) (image, error) {
	var pix *C.uchar
	var bpp C.int
	rc := C.piuma_png_decode(fp, C.int(w), C.int(h), &pix, &bpp)
	msg := C.GoString(C.spng_strerror(rc))
	switch rc {
	case 0:
		return image{unsafe.Slice((*byte)(pix), w*h*int(bpp)), w, h, int(bpp)}, nil
	case C.SPNG_IO_EOF, C.SPNG_EOF:
		return image{}, fail(Truncated, "the file ends early (%s)", msg)
	case C.SPNG_EIDAT_TOO_SHORT: // the image data ends before the last row, as Pillow says
		return image{}, fail(Truncated, "%s", msg)
	case C.SPNG_IO_ERROR:
		return image{}, fail(Unreadable, "%s", msg)
	case C.SPNG_EMEM:
		return image{}, fail(NoMemory, "cannot allocate the %dx%d image", w, h)
	case C.SPNG_ESIGNATURE, C.SPNG_EUSER_WIDTH:
		return image{}, errChanged
	}
	return image{}, fail(Damaged, "%s", msg)
}

var errOver = errors.New("over the size limit")

// encodePNG writes a gray, RGB or RGBA image (or, with pal, palette indices of
// the given bit depth) as a PNG in C memory (cfree it). limit > 0: errOver as
// soon as the file has more bytes (deflate's output only grows).
func encodePNG(m image, depth int, pal [][4]byte, limit int) ([]byte, error) {
	color, plte := C.SPNG_COLOR_TYPE_INDEXED, (*C.uchar)(nil)
	if pal == nil {
		color = [...]int{1: C.SPNG_COLOR_TYPE_GRAYSCALE, 3: C.SPNG_COLOR_TYPE_TRUECOLOR,
			4: C.SPNG_COLOR_TYPE_TRUECOLOR_ALPHA}[m.bpp]
	} else {
		plte = (*C.uchar)(&pal[0][0]) // [][4]byte: 4 bytes an entry, contiguous
	}
	var out *C.char
	var size C.size_t
	rc := C.piuma_png_encode((*C.uchar)(&m.pix[0]), C.size_t(len(m.pix)), C.int(m.w), C.int(m.h),
		C.int(color), C.int(depth), plte, C.int(len(pal)), C.long(limit), &out, &size)
	switch rc {
	case 0:
		return unsafe.Slice((*byte)(unsafe.Pointer(out)), int(size)), nil
	case C.PNG_OVER:
		return nil, errOver
	case C.SPNG_EMEM:
		return nil, fail(NoMemory, "cannot encode PNG: %s", C.GoString(C.spng_strerror(rc)))
	}
	return nil, fail(Internal, "cannot encode PNG: %s", C.GoString(C.spng_strerror(rc)))
}

// encodePalette writes w x h palette indices as pngquant does: packed in
// place, most significant bits first, to the smallest bit depth.
func encodePalette(idx []byte, w, h int, pal [][4]byte) ([]byte, error) {
	depth := 8 // the smallest of 8, 4, 2, 1 bits that holds len(pal) entries
	for depth > 1 && len(pal) <= 1<<(depth/2) {
		depth /= 2
	}
	rowBytes, per := (w*depth+7)/8, 8/depth
	for i := 0; depth < 8 && i < w*h; i++ {
		x, v := i%w, idx[i]
		j := i/w*rowBytes + x/per // j <= i: each byte is written after it is read
		if x%per == 0 {
			idx[j] = 0
		}
		idx[j] |= v << (8 - depth*(x%per+1))
	}
	return encodePNG(image{pix: idx[:rowBytes*h], w: w, h: h}, depth, pal, 0)
}

// winningSize is the smallest true-colour size at which pngquant 2.17's
// --skip-if-larger rule keeps a palette file of q bytes: q at most that size - 1
// scaled by max(0.5, (quality/100)^1.5); in q+1 .. 2q+1, where the rule only grows.
func winningSize(q, quality int) int {
	expected := math.Max(0.5, math.Pow(float64(quality)/100, 1.5))
	return q + 1 + sort.Search(q+1, func(i int) bool {
		return uint64(q) <= uint64(float64(q+i)*expected) // C's double -> size_t
	})
}
