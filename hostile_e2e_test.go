//go:build linux || darwin || freebsd || openbsd || netbsd

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/mdns"

	"chatroom/discovery"
	"chatroom/discovery/netns"
	"chatroom/host/wire"
	"chatroom/join"
)

// These tests play a hostile room against the real command: a TLS server
// written against host/wire, whose certificate names the room id it likes
// and which sends names, commands and events full of terminal controls;
// and an mDNS record sent by a script. What they try is what such a room
// would: set the terminal's title (OSC 0), clear the screen, send the
// cursor home, turn text around (bidi overrides), by the room's id (in
// the "first visit" line), its name, its members' names (in the welcome
// and in Tab completion), its commands, its events and its notices.

const (
	oscTitle = "\x1b]0;pwned\x07"
	clear    = "\x1b[2J\x1b[H"
)

// hostileID is a room id that sets the title and clears the screen when
// printed raw. A room may send it in its certificate or its record; the
// client may refuse it (it is not the form a room makes), but it must
// never print it raw.
const hostileID = "a1b2" + oscTitle + clear + "\u202e"

// hostileRoomID is a well-formed id, so that the client goes on into the
// room and meets the rest of what it sends.
const hostileRoomID = "0123456789abcdef"

// The room's name, its members' and its command's: each completes from
// "zz", which a person can type.
var (
	hostileRoomName = "Lab" + oscTitle + clear
	hostileMembers  = []string{"zz" + oscTitle + "a", "zz" + clear + "b", "zz\u202ec\u2066", "zz\u009b2Jd"}
	hostileCommand  = "zz" + oscTitle
)

// hostileCert is a self-signed certificate naming room id, as a room's is.
func hostileCert(t *testing.T, id string) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: wire.CertName(id)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, wire.Fingerprint(leaf.RawSubjectPublicKeyInfo)
}

// hostileRoom is such a room on 127.0.0.1, until the test ends.
type hostileRoom struct {
	addr, fp string
	wg       sync.WaitGroup
}

func startHostileRoom(t *testing.T, id string) *hostileRoom {
	t.Helper()
	return startTLSRoom(t, id, func(conn net.Conn) { hostileSession(conn, id) })
}

// startTLSRoom listens on 127.0.0.1 with a room's certificate for id and
// plays session on each connection, until the test ends.
func startTLSRoom(t *testing.T, id string, session func(conn net.Conn)) *hostileRoom {
	t.Helper()
	cert, fp := hostileCert(t, id)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13,
		ClientAuth: tls.RequestClientCert})
	if err != nil {
		t.Fatal(err)
	}
	r := &hostileRoom{addr: ln.Addr().String(), fp: fp}
	var conns sync.Map
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Store(conn, true)
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				defer conn.Close()
				session(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(c, _ any) bool { c.(net.Conn).Close(); return true })
		r.wg.Wait()
	})
	return r
}

