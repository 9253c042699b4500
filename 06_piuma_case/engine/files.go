package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
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

// writeAtomic writes data to path through a temporary file in the same
// directory, flushed to disk, then renamed over path: readers (and a crash)
// see the old file or the new one, never half of one. Parent directories are
// created as needed. On any error the temporary file is removed.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil { // CreateTemp makes it 0600
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
