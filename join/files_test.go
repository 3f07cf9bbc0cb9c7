package join

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
)

// fileRoom is a fake host for file sharing: its first connection is the
// member's, run by member; each later one is a transfer connection, whose
// first frame (upload or fetch) is read and handed to transfer with the
// connection's number among the transfers (from 0).
func fileRoom(t *testing.T, member func(h *fakeHost), transfer func(h *fakeHost, first wire.Frame, n int)) Dialer {
	var (
		mu    sync.Mutex
		dials int
		wg    sync.WaitGroup
	)
	t.Cleanup(wg.Wait)
	return func(ctx context.Context) (net.Conn, error) {
		mu.Lock()
		n := dials
		dials++
		mu.Unlock()
		client, server := net.Pipe()
		h := &fakeHost{t: t, conn: server, dec: wire.NewDecoder(server, wire.MaxClientFrame)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer server.Close()
			if n == 0 {
				member(h)
				return
			}
			first, ok := h.read()
			if !ok {
				return
			}
			if transfer == nil {
				t.Errorf("transfer connection %d made (%s): none should be", n-1, first.Type)
				return
			}
			transfer(h, first, n-1)
		}()
		return client, nil
	}
}

// noWait is a transfer's wait between tries in tests: none.
func noWait(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// testContent is size random bytes and their sha256.
func testContent(t *testing.T, size int) ([]byte, string) {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

// writeTestFile writes data to name in a new directory, and returns its
// path.
func writeTestFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fileOpts are the options of the file tests: no waits between tries,
// and the uploads kept in state.
func fileOpts(state string) Options {
	return Options{Name: "bob", StateDir: state, transferSleep: noWait, quitWait: 2 * time.Second}
}

// readUpload reads an upload's bytes, n of them, after its first frame.
func readUpload(h *fakeHost, n int64) []byte {
	b := make([]byte, n)
	got, _ := io.ReadFull(h.dec.Rest(), b)
	return b[:got]
}

// states is the states a UI was shown of transfer key, in order, without
// repeats.
func states(u *fakeUI) []TransferState {
	u.mu.Lock()
	defer u.mu.Unlock()
	var s []TransferState
	for _, tr := range u.transfers {
		if len(s) == 0 || s[len(s)-1] != tr.State {
			s = append(s, tr.State)
		}
	}
	return s
}

func lastTransfer(u *fakeUI) Transfer {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.transfers) == 0 {
		return Transfer{}
	}
	return u.transfers[len(u.transfers)-1]
}

// offerRoom is the member's side of an offer: it checks the offer frame
// against name, size and sum, answers it with number, ID "f1" and Token
// "t1", waits for stored, announces the offer, and takes the /quit.
func offerRoom(t *testing.T, name string, size int64, sum string, stored <-chan struct{}) func(h *fakeHost) {
	return func(h *fakeHost) {
		h.welcomeAs(10, nil)
		f, ok := h.read()
		if !ok || f.Type != wire.TypeOffer || f.File == nil || f.File.Name != name || f.File.Size != size || f.File.SHA256 != sum || f.Ref == 0 {
			t.Errorf("host: got %+v (file %+v), want an offer of %s, %d bytes, %s, with a ref", f, f.File, name, size, sum)
			return
		}
		h.send(wire.Frame{Type: wire.TypeNotice, Ref: f.Ref, Text: "offered as 4",
			File: &wire.File{Number: 4, Name: name, Size: size, SHA256: sum, ID: "f1", Token: "t1"}})
		select {
		case <-stored:
		case <-time.After(10 * time.Second):
			t.Error("host: the upload was never stored")
			return
		}
		h.send(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindOffer, Seq: 11, Time: testTime, From: "bob",
			File: &wire.File{Number: 4, Name: name, Size: size, SHA256: sum, From: "bob"}})
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	}
}

// storeUpload is the host's side of an upload's transfer: it reads the
// bytes from offset to the end, checks them against data, and answers
// "stored".
func storeUpload(t *testing.T, h *fakeHost, first wire.Frame, data []byte, offset int64, stored chan<- struct{}) {
	if first.Type != wire.TypeUpload || first.File == nil || first.File.ID != "f1" || first.File.Token != "t1" {
		t.Errorf("host: transfer began with %+v, want an upload of f1 with its token", first)
		return
	}
	h.send(wire.Frame{Type: wire.TypeReady, Offset: offset})
	got := readUpload(h, int64(len(data))-offset)
	if !bytes.Equal(got, data[offset:]) {
		t.Errorf("host: uploaded %d bytes from %d, not the file's", len(got), offset)
		return
	}
	h.send(wire.Frame{Type: wire.TypeStored})
	close(stored)
}

