package join

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestClientKnowsNoHost: the client must not depend on the host (issue
// 14). Of host/ it may use the wire format alone, which both sides speak;
// the atomic state files it writes with its own small renameio wrapper
// (statefile.go) rather than host/statefile's. Build tags are not applied,
// so a file for another system cannot slip an import past this.
func TestClientKnowsNoHost(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
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
			if (path == "chatroom/host" || strings.HasPrefix(path, "chatroom/host/")) && path != "chatroom/host/wire" {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
