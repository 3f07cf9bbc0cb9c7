package files

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// roomy are limits no test here reaches unless it means to.
var roomy = Limits{MaxFileSize: 1 << 30, Quota: 1 << 32, MaxPerOwner: 100, MaxFiles: 1000, Expiry: time.Hour}

// content gives n bytes that are the same for the same seed, in this
// process and in a child one.
func content(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	r.Read(b)
	return b
}

func openStore(t testing.TB, dir string, l Limits) *Store {
	t.Helper()
	s, warnings, err := Open(dir, l)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Fatalf("Open warned: %q", warnings)
	}
	return s
}

func declare(t testing.TB, s *Store, owner, name string, data []byte) Info {
	t.Helper()
	info, err := s.Declare(Info{Owner: owner, Name: name, Size: int64(len(data)), SHA256: sha256.Sum256(data)})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// upload writes data[from:] into the upload in pieces of odd sizes.
func upload(t testing.TB, u *Upload, data []byte) {
	t.Helper()
	for off := u.Offset(); off < int64(len(data)); {
		n := min(int64(len(data))-off, 40_000+off%7777)
		if _, err := u.Write(data[off : off+n]); err != nil {
			t.Fatal(err)
		}
		off += n
	}
	if !u.Done() {
		t.Fatal("the upload is not done after its last byte")
	}
}

func readAll(t testing.TB, s *Store, id string, from int64) []byte {
	t.Helper()
	r, err := s.Reader(id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Seek(from, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Accident: an upload broken off (the member's connection drops) and
// resumed goes on from where the stored part ends, and a download resumed
// at an offset gets the rest; the result is the file offered, under an id,
// not under the offered name.
func TestUploadResumeAndRead(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, roomy)
	data := content(1, 3*ChunkSize+12345)
	info := declare(t, s, "bob", "slides.pdf", data)
	u, err := s.Resume(info.ID)
	if err != nil {
		t.Fatal(err)
	}
	half := int64(ChunkSize + 777)
	if _, err := u.Write(data[:half]); err != nil {
		t.Fatal(err)
	}
	u.Close()
	if _, err := s.Reader(info.ID); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Reader of an unfinished file: %v", err)
	}
	u, err = s.Resume(info.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The bytes past the last whole chunk have no sum yet: they are
	// sent again.
	if u.Offset() != ChunkSize {
		t.Fatalf("resumed at %d, want %d", u.Offset(), ChunkSize)
	}
	upload(t, u, data)
	u.Close()
	if got, _ := s.Get(info.ID); !got.Complete {
		t.Fatal("the file is not complete")
	}
	if _, err := os.Stat(filepath.Join(dir, "slides.pdf")); err == nil {
		t.Fatal("the file is stored under its offered name")
	}
	for _, from := range []int64{0, 5, ChunkSize, ChunkSize + 1, int64(len(data)) - 1, int64(len(data))} {
		if got := readAll(t, s, info.ID, from); !bytes.Equal(got, data[from:]) {
			t.Fatalf("read from %d: %d bytes, not the %d offered", from, len(got), len(data[from:]))
		}
	}
	if _, err := s.Resume(info.ID); !errors.Is(err, ErrComplete) {
		t.Fatalf("Resume of a complete file: %v", err)
	}
	// And after a restart, it is there still.
	s2 := openStore(t, dir, roomy)
	if got := readAll(t, s2, info.ID, 0); !bytes.Equal(got, data) {
		t.Fatal("after reopening, the file is not what was offered")
	}
}

// Attack: a hostile member sends other bytes than the sha256 it declared
// (or the transfer garbles them): the file is never complete, and its
// part is removed.
func TestMismatchIsNeverComplete(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, roomy)
	data := content(2, ChunkSize+10)
	info := declare(t, s, "eve", "patch.diff", data)
	u, _ := s.Resume(info.ID)
	wrong := bytes.Clone(data)
	wrong[len(wrong)-1] ^= 1
	_, err := u.Write(wrong)
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "patch.diff did not arrive as it was offered") {
		t.Fatalf("Write of wrong bytes: %v", err)
	}
	if _, ok := s.Get(info.ID); ok {
		t.Fatal("the file is still on offer")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left on disk: %v", left)
	}
	if s.Used() != 0 {
		t.Fatalf("space still reserved: %d", s.Used())
	}
}

// Attack: a member sends more than it declared, to take more space than
// it reserved.
func TestWriteBeyondSizeRefused(t *testing.T) {
	s := openStore(t, t.TempDir(), roomy)
	data := content(3, 1000)
	info := declare(t, s, "eve", "a.txt", data)
	u, _ := s.Resume(info.ID)
	defer u.Close()
	if n, err := u.Write(append(bytes.Clone(data), 'x')); !errors.Is(err, ErrTooLong) || n != 0 {
		t.Fatalf("Write of more than declared: %d, %v", n, err)
	}
	if _, err := s.Resume(info.ID); !errors.Is(err, ErrBusy) {
		t.Fatalf("a second Upload of the same file: %v", err)
	}
}

// Attack: a member fills the host's disk with big files, many files, or
// many members' worth at once. Each refusal says the figures.
func TestLimits(t *testing.T) {
	l := Limits{MaxFileSize: 10_000_000, Quota: 25_000_000, MaxPerOwner: 2, MaxFiles: 3, Expiry: time.Hour}
	var sum [32]byte
	s := openStore(t, t.TempDir(), l)
	if _, err := s.Declare(Info{Owner: "bob", Name: "huge.iso", Size: 10_000_001, SHA256: sum}); !errors.Is(err, ErrTooBig) ||
		err.Error() != "huge.iso is 10 MB, more than the 10 MB the host takes for one file" {
		// 10,000,001 bytes shows as 10 MB: the sentence is for people.
		t.Fatalf("over the file limit: %v", err)
	}
	if _, err := s.Declare(Info{Owner: "bob", Name: "a", Size: 10_000_000, SHA256: sum}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Declare(Info{Owner: "bob", Name: "b", Size: 10_000_000, SHA256: sum}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Declare(Info{Owner: "cid", Name: "c.bin", Size: 6_000_000, SHA256: sum})
	if !errors.Is(err, ErrQuota) || err.Error() != "c.bin (6 MB) does not fit: the host keeps at most 25 MB of files, and 20 MB of it is taken (5 MB free)" {
		t.Fatalf("over the quota: %v", err)
	}
	if _, err := s.Declare(Info{Owner: "bob", Name: "d", Size: 1, SHA256: sum}); !errors.Is(err, ErrTooMany) || !strings.Contains(err.Error(), "you have 2 files on offer") {
		t.Fatalf("over the owner's count: %v", err)
	}
	if _, err := s.Declare(Info{Owner: "cid", Name: "e", Size: 1, SHA256: sum}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Declare(Info{Owner: "dan", Name: "f", Size: 1, SHA256: sum}); !errors.Is(err, ErrTooMany) || !strings.Contains(err.Error(), "at most 3 files, and has 3") {
		t.Fatalf("over the store's count: %v", err)
	}
	for _, bad := range []struct {
		owner, name string
		size        int64
	}{{"", "x", 1}, {"bob", "../x", 1}, {"bob", "x", 0}, {"bob", "x", -5}, {strings.Repeat("o", MaxOwnerBytes+1), "x", 1}} {
		if _, err := s.Declare(Info{Owner: bad.owner, Name: bad.name, Size: bad.size, SHA256: sum}); !errors.Is(err, ErrBadOffer) {
			t.Errorf("Declare(%q, %q, %d): %v", bad.owner, bad.name, bad.size, err)
		}
	}
}

// Attack: many members declare at the same moment, each within the
// quota alone; the reservations at declaration keep them together within.
func TestConcurrentDeclarationsKeepQuota(t *testing.T) {
	l := roomy
	l.Quota = 10 * 1000
	s := openStore(t, t.TempDir(), l)
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for i := range 50 {
		wg.Go(func() {
			if _, err := s.Declare(Info{Owner: fmt.Sprint("m", i), Name: "x", Size: 1000, SHA256: [32]byte{}}); err == nil {
				mu.Lock()
				admitted++
				mu.Unlock()
			} else if !errors.Is(err, ErrQuota) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if admitted != 10 || s.Used() != l.Quota {
		t.Fatalf("admitted %d files of 1000 bytes into a quota of 10000 (used %d)", admitted, s.Used())
	}
}

// corruptByte changes one byte of the file at path.
func corruptByte(t *testing.T, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, at)
	b[0] ^= 0x55
	f.WriteAt(b, at)
}

// Accident: bytes of a stored part change on disk between two sessions of
// an upload (a bad disk, another program). The resume goes on from before
// the damaged chunk, says so, and the file comes out whole.
func TestDamagedPartDetectedOnResume(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, roomy)
	data := content(4, 4*ChunkSize+99)
	info := declare(t, s, "bob", "map.png", data)
	u, _ := s.Resume(info.ID)
	u.Write(data[:3*ChunkSize+50])
	u.Close()
	corruptByte(t, filepath.Join(dir, info.ID+".part"), ChunkSize+1000)

	s = openStore(t, dir, roomy)
	u, err := s.Resume(info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Offset() != ChunkSize {
		t.Fatalf("resumed at %d over a part damaged in its second chunk, want %d", u.Offset(), ChunkSize)
	}
	if err := u.Damage(); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "damaged on disk at chunk 1") {
		t.Fatalf("Damage() = %v", err)
	}
	upload(t, u, data)
	if got := readAll(t, s, info.ID, 0); sha256.Sum256(got) != info.SHA256 {
		t.Fatal("the file is not what was offered")
	}
}

// Accident: a complete file changes on disk. A reader that reaches the
// damaged chunk fails with a clear error; what comes before it is served.
func TestDamagedFileDetectedOnRead(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, roomy)
	data := content(5, 3*ChunkSize)
	info := declare(t, s, "bob", "talk.mp4", data)
	u, _ := s.Resume(info.ID)
	upload(t, u, data)
	corruptByte(t, filepath.Join(dir, info.ID), 2*ChunkSize+5)

	r, err := s.Reader(info.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "talk.mp4 is damaged on the host's disk: chunk 2") {
		t.Fatalf("reading a damaged file: %v", err)
	}
	if !bytes.Equal(got, data[:2*ChunkSize]) {
		t.Fatalf("served %d bytes before the damage, want the %d before it", len(got), 2*ChunkSize)
	}
	// A resumed download that starts inside the damaged chunk meets it too.
	r.Seek(2*ChunkSize+100, io.SeekStart)
	if _, err := r.Read(make([]byte, 10)); !errors.Is(err, ErrDamaged) {
		t.Fatalf("reading inside the damaged chunk: %v", err)
	}
	// A file cut short on disk is refused at once.
	os.Truncate(filepath.Join(dir, info.ID), 10)
	if _, err := s.Reader(info.ID); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Reader of a file cut short: %v", err)
	}
}

// Accident: files are offered and forgotten, uploads abandoned: the sweep
// removes them once expired, gives their space back, and leaves the rest.
func TestSweepRemovesExpired(t *testing.T) {
	dir := t.TempDir()
	l := roomy
	l.Expiry = time.Minute
	s := openStore(t, dir, l)
	data := content(6, 5000)
	done := declare(t, s, "bob", "done.txt", data)
	u, _ := s.Resume(done.ID)
	upload(t, u, data)
	abandoned := declare(t, s, "ann", "half.txt", data)
	u, _ = s.Resume(abandoned.ID)
	u.Write(data[:100])
	u.Close()

	if gone := s.Sweep(time.Now()); len(gone) != 0 {
		t.Fatalf("swept %v before expiry", gone)
	}
	l.Expiry = 2 * time.Minute
	s.limits = l
	young := declare(t, s, "cid", "young.txt", data)
	gone := s.Sweep(time.Now().Add(90 * time.Second))
	if len(gone) != 2 || gone[0].ID != done.ID || gone[1].ID != abandoned.ID {
		t.Fatalf("swept %v, want the two older files", gone)
	}
	if list := s.List(); len(list) != 1 || list[0].ID != young.ID {
		t.Fatalf("left %v", list)
	}
	if s.Used() != int64(len(data)) {
		t.Fatalf("used %d after the sweep", s.Used())
	}
	left, _ := os.ReadDir(dir)
	for _, e := range left {
		if !strings.HasPrefix(e.Name(), young.ID) {
			t.Fatalf("the sweep left %s on disk", e.Name())
		}
	}
}

// Accident: a file is taken back (/unsend) while it uploads and while it
// is read: the upload stops, the reader already open reads on, the space
// is free.
func TestRemoveDuringUploadAndRead(t *testing.T) {
	s := openStore(t, t.TempDir(), roomy)
	data := content(7, 2*ChunkSize)
	a := declare(t, s, "bob", "a", data)
	u, _ := s.Resume(a.ID)
	u.Write(data[:100])
	b := declare(t, s, "bob", "b", data)
	ub, _ := s.Resume(b.ID)
	upload(t, ub, data)
	r, err := s.Reader(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := s.Remove(a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(data[100:200]); !errors.Is(err, ErrRemoved) {
		t.Fatalf("Write after Remove: %v", err)
	}
	if err := s.Remove(a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a second Remove: %v", err)
	}
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the open reader after Remove: %d bytes, %v", len(got), err)
	}
	if s.Used() != 0 {
		t.Fatalf("used %d after removing everything", s.Used())
	}
}

// Accident: the host is killed after the last byte is in and summed, but
// before the part is renamed; the next Resume checks it and completes it.
func TestFullPartCompletesOnResume(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, roomy)
	data := content(8, 2*ChunkSize+3)
	info := declare(t, s, "bob", "x", data)
	os.WriteFile(filepath.Join(dir, info.ID+".part"), data, 0o600)
	var sums []byte
	for off := 0; off < len(data); off += ChunkSize {
		sums = append(sums, chunkSum(data[off:min(off+ChunkSize, len(data))])...)
	}
	os.WriteFile(filepath.Join(dir, info.ID+".sums"), sums, 0o600)
	s = openStore(t, dir, roomy)
	u, err := s.Resume(info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Done() {
		t.Fatal("a full, good part is not completed on resume")
	}
	if got := readAll(t, s, info.ID, 0); !bytes.Equal(got, data) {
		t.Fatal("not the file offered")
	}
}

// Load: many readers of one file at once while other files upload (run
// with -race: the store's index is shared by every connection).
func TestConcurrentReadersAndUploads(t *testing.T) {
	s := openStore(t, t.TempDir(), roomy)
	data := content(9, 2*ChunkSize+1)
	info := declare(t, s, "bob", "shared", data)
	u, _ := s.Resume(info.ID)
	upload(t, u, data)
	// The helpers fail with t.Fatal, which is for the test's goroutine:
	// the goroutines here report with t.Error.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			r, err := s.Reader(info.ID)
			if err != nil {
				t.Error(err)
				return
			}
			defer r.Close()
			r.Seek(int64(i)*1000, io.SeekStart)
			if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, data[i*1000:]) {
				t.Error("a reader got other bytes", err)
			}
		})
		wg.Go(func() {
			d := content(uint64(100+i), ChunkSize/2+i)
			in, err := s.Declare(Info{Owner: fmt.Sprint("m", i), Name: "up", Size: int64(len(d)), SHA256: sha256.Sum256(d)})
			if err != nil {
				t.Error(err)
				return
			}
			u, err := s.Resume(in.ID)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := u.Write(d); err != nil || !u.Done() {
				t.Error("an upload beside the readers did not complete", err)
			}
			s.List()
		})
	}
	wg.Wait()
}

// Accident: the sums file of a part grew garbage past what the file can
// have (a damaged disk, a hostile directory): the resume still works,
// and the garbage is cut off.
func TestOverlongSumsOnResume(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, roomy)
	data := content(14, 2*ChunkSize+1)
	info := declare(t, s, "bob", "x", data)
	u, _ := s.Resume(info.ID)
	u.Write(data[:ChunkSize+10])
	u.Close()
	f, _ := os.OpenFile(filepath.Join(dir, info.ID+".sums"), os.O_WRONLY|os.O_APPEND, 0)
	f.Write(bytes.Repeat([]byte{0xee}, 4096))
	f.Close()
	u, err := s.Resume(info.ID)
	if err != nil || u.Offset() != ChunkSize {
		t.Fatalf("Resume over an overlong sums file: %v, at %d", err, u.Offset())
	}
	upload(t, u, data)
	if got := readAll(t, s, info.ID, 0); !bytes.Equal(got, data) {
		t.Fatal("not the file offered")
	}
}

