package engine

// The in-process optimiser against the tools it replaces: the same bytes as
// jpegoptim, the same pixels and palette as pngquant, the same keep-or-skip
// decisions. These tests need jpegoptim and pngquant (the step's `make`
// checks for them).

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand"
	"os/exec"
	"sync"
	"testing"
)

func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed by this test (Debian: apt-get install %s): %v", name, name, err)
	}
	return path
}

// photo is a deterministic picture with what makes photos hard to compress:
// gradients, edges and grain. alpha: an opaque ellipse on a transparent
// background with a soft edge, as the cut-outs of make_images.py.
func photo(w, h int, alpha bool, seed int64) *image.NRGBA {
	rng := rand.New(rand.NewSource(seed))
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 128 + 100*math.Sin(6*fx+2*fy)
			g := 128 + 90*math.Cos(5*fy-3*fx)
			b := 60 + 150*fx*fy
			if (x/23+y/31)%3 == 0 { // edges
				r, g = g, r
			}
			n := float64(rng.Intn(25) - 12)
			a := 255.0
			if alpha {
				d := math.Hypot((fx-0.5)/0.42, (fy-0.5)/0.42)
				a = math.Max(0, math.Min(255, (1-d)*255*6))
			}
			m.SetNRGBA(x, y, color.NRGBA{clamp(r + n), clamp(g + n), clamp(b + n), uint8(a)})
		}
	}
	return m
}

func clamp(v float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(v)))) }

func encodeJPEGSource(t *testing.T, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNGSource(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// run pipes data through a tool; the exit status is returned, not judged.
func run(t *testing.T, data []byte, name string, args ...string) ([]byte, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(data)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return out.Bytes(), exit.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s: %v: %s", name, err, errOut.String())
	}
	return out.Bytes(), 0
}

func converterFor(t *testing.T, opts Options) *converter {
	t.Helper()
	tj, err := newTurbo()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tj.close)
	if opts.Quality == 0 {
		opts.Quality = 85
	}
	opts.MaxPixels = DefaultMaxPixels
	return &converter{opts: &opts, turbo: tj, budget: newBudget(DefaultMaxMemory)}
}

// convert runs the conversion of a file's bytes (what process does between
// reading the source and writing the output).
func (c *converter) convert(data []byte) (output, error) {
	return c.convertFile(bytes.NewReader(data), int64(len(data)))
}

func TestOptimizedJPEGIsWhatJpegoptimMakes(t *testing.T) {
	jpegoptim := tool(t, "jpegoptim")
	gray := func(m *image.NRGBA) image.Image {
		g := image.NewGray(m.Rect)
		for i := range g.Pix {
			g.Pix[i] = m.Pix[4*i+1]
		}
		return g
	}
	cases := []struct {
		name string
		src  image.Image
		box  int
	}{
		{"colour, DCT-scaled and resized", photo(640, 427, false, 1), 300},
		{"colour, odd size, not resized", photo(333, 101, false, 2), 0},
		{"colour, smaller than one MCU", photo(17, 9, false, 3), 0},
		{"grayscale", gray(photo(300, 200, false, 4)), 120},
	}
	for _, tc := range cases {
		src := encodeJPEGSource(t, tc.src)
		plain, err := converterFor(t, Options{Width: tc.box, Height: tc.box, Draft: true}).convert(src)
		if err != nil {
			t.Fatal(tc.name, err)
		}
		opt, err := converterFor(t, Options{Width: tc.box, Height: tc.box, Draft: true, Optimize: true}).convert(src)
		if err != nil {
			t.Fatal(tc.name, err)
		}
		want, status := run(t, plain.data, jpegoptim, "--quiet", "--strip-all", "--stdin", "--stdout", "-")
		if status != 0 {
			t.Fatalf("%s: jpegoptim exit status %d", tc.name, status)
		}
		if !bytes.Equal(opt.data, want) {
			t.Errorf("%s: in process %d bytes, jpegoptim %d bytes (plain %d): not the same file",
				tc.name, len(opt.data), len(want), len(plain.data))
		}
		if len(opt.data) >= len(plain.data) {
			t.Errorf("%s: optimised %d bytes, plain %d", tc.name, len(opt.data), len(plain.data))
		}
		// Lossless: the same pixels as the plain encode.
		a, err := jpeg.Decode(bytes.NewReader(plain.data))
		if err != nil {
			t.Fatal(err)
		}
		b, err := jpeg.Decode(bytes.NewReader(opt.data))
		if err != nil {
			t.Fatal(err)
		}
		if d := meanDiff(a, b); d != 0 {
			t.Errorf("%s: the optimised file decodes differently (mean difference %.3f)", tc.name, d)
		}
	}
}

