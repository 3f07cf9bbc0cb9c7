// Package irc lets IRC clients (irssi, weechat, HexChat, phone apps, bot
// frameworks) into a room as members of it, under the room's own rules.
//
// # Boundary
//
// The gateway is a translator and nothing more. For each IRC connection it
// opens, once the client has registered, one connection into the room that
// speaks package host/wire's protocol (Config.Dial), exactly as a chatroom
// member's does, and translates: what the IRC client sends becomes the
// frames a member sends (a message, a command typed as "/kick ..."), and
// the frames the room sends become IRC lines. Who may join, speak, kick or
// ban, how fast, and in which order everyone sees what happened, is the
// room's alone (package host/room, which knows nothing of IRC); the
// gateway knows nothing of the room's state but what its frames say. It
// imports host/wire, and neither host nor host/room.
//
// IRC messages are parsed and written with github.com/ergochat/irc-go's
// ircmsg, and read off the connection with its ircreader.
//
// # Sessions
//
// Each IRC connection is one session (conn, in conn.go), owned by one
// goroutine that takes one event at a time: a line from the client, a
// frame from the room, a timer. Two reader goroutines only forward what
// they read. So the room's frames become IRC lines in the order the room
// sent them, and everyone sees the same events in the same order.
//
// The room is one channel (ChannelName). Its members keep their room
// names where those are valid nicks, and otherwise get a nick the session
// maps to and from the name (names.go). The pseudo-user "*room" stands
// for the room: what is sent to it is a room command, and the room's
// answers come from it. What the client sends becomes a line for the room
// (client.go), and what the room sends becomes IRC lines (render.go); the
// gateway answers what it can from what it was told (info.go: NAMES, WHO,
// WHOIS), and finds the one member a ban or mute mask names among the
// prefixes it shows (masks.go). The lines for the room go at the pace the room announced, and
// the session stops reading the client while they wait; the rest cost
// from the session's own token bucket (fake lag).
package irc

import (
	"container/list"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"chatroom/host/wire"
)

// Peer is who is at the other end of an IRC connection, as the room is to
// know the member it becomes: the address it connects from and the
// fingerprint (wire.Fingerprint) of its client certificate's key, "" for
// none.
type Peer struct {
	Addr     string
	Identity string
}

// Config says how to run a gateway.
type Config struct {
	// TLS serves the IRC connections; nil serves plain IRC, which the
	// host allows only on loopback. A client certificate, when the
	// client offers one (the config should ask with
	// tls.RequestClientCert), is the member's identity key.
	TLS *tls.Config
	// Dial opens a connection into the room, as peer, that speaks the
	// room's protocol (package wire) from its hello on.
	Dial func(ctx context.Context, peer Peer) (net.Conn, error)
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
	// RegistrationTimeout bounds how long a client may take from its
	// connection to the end of its registration; 0 means a default.
	RegistrationTimeout time.Duration
	// WriteTimeout bounds how long a client may leave its lines unread
	// before it is let go; 0 means a default.
	WriteTimeout time.Duration
	// MaxPending and MaxPendingPerAddr bound the connections that are
	// not in the room (in their TLS handshake, not registered yet, or
	// parted), in all and from one address. One beyond an address's
	// bound is closed at once; one beyond the bound in all pushes the
	// oldest out (see pend). 0 means a default.
	MaxPending        int
	MaxPendingPerAddr int
}

// Defaults of Config.
const (
	defaultRegistrationTimeout = 15 * time.Second
	defaultWriteTimeout        = 30 * time.Second
	defaultMaxPending          = 256
	defaultMaxPendingPerAddr   = 8
	// closeWait is how long Close waits for the sessions to say goodbye.
	closeWait = 3 * time.Second
	// sayClosingTimeout bounds the goodbye to a client accepted as the
	// gateway closes, which has nothing else in its connection's buffer.
	sayClosingTimeout = time.Second
)

// Gateway accepts IRC connections into a room.
type Gateway struct {
	cfg     Config
	log     *slog.Logger
	closing chan struct{}
	// ctx is cancelled by Close, for the Dials under way.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]bool
	conns     map[*conn]bool
	netConns  map[net.Conn]bool // accepted, handshaking or running
	// handshaking are the connections in their TLS handshake, which
	// Close closes at once: there is no way to tell them why.
	handshaking map[net.Conn]bool
	// pending holds the connections not in the room, oldest first, and
	// byAddr counts them by address (see pend).
	pending *list.List // of *pendingSlot
	byAddr  map[string]int
	wg      sync.WaitGroup
}