// TestSendFile: SendFile offers the file through the member connection
// (an offer frame with its name, size and sha256), uploads it on a
// connection of its own with the ID and Token the room answered, and
// returns once the room announced it; nothing is left in the uploads
// file.
func TestSendFile(t *testing.T) {
	data, sum := testContent(t, 3<<20+17)
	path := writeTestFile(t, "slides.pdf", data)
	state := t.TempDir()
	stored := make(chan struct{})
	dial := fileRoom(t, offerRoom(t, "slides.pdf", int64(len(data)), sum, stored), func(h *fakeHost, first wire.Frame, n int) {
		storeUpload(t, h, first, data, 0, stored)
	})
	ui := newFakeUI(t)
	out, err := SendFile(context.Background(), dial, fileOpts(state), path, "", ui)
	if err != nil {
		t.Fatalf("SendFile: %v", err)
	}
	if out.File.Number != 4 || out.File.Name != "slides.pdf" || out.File.SHA256 != sum || out.File.From != "bob" {
		t.Errorf("outcome %+v", out.File)
	}
	if s := states(ui); s[0] != Hashing || s[len(s)-1] != Finished || slices.Contains(s, Failed) {
		t.Errorf("states %v, want Hashing … Finished", s)
	}
	noCapabilities(t, ui)
	p := &pendingUploads{path: filepath.Join(state, uploadsFile), warn: func(s string) { t.Error(s) }}
	if e := p.read(); len(e) != 0 {
		t.Errorf("uploads kept after the upload was stored: %+v", e)
	}
}

// TestSendFileResumesAfterBreak: an upload whose connection breaks
// half-way goes on, on a new connection, from the offset the host says.
func TestSendFileResumesAfterBreak(t *testing.T) {
	data, sum := testContent(t, 2<<20)
	path := writeTestFile(t, "map.png", data)
	stored := make(chan struct{})
	half := int64(len(data) / 2)
	dial := fileRoom(t, offerRoom(t, "map.png", int64(len(data)), sum, stored), func(h *fakeHost, first wire.Frame, n int) {
		if n == 0 {
			h.send(wire.Frame{Type: wire.TypeReady})
			readUpload(h, half)
			return // the connection breaks
		}
		storeUpload(t, h, first, data, half, stored)
	})
	ui := newFakeUI(t)
	if _, err := SendFile(context.Background(), dial, fileOpts(t.TempDir()), path, "", ui); err != nil {
		t.Fatalf("SendFile: %v", err)
	}
	if s := states(ui); !slices.Contains(s, Waiting) || s[len(s)-1] != Finished {
		t.Errorf("states %v, want a Waiting after the break, and Finished", s)
	}
}

// TestSendFileResumesNextRun: a client stopped in the middle of an upload
// keeps the offer in its uploads file; the same file sent again to the
// same room goes on with that offer (no new offer frame) from where the
// host's copy stops.
func TestSendFileResumesNextRun(t *testing.T) {
	data, sum := testContent(t, 2<<20)
	path := writeTestFile(t, "patch.diff", data)
	state := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	half := int64(len(data) / 2)
	dial := fileRoom(t, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		f, _ := h.read()
		h.send(wire.Frame{Type: wire.TypeNotice, Ref: f.Ref, File: &wire.File{Number: 4, Name: "patch.diff", ID: "f1", Token: "t1"}})
		for _, ok := h.read(); ok; _, ok = h.read() {
		}
	}, func(h *fakeHost, first wire.Frame, n int) {
		h.send(wire.Frame{Type: wire.TypeReady})
		readUpload(h, half)
		cancel() // the client is stopped half-way
		readUpload(h, int64(len(data)))
	})
	if _, err := SendFile(ctx, dial, fileOpts(state), path, "", newFakeUI(t)); err == nil {
		t.Fatal("SendFile stopped half-way returned no error")
	}
	p := &pendingUploads{path: filepath.Join(state, uploadsFile), warn: func(s string) { t.Error(s) }}
	if e := p.read(); len(e) != 1 || e[0].ID != "f1" || e[0].Token != "t1" || e[0].SHA256 != sum {
		t.Fatalf("uploads kept: %+v, want the one of f1", e)
	}

	stored := make(chan struct{})
	dial = fileRoom(t, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		// No offer: the upload goes on with the one kept.
		<-stored
		h.send(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindOffer, Seq: 11, Time: testTime, From: "bob",
			File: &wire.File{Number: 4, Name: "patch.diff", Size: int64(len(data)), SHA256: sum, From: "bob"}})
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	}, func(h *fakeHost, first wire.Frame, n int) {
		storeUpload(t, h, first, data, half, stored)
	})
	out, err := SendFile(context.Background(), dial, fileOpts(state), path, "", newFakeUI(t))
	if err != nil || out.File.Number != 4 {
		t.Fatalf("SendFile again: %+v, %v", out, err)
	}
	if e := p.read(); len(e) != 0 {
		t.Errorf("uploads kept after it was stored: %+v", e)
	}
}

// TestSendFileRefused: the room's refusal of an offer (a quota, a mute)
// is the outcome, in its words; nothing is uploaded.
func TestSendFileRefused(t *testing.T) {
	data, _ := testContent(t, 1000)
	path := writeTestFile(t, "big.iso", data)
	dial := fileRoom(t, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		f, _ := h.read()
		h.send(wire.Frame{Type: wire.TypeNotice, Ref: f.Ref, Error: true, Text: "big.iso is 3.1 GB, more than the 2 GB the host takes for one file"})
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	}, nil)
	ui := newFakeUI(t)
	_, err := SendFile(context.Background(), dial, fileOpts(t.TempDir()), path, "", ui)
	if err == nil || !strings.Contains(err.Error(), "more than the 2 GB the host takes") {
		t.Fatalf("SendFile: %v, want the room's refusal", err)
	}
	if tr := lastTransfer(ui); tr.State != Failed || !strings.Contains(tr.Err, "2 GB") || !tr.Refused {
		t.Errorf("last state %+v, want Failed with the room's words, marked refused (its notice says it)", tr)
	}
	waitPrinted(t, ui, "!! big.iso is 3.1 GB")
}

