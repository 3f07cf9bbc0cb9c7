package discovery

import (
	"context"
	"io"
	"log"
	"net"
	"slices"
	"strconv"
	"testing"

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"

	"chatroom/discovery/netns"
)

// answerOf is one mDNS answer for instance, with its SRV (port 7465) and
// the TXT strings txt (none: no TXT record).
func answerOf(instance string, txt []string) *dns.Msg {
	name := instance + serviceSuffix
	msg := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true}}
	msg.Answer = append(msg.Answer, &dns.SRV{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 120}, Target: "pc.local.", Port: 7465})
	if txt != nil {
		msg.Answer = append(msg.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 120}, Txt: txt})
	}
	return msg
}

// TestNotRoomsCounted stands for a record sent by anyone on the LAN for
// the rooms' service whose id is not the form a room makes: it is dropped,
// and was dropped without a word, so that the person heard "no room found"
// while something answered. Each such answer is counted; a room's answer,
// one of another service, and one with no TXT record (no claim to be a
// room) are not.
func TestNotRoomsCounted(t *testing.T) {
	room := []string{"v=1", "id=" + testID, "fp=" + testFP, "name=Lab 3"}
	for _, tt := range []struct {
		name string
		msg  *dns.Msg
		n    int
	}{
		{"a room", answerOf("lab", room), 0},
		{"an id of escapes", answerOf("evil", []string{"v=1", "id=a1b2\x1b]0;pwned\a", "fp=" + testFP, "name=Lab 3"}), 1},
		{"an id of no-break spaces", answerOf("evil", []string{"v=1", "id=\u00a0" + testID[1:], "fp=" + testFP}), 1},
		{"a key not a room's", answerOf("evil", []string{"v=1", "id=" + testID, "fp=SHA256:"}), 1},
		{"no version", answerOf("evil", []string{"id=" + testID, "fp=" + testFP}), 1},
		{"no TXT record", answerOf("evil", nil), 0},
		{"another service", func() *dns.Msg {
			m := answerOf("evil", []string{"id=x"})
			for _, rr := range m.Answer {
				rr.Header().Name = "evil._other._tcp.local."
			}
			return m
		}(), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rooms, notRooms := roomsFromAnswer(tt.msg)
			if len(notRooms) != tt.n {
				t.Errorf("%d answers not a room's (%q), want %d", len(notRooms), notRooms, tt.n)
			}
			if tt.name == "a room" && len(rooms) != 1 {
				t.Errorf("%d rooms, want the room", len(rooms))
			}
		})
	}
}

// serveRecord answers mDNS queries on lo, in the test's own namespace, as
// instance with the TXT strings txt, until the test ends.
func serveRecord(t *testing.T, instance string, txt []string) {
	t.Helper()
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	service, err := mdns.NewMDNSService(instance, Service, "local.", "evil.local.", 7465, []net.IP{net.IPv4(127, 0, 0, 1)}, txt)
	if err != nil {
		t.Fatal(err)
	}
	server, err := mdns.NewServer(&mdns.Config{Zone: service, Iface: lo, Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Shutdown() })
}

// TestFindCountsNotRooms: on the network, beside a room, two records whose
// ids are not a room's, each heard many times over (a browse asks four
// times a round, over IPv4 and IPv6): the room is found, and the two are
// counted once each. With no room, the count is what tells the person why
// none was found.
func TestFindCountsNotRooms(t *testing.T) {
	netns.Require(t)
	for _, i := range []int{1, 2} {
		serveRecord(t, "evil"+strconv.Itoa(i), []string{"v=1", "id=a1b2\x1b]0;pwned\a" + strconv.Itoa(i), "fp=" + testFP, "name=Lab"})
	}
	found, err := Find(context.Background(), onLoopback)
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Rooms) != 0 || found.NotRooms != 2 {
		t.Errorf("found %d rooms and %d answers not a room's, want 0 and 2", len(found.Rooms), found.NotRooms)
	}

	want := testRoom("Lab 3", testID)
	advertise(t, want, onLoopback)
	found, err = Find(context.Background(), onLoopback)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(found.Rooms, func(r Room) bool { return r.ID == testID }) || len(found.Rooms) != 1 {
		t.Errorf("found %+v, want the room advertised", found.Rooms)
	}
	// The room ends the browse after its first round: the others may or
	// may not have been heard by then, but never more than once each.
	if found.NotRooms > 2 {
		t.Errorf("%d answers not a room's, want at most 2", found.NotRooms)
	}
}
