package host

// The bare broadcast baseline of issue 6: what a plain Go broadcast loop
// does on this machine, so that the benchmarks can report chatroom's figures
// as a ratio of it, measured in the same run.
//
// Plain TCP, no TLS (or, for the second baseline of BenchmarkFanOutCPU,
// the same over TLS 1.3 with Go's defaults, as the host's connections
// are); a message is its text and a newline, nothing else. One
// hub goroutine hands each line to every member's bounded outbox (the same
// size as the room's); one writer goroutine per member writes everything
// queued in one write, as the host's writer does; one reader per member
// hands the hub what it reads. A member whose outbox is full is dropped and
// counted, as the room drops one as too slow.

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chatroom/host/wire"
)

const (
	bareOutbox   = 1024 // as room's default outbox
	bareQueue    = 256  // lines waiting for the hub, as room's eventQueue
	bareMaxBatch = 64 << 10
)

var bareWelcome = []byte("welcome\n")

type bareMember struct {
	conn net.Conn
	out  chan []byte
	gone bool // owned by the hub
}

type bareHub struct {
	ln      net.Listener
	joins   chan *bareMember
	leaves  chan *bareMember
	lines   chan []byte
	done    chan struct{}
	hubDone chan struct{}
	wg      sync.WaitGroup
	dropped atomic.Int64 // members dropped for a full outbox

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// startBareHub serves the hub on loopback, over TLS with conf if it is not
// nil.
func startBareHub(conf *tls.Config) (*bareHub, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if conf != nil {
		ln = tls.NewListener(ln, conf)
	}
	h := &bareHub{
		ln:      ln,
		joins:   make(chan *bareMember),
		leaves:  make(chan *bareMember),
		lines:   make(chan []byte, bareQueue),
		done:    make(chan struct{}),
		hubDone: make(chan struct{}),
		conns:   make(map[net.Conn]bool),
	}
	go h.hub()
	h.wg.Add(1)
	go h.accept()
	return h, nil
}

func (h *bareHub) accept() {
	defer h.wg.Done()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		m := &bareMember{conn: c, out: make(chan []byte, bareOutbox)}
		h.mu.Lock()
		h.conns[c] = true
		h.mu.Unlock()
		select {
		case h.joins <- m:
		case <-h.done:
			c.Close()
			return
		}
		h.wg.Add(2)
		go h.write(m)
		go h.read(m)
	}
}

// hub owns the member list: joins, leaves and the fan-out of every line.
func (h *bareHub) hub() {
	defer close(h.hubDone)
	var members []*bareMember
	remove := func(m *bareMember) {
		if m.gone {
			return
		}
		m.gone = true
		close(m.out)
		for i, x := range members {
			if x == m {
				members = append(members[:i], members[i+1:]...)
				break
			}
		}
	}
	var slow []*bareMember
	for {
		select {
		case m := <-h.joins:
			members = append(members, m)
			m.out <- bareWelcome
		case m := <-h.leaves:
			remove(m)
		case line := <-h.lines:
			for _, m := range members {
				select {
				case m.out <- line:
				default:
					slow = append(slow, m)
				}
			}
			for _, m := range slow {
				h.dropped.Add(1)
				remove(m)
				m.conn.Close()
			}
			slow = slow[:0]
		case <-h.done:
			for _, m := range members {
				m.gone = true
				close(m.out)
			}
			return
		}
	}
}

func (h *bareHub) read(m *bareMember) {
	defer h.wg.Done()
	br := bufio.NewReaderSize(m.conn, 4096)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			select {
			case h.leaves <- m:
			case <-h.done:
			}
			return
		}
		cp := append([]byte(nil), line...) // shared by every outbox
		select {
		case h.lines <- cp:
		case <-h.done:
			return
		}
	}
}