// getRoom is the member's side of a fetch: it expects "/get 4", answers
// with file, and takes the /quit.
func getRoom(t *testing.T, file wire.File) func(h *fakeHost) {
	return func(h *fakeHost) {
		h.welcomeAs(10, nil)
		f := h.expect(wire.TypeSay, "/get 4")
		h.send(wire.Frame{Type: wire.TypeNotice, Ref: f.Ref, Text: "here it is", File: &file})
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	}
}

// serveFetch is the host's side of a fetch: it checks the offset asked
// for against want, and sends data from there.
func serveFetch(t *testing.T, h *fakeHost, first wire.Frame, data []byte, want int64) {
	if first.Type != wire.TypeFetch || first.File == nil || first.File.ID != "f1" || first.Offset != want {
		t.Errorf("host: transfer began with %+v (file %+v), want a fetch of f1 from %d", first, first.File, want)
		return
	}
	h.send(wire.Frame{Type: wire.TypeReady, Offset: want})
	h.conn.Write(data[want:])
}

// dirFiles is the names in dir, hidden ones too.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestGet: Get fetches the file the room's answer to "/get N" names, into
// the directory given, checks it, and lands it under its name; one of
// that name already there is left as it is, and the new one is
// "name (1).ext".
func TestGet(t *testing.T) {
	data, sum := testContent(t, 3<<20+5)
	file := wire.File{Number: 4, Name: "slides.pdf", Size: int64(len(data)), SHA256: sum, From: "ana", ID: "f1"}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slides.pdf"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	dial := fileRoom(t, getRoom(t, file), func(h *fakeHost, first wire.Frame, n int) { serveFetch(t, h, first, data, 0) })
	ui := newFakeUI(t)
	out, err := Get(context.Background(), dial, fileOpts(""), 4, dir, ui)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want := filepath.Join(dir, "slides (1).pdf")
	if out.Path != want {
		t.Errorf("landed at %s, want %s", out.Path, want)
	}
	if got, _ := os.ReadFile(want); !bytes.Equal(got, data) {
		t.Error("the file landed is not the one sent")
	}
	if mine, _ := os.ReadFile(filepath.Join(dir, "slides.pdf")); string(mine) != "mine" {
		t.Error("the file already there was overwritten")
	}
	if names := dirFiles(t, dir); len(names) != 2 {
		t.Errorf("in the directory: %q, want the two files and no part", names)
	}
	if tr := lastTransfer(ui); tr.State != Finished || tr.Path != want || tr.Done != int64(len(data)) {
		t.Errorf("last state %+v, want Finished at %s", tr, want)
	}
	waitPrinted(t, ui, "-- slides.pdf lands in "+dir+" once its sha256 is checked")
}

// TestGetResumes: a fetch whose connection breaks goes on from the part
// it wrote, on a new connection; and a part an earlier run left (the
// client killed) is gone on from, its prefix checked with the rest.
func TestGetResumes(t *testing.T) {
	data, sum := testContent(t, 2<<20+3)
	file := wire.File{Number: 4, Name: "slides.pdf", Size: int64(len(data)), SHA256: sum, ID: "f1"}
	dir := t.TempDir()
	third := int64(len(data) / 3)
	// An earlier run's part, a third of the file.
	if err := os.WriteFile(filepath.Join(dir, partName(file)), data[:third], 0o600); err != nil {
		t.Fatal(err)
	}
	dial := fileRoom(t, getRoom(t, file), func(h *fakeHost, first wire.Frame, n int) {
		if n == 0 {
			if first.Offset != third {
				t.Errorf("host: fetch from %d, want %d, the part's size", first.Offset, third)
			}
			h.send(wire.Frame{Type: wire.TypeReady, Offset: third})
			h.conn.Write(data[third : 2*third])
			return // the connection breaks
		}
		serveFetch(t, h, first, data, 2*third)
	})
	ui := newFakeUI(t)
	out, err := Get(context.Background(), dial, fileOpts(""), 4, dir, ui)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got, _ := os.ReadFile(out.Path); !bytes.Equal(got, data) {
		t.Error("the file landed is not the one sent")
	}
	if s := states(ui); !slices.Contains(s, Waiting) || s[len(s)-1] != Finished {
		t.Errorf("states %v, want a Waiting after the break, and Finished", s)
	}
}

