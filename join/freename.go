package join

import (
	"chatroom/host/wire"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxFreeNameTries bounds freeName's search: past it the directory is full
// of copies, and a person should look at it.
const maxFreeNameTries = 999

// freeName creates a new file in dir for name, never one that exists:
// name itself if it is free, else "name (1).ext", "name (2).ext" and on.
// Each try creates the file exclusively (O_EXCL), so a file that appears
// between a look and the creation is never overwritten, nor a link
// followed. The name is checked with wire.CheckFileName first. The caller writes
// the file and closes it; f.Name() is its path.
func freeName(dir, name string) (*os.File, error) {
	if err := wire.CheckFileName(name); err != nil {
		return nil, err
	}
	stem, ext := splitExt(name)
	for i := 0; i <= maxFreeNameTries; i++ {
		candidate := name
		if i > 0 {
			candidate = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		f, err := os.OpenFile(filepath.Join(dir, candidate), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s and %d numbered copies of it are in %s already", name, maxFreeNameTries, dir)
}

// splitExt splits name before its last dot, where the number of a copy
// goes. A name that starts with its only dot (".profile") has no
// extension: the number goes at its end.
func splitExt(name string) (stem, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return name, ""
	}
	return name[:i], name[i:]
}
