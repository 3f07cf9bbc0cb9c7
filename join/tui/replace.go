//go:build !windows

package tui

import (
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// replaceFile writes data to path as a whole: to a temporary file beside
// it, synced and renamed over it, so that a crash leaves the old file or
// the new. The directory is synced too, so that the rename itself is on
// disk when it returns, which renameio leaves to its caller. (The state
// files of host and join are written so by host/statefile; this package
// keeps its one file without depending on the host.)
func replaceFile(path string, data []byte, perm os.FileMode) error {
	if err := renameio.WriteFile(path, data, perm); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
