package join

import (
	"os"
	"path/filepath"
	"testing"
)

// Accident and race: a fetched file lands where a file of that name is
// already; it must never overwrite it, nor follow a link planted there.
func TestFreeName(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slides.pdf"), []byte("mine"), 0o600)
	os.WriteFile(filepath.Join(dir, "slides (1).pdf"), []byte("mine too"), 0o600)
	os.Symlink(filepath.Join(dir, "target"), filepath.Join(dir, "slides (2).pdf"))
	want := []string{"slides (3).pdf", "slides (4).pdf"}
	for _, w := range want {
		f, err := freeName(dir, "slides.pdf")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if filepath.Base(f.Name()) != w {
			t.Fatalf("freeName gave %s, want %s", f.Name(), w)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "slides.pdf")); string(b) != "mine" {
		t.Fatalf("the first file was overwritten: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "target")); err == nil {
		t.Fatal("freeName followed the planted link")
	}
	for name, w := range map[string]string{".profile": ".profile (1)", "noext": "noext (1)"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o600)
		f, err := freeName(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if filepath.Base(f.Name()) != w {
			t.Fatalf("freeName(%q) gave %s, want %s", name, f.Name(), w)
		}
	}
	if _, err := freeName(dir, "../escape"); err == nil {
		t.Fatal("freeName took a path")
	}
}
