package join

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chatroom/host"
	"chatroom/host/wire"
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

// BenchmarkGet is the client's whole fetch through a real host over TLS
// on 127.0.0.1: joining, "/get N", the transfer, the sha256 check and the
// landing, of a 64 MB file (b.SetBytes: MB/s is the file's rate, the join
// included).
func BenchmarkGet(b *testing.B) {
	h, err := host.Start(host.Config{Name: "Lab 3", StateDir: b.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	id, err := LoadOrCreateIdentity(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	dial := DialTLS(h.Addr().String(), h.Fingerprint(), nil, WithIdentity(id))
	const size = 64 << 20
	path := filepath.Join(b.TempDir(), "bench.bin")
	if err := os.WriteFile(path, bytes.Repeat([]byte("0123456789abcdef"), size/16), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	out, err := SendFile(ctx, dial, Options{Name: "ana"}, path, "", discardUI{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ResetTimer()
	for i := range b.N {
		// Each fetcher its own identity: the room limits how often one
		// key joins.
		b.StopTimer()
		me, err := LoadOrCreateIdentity(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		b.StartTimer()
		dial := DialTLS(h.Addr().String(), h.Fingerprint(), nil, WithIdentity(me))
		if _, err := Get(ctx, dial, Options{Name: fmt.Sprint("bob", i)}, out.File.Number, dir, discardUI{}); err != nil {
			b.Fatal(err)
		}
	}
}

// discardUI shows nothing.
type discardUI struct{}

func (discardUI) ReadLine() (string, error)     { return "", io.EOF }
func (discardUI) AskName(string) (string, bool) { return "", false }
func (discardUI) Enter(wire.Frame, *Roster)     {}
func (discardUI) Show(wire.Frame, Phase)        {}
func (discardUI) Note(Note)                     {}
func (discardUI) Transfer(Transfer)             {}
