package engine

import (
	"image"
	"testing"

	"golang.org/x/image/draw"
)

// The resize of a 2400x1600 product photo to 800x533, with our
// Pillow-compatible resampler and with golang.org/x/image/draw's CatmullRom
// (the same kernel): `go test -bench Resize ./engine` shows why the engine
// has its own (see README.md, "Profile").

func benchSource() raster {
	src := raster{pix: make([]byte, 2400*1600*3), w: 2400, h: 1600, bpp: 3}
	for i := range src.pix {
		src.pix[i] = byte(i*7 + i/7200)
	}
	return src
}

func BenchmarkResizeOurs(b *testing.B) {
	src := benchSource()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resample(src, 800, 533)
	}
}

func BenchmarkResizeXImageDraw(b *testing.B) {
	src := toImage(benchSource()) // x/image/draw wants an image.Image: *image.NRGBA
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst := image.NewRGBA(image.Rect(0, 0, 800, 533))
		draw.CatmullRom.Scale(dst, dst.Rect, src, src.Bounds(), draw.Src, nil)
	}
}