// TestGetHostile: what a hostile room answers a "/get" with, or sends on
// the fetch, never ends with a file shown as done, and never writes
// outside the directory asked for. Each case names its attack.
func TestGetHostile(t *testing.T) {
	data, sum := testContent(t, 100<<10)
	good := wire.File{Number: 4, Name: "slides.pdf", Size: int64(len(data)), SHA256: sum, ID: "f1"}
	with := func(edit func(f *wire.File)) wire.File {
		f := good
		edit(&f)
		return f
	}
	for _, tt := range []struct {
		name     string
		file     wire.File
		transfer func(t *testing.T, h *fakeHost, first wire.Frame, n int) // nil: no transfer may be made
		err      string
	}{
		{"attack: a name that climbs out of the directory (../../etc/x)", with(func(f *wire.File) { f.Name = "../../etc/x" }), nil,
			"the room gave a file name that is not fit to be one"},
		{"attack: a name with a directory in it", with(func(f *wire.File) { f.Name = "sub/x" }), nil, "not fit"},
		{"attack: a name that reverses what follows (bidi)", with(func(f *wire.File) { f.Name = "invoice\u202efdp.exe" }), nil, "not fit"},
		{"attack: a name with a terminal control in it", with(func(f *wire.File) { f.Name = "x\x1b[2J.txt" }), nil, "not fit"},
		{"attack: a name Windows takes for a device", with(func(f *wire.File) { f.Name = "NUL.txt" }), nil, "not fit"},
		{"attack: a sha256 that is not one", with(func(f *wire.File) { f.SHA256 = "../.." }), nil, "without a proper sha256"},
		{"attack: a size past any file's (a disk filled)", with(func(f *wire.File) { f.Size = 1 << 50 }), nil, "a size of"},
		{"a size of nothing", with(func(f *wire.File) { f.Size = 0 }), nil, "a size of 0"},
		{"no id to fetch it by", with(func(f *wire.File) { f.ID = "" }), nil, "no usable file id"},
		{"attack: an id with controls, sent back and kept", with(func(f *wire.File) { f.ID = "a\nb" }), nil, "no usable file id"},
		{"attack: bytes other than the file's (a wrong hash)", good, func(t *testing.T, h *fakeHost, first wire.Frame, n int) {
			h.send(wire.Frame{Type: wire.TypeReady})
			bad := slices.Clone(data)
			bad[100] ^= 1
			h.conn.Write(bad)
		}, "slides.pdf did not match its sha256: deleted, fetch it again"},
		{"attack: more bytes than the file's size (to fill the disk)", good, func(t *testing.T, h *fakeHost, first wire.Frame, n int) {
			h.send(wire.Frame{Type: wire.TypeReady})
			h.conn.Write(data)
			h.conn.Write(make([]byte, 1<<20))
		}, "the host sent more than the"},
		{"attack: a ready offset beyond the part (bytes before it taken as fetched)", good, func(t *testing.T, h *fakeHost, first wire.Frame, n int) {
			h.send(wire.Frame{Type: wire.TypeReady, Offset: 50 << 10})
			h.conn.Write(data[50<<10:])
		}, "the host would send slides.pdf from byte 51200, but only 0 are here"},
		{"attack: a ready offset past the file's end", good, func(t *testing.T, h *fakeHost, first wire.Frame, n int) {
			h.send(wire.Frame{Type: wire.TypeReady, Offset: 1 << 40})
		}, "the host would go on from byte"},
		{"a refusal: the host's words", good, func(t *testing.T, h *fakeHost, first wire.Frame, n int) {
			h.send(wire.Frame{Type: wire.TypeRefused, Code: wire.CodeDamaged, Text: "the host's copy of slides.pdf is damaged; it is gone"})
		}, "the host's copy of slides.pdf is damaged"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "a", "b")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			var transfer func(h *fakeHost, first wire.Frame, n int)
			if tt.transfer != nil {
				transfer = func(h *fakeHost, first wire.Frame, n int) {
					if n > 0 {
						t.Errorf("transfer %d: a failure that cannot be mended was tried again", n)
						return
					}
					tt.transfer(t, h, first, n)
				}
			}
			ui := newFakeUI(t)
			_, err := Get(context.Background(), fileRoom(t, getRoom(t, tt.file), transfer), fileOpts(""), 4, dir, ui)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Get: %v, want %q", err, tt.err)
			}
			if slices.Contains(states(ui), Finished) {
				t.Error("shown as Finished")
			}
			if tr := lastTransfer(ui); tr.State != Failed {
				t.Errorf("last state %+v, want Failed", tr)
			}
			for _, d := range []string{root, filepath.Join(root, "a"), dir} {
				if names := dirFiles(t, d); len(names) > 0 && !(d != dir && len(names) == 1) {
					t.Errorf("files left in %s: %q", d, names)
				}
			}
		})
	}
}

