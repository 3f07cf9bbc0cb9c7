//go:build unix && !aix

package host

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile holds the state directory's lock (see lockStateDir). flock locks
// belong to the open file, not the process, so a second lock in one process
// is refused just as one in another is, and the kernel drops the lock when
// the process dies, however it dies.
func lockFile(f *os.File) error {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
