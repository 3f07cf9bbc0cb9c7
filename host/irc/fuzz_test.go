package irc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
	"github.com/ergochat/irc-go/ircreader"
)

// checkOut fails the test for any line the session wrote to its client
// that breaks IRC's rules (see badServerLine), and empties the buffer.
func checkOut(t *testing.T, c *conn) []string {
	t.Helper()
	out := c.out.String()
	c.out.Reset()
	var lines []string
	for out != "" {
		i := strings.Index(out, "\r\n")
		if i < 0 {
			t.Fatalf("output ends without CR LF: %q", out)
		}
		line := out[:i+2]
		out = out[i+2:]
		if problem := badServerLine(line); problem != "" {
			t.Fatalf("gateway line %q: %s", line, problem)
		}
		lines = append(lines, line)
	}
	return lines
}

// checkSays fails the test for anything the session sent the room that
// the room could not read as a frame of a member's.
func checkSays(t *testing.T, cc *captureConn) {
	t.Helper()
	dec := wire.NewDecoder(bytes.NewReader(cc.written), wire.MaxClientFrame)
	for {
		f, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the room could not read what the gateway sent: %v", err)
		}
		if f.Type != wire.TypeSay && f.Type != wire.TypePing && f.Type != wire.TypeHello {
			t.Fatalf("the gateway sent the room a %q frame", f.Type)
		}
	}
	cc.written = cc.written[:0]
}

// FuzzClientLine feeds any bytes, as lines read off an IRC connection,
// to a session in the room and to one still registering: none panics,
// none writes a line that breaks IRC's rules, and none sends the room
// a frame it could not read.
func FuzzClientLine(f *testing.F) {
	for _, seed := range []string{
		"PRIVMSG #the-den :hello\r\n",
		"PRIVMSG #the-den :\x01ACTION waves\x01\r\nPRIVMSG bob_x :\x01ACTION nods\x01\r\n",
		"@+typing=active;time=x TAGMSG #the-den\r\n",
		"CAP LS 302\r\nCAP REQ :sasl server-time\r\nAUTHENTICATE PLAIN\r\nAUTHENTICATE AGN5AHB3\r\nNICK cy\r\nUSER a b c d\r\nCAP END\r\n",
		"MODE #the-den +bqo-bqo a b c d e f\r\nMODE #the-den b\r\n",
		"MODE #the-den +b *!*ann@*.key\r\nMODE #the-den -b *!*ann@*.key\r\nMODE #the-den +bq-bq *!*@* ?*!~*@*.KEY eve* *\r\n",
		"KICK #the-den bob_x,ann :\x02why\x0f\r\nTOPIC #the-den :\x0304,05red\r\n",
		"WHOIS a,b,c,d,e,f,g\r\nWHO\r\nNAMES\r\nISON a b c\r\nUSERHOST a b\r\n",
		"PRIVMSG *room :modlog 20\r\nMODLOG 20\r\nbans\r\n",
		"NICK :\r\nNICK #x\r\nPART #the-den\r\nJOIN #the-den\r\n",
		"PRIVMSG #the-den :" + strings.Repeat("é", 300) + "\r\n",
		":prefix PRIVMSG #the-den :x\r\n\r\n\n:\r\n@\r\n",
		"QUIT :bye\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := newTestConn(t)
		registering := newRegisteringConn(t)
		for _, c := range []*conn{in, registering} {
			var r ircreader.Reader
			r.Initialize(bytes.NewReader(data), 512, maxLineRead)
			for range 50 {
				line, err := r.ReadLine()
				if err != nil && !errors.Is(err, ircreader.ErrReadQ) {
					break
				}
				c.now = time.Now()
				c.lagUntil = time.Time{}
				c.clientLine(clientLine{line: string(line), err: err})
				c.tick()
				checkOut(t, c)
				if c.room != nil {
					checkSays(t, c.room.nc.(*captureConn))
				}
				if err != nil || c.phase == closing {
					break
				}
			}
		}
	})
}

// newRegisteringConn is a session that has registered nothing yet, whose
// Dial gives a captureConn.
func newRegisteringConn(t testing.TB) *conn {
	g := New(Config{Dial: func(context.Context, Peer) (net.Conn, error) { return &captureConn{}, nil }})
	return newConn(g, nil, Peer{Addr: "127.0.0.1:1"}, time.Now())
}

