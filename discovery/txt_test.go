package discovery

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
)

// throughDNS packs txt into a DNS message and unpacks it again, as the
// room's TXT record travels between hashicorp/mdns's server and client.
func throughDNS(t *testing.T, txt []string) []string {
	t.Helper()
	msg := &dns.Msg{Answer: []dns.RR{&dns.TXT{
		Hdr: dns.RR_Header{Name: "x._chatroom._tcp.local.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 120},
		Txt: txt,
	}}}
	buf, err := msg.Pack()
	if err != nil {
		t.Fatalf("packing TXT %q: %v", txt, err)
	}
	var back dns.Msg
	if err := back.Unpack(buf); err != nil {
		t.Fatal(err)
	}
	return back.Answer[0].(*dns.TXT).Txt
}

func TestTXTRoundTrip(t *testing.T) {
	addrs := []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("192.168.1.20")}
	for _, name := range []string{
		"Lab 3",
		`Bob's "room" \ backslash; semi=colon, comma`,
		"Café Ünïcode 🎉 日本語",
		"a=b=c",
	} {
		room := Room{ID: "3f9a2c71d0e4b5a6", Name: name, Fingerprint: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", Version: 1, Addrs: addrs}
		got, ok := roomFromTXT(throughDNS(t, encodeTXT(room)))
		if !ok {
			t.Fatalf("%q: not read back", name)
		}
		if !reflect.DeepEqual(got, room) {
			t.Errorf("%q:\n got  %+v\n want %+v", name, got, room)
		}
	}
}

// However long the name and however many addresses, every TXT string fits
// in 255 bytes, the name is cut on a character boundary, and the record
// still packs.
func TestTXTFits(t *testing.T) {
	var many []netip.Addr
	for i := range 40 {
		many = append(many, netip.AddrFrom4([4]byte{192, 168, 100, byte(i)}))
	}
	for _, name := range []string{
		strings.Repeat("𝄞", 64), // 4-byte runes: 256 bytes
		strings.Repeat("é", 200),
		strings.Repeat("x", 1000),
		strings.Repeat("ab\\", 100), // escapes must not count twice
	} {
		room := Room{ID: testID, Name: name, Fingerprint: testFP, Version: 1, Addrs: many}
		txt := encodeTXT(room)
		for _, s := range throughDNSRaw(t, txt) {
			if len(s) > 255 {
				t.Fatalf("TXT string of %d bytes", len(s))
			}
		}
		got, ok := roomFromTXT(throughDNS(t, txt))
		if !ok {
			t.Fatal("not read back")
		}
		if !utf8.ValidString(got.Name) || !strings.HasPrefix(name, got.Name) || len(got.Name) < 200 {
			t.Errorf("name cut wrongly: %d bytes, valid %v", len(got.Name), utf8.ValidString(got.Name))
		}
		if len(got.Addrs) < 10 || !reflect.DeepEqual(got.Addrs, many[:len(got.Addrs)]) {
			t.Errorf("addresses: got %d, in order: %v", len(got.Addrs), got.Addrs)
		}
	}
}

// throughDNSRaw returns the byte strings as they are on the wire.
func throughDNSRaw(t *testing.T, txt []string) []string {
	t.Helper()
	var raw []string
	for _, s := range throughDNS(t, txt) {
		raw = append(raw, unescapeDNS(s))
	}
	return raw
}

// testID and testFP are an id and a key of the forms a room makes.
const (
	testID = "3f9a2c71d0e4b5a6"
	testFP = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
)

// TXT records from other implementations: keys in any case, the first of a
// repeated key, and records that lack what joining needs.
func TestRoomFromTXT(t *testing.T) {
	tests := []struct {
		name string
		txt  []string
		ok   bool
		want Room
	}{
		{"minimal", []string{"v=1", "id=" + testID, "fp=" + testFP}, true, Room{Version: 1, ID: testID, Fingerprint: testFP}},
		{"upper-case keys", []string{"V=1", "ID=" + testID, "FP=" + testFP, "NAME=Lab"}, true, Room{Version: 1, ID: testID, Fingerprint: testFP, Name: "Lab"}},
		{"first key wins", []string{"v=1", "id=" + testID, "id=0000000000000000", "fp=" + testFP}, true, Room{Version: 1, ID: testID, Fingerprint: testFP}},
		{"bad addresses skipped", []string{"v=1", "id=" + testID, "fp=" + testFP, "addrs=10.0.0.1,nonsense,::1, 10.0.0.2"}, true,
			Room{Version: 1, ID: testID, Fingerprint: testFP, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")}}},
		{"IPv6 addresses kept, but loopback, multicast, mapped and zoned ones", []string{"v=1", "id=" + testID, "fp=" + testFP, "addrs=10.0.0.1,fd00::1,fe80::1,::1,ff02::fb,::ffff:10.0.0.3,fe80::2%eth0,2001:db8::1"}, true,
			Room{Version: 1, ID: testID, Fingerprint: testFP, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fe80::1"), netip.MustParseAddr("2001:db8::1")}}},
		{"no id", []string{"v=1", "fp=" + testFP}, false, Room{}},
		{"no fingerprint", []string{"v=1", "id=" + testID}, false, Room{}},
		{"no version", []string{"id=" + testID, "fp=" + testFP}, false, Room{}},
		{"empty", nil, false, Room{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := roomFromTXT(tt.txt)
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestHostileTXTIDsAreNoRooms stands for an mDNS record sent by a script,
// no server needed: its id or key is anything but the form a room makes
// (Unicode spaces that files and Fields treat as separators, a line
// separator, a leading "#" or space, 64 KB and more, escapes for the
// terminal, a key without "SHA256:" or of the wrong length). Read as a
// room, such an id went into known-rooms and made it unreadable, and with
// it every later join; it is no room, and is dropped.
func TestHostileTXTIDsAreNoRooms(t *testing.T) {
	ids := []string{
		"\u00a0" + testID[1:], testID[:15] + "\u00a0", "\u0085" + testID, testID + "\u2028",
		" " + testID[1:], "#" + testID[1:], strings.Repeat("a", 70000), "\x1b]0;pwned\a" + testID,
		strings.ToUpper(testID), testID + "0", testID[:15], "0", "",
	}
	fps := []string{
		"0", "SHA256:", "sha256:" + testFP[7:], testFP + "=", testFP[:len(testFP)-1], testFP + "A",
		"SHA256:" + strings.Repeat("/", 43), // 43 characters that are not the base64 of 32 bytes
		testFP[:20] + "\u00a0" + testFP[21:], testFP[:20] + " " + testFP[21:], "",
	}
	for _, id := range ids {
		if room, ok := roomFromTXT([]string{"v=1", "id=" + id, "fp=" + testFP, "name=Lab 3"}); ok {
			t.Errorf("id %.40q read as a room (id %.40q)", id, room.ID)
		}
	}
	for _, fp := range fps {
		if room, ok := roomFromTXT([]string{"v=1", "id=" + testID, "fp=" + fp, "name=Lab 3"}); ok {
			t.Errorf("key %q read as a room (key %q)", fp, room.Fingerprint)
		}
	}
	// And the room as a room makes it is still one.
	if _, ok := roomFromTXT([]string{"v=1", "id=" + testID, "fp=" + testFP}); !ok {
		t.Error("a room's own record is not read")
	}
}

func TestUnescapeDNS(t *testing.T) {
	tests := map[string]string{
		`plain`:             "plain",
		`Bob\'s\ Room`:      "Bob's Room",
		`Caf\195\169`:       "Café",
		`back\\slash`:       `back\slash`,
		`dot\.name`:         "dot.name",
		`trailing\`:         `trailing\`,
		`\999 not a byte`:   "999 not a byte",
		`\0651`:             "A1",
		`"quoted\" string"`: `"quoted" string"`,
	}
	for in, want := range tests {
		if got := unescapeDNS(in); got != want {
			t.Errorf("unescapeDNS(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInstanceName(t *testing.T) {
	tests := []struct{ name, id, want string }{
		{"Lab 3", "3f9a2c71", "lab-3-3f9a2c"},
		{"  Bob's Room!! ", "abcdef12", "bob-s-room-abcdef"},
		{"Café.Net", "123456", "caf-net-123456"},
		{"日本語", "a1b2c3d4", "room-a1b2c3"},
		{"", "ab", "room-ab"},
		{strings.Repeat("long ", 30), "0123456789", "long-long-long-long-long-long-long-long-l-012345"},
	}
	for _, tt := range tests {
		got := instanceName(tt.name, tt.id)
		if got != tt.want {
			t.Errorf("instanceName(%q, %q) = %q, want %q", tt.name, tt.id, got, tt.want)
		}
		if len(got) > 63 || strings.ContainsAny(got, ". ") {
			t.Errorf("instanceName(%q) = %q is not one plain DNS label", tt.name, got)
		}
	}
}

// Answers about other services, which arrive on the same channel, are not
// rooms; nor are answers without a usable TXT record.
func TestRoomFromEntry(t *testing.T) {
	good := []string{"v=1", "id=" + testID, "fp=" + testFP, "name=Lab 3", "addrs=10.0.0.1"}
	tests := []struct {
		name  string
		entry mdns.ServiceEntry
		ok    bool
	}{
		{"a room", mdns.ServiceEntry{Name: `lab-3-abc._chatroom._tcp.local.`, Port: 7465, InfoFields: good}, true},
		{"any case", mdns.ServiceEntry{Name: `Lab-3._CHATROOM._tcp.Local.`, Port: 7465, InfoFields: good}, true},
		{"a printer", mdns.ServiceEntry{Name: `printer._http._tcp.local.`, Port: 80, InfoFields: good}, false},
		{"look-alike suffix", mdns.ServiceEntry{Name: `x._chatroom._tcp.local.evil.`, Port: 7465, InfoFields: good}, false},
		{"just the suffix", mdns.ServiceEntry{Name: `._chatroom._tcp.local.`, Port: 7465, InfoFields: good}, false},
		{"no TXT", mdns.ServiceEntry{Name: `a._chatroom._tcp.local.`, Port: 7465}, false},
		{"no port", mdns.ServiceEntry{Name: `a._chatroom._tcp.local.`, InfoFields: good}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := roomFromEntry(&tt.entry)
			if ok != tt.ok {
				t.Fatalf("got %+v, %v; want ok=%v", r, ok, tt.ok)
			}
		})
	}
	r, _ := roomFromEntry(&mdns.ServiceEntry{Name: `Bob\'s\ Room._chatroom._tcp.local.`, Host: "pc.local.", Port: 7465,
		AddrV4: []byte{10, 0, 0, 2}, InfoFields: good})
	want := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")}
	if r.Instance != "Bob's Room" || r.Host != "pc.local." || !reflect.DeepEqual(r.Addrs, want) {
		t.Errorf("got %+v", r)
	}
}

func TestMerge(t *testing.T) {
	found := map[roomKey]*Room{}
	a1 := netip.MustParseAddr("10.0.0.1")
	a2 := netip.MustParseAddr("10.0.1.1")
	merge(found, Room{ID: "x", Name: "Lab", Addrs: []netip.Addr{a1}, Ifaces: []string{"eth0"}})
	merge(found, Room{ID: "x", Name: "Lab", Addrs: []netip.Addr{a1}, Ifaces: []string{"eth0"}})
	merge(found, Room{ID: "x", Name: "Lab", Addrs: []netip.Addr{a2}, Ifaces: []string{"wlan0"}})
	merge(found, Room{ID: "y", Name: "Lab"})
	if len(found) != 2 {
		t.Fatalf("two ids are %d rooms", len(found))
	}
	if got := found[roomKey{"x", ""}]; !reflect.DeepEqual(got.Addrs, []netip.Addr{a1, a2}) || !reflect.DeepEqual(got.Ifaces, []string{"eth0", "wlan0"}) {
		t.Fatalf("merged: %+v", got)
	}
}

// The rounds over IPv4 and IPv6 run at once, and either may answer
// first: a room's addresses are IPv4 then IPv6 all the same, so that the
// address list and join show first is the same from one browse to the
// next.
func TestMergeKeepsIPv4First(t *testing.T) {
	found := map[roomKey]*Room{}
	v6, v4a, v4b := netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("172.17.0.1")
	merge(found, Room{ID: "x", Addrs: []netip.Addr{v6}})
	merge(found, Room{ID: "x", Addrs: []netip.Addr{v4a, v4b, v6}})
	if got := found[roomKey{"x", ""}].Addrs; !slices.Equal(got, []netip.Addr{v4a, v4b, v6}) {
		t.Fatalf("merged: %v", got)
	}
}

// TestMergeBounded stands for anyone on the link answering a browse with
// a flood of made-up rooms, or of addresses for one room: what is kept
// stays within maxRooms and maxRoomAddrs, and the rooms first found stay.
func TestMergeBounded(t *testing.T) {
	found := map[roomKey]*Room{}
	for i := range 3 * maxRooms {
		merge(found, Room{ID: fmt.Sprintf("%016x", i), Name: "flood"})
	}
	if len(found) != maxRooms {
		t.Fatalf("%d rooms kept of a flood of %d, want %d", len(found), 3*maxRooms, maxRooms)
	}
	if found[roomKey{fmt.Sprintf("%016x", 0), ""}] == nil {
		t.Fatal("the first room found was pushed out by the flood")
	}
	for i := range 3 * maxRoomAddrs {
		a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		merge(found, Room{ID: fmt.Sprintf("%016x", 0), Addrs: []netip.Addr{a}})
	}
	if n := len(found[roomKey{fmt.Sprintf("%016x", 0), ""}].Addrs); n != maxRoomAddrs {
		t.Fatalf("%d addresses kept for one room, want %d", n, maxRoomAddrs)
	}
}
