package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode/utf8"
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

// readSource reads a source file, opened read-only, whole; unless its first
// bytes already show that it is empty or neither JPEG nor PNG: a video of
// some gigabytes named .jpg is refused after 8 bytes instead of being read
// into memory.
func readSource(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var head [8]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	if n == 0 {
		return nil, errEmpty
	}
	if !bytes.HasPrefix(head[:n], jpegMagic) && !bytes.HasPrefix(head[:n], pngMagic) {
		return nil, errNotImage
	}
	var buf bytes.Buffer
	if fi, err := f.Stat(); err == nil {
		buf.Grow(int(fi.Size()) + 1) // one allocation; ReadFrom still reads to EOF
	}
	buf.Write(head[:n])
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkOutside creates the output folder dir and makes sure that it does not
// resolve inside root (the resolved source folder). The callers refuse
// overlapping src and dst, but a symbolic link inside dst (dst/sub -> src/sub)
// would still make the rename below replace a source file.
func checkOutside(dir, root string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if root == "" {
		return nil
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if real == root || strings.HasPrefix(real, root+string(filepath.Separator)) {
		return fmt.Errorf("%s resolves to %s, inside the source folder", dir, real)
	}
	return nil
}

// tempPattern names the temporary file of an output: hidden, recognisable,
// and never too long. A name may have up to 255 bytes (NAME_MAX): with the
// whole output name plus the dot and the random part, a long (often
// non-ASCII) name that is valid would fail. It keeps at most 100 bytes of
// the name, cut at a character boundary (macOS wants valid UTF-8).
func tempPattern(base string) string {
	const keep = 100
	if len(base) > keep {
		cut := keep
		for cut > 0 && !utf8.RuneStart(base[cut]) {
			cut--
		}
		base = base[:cut]
	}
	return "." + base + ".*.tmp"
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
	f, err := os.CreateTemp(dir, tempPattern(filepath.Base(path)))
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
