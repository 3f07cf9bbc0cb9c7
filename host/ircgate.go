package host

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"chatroom/host/irc"
)

// This file lets IRC clients into the room (Config.IRC, Config.IRCPlain):
// the host listens for them and hands each connection to package
// host/irc, whose gateway translates between IRC and the room's protocol.
// Each IRC client that registers becomes a member through server.pipe,
// with the address it connected from and its client certificate's key, so
// the room meets it as it meets any member, with the same limits and
// rules.

// DefaultIRCPort is the port for IRC over TLS, as IRC clients expect it
// (RFC 7194).
const DefaultIRCPort = 6697

// ircGate is the host's side of the IRC gateway: its listeners, and a
// gateway for each (one with TLS, one without).
type ircGate struct {
	tls, plain net.Listener // nil for one not asked for
	gateways   []*irc.Gateway
	served     []chan struct{} // each closed when its gateway's Serve returned
}

// IRCListenError is a failure to listen for IRC clients on Addr, without
// TLS when Plain.
type IRCListenError struct {
	Addr  string
	Plain bool
	Err   error
}

func (e *IRCListenError) Error() string {
	what := "IRC"
	if e.Plain {
		what = "plain IRC"
	}
	return fmt.Sprintf("cannot listen for %s on %s: %v", what, e.Addr, e.Err)
}

func (e *IRCListenError) Unwrap() error { return e.Err }

// CheckIRCPlainAddr refuses an address for plain IRC (Config.IRCPlain)
// that is not this machine's loopback: without TLS anyone on the network
// could read what is said and the admin password, and pass for anyone.
// The only name allowed is "localhost", which is 127.0.0.1.
func CheckIRCPlainAddr(addr string) error {
	hostPart, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("plain IRC address %q is not HOST:PORT (for example 127.0.0.1:6667)", addr)
	}
	if !isLoopbackHost(hostPart) {
		return notLoopback(addr)
	}
	return nil
}

func isLoopbackHost(hostPart string) bool {
	if strings.EqualFold(hostPart, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(hostPart)
	return err == nil && ip.Unmap().IsLoopback()
}

func notLoopback(addr string) error {
	return fmt.Errorf("plain IRC on %s refused: it is not a loopback address, and IRC without TLS is only for programs on this machine (as on 127.0.0.1:6667), since anyone on the network could read it", addr)
}

// listenIRC opens the listeners cfg asks for, or none; an error closes
// those it opened.
func listenIRC(cfg Config) (*ircGate, error) {
	if cfg.IRC == "" && cfg.IRCPlain == "" {
		return nil, nil
	}
	// Keep-alive is left at Go's default: the gateway watches the room
	// side's silence, and keep-alive finds an IRC client whose machine
	// went away without a word.
	var lc net.ListenConfig
	g := &ircGate{}
	if cfg.IRCPlain != "" {
		if err := CheckIRCPlainAddr(cfg.IRCPlain); err != nil {
			return nil, err
		}
		// "localhost" is not looked up: a lookup could leave the machine,
		// and a name server could say it is anywhere.
		addr := cfg.IRCPlain
		if hostPart, port, _ := net.SplitHostPort(addr); strings.EqualFold(hostPart, "localhost") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		ln, err := lc.Listen(context.Background(), "tcp", addr)
		if err != nil {
			return nil, &IRCListenError{Addr: cfg.IRCPlain, Plain: true, Err: unwrapOpError(err)}
		}
		if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
			ln.Close()
			return nil, notLoopback(ln.Addr().String())
		}
		g.plain = ln
	}
	if cfg.IRC != "" {
		ln, err := lc.Listen(context.Background(), "tcp", cfg.IRC)
		if err != nil {
			g.close()
			return nil, &IRCListenError{Addr: cfg.IRC, Err: unwrapOpError(err)}
		}
		g.tls = ln
	}
	return g, nil
}

// ircTLSConfig serves IRC clients with the room's own certificate, so the
// figures the host prints to pin it (IRCPins) are the room key's.
func ircTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		// TLS 1.2 still, unlike the members' connections: IRC clients
		// and phone apps are built on whatever TLS library their system
		// has, and some still stop at 1.2 (older OpenSSL and GnuTLS
		// builds, older Android). What 1.2 gives away against 1.3: the
		// certificates cross in the clear, so that one listening on the
		// LAN can tell which key (which person) connects, though not
		// what is said; and it has no post-quantum key exchange. A 1.3
		// client gets 1.3 all the same. (The room's key is Ed25519,
		// which a client's library needs too: OpenSSL since 1.1.1,
		// GnuTLS since 3.6.)
		MinVersion: tls.VersionTLS12,
		// For 1.2, forward secret AEAD suites only, which every 1.2
		// client has (1.3's suites are not configurable, and are these).
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		// A client certificate (CertFP) is the member's identity key,
		// as a member's is; it is asked for, not verified.
		ClientAuth: tls.RequestClientCert,
		// As the members' (see Start): post-quantum for TLS 1.3, X25519
		// for 1.2, which has no ML-KEM.
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519},
		// As for the members: resuming would save a signature, and each
		// ticket costs an encryption and a write.
		SessionTicketsDisabled: true,
	}
}

