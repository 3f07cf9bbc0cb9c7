//go:build linux

package main

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"chatroom/discovery/netns"
	"chatroom/join"
)

// BenchmarkDialLossy measures what joining meets on a lossy LAN: a TCP
// connection and TLS handshake to a room on another machine (a peer
// namespace), with nftables dropping that share of the packets arriving
// on each side, inside the namespaces only. It reports how often the dial
// succeeded within its 10 s, and the median and slowest. Run:
//
//	go test -run '^$' -bench DialLossy -benchtime 20x .
func BenchmarkDialLossy(b *testing.B) {
	if !netns.Isolated() {
		b.Skip("runs only in the test's own network namespace")
	}
	bin := buildChatroomB(b)
	for _, loss := range []int{0, 20, 50} {
		b.Run(fmt.Sprintf("loss=%d%%", loss), func(b *testing.B) {
			addr, _ := lossyRoom(b, bin, 7400+loss, loss)
			var took []time.Duration
			ok := 0
			var errs []string
			for b.Loop() {
				start := time.Now()
				conn, err := join.DialTLS(addr, "", nil)(context.Background())
				took = append(took, time.Since(start))
				if err == nil {
					ok++
					conn.Close()
				} else if len(errs) < 3 {
					errs = append(errs, err.Error())
				}
			}
			slices.Sort(took)
			b.ReportMetric(100*float64(ok)/float64(len(took)), "%connected")
			b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "median-ms")
			b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "max-ms")
			if len(errs) > 0 {
				b.Logf("errors: %s", strings.Join(errs, " | "))
			}
		})
	}
}

// lossyRoom hosts a room on another machine (a peer namespace), on port,
// and returns its address once it accepts connections, with percent of
// the packets arriving on each side dropped from then on.
func lossyRoom(tb testing.TB, bin string, port, percent int) (addr string, peer *netns.Peer) {
	tb.Helper()
	peer = netns.NewPeer(tb)
	cmd := peer.Command(bin, "host", "--no-prompt", "--name", "Lab 5", "--listen", ":"+strconv.Itoa(port), "--state", tb.TempDir())
	stdin, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	addr = peer.RemoteAddr + ":" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		conn, err := join.DialTLS(addr, "", nil)(context.Background())
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the room never listened: %v", err)
		}
	}
	if percent > 0 {
		dropAll(tb, nil, peer.Local, percent)
		dropAll(tb, peer, peer.Remote, percent)
	}
	return addr, peer
}

// TestDialThroughLoss stands for a room on a lossy Wi-Fi: at 50 % loss
// each way, one join in two failed at the TCP/TLS step with "context
// deadline exceeded" (TCP waits 1 s, then 2 s, 4 s for a lost SYN, and
// the room closes a handshake that takes too long). join's own dial
// (join.DialTLS, which starts another attempt each second one is
// pending), against a real host on another machine with half the packets
// arriving on each side dropped (nftables, inside the namespaces), must
// connect, within its dial timeout, in at least 6 of 9 tries, and say
// in words why one did not. (At 50 % each way some handshakes still
// lose every attempt within the 10 s, about one dial in ten here, so
// all of them may not be asked for; before, one in two failed, and 6
// of 9 then passes one run in four.) Then nothing gets through, and
// chatroom join must say so in words, not Go's.
func TestDialThroughLoss(t *testing.T) {
	if !netns.Isolated() {
		t.Skip("runs only in the test's own network namespace")
	}
	bin := buildChatroom(t)
	addr, peer := lossyRoom(t, bin, freePort(t), 50)
	const tries, needed = 9, 6
	var took []string
	connected := 0
	for i := range tries {
		start := time.Now()
		conn, err := join.DialTLS(addr, "", nil)(context.Background())
		if err != nil {
			took = append(took, "failed: "+err.Error())
			if e := join.InWords(err); strings.Contains(e, "deadline exceeded") || strings.Contains(e, "dial tcp") {
				t.Errorf("dial %d failed in Go's words: %s", i+1, e)
			}
			continue
		}
		conn.Close()
		connected++
		took = append(took, time.Since(start).Round(time.Millisecond).String())
	}
	if connected < needed {
		t.Fatalf("%d of %d dials connected at 50 %% loss each way, want %d at least: %s", connected, tries, needed, strings.Join(took, ", "))
	}
	t.Logf("%d of %d connected at 50 %% loss each way: %s", connected, tries, strings.Join(took, ", "))

	dropAll(t, peer, peer.Remote, 100)
	j := startProc(t, bin, "join", "--no-reconnect", "--user", "bob", "--state", t.TempDir(), "--addr", addr)
	j.closeInput()
	if code := j.wait(); code == 0 {
		t.Fatalf("joined through a link that drops everything; stderr:\n%s", j.stderr.String())
	}
	e := j.stderr.String()
	if !strings.Contains(e, "chatroom: error: cannot connect to the room: no answer from "+addr+" within 10s") {
		t.Errorf("the failure is not said in words:\n%s", e)
	}
	for _, word := range []string{"dial tcp", "deadline exceeded", "i/o timeout", "context"} {
		if strings.Contains(e, word) {
			t.Errorf("the failure says %q:\n%s", word, e)
		}
	}
}

func buildChatroomB(b *testing.B) string {
	bin := b.TempDir() + "/chatroom"
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// dropAll drops percent of every packet arriving on iface, in peer's
// namespace or (nil) the test's own. Each percent has a table of its
// own: two drop whatever either drops.
func dropAll(b testing.TB, peer *netns.Peer, iface string, percent int) {
	b.Helper()
	table := fmt.Sprintf("lossall_%s_%d", iface, percent)
	share := fmt.Sprintf("numgen random mod 100 < %d ", percent)
	if percent >= 100 {
		share = ""
	}
	ruleset := fmt.Sprintf("table inet %s {\n\tchain pre {\n\t\ttype filter hook prerouting priority -300; policy accept;\n\t\tiifname %q meta l4proto { tcp, udp } %sdrop\n\t}\n}\n", table, iface, share)
	run := func(args ...string) *exec.Cmd {
		if peer != nil {
			return peer.Command("nft", args...)
		}
		return exec.Command("nft", args...)
	}
	cmd := run("-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Skipf("nft: %v: %s", err, out)
	}
	b.Cleanup(func() { run("delete", "table", "inet", table).Run() })
}