func (h *bareHub) write(m *bareMember) {
	defer h.wg.Done()
	defer func() {
		m.conn.Close()
		h.mu.Lock()
		delete(h.conns, m.conn)
		h.mu.Unlock()
	}()
	buf := make([]byte, 0, 4096)
	for line := range m.out {
		buf = append(buf[:0], line...)
	batch:
		for len(buf) < bareMaxBatch {
			select {
			case more, ok := <-m.out:
				if !ok {
					break batch
				}
				buf = append(buf, more...)
			default:
				break batch
			}
		}
		if _, err := m.conn.Write(buf); err != nil {
			m.conn.Close()
			for range m.out {
			}
			return
		}
	}
}

func (h *bareHub) close() {
	h.ln.Close()
	close(h.done)
	<-h.hubDone
	h.mu.Lock()
	for c := range h.conns {
		c.Close()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// bareProto is the swarm's view of the baseline.
type bareProto struct {
	hub  *bareHub
	addr string
	conf *tls.Config // the members dial with TLS when set
	// pad, when set, is how long the members make each message's text,
	// with x's after benchText's: the bare loop then carries lines as long
	// as the room's frames.
	pad int
}

func startBareProto() (*bareProto, error) {
	h, err := startBareHub(nil)
	if err != nil {
		return nil, err
	}
	return &bareProto{hub: h, addr: h.ln.Addr().String()}, nil
}

// startBareTLSLongProto is the bare loop over TLS 1.3 with lines as long
// as the room's frames (pad).
func startBareTLSLongProto(tb testing.TB) benchProto {
	conf, err := bareServerTLS()
	if err != nil {
		tb.Fatal(err)
	}
	h, err := startBareHub(conf)
	if err != nil {
		tb.Fatal(err)
	}
	return &bareProto{hub: h, addr: h.ln.Addr().String(), pad: roomFrameLen(tb) - 1,
		conf: &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}} // a benchmark's own hub, on loopback
}

func (p *bareProto) dial(name string) (net.Conn, *bufio.Reader, uint64, error) {
	var conn net.Conn
	var err error
	if p.conf != nil {
		conn, err = tls.DialWithDialer(&net.Dialer{Timeout: 30 * time.Second}, "tcp", p.addr, p.conf)
	} else {
		conn, err = net.DialTimeout("tcp", p.addr, 30*time.Second)
	}
	if err != nil {
		return nil, nil, 0, err
	}
	conn.SetDeadline(time.Now().Add(5 * time.Minute))
	br := bufio.NewReaderSize(conn, 64<<10)
	line, err := br.ReadSlice('\n')
	if err != nil {
		conn.Close()
		return nil, nil, 0, err
	}
	if string(line) != string(bareWelcome) {
		conn.Close()
		return nil, nil, 0, fmt.Errorf("not welcomed: %q", line)
	}
	return conn, br, 0, nil
}

func (p *bareProto) encode(text []byte) []byte {
	line := append(make([]byte, 0, max(len(text), p.pad)+1), text...)
	for len(line) < p.pad {
		line = append(line, 'x')
	}
	return append(line, '\n')
}

func (p *bareProto) parse(line []byte) lineEvent {
	from, sent, ok := parseBenchText(line)
	if !ok {
		return lineEvent{kind: lineBad}
	}
	return lineEvent{kind: lineMessage, from: from, sent: sent}
}

func (p *bareProto) frameLen() int { return max(benchTextLen, p.pad) + 1 }

func (p *bareProto) close() { p.hub.close() }

// checkNoDrops fails if the hub dropped anyone: the benchmark would then
// measure fewer members than it says.
func (p *bareProto) checkNoDrops() error {
	if n := p.hub.dropped.Load(); n > 0 {
		return errors.New("the bare hub dropped members as too slow")
	}
	return nil
}

// bareJoinServer is the baseline of BenchmarkJoin: joins served as cheaply
// as TLS allows. It takes the room's own TLS configuration (its key, the
// identity key asked of members, the same key exchange), reads the hello,
// writes a welcome as long as the room's, and waits for the member to hang
// up; no room, no state.
type bareJoinServer struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	open map[net.Conn]bool
}

func startBareJoinServer(config *tls.Config, welcomeLen int) (*bareJoinServer, error) {
	lc := net.ListenConfig{KeepAlive: -1} // as the room's listener
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &bareJoinServer{ln: ln, open: make(map[net.Conn]bool)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.open[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(tls.Server(c, config), welcomeLen)
				s.mu.Lock()
				delete(s.open, c)
				s.mu.Unlock()
			}()
		}
	}()
	return s, nil
}

