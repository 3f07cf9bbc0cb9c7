package irc

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"

	"chatroom/host/wire"
	"github.com/ergochat/irc-go/ircmsg"
)

// fanoutMembers is how many members each fan-out benchmark sends one
// message to.
const fanoutMembers = 100

// BenchmarkFanout is the gateway's own cost in a room's fan-out: one
// message, as the room sends it to each member, to 100 members over
// loopback TCP, each reading it off its socket. "irc" goes through the
// gateway to IRC clients, which parse IRC lines; "wire", the baseline in
// the same run, relays the same frames unchanged (decoded and encoded
// again, as the host's writer does) to members that decode them as a
// chatroom client does. The ratio of their ns/member is what the
// translation adds. The room itself is not in either (package host's
// benchmarks measure it); each op is one message to all 100.
func BenchmarkFanout(b *testing.B) {
	frame := wire.Frame{Type: wire.TypeEvent, Seq: 11, Time: time.Now(), Kind: wire.KindSay, From: "ann", Text: "a line of about the length people type, with a few words in it"}
	line, err := wire.Encode(&frame)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("irc", func(b *testing.B) {
		tg := startBenchGateway(b)
		var rooms []net.Conn
		var clients []*bufio.Reader
		for i := range fanoutMembers {
			nick := "m" + itoa(i)
			c, room := tg.benchJoin(b, nick)
			rooms = append(rooms, room)
			clients = append(clients, c)
		}
		b.ResetTimer()
		for range b.N {
			for _, r := range rooms {
				if _, err := r.Write(line); err != nil {
					b.Fatal(err)
				}
			}
			for _, c := range clients {
				l, err := c.ReadString('\n')
				if err != nil {
					b.Fatal(err)
				}
				if _, err := ircmsg.ParseLine(l); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*fanoutMembers), "ns/member")
	})
	b.Run("wire", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		var rooms []net.Conn
		var members []*wire.Decoder
		for range fanoutMembers {
			ours, theirs := net.Pipe()
			client, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			server, err := ln.Accept()
			if err != nil {
				b.Fatal(err)
			}
			defer client.Close()
			defer server.Close()
			defer ours.Close()
			go relay(theirs, server)
			rooms = append(rooms, ours)
			members = append(members, wire.NewDecoder(client, wire.MaxHostFrame))
		}
		b.ResetTimer()
		for range b.N {
			for _, r := range rooms {
				if _, err := r.Write(line); err != nil {
					b.Fatal(err)
				}
			}
			for _, d := range members {
				if _, err := d.Decode(); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*fanoutMembers), "ns/member")
	})
}

// relay copies frames from one connection to another, each decoded and
// encoded again.
func relay(from, to net.Conn) {
	dec := wire.NewDecoder(from, wire.MaxHostFrame)
	for {
		f, err := dec.Decode()
		if err != nil {
			return
		}
		b, _ := wire.Encode(&f)
		if _, err := to.Write(b); err != nil {
			return
		}
	}
}

// benchGateway is a gateway on 127.0.0.1 whose Dial hands the room's end
// to the benchmark.
type benchGateway struct {
	addr  string
	dials chan net.Conn
}

func startBenchGateway(b *testing.B) *benchGateway {
	bg := &benchGateway{dials: make(chan net.Conn, 1)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	g := New(Config{Dial: func(_ context.Context, _ Peer) (net.Conn, error) {
		ours, theirs := net.Pipe()
		bg.dials <- theirs
		return ours, nil
	}})
	go g.Serve(ln)
	b.Cleanup(func() { g.Close() })
	bg.addr = ln.Addr().String()
	return bg
}

// benchJoin registers nick and welcomes it; it returns the client's
// reader, past the names, and the room's end.
func (bg *benchGateway) benchJoin(b *testing.B, nick string) (*bufio.Reader, net.Conn) {
	conn, err := net.Dial("tcp", bg.addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	conn.Write([]byte("NICK " + nick + "\r\nUSER u 0 * :u\r\n"))
	room := <-bg.dials
	b.Cleanup(func() { room.Close() })
	dec := wire.NewDecoder(room, wire.MaxClientFrame)
	if _, err := dec.Decode(); err != nil {
		b.Fatal(err)
	}
	w := testWelcome(nick)
	w.HeartbeatMS = 0
	welcome, _ := wire.Encode(&w)
	room.Write(welcome)
	// The gateway's writes into the room (none here but pings, which
	// the welcome turns off) would block an unread pipe.
	go func() {
		for {
			if _, err := dec.Decode(); err != nil {
				return
			}
		}
	}()
	r := bufio.NewReader(conn)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		if m, _ := ircmsg.ParseLine(l); m.Command == "366" {
			return r, room
		}
	}
}
