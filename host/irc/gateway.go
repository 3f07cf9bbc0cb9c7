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
package irc

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"time"
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
	// host allows only on loopback.
	TLS *tls.Config
	// Dial opens a connection into the room, as peer, that speaks the
	// room's protocol (package wire) from its hello on.
	Dial func(ctx context.Context, peer Peer) (net.Conn, error)
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
	// RegistrationTimeout bounds how long a client may take from its
	// connection to the end of its registration; 0 means a default.
	RegistrationTimeout time.Duration
}

// Gateway accepts IRC connections into a room.
type Gateway struct {
	cfg Config
}

// New returns a gateway for cfg.
func New(cfg Config) *Gateway {
	return &Gateway{cfg: cfg}
}

// Serve accepts IRC connections from ln until ln is closed or the
// gateway is.
func (g *Gateway) Serve(ln net.Listener) error {
	return errors.ErrUnsupported
}

// Close closes every IRC connection, telling each client why, and waits
// for them, a few seconds at most.
func (g *Gateway) Close() error {
	return nil
}
