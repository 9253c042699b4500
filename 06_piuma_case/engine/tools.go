package engine

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
)

// optimize pipes an encoded image through jpegoptim (lossless: optimised
// Huffman tables, metadata stripped) or pngquant (lossy palette quantisation),
// exactly as the Python engine runs them, and returns their output (which
// the caller keeps if smaller). os/exec starts them with fork+exec done safely
// by the Go runtime, unlike a Python os.fork().
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
	if errors.As(err, &exit) { // the Python engine's words
		return nil, fail(Internal, "%s failed with exit status %d: %s", filepath.Base(cmd.Path),
			exit.ExitCode(), strings.TrimSpace(stderr.String()))
	}
	if err != nil { // could not start it
		return nil, fail(Internal, "%s failed: %v", filepath.Base(cmd.Path), err)
	}
	if stdout.Len() == 0 {
		return data, nil
	}
	return stdout.Bytes(), nil
}
