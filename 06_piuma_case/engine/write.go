package engine

import (
	"os"
	"syscall"
)

// write puts data in a new temp file (its name is Python's: unique, in the
// destination's folder, which exists), flushes it to disk and renames it over
// the destination: readers see the old file or the new one, never a part.
// On any error the temp file is removed. Python fsyncs each folder once after
// the batch, so that the renames survive a crash as the data does.
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
