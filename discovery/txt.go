package discovery

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"chatroom/host/wire"
)

// TXT keys. Each is one "key=value" string of the room's TXT record.
const (
	keyVersion     = "v"     // protocol version (wire.Version)
	keyID          = "id"    // room id, stable for a state directory
	keyName        = "name"  // display name, UTF-8, cut to fit
	keyFingerprint = "fp"    // room key fingerprint, "SHA256:..."
	keyAddrs       = "addrs" // the room's addresses, IPv4 then IPv6, comma-separated
	keyTopic       = "topic" // the room's topic, UTF-8, cut to fit; absent when none
)

// maxTopicTXT is the most of a topic a TXT string carries.
const maxTopicTXT = maxTXTString - len(keyTopic) - 1

// maxTXTString is the longest string a TXT record can hold: one length
// byte. mdns v1.0.7 does not check, and a longer string makes every one of
// its responses fail to pack, so the room would silently vanish.
const maxTXTString = 255

// encodeTXT returns the TXT strings that describe room, each at most
// maxTXTString bytes however long the name and however many addresses,
// escaped for github.com/miekg/dns (which reads backslashes in TXT strings
// as escapes).
func encodeTXT(room Room) []string {
	fields := []string{
		keyVersion + "=" + strconv.Itoa(room.Version),
		keyID + "=" + room.ID,
		keyName + "=" + cutUTF8(room.Name, maxTXTString-len(keyName)-1),
		keyFingerprint + "=" + room.Fingerprint,
	}
	addrs := keyAddrs + "="
	for i, a := range room.Addrs {
		s := a.String()
		if len(addrs)+len(s)+1 > maxTXTString {
			break // the A record still carries one; the rest are extra
		}
		if i > 0 {
			addrs += ","
		}
		addrs += s
	}
	fields = append(fields, addrs)
	if room.Topic != "" {
		fields = append(fields, keyTopic+"="+cutUTF8(room.Topic, maxTopicTXT))
	}
	for i, f := range fields {
		fields[i] = escapeTXT(f)
	}
	return fields
}

// cutUTF8 returns the longest prefix of s that is at most max bytes and
// ends on a rune boundary.
func cutUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}

// escapeTXT escapes s so that miekg/dns packs it byte for byte. An escape
// costs no length on the wire, so the limit applies to s as given.
func escapeTXT(s string) string {
	return strings.ReplaceAll(s, `\`, `\\`)
}

// decodeTXT turns TXT strings as miekg/dns unpacks them (with \DDD and \X
// escapes) into keys and values. Keys are case-insensitive, and the first
// occurrence of a key wins, as DNS-SD (RFC 6763, 6.4) says.
func decodeTXT(fields []string) map[string]string {
	kv := make(map[string]string, len(fields))
	for _, f := range fields {
		key, value, _ := strings.Cut(unescapeDNS(f), "=")
		key = strings.ToLower(key)
		if key == "" {
			continue
		}
		if _, seen := kv[key]; !seen {
			kv[key] = value
		}
	}
	return kv
}

// roomFromTXT reads the room a TXT record describes; false when it lacks
// what a member needs to join and check a room. A record whose id or key is
// not of the form a room makes (wire.ValidRoomID, wire.ValidFingerprint)
// is no room's: anyone on the LAN can send one, and an id of spaces,
// controls or a megabyte must never reach a file or a terminal.
func roomFromTXT(fields []string) (Room, bool) {
	kv := decodeTXT(fields)
	version, err := strconv.Atoi(kv[keyVersion])
	if err != nil || !wire.ValidRoomID(kv[keyID]) || !wire.ValidFingerprint(kv[keyFingerprint]) {
		return Room{}, false
	}
	name := kv[keyName]
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "\uFFFD")
	}
	room := Room{Version: version, ID: kv[keyID], Name: name, Fingerprint: kv[keyFingerprint],
		Topic: strings.ToValidUTF8(kv[keyTopic], "\uFFFD")}
	for _, s := range strings.Split(kv[keyAddrs], ",") {
		if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil && usableAddr(a) {
			room.Addrs = append(room.Addrs, a)
		}
	}
	return room, true
}

// usableAddr reports whether a room may be joined at a: any IPv4 address,
// and IPv6 unicast ones on a LAN (global, ULA, link-local), without a
// zone: a zone names an interface of the room's machine, meaningless on
// the member's, which uses the interface the answer came in on.
func usableAddr(a netip.Addr) bool {
	if a.Is4() {
		return true
	}
	return a.Is6() && !a.Is4In6() && a.Zone() == "" && (a.IsGlobalUnicast() || a.IsLinkLocalUnicast())
}

// unescapeDNS undoes the presentation-format escapes that miekg/dns puts in
// names and TXT strings: "\DDD" for a byte by its decimal value and "\X"
// for a character X that means something in that format.
func unescapeDNS(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			if n, _ := strconv.Atoi(s[i+1 : i+4]); n <= 255 {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// maxSlug bounds the readable part of an instance name; DNS allows 63
// bytes in a label, and the id follows.
const maxSlug = 40

// instanceName is the room's mDNS instance name: an ASCII slug of its name
// and the start of its id, e.g. "lab-3-3f9a2c". Plain ASCII because mdns
// v1.0.7 neither escapes instance names nor matches them case-insensitively,
// and a dot would make the room invisible to avahi; the id tells apart two
// rooms with one name. The display name travels in the TXT record.
func instanceName(name, id string) string {
	short := id
	if len(short) > 6 {
		short = short[:6]
	}
	return slug(name) + "-" + short
}

// slug reduces name to lower-case ASCII letters, digits and single hyphens.
func slug(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(name) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		default:
			hyphen = true
		}
		if b.Len() >= maxSlug {
			break
		}
	}
	if b.Len() == 0 {
		return "room"
	}
	return strings.TrimRight(b.String(), "-")
}

// sortRooms orders rooms for a person to pick from: by name, then host,
// then id, so that the list reads the same every time.
func sortRooms(rooms []Room) {
	slices.SortFunc(rooms, func(a, b Room) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		if c := strings.Compare(a.Host, b.Host); c != 0 {
			return c
		}
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return strings.Compare(a.Fingerprint, b.Fingerprint) // a clone of an id
	})
}
