package engine

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fileError is a file's failure: its category and the details.
type fileError struct {
	cat Category
	msg string
}

func (e *fileError) Error() string { return e.msg }

func fail(cat Category, format string, a ...any) error {
	return &fileError{cat, fmt.Sprintf(format, a...)}
}

var errChanged = fail(Unreadable, "the file changed since it was probed")

// unchanged says whether f is still the file probed: its stamp (device,
// inode, size, ctime; zeros: not checked). Any write moves the ctime, and
// nothing sets it back; the probe's decisions (orientation) are that file's.
func unchanged(f *os.File, stamp [4]uint64) bool {
	fi, err := f.Stat()
	if stamp == [4]uint64{} || err != nil {
		return err == nil
	}
	st := fi.Sys().(*syscall.Stat_t)
	return stamp == [4]uint64{st.Dev, st.Ino, uint64(st.Size), uint64(st.Ctim.Nano())}
}

// convert is one job (checked by the glue, parse_job): open, decode, resize,
// orient, encode, optimise, write.
func convert(job *Job, opts *Options) Result {
	var r Result
	err := func() error {
		// Without blocking: a FIFO swapped in after the probe must not hang the worker.
		f, err := os.OpenFile(job.Source, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
		if err != nil {
			return fail(Unreadable, "%s", plainError(err))
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return fail(Unreadable, "%s", plainError(err))
		} else if !fi.Mode().IsRegular() {
			return fail(Unreadable, "not a regular file")
		} else if r.BytesIn = fi.Size(); r.BytesIn == 0 {
			return fail(Empty, "empty file")
		} else if !unchanged(f, job.Stamp) { // replaced or written since its probe
			return errChanged
		}
		m, err := decode(f, job)                    // the decoders check the size the probe saw
		if err == nil && !unchanged(f, job.Stamp) { // written while it was decoded
			m.free()
			err = errChanged
		}
		if err == nil {
			m, err = resize(m, job.OutWidth, job.OutHeight)
		}
		if err == nil {
			m, err = orient(m, job.Orientation)
		}
		if err != nil {
			return err
		}
		defer m.free()
		var data []byte // C memory
		if job.Format == JPEG {
			data, err = encodeJPEG(m, opts.Quality, opts.Optimize)
		} else {
			data, err = encodePNGOutput(m, opts.Optimize)
		}
		if err != nil {
			return err
		}
		defer cfree(data)
		if err := write(job.Temp, job.Destination, data); err != nil {
			return err
		}
		r.BytesOut, r.Width, r.Height = int64(len(data)), m.w, m.h
		return nil
	}()
	if err != nil { // a *fileError (another error is a bug: a panic, hence Internal)
		fe := err.(*fileError)
		r.Category, r.Err = fe.cat, fe.msg
	}
	return r
}

// encodePNGOutput: gray stays gray, all-opaque RGBA becomes RGB (in place). With
// the optimiser, quantise first (the palette file usually wins), then encode true
// colour only until it is too large to win (pngquant's rule: winningSize).
func encodePNGOutput(m image, optimize bool) ([]byte, error) {
	opaque := m.bpp == 4
	for i := 3; opaque && i < len(m.pix); i += 4 {
		opaque = m.pix[i] == 255
	}
	if opaque {
		for i, j := 0, 0; i < len(m.pix); i, j = i+4, j+3 {
			m.pix[j], m.pix[j+1], m.pix[j+2] = m.pix[i], m.pix[i+1], m.pix[i+2]
		}
		m.pix, m.bpp = m.pix[:3*m.w*m.h], 3
	}
	if !optimize {
		return encodePNG(m, 8, nil, 0)
	}
	small, quality, err := quantize(m)
	if err != nil {
		return nil, err
	}
	trueColor, err := encodePNG(m, 8, nil, winningSize(len(small), quality)-1)
	if errors.Is(err, errOver) {
		return small, nil
	}
	cfree(small)
	return trueColor, err
}

// plainError is an OS error without the path (the result names the file), as
// piuma/_files.py's plain_error says it: "permission denied".
func plainError(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		// A rename over a folder (os.Rename says EEXIST); an EEXIST of the
		// temp file's exclusive open is "file exists".
		var rename *os.LinkError
		if (errno == syscall.EISDIR || errno == syscall.EEXIST) && errors.As(err, &rename) {
			return "a folder with the output's name is in the way"
		}
		return errno.Error()
	}
	return err.Error()
}
