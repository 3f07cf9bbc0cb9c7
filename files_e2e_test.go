//go:build linux || darwin || freebsd || openbsd || netbsd

package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// e2eFileSize is the file the end-to-end test shares: 200 MB, as issue 18
// asks. The test process only hashes and compares it; the commands that
// move it are built without the race detector whatever the tests run
// with, so it is the same size under -race.
const e2eFileSize = 200_000_000

// TestFilesE2E runs the real binary on every side, over TLS on
// 127.0.0.1, with the room's key pinned and each member's identity its
// own: ana offers a 200 MB file with "chatroom send --file", which exits
// once the room announced it; bob, cy and dee fetch it at once with
// "chatroom get"; dee is killed (SIGKILL) part-way and run again, and
// goes on from its part; erin's fetch is cut by the host restarting (the
// same state and port), and goes on once it is back. Every copy matches
// the file's sha256. Then the host's quota refuses a file that does not
// fit, with its words reaching the sender, and a name that cannot be a
// file's is refused before anything is sent.
func TestFilesE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MB four times")
	}
	bin := buildChatroom(t)
	state := t.TempDir()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	startHost := func() *proc {
		h := startProc(t, bin, "host", "--no-prompt", "--no-advertise", "--name", "Lab 3", "--listen", addr, "--state", state,
			"--file-quota", "300M")
		h.waitErr(`room "Lab 3" listening on ` + regexp.QuoteMeta(addr))
		return h
	}
	host := startHost()

	work := t.TempDir()
	src := filepath.Join(work, "big.bin")
	sum := writeRandomFile(t, src, e2eFileSize)

	start := time.Now()
	ana := startProc(t, bin, "send", "--addr", addr, "--user", "ana", "--state", t.TempDir(), "--file", src)
	if code := ana.wait(); code != 0 {
		t.Fatalf("send --file exited %d; stderr:\n%s", code, ana.stderr.String())
	}
	m := regexp.MustCompile(`(?m)^ana offers big\.bin \(200 MB, sha256 ` + sum[:8] + `…\) — /get (\d+)$`).FindStringSubmatch(ana.stdout.String())
	if m == nil {
		t.Fatalf("send --file printed %q, want the room's offer line", ana.stdout.String())
	}
	number := m[1]
	t.Logf("offered and uploaded in %v", time.Since(start).Round(time.Millisecond))

	part := "." + "big.bin." + sum[:8] + ".part"
	get := func(name, dir string) *proc {
		return startProc(t, bin, "get", "--addr", addr, "--user", name, "--state", filepath.Join(work, "state-"+name), number, dir)
	}
	dirs := map[string]string{}
	for _, name := range []string{"bob", "cy", "dee", "erin"} {
		dirs[name] = filepath.Join(work, "in-"+name)
		if err := os.Mkdir(dirs[name], 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// Three at once; dee is killed part-way.
	start = time.Now()
	bob, cy, dee := get("bob", dirs["bob"]), get("cy", dirs["cy"]), get("dee", dirs["dee"])
	killedAt := waitPart(t, filepath.Join(dirs["dee"], part), e2eFileSize/4)
	dee.cmd.Process.Kill()
	<-dee.done
	if st, err := os.Stat(filepath.Join(dirs["dee"], part)); err == nil {
		killedAt = st.Size()
	}
	for _, p := range []*proc{bob, cy} {
		if code := p.wait(); code != 0 {
			t.Fatalf("get exited %d; stderr:\n%s", code, p.stderr.String())
		}
	}
	t.Logf("fetched by two at once (and a third killed at %d bytes) in %v", killedAt, time.Since(start).Round(time.Millisecond))
	checkLanded(t, bob, dirs["bob"], sum)
	checkLanded(t, cy, dirs["cy"], sum)

	// dee again: from its part, not from the start.
	dee = get("dee", dirs["dee"])
	smallest := watchPart(filepath.Join(dirs["dee"], part), dee.done)
	if code := dee.wait(); code != 0 {
		t.Fatalf("get again exited %d; stderr:\n%s", code, dee.stderr.String())
	}
	if s := <-smallest; s >= 0 && s < killedAt {
		t.Errorf("the part was cut to %d bytes, below the %d the killed fetch left: it started over", s, killedAt)
	}
	checkLanded(t, dee, dirs["dee"], sum)

	// erin's fetch, cut by the host restarting.
	erin := get("erin", dirs["erin"])
	waitPart(t, filepath.Join(dirs["erin"], part), e2eFileSize/4)
	host.stop()
	host = startHost()
	if code := erin.wait(); code != 0 {
		t.Fatalf("get across a restart exited %d; stderr:\n%s", code, erin.stderr.String())
	}
	checkLanded(t, erin, dirs["erin"], sum)

	// The quota: 300 MB, of which the first file takes 200.
	second := filepath.Join(work, "second.bin")
	writeRandomFile(t, second, 150_000_000)
	over := startProc(t, bin, "send", "--addr", addr, "--user", "ana", "--state", t.TempDir(), "--file", second)
	if code := over.wait(); code != 1 {
		t.Errorf("send --file past the quota exited %d, want 1; stderr:\n%s", code, over.stderr.String())
	}
	over.waitErr(`^chatroom: error: the room refused: second\.bin \(150 MB\) does not fit: the host keeps at most 300 MB of files`)

	// A name that cannot be a file's (a control character in it): refused
	// before the room is joined.
	bad := filepath.Join(work, "bad\x1b[2Jname.txt")
	if err := os.WriteFile(bad, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostile := startProc(t, bin, "send", "--addr", addr, "--user", "ana", "--state", t.TempDir(), "--file", bad)
	if code := hostile.wait(); code != 1 {
		t.Errorf("send --file of a hostile name exited %d, want 1", code)
	}
	hostile.waitErr(`cannot be offered under its name: the file name has an invisible or control character \(U\+001B\) in it`)
	host.stop()
}

// writeRandomFile writes size random bytes to path and returns their
// sha256.
func writeRandomFile(t *testing.T, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// waitPart waits until the part file at path holds at least n bytes, and
// returns its size then.
func waitPart(t *testing.T, path string, n int64) int64 {
	t.Helper()
	for deadline := time.Now().Add(screenWait); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if st, err := os.Stat(path); err == nil && st.Size() >= n {
			return st.Size()
		}
	}
	t.Fatalf("%s never held %d bytes", path, n)
	return 0
}

// watchPart watches the part at path until done closes, and sends the
// smallest size it saw, -1 for none.
func watchPart(path string, done <-chan struct{}) <-chan int64 {
	smallest := make(chan int64, 1)
	go func() {
		s := int64(-1)
		for {
			if st, err := os.Stat(path); err == nil && (s < 0 || st.Size() < s) {
				s = st.Size()
			}
			select {
			case <-done:
				smallest <- s
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return smallest
}

// checkLanded checks that p, a "chatroom get" that exited 0, printed
// where the file landed, in dir, and that it matches sum; no part is
// left.
func checkLanded(t *testing.T, p *proc, dir, sum string) {
	t.Helper()
	landed := filepath.Join(dir, "big.bin")
	p.waitOut(`^` + regexp.QuoteMeta(landed) + `$`)
	f, err := os.Open(landed)
	if err != nil {
		t.Fatalf("nothing landed at %s: %v", landed, err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		t.Errorf("%s has sha256 %s, want %s", landed, got, sum)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("in %s: %d files, want the one landed", dir, len(entries))
	}
}
