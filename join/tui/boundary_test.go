package tui

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// imports returns the packages that the Go files of dir (not its tests)
// import, each with the file that imports it, for every system: build
// tags are not applied.
func imports(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			found[path] = name
		}
	}
	return found
}

// TestTerminalKnowsNoSockets: this package shows the room and reads the
// person's lines; the connection is join's. Of the host it may use the
// wire format alone, and nothing of the network, TLS or discovery.
func TestTerminalKnowsNoSockets(t *testing.T) {
	for path, file := range imports(t, ".") {
		switch {
		case path == "net" || strings.HasPrefix(path, "net/"),
			path == "crypto/tls",
			path == "chatroom/discovery" || strings.HasPrefix(path, "chatroom/discovery/"),
			strings.HasPrefix(path, "chatroom/host") && path != "chatroom/host/wire":
			t.Errorf("%s imports %s", file, path)
		}
	}
}

// TestOnlyTheTerminalKnowsTheLineEditor: liner and the terminal's modes
// are this package's; join, in particular, knows nothing of terminals. (The
// command line may ask whether its input is a terminal.)
func TestOnlyTheTerminalKnowsTheLineEditor(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		here, _ := filepath.Abs(path)
		mine, _ := filepath.Abs(".")
		if here == mine {
			return nil
		}
		for imp, file := range imports(t, path) {
			if imp == "github.com/peterh/liner" || filepath.Base(here) == "join" && imp == "golang.org/x/term" {
				t.Errorf("%s imports %s", file, imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