// start serves the listeners with gateways into h's room. Called once the
// room runs.
func (g *ircGate) start(h *Host, cert tls.Certificate) {
	serve := func(ln net.Listener, config *tls.Config) {
		gateway := irc.New(irc.Config{TLS: config, Dial: h.dialIRCMember, Log: h.log})
		done := make(chan struct{})
		g.gateways = append(g.gateways, gateway)
		g.served = append(g.served, done)
		go func() {
			defer close(done)
			gateway.Serve(ln)
		}()
	}
	if g.tls != nil {
		serve(g.tls, ircTLSConfig(cert))
	}
	if g.plain != nil {
		serve(g.plain, nil)
	}
}

// close stops taking IRC clients and closes the connections of those in,
// each told why by the gateway, and waits for that (a few seconds at
// most, see irc.Gateway.Close). It is safe on a gate that never started.
func (g *ircGate) close() {
	for _, ln := range []net.Listener{g.tls, g.plain} {
		if ln != nil {
			ln.Close()
		}
	}
	for _, gateway := range g.gateways {
		gateway.Close()
	}
	for _, done := range g.served {
		<-done
	}
}

// dialIRCMember is the gateway's way into the room (irc.Config.Dial): a
// member's connection over server.pipe, from the IRC client's address
// and with its certificate's key.
func (h *Host) dialIRCMember(ctx context.Context, p irc.Peer) (net.Conn, error) {
	select {
	case <-h.roomDone:
		return nil, errors.New("the room is closed")
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return h.server.pipe(peer{addr: ircPeerAddr(p.Addr), identity: p.Identity}), nil
}

// ircPeerAddr is addr as server.serve writes a member's address, so that
// an IRC client and a member from one machine count as one address in
// the limits and bans: the IP alone, without a port, IPv4 as IPv4.
func ircPeerAddr(addr string) string {
	if hostPart, _, err := net.SplitHostPort(addr); err == nil {
		addr = hostPart
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		return ip.Unmap().WithZone("").String()
	}
	return addr
}

// IRCAddr is the address IRC clients connect to over TLS, nil when the
// room takes none (Config.IRC).
func (h *Host) IRCAddr() net.Addr {
	if h.irc == nil || h.irc.tls == nil {
		return nil
	}
	return h.irc.tls.Addr()
}

// IRCPlainAddr is the loopback address IRC clients connect to without
// TLS, nil when the room takes none (Config.IRCPlain).
func (h *Host) IRCPlainAddr() net.Addr {
	if h.irc == nil || h.irc.plain == nil {
		return nil
	}
	return h.irc.plain.Addr()
}

// IRCChannel is the room's name as an IRC channel, as IRC clients join it.
func (h *Host) IRCChannel() string { return irc.ChannelName(h.name) }

// IRCPins are what an IRC client is given to pin the room's certificate.
func (h *Host) IRCPins() IRCPins { return h.ircPins }

// IRCPins are the room certificate's fingerprints in the forms IRC
// clients take to pin it.
type IRCPins struct {
	// Cert is the SHA-256 of the certificate (its DER), in upper-case
	// hex pairs between colons: irssi's -tls_pinned_cert.
	Cert string
	// PubKey is the SHA-256 of the certificate's public key (its
	// SubjectPublicKeyInfo), written as Cert: irssi's -tls_pinned_pubkey.
	// It stays as long as the room key, even should the certificate be
	// made again (see loadOrCreateCert).
	PubKey string
	// CertHex is Cert in lower-case hex without colons: weechat's
	// tls_fingerprint (ssl_fingerprint before weechat 4.0), which takes
	// either case.
	CertHex string
}

func pinsOf(cert tls.Certificate) IRCPins {
	certSum := sha256.Sum256(cert.Leaf.Raw)
	keySum := sha256.Sum256(cert.Leaf.RawSubjectPublicKeyInfo)
	return IRCPins{
		Cert:    colonHex(certSum[:]),
		PubKey:  colonHex(keySum[:]),
		CertHex: hex.EncodeToString(certSum[:]),
	}
}

// colonHex writes b as "AB:CD:…", as irssi shows and compares
// fingerprints.
func colonHex(b []byte) string {
	pairs := make([]string, len(b))
	for i, c := range b {
		pairs[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(pairs, ":")
}
