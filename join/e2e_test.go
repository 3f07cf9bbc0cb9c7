package join

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/discovery"
	"chatroom/discovery/netns"
	"chatroom/host"
	"chatroom/host/wire"
)

// These tests run the real client (Join, with reconnecting on) against a
// real host over TLS on 127.0.0.1, break the connection in the middle of a
// stream of messages, and compare what the person was shown with what the
// room said: the say events in the history the host saves when it closes.
// Every message must have been shown once, in order.

// startTestHost hosts a room on dir with rate limits out of the way.
func startTestHost(t *testing.T, dir string) *host.Host {
	t.Helper()
	h, err := host.Start(host.Config{
		Name: "Lab 3", StateDir: dir, Listen: "127.0.0.1:0",
		Limits: wire.Limits{Burst: 1 << 20, PerSecond: 1 << 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// talk joins h as name and sends "<prefix><i>" for i in [from, to), then
// "<prefix>end", as fast as the connection takes them, reading (and
// dropping) whatever the room sends. It stops at the first error: a host
// closing under it is what the tests do.
func talk(t *testing.T, h *host.Host, name, prefix string, from, to int) <-chan struct{} {
	t.Helper()
	conn, err := tls.Dial("tcp", h.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	hello, _ := wire.Encode(&wire.Frame{Type: wire.TypeHello, Version: wire.Version, Name: name})
	if _, err := conn.Write(hello); err != nil {
		t.Fatal(err)
	}
	go func() {
		r := bufio.NewReader(conn)
		for {
			if _, err := r.ReadSlice('\n'); err != nil && err != bufio.ErrBufferFull {
				return
			}
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := from; i <= to; i++ {
			text := prefix + strconv.Itoa(i)
			if i == to {
				text = prefix + "end"
			}
			line, _ := wire.Encode(&wire.Frame{Type: wire.TypeSay, Text: text})
			if _, err := conn.Write(line); err != nil {
				return
			}
			if i%10 == 0 {
				time.Sleep(time.Millisecond) // a stream, not one burst
			}
		}
	}()
	return done
}

// roomSays reads the history a closed host saved in dir and returns its
// say events as shownTexts prints them ("cy m1").
func roomSays(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var says []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, wire.MaxHostFrame)
	for first := true; sc.Scan(); first = false {
		if first {
			continue // the header
		}
		f, err := wire.Parse(sc.Bytes())
		if err != nil {
			t.Fatalf("history: %v", err)
		}
		if f.Kind == wire.KindSay {
			says = append(says, f.From+" "+f.Text)
		}
	}
	return says
}

// checkShownExactly compares what ui showed with what the room said.
func checkShownExactly(t *testing.T, ui *fakeUI, dir string) {
	t.Helper()
	want := roomSays(t, dir)
	got := shownTexts(ui)
	if !slices.Equal(got, want) {
		t.Fatalf("shown %d messages, the room has %d; first difference at %d\nshown: %q\nroom:  %q", len(got), len(want), firstDiff(got, want), got, want)
	}
	if len(want) < 100 {
		t.Fatalf("the room has only %d messages: the stream did not run", len(want))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// The member's connection is cut in the middle of a stream; the client
// reconnects (taking its own place, which the host has not yet seen
// empty) and resumes: every message shown once, in order.
func TestEndToEndConnectionCut(t *testing.T) {
	dir := t.TempDir()
	h := startTestHost(t, dir)
	var (
		mu   sync.Mutex
		last net.Conn
	)
	base := DialTLS(h.Addr().String(), h.Fingerprint(), nil, WithIdentity(testIdentity(t)))
	dial := func(ctx context.Context) (net.Conn, error) {
		conn, err := base(ctx)
		mu.Lock()
		last = conn
		mu.Unlock()
		return conn, err
	}
	ui := newFakeUI(t)
	cut := sync.OnceFunc(func() {
		mu.Lock()
		defer mu.Unlock()
		last.Close() // under the client's feet, mid-stream
	})
	ui.onPrint = func(l string) {
		if l != "" && containsAll(l, "<cy>", "m40") {
			go cut()
		}
	}
	done := joinAsync(context.Background(), dial, Options{Name: "bob", Reconnect: testReconnect()}, ui)
	waitPrinted(t, ui, "joined")
	<-talk(t, h, "cy", "m", 0, 300)
	waitPrinted(t, ui, "mend")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if !slices.ContainsFunc(ui.output(), func(l string) bool { return containsAll(l, "back in the room") }) {
		t.Fatalf("the client never reconnected: %q", ui.output())
	}
	h.Close()
	checkShownExactly(t, ui, dir)
}

// The host is closed in the middle of a stream and comes back, with its
// state, on another port, where the client finds it by its room id over
// mDNS (in this test's own network namespace), checks its key and resumes:
// every message shown once, in order, across both hosts.
func TestEndToEndHostRestartsElsewhere(t *testing.T) {
	netns.Require(t)
	dir := t.TempDir()
	h1 := startTestHost(t, dir)
	id, fp := h1.RoomID(), h1.Fingerprint()
	lo := discovery.Options{Interfaces: []string{"lo"}}
	me := testIdentity(t)
	rec := testReconnect()
	rec.Rediscover = findByID(func(ctx context.Context) ([]discovery.Room, error) {
		return discovery.Browse(ctx, lo)
	}, func(r discovery.Room) error {
		if r.Fingerprint != fp {
			return fmt.Errorf("room %s shows another key", r.ID)
		}
		return nil
	}, nil, WithIdentity(me))

	ui := newFakeUI(t)
	restarted := make(chan *host.Host, 1)
	restart := sync.OnceFunc(func() {
		h1.Close() // mid-stream: cy is still talking
		h2 := startTestHost(t, dir)
		_, portStr, _ := net.SplitHostPort(h2.Addr().String())
		port, _ := strconv.Atoi(portStr)
		ad, err := discovery.Advertise(discovery.Room{ID: id, Name: "Lab 3", Fingerprint: h2.Fingerprint(), Version: wire.Version, Port: port}, lo)
		if err != nil {
			t.Error(err)
		} else {
			t.Cleanup(func() { ad.Close() })
		}
		restarted <- h2
	})
	ui.onPrint = func(l string) {
		if containsAll(l, "<cy>", "m60") {
			go restart()
		}
	}
	dial := DialTLS(h1.Addr().String(), fp, nil, WithIdentity(me))
	done := joinAsync(context.Background(), dial, Options{Name: "bob", Reconnect: rec}, ui)
	waitPrinted(t, ui, "joined")
	<-talk(t, h1, "cy", "m", 0, 200) // ends early when h1 closes under it
	var h2 *host.Host
	select {
	case h2 = <-restarted:
	case <-time.After(testWait):
		t.Fatal("the host was never restarted: the stream did not reach m60")
	}
	waitPrinted(t, ui, "back in the room")
	<-talk(t, h2, "dee", "n", 0, 100)
	waitPrinted(t, ui, "nend")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	h2.Close()
	checkShownExactly(t, ui, dir)
	// The restarted host continued the room's history: the client resumed
	// rather than being treated as a newcomer and shown the backlog.
	for _, l := range ui.output() {
		if strings.HasPrefix(l, "earlier: ") || strings.Contains(l, "history since you left was lost") {
			t.Fatalf("the client did not resume across the restart: %q", l)
		}
	}
}

// testWait only turns a hang into a failure.
const testWait = 20 * time.Second

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// testIdentity is a member's identity key, made once per test.
func testIdentity(t *testing.T) tls.Certificate {
	t.Helper()
	cert, err := LoadOrCreateIdentity(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// Private messages survive a break on both sides. A proxy between the
// client (bob) and the host holds back everything from the host while bob
// sends "/msg cy p10" and cy sends "/msg bob secret"; once the room has
// handled both, the proxy cuts bob's connection. Resuming, bob does not
// send p10 again (the welcome says the room took it: no replay can show
// it), and is sent what he missed: his own copy of p10 and cy's secret,
// each once, where they came. cy gets every message from bob exactly once.
func TestEndToEndPrivateMessagesAcrossABreak(t *testing.T) {
	h := startTestHost(t, t.TempDir())
	proxy := startHoldingProxy(t, h.Addr().String())

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := DialTLS(h.Addr().String(), h.Fingerprint(), nil)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cy, err := Connect(ctx, conn, wire.Frame{Name: "cy"})
	if err != nil {
		t.Fatal(err)
	}
	defer cy.Close()
	got, echoed := make(chan string, 100), make(chan string, 100)
	go func() {
		for {
			f, err := cy.Next()
			if err != nil {
				return
			}
			if f.Type == wire.TypePrivate {
				map[bool]chan string{true: got, false: echoed}[f.From == "bob"] <- f.Text
			}
		}
	}()
	receive := func(from chan string, want string) {
		t.Helper()
		select {
		case text := <-from:
			if text != want {
				t.Fatalf("cy got %q, want %q", text, want)
			}
		case <-ctx.Done():
			t.Fatalf("cy never got %q", want)
		}
	}

	ui := newFakeUI(t)
	done := joinAsync(context.Background(), DialTLS(proxy.addr, h.Fingerprint(), nil, WithIdentity(testIdentity(t))),
		Options{Name: "bob", Reconnect: testReconnect()}, ui)
	waitPrinted(t, ui, "joined")
	for i := range 10 {
		typeLine(t, ui, fmt.Sprintf("/msg cy p%d", i))
		receive(got, fmt.Sprintf("p%d", i))
	}
	waitPrinted(t, ui, "[bob -> cy] p9") // answered: nothing of p0..p9 is pending
	proxy.hold()
	typeLine(t, ui, "/msg cy p10")
	receive(got, "p10") // the room took it; bob's copy is held back
	if err := cy.Send("/msg bob secret"); err != nil {
		t.Fatal(err)
	}
	receive(echoed, "secret") // the room sent bob his, held back too
	proxy.cut()
	waitPrinted(t, ui, "back in the room")
	typeLine(t, ui, "/msg cy p11")
	receive(got, "p11")
	waitPrinted(t, ui, "[bob -> cy] p11")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	select {
	case text := <-got:
		t.Errorf("cy got %q again", text)
	case <-time.After(200 * time.Millisecond):
	}
	var privates []string
	for _, l := range ui.output() {
		if i := strings.Index(l, "["); i >= 0 && strings.Contains(l, " -> ") {
			privates = append(privates, l[i:])
		}
	}
	var want []string
	for i := range 11 {
		want = append(want, fmt.Sprintf("[bob -> cy] p%d", i))
	}
	want = append(want, "[cy -> bob] secret", "[bob -> cy] p11")
	if !slices.Equal(privates, want) {
		t.Errorf("bob was shown %q, want %q", privates, want)
	}
}

// holdingProxy forwards TCP connections to a host, and on hold stops
// passing on what the host sends (it is dropped), until cut closes every
// connection; new ones are forwarded in full again.
type holdingProxy struct {
	addr    string
	mu      sync.Mutex
	holding bool
	conns   []net.Conn
}

func startHoldingProxy(t *testing.T, target string) *holdingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &holdingProxy{addr: ln.Addr().String()}
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			upstream, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, upstream)
			p.mu.Unlock()
			go func() { io.Copy(upstream, client); upstream.Close() }()
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := upstream.Read(buf)
					p.mu.Lock()
					held := p.holding
					p.mu.Unlock()
					if n > 0 && !held {
						client.Write(buf[:n])
					}
					if err != nil {
						client.Close()
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *holdingProxy) hold() {
	p.mu.Lock()
	p.holding = true
	p.mu.Unlock()
}

func (p *holdingProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns, p.holding = nil, false
}
