package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"chatroom/discovery/netns"
	"chatroom/host"
	"chatroom/join"
	"chatroom/join/tui"
)

// Nothing a member types crosses the network in clear: a capture of all
// loopback traffic during a chat (in the test's own network namespace)
// holds neither a message nor the admin password. A canary sent in clear
// over the same loopback proves the capture sees what is there.
func TestNothingCrossesInClear(t *testing.T) {
	netns.Require(t)
	capture := startCapture(t, "lo")

	const password = "correct-horse-battery-staple"
	const secret = "the launch code is 0000"
	h, err := host.Start(host.Config{Name: "Lab 3", StateDir: t.TempDir(), Listen: "127.0.0.1:0", AdminPassword: password})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	addr := h.Addr().String()

	// bob listens; ana joins as admin with the password and says the secret.
	bobUI := newScriptUI()
	bobDone := make(chan error, 1)
	go func() {
		bobDone <- join.Join(context.Background(), join.DialTLS(addr, h.Fingerprint(), nil), join.Options{Name: "bob"}, bobUI)
	}()
	bobUI.waitFor(t, `joined "Lab 3" as bob`)
	anaUI := newScriptUI()
	anaDone := make(chan error, 1)
	go func() {
		anaDone <- join.Join(context.Background(), join.DialTLS(addr, h.Fingerprint(), nil), join.Options{Name: "ana", Password: password}, anaUI)
	}()
	anaUI.waitFor(t, `joined "Lab 3" as ana`)
	anaUI.lines <- secret
	anaUI.lines <- "/msg bob " + secret + " (private)"
	bobUI.waitFor(t, secret+" (private)")
	close(anaUI.lines)
	close(bobUI.lines)
	if err := <-anaDone; err != nil {
		t.Fatal(err)
	}
	if err := <-bobDone; err != nil {
		t.Fatal(err)
	}

	// The positive control: a canary in clear on the same interface.
	canary := "canary-in-clear-" + time.Now().Format("150405.000")
	sendInClear(t, canary)

	seen := capture.stop(t, canary)
	if !bytes.Contains(seen, []byte(canary)) {
		t.Fatal("the capture did not see the canary sent in clear: it proves nothing")
	}
	for _, word := range []string{secret, password, "launch code"} {
		if bytes.Contains(seen, []byte(word)) {
			t.Errorf("%q crossed the network in clear", word)
		}
	}
	t.Logf("captured %d bytes of loopback traffic", len(seen))
}

type capture struct {
	fd     int
	mu     sync.Mutex
	buf    bytes.Buffer
	done   chan struct{}
	stopFn func()
}

// startCapture records every packet on the interface, with a raw packet
// socket: no tcpdump needed, and it sees only the test's namespace.
func startCapture(t *testing.T, iface string) *capture {
	t.Helper()
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		t.Fatal(err)
	}
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, proto)
	if err != nil {
		t.Skipf("cannot capture packets here: %v", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	// A read timeout lets the reader notice stop.
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100000})
	c := &capture{fd: fd, done: make(chan struct{})}
	stopping := make(chan struct{})
	go func() {
		defer close(c.done)
		buf := make([]byte, 1<<16)
		for {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if n > 0 {
				c.mu.Lock()
				c.buf.Write(buf[:n])
				c.mu.Unlock()
			}
			select {
			case <-stopping:
				if err != nil {
					return // drained: the last read timed out
				}
			default:
			}
		}
	}()
	var once sync.Once
	c.stopFn = func() { once.Do(func() { close(stopping) }) }
	t.Cleanup(func() {
		c.stopFn()
		<-c.done
		unix.Close(fd)
	})
	return c
}

// stop ends the capture once last has been seen (or after a while), and
// returns everything captured.
func (c *capture) stop(t *testing.T, last string) []byte {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		c.mu.Lock()
		ok := bytes.Contains(c.buf.Bytes(), []byte(last))
		c.mu.Unlock()
		if ok {
			break
		}
	}
	c.stopFn()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func sendInClear(t *testing.T, text string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, text)
	conn.Close()
}

// scriptUI is a join.UI fed from a channel, whose output, line mode's,
// can be waited on.
type scriptUI struct {
	join.UI // line mode, for what Join shows
	lines   chan string
	mu      sync.Mutex
	out     strings.Builder
}

func newScriptUI() *scriptUI {
	u := &scriptUI{lines: make(chan string, 10)}
	u.UI = tui.NewLineUI(strings.NewReader(""), u)
	return u
}

func (u *scriptUI) ReadLine() (string, error) {
	line, ok := <-u.lines
	if !ok {
		return "", io.EOF
	}
	return line, nil
}

// Write takes line mode's output.
func (u *scriptUI) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.out.Write(p)
}

func (u *scriptUI) waitFor(t *testing.T, text string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		u.mu.Lock()
		ok := strings.Contains(u.out.String(), text)
		u.mu.Unlock()
		if ok {
			return
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	t.Fatalf("never saw %q; output:\n%s", text, u.out.String())
}
