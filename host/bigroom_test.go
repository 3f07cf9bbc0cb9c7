package host

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"chatroom/host/wire"
)

// In a room of more than wire.MembersInWelcome, over real TLS: a joiner
// that asks for members when it needs them (as join's clients do) is
// welcomed in a few kilobytes with their count, and sent them all when it
// asks; one that asks again, as an attacker would to make the host send
// the whole room over and over, is answered with one line, not a list.
func TestBigRoomMembersOnRequest(t *testing.T) {
	h := startHost(t, Config{MaxConnsPerAddr: 1000})
	const present = wire.MembersInWelcome + 5
	for i := range present {
		c := member(t, h, fmt.Sprintf("m%d", i), dialOptions{})
		t.Cleanup(func() { c.conn.Close() })
	}
	ask := func(name string) *client {
		t.Helper()
		conn := dialRaw(t, h, "")
		c := &client{t: t, name: name, conn: conn, dec: wire.NewDecoder(conn, wire.MaxHostFrame)}
		t.Cleanup(func() { c.conn.Close() })
		c.send(&wire.Frame{Type: wire.TypeHello, Version: wire.Version, Name: name, AsksMembers: true})
		c.welcome = c.next()
		return c
	}
	// The room tells its arrivals a window after they come: until it has,
	// fewer are listed.
	var asker *client
	deadline := time.Now().Add(testDeadline)
	for n := 0; ; n++ {
		asker = ask(fmt.Sprintf("asker%d", n))
		if asker.welcome.MembersOnRequest && asker.welcome.MemberCount >= present {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no welcome left the members out: the last %+v", asker.welcome)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if b, _ := wire.Encode(&asker.welcome); asker.welcome.Members != nil || len(b) > 8<<10 {
		t.Fatalf("the welcome in a room of %d is %d bytes with %d members; want none, in a few KB", present, len(b), len(asker.welcome.Members))
	}

	asker.send(&wire.Frame{Type: wire.TypeMembers})
	var list wire.Frame
	for list.Type != wire.TypeMembers {
		list = asker.next()
	}
	var names []string
	for _, m := range list.Members {
		names = append(names, m.Name)
	}
	for i := range present {
		if !slices.Contains(names, fmt.Sprintf("m%d", i)) {
			t.Fatalf("the members frame lists %d: lacks m%d", len(names), i)
		}
	}

	asker.send(&wire.Frame{Type: wire.TypeMembers})
	for {
		f := asker.next()
		if f.Type == wire.TypeMembers {
			t.Fatal("asked again, the host sent the whole list again")
		}
		if f.Type == wire.TypeNotice {
			if !f.Error {
				t.Fatalf("asked again: %+v; want an error notice", f)
			}
			break
		}
	}
}
