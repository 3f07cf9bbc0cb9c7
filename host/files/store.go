// Package files is the host's store of offered files: the files members
// offer to the room, kept in one directory (the host gives it
// STATE/files) until they expire or are taken back, uploaded once and
// read by many, both resumable.
//
// Its boundary: it does file I/O in the directory it is given and nothing
// else. It knows nothing of the network, of rooms or of members; an owner
// is an opaque string it counts files by. Who may offer, fetch or remove
// a file is the host's to decide.
//
// The API, in the order the host uses it:
//
//   - Open(dir, limits) loads the store after a start, with a warning for
//     each entry it had to drop; Sweep(now) removes what has expired.
//   - Declare(Info) checks the offer (its Owner, Name, Size and SHA256,
//     and what the room keeps with it: Number, From, FromKey, To, ToKey)
//     against the limits, reserves its space and gives it an id (Info.ID)
//     and an upload token (Info.Token). The offered name is metadata
//     only, never a path: files are stored under the id.
//   - Resume(id) gives the Upload of a declared file: Offset says where
//     the data goes on (0 at first, where the stored part ends after a
//     break or a crash), Write appends, Close lets it be resumed later.
//     The Write that brings the last byte checks the whole file's sha256
//     and only then is the file complete; a file that fails it is removed.
//   - Reader(id) reads a complete file; Seek to go on from an offset. Any
//     number of readers at once, while other files upload.
//   - Remove(id) takes a file back; List(), Get(id) and Used() tell what
//     is there. Info is what the store knows of a file.
//   - Errors are sentences for a person, with the figures (wire.FormatSize
//     gives sizes as people read them); errors.Is tells their kind
//     (ErrTooBig, ErrQuota, ErrTooMany, ErrMismatch, ErrDamaged...).
//   - Offered names are checked with wire.CheckFileName, as the client
//     that saves a fetched file checks them again.
//
// On disk, for an id: ID.json (the metadata, written atomically once at
// the offer), ID.part (the data while it uploads), ID (the data once it is
// complete and checked) and ID.sums (the CRC-32C of each ChunkSize chunk of
// the data as it was received). The sums catch bytes changed on disk
// after they were written: an upload resumed over a damaged part goes on
// from before the first damaged chunk, and a reader that meets a damaged
// chunk fails rather than serving it.
//
// All methods are safe for use by many goroutines at once; one Upload or
// one Reader is for one goroutine at a time.
package files

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"chatroom/host/statefile"
	"chatroom/host/wire"
)

// The chunk sums are CRC-32C (Castagnoli), which the processor computes
// at many GB/s, so that checking each chunk costs a reader little: they
// are there to catch damage, and whoever could change a file on purpose
// could change its sums as well, sha256 or not. The whole file is checked
// by its sha256 when its upload completes.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sumSize is the size of one chunk's sum in ID.sums.
const sumSize = crc32.Size

func newChunkHash() hash.Hash { return crc32.New(castagnoli) }

// chunkSum gives the sum of a chunk as ID.sums holds it (as the hash
// newChunkHash gives writes it: big-endian).
func chunkSum(b []byte) []byte {
	return binary.BigEndian.AppendUint32(nil, crc32.Checksum(b, castagnoli))
}

// ChunkSize is the size of the chunks whose sums are kept: the most an
// upload loses to a damaged part, and what a reader reads at once.
const ChunkSize = 1 << 20

// checkpointBytes is how much an upload writes between syncs of its part
// and sums to disk. What a kill -9 interrupts is in the page cache anyway,
// and what a power cut garbles the chunk sums catch on resume; the syncs
// bound how much it can take. Each sync waits for the disk, so they are
// far apart (at 8 MiB, BenchmarkStoreWrite ran at 0.30 of a plain file,
// at 32 MiB at 0.47).
const checkpointBytes = 32 << 20

// writebackBytes is how often, in bytes written, an upload asks the kernel
// to start writing what it has to disk (startWriteback), so that a sync
// finds little left to wait for: each chunk. Uploads through the host went
// from 311-313 MB/s (0.66-0.67 of a plain copy) to 350-371 (0.72-0.81) in
// BenchmarkTransfer/upload; at 4 MiB, 318-325.
const writebackBytes = 1 << 20

// Limits are the bounds the host sets, so that no member can fill its
// disk. A zero field is no file at all of that kind: set each one.
type Limits struct {
	MaxFileSize int64         // the largest file, in bytes
	Quota       int64         // all files together, uploading or complete, in bytes
	MaxPerOwner int           // the files one owner may have, uploading or complete
	MaxFiles    int           // the files in the store in all
	Expiry      time.Duration // how long a file (or its unfinished upload) is kept after its offer
}

