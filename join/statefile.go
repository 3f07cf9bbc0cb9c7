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
// mode of the file it replaces. It is the host's statefile.WriteAtomic,
// which the client does not import (it does not depend on the host); the
// temporary files are named alike, so the host's sweep of a shared state
// directory removes those a kill leaves.
func WriteStateFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return replace(path, data, perm)
}
