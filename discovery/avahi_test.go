package discovery

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"chatroom/discovery/netns"
)

// avahi-daemon beside the room, on the room's machine: what most Linux
// desktops run. It binds port 5353 first (it starts at boot), and the room
// after it.

// avahiTTL is the TTL the room's records are given in the avahi test, so
// that several expiries pass within a bounded test: avahi asks again at
// 80 % of a record's TTL, and drops it at 100 % unless answered.
const avahiTTL = 4

// startAvahi runs avahi-daemon on ifc, in a mount namespace of its own
// with a private /run and its own D-Bus, and avahi-browse beside it; it
// returns avahi-browse's lines and the path of avahi-daemon's log. It
// runs in peer's network namespace (another machine), or with peer nil in
// the test's own, under the host name host (without ".local"). It skips
// the test, with the reason, where that cannot be done; it never runs
// avahi outside the namespaces the test made.
func startAvahi(t *testing.T, peer *netns.Peer, ifc, host string) (lines <-chan string, log string) {
	t.Helper()
	netns.Require(t)
	for _, tool := range []string{"avahi-daemon", "avahi-browse", "dbus-daemon", "unshare", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian: apt-get install avahi-daemon avahi-utils dbus)", tool)
		}
	}
	dir := t.TempDir()
	bus := filepath.Join(dir, "bus")
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("dbus.conf", `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=`+bus+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`)
	write("avahi.conf", `[server]
host-name=`+host+`
allow-interfaces=`+ifc+`
use-ipv4=yes
use-ipv6=yes
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-workstation=no
[reflector]
enable-reflector=no
`)
	script := fmt.Sprintf(`set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/avahi-daemon /run/dbus
# avahi-daemon gives its runtime directory to the avahi user, whose id the
# test's user namespace may not map: here, in this mount namespace alone,
# that user is root.
grep -v '^avahi:' /etc/passwd >%[1]s/passwd; echo 'avahi:x:0:0::/run/avahi-daemon:/usr/sbin/nologin' >>%[1]s/passwd
grep -v '^avahi:' /etc/group >%[1]s/group; echo 'avahi:x:0:' >>%[1]s/group
mount --bind %[1]s/passwd /etc/passwd
mount --bind %[1]s/group /etc/group
dbus-daemon --config-file=%[1]s/dbus.conf --nofork --nopidfile >%[1]s/dbus.log 2>&1 &
for i in $(seq 200); do [ -S %[2]s ] && break; sleep 0.05; done
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=%[2]s
avahi-daemon -f %[1]s/avahi.conf --no-drop-root --no-chroot --no-rlimits >%[1]s/avahi.log 2>&1 &
for i in $(seq 200); do grep -q "Server startup complete" %[1]s/avahi.log && break; sleep 0.05; done
grep -q "Server startup complete" %[1]s/avahi.log || { echo "AVAHI-FAILED"; cat %[1]s/avahi.log %[1]s/dbus.log; exit 0; }
echo READY
exec avahi-browse -p -r _chatroom._tcp
`, dir, bus)
	cmd := exec.Command("unshare", "-m", "sh", "-c", script)
	if peer != nil {
		cmd = peer.Command("unshare", "-m", "sh", "-c", script)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start avahi here: %v", err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(-pgid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
	})
	out := make(chan string, 256)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out <- sc.Text()
		}
	}()
	var early []string
	for deadline := time.After(20 * time.Second); ; {
		select {
		case line, ok := <-out:
			switch {
			case !ok:
				t.Skipf("avahi-daemon cannot run in the test's namespace: %q", early)
			case line == "READY":
				return out, filepath.Join(dir, "avahi.log")
			case line == "AVAHI-FAILED":
				rest := early
				for l := range out {
					rest = append(rest, l)
				}
				t.Skipf("avahi-daemon cannot run in the test's namespace: %s", strings.Join(rest, "\n"))
			}
			early = append(early, line)
		case <-deadline:
			t.Skipf("avahi-daemon did not start in 20 s: %q", early)
		}
	}
}

// avahiEvent is one line of avahi-browse -p: "+" found, "=" resolved, "-"
// removed, with the interface, protocol and instance name.
type avahiEvent struct {
	kind, iface, proto, instance string
	fields                       []string
}

func parseAvahi(line string) (avahiEvent, bool) {
	f := strings.Split(line, ";")
	if len(f) < 6 || (f[0] != "+" && f[0] != "=" && f[0] != "-") {
		return avahiEvent{}, false
	}
	return avahiEvent{kind: f[0], iface: f[1], proto: f[2], instance: f[3], fields: f}, true
}

// What it stands for: avahi-daemon on the room's own machine, bound to
// port 5353 before the room. It asks again as the room's records near
// their expiry; the room's answers, sent by unicast to port 5353, went to
// the room's own socket (bound last) and avahi dropped the live room when
// the TTL ran out (two minutes at the usual TTL). Here the TTL is 4 s and
// the room must stay listed for 5 of them, on IPv4 and IPv6; and when the
// room closes, avahi must drop it on both at once (its goodbye), not
// after the TTL.
func TestAvahiKeepsTheLiveRoom(t *testing.T) {
	peer := netns.NewPeer(t)
	waitLinkLocal(t, nil, peer.Local)
	// avahi publishes this machine's host name, the one the room's SRV
	// record names too, with the same addresses: they must not conflict
	// (avahi would rename the machine).
	host, _, _ := strings.Cut(hostName(), ".")
	lines, avahiLog := startAvahi(t, nil, peer.Local, host)
	room := testRoom("Beside Avahi", "a4a4a40100000000")
	a, err := startAdvertiser(room, Options{Interfaces: []string{peer.Local}}, avahiTTL, pollInterval)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	avahiKeepsThenDrops(t, lines, avahiLog, a, peer.Local)
}

// What it stands for: avahi-daemon on a browsing machine (the peer; the
// room is on the test's side of the link), bound to port 5353 at boot,
// and another mDNS program on that machine bound to 5353 after it (a
// second responder, a chat or media program with its own mDNS). As avahi
// refreshes the room's records near their expiry, the room's answers, when
// sent by unicast to the asker's port 5353, reached that machine's socket
// bound last, not avahi, which dropped the live room when the TTL ran out:
// two minutes at the usual TTL, "several minutes" of browsing being where
// it showed. The time is compressed as in TestAvahiKeepsTheLiveRoom: TTL
// 4 s, avahi asks again from about 3.2 s, and the room must stay listed for
// 5 TTLs (20 s) on IPv4 and IPv6, then be dropped at once on its goodbye.
func TestAvahiOnTheBrowsingMachine(t *testing.T) {
	peer := netns.NewPeer(t)
	waitLinkLocal(t, nil, peer.Local)
	waitLinkLocal(t, peer, peer.Remote)
	lines, avahiLog := startAvahi(t, peer, peer.Remote, "browsing-machine")
	bindMDNSInPeer(t, peer, peer.Remote) // after avahi
	room := testRoom("Avahi Afar", "a4a4a40200000000")
	a, err := startAdvertiser(room, Options{Interfaces: []string{peer.Local}}, avahiTTL, pollInterval)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	avahiKeepsThenDrops(t, lines, avahiLog, a, peer.Remote)
}

// envBind carries, to TestPeerBindsMDNS, the interface to bind on.
const envBind = "CHATROOM_TEST_BIND_MDNS"

// bindMDNSInPeer binds UDP port 5353, on IPv4 and IPv6, in peer's
// namespace, with the mDNS groups joined on ifc, as another mDNS program
// does, until the test ends: bound last, it is the socket to which the
// kernel gives what is unicast to that machine's port 5353.
func bindMDNSInPeer(t *testing.T, peer *netns.Peer, ifc string) {
	t.Helper()
	runInPeer(t, peer, "TestPeerBindsMDNS", envBind+"="+ifc, "BOUND", "the peer's mDNS socket")
}

// TestPeerBindsMDNS is the peer's side of bindMDNSInPeer; elsewhere it
// does nothing.
func TestPeerBindsMDNS(t *testing.T) {
	ifc := os.Getenv(envBind)
	if !netns.InPeer() || ifc == "" {
		t.Skip("runs in a peer namespace, for bindMDNSInPeer")
	}
	for _, v4 := range []bool{true, false} {
		conn, _ := joinGroup(t, ifc, v4)
		go func() {
			buf := make([]byte, 9000)
			for {
				if _, _, err := conn.ReadFromUDP(buf); err != nil {
					return
				}
			}
		}()
	}
	fmt.Println("BOUND")
	io.Copy(io.Discard, os.Stdin)
}

// avahiKeepsThenDrops watches avahi-browse's lines while the room a is
// up, for 5 of its TTLs: avahi must list it on IPv4 and IPv6, resolve it,
// and never drop it; then a closes, and avahi must drop it on both at
// once, on its goodbye. It must see it on ifc: where the avahi it
// watches runs.
func avahiKeepsThenDrops(t *testing.T, lines <-chan string, avahiLog string, a *Advertiser, ifc string) {
	t.Helper()
	listed := map[string]bool{} // by protocol
	resolved := map[string]bool{}
	until := time.After(5 * avahiTTL * time.Second)
	var seen []string
watch:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("avahi-browse ended: %q", seen)
			}
			seen = append(seen, line)
			e, ok := parseAvahi(line)
			if !ok || e.instance != a.Instance() {
				continue
			}
			if e.iface != ifc {
				t.Fatalf("avahi saw the room on %s, not %s: %q", e.iface, ifc, line)
			}
			switch e.kind {
			case "+":
				listed[e.proto] = true
			case "=":
				resolved[e.proto] = true
			case "-":
				t.Fatalf("avahi dropped the live room (%s) after %s: %q", e.proto, strconv.Quote(line), seen)
			}
		case <-until:
			break watch
		}
	}
	if !listed["IPv4"] || !resolved["IPv4"] || !listed["IPv6"] {
		t.Fatalf("avahi listed the room on %v, resolved it on %v: %q", listed, resolved, seen)
	}

	if log, err := os.ReadFile(avahiLog); err != nil || strings.Contains(strings.ToLower(string(log)), "conflict") {
		t.Fatalf("avahi's log (%v):\n%s", err, log)
	}

	closed := time.Now()
	a.Close()
	removed := map[string]bool{}
	deadline := time.After(avahiTTL * time.Second * 3 / 4) // well before the records would expire
	for !removed["IPv4"] || !removed["IPv6"] {
		select {
		case line := <-lines:
			if e, ok := parseAvahi(line); ok && e.kind == "-" && e.instance == a.Instance() {
				removed[e.proto] = true
			}
		case <-deadline:
			t.Fatalf("avahi still lists the closed room (removed on %v only)", removed)
		}
	}
	t.Logf("avahi dropped the closed room on IPv4 and IPv6 %v after its goodbye", time.Since(closed).Round(10*time.Millisecond))
}

// waitLinkLocal waits until ifc's link-local IPv6 address, in peer's
// namespace or (nil) the test's own, has passed duplicate address
// detection, so that IPv6 multicast can be sent there.
func waitLinkLocal(t *testing.T, peer *netns.Peer, ifc string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		cmd := exec.Command("ip", "-6", "addr", "show", "dev", ifc)
		if peer != nil {
			cmd = peer.Command("ip", "-6", "addr", "show", "dev", ifc)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if strings.Contains(string(out), "fe80::") && !strings.Contains(string(out), "tentative") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no usable link-local address on %s:\n%s", ifc, out)
		}
	}
}
