//go:build !windows

package tui

import (
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// replaceFile writes data to path as a whole: to a temporary file beside
// it, synced and renamed over it, so that a crash leaves the old file or
// the new. The file gets perm whatever the umask, and whatever an older
// file had: renameio.WriteFile would keep an older file's permissions, and
// a history must stay its person's alone. The directory is synced too, so
// that the rename itself is on disk when it returns, which renameio
// leaves to its caller. (The state files of host and join are written so
// by host/statefile; this package keeps its one file without depending on
// the host.)
func replaceFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithStaticPermissions(perm))
	if err != nil {
		return err
	}
	defer f.Cleanup()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.CloseAtomicallyReplace(); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
