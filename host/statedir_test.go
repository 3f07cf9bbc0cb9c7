package host

import (
	"encoding/json"
	"errors"
	"fmt"
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

// Attack on the bans: a second host started on the state directory of a
// running one (by mistake, or by someone who wants a confirmed ban gone)
// would save its own bans.json over the first's. It is refused at Start,
// naming the host that holds the room; once that one closes, the room can
// be hosted again.
func TestSecondHostOnStateDirRefused(t *testing.T) {
	dir := t.TempDir()
	h := startHost(t, Config{StateDir: dir})
	_, err := Start(Config{Name: "x", StateDir: dir, Listen: "127.0.0.1:0"})
	if want := fmt.Sprintf("the room in %s is already hosted (pid %d)", dir, os.Getpid()); err == nil || err.Error() != want {
		t.Fatalf("second Start: %v, want %q", err, want)
	}
	// The command asks first, to say it before anything else: the same
	// words, and the first host's lock untouched.
	if err2 := AlreadyHosted(dir); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("AlreadyHosted while hosted: %v, want %q", err2, err)
	}
	// The refused start changed nothing: the first host still holds the
	// lock, and the file still names it.
	if h3, err := Start(Config{Name: "x", StateDir: dir, Listen: "127.0.0.1:0"}); err == nil {
		h3.Close()
		t.Fatal("a third Start got the directory")
	}
	h.Close()
	if err := AlreadyHosted(dir); err != nil {
		t.Fatalf("AlreadyHosted once the host closed: %v", err)
	}
	fresh := filepath.Join(t.TempDir(), "new")
	if err := AlreadyHosted(fresh); err != nil {
		t.Fatalf("AlreadyHosted of a directory never hosted: %v", err)
	}
	if _, err := os.Lstat(fresh); err == nil {
		t.Fatal("AlreadyHosted made the directory it was asked about")
	}
	h2 := startHost(t, Config{StateDir: dir})
	if h2.RoomID() != h.RoomID() {
		t.Fatalf("room id %s after the restart, want %s", h2.RoomID(), h.RoomID())
	}
}

// The same attack from another process: a host in a child process holds
// the directory, and the second host is told its pid. When the first is
// killed (SIGKILL: it releases nothing itself) the room can be hosted at
// once, though its lock file is still there.
func TestSecondHostProcessRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a host process")
	}
	p := startHostProcess(t, "crash")
	_, err := Start(Config{Name: "x", StateDir: p.dir, Listen: "127.0.0.1:0"})
	if want := fmt.Sprintf("the room in %s is already hosted (pid %d)", p.dir, p.cmd.Process.Pid); err == nil || err.Error() != want {
		t.Fatalf("Start beside a host process: %v, want %q", err, want)
	}
	p.kill()
	h := startHost(t, Config{StateDir: p.dir})
	if data, err := os.ReadFile(filepath.Join(p.dir, lockName)); err != nil || strings.TrimSpace(string(data)) != fmt.Sprint(os.Getpid()) {
		t.Fatalf("the lock file holds %q (%v), want this process's pid", data, err)
	}
	h.Close()
}

// Attack on the moderation log's record: the host dies (or the disk
// fills) in the middle of appending an entry, leaving a torn last line.
// The next start cuts it off, says so once, and the entries appended after
// it are whole lines: the start after that is not refused, and every whole
// entry is kept.
func TestModLogTornTailRepaired(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, modLogFile)
	first := room.ModEntry{Time: time.Unix(1e9, 0).UTC(), Action: "ban", By: "ana", Target: "cy", Reason: "trolling"}
	line, _ := json.Marshal(first)
	torn := `{"time":"2026-12-01T09:00:00Z","action":"ki`
	if err := os.WriteFile(path, append(append(line, '\n'), torn...), 0o600); err != nil {
		t.Fatal(err)
	}

	logged := &lockedWriter{w: &strings.Builder{}}
	h := startHost(t, Config{StateDir: dir, Logger: newTestLogger(logged)})
	ana := owner(t, h, "ana")
	member(t, h, "bob", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	ana.say("/kick bob spam")
	ana.nextEvent(wire.KindLeave)
	ana.conn.Close()
	h.Close()
	if n := strings.Count(logged.String(), "cut short"); n != 1 {
		t.Errorf("the first start warned %d times of the torn line; log:\n%s", n, logged)
	}
	if err := appendModEntry(dir, room.ModEntry{Time: time.Unix(2e9, 0).UTC(), Action: "op", By: "ana", Target: "dee"}); err != nil {
		t.Fatal(err)
	}

	logged = &lockedWriter{w: &strings.Builder{}}
	h2 := startHost(t, Config{StateDir: dir, Logger: newTestLogger(logged)})
	h2.Close()
	if strings.Contains(logged.String(), "cut short") {
		t.Errorf("the second start warned again:\n%s", logged)
	}
	entries, err := loadModLog(dir, newTestLogger(logged))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Action+" "+e.Target)
	}
	if want := "ban cy,kick bob,op dee"; strings.Join(got, ",") != want {
		t.Fatalf("entries %q, want %s", got, want)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), torn) || !strings.HasSuffix(string(data), "\n") {
		t.Fatalf("the log still holds the torn line, or ends in one:\n%s", data)
	}
}

