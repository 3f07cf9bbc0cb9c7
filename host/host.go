// Package host runs a chat room on the network: it keeps the room's state
// directory (TLS key, bans, moderation log, the history between a clean
// shutdown and the next start, and the room's journal while it runs, which
// carries the history over a crash, and the files members offer, in
// STATE/files: package host/files), listens for TLS connections, admits
// members into the room and carries their frames, and moves files in and
// out of the store on transfer connections of their own (transfer.go),
// which come in on the same listener.
//
// The room itself — who is in it, what they may do, the order of events —
// is package host/room, which does no I/O; the frames are package
// host/wire. The person who runs the host talks to the room through the
// same protocol as everyone else, over an in-process connection
// ([Host.DialOwner]), transfers included, so there is one way in and one
// set of rules.
package host

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"chatroom/host/room"
	"chatroom/host/statefile"
	"chatroom/host/wire"
)

// DefaultPort is where a room listens unless told otherwise.
const DefaultPort = 7465

// Config says how to run a room.
type Config struct {
	Name     string // the room's display name
	StateDir string // where the TLS key and the bans are kept

	// Listen is the TCP address to listen on. When empty, the room listens
	// on DefaultPort on every interface, or on any free port when that one
	// is taken (Host.PortTaken then reports it).
	Listen string

	// IRC is the TCP address to accept IRC clients on, over TLS with the
	// room's certificate (see package host/irc): each becomes a member.
	// "" accepts none; a taken port is an error (an IRCListenError), not
	// a move to another, since IRC clients are set up with the port.
	IRC string
	// IRCPlain is the address to accept IRC clients on without TLS, for
	// bots on this machine: Start refuses one that is not loopback (see
	// CheckIRCPlainAddr). "" accepts none.
	IRCPlain string

	// AdminPassword lets members join as admins with --admin; "" means
	// only the owner and those it makes admins are.
	AdminPassword string

	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger

	// Limits is how fast a member may send lines; zero means
	// room.DefaultLimits.
	Limits wire.Limits

	// TopicByAnyone lets every member who may speak set the room's topic;
	// without it only admins may.
	TopicByAnyone bool

	// MaxConnsPerAddr is how many connections one address may hold; zero
	// means 16. Half as many may be in their handshake at once (before
	// the hello). Load tests from one address raise it.
	MaxConnsPerAddr int

	// JoinLimits is how fast people may join (see room.JoinLimits); zero
	// fields mean room.DefaultJoinLimits'. Load tests from one address
	// raise them.
	JoinLimits room.JoinLimits

	// History is how many of the latest messages the room keeps for
	// members that resume and newcomers' backlog, and how many of the
	// latest joins, leaves and role changes, each bounded on its own (see
	// room.Config); 0 means 2000, negative none.
	// Backlog is how many of the latest messages a newcomer is sent; 0
	// means 50, negative none. (See room.Config.)
	History int
	Backlog int

	// Heartbeat is how long the host lets a member's connection be silent
	// before it sends a ping; a member from which nothing came for three
	// intervals is taken as gone. It is announced in the welcome, for
	// clients to do the same. 0 means 5 seconds; negative, no heartbeat.
	Heartbeat time.Duration

	// SyncEvery is how often the room's journal (journalFile) is synced
	// to disk: a host killed loses nothing of it, whatever this is, and a
	// power cut at most about this much of the latest events (after which
	// the room starts a new epoch, see takeHistory). 0 means
	// DefaultSyncEvery; negative, never: the system writes it out in its
	// own time (within half a minute, on Linux).
	SyncEvery time.Duration

	// Files bounds the files members offer, which the host keeps in
	// STATE/files (see FileLimits); Files.Off turns sharing off.
	Files FileLimits

	// withoutJournal runs the room with no journal, as it ran before it
	// had one, for the benchmark that compares the two.
	withoutJournal bool

	handshakeTimeout time.Duration // tests shorten it; 0 means the default
	// Tests lower the connection limits (see server.admit); 0 means the
	// default.
	maxMembers        int
	maxPending        int
	maxPendingPerAddr int
	// Tests lower the transfer limits and the silence that ends a
	// transfer (see transfer.go); 0 means the default.
	maxTransfers        int
	maxTransfersPerAddr int
	transferSilence     time.Duration
	slowWindow          time.Duration // see transfermeter.go
	slowRate            float64
	sweepEvery          time.Duration // how often expired files go; 0 means a minute
}