// hostileSession welcomes whoever says hello into a room where everything
// is hostile, sends events and notices that are too, and then answers
// "/quit" as a room does.
func hostileSession(conn net.Conn, id string) {
	conn.SetDeadline(time.Now().Add(2 * screenWait))
	dec := wire.NewDecoder(conn, wire.MaxClientFrame)
	send := func(f wire.Frame) {
		if b, err := wire.Encode(&f); err == nil {
			conn.Write(b)
		}
	}
	hello, err := dec.Decode()
	if err != nil || hello.Type != wire.TypeHello {
		return
	}
	var members []wire.Member
	for _, m := range hostileMembers {
		members = append(members, wire.Member{Name: m, Role: wire.RoleMember})
	}
	members = append(members, wire.Member{Name: hello.Name, Role: wire.RoleAdmin})
	send(wire.Frame{
		Type:     wire.TypeWelcome,
		Version:  wire.Version,
		Room:     &wire.Room{Name: hostileRoomName, ID: id},
		You:      &wire.Member{Name: hello.Name, Role: wire.RoleAdmin},
		Members:  members,
		Commands: []wire.Command{{Name: hostileCommand, Usage: "/" + hostileCommand, Help: oscTitle, Target: "member"}, {Name: "kick", Usage: "/kick NAME", Help: "kick", Admin: true, Target: "member"}},
		Bans:     []string{"zz" + oscTitle + "banned"},
		Epoch:    "e" + oscTitle,
		Seq:      1,
	})
	now := time.Now()
	send(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 2, Time: now, From: hostileMembers[0], Text: "hi" + oscTitle + clear + "there"})
	send(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: 3, Time: now, Name: "zz" + clear + "e", Role: wire.RoleMember + oscTitle})
	send(wire.Frame{Type: wire.TypeNotice, Text: "notice" + oscTitle + "\n" + clear + "second"})
	send(wire.Frame{Type: wire.TypePrivate, Seq: 3, PrivateSeq: 1, Time: now, From: hostileMembers[1], To: hello.Name, Text: "psst" + oscTitle})
	send(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 4, Time: now, From: "cy", Text: "end of the hostile frames"})
	for {
		f, err := dec.Decode()
		if err != nil {
			return
		}
		if f.Type == wire.TypeSay && strings.HasPrefix(f.Text, "/quit") {
			send(wire.Frame{Type: wire.TypeClosed, Code: wire.CodeLeft, Text: oscTitle})
			return
		}
	}
}

// rawControl returns the first character of s that a terminal would act
// on rather than show, but a newline or tab; ok is false when there is
// none.
func rawControl(s string) (r rune, ok bool) {
	for i, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case r == utf8.RuneError:
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return r, true
			}
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f, r == 0x2028, r == 0x2029,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return r, true
		}
	}
	return 0, false
}

// TestHostileRoomLineMode joins hostile rooms in line mode, as a script
// does (output to pipes), once with a well-formed id and once with an id
// that is an escape sequence: not a byte of what either prints, on
// stdout or stderr, is a control; the hostile text that is shown is
// shown as placeholders; an id that is refused is refused in one line.
func TestHostileRoomLineMode(t *testing.T) {
	for _, id := range []string{hostileRoomID, hostileID} {
		t.Run(strconv.Quote(id), func(t *testing.T) {
			room := startHostileRoom(t, id)
			var stdout, stderr lockedBuffer
			in, inW := io.Pipe()
			done := make(chan int, 1)
			go func() {
				done <- run([]string{"join", "--addr", room.addr, "--user", "bob", "--no-reconnect", "--state", t.TempDir()}, in, &stdout, &stderr)
			}()
			for deadline := time.Now().Add(screenWait); ; time.Sleep(10 * time.Millisecond) {
				if strings.Contains(stdout.String(), "end of the hostile frames") || len(done) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the session never got to its end; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
				}
			}
			inW.Close()
			select {
			case <-done:
			case <-time.After(screenWait):
				t.Fatalf("join did not end; stderr:\n%s", stderr.String())
			}
			for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
				if r, ok := rawControl(out); ok {
					t.Errorf("%s holds %U:\n%q", name, r, out)
				}
			}
			if strings.Contains(stdout.String(), "end of the hostile frames") {
				for _, want := range []string{`joined "Lab^[]0;pwned^G^[[2J^[[H" as bob`, "<zz^[]0;pwned^Ga> hi^[]0;pwned^G^[[2J^[[Hthere"} {
					if !strings.Contains(stdout.String(), want) {
						t.Errorf("stdout does not show %q:\n%s", want, stdout.String())
					}
				}
			} else if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "chatroom: error: ") {
				t.Errorf("the room was refused in other than one error line:\n%s", stderr.String())
			}
		})
	}
}

