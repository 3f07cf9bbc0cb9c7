package discovery

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"chatroom/discovery/netns"
)

// Interoperability with python-zeroconf (Debian's python3-zeroconf), an
// independent mDNS implementation, both ways. The scripts are in testdata.

// python is the interpreter that has zeroconf: Debian's, not whatever
// python3 comes first on PATH.
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if err := exec.Command(p, "-c", "import zeroconf").Run(); err == nil {
			return p
		}
	}
	t.Skip("python3 with zeroconf is not installed (Debian: apt-get install python3-zeroconf)")
	return ""
}

// script starts a python script that runs until its stdin closes.
func script(t *testing.T, name string, args ...string) (lines <-chan string) {
	t.Helper()
	cmd := exec.Command(python(t), append([]string{"testdata/" + name}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, stderr.String())
		}
	})
	out := make(chan string, 100)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out <- sc.Text()
		}
		io.Copy(io.Discard, stdout)
	}()
	return out
}

type zeroconfEvent struct {
	Event     string            `json:"event"`
	Name      string            `json:"name"`
	Port      int               `json:"port"`
	Addresses []string          `json:"addresses"`
	TXT       map[string]string `json:"txt"`
}

// next waits for the next event matching want, failing after a deadline
// far beyond what mDNS needs (a missing goodbye would leave the room for
// 120 s).
func next(t *testing.T, lines <-chan string, want func(zeroconfEvent) bool) zeroconfEvent {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("zeroconf script ended")
			}
			var e zeroconfEvent
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("zeroconf said %q", line)
			}
			if want(e) {
				return e
			}
		case <-deadline:
			t.Fatal("zeroconf did not see it")
		}
	}
}

// zeroconf browsing finds our room with its TXT record, and drops it when
// the room says goodbye.
func TestZeroconfBrowsesOurRoom(t *testing.T) {
	netns.Require(t)
	events := script(t, "zeroconf_browse.py", "127.0.0.1")
	next(t, events, func(e zeroconfEvent) bool { return e.Event == "browsing" })

	room := testRoom("Café ☕ Lab", "77aa88bb99cc0000")
	a, err := Advertise(room, onLoopback)
	if err != nil {
		t.Fatal(err)
	}
	fullName := a.Instance() + "." + Service + "." + domain
	added := next(t, events, func(e zeroconfEvent) bool { return e.Name == fullName && e.Event != "removed" })
	if added.Event == "unresolved" {
		t.Fatalf("zeroconf could not resolve the room")
	}
	if added.Port != room.Port || added.TXT["name"] != room.Name || added.TXT["id"] != room.ID ||
		added.TXT["fp"] != room.Fingerprint || added.TXT["v"] != "1" || added.TXT["addrs"] != "127.0.0.1" {
		t.Fatalf("zeroconf saw %+v", added)
	}

	closed := time.Now()
	a.Close()
	next(t, events, func(e zeroconfEvent) bool { return e.Name == fullName && e.Event == "removed" })
	t.Logf("zeroconf dropped the room %v after its goodbye", time.Since(closed).Round(10*time.Millisecond))
}

// Our browser finds a room that zeroconf registers.
func TestBrowseFindsZeroconfRoom(t *testing.T) {
	netns.Require(t)
	lines := script(t, "zeroconf_register.py", "127.0.0.1")
	select {
	case line := <-lines:
		if line != "registered" {
			t.Fatalf("zeroconf said %q", line)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("zeroconf did not register")
	}
	rooms := browse(t, onLoopback)
	if len(rooms) != 1 {
		t.Fatalf("found %+v", rooms)
	}
	r := rooms[0]
	if r.ID != "0c0123456789abcd" || r.Name != "Zeroconf Room ☕" || r.Instance != "Zeroconf Room" || r.Port != 7466 || r.Host != "zc-host.local." {
		t.Fatalf("found %+v", r)
	}
}
