package engine

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// Files on disk, without check-then-use windows.
//
// Sources: stat first, so a FIFO or device with an image name is refused
// without ever being opened; then open with O_NONBLOCK (a FIFO swapped in
// after the stat cannot block the open) and O_NOCTTY, and check the opened
// file again with fstat: what is read is what was checked.
//
// Outputs: the destination folder is opened once (a directory descriptor),
// each output folder is reached from it one component at a time (openat,
// mkdirat), and the temp file is created, renamed and removed relative to
// the output folder's descriptor (openat, renameat, unlinkat): a symbolic
// link swapped into the path after a check cannot send the write anywhere
// else. After the rename the folder itself is fsynced, so that the new
// name survives a crash as the data does. piuma/_fsutil.py does the same
// for the Python engine.

var errNotRegular = errors.New("not a regular file")

// openSource opens a source file for reading. The caller closes it.
func openSource(path string) (*os.File, int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, errNotRegular
	}
	return openChecked(path)
}

// openChecked opens without blocking and checks what was opened.
func openChecked(path string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errNotRegular
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// plainError says what an operating-system error means, without the path
// (the result already names the file): "permission denied", "no space left
// on device". piuma/_fsutil.py's plain_error prints the same words.
func plainError(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.EISDIR, syscall.ENOTEMPTY, syscall.EEXIST:
			return "a folder with the output's name is in the way"
		}
		return errno.Error()
	}
	return err.Error()
}

// outputs writes the outputs of one batch under its destination folder.
type outputs struct {
	dst     string
	once    sync.Once // the destination is created and opened at the first write
	root    int       // descriptor of the destination folder
	rootErr error
	srcDev  uint64 // identity of the source folder: outputs must not land inside it
	srcIno  uint64
	srcOK   bool

	mu      sync.Mutex
	cleaned map[string]bool // output folders whose stale temp files were removed
}

func newOutputs(dst, src string) *outputs {
	o := &outputs{dst: dst, root: -1, cleaned: map[string]bool{}}
	var st unix.Stat_t
	if src != "" && unix.Stat(src, &st) == nil {
		o.srcDev, o.srcIno, o.srcOK = uint64(st.Dev), uint64(st.Ino), true
	}
	return o
}

func (o *outputs) openRoot() {
	if err := os.MkdirAll(o.dst, 0o755); err != nil {
		o.rootErr = err
	} else if o.root, err = unix.Open(o.dst, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		o.rootErr, o.root = err, -1
	}
}

func (o *outputs) close() {
	if o.root >= 0 {
		unix.Close(o.root)
	}
}

