package irc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
	"github.com/ergochat/irc-go/ircmsg"
)

// generalTextLine is the line sendText writes through ircmsg for the same
// message, its tags in name order; "" for one it drops.
func generalTextLine(tags map[string]string, source, verb, target, text string) string {
	m := ircmsg.MakeMessage(tags, source, verb, target, text)
	m.ForceTrailing()
	b, err := m.LineBytesStrict(false, maxLineBody)
	if err != nil && !errors.Is(err, ircmsg.ErrorBodyTooLong) {
		return ""
	}
	return sortedTags(string(b))
}

// checkTextLine has appendTextLine write a line, and, when it does,
// compares it with the general path's.
func checkTextLine(t *testing.T, tags map[string]string, source, verb, target, text string) bool {
	t.Helper()
	prefix := "already in the buffer\r\n"
	b, ok := appendTextLine([]byte(prefix), tags, source, verb, target, text)
	got, found := strings.CutPrefix(string(b), prefix)
	if !found {
		t.Fatalf("appendTextLine changed what was in the buffer: %q", b)
	}
	if !ok {
		if got != "" {
			t.Fatalf("appendTextLine declined but appended %q", got)
		}
		return false
	}
	if want := generalTextLine(tags, source, verb, target, text); got != want {
		t.Fatalf("appendTextLine(%q, %q, %q, %q, %q):\n%q\nircmsg writes\n%q", tags, source, verb, target, text, got, want)
	}
	return true
}

// TestTextLineAsIRCMsg: the fast path writes the lines of a delivery
// byte for byte as ircmsg does (their tags in one of the orders ircmsg
// may write them), and leaves to ircmsg every line it would write
// otherwise (escape, cut or refuse).
func TestTextLineAsIRCMsg(t *testing.T) {
	time := "2026-01-02T15:04:05.000Z"
	cases := []struct {
		tags                       map[string]string
		source, verb, target, text string
		fast                       bool
	}{
		{nil, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "hello", true},
		{map[string]string{}, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "hello", true},
		{map[string]string{"time": time}, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "hello there", true},
		{map[string]string{"time": time, "msgid": "42", "account": "3f9a1cB2", "batch": "backlog1"}, "ann!~ann@3f9a1cB2.key", "PRIVMSG", "#the-den", "all the tags", true},
		{map[string]string{"msgid": ""}, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "an empty value", true},
		{nil, servicePrefix, "NOTICE", "cy", "a notice", true},
		{nil, "", "PRIVMSG", "cy", "no source", true},
		{nil, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "", true},
		{nil, "ann!~ann@chatroom", "PRIVMSG", "#the-den", ":a colon first", true},
		{nil, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "\x01ACTION waves\x01", true},
		{nil, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "ünïcödé ✓", true},
		{nil, "ann!~ann@chatroom", "PRIVMSG", "#the-den", strings.Repeat("x", 510-len(":ann!~ann@chatroom PRIVMSG #the-den :")), true},
		// What ircmsg writes otherwise, or refuses, is its own to write.
		{nil, "ann!~ann@chatroom", "PRIVMSG", "#the-den", strings.Repeat("x", 511-len(":ann!~ann@chatroom PRIVMSG #the-den :")), false},
		{map[string]string{"account": "a;b c"}, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "escaped", false},
		{map[string]string{"account": "back\\slash"}, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "escaped", false},
		{map[string]string{"time": "\xff"}, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "not UTF-8", false},
		{map[string]string{"+draft/reply": "1"}, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "a client tag", false},
		{map[string]string{"label": "1"}, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "another tag", false},
		{map[string]string{"account": strings.Repeat("a", 4100)}, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "tags too long", false},
		{nil, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "a\rb", false},
		{nil, "ann!~ann@chatroom", "PRIVMSG", "#the-den", "a\x00b", false},
		{nil, "ann\n!~ann@chatroom", "PRIVMSG", "#the-den", "line break in the source", false},
		{nil, "ann!~ann@chatroom", "PRIVMSG", "#the den", "space in the target", false},
		{nil, "ann!~ann@chatroom", "PRIVMSG", ":target", "colon target", false},
		{nil, "ann!~ann@chatroom", "PRIVMSG", "", "no target", false},
		{nil, "ann!~ann@chatroom", "", "#the-den", "no verb", false},
	}
	for _, tc := range cases {
		if fast := checkTextLine(t, tc.tags, tc.source, tc.verb, tc.target, tc.text); fast != tc.fast {
			t.Errorf("appendTextLine(%q, %q): fast %v, want %v", tc.tags, tc.text, fast, tc.fast)
		}
	}
}

// FuzzTextLine: whatever the message, the fast path writes what ircmsg
// writes, or leaves it to ircmsg.
func FuzzTextLine(f *testing.F) {
	f.Add(byte(0x0f), "2026-01-02T15:04:05.000Z", "42", "3f9a1cB2", "backlog1", "ann!~ann@chatroom", "PRIVMSG", "#the-den", "hello")
	f.Add(byte(0x01), "a;b", "", "", "", "", "NOTICE", "cy", "\x01ACTION x\x01")
	f.Add(byte(0x02), "", "\xff", "", "", "s", "PRIVMSG", ":x", strings.Repeat("é", 300))
	f.Fuzz(func(t *testing.T, which byte, timeTag, msgid, account, batch, source, verb, target, text string) {
		var tags map[string]string
		for i, tag := range []struct{ name, value string }{{"time", timeTag}, {"msgid", msgid}, {"account", account}, {"batch", batch}, {"label", msgid}} {
			if which&(1<<i) != 0 {
				if tags == nil {
					tags = map[string]string{}
				}
				tags[tag.name] = tag.value
			}
		}
		checkTextLine(t, tags, source, verb, target, text)
	})
}

