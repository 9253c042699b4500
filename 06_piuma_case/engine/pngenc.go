package engine

// The PNG encoder: Go writes the chunks, zlib (C) compresses the image data.
//
// Go's image/png did the job before, but compress/flate spent more CPU than
// libjpeg-turbo on a whole JPEG, and it cannot write the palette PNGs of the
// in-process optimiser at the settings pngquant uses (zlib level 9,
// memLevel 5, no filters): within 2% of pngquant's bytes needs the same
// compressor. zlib is on every Linux system (and in the manylinux policy, so
// a wheel links the system's copy). Row filtering (adaptive for true colour,
// as image/png and libpng choose) and deflate run in one C loop, row by row:
// no filtered copy of the whole image is ever made.
//
// cgo pointer rules: pixels and the output buffer are Go memory, passed as
// call arguments only; zlib's state is C memory freed before returning.

/*
#cgo LDFLAGS: -lz
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int piuma_abs8(unsigned char v) { int s = (signed char)v; return s < 0 ? -s : s; }

#include "paeth.h"

// Compresses h rows of rowbytes bytes (stride apart) as PNG image data: each
// row behind its filter byte. adaptive: per row the filter whose residuals,
// read as signed bytes, have the smallest sum of absolute values (libpng's
// and image/png's heuristic); else filter 0 (none), what palette images use.
// Returns a zlib code (Z_OK on success) and the compressed size in *outn.
// limit > 0: give up, returning 1, as soon as more than limit bytes are out
// (deflate's output only grows: the whole stream would be larger still).
static int piuma_png_idat(const unsigned char *pix, size_t stride, size_t rowbytes,
		int h, int bpp, int adaptive, int level, int memlevel, size_t limit,
		unsigned char *out, size_t cap, size_t *outn) {
	z_stream s;
	memset(&s, 0, sizeof s);
	unsigned char *buf = calloc(6, rowbytes + 1); // 5 candidates + a zero row
	if (buf == NULL)
		return Z_MEM_ERROR;
	int rc = deflateInit2(&s, level, Z_DEFLATED, 15, memlevel, Z_DEFAULT_STRATEGY);
	if (rc != Z_OK) {
		free(buf);
		return rc;
	}
	unsigned char *cand[5], *zero = buf + 5 * (rowbytes + 1) + 1;
	for (int f = 0; f < 5; f++) {
		cand[f] = buf + f * (rowbytes + 1);
		cand[f][0] = (unsigned char)f;
	}
	s.next_out = out;
	s.avail_out = (uInt)cap;
	for (int y = 0; y < h && rc == Z_OK; y++) {
		const unsigned char *cur = pix + (size_t)y * stride;
		const unsigned char *up = y > 0 ? cur - stride : zero;
		int best = 0;
		if (adaptive) {
			unsigned char *c1 = cand[1] + 1, *c2 = cand[2] + 1, *c3 = cand[3] + 1, *c4 = cand[4] + 1;
			long sum[5] = {0, 0, 0, 0, 0};
			for (size_t i = 0; i < rowbytes; i++) {
				int a = i >= (size_t)bpp ? cur[i - bpp] : 0;
				int c = i >= (size_t)bpp ? up[i - bpp] : 0;
				int b = up[i], x = cur[i];
				c1[i] = (unsigned char)(x - a);
				c2[i] = (unsigned char)(x - b);
				c3[i] = (unsigned char)(x - ((a + b) >> 1));
				c4[i] = (unsigned char)(x - piuma_paeth(a, b, c));
				sum[0] += piuma_abs8((unsigned char)x);
				sum[1] += piuma_abs8(c1[i]);
				sum[2] += piuma_abs8(c2[i]);
				sum[3] += piuma_abs8(c3[i]);
				sum[4] += piuma_abs8(c4[i]);
			}
			for (int f = 1; f < 5; f++)
				if (sum[f] < sum[best])
					best = f;
		}
		if (best == 0)
			memcpy(cand[0] + 1, cur, rowbytes);
		s.next_in = cand[best];
		s.avail_in = (uInt)(rowbytes + 1);
		rc = deflate(&s, Z_NO_FLUSH);
		if (rc == Z_OK && s.avail_in != 0)
			rc = Z_BUF_ERROR; // out of room: cannot happen with deflateBound's size
		if (rc == Z_OK && limit > 0 && s.total_out > limit) {
			*outn = s.total_out;
			deflateEnd(&s);
			free(buf);
			return 1; // over the limit: the caller does not want this file
		}
	}
	if (rc == Z_OK) {
		rc = deflate(&s, Z_FINISH);
		rc = rc == Z_STREAM_END ? Z_OK : Z_BUF_ERROR;
	}
	*outn = s.total_out;
	deflateEnd(&s);
	free(buf);
	return rc;
}
*/
import "C"

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"unsafe"
)