func (s *bareJoinServer) serve(conn *tls.Conn, welcomeLen int) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	if err := conn.Handshake(); err != nil {
		return
	}
	hello, err := wire.NewDecoder(conn, wire.MaxClientFrame).Decode()
	if err != nil {
		return
	}
	w := &wire.Frame{Type: wire.TypeWelcome, Version: wire.Version, You: &wire.Member{Name: hello.Name}}
	short, _ := wire.Encode(w)
	if pad := welcomeLen - len(short); pad > 0 {
		w.Text = strings.Repeat("x", pad-len(`,"text":""`))
	}
	welcome, _ := wire.Encode(w)
	if _, err := conn.Write(welcome); err != nil {
		return
	}
	io.Copy(io.Discard, conn) // until the member hangs up
}

func (s *bareJoinServer) addr() string { return s.ln.Addr().String() }

func (s *bareJoinServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// bareProcessEnv makes a copy of this test binary the bare broadcast hub
// alone (runBareProcess), for benchmarks that read its CPU time apart from
// the clients': "1" for plain TCP, "tls" for TLS. It is looked at before
// TestMain runs, by init.
const bareProcessEnv = "CHATROOM_BENCH_BARE_PROCESS"

func init() {
	if os.Getenv(bareProcessEnv) != "" {
		runBareProcess()
	}
}

// runBareProcess serves the bare hub, prints its address, and serves until
// its input is closed.
func runBareProcess() {
	var conf *tls.Config
	if os.Getenv(bareProcessEnv) == "tls" {
		var err error
		if conf, err = bareServerTLS(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	}
	h, err := startBareHub(conf)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("addr", h.ln.Addr())
	if file := os.Getenv(hostProfileEnv); file != "" {
		// Its own CPU profile, as a host process writes one, to compare.
		if f, err := os.Create(fmt.Sprintf("%s.bare.%d", file, os.Getpid())); err == nil {
			pprof.StartCPUProfile(f)
		}
	}
	io.Copy(io.Discard, os.Stdin)
	pprof.StopCPUProfile()
	h.close()
	os.Exit(0)
}

// bareServerTLS is a TLS configuration with a key of the kind the host's
// is (Ed25519) and Go's defaults otherwise, as the host's are (TLS 1.3,
// AES-GCM where the processor has it, X25519MLKEM768): the members of the
// TLS baseline need no identity of their own, nor does the handshake
// matter, once they are in.
func bareServerTLS() (*tls.Config, error) {
	cert, err := newTestCert("bare hub", x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}}, nil
}

// newTestCert is a new Ed25519 key, of the kind the host's and members'
// are, with a self-signed certificate for usage.
func newTestCert(commonName string, usage x509.ExtKeyUsage) (tls.Certificate, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	der, err := wire.SelfSignedCert(key, commonName, usage)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// bareProcess is the bare hub in a child process (runBareProcess).
type bareProcess struct {
	*bareProto
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startBareProcess starts the bare hub's process, over TLS if withTLS.
func startBareProcess(tb testing.TB, withTLS bool) *bareProcess {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	kind := "1"
	if withTLS {
		kind = "tls"
	}
	cmd.Env = append(os.Environ(), bareProcessEnv+"="+kind)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &bareProcess{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(out).ReadString('\n')
	fields := strings.Fields(line)
	if err != nil || len(fields) != 2 || fields[0] != "addr" {
		p.close()
		tb.Fatalf("bare hub process said %q (%v)", line, err)
	}
	p.bareProto = &bareProto{addr: fields[1]}
	if withTLS {
		p.conf = &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true} // a benchmark's own hub, on loopback
	}
	return p
}

// close ends the bare hub's process: its input closed, then killed if it
// has not exited after a while.
func (p *bareProcess) close() {
	p.stdin.Close()
	exited := make(chan struct{})
	go func() { p.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill() // the child we started, by its process
		<-exited
	}
}