// Host is a running room.
type Host struct {
	ln          net.Listener
	id          string
	fingerprint string
	portTaken   bool
	server      *server
	stop        context.CancelFunc
	roomDone    chan struct{}
	serveDone   chan struct{}
	tlsConfig   *tls.Config // what members' connections are served with
	irc         *ircGate    // nil when no IRC clients are taken
	ircPins     IRCPins
	name        string

	room      *room.Room
	stateDir  string
	lock      *os.File      // held until Close (lockStateDir)
	journal   *journal      // nil when the room runs without one
	files     *fileGate     // nil when the room takes no files
	sweepStop chan struct{} // closed to stop the files' sweep
	sweepDone chan struct{} // closed when it has stopped
	log       *slog.Logger
	closeOnce sync.Once
	closeErr  error
}

// Start opens the room: it loads or creates the state, listens, and serves
// until Close.
func Start(cfg Config) (*Host, error) {
	if err := checkRoomName(cfg.Name); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lock, err := openStateDir(cfg.StateDir, log)
	if err != nil {
		return nil, err
	}
	started := false
	var j *journal
	defer func() {
		if !started {
			if j != nil {
				j.close()
			}
			lock.Close()
		}
	}()
	// A host killed while saving leaves a temporary file behind.
	statefile.RemoveStale(cfg.StateDir, time.Hour)
	id, err := loadOrCreateRoomID(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	cert, err := loadOrCreateCert(cfg.StateDir, id, log)
	if err != nil {
		return nil, err
	}
	limitMemory()
	store := dirStore(cfg.StateDir)
	roomCfg := room.Config{
		Name:       cfg.Name,
		ID:         id,
		Store:      store,
		Limits:     cfg.Limits,
		JoinLimits: cfg.JoinLimits,
		History:    cfg.History,

		TopicByAnyone: cfg.TopicByAnyone,
		Backlog:       cfg.Backlog,
	}
	if err := store.load(&roomCfg, log); err != nil {
		return nil, err
	}
	// The files offered before the restart come back to the room, stored
	// or still uploading (their uploads resume); those whose time ran out
	// meanwhile too, so that the sweep at the room's start tells its
	// members they are gone (an unsend event, which a member that resumes
	// is sent), rather than leave them listed where they were shown.
	fileGate := openFiles(cfg.StateDir, cfg.Files, log)
	if fileGate != nil {
		roomCfg.Files = fileGate
		roomCfg.Offers = fileGate.offers()
	}
	// Listening comes before the history is taken: a start that fails
	// for want of its address leaves the history for the next.
	ln, portTaken, err := listen(cfg.Listen, keepAliveFor(cfg.Heartbeat))
	if err != nil {
		return nil, err
	}
	gate, err := listenIRC(cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if roomCfg.Past, err = takeHistory(cfg.StateDir, log); err != nil {
		ln.Close()
		if gate != nil {
			gate.close()
		}
		return nil, err
	}
	if !cfg.withoutJournal {
		syncEvery := cfg.SyncEvery
		if syncEvery == 0 {
			syncEvery = DefaultSyncEvery
		}
		j = openJournal(cfg.StateDir, syncEvery, log)
		roomCfg.Journal = j
	}

	// A ban ends the banned member's running transfers (see
	// endBannedTransfers): the store tells of every change to the bans.
	bansChanged := make(chan struct{}, 1)
	if fileGate != nil {
		roomCfg.Store = bansWatched{Store: roomCfg.Store, changed: bansChanged}
	}
	ctx, stop := context.WithCancel(context.Background())
	r := room.New(roomCfg)
	h := &Host{
		ln:          ln,
		id:          id,
		fingerprint: wire.Fingerprint(cert.Leaf.RawSubjectPublicKeyInfo),
		portTaken:   portTaken,
		server:      newServer(ctx, r, cfg.AdminPassword, log),
		stop:        stop,
		roomDone:    make(chan struct{}),
		serveDone:   make(chan struct{}),
		room:        r,
		stateDir:    cfg.StateDir,
		lock:        lock,
		journal:     j,
		files:       fileGate,
		sweepStop:   make(chan struct{}),
		sweepDone:   make(chan struct{}),
		log:         log,
		irc:         gate,
		ircPins:     pinsOf(cert),
		name:        cfg.Name,
	}
	started = true
	switch {
	case cfg.Heartbeat > 0:
		h.server.heartbeat = cfg.Heartbeat
	case cfg.Heartbeat < 0:
		h.server.heartbeat = 0
	}
	// The members the last run left able to resume come back together,
	// each with a handshake to make: when more are making one than there
	// are pending slots, each newcomer pushes out the oldest (see
	// server.admit), which had done the most of its handshake and starts
	// it again after its backoff. In a storm of thousands on a host that
	// is slow to take them, that was most of the host's work. So there is
	// a slot for each who may come back, bounded as the members are.
	h.server.maxPending = max(h.server.maxPending, min(len(roomCfg.Past.Resumable), h.server.maxMembers))
	if cfg.MaxConnsPerAddr > 0 {
		h.server.maxConnsPerAddr = cfg.MaxConnsPerAddr
		h.server.maxPendingPerAddr = max(1, cfg.MaxConnsPerAddr/2)
	}
	if cfg.maxMembers > 0 {
		h.server.maxMembers = cfg.maxMembers
	}
	if cfg.maxPending > 0 {
		h.server.maxPending = cfg.maxPending
	}
	if cfg.maxPendingPerAddr > 0 {
		h.server.maxPendingPerAddr = cfg.maxPendingPerAddr
	}
	if cfg.handshakeTimeout > 0 {
		h.server.handshakeTimeout = cfg.handshakeTimeout
	}
	h.server.files = fileGate
	if fileGate != nil {
		go h.server.endBannedTransfers(bansChanged)
	}
	if cfg.maxTransfers > 0 {
		h.server.maxTransfers = cfg.maxTransfers
	}
	if cfg.maxTransfersPerAddr > 0 {
		h.server.maxTransfersPerAddr = cfg.maxTransfersPerAddr
	}
	if cfg.transferSilence > 0 {
		h.server.transferSilence = cfg.transferSilence
	}
	if cfg.slowWindow > 0 {
		h.server.slowWindow = cfg.slowWindow
	}
	if cfg.slowRate > 0 {
		h.server.slowRate = cfg.slowRate
	}
	go func() {
		defer close(h.roomDone)
		r.Run(ctx)
	}()
	go func() {
		defer close(h.sweepDone)
		if fileGate != nil {
			for _, id := range fileGate.unshown(time.Now()) {
				r.FileStored(id)
			}
			fileGate.sweep(r, cmp.Or(cfg.sweepEvery, sweepEvery), h.sweepStop, log)
		}
	}()
	tlsConfig := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
		// Members present their identity key as a client certificate;
		// it is self-signed, so it is asked for, not verified.
		ClientAuth: tls.RequestClientCert,
		// The key exchange stays post-quantum (X25519MLKEM768; plain X25519
		// only for a client that offers nothing else), although ML-KEM is
		// about two fifths of the CPU a join costs host and joiner together
		// (BenchmarkJoin's TLS-only baseline: about 1,600 joins/s on two
		// cores, against 2,800 with X25519 alone).
		// This room's adversary is whoever can listen on the LAN, and
		// listening includes recording now to decrypt later, which only
		// the ML-KEM half stops. The cost is paid once per connection,
		// never per message, and matters only when many join at once (a
		// host restart that every member reconnects to). Resumption would
		// not avoid it: Go resumes TLS 1.3 sessions only with a fresh key
		// exchange. GODEBUG=tlsmlkem=0 turns ML-KEM off, on either side.
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519},
		// No client resumes a session (join keeps no session cache, and
		// resuming would save only the signature), so a session ticket
		// after every handshake would be an encryption and a write for
		// nothing.
		SessionTicketsDisabled: true,
	}
	h.tlsConfig = tlsConfig
	go func() {
		defer close(h.serveDone)
		h.server.serve(ln, tlsConfig)
	}()
	if h.irc != nil {
		h.irc.start(h, cert)
	}
	return h, nil
}

