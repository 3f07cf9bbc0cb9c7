package host

import (
	"strings"
	"testing"

	"chatroom/host/wire"
)

// Attack, over the network: mal keeps two connections with one identity
// key from two addresses, and shares one of them with zoe (a NAT). A ban
// of mal ends both of mal's connections at once, keeps out the key under
// any name, and does not ban the address zoe shares, so that zoe and
// others behind it still get in.
func TestBanOverTLSEndsEveryConnectionAndSparesASharedAddress(t *testing.T) {
	requireLoopbackRange(t)
	h := startHost(t, Config{})
	ana := owner(t, h, "ana")
	key := newIdentity(t)
	mal := member(t, h, "mal", dialOptions{from: "127.0.0.2", identity: &key})
	mal2 := member(t, h, "mal2", dialOptions{from: "127.0.0.3", identity: &key})
	zoe := member(t, h, "zoe", dialOptions{from: "127.0.0.2"})
	for range 3 {
		ana.nextEvent(wire.KindJoin)
	}

	ana.say("/ban mal 10m spam")
	for _, c := range []*client{mal, mal2} {
		if f := c.closedWith(wire.TypeClosed, wire.CodeBanned); !strings.HasPrefix(f.Text, "until ") || !strings.HasSuffix(f.Text, ": spam") {
			t.Errorf("%s was closed with %+v, want the ban's end and reason", c.name, f)
		}
	}
	for _, name := range []string{"mal", "mal2"} {
		if f := ana.nextEvent(wire.KindLeave); f.Name != name || f.Code != wire.CodeBanned {
			t.Fatalf("ana saw %+v, want %s banned", f, name)
		}
	}
	if n := ana.nextNotice(); n.Error || !strings.Contains(n.Text, "not the address 127.0.0.2, which zoe shares") || !strings.HasSuffix(n.Text, "; sent out too: mal2") {
		t.Fatalf("ban confirmed as %+v", n)
	}

	if c := hello(t, h, "robert", dialOptions{from: "127.0.0.4", identity: &key}); c.welcome.Type != wire.TypeRefused || c.welcome.Code != wire.CodeBanned ||
		!strings.HasPrefix(c.welcome.Text, "you are banned from this room until ") {
		t.Fatalf("mal's key under a new name: %+v", c.welcome)
	}
	member(t, h, "carol", dialOptions{from: "127.0.0.2"})
	for _, name := range []string{"mal", "mal2", "carol"} {
		if f := zoe.next(); f.Type != wire.TypeEvent || f.Name != name {
			t.Fatalf("zoe got %+v, want an event about %s", f, name)
		}
	}
}

// Attack: a muted member drops its key and comes back. Mal, muted, leaves
// and joins again over TLS from the same address with no client
// certificate under a new name: with a mute that held only the name and
// the key, its join was shown and its line relayed. The mute holds the
// address (no one else was on it), so the newcomer joins unseen and its
// line is refused; someone from another address is not touched.
func TestMuteOverTLSHoldsAgainstTheAddress(t *testing.T) {
	requireLoopbackRange(t)
	h := startHost(t, Config{})
	ana := owner(t, h, "ana")
	key := newIdentity(t)
	cy := member(t, h, "cy", dialOptions{from: "127.0.0.6"})
	mal := member(t, h, "mal", dialOptions{from: "127.0.0.5", identity: &key})
	ana.nextEvent(wire.KindJoin)
	ana.nextEvent(wire.KindJoin)
	cy.nextEvent(wire.KindJoin)

	ana.say("/mute mal")
	if n := ana.nextNotice(); n.Error || n.Text != "muted mal until /unmute" {
		t.Fatalf("mute confirmed as %+v", n)
	}
	mal.conn.Close()
	if f := cy.nextEvent(wire.KindLeave); f.Name != "mal" {
		t.Fatalf("cy saw %+v, want mal's leave", f)
	}
	ana.nextEvent(wire.KindLeave)

	evil := member(t, h, "buy-at-evil", dialOptions{from: "127.0.0.5"})
	evil.say("buy now at evil.example")
	if n := evil.nextNotice(); !n.Error || !strings.HasPrefix(n.Text, "not sent: you are muted") {
		t.Fatalf("the keyless newcomer from the muted address was told %+v, want its line refused as muted", n)
	}
	// cy's next frame is ana's line: nothing of the newcomer came before.
	ana.say("marker")
	if f := cy.next(); f.Type != wire.TypeEvent || f.Kind != wire.KindSay || f.From != "ana" || f.Text != "marker" {
		t.Fatalf("cy got %+v before ana's marker; want nothing from the muted address", f)
	}
	dee := member(t, h, "dee", dialOptions{from: "127.0.0.7"})
	cy.nextEvent(wire.KindJoin)
	dee.say("hi from elsewhere")
	if f := cy.next(); f.Kind != wire.KindSay || f.From != "dee" {
		t.Fatalf("cy got %+v; want dee's line, from another address", f)
	}
}
