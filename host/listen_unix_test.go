//go:build unix

package host

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// With heartbeats the host's connections have no TCP keep-alive (the
// heartbeat finds a dead member sooner); without them, keep-alive is the
// only watch left, and stays.
func TestKeepAliveOnlyWithoutHeartbeats(t *testing.T) {
	for _, heartbeat := range []time.Duration{0, defaultHeartbeat, -1} {
		ln, _, err := listen("127.0.0.1:0", keepAliveFor(heartbeat))
		if err != nil {
			t.Fatal(err)
		}
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := conn.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var on int
		var optErr error
		raw.Control(func(fd uintptr) {
			on, optErr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		})
		if optErr != nil {
			t.Fatal(optErr)
		}
		if want := heartbeat < 0; (on != 0) != want {
			t.Errorf("Config.Heartbeat %v: keep-alive %v, want %v", heartbeat, on != 0, want)
		}
		conn.Close()
		client.Close()
		ln.Close()
	}
}