// New returns a gateway for cfg.
func New(cfg Config) *Gateway {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Gateway{
		cfg: cfg, log: log, closing: make(chan struct{}), ctx: ctx, cancel: cancel,
		listeners: map[net.Listener]bool{}, conns: map[*conn]bool{},
		netConns: map[net.Conn]bool{}, handshaking: map[net.Conn]bool{},
		pending: list.New(), byAddr: map[string]int{},
	}
}

func (g *Gateway) registrationTimeout() time.Duration {
	if g.cfg.RegistrationTimeout > 0 {
		return g.cfg.RegistrationTimeout
	}
	return defaultRegistrationTimeout
}

func (g *Gateway) writeTimeout() time.Duration {
	if g.cfg.WriteTimeout > 0 {
		return g.cfg.WriteTimeout
	}
	return defaultWriteTimeout
}

// Serve accepts IRC connections from ln until ln is closed or the
// gateway is.
func (g *Gateway) Serve(ln net.Listener) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	g.listeners[ln] = true
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.listeners, ln)
		g.mu.Unlock()
	}()
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-g.closing:
				return net.ErrClosed
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors and the like: wait, don't spin.
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return err
		}
		addr := hostOf(nc.RemoteAddr())
		admission, slot := g.admit(nc, addr)
		switch admission {
		case admitClosing:
			// Accepted as Close came: told, as every client is.
			g.sayClosing(nc)
			nc.Close()
			continue
		case admitRefused:
			nc.Close()
			continue
		}
		go g.serveConn(nc, slot) // counted in g.wg by admit
	}
}

func hostOf(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// What admit says of a new connection.
type admission int

const (
	admitted     admission = iota
	admitRefused           // too many pending, from its address or in all
	admitClosing           // the gateway is closing
)

// admit counts a new connection among the pending ones, in the slot it
// returns, or says why not.
func (g *Gateway) admit(nc net.Conn, addr string) (admission, *pendingSlot) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return admitClosing, nil
	}
	slot := &pendingSlot{addr: addr, nc: nc}
	if !g.pend(slot) {
		return admitRefused, nil
	}
	g.netConns[nc] = true
	// Counted under the lock that Close takes to mark the gateway closed,
	// so that its Wait never starts before a session admitted ahead of it
	// is counted (Add racing a Wait that found nothing to wait for).
	g.wg.Add(1)
	return admitted, slot
}

// closingLine is what each client is told when the gateway closes, as a
// session says it (conn.fail).
const closingLine = "ERROR :Closing link: the room is closing\r\n"

// sayClosing tells a client accepted as the gateway closes, before its
// session could, why it is let go: over plain IRC only, since a
// connection that has not done its TLS handshake can be told nothing.
func (g *Gateway) sayClosing(nc net.Conn) {
	if g.cfg.TLS != nil {
		return
	}
	nc.SetWriteDeadline(time.Now().Add(sayClosingTimeout))
	io.WriteString(nc, closingLine)
}

// pendingSlot is a connection's place among the pending ones.
type pendingSlot struct {
	addr string   // the address it is counted under
	nc   net.Conn // the accepted connection, closed if pushed out
	// elem is its place in Gateway.pending; nil while it is not
	// counted (in the room, or pushed out). Guarded by Gateway.mu.
	elem *list.Element
}

