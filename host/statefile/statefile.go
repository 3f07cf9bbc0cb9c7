// Package statefile writes the small files that hold chatroom's state
// (bans, keys, known rooms) so that a crash at any moment leaves either the
// old file or the new one, never a torn one, and opens them without
// following a symbolic link planted in their place. It is the host's: the
// client does not depend on the host, and writes its own state files with a
// writer of the same kind (join/statefile.go: a copy by choice, as both
// sides write through github.com/google/renameio), whose temporary files
// are named as WriteAtomic's, so RemoveStale removes those too.
package statefile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WriteAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, then syncs the directory so the rename itself is
// on disk before it returns (see replace). The directory is created if
// needed (0700: state is private), and the file always gets perm, whatever
// the umask or the mode of the file it replaces.
func WriteAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return replace(path, data, perm)
}

// isTemp reports whether name is that of a temporary file WriteAtomic
// makes: renameio names it "." + the file's name + random digits. Earlier
// versions named it "." + the file's name + ".tmp" + random digits, which
// fits too. A state file's name never starts with a dot.
func isTemp(name string) bool {
	rest, ok := strings.CutPrefix(name, ".")
	if !ok {
		return false
	}
	base := strings.TrimRight(rest, "0123456789")
	return base != "" && len(base) < len(rest)
}

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
		if !isTemp(name) || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > age {
			os.Remove(filepath.Join(dir, name))
		}
	}
}

// ErrSymlink is the error, wrapped, for a state file that is a symbolic
// link. Whoever can plant one in a state directory could otherwise make the
// host append its moderation log to, or read its bans from, a file of their
// choosing; the files are never links when chatroom made them.
var ErrSymlink = errors.New("is a symbolic link, which chatroom does not follow in its state directory")

// ReadFile reads the state file at path, refusing a symbolic link there
// (an error wrapping ErrSymlink). A missing file is an error wrapping
// fs.ErrNotExist, as from os.ReadFile.
func ReadFile(path string) ([]byte, error) {
	f, err := openNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// OpenAppend opens the state file at path for appending, creating it with
// perm, and refuses a symbolic link there as ReadFile does.
func OpenAppend(path string, perm os.FileMode) (*os.File, error) {
	return openNoFollow(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, perm)
}

// OpenFile opens the state file at path as os.OpenFile does, and refuses
// a symbolic link there as ReadFile does.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	return openNoFollow(path, flag, perm)
}

// openNoFollow opens path without following a symbolic link at it. The
// Lstat gives the clear error; noFollow (O_NOFOLLOW where the system has
// it) closes the window between the Lstat and the open, in which a link
// could be planted.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
	}
	f, err := os.OpenFile(path, flag|noFollow, perm)
	if err != nil && isNoFollowError(err) {
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
	}
	return f, err
}
