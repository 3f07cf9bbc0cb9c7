package join

import (
	"os"
	"path/filepath"
)

// replace is host/statefile's for Windows, where renameio does not build:
// a temporary file beside path, named as renameio names its own ("." +
// name + digits) so that the host's RemoveStale finds what a kill leaves,
// synced and renamed over path (atomic there too; a directory cannot be
// synced).
func replace(path string, data []byte, perm os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
