//go:build linux || darwin || freebsd || openbsd || netbsd

package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

// These are the pieces of the tests that run real IRC clients (irssi,
// weechat) in tmux against the real "chatroom host --irc": the host
// process and what it prints, a chatroom member run by the test, a client
// certificate, and the clients themselves, each with a home of its own
// so that nothing of the machine's own configuration takes part.

// ircAdminPassword is the room's admin password in these tests. It has no
// spaces, so that it fits in irssi's /connect as one word.
const ircAdminPassword = "lab17-irc-admin-words"

// ircRoom is a "chatroom host --no-prompt --irc=127.0.0.1:0" process, and
// what it printed: where members and IRC clients connect, and what each
// pins.
type ircRoom struct {
	cmd *exec.Cmd

	addr, fingerprint string // for chatroom members
	ircAddr           string // host:port of IRC over TLS
	ircHost, ircPort  string
	channel           string // the room as an IRC channel
	pinnedPubkey      string // irssi -tls_pinned_pubkey, as printed
	pinnedCert        string // irssi -tls_pinned_cert, as printed
	irssiOptions      string // the options for irssi's /connect, as printed
	weechatPin        string // weechat tls_fingerprint (3.x: ssl_fingerprint), as printed

	mu      sync.Mutex
	printed []string // every line the host printed
}

var (
	roomListeningLine = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+), fingerprint (SHA256:[A-Za-z0-9+/]+)`)
	ircListeningLine  = regexp.MustCompile(`irc: listening on (127\.0\.0\.1):(\d+), channel (#.*?); `)
	// irssi's pins are on one line, in either order.
	irssiPubkeyPin = regexp.MustCompile(`irssi .*-tls_pinned_pubkey ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})\b`)
	irssiCertPin   = regexp.MustCompile(`irssi .*-tls_pinned_cert ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})\b`)
	weechatPinLine = regexp.MustCompile(`weechat tls_fingerprint ([0-9a-fA-F]{64})\b`)
	// What the host gives irssi's /connect, as it prints it: the
	// options up to a "(or ...)" that offers others.
	irssiOptionsLine = regexp.MustCompile(`irc: irssi (-.*?)(?: \(or .*)?$`)
)

// startIRCRoom runs the host, a room named name, and waits until it has
// printed where it listens and what to pin.
func startIRCRoom(t *testing.T, bin, name string) *ircRoom {
	t.Helper()
	r := &ircRoom{cmd: exec.Command(bin, "host", "--name", name, "--no-prompt", "--no-advertise",
		"--listen", "127.0.0.1:0", "--irc=127.0.0.1:0", "--state", t.TempDir())}
	r.cmd.Env = append(os.Environ(), "CHATROOM_ADMIN_PASSWORD="+ircAdminPassword, "XDG_CONFIG_HOME="+t.TempDir())
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		// As Ctrl-C: the room closes and tells the IRC clients why.
		r.cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(screenWait):
			r.cmd.Process.Kill()
			<-exited
		}
	})
	ready := make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		told := false
		for sc.Scan() {
			r.mu.Lock()
			r.printed = append(r.printed, sc.Text())
			if !told && r.parse() {
				told = true
				close(ready)
			}
			r.mu.Unlock()
		}
		r.cmd.Wait()
	}()
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("the host exited before it said where it listens:\n%s", r.said())
	case <-time.After(screenWait):
		t.Fatalf("the host did not say where it listens within %v:\n%s", screenWait, r.said())
	}
	// irssi's /connect -tls checks nothing unless pinned.
	if !strings.Contains(r.irssiOptions, "-tls_pinned_pubkey "+r.pinnedPubkey) && !strings.Contains(r.irssiOptions, "-tls_pinned_cert "+r.pinnedCert) {
		t.Errorf("the host's options for irssi, %q, pin nothing", r.irssiOptions)
	}
	return r
}