// MaxRoomName is the longest room name, in characters.
const MaxRoomName = 64

// checkRoomName refuses names that would not show well in a list of rooms.
func checkRoomName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("the room name is empty")
	case !utf8.ValidString(name):
		return errors.New("the room name is not valid UTF-8")
	case utf8.RuneCountInString(name) > MaxRoomName:
		return fmt.Errorf("the room name is longer than %d characters", MaxRoomName)
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsGraphic(r) }) >= 0:
		return errors.New("the room name contains control characters")
	}
	return nil
}

// listen listens on addr, or on the default port with a fallback to any
// free port when addr is empty. Its connections have the TCP keep-alive
// keepAlive, as in net.ListenConfig (noKeepAlive: none; 0: Go's default).
func listen(addr string, keepAlive time.Duration) (ln net.Listener, portTaken bool, err error) {
	lc := net.ListenConfig{KeepAlive: keepAlive}
	ctx := context.Background()
	if addr != "" {
		ln, err = lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, false, fmt.Errorf("cannot listen on %s: %w", addr, unwrapOpError(err))
		}
		return ln, false, nil
	}
	ln, err = lc.Listen(ctx, "tcp", fmt.Sprintf(":%d", DefaultPort))
	if errors.Is(err, syscall.EADDRINUSE) {
		ln, err = lc.Listen(ctx, "tcp", ":0")
		portTaken = true
	}
	if err != nil {
		return nil, false, fmt.Errorf("cannot listen: %w", unwrapOpError(err))
	}
	return ln, portTaken, nil
}

