package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"

	"chatroom/discovery/netns"
)

// The scripts in testdata/doctor run chatroom doctor where the test
// decides everything on the network: each script makes a network
// namespace of its own (ownnet), inside the one the tests run in, with
// only loopback, and runs hosts, doctor and firewall rules there with
// nsenter. The scripts of testdata/*.txt share one namespace and host
// rooms in it; a room of theirs, or a rule dropping mDNS, must not reach
// these, nor these reach them.
func TestDoctorScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/doctor",
		Setup: func(env *testscript.Env) error {
			env.Setenv("CHATROOM_ADMIN_PASSWORD", "")
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/config")
			env.Values[scriptT{}] = env.T()
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"ownnet":     ownNet,
			"nswaitport": nsWaitPort,
			"nsnft":      nsNft,
			"nslink6":    nsLink6,
			"waitfile":   waitFile,
			"nswaitup":   nsWaitUp,
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "netns":
				return netns.Isolated() && !netns.InPeer(), nil
			case "zeroconf":
				// Debian's python3-zeroconf, for Debian's python.
				return exec.Command("/usr/bin/python3", "-c", "import zeroconf").Run() == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

// scriptT is the key of the script's testscript.T, for commands that skip.
type scriptT struct{}

// ownnet makes a network namespace for the rest of the script, with only
// loopback, up, and a route for multicast on it, and sets $NS to a process
// that holds it, for "exec nsenter -t $NS -n -- chatroom ...".
func ownNet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: ownnet")
	}
	// Once (in a run of several test binaries at once), the namespace
	// found held another's veth end, as netns.StartPeer has seen too, for
	// a reason not known: such a namespace is let go and another made, up
	// to three times, and never used.
	var pid string
	for try := 1; ; try++ {
		holder := exec.Command("unshare", "-n", "sleep", "600")
		if err := holder.Start(); err != nil {
			ts.Fatalf("ownnet: %v", err)
		}
		release := func() {
			holder.Process.Kill()
			holder.Wait()
		}
		pid = strconv.Itoa(holder.Process.Pid)
		self, err := os.Readlink("/proc/self/ns/net")
		ts.Check(err)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if other, err := os.Readlink("/proc/" + pid + "/ns/net"); err == nil && other != self {
				break
			}
			if time.Now().After(deadline) {
				release()
				ts.Fatalf("ownnet: the namespace did not appear")
			}
		}
		out, err := exec.Command("nsenter", "-t", pid, "-n", "--", "ip", "-o", "link").CombinedOutput()
		if err != nil {
			release()
			ts.Fatalf("ownnet: %v: %s", err, out)
		}
		if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) == 1 && strings.Contains(lines[0], " lo:") {
			ts.Defer(release)
			break
		}
		release()
		if try == 3 {
			ts.Fatalf("ownnet: expected a namespace with only lo, found:\n%s", out)
		}
		ts.Logf("ownnet: the new namespace held more than lo, made another:\n%s", out)
	}
	// The route is tried again for a moment: once, in CI, it found lo
	// not up yet just after "ip link set lo up" had returned.
	for _, step := range [][]string{{"ip", "link", "set", "lo", "up"}, {"ip", "route", "replace", "224.0.0.0/4", "dev", "lo"}} {
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			out, err := exec.Command("nsenter", append([]string{"-t", pid, "-n", "--"}, step...)...).CombinedOutput()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				ts.Fatalf("ownnet: %v: %v: %s", step, err, out)
			}
		}
	}
	ts.Setenv("NS", pid)
}