// parse reads the host's lines so far, and reports whether they said all
// that the tests need. Called with r.mu held.
func (r *ircRoom) parse() bool {
	for _, l := range r.printed {
		if m := roomListeningLine.FindStringSubmatch(l); m != nil {
			r.addr, r.fingerprint = m[1], m[2]
		}
		if m := ircListeningLine.FindStringSubmatch(l); m != nil {
			r.ircHost, r.ircPort, r.channel = m[1], m[2], m[3]
			r.ircAddr = m[1] + ":" + m[2]
		}
		if m := irssiPubkeyPin.FindStringSubmatch(l); m != nil {
			r.pinnedPubkey = m[1]
		}
		if m := irssiCertPin.FindStringSubmatch(l); m != nil {
			r.pinnedCert = m[1]
		}
		if m := irssiOptionsLine.FindStringSubmatch(l); m != nil {
			r.irssiOptions = m[1]
		}
		if m := weechatPinLine.FindStringSubmatch(l); m != nil {
			r.weechatPin = m[1]
		}
	}
	return r.addr != "" && r.ircAddr != "" && r.pinnedPubkey != "" && r.pinnedCert != "" && r.irssiOptions != "" && r.weechatPin != ""
}

func (r *ircRoom) said() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.printed, "\n")
}

// roomMember is a chatroom member run by the test, over the room's own
// protocol: it keeps every frame it is sent, in order.
type roomMember struct {
	t    *testing.T
	name string
	sess *join.Session

	mu     sync.Mutex
	frames []wire.Frame
	ended  error // why Next stopped, once it has
	seen   int   // frames already looked at by waitFrame
}

// identityIn makes (or loads) a member's identity key in dir.
func identityIn(t *testing.T, dir string) tls.Certificate {
	t.Helper()
	cert, err := join.LoadOrCreateIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// dialRoom joins r as hello.Name, with identity when it is not nil, and
// returns the session or the room's refusal.
func dialRoom(t *testing.T, r *ircRoom, hello wire.Frame, identity *tls.Certificate) (*join.Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), screenWait)
	defer cancel()
	var opts []join.DialOption
	if identity != nil {
		opts = append(opts, join.WithIdentity(*identity))
	}
	conn, err := join.DialTLS(r.addr, r.fingerprint, nil, opts...)(ctx)
	if err != nil {
		t.Fatalf("%s: dial: %v", hello.Name, err)
	}
	return join.Connect(ctx, conn, hello)
}

// joinRoom joins r as a member the test runs, or fails the test.
func joinRoom(t *testing.T, r *ircRoom, hello wire.Frame, identity *tls.Certificate) *roomMember {
	t.Helper()
	sess, err := dialRoom(t, r, hello, identity)
	if err != nil {
		t.Fatalf("%s: joining: %v", hello.Name, err)
	}
	m := &roomMember{t: t, name: hello.Name, sess: sess}
	go func() {
		for {
			f, err := sess.Next()
			m.mu.Lock()
			if err != nil {
				m.ended = err
				m.mu.Unlock()
				return
			}
			m.frames = append(m.frames, f)
			m.mu.Unlock()
		}
	}()
	t.Cleanup(func() { sess.Close() })
	return m
}

// say sends a line as the member typed it (a message, or a /command).
func (m *roomMember) say(text string) {
	m.t.Helper()
	if err := m.sess.Send(text); err != nil {
		m.t.Fatalf("%s: sending %q: %v", m.name, text, err)
	}
}