// TestSplitSendTakesTheFastPath: a session's ordinary message goes through
// the fast path, and writes the same lines as the general one.
func TestSplitSendTakesTheFastPath(t *testing.T) {
	c := newTestConn(t)
	c.caps = map[string]bool{capServerTime: true, capMessageTags: true, capAccountTag: true}
	f := sayFrame(11, "ann", "hello, with\na second line").f
	allocs := testing.AllocsPerRun(100, func() {
		c.out.Reset()
		c.render(f)
	})
	got := eachSortedTags(c.out.String())
	t.Logf("%v allocations", allocs)
	want := generalTextLine(map[string]string{"time": f.Time.UTC().Format("2006-01-02T15:04:05.000Z"), "msgid": "11", "account": "3f9a1cB2"}, "ann!~ann@3f9a1cB2.key", "PRIVMSG", "#the-den", "hello, with") +
		generalTextLine(map[string]string{"time": f.Time.UTC().Format("2006-01-02T15:04:05.000Z"), "msgid": "11", "account": "3f9a1cB2"}, "ann!~ann@3f9a1cB2.key", "PRIVMSG", "#the-den", "a second line")
	if got != want {
		t.Fatalf("rendered\n%q\nwant\n%q", got, want)
	}
	// ircmsg's path costs a dozen allocations a line (its map, its
	// buffer, the line); the fast one none of its own.
	if allocs > 8 {
		t.Fatalf("%v allocations to render a message of two lines", allocs)
	}
}

// FuzzServerTime: the time tag's own formatter writes what time.Format
// writes, for any time.
func FuzzServerTime(f *testing.F) {
	f.Add(int64(1767366245), int64(123456789))
	f.Add(int64(-62135596800), int64(0))         // year 1
	f.Add(int64(253402300799), int64(999999999)) // the last second of 9999
	f.Add(int64(253402300800), int64(0))         // year 10000
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		tm := time.Unix(sec, nsec).In(time.FixedZone("somewhere", 5*3600+1800))
		want := tm.UTC().Format(serverTimeLayout)
		if got := string(appendServerTime([]byte("x"), tm)); got != "x"+want {
			t.Fatalf("appendServerTime(%v) = %q, want %q", tm, got, want)
		}
	})
}

// FuzzIRCText: the quick look that lets plain text through unchanged
// lets through only what the rune-by-rune mapping leaves as it is.
func FuzzIRCText(f *testing.F) {
	for _, s := range []string{"hello", "two\nlines", "tab\there", "del\x7f", "nul\x00", "cr\r", "bad \xff utf-8", "ünï ✓", "\u0085 C1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		slow := strings.Map(func(r rune) rune {
			switch {
			case r == '\n':
				return r
			case r < 0x20 || r == 0x7f:
				return '\uFFFD'
			}
			return r
		}, strings.ToValidUTF8(s, "\uFFFD"))
		if got := ircText(s); got != slow {
			t.Fatalf("ircText(%q) = %q, want %q", s, got, slow)
		}
		if plainText(s) && slow != s {
			t.Fatalf("plainText(%q), but the mapping makes it %q", s, slow)
		}
	})
}

// TestPrefixMemoFollowsTheMember: the memo of prefixes never gives a
// member's old prefix once its nick, name or key changed (a NICK, a
// resume with a key), nor one member's prefix for another.
func TestPrefixMemoFollowsTheMember(t *testing.T) {
	c := newTestConn(t)
	ann := c.roster.byName["ann"]
	bob := c.roster.byName["bob.x"]
	if c.prefixOf(ann) != ann.prefix() || c.prefixOf(bob) != bob.prefix() || c.prefixOf(ann) == c.prefixOf(bob) {
		t.Fatalf("prefixes %q and %q", c.prefixOf(ann), c.prefixOf(bob))
	}
	old := c.prefixOf(ann)
	c.roster.rename("ann", "anna", "")
	if got := c.prefixOf(ann); got != ann.prefix() || got == old {
		t.Fatalf("after a rename: %q, want %q", got, ann.prefix())
	}
	bob.key = "77aa11Cc"
	if got := c.prefixOf(bob); got != "bob_x!~bob_x@77aa11Cc.key" {
		t.Fatalf("after a new key: %q", got)
	}
	for i := range 3 * maxPrefixMemo {
		c.prefixOf(&member{name: "gone" + itoa(i), nick: "gone" + itoa(i)})
	}
	if len(c.prefixes) > maxPrefixMemo {
		t.Fatalf("the memo holds %d prefixes, beyond its bound %d", len(c.prefixes), maxPrefixMemo)
	}
}

// TestPresenceAccountTagIsEachMembers: in a presence, the lines of a
// member without a key carry no account tag, rather than the tag of the
// member with a key whose line came before (one identity taken for
// another's).
func TestPresenceAccountTagIsEachMembers(t *testing.T) {
	c := newTestConn(t)
	c.caps = map[string]bool{capAccountTag: true}
	c.render(wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindPresence,
		Left:   []wire.Departure{{Name: "ann", Code: wire.CodeLost}},
		Joined: []wire.Member{{Name: "dee", Role: wire.RoleMember}}})
	want := "@account=3f9a1cB2 :ann!~ann@3f9a1cB2.key QUIT :Connection lost\r\n" +
		":dee!~dee@chatroom JOIN #the-den\r\n"
	if got := c.out.String(); got != want {
		t.Fatalf("rendered\n%q\nwant\n%q", got, want)
	}
}
