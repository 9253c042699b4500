package engine

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/image/draw"
)

func TestFit(t *testing.T) {
	// The same table as test_fit_rule in test_piuma_case.py.
	cases := []struct{ w, h, mw, mh, tw, th int }{
		{2400, 1600, 800, 800, 800, 533},
		{1600, 2400, 800, 0, 800, 1200},
		{100, 50, 800, 800, 100, 50},
		{1000, 10, 0, 5, 500, 5},
		{3, 1000, 1, 0, 1, 333},
		{1000, 1, 10, 0, 10, 1},
		{451, 300, 0, 0, 451, 300},
	}
	for _, c := range cases {
		if tw, th := fit(c.w, c.h, c.mw, c.mh); tw != c.tw || th != c.th {
			t.Errorf("fit(%d, %d, %d, %d) = %d, %d; want %d, %d", c.w, c.h, c.mw, c.mh, tw, th, c.tw, c.th)
		}
	}
}

func TestDraftDenom(t *testing.T) {
	cases := []struct{ w, h, tw, th, want int }{
		{3200, 2133, 800, 533, 2},
		{2400, 1600, 800, 533, 1}, // 1/2 would leave less than twice the target
		{6400, 4266, 400, 266, 8},
		{100, 100, 100, 100, 1},
	}
	for _, c := range cases {
		if got := draftDenom(c.w, c.h, c.tw, c.th); got != c.want {
			t.Errorf("draftDenom(%d, %d, %d, %d) = %d; want %d", c.w, c.h, c.tw, c.th, got, c.want)
		}
	}
}

// exifJPEG returns SOI + an APP1 Exif segment with orientation o (byte
// order bo) + the rest of a real JPEG.
func exifJPEG(t testing.TB, o uint16, bo binary.ByteOrder) []byte {
	t.Helper()
	tiff := make([]byte, 8+2+12+4)
	if bo == binary.LittleEndian {
		copy(tiff, "II*\x00")
	} else {
		copy(tiff, "MM\x00*")
	}
	bo.PutUint32(tiff[4:], 8)
	bo.PutUint16(tiff[8:], 1)       // one entry
	bo.PutUint16(tiff[10:], 0x0112) // orientation
	bo.PutUint16(tiff[12:], 3)      // SHORT
	bo.PutUint32(tiff[14:], 1)      // count
	bo.PutUint16(tiff[18:], o)      // value, left-justified
	seg := append([]byte("Exif\x00\x00"), tiff...)
	var buf bytes.Buffer
	buf.Write([]byte{0xFF, 0xD8, 0xFF, 0xE1})
	binary.Write(&buf, binary.BigEndian, uint16(len(seg)+2))
	buf.Write(seg)
	var img bytes.Buffer
	if err := jpeg.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	buf.Write(img.Bytes()[2:]) // without its SOI
	return buf.Bytes()
}

func TestOrientation(t *testing.T) {
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for o := uint16(1); o <= 8; o++ {
			if got := orientation(exifJPEG(t, o, bo), false); got != int(o) {
				t.Errorf("%v orientation %d read as %d", bo, o, got)
			}
		}
		if got := orientation(exifJPEG(t, 9, bo), false); got != 1 {
			t.Errorf("invalid orientation 9 read as %d, want 1", got)
		}
	}
	data := exifJPEG(t, 6, binary.LittleEndian)
	for n := 0; n < 38; n++ { // every truncation of the 38-byte EXIF part: no panic, 1
		if got := orientation(data[:n], false); got != 1 {
			t.Errorf("truncated to %d bytes: %d", n, got)
		}
	}
	if got := orientation([]byte("not a jpeg"), false); got != 1 {
		t.Errorf("garbage: %d", got)
	}
}

