package netns

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// rerunIsolated runs this test binary again, with the same arguments, in a
// new network namespace, and returns its exit code. An error means it could
// not be started there.
func rerunIsolated() (int, error) {
	if _, err := exec.LookPath("ip"); err != nil {
		return 0, errors.New("the ip command (iproute2) is not installed")
	}
	attempts := []*syscall.SysProcAttr{
		{
			// Unprivileged: the test runs as root of a user namespace of its
			// own, which may own a network namespace.
			Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		},
		// Root, where user namespaces are turned off.
		{Cloneflags: syscall.CLONE_NEWNET},
	}
	var errs []error
	for _, attr := range attempts {
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), envState+"="+envInside)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.SysProcAttr = attr
		if err := cmd.Start(); err != nil {
			errs = append(errs, err)
			continue
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), nil
		}
		if err != nil {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("this system refuses new namespaces (%v)", errors.Join(errs...))
}

func interfaceNames() ([]string, error) {
	ifcs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ifcs))
	for i, ifc := range ifcs {
		names[i] = ifc.Name
	}
	return names, nil
}

// Peer is a second network namespace joined to the test's own by a veth
// pair: "another machine on the LAN". The test's side of the pair is Local,
// with address LocalAddr; the peer's is Remote, with RemoteAddr.
type Peer struct {
	PID                   int // a process that holds the namespace
	Local, Remote         string
	LocalAddr, RemoteAddr string
}

var peers atomic.Int32

// NewPeer makes a peer namespace for the rest of the test.
func NewPeer(t testing.TB) *Peer {
	t.Helper()
	Require(t)
	if InPeer() {
		t.Fatal("netns: NewPeer called inside a peer")
	}
	n := peers.Add(1)
	// A sleeping process holds the namespace; it ends with the test.
	holder := exec.Command("unshare", "-n", "sleep", "600")
	if err := holder.Start(); err != nil {
		t.Fatalf("netns: starting the peer namespace: %v", err)
	}
	t.Cleanup(func() {
		holder.Process.Kill()
		holder.Wait()
	})
	pid := holder.Process.Pid
	waitForOwnNamespace(t, pid)

	p := &Peer{
		PID:        pid,
		Local:      "vl" + strconv.Itoa(int(n)),
		Remote:     "vr" + strconv.Itoa(int(n)),
		LocalAddr:  fmt.Sprintf("10.53.%d.1", n),
		RemoteAddr: fmt.Sprintf("10.53.%d.2", n),
	}
	steps := [][]string{
		{"ip", "link", "add", p.Local, "type", "veth", "peer", "name", p.Remote, "netns", strconv.Itoa(pid)},
		{"ip", "addr", "add", p.LocalAddr + "/24", "dev", p.Local},
		{"ip", "link", "set", p.Local, "up"},
		p.nsenter("ip", "link", "set", "lo", "up"),
		p.nsenter("ip", "addr", "add", p.RemoteAddr+"/24", "dev", p.Remote),
		p.nsenter("ip", "link", "set", p.Remote, "up"),
		p.nsenter("ip", "route", "add", "224.0.0.0/4", "dev", p.Remote),
	}
	for _, step := range steps {
		if out, err := exec.Command(step[0], step[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("netns: %v: %v: %s", step, err, out)
		}
	}
	// The test's own side: multicast leaves by the veth as well as by lo,
	// so the test's namespace is one machine with two interfaces.
	if out, err := exec.Command("ip", "route", "replace", "224.0.0.0/4", "dev", p.Local).CombinedOutput(); err != nil {
		t.Fatalf("netns: multicast route: %v: %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("ip", "route", "replace", "224.0.0.0/4", "dev", "lo").Run()
	})
	return p
}

// waitForOwnNamespace waits until the holder has left the test's namespace
// (unshare does so just after it starts).
func waitForOwnNamespace(t testing.TB, pid int) {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if other, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil && other != self {
			return
		}
	}
	t.Fatal("netns: the peer namespace did not appear")
}

func (p *Peer) nsenter(args ...string) []string {
	return append([]string{"nsenter", "-t", strconv.Itoa(p.PID), "-n", "--"}, args...)
}

// Command returns a command that runs in the peer namespace. A test binary
// run this way sees InPeer() == true.
func (p *Peer) Command(name string, args ...string) *exec.Cmd {
	argv := p.nsenter(append([]string{name}, args...)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), envState+"="+envPeer)
	return cmd
}
