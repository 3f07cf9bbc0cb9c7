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

// quitUnharmed leaves with /quit, waits for join's exit status 0, and
// checks that the terminal is unharmed after it.
func quitUnharmed(t *testing.T, tm *tmuxTerm, title, marker string) {
	t.Helper()
	tm.typeSlowly("/quit")
	tm.keys("Enter")
	tm.waitScreen(`^\[exited 0\]`)
	checkUnharmed(t, tm, title, marker)
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
			quitUnharmed(t, tm, title, marker)
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

// hostileRecord is an mDNS record a script on the LAN sends for a room:
// every field of it but the id and the key may hold what it likes.
type hostileRecord struct {
	instance, host  string // the instance's label, the SRV's target (a name ending in ".")
	id, name, topic string
	port            int
	fp              string
}

// Hostile name, topic, instance and host for the records: a title set by
// OSC 0, a screen cleared, a CSI in its C1 form, a bidi override and
// isolate, a NEL.
var (
	hostileRecordName  = hostileRoomName + "\u202e\u009b2J"
	hostileRecordTopic = "topic" + oscTitle + clear + "\u2066\u0085x"
	hostileInstance    = "evil" + oscTitle + "\u202e"
	hostileHost        = "evil" + oscTitle + "\u009b2J.local."
)

// serveHostileRecord answers mDNS queries on lo, in the test's own network
// namespace, with rec, pointing at 127.0.0.1; it stops when the test ends.
func serveHostileRecord(t *testing.T, rec hostileRecord) {
	t.Helper()
	if !netns.Isolated() {
		t.Skip("mDNS is sent only in the test's own network namespace")
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	txt := []string{"v=" + strconv.Itoa(wire.Version), "id=" + rec.id, "name=" + rec.name, "fp=" + rec.fp, "addrs=127.0.0.1"}
	if rec.topic != "" {
		txt = append(txt, "topic="+rec.topic)
	}
	service, err := mdns.NewMDNSService(rec.instance, discovery.Service, "local.", rec.host, rec.port, []net.IP{net.IPv4(127, 0, 0, 1)}, txt)
	if err != nil {
		t.Fatal(err)
	}
	server, err := mdns.NewServer(&mdns.Config{Zone: service, Iface: lo, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Shutdown() })
}

// hostileRecordFor is the hostile record of room, which names id.
func hostileRecordFor(room *hostileRoom, instance, id string) hostileRecord {
	_, port, _ := net.SplitHostPort(room.addr)
	p, _ := strconv.Atoi(port)
	return hostileRecord{instance: instance, host: hostileHost, id: id, name: hostileRecordName, topic: hostileRecordTopic, port: p, fp: room.fp}
}

// checkNoRawControls fails the test if any of outs (named by what they
// are) holds a control that a terminal would act on.
func checkNoRawControls(t *testing.T, what string, outs map[string]string) {
	t.Helper()
	for name, out := range outs {
		if r, ok := rawControl(out); ok {
			t.Errorf("%s: %s holds %U:\n%q", what, name, r, out)
		}
	}
}

// TestHostileRoomRecord: a script on the LAN announces a room whose id is
// the form a room makes, so that the record is taken, but whose name,
// topic, instance and host are escape sequences, C1 controls and bidi
// overrides; the room it points at is hostile too. Every command that
// shows the record shows it with its controls made visible, and at a
// terminal (tmux) neither changes the pane's title nor clears the screen:
// "chatroom list", "chatroom join" finding the room by mDNS (its "first
// visit" and "joining" lines), and, with two such rooms, the list in
// join's error (to a script) and join's picker (at a terminal).
func TestHostileRoomRecord(t *testing.T) {
	bin := buildChatroom(t)
	room := startHostileRoom(t, hostileRoomID)
	serveHostileRecord(t, hostileRecordFor(room, hostileInstance, hostileRoomID))
	shownName, shownTopic := join.Sanitize(hostileRecordName), join.Sanitize(hostileRecordTopic)

	list := startProc(t, bin, "list", "--iface", "lo")
	list.wait()
	checkNoRawControls(t, "list", map[string]string{"stdout": list.stdout.String(), "stderr": list.stderr.String()})
	lines := strings.Split(strings.TrimSuffix(list.stdout.String(), "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], shownName+"\t") || !strings.Contains(lines[0], "\tid "+hostileRoomID+"\t") ||
		!strings.HasSuffix(lines[0], "\ttopic: "+shownTopic) || !strings.Contains(lines[0], "\tevil") {
		t.Errorf("list shows, want one line of the room with its name %q and topic %q shown:\n%q\nstderr:\n%s", shownName, shownTopic, list.stdout.String(), list.stderr.String())
	}

	// The same at a terminal: the list, then join by mDNS, in one pane.
	tm := startTmux(t, fmt.Sprintf("echo %s; %s list --iface lo; echo \"[listed $?]\"; %s join --iface lo --user bob --no-reconnect --state %s; echo \"[exited $?]\"; sleep 600",
		marker, bin, bin, t.TempDir()))
	tm.waitScreen(marker)
	title := tm.paneTitle()
	tm.waitScreen(`^\[listed 0\]`)
	checkUnharmed(t, tm, title, marker)
	tm.waitLines(regexp.QuoteMeta(shownName), `^\[listed 0\]`)
	tm.waitLines(`^chatroom: first visit to room `+hostileRoomID+`: its key SHA256:\S+ is remembered`,
		`^chatroom: joining "`+regexp.QuoteMeta(shownName)+`" on evil`,
		`end of the hostile frames`)
	checkUnharmed(t, tm, title, marker)
	quitUnharmed(t, tm, title, marker)

	// A second room, its record as hostile: the rooms to choose from are
	// listed, to a script (in the error) and at a terminal (by the
	// picker).
	const otherID = "fedcba9876543210"
	other := startHostileRoom(t, otherID)
	serveHostileRecord(t, hostileRecordFor(other, "evil2"+oscTitle, otherID))
	script := startProc(t, bin, "join", "--iface", "lo", "--user", "bob", "--state", t.TempDir())
	script.closeInput()
	script.wait()
	checkNoRawControls(t, "join among two", map[string]string{"stdout": script.stdout.String(), "stderr": script.stderr.String()})
	for _, id := range []string{hostileRoomID, otherID} {
		if !strings.Contains(script.stderr.String(), "  "+shownName+"\t") || !strings.Contains(script.stderr.String(), "\tid "+id+"\t") {
			t.Errorf("join among two does not list room %s as %q:\n%s", id, shownName, script.stderr.String())
		}
	}
	tm = startTmux(t, fmt.Sprintf("echo %s; %s join --iface lo --user bob --no-reconnect --state %s; echo \"[exited $?]\"; sleep 600",
		marker, bin, t.TempDir()))
	tm.waitScreen(marker)
	title = tm.paneTitle()
	tm.waitScreen(`join which one`)
	checkUnharmed(t, tm, title, marker)
	picked := tm.waitLines(`^  1  `+regexp.QuoteMeta(shownName), `^  2  `+regexp.QuoteMeta(shownName), `join which one \(1-2\)\?`)
	if n := strings.Count(strings.Join(picked, "\n"), "topic: "+shownTopic); n != 2 {
		t.Errorf("the picker shows the topic %q %d times, want 2:\n%s", shownTopic, n, strings.Join(picked, "\n"))
	}
	tm.typeSlowly("1")
	tm.keys("Enter")
	tm.waitScreen(`end of the hostile frames`)
	checkUnharmed(t, tm, title, marker)
	quitUnharmed(t, tm, title, marker)
}

// TestHostileRecordMalformedID: a script on the LAN announces a "room"
// whose id is escape sequences, which is not the form a room makes. The
// record is dropped (nothing is listed, nothing is dialed), and the person
// is told so in one line of the command's own, without the id: "no room
// found", and why the one answer was ignored; at a terminal, the pane's
// title and screen are untouched.
func TestHostileRecordMalformedID(t *testing.T) {
	bin := buildChatroom(t)
	room := startHostileRoom(t, hostileID)
	serveHostileRecord(t, hostileRecordFor(room, "evil", hostileID))
	want := "chatroom: error: no room found on the network (" + discovery.NotRoomsText(1) + "); run \"chatroom doctor\" to see why, or "

	for _, args := range [][]string{{"list", "--iface", "lo"}, {"join", "--iface", "lo", "--user", "bob", "--state", t.TempDir()}} {
		p := startProc(t, bin, args...)
		p.closeInput()
		code := p.wait()
		checkNoRawControls(t, args[0], map[string]string{"stdout": p.stdout.String(), "stderr": p.stderr.String()})
		if p.stdout.String() != "" || strings.Count(p.stderr.String(), "\n") != 1 || !strings.HasPrefix(p.stderr.String(), want) ||
			strings.Contains(p.stderr.String(), "a1b2") {
			t.Errorf("%s: stdout %q, stderr %q; want nothing listed and one line %q...", args[0], p.stdout.String(), p.stderr.String(), want)
		}
		if code != exitNoRoom {
			t.Errorf("%s exited %d, want %d (no room)", args[0], code, exitNoRoom)
		}
	}

	// Doctor, which is what the error says to run, names it too.
	doctor := startProc(t, bin, "doctor", "--iface", "lo")
	doctor.closeInput()
	doctor.wait()
	out := doctor.stdout.String() + doctor.stderr.String()
	checkNoRawControls(t, "doctor", map[string]string{"output": out})
	if !strings.Contains(out, "info rooms: "+discovery.NotRoomsText(1)) || strings.Contains(out, "a1b2") {
		t.Errorf("doctor does not name the answer ignored, or shows its id:\n%s", out)
	}

	tm := startTmux(t, fmt.Sprintf("echo %s; %s join --iface lo --user bob --no-reconnect --state %s; echo \"[exited $?]\"; sleep 600",
		marker, bin, t.TempDir()))
	tm.waitScreen(marker)
	title := tm.paneTitle()
	tm.waitScreen(`^\[exited \d\]`)
	checkUnharmed(t, tm, title, marker)
	tm.waitLines(regexp.QuoteMeta(want), `^\[exited 4\]`)
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