// The room's fields and the upload's token are kept with the file and
// given back, the same, after a restart; Declare makes the token (a
// fresh secret for each file) and refuses room fields a state directory
// could not hold.
func TestRoomFieldsKept(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, roomy)
	data := content(3, 1000)
	offer := Info{Owner: "key:SHA256:abc", Name: "map.png", Size: int64(len(data)), SHA256: sha256.Sum256(data),
		Number: 7, From: "bob", FromKey: "SHA256:abc", To: "ann", ToKey: "SHA256:def"}
	a, err := s.Declare(offer)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Declare(offer)
	if err != nil {
		t.Fatal(err)
	}
	if !ValidID(a.Token) || a.Token == b.Token || a.Token == a.ID {
		t.Fatalf("tokens %q and %q (ids %q, %q)", a.Token, b.Token, a.ID, b.ID)
	}
	got, ok := openStore(t, dir, roomy).Get(a.ID)
	if !ok || got.Number != 7 || got.From != "bob" || got.FromKey != "SHA256:abc" || got.To != "ann" || got.ToKey != "SHA256:def" ||
		got.Token != a.Token || got.Owner != offer.Owner {
		t.Fatalf("reopened as %+v, declared as %+v", got, a)
	}
	for _, bad := range []Info{
		{Number: -1}, {Number: MaxNumber + 1}, {From: "bob\x1b[2J"}, {To: "ann\u202e"},
		{FromKey: "SHA256:a b"}, {ToKey: strings.Repeat("k", MaxKeyBytes+1)}, {From: "\xff"},
	} {
		bad.Owner, bad.Name, bad.Size = "bob", "x", 1
		if _, err := s.Declare(bad); !errors.Is(err, ErrBadOffer) {
			t.Errorf("Declare(%+v): %v", bad, err)
		}
	}
}