// PNG colour types.
const (
	pngGray    = 0
	pngRGB     = 2
	pngPalette = 3
	pngRGBA    = 6
)

// zlib levels: Go's image/png default (6) for the true-colour output, and
// pngquant's (9, memLevel 5: "judging by optipng results, smaller mem makes
// libpng compress slightly better", rwpng.c) for palette images.
const (
	zlibDefault = 6
	zlibBest    = 9
)

// errTooLarge: the compressed data outgrew the caller's limit.
var errTooLarge = errors.New("over the size limit")

// pngIDAT compresses h rows of rowBytes bytes, stride apart. limit > 0:
// errTooLarge as soon as the output exceeds limit bytes.
func pngIDAT(pix []byte, stride, rowBytes, h, bpp int, adaptive bool, level, memLevel, limit int) ([]byte, error) {
	n := (rowBytes + 1) * h
	if h <= 0 || rowBytes <= 0 || len(pix) < stride*(h-1)+rowBytes {
		return nil, fmt.Errorf("cannot encode PNG: bad image layout")
	}
	// zlib's bound for non-default settings (deflate.c, deflateBound), plus
	// the zlib header and checksum.
	bound := n + (n+7)>>3 + (n+63)>>6 + 5 + 6
	if bound > math.MaxUint32 {
		return nil, fmt.Errorf("cannot encode PNG: image too large for one deflate call")
	}
	out := make([]byte, bound)
	var outN C.size_t
	rc := C.piuma_png_idat((*C.uchar)(unsafe.Pointer(&pix[0])), C.size_t(stride), C.size_t(rowBytes),
		C.int(h), C.int(bpp), C.int(b2i(adaptive)), C.int(level), C.int(memLevel), C.size_t(max(limit, 0)),
		(*C.uchar)(unsafe.Pointer(&out[0])), C.size_t(len(out)), &outN)
	if rc == 1 {
		return nil, errTooLarge
	}
	if rc != C.Z_OK {
		return nil, fmt.Errorf("cannot encode PNG: zlib error %d", int(rc))
	}
	return out[:outN], nil
}

// pngWriter assembles chunks.
type pngWriter struct{ bytes.Buffer }

func (w *pngWriter) chunk(typ string, data []byte) {
	var head [8]byte
	binary.BigEndian.PutUint32(head[:4], uint32(len(data)))
	copy(head[4:], typ)
	w.Write(head[:])
	w.Write(data)
	crc := crc32.NewIEEE()
	crc.Write(head[4:])
	crc.Write(data)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	w.Write(sum[:])
}

func (w *pngWriter) header(width, height, depth, colorType int) {
	w.Write(pngMagic)
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8], ihdr[9] = byte(depth), byte(colorType) // compression, filter, interlace: 0
	w.chunk("IHDR", ihdr[:])
}

// pngOverhead: the bytes of a PNG besides its image data (signature, IHDR,
// one IDAT header and CRC, IEND).
const pngOverhead = 8 + 25 + 12 + 12

// pngTrueColor encodes a gray (bpp 1) or RGBA (bpp 4, not premultiplied)
// raster: RGBA is written as RGB when every pixel is opaque (what image/png
// did with such an image, and what the Python engine does). limit > 0:
// errTooLarge as soon as the file would have more than limit bytes.
func pngTrueColor(r raster, limit int) ([]byte, error) {
	ct := pngGray
	switch r.bpp {
	case 1:
	case 3:
		ct = pngRGB
	case 4:
		ct = pngRGBA
		if opaque(r.pix) {
			r, ct = dropAlpha(r), pngRGB
		}
	default:
		return nil, fmt.Errorf("cannot encode PNG: %d bytes per pixel", r.bpp)
	}
	if limit > 0 {
		limit = max(1, limit-pngOverhead)
	}
	idat, err := pngIDAT(r.pix, r.w*r.bpp, r.w*r.bpp, r.h, r.bpp, true, zlibDefault, 8, limit)
	if err != nil {
		return nil, err
	}
	var w pngWriter
	w.Grow(len(idat) + 64)
	w.header(r.w, r.h, 8, ct)
	w.chunk("IDAT", idat)
	w.chunk("IEND", nil)
	return w.Bytes(), nil
}

