package engine

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	goimage "image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"testing"
	"time"
)

// chunk is a PNG chunk with its length and CRC.
func chunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(append(out, typ...), data...)
	return binary.BigEndian.AppendUint32(out, crc(append([]byte(typ), data...)))
}

func crc(b []byte) uint32 {
	var table [256]uint32
	for i := range table {
		c := uint32(i)
		for k := 0; k < 8; k++ {
			if c&1 != 0 {
				c = 0xEDB88320 ^ c>>1
			} else {
				c >>= 1
			}
		}
		table[i] = c
	}
	c := ^uint32(0)
	for _, v := range b {
		c = table[byte(c)^v] ^ c>>8
	}
	return ^c
}

func ihdr(w, h, depth, colorType int) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(w))
	b = binary.BigEndian.AppendUint32(b, uint32(h))
	return chunk("IHDR", append(b, byte(depth), byte(colorType), 0, 0, 0))
}

// zlibRows is the zlib stream of the rows, each behind filter byte 0.
func zlibRows(rows [][]byte) []byte {
	var buf bytes.Buffer
	z := zlib.NewWriter(&buf)
	for _, r := range rows {
		z.Write(append([]byte{0}, r...))
	}
	z.Close()
	return buf.Bytes()
}

// pngFile assembles a PNG: signature, the chunks given (IHDR first), IEND.
func pngFile(chunks ...[]byte) []byte {
	out := []byte("\x89PNG\r\n\x1a\n")
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, chunk("IEND", nil)...)
}

// nrgba is m's pixels in 8-bit NRGBA as the engine keeps them: the colour
// of transparent pixels too (no premultiplied detour), 16-bit samples cut
// to their high byte.
func nrgba(m goimage.Image) *goimage.NRGBA {
	b := m.Bounds()
	n := goimage.NewNRGBA(goimage.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			px := m.At(x, y)
			if c, ok := px.(color.NRGBA64); ok {
				px = color.NRGBA{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8), uint8(c.A >> 8)}
			}
			n.Set(x-b.Min.X, y-b.Min.Y, px) // a color.NRGBA as it is; the other kinds are opaque: exact
		}
	}
	return n
}

// engineOutput converts a PNG file through the engine (libspng) and returns
// the output's pixels.
func engineOutput(t *testing.T, data []byte, w, h int) *goimage.NRGBA {
	t.Helper()
	j := newJob(t, t.TempDir(), data, w, h)
	convertOne(t, j, Options{}, OK)
	return nrgba(output(t, j))
}

// goDecode is Go's image/png's picture of a PNG file.
func goDecode(t *testing.T, data []byte) *goimage.NRGBA {
	t.Helper()
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal("image/png:", err)
	}
	return nrgba(m)
}

// tRNS keeps its transparency exactly: the pixels equal to the key (all 16
// bits of it) become transparent, no other; 1, 2, 4-bit gray is scaled to 8
// bits, 16-bit samples keep their high byte. The engine's output, and
// image/png's decoding of the file as a cross-check of the expectations.
func TestPNGTransparencyKey(t *testing.T) {
	u16 := func(v ...uint16) []byte {
		var b []byte
		for _, x := range v {
			b = binary.BigEndian.AppendUint16(b, x)
		}
		return b
	}
	cases := []struct {
		name        string
		depth, ct   int
		rows        [][]byte
		trns        []byte
		want        []color.NRGBA // row by row
		width, high int
	}{
		{"1-bit gray", 1, 0, [][]byte{{0b10110000}}, u16(1), []color.NRGBA{
			{255, 255, 255, 0}, {0, 0, 0, 255}, {255, 255, 255, 0}, {255, 255, 255, 0}}, 4, 1},
		{"2-bit gray", 2, 0, [][]byte{{0b00011011}}, u16(2), []color.NRGBA{
			{0, 0, 0, 255}, {85, 85, 85, 255}, {170, 170, 170, 0}, {255, 255, 255, 255}}, 4, 1},
		{"4-bit gray", 4, 0, [][]byte{{0x09, 0xF9}}, u16(9), []color.NRGBA{
			{0, 0, 0, 255}, {153, 153, 153, 0}, {255, 255, 255, 255}, {153, 153, 153, 0}}, 4, 1},
		{"16-bit gray", 16, 0, [][]byte{u16(0x1234, 0xABCD, 0xAB00, 0xABCE)}, u16(0xABCD), []color.NRGBA{
			{0x12, 0x12, 0x12, 255}, {0xAB, 0xAB, 0xAB, 0}, {0xAB, 0xAB, 0xAB, 255}, {0xAB, 0xAB, 0xAB, 255}}, 4, 1},
		{"16-bit RGB", 16, 2, [][]byte{u16(1, 2, 3, 0x1111, 0x2222, 0x3333, 0x1111, 0x2222, 0x3300, 0xFFFF, 0, 0x8000)},
			u16(0x1111, 0x2222, 0x3333), []color.NRGBA{{0, 0, 0, 255}, {0x11, 0x22, 0x33, 0}, {0x11, 0x22, 0x33, 255},
				{0xFF, 0, 0x80, 255}}, 4, 1},
	}
	for _, c := range cases {
		data := pngFile(ihdr(c.width, c.high, c.depth, c.ct), chunk("tRNS", c.trns), chunk("IDAT", zlibRows(c.rows)))
		for codec, got := range map[string]*goimage.NRGBA{"engine": engineOutput(t, data, c.width, c.high),
			"image/png": goDecode(t, data)} {
			for i, want := range c.want {
				if g := got.NRGBAAt(i%c.width, i/c.width); g != want {
					t.Errorf("%s (%s): pixel %d is %v, want %v", c.name, codec, i, g, want)
				}
			}
		}
	}
}

