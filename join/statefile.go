package join

import (
	"os"
	"path/filepath"
)

// WriteStateFile writes one of the person's state files (identity, known
// rooms, the prompt's history) so that a crash at any moment leaves the
// old file or the new one, never a torn one: a temporary file beside path,
// synced and renamed over it, then the directory synced so the rename is
// on disk too (see replace). The directory is made if needed (0700: state
// is private), and the file always gets perm, whatever the umask or the
// mode of the file it replaces. This is a copy, by choice, of the host's
// statefile.WriteAtomic: both sides use renameio, so that the client need
// not import the host, and its temporary files are named as the host's, so
// the host's sweep of a shared state directory removes those a kill leaves.
func WriteStateFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return replace(path, data, perm)
}
