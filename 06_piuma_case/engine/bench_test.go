package engine

// Two harnesses run by hand, each skipped without its flag: BenchmarkJobs,
// the engine on Python's job list (a benchmark is how a Go package is
// profiled: -test.cpuprofile), and TestDecodeSpeed, the engine's C decoders
// against Go's image/jpeg and image/png on real files.

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	goimage "image"
	"image/jpeg"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// go test parses these with its own flags (package level: before it runs).
var (
	jobsFile     = flag.String("jobs", "", "BenchmarkJobs: the job list (JSON) to convert")
	jobsWorkers  = flag.Int("workers", 1, "BenchmarkJobs: worker goroutines")
	jobsOptimize = flag.Bool("optimize", true, "BenchmarkJobs: optimise the outputs in process")
	decodeDir    = flag.String("decode-bench", "", "TestDecodeSpeed: time decoding the JPEG and PNG files under this folder")
	decodeRounds = flag.Int("rounds", 3, "TestDecodeSpeed: rounds")
)

// BenchmarkJobs converts every job of -jobs FILE (what Python's probe
// decided: piuma/_probe.py's Job as JSON, format lower-cased; make profile
// leaves it in build/profile/) once per iteration, quality 85, bicubic. Besides the wall
// clock it reports the CPU per image as getrusage counts it: every thread,
// the garbage collector's and the C libraries' work included.
//
//	go test -c -o build/engine.test ./engine
//	build/engine.test -test.run '^$' -test.bench '^BenchmarkJobs$' -test.benchtime 3x \
//	    -test.cpuprofile build/profile/go.pprof -jobs build/profile/jobs.json -workers 1
//	go tool pprof -top build/engine.test build/profile/go.pprof
func BenchmarkJobs(b *testing.B) {
	if *jobsFile == "" {
		b.Skip("needs -jobs FILE: build/engine.test -test.run '^$' -test.bench '^BenchmarkJobs$' " +
			"-test.cpuprofile go.pprof -jobs FILE [-workers N] [-optimize=false]")
	}
	jobs := readJobs(b, *jobsFile)
	opts := Options{Quality: 85, Workers: *jobsWorkers, Optimize: *jobsOptimize}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for k, r := range Run(jobs, opts, nil) {
			if r.Category != OK {
				b.Fatalf("%s: category %d: %s", jobs[k].Source, r.Category, r.Err)
			}
		}
	}
	cpu := cpuTime() - cpu0
	images := float64(b.N * len(jobs))
	b.ReportMetric(1000*cpu.Seconds()/images, "cpu-ms/image")
	b.ReportMetric(images/b.Elapsed().Seconds(), "images/s")
}

// readJobs reads a job list: Job's fields (JSON's names match them whatever
// the case) but for format ("jpeg", "png"), out_width and out_height; other
// keys are ignored.
func readJobs(b *testing.B, path string) []Job {
	var list []struct {
		Job
		Format    string
		OutWidth  int `json:"out_width"`
		OutHeight int `json:"out_height"`
	}
	data, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(data, &list)
	}
	if err != nil {
		b.Fatal(err)
	} else if len(list) == 0 {
		b.Fatalf("%s: no jobs", path)
	}
	jobs := make([]Job, len(list))
	for i, j := range list {
		jobs[i] = j.Job
		jobs[i].OutWidth, jobs[i].OutHeight = j.OutWidth, j.OutHeight
		switch j.Format {
		case "jpeg":
			jobs[i].Format = JPEG
		case "png":
			jobs[i].Format = PNG
		default:
			b.Fatalf("%s: format %q, want jpeg or png", j.Source, j.Format)
		}
	}
	return jobs
}

// cpuTime is the user + system time of this process, all its threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// decoder decodes a whole file of its format (image.DecodeConfig's name).
type decoder struct {
	name, format string
	decode       func(f *os.File, w, h int) (any, error) // an image (free it) or an image.Image
}

var decoders = []decoder{
	{"libjpeg-turbo", "jpeg", func(f *os.File, w, h int) (any, error) {
		return decode(f, &Job{Format: JPEG, Width: w, Height: h, Scale: 1})
	}},
	{"image/jpeg", "jpeg", func(f *os.File, _, _ int) (any, error) { return jpeg.Decode(bufio.NewReader(f)) }},
	{"libspng", "png", func(f *os.File, w, h int) (any, error) {
		return decode(f, &Job{Format: PNG, Width: w, Height: h})
	}},
	{"image/png", "png", func(f *os.File, _, _ int) (any, error) { return png.Decode(bufio.NewReader(f)) }},
}

