package host

// Benchmarks for the file transfer targets of issue 18:
//
//	BenchmarkTransfer/fetch   a 64 MiB file fetched through the host over
//	                          TLS, next to a plain io.Copy of the same file
//	                          from the same disk over TLS with the room's
//	                          own configuration (x-vs-iocopy: at least 0.8)
//	BenchmarkTransfer/upload  the same uploaded, next to a plain io.Copy
//	                          into a file on the same disk
//	BenchmarkChatDuringTransfer
//	                          chat latency (p99) in a room of 20 members at
//	                          200 messages/s, without a transfer and while
//	                          one member fetches a file over and over, as
//	                          fast as it goes and at gigabit speed
//	                          (x-vs-idle: at most 1.5)
//
// Both sides of each comparison run in the same benchmark, op after op, so
// that the ratio comes from one run on one machine in one state. The
// figures, as run for the issue:
//
//	go test -run '^$' -bench 'Transfer' -benchtime 10x -count 3 ./host/
//	go test -run '^$' -bench 'ChatDuringTransfer' -benchtime 2000x -count 3 ./host/
//
// On two cores shared with other work (load average 1 to 4), December
// 2026: fetch 0.80 to 1.01 of the plain copy (360 to 670 MB/s); upload
// 0.66 to 0.79 (180 to 280 MB/s), and 1.7 to 1.9 times a plain copy that
// hashes and syncs as the host must (the host's pipeline overlaps the
// network with the store, and its syncs with its writes, where the plain
// copy does one after the other). What the upload loses to a bare copy is
// the sha256 (15% of its CPU in a profile) and the syncs that make
// "stored" true after a power cut.
//
// Chat beside a fetch of 256 MiB by a client in a process of its own (as
// a member's is on its own machine): p50 moves little (0.7 to 0.9 ms).
// At gigabit speed, p99 was 2.6 to 3.9 ms against 2.0 to 2.5 ms alone
// (1.28, 1.29 and 1.74 times in three runs: the target of 1.5 met twice
// in three); unpaced, the fetch moving 550 to 600 MB/s on loopback, 5.5
// to 6.1 ms against 1.2 to 1.7 ms (3.6 to 4.7 times, missed). With the
// fetching client in the benchmark's own process, its decryption takes
// the room's goroutines' turns too: 1.8 to 2.4 times at gigabit speed, 7
// to 12 unpaced. What is left unpaced is the scheduler: the scheduler
// profile (go tool trace -pprof=sched) puts the delay at the room
// goroutine and the members' writers waiting for a P while both cores
// are busy with the fetch (its store side and its TLS side), and Go finds
// network readiness only once its run queues are empty or every 10 ms
// (sysmon). Turning the collector off changed nothing; yielding between
// pieces (runtime.Gosched) little; pieces of 64 KiB rather than 256 KiB
// took the unpaced p99 (in-process client) from 30-614 ms to 11-15 ms.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chatroom/host/room"
	"chatroom/host/wire"
)

const benchXferSize = 64 << 20

// benchChatXferSize is the file fetched beside the chat: one fetch of it
// lasts seconds, as a large file's does, rather than a new connection's
// handshake every half second.
const benchChatXferSize = 256 << 20

