package room

import (
	"errors"
	"testing"

	"chatroom/host/wire"
)

const (
	eveKey = "SHA256:evekey0123456789"
	joKey  = "SHA256:jokey00123456789"
)

// An op made with /op is remembered by key: the member is an admin again
// when it comes back, under any name, and the room that loads the saved
// list (a restart) knows it too. /deop forgets it, also for an op who is
// not here, named by key tag.
func TestOpRememberedByKey(t *testing.T) {
	var saved [][]Op
	saveOps := func(ops []Op) error { saved = append(saved, ops); return nil }
	tr := startRoom(t, Config{Store: testStore{ops: saveOps}})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	eve := tr.joinReq(JoinRequest{Name: "eve", Identity: eveKey})
	ana.frames()

	ana.say("/op eve")
	ana.expect(roleEvent(eve.welcome.Seq+1, "eve", wire.RoleAdmin, "ana"))
	eve.frames()
	if len(saved) != 1 || len(saved[0]) != 1 || saved[0][0].Identity != eveKey || saved[0][0].Name != "eve" || saved[0][0].By != "ana" {
		t.Fatalf("ops saved after /op eve: %+v", saved)
	}

	eve.say("/quit")
	ana.frames()
	evelyn := tr.joinReq(JoinRequest{Name: "evelyn", Identity: eveKey})
	if evelyn.welcome.You.Role != wire.RoleAdmin {
		t.Fatalf("eve came back as evelyn with role %q, want admin", evelyn.welcome.You.Role)
	}
	ana.frames()
	ana.say("/ops")
	ana.expect(notice("1 admins by key:\neve key " + wire.KeyTag(eveKey) + ", by ana on 2025-03-14 15:09"))

	// A restarted room is given the saved list.
	tr2 := startRoom(t, Config{Ops: saved[len(saved)-1]})
	if again := tr2.joinReq(JoinRequest{Name: "eve", Identity: eveKey}); again.welcome.You.Role != wire.RoleAdmin {
		t.Fatalf("after a restart eve joined with role %q, want admin", again.welcome.You.Role)
	}
	if other := tr2.joinReq(JoinRequest{Name: "jo", Identity: joKey}); other.welcome.You.Role != wire.RoleMember {
		t.Fatalf("jo joined with role %q, want member", other.welcome.You.Role)
	}

	// /deop of one who is here forgets the key.
	ana.say("/deop evelyn")
	ana.frames()
	if last := saved[len(saved)-1]; len(last) != 0 {
		t.Fatalf("ops saved after /deop: %+v", last)
	}
	evelyn.say("/quit")
	ana.frames()
	if back := tr.joinReq(JoinRequest{Name: "eve", Identity: eveKey}); back.welcome.You.Role != wire.RoleMember {
		t.Fatalf("after /deop eve came back with role %q, want member", back.welcome.You.Role)
	}

	// /deop of an op who is not here, by key tag.
	jo := tr.joinReq(JoinRequest{Name: "jo", Identity: joKey})
	ana.frames()
	ana.say("/op jo")
	jo.say("/quit")
	ana.frames()
	ana.say("/deop " + wire.KeyTag(joKey))
	ana.expect(notice("jo (key " + wire.KeyTag(joKey) + ") is no longer an admin"))
	if last := saved[len(saved)-1]; len(last) != 0 {
		t.Fatalf("ops saved after /deop KEYTAG: %+v", last)
	}
	ana.say("/ops")
	ana.expect(notice("no one is an admin by key (/op makes one)"))
}

// An op that cannot be saved is not made: the admin is told, and the
// member stays a member.
func TestOpNotSavedNotMade(t *testing.T) {
	tr := startRoom(t, Config{Store: testStore{ops: func([]Op) error { return errors.New("disk full") }}})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	eve := tr.joinReq(JoinRequest{Name: "eve", Identity: eveKey})
	ana.frames()
	ana.say("/op eve")
	ana.expect(errorNotice("op not saved: disk full"))
	eve.expectNothing()
	eve.say("/kick ana")
	eve.expect(errorNotice("not allowed: /kick is for admins"))
}

