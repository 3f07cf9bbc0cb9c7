package files

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The child process that TestKillMidUpload kills: this test binary again,
// told by these variables to upload and nothing else (see TestMain).
const (
	childDirEnv = "CHATROOM_FILES_CHILD_DIR"
	childIDEnv  = "CHATROOM_FILES_CHILD_ID"
)

// crashSize is the size of the file the child uploads: past a checkpoint,
// and not a whole number of chunks.
const crashSize = 10*ChunkSize + 4321

// TestMain runs the tests, or, in a child that a test started, an upload.
func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		runUploadChild(dir, os.Getenv(childIDEnv))
		return
	}
	os.Exit(m.Run())
}

// runUploadChild resumes the upload id in the store in dir and writes
// the rest of the file, telling its offset on stdout after each write,
// until it is killed.
func runUploadChild(dir, id string) {
	s, _, err := Open(dir, roomy)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	u, err := s.Resume(id)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	data := content(11, crashSize)
	fmt.Println("at", u.Offset())
	for off := u.Offset(); off < crashSize; {
		n := min(crashSize-off, 64<<10+off%1000)
		if _, err := u.Write(data[off : off+n]); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		off += n
		fmt.Println("at", off)
	}
	fmt.Println("done")
	os.Exit(0)
}

// Accident: the host is killed with SIGKILL mid-upload, again and again
// at random moments. Each time the next upload goes on from the stored
// part, never before the last whole chunk it was told was written, and
// the file finally is the one offered, by its sha256.
func TestKillMidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills child processes")
	}
	dir := t.TempDir()
	s := openStore(t, dir, roomy)
	data := content(11, crashSize)
	info := declare(t, s, "bob", "big.bin", data)
	var written int64 // the most the child said it had written
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childIDEnv+"="+info.ID)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAt := written + 1 + rand.Int64N((crashSize-written)/2)
		lines := bufio.NewScanner(out)
		first := true
		for lines.Scan() {
			at, ok := strings.CutPrefix(lines.Text(), "at ")
			if !ok {
				t.Fatalf("round %d: the child said %q", round, lines.Text())
			}
			n, _ := strconv.ParseInt(at, 10, 64)
			if first {
				// The child resumed where the stored part's last whole
				// chunk ends: at least all the whole chunks it had said
				// it wrote (it may have written more before the kill).
				if n < written/ChunkSize*ChunkSize || n%ChunkSize != 0 {
					t.Fatalf("round %d: the child resumed at %d after writing %d", round, n, written)
				}
				first = false
			}
			written = max(written, n)
			if n >= killAt {
				break
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	s = openStore(t, dir, roomy)
	u, err := s.Resume(info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Offset() < written/ChunkSize*ChunkSize {
		t.Fatalf("resumed at %d after the child wrote %d", u.Offset(), written)
	}
	upload(t, u, data)
	if got := readAll(t, s, info.ID, 0); sha256.Sum256(got) != info.SHA256 {
		t.Fatal("after the kills, the file is not the one offered")
	}
}
