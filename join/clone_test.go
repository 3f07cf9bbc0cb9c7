package join

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"chatroom/discovery"
	"chatroom/host/wire"
)

// These tests stand for another machine on the LAN that advertises a real
// room's id (copied from its record) with a key of its own, and for a
// joiner whose own machine answers at an address the room advertises (an
// idle docker0, 172.17.0.1 on every machine). They run over real TLS on
// loopback addresses; the same on real mDNS between namespaces is in
// ../clone_e2e_test.go.

// recordAt is the record of a room listening at addr (host:port) with key
// fingerprint.
func recordAt(t *testing.T, addr, fingerprint string) discovery.Room {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return discovery.Room{ID: testRoomID, Name: "Lab 3", Fingerprint: fingerprint, Version: wire.Version,
		Port: int(ap.Port()), Addrs: []netip.Addr{ap.Addr()}, Host: "lab.local.", Ifaces: []string{"lo"}}
}

func newKnown(t *testing.T) *KnownRooms {
	t.Helper()
	k, err := LoadKnownRooms(filepath.Join(t.TempDir(), KnownRoomsFile))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pinnedTo returns known rooms that remember the test room with key fp.
func pinnedTo(t *testing.T, fp string) *KnownRooms {
	t.Helper()
	k := newKnown(t)
	if _, err := k.Check(testRoomID, fp, "Lab 3", RefuseKeyChange); err != nil {
		t.Fatal(err)
	}
	return k
}

// shownKey is the fingerprint of the room conn reached.
func shownKey(conn net.Conn) string {
	return wire.Fingerprint(conn.(*tls.Conn).ConnectionState().PeerCertificates[0].RawSubjectPublicKeyInfo)
}

// TestPinnedRoomBesideClone: the room is known, and a clone answers first
// (its record listed first, as Browse may list it). The join goes to the
// room with the known key, and the person is told of the clone by both
// keys; the old client refused the room as "key changed, join with
// --accept-new-key" about half the time, which handed it to the clone.
func TestPinnedRoomBesideClone(t *testing.T) {
	realCert, realFP := roomKey(t)
	cloneCert, cloneFP := roomKey(t)
	realRoom, clone := newTLSRoom(t, realCert, 0), newTLSRoom(t, cloneCert, 0)
	records := []discovery.Room{recordAt(t, clone.addr, cloneFP), recordAt(t, realRoom.addr, realFP)}

	var warnings []string
	p := &Pinning{Known: pinnedTo(t, realFP), Warn: func(s string) { warnings = append(warnings, s) }}
	dial, err := p.DialFound(records, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := dial(context.Background())
	if err != nil {
		t.Fatalf("the room was not joined beside its clone: %v", err)
	}
	defer conn.Close()
	if got := shownKey(conn); got != realFP || conn.RemoteAddr().String() != realRoom.addr {
		t.Fatalf("joined %s at %s, want the room %s at %s", got, conn.RemoteAddr(), realFP, realRoom.addr)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], realFP) || !strings.Contains(warnings[0], cloneFP) || !strings.Contains(warnings[0], clone.addr) {
		t.Fatalf("warnings %q, want one naming both keys and the clone's address", warnings)
	}

	// The clone's record names the room's own key, with the clone's
	// address first: that address shows another key, and the next one
	// is tried, rather than the join refused.
	dial, err = p.DialFound([]discovery.Room{recordAt(t, clone.addr, realFP), records[1]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn, err = dial(context.Background())
	if err != nil {
		t.Fatalf("a record naming the room's key at the clone's address stopped the join: %v", err)
	}
	conn.Close()
}

// TestPinnedRoomAwayCloneThere: the room is advertised but does not
// answer, and a clone does. The join is refused, naming both keys, and
// never suggests --accept-new-key, which would hand the room to the clone.
func TestPinnedRoomAwayCloneThere(t *testing.T) {
	_, realFP := roomKey(t)
	cloneCert, cloneFP := roomKey(t)
	clone := newTLSRoom(t, cloneCert, 0)
	away := closedAddr(t)
	known := pinnedTo(t, realFP)
	p := &Pinning{Known: known}
	dial, err := p.DialFound([]discovery.Room{recordAt(t, clone.addr, cloneFP), recordAt(t, away, realFP)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = dial(context.Background())
	var clones *CloneError
	if !errors.As(err, &clones) || strings.Contains(err.Error(), "accept-new-key") ||
		!strings.Contains(err.Error(), realFP) || !strings.Contains(err.Error(), cloneFP) {
		t.Fatalf("got %v, want a *CloneError naming both keys and not suggesting --accept-new-key", err)
	}
	if trust, err := known.Check(testRoomID, realFP, "", RefuseKeyChange); err != nil || trust != TrustKnown {
		t.Fatalf("the known key was lost: %v, %v", trust, err)
	}

	// No record names the known key and one other key answers: that may
	// be the room's key changed, and the person may accept it.
	_, err = dial2(t, p, recordAt(t, clone.addr, cloneFP))
	var changed *KeyChangedError
	if !errors.As(err, &changed) || changed.Offered != cloneFP {
		t.Fatalf("got %v, want a *KeyChangedError", err)
	}
}

func dial2(t *testing.T, p *Pinning, records ...discovery.Room) (net.Conn, error) {
	t.Helper()
	dial, err := p.DialFound(records, nil)
	if err != nil {
		return nil, err
	}
	return dial(context.Background())
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestFirstVisitTwoKeys: nothing is known of the room, and its id is
// advertised with two keys. The old client joined whichever answered
// first and pinned it: about half the joins went to the clone. Now the
// join is refused, naming both keys and how to choose; nothing is dialed
// or pinned. With --fingerprint the person chooses, and that room is
// joined.
func TestFirstVisitTwoKeys(t *testing.T) {
	realCert, realFP := roomKey(t)
	cloneCert, cloneFP := roomKey(t)
	realRoom, clone := newTLSRoom(t, realCert, 0), newTLSRoom(t, cloneCert, 0)
	records := []discovery.Room{recordAt(t, clone.addr, cloneFP), recordAt(t, realRoom.addr, realFP)}
	known := newKnown(t)

	_, err := (&Pinning{Known: known}).DialFound(records, nil)
	var clones *CloneError
	if !errors.As(err, &clones) || !strings.Contains(err.Error(), realFP) || !strings.Contains(err.Error(), cloneFP) ||
		!strings.Contains(err.Error(), "--fingerprint") {
		t.Fatalf("got %v, want a *CloneError naming both keys and --fingerprint", err)
	}
	if err := known.Precheck(testRoomID, cloneFP, "", RefuseKeyChange); err != nil {
		t.Fatalf("a key was pinned: %v", err)
	}
	if _, err := (&Pinning{Known: known, AcceptNewKey: true}).DialFound(records, nil); !errors.As(err, &clones) {
		t.Fatalf("--accept-new-key chose a key: %v", err)
	}

	conn, err := dial2(t, &Pinning{Known: known, Fingerprint: realFP}, records...)
	if err != nil {
		t.Fatalf("--fingerprint did not choose: %v", err)
	}
	defer conn.Close()
	if shownKey(conn) != realFP {
		t.Fatalf("joined %s", shownKey(conn))
	}
	if trust, err := known.Check(testRoomID, realFP, "", RefuseKeyChange); err != nil || trust != TrustKnown {
		t.Fatalf("the chosen key was not pinned: %v, %v", trust, err)
	}
}

// TestOwnAddressDialedLast is the docker0 case: the room advertises an
// address that is also this machine's own, on an interface where the room
// was not found, and another room (this machine's) answers there with
// another key. It used to be dialed first (both addresses are on this
// machine's networks), and the join failed with a false "room key
// mismatch". It is now tried last, and the room is joined at its real
// address; where only that address answers, no mismatch is reported.
func TestOwnAddressDialedLast(t *testing.T) {
	realCert, realFP := roomKey(t)
	mineCert, _ := roomKey(t)
	realRoom := newTLSRoom(t, realCert, 0)
	_, port, _ := net.SplitHostPort(realRoom.addr)
	listenTLSAt(t, "127.0.0.2:"+port, mineCert)

	local := []LocalAddr{
		{Iface: "docker0", Prefix: netip.MustParsePrefix("127.0.0.2/8")},
		{Iface: "lo", Prefix: netip.MustParsePrefix("127.0.0.1/8")},
	}
	p, _ := strconv.Atoi(port)
	room := discovery.Room{ID: testRoomID, Name: "Lab 3", Fingerprint: realFP, Port: p, Ifaces: []string{"lo"},
		Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.1")}}
	conn, err := dialRoom(room, local)(context.Background())
	if err != nil {
		t.Fatalf("the join failed at this machine's own address: %v", err)
	}
	if conn.RemoteAddr().String() != realRoom.addr {
		t.Errorf("joined at %s, want %s", conn.RemoteAddr(), realRoom.addr)
	}
	conn.Close()

	room.Addrs = room.Addrs[:1] // only this machine answers
	_, err = dialRoom(room, local)(context.Background())
	var mismatch *KeyMismatchError
	if err == nil || errors.As(err, &mismatch) || !strings.Contains(err.Error(), "this machine's own address") {
		t.Fatalf("got %v, want no mismatch, but this machine named", err)
	}
}

// listenTLSAt is a TLS room with cert at addr, which accepts and closes.
func listenTLSAt(t *testing.T, addr string, cert *tls.Certificate) {
	t.Helper()
	ln, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{*cert}})
	if err != nil {
		t.Skipf("cannot listen at %s: %v", addr, err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
}

// TestReconnectOutlastsClone stands for a clone that answers while the
// host restarts: the member's session used to end at its first reconnect
// ("room key mismatch"). Now neither the clone's record nor its key at an
// address the room had is a permanent error, and the room, once back, is
// found among the records with its id and rejoined.
func TestReconnectOutlastsClone(t *testing.T) {
	realCert, realFP := roomKey(t)
	cloneCert, cloneFP := roomKey(t)
	clone := newTLSRoom(t, cloneCert, 0)
	known := pinnedTo(t, realFP)
	p := &Pinning{Known: known}

	// The room was joined; its record is now answered by the clone (the
	// host is away), alongside the clone's own.
	gone := recordAt(t, clone.addr, realFP)
	dial, err := p.DialFound([]discovery.Room{gone, recordAt(t, clone.addr, cloneFP)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.trusted.Store(true) // as after the first session
	_, err = dial(context.Background())
	if err == nil || keyError(err) {
		t.Fatalf("the last address, answered by a clone: %v, want an error that is not a key error", err)
	}

	var realRoom *tlsRoom
	check := func(r discovery.Room) error { return p.Check(RoomKey{ID: r.ID, Fingerprint: r.Fingerprint}, r.Name) }
	find := func(context.Context) ([]discovery.Room, error) {
		records := []discovery.Room{recordAt(t, clone.addr, cloneFP)}
		if realRoom != nil {
			records = append(records, recordAt(t, realRoom.addr, realFP))
		}
		return records, nil
	}
	way := &rejoin{rediscover: findByID(find, check, nil), roomID: testRoomID, dial: dial}
	_, err = way.attempt(context.Background(), wire.Frame{Name: "bob"})
	var perm *permanentError
	if err == nil || errors.As(err, &perm) || !strings.Contains(err.Error(), cloneFP) {
		t.Fatalf("attempt with only the clone there: %v, want a passing error naming the clone's key", err)
	}

	realRoom = newTLSRoom(t, realCert, 0) // the host is back, elsewhere
	redial, err := way.rediscover(context.Background(), testRoomID)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := redial(context.Background())
	if err != nil {
		t.Fatalf("the room, back beside its clone, was not found: %v", err)
	}
	defer conn.Close()
	if shownKey(conn) != realFP {
		t.Fatalf("rejoined %s", shownKey(conn))
	}
}

// TestDialErrorsInWords: what went wrong connecting is said in words, with
// the address, never as Go's "context deadline exceeded" or "connect:
// connection refused".
func TestDialErrorsInWords(t *testing.T) {
	refused := closedAddr(t)
	_, err := DialTLS(refused, "", nil)(context.Background())
	if want := "cannot connect to the room: " + refused + " refused the connection: no room is listening there"; err == nil || err.Error() != want {
		t.Errorf("refused: %v, want %q", err, want)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("the system's error is lost: %#v", err)
	}

	// Not a room: something that is not TLS answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(conn, "HTTP/1.1 400 Bad Request\r\n\r\n")
			conn.Close()
		}
	}()
	_, err = DialTLS(ln.Addr().String(), "", nil)(context.Background())
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) || !strings.Contains(err.Error(), "not a room") {
		t.Errorf("not TLS: %v", err)
	}

	for _, tt := range []struct {
		err  error
		want string
	}{
		{context.DeadlineExceeded, "no answer from 10.0.0.5:7465 within 10s"},
		{&net.OpError{Op: "dial", Err: syscall.EHOSTUNREACH}, "no route to 10.0.0.5"},
		{&net.OpError{Op: "dial", Err: syscall.ENETUNREACH}, "no route to 10.0.0.5"},
	} {
		got := describeDial("10.0.0.5:7465", tt.err)
		if !strings.HasPrefix(got, tt.want) || strings.Contains(got, "deadline") || strings.Contains(got, "connect:") {
			t.Errorf("%v: %q, want %q…", tt.err, got, tt.want)
		}
	}
}

// TestFindRoomKeepsClonesTogether: a clone's record is not another room to
// choose from (the person would be asked to pick between the room and
// itself): one id is one room, returned with all its records, for
// DialFound to tell apart by key.
func TestFindRoomKeepsClonesTogether(t *testing.T) {
	lab := discovery.Room{ID: "aaaa", Name: "Lab 3", Fingerprint: "SHA256:one"}
	clone := discovery.Room{ID: "aaaa", Name: "Lab 3", Fingerprint: "SHA256:two"}
	kitchen := discovery.Room{ID: "cccc", Name: "Kitchen"}
	records, err := FindRoom(context.Background(), found(lab, kitchen, clone), "lab 3", nil)
	if err != nil || len(records) != 2 || records[0].Fingerprint != lab.Fingerprint || records[1].Fingerprint != clone.Fingerprint {
		t.Fatalf("got %+v, %v; want both records of the room", records, err)
	}
	records, err = FindRoom(context.Background(), found(lab, clone), "", nil)
	if err != nil || len(records) != 2 {
		t.Fatalf("got %+v, %v; want the one room, not a choice", records, err)
	}
	var ambiguous *AmbiguousError
	if _, err := FindRoom(context.Background(), found(lab, clone, kitchen), "", nil); !errors.As(err, &ambiguous) || len(ambiguous.Rooms) != 2 {
		t.Fatalf("got %v, want a choice between two rooms", err)
	}
	if _, err := FindRoom(context.Background(), found(lab, clone), "attic", nil); err == nil || strings.Count(err.Error(), "Lab 3") != 1 {
		t.Fatalf("got %v, want the room named once", err)
	}
}

// What chatroom list shows, and what a person copies into --addr, is
// where join goes first: not the room's first advertised address when
// that is this machine's own docker0 (172.17.0.1 on every machine with
// one), and never this machine, even when the room advertises nothing
// else.
func TestShownAddrSkipsOwnMachine(t *testing.T) {
	local := []LocalAddr{
		{Iface: "docker0", Prefix: netip.MustParsePrefix("172.17.0.1/16")},
		{Iface: "eth0", Prefix: netip.MustParsePrefix("192.168.1.7/24")},
	}
	room := discovery.Room{ID: testRoomID, Name: "Lab 3", Port: 7465, Ifaces: []string{"eth0"},
		Addrs: []netip.Addr{netip.MustParseAddr("172.17.0.1"), netip.MustParseAddr("10.9.0.5"), netip.MustParseAddr("192.168.1.30")}}
	if got := ShownAddr(room, local); got != "192.168.1.30:7465" {
		t.Errorf("shown at %s, want its address on this machine's LAN, 192.168.1.30:7465", got)
	}
	if line := roomLine(room, nil, local); !strings.Contains(line, "\t192.168.1.30:7465\t") {
		t.Errorf("list line %q", line)
	}
	addrs, own := DialAddrs(room, local)
	if !slices.Equal(addrs, []string{"192.168.1.30:7465", "10.9.0.5:7465"}) || !slices.Equal(own, []string{"172.17.0.1:7465"}) {
		t.Errorf("dialed at %v, this machine's own %v", addrs, own)
	}
	room.Addrs = room.Addrs[:1]
	if got := ShownAddr(room, local); got != "-" {
		t.Errorf("a room advertised only at this machine's own address is shown at %s", got)
	}
}
