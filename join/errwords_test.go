package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"chatroom/host/wire"
)

// TestInWords: the errors of the system and of Go's libraries that a
// person can meet are said in words, wherever they are wrapped; chatroom's
// own words around them stay.
func TestInWords(t *testing.T) {
	tcp := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 7465}
	dnsFailed := &net.DNSError{Err: "dial udp 10.255.255.53:53: connect: network is unreachable", Name: "lab-pc", Server: "10.255.255.53:53"}
	tests := []struct {
		err  error
		want string
	}{
		{context.DeadlineExceeded, "no answer in time"},
		{fmt.Errorf("waiting for the room's welcome: %w", context.DeadlineExceeded), "waiting for the room's welcome: no answer in time"},
		{fmt.Errorf("reading: %w", os.ErrDeadlineExceeded), "reading: no answer in time"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: dnsFailed},
			`cannot look up "lab-pc": no name server answers (this machine may be on no network); give the room's address (as its host prints it) instead of its name`},
		{fmt.Errorf("cannot connect to the room: lab-pc:7465: %w", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "lab-pc", IsNotFound: true}}),
			`cannot connect to the room: lab-pc:7465: no machine called "lab-pc" is known here: check the name, or give the room's address (as its host prints it)`},
		{&net.DNSError{Err: "i/o timeout", Name: "lab-pc", IsTimeout: true},
			`the name server did not answer in time about "lab-pc": give the room's address (as its host prints it) instead of its name`},
		{&net.OpError{Op: "dial", Net: "tcp", Addr: tcp, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)},
			"10.0.0.5:7465 refused the connection: nothing is listening there (is the room open, and is the port right?)"},
		{&net.OpError{Op: "dial", Net: "tcp", Addr: tcp, Err: os.ErrDeadlineExceeded},
			"no answer from 10.0.0.5:7465 in time: the machine is off, or a firewall drops the connection"},
		{fmt.Errorf("connection to the room lost: %w", &net.OpError{Op: "read", Net: "tcp", Addr: tcp, Err: os.ErrDeadlineExceeded}),
			"connection to the room lost: the other side stopped answering"},
		{&net.OpError{Op: "read", Net: "tcp", Addr: tcp, Err: os.NewSyscallError("read", syscall.ECONNRESET)},
			"10.0.0.5:7465 broke the connection off"},
		{&net.OpError{Op: "write", Net: "tcp", Addr: tcp, Err: os.NewSyscallError("write", syscall.EPIPE)},
			"10.0.0.5:7465 closed the connection"},
		{&net.OpError{Op: "dial", Net: "tcp", Addr: tcp, Err: os.NewSyscallError("connect", syscall.ENETUNREACH)},
			"this machine is on no network that reaches 10.0.0.5:7465"},
		{&net.OpError{Op: "dial", Net: "tcp", Addr: tcp, Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)},
			"no route to 10.0.0.5:7465: it is not on the network now"},
		{&net.OpError{Op: "listen", Net: "tcp", Source: nil, Addr: tcp, Err: os.NewSyscallError("bind", syscall.EADDRINUSE)},
			"10.0.0.5:7465 is in use by another program: choose another port with --listen"},
		{&net.OpError{Op: "listen", Net: "tcp", Addr: tcp, Err: os.NewSyscallError("bind", syscall.EADDRNOTAVAIL)},
			"10.0.0.5:7465 is not an address of this machine: choose one that is (ip addr lists them), or leave --listen out"},
		{&net.OpError{Op: "listen", Net: "tcp", Addr: &net.TCPAddr{Port: 80}, Err: os.NewSyscallError("bind", syscall.EACCES)},
			"listening on :80 needs privileges this user does not have (ports under 1024 are for root): choose a port above 1024"},
		{fmt.Errorf("cannot listen on 127.0.0.1:7465: %w", os.NewSyscallError("bind", syscall.EADDRINUSE)),
			"cannot listen on 127.0.0.1:7465: it is in use by another program: choose another port with --listen"},
		{fmt.Errorf("reading the admin password: %w", &fs.PathError{Op: "open", Path: "/etc/pw", Err: syscall.ENOENT}),
			"reading the admin password: /etc/pw does not exist"},
		{&fs.PathError{Op: "open", Path: "/srv/state", Err: syscall.EACCES},
			"/srv/state cannot be used by this user (permission denied): check its owner and mode, or choose another place"},
		{&fs.PathError{Op: "write", Path: "/srv/state/bans", Err: syscall.ENOSPC}, "/srv/state/bans: the disk is full"},
		{&fs.PathError{Op: "open", Path: "/ro/x", Err: syscall.EROFS}, "/ro/x is on a file system that is read-only here: choose another place"},
		{&fs.PathError{Op: "read", Path: "/tmp", Err: syscall.EISDIR}, "/tmp is a directory, not a file"},
		{fmt.Errorf("saying hello to the room: %w", io.EOF), "saying hello to the room: the other side closed the connection"},
		{io.ErrUnexpectedEOF, "the connection ended in the middle of a message"},
		{&net.AddrError{Err: "missing port in address", Addr: "lab-pc"}, `"lab-pc" is not an address with a port (write it as HOST:PORT, as in 192.168.1.20:7465)`},
		// Joined errors (discovery.Browse's) are each said in words.
		{errors.Join(os.NewSyscallError("sendto", syscall.ENETUNREACH), context.DeadlineExceeded),
			"this machine is on no network that leads there (no route)\nno answer in time"},
		// chatroom's own words are left alone.
		{errors.New("wrong admin password"), "wrong admin password"},
		{&RefusedError{Code: wire.CodeBanned, Text: "you are banned"}, "you are banned"},
		// A system error this does not know stays as it is, rather than
		// being lost.
		{fmt.Errorf("odd: %w", syscall.ELOOP), "odd: " + syscall.ELOOP.Error()},
	}
	for _, tt := range tests {
		if got := InWords(tt.err); got != tt.want {
			t.Errorf("InWords(%q)\n got %q\nwant %q", tt.err, got, tt.want)
		}
	}
}

// TestInWordsLeavesNoGoWords: none of the words Go uses for these errors
// survives.
func TestInWordsLeavesNoGoWords(t *testing.T) {
	err := fmt.Errorf("cannot connect to the room: lab-pc:7465: %w", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{
		Err: "dial udp 10.255.255.53:53: connect: network is unreachable", Name: "lab-pc", Server: "10.255.255.53:53"}})
	got := InWords(err)
	for _, word := range []string{"lookup", "dial udp", "10.255.255.53", "dial tcp", "deadline exceeded", "i/o timeout"} {
		if strings.Contains(got, word) {
			t.Errorf("InWords kept %q: %s", word, got)
		}
	}
}
