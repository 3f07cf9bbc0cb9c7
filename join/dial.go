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

// Verifier decides, during the TLS handshake, whether to go on with a room
// that shows key. An error ends the connection before anything is sent to
// the room: no name, no password. It must not remember the key: the room
// has not yet proved that it holds it (see Pinning.Dialer).
type Verifier func(key RoomKey) error

// DialTLSVerified returns a Dialer for TLS 1.3 connections to addr that
// goes on only with rooms verify accepts.
func DialTLSVerified(addr string, verify Verifier, opts ...DialOption) Dialer {
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

func dialTLS(addr, fingerprint string, accepted func(fingerprint string), verify Verifier, opts []DialOption) Dialer {
	var mu sync.Mutex
	pinned := strings.TrimSpace(fingerprint)
	return func(ctx context.Context) (net.Conn, error) {
		mu.Lock()
		want := pinned
		mu.Unlock()

		// refused is why VerifyConnection ended the handshake, in the
		// client's own words: the dial's error, rather than TLS's.
		var refused error
		config := &tls.Config{
			MinVersion: tls.VersionTLS13,
			// The chain is not verified, because no authority signed it;
			// VerifyConnection checks the key instead.
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

		ctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		d := tls.Dialer{Config: config}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			if refused != nil {
				return nil, refused // the whole story; "cannot connect" would bury it
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
