package join

import (
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// writeStateFile writes one of the person's state files (identity, known
// rooms) so that a crash at any moment leaves the old file or the new one,
// never a torn one: a temporary file beside path, synced and renamed over
// it (renameio), then the directory synced so the rename is on disk too.
// The directory is made if needed (0700: state is private), and the file
// always gets perm, whatever the umask or the mode of the file it replaces.
// It is the host's statefile.WriteAtomic, which the client does not import
// (it does not depend on the host); the temporary files are named alike, so
// the host's sweep of a shared state directory removes those a kill leaves.
func writeStateFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// Beside path, not in the system's temporary directory, which renameio
	// would otherwise try.
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
		// Not every system can sync a directory (Windows cannot); the
		// rename is still atomic there.
		d.Sync()
		d.Close()
	}
	return nil
}
