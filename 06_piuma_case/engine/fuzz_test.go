package engine

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// FuzzConvert feeds the Go decode path (header probe, PNG scan, EXIF,
// TurboJPEG, libjpeg, the lossless decoder, image/png, image/jpeg, resize,
// encoders) with mutated files:
//
//	go test -run '^$' -fuzz FuzzConvert -fuzztime 5m ./engine
//
// Its seed corpus (generated images, testdata/*.jpg and any crasher saved
// under testdata/fuzz) runs with every `go test`. For every input:
// no panic; an output is a complete image of the announced size; and the
// same converter then still converts a good JPEG: a bad file never
// spoils the next one (TurboJPEG handles are reset after an error).
func FuzzConvert(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	good := seedJPEG(f, 48, 32, false)
	tj, err := newTurbo()
	if err != nil {
		f.Fatal(err)
	}
	opts := &Options{Width: 40, Height: 40, Quality: 80, Draft: true,
		MaxPixels: DefaultMaxPixels, MaxMemory: 16 << 20}
	turboConv := &converter{opts: opts, turbo: tj, budget: newBudget(opts.MaxMemory)}
	stdConv := &converter{opts: opts, budget: newBudget(opts.MaxMemory)}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range []*converter{turboConv, stdConv} {
			out, err := c.convertFile(bytes.NewReader(data), int64(len(data)))
			if err == nil {
				checkOutput(t, out)
			} else if err.Error() == "" {
				t.Fatal("an error without words")
			}
			out, err = c.convertFile(bytes.NewReader(good), int64(len(good)))
			if err != nil {
				t.Fatalf("a good JPEG fails after this input: %v", err)
			}
			checkOutput(t, out)
		}
	})
}

func checkOutput(t *testing.T, out output) {
	t.Helper()
	var m image.Image
	var err error
	if out.isPNG {
		m, err = png.Decode(bytes.NewReader(out.data))
	} else {
		m, err = jpeg.Decode(bytes.NewReader(out.data))
	}
	if err != nil {
		t.Fatalf("the output does not decode: %v", err)
	}
	if b := m.Bounds(); b.Dx() != out.width || b.Dy() != out.height || b.Dx() > 40 || b.Dy() > 40 {
		t.Fatalf("output %dx%d, announced %dx%d", b.Dx(), b.Dy(), out.width, out.height)
	}
}

func seedImage(w, h int, alpha bool) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a := uint8(255)
			if alpha {
				a = uint8(x * 255 / w)
			}
			m.Set(x, y, color.NRGBA{uint8(x * 5), uint8(y * 7), uint8(x * y), a})
		}
	}
	return m
}

func seedJPEG(tb testing.TB, w, h int, gray bool) []byte {
	var buf bytes.Buffer
	var m image.Image = seedImage(w, h, false)
	if gray {
		g := image.NewGray(m.Bounds())
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				g.Set(x, y, m.At(x, y))
			}
		}
		m = g
	}
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func fuzzSeeds(tb testing.TB) [][]byte {
	seeds := [][]byte{seedJPEG(tb, 48, 32, false), seedJPEG(tb, 20, 30, true),
		exifJPEG(tb, 6, binary.LittleEndian)}
	for _, m := range []image.Image{seedImage(30, 20, true), seedImage(30, 20, false),
		image.NewGray16(image.Rect(0, 0, 9, 7)), image.NewPaletted(image.Rect(0, 0, 9, 7),
			color.Palette{color.NRGBA{1, 2, 3, 0}, color.NRGBA{200, 100, 50, 255}})} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, m); err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, buf.Bytes())
	}
	// Files the Python side writes (test_hostile_files.py regenerates them):
	// lossless JPEGs, unusual sampling factors, PNG metadata.
	files, _ := filepath.Glob(filepath.Join("testdata", "seeds", "*"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	return seeds
}