// TestPromptSendRefusals: /send of what cannot be offered (a directory, a
// missing file, an empty one, a name that cannot be a file's) says why in
// one line, and sends nothing.
func TestPromptSendRefusals(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, nil, 0o644)
	for _, tt := range []struct{ line, said string }{
		{"/send " + dir, "is a directory; offer one file"},
		{"/send " + filepath.Join(dir, "missing.pdf"), "does not exist"},
		{"/send " + empty, "is empty"},
		{"/send", "usage: /send PATH [NAME]"},
		{"/send \"" + empty, "closing \" is missing"},
		{"/get x", "usage: /get N [DIR]"},
		{"/get 4 " + filepath.Join(dir, "nodir"), "is not a directory"},
	} {
		t.Run(tt.line, func(t *testing.T) {
			var got []string
			dial, wait := scriptDialer(t, func(h *fakeHost) {
				h.welcomeAs(10, nil)
				got = echoRoom(h, 11)
			})
			ui := newFakeUI(t)
			done := joinAsync(context.Background(), dial, Options{Name: "bob"}, ui)
			typeLine(t, ui, tt.line)
			waitPrinted(t, ui, tt.said)
			ui.endInput()
			if err := result(t, done); err != nil {
				t.Fatal(err)
			}
			wait()
			if !slices.Equal(got, []string{"/quit"}) {
				t.Errorf("the room got %q, want only the /quit", got)
			}
			for _, l := range ui.output() {
				if strings.Contains(l, tt.said) && !strings.HasPrefix(l, "!! ") {
					t.Errorf("said %q, not as a warning", l)
				}
			}
		})
	}
}

// TestPromptQuitCutsFetch: a person who leaves while a fetch runs is told
// it is cut short and how to go on, and Join does not wait for it.
func TestPromptQuitCutsFetch(t *testing.T) {
	data, sum := testContent(t, 1000000)
	file := wire.File{Number: 7, Name: "slides.pdf", Size: int64(len(data)), SHA256: sum, ID: "f1"}
	dir := t.TempDir()
	moving := make(chan struct{})
	dial := fileRoom(t, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		f := h.expect(wire.TypeSay, "/get 7")
		h.send(wire.Frame{Type: wire.TypeNotice, Ref: f.Ref, File: &file})
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	}, func(h *fakeHost, first wire.Frame, n int) {
		h.send(wire.Frame{Type: wire.TypeReady})
		h.conn.Write(data[:len(data)*2/5])
		close(moving)
		h.read() // stalls until the client goes
	})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), dial, Options{Name: "bob", quitWait: time.Second, transferSleep: noWait}, ui)
	typeLine(t, ui, "/get 7 "+dir)
	<-moving
	deadline := time.Now().Add(5 * time.Second)
	for lastTransfer(ui).Done < int64(len(data)*2/5) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	waitPrinted(t, ui, "!! slides.pdf: 40% fetched; /get 7 again to go on")
	if names := dirFiles(t, dir); len(names) != 1 || names[0] != partName(file) {
		t.Errorf("in the directory: %q, want the part alone, to go on from", names)
	}
}

func TestParseSend(t *testing.T) {
	existing := map[string]bool{"my slides.pdf": true, "a.pdf": true}
	exists := func(p string) bool { return existing[p] }
	for _, tt := range []struct{ rest, path, to, err string }{
		{"a.pdf", "a.pdf", "", ""},
		{"a.pdf bob", "a.pdf", "bob", ""},
		{"my slides.pdf", "my slides.pdf", "", ""},
		{"my slides.pdf bob", "my slides.pdf", "bob", ""},
		{`"my slides.pdf" bob`, "my slides.pdf", "bob", ""},
		{`'my slides.pdf'`, "my slides.pdf", "", ""},
		{`"my slides.pdf" bob cy`, "", "", "usage"},
		{`"my slides.pdf`, "", "", "closing"},
		{"", "", "", "usage"},
		{"missing.pdf", "missing.pdf", "", ""},
	} {
		path, to, err := parseSend(tt.rest, exists)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseSend(%q): %q %q %v, want an error with %q", tt.rest, path, to, err, tt.err)
			}
			continue
		}
		if err != nil || path != tt.path || to != tt.to {
			t.Errorf("parseSend(%q) = %q, %q, %v; want %q, %q", tt.rest, path, to, err, tt.path, tt.to)
		}
	}
	home, _ := os.UserHomeDir()
	if path, _, _ := parseSend("~/x.pdf", exists); home != "" && path != filepath.Join(home, "x.pdf") {
		t.Errorf("~/x.pdf is %q", path)
	}
}

// TestUploadsFileDamaged: a damaged uploads file costs its damaged
// entries, with a warning, and never the others.
func TestUploadsFileDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), uploadsFile)
	good := `{"room":"r1","sha256":"` + strings.Repeat("a", 64) + `","size":5,"path":"/x","number":3,"id":"f1","token":"t1"}`
	planted := strings.Replace(good, `"t1"`, `"t\u001b]0;x\u0007"`, 1) // a token with a terminal control
	os.WriteFile(path, []byte("garbage\n"+good+"\n{\"room\":\"r1\"}\n\x00\x01\n"+planted+"\n"), 0o600)
	var warnings []string
	p := &pendingUploads{path: path, warn: func(s string) { warnings = append(warnings, s) }}
	if e, ok := p.find("r1", strings.Repeat("a", 64), 5, ""); !ok || e.ID != "f1" || e.Token != "t1" {
		t.Errorf("find: %+v, %v", e, ok)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "4 damaged entries skipped") {
		t.Errorf("warnings %q", warnings)
	}
	p.add(pendingUpload{Room: "r1", SHA256: strings.Repeat("b", 64), Size: 7, ID: "f2", Token: "t2"})
	p.remove("r1", "f1")
	if e := p.read(); len(e) != 1 || e[0].ID != "f2" {
		t.Errorf("after add and remove: %+v", e)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("uploads file mode %v, want 0600: it holds upload tokens", st.Mode().Perm())
	}
}

