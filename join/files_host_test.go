package join

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"chatroom/host"
)

// TestFilesRealHost: the whole way through a real host over TLS on
// 127.0.0.1, the room's key pinned and each member known by its identity:
// ana offers a file (SendFile returns once the room announced it), bob
// and cy fetch it (Get), and their copies match; a second SendFile of a
// file past the host's limit comes back with the host's words.
func TestFilesRealHost(t *testing.T) {
	h, err := host.Start(host.Config{Name: "Lab 3", StateDir: t.TempDir(), Listen: "127.0.0.1:0",
		Files: host.FileLimits{MaxFileSize: 8 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	dialAs := func() Dialer {
		return DialTLS(h.Addr().String(), h.Fingerprint(), nil, WithIdentity(testIdentity(t)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	data, sum := testContent(t, 5<<20+1)
	path := writeTestFile(t, "slides.pdf", data)
	ana := newFakeUI(t)
	out, err := SendFile(ctx, dialAs(), Options{Name: "ana", StateDir: t.TempDir()}, path, "", ana)
	if err != nil {
		t.Fatalf("SendFile: %v (shown %q)", err, ana.output())
	}
	if out.File.Number == 0 || out.File.SHA256 != sum {
		t.Fatalf("outcome %+v", out.File)
	}
	for _, name := range []string{"bob", "cy"} {
		dir := t.TempDir()
		ui := newFakeUI(t)
		got, err := Get(ctx, dialAs(), Options{Name: name}, out.File.Number, dir, ui)
		if err != nil {
			t.Fatalf("Get as %s: %v (shown %q)", name, err, ui.output())
		}
		if b, _ := os.ReadFile(got.Path); !bytes.Equal(b, data) {
			t.Errorf("%s's copy at %s does not match", name, got.Path)
		}
	}

	// The host's own person reaches the room through its in-process
	// pipe, and so do its transfers.
	own, err := Get(ctx, h.DialOwner, Options{Name: "host"}, out.File.Number, t.TempDir(), newFakeUI(t))
	if err != nil {
		t.Fatalf("Get through the owner's pipe: %v", err)
	}
	if b, _ := os.ReadFile(own.Path); !bytes.Equal(b, data) {
		t.Errorf("the owner's copy at %s does not match", own.Path)
	}

	big := writeTestFile(t, "big.iso", make([]byte, 9<<20))
	_, err = SendFile(ctx, dialAs(), Options{Name: "ana", StateDir: t.TempDir()}, big, "", newFakeUI(t))
	if err == nil || !strings.Contains(err.Error(), "big.iso") {
		t.Errorf("SendFile past the limit: %v, want the host's refusal naming the file", err)
	}
	t.Logf("refusal: %v", err)
}
