package host

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"chatroom/host/files"
	"chatroom/host/room"
	"chatroom/host/wire"
)

// # Transfer connections
//
// A file's bytes move on connections of their own, so that the room's chat
// never waits behind a file (see Files in host/wire/files.go). Such a
// connection comes in as a member's does, on the same listener with the
// same TLS, and its first frame, "upload" or "fetch" instead of "hello",
// makes it a transfer: it leaves the pending connections as a hello does
// (having had the same handshake deadline to say it), stays counted in
// its address's connections, and is counted among the transfers, which
// are bounded apart (maxTransfers, maxTransfersPerAddr) so that files
// cannot take the members' places. It never joins the room: it moves one
// file, on the goroutine that read its first frame, and ends.
//
// The capabilities are the room's: a file's ID lets whoever holds it fetch
// it (the room gives it only to members who may), and its Token lets its
// offerer upload it. Neither is tied to a connection's identity, so that a
// member whose key changed, or the owner's in-process client, can use
// them as well; a wrong token is answered exactly as a missing file, since
// guessing is the only attack on them.

// Transfer limits. One person fetches a few files at once and uploads one
// or two: 8 per address leaves that and the member connections room within
// the 16 connections an address may have. 64 in all, each moving at disk
// or network speed, is more than a LAN host's disk or network can feed
// with anything to spare.
const (
	defaultMaxTransfers        = 64
	defaultMaxTransfersPerAddr = 8
	// defaultTransferSilence is how long a transfer may take to move one
	// piece (fetchBuffer or uploadBuffer) before the host ends it: a
	// stalled network, a peer that stopped, or one that trickles to hold
	// its place. The peer resumes on a new connection.
	defaultTransferSilence = 30 * time.Second
	// uploadBuffer and fetchBuffer are how much a transfer moves at once
	// (see pipeline). An upload's store writes to disk, hashes and syncs:
	// larger pieces there cost fewer system calls (at 64 KiB, uploads ran
	// at 0.60-0.66 of a plain copy, at 256 KiB 0.71-0.79). A fetch's
	// pieces are where its pipeline's two goroutines hand over, which
	// costs a thread switch now that its network side runs at a low
	// priority (see goBackground): at 64 KiB a fetch ran at 0.81 of a
	// plain copy, at 128 KiB 0.90-0.93, at 256 KiB 1.03, while chat's p99
	// beside an unpaced fetch was 1.17-1.34, 1.27-1.28 and 1.33-1.78 ×
	// the idle room's, the fetch's thread at nice 10 (BenchmarkTransfer
	// and BenchmarkChatDuringTransfer, 2026-12-02).
	uploadBuffer = 256 << 10
	fetchBuffer  = 128 << 10
	// takeoverWait bounds how long a new upload of a file waits for the
	// one it replaces (see takeOver) to let the file go.
	takeoverWait = 5 * time.Second
)

// upload is an upload running on a transfer connection, in server.uploads
// under its file's id.
type upload struct {
	conn net.Conn
	done chan struct{} // closed once it let the file go
}

// beginTransfer moves a connection whose first frame was "upload" or
// "fetch" from the pending ones to the transfers, or returns the refusal
// to send when there are too many (nil, false for a connection that was
// pushed out of pending meanwhile: it is closed already).
func (s *server) beginTransfer(conn net.Conn, identity string) (meter *transferMeter, refusal *wire.Frame, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.conns[conn]
	if !st.owner {
		if st.pending == nil {
			return nil, nil, false
		}
		s.unpend(st)
	}
	now := time.Now()
	switch {
	case s.noTransfers:
		return nil, &wire.Frame{Type: wire.TypeRefused, Code: wire.CodeRoomClosed, Text: "the room is closing"}, false
	case s.files == nil:
		return nil, &wire.Frame{Type: wire.TypeRefused, Code: wire.CodeNotFound, Text: "this room does not take files"}, false
	case st.owner:
		// The person running the host counts in no limit, as its member
		// connection does not.
		st.transfer = true
		return nil, nil, true
	case s.transfersPerAddr[st.addr] >= s.maxTransfersPerAddr:
		return nil, &wire.Frame{Type: wire.TypeRefused, Code: wire.CodeTooMany,
			Text: fmt.Sprintf("your address has %d transfers running, the most the host takes from one; wait for one to end", s.transfersPerAddr[st.addr])}, false
	case s.transfers >= s.maxTransfers && !s.cutSlowest(now):
		return nil, &wire.Frame{Type: wire.TypeRefused, Code: wire.CodeTooMany,
			Text: fmt.Sprintf("the host is moving %d files already, the most it moves at once; try again in a moment", s.transfers)}, false
	}
	st.transfer = true
	st.identity = identity
	st.meter = newTransferMeter(now, s.slowWindow)
	s.transfers++
	s.transfersPerAddr[st.addr]++
	return st.meter, nil, true
}