// Output modes: gray stays gray (16-bit: the high byte), all-opaque RGBA
// becomes RGB, a palette with transparency RGBA; and the pixels are the ones
// image/png decodes from the source.
func TestPNGOutputModes(t *testing.T) {
	dir := t.TempDir()
	g16 := goimage.NewGray16(goimage.Rect(0, 0, 3, 2))
	g16.SetGray16(1, 0, color.Gray16{Y: 0x80FF})
	pal := goimage.NewPaletted(goimage.Rect(0, 0, 3, 2), color.Palette{color.NRGBA{1, 2, 3, 0}, color.NRGBA{200, 100, 50, 255}})
	pal.SetColorIndex(1, 1, 1)
	for _, c := range []struct {
		name string
		src  goimage.Image
		want string
	}{
		{"gray", goimage.NewGray(goimage.Rect(0, 0, 3, 2)), "*image.Gray"},
		{"gray 16", g16, "*image.Gray"},
		{"opaque RGBA", photo(3, 2, false, 1), "*image.RGBA"}, // image/png: RGB as *image.RGBA
		{"palette with tRNS", pal, "*image.NRGBA"},
	} {
		data := encodePNGBytes(t, c.src)
		j := newJob(t, dir, data, 0, 0)
		convertOne(t, j, Options{}, OK)
		m := output(t, j)
		if got := fmt.Sprintf("%T", m); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		if c.name == "gray 16" && m.(*goimage.Gray).GrayAt(1, 0).Y != 0x80 {
			t.Errorf("16-bit gray: %v", m.(*goimage.Gray).GrayAt(1, 0))
		}
		if got, want := nrgba(m), goDecode(t, data); !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%s: %v, image/png decodes %v", c.name, got.Pix, want.Pix)
		}
	}
}

// zeroBlocks is a zlib stream of prefix then n MiB of zeros, built without
// compressing them: one flushed deflate block of a MiB of zeros, repeated
// (it only refers back to zeros), then an empty final block and the Adler-32
// (a stays, b grows by n * 2^20 * a: zeros add nothing to a).
func zeroBlocks(prefix []byte, n int) []byte {
	var buf bytes.Buffer
	buf.Write([]byte{0x78, 0x9C})
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(prefix)
	fw.Write(make([]byte, 1<<20))
	fw.Flush()
	mark := buf.Len()
	fw.Write(make([]byte, 1<<20))
	fw.Flush()
	block := bytes.Clone(buf.Bytes()[mark:])
	for i := 2; i < n; i++ {
		buf.Write(block)
	}
	buf.Write([]byte{0x03, 0x00}) // final fixed-Huffman block: end of block only
	a, b := uint64(1), uint64(0)
	for _, v := range prefix {
		a = (a + uint64(v)) % 65521
		b = (b + a) % 65521
	}
	b = (b + uint64(n)<<20%65521*a) % 65521
	return binary.BigEndian.AppendUint32(buf.Bytes(), uint32(b<<16|a))
}