// BenchmarkTransfer: one op is one transfer through the host and one plain
// io.Copy of the same bytes; each side's rate is reported, and the ratio.
func BenchmarkTransfer(b *testing.B) {
	data := make([]byte, benchXferSize)
	rand.NewChaCha8([32]byte{'b'}).Read(data)
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])

	h, err := Start(Config{Name: "bench", StateDir: b.TempDir(), Listen: "127.0.0.1:0", Files: FileLimits{MaxFileSize: 1 << 30, Quota: 4 << 30, MaxPerOwner: 1 << 20, MaxFiles: 1 << 20}})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	addr, fp := h.Addr().String(), h.Fingerprint()
	plain := startPlainCopy(b, h.tlsConfig)
	defer plain.close()
	conf := benchClientTLS(fp)

	declareBench := func() room.Offer {
		o, err := h.files.Declare(room.Offer{Number: 1, Name: "bench.bin", Size: benchXferSize, SHA256: sha, From: "bob", Owner: "addr:127.0.0.1"})
		if err != nil {
			b.Fatal(err)
		}
		return o
	}

	b.Run("fetch", func(b *testing.B) {
		o := declareBench()
		if err := benchUpload(addr, conf, o, data); err != nil {
			b.Fatal(err)
		}
		stored := filepath.Join(h.stateDir, "files", o.ID)
		var viaHost, viaCopy time.Duration
		for b.Loop() {
			d, err := timed(func() error { return benchFetch(addr, conf, o.ID, benchXferSize) })
			if err != nil {
				b.Fatal(err)
			}
			viaHost += d
			waitBackgroundReleased(b) // the plain copy as without the host
			d, err = timed(func() error { return plain.fetch(stored, benchXferSize) })
			if err != nil {
				b.Fatal(err)
			}
			viaCopy += d
		}
		reportRates(b, viaHost, viaCopy)
	})

	b.Run("upload", func(b *testing.B) {
		var viaHost, viaCopy, viaChecked time.Duration
		for b.Loop() {
			b.StopTimer()
			o := declareBench()
			b.StartTimer()
			d, err := timed(func() error { return benchUpload(addr, conf, o, data) })
			if err != nil {
				b.Fatal(err)
			}
			viaHost += d
			waitBackgroundReleased(b)
			d, err = timed(func() error { return plain.upload(data, false) })
			if err != nil {
				b.Fatal(err)
			}
			viaCopy += d
			d, err = timed(func() error { return plain.upload(data, true) })
			if err != nil {
				b.Fatal(err)
			}
			viaChecked += d
			b.StopTimer()
			h.files.Remove(o.ID)
			b.StartTimer()
		}
		reportRates(b, viaHost, viaCopy)
		// What the host must do besides a copy, done by the plain side
		// too: the sha256 of what came, and the sync before it says
		// "stored". The ratio to that is what the host's own code costs.
		b.ReportMetric(viaChecked.Seconds()/viaHost.Seconds(), "x-vs-iocopy+sha256+sync")
	})
}

func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

func reportRates(b *testing.B, viaHost, viaCopy time.Duration) {
	n := float64(b.N) * benchXferSize / 1e6
	b.ReportMetric(n/viaHost.Seconds(), "host-MB/s")
	b.ReportMetric(n/viaCopy.Seconds(), "iocopy-MB/s")
	b.ReportMetric(viaCopy.Seconds()/viaHost.Seconds(), "x-vs-iocopy")
	b.ReportMetric(0, "ns/op") // both sides are in it: it says nothing alone
}

// benchUpload uploads data as the offer o through the host at addr.
func benchUpload(addr string, conf *tls.Config, o room.Offer, data []byte) error {
	return benchUploadFrom(addr, conf, o, bytes.NewReader(data))
}

// benchUploadFrom uploads what r gives as the offer o.
func benchUploadFrom(addr string, conf *tls.Config, o room.Offer, r io.Reader) error {
	conn, err := tls.Dial("tcp", addr, conf)
	if err != nil {
		return err
	}
	defer conn.Close()
	first, _ := wire.Encode(uploadFrame(o))
	if _, err := conn.Write(first); err != nil {
		return err
	}
	dec := wire.NewDecoder(conn, wire.MaxHostFrame)
	if f, err := dec.Decode(); err != nil || f.Type != wire.TypeReady {
		return fmt.Errorf("upload: %+v, %v", f, err)
	}
	if _, err := io.Copy(conn, r); err != nil {
		return err
	}
	if f, err := dec.Decode(); err != nil || f.Type != wire.TypeStored {
		return fmt.Errorf("upload: %+v, %v", f, err)
	}
	return nil
}