// cutSlowest ends the transfer that moved least over the last slowWindow,
// if that was below slowRate, and counts it out, so that a newcomer may
// take its place (see transfermeter.go). It reports whether it ended one.
// Called with s.mu held.
func (s *server) cutSlowest(now time.Time) bool {
	var slowest net.Conn
	least := s.slowRate
	for c, st := range s.conns {
		if !st.transfer || st.meter == nil {
			continue
		}
		if rate, ok := st.meter.rate(now); ok && rate < least {
			slowest, least = c, rate
		}
	}
	if slowest == nil {
		return false
	}
	s.log.Info("a transfer too slow to keep its place gave it to another", "addr", s.conns[slowest].addr, "bytes-per-second", int(least))
	s.cutTransfer(slowest)
	return true
}

// cutTransfer ends a transfer at once and counts it out. It is reset, not
// closed: what the kernel still holds for a peer is dropped, not trickled
// to it. Called with s.mu held.
func (s *server) cutTransfer(conn net.Conn) {
	if tc, ok := conn.(*tls.Conn); ok {
		if tcp, ok := tc.NetConn().(*net.TCPConn); ok {
			tcp.SetLinger(0)
		}
	}
	abort(conn)
	s.endTransfer(s.conns[conn])
}

// endBannedTransfers ends the running transfers of whoever the room bans,
// each time its bans change (a signal on changed), until the host closes:
// a ban is checked as a transfer starts, and a fetch of a large file, or
// an upload, would otherwise go on to its end.
func (s *server) endBannedTransfers(changed <-chan struct{}) {
	type running struct {
		conn           net.Conn
		identity, addr string
	}
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-changed:
		}
		var check []running
		s.mu.Lock()
		for c, st := range s.conns {
			if st.transfer && !st.owner {
				check = append(check, running{c, st.identity, st.addr})
			}
		}
		s.mu.Unlock()
		for _, t := range check {
			banned, err := s.room.BannedFromFiles(s.ctx, t.identity, t.addr)
			if err != nil {
				return // the host is closing
			}
			if !banned {
				continue
			}
			s.mu.Lock()
			if st := s.conns[t.conn]; st != nil && st.transfer {
				s.log.Info("a banned member's transfer was ended", "addr", t.addr)
				s.cutTransfer(t.conn)
			}
			s.mu.Unlock()
		}
	}
}

// bansWatched is the room's store, with a signal on changed (dropped when
// one is already waiting) each time the bans change.
type bansWatched struct {
	room.Store
	changed chan<- struct{}
}

func (b bansWatched) SaveBans(bans []room.Ban) error {
	err := b.Store.SaveBans(bans)
	select {
	case b.changed <- struct{}{}:
	default:
	}
	return err
}

// endTransfer counts a transfer out, once. Called with s.mu held.
func (s *server) endTransfer(st *connState) {
	if !st.transfer {
		return
	}
	st.transfer = false
	if st.owner {
		return
	}
	s.transfers--
	if s.transfersPerAddr[st.addr]--; s.transfersPerAddr[st.addr] == 0 {
		delete(s.transfersPerAddr, st.addr)
	}
}

// stopTransfers ends every transfer and lets none start, for a host that
// is closing: a transfer that stored its file after the room stopped
// could not have the room announce it. Uploads keep what they wrote, and
// both kinds resume after the restart.
func (s *server) stopTransfers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noTransfers = true
	for c, st := range s.conns {
		if st.transfer {
			abort(c)
		}
	}
}

