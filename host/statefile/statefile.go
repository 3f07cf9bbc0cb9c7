// Package statefile writes the small files that hold chatroom's state
// (bans, keys, known rooms) so that a crash at any moment leaves either the
// old file or the new one, never a torn one. Host and join both use it.
package statefile

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WriteAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, then syncs the directory so the rename itself is on
// disk before it returns. The directory is created if needed (0700: state
// is private).
func WriteAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempMark+"*")
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
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		// Not every system can sync a directory (Windows cannot); the
		// rename is still atomic there.
		d.Sync()
		d.Close()
	}
	return nil
}

// tempMark is in the name of every temporary file WriteAtomic makes.
const tempMark = ".tmp"

// RemoveStale removes the temporary files that WriteAtomic leaves in dir
// when its process is killed mid-write, once they are older than age. The
// age keeps it from removing the file of a write in progress: the host and
// join share a state directory by default, and either may be writing.
func RemoveStale(dir string, age time.Duration) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, ".") || !strings.Contains(name, tempMark) || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > age {
			os.Remove(filepath.Join(dir, name))
		}
	}
}
