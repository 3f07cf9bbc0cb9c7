package join

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
)

// InWords is err as a person reads it: the errors of the system and of
// Go's libraries that err wraps ("dial tcp: lookup lab-pc on
// 10.255.255.53:53: dial udp …: connect: network unreachable", "context
// deadline exceeded") are replaced, where err's text shows them, by what
// happened and what to do. What chatroom says itself is left as it is.
func InWords(err error) string {
	if words, ok := systemWords(err); ok {
		return words
	}
	text := err.Error()
	switch e := err.(type) {
	case interface{ Unwrap() error }:
		if inner := e.Unwrap(); inner != nil {
			text = strings.Replace(text, inner.Error(), InWords(inner), 1)
		}
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			if inner != nil {
				text = strings.Replace(text, inner.Error(), InWords(inner), 1)
			}
		}
	}
	return text
}

// systemWords says what err itself (not what it wraps) means, when it is
// one of the system's or Go's errors that a person can meet.
func systemWords(err error) (string, bool) {
	var (
		dns    *net.DNSError
		op     *net.OpError
		path   *fs.PathError
		addr   *net.AddrError
		header tls.RecordHeaderError
		errno  syscall.Errno
		call   *os.SyscallError
	)
	switch {
	case err == context.DeadlineExceeded, err == os.ErrDeadlineExceeded:
		return "no answer in time", true
	case err == context.Canceled:
		return "stopped", true
	case err == io.EOF:
		return "the other side closed the connection", true
	case err == io.ErrUnexpectedEOF:
		return "the connection ended in the middle of a message", true
	case err == net.ErrClosed:
		return "the connection was closed", true
	case asExactly(err, &dns):
		return dnsWords(dns), true
	case asExactly(err, &op):
		return opWords(op)
	case asExactly(err, &path):
		return pathWords(path)
	case asExactly(err, &addr):
		return fmt.Sprintf("%q is not an address with a port (write it as HOST:PORT, as in 192.168.1.20:7465)", addr.Addr), true
	case asExactly(err, &header):
		return "the other side does not speak TLS, as a room does: it is not a room", true
	case asExactly(err, &errno):
		return errnoWords(errno, "")
	case asExactly(err, &call) && errors.As(call.Err, &errno) && call.Syscall == "bind":
		return listenWords(errno, "")
	case asExactly(err, &call) && errors.As(call.Err, &errno):
		return errnoWords(errno, "")
	}
	return "", false
}

// asExactly is errors.As for err itself, without what it wraps: what
// wraps it has its own words, which are kept.
func asExactly[T error](err error, target *T) bool {
	t, ok := err.(T)
	if ok {
		*target = t
	}
	return ok
}

func dnsWords(e *net.DNSError) string {
	switch {
	case e.IsNotFound:
		return fmt.Sprintf("no machine called %q is known here: check the name, or give the room's address (as its host prints it)", e.Name)
	case e.IsTimeout:
		return fmt.Sprintf("the name server did not answer in time about %q: give the room's address (as its host prints it) instead of its name", e.Name)
	}
	return fmt.Sprintf("cannot look up %q: no name server answers (this machine may be on no network); give the room's address (as its host prints it) instead of its name", e.Name)
}

// opWords says what a network operation's error means; the address is
// the other side's, or, for listening, this machine's.
func opWords(e *net.OpError) (string, bool) {
	var dns *net.DNSError
	if errors.As(e.Err, &dns) {
		return dnsWords(dns), true
	}
	where := ""
	if e.Addr != nil {
		where = e.Addr.String()
	}
	if e.Timeout() {
		if e.Op == "dial" {
			return fmt.Sprintf("no answer from %s in time: the machine is off, or a firewall drops the connection", where), true
		}
		return "the other side stopped answering", true
	}
	var errno syscall.Errno
	if errors.As(e.Err, &errno) {
		if e.Op == "listen" {
			if e.Source != nil {
				where = e.Source.String()
			}
			return listenWords(errno, where)
		}
		return errnoWords(errno, where)
	}
	if errors.Is(e.Err, net.ErrClosed) {
		return "the connection was closed", true
	}
	return "", false
}

// listenWords says why listening on where (this machine's address, or
// "" when the words around say it) failed.
func listenWords(errno syscall.Errno, where string) (string, bool) {
	subject, there := "it", "there"
	if where != "" {
		subject, there = where, "on "+where
	}
	switch errno {
	case syscall.EADDRINUSE:
		return fmt.Sprintf("%s is in use by another program: choose another port with --listen", subject), true
	case syscall.EADDRNOTAVAIL:
		return fmt.Sprintf("%s is not an address of this machine: choose one that is (ip addr lists them), or leave --listen out", subject), true
	case syscall.EACCES, syscall.EPERM:
		return fmt.Sprintf("listening %s needs privileges this user does not have (ports under 1024 are for root): choose a port above 1024", there), true
	}
	return errnoWords(errno, where)
}

func errnoWords(errno syscall.Errno, where string) (string, bool) {
	there := "the other side"
	if where != "" {
		there = where
	}
	switch errno {
	case syscall.ECONNREFUSED:
		return fmt.Sprintf("%s refused the connection: nothing is listening there (is the room open, and is the port right?)", there), true
	case syscall.ECONNRESET:
		return fmt.Sprintf("%s broke the connection off", there), true
	case syscall.EPIPE:
		return fmt.Sprintf("%s closed the connection", there), true
	case syscall.ENETUNREACH:
		if where == "" {
			return "this machine is on no network that leads there (no route)", true
		}
		return fmt.Sprintf("this machine is on no network that reaches %s", there), true
	case syscall.EHOSTUNREACH, syscall.EHOSTDOWN:
		return fmt.Sprintf("no route to %s: it is not on the network now", there), true
	case syscall.ETIMEDOUT:
		return fmt.Sprintf("no answer from %s in time", there), true
	case syscall.ENOSPC:
		return "the disk is full", true
	}
	return "", false
}

func pathWords(e *fs.PathError) (string, bool) {
	var errno syscall.Errno
	errors.As(e.Err, &errno)
	switch {
	case errors.Is(e.Err, fs.ErrNotExist):
		return fmt.Sprintf("%s does not exist", e.Path), true
	case errors.Is(e.Err, fs.ErrPermission):
		return fmt.Sprintf("%s cannot be used by this user (permission denied): check its owner and mode, or choose another place", e.Path), true
	case errno == syscall.ENOSPC:
		return fmt.Sprintf("%s: the disk is full", e.Path), true
	case errno == syscall.EROFS:
		return fmt.Sprintf("%s is on a file system that is read-only here: choose another place", e.Path), true
	case errno == syscall.EISDIR:
		return fmt.Sprintf("%s is a directory, not a file", e.Path), true
	case errno == syscall.ENOTDIR:
		return fmt.Sprintf("%s: a part of it is a file, not a directory", e.Path), true
	}
	return "", false
}
