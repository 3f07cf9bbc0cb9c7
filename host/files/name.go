package files

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes bounds an offered name. It leaves room under the 255 bytes
// most file systems allow a name for the " (999)" that FreeName may add.
const MaxNameBytes = 200

// maxFreeNameTries bounds FreeName's search: past it the directory is full
// of copies, and a person should look at it.
const maxFreeNameTries = 999

// CheckName reports whether name is fit to be an offered file's name and,
// on the receiving side, the name of a new file in a download directory:
// a name only, never a path. It refuses what could lead a file elsewhere
// or trick a person reading it: a directory separator of any system,
// "." and "..", control, format (bidi, zero-width) and line-breaking
// characters, the characters Windows forbids, a name Windows takes for a
// device (CON, NUL, COM1, "nul.txt" too), a trailing dot or space (which
// Windows drops, so "a.exe." would land as "a.exe"), bad UTF-8 and more
// than MaxNameBytes bytes. The error says why, in words for a person.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("the file name is empty")
	case len(name) > MaxNameBytes:
		return fmt.Errorf("the file name is %d bytes long, more than the %d allowed", len(name), MaxNameBytes)
	case !utf8.ValidString(name):
		return errors.New("the file name is not valid UTF-8")
	case strings.Trim(name, ".") == "":
		return errors.New("the file name is only dots")
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		return errors.New("the file name ends with a dot or a space")
	}
	for _, r := range name {
		switch {
		case r == '/' || r == '\\':
			return errors.New("the file name has a directory in it: offer a name only")
		case strings.ContainsRune(`<>:"|?*`, r):
			return fmt.Errorf("the file name has %q in it, which Windows does not allow in a name", r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp):
			return fmt.Errorf("the file name has an invisible or control character (U+%04X) in it", r)
		}
	}
	if isDeviceName(name) {
		return errors.New("the file name is one Windows keeps for a device (CON, NUL, COM1 and the like)")
	}
	return nil
}

// isDeviceName reports whether Windows takes name for a device: the part
// before the first dot, less trailing spaces, is one of its reserved
// names, in any case. The superscript digits count as digits there.
func isDeviceName(name string) bool {
	stem, _, _ := strings.Cut(name, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if rest, ok := strings.CutPrefix(stem, "COM"); ok {
		return isDeviceDigit(rest)
	}
	if rest, ok := strings.CutPrefix(stem, "LPT"); ok {
		return isDeviceDigit(rest)
	}
	return false
}

func isDeviceDigit(s string) bool {
	switch s {
	case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
		return true
	}
	return false
}

// FreeName creates a new file in dir for name, never one that exists:
// name itself if it is free, else "name (1).ext", "name (2).ext" and on.
// Each try creates the file exclusively (O_EXCL), so a file that appears
// between a look and the creation is never overwritten, nor a link
// followed. The name is checked with CheckName first. The caller writes
// the file and closes it; f.Name() is its path.
func FreeName(dir, name string) (*os.File, error) {
	if err := CheckName(name); err != nil {
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
