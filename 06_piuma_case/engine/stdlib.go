package engine

// Go's own decoders, image/jpeg (option stdlib_jpeg: the talk's "jpeg.Decode
// is really slow", measured by `make bench`) and image/png (stdlib_png: the
// bench compares it with libspng). They decode into the Go heap, without DCT
// scaling; the pixels are copied into a C buffer of the same layout as the
// libraries' and go the same way from there.

import (
	"bufio"
	"errors"
	"io"
	"os"

	goimage "image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// decodeStdJPEG decodes at full size, gray or RGB. What image/jpeg does not
// support (arithmetic coding, some sampling factors) or decodes to CMYK,
// libjpeg decodes, at full size too.
func decodeStdJPEG(f *os.File, job *Job) (image, error) {
	src, err := jpeg.Decode(bufio.NewReader(f))
	var unsupported jpeg.UnsupportedError
	if _, cmyk := src.(*goimage.CMYK); cmyk || errors.As(err, &unsupported) {
		return decodeJPEG(f, 1, job.Width, job.Height) // reads from the start
	} else if err != nil {
		return image{}, stdError(err)
	}
	ycc, _ := src.(*goimage.YCbCr)
	return fromGo(src, 3, func(s goimage.Image, x, y int, p []byte) {
		if ycc == nil { // RGB (Adobe transform 0): *image.RGBA
			c := color.RGBAModel.Convert(s.At(x, y)).(color.RGBA)
			p[0], p[1], p[2] = c.R, c.G, c.B
			return
		}
		yi, ci := ycc.YOffset(x, y), ycc.COffset(x, y) // any subsampling: the pixel's chroma sample
		p[0], p[1], p[2] = color.YCbCrToRGB(ycc.Y[yi], ycc.Cb[ci], ycc.Cr[ci])
	})
}

// decodeStdPNG decodes as image/png does (tRNS applied), into gray (gray
// without tRNS; 16-bit: the high byte) or RGBA (16-bit: the high bytes).
func decodeStdPNG(f *os.File) (image, error) {
	src, err := png.Decode(bufio.NewReader(f))
	if err != nil {
		return image{}, stdError(err)
	}
	if g, ok := src.(*goimage.Gray16); ok {
		return fromGo(src, 1, func(_ goimage.Image, x, y int, p []byte) { p[0] = g.Pix[g.PixOffset(x, y)] })
	}
	return fromGo(src, 4, func(s goimage.Image, x, y int, p []byte) {
		if n, ok := s.(*goimage.NRGBA); ok { // 8-bit RGB(A): as it is
			copy(p, n.Pix[n.PixOffset(x, y):])
			return
		}
		c := color.NRGBA64Model.Convert(s.At(x, y)).(color.NRGBA64) // exact, then the high bytes
		p[0], p[1], p[2], p[3] = byte(c.R>>8), byte(c.G>>8), byte(c.B>>8), byte(c.A>>8)
	})
}

// fromGo copies a Go image into C memory: *image.Gray as it is, anything
// else bpp bytes a pixel through px.
func fromGo(src goimage.Image, bpp int, px func(s goimage.Image, x, y int, p []byte)) (image, error) {
	b := src.Bounds()
	g, gray := src.(*goimage.Gray)
	if gray {
		bpp = 1
	}
	m, err := newImage(b.Dx(), b.Dy(), bpp)
	for y, i := b.Min.Y, 0; err == nil && y < b.Max.Y; y++ {
		if gray {
			i += copy(m.pix[i:], g.Pix[g.PixOffset(b.Min.X, y):g.PixOffset(b.Max.X, y)])
			continue
		}
		for x := b.Min.X; x < b.Max.X; x, i = x+1, i+bpp {
			px(src, x, y, m.pix[i:i+bpp])
		}
	}
	return m, err
}

// stdError puts an image/jpeg or image/png error in its category.
func stdError(err error) error {
	var unsupportedJ jpeg.UnsupportedError
	var unsupportedP png.UnsupportedError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fail(Truncated, "the file ends early")
	case errors.As(err, &unsupportedJ) || errors.As(err, &unsupportedP):
		return fail(Unsupported, "%v", err)
	}
	return fail(Damaged, "%v", err)
}
