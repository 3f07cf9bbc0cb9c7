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
			peer := netns.NewPeer(b)
			port := 7400 + loss
			cmd := peer.Command(bin, "host", "--no-prompt", "--name", "Lab 5", "--listen", ":"+strconv.Itoa(port), "--state", b.TempDir())
			stdin, _ := cmd.StdinPipe()
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
			addr := peer.RemoteAddr + ":" + strconv.Itoa(port)
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				conn, err := join.DialTLS(addr, "", nil)(context.Background())
				if err == nil {
					conn.Close()
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("the room never listened: %v", err)
				}
			}
			if loss > 0 {
				dropAll(b, nil, peer.Local, loss)
				dropAll(b, peer, peer.Remote, loss)
			}
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

func buildChatroomB(b *testing.B) string {
	bin := b.TempDir() + "/chatroom"
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// dropAll drops percent of every packet arriving on iface, in peer's
// namespace or (nil) the test's own.
func dropAll(b *testing.B, peer *netns.Peer, iface string, percent int) {
	table := "lossall_" + iface
	ruleset := fmt.Sprintf("table inet %s {\n\tchain pre {\n\t\ttype filter hook prerouting priority -300; policy accept;\n\t\tiifname %q meta l4proto { tcp, udp } numgen random mod 100 < %d drop\n\t}\n}\n", table, iface, percent)
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