// transfer serves a transfer connection whose first frame is first, to
// its end. The connection is closed after.
func (c *memberConn) transfer(first wire.Frame) {
	s := c.server
	meter, refusal, ok := s.beginTransfer(c.conn, c.peer.identity)
	if !ok {
		if refusal != nil {
			writeFrame(c.conn, refusal)
		}
		return
	}
	c.conn.SetDeadline(time.Time{})
	t := &transferConn{server: s, conn: c.conn, peer: c.peer, silence: s.transferSilence, meter: meter}
	if first.File == nil || !files.ValidID(first.File.ID) {
		t.refuse(wire.CodeNotFound, noSuchFile)
		return
	}
	if !t.peer.owner {
		banned, err := s.room.BannedFromFiles(s.ctx, t.peer.identity, t.peer.addr)
		if err != nil {
			return // the host is closing
		}
		if banned {
			t.refuse(wire.CodeBanned, "you are banned from this room, and so from its files")
			return
		}
	}
	if first.Type == wire.TypeUpload {
		t.upload(first.File.ID, first.File.Token, c.dec.Rest())
	} else {
		t.fetch(first.File.ID, first.Offset)
	}
}

// noSuchFile is the refusal for a file that is not there, and for a wrong
// token: the two are told apart by no one.
const noSuchFile = "there is no such file on offer: it was taken back or expired"

// transferConn is one transfer connection past its first frame.
type transferConn struct {
	server  *server
	conn    net.Conn
	peer    peer
	silence time.Duration
	stopped atomic.Bool    // receive's store side has failed: fill reads no more
	meter   *transferMeter // nil for the owner's
}

// moved counts n bytes moved, for the meter.
func (t *transferConn) moved(n int) {
	if t.meter != nil && n > 0 {
		t.meter.add(time.Now(), n)
	}
}

// refuse ends the transfer with a "refused" frame, then reads (and throws
// away) what the peer is still sending for a moment before closing, so
// that the refusal is not lost to the reset that closing a socket with
// unread bytes in it sends.
func (t *transferConn) refuse(code, text string) {
	writeFrame(t.conn, &wire.Frame{Type: wire.TypeRefused, Code: code, Text: text})
	t.linger()
}

// done counts the transfer out while its connection lingers: what it was
// for is over, and a peer slow to close must not hold the place of the
// next.
func (t *transferConn) done() {
	s := t.server
	s.mu.Lock()
	if st := s.conns[t.conn]; st != nil {
		s.endTransfer(st)
	}
	s.mu.Unlock()
}

// linger shuts the writing side and reads what comes for lingerTimeout
// at most, so that the last frame or byte reaches a peer that reads it.
func (t *transferConn) linger() {
	t.done()
	closeWrite(t.conn)
	t.conn.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.Copy(io.Discard, io.LimitReader(t.conn, maxLinger))
}

// checkToken compares an upload's token with the file's, in constant time
// whatever their lengths (hashing first, as checkPassword does).
func checkToken(got, want string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1 && want != ""
}

// upload takes the file id's data from r (what follows the first frame),
// from where its stored part ends to its last byte.
func (t *transferConn) upload(id, token string, r io.Reader) {
	s := t.server
	store := s.files.store
	info, ok := store.Get(id)
	if !checkToken(token, info.Token) || !ok {
		t.refuse(wire.CodeNotFound, noSuchFile)
		return
	}
	u, err := t.takeOver(id)
	if info.Complete || errors.Is(err, files.ErrComplete) {
		// The upload ended before its peer read "stored" (a break just
		// then), or another connection of it just finished: nothing is
		// missing, and the room knows it already.
		writeFrame(t.conn, &wire.Frame{Type: wire.TypeReady, Offset: info.Size})
		writeFrame(t.conn, &wire.Frame{Type: wire.TypeStored})
		t.linger()
		return
	}
	if err != nil {
		t.uploadFailed(id, err)
		return
	}
	mine := &upload{conn: t.conn, done: make(chan struct{})}
	s.mu.Lock()
	s.uploads[id] = mine
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.uploads[id] == mine {
			delete(s.uploads, id)
		}
		s.mu.Unlock()
		close(mine.done)
	}()
	if d := u.Damage(); d != nil {
		s.log.Warn("an offered file's stored part was damaged on disk; its upload goes on from before the damage", "id", id, "err", d)
	}
	// A part found whole on resume (a break between its last byte and
	// the host's answer) is complete at once: there is nothing to send.
	if !u.Done() {
		if !t.ready(u.Offset()) {
			u.Close()
			return
		}
		err = t.receive(u, r)
		if !u.Done() {
			u.Close()
			t.uploadFailed(id, err)
			return
		}
	} else if !t.ready(u.Offset()) {
		s.room.FileStored(id)
		return
	}
	writeFrame(t.conn, &wire.Frame{Type: wire.TypeStored})
	s.room.FileStored(id)
	t.linger()
}

