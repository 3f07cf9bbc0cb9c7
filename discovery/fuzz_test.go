package discovery

import (
	"encoding/binary"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"

	"chatroom/host/wire"
)

// txtAnswer is a DNS response whose one answer is a TXT record with rdata
// as its data, byte for byte: what anyone on the LAN may multicast.
func txtAnswer(rdata []byte) []byte {
	msg := []byte{0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0} // a response, one answer
	msg = append(msg, 0)                                 // the root name
	msg = binary.BigEndian.AppendUint16(msg, dns.TypeTXT)
	msg = binary.BigEndian.AppendUint16(msg, dns.ClassINET)
	msg = binary.BigEndian.AppendUint32(msg, 120)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(rdata)))
	return append(msg, rdata...)
}

// txtRdata is the rdata of a TXT record of strings, each at most 255 bytes.
func txtRdata(strs ...string) []byte {
	var b []byte
	for _, s := range strs {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return b
}

// FuzzRoomFromTXT reads any TXT record's data as miekg/dns hands it to
// hashicorp/mdns and on to roomFromTXT and roomFromEntry: nothing panics;
// unescapeDNS gives back exactly the bytes on the wire; a room read has
// what joining needs, in the forms a room makes (an id and a key as
// wire.ValidRoomID and wire.ValidFingerprint say, a name in UTF-8, IPv4
// addresses); and
// advertised again by encodeTXT, it reads back the same room (its name cut
// as encodeTXT cuts names), so a room read is one the advertiser can say.
func FuzzRoomFromTXT(f *testing.F) {
	real := encodeTXT(Room{
		Version: 1, ID: "3f9a2c71d0e4b5a6", Name: `Bob's "room" \ Café 🎉`,
		Fingerprint: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
		Addrs:       []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("192.168.1.20")},
	})
	var raw []string
	for _, s := range real {
		raw = append(raw, strings.ReplaceAll(s, `\\`, `\`)) // as on the wire
	}
	f.Add(txtRdata(raw...), "lab-3-3f9a2c")
	long := encodeTXT(Room{Version: 1, ID: "0123456789abcdef", Name: strings.Repeat("𝄞", 70), Fingerprint: "SHA256:" + strings.Repeat("A", 43)})
	f.Add(txtRdata(long...), `Bob\'s\ Room`)
	f.Add(txtRdata("V=1", "ID=abc", "id=evil", "FP=SHA256:x", "name=\xff\xfe", "addrs=10.0.0.1,nonsense,::1, 10.0.0.2,1.2.3.4%eth0"), `\000\255\\`)
	f.Add(txtRdata("v=+01", "id=a=b", "fp=\x00\"\\;", "=x", "name"), "x.y")
	f.Add([]byte{5, 'v', '=', '1'}, "") // a string longer than the data
	f.Fuzz(func(t *testing.T, rdata []byte, instance string) {
		if len(rdata) > 0xffff {
			return
		}
		var msg dns.Msg
		if msg.Unpack(txtAnswer(rdata)) != nil || len(msg.Answer) != 1 {
			return
		}
		rr, ok := msg.Answer[0].(*dns.TXT)
		if !ok {
			t.Fatalf("a TXT record unpacks as %T", msg.Answer[0])
		}
		for i, rest := 0, rdata; len(rest) > 0 && i < len(rr.Txt); i++ {
			n := int(rest[0])
			if got := unescapeDNS(rr.Txt[i]); got != string(rest[1:1+n]) {
				t.Fatalf("TXT string %d is %q on the wire, read as %q (from %q)", i, rest[1:1+n], got, rr.Txt[i])
			}
			rest = rest[1+n:]
		}

		room, ok := roomFromTXT(rr.Txt)
		entry, entryOK := roomFromEntry(&mdns.ServiceEntry{Name: instance + serviceSuffix, Port: 7465, InfoFields: rr.Txt})
		if entryOK != (ok && instance != "") {
			t.Fatalf("instance %q with a room %v: roomFromEntry says %v", instance, ok, entryOK)
		}
		if !ok {
			return
		}
		if entryOK { // an empty instance is no service: nothing to compare
			if entry.Instance != unescapeDNS(instance) {
				t.Fatalf("instance %q read as %q", instance, entry.Instance)
			}
			entry.Instance, entry.Port = "", 0
			if !reflect.DeepEqual(entry, room) {
				t.Fatalf("roomFromEntry read %+v, roomFromTXT %+v", entry, room)
			}
		}
		if !wire.ValidRoomID(room.ID) || !wire.ValidFingerprint(room.Fingerprint) || !utf8.ValidString(room.Name) {
			t.Fatalf("read a room that cannot be joined or shown: %+v", room)
		}
		for _, a := range room.Addrs {
			if !usableAddr(a) || a.Zone() != "" || a.Is4In6() {
				t.Fatalf("read an address that is not plain IPv4 or unicast IPv6: %v", a)
			}
		}

		advertised := encodeTXT(room)
		for _, s := range advertised {
			if len(unescapeDNS(s)) > maxTXTString {
				t.Fatalf("a room read from a TXT record advertises a string of %d bytes: %+v", len(unescapeDNS(s)), room)
			}
		}
		// Through the DNS wire as hashicorp/mdns carries it.
		again, ok := roomFromTXT(throughDNS(t, advertised))
		want := room
		want.Name = cutUTF8(room.Name, maxTXTString-len(keyName)-1)
		if !ok || !reflect.DeepEqual(again, want) {
			t.Fatalf("advertised and read back, the room changed:\n got  %+v, %v\n want %+v", again, ok, want)
		}
	})
}
