package engine

import (
	"bytes"
	"fmt"
	goimage "image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadPNG reads a testdata PNG with image/png (the resize alone is under
// test) into an image of C memory (free it): gray 1 byte a pixel, RGB 3 as a
// JPEG decodes, RGBA 4; rgbAsRGBA: RGB as opaque RGBA, as libspng decodes an
// RGB PNG.
func loadPNG(t testing.TB, path string, rgbAsRGBA bool) image {
	t.Helper()
	data, err := os.ReadFile(path)
	var src goimage.Image
	if err == nil {
		src, err = png.Decode(bytes.NewReader(data))
	}
	if err != nil {
		t.Fatal(path, err)
	}
	var pix []byte // (a fresh decode: rows without padding)
	bpp := 4
	switch s := src.(type) {
	case *goimage.Gray:
		pix, bpp = s.Pix, 1
	case *goimage.NRGBA:
		pix = s.Pix
	case *goimage.RGBA: // RGB: opaque
		pix = s.Pix
		if !rgbAsRGBA {
			pix, bpp = rgb(s), 3
		}
	default:
		t.Fatalf("%s: %T", path, src)
	}
	m, err := newImage(src.Bounds().Dx(), src.Bounds().Dy(), bpp)
	if err != nil {
		t.Fatal(err)
	}
	copy(m.pix, pix)
	return m
}

// The resize makes Pillow's very pixels: every case of
// testdata/pillow/make_fixtures.py (both axes, one axis only, RGBA
// premultiplied, and reducing_gap's box reduction with partial boxes). RGB
// both as a JPEG decodes it and as libspng decodes a PNG (opaque RGBA).
func TestResizeIsPillows(t *testing.T) {
	srcs, _ := filepath.Glob("testdata/pillow/src-*.png")
	if len(srcs) < 8 {
		t.Fatalf("only %d fixtures", len(srcs))
	}
	for _, src := range srcs {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(src), "src-"), ".png")
		out := filepath.Join("testdata", "pillow", "out-"+name+".png")
		in, want := loadPNG(t, src, false), loadPNG(t, out, false)
		if in.bpp == 3 {
			resizeAsPillow(t, name+" as RGBA", loadPNG(t, src, true), loadPNG(t, out, true))
		}
		resizeAsPillow(t, name, in, want)
	}
}

// resizeAsPillow resizes in to want's size and compares; it frees both.
func resizeAsPillow(t *testing.T, name string, in, want image) {
	t.Helper()
	if in.bpp != want.bpp { // Pillow keeps the mode: an opaque RGBA output is RGBA
		t.Fatalf("%s: %d bytes a pixel, Pillow's %d", name, in.bpp, want.bpp)
	}
	got, err := resize(in, want.w, want.h)
	if err != nil {
		t.Fatal(name, err)
	}
	diff, worst := 0, 0
	for i := range got.pix {
		if d := int(got.pix[i]) - int(want.pix[i]); d != 0 {
			diff++
			worst = max(worst, d, -d)
		}
	}
	if diff > 0 {
		t.Errorf("%s: %d of %d samples differ from Pillow's (by up to %d)", name, diff, len(got.pix), worst)
	}
	got.free() // (resize freed in)
	want.free()
}

// An extreme shape stays cheap: 89,000,000 x 1 fitted in 800 pixels goes
// through a box reduction first, so the filter's weights are a few per output
// pixel (without it, each output pixel would weigh 222,500 input pixels).
func TestResizeOfAVeryThinImage(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 267 MB")
	}
	in, err := newImage(89_000_000, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in.pix {
		in.pix[i] = byte(i / 3 / 1_000_000) // a slow ramp
	}
	out, err := resize(in, 800, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer out.free()
	if out.w != 800 || out.h != 1 || out.pix[0] > 1 || out.pix[3*799] < 86 {
		t.Fatalf("%dx%d, first %d, last %d", out.w, out.h, out.pix[0], out.pix[3*799])
	}
	if wt := coeffs(89_000_000/37083+1, float32(89_000_000.0/37083), 800); wt.ksize > 15 {
		t.Errorf("%d weights an output pixel", wt.ksize)
	}
}

func TestOrient(t *testing.T) {
	// 3x2: 1 2 3 / 4 5 6, one byte a pixel; what each orientation shows.
	want := map[int]string{
		1: "[1 2 3 4 5 6] 3x2", 2: "[3 2 1 6 5 4] 3x2", 3: "[6 5 4 3 2 1] 3x2",
		4: "[4 5 6 1 2 3] 3x2", 5: "[1 4 2 5 3 6] 2x3", 6: "[4 1 5 2 6 3] 2x3",
		7: "[6 3 5 2 4 1] 2x3", 8: "[3 6 2 5 1 4] 2x3",
	}
	for o := 1; o <= 8; o++ {
		m, _ := newImage(3, 2, 1)
		copy(m.pix, []byte{1, 2, 3, 4, 5, 6})
		got, err := orient(m, o)
		if err != nil {
			t.Fatal(err)
		}
		if s := fmt.Sprintf("%v %dx%d", got.pix, got.w, got.h); s != want[o] {
			t.Errorf("orientation %d: %s, want %s", o, s, want[o])
		}
		got.free() // m itself for 1, else orient freed m
	}
}

// BenchmarkResize: a 1600x1067 RGB photo (a 3200-pixel JPEG drafted to
// 1/2) to 800x533, bicubic, as the product images go.
func BenchmarkResize(b *testing.B) {
	src := rgb(photo(1600, 1067, false, 1))
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		m, _ := newImage(1600, 1067, 3)
		copy(m.pix, src)
		b.StartTimer()
		out, err := resize(m, 800, 533)
		if err != nil {
			b.Fatal(err)
		}
		out.free()
	}
}