// Mutes are saved as they change and hold in a room that loads them: a
// restart does not lift them. /unmute works on one who is not here.
func TestMutesSaved(t *testing.T) {
	var saved [][]Mute
	tr := startRoom(t, Config{Store: testStore{mutes: func(m []Mute) error { saved = append(saved, m); return nil }}})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	eve := tr.joinReq(JoinRequest{Name: "eve", Identity: eveKey})
	ana.frames()
	ana.say("/mute eve 2h shouting")
	ana.frames()
	eve.frames()
	if len(saved) != 1 || len(saved[0]) != 1 || saved[0][0].Identity != eveKey || saved[0][0].Reason != "shouting" || saved[0][0].Until.IsZero() {
		t.Fatalf("mutes saved after /mute: %+v", saved)
	}
	ana.say("/mutes")
	ana.expect(notice("1 muted:\neve key " + wire.KeyTag(eveKey) + ", by ana on 2025-03-14 15:09, until 2025-03-14 17:09: shouting"))

	tr2 := startRoom(t, Config{Mutes: saved[0]})
	evelyn := tr2.joinReq(JoinRequest{Name: "evelyn", Identity: eveKey})
	evelyn.say("hello again")
	evelyn.expect(errorNotice("not sent: you are muted until 17:09"))

	eve.say("/quit")
	ana.frames()
	ana.say("/unmute eve")
	ana.expect(notice("unmuted eve"))
	if last := saved[len(saved)-1]; len(last) != 0 {
		t.Fatalf("mutes saved after /unmute: %+v", last)
	}
	ana.say("/unmute eve")
	ana.expect(errorNotice("eve is not muted"))
}

// A mute that cannot be saved is not made.
func TestMuteNotSavedNotMade(t *testing.T) {
	tr := startRoom(t, Config{Store: testStore{mutes: func([]Mute) error { return errors.New("disk full") }}})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	eve := tr.joinReq(JoinRequest{Name: "eve", Identity: eveKey})
	ana.frames()
	ana.say("/mute eve")
	ana.expect(errorNotice("mute not saved: disk full"))
	eve.expectNothing()
	eve.say("still here")
	if got := eve.frames(); len(got) != 1 || got[0].Kind != wire.KindSay {
		t.Fatalf("eve's line after a failed mute: %+v", got)
	}
}

// A member that reconnects under its name with its key before the room
// noticed its old connection die takes the old one's place: the old one is
// closed with "replaced" and the others see it lose its connection and join
// again. Another key is refused the name, and so is a member without a key.
func TestSameKeyTakesOverName(t *testing.T) {
	tr := startRoom(t, Config{})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	eve := tr.joinReq(JoinRequest{Name: "eve", Identity: eveKey})
	ana.frames()

	if r := tr.refused(JoinRequest{Name: "Eve", Identity: joKey}); r.Code != wire.CodeNameTaken {
		t.Fatalf("another key took eve's name: %+v", r)
	}
	if r := tr.refused(JoinRequest{Name: "eve"}); r.Code != wire.CodeNameTaken {
		t.Fatalf("no key took eve's name: %+v", r)
	}
	eve2 := tr.joinReq(JoinRequest{Name: "eve", Identity: eveKey})
	eve.expectFinal(&wire.Frame{Type: wire.TypeClosed, Code: wire.CodeReplaced, Text: replaced.text})
	rejoined := joinEvent(eve.welcome.Seq+2, "eve", wire.RoleMember)
	rejoined.Key = wire.KeyTag(eveKey)
	ana.expect(
		leaveEvent(eve.welcome.Seq+1, "eve", wire.CodeLost, "", ""),
		rejoined)
	if eve2.welcome.Seq != eve.welcome.Seq+2 || len(eve2.welcome.Members) != 2 {
		t.Fatalf("eve's new welcome: %+v", eve2.welcome)
	}
}
