package join

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"chatroom/host/wire"
)

// dialTimeout bounds the TCP connection and the TLS handshake together.
const dialTimeout = 10 * time.Second

// KeyMismatchError is a room whose key is not the one the person expected:
// another machine, or someone in between.
type KeyMismatchError struct {
	Expected, Got string
	// Addr is where the other key was shown, when a room was tried at
	// several addresses.
	Addr string
}

func (e *KeyMismatchError) Error() string {
	if e.Addr != "" {
		return fmt.Sprintf("room key mismatch: expected %s, got %s at %s", e.Expected, e.Got, e.Addr)
	}
	return fmt.Sprintf("room key mismatch: expected %s, got %s", e.Expected, e.Got)
}

// dialError is a connection to a room that could not be made, said in
// words: what happened at which address, not the system's error.
type dialError struct {
	Addr string
	Why  string // "no answer from 10.0.0.5:7465 within 10 s"
	Err  error  // the system's error, for errors.Is
}

func (e *dialError) Error() string { return "cannot connect to the room: " + e.Why }
func (e *dialError) Unwrap() error { return e.Err }

// describeDial says what err, met dialing addr, means for a person.
func describeDial(addr string, err error) string {
	host, _, splitErr := net.SplitHostPort(addr)
	if splitErr != nil {
		host = addr
	}
	var recordHeader tls.RecordHeaderError
	var alert tls.AlertError
	var timeout net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &timeout) && timeout.Timeout():
		return fmt.Sprintf("no answer from %s within %s", addr, roundDelay(dialTimeout))
	case errors.Is(err, context.Canceled):
		return fmt.Sprintf("stopped while connecting to %s", addr)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("%s refused the connection: no room is listening there", addr)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.EHOSTDOWN):
		return fmt.Sprintf("no route to %s: it is not on the network now", host)
	case errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("no route to %s: this machine is on no network that reaches it", host)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("%s closed the connection before the handshake was done: the network may be losing packets, or it is not a room", addr)
	case errors.As(err, &recordHeader):
		return fmt.Sprintf("%s answered, but not over TLS as a room does: it is not a room", addr)
	case errors.As(err, &alert):
		return fmt.Sprintf("%s refused the handshake (%s): it is not a room, or not one this version can join", addr, Sanitize(alert.Error()))
	}
	return fmt.Sprintf("%s: %s", addr, Sanitize(err.Error()))
}

// DialTLS returns a Dialer for TLS 1.3 connections to addr.
//
// A room's certificate is self-signed, so no authority vouches for it;
// what identifies the room is its key's fingerprint (wire.Fingerprint).
// When fingerprint is set, a room with any other key is refused with a
// *KeyMismatchError. When it is "", the first key seen is accepted, passed
// to accepted (if not nil) so the person can compare it, and then held:
// later dials of the same Dialer (a retry with another name) must meet the
// same key, so a key that changes in between is refused too.
//
// Whatever the key, a room whose certificate names no room id, or one not
// of the form a room makes (wire.ValidRoomID), is refused during the
// handshake with a *BrokenRoomError: what it is cannot be checked.
func DialTLS(addr, fingerprint string, accepted func(fingerprint string), opts ...DialOption) Dialer {
	return dialTLS(addr, fingerprint, accepted, nil, opts)
}

// DialOption changes how a Dialer connects.
type DialOption func(*tls.Config)

// WithIdentity presents the person's identity (LoadOrCreateIdentity) to the
// room as a TLS client certificate, so that the room knows them by key.
func WithIdentity(cert tls.Certificate) DialOption {
	return func(c *tls.Config) { c.Certificates = []tls.Certificate{cert} }
}

// RoomKey is what a room shows of itself in the TLS handshake: the id its
// certificate names (wire.CertName) and its key's fingerprint.
type RoomKey struct {
	ID, Fingerprint string
}

// verifier decides, during the TLS handshake, whether to go on with a room
// that shows key. An error ends the connection before anything is sent to
// the room: no name, no password. It must not remember the key: the room
// has not yet proved that it holds it (see Pinning.Dialer).
type verifier func(key RoomKey) error

// dialTLSVerified returns a Dialer for TLS 1.3 connections to addr that
// goes on only with rooms verify accepts.
func dialTLSVerified(addr string, verify verifier, opts ...DialOption) Dialer {
	return dialTLS(addr, "", nil, verify, opts)
}

// roomKeyOf reads the key and id that a room's certificate shows, refusing
// a certificate that names no room id of the form a room makes.
func roomKeyOf(cs tls.ConnectionState) (RoomKey, error) {
	if len(cs.PeerCertificates) == 0 {
		return RoomKey{}, errors.New("the room sent no certificate")
	}
	leaf := cs.PeerCertificates[0]
	key := RoomKey{Fingerprint: wire.Fingerprint(leaf.RawSubjectPublicKeyInfo)}
	id, named := wire.RoomIDFromCertName(leaf.Subject.CommonName)
	switch {
	case !named:
		return key, &BrokenRoomError{Why: "its certificate names no room id, so it cannot be checked against the rooms you know"}
	case !wire.ValidRoomID(id):
		// Not shown: an id that is not a room's may be any text at all.
		return key, &BrokenRoomError{Why: "its certificate names a room id that is not of the form a room makes"}
	}
	key.ID = id
	return key, nil
}

