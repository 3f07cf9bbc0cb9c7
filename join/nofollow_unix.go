//go:build unix

package join

import "syscall"

// openNoFollow makes an open fail on a symbolic link rather than follow
// it: a fetch's part is opened with it, so that a link planted between
// the check and the open is not written through.
const openNoFollow = syscall.O_NOFOLLOW