// meanDiff is the mean absolute difference of two images' RGBA samples, 0..255.
func meanDiff(a, b image.Image) float64 {
	if a.Bounds() != b.Bounds() {
		return math.Inf(1)
	}
	var sum float64
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := color.NRGBAModel.Convert(a.At(x, y)).(color.NRGBA)
			q := color.NRGBAModel.Convert(b.At(x, y)).(color.NRGBA)
			sum += math.Abs(float64(p.R)-float64(q.R)) + math.Abs(float64(p.G)-float64(q.G)) +
				math.Abs(float64(p.B)-float64(q.B)) + math.Abs(float64(p.A)-float64(q.A))
		}
	}
	return sum / float64(4*r.Dx()*r.Dy())
}

func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// idat concatenates a PNG's image data (pngquant splits it in 8 KB chunks).
func idat(t *testing.T, data []byte) []byte {
	t.Helper()
	var out []byte
	for i := len(pngMagic); i+8 <= len(data); {
		n := int(uint32(data[i])<<24 | uint32(data[i+1])<<16 | uint32(data[i+2])<<8 | uint32(data[i+3]))
		if string(data[i+4:i+8]) == "IDAT" {
			out = append(out, data[i+8:i+8+n]...)
		}
		i += 12 + n
	}
	return out
}

func TestQuantizedPNGIsWhatPngquantMakes(t *testing.T) {
	pngquant := tool(t, "pngquant")
	gradient := image.NewNRGBA(image.Rect(0, 0, 120, 80)) // smooth: true colour compresses well
	for y := 0; y < 80; y++ {
		for x := 0; x < 120; x++ {
			gradient.SetNRGBA(x, y, color.NRGBA{uint8(2 * x), uint8(3 * y), uint8(x + y), 255})
		}
	}
	grayPhoto := image.NewGray(image.Rect(0, 0, 150, 100))
	for i, p := 0, photo(150, 100, false, 7); i < len(grayPhoto.Pix); i++ {
		grayPhoto.Pix[i] = p.Pix[4*i]
	}
	cases := []struct {
		name string
		src  image.Image
		box  int
	}{
		{"cut-out, resized", photo(640, 427, true, 5), 300},
		{"opaque photo", photo(200, 150, false, 6), 0},
		{"grayscale photo", grayPhoto, 0},
		{"smooth gradient", gradient, 0},
		{"tiny", photo(3, 2, true, 8), 0},
	}
	kept, skipped := 0, 0
	for _, tc := range cases {
		src := encodePNGSource(t, tc.src)
		plain, err := converterFor(t, Options{Width: tc.box, Height: tc.box}).convert(src)
		if err != nil {
			t.Fatal(tc.name, err)
		}
		opt, err := converterFor(t, Options{Width: tc.box, Height: tc.box, Optimize: true}).convert(src)
		if err != nil {
			t.Fatal(tc.name, err)
		}
		want, status := run(t, plain.data, pngquant, "--strip", "--skip-if-larger", "-")
		switch status {
		case 98: // pngquant: not worth it; the subprocess route keeps our file
			skipped++
			if !bytes.Equal(opt.data, plain.data) {
				t.Errorf("%s: pngquant skips it, the in-process optimiser does not (%d vs %d bytes)",
					tc.name, len(opt.data), len(plain.data))
			}
			continue
		case 0:
			kept++
		default:
			t.Fatalf("%s: pngquant exit status %d", tc.name, status)
		}
		if bytes.Equal(opt.data, plain.data) {
			t.Errorf("%s: pngquant keeps its result, the in-process optimiser does not", tc.name)
			continue
		}
		a, b := decodePNG(t, opt.data), decodePNG(t, want)
		pa, oka := a.(*image.Paletted)
		pb, okb := b.(*image.Paletted)
		if !oka || !okb {
			t.Fatalf("%s: not palette images: %T, %T", tc.name, a, b)
		}
		if !bytes.Equal(pa.Pix, pb.Pix) || len(pa.Palette) != len(pb.Palette) {
			t.Errorf("%s: other indices or palette size (%d vs %d colours)", tc.name,
				len(pa.Palette), len(pb.Palette))
		}
		for i := range pa.Palette {
			if i < len(pb.Palette) && pa.Palette[i] != pb.Palette[i] {
				t.Errorf("%s: palette entry %d: %v vs %v", tc.name, i, pa.Palette[i], pb.Palette[i])
				break
			}
		}
		// The same zlib stream; pngquant only cuts it in more chunks.
		if !bytes.Equal(idat(t, opt.data), idat(t, want)) {
			t.Errorf("%s: other compressed image data", tc.name)
		}
		if d := float64(len(opt.data)-len(want)) / float64(len(want)); math.Abs(d) > 0.02 {
			t.Errorf("%s: %d bytes vs pngquant's %d", tc.name, len(opt.data), len(want))
		}
	}
	if kept == 0 || skipped == 0 {
		t.Errorf("the cases should include both decisions: %d kept, %d skipped", kept, skipped)
	}
}

