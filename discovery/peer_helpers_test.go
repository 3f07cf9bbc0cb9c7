package discovery

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"chatroom/discovery/netns"
)

// envAdvertise carries, to TestPeerAdvertise, the room it advertises.
const envAdvertise = "CHATROOM_TEST_ADVERTISE"

// advertiseFromPeer advertises room from the peer namespace (another
// machine), on its every interface, until the test ends.
func advertiseFromPeer(t testing.TB, peer *netns.Peer, room Room) {
	t.Helper()
	js, err := json.Marshal(room)
	if err != nil {
		t.Fatal(err)
	}
	runInPeer(t, peer, "TestPeerAdvertise", envAdvertise+"="+string(js), "ADVERTISED", "the peer's advertiser")
}

// runInPeer runs this test binary's test named test in peer's namespace,
// with env added, until the test ends (its stdin closed is its cue to
// end, or it is killed 10 s later), and waits until it prints a line
// that starts with ready; what is names it in a failure.
func runInPeer(t testing.TB, peer *netns.Peer, test, env, ready, what string) {
	t.Helper()
	cmd := peer.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(cmd.Env, env)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	started := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), ready) {
				started <- nil
				io.Copy(io.Discard, stdout)
				return
			}
		}
		started <- fmt.Errorf("%s ended before it was ready", what)
	}()
	select {
	case err := <-started:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not start", what)
	}
}

// TestPeerAdvertise is the peer's side of advertiseFromPeer; elsewhere it
// does nothing.
func TestPeerAdvertise(t *testing.T) {
	js := os.Getenv(envAdvertise)
	if !netns.InPeer() || js == "" {
		t.Skip("runs in a peer namespace, for advertiseFromPeer")
	}
	var room Room
	if err := json.Unmarshal([]byte(js), &room); err != nil {
		t.Fatal(err)
	}
	a, err := Advertise(room, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ADVERTISED")
	io.Copy(io.Discard, os.Stdin)
	a.Close()
}

// nft loads an nftables ruleset in the test's namespace (never the
// machine's: netns.Require has been called) or the peer's, and removes it
// at the end of the test.
func nft(t testing.TB, peer *netns.Peer, table, ruleset string) {
	t.Helper()
	run := func(args ...string) *exec.Cmd {
		if peer != nil {
			return peer.Command("nft", args...)
		}
		return exec.Command("nft", args...)
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft (nftables) to drop packets inside the namespace")
	}
	cmd := run("-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("nftables cannot load rules in the namespace here: %v: %s", err, out)
	}
	t.Cleanup(func() { run("delete", "table", "inet", table).Run() })
}

// dropOnArrival drops percent of the UDP packets (mDNS: nothing else
// uses UDP here) that arrive on iface,
// in the peer's namespace or (peer nil) the test's own: a lossy Wi-Fi.
func dropOnArrival(t testing.TB, peer *netns.Peer, iface string, percent int) {
	t.Helper()
	netns.Require(t)
	table := "loss_" + iface
	nft(t, peer, table, fmt.Sprintf(`table inet %s {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname %q meta l4proto udp numgen random mod 100 < %d drop
	}
}
`, table, iface, percent))
}
