package join

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"chatroom/discovery"
	"chatroom/host/wire"
)

// The tests here play a room that wants to break the member's known-rooms
// file, or to pin a key of its own for a real room's id: a TLS server
// whose certificate names any id it likes, and an mDNS record (a
// discovery.Room) that anyone on the LAN can send with no server at all.

// hostileIDs are room ids as a hostile room may state them: Unicode spaces
// that strings.Fields and TrimSpace take for separators (no-break space,
// next line, line separator), a leading space or "#" (a comment in the
// file), more than bufio.Scanner's 64 KB line, terminal escapes, and ids
// of the wrong length or case. Each once made known-rooms unreadable, or
// dropped a pin, and with it every later join.
var hostileIDs = []string{
	"\u00a0" + testRoomID[1:],
	testRoomID[:15] + "\u00a0",
	"\u0085" + testRoomID[1:],
	testRoomID + "\u2028",
	" " + testRoomID[1:],
	"#" + testRoomID[1:],
	strings.Repeat("a", 70000),
	"\x1b]0;pwned\a\x1b[2J",
	strings.ToUpper(testRoomID),
	testRoomID + "0",
	"0",
}

// certNaming makes a self-signed Ed25519 certificate whose common name is
// commonName, as a hostile room may, with its fingerprint.
func certNaming(t *testing.T, commonName string) (*tls.Certificate, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf},
		wire.Fingerprint(leaf.RawSubjectPublicKeyInfo)
}

// knownWithOne returns known rooms at a fresh path that remember one room
// (not testRoomID), and the file's contents.
func knownWithOne(t *testing.T) (*KnownRooms, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), KnownRoomsFile)
	k, err := LoadKnownRooms(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Check("00000000000000aa", wire.Fingerprint([]byte("kitchen")), "Kitchen", RefuseKeyChange); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return k, data
}

// checkFileIntact fails the test unless the file at k.path is still data,
// reads without a warning, and still knows the room knownWithOne put in.
func checkFileIntact(t *testing.T, k *KnownRooms, data []byte) {
	t.Helper()
	if got, err := os.ReadFile(k.path); err != nil || string(got) != string(data) {
		t.Fatalf("the known rooms file changed (%v):\n%.300q", err, got)
	}
	again, err := LoadKnownRooms(k.path)
	if err != nil || len(again.Warnings()) > 0 {
		t.Fatalf("the known rooms file no longer reads: %v, %q", err, again.Warnings())
	}
	if trust, err := again.Check("00000000000000aa", wire.Fingerprint([]byte("kitchen")), "", RefuseKeyChange); err != nil || trust != TrustKnown {
		t.Fatalf("the room known before is lost: %v, %v", trust, err)
	}
}

// oneCleanLine fails the test unless err is one line with nothing a
// terminal would act on: an error from a hostile room is printed.
func oneCleanLine(t *testing.T, err error) {
	t.Helper()
	if s := err.Error(); strings.Contains(s, "\n") || Sanitize(s) != s || len(s) > 1000 {
		t.Fatalf("error is not one clean line: %.300q", s)
	}
}

// TestHostileIDsRefusedByCheck stands for a room (or a record) that states
// a hostile id, or a key not named as a room's key is ("0", no
// "SHA256:"), to be pinned: Check and Precheck refuse it, in one line, and
// the file, with the rooms already in it, stays as it was and readable.
// Check("0", "0", "0", true) made the next load fail "known-rooms:4 is
// damaged"; an id with U+00A0 read back stripped; U+2028, U+0085 and a
// 70 KB id made the file unreadable.
func TestHostileIDsRefusedByCheck(t *testing.T) {
	key := wire.Fingerprint([]byte("hostile"))
	for _, id := range hostileIDs {
		k, data := knownWithOne(t)
		if err := k.Precheck(id, key, "Lab 3", AcceptKeyChange); err == nil {
			t.Errorf("Precheck took id %.40q", id)
		}
		_, err := k.Check(id, key, "Lab 3", AcceptKeyChange)
		if err == nil {
			t.Errorf("Check took id %.40q", id)
			continue
		}
		oneCleanLine(t, err)
		checkFileIntact(t, k, data)
	}
	for _, fp := range []string{"0", "", "SHA256:", "SHA256:x", "sha256:" + key[7:], key + "=", key[:20] + " " + key[21:], key + "\n" + testRoomID} {
		k, data := knownWithOne(t)
		if _, err := k.Check(testRoomID, fp, "Lab 3", AcceptKeyChange); err == nil {
			t.Errorf("Check took key %q", fp)
			continue
		}
		checkFileIntact(t, k, data)
	}
}