// TestCommandLinesShowNoControls: whatever reaches the command's own lines
// (an error, a notice, a list of rooms, a warning), every control in it
// shows as text, so that one caller that forgot to sanitize cannot reach
// the terminal; a newline starts an indented line.
func TestCommandLinesShowNoControls(t *testing.T) {
	var stdout, stderr strings.Builder
	c := &cli{stdout: &stdout, stderr: &stderr}
	c.infof("first visit to room %s: its key %s is remembered", hostileID, "SHA256:"+oscTitle)
	c.errorf("%s", "the room said "+oscTitle+"\nchatroom: fake line"+clear)
	c.logger().Warn("handshake from "+oscTitle, "name", clear)
	want := "chatroom: first visit to room a1b2^[]0;pwned^G^[[2J^[[H\ufffd: its key SHA256:^[]0;pwned^G is remembered\n" +
		"chatroom: error: the room said ^[]0;pwned^G\n  chatroom: fake line^[[2J^[[H\n" +
		"chatroom: warning: handshake from ^[]0;pwned^G (name ^[[2J^[[H)\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr:\n%q\nwant\n%q", got, want)
	}
}

// paneTitle is the title that the terminal shows for the pane: what an
// OSC 0 or 2 sets.
func (tm *tmuxTerm) paneTitle() string {
	tm.t.Helper()
	return strings.TrimSpace(tm.run("display-message", "-p", "#{pane_title}"))
}

// screen is what the pane shows now, without the scrollback: a cleared
// screen loses its lines from it.
func (tm *tmuxTerm) screen() string {
	tm.t.Helper()
	return tm.run("capture-pane", "-p")
}

// waitScreen waits until the pane shows a line matching pattern.
func (tm *tmuxTerm) waitScreen(pattern string) {
	tm.t.Helper()
	re := regexp.MustCompile("(?m)" + pattern)
	for deadline := time.Now().Add(screenWait); !re.MatchString(tm.screen()); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen never showed %q:\n%s", pattern, tm.screen())
		}
	}
}

// checkUnharmed fails the test if the pane's title changed or the marker
// printed before the command left the screen.
func checkUnharmed(t *testing.T, tm *tmuxTerm, title, marker string) {
	t.Helper()
	if got := tm.paneTitle(); got != title {
		t.Errorf("the pane's title is %q, was %q", got, title)
	}
	if s := tm.screen(); !strings.Contains(s, marker) {
		t.Errorf("the marker %q printed before the command is gone: the screen was cleared\n%s", marker, s)
	}
}

const marker = "MARKER-BEFORE-CHATROOM"

// TestHostileRoomPrompt joins a hostile room with the real binary at the
// interactive prompt, in tmux, and completes names and commands from what
// the room sent: the pane's title never changes, the line printed before
// stays on the screen, and the room's text shows as placeholders.
func TestHostileRoomPrompt(t *testing.T) {
	bin := buildChatroom(t)
	for _, id := range []string{hostileRoomID, hostileID} {
		t.Run(strconv.Quote(id), func(t *testing.T) {
			room := startHostileRoom(t, id)
			tm := startTmux(t, fmt.Sprintf("echo %s; %s join --addr %s --user bob --no-reconnect --state %s; echo \"[exited $?]\"; sleep 600",
				marker, bin, room.addr, t.TempDir()))
			tm.waitScreen(marker)
			title := tm.paneTitle()
			if id == hostileID {
				// Refused, or joined: either way the screen shows one of
				// them, and nothing acts.
				tm.waitScreen(`end of the hostile frames|chatroom: error: `)
			}
			if strings.Contains(tm.screen(), "chatroom: error: ") {
				tm.waitScreen(`^\[exited 1\]`)
				checkUnharmed(t, tm, title, marker)
				return
			}
			tm.waitScreen(`end of the hostile frames`)
			tm.waitScreen(regexp.QuoteMeta(`joined "Lab^[]0;pwned^G^[[2J^[[H" as bob`))
			tm.waitScreen(regexp.QuoteMeta(`<zz^[]0;pwned^Ga> hi^[]0;pwned^G^[[2J^[[Hthere`))
			checkUnharmed(t, tm, title, marker)
			for _, line := range []string{"zz", "/kick zz", "/zz", "/unban zz", "hi zz"} {
				tm.typeSlowly(line)
				tm.keys("Tab")
				tm.keys("Tab")
				tm.keys("C-u")
				tm.typeSlowly("done")
				waitCursorRowSuffix(t, tm, "> done")
				tm.keys("C-u")
				checkUnharmed(t, tm, title, marker)
			}
			tm.typeSlowly("/quit")
			tm.keys("Enter")
			tm.waitScreen(`^\[exited 0\]`)
			checkUnharmed(t, tm, title, marker)
		})
	}
}