// A last line that is whole but damaged (left by a host before this one,
// which kept torn lines and appended after them) is cut off too, rather
// than making the next start refuse the room; a damaged line before the
// last is still an error, naming it.
func TestModLogDamagedLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, modLogFile)
	good := `{"time":"2001-09-09T01:46:40Z","action":"kick","by":"ana","target":"bob"}` + "\n"
	os.WriteFile(path, []byte(good+`{"time":"20{"time":"2001-09-09T01:46:41Z","action":"kick"}`+"\n"), 0o600)
	entries, err := loadModLog(dir, newTestLogger(&strings.Builder{}))
	if err != nil || len(entries) != 1 {
		t.Fatalf("got %d entries, %v", len(entries), err)
	}
	if data, _ := os.ReadFile(path); string(data) != good {
		t.Fatalf("file is %q, want %q", data, good)
	}
	os.WriteFile(path, []byte(good+"{damaged\n"+good), 0o600)
	if _, err := loadModLog(dir, newTestLogger(&strings.Builder{})); err == nil || !strings.Contains(err.Error(), modLogFile+":2 is damaged") {
		t.Fatalf("a damaged line before the last: %v", err)
	}
}

// A room whose certificate file was lost (deleted by hand, or a backup
// that kept only the key) starts with a certificate made again from the
// key: members who pinned the key find the same fingerprint. A damaged
// certificate is made again the same way.
func TestMissingCertMadeFromKey(t *testing.T) {
	dir := t.TempDir()
	h := startHost(t, Config{StateDir: dir})
	fp, id := h.Fingerprint(), h.RoomID()
	h.Close()
	for _, damage := range []func(string) error{
		os.Remove,
		func(path string) error { return os.WriteFile(path, []byte("garbage"), 0o644) },
	} {
		if err := damage(filepath.Join(dir, certFile)); err != nil {
			t.Fatal(err)
		}
		logged := &lockedWriter{w: &strings.Builder{}}
		h := startHost(t, Config{StateDir: dir, Logger: newTestLogger(logged)})
		if h.Fingerprint() != fp || h.RoomID() != id {
			t.Fatalf("after the certificate was lost: %s %s, want %s %s", h.RoomID(), h.Fingerprint(), id, fp)
		}
		if !strings.Contains(logged.String(), certFile) {
			t.Errorf("no warning naming the certificate; log:\n%s", logged)
		}
		h.Close()
	}
	// Only the key matters: a certificate without its key is an error,
	// never a new key.
	os.Remove(filepath.Join(dir, keyFile))
	if _, err := Start(Config{Name: "x", StateDir: dir, Listen: "127.0.0.1:0"}); err == nil || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("Start with a certificate and no key: %v", err)
	}
}

// What the host makes in its state directory is private to the person who
// runs it: the directory 0700, the key and what people said or did 0600.
func TestStateDirModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows keeps no mode bits")
	}
	dir := filepath.Join(t.TempDir(), "state")
	startHost(t, Config{StateDir: dir}).Close()
	// As the room saves them through Start's Config.
	if err := saveList(dir, bansList, []room.Ban{{Name: "bob"}}); err != nil {
		t.Fatal(err)
	}
	if err := saveList(dir, opsList, []room.Op{{Identity: "SHA256:x"}}); err != nil {
		t.Fatal(err)
	}
	if err := saveList(dir, mutesList, []room.Mute{{Name: "cy"}}); err != nil {
		t.Fatal(err)
	}
	if err := appendModEntry(dir, room.ModEntry{Action: "kick", By: "ana", Target: "bob"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{
		".":            0o700,
		keyFile:        0o600,
		certFile:       0o644,
		idFile:         0o644,
		lockName:       0o600,
		bansList.file:  0o600,
		opsList.file:   0o600,
		mutesList.file: 0o600,
		modLogFile:     0o600,
		historyFile:    0o600,
	}
	for name, mode := range want {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %04o, want %04o", name, fi.Mode().Perm(), mode)
		}
	}
}

