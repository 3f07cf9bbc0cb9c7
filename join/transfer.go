package join

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"chatroom/host/wire"
)

// # Transfers
//
// Each upload and fetch runs on a goroutine of its own (transferRun.run),
// over connections of its own to the room: a new one from the client's
// Dialer for each try (TLS to the room's address, its key pinned, the
// person's identity shown; or the host's in-process pipe), whose first
// frame is "upload" or "fetch" (see host/wire/files.go). It tells the UI
// how it goes (UI.Transfer) and the owner only how it ended (fileNews);
// it holds nothing of the client's.
//
// A break (the network, the host restarting) is retried, with backoff,
// from where the host's copy or the local part ends, until
// transferPatience has passed without a byte moving. What a try cannot
// mend (a refusal, a file that changed, a hash that does not match, a
// host that does what no host does) ends the transfer.

const (
	// transferBuffer is the size of a transfer's reads and writes: large,
	// so that a fast LAN is not held back by system calls.
	transferBuffer = 1 << 20
	// progressEvery is how often, at most, a transfer tells the UI how
	// far it is (4 times a second).
	progressEvery = 250 * time.Millisecond
	// rateWindow is how far back the rate shown looks.
	rateWindow = 3 * time.Second
	// transferStall bounds a wait for the host on a transfer connection:
	// its first answer, each read or write of the data. A host that
	// moves nothing for that long is taken as gone; the try is broken.
	transferStall = 30 * time.Second
	// storedWait bounds the wait for "stored" once every byte is sent:
	// the host checks the whole file's sha256 first.
	storedWait = 2 * time.Minute
	// transferPatience bounds the tries after a break: past it without a
	// byte moving, the transfer gives up.
	transferPatience = 10 * time.Minute
	// maxTransferFrame bounds a frame on a transfer connection (a
	// "ready", a "stored", a "refused" with its line of text).
	maxTransferFrame = 64 << 10
	// endWait bounds the wait, after a fetch's last byte, for the host to
	// close the connection, as it does: bytes past the file's size are a
	// host that does what no host does.
	endWait = 2 * time.Second
)

// transferBackoff is the wait before each try after a break.
var transferBackoff = Backoff{Initial: time.Second, Max: 30 * time.Second}

// transferRun is one upload or fetch, on its goroutine.
type transferRun struct {
	key  int
	up   bool
	file wire.File // Name, Size, SHA256, ID (and Token to upload)
	path string    // up: the file sent
	dir  string    // a fetch: where it lands
	// dial is the Dialer to reach the room by now (the client's, which
	// reconnecting may change).
	dial func() Dialer
	ui   UI
	// sleep waits between tries; nil is a timer (tests wait not).
	sleep func(ctx context.Context, d time.Duration) error
	// freeSpace says how many bytes are free in a directory; nil is
	// freeSpace (tests stand for a full disk).
	freeSpace func(dir string) int64
	news      chan<- fileNews
	act       *fileAction // handed back in the news, never touched here

	done atomic.Int64 // bytes through, for the owner's word when cut short
	// whole: the host had the whole upload already when the last try
	// began (an earlier run's, stored before it read "stored"), and so
	// announced it then.
	whole bool
	ended chan struct{} // closed when run returns

	rate rateMeter
	last time.Time // when the UI was last told of progress
}

// refusal is a try that cannot be mended by trying again: it ends the
// transfer with its words. gone is the host no longer having the file.
type refusal struct {
	text string
	gone bool
	code string // the host's "refused" code, if it was one
}

func (e *refusal) Error() string { return e.text }

func refusef(format string, args ...any) error {
	return &refusal{text: fmt.Sprintf(format, args...)}
}

// run moves the file, trying again after breaks, and tells the owner how
// it ended; not when ctx ended, which is the owner ending it.
func (r *transferRun) run(ctx context.Context) {
	defer close(r.ended)
	r.tell(Waiting, "")
	var path string
	var err error
	if r.up {
		err = r.tries(ctx, r.uploadOnce)
	} else {
		err = r.tries(ctx, func(ctx context.Context) error {
			var err error
			path, err = r.fetchOnce(ctx)
			return err
		})
	}
	if ctx.Err() != nil {
		return
	}
	n := fileNews{act: r.act, ok: err == nil, path: path, err: err, whole: r.whole}
	var ref *refusal
	if errors.As(err, &ref) && ref.gone {
		n.gone = true
	}
	switch {
	case err == nil && r.up:
		r.tellPath(Finished, "", r.path)
	case err == nil:
		r.tellPath(Finished, "", path)
	case n.gone && r.act != nil && r.act.resumed:
		// The owner offers it anew: not a failure the person sees.
	default:
		r.tell(Failed, InWords(err))
	}
	r.news <- n
}