// FuzzRenderFrame renders any frame the room could send, with any caps
// and in the backlog or out of it: every line is a valid IRC line within
// its bounds, and a message's text arrives whole, whatever its length,
// its lines and its bytes.
func FuzzRenderFrame(f *testing.F) {
	f.Add("event", "say", "ann", "", "", "", "", "", "", "hello", uint64(11), byte(0))
	f.Add("event", "me", "bob.x", "", "", "", "", "", "", "waves\nand\r\x00more", uint64(9), byte(0xff))
	f.Add("event", "join", "", "", "n!ck@h ost", "", "k:ey", "", "", "", uint64(11), byte(0x2a))
	f.Add("event", "leave", "", "", "bob.x", "", "", "kicked", "ann", "spam\nspam", uint64(11), byte(1))
	f.Add("event", "nick", "", "", "cy", ":new name", "", "", "", "", uint64(11), byte(3))
	f.Add("event", "away", "bob_x", "", "", "", "", "", "", "gone \x01ACTION", uint64(11), byte(0x10))
	f.Add("event", "topic", "ann", "", "", "", "", "", "", strings.Repeat("t", 2000), uint64(11), byte(0))
	f.Add("private", "", "bob.x", "cy", "", "", "", "", "", "/me "+strings.Repeat("ü", 1500), uint64(0), byte(4))
	f.Add("notice", "", "", "", "", "", "", "", "", "one\ntwo\n\nthree", uint64(0), byte(0))
	f.Add("closed", "", "", "", "", "", "", "banned", "ann", "bye\r\nQUIT", uint64(0), byte(0))
	// Files on offer (an odd seq gives the frame a file: name is its
	// name, key its sha256, newName its id).
	f.Add("event", "offer", "bob.x", "", "slides.pdf", "", strings.Repeat("3f9a1c2b", 8), "", "", "", uint64(7), byte(0))
	f.Add("event", "offer", "bob.x", "", "a\r\nQUIT :x\x01\x00"+strings.Repeat("é", 300), "", "\n\x01", "", "", "", uint64(9), byte(0xff))
	f.Add("event", "unsend", "", "", "slides.pdf", "", "", "expired", "ann", "", uint64(7), byte(0x10))
	f.Add("event", "unsend", "", "", "x\ny", "", "", "", "bob\r\n.x", "", uint64(7), byte(0))
	f.Add("private", "offer", "bob.x", "cy", "slides.pdf", "", "", "", "", "", uint64(3), byte(4))
	f.Add("private", "offer", "cy", "bob.x", "slides.pdf", "", "", "", "", "", uint64(3), byte(0x7f))
	f.Add("private", "unsend", "cy", "bob.x", "sl\x00ides", "", "", "damaged", "", "", uint64(3), byte(0))
	f.Add("notice", "", "", "", "slides.pdf", "f00\r\n", "", "", "", "fetching file 7", uint64(7), byte(0))
	f.Add("event", "offer", "bob.x", "", "slides.pdf", "", "", "", "", "", uint64(8), byte(0)) // no file
	f.Fuzz(func(t *testing.T, typ, kind, from, to, name, newName, key, code, by, text string, seq uint64, caps byte) {
		c := newTestConn(t)
		for i, cp := range offeredCaps {
			if caps&(1<<i) != 0 {
				c.caps[cp] = true
			}
		}
		if caps&0x80 != 0 {
			c.backlogLeft = 1
		}
		c.now = time.Now()
		frame := wire.Frame{Type: typ, Kind: kind, From: from, To: to, Name: name, NewName: newName, Key: key,
			Code: code, By: by, Text: text, Seq: seq, Time: time.Unix(int64(seq%4e9), 0),
			Joined: []wire.Member{{Name: name, Role: code, Key: key}}, Left: []wire.Departure{{Name: from, Code: code}}}
		if seq%2 == 1 {
			frame.File = &wire.File{Number: int(seq % 1e6), Name: name, Size: int64(seq >> 1), SHA256: key, From: from, To: to, ID: newName}
		}
		c.render(frame)
		checkOut(t, c)

		// A message from a member arrives whole: its lines, cut to fit,
		// hold all its text.
		c = newTestConn(t)
		c.render(wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindSay, From: "ann", Text: text})
		var got strings.Builder
		for _, line := range checkOut(t, c) {
			_, after, _ := strings.Cut(line, " :")
			got.WriteString(strings.TrimSuffix(after, "\r\n"))
		}
		if want := strings.ReplaceAll(ircText(text), "\n", ""); got.String() != want {
			t.Fatalf("the text %q arrived as %q", text, got.String())
		}
	})
}
