package host

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chatroom/host/files"
	"chatroom/host/wire"
)

// offerFile sends an offer frame for g from c and gives the room's answer.
func offerFile(c *client, name string, g genFile, to string, ref uint64) wire.Frame {
	c.t.Helper()
	c.send(&wire.Frame{Type: wire.TypeOffer, File: &wire.File{Name: name, Size: g.size, SHA256: g.sum()}, To: to, Ref: ref})
	return c.nextNotice()
}

// offerStored offers g from c as name, uploads it, and waits for the
// room to show it; it gives the offer's answer.
func offerStored(t *testing.T, h *Host, c *client, name string, g genFile) wire.Frame {
	t.Helper()
	answer := offerFile(c, name, g, "", 1)
	if answer.File == nil {
		t.Fatalf("offer: %+v", answer)
	}
	if _, last := uploadFile(t, h.Addr().String(), h.Fingerprint(), roomOffer(*answer.File), g); last.Type != wire.TypeStored {
		t.Fatalf("upload: %+v", last)
	}
	c.nextEvent(wire.KindOffer)
	return answer
}

// The whole way, as two members' clients go: ann offers a file on her
// member connection and is answered with its ID and Token; she uploads
// it on a transfer connection; the room is shown the offer only then;
// bob asks for it with "/get N", is given its ID, and fetches it. After
// a restart the offer is still there under its number, and the next is
// numbered after it.
func TestFileSharingThroughTheRoom(t *testing.T) {
	dir := t.TempDir()
	h := startFilesHost(t, Config{StateDir: dir})
	ann := member(t, h, "ann", dialOptions{})
	bob := member(t, h, "bob", dialOptions{})
	ann.nextEvent(wire.KindJoin)
	g := genFile{seed: 20, size: 3*files.ChunkSize + 17}

	answer := offerFile(ann, "slides.pdf", g, "", 5)
	if answer.Error || answer.Ref != 5 || answer.File == nil || answer.File.ID == "" || answer.File.Token == "" || answer.File.Number != 1 {
		t.Fatalf("the offer was answered %+v (file %+v)", answer, answer.File)
	}
	offer := *answer.File
	ready, last := uploadFile(t, h.Addr().String(), h.Fingerprint(), roomOffer(offer), g)
	if ready.Offset != 0 || last.Type != wire.TypeStored {
		t.Fatalf("upload: %+v, %+v", ready, last)
	}
	for _, c := range []*client{ann, bob} {
		ev := c.nextEvent(wire.KindOffer)
		if ev.From != "ann" || ev.File == nil || ev.File.Number != 1 || ev.File.Name != "slides.pdf" || ev.File.ID != "" || ev.File.Token != "" {
			t.Fatalf("%s was shown %+v (file %+v)", c.name, ev, ev.File)
		}
	}
	bob.send(&wire.Frame{Type: wire.TypeSay, Text: "/get 1", Ref: 9})
	got := bob.nextNotice()
	if got.Error || got.File == nil || got.File.ID != offer.ID || got.File.Token != "" {
		t.Fatalf("/get 1 was answered %+v (file %+v)", got, got.File)
	}
	fetchAndCheck(t, h, got.File.ID, g)

	// The quota's refusal reaches the member as the notice of its offer.
	bob.send(&wire.Frame{Type: wire.TypeOffer, File: &wire.File{Name: "huge.iso", Size: 5 << 30, SHA256: strings.Repeat("ab", 32)}, Ref: 3})
	if refused := bob.nextNotice(); !refused.Error || !strings.Contains(refused.Text, "more than the 1.1 GB the host takes for one file") {
		t.Fatalf("an offer over the size limit: %+v", refused)
	}

	h.Close()
	h = startFilesHost(t, Config{StateDir: dir})
	cy := member(t, h, "cy", dialOptions{})
	cy.send(&wire.Frame{Type: wire.TypeSay, Text: "/get 1", Ref: 1})
	if got := cy.nextNotice(); got.Error || got.File == nil || got.File.ID != offer.ID {
		t.Fatalf("/get 1 after the restart: %+v", got)
	}
	fetchAndCheck(t, h, offer.ID, g)
	if next := offerFile(cy, "notes.txt", genFile{seed: 22, size: 10}, "", 2); next.File == nil || next.File.Number != 2 {
		t.Fatalf("the next offer after the restart: %+v", next)
	}
}

// A file's time on offer runs out: the host's sweep removes it, and the
// room tells everyone it was shown to, with Code expired.
func TestExpiredFileUnsent(t *testing.T) {
	h := startFilesHost(t, Config{Files: FileLimits{MaxFileSize: 1 << 20, Quota: 1 << 24, Expiry: 500 * time.Millisecond}, sweepEvery: 50 * time.Millisecond})
	ann := member(t, h, "ann", dialOptions{})
	g := genFile{seed: 23, size: 1000}
	answer := offerStored(t, h, ann, "brief.txt", g)
	ev := nextNotPing(ann)
	if ev.Type != wire.TypeEvent || ev.Kind != wire.KindUnsend || ev.Code != wire.CodeExpired || ev.File == nil || ev.File.Number != 1 {
		t.Fatalf("after the expiry: %+v", ev)
	}
	if _, ok := h.files.store.Get(answer.File.ID); ok {
		t.Fatal("the expired file is still in the store")
	}
}