// openFolder returns a descriptor of the output folder rel (relative to the
// destination, "." for itself), created as needed. Symbolic links in it are
// followed (an output folder may live on another disk), but a folder that
// is, or is inside, the source folder is refused: the rename would
// otherwise replace a source file.
func (o *outputs) openFolder(rel string) (int, error) {
	o.once.Do(o.openRoot)
	if o.rootErr != nil {
		return -1, o.rootErr
	}
	fd, err := unix.Dup(o.root)
	if err != nil {
		return -1, err
	}
	if rel != "." {
		names := strings.Split(rel, string(filepath.Separator))
		for i, name := range names {
			// Folders on the way are only gone through; the output's own
			// folder is opened for reading (to fsync and list it).
			mode := dirSearch
			if i == len(names)-1 {
				mode = unix.O_RDONLY
			}
			next, err := unix.Openat(fd, name, mode|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if errors.Is(err, unix.ENOENT) {
				if err = unix.Mkdirat(fd, name, 0o755); err == nil || errors.Is(err, unix.EEXIST) {
					next, err = unix.Openat(fd, name, mode|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
				}
			}
			unix.Close(fd)
			if err != nil {
				return -1, err
			}
			fd = next
		}
	}
	if inside, err := o.insideSource(fd); err != nil || inside {
		unix.Close(fd)
		if err == nil {
			err = errInsideSource
		}
		return -1, err
	}
	return fd, nil
}

var errInsideSource = errors.New("inside the source folder")

// insideSource reports whether the folder fd is the source folder or one of
// its subfolders, by walking up through ".." and comparing device and inode
// numbers: it checks the folder that will be written, whatever path led there.
func (o *outputs) insideSource(fd int) (bool, error) {
	if !o.srcOK {
		return false, nil
	}
	cur, err := unix.Dup(fd)
	if err != nil {
		return false, err
	}
	defer func() { unix.Close(cur) }()
	for depth := 0; depth < 4096; depth++ {
		var st unix.Stat_t
		if err := unix.Fstat(cur, &st); err != nil {
			return false, err
		}
		if uint64(st.Dev) == o.srcDev && uint64(st.Ino) == o.srcIno {
			return true, nil
		}
		parent, err := unix.Openat(cur, "..", dirSearch|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return false, err
		}
		var pst unix.Stat_t
		if err := unix.Fstat(parent, &pst); err != nil {
			unix.Close(parent)
			return false, err
		}
		unix.Close(cur)
		cur = parent
		if pst.Dev == st.Dev && pst.Ino == st.Ino { // the root: ".." is itself
			return false, nil
		}
	}
	return false, nil
}

// tempStem keeps at most 100 bytes of an output's name for its temp file,
// cut at a character boundary (macOS wants valid UTF-8): a valid name may
// have 255 bytes (NAME_MAX), the temp file adds about 30.
func tempStem(base string) string {
	const keep = 100
	if len(base) > keep {
		cut := keep
		for cut > 0 && !utf8.RuneStart(base[cut]) {
			cut--
		}
		base = base[:cut]
	}
	return base
}

// tempName is ".<name>.piuma-<pid>-<random>.tmp": hidden, recognisable, and
// it says which process writes it, so a later run can tell a temp file of a
// killed run (its process is gone) from one of a run still going.
func tempName(base string) string {
	return fmt.Sprintf(".%s.piuma-%d-%08x.tmp", tempStem(base), os.Getpid(), rand.Uint32())
}

var tempRE = regexp.MustCompile(`(?s)^\..*\.piuma-([0-9]+)-[0-9a-f]+\.tmp$`)

// processAlive: kill(pid, 0) succeeds or is refused (EPERM) for a process
// that exists. Only for processes of this machine (PID namespace): a run
// in another container sharing the folder looks dead.
func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// cleanStale removes, once per batch and folder, the temp files that killed
// runs left in an output folder: ours (by their name), regular files, whose
// process is gone. Temp files of this process (another batch may be
// writing them) and of live processes are left alone.
func (o *outputs) cleanStale(rel string, dirfd int) {
	o.mu.Lock()
	done := o.cleaned[rel]
	o.cleaned[rel] = true
	o.mu.Unlock()
	if done {
		return
	}
	fd, err := unix.Openat(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	for {
		names, err := f.Readdirnames(1024)
		for _, name := range names {
			m := tempRE.FindStringSubmatch(name)
			if m == nil {
				continue
			}
			pid, perr := strconv.Atoi(m[1])
			if perr != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
				continue
			}
			var st unix.Stat_t
			if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil &&
				st.Mode&unix.S_IFMT == unix.S_IFREG {
				_ = unix.Unlinkat(dirfd, name, 0)
			}
		}
		if err != nil || len(names) == 0 {
			return
		}
	}
}

// fsyncHook lets a test see which descriptors are flushed.
var fsyncHook func(fd int)

func fsync(fd int) error {
	if fsyncHook != nil {
		fsyncHook(fd)
	}
	return unix.Fsync(fd)
}

// write writes data as the output at path (under the destination folder,
// rel being its folder relative to the destination): temp file, flushed,
// mode 0644, renamed over the name, folder flushed. Readers (and a crash)
// see the old file or the new one, never half of one; on any error the
// temp file is removed.
func (o *outputs) write(rel, path string, data []byte) (err error) {
	dirfd, err := o.openFolder(rel)
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	o.cleanStale(rel, dirfd)
	base := filepath.Base(path)
	var tmp string
	var fd int
	for try := 0; ; try++ {
		tmp = tempName(base)
		fd, err = unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == nil || !errors.Is(err, unix.EEXIST) || try == 100 {
			break
		}
	}
	if err != nil {
		return err
	}
	defer func() {
		if fd >= 0 {
			unix.Close(fd)
		}
		if err != nil {
			_ = unix.Unlinkat(dirfd, tmp, 0)
		}
	}()
	if err = writeFull(fd, data); err != nil {
		return err
	}
	if err = unix.Fchmod(fd, 0o644); err != nil { // whatever the umask: as before
		return err
	}
	if err = fsync(fd); err != nil {
		return err
	}
	err, fd = unix.Close(fd), -1
	if err != nil {
		return err
	}
	if err = unix.Renameat(dirfd, tmp, dirfd, base); err != nil {
		return err
	}
	return fsync(dirfd)
}

// writeFull writes all of data to fd (a raw descriptor: no *os.File, whose
// finalizer could close the number again after it is reused).
func writeFull(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// readAll reads size bytes of an open source (fewer if it shrank meanwhile).
func readAll(f io.ReaderAt, size int64) ([]byte, error) {
	data := make([]byte, size)
	n, err := io.ReadFull(io.NewSectionReader(f, 0, size), data)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return data[:n], err
}
