package host

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"chatroom/host/room"
	"chatroom/host/statefile"
)

// journalFile is the room's journal while it runs (see room.Journal): a
// checkpoint, as historyFile holds a history (a header, then the events),
// and after it the records the room appended since, each written into the
// system's page cache before any member is handed what it records. A host
// killed in any way leaves it behind, whole up to the last write the
// system took; the next start continues the room's epoch from it, so that
// every member resumes exactly. A clean close saves historyFile and
// removes it.
const journalFile = "journal.jsonl"

// DefaultSyncEvery is how often the journal is synced to disk unless told
// otherwise (Config.SyncEvery): a power cut loses at most about that much
// of the room's latest events, and syncing costs a disk flush a second at
// most, only when something was written.
const DefaultSyncEvery = time.Second

// journal is the room.Journal of a state directory: a file the room
// appends to from its goroutine, replaced at every checkpoint, and synced
// to disk every syncEvery by a goroutine of its own.
type journal struct {
	dir  string
	log  *slog.Logger
	boot string // the system's boot id, written in every checkpoint

	mu sync.Mutex
	f  *os.File // nil once closed, or once a write failed
	// dirty says something was written since the last sync; renamed,
	// that a checkpoint replaced the file, so the directory needs one too.
	dirty, renamed bool
	// failed is set once a write failed: the journal is given up for the
	// rest of the run.
	failed bool

	stop chan struct{} // closed by close, to end the sync goroutine
	done chan struct{} // closed when it has ended
}

// openJournal returns the journal of dir, which the room's first
// checkpoint creates; it syncs it every syncEvery (none when negative).
func openJournal(dir string, syncEvery time.Duration, log *slog.Logger) *journal {
	j := &journal{dir: dir, log: log, boot: bootID(), stop: make(chan struct{}), done: make(chan struct{})}
	go j.syncEvery(syncEvery)
	return j
}

// Append writes records at the end of the journal: a write(2), which the
// system keeps in its page cache whatever becomes of this process.
func (j *journal) Append(records []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return errJournalClosed
	}
	if _, err := j.f.Write(records); err != nil {
		j.failLocked(err)
		return err
	}
	j.dirty = true
	return nil
}

// errJournalClosed is Append's error after a failure or close.
var errJournalClosed = errors.New("the journal is closed")

// Checkpoint starts the journal anew with the room's history: written to a
// new file, which is renamed over the journal and appended to from then
// on. It is not synced here, on the room's goroutine, but by the next
// periodic sync: a power cut before it can lose the file, and a start
// after a power cut does not continue the epoch anyway (see takeHistory).
func (j *journal) Checkpoint(h room.History) error {
	data, err := encodeCheckpoint(h, j.boot)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil && j.closedLocked() {
		return errJournalClosed
	}
	path := filepath.Join(j.dir, journalFile)
	// Named as statefile names its temporary files, so that one left by a
	// kill is removed by RemoveStale.
	tmp := filepath.Join(j.dir, "."+journalFile+strconv.FormatUint(rand.Uint64(), 10))
	f, err := statefile.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		j.failLocked(err)
		return err
	}
	_, err = f.Write(data)
	// The old file is closed before the new one takes its name: Windows
	// renames nothing over a file that is open. Nothing is appended
	// meanwhile: the room's goroutine is here.
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		j.failLocked(err)
		return err
	}
	j.f, j.dirty, j.renamed = f, true, true
	return nil
}

// closedLocked reports whether the journal was closed or failed for good
// (as opposed to not yet started, before its first checkpoint).
func (j *journal) closedLocked() bool {
	select {
	case <-j.stop:
		return true
	default:
	}
	return j.failed
}

// failLocked gives up the journal after a write failed (a full disk): the
// room goes on without it. The file is removed, since what is in it stops
// short of what members are about to be handed: a restart from it would
// give again numbers that they hold. This is said once on the host's log.
func (j *journal) failLocked(err error) {
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
	if j.failed {
		return
	}
	j.failed = true
	path := filepath.Join(j.dir, journalFile)
	gone := os.Remove(path)
	if gone != nil && !errors.Is(gone, fs.ErrNotExist) {
		// Emptied, it is at least no journal a restart would continue.
		gone = os.Truncate(path, 0)
	}
	if gone != nil && !errors.Is(gone, fs.ErrNotExist) {
		j.log.Warn(fmt.Sprintf("the room's journal %s could not be written (%v), nor removed (%v): remove it by hand before the room is hosted again, or members may be sent wrong events", path, unwrapPathError(err), unwrapPathError(gone)))
		return
	}
	syncDir(j.dir)
	j.log.Warn(fmt.Sprintf("the room's journal %s could not be written (%v); it is removed: the room goes on, and a clean close still saves its history, but after a crash members cannot resume", path, unwrapPathError(err)))
}