// inflateTime is how long Go's zlib takes to inflate a stream to its end:
// the work a decoder that read it all would do (the yardstick of the bombs).
func inflateTime(t *testing.T, stream []byte) time.Duration {
	start := time.Now()
	z, err := zlib.NewReader(bytes.NewReader(stream))
	if err == nil {
		_, err = io.Copy(io.Discard, z)
	}
	if err != nil {
		t.Fatal("the test's zlib stream is broken:", err)
	}
	return time.Since(start)
}

// What libspng does with the PNG files the issue lists, pinned: each is
// quick, and none gives a wrong picture.
func TestPNGOddFiles(t *testing.T) {
	rows := [][]byte{{10, 20, 30, 40}, {50, 60, 70, 80}, {90, 100, 110, 120}}
	idat := chunk("IDAT", zlibRows(rows))
	gray := ihdr(4, 3, 8, 0)
	fctl := func(seq uint32) []byte {
		b := binary.BigEndian.AppendUint32(nil, seq)
		b = append(b, ihdr(4, 3, 0, 0)[8:16]...) // width, height
		return chunk("fcTL", append(b, make([]byte, 10)...))
	}
	short := zlibRows(rows[:2]) // a clean stream that ends a row early
	cases := []struct {
		name string
		data []byte
		cat  Category
		msg  string
	}{
		{"two IHDR", pngFile(gray, gray, idat), Damaged, "invalid chunk position"},
		{"palette without PLTE", pngFile(ihdr(4, 3, 8, 3), idat), Damaged, "missing PLTE for indexed image"},
		// APNG: libspng knows no animation chunks (ancillary): the default image.
		{"APNG, broken frame sequence", pngFile(gray, chunk("acTL", make([]byte, 8)), fctl(0), idat, fctl(7),
			chunk("fdAT", append(binary.BigEndian.AppendUint32(nil, 3), zlibRows(rows)...))), OK, ""},
		{"zlib stream ending a row early", pngFile(gray, chunk("IDAT", short)), Truncated, "IDAT stream too short"},
		{"truncated", pngFile(gray, idat)[:40], Truncated, "the file ends early (end of stream)"},
		{"bad IDAT checksum", bytes.Replace(pngFile(gray, idat), idat[len(idat)-4:], []byte{1, 2, 3, 4}, 1),
			Damaged, "invalid chunk checksum"},
		{"no IEND", pngFile(gray, idat)[:8+25+len(idat)], OK, ""}, // as Pillow
		{"text after the image", pngFile(gray, idat, chunk("tEXt", []byte("Comment\x00hello"))), OK, ""},
	}
	for _, c := range cases {
		j := newJob(t, t.TempDir(), c.data, 4, 3)
		r := convertOne(t, j, Options{}, c.cat)
		if r.Err != c.msg {
			t.Errorf("%s: %q, want %q", c.name, r.Err, c.msg)
		}
		if c.cat == OK {
			if got := output(t, j).(*goimage.Gray).Pix; !bytes.Equal(got, bytes.Join(rows, nil)) {
				t.Errorf("%s: %v", c.name, got)
			}
		}
	}

	// A GiB of zeros after the image in its zlib stream: libspng stops at the
	// last row (it reads the rest of that IDAT chunk, and no further chunk),
	// so the picture is right and the zeros are never inflated; and a zTXt
	// chunk inflating to a GiB, before or after the image: refused at 1 MiB
	// (spng_set_chunk_limits), as Pillow refuses it (MAX_TEXT_CHUNK).
	// Timed against inflating the same stream, not against a clock.
	bomb := zeroBlocks(bytes.Join([][]byte{{0, 10, 20, 30, 40}, {0, 50, 60, 70, 80}, {0, 90, 100, 110, 120}}, nil), 1024)
	text := zeroBlocks(nil, 1024)
	ztxt := chunk("zTXt", append([]byte("Comment\x00\x00"), text...))
	for _, c := range []struct {
		name         string
		data, stream []byte
		cat          Category
		msg          string
	}{
		{"a GiB of zeros after the image data", pngFile(gray, chunk("IDAT", bomb)), bomb, OK, ""},
		{"zTXt bomb", pngFile(gray, ztxt, idat), text, Damaged, "reached chunk/cache limits"},
		{"zTXt bomb after the image", pngFile(gray, idat, ztxt), text, Damaged, "reached chunk/cache limits"},
	} {
		j := newJob(t, t.TempDir(), c.data, 4, 3)
		start := time.Now()
		r := convertOne(t, j, Options{}, c.cat)
		took := time.Since(start)
		inflate := inflateTime(t, c.stream)
		t.Logf("%s (%d KiB): %v, inflating it all %v", c.name, len(c.data)>>10, took, inflate)
		if r.Err != c.msg || took > inflate/10 {
			t.Errorf("%s: %q in %v (inflating it: %v)", c.name, r.Err, took, inflate)
		}
	}
}

