package engine

// A fast path for the PNGs a shop receives: 8-bit RGB or RGBA, not
// interlaced. image/png decodes them with compress/flate, which took about
// twice the CPU of zlib on the product cut-outs (and then a copy through
// image/draw); here zlib (C) inflates and one C loop unfilters each row
// straight into the RGBA raster the resize wants.
//
// It only ever accepts a subset of what image/png accepts, with the same
// result: every chunk's CRC is checked, IHDR first, the IDAT chunks one run,
// the zlib stream (Adler-32 checked by zlib) ending exactly at the end of
// that run with exactly the pixel data the header announces, filter types
// 0..4, IEND empty. Any other file, valid or not (palette, gray, 16-bit,
// interlaced, tRNS, PLTE, unknown critical chunks, any damage), takes the
// image/png path, so its errors stay image/png's. TestPNGFastPathAgrees
// checks the subset and the pixels on thousands of damaged files.
//
// cgo pointer rules: the compressed data and the output raster are Go
// memory passed as call arguments; zlib's state and the two row buffers are
// C memory freed before returning.

/*
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "paeth.h"

// Inflates the IDAT data of a w x h image of bpp (3 or 4) bytes a pixel,
// nspans pieces of file (offset, length pairs in spans: the IDAT chunks'
// payloads, in place), and writes it unfiltered as RGBA into out (w*h*4
// bytes). Returns 0, or -1 for anything that is not exactly a valid stream.
static int piuma_png_inflate(const unsigned char *file, const size_t *spans, int nspans,
		int w, int h, int bpp, unsigned char *out) {
	size_t rowbytes = (size_t)w * bpp;
	unsigned char *rows = calloc(2, rowbytes + 1);
	if (rows == NULL) {
		return -1;
	}
	unsigned char *prev = rows + 1, *cur = rows + rowbytes + 2; // prev starts as zeros
	z_stream s;
	memset(&s, 0, sizeof s);
	if (inflateInit(&s) != Z_OK) {
		free(rows);
		return -1;
	}
	int span = 0, rc = 0, zrc = Z_OK;
	for (int y = 0; y < h && rc == 0; y++) {
		s.next_out = cur - 1; // the filter byte, then the row
		s.avail_out = (uInt)(rowbytes + 1);
		while (s.avail_out > 0 && zrc == Z_OK) {
			if (s.avail_in == 0) {
				if (span == nspans)
					break; // not enough pixel data
				s.next_in = (Bytef *)file + spans[2 * span];
				s.avail_in = (uInt)spans[2 * span + 1]; // < 2^31: a chunk's length
				span++;
			}
			zrc = inflate(&s, Z_NO_FLUSH);
			if (zrc == Z_BUF_ERROR && s.avail_in == 0)
				zrc = Z_OK; // wanted more input: the next chunk
		}
		if (s.avail_out > 0 || (zrc != Z_OK && zrc != Z_STREAM_END)) {
			rc = -1; // not enough pixel data, or a broken stream
			break;
		}
		if (zrc == Z_STREAM_END && y != h - 1) {
			rc = -1;
			break;
		}
		unsigned char f = cur[-1];
		switch (f) {
		case 0:
			break;
		case 1:
			for (size_t i = bpp; i < rowbytes; i++) cur[i] += cur[i - bpp];
			break;
		case 2:
			for (size_t i = 0; i < rowbytes; i++) cur[i] += prev[i];
			break;
		case 3:
			for (size_t i = 0; i < (size_t)bpp; i++) cur[i] += prev[i] >> 1;
			for (size_t i = bpp; i < rowbytes; i++) cur[i] += (cur[i - bpp] + prev[i]) >> 1;
			break;
		case 4:
			for (size_t i = 0; i < (size_t)bpp; i++) cur[i] += prev[i];
			for (size_t i = bpp; i < rowbytes; i++)
				cur[i] += piuma_paeth(cur[i - bpp], prev[i], prev[i - bpp]);
			break;
		default:
			rc = -1; // bad filter type
		}
		if (rc != 0)
			break;
		unsigned char *o = out + (size_t)y * w * 4;
		if (bpp == 4) {
			memcpy(o, cur, rowbytes);
		} else {
			for (int x = 0; x < w; x++) {
				o[4 * x] = cur[3 * x];
				o[4 * x + 1] = cur[3 * x + 1];
				o[4 * x + 2] = cur[3 * x + 2];
				o[4 * x + 3] = 255;
			}
		}
		unsigned char *t = prev; prev = cur; cur = t;
	}
	while (rc == 0 && zrc != Z_STREAM_END) { // the end of the stream, its checksum,
		unsigned char extra;                 // and no pixel data beyond the image
		if (s.avail_in == 0) {
			if (span == nspans) {
				rc = -1;
				break;
			}
			s.next_in = (Bytef *)file + spans[2 * span];
			s.avail_in = (uInt)spans[2 * span + 1];
			span++;
		}
		s.next_out = &extra;
		s.avail_out = 1;
		zrc = inflate(&s, Z_NO_FLUSH);
		if (s.avail_out != 1 || (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR))
			rc = -1;
		else if (zrc == Z_BUF_ERROR && s.avail_in != 0)
			rc = -1;
	}
	if (rc == 0 && s.avail_in != 0)
		rc = -1; // compressed data after the stream's end
	for (; rc == 0 && span < nspans; span++)
		if (spans[2 * span + 1] != 0)
			rc = -1; // IDAT chunks after the stream's end
	inflateEnd(&s);
	free(rows);
	return rc;
}
*/
import "C"

