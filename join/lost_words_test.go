package join

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"

	"chatroom/host/wire"
)

// TestConnectionLostInWords: a connection the room resets (a host that
// crashed, a NAT that forgot it) is reported in words on the status line,
// not as the system's "read tcp 127.0.0.1:51234->127.0.0.1:7465: read:
// connection reset by peer".
func TestConnectionLostInWords(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	scripts := []func(h *fakeHost, conn *net.TCPConn){
		func(h *fakeHost, conn *net.TCPConn) {
			h.welcomeAs(10, nil)
			conn.SetLinger(0) // the close resets the connection
		},
		func(h *fakeHost, conn *net.TCPConn) {
			h.welcomeAs(10, func(w *wire.Frame) { w.Resumed = true })
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
		},
	}
	go func() {
		for _, script := range scripts {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				script(&fakeHost{t: t, conn: conn, dec: wire.NewDecoder(conn, wire.MaxClientFrame)}, conn.(*net.TCPConn))
			}()
		}
	}()
	dial := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", ln.Addr().String())
	}
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), dial, Options{Name: "bob", Reconnect: testReconnect()}, ui)
	waitPrinted(t, ui, "back in the room")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	out := ui.output()
	i := slices.IndexFunc(out, func(l string) bool { return strings.HasPrefix(l, "-- connection lost (") })
	if i < 0 {
		t.Fatalf("no status of the loss in %q", out)
	}
	for _, word := range []string{"read tcp", "read:", "connection reset by peer"} {
		if strings.Contains(out[i], word) {
			t.Errorf("the status says %q in the system's words: %s", word, out[i])
		}
	}
	if !strings.Contains(out[i], "broke the connection off") {
		t.Errorf("the status %q does not say the room broke the connection off", out[i])
	}
}
