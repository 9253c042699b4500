package engine

import (
	"os"
	"syscall"
)

// write puts data in a new temp file (Python's unique name, in the same folder),
// syncs it and renames it over the destination (readers see the old file or the
// new, never a part); an error removes it. Python fsyncs the folders after.
func write(temp, destination string, data []byte) error {
	f, err := os.OpenFile(temp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return fail(CannotWrite, "%s", plainError(err))
	}
	err = f.Chmod(0o644) // whatever the umask: outputs are for a web server
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(temp, destination)
	}
	if err != nil {
		os.Remove(temp)
		return fail(CannotWrite, "%s", plainError(err))
	}
	return nil
}