// TestDecodeSpeed times decoding every JPEG and PNG file under -decode-bench
// DIR, whole: libjpeg-turbo (at scale 1) against image/jpeg, libspng against
// image/png. Interleaved, every file with each of its decoders in every round,
// so that a change of the machine's load hits both alike; every round is
// printed, so that the spread shows. Both decoders of a file must agree on
// its size; a file one of them cannot decode (damaged, arithmetic-coded for
// image/jpeg) is left out, and said so. DIR is absolute: go test runs the
// test in the package's folder.
//
//	go test -run '^TestDecodeSpeed$' -v -count=1 ./engine -args -decode-bench DIR -rounds 3
func TestDecodeSpeed(t *testing.T) {
	if *decodeDir == "" {
		t.Skip("needs -decode-bench DIR: go test -run '^TestDecodeSpeed$' -v -count=1 ./engine " +
			"-args -decode-bench DIR [-rounds N]")
	}
	if *decodeRounds < 1 {
		t.Fatalf("-rounds %d", *decodeRounds)
	}
	if !filepath.IsAbs(*decodeDir) {
		t.Fatalf("-decode-bench %s: an absolute path, please (go test runs in the package's folder)",
			*decodeDir)
	}
	root, err := filepath.EvalSymlinks(*decodeDir) // a link to the folder: its files
	if err != nil {
		t.Fatal(err)
	}
	type file struct {
		path, format string
		w, h         int
	}
	var files []file
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".jpg", ".jpeg", ".png":
		default:
			return err
		}
		if st, serr := os.Stat(path); err != nil || serr != nil || !st.Mode().IsRegular() {
			return err // (links to files are followed, as piuma's walk does)
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if cfg, format, err := goimage.DecodeConfig(bufio.NewReader(f)); err != nil {
			fmt.Printf("left out %s: image.DecodeConfig: %v\n", path, err)
		} else {
			files = append(files, file{path, format, cfg.Width, cfg.Height})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// decode times one decode of file i, and checks its size against the
	// first decode's.
	type size struct {
		w, h int
		by   string
	}
	sizes := make([]size, len(files))
	decode := func(i int, d decoder) (time.Duration, error) {
		f, err := os.Open(files[i].path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		start := time.Now()
		m, err := d.decode(f, files[i].w, files[i].h)
		took := time.Since(start)
		if err != nil {
			return 0, err
		}
		s := size{by: d.name}
		switch m := m.(type) {
		case image:
			s.w, s.h = m.w, m.h
			m.free()
		case goimage.Image: // CMYK JPEGs too (*image.CMYK): timed as they come
			s.w, s.h = m.Bounds().Dx(), m.Bounds().Dy()
		}
		if sizes[i].by == "" {
			sizes[i] = s
		} else if s.w != sizes[i].w || s.h != sizes[i].h {
			t.Fatalf("%s: %s decodes %dx%d, %s %dx%d", files[i].path, d.name, s.w, s.h,
				sizes[i].by, sizes[i].w, sizes[i].h)
		}
		return took, nil
	}

	// A round untimed first: the files in the page cache, the code paths warm;
	// a file that a decoder refuses is left out of the timed rounds.
	var timed []int
	count := map[string]int{}
	for i := range files {
		var err error
		for _, d := range decoders {
			if d.format == files[i].format && err == nil {
				if _, err = decode(i, d); err != nil {
					fmt.Printf("left out %s: %s: %v\n", files[i].path, d.name, err)
				}
			}
		}
		if err == nil {
			timed = append(timed, i)
			count[files[i].format]++
		}
	}
	if len(timed) == 0 {
		t.Fatalf("no .jpg, .jpeg or .png file under %s that both decoders of its format read", root)
	}
	fmt.Printf("%s: %d JPEG, %d PNG files; ms per image, decoded whole\n",
		root, count["jpeg"], count["png"])
	fmt.Printf("%-6s %14s %11s %6s %9s %10s %6s\n", "round",
		"libjpeg-turbo", "image/jpeg", "ratio", "libspng", "image/png", "ratio")
	for r := 1; r <= *decodeRounds; r++ {
		total := map[string]time.Duration{}
		for _, i := range timed {
			for _, d := range decoders {
				if d.format == files[i].format {
					took, err := decode(i, d)
					if err != nil { // it decoded in the first round
						t.Fatalf("%s: %s: %v", files[i].path, d.name, err)
					}
					total[d.name] += took
				}
			}
		}
		ms := map[string]float64{}
		for _, d := range decoders {
			ms[d.name] = float64(total[d.name].Microseconds()) / 1000 / float64(max(count[d.format], 1))
		}
		fmt.Printf("%-6d %14.1f %11.1f %6.2f %9.1f %10.1f %6.2f\n", r,
			ms["libjpeg-turbo"], ms["image/jpeg"], ratio(ms["image/jpeg"], ms["libjpeg-turbo"]),
			ms["libspng"], ms["image/png"], ratio(ms["image/png"], ms["libspng"]))
	}
	fmt.Println("ratio: Go's decoder's time over the C library's")
}

// ratio is a/b, or 0 without files to time (b == 0).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