// waitFrame waits until the member has been sent a frame that match
// accepts, after those an earlier waitFrame took, and returns it: so
// that a test's waits also check the order of what was sent.
func (m *roomMember) waitFrame(what string, match func(wire.Frame) bool) wire.Frame {
	m.t.Helper()
	deadline := time.Now().Add(screenWait)
	for {
		m.mu.Lock()
		for i := m.seen; i < len(m.frames); i++ {
			if match(m.frames[i]) {
				m.seen = i + 1
				f := m.frames[i]
				m.mu.Unlock()
				return f
			}
		}
		ended, frames := m.ended, m.describe()
		m.mu.Unlock()
		if ended != nil || time.Now().After(deadline) {
			m.t.Fatalf("%s was not sent %s (connection: %v); it was sent:\n%s", m.name, what, ended, frames)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mark is where the frames the member has been sent so far end, for
// sawSince.
func (m *roomMember) mark() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.frames)
}

// sawSince reports whether the member was sent a frame that match
// accepts after mark.
func (m *roomMember) sawSince(mark int, match func(wire.Frame) bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range m.frames[mark:] {
		if match(f) {
			return true
		}
	}
	return false
}

// waitEnded waits until the member's connection has ended, and returns why.
func (m *roomMember) waitEnded() error {
	m.t.Helper()
	deadline := time.Now().Add(screenWait)
	for {
		m.mu.Lock()
		ended := m.ended
		m.mu.Unlock()
		if ended != nil {
			return ended
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("%s is still in the room after %v", m.name, screenWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// describe lists the frames the member was sent. Called with m.mu held.
func (m *roomMember) describe() string {
	var b strings.Builder
	for i, f := range m.frames {
		mark := " "
		if i < m.seen {
			mark = "*"
		}
		fmt.Fprintf(&b, "%s %s %s from=%q name=%q code=%q text=%q\n", mark, f.Type, f.Kind, f.From, f.Name, f.Code, f.Text)
	}
	return b.String()
}

// saidBy matches a message (or, with kind wire.KindMe, an action) from
// from with text.
func saidBy(kind, from, text string) func(wire.Frame) bool {
	return func(f wire.Frame) bool {
		return f.Type == wire.TypeEvent && f.Kind == kind && f.From == from && f.Text == text
	}
}

// leftAs matches name's leave, for the reason code.
func leftAs(name, code string) func(wire.Frame) bool {
	return func(f wire.Frame) bool {
		return f.Type == wire.TypeEvent && f.Kind == wire.KindLeave && f.Name == name && f.Code == code
	}
}

// joined matches name's join.
func joined(name string) func(wire.Frame) bool {
	return func(f wire.Frame) bool {
		if f.Type != wire.TypeEvent {
			return false
		}
		if f.Kind == wire.KindJoin && f.Name == name {
			return true
		}
		for _, m := range f.Joined {
			if m.Name == name {
				return true
			}
		}
		return false
	}
}

// keyTagAsHost is a key tag as the gateway writes it in a member's host:
// "+" and "/", which a key tag may hold and a host may not, as "_".
func keyTagAsHost(tag string) string {
	return strings.NewReplacer("+", "_", "/", "_").Replace(tag)
}

// ircClientCert writes a client certificate and its key, as IRC clients
// read them (one PEM file holding both, unencrypted), into dir, and
// returns the file and the key's fingerprint: the identity the room
// knows the client by.
func ircClientCert(t *testing.T, dir, name string) (path, fingerprint string) {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := wire.SelfSignedCert(key, name, x509.ExtKeyUsageClientAuth)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemText := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	path = filepath.Join(dir, name+".pem")
	if err := os.WriteFile(path, pemText, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return path, wire.Fingerprint(cert.RawSubjectPublicKeyInfo)
}

// requireCommand skips the test when name is not installed.
func requireCommand(t *testing.T, name, why string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed: %s (.ci/run installs it)", name, why)
	}
}

// logFile follows a text file that an IRC client writes what it shows
// to: waits find lines in it in order, each after the one the last wait
// found.
type logFile struct {
	t         *testing.T
	dir, name string // the file is the one in dir named name, in any case
	next      int    // the first line the next wait looks at
}

// path is the file's path, or "" while there is none: clients name log
// files after channels and nicks, some in lower case.
func (l *logFile) path() string {
	entries, _ := os.ReadDir(l.dir)
	for _, e := range entries {
		if strings.EqualFold(e.Name(), l.name) {
			return filepath.Join(l.dir, e.Name())
		}
	}
	return ""
}

func (l *logFile) lines() []string {
	path := l.path()
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}

// wait waits until a line after the last one found matches pattern, and
// returns it.
func (l *logFile) wait(pattern string) string {
	l.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(screenWait)
	for {
		lines := l.lines()
		for i := l.next; i < len(lines); i++ {
			if re.MatchString(lines[i]) {
				l.next = i + 1
				return lines[i]
			}
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("no line of %s after line %d matches %q within %v:\n%s", filepath.Join(l.dir, l.name), l.next, pattern, screenWait, strings.Join(lines, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// skipToEnd makes the next wait look only at lines written from now on.
func (l *logFile) skipToEnd() {
	l.next = len(l.lines())
}

// has reports whether any line after the last one found matches
// pattern, without waiting.
func (l *logFile) has(pattern string) bool {
	re := regexp.MustCompile(pattern)
	lines := l.lines()
	for i := l.next; i < len(lines); i++ {
		if re.MatchString(lines[i]) {
			return true
		}
	}
	return false
}
