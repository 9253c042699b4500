package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
)

var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
)

// errNotImage is the error for content that is neither JPEG nor PNG.
var errNotImage = errors.New("not a JPEG or PNG image")

// converter turns the bytes of one image file into the bytes of its output.
// Each worker goroutine owns one (TurboJPEG handles are not shareable).
type converter struct {
	opts    *Options
	turbo   *turbo // nil with the image/jpeg codec
	srcRoot string // resolved source root: outputs must not land inside it
}

// output describes an encoded image.
type output struct {
	data          []byte
	isPNG         bool
	width, height int
}

// checkPixels refuses decompression bombs from the header alone.
func (c *converter) checkPixels(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("invalid image size %dx%d", w, h)
	}
	if n := int64(w) * int64(h); n > c.opts.MaxPixels {
		return fmt.Errorf("image too large: %dx%d = %d pixels, limit is %d (max_pixels)",
			w, h, n, c.opts.MaxPixels)
	}
	return nil
}

// The format comes from the content (magic bytes), never from the name.
func (c *converter) convert(data []byte) (output, error) {
	switch {
	case bytes.HasPrefix(data, jpegMagic):
		if c.turbo != nil {
			return c.jpegTurbo(data)
		}
		return c.jpegStdlib(data)
	case bytes.HasPrefix(data, pngMagic):
		return c.png(data)
	}
	return output{}, errNotImage
}

// target returns the size to resize to, in the stored orientation (the
// resize happens before orienting: fewer pixels to move).
func (c *converter) target(w, h, o int) (sw, sh int) {
	ow, oh := orientedSize(w, h, o)
	tw, th := fit(ow, oh, c.opts.Width, c.opts.Height)
	return orientedSize(tw, th, o)
}

// jpegTurbo: libjpeg-turbo decode, with DCT scaling when the target is at
// least twice smaller, then resize, orient and encode.
func (c *converter) jpegTurbo(data []byte) (output, error) {
	w, h, cs, err := c.turbo.header(data)
	if err != nil {
		return output{}, fmt.Errorf("cannot decode JPEG: %w", err)
	}
	if err := c.checkPixels(w, h); err != nil {
		return output{}, err
	}
	o := orientation(data, false)
	sw, sh := c.target(w, h, o)
	denom := 1
	if c.opts.Draft && (sw < w || sh < h) {
		denom = draftDenom(w, h, sw, sh)
	}
	r, err := c.turbo.decode(data, cs, w, h, denom)
	if err != nil {
		return output{}, fmt.Errorf("cannot decode JPEG: %w", err)
	}
	if cs == colorCMYK {
		r = cmykToRGB(r)
	}
	return c.encodeJPEG(orient(resample(r, sw, sh), o))
}

// jpegStdlib: the pure Go path, image/jpeg (which has no DCT scaling).
func (c *converter) jpegStdlib(data []byte) (output, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return output{}, fmt.Errorf("cannot decode JPEG: %w", err)
	}
	if err := c.checkPixels(cfg.Width, cfg.Height); err != nil {
		return output{}, err
	}
	o := orientation(data, false)
	sw, sh := c.target(cfg.Width, cfg.Height, o)
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return output{}, fmt.Errorf("cannot decode JPEG: %w", err)
	}
	var r raster
	switch m := m.(type) {
	case *image.Gray:
		r = raster{pix: packed(m.Pix, m.Stride, m.Rect.Dx(), m.Rect.Dy()), w: m.Rect.Dx(), h: m.Rect.Dy(), bpp: 1}
	case *image.YCbCr:
		r = ycbcrToRGB(m)
	case *image.CMYK:
		// image/jpeg has undone the Adobe inversion already: redo it, so
		// one conversion serves both codecs.
		r = raster{pix: packed(m.Pix, m.Stride, 4*m.Rect.Dx(), m.Rect.Dy()), w: m.Rect.Dx(), h: m.Rect.Dy(), bpp: 4}
		for i := range r.pix {
			r.pix[i] = 255 - r.pix[i]
		}
		r = cmykToRGB(r)
	default:
		return output{}, fmt.Errorf("cannot decode JPEG: unexpected %T", m)
	}
	return c.encodeJPEG(orient(resample(r, sw, sh), o))
}

// packed copies rows of n bytes out of a strided buffer.
func packed(pix []byte, stride, n, rows int) []byte {
	out := make([]byte, n*rows)
	for y := 0; y < rows; y++ {
		copy(out[y*n:(y+1)*n], pix[y*stride:y*stride+n])
	}
	return out
}

