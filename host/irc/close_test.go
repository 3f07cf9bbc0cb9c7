package irc

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// readToEnd reads what the gateway writes to conn up to the end of the
// connection, and fails the test if it does not end.
func readToEnd(t *testing.T, conn net.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(testWait))
	b, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was not closed; it got %q", b)
	}
	return string(b)
}

// A client the gateway accepted just before Close, whose session had not
// started yet when Close came (and which had sent its NICK and USER
// already), is told why it goes, as every client in the room is.
func TestCloseTellsClientWhoseSessionHadNotStarted(t *testing.T) {
	g := New(Config{Dial: func(context.Context, Peer) (net.Conn, error) {
		return nil, errors.New("no room in this test")
	}})
	ours, client := net.Pipe()
	defer client.Close()
	// As Serve does: admitted (and so counted in g.wg), then its
	// session's goroutine started...
	got, slot := g.admit(ours, "pipe")
	if got != admitted {
		t.Fatalf("admit: %v", got)
	}
	closed := make(chan struct{})
	go func() {
		g.Close()
		close(closed)
	}()
	<-g.closing
	// ...which runs only once Close has begun.
	go client.Write([]byte("NICK cy\r\nUSER cy 0 * :Cy\r\n"))
	go g.serveConn(ours, slot)
	if got := readToEnd(t, client); got != closingLine {
		t.Fatalf("the client got %q, want %q", got, closingLine)
	}
	select {
	case <-closed:
	case <-time.After(testWait):
		t.Fatal("Close did not return")
	}
}

// A connection Serve accepts as Close comes (the listener had it before
// it was closed) is told why it goes, rather than closed without a word.
func TestCloseTellsClientAcceptedAsItCloses(t *testing.T) {
	g := New(Config{})
	ours, client := net.Pipe()
	defer client.Close()
	ln := &lateListener{g: g, conn: ours, closed: make(chan struct{})}
	served := make(chan error, 1)
	go func() { served <- g.Serve(ln) }()
	ln.waitAccepting(t)
	go g.Close()
	if got := readToEnd(t, client); got != closingLine {
		t.Fatalf("the client got %q, want %q", got, closingLine)
	}
	select {
	case <-served:
	case <-time.After(testWait):
		t.Fatal("Serve did not return after Close")
	}
}

// lateListener accepts its one connection only once the gateway has
// begun to close, as a listener may when a client connects in the same
// instant, and nothing after it.
type lateListener struct {
	g         *Gateway
	conn      net.Conn
	closed    chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	accepting bool
	handedOut bool
}

func (l *lateListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.accepting = true
	first := !l.handedOut
	l.handedOut = true
	l.mu.Unlock()
	if first {
		<-l.g.closing
		return l.conn, nil
	}
	<-l.closed
	return nil, net.ErrClosed
}

func (l *lateListener) waitAccepting(t *testing.T) {
	t.Helper()
	for range 500 {
		l.mu.Lock()
		ok := l.accepting
		l.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("Serve never called Accept")
}

func (l *lateListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *lateListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// Over TLS, when the gateway closes: a client that has done its handshake
// and is registering is told why; one that connected and is still in its
// handshake (a slow phone, or a client that connects and says nothing
// until the registration deadline) is closed at once, as there is no
// way to tell it anything, and Close does not wait for it.
func TestCloseOverTLS(t *testing.T) {
	tg := startGateway(t, Config{RegistrationTimeout: time.Minute, TLS: &tls.Config{
		Certificates: []tls.Certificate{testCert(t, "room", x509.ExtKeyUsageServerAuth)},
	}})
	registering, err := tls.Dial("tcp", tg.addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer registering.Close()
	registering.Write([]byte("NICK cy\r\nPING :in\r\n"))
	r := bufio.NewReader(registering)
	registering.SetReadDeadline(time.Now().Add(testWait))
	if line, err := r.ReadString('\n'); err != nil || !strings.Contains(line, "PONG") {
		t.Fatalf("the registering client got %q, %v", line, err)
	}

	handshaking, err := net.Dial("tcp", tg.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer handshaking.Close()
	waitFor(t, "the gateway to begin the TLS handshake", func() bool {
		tg.g.mu.Lock()
		defer tg.g.mu.Unlock()
		return len(tg.g.handshaking) == 1
	})

	start := time.Now()
	tg.g.Close()
	if took := time.Since(start); took >= closeWait {
		t.Errorf("Close took %v: it waited for a client in its TLS handshake", took)
	}
	if got := readToEnd(t, handshaking); got != "" {
		t.Errorf("the client in its handshake got %q", got)
	}
	registering.SetReadDeadline(time.Now().Add(testWait))
	rest, _ := io.ReadAll(r)
	if string(rest) != closingLine {
		t.Errorf("the registering client got %q, want %q", rest, closingLine)
	}
}

// waitFor polls cond for a few seconds at most.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("waited in vain for %s", what)
}

// onceListener hands out conn once, then waits for Close.
type onceListener struct {
	conn      net.Conn
	handedOut sync.Once
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *onceListener) Accept() (net.Conn, error) {
	var c net.Conn
	l.handedOut.Do(func() { c = l.conn })
	if c != nil {
		return c, nil
	}
	<-l.closed
	return nil, net.ErrClosed
}

func (l *onceListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *onceListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// Close as Serve admits a connection: the session is counted before Close
// can wait for the sessions (it was counted after the gateway's lock, so
// that a host closing as a client came could find, under -race, Add racing
// Wait, and Close return while the session went on).
func TestCloseRacingAnAccept(t *testing.T) {
	for range 100 {
		g := New(Config{Dial: func(context.Context, Peer) (net.Conn, error) {
			return nil, errors.New("no room in this test")
		}})
		ours, client := net.Pipe()
		ln := &onceListener{conn: ours, closed: make(chan struct{})}
		served := make(chan error, 1)
		go func() { served <- g.Serve(ln) }()
		go io.Copy(io.Discard, client)
		deadline := time.Now().Add(testWait)
		for admitted := false; !admitted; {
			if time.Now().After(deadline) {
				t.Fatal("Serve never admitted the connection")
			}
			g.mu.Lock()
			admitted = g.netConns[ours]
			g.mu.Unlock()
		}
		g.Close()
		client.Close()
		select {
		case <-served:
		case <-time.After(testWait):
			t.Fatal("Serve did not return after Close")
		}
	}
}
