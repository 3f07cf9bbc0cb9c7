package host

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"chatroom/host/room"
	"chatroom/host/statefile"
	"chatroom/host/wire"
)

// crashCopy copies h's state directory as a kill would leave it, while h
// runs: its journal as far as the system has it, which is all the room
// has written.
func crashCopy(t *testing.T, h *Host) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{keyFile, certFile, idFile, journalFile} {
		data, err := os.ReadFile(filepath.Join(h.stateDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// needBootID skips a test of a journal continued after a crash where the
// system has no boot id: there, every start after a crash is a new epoch.
func needBootID(t *testing.T) {
	if bootID() == "" {
		t.Skip("no boot id on this system: a start after a crash is always a new epoch")
	}
}

// sayRef sends line as c with ref.
func (c *client) sayRef(text string, ref uint64) {
	c.send(&wire.Frame{Type: wire.TypeSay, Text: text, Ref: ref})
}

// A host that dies without closing the room leaves its journal, and the
// next start continues the epoch from it: members resume where they were,
// those present at the crash too, with the refs of their lines exactly as
// the room took them and their private messages sent again.
func TestJournalCarriesTheRoomOverACrash(t *testing.T) {
	needBootID(t)
	h := startHost(t, Config{})
	anaKey, bobKey := keyed(t), keyed(t)
	ana := member(t, h, "ana", anaKey)
	bob := member(t, h, "bob", bobKey)
	ana.nextEvent(wire.KindJoin)
	ana.sayRef("one", 1)
	ana.sayRef("two", 2)
	if f := ana.nextEvent(wire.KindSay); f.Text != "one" {
		t.Fatalf("ana got %+v", f)
	}
	one := ana.nextEvent(wire.KindSay).Seq - 1
	bob.sayRef("/msg ana psst", 5)
	for f := ana.next(); f.Type != wire.TypePrivate; f = ana.next() {
	}
	// bob has its private echo once it is in the journal too.
	for f := bob.next(); f.Type != wire.TypePrivate; f = bob.next() {
	}

	dir := crashCopy(t, h)
	h2 := startHost(t, Config{StateDir: dir})
	ana2 := rejoin(t, h2, "ana", &wire.Resume{Epoch: ana.welcome.Epoch, Seq: one}, anaKey)
	if w := ana2.welcome; !w.Resumed || w.Epoch != ana.welcome.Epoch || w.Taken != 2 {
		t.Fatalf("ana's welcome after the crash: resumed %v, epoch %q (was %q), taken %d; want resumed in the same epoch with 2", w.Resumed, w.Epoch, ana.welcome.Epoch, w.Taken)
	}
	if f := ana2.next(); f.Type != wire.TypeEvent || f.Seq != one+1 || f.Text != "two" {
		t.Fatalf("ana's first frame after the crash: %+v; want event %d, two", f, one+1)
	}
	if f := ana2.next(); f.Type != wire.TypePrivate || f.Text != "psst" {
		t.Fatalf("then %+v; want bob's private message again", f)
	}
	bob2 := rejoin(t, h2, "bob", &wire.Resume{Epoch: bob.welcome.Epoch, Seq: one + 1, Private: 1}, bobKey)
	if w := bob2.welcome; !w.Resumed || w.Taken != 5 {
		t.Fatalf("bob's welcome after the crash: resumed %v, taken %d; want resumed with 5", w.Resumed, w.Taken)
	}
	if f := bob2.next(); f.Type != wire.TypeEvent || f.Seq != one+2 || f.Kind != wire.KindJoin || f.Name != "ana" {
		t.Fatalf("bob's first frame after the crash: %+v; want ana's join, event %d", f, one+2)
	}
}

// A journal whose last write was cut short (the host killed while it
// wrote, or a full disk) is continued without it, with a warning: no one
// was handed anything of that write.
func TestJournalTornTailCutOff(t *testing.T) {
	needBootID(t)
	h := startHost(t, Config{})
	ana := member(t, h, "ana", keyed(t))
	ana.say("hello")
	last := ana.nextEvent(wire.KindSay).Seq
	dir := crashCopy(t, h)
	path := filepath.Join(dir, journalFile)
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	next := fmt.Sprintf(`{"type":"event","seq":%d,"kind":"say","from":"ana","text":"never sent"}`+"\n", last+1)
	for name, torn := range map[string]string{
		"a line cut short":      next[:30],
		"records without end":   next,
		"an end line cut short": next + `{"j":"en`,
	} {
		if err := os.WriteFile(path, append(bytes.Clone(whole), torn...), 0o600); err != nil {
			t.Fatal(err)
		}
		logged := &strings.Builder{}
		past, err := journalHistory(dir, bootID(), newTestLogger(logged))
		if err != nil {
			t.Fatal(err)
		}
		if past.Epoch != ana.welcome.Epoch || past.Seq != last {
			t.Errorf("%s: continued epoch %q at %d; want %q at %d", name, past.Epoch, past.Seq, ana.welcome.Epoch, last)
		}
		if !strings.Contains(logged.String(), "cut short") || !strings.Contains(logged.String(), journalFile) {
			t.Errorf("%s: logged %q; want a warning that the end was cut short", name, logged)
		}
	}
}

// A journal damaged before its end is a warning and a new epoch, as a
// damaged history file is.
func TestJournalDamagedIsANewEpoch(t *testing.T) {
	h := startHost(t, Config{})
	ana := member(t, h, "ana", keyed(t))
	ana.sayRef("hello", 1)
	ana.nextEvent(wire.KindSay)
	dir := crashCopy(t, h)
	path := filepath.Join(dir, journalFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Replace(data, []byte(`{"j":"taken"`), []byte(`{"j":"tak3n"`), 1)
	if bytes.Equal(damaged, data) {
		t.Fatalf("no taken record in the journal:\n%s", data)
	}
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	logged := &lockedWriter{w: &strings.Builder{}}
	h2 := startHost(t, Config{StateDir: dir, Logger: newTestLogger(logged)})
	c := member(t, h2, "bob", dialOptions{})
	if c.welcome.Epoch == ana.welcome.Epoch || c.welcome.Seq != 1 {
		t.Errorf("welcome in epoch %q at %d after a damaged journal; want a new epoch at 1", c.welcome.Epoch, c.welcome.Seq)
	}
	if log := logged.String(); !strings.Contains(log, journalFile) || !strings.Contains(log, "damaged") {
		t.Errorf("logged %q; want a warning naming the journal", log)
	}
}

// After a power cut the journal may have lost its last second, which
// members may hold: a journal written in another boot of the system is
// never continued. The room starts a new epoch, with the events as its
// backlog.
func TestJournalFromAnotherBootIsANewEpoch(t *testing.T) {
	h := startHost(t, Config{})
	ana := member(t, h, "ana", keyed(t))
	ana.say("before the power cut")
	ana.nextEvent(wire.KindSay)
	dir := crashCopy(t, h)
	path := filepath.Join(dir, journalFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The header as the journal was written in another boot.
	head, rest, _ := bytes.Cut(data, []byte("\n"))
	var header historyHeader
	if err := json.Unmarshal(head, &header); err != nil {
		t.Fatal(err)
	}
	if header.Boot != bootID() {
		t.Fatalf("the journal was written in boot %q; this is %q", header.Boot, bootID())
	}
	header.Boot = "00000000-0000-4000-8000-000000000000"
	head, _ = json.Marshal(header)
	if err := os.WriteFile(path, append(append(head, '\n'), rest...), 0o600); err != nil {
		t.Fatal(err)
	}
	logged := &lockedWriter{w: &strings.Builder{}}
	h2 := startHost(t, Config{StateDir: dir, Logger: newTestLogger(logged)})
	c := rejoin(t, h2, "cy", &wire.Resume{Epoch: ana.welcome.Epoch, Seq: ana.welcome.Seq}, keyed(t))
	if c.welcome.Resumed || c.welcome.Epoch == ana.welcome.Epoch {
		t.Errorf("welcome after a boot: resumed %v in epoch %q (was %q); want a new epoch", c.welcome.Resumed, c.welcome.Epoch, ana.welcome.Epoch)
	}
	if c.welcome.Backlog != 1 {
		t.Errorf("backlog of %d after a boot; want the line said before it", c.welcome.Backlog)
	} else if f := c.next(); f.Text != "before the power cut" {
		t.Errorf("backlog %+v; want the line said before the power cut", f)
	}
	if !strings.Contains(logged.String(), "new epoch") {
		t.Errorf("no warning; log:\n%s", logged)
	}
}

// A journal that cannot be written (a full disk) is given up, with one
// warning, and removed, so that no restart continues from a journal that
// stops short of what members hold; the room goes on.
func TestJournalWriteFailure(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/full")
	}
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	logged := &lockedWriter{w: &strings.Builder{}}
	h := startHost(t, Config{Logger: newTestLogger(logged)})
	ana := member(t, h, "ana", dialOptions{})
	bob := member(t, h, "bob", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	h.journal.mu.Lock()
	h.journal.f.Close()
	h.journal.f = full // the disk is full from now on
	h.journal.mu.Unlock()
	ana.say("one")
	ana.say("two")
	for _, want := range []string{"one", "two"} {
		if f := bob.nextEvent(wire.KindSay); f.Text != want {
			t.Fatalf("bob got %+v; want %s", f, want)
		}
	}
	if _, err := os.Stat(filepath.Join(h.stateDir, journalFile)); !os.IsNotExist(err) {
		t.Errorf("the journal is still there after a failed write: %v", err)
	}
	if n := strings.Count(logged.String(), "could not be written"); n != 1 {
		t.Errorf("%d warnings; want one. Log:\n%s", n, logged)
	}
	// A clean close saves the history all the same, from the room.
	ana.conn.Close()
	bob.conn.Close()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	past, found, err := savedHistory(h.stateDir, newTestLogger(&strings.Builder{}))
	if err != nil || !found || past.Epoch != ana.welcome.Epoch {
		t.Fatalf("after the clean close: %+v, %v, %v; want the history saved", past, found, err)
	}
}

// The journal stays within a few times the history's window, however much
// is said: checkpoints replace it.
func TestJournalBounded(t *testing.T) {
	h := startHost(t, Config{History: 20})
	ana := member(t, h, "ana", dialOptions{})
	go io.Copy(io.Discard, ana.conn)
	bound := max(4*20, 4096) // room.journalBound
	lines := 3 * bound
	// Said in rounds of fewer lines than ana's outbox holds, each round
	// once the journal has the last of the one before: ana reads her own
	// lines too, and a machine under load must not make her too slow.
	const round = 256
	var data []byte
	for i := 0; i < lines; i += round {
		var batch []byte
		for j := i; j < min(i+round, lines); j++ {
			b, err := wire.Encode(&wire.Frame{Type: wire.TypeSay, Text: fmt.Sprintf("n %d", j)})
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, b...)
		}
		ana.conn.SetWriteDeadline(time.Now().Add(testDeadline))
		if _, err := ana.conn.Write(batch); err != nil {
			t.Fatal(err)
		}
		// The journal has the round's last line once the room has handed
		// it out.
		last := fmt.Appendf(nil, `"n %d"`, min(i+round, lines)-1)
		for deadline := time.Now().Add(testDeadline); !bytes.Contains(data, last); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the journal does not have line %s after %v; it ends %q", last, testDeadline, data[max(0, len(data)-300):])
			}
			var err error
			if data, err = os.ReadFile(filepath.Join(h.stateDir, journalFile)); err != nil {
				t.Fatal(err)
			}
		}
	}
	lastLine := fmt.Appendf(nil, `"n %d"`, lines-1)
	// Each line is an event and an end record; the checkpoint holds 20
	// messages.
	if n := bytes.Count(data, []byte("\n")); n > 2*bound+50 {
		t.Errorf("the journal holds %d lines after %d said; want at most about %d", n, lines, 2*bound)
	}
	past, _, _, problem := parseJournal(data)
	if problem != "" {
		t.Fatalf("the journal does not read back: %s", problem)
	}
	if last := past.Events[len(past.Events)-1]; !bytes.Contains(last, lastLine) {
		t.Errorf("the journal ends with %s; want the last line said", last)
	}
}

// FuzzParseJournal: parseJournal never panics, and what it accepts is a
// history the room could continue: numbers that leave room to count on,
// events in increasing order, the last numbered Seq.
func FuzzParseJournal(f *testing.F) {
	event, _ := wire.Encode(&wire.Frame{Type: wire.TypeEvent, Seq: 3, Kind: wire.KindSay, From: "ana", Text: "hi"})
	checkpoint, _ := encodeCheckpoint(room.History{Epoch: "0123456789abcdef", Seq: 3, Events: [][]byte{event},
		Resumable: []room.Resumable{{NameKey: "ana", Identity: "SHA256:a", Since: 1}}, Present: 1}, "boot")
	next, _ := wire.Encode(&wire.Frame{Type: wire.TypeEvent, Seq: 4, Kind: wire.KindLeave, Name: "ana", Code: wire.CodeLost})
	private, _ := wire.Encode(&wire.Frame{Type: wire.TypePrivate, Seq: 3, PrivateSeq: 1, From: "bob", To: "ana", Text: "x"})
	tail := `{"j":"taken","k":"ana","taken":7}` + "\n" + `{"j":"private","k":"ana","f":` + strings.TrimSuffix(string(private), "\n") + "}\n" +
		`{"j":"end"}` + "\n" + `{"j":"leave","k":"ana"}` + "\n" + `{"j":"resumable","k":"ana"}` + "\n" + string(next) + `{"j":"end"}` + "\n" +
		`{"j":"join","k":"bob","id":"SHA256:b","since":4}` + "\n" + `{"j":"nick","k":"bob","nk":"rob"}` + "\n" + `{"j":"end"}` + "\n"
	f.Add(append(bytes.Clone(checkpoint), tail...))
	f.Add(append(bytes.Clone(checkpoint), tail[:40]...))
	f.Add(checkpoint)
	f.Fuzz(func(t *testing.T, data []byte) {
		past, _, _, problem := parseJournal(data)
		if problem != "" {
			return
		}
		checkContinuable(t, past)
		// What a replay gives back counts everyone as resumable, and
		// every one of them with a name key and an identity.
		if past.Present != 0 {
			t.Fatalf("accepted %d present", past.Present)
		}
		for _, r := range past.Resumable {
			if r.NameKey == "" || r.Identity == "" {
				t.Fatalf("accepted resumable %+v", r)
			}
		}
	})
}

// A start that fails (its address is taken) leaves the journal for the
// next start: the room's history is taken only once it listens.
func TestJournalKeptWhenStartFails(t *testing.T) {
	needBootID(t)
	h := startHost(t, Config{})
	anaKey := keyed(t)
	ana := member(t, h, "ana", anaKey)
	ana.say("hello")
	last := ana.nextEvent(wire.KindSay).Seq
	dir := crashCopy(t, h)
	if _, err := Start(Config{Name: "again", StateDir: dir, Listen: h.Addr().String()}); err == nil {
		t.Fatal("a second host started on the first one's address")
	}
	if _, err := os.Stat(filepath.Join(dir, journalFile)); err != nil {
		t.Fatalf("the journal is gone after a start that failed: %v", err)
	}
	h2 := startHost(t, Config{StateDir: dir})
	back := rejoin(t, h2, "ana", &wire.Resume{Epoch: ana.welcome.Epoch, Seq: last}, anaKey)
	if !back.welcome.Resumed {
		t.Fatalf("ana not resumed after the start that failed: %+v", back.welcome)
	}
}

// Attack on the files of the person running the host: a link planted in
// the journal's place is refused at the start, naming it, and the file it
// points to is left as it was.
func TestJournalLinkNotFollowed(t *testing.T) {
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(victim, filepath.Join(dir, journalFile)); err != nil {
		t.Skip("cannot make a symbolic link here:", err)
	}
	h, err := Start(Config{Name: "x", StateDir: dir, Listen: "127.0.0.1:0"})
	if err == nil {
		h.Close()
	}
	if !errors.Is(err, statefile.ErrSymlink) || !strings.Contains(err.Error(), journalFile) {
		t.Errorf("Start with the journal a link: %v; want a refusal naming it", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious\n" {
		t.Errorf("the file the link points to now holds %q", data)
	}
}

// The journal is synced by a goroutine of its own, every SyncEvery, once
// something was written; with a negative SyncEvery, never.
func TestJournalSyncedPeriodically(t *testing.T) {
	written := func(every time.Duration) *journal {
		j := openJournal(t.TempDir(), every, newTestLogger(&strings.Builder{}))
		t.Cleanup(j.close)
		if err := j.Checkpoint(room.History{Epoch: "0123456789abcdef"}); err != nil {
			t.Fatal(err)
		}
		if err := j.Append([]byte(`{"j":"end"}` + "\n")); err != nil {
			t.Fatal(err)
		}
		return j
	}
	unsynced := func(j *journal) bool {
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.dirty
	}
	j := written(time.Millisecond)
	for deadline := time.Now().Add(testDeadline); unsynced(j); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("written and never synced, with SyncEvery 1ms")
		}
	}
	j = written(-1)
	time.Sleep(20 * time.Millisecond) // time for a sync that must not come
	if !unsynced(j) {
		t.Error("synced, with a negative SyncEvery")
	}
}