import (
	"encoding/binary"
	"hash/crc32"
	"unsafe"
)

// pngFast decodes an 8-bit RGB or RGBA, non-interlaced PNG into an RGBA
// raster (not premultiplied). ok is false for any other file: the caller
// then decodes it with image/png.
func pngFast(data []byte) (r raster, ok bool) {
	if len(data) < len(pngMagic) || string(data[:len(pngMagic)]) != string(pngMagic) {
		return raster{}, false
	}
	var w, h, bpp int
	var spans []C.size_t // offset, length of each IDAT payload: no copy
	var idatLen uint64
	stage := 0 // 0: before IHDR, 1: after IHDR, 2: in the IDAT run, 3: after it
	for i := len(pngMagic); ; {
		if i+12 > len(data) {
			return raster{}, false
		}
		n := binary.BigEndian.Uint32(data[i:])
		if n > 0x7fffffff || uint64(i)+12+uint64(n) > uint64(len(data)) {
			return raster{}, false
		}
		typ, body := string(data[i+4:i+8]), data[i+8:i+8+int(n)]
		if crc32.ChecksumIEEE(data[i+4:i+8+int(n)]) != binary.BigEndian.Uint32(data[i+8+int(n):]) {
			return raster{}, false
		}
		i += 12 + int(n)
		switch {
		case typ == "IHDR":
			if stage != 0 || n != 13 {
				return raster{}, false
			}
			w64, h64 := binary.BigEndian.Uint32(body), binary.BigEndian.Uint32(body[4:])
			depth, ct := body[8], body[9]
			if w64 == 0 || h64 == 0 || w64 > 0x7fffffff || h64 > 0x7fffffff || depth != 8 ||
				(ct != pngRGB && ct != pngRGBA) || body[10] != 0 || body[11] != 0 || body[12] != 0 {
				return raster{}, false
			}
			w, h, bpp = int(w64), int(h64), 3
			if ct == pngRGBA {
				bpp = 4
			}
			stage = 1
		case stage == 0:
			return raster{}, false // IHDR must come first
		case typ == "IDAT":
			if stage == 3 {
				return raster{}, false // a second run (image/png ignores it)
			}
			stage = 2
			spans = append(spans, C.size_t(i-4-int(n)), C.size_t(n))
			idatLen += uint64(n)
		case typ == "IEND":
			if stage < 2 || n != 0 {
				return raster{}, false
			}
			// deflate cannot expand more than 1032:1: a header that claims
			// more pixels than the data can hold is not worth an allocation.
			// (The engine has checked max_pixels already; this keeps the
			// function safe on its own, as the fuzz test calls it.)
			if uint64(h)*(uint64(w)*uint64(bpp)+1) > 1032*idatLen+1032 {
				return raster{}, false
			}
			r = raster{pix: make([]byte, 4*w*h), w: w, h: h, bpp: 4}
			if idatLen == 0 || C.piuma_png_inflate((*C.uchar)(unsafe.Pointer(&data[0])),
				&spans[0], C.int(len(spans)/2), C.int(w), C.int(h), C.int(bpp),
				(*C.uchar)(unsafe.Pointer(&r.pix[0]))) != 0 {
				return raster{}, false
			}
			return r, true
		case typ[0]&0x20 == 0 || typ == "tRNS":
			return raster{}, false // PLTE, tRNS or an unknown critical chunk
		default: // an ancillary chunk: image/png skips it too
			if stage == 2 {
				stage = 3
			}
		}
	}
}
