//go:build windows

package host

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockFile holds the state directory's lock (see lockStateDir), with
// LockFileEx, which Windows drops when the process ends. The locked byte is
// far past the pid the file holds: Windows' locks are mandatory, and a
// second host must still read the pid of the first.
func lockFile(f *os.File) error {
	ol := &windows.Overlapped{OffsetHigh: 0x7fffffff}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errLocked
	}
	return err
}