// TestHostileNameKeptToOneLine stands for a room whose name is 70 KB of
// text with line separators and no-break spaces: written as given, the
// line passed bufio.Scanner's 64 KB limit and the whole file was
// unreadable. The name is kept cut, on one line, and reads back as kept.
func TestHostileNameKeptToOneLine(t *testing.T) {
	k, _ := knownWithOne(t)
	name := strings.Repeat("名\u2028\u0085\u00a0 x", 7000)
	if _, err := k.Check(testRoomID, wire.Fingerprint([]byte("lab")), name, RefuseKeyChange); err != nil {
		t.Fatal(err)
	}
	again, err := LoadKnownRooms(k.path)
	if err != nil || len(again.Warnings()) > 0 {
		t.Fatalf("the file no longer reads: %v, %q", err, again.Warnings())
	}
	got := again.rooms[testRoomID].name
	if got != k.rooms[testRoomID].name || len(got) > maxKnownName || strings.ContainsAny(got, "\u2028\u0085\u00a0\n") {
		t.Fatalf("name kept as %.80q (%d bytes)", got, len(got))
	}
	if trust, err := again.Check("00000000000000aa", wire.Fingerprint([]byte("kitchen")), "", RefuseKeyChange); err != nil || trust != TrustKnown {
		t.Fatalf("the room known before is lost: %v, %v", trust, err)
	}
}

// TestHostileCertIDRefusedBeforeHello stands for a hostile TLS room whose
// certificate names a hostile id, or none, joined by address as `chatroom
// join --addr` does: the join is refused during the handshake, with one
// line that does not repeat the id, before a hello (a name, a password) is
// sent; nothing is written to known-rooms; and a real room is joined
// afterwards as ever.
func TestHostileCertIDRefusedBeforeHello(t *testing.T) {
	names := []string{"", "chatroom room ", "chatroom member", "Lab 3"}
	for _, id := range hostileIDs {
		names = append(names, wire.CertName(id))
	}
	for _, cn := range names {
		k, data := knownWithOne(t)
		cert, fp := certNaming(t, cn)
		room := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
			if f, ok := h.read(); ok {
				t.Errorf("certificate %.40q: the room was sent %s", cn, f.Type)
			}
		})
		pins := &Pinning{Known: k}
		dial := pins.remembering(dialTLSVerified(room.addr, func(key RoomKey) error { return pins.Check(key, "") }), "")
		err := result(t, joinAsync(context.Background(), dial, Options{Name: "bob", Password: "secret"}, newFakeUI(t)))
		var broken *BrokenRoomError
		if !errors.As(err, &broken) {
			t.Fatalf("certificate %.40q: Join says %v, want the room refused as broken", cn, err)
		}
		oneCleanLine(t, err)
		if strings.Contains(err.Error(), "pwned") || (len(cn) > 16 && strings.Contains(err.Error(), cn[len(cn)-16:])) {
			t.Errorf("the error repeats what the room said: %q", err)
		}
		room.stop()
		checkFileIntact(t, k, data)
	}

	// The file still works: a real room is a first visit, and pinned.
	k, _ := knownWithOne(t)
	cert, fp := roomKey(t)
	room := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
		h.welcomeAs(1, nil)
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	pins := &Pinning{Known: k}
	dial := pins.remembering(dialTLSVerified(room.addr, func(key RoomKey) error { return pins.Check(key, "") }), "")
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), dial, Options{Name: "bob"}, ui)
	waitPrinted(t, ui, "joined")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	if trust, err := k.Check(testRoomID, fp, "", RefuseKeyChange); err != nil || trust != TrustKnown {
		t.Fatalf("the real room was not pinned: %v, %v", trust, err)
	}
}