// Info is what the store knows of a file.
type Info struct {
	ID     string   // made by the store; the file's name on disk
	Name   string   // the name it was offered under (checked by wire.CheckFileName)
	Size   int64    // in bytes, as declared
	SHA256 [32]byte // as declared; a complete file has it
	Owner  string   // what the limits count it against (MaxPerOwner)
	// What the room keeps with the file, for the store to give back after
	// a restart; the store only bounds them (see checkRoomFields). Number
	// is the room's number for it (0: none), From and To names of people
	// (To "" for a whole room), FromKey and ToKey their key fingerprints.
	Number  int
	From    string
	FromKey string
	To      string
	ToKey   string
	// Token is the upload's secret, made at Declare (32 hex digits): the
	// store does not check it, the host does (whoever holds it may upload).
	Token    string
	Offered  time.Time
	Expires  time.Time
	Complete bool // all of it is in, and its sha256 was checked
	// Shown says the room has shown the complete file to those who may
	// fetch it (MarkShown), so that a host killed between the end of an
	// upload and the room's showing of it shows it when it starts again
	// rather than hold a file no one was told of.
	Shown bool
	// legacy: the metadata is of a version before Shown was kept; such a
	// file was shown once complete.
	legacy bool
}

// The kinds of errors the store returns, for errors.Is. Each error's own
// text is a sentence for a person, with the figures.
var (
	ErrTooBig     = errors.New("file too big")
	ErrQuota      = errors.New("quota full")
	ErrTooMany    = errors.New("too many files")
	ErrNotFound   = errors.New("no such file")
	ErrBusy       = errors.New("upload in progress")
	ErrComplete   = errors.New("file complete")
	ErrIncomplete = errors.New("file incomplete")
	ErrMismatch   = errors.New("sha256 mismatch")
	ErrTooLong    = errors.New("more data than declared")
	ErrDamaged    = errors.New("file damaged on disk")
	ErrRemoved    = errors.New("file removed")
	ErrBadOffer   = errors.New("bad offer")
)

// refusal is an error with a person's sentence as its text and one of the
// kinds above to match.
type refusal struct {
	kind error
	text string
}

func (r *refusal) Error() string { return r.text }
func (r *refusal) Unwrap() error { return r.kind }

func refuse(kind error, format string, args ...any) error {
	return &refusal{kind: kind, text: fmt.Sprintf(format, args...)}
}

// Store is the store of offered files in one directory.
type Store struct {
	dir    string
	limits Limits

	mu      sync.Mutex
	entries map[string]*entry
	used    int64 // bytes reserved: the declared sizes of every entry
}

// entry is a file in the index. Its fields are guarded by Store.mu.
type entry struct {
	info      Info
	uploading bool // an Upload has it
	removed   bool // it left the index: its Upload must stop
}

func (s *Store) metaPath(id string) string  { return filepath.Join(s.dir, id+".json") }
func (s *Store) partPath(id string) string  { return filepath.Join(s.dir, id+".part") }
func (s *Store) sumsPath(id string) string  { return filepath.Join(s.dir, id+".sums") }
func (s *Store) dataPath(id string) string  { return filepath.Join(s.dir, id) }
func (s *Store) shownPath(id string) string { return filepath.Join(s.dir, id+".shown") }

// idBytes is the length of an id in random bytes; it is twice that in hex.
const idBytes = 16

