package engine

// A small cgo binding to libjpeg-turbo's TurboJPEG API (turbojpeg.h): just
// what the engine needs. It uses the TurboJPEG 2 functions, which libjpeg-turbo
// 3.x still provides.
//
// cgo pointer rules (https://pkg.go.dev/cmd/cgo#hdr-Passing_pointers): every
// Go byte slice below is passed to C only as a call argument (allowed: the
// memory holds no Go pointers and C does not keep it after the call returns).
// The compressed output is allocated by TurboJPEG in C memory and freed with
// tjFree. The suite also runs with GOEXPERIMENT=cgocheck2.

/*
#cgo LDFLAGS: -lturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>
*/
import "C"

import (
	"errors"
	"unsafe"
)

// turbo holds one TurboJPEG decompressor (the encoder is libjpeg's own API,
// jpegenc.go). A handle is not safe for concurrent use: each worker goroutine
// owns its own turbo.
//
// [excerpt: reset]
// After an error a TurboJPEG 2.x handle is not as good as new: libjpeg's
// state from the failed call can remain (an "Unsupported marker" or "two
// SOI markers" from one file was reported for every later file of the
// worker). So every failed call replaces its handle (resetDec): one bad file
// never spoils a good one.
type turbo struct {
	dec C.tjhandle
}

// resetDec replaces the decompressor after an error; its error text must be
// read before.
func (t *turbo) resetDec() error {
	C.tjDestroy(t.dec)
	if t.dec = C.tjInitDecompress(); t.dec == nil {
		return errors.New("libjpeg-turbo: cannot create a TurboJPEG handle")
	}
	return nil
}

// [/excerpt: reset]

// failed returns err, after replacing the handle; a failure to replace it
// is reported instead (the worker then fails its next files clearly).
func (t *turbo) failed(err error, reset func() error) error {
	if rerr := reset(); rerr != nil {
		return rerr
	}
	return err
}

func newTurbo() (*turbo, error) {
	t := &turbo{dec: C.tjInitDecompress()}
	if t.dec == nil {
		t.close()
		return nil, errors.New("libjpeg-turbo: cannot create a TurboJPEG handle")
	}
	return t, nil
}

func (t *turbo) close() {
	if t.dec != nil {
		C.tjDestroy(t.dec)
		t.dec = nil
	}
}

func tjError(h C.tjhandle) error {
	return errors.New(C.GoString(C.tjGetErrorStr2(h)))
}

// jpegColor is the colour space of a JPEG file, from its header.
type jpegColor int

const (
	colorRGB  jpegColor = iota // YCbCr or RGB: decoded to RGB
	colorGray                  // one component
	colorCMYK                  // CMYK or YCCK: decoded to CMYK, then RGB
)

// header reads the dimensions and colour space without decoding any pixel.
func (t *turbo) header(data []byte) (w, h int, color jpegColor, err error) {
	var cw, ch, subsamp, cs C.int
	if C.tjDecompressHeader3(t.dec, (*C.uchar)(unsafe.Pointer(&data[0])),
		C.ulong(len(data)), &cw, &ch, &subsamp, &cs) != 0 {
		return 0, 0, 0, t.failed(tjError(t.dec), t.resetDec)
	}
	switch cs {
	case C.TJCS_GRAY:
		color = colorGray
	case C.TJCS_CMYK, C.TJCS_YCCK:
		color = colorCMYK
	default:
		color = colorRGB
	}
	return int(cw), int(ch), color, nil
}

// decode decompresses data scaled by 1/denom (denom in 1, 2, 4, 8: the
// DCT-domain scaling that libjpeg-turbo does almost for free) into packed
// pixels: gray (1 byte), RGB (3) or Adobe-inverted CMYK (4).
// Warnings (a truncated file, corrupt data) are errors, as in Pillow.
func (t *turbo) decode(data []byte, color jpegColor, fullW, fullH, denom int) (raster, error) {
	sf := C.tjscalingfactor{num: 1, denom: C.int(denom)}
	r := raster{
		w: int((C.int(fullW)*sf.num + sf.denom - 1) / sf.denom), // TJSCALED
		h: int((C.int(fullH)*sf.num + sf.denom - 1) / sf.denom),
	}
	var pf C.int
	switch color {
	case colorGray:
		pf, r.bpp = C.TJPF_GRAY, 1
	case colorCMYK:
		pf, r.bpp = C.TJPF_CMYK, 4
	default:
		pf, r.bpp = C.TJPF_RGB, 3
	}
	r.pix = make([]byte, r.w*r.h*r.bpp)
	if C.tjDecompress2(t.dec, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)),
		(*C.uchar)(unsafe.Pointer(&r.pix[0])), C.int(r.w), C.int(r.w*r.bpp), C.int(r.h), pf,
		C.TJFLAG_STOPONWARNING) != 0 {
		return raster{}, t.decodeError()
	}
	return r, nil
}

// decodeError is the error of a failed decompression, after which the
// handle is replaced.
func (t *turbo) decodeError() error {
	err := tjError(t.dec)
	if C.tjGetErrorCode(t.dec) == C.TJERR_WARNING {
		// With TJFLAG_STOPONWARNING, TurboJPEG 2.1 does not put the
		// warning's text in the handle (tjGetErrorStr2 says "No
		// error"): say what a libjpeg warning means here.
		err = errors.New("corrupt or truncated JPEG data (libjpeg-turbo warning)")
	}
	return t.failed(err, t.resetDec)
}