func dialTLS(addr, fingerprint string, accepted func(fingerprint string), verify verifier, opts []DialOption) Dialer {
	var mu sync.Mutex
	pinned := strings.TrimSpace(fingerprint)
	return func(ctx context.Context) (net.Conn, error) {
		mu.Lock()
		want := pinned
		mu.Unlock()

		// attempt is one connection and handshake; refused is why its
		// VerifyConnection ended the handshake, in the client's own
		// words: the dial's error, rather than TLS's.
		attempt := func(ctx context.Context) (conn net.Conn, refused, err error) {
			config := &tls.Config{
				MinVersion: tls.VersionTLS13,
				// The chain is not verified, because no authority signed
				// it; VerifyConnection checks the key instead.
				InsecureSkipVerify: true,
				VerifyConnection: func(cs tls.ConnectionState) error {
					refused = func() error {
						if len(cs.PeerCertificates) > 0 {
							got := wire.Fingerprint(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
							if want != "" && got != want {
								return &KeyMismatchError{Expected: want, Got: got}
							}
						}
						key, err := roomKeyOf(cs)
						if err != nil {
							return err
						}
						if verify != nil {
							return verify(key)
						}
						return nil
					}()
					return refused
				},
			}
			for _, opt := range opts {
				opt(config)
			}
			if host, _, err := net.SplitHostPort(addr); err == nil {
				config.ServerName = host // sent as SNI for names; Go leaves it out for addresses
			}
			d := tls.Dialer{Config: config}
			conn, err = d.DialContext(ctx, "tcp", addr)
			return conn, refused, err
		}

		ctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		conn, refused, err := dialStaggered(ctx, attempt)
		if err != nil {
			if refused != nil {
				return nil, refused // the whole story; "cannot connect" would bury it
			}
			return nil, &dialError{Addr: addr, Why: describeDial(addr, err), Err: err}
		}
		if want != "" {
			return conn, nil
		}

		cs := conn.(*tls.Conn).ConnectionState()
		got := wire.Fingerprint(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
		mu.Lock()
		first := pinned == ""
		if first {
			pinned = got
		}
		held := pinned
		mu.Unlock()
		if !first && got != held {
			// Two dials raced and met different keys.
			conn.Close()
			return nil, &KeyMismatchError{Expected: held, Got: got}
		}
		if first && accepted != nil {
			accepted(got)
		}
		return conn, nil
	}
}

// On a lossy network a connection's packets are retransmitted ever later
// (TCP waits 1 s, then 2 s, 4 s … for a lost SYN), and a handshake that
// takes too long is closed by the room: at 50 % loss each way one dial in
// two failed within dialTimeout (BenchmarkDialLossy: 21 of 40 connected).
// So while an attempt has not finished, another is started every
// staggerAfter, up to maxAttempts (below the room's limit of 8 handshakes
// pending from one address), and the first to finish its handshake is the
// dial: 40 of 40 connected. On a working LAN the first finishes within
// milliseconds, and is the only one.
const (
	staggerAfter = time.Second
	maxAttempts  = 6
)

type attemptResult struct {
	conn         net.Conn
	refused, err error
}

// dialStaggered runs attempt as above until one succeeds, or one is
// refused (a key or a room that is not to be joined: trying again would
// meet it again), or one fails otherwise than cut short (see cutShort),
// or all have failed, or ctx ends. It returns the first success, or the
// first refusal, or the last error.
func dialStaggered(ctx context.Context, attempt func(context.Context) (net.Conn, error, error)) (net.Conn, error, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan attemptResult, maxAttempts)
	started, pending := 0, 0
	start := func() {
		started++
		pending++
		go func() {
			conn, refused, err := attempt(ctx)
			results <- attemptResult{conn, refused, err}
		}()
	}
	// Whatever finishes after the dial is decided is closed.
	defer func() {
		go func(n int) {
			for range n {
				if r := <-results; r.conn != nil {
					r.conn.Close()
				}
			}
		}(pending)
	}()
	start()
	timer := time.NewTimer(staggerAfter)
	defer timer.Stop()
	var last attemptResult
	for {
		select {
		case r := <-results:
			pending--
			if r.err == nil || r.refused != nil || !cutShort(r.err) {
				return r.conn, r.refused, r.err
			}
			last = r
			if pending == 0 {
				if started == maxAttempts || ctx.Err() != nil {
					return nil, last.refused, last.err
				}
				start()
				timer.Reset(staggerAfter)
			}
		case <-timer.C:
			if started < maxAttempts {
				start()
				timer.Reset(staggerAfter)
			}
		}
	}
}

// cutShort reports a dial error that a lossy network explains: the
// connection was closed or reset before the handshake was done (a room
// closes a handshake that takes too long). Any other answer (refused, no
// route, a handshake that failed) would be met again: it ends the dial.
func cutShort(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}
