package irc

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// sayFrame is a say event as the room sends it to every member.
func sayFrame(seq uint64, from, text string) roomFrame {
	return roomFrame{f: wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: time.Now(), Kind: wire.KindSay, From: from, Text: text}}
}

// TestWaitingFramesGoInOneFlush is a busy room: many frames wait for the
// session at once, and their lines go to the client in one write rather
// than one write (one TLS record, one system call) each, up to the
// bound, the rest for the next.
func TestWaitingFramesGoInOneFlush(t *testing.T) {
	c := newTestConn(t)
	client := &countingConn{}
	c.nc = client
	c.room.frames = make(chan roomFrame, 2*maxFramesPerFlush)
	for i := range 2 * maxFramesPerFlush {
		c.room.frames <- sayFrame(uint64(100+i), "ann", "line "+itoa(i))
	}
	c.roomFrame(<-c.room.frames)
	c.waitingFrames()
	c.flush()
	if client.writes != 1 {
		t.Fatalf("%d writes for a step, want 1", client.writes)
	}
	if got := bytes.Count(client.written, []byte(" PRIVMSG ")); got != maxFramesPerFlush {
		t.Fatalf("one flush carried %d messages, want the bound, %d", got, maxFramesPerFlush)
	}
	if left := len(c.room.frames); left != maxFramesPerFlush {
		t.Fatalf("%d frames left for the next step, want %d", left, maxFramesPerFlush)
	}
	for i, line := range strings.SplitAfter(string(client.written), "\r\n") {
		if line != "" && !strings.HasSuffix(line, ":line "+itoa(i)+"\r\n") {
			t.Fatalf("line %d is %q: out of order", i, line)
		}
	}
}

// TestWaitingFramesBoundedInBytes is a busy room whose frames are long:
// a flush carries no more than about maxFlushBytes of them.
func TestWaitingFramesBoundedInBytes(t *testing.T) {
	c := newTestConn(t)
	client := &countingConn{}
	c.nc = client
	c.room.frames = make(chan roomFrame, maxFramesPerFlush)
	long := strings.Repeat("word ", 4000) // 20,000 bytes: some 45 lines
	for i := range maxFramesPerFlush {
		c.room.frames <- sayFrame(uint64(100+i), "ann", long)
	}
	c.roomFrame(<-c.room.frames)
	c.waitingFrames()
	c.flush()
	if n := len(client.written); n < maxFlushBytes || n > maxFlushBytes+32<<10 {
		t.Fatalf("one flush wrote %d bytes, want a little over %d", n, maxFlushBytes)
	}
	if len(c.room.frames) == 0 {
		t.Fatal("every frame went in one flush: no bound in bytes")
	}
}

// eachSortedTags is IRC lines with the tags of each in name order
// (sortedTags): ircmsg writes a line's tags in the order of a map's
// range, which is another at each run.
func eachSortedTags(lines string) string {
	var out strings.Builder
	for _, line := range strings.SplitAfter(lines, "\r\n") {
		out.WriteString(sortedTags(line))
	}
	return out.String()
}

// countingConn is a client connection that counts the writes made to it.
type countingConn struct {
	captureConn
	writes int
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes++
	return c.captureConn.Write(b)
}