func TestWinningSizeIsTheRulesThreshold(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for i := 0; i < 2000; i++ {
		q, quality := 1+rng.Intn(500000), rng.Intn(101)
		w := winningSize(q, quality)
		if !keepQuantized(q, w, quality) || keepQuantized(q, w-1, quality) {
			t.Fatalf("winningSize(%d, %d) = %d: keep at w: %v, at w-1: %v", q, quality, w,
				keepQuantized(q, w, quality), keepQuantized(q, w-1, quality))
		}
	}
}

func TestQuantizeFromSeveralGoroutines(t *testing.T) {
	m := photo(200, 140, true, 10)
	r := raster{pix: m.Pix, w: 200, h: 140, bpp: 4}
	want, err := quantize(r)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := quantize(r)
			if err != nil || !bytes.Equal(got.indices, want.indices) || got.quality != want.quality {
				errs <- "a concurrent quantize gave another result"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// The colour path through Y/Cb/Cr planes keeps the luma as faithfully as
// the RGB path (decode to RGB, resize, encode RGB): luma PSNR against the
// picture resized from its original pixels, also with sizes whose planes
// TurboJPEG pads (odd decoded heights: resizing the padding row stretched
// the picture, -3 to -5 dB on the product photos) and with an EXIF orientation
// that swaps the axes. (The chroma differs by design: resized at its own
// resolution; bench.py compares both paths' PSNR on real photos.)
func TestPlanesPathIsAsFaithfulAsTheRGBPath(t *testing.T) {
	for _, size := range [][2]int{{641, 427}, {640, 431}, {333, 101}} {
		m := photo(size[0], size[1], false, 11)
		src := encodeJPEGSource(t, m)
		full := raster{pix: make([]byte, 3*size[0]*size[1]), w: size[0], h: size[1], bpp: 3}
		for i := 0; i < size[0]*size[1]; i++ {
			copy(full.pix[3*i:3*i+3], m.Pix[4*i:4*i+3])
		}
		for _, o := range []int{1, 6} {
			c := converterFor(t, Options{Width: 150, Height: 150, Draft: true})
			w, h, cs, err := c.turbo.header(src)
			if err != nil {
				t.Fatal(err)
			}
			sw, sh := c.target(w, h, o)
			truth := orient(resample(full, sw, sh), o)
			planes, ok, err := c.jpegPlanes(src, w, h, o, sw, sh)
			if !ok || err != nil {
				t.Fatalf("%v: planes path: ok %v, %v", size, ok, err)
			}
			rgb, err := c.turbo.decode(src, cs, w, h, draftDenom(w, h, sw, sh))
			if err != nil {
				t.Fatal(err)
			}
			ref, err := c.encodeJPEG(orient(resample(rgb, sw, sh), o))
			if err != nil {
				t.Fatal(err)
			}
			a, b := psnr(t, planes.data, truth), psnr(t, ref.data, truth)
			if a < b-0.3 {
				t.Errorf("%v orientation %d: planes path %.2f dB, RGB path %.2f dB", size, o, a, b)
			}
		}
	}
}

// psnr of a JPEG's luma against the luma of an RGB raster of the same size.
func psnr(t *testing.T, data []byte, want raster) float64 {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if m.Bounds().Dx() != want.w || m.Bounds().Dy() != want.h {
		t.Fatalf("size %v, want %dx%d", m.Bounds(), want.w, want.h)
	}
	var se float64
	for y := 0; y < want.h; y++ {
		for x := 0; x < want.w; x++ {
			r, g, b, _ := m.At(x, y).RGBA()
			q := want.pix[3*(y*want.w+x):]
			y1, _, _ := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(b>>8))
			y2, _, _ := color.RGBToYCbCr(q[0], q[1], q[2])
			d := float64(y1) - float64(y2)
			se += d * d
		}
	}
	return 10 * math.Log10(255*255/(se/float64(want.w*want.h)))
}

func TestPNGEncodersRoundTrip(t *testing.T) {
	m := photo(37, 23, true, 12)
	rgba := raster{pix: append([]byte(nil), m.Pix...), w: 37, h: 23, bpp: 4}
	opaque := raster{pix: append([]byte(nil), m.Pix...), w: 37, h: 23, bpp: 4}
	for i := 3; i < len(opaque.pix); i += 4 {
		opaque.pix[i] = 255
	}
	gray := raster{pix: make([]byte, 37*23), w: 37, h: 23, bpp: 1}
	for i := range gray.pix {
		gray.pix[i] = m.Pix[4*i]
	}
	for _, tc := range []struct {
		name string
		r    raster
		want string // image/png's type for the color type written
	}{
		{"RGBA", rgba, "*image.NRGBA"},
		{"opaque RGBA, written as RGB", opaque, "*image.RGBA"},
		{"gray", gray, "*image.Gray"},
	} {
		data, err := pngTrueColor(tc.r, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := decodePNG(t, data)
		if typeName(got) != tc.want {
			t.Errorf("%s: decoded as %s, want %s", tc.name, typeName(got), tc.want)
		}
		for i := 0; i < tc.r.w*tc.r.h; i++ {
			x, y := i%tc.r.w, i/tc.r.w
			p := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
			var want color.NRGBA
			if tc.r.bpp == 1 {
				v := tc.r.pix[i]
				want = color.NRGBA{v, v, v, 255}
			} else {
				q := tc.r.pix[4*i : 4*i+4]
				want = color.NRGBA{q[0], q[1], q[2], q[3]}
			}
			if p != want && !(want.A == 0 && p.A == 0) {
				t.Fatalf("%s: pixel %d,%d is %v, want %v", tc.name, x, y, p, want)
			}
		}
		if _, err := pngTrueColor(tc.r, 50); err != errTooLarge {
			t.Errorf("%s: a 50-byte limit gave %v, want errTooLarge", tc.name, err)
		}
	}
	// Palette images: 1, 2, 4 and 8 bits a pixel, tRNS only as long as needed.
	for _, n := range []int{2, 3, 16, 17, 256} {
		pal := make([][4]byte, n)
		for i := range pal {
			pal[i] = [4]byte{byte(i), byte(255 - i), byte(i * 3), 255}
		}
		pal[0][3] = 0
		idx := make([]byte, 13*7)
		for i := range idx {
			idx[i] = byte((i * 5) % n)
		}
		data, err := pngPaletted(idx, 13, 7, pal)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := decodePNG(t, data).(*image.Paletted)
		if !ok || !bytes.Equal(got.Pix, idx) || len(got.Palette) != n {
			t.Fatalf("%d colours: round trip failed", n)
		}
		if _, _, _, a := got.Palette[0].RGBA(); a != 0 {
			t.Errorf("%d colours: entry 0 lost its transparency", n)
		}
		if _, _, _, a := got.Palette[n-1].RGBA(); a != 0xffff {
			t.Errorf("%d colours: last entry not opaque", n)
		}
		depth := int(data[len(pngMagic)+16])
		wantDepth := map[int]int{2: 1, 3: 2, 16: 4, 17: 8, 256: 8}[n]
		if depth != wantDepth {
			t.Errorf("%d colours: bit depth %d, want %d", n, depth, wantDepth)
		}
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *image.NRGBA:
		return "*image.NRGBA"
	case *image.RGBA:
		return "*image.RGBA"
	case *image.Gray:
		return "*image.Gray"
	case *image.Paletted:
		return "*image.Paletted"
	}
	return "other"
}

// Raw-data encodes of sizes that are not whole MCUs (the C side pads rows
// and columns by repeating the last ones) against the packed-RGB encode of
// the same smooth picture: garbage in a padded block would ring into the
// visible pixels of the last row and column.
func TestPlanesEncoderPadsPartialBlocks(t *testing.T) {
	for _, size := range [][2]int{{1, 1}, {17, 9}, {33, 17}, {16, 16}, {250, 3}} {
		w, h := size[0], size[1]
		rgb := raster{pix: make([]byte, 3*w*h), w: w, h: h, bpp: 3}
		y := make([]byte, w*h)
		cw, ch := (w+1)/2, (h+1)/2
		cbSum, crSum := make([]int, cw*ch), make([]int, cw*ch)
		n := make([]int, cw*ch)
		for i := 0; i < w*h; i++ {
			px, py := i%w, i/w
			r, g, b := uint8(40+4*px%200), uint8(60+7*py%180), uint8(200-px-py/2)
			copy(rgb.pix[3*i:], []byte{r, g, b})
			yy, u, v := color.RGBToYCbCr(r, g, b)
			y[i] = yy
			j := (py/2)*cw + px/2
			cbSum[j] += int(u)
			crSum[j] += int(v)
			n[j]++
		}
		cb, cr := make([]byte, cw*ch), make([]byte, cw*ch)
		for j := range cb {
			cb[j], cr[j] = byte((cbSum[j]+n[j]/2)/n[j]), byte((crSum[j]+n[j]/2)/n[j])
		}
		planar, err := jpegCompress(true, [3][]byte{y, cb, cr}, [3]int{w, cw, cw}, w, h, 3, 90, true)
		if err != nil {
			t.Fatal(size, err)
		}
		packed, err := jpegEncode(rgb, 90, true)
		if err != nil {
			t.Fatal(size, err)
		}
		a, err := jpeg.Decode(bytes.NewReader(planar))
		if err != nil {
			t.Fatal(size, err)
		}
		b, err := jpeg.Decode(bytes.NewReader(packed))
		if err != nil {
			t.Fatal(size, err)
		}
		if d := meanDiff(a, b); a.Bounds() != b.Bounds() || d > 1.5 {
			t.Errorf("%v: %v vs %v, mean difference %.2f", size, a.Bounds(), b.Bounds(), d)
		}
	}
}

// pngChunks rebuilds a PNG from (type, data) pairs, with correct CRCs.
func pngChunks(chunks [][2][]byte) []byte {
	var w pngWriter
	w.Write(pngMagic)
	for _, c := range chunks {
		w.chunk(string(c[0]), c[1])
	}
	return w.Bytes()
}

// splitPNG returns a PNG's chunks.
func splitPNG(data []byte) [][2][]byte {
	var out [][2][]byte
	for i := len(pngMagic); i+12 <= len(data); {
		n := int(uint32(data[i])<<24 | uint32(data[i+1])<<16 | uint32(data[i+2])<<8 | uint32(data[i+3]))
		if i+12+n > len(data) {
			break
		}
		out = append(out, [2][]byte{data[i+4 : i+8], data[i+8 : i+8+n]})
		i += 12 + n
	}
	return out
}

// fastAgrees: when the fast path takes a file, image/png decodes it to the
// same pixels. It returns whether the fast path took it.
func fastAgrees(t *testing.T, data []byte, what string) bool {
	t.Helper()
	r, ok := pngFast(data)
	if !ok {
		return false
	}
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: the fast path decodes a file image/png refuses (%v)", what, err)
	}
	var pix []byte
	switch m := m.(type) {
	case *image.NRGBA:
		pix = m.Pix
	case *image.RGBA:
		pix = m.Pix
	default:
		t.Fatalf("%s: the fast path took a %T", what, m)
	}
	if r.w != m.Bounds().Dx() || r.h != m.Bounds().Dy() || !bytes.Equal(r.pix, pix) {
		t.Fatalf("%s: the fast path's pixels differ from image/png's", what)
	}
	return true
}

func TestPNGFastPathAgrees(t *testing.T) {
	opaque, cutout := photo(41, 29, false, 14), photo(41, 29, true, 15)
	rgb := raster{pix: make([]byte, 3*41*29), w: 41, h: 29, bpp: 3}
	for i := 0; i < 41*29; i++ {
		copy(rgb.pix[3*i:], opaque.Pix[4*i:4*i+3])
	}
	ours, err := pngTrueColor(raster{pix: cutout.Pix, w: 41, h: 29, bpp: 4}, 0)
	if err != nil {
		t.Fatal(err)
	}
	oursRGB, err := pngTrueColor(rgb, 0)
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{
		"RGBA, image/png's encoder": encodePNGSource(t, cutout),
		"RGB, image/png's encoder":  encodePNGSource(t, opaque),
		"RGBA, ours":                ours,
		"RGB, ours":                 oursRGB,
	}
	// The same image data cut into several IDAT chunks, with ancillary
	// chunks before and after it.
	c := splitPNG(ours)
	z := c[1][1]
	seeds["RGBA, 3 IDATs and ancillary chunks"] = pngChunks([][2][]byte{
		c[0], {[]byte("tEXt"), []byte("Comment\x00hello")}, {[]byte("IDAT"), z[:7]},
		{[]byte("IDAT"), nil}, {[]byte("IDAT"), z[7:]}, {[]byte("tIME"), make([]byte, 7)}, c[2]})
	for name, data := range seeds {
		if !fastAgrees(t, data, name) {
			t.Errorf("%s: the fast path should take it", name)
		}
	}
	// Not for the fast path (image/png decodes these): gray, palette,
	// 16-bit, tRNS, and a second IDAT run after an ancillary chunk.
	gray := image.NewGray(image.Rect(0, 0, 5, 5))
	pal := image.NewPaletted(image.Rect(0, 0, 5, 5), color.Palette{color.Black, color.White})
	deep := image.NewNRGBA64(image.Rect(0, 0, 5, 5))
	rgbc := splitPNG(oursRGB)
	others := map[string][]byte{
		"gray":    encodePNGSource(t, gray),
		"palette": encodePNGSource(t, pal),
		"16-bit":  encodePNGSource(t, deep),
		"tRNS": pngChunks([][2][]byte{rgbc[0], {[]byte("tRNS"), {0, 1, 0, 2, 0, 3}},
			rgbc[1], rgbc[2]}),
		"two IDAT runs": pngChunks([][2][]byte{c[0], {[]byte("IDAT"), z},
			{[]byte("tEXt"), []byte("a\x00b")}, {[]byte("IDAT"), nil}, c[2]}),
	}
	for name, data := range others {
		if _, ok := pngFast(data); ok {
			t.Errorf("%s: the fast path should leave it to image/png", name)
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil && name != "two IDAT runs" {
			t.Fatalf("%s: not a valid test file: %v", name, err)
		}
	}
	// Damaged files: random byte changes and cuts, half of them with every
	// CRC recomputed so that the zlib, filter and structure checks are
	// reached. Whatever the fast path takes, image/png takes too, with the
	// same pixels.
	rng := rand.New(rand.NewSource(16))
	names := []string{"RGBA, image/png's encoder", "RGB, ours", "RGBA, 3 IDATs and ancillary chunks"}
	taken := 0
	for i := 0; i < 5000; i++ {
		data := append([]byte(nil), seeds[names[i%len(names)]]...)
		for k := 1 + rng.Intn(4); k > 0; k-- {
			data[len(pngMagic)+rng.Intn(len(data)-len(pngMagic))] = byte(rng.Intn(256))
		}
		if rng.Intn(8) == 0 {
			data = data[:len(pngMagic)+rng.Intn(len(data)-len(pngMagic))]
		}
		if rng.Intn(2) == 0 {
			data = pngChunks(splitPNG(data))
		}
		if fastAgrees(t, data, "damaged file") {
			taken++
		}
	}
	t.Logf("the fast path took %d of 5000 damaged files (image/png agreeing each time)", taken)
}

// FuzzPNGFastPath: `go test -fuzz PNGFastPath ./engine` searches for a file
// the fast path takes and image/png refuses or decodes otherwise (plain
// `go test` runs the seeds).
func FuzzPNGFastPath(f *testing.F) {
	f.Add(encodePNGSource(f, photo(9, 7, true, 17)))
	f.Add(encodePNGSource(f, photo(9, 7, false, 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fastAgrees(t, data, "fuzzed file")
	})
}