// A file's time runs out while the host is down: at the next start it is
// not quietly gone, but told gone (an unsend event, in the history that
// members resume from), as it would have been had the host been up.
func TestFileExpiredWhileDownUnsent(t *testing.T) {
	dir := t.TempDir()
	limits := FileLimits{MaxFileSize: 1 << 20, Quota: 1 << 24, Expiry: time.Second}
	h := startFilesHost(t, Config{StateDir: dir, Files: limits, sweepEvery: time.Hour})
	ann := member(t, h, "ann", dialOptions{})
	g := genFile{seed: 24, size: 1000}
	answer := offerStored(t, h, ann, "brief.txt", g)
	h.Close()
	time.Sleep(time.Until(answer.File.Expires) + 100*time.Millisecond)

	h = startFilesHost(t, Config{StateDir: dir, Files: limits, sweepEvery: time.Hour})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := h.files.store.Get(answer.File.ID); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the file that expired while the host was down is still in the store")
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.Close()
	past, ok := h.room.History()
	if !ok {
		t.Fatal("no history after the close")
	}
	for _, line := range past.Events {
		if f, err := wire.Parse(line); err == nil && f.Kind == wire.KindUnsend && f.Code == wire.CodeExpired && f.File != nil && f.File.Number == answer.File.Number {
			return
		}
	}
	t.Fatalf("no unsend event for file %d in the history after the restart", answer.File.Number)
}

func fetchAndCheck(t *testing.T, h *Host, id string, g genFile) {
	t.Helper()
	sum := sha256.New()
	_, n, err := fetchInto(t, dialTransfer(t, h.Addr().String(), h.Fingerprint()), id, 0, sum)
	if err != nil || n != g.size || hex.EncodeToString(sum.Sum(nil)) != g.sum() {
		t.Fatalf("fetch: %d bytes of %d, %v", n, g.size, err)
	}
}

// Accident or attack on the state directory: what the store of files had
// to drop at start is said in the host's log, the room starts, and the
// file that was whole is on offer again.
func TestFilesStoreWarningsLogged(t *testing.T) {
	dir := t.TempDir()
	h := startFilesHost(t, Config{StateDir: dir})
	g := genFile{seed: 24, size: 5000}
	o := declare(t, h, "kept.txt", g)
	uploadFile(t, h.Addr().String(), h.Fingerprint(), o, g)
	h.Close()
	planted := strings.Repeat("e", 32)
	os.WriteFile(filepath.Join(dir, "files", planted+".json"), []byte(`{"version":2,"name":"../../etc/passwd"}`), 0o600)

	log := &lockedWriter{w: &strings.Builder{}}
	h = startFilesHost(t, Config{StateDir: dir, Logger: newTestLogger(log)})
	if !strings.Contains(log.String(), "dropped the offered file "+planted) {
		t.Fatalf("the log does not say what was dropped:\n%s", log.String())
	}
	fetchAndCheck(t, h, o.ID, g)
}

// kill -9 at the worst moment for a file: after its upload is complete on
// disk, before the room has shown it. The state that leaves is made here
// by putting the file in the store without the room (so the room has no
// offer to show when the upload ends): the host that starts on it shows
// the file, once, to whoever is there, and the one after that does not
// show it again. (Before, the file sat on offer for a day, listed by
// /files but never shown, and its sender's client gave up waiting.)
func TestFileStoredButNotShownIsShownAtStart(t *testing.T) {
	dir := t.TempDir()
	h := startFilesHost(t, Config{StateDir: dir})
	g := genFile{seed: 31, size: files.ChunkSize + 3}
	o := declare(t, h, "late.bin", g)
	if _, last := uploadFile(t, h.Addr().String(), h.Fingerprint(), o, g); last.Type != wire.TypeStored {
		t.Fatalf("upload: %+v", last)
	}
	h.Close()

	// Offers are not in a newcomer's backlog (messages are): the history
	// the host saves as it closes is where they are counted.
	offers := func(h *Host) int {
		t.Helper()
		h.Close()
		data, err := os.ReadFile(filepath.Join(dir, historyFile))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, `"kind":"offer"`) && strings.Contains(line, `"late.bin"`) {
				n++
			}
		}
		return n
	}
	h2 := startFilesHost(t, Config{StateDir: dir})
	waitFor(t, "the file shown", func() bool { return len(h2.files.unshown(time.Time{})) == 0 })
	if n := offers(h2); n != 1 {
		t.Fatalf("after the restart, %d offers of late.bin in the history; want it shown once", n)
	}
	h3 := startFilesHost(t, Config{StateDir: dir})
	if n := offers(h3); n != 1 {
		t.Fatalf("after a second restart, %d offers of late.bin in the history; want the one from before, not another", n)
	}
}
