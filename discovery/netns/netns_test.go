package netns

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	os.Exit(Main(m))
}

// childEnv holds, in a child of TestChildRunsInTheNamespace, the network
// namespace of its parent.
const childEnv = "CHATROOM_TEST_NETNS_PARENT"

// What broke go test -fuzz in every package that calls Main: the fuzzing
// test process starts its workers as copies of itself, with its own
// environment, and they set up the namespace they were already in a second
// time, failed, and exited before fuzzing. A copy of a test process started
// with its environment runs its tests, in the same namespace, isolated.
func TestChildRunsInTheNamespace(t *testing.T) {
	Require(t)
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProbe$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+ns)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestChildProbe") {
		t.Fatalf("the child failed (%v):\n%s", err, out)
	}
}

// TestChildProbe is the child of TestChildRunsInTheNamespace.
func TestChildProbe(t *testing.T) {
	parent := os.Getenv(childEnv)
	if parent == "" {
		t.Skip("run by TestChildRunsInTheNamespace")
	}
	if !Isolated() {
		t.Fatal("the child does not know it is isolated")
	}
	if ns, err := os.Readlink("/proc/self/ns/net"); err != nil || ns != parent {
		t.Fatalf("the child runs in namespace %s (%v), its parent in %s", ns, err, parent)
	}
}
