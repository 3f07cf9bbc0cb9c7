//go:build unix

package statefile

import (
	"errors"

	"golang.org/x/sys/unix"
)

const noFollow = unix.O_NOFOLLOW

// isNoFollowError reports the error of an O_NOFOLLOW open of a symbolic
// link: ELOOP on Linux and the BSDs' descendants, EMLINK on FreeBSD and
// NetBSD.
func isNoFollowError(err error) bool {
	return errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK)
}
