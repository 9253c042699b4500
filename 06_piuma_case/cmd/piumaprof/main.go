// Command piumaprof runs the Go engine on a folder, outside Python, with
// the CPU profiler on: the "separate main" of the talk. pprof cannot profile
// Go code inside a c-shared library loaded by Python as conveniently, and a
// plain Go binary profiles exactly the same engine package.
//
//	piumaprof -src build/images/products -dst /tmp/out -width 800 -height 800 \
//	    -cpuprofile build/profile/go.pprof -repeat 5
//	go tool pprof -top build/piumaprof build/profile/go.pprof
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"example.com/epg/06_piuma_case/engine"
)

func main() { os.Exit(run()) }

// run is main without os.Exit, so that every deferred call (stopping the
// profiler, closing its file) runs before the process exits: os.Exit does
// not run deferred functions.
func run() int {
	src := flag.String("src", "", "source folder (required)")
	dst := flag.String("dst", "", "destination folder (required, outside src)")
	width := flag.Int("width", 800, "maximum width (0: no bound)")
	height := flag.Int("height", 800, "maximum height (0: no bound)")
	quality := flag.Int("quality", 85, "JPEG quality 1..100")
	workers := flag.Int("workers", 0, "worker goroutines (0: one per CPU)")
	codec := flag.String("jpeg", "libjpeg-turbo", "JPEG codec: libjpeg-turbo or image/jpeg")
	draft := flag.Bool("draft", true, "DCT-domain downscaling (libjpeg-turbo only)")
	optimize := flag.Bool("optimize", false, "optimise the outputs (-optimizer says how)")
	optimizer := flag.String("optimizer", "in-process", "in-process (libjpeg, libimagequant) or tools (jpegoptim, pngquant)")
	repeat := flag.Int("repeat", 1, "run the batch this many times")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *src == "" || *dst == "" {
		flag.Usage()
		return 2
	}
	if *quality < 1 || *quality > 100 || *width < 0 || *height < 0 || *repeat < 1 {
		fmt.Fprintln(os.Stderr, "piumaprof: need 1 <= -quality <= 100, -width, -height >= 0, -repeat >= 1")
		return 2
	}
	// Resolved paths, as piuma.optimize_dir compares them: a symbolic link
	// must not hide that dst is inside src or the other way round.
	absSrc, err := filepath.EvalSymlinks(*src)
	if err == nil {
		absSrc, err = filepath.Abs(absSrc)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "piumaprof:", err)
		return 2
	}
	absDst, err := resolve(*dst)
	if err != nil {
		fmt.Fprintln(os.Stderr, "piumaprof:", err)
		return 2
	}
	if inside(absDst, absSrc) || inside(absSrc, absDst) {
		fmt.Fprintln(os.Stderr, "piumaprof: src and dst must not overlap")
		return 2
	}
	opts := engine.Options{Width: *width, Height: *height, Quality: *quality,
		Workers: *workers, Draft: *draft, Optimize: *optimize}
	switch *codec {
	case "libjpeg-turbo":
	case "image/jpeg":
		opts.JPEG = engine.Stdlib
	default:
		fmt.Fprintf(os.Stderr, "piumaprof: unknown -jpeg %q\n", *codec)
		return 2
	}
	switch *optimizer {
	case "in-process":
	case "tools":
		opts.Optimizer = engine.Tools
	default:
		fmt.Fprintf(os.Stderr, "piumaprof: unknown -optimizer %q\n", *optimizer)
		return 2
	}
	if opts.Optimize && opts.Optimizer == engine.Tools {
		var err error
		if opts.Jpegoptim, err = exec.LookPath("jpegoptim"); err == nil {
			opts.Pngquant, err = exec.LookPath("pngquant")
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "piumaprof:", err)
			return 2
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "piumaprof:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "piumaprof:", err)
			return 1
		}
		defer pprof.StopCPUProfile() // runs before f.Close: defers are last in, first out
	}
	failed, files := 0, 0
	start, cpu0, tools0 := time.Now(), cpuTime(syscall.RUSAGE_SELF), cpuTime(syscall.RUSAGE_CHILDREN)
	for i := 0; i < *repeat; i++ {
		for _, r := range engine.Run(absSrc, absDst, opts, nil) {
			files++
			if r.Err != nil {
				failed++
				fmt.Fprintf(os.Stderr, "%s: %v\n", r.Source, r.Err)
			}
		}
	}
	elapsed := time.Since(start)
	fmt.Printf("%d files (%d failed) in %.2fs: %.1f images/s\n", files, failed,
		elapsed.Seconds(), float64(files)/elapsed.Seconds())
	// The CPU of the tools (jpegoptim, pngquant) is not in this process's
	// profile: say how much it was.
	fmt.Printf("CPU: this process %.3fs, tool processes %.3fs\n",
		(cpuTime(syscall.RUSAGE_SELF) - cpu0).Seconds(),
		(cpuTime(syscall.RUSAGE_CHILDREN) - tools0).Seconds())
	if failed > 0 {
		return 1
	}
	return 0
}

// cpuTime is the user + system time of this process or its waited-for children.
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resolve is filepath.EvalSymlinks for a path that may not exist yet: the
// longest existing prefix is resolved, the rest appended.
func resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			return filepath.Join(real, rest), nil
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return filepath.Join(abs, rest), nil
		}
		rest = filepath.Join(filepath.Base(abs), rest)
		abs = parent
	}
}

// inside reports whether path is folder or inside it (both resolved); "/"
// contains everything (adding a separator to it would give "//").
func inside(path, folder string) bool {
	return path == folder || strings.HasPrefix(path, strings.TrimSuffix(folder, string(os.PathSeparator))+string(os.PathSeparator))
}