// benchFetch fetches the file id from the host at addr, all size bytes of
// it, and throws them away (as the plain side does).
func benchFetch(addr string, conf *tls.Config, id string, size int64) error {
	n, err := benchFetchTo(addr, conf, id, io.Discard)
	if err == nil && n != size {
		err = fmt.Errorf("fetch: %d bytes of %d", n, size)
	}
	return err
}

// benchFetchTo fetches the file id into w, and says how many bytes came.
func benchFetchTo(addr string, conf *tls.Config, id string, w io.Writer) (int64, error) {
	conn, err := tls.Dial("tcp", addr, conf)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	first, _ := wire.Encode(fetchFrame(id, 0))
	if _, err := conn.Write(first); err != nil {
		return 0, err
	}
	dec := wire.NewDecoder(conn, wire.MaxHostFrame)
	if f, err := dec.Decode(); err != nil || f.Type != wire.TypeReady {
		return 0, fmt.Errorf("fetch: %+v, %v", f, err)
	}
	return io.Copy(w, dec.Rest())
}

// plainCopy is the baseline: a TLS server with the room's configuration
// that answers a one-line request with io.Copy, either way, and nothing
// else.
type plainCopy struct {
	ln   net.Listener
	dir  string
	conf *tls.Config
	wg   sync.WaitGroup
}

func startPlainCopy(b *testing.B, conf *tls.Config) *plainCopy {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", conf)
	if err != nil {
		b.Fatal(err)
	}
	p := &plainCopy{ln: ln, dir: b.TempDir(), conf: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}}
	p.wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.serve(conn) })
		}
	})
	return p
}

// serve: "fetch PATH" is answered with the file's bytes; "upload N
// CHECKED" takes N bytes into a new file (with CHECKED true, hashing them
// and syncing the file, as the host does) and answers "ok".
func (p *plainCopy) serve(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		return
	}
	var path string
	var n int64
	if _, err := fmt.Sscanf(line, "fetch %s\n", &path); err == nil {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		defer f.Close()
		io.Copy(conn, f)
		return
	}
	var checked bool
	if _, err := fmt.Sscanf(line, "upload %d %t\n", &n, &checked); err == nil {
		f, err := os.CreateTemp(p.dir, "up")
		if err != nil {
			return
		}
		defer os.Remove(f.Name())
		defer f.Close()
		var w io.Writer = f
		sum := sha256.New()
		if checked {
			w = io.MultiWriter(f, sum)
		}
		if _, err := io.Copy(w, io.LimitReader(br, n)); err != nil {
			return
		}
		if checked {
			if f.Sync() != nil || len(sum.Sum(nil)) == 0 {
				return
			}
		}
		conn.Write([]byte("ok\n"))
	}
}

func (p *plainCopy) fetch(path string, size int64) error {
	conn, err := tls.Dial("tcp", p.ln.Addr().String(), p.conf)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(conn, "fetch %s\n", path)
	n, err := io.Copy(io.Discard, conn)
	if err == nil && n != size {
		err = fmt.Errorf("plain fetch: %d bytes of %d", n, size)
	}
	return err
}

// upload sends data; checked has the server hash it and sync it, as the
// host does.
func (p *plainCopy) upload(data []byte, checked bool) error {
	conn, err := tls.Dial("tcp", p.ln.Addr().String(), p.conf)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(conn, "upload %d %t\n", len(data), checked)
	if _, err := io.Copy(conn, bytes.NewReader(data)); err != nil {
		return err
	}
	ok := make([]byte, 3)
	_, err = io.ReadFull(conn, ok)
	return err
}

func (p *plainCopy) close() {
	p.ln.Close()
	p.wg.Wait()
}

