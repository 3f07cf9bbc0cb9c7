package host

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"chatroom/host/room"
	"chatroom/host/wire"
)

// crashHostEnv tells a copy of this test binary to be the host that
// TestBansSurviveKillWhileWriting kills.
const crashHostEnv = "CHATROOM_TEST_CRASH_HOST_DIR"

// TestCrashHelperHost is not a test: run by TestBansSurviveKillWhileWriting
// in a child process, it hosts a room on the state directory it is given,
// prints the address, and serves until it is killed.
func TestCrashHelperHost(t *testing.T) {
	dir := os.Getenv(crashHostEnv)
	if dir == "" {
		t.Skip("run by TestBansSurviveKillWhileWriting")
	}
	h, err := Start(Config{
		Name: "crash", StateDir: dir, Listen: "127.0.0.1:0", AdminPassword: "letmein",
		Limits: wire.Limits{Burst: 1 << 20, PerSecond: 1 << 20},
	})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("addr", h.Addr())
	time.Sleep(time.Minute) // killed long before
	os.Exit(2)
}

// Attack on durability: the host is killed with SIGKILL at a random moment
// while an admin's bans stream in and are being written. Every ban that was
// confirmed to the admin before the kill is in the state directory after
// it, and the ban file is whole (the next host starts with it).
func TestBansSurviveKillWhileWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills host processes")
	}
	const rounds = 8
	for round := range rounds {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperHost$")
		cmd.Env = append(os.Environ(), crashHostEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killed := false
		t.Cleanup(func() {
			if !killed {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
		lines := bufio.NewScanner(out)
		if !lines.Scan() || !strings.HasPrefix(lines.Text(), "addr ") {
			t.Fatalf("helper host said %q", lines.Text())
		}
		addr := strings.TrimPrefix(lines.Text(), "addr ")
		admin := helloOn(t, dialAddr(t, addr, dialOptions{}), "ana", "letmein")
		if admin.welcome.Type != wire.TypeWelcome {
			t.Fatalf("admin not welcomed: %+v", admin.welcome)
		}
		// Send every ban at once, so the host is writing ban files back to
		// back, and kill it after a random number of confirmations: the
		// kill lands while a later ban is being written.
		const bans = 300
		var batch strings.Builder
		for i := range bans {
			b, _ := wire.Encode(&wire.Frame{Type: wire.TypeSay, Text: fmt.Sprintf("/ban user%d", i)})
			batch.Write(b)
		}
		go admin.conn.Write([]byte(batch.String()))

		killAfter := 1 + rand.IntN(bans-50)
		var confirmed []string
		for len(confirmed) < killAfter {
			f := admin.next()
			if f.Type != wire.TypeNotice {
				continue
			}
			name, ok := strings.CutSuffix(f.Text, " is not here: banned the name only")
			if !ok {
				t.Fatalf("ban answered with %+v", f)
			}
			confirmed = append(confirmed, name)
		}
		cmd.Process.Kill()
		cmd.Wait()
		killed = true

		saved, err := loadList[room.Ban](dir, bansList)
		if err != nil {
			t.Fatalf("round %d: after the kill: %v", round, err)
		}
		have := make(map[string]bool, len(saved))
		for _, b := range saved {
			have[b.Name] = true
		}
		for _, name := range confirmed {
			if !have[name] {
				t.Fatalf("round %d: ban of %s was confirmed but is not on disk after the kill (%d saved, %d confirmed)", round, name, len(saved), len(confirmed))
			}
		}
		t.Logf("round %d: killed after %d confirmations; %d bans on disk", round, len(confirmed), len(saved))
	}
}
