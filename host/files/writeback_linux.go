package files

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing the bytes of f from off
// on, n of them, to disk, without waiting for it (sync_file_range with
// SYNC_FILE_RANGE_WRITE): when the upload's checkpoint or its end then
// syncs the file, the disk has already taken most of it, rather than all
// of 32 MiB at once. Only a hint: an error changes nothing.
func startWriteback(f *os.File, off, n int64) {
	unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
