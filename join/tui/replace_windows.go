package tui

import (
	"os"
	"path/filepath"
)

// replaceFile writes data to path as a whole: to a temporary file beside
// it, synced and renamed over it, so that a crash leaves the old file or
// the new. renameio does not build on Windows, where the prompt is not
// offered anyway (prompt_other.go); the rename is still atomic there,
// and a directory cannot be synced.
func replaceFile(path string, data []byte, perm os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
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
