package irc

import (
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// relayMsg plays the room's /msg for a say from one of the sessions: it
// sends the private frame to the sender and to the recipient, as the room
// does, and returns the text the recipient is sent.
func relayMsg(t *testing.T, from string, say wire.Frame, ends map[string]*roomEnd) string {
	t.Helper()
	rest, ok := strings.CutPrefix(say.Text, "/msg ")
	if !ok {
		t.Fatalf("%s's say %q is no /msg", from, say.Text)
	}
	to, text, _ := strings.Cut(rest, " ")
	f := wire.Frame{Type: wire.TypePrivate, From: from, To: to, Text: text, Time: time.Now(), Ref: say.Ref}
	for _, name := range []string{from, to} {
		if end, ok := ends[name]; ok {
			end.write(f)
		}
	}
	return text
}

// A private action, each way between an IRC member and a chatroom member,
// and between two IRC members through the room: a chatroom member reads
// it as the room shows an action ("* cy waves"), an IRC member's client
// gets a CTCP ACTION, and the sender's own, with echo-message, is a CTCP
// ACTION too.
func TestPrivateActionEachWay(t *testing.T) {
	tg := startGateway(t, Config{})
	welcome := func(name string) wire.Frame {
		w := testWelcome(name)
		w.Members = []wire.Member{{Name: "ann", Role: wire.RoleOwner}, {Name: "bob.x", Role: wire.RoleMember}, {Name: "cy", Role: wire.RoleMember}, {Name: "dee", Role: wire.RoleMember}}
		return w
	}
	cy := tg.join("cy", []string{capEcho}, welcome("cy"))
	dee := tg.join("dee", nil, welcome("dee"))
	ends := map[string]*roomEnd{"cy": cy.room, "dee": dee.room}

	// cy (IRC) to bob.x (chatroom).
	cy.c.send("PRIVMSG bob_x :\x01ACTION waves\x01")
	if got := relayMsg(t, "cy", cy.room.readSay(), ends); got != "* cy waves" {
		t.Fatalf("the chatroom member is sent %q, want \"* cy waves\"", got)
	}
	cy.c.expect(":cy!~cy@chatroom PRIVMSG bob_x :\x01ACTION waves\x01")

	// bob.x (chatroom, typing "/msg cy /me nods") to cy (IRC).
	cy.room.write(wire.Frame{Type: wire.TypePrivate, From: "bob.x", To: "cy", Text: "/me nods"})
	cy.c.expect(":bob_x!~bob_x@chatroom PRIVMSG cy :\x01ACTION nods\x01")

	// cy (IRC) to dee (IRC), through the room.
	cy.c.send("PRIVMSG dee :\x01ACTION hops\x01")
	relayMsg(t, "cy", cy.room.readSay(), ends)
	cy.c.expect(":cy!~cy@chatroom PRIVMSG dee :\x01ACTION hops\x01")
	dee.c.expect(":cy!~cy@chatroom PRIVMSG dee :\x01ACTION hops\x01")

	// And back, dee having no echo-message: only cy sees it.
	dee.c.send("PRIVMSG cy :\x01ACTION bows\x01")
	relayMsg(t, "dee", dee.room.readSay(), ends)
	cy.c.expect(":dee!~dee@chatroom PRIVMSG cy :\x01ACTION bows\x01")
	dee.room.write(wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindSay, From: "ann", Text: "next"})
	dee.c.expect(":ann!~ann@chatroom PRIVMSG #the-den :next")
}
