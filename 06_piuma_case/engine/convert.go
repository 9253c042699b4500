package engine

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"runtime"
	"strings"
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
	opts   *Options
	turbo  *turbo   // nil with the image/jpeg codec
	out    *outputs // the destination tree (shared by the workers)
	budget *budget  // memory for decoding (shared by the workers)
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
		return fmt.Errorf("invalid image size in the header: width %d, height %d", w, h)
	}
	if n := int64(w) * int64(h); n > c.opts.MaxPixels {
		return fmt.Errorf("image too large: %dx%d = %d pixels, limit is %d (max_pixels)",
			w, h, n, c.opts.MaxPixels)
	}
	return nil
}

// header is what the probe of a file found.
type header struct {
	png  bool
	jpeg jpegInfo
	pngi pngInfo
	w, h int
}

// probe reads the header of an open source of size bytes: the format from
// the magic bytes (never from the name), then the header, then the checks
// that need no more than the header.
func (c *converter) probe(f io.ReaderAt, size int64) (header, error) {
	var hd header
	if size == 0 {
		return hd, errEmpty
	}
	var head [8]byte
	n, err := f.ReadAt(head[:], 0)
	if n < len(head) && err != nil && err != io.EOF {
		return hd, fmt.Errorf("cannot read file: %s", plainError(err))
	}
	switch {
	case bytes.HasPrefix(head[:n], jpegMagic):
	case bytes.HasPrefix(head[:n], pngMagic):
		hd.png = true
	default:
		return hd, errNotImage
	}
	if limit := maxFileBytes(c.opts.MaxPixels); size > limit {
		return hd, fmt.Errorf("file too large: %s, more than an image of %d pixels (max_pixels) can take (%s)",
			humanBytes(size), c.opts.MaxPixels, humanBytes(limit))
	}
	if satAdd(size, memOverhead) > c.budget.limit { // its header is not even read
		return hd, fmt.Errorf("not enough memory: the file is %s, max_memory is %s",
			humanBytes(size), humanBytes(c.budget.limit))
	}
	if hd.png {
		if hd.pngi, err = probePNG(f, size); err != nil {
			return hd, err
		}
		hd.w, hd.h = hd.pngi.width, hd.pngi.height
	} else {
		if hd.jpeg, err = probeJPEG(f, size); err != nil {
			return hd, err
		}
		hd.w, hd.h = hd.jpeg.width, hd.jpeg.height
	}
	if err := c.checkPixels(hd.w, hd.h); err != nil {
		return hd, err
	}
	if !hd.png {
		return hd, hd.jpeg.check()
	}
	return hd, nil
}

// memory is the estimate of what converting the file needs.
func (c *converter) memory(hd header, size int64) int64 {
	k := imageKind{png: hd.png, quantized: hd.png && c.inProcess()}
	if hd.png {
		k.channels, k.sixteen, k.interlaced = hd.pngi.channels(), hd.pngi.depth == 16, hd.pngi.interla == 1
	} else {
		k.channels, k.progressive, k.lossless = len(hd.jpeg.comps), hd.jpeg.progressive(), hd.jpeg.sof == 0xC3
	}
	// The target in both orientations (EXIF is read after the file).
	tw1, th1 := c.target(hd.w, hd.h, 1)
	tw2, th2 := c.target(hd.w, hd.h, 6)
	return estimateMemory(size, hd.w, hd.h, max(tw1, tw2), max(th1, th2), k)
}

// convertFile converts an open source: header, memory, then the whole file.
func (c *converter) convertFile(f io.ReaderAt, size int64) (output, error) {
	hd, err := c.probe(f, size)
	if err != nil {
		return output{}, err
	}
	need := c.memory(hd, size)
	if need > c.budget.limit {
		return output{}, fmt.Errorf("not enough memory: this %dx%d image needs about %s, max_memory is %s",
			hd.w, hd.h, humanBytes(need), humanBytes(c.budget.limit))
	}
	c.budget.acquire(need)
	defer func() {
		c.budget.release(need)
		if need >= bigAllocation {
			// Collect now: the next file's buffers reuse this memory instead
			// of growing the heap to twice the budget before a collection.
			runtime.GC()
		}
	}()
	data, err := readAll(f, size)
	if err != nil {
		return output{}, fmt.Errorf("cannot read file: %s", plainError(err))
	}
	// The file may have changed since its header was read: read it again
	// from the bytes that are decoded.
	hd2, err := c.probe(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return output{}, err
	}
	if hd2.png != hd.png || hd2.w != hd.w || hd2.h != hd.h {
		return output{}, errors.New("cannot read file: it changed while it was being read")
	}
	if hd.png {
		return c.png(data, hd2.pngi)
	}
	return c.jpeg(data, hd2.jpeg)
}

