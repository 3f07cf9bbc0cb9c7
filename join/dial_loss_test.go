package join

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestDialStaggered stands for a lossy Wi-Fi, where a connection whose SYN
// or handshake was lost waits ever longer for its retransmissions, until
// the dial's 10 s are spent (at 50 % loss one dial in two failed so, with
// Go's "context deadline exceeded"). While the first attempt hangs, a
// second is started, and the first to finish is the dial; one that
// finishes later is closed.
func TestDialStaggered(t *testing.T) {
	var n atomic.Int32
	late := make(chan net.Conn, 1)
	release := make(chan struct{})
	attempt := func(ctx context.Context) (net.Conn, error, error) {
		switch n.Add(1) {
		case 1: // lost: finishes only after the second has won
			<-release
			a, b := net.Pipe()
			t.Cleanup(func() { b.Close() }) // open: only a's own close fails a write
			late <- a
			return a, nil, nil
		default:
			a, _ := net.Pipe()
			return a, nil, nil
		}
	}
	conn, refused, err := dialStaggered(context.Background(), attempt)
	if err != nil || refused != nil || conn == nil {
		t.Fatalf("got %v, %v, %v", conn, refused, err)
	}
	if n.Load() != 2 {
		t.Fatalf("%d attempts, want 2", n.Load())
	}
	close(release)
	select {
	case c := <-late:
		deadline := time.Now().Add(10 * time.Second)
		for {
			// Closed by dialStaggered: a write fails with ErrClosedPipe.
			c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
			if _, err := c.Write([]byte("x")); errors.Is(err, io.ErrClosedPipe) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the late connection was left open")
			}
			time.Sleep(10 * time.Millisecond)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first attempt never finished")
	}
}

// TestDialStaggeredStopsAtADefiniteAnswer: a refused connection, or a
// refusal in the handshake (a wrong key), is not tried again.
func TestDialStaggeredStopsAtADefiniteAnswer(t *testing.T) {
	for _, tt := range []struct {
		name         string
		refused, err error
	}{
		{"connection refused", nil, &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}},
		{"wrong key", &KeyMismatchError{Expected: "a", Got: "b"}, errors.New("tls: bad certificate")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			_, refused, err := dialStaggered(context.Background(), func(context.Context) (net.Conn, error, error) {
				n.Add(1)
				return nil, tt.refused, tt.err
			})
			if err == nil || refused != tt.refused || n.Load() != 1 {
				t.Fatalf("%d attempts, %v, %v", n.Load(), refused, err)
			}
		})
	}
	// Anything else (a reset, a handshake the room closed) is tried
	// again at once, up to maxAttempts.
	var n atomic.Int32
	_, _, err := dialStaggered(context.Background(), func(context.Context) (net.Conn, error, error) {
		n.Add(1)
		return nil, nil, syscall.ECONNRESET
	})
	if !errors.Is(err, syscall.ECONNRESET) || n.Load() != maxAttempts {
		t.Fatalf("%d attempts, %v", n.Load(), err)
	}
}