// TestPromptCtrlLStillClears: the one screen clear the output piece lets
// through is the line editor's own, for Ctrl-L, which the person asks for.
func TestPromptCtrlLStillClears(t *testing.T) {
	bin := buildChatroom(t)
	room := startHostileRoom(t, hostileRoomID)
	tm := startTmux(t, fmt.Sprintf("echo %s; %s join --addr %s --user bob --no-reconnect --state %s; echo \"[exited $?]\"; sleep 600",
		marker, bin, room.addr, t.TempDir()))
	tm.waitScreen(`end of the hostile frames`)
	tm.typeSlowly("typed")
	waitCursorRowSuffix(t, tm, "> typed")
	tm.keys("C-l")
	for deadline := time.Now().Add(screenWait); ; time.Sleep(20 * time.Millisecond) {
		rows := strings.Split(tm.screen(), "\n")
		if strings.HasSuffix(strings.TrimRight(rows[0], " "), "> typed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ctrl-L did not clear the screen to the prompt:\n%s", tm.screen())
		}
	}
	if s := strings.TrimSpace(tm.screen()); strings.Contains(s, "\n") {
		t.Errorf("the screen holds more than the prompt after Ctrl-L:\n%s", s)
	}
	tm.keys("C-u")
	tm.typeSlowly("/quit")
	tm.keys("Enter")
	tm.waitScreen(`^\[exited 0\]`)
}

// waitCursorRowSuffix waits until the cursor's row ends with suffix, the
// cursor after it.
func waitCursorRowSuffix(t *testing.T, tm *tmuxTerm, suffix string) {
	t.Helper()
	for deadline := time.Now().Add(screenWait); ; time.Sleep(20 * time.Millisecond) {
		row, x := tm.cursorRow()
		row = strings.TrimRight(row, " ")
		if strings.HasSuffix(row, suffix) && x == utf8.RuneCountInString(row) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cursor's row is %q, cursor at %d; want it to end with %q\n%s", row, x, suffix, tm.screen())
		}
	}
}

