//go:build linux || darwin || freebsd || openbsd || netbsd

package main

import (
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"chatroom/discovery"
	"chatroom/discovery/netns"
	"chatroom/host/wire"
)

// TestJoinHostileRecordPinsNothing runs the real binary against an mDNS
// record sent by the test, as a script on the LAN could, with no server
// behind it: it names a real room's id with a key of the sender's.
// `chatroom join` used to pin that key before connecting, so the real room,
// when it came back, was refused as "key changed" until the person edited
// known-rooms by hand. Now the join fails (nothing answers), nothing is
// pinned, and the real room is then a first visit, joined.
func TestJoinHostileRecordPinsNothing(t *testing.T) {
	if !netns.Isolated() {
		t.Skip("mDNS is used only in the test's own network namespace")
	}
	bin := buildChatroom(t)
	hostState, joinState := t.TempDir(), t.TempDir()
	startHost := func() *proc {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
		h := startProc(t, bin, "host", "--no-prompt", "--name", "Lab 5", "--iface", "lo", "--listen", addr, "--state", hostState)
		h.waitErr(`room "Lab 5" listening on ` + regexp.QuoteMeta(addr))
		return h
	}
	// The real room, once, so that it has an id and a key; then it is away.
	startHost().stop()
	id, err := os.ReadFile(filepath.Join(hostState, "room-id"))
	if err != nil {
		t.Fatal(err)
	}
	realID := strings.TrimSpace(string(id))
	if !wire.ValidRoomID(realID) {
		t.Fatalf("room id %q", realID)
	}

	sum := sha256.Sum256([]byte("the sender's key"))
	bogus := "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
	ad, err := discovery.Advertise(discovery.Room{
		ID: realID, Name: "Lab 5", Fingerprint: bogus, Version: wire.Version,
		Port: freePort(t), Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")},
	}, discovery.Options{Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	hostile := startProc(t, bin, "join", "--iface", "lo", "--no-reconnect", "--user", "bob", "--state", joinState)
	hostile.closeInput()
	if code := hostile.wait(); code == 0 {
		t.Fatalf("joined the record's room; stderr:\n%s", hostile.stderr.String())
	}
	// It found the record, and went to join it: the record was believed
	// as far as it can be before the room answers (the address is named
	// once a room answers there; here nothing does).
	hostile.waitErr(`^chatroom: error: cannot connect to the room: 127\.0\.0\.1:\d+ refused the connection: no room is listening there$`)
	if strings.Contains(hostile.stderr.String(), "first visit") {
		t.Errorf("the record was taken for a visit; stderr:\n%s", hostile.stderr.String())
	}
	if data, err := os.ReadFile(filepath.Join(joinState, "known-rooms")); err == nil && strings.Contains(string(data), realID) {
		t.Fatalf("the record's key was pinned:\n%s", data)
	}
	ad.Close()

	// A known-rooms file damaged by the old client (a no-break space, a
	// line past 64 KB) costs those lines, each said once, not the join.
	known := filepath.Join(joinState, "known-rooms")
	damaged := "\u00a0" + realID[1:] + " " + bogus + " 2026-01-01T00:00:00Z Lab 5\n" + strings.Repeat("x", 70000) + "\n"
	if err := os.WriteFile(known, []byte(damaged), 0o600); err != nil {
		t.Fatal(err)
	}

	real := startHost()
	bob := startProc(t, bin, "join", "--iface", "lo", "--no-reconnect", "--user", "bob", "--state", joinState)
	bob.waitOut(`^joined "Lab 5" as bob`)
	bob.waitErr(`^chatroom: first visit to room ` + realID + `: its key SHA256:\S+ is remembered`)
	bob.closeInput()
	if code := bob.wait(); code != 0 {
		t.Errorf("join exited %d; stderr:\n%s", code, bob.stderr.String())
	}
	real.stop()
	for _, n := range []string{"1", "2"} {
		warning := `(?m)^chatroom: warning: \S*known-rooms:` + n + ` is damaged and was skipped \(.*\); fix or remove that line$`
		if got := len(regexp.MustCompile(warning).FindAllString(bob.stderr.String(), -1)); got != 1 {
			t.Errorf("line %s: warned %d times, want once; stderr:\n%.2000s", n, got, bob.stderr.String())
		}
	}
	data, err := os.ReadFile(known)
	if err != nil || !strings.Contains(string(data), "\n"+realID+" SHA256:") || !strings.Contains(string(data), damaged) {
		t.Fatalf("known-rooms after the real room (%v):\n%.2000s", err, data)
	}
}
