// Command piumaprof runs the Go engine outside Python, with the CPU profiler
// on: the talk's "separate main" (pprof cannot profile the Go code of a
// c-shared library inside Python as conveniently; a plain Go binary runs the
// very same engine package). The jobs come from Python's probe, as JSON:
//
//	python -m piuma.probe build/images/products /tmp/out --width 800 --height 800 > jobs.json
//	piumaprof -jobs jobs.json -workers 2 -optimize -repeat 5 -cpuprofile go.pprof
//	go tool pprof -top piumaprof go.pprof
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"example.com/epg/06_piuma_case/engine"
)

// job has piuma_job's field names.
type job struct {
	Source, Destination, Temp, Format string
	Width, Height, Scale              int
	OutWidth                          int `json:"out_width"`
	OutHeight                         int `json:"out_height"`
	Orientation                       int
}

func main() { os.Exit(run()) }

// run is main without os.Exit, so that the deferred calls (stopping the
// profiler) run before the process exits.
func run() int {
	jobsFile := flag.String("jobs", "", "the job list, JSON (required)")
	var o engine.Options
	flag.IntVar(&o.Quality, "quality", 85, "JPEG quality 1..100")
	flag.IntVar(&o.Workers, "workers", 2, "worker goroutines")
	flag.BoolVar(&o.Lanczos, "lanczos", false, "Lanczos instead of bicubic")
	flag.BoolVar(&o.Optimize, "optimize", false, "optimise the outputs in process")
	flag.BoolVar(&o.StdlibJPEG, "stdlib-jpeg", false, "image/jpeg instead of libjpeg-turbo")
	flag.BoolVar(&o.StdlibPNG, "stdlib-png", false, "image/png instead of libspng")
	repeat := flag.Int("repeat", 1, "run the batch this many times")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	data, err := os.ReadFile(*jobsFile)
	var list []job
	if err == nil {
		err = json.Unmarshal(data, &list)
	}
	if err != nil || *repeat < 1 {
		fmt.Fprintln(os.Stderr, "piumaprof: need -jobs FILE (JSON) and -repeat >= 1:", err)
		return 2
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "piumaprof:", err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile() // before f.Close: last in, first out
	}
	failed, files := 0, 0
	start, cpu0 := time.Now(), cpuTime()
	for r := 0; r < *repeat; r++ {
		jobs := make([]engine.Job, len(list))
		for i, j := range list {
			jobs[i] = engine.Job{Source: j.Source, Destination: j.Destination, Format: engine.JPEG,
				Temp:  fmt.Sprintf("%s.%d", j.Temp, r), // a fresh temp name for each repeat
				Width: j.Width, Height: j.Height, Scale: j.Scale,
				OutWidth: j.OutWidth, OutHeight: j.OutHeight, Orientation: j.Orientation}
			if j.Format == "png" {
				jobs[i].Format = engine.PNG
			}
			os.MkdirAll(filepath.Dir(j.Destination), 0o755)
		}
		for i, res := range engine.Run(jobs, o, nil) {
			if files++; res.Category != engine.OK {
				failed++
				fmt.Fprintf(os.Stderr, "%s: category %d: %s\n", list[i].Source, res.Category, res.Err)
			}
		}
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	fmt.Printf("%d files (%d failed) in %.2fs: %.1f images/s\n", files, failed,
		elapsed.Seconds(), float64(files)/elapsed.Seconds())
	fmt.Printf("CPU: %.3fs, %.1f ms per image\n", cpu.Seconds(),
		float64(cpu.Microseconds())/1000/float64(max(files, 1)))
	if failed > 0 {
		return 1
	}
	return 0
}

// cpuTime is the user + system time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
