//go:build linux || darwin || freebsd

package join

import "syscall"

// freeSpace gives the bytes free to this user on the disk that holds dir,
// or -1 when it cannot tell.
func freeSpace(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
