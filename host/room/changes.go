package room

import (
	"fmt"
	"math"

	"chatroom/host/wire"
)

// The commands by which a member changes what the others see of it or of
// the room: its name (/nick), whether it is away (/away), the topic
// (/topic). Each is an event every member gets, so that their rosters
// follow.

// changeLimits is how often a member may make such a change: five at
// once, then one every twenty seconds. Each is an event for every member,
// on every screen, so a member renaming itself in a loop would flood the
// room without saying a word; lines are limited apart (Config.Limits).
var changeLimits = wire.Limits{Burst: 5, PerSecond: 1.0 / 20}

// takeChange takes a token for one change from m's budget, or returns why
// not in words.
func (s *state) takeChange(m *Member) error {
	m.changes.refill(s.now(), changeLimits)
	if m.changes.tokens < 1 {
		wait := int(math.Ceil(m.changes.wait(changeLimits).Seconds()))
		return refusef("not done: you changed your name, away message or the topic too often; wait %d seconds", max(wait, 1))
	}
	m.changes.tokens--
	return nil
}

// mayChange returns why m, muted, may not change what others see:
// a muted member may put no words on their screens, a name or an away
// text no more than a line. A hidden member whose mute has ended is shown
// first, as maySpeak does.
func (s *state) mayChange(m *Member, what string) error {
	if u, muted := s.muteFor(m); muted {
		return userError(fmt.Sprintf("not allowed: you are muted%s, and cannot %s", untilText(s.now(), u.Until), what))
	}
	s.reveal(m)
	return nil
}

// nick renames the member who typed it. The new name follows the rules of
// joining (ValidateName, and no name that looks like someone's here or
// like a banned one: NameKey), and some more, since a member here is
// trusted by the others for what it said under its old name: no name that
// looks like the owner's, like a remembered admin's (/op) or like that of a
// member who may be coming back (a lost connection), unless it is the
// member's own by its key.
func (s *state) nick(c call) error {
	m := c.from
	if err := s.mayChange(m, "change your name"); err != nil {
		return err
	}
	name, rest := cutWord(c.args)
	if rest != "" {
		return refusef("not renamed: %v", nameError("the name contains a space"))
	}
	if err := ValidateName(name); err != nil {
		return refusef("not renamed: %v", err)
	}
	if name == m.name {
		return refusef("you are already called %s", m.name)
	}
	key := NameKey(name)
	if key != m.key {
		if err := s.nameFree(m, name, key); err != nil {
			return err
		}
	}
	if err := s.takeChange(m); err != nil {
		return err
	}
	old := m.name
	s.rename(m, name, key)
	s.broadcast(&wire.Frame{Kind: wire.KindNick, Name: old, NewName: name, Key: m.keyTag(), Ref: c.ref})
	return nil
}

// nameFree returns why m may not take name (with NameKey key), or nil.
func (s *state) nameFree(m *Member, name, key string) error {
	if other, taken := s.byKey[key]; taken && other != m {
		if other.hidden && !isAdminRole(m.role) {
			// As in /who: a muted member the others do not see is not
			// named, but its name is still its own.
			return refusef("not renamed: the name %q is taken", name)
		}
		return userError("not renamed: " + nameTakenText(name, other.name))
	}
	if key == s.ownerKey && m.role != wire.RoleOwner {
		return refusef("not renamed: the name %q looks like the host's", name)
	}
	if _, how := s.banAtJoin(name, key, "", ""); how == banLookAlike {
		// As at joining: which banned name it looks like is the admins'
		// knowledge (see nameTakenText).
		return userError("not renamed: " + lookAlikeOfBannedText(name))
	} else if how == banTheirs {
		return refusef("not renamed: the name %q may not be used here", name)
	}
	for _, o := range s.ops {
		if o.Identity != m.identity && NameKey(o.Name) == key {
			return refusef("not renamed: the name %q looks like an admin's of this room", name)
		}
	}
	for _, r := range s.departed {
		if r.NameKey == key && r.Identity != m.identity {
			return refusef("not renamed: the name %q belongs to someone whose connection broke, who may be back in a moment", name)
		}
	}
	return nil
}

// rename gives m its new name in the room's index of names. What the room
// keeps by name follows: a member who resumes after it comes back by the
// new name (its Resumable is made from m's key when it leaves).
func (s *state) rename(m *Member, name, key string) {
	s.journalNick(m, key)
	delete(s.byKey, m.key)
	m.setName(name, key)
	s.byKey[key] = m
	if m.role == wire.RoleOwner {
		s.ownerKey = key
	}
}

// maxAway bounds an away text, in bytes: it is shown in /whois and to
// everyone who writes to the member, and kept by every client's roster.
const maxAway = 200

// away marks the member who typed it as away, with a reason, or, with no
// text, as back.
func (s *state) away(c call) error {
	m := c.from
	text, problem := cleanText(c.args)
	switch {
	case problem != "":
		return userError("not marked away: " + problem)
	case len(text) > maxAway:
		return refusef("not marked away: the text is longer than %d bytes", maxAway)
	case text == "" && m.away == "":
		return userError("you are not marked away (/away TEXT marks you)")
	case text == m.away:
		return refusef("you are already away: %s", m.away)
	}
	if err := s.mayChange(m, "change your away message"); err != nil {
		return err
	}
	if err := s.takeChange(m); err != nil {
		return err
	}
	m.away = text
	s.broadcast(&wire.Frame{Kind: wire.KindAway, From: m.name, Text: text, Ref: c.ref})
	return nil
}

// topicClear, as /topic's text, clears the topic, as irssi's and
// weechat's /topic -delete do.
const topicClear = "-delete"

// setTopic shows the topic, or sets it: admins may, and everyone who may
// speak when the host allows it (Config.TopicByAnyone). It is set only
// once it is saved, as a ban is.
func (s *state) setTopic(c call) error {
	m := c.from
	if c.args == "" {
		if s.topic.Text == "" {
			s.reply(c, "no topic is set")
			return nil
		}
		text := "the topic is: " + s.topic.Text
		if s.topic.By != "" {
			text += fmt.Sprintf(" (set by %s on %s)", shortText(s.topic.By, maxNameShown), s.stamp(s.topic.Time))
		}
		s.reply(c, text)
		return nil
	}
	if !isAdminRole(m.role) && !s.topicByAnyone {
		return userError("not allowed: only admins set the topic here")
	}
	text := c.args
	if text == topicClear {
		if s.topic.Text == "" {
			return userError("no topic is set")
		}
		text = ""
	}
	text, problem := cleanText(text)
	switch {
	case problem != "":
		return userError("topic not set: " + problem)
	case len(text) > MaxTopic:
		return refusef("topic not set: longer than %d bytes", MaxTopic)
	}
	if text == s.topic.Text {
		return userError("the topic is that already")
	}
	if err := s.mayChange(m, "set the topic"); err != nil {
		return err
	}
	if err := s.takeChange(m); err != nil {
		return err
	}
	topic := Topic{Text: text, By: m.name, Time: s.now()}
	if text == "" {
		topic = Topic{}
	}
	if err := s.store.SaveTopic(topic); err != nil {
		return notSaved("topic", err)
	}
	s.topic = topic
	shown := topic.Text
	s.shownTopic.Store(&shown)
	s.broadcast(&wire.Frame{Kind: wire.KindTopic, From: m.name, Text: text, Ref: c.ref})
	return nil
}