// pngPaletted encodes palette indices as pngquant's rwpng.c does: the
// smallest bit depth that holds the palette, PLTE, tRNS up to the last
// entry that is not opaque (libimagequant sorts those first), no filter,
// zlib level 9 with memLevel 5, and no other chunk (--strip).
func pngPaletted(idx []byte, w, h int, pal [][4]byte) ([]byte, error) {
	depth := 8
	switch n := len(pal); {
	case n <= 2:
		depth = 1
	case n <= 4:
		depth = 2
	case n <= 16:
		depth = 4
	}
	rowBytes := (w*depth + 7) / 8
	rows := idx
	if depth < 8 { // pack the indices, most significant bits first
		rows = make([]byte, rowBytes*h)
		per := 8 / depth
		for y := 0; y < h; y++ {
			src, dst := idx[y*w:(y+1)*w], rows[y*rowBytes:(y+1)*rowBytes]
			for x, v := range src {
				dst[x/per] |= v << (8 - depth*(x%per+1))
			}
		}
	}
	idat, err := pngIDAT(rows, rowBytes, rowBytes, h, 1, false, zlibBest, 5, 0)
	if err != nil {
		return nil, err
	}
	plte := make([]byte, 0, 3*len(pal))
	trns := make([]byte, 0, len(pal))
	ntrns := 0
	for i, c := range pal {
		plte = append(plte, c[0], c[1], c[2])
		trns = append(trns, c[3])
		if c[3] != 255 {
			ntrns = i + 1
		}
	}
	var buf pngWriter
	buf.Grow(len(idat) + len(plte) + len(trns) + 96)
	buf.header(w, h, depth, pngPalette)
	buf.chunk("PLTE", plte)
	if ntrns > 0 {
		buf.chunk("tRNS", trns[:ntrns])
	}
	buf.chunk("IDAT", idat)
	buf.chunk("IEND", nil)
	return buf.Bytes(), nil
}

func opaque(rgba []byte) bool {
	for i := 3; i < len(rgba); i += 4 {
		if rgba[i] != 255 {
			return false
		}
	}
	return true
}

func dropAlpha(r raster) raster {
	out := raster{pix: make([]byte, 3*r.w*r.h), w: r.w, h: r.h, bpp: 3}
	for i, j := 0, 0; i+4 <= len(r.pix); i, j = i+4, j+3 {
		out.pix[j], out.pix[j+1], out.pix[j+2] = r.pix[i], r.pix[i+1], r.pix[i+2]
	}
	return out
}

// encodePNG writes the resized PNG: true colour; with the in-process
// optimiser, the libimagequant palette version when pngquant's
// --skip-if-larger rule keeps it.
//
// The rule compares the palette file with the true-colour one, which is
// then not needed when the palette one wins, the usual case. So the palette
// file comes first, and the true-colour encode stops as soon as its output
// passes the size at which the palette file wins (deflate's output only
// grows): the same decision as encoding both in full, for a fraction of the
// true-colour encode (here ~120 ms of CPU for an 800x533 RGBA image).
func (c *converter) encodePNG(r raster) (output, error) {
	out := output{isPNG: true, width: r.w, height: r.h}
	if !c.inProcess() {
		data, err := pngTrueColor(r, 0)
		out.data = data
		return out, err
	}
	q, err := quantize(r)
	if err != nil {
		return output{}, err
	}
	small, err := pngPaletted(q.indices, r.w, r.h, q.palette)
	if err != nil {
		return output{}, err
	}
	data, err := pngTrueColor(r, winningSize(len(small), q.quality)-1)
	switch {
	case errors.Is(err, errTooLarge):
		out.data = small
	case err != nil:
		return output{}, err
	case keepQuantized(len(small), len(data), q.quality):
		out.data = small
	default:
		out.data = data
	}
	return out, nil
}

// keepQuantized is pngquant 2.17's --skip-if-larger rule (pngquant.c): the
// palette image must not exceed the input's size - 1 scaled by
// max(0.5, (quality/100)^1.5), "to avoid losing more quality than is gained
// in file size", and (as the subprocess route keeps the smaller of the two)
// it must be smaller than the true-colour file.
func keepQuantized(quantized, trueColor, quality int) bool {
	expected := math.Max(0.5, math.Pow(float64(quality)/100, 1.5))
	limit := uint64(float64(trueColor-1) * expected) // C's double -> size_t
	return uint64(quantized) <= limit && quantized < trueColor
}

// winningSize is the smallest true-colour size at which keepQuantized keeps
// a quantised file of the given size and quality.
func winningSize(quantized, quality int) int {
	expected := math.Max(0.5, math.Pow(float64(quality)/100, 1.5))
	t := int(float64(quantized)/expected) + 1
	for t > quantized+1 && keepQuantized(quantized, t-1, quality) {
		t--
	}
	for !keepQuantized(quantized, t, quality) {
		t++
	}
	return t
}
