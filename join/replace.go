//go:build !windows

package join

import (
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// replace puts data at path through renameio, as host/statefile does: a
// temporary file beside path (not in the system's temporary directory,
// where the host's RemoveStale would not find what a kill leaves), with
// perm whatever the umask, synced and renamed over path; then the
// directory is synced, which renameio leaves to its caller.
func replace(path string, data []byte, perm os.FileMode) error {
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
