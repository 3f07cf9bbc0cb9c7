//go:build linux || darwin || freebsd || openbsd || netbsd

package main

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"chatroom/host/irc"
	"chatroom/host/wire"
	"chatroom/join"
)

// These tests let real IRC clients into a room through "chatroom host
// --irc", each pinned to what the host printed for it, next to chatroom
// members run by the test: both sides see each other's messages, private
// messages and actions; an admin on either side kicks and bans a member
// of the other; and a banned key, a chatroom member's or an IRC client's
// certificate, is refused when it comes back under another name.

// TestIRCClientIrssi runs irssi against the room.
func TestIRCClientIrssi(t *testing.T) {
	requireCommand(t, "tmux", "the IRC clients run in a real terminal")
	requireCommand(t, "irssi", "the IRC gateway's end-to-end tests run a real IRC client")
	bin := buildChatroom(t)
	r := startIRCRoom(t, bin, "Lab 17")

	aliceKey := identityIn(t, t.TempDir())
	alice := joinRoom(t, r, wire.Frame{Name: "alice", Password: ircAdminPassword}, &aliceKey)
	bobKey := identityIn(t, t.TempDir())
	bob := joinRoom(t, r, wire.Frame{Name: "bob"}, &bobKey)

	// ana comes by IRC with a client certificate, as an admin by the
	// server password; the room knows her by the certificate's key.
	// Pinned to another key, irssi does not go on: the pin is checked.
	ir := startIrssi(t, "ana")
	anaCert, anaKey := ircClientCert(t, t.TempDir(), "ana")
	ir.connectPinned(r, "-tls_pinned_pubkey", wrongPin(r.pinnedPubkey), anaCert, ircAdminPassword, "ana")
	ir.all.wait(`Pinned public key mismatch`)
	ir.all.wait(`Connection lost to `)
	ir.connect(r, anaCert, ircAdminPassword, "ana")
	line := ir.all.wait(`-!- ana \[~ana@\S+\] has joined #`)
	m := regexp.MustCompile(`@(\S+)\.key\] has joined (#\S+)$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("irssi shows ana's join as %q: want her key's tag as her host", line)
	}
	if want := keyTagAsHost(wire.KeyTag(anaKey)); m[1] != want {
		t.Errorf("ana's host is %s.key, want her certificate's key tag %s, as %s.key", m[1], wire.KeyTag(anaKey), want)
	}
	if m[2] != r.channel {
		t.Errorf("irssi was put in %s; the host printed channel %s", m[2], r.channel)
	}
	channel := r.channel
	anaJoin := alice.waitFrame("ana's join", joined("ana"))
	if anaJoin.Key != wire.KeyTag(anaKey) || anaJoin.Role != wire.RoleAdmin {
		t.Errorf("alice saw ana join with key %q and role %q, want %q and %q", anaJoin.Key, anaJoin.Role, wire.KeyTag(anaKey), wire.RoleAdmin)
	}
	chat := ir.window(channel)
	chat.wait(`-!- ana \[.*\] has joined ` + regexp.QuoteMeta(channel))
	ir.send("/window goto " + channel)

	// Messages and actions, both ways.
	alice.say("hello from chatroom")
	chat.wait(`<.alice> hello from chatroom$`)
	ir.send("hello from irc")
	alice.waitFrame("ana's message", saidBy(wire.KindSay, "ana", "hello from irc"))
	bob.waitFrame("ana's message", saidBy(wire.KindSay, "ana", "hello from irc"))
	alice.say("/me waves")
	chat.wait(` \* alice waves$`)
	ir.send("/me waves back")
	alice.waitFrame("ana's action", saidBy(wire.KindMe, "ana", "waves back"))

	// Private messages, both ways: in irssi a window of their own.
	alice.say("/msg ana psst")
	ir.window("alice").wait(`<alice> psst$`)
	ir.send("/msg alice psst back")
	alice.waitFrame("ana's private message", func(f wire.Frame) bool {
		return f.Type == wire.TypePrivate && f.From == "ana" && f.To == "alice" && f.Text == "psst back"
	})

	// The IRC admin kicks a chatroom member, who may come back... (The
	// channel is named: irssi may have made the private window the
	// active one.)
	ir.send("/kick " + channel + " bob too loud")
	kick := alice.waitFrame("bob's kick", leftAs("bob", wire.CodeKicked))
	if kick.By != "ana" || kick.Text != "too loud" {
		t.Errorf("alice saw bob kicked by %q for %q, want by ana for %q", kick.By, kick.Text, "too loud")
	}
	bob.waitEnded()
	// All bob was sent came before his kick, the private messages'
	// time among it.
	if bob.sawSince(0, func(f wire.Frame) bool { return f.Type == wire.TypePrivate }) {
		t.Errorf("bob was sent a private message between alice and ana")
	}
	chat.wait(`-!- bob was kicked from ` + regexp.QuoteMeta(channel) + ` by ana \[.*too loud\]$`)
	bob = joinRoom(t, r, wire.Frame{Name: "bob"}, &bobKey)
	alice.waitFrame("bob's return", joined("bob"))
	chat.wait(`-!- bob \[.*\] has joined `)

	// ...then bans him, and his key is refused under another name.
	ir.send("/mode " + channel + " +b bob")
	alice.waitFrame("bob's ban", leftAs("bob", wire.CodeBanned))
	bob.waitEnded()
	chat.wait(`-!- bob was kicked from ` + regexp.QuoteMeta(channel) + ` by ana`)
	_, err := dialRoom(t, r, wire.Frame{Name: "robert"}, &bobKey)
	var refused *join.RefusedError
	if !errors.As(err, &refused) || refused.Code != wire.CodeBanned {
		t.Fatalf("bob's key came back as robert: %v, want refused as banned", err)
	}

	// The chatroom admin kicks the IRC member, who may come back...
	alice.say("/kick ana go away")
	alice.waitFrame("ana's kick", leftAs("ana", wire.CodeKicked))
	ir.all.wait(`-!- ana was kicked from ` + regexp.QuoteMeta(channel) + ` by alice \[.*go away\]$`)
	ir.all.wait(`Connection lost to `)
	// Back, pinned this time to the certificate, irssi's other figure.
	ir.connectPinned(r, "-tls_pinned_cert", r.pinnedCert, anaCert, "", "ana")
	ir.all.wait(`-!- ana \[.*\] has joined ` + regexp.QuoteMeta(channel))
	alice.waitFrame("ana's return", joined("ana"))
	anaJoinedAgain := alice.mark()

	// ...then bans her, and her certificate is refused under another
	// nick.
	alice.say("/ban ana")
	alice.waitFrame("ana's ban", leftAs("ana", wire.CodeBanned))
	ir.all.wait(`-!- ana was kicked from ` + regexp.QuoteMeta(channel) + ` by alice \[banned`)
	ir.all.wait(`Connection lost to `)
	ir.connect(r, anaCert, "", "anna")
	ir.all.wait(`You are banned from this room`)
	ir.all.wait(`Connection lost to `)
	if ir.all.has(`-!- anna \[.*\] has joined `) {
		t.Errorf("irssi, banned, joined as anna:\n%s", strings.Join(ir.all.lines(), "\n"))
	}
	// The refusal came before the room let her in: alice, who sees every
	// join, sees the next message and no anna before it.
	alice.say("after the ban")
	alice.waitFrame("her own message", saidBy(wire.KindSay, "alice", "after the ban"))
	if alice.sawSince(anaJoinedAgain, joined("anna")) {
		t.Errorf("the banned certificate joined as anna")
	}
}

// TestIRCClientWeechat runs weechat against the room, for the basic
// exchange: an admin by SASL, messages, actions and private messages both
// ways.
func TestIRCClientWeechat(t *testing.T) {
	requireCommand(t, "tmux", "the IRC clients run in a real terminal")
	requireCommand(t, "weechat", "the IRC gateway's end-to-end tests run a real IRC client")
	bin := buildChatroom(t)
	r := startIRCRoom(t, bin, "Lab 17")

	aliceKey := identityIn(t, t.TempDir())
	alice := joinRoom(t, r, wire.Frame{Name: "alice"}, &aliceKey)

	wesCert, wesKey := ircClientCert(t, t.TempDir(), "wes")
	// wes is an admin by SASL PLAIN, as irssi's ana is by the server
	// password. Pinned to another certificate, weechat does not go on:
	// the pin is checked (a weechat that took the options by other
	// names would connect without TLS).
	wc := startWeechat(t, r, wrongPin(r.weechatPin), wesCert, "wes", ircAdminPassword)
	server := wc.buffer("server.lab")
	server.wait(`certificate fingerprint does NOT match`)
	server.wait(`TLS handshake failed`)
	wc.pin(r.weechatPin)
	wc.send("/connect lab")
	server.wait(`certificate fingerprint matches`)
	server.wait(`SASL authentication successful`)
	wesJoin := alice.waitFrame("wes's join", joined("wes"))
	if wesJoin.Key != wire.KeyTag(wesKey) || wesJoin.Role != wire.RoleAdmin {
		t.Errorf("alice saw wes join with key %q and role %q, want his certificate's key tag %q and %q", wesJoin.Key, wesJoin.Role, wire.KeyTag(wesKey), wire.RoleAdmin)
	}
	channel := irc.ChannelName("Lab 17")
	chat := wc.buffer("lab." + channel)
	chat.wait(`wes .*has joined ` + regexp.QuoteMeta(channel))
	// weechat shows the channel's buffer once it has joined it: what is
	// typed now goes there.

	alice.say("hello from chatroom")
	chat.wait(`\talice\thello from chatroom$`)
	wc.send("hello from weechat")
	alice.waitFrame("wes's message", saidBy(wire.KindSay, "wes", "hello from weechat"))
	alice.say("/me waves")
	chat.wait(`\t \*\talice waves$`)
	wc.send("/me waves back")
	alice.waitFrame("wes's action", saidBy(wire.KindMe, "wes", "waves back"))

	alice.say("/msg wes psst")
	wc.buffer("lab.alice").wait(`\talice\tpsst$`)
	wc.send("/msg alice psst back")
	alice.waitFrame("wes's private message", func(f wire.Frame) bool {
		return f.Type == wire.TypePrivate && f.From == "wes" && f.To == "alice" && f.Text == "psst back"
	})
}