// FuzzParseUploads: whatever the uploads file holds (it is in a state
// directory, and may be damaged or planted), parsing it never panics,
// and every entry it gives is one the client could have written: an ID
// and Token fit to send back, a real sha256 and size.
func FuzzParseUploads(f *testing.F) {
	good := `{"room":"r1","sha256":"` + strings.Repeat("a", 64) + `","size":5,"path":"/x","number":3,"id":"f1","token":"t1"}`
	f.Add([]byte(good + "\n" + good))
	f.Add([]byte("garbage\n" + good + "\n{\"room\":\"r1\"}\n\x00\x01\n"))
	f.Add([]byte(strings.Replace(good, `"t1"`, `"t\u001b]0;x\u0007"`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, bad := parseUploads(data)
		if bad < 0 || len(entries)+bad > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d entries and %d bad from %d lines", len(entries), bad, bytes.Count(data, []byte("\n"))+1)
		}
		for _, e := range entries {
			if !e.usable() || checkCapability(e.Token, "token") != nil || wire.CheckSHA256(e.SHA256) != nil || e.Size <= 0 {
				t.Fatalf("took %+v", e)
			}
		}
	})
}

// TestSendFileStoredBefore: an upload kept by an earlier run that the
// host had stored whole (the run was killed before it read "stored") is
// done at once: the host says so, and it announced the offer back then,
// so none is waited for.
func TestSendFileStoredBefore(t *testing.T) {
	data, sum := testContent(t, 5000)
	path := writeTestFile(t, "patch.diff", data)
	state := t.TempDir()
	p := &pendingUploads{path: filepath.Join(state, uploadsFile), warn: func(s string) { t.Error(s) }}
	p.add(pendingUpload{Room: testRoomID, SHA256: sum, Size: int64(len(data)), Path: path, Number: 4, ID: "f1", Token: "t1"})
	dial := fileRoom(t, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		h.expect(wire.TypeSay, "/quit") // no offer, and no announcement
		closedLeft(h)
	}, func(h *fakeHost, first wire.Frame, n int) {
		h.send(wire.Frame{Type: wire.TypeReady, Offset: int64(len(data))})
		h.send(wire.Frame{Type: wire.TypeStored})
	})
	out, err := SendFile(context.Background(), dial, fileOpts(state), path, "", newFakeUI(t))
	if err != nil || out.File.Number != 4 || out.File.From != "bob" {
		t.Fatalf("SendFile: %+v, %v", out.File, err)
	}
	if e := p.read(); len(e) != 0 {
		t.Errorf("uploads kept after it was stored: %+v", e)
	}
}

// TestPromptSend: at the prompt, /send PATH offers the file, uploads it
// and the room's announcement ends it, Finished; the person's lines go on
// meanwhile.
func TestPromptSend(t *testing.T) {
	data, sum := testContent(t, 1<<20)
	path := writeTestFile(t, "my slides.pdf", data)
	stored, announced := make(chan struct{}), make(chan struct{})
	var said []string
	var mu sync.Mutex
	dial := fileRoom(t, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		for {
			f, ok := h.read()
			if !ok {
				return
			}
			switch {
			case f.Type == wire.TypeOffer:
				if f.File.Name != "my slides.pdf" || f.To != "cy" {
					t.Errorf("host: offer of %q to %q", f.File.Name, f.To)
				}
				h.send(wire.Frame{Type: wire.TypeNotice, Ref: f.Ref, File: &wire.File{Number: 2, Name: f.File.Name, Size: f.File.Size, SHA256: f.File.SHA256, ID: "f1", Token: "t1"}})
				go func() {
					defer close(announced)
					<-stored
					h.send(wire.Frame{Type: wire.TypePrivate, Time: testTime, From: "bob", To: "cy",
						File: &wire.File{Number: 2, Name: "my slides.pdf", Size: int64(len(data)), SHA256: sum, From: "bob", To: "cy"}})
				}()
			case f.Type == wire.TypeSay && isQuit(f.Text):
				closedLeft(h)
				return
			case f.Type == wire.TypeSay:
				mu.Lock()
				said = append(said, f.Text)
				mu.Unlock()
				h.send(say(11, "bob", f.Text, f.Ref))
			}
		}
	}, func(h *fakeHost, first wire.Frame, n int) { storeUpload(t, h, first, data, 0, stored) })
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), dial, Options{Name: "bob", transferSleep: noWait}, ui)
	typeLine(t, ui, "/send "+path+" cy")
	typeLine(t, ui, "meanwhile")
	deadline := time.Now().Add(10 * time.Second)
	for lastTransfer(ui).State != Finished && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if tr := lastTransfer(ui); tr.State != Finished || tr.Path != path || tr.Done != int64(len(data)) {
		t.Errorf("last state %+v, want Finished", tr)
	}
	<-announced
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(said, []string{"meanwhile"}) {
		t.Errorf("the room was said %q", said)
	}
}