// BenchmarkChatDuringTransfer: the open loop of BenchmarkLatency, smaller
// (20 members, 200 messages/s), once with the room alone and once while a
// member's client, a process of its own (TestBenchFetchClient), fetches a
// 256 MiB file through the host, again and again: as fast as loopback and
// the CPU let it (fetch=unpaced, the worst case: the transfer takes every
// cycle it can, on the same two cores as the room and its 20 clients) and
// at gigabit speed (fetch=1GbE, 110 MB/s, what a LAN carries). One op is
// one message in each phase.
func BenchmarkChatDuringTransfer(b *testing.B) {
	for _, pace := range []struct {
		name string
		mbps float64 // 0: unpaced
	}{{"unpaced", 0}, {"1GbE", 110}} {
		b.Run("fetch="+pace.name, func(b *testing.B) { benchChatDuringTransfer(b, pace.mbps) })
	}
}

func benchChatDuringTransfer(b *testing.B, mbps float64) {
	const members, rate = 20, 200
	b.StopTimer()
	var p *roomProto
	s := startSwarm(b, func(tb testing.TB) benchProto { p = startRoomProto(tb); return p }, members)
	defer s.close()
	if err := s.warmUp(); err != nil {
		b.Fatal(err)
	}
	g := genFile{seed: 'c', size: benchChatXferSize}
	o, err := p.h.files.Declare(room.Offer{Number: 1, Name: "bench.bin", Size: g.size, SHA256: g.sum(), From: "bob", Owner: "addr:127.0.0.1"})
	if err != nil {
		b.Fatal(err)
	}
	if err := benchUploadFrom(p.addr, p.conf, o, g.reader(0)); err != nil {
		b.Fatal(err)
	}

	// The upload's added processors (see goBackground) are taken back
	// before the room alone is measured.
	waitBackgroundReleased(b)
	idle, err := s.openLoop(b.N, rate)
	if err != nil {
		b.Fatal(err)
	}
	fetcher := startFetchClient(b, p.addr, p.h.Fingerprint(), o.ID, mbps)
	defer fetcher.kill()
	fetcher.mark()
	start := time.Now()
	busy, err := s.openLoop(b.N, rate)
	elapsed := time.Since(start)
	moved, ferr := fetcher.stop()
	if err != nil {
		b.Fatal(err)
	}
	if ferr != nil || moved == 0 && elapsed > 100*time.Millisecond {
		b.Fatalf("the fetching client moved %d bytes while the chat was measured (%v): it measured nothing", moved, ferr)
	}
	waitBackgroundReleased(b)
	b.ReportMetric(float64(percentile(idle, 0.50))/1e3, "idle-p50-us")
	b.ReportMetric(float64(percentile(busy, 0.50))/1e3, "busy-p50-us")
	b.ReportMetric(float64(percentile(idle, 0.99))/1e3, "idle-p99-us")
	b.ReportMetric(float64(percentile(busy, 0.99))/1e3, "busy-p99-us")
	b.ReportMetric(float64(percentile(busy, 0.99))/float64(percentile(idle, 0.99)), "x-vs-idle")
	b.ReportMetric(float64(moved)/1e6/elapsed.Seconds(), "fetch-MB/s")
	b.ReportMetric(0, "ns/op")
}