// nswaitport NS PORT waits until something listens on 127.0.0.1:PORT in
// the namespace that process NS holds.
func nsWaitPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: nswaitport NS PORT")
	}
	addr := net.JoinHostPort("127.0.0.1", args[1])
	err := inNamespace(args[0], func() error {
		deadline := time.Now().Add(10 * time.Second)
		for {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				conn.Close()
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("nothing listens on %s: %v", addr, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	if err != nil {
		ts.Fatalf("nswaitport: %v", err)
	}
}

// inNamespace runs f on a thread of its own that has entered the network
// namespace of process pid. The thread is never given back to the
// runtime: it ends with f's goroutine, and nothing else ever runs in the
// namespace.
func inNamespace(pid string, f func() error) error {
	result := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/proc/"+pid+"/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			result <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			result <- fmt.Errorf("entering the namespace: %w", err)
			return
		}
		result <- f()
	}()
	return <-result
}

// nsnft NS ARGS... runs nft with ARGS in the namespace that process NS
// holds, and skips the script, with the reason, where nft cannot run
// there: the rule is never loaded anywhere else.
func nsNft(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: nsnft NS ARGS...")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		ts.Value(scriptT{}).(testscript.T).Skip("nft (nftables) is not installed")
	}
	out, err := exec.Command("nsenter", append([]string{"-t", args[0], "-n", "--", "nft"}, args[1:]...)...).CombinedOutput()
	if err != nil {
		ts.Value(scriptT{}).(testscript.T).Skip(fmt.Sprintf("nft cannot run in the test's namespace: %v: %s", err, out))
	}
}

// nslink6 NS1 NS2 joins the namespaces that processes NS1 and NS2 hold by
// a veth pair, d0 in NS1 and d1 in NS2, that speaks IPv6 only: fe80::1 and
// fd90::1/64 on d0, fe80::2 and fd90::2/64 on d1, with no address of the
// kernel's making (and no duplicate address detection, so that they can be
// used at once). It skips the script where the namespaces have no IPv6.
func nsLink6(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: nslink6 NS1 NS2")
	}
	in := func(ns string, argv ...string) []string {
		return append([]string{"nsenter", "-t", ns, "-n", "--"}, argv...)
	}
	check := in(args[0], "ip", "-6", "addr", "show", "dev", "lo")
	if out, err := exec.Command(check[0], check[1:]...).CombinedOutput(); err != nil || !strings.Contains(string(out), "::1/128") {
		ts.Value(scriptT{}).(testscript.T).Skip(fmt.Sprintf("no IPv6 in the test's namespace (no ::1 on lo): %v %s", err, out))
	}
	steps := [][]string{
		in(args[0], "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1", "netns", "/proc/"+args[1]+"/ns/net"),
		in(args[0], "ip", "link", "set", "d0", "addrgenmode", "none"),
		in(args[1], "ip", "link", "set", "d1", "addrgenmode", "none"),
		in(args[0], "ip", "addr", "add", "fe80::1/64", "dev", "d0", "nodad"),
		in(args[0], "ip", "addr", "add", "fd90::1/64", "dev", "d0", "nodad"),
		in(args[1], "ip", "addr", "add", "fe80::2/64", "dev", "d1", "nodad"),
		in(args[1], "ip", "addr", "add", "fd90::2/64", "dev", "d1", "nodad"),
		in(args[0], "ip", "link", "set", "d0", "up"),
		in(args[1], "ip", "link", "set", "d1", "up"),
	}
	for _, step := range steps {
		if out, err := exec.Command(step[0], step[1:]...).CombinedOutput(); err != nil {
			ts.Fatalf("nslink6: %v: %v: %s", step, err, out)
		}
	}
	waitUp(ts, args[0], "d0")
	waitUp(ts, args[1], "d1")
}

// nswaitup NS IFACE waits until IFACE, in the namespace that process NS
// holds, is running.
func nsWaitUp(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: nswaitup NS IFACE")
	}
	waitUp(ts, args[0], args[1])
}

// waitUp waits for the kernel to say that a link is running (has a
// carrier), which it does a moment after the link is up: doctor reads it.
func waitUp(ts *testscript.TestScript, ns, iface string) {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := exec.Command("nsenter", "-t", ns, "-n", "--", "ip", "-o", "link", "show", iface).CombinedOutput()
		if err == nil && strings.Contains(string(out), " state UP ") {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s is not up: %v: %s", iface, err, out)
		}
	}
}

// waitfile FILE waits until FILE exists, for a program started in the
// background that writes it when it is ready.
func waitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfile: %s did not appear", args[0])
		}
	}
}