// pend counts slot among the pending connections, or reports false when
// its address has as many as it may. When every slot in all is taken,
// the oldest pending connection is pushed out (closed) to make room: a
// real client needs its place for the moments of its handshake and
// registration, so an attacker who only holds idle sockets, renewed as
// the deadline closes them, would otherwise keep every IRC client out
// (32 addresses of 8 sockets fill 256 slots), whereas now he must open
// every slot's worth within a real client's registration to keep one
// out (the host's member port does the same, server.admit). g.mu is
// held.
func (g *Gateway) pend(slot *pendingSlot) bool {
	maxAll, maxAddr := g.cfg.MaxPending, g.cfg.MaxPendingPerAddr
	if maxAll <= 0 {
		maxAll = defaultMaxPending
	}
	if maxAddr <= 0 {
		maxAddr = defaultMaxPendingPerAddr
	}
	if g.closed || g.byAddr[slot.addr] >= maxAddr {
		return false
	}
	if g.pending.Len() >= maxAll {
		oldest := g.pending.Front().Value.(*pendingSlot)
		g.unpendLocked(oldest)
		if oldest.nc != nil {
			// The raw connection: closing it ends a TLS handshake or a
			// session's reads at once, and never waits on a TLS write
			// as tls.Conn's Close may, with g.mu held.
			oldest.nc.Close()
		}
	}
	g.byAddr[slot.addr]++
	slot.elem = g.pending.PushBack(slot)
	return true
}

// parted counts c among the pending connections again, as it is no
// longer in the room, whose limits held it while it was; it reports
// false when its address already has as many as it may. Otherwise a
// client could join, part, and again, to hold any number of
// connections from one address.
func (g *Gateway) parted(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c.slot == nil {
		c.slot = &pendingSlot{addr: c.addrKey}
	}
	if c.slot.elem != nil {
		return true
	}
	return g.pend(c.slot)
}

// unpend takes a connection off the pending count, if it is on it.
func (g *Gateway) unpend(slot *pendingSlot) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.unpendLocked(slot)
}

func (g *Gateway) unpendLocked(slot *pendingSlot) {
	if slot == nil || slot.elem == nil {
		return
	}
	g.pending.Remove(slot.elem)
	slot.elem = nil
	if g.byAddr[slot.addr]--; g.byAddr[slot.addr] <= 0 {
		delete(g.byAddr, slot.addr)
	}
}

// registered is told when c is welcomed: it is no longer pending.
func (g *Gateway) registered(c *conn) {
	g.unpend(c.slot)
}

// serveConn runs one connection: its TLS handshake, within the
// registration deadline, then its session.
func (g *Gateway) serveConn(nc net.Conn, slot *pendingSlot) {
	defer g.wg.Done()
	start := time.Now()
	peer := Peer{Addr: nc.RemoteAddr().String()}
	if g.cfg.TLS != nil {
		tc := tls.Server(nc, g.cfg.TLS)
		g.mu.Lock()
		closed := g.closed
		if !closed {
			g.handshaking[nc] = true
		}
		g.mu.Unlock()
		err := net.ErrClosed
		if !closed {
			tc.SetDeadline(start.Add(g.registrationTimeout()))
			err = tc.Handshake()
			tc.SetDeadline(time.Time{})
		}
		g.mu.Lock()
		delete(g.handshaking, nc)
		delete(g.netConns, nc)
		if err == nil {
			g.netConns[tc] = true
		}
		g.mu.Unlock()
		if err != nil {
			g.log.Debug("irc: TLS handshake", "addr", peer.Addr, "err", err)
			nc.Close()
			g.unpend(slot)
			return
		}
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			peer.Identity = wire.Fingerprint(certs[0].RawSubjectPublicKeyInfo)
		}
		nc = tc
	}
	// A session that starts as the gateway closes runs too, for as long
	// as it takes to tell its client why it ends (conn.run).
	c := newConn(g, nc, peer, start)
	c.slot = slot
	c.addrKey = slot.addr
	g.mu.Lock()
	g.conns[c] = true
	g.mu.Unlock()
	c.run()
}

// forget is told when c's session is over.
func (g *Gateway) forget(c *conn) {
	g.unpend(c.slot)
	g.mu.Lock()
	delete(g.conns, c)
	delete(g.netConns, c.nc)
	g.mu.Unlock()
}

// Close closes every IRC connection, telling each client why (each that
// has done its TLS handshake: one still in it is closed at once), and
// waits for them, a few seconds at most.
func (g *Gateway) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	close(g.closing)
	g.cancel()
	for ln := range g.listeners {
		ln.Close()
	}
	for nc := range g.handshaking {
		nc.Close()
	}
	g.mu.Unlock()
	done := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeWait):
		// Sessions stuck writing to clients that do not read: cut them.
		g.mu.Lock()
		for nc := range g.netConns {
			nc.Close()
		}
		g.mu.Unlock()
		<-done
	}
	return nil
}