// ready writes the "ready" frame that starts the data, and reports whether
// it went out.
func (t *transferConn) ready(offset int64) bool {
	b, _ := wire.Encode(&wire.Frame{Type: wire.TypeReady, Offset: offset})
	t.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := t.conn.Write(b)
	return err == nil
}

// takeOver opens the upload of id. When another upload of it is running,
// it is ended first: only the file's offerer has the token, and one that
// comes again has lost the connection that upload runs on (which may
// take the silence to notice), so the new one has it.
func (t *transferConn) takeOver(id string) (*files.Upload, error) {
	s := t.server
	deadline := time.Now().Add(takeoverWait)
	for {
		u, err := s.files.store.Resume(id)
		if !errors.Is(err, files.ErrBusy) {
			return u, err
		}
		s.mu.Lock()
		old := s.uploads[id]
		s.mu.Unlock()
		if old == nil {
			// Between its Resume and its entry in uploads, or after its
			// end: a moment's wait.
			if time.Now().After(deadline) {
				return nil, err
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		abort(old.conn)
		select {
		case <-old.done:
		case <-time.After(time.Until(deadline)):
			return nil, err
		}
	}
}

// uploadFailed tells the uploader why its upload ended, where it can be
// told: a file that did not match its sha256 is gone, and so is the room's
// offer of it.
func (t *transferConn) uploadFailed(id string, err error) {
	s := t.server
	switch {
	case errors.Is(err, files.ErrMismatch):
		s.log.Info("an offered file did not match its sha256, and was removed", "id", id, "addr", t.peer.addr)
		s.room.FileGone(id, wire.CodeMismatch)
		t.refuse(wire.CodeMismatch, err.Error())
	case errors.Is(err, files.ErrTooLong):
		t.refuse(wire.CodeUnexpected, err.Error()+": the upload goes on from the offset the host says, with the file's own bytes only")
	case errors.Is(err, files.ErrBusy):
		t.refuse(wire.CodeTooMany, "the file is being uploaded on another connection, which would not let it go; try again in a moment")
	case errors.Is(err, files.ErrNotFound), errors.Is(err, files.ErrRemoved):
		t.refuse(wire.CodeNotFound, noSuchFile)
	case err == nil:
		// Ended without an error and without the file: the upload was
		// closed under it (a Remove). Nothing to say.
	case errors.Is(err, errSilent), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		// A peer gone or stalled hears nothing; it resumes on a new
		// connection from what is stored.
		s.log.Debug("upload broken", "id", id, "addr", t.peer.addr, "err", err)
	default:
		var ne net.Error
		if errors.As(err, &ne) {
			s.log.Debug("upload broken", "id", id, "addr", t.peer.addr, "err", err)
			return
		}
		// The host's disk (full, failing): the upload can resume once
		// there is room.
		s.log.Warn("an upload failed on the host's side", "id", id, "err", err)
		t.refuse(wire.CodeUnexpected, "the host could not store the file: "+err.Error())
	}
}

// errSilent ends a transfer whose peer sent nothing for the silence.
var errSilent = errors.New("the transfer was silent for too long")

// receive copies the file's bytes from r into u until its last byte,
// which the store checks against the sha256. The network is read on a
// goroutine of its own while the store writes (and hashes, and syncs)
// what came before, so that the two take turns with neither waiting for
// the other (see pipeline). It never takes more than the file's size: a
// read that brings more is refused whole, before any of it is written
// (files.ErrTooLong).
func (t *transferConn) receive(u *files.Upload, r io.Reader) error {
	left := u.Info().Size - u.Offset()
	fill := func(b []byte) (int, error) {
		if left == 0 {
			return 0, io.EOF
		}
		// One byte more than is left, to catch a peer that sends more
		// than it declared without waiting for it.
		n, err := t.fill(r, b[:min(int64(len(b)), left+1)], int(min(int64(len(b)), left)))
		if int64(n) > left {
			return 0, fmt.Errorf("%s was offered as %d bytes, and more came: %w", u.Info().Name, u.Info().Size, files.ErrTooLong)
		}
		left -= int64(n)
		if err != nil && left == 0 {
			err = nil // the peer closed after its last byte: all is in
		}
		return n, err
	}
	drain := func(b []byte) error {
		_, err := u.Write(b)
		return err
	}
	// A read waiting for the network is woken by a deadline in the past;
	// one about to start sees stopped after setting its own deadline.
	stop := func() {
		t.stopped.Store(true)
		t.conn.SetReadDeadline(time.Now())
	}
	err := pipeline(&uploadBuffers, fill, drain, stop)
	if err == io.EOF {
		err = nil
	}
	return err
}

// pipelineBuffers is how many buffers a transfer's pipeline moves data
// in: while one is written out, the others are filled.
const pipelineBuffers = 4

// pipeline moves bytes from fill to drain, a buffer at a time, with fill
// running on a goroutine of its own up to pipelineBuffers ahead: one side
// of a transfer is the network (TLS's decryption or encryption), the
// other the store (its hashes, its disk), and on a machine with two cores
// each can have one. fill returns what it read and an error (io.EOF at
// the end), drain gives the first error that ends the transfer. When
// drain fails, stop is called to wake a fill waiting for its source, and
// pipeline returns once fill has stopped. It returns the first error of
// either side, io.EOF for none. Its buffers come from buffers (*[]byte
// of one size: uploadBuffers or fetchBuffers) and go back there.
func pipeline(buffers *sync.Pool, fill func([]byte) (int, error), drain func([]byte) error, stop func()) error {
	free := make(chan []byte, pipelineBuffers)
	full := make(chan piece, pipelineBuffers)
	quit := make(chan struct{})
	for range pipelineBuffers {
		free <- *buffers.Get().(*[]byte)
	}
	defer func() {
		// Every buffer is back once fill has stopped and the pieces are
		// taken: those in free are all of them.
		for range pipelineBuffers {
			b := <-free
			buffers.Put(&b)
		}
	}()
	go func() {
		defer close(full)
		for {
			var b []byte
			select {
			case <-quit:
				return
			default:
			}
			select {
			case b = <-free:
			case <-quit:
				return
			}
			n, err := fill(b)
			full <- piece{b[:n], err} // never blocks: a piece per buffer
			runtime.Gosched()
			if err != nil {
				return
			}
		}
	}()
	// The drain side is the heavy one, which seldom waits: a fetch's
	// encryption, an upload's sha256 and disk. It runs at a transfer's
	// low priority (goBackground), so that chat goes first when the
	// cores are busy; the fill side, which waits for the network or the
	// disk at every piece, runs as any goroutine (a goroutine at the low
	// priority has a thread to itself, and each wait costs it two thread
	// switches).
	result := make(chan error, 1)
	goBackground(func() { result <- drainPieces(full, free, quit, drain, stop) })
	return <-result
}

// piece is a buffer that pipeline's fill filled, and its error.
type piece struct {
	b   []byte
	err error
}

// drainPieces is pipeline's drain side: it hands each piece from full to
// drain and its buffer back to free, until full closes or either side
// fails; then it closes quit, calls stop, and takes back every buffer.
func drainPieces(full chan piece, free chan []byte, quit chan struct{}, drain func([]byte) error, stop func()) error {
	var err error
	for p := range full {
		if len(p.b) > 0 {
			err = drain(p.b)
		}
		if err == nil {
			err = p.err
		}
		if err != nil {
			close(quit)
			stop()
			free <- p.b[:cap(p.b)]
			for p := range full {
				free <- p.b[:cap(p.b)]
			}
			return err
		}
		free <- p.b[:cap(p.b)]
		yieldToRoom()
	}
	return io.EOF
}

// uploadBuffers and fetchBuffers keep the pipelines' buffers (*[]byte)
// between transfers, so that a fetch after a fetch allocates nothing the
// collector must chase.
var (
	uploadBuffers = sync.Pool{New: func() any { b := make([]byte, uploadBuffer); return &b }}
	fetchBuffers  = sync.Pool{New: func() any { b := make([]byte, fetchBuffer); return &b }}
)

// fill reads into b until it holds at least want bytes or the reading
// fails. The piece has the silence to come in whole, not each read: a peer
// that sends a byte now and then, to hold a transfer's place for ever, is
// cut off as one that sends nothing (a piece of 256 KiB in 30 s is 9 kB/s,
// far below any LAN).
func (t *transferConn) fill(r io.Reader, b []byte, want int) (int, error) {
	n := 0
	t.conn.SetReadDeadline(time.Now().Add(t.silence))
	if t.stopped.Load() {
		return 0, errSilent
	}
	for n < want {
		m, err := r.Read(b[n:])
		n += m
		t.moved(m)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				err = errSilent
			}
			return n, err
		}
	}
	return n, nil
}