// TestSendFileHostile: what a hostile (or failing) host answers an upload
// with ends it, Failed, never retried, and forgets the offer kept for a
// later run.
func TestSendFileHostile(t *testing.T) {
	data, sum := testContent(t, 10000)
	for _, tt := range []struct {
		name  string
		ready wire.Frame
		err   string
	}{
		{"attack: a ready offset past the file's end (what the client would read and send)", wire.Frame{Type: wire.TypeReady, Offset: 1 << 40}, "the host would go on from byte"},
		{"attack: a negative ready offset", wire.Frame{Type: wire.TypeReady, Offset: -5}, "the host would go on from byte -5"},
		{"the host refuses: its words", wire.Frame{Type: wire.TypeRefused, Code: wire.CodeMismatch, Text: "patch.diff did not match its sha256"}, "patch.diff did not match its sha256"},
		{"attack: a frame no host sends", wire.Frame{Type: wire.TypeWelcome}, `the host answered the upload with a "welcome" frame`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTestFile(t, "patch.diff", data)
			state := t.TempDir()
			dial := fileRoom(t, func(h *fakeHost) {
				h.welcomeAs(10, nil)
				f, _ := h.read()
				h.send(wire.Frame{Type: wire.TypeNotice, Ref: f.Ref, File: &wire.File{Number: 4, Name: "patch.diff", Size: int64(len(data)), SHA256: sum, ID: "f1", Token: "t1"}})
				h.expect(wire.TypeSay, "/quit")
				closedLeft(h)
			}, func(h *fakeHost, first wire.Frame, n int) {
				if n > 0 {
					t.Errorf("transfer %d: a failure that cannot be mended was tried again", n)
					return
				}
				h.send(tt.ready)
			})
			ui := newFakeUI(t)
			_, err := SendFile(context.Background(), dial, fileOpts(state), path, "", ui)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("SendFile: %v, want %q", err, tt.err)
			}
			if slices.Contains(states(ui), Finished) {
				t.Error("shown as Finished")
			}
			noCapabilities(t, ui)
			p := &pendingUploads{path: filepath.Join(state, uploadsFile), warn: func(s string) { t.Error(s) }}
			if e := p.read(); len(e) != 0 {
				t.Errorf("uploads kept after it failed: %+v", e)
			}
		})
	}
}

// noCapabilities checks that no Transfer ui was shown carries a file's ID
// or upload Token: a UI shows them, and JSON mode writes them out.
func noCapabilities(t *testing.T, ui *fakeUI) {
	t.Helper()
	ui.mu.Lock()
	defer ui.mu.Unlock()
	for _, tr := range ui.transfers {
		if tr.File.ID != "" || tr.File.Token != "" {
			t.Errorf("the UI was given the file's capabilities: %+v", tr)
			return
		}
	}
}

// TestPromptQuitCutsUpload: a person who leaves during an upload is told
// it is cut short and how to go on; the offer is kept for that.
func TestPromptQuitCutsUpload(t *testing.T) {
	data, sum := testContent(t, 1000000)
	path := writeTestFile(t, "map.png", data)
	state := t.TempDir()
	moving, release := make(chan struct{}), make(chan struct{})
	dial := fileRoom(t, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		f, _ := h.read()
		h.send(wire.Frame{Type: wire.TypeNotice, Ref: f.Ref, File: &wire.File{Number: 3, Name: "map.png", Size: int64(len(data)), SHA256: sum, ID: "f1", Token: "t1"}})
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	}, func(h *fakeHost, first wire.Frame, n int) {
		h.send(wire.Frame{Type: wire.TypeReady})
		readUpload(h, int64(len(data)/2))
		close(moving)
		<-release // reads no more: the client's writes wait
	})
	t.Cleanup(func() { close(release) }) // before fileRoom waits for its connections
	ui := newFakeUI(t)
	opts := fileOpts(state)
	opts.quitWait = time.Second
	done := joinAsync(context.Background(), dial, opts, ui)
	typeLine(t, ui, "/send "+path)
	<-moving
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	waitPrinted(t, ui, "!! map.png: ")
	waitPrinted(t, ui, "uploaded; /send it again to go on")
	noCapabilities(t, ui)
	p := &pendingUploads{path: filepath.Join(state, uploadsFile), warn: func(s string) { t.Error(s) }}
	if e := p.read(); len(e) != 1 || e[0].ID != "f1" {
		t.Errorf("uploads kept: %+v, want f1's, to go on with", e)
	}
}

// TestAnswerCapabilitiesNotShown: the room's answer to an offer carries
// the file's ID and upload Token; the UI is shown the answer without
// them, and the upload still has them.
func TestAnswerCapabilitiesNotShown(t *testing.T) {
	data, sum := testContent(t, 1000)
	path := writeTestFile(t, "a.txt", data)
	stored := make(chan struct{})
	dial := fileRoom(t, offerRoom(t, "a.txt", int64(len(data)), sum, stored), func(h *fakeHost, first wire.Frame, n int) {
		storeUpload(t, h, first, data, 0, stored)
	})
	var shown []wire.Frame
	var mu sync.Mutex
	ui := &showRecorder{fakeUI: newFakeUI(t), show: func(f wire.Frame) { mu.Lock(); shown = append(shown, f); mu.Unlock() }}
	if _, err := SendFile(context.Background(), dial, fileOpts(""), path, "", ui); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	answered := false
	for _, f := range shown {
		if f.File != nil && f.Ref > 0 {
			answered = true
			if f.File.ID != "" || f.File.Token != "" {
				t.Errorf("shown %+v with the file's capabilities", f.File)
			}
		}
	}
	if !answered {
		t.Error("the answer to the offer was not shown")
	}
}

