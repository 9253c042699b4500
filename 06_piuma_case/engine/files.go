package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// optimize pipes an encoded image through jpegoptim (lossless: optimised
// Huffman tables, metadata stripped) or pngquant (lossy palette
// quantisation) and returns the smaller of input and output. The tools run
// as subprocesses exactly as the Python engine runs them, so both engines
// produce the same bytes for the same encoder output. os/exec starts them
// with fork+exec done safely by the Go runtime, unlike a Python os.fork().
func optimize(data []byte, isPNG bool, opts *Options) ([]byte, error) {
	var cmd *exec.Cmd
	if isPNG {
		cmd = exec.Command(opts.Pngquant, "--strip", "--skip-if-larger", "-")
	} else {
		cmd = exec.Command(opts.Jpegoptim, "--quiet", "--strip-all", "--stdin", "--stdout", "-")
	}
	cmd.Stdin = bytes.NewReader(data)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if isPNG && errors.As(err, &exit) && (exit.ExitCode() == 98 || exit.ExitCode() == 99) {
		return data, nil // 98: not smaller, 99: quality not reachable: keep ours
	}
	if err != nil {
		name := filepath.Base(cmd.Path)
		return nil, fmt.Errorf("%s failed: %v: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	if stdout.Len() == 0 || stdout.Len() >= len(data) {
		return data, nil
	}
	return stdout.Bytes(), nil
}

// errEmpty is the error of an empty source file.
var errEmpty = errors.New("empty file")