// fetch sends the complete file id from offset to its end, then closes.
// A file found damaged on the host's disk is removed, and the room told:
// what was sent of it stops short of its end, so the peer never takes it
// for whole (it checks the sha256 besides).
func (t *transferConn) fetch(id string, offset int64) {
	s := t.server
	rd, err := s.files.store.Reader(id)
	switch {
	case errors.Is(err, files.ErrDamaged):
		t.damaged(id, err)
		t.refuse(wire.CodeDamaged, err.Error()+"; it is no longer on offer")
		return
	case errors.Is(err, files.ErrIncomplete):
		t.refuse(wire.CodeNotFound, err.Error())
		return
	case err != nil:
		if !errors.Is(err, files.ErrNotFound) {
			s.log.Warn("an offered file could not be read", "id", id, "err", err)
		}
		t.refuse(wire.CodeNotFound, noSuchFile)
		return
	}
	defer rd.Close()
	size := rd.Info().Size
	if offset < 0 || offset > size {
		t.refuse(wire.CodeUnexpected, fmt.Sprintf("the offset %d is outside the file, which is %d bytes", offset, size))
		return
	}
	rd.Seek(offset, io.SeekStart)
	if !t.ready(offset) {
		return
	}
	sent := offset
	fill := func(b []byte) (int, error) {
		if sent == size {
			return 0, io.EOF
		}
		n, err := io.ReadFull(rd, b[:min(int64(len(b)), size-sent)])
		sent += int64(n)
		return n, err
	}
	var writeErr error
	drain := func(b []byte) error {
		// As in fill: the piece has the silence to go out whole, so that
		// a peer that reads a byte now and then is cut off.
		t.conn.SetWriteDeadline(time.Now().Add(t.silence))
		var n int
		n, writeErr = t.conn.Write(b)
		t.moved(n)
		return writeErr
	}
	// The store's reads are on disk and end by themselves.
	err = pipeline(&fetchBuffers, fill, drain, func() {})
	switch {
	case err == io.EOF:
	case writeErr != nil:
		s.log.Debug("fetch broken", "id", id, "addr", t.peer.addr, "err", err)
		return
	default:
		// Whatever it is (damage, a disk error), the peer must not get a
		// byte that was not checked: the connection is cut.
		abort(t.conn)
		if errors.Is(err, files.ErrDamaged) {
			t.damaged(id, err)
		} else {
			s.log.Warn("an offered file could not be read", "id", id, "err", err)
		}
		return
	}
	t.linger()
}

// damaged takes a file found damaged on the host's disk off offer.
func (t *transferConn) damaged(id string, err error) {
	s := t.server
	s.log.Warn("an offered file is damaged on the host's disk, and was removed", "id", id, "err", err)
	if s.files.store.Remove(id) == nil {
		s.room.FileGone(id, wire.CodeDamaged)
	}
}