// showRecorder is a fakeUI that also hands each frame shown to show.
type showRecorder struct {
	*fakeUI
	show func(f wire.Frame)
}

func (u *showRecorder) Show(f wire.Frame, phase Phase) {
	u.show(f)
	u.fakeUI.Show(f, phase)
}

// TestGetPartIsALink: a link planted where the fetch's part goes (by
// someone else on the machine, to have the fetch write through it) is
// never followed: the fetch refuses, and the link's target is untouched.
func TestGetPartIsALink(t *testing.T) {
	data, sum := testContent(t, 1000)
	file := wire.File{Number: 4, Name: "slides.pdf", Size: int64(len(data)), SHA256: sum, ID: "f1"}
	dir, elsewhere := t.TempDir(), t.TempDir()
	target := filepath.Join(elsewhere, "victim")
	os.WriteFile(target, []byte("precious"), 0o600)
	if err := os.Symlink(target, filepath.Join(dir, partName(file))); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	_, err := Get(context.Background(), fileRoom(t, getRoom(t, file), func(h *fakeHost, first wire.Frame, n int) {
		t.Error("a transfer was made through the planted link")
	}), fileOpts(""), 4, dir, newFakeUI(t))
	if err == nil || !strings.Contains(err.Error(), "is in the way") {
		t.Fatalf("Get: %v, want the part refused", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "precious" {
		t.Errorf("the link's target was written: %q", b)
	}
}

// TestGetHostBusy: a host busy with other transfers (CodeTooMany) is
// tried again after a wait, not given up on.
func TestGetHostBusy(t *testing.T) {
	data, sum := testContent(t, 5000)
	file := wire.File{Number: 4, Name: "slides.pdf", Size: int64(len(data)), SHA256: sum, ID: "f1"}
	dir := t.TempDir()
	dial := fileRoom(t, getRoom(t, file), func(h *fakeHost, first wire.Frame, n int) {
		if n == 0 {
			h.send(wire.Frame{Type: wire.TypeRefused, Code: wire.CodeTooMany, Text: "the host is busy with 8 transfers from your address; try again soon"})
			return
		}
		serveFetch(t, h, first, data, 0)
	})
	ui := newFakeUI(t)
	if _, err := Get(context.Background(), dial, fileOpts(""), 4, dir, ui); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if s := states(ui); !slices.Contains(s, Waiting) || s[len(s)-1] != Finished {
		t.Errorf("states %v, want Waiting, then Finished", s)
	}
}

// TestSendFileNeverAnnounced: a room that stores the upload and never
// announces the offer does not keep SendFile waiting: it fails, after
// announceWait, saying so.
func TestSendFileNeverAnnounced(t *testing.T) {
	data, sum := testContent(t, 5000)
	path := writeTestFile(t, "a.txt", data)
	stored := make(chan struct{})
	dial := fileRoom(t, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		f, _ := h.read()
		h.send(wire.Frame{Type: wire.TypeNotice, Ref: f.Ref, File: &wire.File{Number: 4, Name: "a.txt", Size: int64(len(data)), SHA256: sum, ID: "f1", Token: "t1"}})
		h.expect(wire.TypeSay, "/quit") // no announcement
		closedLeft(h)
	}, func(h *fakeHost, first wire.Frame, n int) { storeUpload(t, h, first, data, 0, stored) })
	opts := fileOpts("")
	opts.announceWait = 50 * time.Millisecond
	_, err := SendFile(context.Background(), dial, opts, path, "", newFakeUI(t))
	if err == nil || !strings.Contains(err.Error(), "a.txt was stored, but the room did not announce it") {
		t.Fatalf("SendFile: %v", err)
	}
}

// TestGetDiskFull: a fetch into a directory without room for the file is
// refused before a byte comes, in one line that says how much is needed
// and how much is free, and leaves nothing behind.
func TestGetDiskFull(t *testing.T) {
	data, sum := testContent(t, 3<<20)
	file := wire.File{Number: 4, Name: "slides.pdf", Size: int64(len(data)), SHA256: sum, ID: "f1"}
	dir := t.TempDir()
	opts := fileOpts("")
	opts.freeSpace = func(string) int64 { return 1 << 20 }
	_, err := Get(context.Background(), fileRoom(t, getRoom(t, file), func(h *fakeHost, first wire.Frame, n int) {
		t.Error("a transfer was made into a full disk")
	}), opts, 4, dir, newFakeUI(t))
	if err == nil || !strings.Contains(err.Error(), "not enough room in "+dir+" for slides.pdf: it needs 3.1 MB more, and 1 MB is free") {
		t.Fatalf("Get: %v, want the disk's lack of room said", err)
	}
	if names := dirFiles(t, dir); len(names) != 0 {
		t.Errorf("left in the directory: %q", names)
	}
}
