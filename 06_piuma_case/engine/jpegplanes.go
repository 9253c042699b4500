package engine

// Colour JPEGs stay in YCbCr from decode to encode.
//
// A JPEG stores Y, Cb and Cr, the chroma planes usually at half resolution
// (4:2:0). Decoding to RGB upsamples the chroma and converts every pixel;
// the encoder then converts back and downsamples again. Here TurboJPEG
// decodes to the planes themselves (tjDecompressToYUVPlanes), each plane is
// resized on its own (the luma to the target, the chroma to half of it: for
// a 4:2:0 source half the bytes an RGB resize moves), oriented, and libjpeg
// encodes them as they are (raw_data_in, jpegenc.go). Resizing is linear,
// like the YCbCr <-> RGB conversion, so this is the same picture up to
// rounding; bench.py measures its PSNR against the reference like any other.
//
// The DCT scale is draftDenom's (Pillow's rule: 1/2, 1/4 or 1/8, keeping at
// least twice the target). Measured on the product photos: decoding straight
// to the target's size (what libvips's shrink-on-load does) loses 2-3 dB of
// PSNR; libjpeg-turbo's other factors (3/8, 5/8, 6/8, 7/8) have no SIMD
// IDCT, cost as much time as a full decode and gave no better pictures.
//
// cgo pointer rules: the planes are Go memory, each passed as a separate
// call argument (an array of Go pointers may not be passed to C), and the C
// wrapper builds the array TurboJPEG wants on its own stack.

/*
#include <turbojpeg.h>

static int piuma_tj_planes(tjhandle h, const unsigned char *buf, unsigned long size,
		unsigned char *y, unsigned char *cb, unsigned char *cr, int sy, int scb, int scr,
		int width, int height, int flags) {
	unsigned char *planes[3] = {y, cb, cr};
	int strides[3] = {sy, scb, scr};
	return tjDecompressToYUVPlanes(h, buf, size, planes, width, strides, height, flags);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// scaled is TurboJPEG's TJSCALED: a dimension scaled by num/denom, rounded up.
func scaled(dim, num, denom int) int { return (dim*num + denom - 1) / denom }

// jpegPlanes converts a YCbCr JPEG through its planes. ok is false when the
// file is not YCbCr with one of TurboJPEG's subsamplings (CMYK, RGB,
// grayscale): the caller takes the RGB path then.
func (c *converter) jpegPlanes(data []byte, w, h, o, sw, sh int) (out output, ok bool, err error) {
	var cw, ch, subsamp, cs C.int
	if C.tjDecompressHeader3(c.turbo.dec, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)),
		&cw, &ch, &subsamp, &cs) != 0 {
		// (The caller has read this header already.) A failed call leaves
		// the handle unusable: replace it, and let the RGB path report.
		if err := c.turbo.resetDec(); err != nil {
			return output{}, true, err
		}
		return output{}, false, nil
	}
	if cs != C.TJCS_YCbCr {
		return output{}, false, nil
	}
	switch subsamp {
	case C.TJSAMP_444, C.TJSAMP_422, C.TJSAMP_420, C.TJSAMP_440, C.TJSAMP_411:
	default:
		return output{}, false, nil
	}
	denom := 1
	if c.opts.Draft && (sw < w || sh < h) {
		denom = draftDenom(w, h, sw, sh)
	}
	dw, dh := scaled(w, 1, denom), scaled(h, 1, denom)
	var p [3]raster
	for i := range p {
		pw := int(C.tjPlaneWidth(C.int(i), C.int(dw), subsamp))
		ph := int(C.tjPlaneHeight(C.int(i), C.int(dh), subsamp))
		if pw <= 0 || ph <= 0 {
			return output{}, true, fmt.Errorf("cannot decode JPEG: bad plane size %dx%d", pw, ph)
		}
		p[i] = raster{pix: make([]byte, pw*ph), w: pw, h: ph, bpp: 1}
	}
	if C.piuma_tj_planes(c.turbo.dec, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)),
		(*C.uchar)(unsafe.Pointer(&p[0].pix[0])), (*C.uchar)(unsafe.Pointer(&p[1].pix[0])),
		(*C.uchar)(unsafe.Pointer(&p[2].pix[0])), C.int(p[0].w), C.int(p[1].w), C.int(p[2].w),
		C.int(dw), C.int(dh), C.TJFLAG_STOPONWARNING) != 0 {
		return output{}, true, fmt.Errorf("cannot decode JPEG: %w", c.turbo.decodeError())
	}
	// TurboJPEG pads the luma plane to whole chroma samples (tjPlaneWidth:
	// 1065 rows become 1066 in 4:2:0): resizing the padding too would
	// stretch the picture by a row, 3-5 dB lost here. Crop it; the chroma
	// planes are ceil(size / subsampling), exactly what the image covers.
	if p[0].w != dw || p[0].h != dh {
		for y := 0; y < dh; y++ { // in place: rows only move towards the start
			copy(p[0].pix[y*dw:(y+1)*dw], p[0].pix[y*p[0].w:y*p[0].w+dw])
		}
		p[0] = raster{pix: p[0].pix[:dw*dh], w: dw, h: dh, bpp: 1}
	}
	// Luma to the target, chroma to half of it (4:2:0 output), in the
	// stored orientation; then each plane is oriented.
	targets := [3][2]int{{sw, sh}, {(sw + 1) / 2, (sh + 1) / 2}, {(sw + 1) / 2, (sh + 1) / 2}}
	for i := range p {
		p[i] = orient(c.resample(p[i], targets[i][0], targets[i][1]), o)
	}
	data, err = jpegCompress(true, [3][]byte{p[0].pix, p[1].pix, p[2].pix},
		[3]int{p[0].w, p[1].w, p[2].w}, p[0].w, p[0].h, 3, c.opts.Quality, c.inProcess())
	return output{data: data, width: p[0].w, height: p[0].h}, true, err
}