// syncEvery syncs the journal to disk every interval, while something was
// written, until close; a negative interval syncs nothing.
func (j *journal) syncEvery(interval time.Duration) {
	defer close(j.done)
	if interval < 0 {
		<-j.stop
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
			j.sync()
		}
	}
}

// sync syncs what was written since the last sync, and the directory
// after a checkpoint. The file is synced outside the lock, so the room's
// appends do not wait for the disk; a file a checkpoint closed meanwhile
// has been replaced, and the next sync syncs the new one.
func (j *journal) sync() {
	j.mu.Lock()
	f, dirty, renamed := j.f, j.dirty, j.renamed
	j.dirty, j.renamed = false, false
	j.mu.Unlock()
	if f == nil || !dirty {
		return
	}
	f.Sync()
	if renamed {
		syncDir(j.dir)
	}
}

// close stops the sync goroutine and closes the file, synced, once the
// room has stopped appending.
func (j *journal) close() {
	close(j.stop)
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		j.f.Sync()
		j.f.Close()
		j.f = nil
		syncDir(j.dir)
	}
}

// remove removes the journal, once a clean close has saved the history.
func (j *journal) remove() {
	os.Remove(filepath.Join(j.dir, journalFile))
	syncDir(j.dir)
}

// syncDir syncs directory dir, so that a rename or removal in it is on
// disk; systems that cannot sync a directory do without.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// bootID returns the system's boot id, which changes at every boot, or ""
// where the system has none to read (only Linux is asked). A journal
// written in another boot may lack what was written last before a power
// cut; see takeHistory.
func bootID() string {
	data, err := readBounded("/proc/sys/kernel/random/boot_id", 64)
	if err != nil {
		return ""
	}
	id := strings.TrimSpace(string(data))
	if !validBootID(id) {
		return ""
	}
	return id
}

// validBootID reports whether id looks like a boot id: a UUID, in
// lowercase hex digits and dashes.
func validBootID(id string) bool {
	return id != "" && len(id) <= 64 && strings.Trim(id, "0123456789abcdef-") == ""
}

// readBounded reads at most limit bytes of the file at path.
func readBounded(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, limit)
	n, err := f.Read(buf)
	if n > 0 {
		err = nil
	}
	return buf[:n], err
}

// encodeCheckpoint is a checkpoint as the journal starts with it: the
// history as historyFile holds it, its header with the boot id, the count
// of its events and of its members present (see room.History.Present).
func encodeCheckpoint(h room.History, boot string) ([]byte, error) {
	return encodeHistoryAs(h, func(head *historyHeader) {
		head.Boot = boot
		head.Present = h.Present
		n := len(h.Events)
		head.Events = &n
	})
}

// journalTail splits what follows a checkpoint into its records, one line
// each, up to the end record of the last whole Append (see room.Journal).
// What follows that is what a host killed while writing, or a full disk,
// leaves, and which no member was handed anything of: cut says what it
// was, "" when there was nothing.
func journalTail(data []byte) (records [][]byte, cut string) {
	end := []byte(`{"j":"end"}` + "\n")
	whole := 0
	for i := 0; i < len(data); {
		n := bytes.IndexByte(data[i:], '\n')
		if n < 0 {
			break
		}
		line := data[i : i+n+1]
		records = append(records, line)
		i += n + 1
		if bytes.Equal(line, end) {
			whole = len(records)
		}
	}
	size := 0
	for _, r := range records[:whole] {
		size += len(r)
	}
	switch {
	case size == len(data):
		return records, ""
	case bytes.HasSuffix(data, []byte("\n")):
		cut = "its last write, cut short before its end record"
	default:
		cut = "its last line, cut short"
	}
	return records[:whole], cut
}

// parseJournal reads journalFile's contents: the history as it was when
// its host stopped, the boot id its checkpoint was written in, and what
// was cut off its end (see journalTail); or it says what is wrong.
func parseJournal(data []byte) (past room.History, boot, cut, problem string) {
	checkpoint, head, rest, problem := parseCheckpoint(data)
	if problem != "" {
		return room.History{}, "", "", problem
	}
	if head.Events == nil {
		return room.History{}, "", "", "it is not a journal: its header counts no events"
	}
	tail, cut := journalTail(rest)
	past, err := room.ReplayJournal(checkpoint, tail, noHistoryLimit)
	if err != nil {
		return room.History{}, "", "", err.Error()
	}
	return past, head.Boot, cut, ""
}

// noHistoryLimit is the history limit ReplayJournal is given: the room
// bounds what it is given with its own (see room.Config.History), and the
// file was bounded as it was read.
const noHistoryLimit = math.MaxInt
