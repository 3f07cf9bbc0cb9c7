package host

import (
	"fmt"
	"testing"

	"chatroom/host/room"
	"chatroom/host/wire"
)

// Attack, over the network from several addresses: a client sends its
// burst of lines, hangs up and connects again with the same identity key
// to start afresh, then joins over and over from one address. The host
// hands the room each connection's key and address, so the line budget
// holds across connections and the address's joins are refused with
// too-many; another address joins, and speaks, as if nothing happened.
// (The rates are all but zero, so no time passes within the test.)
func TestBudgetsOverNetwork(t *testing.T) {
	requireLoopbackRange(t)
	slow := wire.Limits{Burst: 3, PerSecond: 1e-6}
	h := startHost(t, Config{
		Limits:     slow,
		JoinLimits: room.JoinLimits{PerAddress: wire.Limits{Burst: 4, PerSecond: 1e-6}},
	})
	cy := member(t, h, "cy", dialOptions{from: "127.0.0.3"})

	flooder := keyed(t)
	flooder.from = "127.0.0.2"
	for round := range 2 {
		f := member(t, h, fmt.Sprint("flooder", round), flooder)
		held := room.HeldLimits(slow).Burst
		for i := range held {
			f.say(fmt.Sprint("spam ", i))
		}
		f.say("one more")
		said := 0
		for {
			fr := f.next()
			if fr.Type == wire.TypeNotice && fr.Error {
				break // refused: the budget is spent
			}
			if fr.Type == wire.TypeEvent && fr.Kind == wire.KindSay && fr.From == f.name {
				said++ // its own line, not the backlog's
			}
		}
		if want := held * (1 - round); said != want {
			t.Fatalf("connection %d with one key got %d lines through, want %d", round+1, said, want)
		}
		f.conn.Close()
	}

	// Two joins from 127.0.0.2 so far; two more, and the next is refused.
	for i := range 2 {
		member(t, h, fmt.Sprint("x", i), dialOptions{from: "127.0.0.2"}).conn.Close()
	}
	c := hello(t, h, "one-more", dialOptions{from: "127.0.0.2"})
	if c.welcome.Type != wire.TypeRefused || c.welcome.Code != wire.CodeTooMany {
		t.Fatalf("a fifth join from one address: %s %s %q", c.welcome.Type, c.welcome.Code, c.welcome.Text)
	}
	bob := member(t, h, "bob", dialOptions{from: "127.0.0.4"})
	bob.say("hi")
	for {
		if f := cy.next(); f.Type == wire.TypeEvent && f.Kind == wire.KindSay && f.From == "bob" {
			break
		}
	}
}