// waitBackgroundReleased waits until the processors added for transfers
// (goBackground) are taken back.
func waitBackgroundReleased(tb testing.TB) {
	deadline := time.Now().Add(10 * time.Second)
	for backgroundAdded() > 0 {
		if time.Now().After(deadline) {
			tb.Fatalf("%d processors added for transfers are still there 10 s after", backgroundAdded())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fetchClientEnv, in a child of the test binary, makes it the fetching
// client of BenchmarkChatDuringTransfer (TestBenchFetchClient): "ADDR
// FINGERPRINT ID MBPS". A client of its own process, as a member's is on
// its own machine, takes the CPU the kernel gives it, not the host's
// goroutines' turns.
const fetchClientEnv = "CHATROOM_BENCH_FETCH"

// fetchClient is that child.
type fetchClient struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	once  sync.Once
}

func startFetchClient(b *testing.B, addr, fingerprint, id string, mbps float64) *fetchClient {
	b.Helper()
	c := &fetchClient{cmd: exec.Command(os.Args[0], "-test.run=^TestBenchFetchClient$")}
	c.cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %s %g", fetchClientEnv, addr, fingerprint, id, mbps))
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	c.out = bufio.NewReader(out)
	c.cmd.Stderr = os.Stderr
	if err := c.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	// It says when its first fetch is moving.
	if line, err := c.out.ReadString('\n'); err != nil || line != "fetching\n" {
		c.kill()
		b.Fatalf("the fetching client said %q (%v)", line, err)
	}
	return c
}

// mark has the client count what it moves from now on.
func (c *fetchClient) mark() { fmt.Fprintln(c.stdin, "mark") }

// stop ends the client and gives what it moved since mark.
func (c *fetchClient) stop() (int64, error) {
	fmt.Fprintln(c.stdin, "stop")
	var moved int64
	line, err := c.out.ReadString('\n')
	if err == nil {
		_, err = fmt.Sscanf(line, "moved %d\n", &moved)
	}
	c.kill()
	return moved, err
}

// kill ends the child, which this benchmark started, by its process.
func (c *fetchClient) kill() {
	c.once.Do(func() {
		c.stdin.Close()
		c.cmd.Process.Kill()
		c.cmd.Wait()
	})
}

// TestBenchFetchClient is BenchmarkChatDuringTransfer's fetching client
// when the test binary is run as one (fetchClientEnv); it does nothing
// otherwise. It fetches the file again and again until told to stop on
// its standard input, or that closes, or five minutes have passed.
func TestBenchFetchClient(t *testing.T) {
	spec := os.Getenv(fetchClientEnv)
	if spec == "" {
		t.Skip("run by BenchmarkChatDuringTransfer only")
	}
	var addr, fingerprint, id string
	var mbps float64
	if _, err := fmt.Sscanf(spec, "%s %s %s %g", &addr, &fingerprint, &id, &mbps); err != nil {
		t.Fatal(err)
	}
	conf := benchClientTLS(fingerprint)
	var moved atomic.Int64
	var counting atomic.Bool
	var quit atomic.Bool
	first := make(chan struct{}) // closed at the first byte fetched
	var firstOnce sync.Once
	started := func() { firstOnce.Do(func() { close(first) }) }
	commands := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			commands <- sc.Text()
		}
		close(commands)
	}()
	go func() {
		for !quit.Load() {
			var sink io.Writer = io.Discard
			if mbps > 0 {
				sink = &pacedWriter{bytesPerSec: mbps * 1e6, start: time.Now()}
			}
			_, err := benchFetchTo(addr, conf, id, countingWriter{sink, &moved, &counting, started})
			if err != nil && !quit.Load() {
				fmt.Fprintln(os.Stderr, "fetch:", err)
				time.Sleep(100 * time.Millisecond) // not a busy loop against a host that refuses
			}
		}
	}()
	deadline := time.After(5 * time.Minute)
	select {
	case <-first:
		fmt.Println("fetching")
	case <-deadline:
		return
	}
	for {
		select {
		case cmd, ok := <-commands:
			switch {
			case !ok:
				return
			case cmd == "mark":
				moved.Store(0)
				counting.Store(true)
			case cmd == "stop":
				quit.Store(true)
				fmt.Printf("moved %d\n", moved.Load())
				return
			}
		case <-deadline:
			return
		}
	}
}

// countingWriter counts what goes through it, while on says to.
type countingWriter struct {
	w       io.Writer
	n       *atomic.Int64
	on      *atomic.Bool
	started func() // called at every write: the first byte has come
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if c.on.Load() {
		c.n.Add(int64(n))
	}
	c.started()
	return n, err
}

// pacedWriter takes what it is written at bytesPerSec at most, as a
// client behind a network of that speed reads it.
type pacedWriter struct {
	bytesPerSec float64
	start       time.Time
	n           int64
}

func (w *pacedWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if d := time.Duration(float64(w.n)/w.bytesPerSec*1e9) - time.Since(w.start); d > 0 {
		time.Sleep(d)
	}
	return len(p), nil
}
