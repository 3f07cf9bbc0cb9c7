//go:build !(linux || darwin || freebsd)

package host

// freeSpace cannot tell the free space here: the default quota is
// DefaultFileQuota, unbounded by the disk.
func freeSpace(dir string) int64 { return -1 }