// bigAllocation: files that needed this much are followed by a collection.
const bigAllocation = 64 << 20

// target returns the size to resize to, in the stored orientation (the
// resize happens before orienting: fewer pixels to move).
func (c *converter) target(w, h, o int) (sw, sh int) {
	ow, oh := orientedSize(w, h, o)
	tw, th := fit(ow, oh, c.opts.Width, c.opts.Height)
	return orientedSize(tw, th, o)
}

// jpeg decodes with libjpeg-turbo (DCT scaling when the target is at least
// twice smaller) or image/jpeg; lossless JPEGs with decodeLossless; what
// TurboJPEG or image/jpeg refuse but libjpeg decodes (unusual sampling
// factors) with libjpeg's own API. Then resize, orient and encode.
func (c *converter) jpeg(data []byte, info jpegInfo) (output, error) {
	w, h := info.width, info.height
	o := orientation(data, false)
	sw, sh := c.target(w, h, o)
	cs := colorRGB
	switch len(info.comps) {
	case 1:
		cs = colorGray
	case 4:
		cs = colorCMYK
	}
	denom := 1
	if c.opts.Draft && c.turbo != nil && (sw < w || sh < h) {
		denom = draftDenom(w, h, sw, sh)
	}
	var r raster
	var err error
	switch {
	case info.sof == 0xC3:
		r, err = decodeLossless(data, info)
		if err != nil {
			return output{}, err
		}
	case c.turbo != nil:
		if _, _, _, herr := c.turbo.header(data); herr != nil {
			// TurboJPEG cannot name this file's subsampling (or refuses
			// its header): libjpeg's own API decodes what libjpeg can.
			r, err = libjpegDecode(data, cs, w, h, denom)
			break
		}
		if cs == colorRGB { // YCbCr stays YCbCr (jpegplanes.go)
			if out, ok, perr := c.jpegPlanes(data, w, h, o, sw, sh); ok {
				return out, perr
			}
		}
		r, err = c.turbo.decode(data, cs, w, h, denom)
	default:
		r, err = c.jpegStdlib(data, cs, w, h)
	}
	if err != nil {
		return output{}, fmt.Errorf("cannot decode JPEG: %w", err)
	}
	if r.bpp == 4 {
		r = cmykToRGB(r)
	}
	return c.encodeJPEG(orient(c.resample(r, sw, sh), o))
}

// jpegStdlib: the pure Go path, image/jpeg (which has no DCT scaling). The
// files it does not support (unusual sampling factors, arithmetic coding)
// go to libjpeg's own API, as with TurboJPEG.
func (c *converter) jpegStdlib(data []byte, cs jpegColor, w, h int) (raster, error) {
	m, err := jpeg.Decode(bytes.NewReader(data))
	var unsupported jpeg.UnsupportedError
	if errors.As(err, &unsupported) {
		return libjpegDecode(data, cs, w, h, 1)
	}
	if err != nil {
		return raster{}, err
	}
	switch m := m.(type) {
	case *image.Gray:
		return raster{pix: packed(m.Pix, m.Stride, m.Rect.Dx(), m.Rect.Dy()), w: m.Rect.Dx(), h: m.Rect.Dy(), bpp: 1}, nil
	case *image.YCbCr:
		return ycbcrToRGB(m), nil
	case *image.CMYK:
		// image/jpeg has undone the Adobe inversion already: redo it, so
		// one conversion serves every codec.
		r := raster{pix: packed(m.Pix, m.Stride, 4*m.Rect.Dx(), m.Rect.Dy()), w: m.Rect.Dx(), h: m.Rect.Dy(), bpp: 4}
		for i := range r.pix {
			r.pix[i] = 255 - r.pix[i]
		}
		return r, nil
	}
	return raster{}, fmt.Errorf("unexpected %T", m)
}