// serveHostileRecord answers mDNS queries on lo, in the test's own network
// namespace, as instance, with a record of the room id whose name is
// escape sequences, pointing at port; it stops when the test ends.
func serveHostileRecord(t *testing.T, instance, id string, port int, fp string) {
	t.Helper()
	if !netns.Isolated() {
		t.Skip("mDNS is sent only in the test's own network namespace")
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	txt := []string{"v=" + strconv.Itoa(wire.Version), "id=" + id, "name=" + hostileRoomName, "fp=" + fp, "addrs=127.0.0.1"}
	service, err := mdns.NewMDNSService(instance, discovery.Service, "local.", "evil.local.", port, []net.IP{net.IPv4(127, 0, 0, 1)}, txt)
	if err != nil {
		t.Fatal(err)
	}
	server, err := mdns.NewServer(&mdns.Config{Zone: service, Iface: lo, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Shutdown() })
}

// TestHostileRoomRecord: a script on the LAN announces a room whose id and
// name are escape sequences (no room needs to exist). "chatroom list"
// writes not a byte of them raw, and "chatroom join", at the interactive
// prompt in tmux, neither changes the pane's title nor clears the screen,
// whether it goes on to the room or refuses it.
func TestHostileRoomRecord(t *testing.T) {
	bin := buildChatroom(t)
	room := startHostileRoom(t, hostileID)
	_, port, _ := net.SplitHostPort(room.addr)
	p, _ := strconv.Atoi(port)
	serveHostileRecord(t, "evil", hostileID, p, room.fp)

	list := startProc(t, bin, "list", "--iface", "lo")
	list.wait()
	for name, out := range map[string]string{"stdout": list.stdout.String(), "stderr": list.stderr.String()} {
		if r, ok := rawControl(out); ok {
			t.Errorf("list: %s holds %U:\n%q", name, r, out)
		}
	}
	// The record may be dropped for its id, which is not the form a room
	// makes; if it is listed, it is with placeholders.
	if out := list.stdout.String(); out != "" && !strings.Contains(out, "id a1b2^[]0;pwned^G^[[2J^[[H") {
		t.Errorf("list shows the room as:\n%s", out)
	} else if out == "" && !strings.HasPrefix(list.stderr.String(), "chatroom: error: ") {
		t.Errorf("list shows neither the room nor why not; stderr:\n%s", list.stderr.String())
	}

	tm := startTmux(t, fmt.Sprintf("echo %s; %s join --iface lo --user bob --no-reconnect --state %s; echo \"[exited $?]\"; sleep 600",
		marker, bin, t.TempDir()))
	tm.waitScreen(marker)
	title := tm.paneTitle()
	tm.waitScreen(`end of the hostile frames|chatroom: error: |^\[exited`)
	checkUnharmed(t, tm, title, marker)
	if strings.Contains(tm.screen(), "end of the hostile frames") {
		tm.typeSlowly("/quit")
		tm.keys("Enter")
	}
	tm.waitScreen(`^\[exited \d\]`)
	checkUnharmed(t, tm, title, marker)

	// A second record of that name: the rooms to choose from are listed,
	// to a script (in the error) and at a terminal (by the picker).
	serveHostileRecord(t, "evil2", hostileID+"2", p, room.fp)
	script := startProc(t, bin, "join", "--iface", "lo", "--user", "bob", "--state", t.TempDir())
	script.closeInput()
	script.wait()
	for name, out := range map[string]string{"stdout": script.stdout.String(), "stderr": script.stderr.String()} {
		if r, ok := rawControl(out); ok {
			t.Errorf("join among two: %s holds %U:\n%q", name, r, out)
		}
	}
	tm = startTmux(t, fmt.Sprintf("echo %s; %s join --iface lo --user bob --no-reconnect --state %s; echo \"[exited $?]\"; sleep 600",
		marker, bin, t.TempDir()))
	tm.waitScreen(marker)
	title = tm.paneTitle()
	tm.waitScreen(`join which one|chatroom: error: |^\[exited`)
	checkUnharmed(t, tm, title, marker)
	if strings.Contains(tm.screen(), "join which one") {
		tm.typeSlowly("0")
		tm.keys("Enter")
	}
	tm.waitScreen(`^\[exited \d\]`)
	checkUnharmed(t, tm, title, marker)
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// TestHostileStateFile: the known-rooms file holds what rooms said of
// themselves (names, keys), so it is text from the network kept on disk.
// A name and a key in it full of controls, shown when the room's key has
// changed, are shown as placeholders, in one line (or the line is refused
// as damaged).
func TestHostileStateFile(t *testing.T) {
	room := startHostileRoom(t, hostileRoomID)
	state := t.TempDir()
	other := "SHA256:" + oscTitle + clear // a pin the file may hold, damaged or planted
	file := hostileRoomID + " " + other + " 2026-01-01T00:00:00Z Lab" + oscTitle + clear + "\u202e\n"
	if err := os.WriteFile(filepath.Join(state, join.KnownRoomsFile), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := run([]string{"join", "--addr", room.addr, "--user", "bob", "--no-reconnect", "--state", state}, strings.NewReader(""), &stdout, &stderr)
	if code == 0 {
		t.Errorf("join with a changed key exited 0; stderr:\n%s", stderr.String())
	}
	for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		if r, ok := rawControl(out); ok {
			t.Errorf("%s holds %U:\n%q", name, r, out)
		}
	}
	// The damaged line is warned of, and the room it names refused: each
	// a line of the command's own, whatever the line held.
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "chatroom: warning: ") && !strings.HasPrefix(l, "chatroom: error: ") {
			t.Errorf("stderr line %q is not one of the command's own; stderr:\n%s", l, stderr.String())
		}
	}
	if !strings.HasPrefix(lines[len(lines)-1], "chatroom: error: ") {
		t.Errorf("stderr does not end with the error:\n%s", stderr.String())
	}
}
