package join

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chatroom/host/wire"
)

// testRoomID is the room id that roomKey's certificates name.
const testRoomID = "0123456789abcdef"

// roomKey makes a self-signed Ed25519 certificate, as a host does, and
// returns it with its fingerprint.
func roomKey(t *testing.T) (*tls.Certificate, string) {
	t.Helper()
	return certNaming(t, wire.CertName(testRoomID))
}

// tlsRoom is a TLS listener on loopback whose certificate can be swapped,
// and which echoes one line per connection so a test can see the
// connection works.
type tlsRoom struct {
	addr string
	cert atomic.Pointer[tls.Certificate]
}

func newTLSRoom(t *testing.T, cert *tls.Certificate, maxVersion uint16) *tlsRoom {
	t.Helper()
	r := &tlsRoom{}
	r.cert.Store(cert)
	config := &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return r.cert.Load(), nil },
		MaxVersion:     maxVersion,
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", config)
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				io.Copy(conn, conn)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return r
}

// echo checks that conn carries data both ways.
func echo(t *testing.T, conn net.Conn) {
	t.Helper()
	if _, err := io.WriteString(conn, "ping\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "ping\n" {
		t.Fatalf("echo: %q, %v", buf, err)
	}
}

func TestDialTLSFingerprint(t *testing.T) {
	cert, fp := roomKey(t)
	_, otherFP := roomKey(t)
	room := newTLSRoom(t, cert, 0)
	ctx := context.Background()

	t.Run("right key", func(t *testing.T) {
		conn, err := DialTLS(room.addr, fp, func(string) { t.Error("accepted called though a fingerprint was given") })(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if v := conn.(*tls.Conn).ConnectionState().Version; v != tls.VersionTLS13 {
			t.Errorf("TLS version %x, want 1.3", v)
		}
		echo(t, conn)
	})

	t.Run("wrong key", func(t *testing.T) {
		conn, err := DialTLS(room.addr, otherFP, nil)(ctx)
		if err == nil {
			conn.Close()
			t.Fatal("connected to a room with another key")
		}
		want := "room key mismatch: expected " + otherFP + ", got " + fp
		if err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
		var mismatch *KeyMismatchError
		if !errors.As(err, &mismatch) || mismatch.Expected != otherFP || mismatch.Got != fp {
			t.Errorf("error %#v, want a *KeyMismatchError", err)
		}
	})

	t.Run("no key given", func(t *testing.T) {
		var accepted []string
		conn, err := DialTLS(room.addr, "", func(got string) { accepted = append(accepted, got) })(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		echo(t, conn)
		if len(accepted) != 1 || accepted[0] != fp {
			t.Errorf("accepted %q, want [%s]", accepted, fp)
		}
	})
}

// TestDialTLSHoldsFirstKey: a Dialer that accepted a key on first sight
// refuses another key on a later dial (a retry with another name).
func TestDialTLSHoldsFirstKey(t *testing.T) {
	cert, fp := roomKey(t)
	other, otherFP := roomKey(t)
	room := newTLSRoom(t, cert, 0)
	var accepted []string
	dial := DialTLS(room.addr, "", func(got string) { accepted = append(accepted, got) })

	for range 2 {
		conn, err := dial(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	if len(accepted) != 1 || accepted[0] != fp {
		t.Errorf("accepted %q, want the key once", accepted)
	}

	room.cert.Store(other)
	conn, err := dial(context.Background())
	if err == nil {
		conn.Close()
		t.Fatal("a changed key was accepted")
	}
	if want := "room key mismatch: expected " + fp + ", got " + otherFP; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestDialTLSRequiresTLS13(t *testing.T) {
	cert, fp := roomKey(t)
	room := newTLSRoom(t, cert, tls.VersionTLS12)
	conn, err := DialTLS(room.addr, fp, nil)(context.Background())
	if err == nil {
		conn.Close()
		t.Fatal("connected over TLS 1.2")
	}
	if !strings.HasPrefix(err.Error(), "cannot connect to the room: ") {
		t.Errorf("error %q", err)
	}
}

func TestDialTLSNoListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = DialTLS(addr, "", nil)(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "cannot connect to the room: ") {
		t.Errorf("error %v", err)
	}
}

// TestJoinOverTLS runs a whole session over a real TLS connection: the
// pieces fit together as the command line wires them.
func TestJoinOverTLS(t *testing.T) {
	cert, fp := roomKey(t)
	config := &tls.Config{Certificates: []tls.Certificate{*cert}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", config)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hostDone := make(chan struct{})
	go func() {
		defer close(hostDone)
		conn, err := ln.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		h := &fakeHost{t: t, conn: conn, dec: wire.NewDecoder(conn, wire.MaxClientFrame)}
		h.welcome(1, ana)
		h.expect(wire.TypeSay, "hi")
		h.send(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 2, Time: testTime, From: "bob", Text: "hi"})
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	}()
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), DialTLS(ln.Addr().String(), fp, nil), Options{Name: "bob"}, ui)
	typeLines(ui, "hi", "/quit")
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	<-hostDone
	if out := ui.output(); len(out) != 2 || !strings.HasSuffix(out[1], " <bob> hi") {
		t.Errorf("printed %q", out)
	}
}
