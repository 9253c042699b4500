package engine

import (
	"bytes"
	"fmt"
	goimage "image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// libjpegFile is a colour JPEG made by libjpeg with its standard Huffman
// tables (optimize false) or optimised ones, from a photo of w x h.
func libjpegFile(t testing.TB, w, h int, optimize bool) []byte {
	t.Helper()
	m, _ := newImage(w, h, 3)
	defer m.free()
	copy(m.pix, rgb(photo(w, h, false, 3)))
	data, err := encodeJPEG(m, 90, optimize)
	if err != nil {
		t.Fatal(err)
	}
	defer cfree(data)
	return bytes.Clone(data)
}

// segments edits a JPEG's header: drop the marker segments of the given
// types, and insert extra bytes before the first segment of type before.
func segments(data []byte, drop []byte, before byte, extra []byte) []byte {
	out := append([]byte{}, data[:2]...) // SOI
	for i := 2; i+4 <= len(data); {
		marker := data[i+1]
		if marker == 0xDA { // start of scan: the rest is entropy-coded data
			return append(out, data[i:]...)
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		if marker == before {
			out, extra = append(out, extra...), nil
		}
		if !bytes.Contains(drop, []byte{marker}) {
			out = append(out, data[i:i+2+n]...)
		}
		i += 2 + n
	}
	return out
}

// No decoder state survives a file: a motion-JPEG-style file (no DHT: the
// standard tables are implied) decodes after one with optimised tables; a
// file without DQT is damaged even right after a good one (it must not
// borrow the previous file's tables); a good file converts after every bad
// one. In one worker, and each file alone.
func TestNoDecoderStateBetweenFiles(t *testing.T) {
	dir := t.TempDir()
	std := libjpegFile(t, 64, 48, false)
	optimized := newJob(t, dir, libjpegFile(t, 64, 48, true), 0, 0)
	withDHT := newJob(t, dir, std, 0, 0)
	noDHT := newJob(t, dir, segments(std, []byte{0xC4}, 0, nil), 64, 48)
	noDQT := newJob(t, dir, segments(std, []byte{0xDB}, 0, nil), 64, 48)
	good := newJob(t, dir, std, 0, 0)
	batch := []Job{optimized, noDHT, noDQT, good, withDHT, noDQT, good}
	want := []Category{OK, OK, Damaged, OK, OK, Damaged, OK}
	for pass, res := range [][]Result{Run(batch, Options{Quality: 90, Workers: 1}, nil),
		{convertOne(t, noDHT, Options{}, OK), convertOne(t, noDQT, Options{}, Damaged)}} {
		for i, r := range res {
			c := want[i]
			if pass == 1 {
				c = []Category{OK, Damaged}[i]
			}
			if r.Category != c {
				t.Errorf("pass %d, file %d: category %d (%s), want %d", pass, i, r.Category, r.Err, c)
			}
			if r.Category == Damaged && r.Err != "Quantization table 0x00 was not defined" {
				t.Errorf("pass %d, file %d: %q", pass, i, r.Err)
			}
		}
	}
	// Without its DHT the file is the same picture.
	a, _ := os.ReadFile(noDHT.Destination)
	b, _ := os.ReadFile(withDHT.Destination)
	if !bytes.Equal(a, b) {
		t.Error("the file without DHT converts to another picture")
	}
}

// Stray bytes before a marker: libjpeg warns ("Corrupt JPEG data: 4
// extraneous bytes before marker 0xdb") and decodes; so do Pillow and the
// browsers, and so does the engine: the same output as the clean file.
func TestStrayBytesBeforeAMarker(t *testing.T) {
	dir := t.TempDir()
	clean := libjpegFile(t, 64, 48, false)
	a := newJob(t, dir, clean, 0, 0)
	b := newJob(t, dir, segments(clean, nil, 0xDB, []byte{1, 2, 3, 4}), 64, 48)
	convertOne(t, a, Options{}, OK)
	convertOne(t, b, Options{}, OK)
	x, _ := os.ReadFile(a.Destination)
	y, _ := os.ReadFile(b.Destination)
	if !bytes.Equal(x, y) {
		t.Errorf("not the clean file's output (PSNR %.1f dB)", psnr(rgb(output(t, a)), rgb(output(t, b))))
	}
}

// After the image, libjpeg reads on to EOI, as in Pillow: a second scan in a
// baseline file, or an unknown marker, is damaged, in libjpeg's words. A file
// that ends without EOI: truncated if the decoder had to read past its end for
// the last rows (Pillow: "image file is truncated"), converted if some bytes
// follow them (padding, a camera's trailer), as Pillow converts it.
func TestWhatFollowsTheImage(t *testing.T) {
	dir := t.TempDir()
	data := libjpegFile(t, 64, 48, false)
	body, sos := data[:len(data)-2], bytes.Index(data, []byte{0xFF, 0xDA})
	for _, c := range []struct {
		tail []byte
		cat  Category
		err  string
	}{
		{append(bytes.Clone(data[sos:len(data)-2]), 0xFF, 0xD9), Damaged, "Didn't expect more than one scan"},
		{[]byte{0xFF, 0x60, 0, 4, 'a', 'b', 0xFF, 0xD9}, Damaged, "Unsupported marker type 0x60"},
		{nil, Truncated, "Premature end of JPEG file"},
		{make([]byte, 16), OK, ""},
		{[]byte("CAMERA TRAILER"), OK, ""},
	} {
		j := newJob(t, dir, append(bytes.Clone(body), c.tail...), 64, 48)
		if r := convertOne(t, j, Options{}, c.cat); r.Err != c.err {
			t.Errorf("%d bytes after the image: %q, want %q", len(c.tail), r.Err, c.err)
		}
	}
}

// realPhoto is a real photo (images/astronaut.jpg, 512x512) resized to
// w x h: the chroma detail of a photo, which synthetic pictures lack.
func realPhoto(t *testing.T, w, h int) []byte {
	t.Helper()
	pix := libjpegDecode(t, "../images/astronaut.jpg", 512, 512)
	m, _ := newImage(512, 512, 3)
	copy(m.pix, pix)
	out, err := resize(m, w, h) // frees m
	if err != nil {
		t.Fatal(err)
	}
	defer out.free()
	return bytes.Clone(out.pix)
}

// libjpegDecode is the RGB of a JPEG file as libjpeg decodes it.
func libjpegDecode(t *testing.T, path string, w, h int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := decode(f, &Job{Format: JPEG, Width: w, Height: h, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.free()
	return bytes.Clone(m.pix)
}

// Odd sizes with chroma at full resolution on the odd axis (4:4:4, 4:2:2,
// 4:4:0) and 4:1:1 keep their colour: against the photo the file was made
// from, the output (4:2:0, not resized) is within 0.5 dB of what the 4:2:0
// file of the same size gets, or better; give or take what the source file
// itself holds less (4:1:1 keeps a quarter of the horizontal chroma). The old
// Y/Cb/Cr planes path shrank 101 chroma samples to 51, colour drifting
// towards the right and bottom edges: here its 4:4:4 output was 1.65 dB
// below its 4:2:0 one, 4:2:2 1.29 dB, 4:4:0 0.72 dB.
func TestOddSizedJPEGsKeepTheirColour(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		w, h int
		samp [2]int // luma's sampling factors; chroma 1x1
	}{
		{"4:2:0", 101, 77, [2]int{2, 2}}, {"4:4:4", 101, 77, [2]int{1, 1}},
		{"4:2:2", 101, 77, [2]int{2, 1}}, {"4:4:0", 101, 77, [2]int{1, 2}},
		{"4:2:0", 96, 64, [2]int{2, 2}}, {"4:1:1", 96, 64, [2]int{4, 1}},
	}
	var ref, refSource float64
	for _, c := range cases {
		src := realPhoto(t, c.w, c.h)
		data := cjpeg(t, src, c.w, c.h, 95, "-sample", fmt.Sprintf("%dx%d,1x1,1x1", c.samp[0], c.samp[1]))
		j := newJob(t, dir, data, 0, 0)
		convertOne(t, j, Options{Quality: 95}, OK)
		p := psnr(src, libjpegDecode(t, j.Destination, c.w, c.h))
		ps := psnr(src, libjpegDecode(t, j.Source, c.w, c.h))
		t.Logf("%dx%d %s: output %.2f dB (source file %.2f dB)", c.w, c.h, c.name, p, ps)
		if c.name == "4:2:0" {
			ref, refSource = p, ps
		} else if p < ref-0.5-max(0, refSource-ps) {
			t.Errorf("%dx%d %s: %.2f dB, the 4:2:0 file %.2f", c.w, c.h, c.name, p, ref)
		}
	}
}

func TestTruncatedJPEG(t *testing.T) {
	dir := t.TempDir()
	data := libjpegFile(t, 64, 48, false)
	for _, n := range []int{len(data) / 2, 100} { // in the image data; in the header
		j := newJob(t, dir, data[:n], 64, 48)
		if r := convertOne(t, j, Options{}, Truncated); r.Err != "Premature end of JPEG file" {
			t.Errorf("%d bytes: %q", n, r.Err)
		}
		if _, err := os.Stat(j.Destination); err == nil {
			t.Error("a truncated file was written")
		}
	}
}

// What libjpeg-turbo 2.1 does not decode is refused in libjpeg's words:
// lossless (SOF3) and 12-bit JPEGs.
func TestUnsupportedJPEGs(t *testing.T) {
	dir := t.TempDir()
	lossless, err := os.ReadFile("testdata/seeds/lossless-rgb-p1.jpg")
	if err != nil {
		t.Fatal(err)
	}
	r := convertOne(t, newJob(t, dir, lossless, 8, 8), Options{}, Unsupported)
	if r.Err != "Unsupported JPEG process: SOF type 0xc3" {
		t.Errorf("lossless: %q", r.Err)
	}
	twelve := libjpegFile(t, 64, 48, false)
	i := bytes.Index(twelve, []byte{0xFF, 0xC0})
	twelve[i+1], twelve[i+4] = 0xC1, 12 // SOF1 (extended), 12-bit samples
	r = convertOne(t, newJob(t, dir, twelve, 64, 48), Options{}, Unsupported)
	if r.Err != "Unsupported JPEG data precision 12" {
		t.Errorf("12-bit: %q", r.Err)
	}
}

// Arithmetic coding is supported by libjpeg-turbo 2.1: the same picture as
// the Huffman-coded file.
func TestArithmeticJPEG(t *testing.T) {
	dir := t.TempDir()
	src := rgb(photo(40, 30, false, 2))
	huff := cjpeg(t, src, 40, 30, 90, "-sample", "2x2,1x1,1x1")
	arith := cjpeg(t, src, 40, 30, 90, "-sample", "2x2,1x1,1x1", "-arithmetic")
	if !bytes.Contains(arith, []byte{0xFF, 0xC9}) { // SOF9: sequential, arithmetic
		t.Fatal("cjpeg -arithmetic wrote no arithmetic-coded frame")
	}
	a, b := newJob(t, dir, huff, 0, 0), newJob(t, dir, arith, 40, 30)
	convertOne(t, a, Options{}, OK)
	convertOne(t, b, Options{}, OK)
	x, _ := os.ReadFile(a.Destination)
	if y, _ := os.ReadFile(b.Destination); !bytes.Equal(x, y) {
		t.Error("not the Huffman file's picture")
	}
}

// A JPEG coded in RGB (Adobe transform 0) converts, and libjpeg and
// image/jpeg (which returns it as *image.RGBA) decode it to the same
// picture, near enough.
func TestRGBCodedJPEG(t *testing.T) {
	src := rgb(photo(40, 30, false, 4))
	data := cjpeg(t, src, 40, 30, 95, "-rgb")
	j := newJob(t, t.TempDir(), data, 0, 0)
	convertOne(t, j, Options{}, OK)
	std, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := std.(*goimage.RGBA); !ok {
		t.Errorf("image/jpeg: %T, not an RGB-coded file", std)
	}
	if p := psnr(libjpegDecode(t, j.Source, 40, 30), rgb(std)); p < 50 { // (IDCT rounding: 65 dB)
		t.Errorf("libjpeg and image/jpeg: %.1f dB apart", p)
	}
}

// CMYK and YCCK JPEGs become the RGB Pillow makes of them, exactly (Pillow:
// "CMYK;I", then cmyk2rgb; the .rgb files are its output; cjpeg takes no
// CMYK, so the .jpg files are kept as data: make_fixtures.py).
func TestCMYKAsPillow(t *testing.T) {
	for _, name := range []string{"cmyk", "ycck"} {
		want, err := os.ReadFile(filepath.Join("testdata", "pillow", name+".rgb"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join("testdata", "pillow", name+".jpg"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := decode(f, &Job{Format: JPEG, Width: 24, Height: 16, Scale: 1})
		f.Close()
		if err != nil {
			t.Fatal(name, err)
		}
		if m.bpp != 3 || !bytes.Equal(m.pix, want) {
			t.Errorf("%s: not Pillow's RGB (PSNR %.1f dB)", name, psnr(m.pix, want))
		}
		m.free()
	}
}

// Gray stays gray; DCT scaling decodes at 1/scale, rounded up, and the
// resize and the orientation follow.
func TestJPEGGrayScaleAndOrientation(t *testing.T) {
	dir := t.TempDir()
	g := goimage.NewGray(goimage.Rect(0, 0, 101, 77))
	for i := range g.Pix {
		g.Pix[i] = byte(i % 251)
	}
	j := newJob(t, dir, encodeJPEGBytes(t, g, 90), 0, 0)
	j.Scale, j.OutWidth, j.OutHeight, j.Orientation = 4, 20, 15, 6 // decoded at 26x20
	r := convertOne(t, j, Options{}, OK)
	m := output(t, j)
	if _, ok := m.(*goimage.Gray); !ok || r.Width != 15 || r.Height != 20 || m.Bounds().Dx() != 15 {
		t.Errorf("%T, %dx%d", m, r.Width, r.Height)
	}
}

// With the in-process optimiser, the JPEG is byte for byte what
// `jpegoptim --strip-all` makes of the plain encode (the same coefficients,
// optimised Huffman tables, no metadata).
func TestOptimizedJPEGIsWhatJpegoptimMakes(t *testing.T) {
	jpegoptim, err := exec.LookPath("jpegoptim")
	if err != nil {
		t.Fatal("jpegoptim is needed (Debian: apt-get install jpegoptim):", err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		w, h, scale, ow, oh int
	}{{640, 427, 2, 300, 200}, {333, 101, 1, 333, 101}, {17, 9, 1, 17, 9}} {
		j := newJob(t, dir, encodeJPEGBytes(t, photo(c.w, c.h, false, 1), 95), 0, 0)
		j.Scale, j.OutWidth, j.OutHeight = c.scale, c.ow, c.oh
		convertOne(t, j, Options{Quality: 85}, OK)
		plain, _ := os.ReadFile(j.Destination)
		convertOne(t, j, Options{Quality: 85, Optimize: true}, OK)
		opt, _ := os.ReadFile(j.Destination)
		cmd := exec.Command(jpegoptim, "--quiet", "--strip-all", "--stdin", "--stdout", "-")
		cmd.Stdin = bytes.NewReader(plain)
		want, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(opt, want) || len(opt) >= len(plain) {
			t.Errorf("%dx%d: in process %d bytes, jpegoptim %d, plain %d", c.w, c.h, len(opt), len(want), len(plain))
		}
	}
}