// An eXIf chunk after the image data counts too, as in Pillow.
func TestPNGOrientationBeforeOrAfterIDAT(t *testing.T) {
	chunk := func(typ string, payload []byte) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.BigEndian, uint32(len(payload)))
		b.WriteString(typ)
		b.Write(payload)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), payload...)))
		return b.Bytes()
	}
	exif := exifJPEG(t, 6, binary.BigEndian)[12:] // after SOI, APP1, its length, "Exif\0\0"
	ihdr, idat, iend := chunk("IHDR", make([]byte, 13)), chunk("IDAT", make([]byte, 40)), chunk("IEND", nil)
	for name, data := range map[string][]byte{
		"before IDAT": bytes.Join([][]byte{pngMagic, ihdr, chunk("eXIf", exif), idat, iend}, nil),
		"after IDAT":  bytes.Join([][]byte{pngMagic, ihdr, idat, chunk("eXIf", exif), iend}, nil),
	} {
		if got := orientation(data, true); got != 6 {
			t.Errorf("eXIf %s: orientation %d, want 6", name, got)
		}
	}
	after := bytes.Join([][]byte{pngMagic, ihdr, idat, iend, chunk("eXIf", exif)}, nil)
	// Starting with "Exif\0\0" (as some writers do) is fine too: Pillow drops it.
	prefixed := bytes.Join([][]byte{pngMagic, ihdr, chunk("eXIf", append([]byte("Exif\x00\x00"), exif...)), idat, iend}, nil)
	if got := orientation(prefixed, true); got != 6 {
		t.Errorf("eXIf with an Exif header: orientation %d, want 6", got)
	}
	if got := orientation(after, true); got != 1 {
		t.Errorf("eXIf after IEND: orientation %d, want 1", got)
	}
}

func TestOrient(t *testing.T) {
	// 3x2 gray raster:  1 2 3 / 4 5 6
	r := raster{pix: []byte{1, 2, 3, 4, 5, 6}, w: 3, h: 2, bpp: 1}
	want := map[int][]byte{
		1: {1, 2, 3, 4, 5, 6},
		2: {3, 2, 1, 6, 5, 4},
		3: {6, 5, 4, 3, 2, 1},
		4: {4, 5, 6, 1, 2, 3},
		5: {1, 4, 2, 5, 3, 6},
		6: {4, 1, 5, 2, 6, 3},
		7: {6, 3, 5, 2, 4, 1},
		8: {3, 6, 2, 5, 1, 4},
	}
	for o, w := range want {
		got := orient(r, o)
		if !bytes.Equal(got.pix, w) {
			t.Errorf("orientation %d: %v, want %v", o, got.pix, w)
		}
		if o >= 5 && (got.w != 2 || got.h != 3) {
			t.Errorf("orientation %d: size %dx%d", o, got.w, got.h)
		}
	}
}

func TestResampleKeepsFlatColour(t *testing.T) {
	src := raster{pix: bytes.Repeat([]byte{10, 200, 77}, 97*61), w: 97, h: 61, bpp: 3}
	out := resample(src, 30, 19)
	if out.w != 30 || out.h != 19 || len(out.pix) != 30*19*3 {
		t.Fatalf("size %dx%d, %d bytes", out.w, out.h, len(out.pix))
	}
	for i := 0; i < len(out.pix); i += 3 {
		if out.pix[i] != 10 || out.pix[i+1] != 200 || out.pix[i+2] != 77 {
			t.Fatalf("pixel %d = %v", i/3, out.pix[i:i+3])
		}
	}
}

// Our resampler and x/image/draw's CatmullRom implement the same filter:
// on a real-looking gradient they agree within rounding.
func TestResampleMatchesXImageDraw(t *testing.T) {
	w, h := 320, 200
	src := raster{pix: make([]byte, w*h*3), w: w, h: h, bpp: 3}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := 3 * (y*w + x)
			src.pix[i], src.pix[i+1], src.pix[i+2] = byte(x*255/w), byte(y*255/h), byte((x*y)%251)
		}
	}
	ours := resample(src, 100, 63)
	ref := image.NewRGBA(image.Rect(0, 0, 100, 63))
	draw.CatmullRom.Scale(ref, ref.Rect, toImage(src), image.Rect(0, 0, w, h), draw.Src, nil)
	var sum, n float64
	for i, j := 0, 0; i < len(ours.pix); i, j = i+3, j+4 {
		for c := 0; c < 3; c++ {
			d := float64(ours.pix[i+c]) - float64(ref.Pix[j+c])
			if d < 0 {
				d = -d
			}
			sum += d
			n++
		}
	}
	if mean := sum / n; mean > 1.0 {
		t.Errorf("mean difference with x/image/draw CatmullRom: %.2f levels", mean)
	}
}