// The in-process optimiser against pngquant: the same indices, palette and
// compressed data, and the same keep-or-skip decisions (--skip-if-larger).
func TestQuantizedPNGIsWhatPngquantMakes(t *testing.T) {
	pngquant, err := exec.LookPath("pngquant")
	if err != nil {
		t.Fatal("pngquant is needed (Debian: apt-get install pngquant):", err)
	}
	gradient := goimage.NewNRGBA(goimage.Rect(0, 0, 120, 80)) // smooth: true colour compresses well
	for y := 0; y < 80; y++ {
		for x := 0; x < 120; x++ {
			gradient.SetNRGBA(x, y, color.NRGBA{uint8(2 * x), uint8(3 * y), uint8(x + y), 255})
		}
	}
	kept, skipped := 0, 0
	for _, c := range []struct {
		name       string
		src        goimage.Image
		scale, box int
	}{
		{"cut-out, resized", photo(640, 427, true, 5), 0, 300},
		{"opaque photo", photo(200, 150, false, 6), 0, 0},
		{"smooth gradient", gradient, 0, 0},
		{"tiny", photo(3, 2, true, 8), 0, 0},
	} {
		j := newJob(t, t.TempDir(), encodePNGBytes(t, c.src), 0, 0)
		if c.box > 0 {
			j.OutWidth, j.OutHeight = c.box, c.box*j.Height/j.Width
		}
		convertOne(t, j, Options{}, OK)
		plain, _ := os.ReadFile(j.Destination)
		convertOne(t, j, Options{Optimize: true}, OK)
		opt, _ := os.ReadFile(j.Destination)
		cmd := exec.Command(pngquant, "--strip", "--skip-if-larger", "-")
		cmd.Stdin = bytes.NewReader(plain)
		want, err := cmd.Output()
		switch exit, _ := err.(*exec.ExitError); {
		case exit != nil && exit.ExitCode() == 98: // not worth it: the subprocess route keeps ours
			skipped++
			if !bytes.Equal(opt, plain) {
				t.Errorf("%s: pngquant skips it, the engine does not", c.name)
			}
		case err != nil:
			t.Fatal(c.name, err)
		default:
			kept++
			if !bytes.Equal(opt, want) {
				t.Errorf("%s: %d bytes, pngquant %d: not the same file", c.name, len(opt), len(want))
			}
		}
	}
	if kept == 0 || skipped == 0 {
		t.Errorf("the cases should include both decisions: %d kept, %d skipped", kept, skipped)
	}
}

// keepQuantized is pngquant 2.17's --skip-if-larger rule, as pngquant.c says
// it: the palette file is at most the true-colour size - 1 scaled by
// max(0.5, (quality/100)^1.5), and (as the subprocess route keeps the smaller)
// smaller.
func keepQuantized(quantized, trueColor, quality int) bool {
	expected := math.Max(0.5, math.Pow(float64(quality)/100, 1.5))
	limit := uint64(float64(trueColor-1) * expected) // C's double -> size_t
	return uint64(quantized) <= limit && quantized < trueColor
}

func TestWinningSizeIsTheRulesThreshold(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for i := 0; i < 2000; i++ {
		q, quality := 1+rng.Intn(500000), rng.Intn(101)
		w := winningSize(q, quality)
		if !keepQuantized(q, w, quality) || keepQuantized(q, w-1, quality) {
			t.Fatalf("winningSize(%d, %d) = %d", q, quality, w)
		}
	}
}