// noKeepAlive turns TCP keep-alive off, in net.ListenConfig.KeepAlive.
const noKeepAlive = -1

// keepAliveFor is the TCP keep-alive of a room whose Config.Heartbeat is
// heartbeat. With heartbeats, which find a dead member within three
// intervals, it is off: it would be a second, slower watch on every
// connection, set up with four system calls at every accept. Without
// them it is Go's default, the only watch left.
func keepAliveFor(heartbeat time.Duration) time.Duration {
	if heartbeat >= 0 {
		return noKeepAlive
	}
	return 0
}

// unwrapOpError drops the "listen tcp :7465:" prefix that the caller has
// already said in its own words.
func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// Addr is the address the room listens on.
func (h *Host) Addr() net.Addr { return h.ln.Addr() }

// RoomID is the room's id, the same for as long as its state directory.
func (h *Host) RoomID() string { return h.id }

// Topic is the room's topic as it is now, "" for none; safe to call from
// any goroutine, and it never waits for the room.
func (h *Host) Topic() string { return h.room.Topic() }

// Fingerprint is the room key's fingerprint, which members may check.
func (h *Host) Fingerprint() string { return h.fingerprint }

// PortTaken reports that DefaultPort was in use, so the room listens on
// another port.
func (h *Host) PortTaken() bool { return h.portTaken }

// DialOwner connects the person running the host to the room, in process.
// The connection speaks the same protocol as a member's, without TLS, and
// the member it joins is the room's owner. It fits join.Dialer.
func (h *Host) DialOwner(ctx context.Context) (net.Conn, error) {
	select {
	case <-h.roomDone:
		return nil, errors.New("the room is closed")
	default:
	}
	return h.server.pipe(peer{owner: true}), nil
}

// Done is closed when the room has stopped.
func (h *Host) Done() <-chan struct{} { return h.roomDone }

// Close closes the room: members are told it closed, and Close waits (a
// few seconds at most) for that to reach them before it returns. It saves
// the room's history in the state directory, so that the next start
// continues it and members can resume across the restart; an error saving
// it is returned (the room is closed all the same). Calling Close again
// does nothing and returns the same error.
func (h *Host) Close() error {
	h.closeOnce.Do(func() { h.closeErr = h.close() })
	return h.closeErr
}

func (h *Host) close() error {
	err := h.ln.Close()
	<-h.serveDone
	// Transfers end first, while the room can still hear of a file
	// stored; they resume after a restart from what is stored.
	h.server.stopTransfers()
	close(h.sweepStop)
	<-h.sweepDone
	// The IRC clients are told the room is closing while it still runs:
	// once it has stopped, the gateway would only find their members'
	// connections ended.
	if h.irc != nil {
		h.irc.close()
	}
	h.stop()
	<-h.roomDone
	// Saved once the room goroutine has stopped, so nothing is numbered
	// after what is saved; members are still being told it closed. The
	// journal goes once the history is saved; if it cannot be, the
	// journal is what the next start continues from.
	if h.journal != nil {
		h.journal.close()
	}
	var saveErr error
	if past, ok := h.room.History(); ok {
		saveErr = saveHistory(h.stateDir, past)
		if saveErr != nil {
			h.log.Warn("history not saved: members cannot resume after the restart", "err", saveErr)
		} else if h.journal != nil {
			h.journal.remove()
		}
	}
	h.server.wait(3 * time.Second)
	// Released last: the history is saved, and no one else may host the
	// room until then.
	h.lock.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return errors.Join(err, saveErr)
}

var _ io.Closer = (*Host)(nil)