// packed copies rows of n bytes out of a strided buffer (or returns it as
// it is when its rows are contiguous already).
func packed(pix []byte, stride, n, rows int) []byte {
	if stride == n && len(pix) == n*rows {
		return pix
	}
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
	if c.turbo != nil || c.inProcess() {
		// libjpeg (jpegenc.go), with optimised Huffman tables in process;
		// image/jpeg has no such option.
		data, err := jpegEncode(r, c.opts.Quality, c.inProcess())
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

// png: structure and metadata checks (scanPNG), image/png decode, resize,
// orient, encode as gray (a gray source without transparency), RGB (no
// transparent pixel left) or RGBA.
func (c *converter) png(data []byte, info pngInfo) (output, error) {
	scan, err := scanPNG(data)
	if err != nil {
		return output{}, err
	}
	o := scan.meta.orientation()
	sw, sh := c.target(info.width, info.height, o)
	r, fast := pngFast(data) // 8-bit RGB(A) through zlib (pngdec.go)
	if !fast {
		m, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			return output{}, pngError(err)
		}
		r = pngRaster(m)
	}
	// Premultiplied alpha only around a real resize (transparent pixels
	// must not bleed their colour into the edges): the round trip through
	// 8-bit premultiplied values loses the colour of low-alpha pixels, so
	// an image that is not resized keeps its pixels exactly.
	resize := sw != r.w || sh != r.h
	if r.bpp == 4 && resize {
		premultiply(r.pix)
	}
	r = orient(c.resample(r, sw, sh), o)
	if r.bpp == 4 && resize {
		unpremultiply(r.pix)
	}
	return c.encodePNG(r) // pngenc.go
}

// pngError says what image/png found, without its repeated prefixes
// ("png: invalid format: png: invalid format: not enough pixel data").
func pngError(err error) error {
	msg := err.Error()
	kind := "damaged image data"
	if strings.Contains(msg, "png: unsupported feature: ") {
		kind = "unsupported feature"
	}
	for _, p := range []string{"png: invalid format: ", "png: unsupported feature: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return fmt.Errorf("cannot decode PNG: %s (%s)", kind, msg)
}

// pngRaster converts what image/png returns to packed gray (1 byte) or
// non-premultiplied RGBA (4 bytes), exactly: 16-bit samples keep their
// high byte; image/draw is not used, as its conversions go through
// premultiplied values and change the colour of low-alpha pixels.
func pngRaster(m image.Image) raster {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	switch g := m.(type) {
	case *image.Gray:
		return raster{pix: packed(g.Pix, g.Stride, w, h), w: w, h: h, bpp: 1}
	case *image.Gray16:
		r := raster{pix: make([]byte, w*h), w: w, h: h, bpp: 1}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				r.pix[y*w+x] = g.Pix[y*g.Stride+2*x] // high byte
			}
		}
		return r
	case *image.NRGBA:
		return raster{pix: packed(g.Pix, g.Stride, 4*w, h), w: w, h: h, bpp: 4}
	case *image.RGBA: // image/png uses it for opaque images only
		return raster{pix: packed(g.Pix, g.Stride, 4*w, h), w: w, h: h, bpp: 4}
	case *image.NRGBA64, *image.RGBA64:
		var pix []byte
		var stride int
		if n, ok := g.(*image.NRGBA64); ok {
			pix, stride = n.Pix, n.Stride
		} else {
			r64 := g.(*image.RGBA64) // opaque: premultiplied equals straight
			pix, stride = r64.Pix, r64.Stride
		}
		r := raster{pix: make([]byte, 4*w*h), w: w, h: h, bpp: 4}
		for y := 0; y < h; y++ {
			for x := 0; x < 4*w; x++ {
				r.pix[y*4*w+x] = pix[y*stride+2*x]
			}
		}
		return r
	}
	// Paletted (and anything else): colour by colour; image/png's palette
	// entries are color.NRGBA (with tRNS) or opaque color.RGBA.
	r := raster{pix: make([]byte, 4*w*h), w: w, h: h, bpp: 4}
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
			r.pix[i], r.pix[i+1], r.pix[i+2], r.pix[i+3] = c.R, c.G, c.B, c.A
			i += 4
		}
	}
	return r
}