// closedPort returns a loopback port that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// TestHostileRecordPinsNothing stands for an mDNS record sent by a script,
// no server needed, that names a real room's id with a key of the
// sender's. It used to be pinned at once, before any connection (main
// checked the record with KnownRooms.Check, which saves a new room), so
// the real room was refused ever after as "key changed". Followed as
// `chatroom join` follows it (Pinning.Check on the record, then dialRoom
// wrapped in Pinning.Dialer), it pins nothing, whether nothing answers at its
// address or a server answers there with another key than the record's;
// the real room is then a first visit, and pinned.
func TestHostileRecordPinsNothing(t *testing.T) {
	cert, fp := roomKey(t)
	_, bogus := roomKey(t)
	loopback := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	otherCert, _ := roomKey(t) // a server whose key is neither the record's nor the room's
	other := newTLSFakeRoom(t, otherCert, "", func(h *fakeHost) {
		if f, ok := h.read(); ok {
			t.Errorf("the impostor was sent %s", f.Type)
		}
	})
	for _, port := range []int{closedPort(t), portOf(t, other.addr)} {
		record := discovery.Room{ID: testRoomID, Name: "Lab 3", Fingerprint: bogus, Version: wire.Version, Addrs: loopback, Port: port}
		k, data := knownWithOne(t)
		pins := &Pinning{Known: k}
		if err := pins.Check(RoomKey{ID: record.ID, Fingerprint: record.Fingerprint}, record.Name); err != nil {
			t.Fatalf("a new room's record: %v", err)
		}
		if _, err := pins.remembering(dialRoom(record, nil), record.Name)(context.Background()); err == nil {
			t.Fatal("dialed the hostile record's room")
		}
		checkFileIntact(t, k, data)

		// The real room, found now.
		real := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
			h.welcomeAs(1, nil)
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
		})
		found := record
		found.Fingerprint, found.Port = fp, portOf(t, real.addr)
		if err := pins.Check(RoomKey{ID: found.ID, Fingerprint: found.Fingerprint}, found.Name); err != nil {
			t.Fatalf("the real room is refused after the hostile record: %v", err)
		}
		ui := newFakeUI(t)
		done := joinAsync(context.Background(), pins.remembering(dialRoom(found, nil), found.Name), Options{Name: "bob"}, ui)
		waitPrinted(t, ui, "joined")
		ui.endInput()
		if err := result(t, done); err != nil {
			t.Fatal(err)
		}
		real.stop()
		if trust, err := k.Check(testRoomID, fp, "", RefuseKeyChange); err != nil || trust != TrustKnown {
			t.Fatalf("the real room was not pinned: %v, %v", trust, err)
		}
	}
}

// garbageSigner holds a room's public key and not its private key: it
// signs with noise, as a room that copies another room's certificate (a
// certificate is public) must.
type garbageSigner struct{ pub crypto.PublicKey }

func (s garbageSigner) Public() crypto.PublicKey { return s.pub }
func (s garbageSigner) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	sig := make([]byte, ed25519.SignatureSize)
	rand.Read(sig)
	return sig, nil
}

