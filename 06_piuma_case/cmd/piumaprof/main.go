// Command piumaprof runs the Go engine outside Python with the CPU profiler:
// the talk's "separate main" (pprof cannot profile a c-shared library inside
// Python as conveniently). The jobs come from Python's probe, as JSON:
//
//	python profile_engines.py --jobs /tmp/out > jobs.json
//	piumaprof -jobs jobs.json -workers 2 -optimize -repeat 5 -cpuprofile go.pprof
//	go tool pprof -top piumaprof go.pprof
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"example.com/epg/06_piuma_case/engine"
)

func main() {
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
	var list []struct { // piuma_job's fields: Job's names, but for these three
		engine.Job
		Format    string
		OutWidth  int `json:"out_width"`
		OutHeight int `json:"out_height"`
	}
	data, err := os.ReadFile(*jobsFile)
	if err == nil {
		err = json.Unmarshal(data, &list)
	}
	if err != nil || *repeat < 1 {
		fmt.Fprintln(os.Stderr, "piumaprof: need -jobs FILE (JSON) and -repeat >= 1:", err)
		os.Exit(2)
	}
	jobs := make([]engine.Job, len(list))
	for i, j := range list {
		jobs[i] = j.Job
		jobs[i].Format = map[string]engine.Format{"jpeg": engine.JPEG, "png": engine.PNG}[j.Format]
		jobs[i].OutWidth, jobs[i].OutHeight = j.OutWidth, j.OutHeight
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "piumaprof:", err)
			os.Exit(1)
		}
	}
	failed, files := 0, 0
	start, cpu0 := time.Now(), cpuTime()
	for r := 0; r < *repeat; r++ {
		for i, res := range engine.Run(jobs, o, nil) {
			if files++; res.Category != engine.OK {
				failed++
				fmt.Fprintf(os.Stderr, "%s: category %d: %s\n", jobs[i].Source, res.Category, res.Err)
			}
		}
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	pprof.StopCPUProfile() // writes the profile (the file closes with the process)
	fmt.Printf("%d files (%d failed) in %.2fs: %.1f images/s\n", files, failed,
		elapsed.Seconds(), float64(files)/elapsed.Seconds())
	fmt.Printf("CPU: %.3fs, %.1f ms per image\n", cpu.Seconds(), 1000*cpu.Seconds()/float64(max(files, 1)))
	os.Exit(min(failed, 1))
}

// cpuTime is the user + system time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
