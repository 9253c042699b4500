package engine

// Go's image/jpeg (the talk's "jpeg.Decode is really slow": `make bench`) and
// image/png decode into the Go heap, then copy into C memory.

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

// decodeStd decodes f whole, in the libraries' layout; libjpeg decodes what
// image/jpeg does not support (arithmetic coding...) or decodes to CMYK.
func decodeStd(f *os.File, job *Job) (image, error) {
	var src goimage.Image
	var err error
	if job.Format == PNG {
		src, err = png.Decode(bufio.NewReader(f))
	} else if src, err = jpeg.Decode(bufio.NewReader(f)); err == nil {
		if _, cmyk := src.(*goimage.CMYK); cmyk {
			return decodeJPEG(f, 1, job.Width, job.Height) // reads from the start
		}
	} else if _, unsupported := err.(jpeg.UnsupportedError); unsupported {
		return decodeJPEG(f, 1, job.Width, job.Height)
	}
	if err != nil {
		return image{}, stdError(err)
	}
	var px func(x, y int, p []byte) // one pixel into p
	bpp := [...]int{JPEG: 3, PNG: 4}[job.Format]
	switch s := src.(type) {
	case *goimage.Gray: // copied a row at a time, below
		bpp = 1
	case *goimage.Gray16:
		px, bpp = func(x, y int, p []byte) { p[0] = s.Pix[s.PixOffset(x, y)] }, 1
	case *goimage.YCbCr: // any subsampling: the pixel's chroma sample
		px = func(x, y int, p []byte) {
			yi, ci := s.YOffset(x, y), s.COffset(x, y)
			p[0], p[1], p[2] = color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
		}
	case *goimage.NRGBA: // 8-bit RGBA: as it is
		px = func(x, y int, p []byte) { copy(p, s.Pix[s.PixOffset(x, y):]) }
	default: // RGB-coded JPEG; PNG: RGB, palette, 16-bit (exact, then the high bytes)
		px = func(x, y int, p []byte) {
			c := color.NRGBA64Model.Convert(s.At(x, y)).(color.NRGBA64)
			copy(p, []byte{byte(c.R >> 8), byte(c.G >> 8), byte(c.B >> 8), byte(c.A >> 8)})
		}
	}
	b := src.Bounds()
	m, err := newImage(b.Dx(), b.Dy(), bpp)
	for y, i := b.Min.Y, 0; err == nil && y < b.Max.Y; y++ {
		if g, ok := src.(*goimage.Gray); ok {
			i += copy(m.pix[i:], g.Pix[g.PixOffset(b.Min.X, y):g.PixOffset(b.Max.X, y)])
		}
		for x := b.Min.X; px != nil && x < b.Max.X; x, i = x+1, i+bpp {
			px(x, y, m.pix[i:i+bpp])
		}
	}
	return m, err
}

func stdError(err error) error {
	switch err.(type) {
	case jpeg.UnsupportedError, png.UnsupportedError:
		return fail(Unsupported, "%v", err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fail(Truncated, "the file ends early")
	}
	return fail(Damaged, "%v", err)
}