// tries runs once until it succeeds or refuses, waiting after each break
// as transferBackoff says, until transferPatience passes with no byte
// moved.
func (r *transferRun) tries(ctx context.Context, once func(context.Context) error) error {
	sleep := r.sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	moved := time.Now()
	doneBefore := r.done.Load()
	for n := 0; ; n++ {
		err := once(ctx)
		if err == nil || ctx.Err() != nil {
			return err
		}
		var ref *refusal
		if errors.As(err, &ref) || keyError(err) || brokenRoom(err) != nil {
			return err
		}
		if d := r.done.Load(); d != doneBefore {
			moved, doneBefore, n = time.Now(), d, 0
		}
		wait := transferBackoff.delay(n, 0.5)
		if time.Since(moved)+wait > transferPatience {
			return fmt.Errorf("gave up after %s without progress: %s", roundDelay(transferPatience), InWords(err))
		}
		r.tell(Waiting, fmt.Sprintf("%s; trying again in %s", InWords(err), roundDelay(wait)))
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// tell gives the UI the transfer's state.
func (r *transferRun) tell(state TransferState, why string) {
	r.tellPath(state, why, "")
}

func (r *transferRun) tellPath(state TransferState, why, landed string) {
	t := Transfer{Key: r.key, File: r.file, Up: r.up, State: state, Done: r.done.Load(), Err: why, Path: r.path}
	t.File.ID, t.File.Token = "", "" // capabilities are no UI's business
	if state == Moving {
		t.Rate = r.rate.rate()
	}
	if !r.up {
		t.Path = filepath.Join(r.dir, partName(r.file))
	}
	if landed != "" {
		t.Path = landed
	}
	r.ui.Transfer(t)
}

// moved counts n more bytes through, and tells the UI, at most every
// progressEvery.
func (r *transferRun) moved(n int) {
	done := r.done.Add(int64(n))
	now := time.Now()
	r.rate.add(now, done)
	if now.Sub(r.last) >= progressEvery {
		r.last = now
		r.tell(Moving, "")
	}
}

// connect dials a transfer connection, sends first and reads the host's
// "ready". The connection closes when ctx ends.
func (r *transferRun) connect(ctx context.Context, first wire.Frame) (net.Conn, *wire.Decoder, int64, func(), error) {
	conn, err := r.dial()(ctx)
	if err != nil {
		return nil, nil, 0, nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	closeAll := func() { stop(); conn.Close() }
	msg, err := wire.Encode(&first)
	if err != nil {
		closeAll()
		return nil, nil, 0, nil, err
	}
	conn.SetDeadline(time.Now().Add(transferStall))
	if _, err := conn.Write(msg); err != nil {
		closeAll()
		return nil, nil, 0, nil, err
	}
	dec := wire.NewDecoder(conn, maxTransferFrame)
	f, err := dec.Decode()
	if err != nil {
		closeAll()
		return nil, nil, 0, nil, frameError(err)
	}
	switch f.Type {
	case wire.TypeReady:
	case wire.TypeRefused:
		closeAll()
		return nil, nil, 0, nil, hostRefusal(f)
	default:
		closeAll()
		return nil, nil, 0, nil, refusef("the host answered the %s with a %q frame", first.Type, Sanitize(f.Type))
	}
	if f.Offset < 0 || f.Offset > r.file.Size {
		closeAll()
		return nil, nil, 0, nil, refusef("the host would go on from byte %d of %s, which has %d", f.Offset, Sanitize(r.file.Name), r.file.Size)
	}
	conn.SetDeadline(time.Time{})
	return conn, dec, f.Offset, closeAll, nil
}

// frameError is what reading a frame on a transfer connection met: an
// unreadable frame is a host that does what no host does; the rest is a
// break.
func frameError(err error) error {
	var werr *wire.Error
	if errors.As(err, &werr) {
		return refusef("the host sent a frame that cannot be read (%s)", Sanitize(werr.Msg))
	}
	if errors.Is(err, io.EOF) {
		return errors.New("the host closed the connection")
	}
	return err
}

// hostRefusal is a "refused" frame: the host's own words (shown
// sanitized by the UI), or its code. All but a busy host's end the
// transfer.
func hostRefusal(f wire.Frame) error {
	text := f.Text
	if text == "" {
		text = "the host refused the transfer (" + f.Code + ")"
	}
	if f.Code == wire.CodeTooMany {
		// Busy with other transfers (the host bounds them, by address
		// too): a break, tried again after a wait.
		return errors.New(text)
	}
	return &refusal{text: text, gone: f.Code == wire.CodeNotFound, code: cmp.Or(f.Code, "refused")}
}

// uploadOnce is one try at the upload: from the offset the host says to
// the end, then its "stored".
func (r *transferRun) uploadOnce(ctx context.Context) error {
	f, err := os.Open(r.path)
	if err != nil {
		return refusef("%s cannot be read (%s)", r.path, InWords(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != r.file.Size {
		return refusef("%s changed since it was offered (its size is not %d bytes now); offer it again", r.path, r.file.Size)
	}
	conn, dec, offset, closeConn, err := r.connect(ctx, wire.Frame{Type: wire.TypeUpload, File: &wire.File{ID: r.file.ID, Token: r.file.Token}})
	if err != nil {
		return err
	}
	defer closeConn()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return refusef("%s cannot be read (%s)", r.path, InWords(err))
	}
	r.done.Store(offset)
	r.whole = offset == r.file.Size
	r.rate.reset(time.Now(), offset)
	r.tell(Moving, "")
	buf := make([]byte, transferBuffer)
	for left := r.file.Size - offset; left > 0; {
		n, rerr := f.Read(buf[:min(int64(len(buf)), left)])
		if n > 0 {
			conn.SetWriteDeadline(time.Now().Add(transferStall))
			if _, err := conn.Write(buf[:n]); err != nil {
				return r.whyBroken(conn, dec, err)
			}
			left -= int64(n)
			r.moved(n)
		}
		if rerr == io.EOF && left > 0 {
			return refusef("%s changed since it was offered (it is shorter now); offer it again", r.path)
		}
		if rerr != nil && rerr != io.EOF {
			return refusef("%s cannot be read (%s)", r.path, InWords(rerr))
		}
	}
	r.tell(Moving, "")
	conn.SetReadDeadline(time.Now().Add(storedWait))
	ans, err := dec.Decode()
	if err != nil {
		return frameError(err)
	}
	switch ans.Type {
	case wire.TypeStored:
		return nil
	case wire.TypeRefused:
		return hostRefusal(ans)
	}
	return refusef("the host answered the upload with a %q frame", Sanitize(ans.Type))
}

// whyBroken is a write that failed: a host that refused the rest (its
// store full, the file taken back) says why in a frame before it closes;
// without one, the connection broke.
func (r *transferRun) whyBroken(conn net.Conn, dec *wire.Decoder, werr error) error {
	conn.SetReadDeadline(time.Now().Add(time.Second))
	if f, err := dec.Decode(); err == nil && f.Type == wire.TypeRefused {
		return hostRefusal(f)
	}
	return werr
}

// partName is the hidden file a fetch of f writes until it is checked:
// named from the file's name and sha256, so that a fetch of the same file
// into the same directory, in this run or a later one, goes on from it.
func partName(f wire.File) string {
	short := f.SHA256
	if len(short) > 8 {
		short = short[:8]
	}
	return "." + f.Name + "." + short + ".part"
}

// fetchOnce is one try at the fetch: from what the part holds to the end,
// then the check of the whole against the sha256 and the landing. It
// returns where the file landed.
func (r *transferRun) fetchOnce(ctx context.Context) (string, error) {
	partPath := filepath.Join(r.dir, partName(r.file))
	// The part is made only once the host is ready to send: a refusal,
	// or a host that does what no host does, leaves nothing behind.
	have := int64(0)
	if st, err := os.Lstat(partPath); err == nil {
		if !st.Mode().IsRegular() {
			return "", refusef("%s is in the way, and is not a file this client wrote; remove it and fetch again", partPath)
		}
		if st.Size() <= r.file.Size {
			have = st.Size() // else not a part of this file: start over
		}
	}
	freeSpaceOf := r.freeSpace
	if freeSpaceOf == nil {
		freeSpaceOf = freeSpace
	}
	if need, free := r.file.Size-have, freeSpaceOf(r.dir); free >= 0 && free < need {
		// Said before a byte comes, not half-way with a disk left full.
		return "", refusef("not enough room in %s for %s: it needs %s more, and %s is free", r.dir, Sanitize(r.file.Name), wire.FormatSize(need), wire.FormatSize(free))
	}
	conn, dec, offset, closeConn, err := r.connect(ctx, wire.Frame{Type: wire.TypeFetch, File: &wire.File{ID: r.file.ID}, Offset: have})
	var ref *refusal
	if errors.As(err, &ref) && ref.code != "" {
		// The host's copy is gone, or not this file: what was fetched of
		// it is of no use.
		os.Remove(partPath)
	}
	if err != nil {
		return "", err
	}
	defer closeConn()
	if offset > have {
		// The host would send from past what is here: the bytes between
		// would be missing, or a hostile host would have them be
		// whatever the part held.
		return "", refusef("the host would send %s from byte %d, but only %d are here", Sanitize(r.file.Name), offset, have)
	}
	part, err := os.OpenFile(partPath, os.O_RDWR|os.O_CREATE|openNoFollow, 0o600)
	if err != nil {
		return "", refusef("%s cannot be written (%s)", partPath, InWords(err))
	}
	defer part.Close()
	if err := part.Truncate(offset); err != nil {
		return "", refusef("%s cannot be written (%s)", partPath, InWords(err))
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(part, 0, offset)); err != nil {
		return "", refusef("%s cannot be read (%s)", partPath, InWords(err))
	}
	if _, err := part.Seek(offset, io.SeekStart); err != nil {
		return "", refusef("%s cannot be read (%s)", partPath, InWords(err))
	}
	r.done.Store(offset)
	r.rate.reset(time.Now(), offset)
	r.tell(Moving, "")
	data := dec.Rest()
	buf := make([]byte, transferBuffer)
	for left := r.file.Size - offset; left > 0; {
		conn.SetReadDeadline(time.Now().Add(transferStall))
		n, rerr := data.Read(buf[:min(int64(len(buf)), left)])
		if n > 0 {
			if _, err := part.Write(buf[:n]); err != nil {
				return "", refusef("%s cannot be written (%s)", partPath, InWords(err))
			}
			h.Write(buf[:n])
			left -= int64(n)
			r.moved(n)
		}
		if rerr != nil && left > 0 {
			if rerr == io.EOF {
				return "", fmt.Errorf("the host closed the connection at %s of %s", wire.FormatSize(r.done.Load()), wire.FormatSize(r.file.Size))
			}
			return "", rerr
		}
	}
	r.tell(Moving, "")
	// The host closes once the file is sent: more is a host sending what
	// is not the file (to fill the disk, or to have it taken as part of
	// it). The part is not kept.
	conn.SetReadDeadline(time.Now().Add(endWait))
	if n, _ := data.Read(buf[:1]); n > 0 {
		part.Close()
		os.Remove(partPath)
		return "", refusef("the host sent more than the %d bytes of %s: not kept", r.file.Size, Sanitize(r.file.Name))
	}
	if err := part.Sync(); err != nil {
		return "", refusef("%s cannot be written (%s)", partPath, InWords(err))
	}
	part.Close()
	if sum := hex.EncodeToString(h.Sum(nil)); sum != r.file.SHA256 {
		os.Remove(partPath)
		return "", refusef("%s did not match its sha256: deleted, fetch it again", Sanitize(r.file.Name))
	}
	// freeName makes the file exclusively, under a name no file has; the
	// part, checked, is renamed over that placeholder: nothing that was
	// there is overwritten.
	landed, err := freeName(r.dir, r.file.Name)
	if err != nil {
		return "", refusef("%s cannot be put in %s (%s); it is kept as %s", Sanitize(r.file.Name), r.dir, InWords(err), partPath)
	}
	landed.Close()
	if err := os.Rename(partPath, landed.Name()); err != nil {
		os.Remove(landed.Name())
		return "", refusef("%s cannot be put in %s (%s); it is kept as %s", Sanitize(r.file.Name), r.dir, InWords(err), partPath)
	}
	return landed.Name(), nil
}

// rateMeter is the rate of a transfer over the last rateWindow.
type rateMeter struct {
	samples []rateSample
}

type rateSample struct {
	at   time.Time
	done int64
}

func (m *rateMeter) reset(now time.Time, done int64) {
	m.samples = append(m.samples[:0], rateSample{now, done})
}

func (m *rateMeter) add(now time.Time, done int64) {
	s := rateSample{now, done}
	if n := len(m.samples); n > 1 && now.Sub(m.samples[n-1].at) < 50*time.Millisecond {
		m.samples[n-1] = s // samples 50 ms apart at least: a few dozen at most
		return
	}
	m.samples = append(m.samples, s)
	for len(m.samples) > 2 && now.Sub(m.samples[1].at) > rateWindow {
		m.samples = m.samples[1:]
	}
}

// rate is the bytes a second between the oldest sample and the newest; 0
// while unknown.
func (m *rateMeter) rate() float64 {
	if len(m.samples) < 2 {
		return 0
	}
	first, last := m.samples[0], m.samples[len(m.samples)-1]
	d := last.at.Sub(first.at).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(last.done-first.done) / d
}
