package engine

import (
	"bytes"
	"fmt"
	goimage "image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// photo is a deterministic picture with what makes photos hard to compress:
// gradients, edges and grain. alpha: an opaque ellipse on a transparent
// background with a soft edge, as make_images.py's cut-outs.
func photo(w, h int, alpha bool, seed int64) *goimage.NRGBA {
	rng := rand.New(rand.NewSource(seed))
	m := goimage.NewNRGBA(goimage.Rect(0, 0, w, h))
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

func encodePNGBytes(t testing.TB, m goimage.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEGBytes(t testing.TB, m goimage.Image, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cjpeg is libjpeg-turbo's cjpeg's JPEG of w x h RGB pixels (3 bytes a
// pixel, as a PPM), at the given quality, with cjpeg's further switches: the
// files no encoder of the engine or of Go writes (-sample 4x1,1x1,1x1,
// -arithmetic, -rgb).
func cjpeg(t testing.TB, pix []byte, w, h, quality int, switches ...string) []byte {
	t.Helper()
	path, err := exec.LookPath("cjpeg")
	if err != nil {
		t.Fatal("cjpeg is needed: common/check-system.sh installs it, with the other system packages:", err)
	}
	in := filepath.Join(t.TempDir(), "in.ppm")
	header := fmt.Sprintf("P6\n%d %d\n255\n", w, h)
	if err := os.WriteFile(in, append([]byte(header), pix...), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-quality", strconv.Itoa(quality)}, switches...)
	cmd := exec.Command(path, append(args, in)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cjpeg %v: %v: %s", args, err, stderr.Bytes())
	}
	return out
}

// rgb is the RGB (or gray) bytes of an image, w*h*3 (or w*h).
func rgb(m goimage.Image) []byte {
	b := m.Bounds()
	var out []byte
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
			out = append(out, c.R, c.G, c.B)
		}
	}
	return out
}

// newJob writes data into a new file of dir and returns its job: the size
// from the header (w, h when image.DecodeConfig cannot read it), the format
// from the magic bytes, no resize, scale 1, orientation 1.
func newJob(t testing.TB, dir string, data []byte, w, h int) Job {
	t.Helper()
	if cfg, _, err := goimage.DecodeConfig(bytes.NewReader(data)); err == nil {
		w, h = cfg.Width, cfg.Height
	}
	f, err := os.CreateTemp(dir, "src-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	f.Close()
	format := JPEG
	if bytes.HasPrefix(data, []byte("\x89PNG")) {
		format = PNG
	}
	dst := f.Name() + ".out"
	return Job{Source: f.Name(), Destination: dst, Temp: filepath.Join(dir, "."+filepath.Base(dst)+".tmp"),
		Format: format, Width: w, Height: h, Scale: 1, OutWidth: w, OutHeight: h, Orientation: 1}
}

// output decodes a job's output file with Go's decoders.
func output(t testing.TB, j Job) goimage.Image {
	t.Helper()
	data, err := os.ReadFile(j.Destination)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := goimage.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// convertOne runs one job alone (one worker) and fails the test unless its
// result has the category want.
func convertOne(t testing.TB, j Job, opts Options, want Category) Result {
	t.Helper()
	if opts.Quality == 0 {
		opts.Quality = 90
	}
	r := Run([]Job{j}, opts, nil)[0]
	if r.Category != want {
		t.Fatalf("%s: category %d (%s), want %d", filepath.Base(j.Source), r.Category, r.Err, want)
	}
	return r
}

// psnr of two RGB (or gray) byte strings, in dB.
func psnr(a, b []byte) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("psnr of %d and %d bytes", len(a), len(b)))
	}
	var se float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		se += d * d
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*float64(len(a))/se)
}
