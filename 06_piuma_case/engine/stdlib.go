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
// support (arithmetic coding, a 4-component file without Adobe marker, some
// sampling factors) libjpeg decodes, at full size too.
func decodeStdJPEG(f *os.File, job *Job) (image, error) {
	src, err := jpeg.Decode(bufio.NewReader(f))
	var unsupported jpeg.UnsupportedError
	if errors.As(err, &unsupported) {
		return decodeJPEG(f, 1, job.Width, job.Height) // reads from the start
	}
	if err != nil {
		return image{}, stdError(err)
	}
	b := src.Bounds()
	bpp := 3
	if _, ok := src.(*goimage.Gray); ok {
		bpp = 1
	}
	m, err := newImage(b.Dx(), b.Dy(), bpp)
	if err != nil {
		return m, err
	}
	i := 0
	switch s := src.(type) {
	case *goimage.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			i += copy(m.pix[i:], s.Pix[s.PixOffset(b.Min.X, y):s.PixOffset(b.Max.X, y)])
		}
	case *goimage.YCbCr: // any subsampling: each pixel takes its chroma sample
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x, i = x+1, i+3 {
				yi, ci := s.YOffset(x, y), s.COffset(x, y)
				m.pix[i], m.pix[i+1], m.pix[i+2] = color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
			}
		}
	case *goimage.CMYK: // un-inverted by image/jpeg; then Pillow's cmyk2rgb
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x, i = x+1, i+3 {
				p := s.Pix[s.PixOffset(x, y):]
				nk := 255 - int(p[3])
				for c := 0; c < 3; c++ {
					t := int(p[c])*nk + 128
					m.pix[i+c] = byte(nk - ((t>>8)+t)>>8)
				}
			}
		}
	default:
		m.free()
		return image{}, fail(Unsupported, "image/jpeg returned a %T", src)
	}
	return m, nil
}

// decodeStdPNG decodes as image/png does (tRNS applied), into gray (gray
// without tRNS; 16-bit: the high byte) or RGBA (16-bit: the high bytes).
func decodeStdPNG(f *os.File) (image, error) {
	src, err := png.Decode(bufio.NewReader(f))
	if err != nil {
		return image{}, stdError(err)
	}
	b := src.Bounds()
	bpp := 4
	switch src.(type) {
	case *goimage.Gray, *goimage.Gray16:
		bpp = 1
	}
	m, err := newImage(b.Dx(), b.Dy(), bpp)
	if err != nil {
		return m, err
	}
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			switch s := src.(type) {
			case *goimage.Gray:
				m.pix[i] = s.Pix[s.PixOffset(x, y)]
			case *goimage.Gray16:
				m.pix[i] = s.Pix[s.PixOffset(x, y)] // the high byte
			case *goimage.NRGBA:
				copy(m.pix[i:i+4], s.Pix[s.PixOffset(x, y):])
			case *goimage.NRGBA64: // high bytes
				p := s.Pix[s.PixOffset(x, y):]
				m.pix[i], m.pix[i+1], m.pix[i+2], m.pix[i+3] = p[0], p[2], p[4], p[6]
			default: // paletted, and the opaque RGBA, RGBA64: exact through NRGBA64
				c := color.NRGBA64Model.Convert(src.At(x, y)).(color.NRGBA64)
				m.pix[i], m.pix[i+1], m.pix[i+2], m.pix[i+3] = byte(c.R>>8), byte(c.G>>8), byte(c.B>>8), byte(c.A>>8)
			}
			i += bpp
		}
	}
	return m, nil
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