// Whether the room has shown a complete file is kept across a restart
// (ID.shown), so that one the host was killed before showing is shown
// when it starts again; a file whose metadata is of the version before
// that was kept counts as shown once complete, as it was then.
func TestShownKept(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, roomy)
	data := content(5, 3*ChunkSize/2)
	info := declare(t, s, "key:a", "shown.bin", data)
	u, err := s.Resume(info.ID)
	if err != nil {
		t.Fatal(err)
	}
	upload(t, u, data)
	if got, _ := s.Get(info.ID); !got.Complete || got.Shown {
		t.Fatalf("after the upload: %+v; want complete, not shown", got)
	}
	if got, _ := openStore(t, dir, roomy).Get(info.ID); !got.Complete || got.Shown {
		t.Fatalf("reopened before it was shown: %+v; want complete, not shown", got)
	}
	if err := s.MarkShown(info.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := openStore(t, dir, roomy).Get(info.ID); !got.Shown {
		t.Fatalf("reopened after MarkShown: %+v; want shown", got)
	}

	// Of version 2, with no ID.shown: shown, as every complete file was.
	os.Remove(filepath.Join(dir, info.ID+".shown"))
	meta, err := os.ReadFile(filepath.Join(dir, info.ID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	old := bytes.Replace(meta, []byte(`"version":3`), []byte(`"version":2`), 1)
	if bytes.Equal(old, meta) {
		t.Fatalf("no version 3 in %s", meta)
	}
	if err := os.WriteFile(filepath.Join(dir, info.ID+".json"), old, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _ := openStore(t, dir, roomy).Get(info.ID); !got.Complete || !got.Shown {
		t.Fatalf("of version 2: %+v; want complete and shown", got)
	}

	if err := s.MarkShown("0123456789abcdef0123456789abcdef"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("MarkShown of no such file: %v", err)
	}
}