// ycbcrToRGB converts image/jpeg's planar YCbCr (any subsampling) to packed
// RGB, with image/color's conversion.
func ycbcrToRGB(m *image.YCbCr) raster {
	b := m.Rect
	r := raster{pix: make([]byte, 3*b.Dx()*b.Dy()), w: b.Dx(), h: b.Dy(), bpp: 3}
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			r.pix[i], r.pix[i+1], r.pix[i+2] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			i += 3
		}
	}
	return r
}

// cmykToRGB converts Adobe-inverted CMYK (what Photoshop, Pillow and
// libjpeg write, and what TurboJPEG returns) to RGB. With the inverted
// values c' = 255-c, k' = 255-k: R = c'*k'/255, as Pillow and image/color.
func cmykToRGB(r raster) raster {
	out := raster{pix: make([]byte, 3*r.w*r.h), w: r.w, h: r.h, bpp: 3}
	for i, j := 0, 0; i+4 <= len(r.pix); i, j = i+4, j+3 {
		k := uint32(r.pix[i+3])
		for c := 0; c < 3; c++ {
			t := uint32(r.pix[i+c])*k + 128
			out.pix[j+c] = byte(((t >> 8) + t) >> 8)
		}
	}
	return out
}

func (c *converter) encodeJPEG(r raster) (output, error) {
	out := output{width: r.w, height: r.h}
	if c.turbo != nil {
		data, err := c.turbo.encode(r, c.opts.Quality)
		out.data = data
		return out, err
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, toImage(r), &jpeg.Options{Quality: c.opts.Quality}); err != nil {
		return out, fmt.Errorf("cannot encode JPEG: %w", err)
	}
	out.data = buf.Bytes()
	return out, nil
}

// toImage wraps or converts a raster for the image/* encoders: gray as
// *image.Gray, RGB as an opaque *image.NRGBA, RGBA (non-premultiplied) as
// *image.NRGBA.
func toImage(r raster) image.Image {
	rect := image.Rect(0, 0, r.w, r.h)
	switch r.bpp {
	case 1:
		return &image.Gray{Pix: r.pix, Stride: r.w, Rect: rect}
	case 3:
		m := image.NewNRGBA(rect)
		for i, j := 0, 0; i+3 <= len(r.pix); i, j = i+3, j+4 {
			m.Pix[j], m.Pix[j+1], m.Pix[j+2], m.Pix[j+3] = r.pix[i], r.pix[i+1], r.pix[i+2], 255
		}
		return m
	}
	return &image.NRGBA{Pix: r.pix, Stride: 4 * r.w, Rect: rect}
}

// png: image/png decode, resize, orient, encode as gray (a gray source
// without transparency), RGB (no transparent pixel left) or RGBA.
func (c *converter) png(data []byte) (output, error) {
	// IHDR comes first (magic, length, "IHDR", width, height): check the size
	// there, so that a huge one is "image too large" as in Pillow, not
	// image/png's "dimension overflow" (it refuses sizes whose byte count
	// overflows an int).
	if len(data) >= 24 && string(data[12:16]) == "IHDR" {
		w, h := binary.BigEndian.Uint32(data[16:]), binary.BigEndian.Uint32(data[20:])
		if err := c.checkPixels(int(w), int(h)); err != nil {
			return output{}, err
		}
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return output{}, fmt.Errorf("cannot decode PNG: %w", err)
	}
	if err := c.checkPixels(cfg.Width, cfg.Height); err != nil {
		return output{}, err
	}
	o := orientation(data, true)
	sw, sh := c.target(cfg.Width, cfg.Height, o)
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return output{}, fmt.Errorf("cannot decode PNG: %w", err)
	}
	b := m.Bounds()
	var r raster
	switch g := m.(type) {
	case *image.Gray:
		r = raster{pix: packed(g.Pix, g.Stride, b.Dx(), b.Dy()), w: b.Dx(), h: b.Dy(), bpp: 1}
	case *image.Gray16:
		r = raster{pix: make([]byte, b.Dx()*b.Dy()), w: b.Dx(), h: b.Dy(), bpp: 1}
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				r.pix[y*b.Dx()+x] = g.Pix[y*g.Stride+2*x] // high byte
			}
		}
	default:
		n := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(n, n.Rect, m, b.Min, draw.Src)
		r = raster{pix: n.Pix, w: b.Dx(), h: b.Dy(), bpp: 4}
		premultiply(r.pix)
	}
	r = orient(resample(r, sw, sh), o)
	if r.bpp == 4 {
		unpremultiply(r.pix)
	}
	// image/png writes an *image.NRGBA whose pixels are all opaque as RGB.
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, toImage(r)); err != nil {
		return output{}, fmt.Errorf("cannot encode PNG: %w", err)
	}
	return output{data: buf.Bytes(), isPNG: true, width: r.w, height: r.h}, nil
}
