package join

import (
	"os"
	"path/filepath"
	"testing"

	"chatroom/host/wire"
)

// The identity is made once and kept: the same key every time, in a file
// only its owner can read.
func TestIdentityKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	first, err := LoadOrCreateIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	fp := wire.Fingerprint(first.Leaf.RawSubjectPublicKeyInfo)
	if wire.Fingerprint(again.Leaf.RawSubjectPublicKeyInfo) != fp {
		t.Fatal("a second load made another identity")
	}
	if tag := identityTag(first); len(tag) != 8 || tag != fp[len("SHA256:"):len("SHA256:")+8] {
		t.Fatalf("tag %q of %s", tag, fp)
	}
	fi, err := os.Stat(filepath.Join(dir, identityFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file mode %v, %v", fi.Mode(), err)
	}
	other, err := LoadOrCreateIdentity(t.TempDir())
	if err != nil || wire.Fingerprint(other.Leaf.RawSubjectPublicKeyInfo) == fp {
		t.Fatal("two state directories, one identity")
	}
	os.WriteFile(filepath.Join(dir, identityFile), []byte("garbage"), 0o600)
	if _, err := LoadOrCreateIdentity(dir); err == nil {
		t.Fatal("a damaged identity was replaced silently")
	}
}