// writeOutput writes data as dir/rel/name through a batch's outputs.
func writeOutput(t *testing.T, o *outputs, dir, rel, name string, data []byte) error {
	t.Helper()
	return o.write(rel, filepath.Join(dir, rel, name), data)
}

func TestWriteReplacesAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	o := newOutputs(dir, "")
	defer o.close()
	path := filepath.Join(dir, "sub", "out.jpg")
	for _, content := range []string{"first", "second"} {
		if err := writeOutput(t, o, dir, "sub", "out.jpg", []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "sub", "dir.jpg", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := writeOutput(t, o, dir, "sub", "dir.jpg", []byte("x"))
	if err == nil || plainError(err) != "a folder with the output's name is in the way" {
		t.Fatalf("renaming over a folder: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "sub"))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
}

// A valid output name of 244 bytes: its temp file's name must stay valid too.
func TestWriteLongName(t *testing.T) {
	name := strings.Repeat("é", 120) + ".jpg"
	dir := t.TempDir()
	o := newOutputs(dir, "")
	defer o.close()
	if err := writeOutput(t, o, dir, ".", name, []byte("data")); err != nil {
		t.Fatal(err)
	}
	if got := tempName(name); len(got) > 130 || !utf8.ValidString(got) {
		t.Errorf("temp name %q: %d bytes, valid UTF-8: %v", got, len(got), utf8.ValidString(got))
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunBothCodecs(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	m := image.NewNRGBA(image.Rect(0, 0, 200, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 200; x++ {
			m.Set(x, y, color.NRGBA{uint8(x), uint8(y * 2), 128, uint8(255 * (x / 100))}) // left half transparent
		}
	}
	var j, p bytes.Buffer
	if err := jpeg.Encode(&j, m, nil); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&p, m); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(src, "a", "photo.JPG"), j.Bytes())
	writeFile(t, filepath.Join(src, "cutout.png"), p.Bytes())
	writeFile(t, filepath.Join(src, "bad.jpg"), []byte("nope"))
	writeFile(t, filepath.Join(src, "notes.txt"), []byte("skipped"))
	for _, codec := range []Codec{Turbo, Stdlib} {
		res := Run(src, dst, Options{Width: 50, Quality: 80, JPEG: codec, Draft: true}, nil)
		if len(res) != 3 {
			t.Fatalf("codec %d: %d results, want 3", codec, len(res))
		}
		for _, r := range res {
			rel, _ := filepath.Rel(src, r.Source)
			switch rel {
			case "bad.jpg":
				if r.Err == nil || r.Err.Error() != "not a JPEG or PNG image" {
					t.Errorf("bad.jpg: %v", r.Err)
				}
			default:
				if r.Err != nil || r.Width != 50 || r.Height != 25 {
					t.Errorf("%s: %v, %dx%d", rel, r.Err, r.Width, r.Height)
				}
				if r.Destination != filepath.Join(dst, rel) {
					t.Errorf("%s: destination %s", rel, r.Destination)
				}
			}
		}
		f, err := os.Open(filepath.Join(dst, "cutout.png"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, a := out.At(0, 10).RGBA(); a != 0 {
			t.Errorf("transparent half lost its transparency: alpha %d", a)
		}
	}
}

func TestDecompressionBombIsRefusedFromTheHeader(t *testing.T) {
	var j bytes.Buffer
	if err := jpeg.Encode(&j, image.NewGray(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	data := j.Bytes()
	i := bytes.Index(data, []byte{0xFF, 0xC0})
	binary.BigEndian.PutUint16(data[i+5:], 50000) // height
	binary.BigEndian.PutUint16(data[i+7:], 50000) // width
	tj, err := newTurbo()
	if err != nil {
		t.Fatal(err)
	}
	defer tj.close()
	opts := &Options{MaxPixels: DefaultMaxPixels, MaxMemory: DefaultMaxMemory}
	for _, c := range []*converter{{opts: opts, turbo: tj, budget: newBudget(opts.MaxMemory)},
		{opts: opts, budget: newBudget(opts.MaxMemory)}} {
		_, err := c.convertFile(bytes.NewReader(data), int64(len(data)))
		if err == nil || !strings.HasPrefix(err.Error(), "image too large: 50000x50000") {
			t.Errorf("got %v", err)
		}
	}
}