func newID() string {
	b := make([]byte, idBytes)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ValidID reports whether id could be an id the store made (32
// lowercase hex digits, as its tokens are too), so that a caller can
// refuse anything else before it looks it up.
func ValidID(id string) bool {
	if len(id) != 2*idBytes {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// chunks is the number of chunks a file of size bytes has.
func chunks(size int64) int64 { return (size + ChunkSize - 1) / ChunkSize }

// Open opens the store in dir, making the directory if needed, and loads
// what is there. Each metadata file is checked as an offer is; one that is
// damaged, hostile or of a file whose data does not fit costs that entry
// only, with a warning in the list returned. Files the store did not make
// are removed (with a warning); directories are left, with a warning.
// Parts stay, so their uploads resume. Files kept from before count
// against the quota even if they no longer fit the limits.
func Open(dir string, limits Limits) (*Store, []string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	s := &Store{dir: dir, limits: limits, entries: map[string]*entry{}}
	list, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	keep := map[string]bool{}
	for _, de := range list {
		id, ok := strings.CutSuffix(de.Name(), ".json")
		if !ok || !ValidID(id) {
			continue
		}
		info, kept, err := s.load(id)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("dropped the offered file %s: %v", id, err))
			continue
		}
		for _, name := range kept {
			keep[name] = true
		}
		s.entries[id] = &entry{info: info}
		s.used += info.Size
	}
	for _, de := range list {
		name := de.Name()
		if keep[name] {
			continue
		}
		if de.IsDir() {
			warnings = append(warnings, fmt.Sprintf("left the directory %s, which is not the store's, in %s", name, dir))
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			warnings = append(warnings, fmt.Sprintf("could not remove %s: %v", name, err))
		} else {
			warnings = append(warnings, fmt.Sprintf("removed %s, which is not the store's, from %s", name, dir))
		}
	}
	return s, warnings, nil
}

// load reads and checks the entry id, and says which of its files to keep.
func (s *Store) load(id string) (Info, []string, error) {
	data, err := readBounded(s.metaPath(id), maxMetaBytes)
	if err != nil {
		return Info{}, nil, err
	}
	info, err := parseMeta(data, id)
	if err != nil {
		return Info{}, nil, fmt.Errorf("its metadata %v", err)
	}
	kept := []string{id + ".json"}
	sums, sumsOK := regularSize(s.sumsPath(id))
	if size, ok := regularSize(s.dataPath(id)); ok {
		// The data is renamed into place only once its sha256 was checked.
		if size != info.Size {
			return Info{}, nil, fmt.Errorf("its data is %d bytes, not the %d declared", size, info.Size)
		}
		if !sumsOK || sums != chunks(info.Size)*sumSize {
			return Info{}, nil, errors.New("its chunk sums are missing or cut short")
		}
		info.Complete = true
		kept = append(kept, id, id+".sums")
		if _, ok := regularSize(s.shownPath(id)); ok {
			info.Shown = true
			kept = append(kept, id+".shown")
		}
		info.Shown = info.Shown || info.legacy
		return info, kept, nil
	}
	if _, ok := regularSize(s.partPath(id)); ok {
		kept = append(kept, id+".part")
	}
	if sumsOK {
		kept = append(kept, id+".sums")
	}
	return info, kept, nil
}

// regularSize gives the size of the regular file at path, and false for
// anything else there (nothing, a link, a directory).
func regularSize(path string) (int64, bool) {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	return fi.Size(), true
}

// readBounded reads the state file at path (never through a link), and
// refuses one longer than limit.
func readBounded(path string, limit int64) ([]byte, error) {
	data, err := readUpTo(path, limit+1)
	if err == nil && int64(len(data)) > limit {
		return nil, fmt.Errorf("is more than %d bytes long", limit)
	}
	return data, err
}

// readUpTo reads at most limit bytes of the state file at path (never
// through a link). It grows its buffer as it reads, so a limit made from a
// size that a hostile file declares costs only what is really there.
func readUpTo(path string, limit int64) ([]byte, error) {
	f, err := statefile.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// Declare offers a file: it checks the offer (offer's Owner, Name, Size,
// SHA256, and the room's Number, From, FromKey, To and ToKey) against the
// limits, reserves its size, writes its metadata and gives its Info, with
// ID, Token, Offered and Expires filled in; the ID names it from then on.
// The data follows through Resume. An offer over a limit is refused with
// an error (ErrTooBig, ErrQuota, ErrTooMany) that says the figures; a bad
// name, owner or room field with ErrBadOffer.
func (s *Store) Declare(offer Info) (Info, error) {
	owner, name, size := offer.Owner, offer.Name, offer.Size
	if err := wire.CheckFileName(name); err != nil {
		return Info{}, &refusal{kind: ErrBadOffer, text: err.Error()}
	}
	if err := checkOwner(owner); err != nil {
		return Info{}, refuse(ErrBadOffer, "the offer %v", err)
	}
	if err := checkRoomFields(offer.Number, offer.From, offer.FromKey, offer.To, offer.ToKey); err != nil {
		return Info{}, refuse(ErrBadOffer, "the offer %v", err)
	}
	if size <= 0 {
		return Info{}, refuse(ErrBadOffer, "%s is empty: there is nothing to offer", name)
	}
	now := time.Now().Round(0)
	info := Info{
		ID:      newID(),
		Name:    name,
		Size:    size,
		SHA256:  offer.SHA256,
		Owner:   owner,
		Number:  offer.Number,
		From:    offer.From,
		FromKey: offer.FromKey,
		To:      offer.To,
		ToKey:   offer.ToKey,
		Token:   newID(),
		Offered: now,
		Expires: now.Add(s.limits.Expiry),
	}
	meta, err := encodeMeta(info)
	if err != nil {
		return Info{}, err
	}
	e := &entry{info: info, uploading: true}

	s.mu.Lock()
	err = s.admit(owner, name, size)
	if err == nil {
		s.entries[info.ID] = e
		s.used += size
	}
	s.mu.Unlock()
	if err != nil {
		return Info{}, err
	}

	if err := statefile.WriteAtomic(s.metaPath(info.ID), meta, 0o600); err != nil {
		s.drop(info.ID, e)
		os.Remove(s.metaPath(info.ID))
		return Info{}, err
	}
	s.mu.Lock()
	e.uploading = false
	s.mu.Unlock()
	return info, nil
}

// admit checks an offer against the limits. s.mu is held.
func (s *Store) admit(owner, name string, size int64) error {
	l := s.limits
	if size > l.MaxFileSize {
		return refuse(ErrTooBig, "%s is %s, more than the %s the host takes for one file", name, wire.FormatSize(size), wire.FormatSize(l.MaxFileSize))
	}
	if size > l.Quota-s.used {
		return refuse(ErrQuota, "%s (%s) does not fit: the host keeps at most %s of files, and %s of it is taken (%s free)",
			name, wire.FormatSize(size), wire.FormatSize(l.Quota), wire.FormatSize(s.used), wire.FormatSize(max(0, l.Quota-s.used)))
	}
	if len(s.entries) >= l.MaxFiles {
		return refuse(ErrTooMany, "the host keeps at most %d files, and has %d: wait for some to expire or be taken back", l.MaxFiles, len(s.entries))
	}
	owned := 0
	for _, e := range s.entries {
		if e.info.Owner == owner {
			owned++
		}
	}
	if owned >= l.MaxPerOwner {
		return refuse(ErrTooMany, "you have %d files on offer, the most the host takes from one member: take one back first", owned)
	}
	return nil
}

// drop takes e out of the index if it is still there as id, and gives its
// space back. It reports whether it did.
func (s *Store) drop(id string, e *entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries[id] != e {
		return false
	}
	delete(s.entries, id)
	s.used -= e.info.Size
	e.removed = true
	return true
}

// removeFiles removes an entry's files, its metadata first: a crash
// half-way leaves data without metadata, which the next Open removes.
func (s *Store) removeFiles(id string) {
	os.Remove(s.metaPath(id))
	os.Remove(s.partPath(id))
	os.Remove(s.dataPath(id))
	os.Remove(s.sumsPath(id))
	os.Remove(s.shownPath(id))
}

// MarkShown records that the room has shown the complete file id (see
// Info.Shown). It is not synced: a power cut that loses it has the room
// show the file once more, never not at all.
func (s *Store) MarkShown(id string) error {
	s.mu.Lock()
	e, ok := s.entries[id]
	complete := ok && e.info.Complete
	s.mu.Unlock()
	if !complete {
		return refuse(ErrNotFound, "there is no such complete file")
	}
	f, err := statefile.OpenFile(s.shownPath(id), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	s.mu.Lock()
	e.info.Shown = true
	s.mu.Unlock()
	return nil
}

// Remove takes the file id off offer and removes it from disk. An upload
// of it stops at its next Write; a reader already open reads on.
func (s *Store) Remove(id string) error {
	s.mu.Lock()
	e, ok := s.entries[id]
	s.mu.Unlock()
	if !ok || !s.drop(id, e) {
		return refuse(ErrNotFound, "there is no such file on offer")
	}
	s.removeFiles(id)
	return nil
}

// Sweep removes the files, complete or not, whose expiry is at or before
// now, and gives what it removed (for the host to tell the room).
func (s *Store) Sweep(now time.Time) []Info {
	s.mu.Lock()
	var gone []Info
	for id, e := range s.entries {
		if !e.info.Expires.After(now) {
			delete(s.entries, id)
			s.used -= e.info.Size
			e.removed = true
			gone = append(gone, e.info)
		}
	}
	s.mu.Unlock()
	for _, info := range gone {
		s.removeFiles(info.ID)
	}
	sortInfos(gone)
	return gone
}

// Get gives what the store knows of the file id.
func (s *Store) Get(id string) (Info, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return Info{}, false
	}
	return e.info, true
}

// List gives every file in the store, uploading or complete, the oldest
// offer first.
func (s *Store) List() []Info {
	s.mu.Lock()
	list := make([]Info, 0, len(s.entries))
	for _, e := range s.entries {
		list = append(list, e.info)
	}
	s.mu.Unlock()
	sortInfos(list)
	return list
}

// Used gives the bytes the store's files take or have reserved.
func (s *Store) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

func sortInfos(list []Info) {
	slices.SortFunc(list, func(a, b Info) int {
		if c := a.Offered.Compare(b.Offered); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// syncDir syncs the directory, so that a rename in it is on disk.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