// Attack on the room's key: a key file others on the machine can read
// lets them pose as the room. The host refuses to start with it, says why,
// and says how to fix it.
func TestKeyReadableByOthersRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows keeps no mode bits")
	}
	dir := t.TempDir()
	startHost(t, Config{StateDir: dir}).Close()
	path := filepath.Join(dir, keyFile)
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		h, err := Start(Config{Name: "x", StateDir: dir, Listen: "127.0.0.1:0"})
		if err == nil {
			h.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) || !strings.Contains(err.Error(), "read by others") {
			t.Fatalf("Start with the key at %04o: %v; want a refusal with the chmod hint", mode, err)
		}
	}
	os.Chmod(path, 0o600)
	startHost(t, Config{StateDir: dir}).Close()
}

// Attack on the files of the person running the host: someone who can
// write into the state directory (one shared, or made too open) replaces
// modlog.jsonl with a link to a file of the host's user, for the next
// kick to be appended to it. The host refuses the link, at its start and
// when it appends, and the file it points to is left as it was. Links in
// the place of the other files it reads are refused the same way.
func TestStateFileLinksNotFollowed(t *testing.T) {
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{modLogFile, bansList.file, opsList.file, mutesList.file, historyFile, keyFile, certFile, idFile, lockName} {
		dir := t.TempDir()
		startHost(t, Config{StateDir: dir}).Close()
		os.Remove(filepath.Join(dir, name))
		if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
			t.Skip("cannot make a symbolic link here:", err)
		}
		h, err := Start(Config{Name: "x", StateDir: dir, Listen: "127.0.0.1:0"})
		if err == nil {
			h.Close()
		}
		if !errors.Is(err, statefile.ErrSymlink) || !strings.Contains(err.Error(), name) {
			t.Errorf("Start with %s a link: %v; want a refusal naming it", name, err)
		}
	}
	// Planted while the host runs: the append is refused.
	dir := t.TempDir()
	os.Symlink(victim, filepath.Join(dir, modLogFile))
	if err := appendModEntry(dir, room.ModEntry{Action: "kick", By: "ana", Target: "bob"}); !errors.Is(err, statefile.ErrSymlink) {
		t.Errorf("append through a link: %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious\n" {
		t.Fatalf("the file the link points to became %q", data)
	}
}

// writeHistoryHeader writes a history file with the header's fields as given and no
// events.
func writeHistoryHeader(t *testing.T, dir string, header historyHeader) {
	t.Helper()
	head, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, historyFile), append(head, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Attack on the numbering members rely on: a history file edited by hand
// to end at a number near 2^64 would have the room's numbers wrap around
// to ones members hold. Such a file is not loaded: the room starts a new
// epoch at 1. So is one whose epoch is not a name the room makes.
func TestHistoryNumbersNearTheEndRefused(t *testing.T) {
	for _, header := range []historyHeader{
		{Version: 1, Epoch: "0123456789abcdef", Seq: 1<<64 - 2},
		{Version: 1, Epoch: "0123456789abcdef", Seq: 1 << 53},
		{Version: 1, Epoch: "0123456789abcdef", Seq: 7, Resumable: []resumableRecord{{NameKey: "bob", Identity: "SHA256:x", Since: 1, PrivateSeq: 1<<64 - 1}}},
		{Version: 1, Epoch: "not\nan epoch", Seq: 7},
		{Version: 1, Epoch: strings.Repeat("a", 1<<16), Seq: 7},
	} {
		dir := t.TempDir()
		writeHistoryHeader(t, dir, header)
		logged := &lockedWriter{w: &strings.Builder{}}
		h := startHost(t, Config{StateDir: dir, Logger: newTestLogger(logged)})
		c := member(t, h, "bob", dialOptions{})
		if c.welcome.Epoch == header.Epoch || c.welcome.Seq != 1 {
			t.Errorf("seq %d: welcome in epoch %q at %d, want a new epoch at 1", header.Seq, c.welcome.Epoch, c.welcome.Seq)
		}
		if !strings.Contains(logged.String(), "damaged") {
			t.Errorf("seq %d: no warning; log:\n%s", header.Seq, logged)
		}
		c.conn.Close()
		h.Close()
	}
}

// Attack on the host's memory, across a restart: private messages kept
// for 400 departed members, 20 frames of 1 KB each (8 MB), in a history
// file (the room bounds them in memory; a file from an older host, or one
// made by hand, need not be). The host loads no more than maxPrivateBytes
// of them, dropping the members who left first, with a warning, and keeps
// the rest of the history.
func TestHistoryPrivatesBoundedOnLoad(t *testing.T) {
	const members, perMember = 400, 20
	text := strings.Repeat("x", 1000)
	header := historyHeader{Version: 1, Epoch: "0123456789abcdef", Seq: 5}
	for m := range members {
		rec := resumableRecord{NameKey: fmt.Sprint("m", m), Identity: fmt.Sprint("SHA256:", m), Since: 1, PrivateSeq: perMember}
		for i := range perMember {
			frame, err := wire.Encode(&wire.Frame{Type: wire.TypePrivate, Seq: 5, PrivateSeq: uint64(i + 1), From: "ana", To: rec.NameKey, Text: text})
			if err != nil {
				t.Fatal(err)
			}
			rec.Privates = append(rec.Privates, json.RawMessage(strings.TrimSuffix(string(frame), "\n")))
		}
		header.Resumable = append(header.Resumable, rec)
	}
	dir := t.TempDir()
	writeHistoryHeader(t, dir, header)
	logged := &strings.Builder{}
	past, err := takeHistory(dir, newTestLogger(logged))
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	for _, r := range past.Resumable {
		for _, p := range r.Privates {
			size += len(p.Frame)
		}
	}
	if size > maxPrivateBytes || size < maxPrivateBytes*3/4 {
		t.Errorf("loaded %d bytes of private frames, want at most %d and not far below", size, maxPrivateBytes)
	}
	if len(past.Resumable) == 0 || past.Resumable[len(past.Resumable)-1].NameKey != fmt.Sprint("m", members-1) {
		t.Errorf("the member who left last is not kept")
	}
	if past.Epoch != header.Epoch || past.Seq != header.Seq {
		t.Errorf("the history was dropped: epoch %q seq %d", past.Epoch, past.Seq)
	}
	if !strings.Contains(logged.String(), "cannot resume") {
		t.Errorf("no warning; log:\n%s", logged)
	}
}

// A private frame kept for a resuming member is sent again after a restart
// exactly as it was first sent: the history file does not escape its < > &
// as json.Marshal would.
func TestHistoryKeepsPrivateFramesAsSent(t *testing.T) {
	private, err := wire.Encode(&wire.Frame{Type: wire.TypePrivate, Seq: 2, PrivateSeq: 1, From: "ana", To: "bob", Text: "<b> & </b>"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	saved := room.History{Epoch: "0123456789abcdef", Seq: 2, Resumable: []room.Resumable{
		{NameKey: "bob", Identity: "SHA256:b", Since: 1, PrivateSeq: 1, Privates: []room.PrivateCopy{{After: 2, Seq: 1, Frame: private}}},
	}}
	if err := saveHistory(dir, saved); err != nil {
		t.Fatal(err)
	}
	got, err := takeHistory(dir, newTestLogger(&strings.Builder{}))
	if err != nil || len(got.Resumable) != 1 || len(got.Resumable[0].Privates) != 1 {
		t.Fatalf("took %+v, %v", got, err)
	}
	if frame := got.Resumable[0].Privates[0].Frame; string(frame) != string(private) {
		t.Fatalf("kept %s, sent %s", frame, private)
	}
}

// A state directory others may write into (made so by hand) could have the
// room's bans or key replaced by them: the host says so when it starts.
func TestStateDirWritableByOthersWarned(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows keeps no mode bits")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	logged := &lockedWriter{w: &strings.Builder{}}
	startHost(t, Config{StateDir: dir, Logger: newTestLogger(logged)}).Close()
	if !strings.Contains(logged.String(), "chmod 700 "+dir) {
		t.Fatalf("no warning with the chmod hint; log:\n%s", logged)
	}
}

// Attack on the host's memory at its start: a history file, or a journal,
// far larger than the room writes (here 128 MiB of nothing, a sparse file)
// is not read: it is a warning, and the room starts a new history.
func TestHugeHistoryFileNotRead(t *testing.T) {
	for _, file := range []string{historyFile, journalFile} {
		t.Run(file, func(t *testing.T) {
			dir := t.TempDir()
			f, err := os.Create(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			header := historyHeader{Version: 1, Epoch: "0123456789abcdef", Seq: 5}
			if file == journalFile {
				header.Boot = bootID() // one this boot would continue
			}
			head, _ := json.Marshal(header)
			f.Write(append(head, '\n'))
			if err := f.Truncate(maxHistoryFile + 1); err != nil {
				t.Fatal(err)
			}
			f.Close()
			logged := &strings.Builder{}
			past, err := takeHistory(dir, newTestLogger(logged))
			if err != nil || past.Epoch != "" {
				t.Fatalf("took %q at %d, %v; want a new history", past.Epoch, past.Seq, err)
			}
			if !strings.Contains(logged.String(), "larger than the room ever writes") {
				t.Fatalf("no warning; log:\n%s", logged)
			}
		})
	}
}