// TestKeyNotHeldIsNotPinned stands for a room that shows a certificate for
// a key it does not hold. The TLS handshake's checks (VerifyConnection)
// run before the room's signature is verified, so a pin saved there would
// be a key no room proved: joined by address, the dial fails and nothing
// is remembered.
func TestKeyNotHeldIsNotPinned(t *testing.T) {
	cert, fp := roomKey(t)
	copied := *cert
	copied.PrivateKey = garbageSigner{pub: cert.Leaf.PublicKey}
	room := newTLSFakeRoom(t, &copied, fp, func(h *fakeHost) {
		if f, ok := h.read(); ok {
			t.Errorf("the room was sent %s", f.Type)
		}
	})
	k, data := knownWithOne(t)
	pins := &Pinning{Known: k}
	dial := pins.remembering(dialTLSVerified(room.addr, func(key RoomKey) error { return pins.Check(key, "") }), "")
	if _, err := dial(context.Background()); err == nil {
		t.Fatal("a room that cannot sign with its key was joined")
	}
	room.stop()
	checkFileIntact(t, k, data)
}

// TestDamagedPinRefusesRoom stands for a room that answers as a room whose
// line in known-rooms is damaged (a crash, a bad edit): its remembered key
// cannot be read, and taking the key it shows as a first visit would hand
// the pin to whoever answers. The room is refused before a hello, with one
// line naming the file's line, even with --accept-new-key; the other rooms
// still count, and the damaged line is still in the file after another
// room is pinned.
func TestDamagedPinRefusesRoom(t *testing.T) {
	k, data := knownWithOne(t)
	damaged := testRoomID + " SHA256:AAAA 2026-01-01T00:00:00Z Lab 3"
	data = append(data, damaged+"\n"...)
	if err := os.WriteFile(k.path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := LoadKnownRooms(k.path)
	if err != nil {
		t.Fatal(err)
	}
	if w := k.Warnings(); len(w) != 1 || !strings.Contains(w[0], ":3 is damaged and was skipped") || !strings.Contains(w[0], testRoomID) {
		t.Fatalf("warnings %q", w)
	}

	cert, fp := roomKey(t)
	room := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
		if f, ok := h.read(); ok {
			t.Errorf("the room was sent %s", f.Type)
		}
	})
	pins := &Pinning{Known: k, AcceptNewKey: true}
	dial := pins.remembering(dialTLSVerified(room.addr, func(key RoomKey) error { return pins.Check(key, "") }), "")
	err = result(t, joinAsync(context.Background(), dial, Options{Name: "bob"}, newFakeUI(t)))
	var unreadable *UnreadablePinError
	if !errors.As(err, &unreadable) || !strings.Contains(err.Error(), KnownRoomsFile+":3 is damaged") {
		t.Fatalf("Join says %v, want the room refused for line 3", err)
	}
	oneCleanLine(t, err)
	room.stop()
	if err := pins.Check(RoomKey{ID: testRoomID, Fingerprint: fp}, "Lab 3"); !errors.As(err, &unreadable) {
		t.Fatalf("the room's record: %v, want it refused", err)
	}

	if _, err := k.Check("00000000000000bb", wire.Fingerprint([]byte("new")), "Hall", RefuseKeyChange); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(k.path)
	if !strings.Contains(string(got), "\n"+damaged+"\n") {
		t.Fatalf("the damaged line is gone:\n%s", got)
	}
	if trust, err := k.Check("00000000000000aa", wire.Fingerprint([]byte("kitchen")), "", RefuseKeyChange); err != nil || trust != TrustKnown {
		t.Fatalf("the room known before is lost: %v, %v", trust, err)
	}
}

// TestWelcomeNamesCertificateRoom stands for a hostile room whose
// certificate names one room and whose welcome another: reconnecting would
// look for the welcome's id, and pin keys by the certificate's.
func TestWelcomeNamesCertificateRoom(t *testing.T) {
	for _, id := range []string{"00000000000000cc", "", "\u00a0" + testRoomID[1:]} {
		cert, fp := roomKey(t)
		room := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) { h.welcomeAs(1, func(w *wire.Frame) { w.Room.ID = id }) })
		err := result(t, joinAsync(context.Background(), room.dialer(), Options{Name: "bob"}, newFakeUI(t)))
		var broken *BrokenRoomError
		if !errors.As(err, &broken) {
			t.Fatalf("welcome naming room %q: Join says %v, want the room refused as broken", id, err)
		}
	}
}
