package engine

import (
	"bytes"
	goimage "image"
	"image/color"
	"os"
	"path/filepath"
	"testing"
)

// FuzzConvert feeds the engine (libjpeg-turbo, libspng) mutated JPEG and PNG
// files, each as a job on a file, as Python's probe would leave it when the
// file changed since:
//
//	go test -run '^$' -fuzz FuzzConvert -fuzztime 3m -fuzzminimizetime 5s ./engine
//
// (Each new input is minimised for up to 60 s by default: the run seems to
// stall at 0 execs/s meanwhile.)
// Its seeds (generated files, testdata/seeds, testdata/pillow, and what a
// fuzz run saved under testdata/fuzz) run with every `go test`. For every
// input: no crash and no internal error; an output is a complete image of the
// job's size; an error has words; and then, in the same worker, a good JPEG
// and a good PNG still convert: a bad file never spoils the next one.
func FuzzConvert(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	dir := f.TempDir()
	goodJPEG := newJob(f, dir, encodeJPEGBytes(f, photo(24, 16, false, 1), 90), 0, 0)
	goodPNG := newJob(f, dir, encodePNGBytes(f, photo(16, 24, true, 2)), 0, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		w, h := 8, 8
		if cfg, _, err := goimage.DecodeConfig(bytes.NewReader(data)); err == nil {
			w, h = cfg.Width, cfg.Height
		}
		if w <= 0 || h <= 0 || w*h > 1<<22 { // the probe refuses these
			return
		}
		j := newJob(t, t.TempDir(), data, w, h)
		j.Width, j.Height = w, h
		j.OutWidth, j.OutHeight, j.Orientation = (w+1)/2, (h+2)/3, 1+len(data)%8
		opts := Options{Quality: 80, Workers: 1, Optimize: len(data)%3 == 0}
		res := Run([]Job{j, goodJPEG, goodPNG}, opts, nil)
		switch r := res[0]; {
		case r.Category == OK:
			m := output(t, j)
			ow, oh := j.OutWidth, j.OutHeight
			if j.Orientation >= 5 {
				ow, oh = oh, ow
			}
			if b := m.Bounds(); b.Dx() != ow || b.Dy() != oh || r.Width != ow || r.Height != oh {
				t.Fatalf("output %v, result %dx%d, want %dx%d", b, r.Width, r.Height, ow, oh)
			}
		case r.Category == Internal || r.Category > Internal || r.Err == "":
			t.Fatalf("category %d: %q", r.Category, r.Err)
		}
		for i, r := range res[1:] {
			if r.Category != OK {
				t.Fatalf("good file %d after this input: category %d, %s", i, r.Category, r.Err)
			}
		}
	})
}

func fuzzSeeds(tb testing.TB) [][]byte {
	gray := goimage.NewGray(goimage.Rect(0, 0, 20, 30))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i * 7)
	}
	g16 := goimage.NewGray16(goimage.Rect(0, 0, 9, 7))
	pal := goimage.NewPaletted(goimage.Rect(0, 0, 9, 7), color.Palette{color.NRGBA{1, 2, 3, 0}, color.NRGBA{200, 100, 50, 255}})
	seeds := [][]byte{encodeJPEGBytes(tb, photo(48, 32, false, 1), 90), encodeJPEGBytes(tb, gray, 80),
		libjpegFile(tb, 40, 24, true), encodePNGBytes(tb, photo(30, 20, true, 3)),
		encodePNGBytes(tb, photo(30, 20, false, 4)), encodePNGBytes(tb, g16), encodePNGBytes(tb, pal)}
	for _, pattern := range []string{"seeds/*", "pillow/*.png", "pillow/*.jpg"} {
		files, _ := filepath.Glob(filepath.Join("testdata", pattern))
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				tb.Fatal(err)
			}
			seeds = append(seeds, data)
		}
	}
	return seeds
}
