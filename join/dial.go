package join

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"chatroom/host/wire"
)

// dialTimeout bounds the TCP connection and the TLS handshake together.
const dialTimeout = 10 * time.Second

// KeyMismatchError is a room whose key is not the one the person expected:
// another machine, or someone in between.
type KeyMismatchError struct {
	Expected, Got string
}

func (e *KeyMismatchError) Error() string {
	return fmt.Sprintf("room key mismatch: expected %s, got %s", e.Expected, e.Got)
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

// Verifier decides, during the TLS handshake, whether to go on with a room
// that shows key. An error ends the connection before anything is sent to
// the room: no name, no password.
type Verifier func(key RoomKey) error

// DialTLSVerified returns a Dialer for TLS 1.3 connections to addr that
// goes on only with rooms verify accepts.
func DialTLSVerified(addr string, verify Verifier, opts ...DialOption) Dialer {
	return dialTLS(addr, "", nil, verify, opts)
}

func dialTLS(addr, fingerprint string, accepted func(fingerprint string), verify Verifier, opts []DialOption) Dialer {
	var mu sync.Mutex
	pinned := strings.TrimSpace(fingerprint)
	return func(ctx context.Context) (net.Conn, error) {
		mu.Lock()
		want := pinned
		mu.Unlock()

		config := &tls.Config{
			MinVersion: tls.VersionTLS13,
			// The chain is not verified, because no authority signed it;
			// VerifyConnection checks the key instead.
			InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return errors.New("the room sent no certificate")
				}
				leaf := cs.PeerCertificates[0]
				got := wire.Fingerprint(leaf.RawSubjectPublicKeyInfo)
				if want != "" && got != want {
					return &KeyMismatchError{Expected: want, Got: got}
				}
				if verify != nil {
					id, _ := wire.RoomIDFromCertName(leaf.Subject.CommonName)
					return verify(RoomKey{ID: id, Fingerprint: got})
				}
				return nil
			},
		}
		for _, opt := range opts {
			opt(config)
		}
		if host, _, err := net.SplitHostPort(addr); err == nil {
			config.ServerName = host // sent as SNI for names; Go leaves it out for addresses
		}

		ctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		d := tls.Dialer{Config: config}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			var mismatch *KeyMismatchError
			var changed *KeyChangedError
			switch {
			case errors.As(err, &mismatch):
				return nil, mismatch // the whole story; "cannot connect" would bury it
			case errors.As(err, &changed):
				return nil, changed
			}
			return nil, fmt.Errorf("cannot connect to the room: %w", err)
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
