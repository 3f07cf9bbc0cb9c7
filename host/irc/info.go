package irc

import (
	"strconv"
	"strings"

	"chatroom/host/wire"
)

// The local answers: what the session knows of the room from the
// welcome and the events since, asked in IRC's words (NAMES, WHO,
// WHOIS, ISON, USERHOST, TOPIC, MOTD).

func (c *conn) myPrefix() string {
	if m, ok := c.roster.byName[c.me]; ok {
		return m.prefix()
	}
	return c.nick + "!~" + safeUser(c.nick) + "@" + serverName
}

// names sends 353 lines, as many as the names need, then 366.
func (c *conn) names() {
	if c.phase == inRoom {
		// ":" server " 353 " nick " = " channel " :" names "\r\n"
		room := maxLineBody - (1 + len(serverName) + 5 + len(c.nick) + 3 + len(c.channel) + 2 + 2)
		var line strings.Builder
		for _, m := range c.roster.members() {
			word := m.channelPrefix() + m.nick
			if line.Len() > 0 && line.Len()+1+len(word) > room {
				c.numeric("353", "=", c.channel, line.String())
				line.Reset()
			}
			if line.Len() > 0 {
				line.WriteByte(' ')
			}
			line.WriteString(word)
		}
		if line.Len() > 0 {
			c.numeric("353", "=", c.channel, line.String())
		}
	}
	c.numeric("366", c.channelOr(), "End of /NAMES list")
}

func (c *conn) sendTopic() {
	if c.topic == "" {
		c.numeric("331", c.channel, "No topic is set")
		return
	}
	c.numeric("332", c.channel, oneLine(ircText(c.topic)))
	if c.topicBy != "" {
		c.numeric("333", c.channel, c.sender(c.topicBy).nick, strconv.FormatInt(c.topicTime.Unix(), 10))
	}
}

// who is WHO for the channel (or "*", or nothing) or one nick.
func (c *conn) who(mask string) {
	var list []*member
	switch {
	case mask == "" || mask == "*" || mask == "0" || c.isChannel(mask):
		list = c.roster.members()
	default:
		if m, ok := c.roster.byNickOf(mask); ok {
			list = []*member{m}
		}
	}
	for _, m := range list {
		flags := "H"
		if m.away {
			flags = "G"
		}
		c.numeric("352", c.channel, m.user(), m.host(), serverName, m.nick, flags+m.channelPrefix(), "0 "+m.name)
	}
	c.numeric("315", orText(mask, "*"), "End of /WHO list")
}

func (c *conn) whois(p []string) {
	if len(p) == 0 {
		c.numeric("431", "No nickname given")
		return
	}
	nicks := strings.Split(p[len(p)-1], ",")
	for _, nick := range nicks[:min(len(nicks), maxTargets)] {
		if foldNick(nick) == foldNick(serviceNick) {
			c.numeric("311", serviceNick, "room", serverName, "*", "the room itself: /msg *room help")
			c.numeric("318", serviceNick, "End of /WHOIS list")
			continue
		}
		m, ok := c.roster.byNickOf(nick)
		if !ok {
			c.numeric("401", nick, "No such nick/channel")
			c.numeric("318", nick, "End of /WHOIS list")
			continue
		}
		c.numeric("311", m.nick, m.user(), m.host(), "*", m.name)
		c.numeric("319", m.nick, m.channelPrefix()+c.channel)
		c.numeric("312", m.nick, serverName, "the room's IRC gateway")
		switch m.role {
		case wire.RoleOwner:
			c.numeric("320", m.nick, "is the room's host")
		case wire.RoleAdmin:
			c.numeric("320", m.nick, "is an admin of the room")
		}
		if m.away {
			c.numeric("301", m.nick, orText(m.awayText, "away"))
		}
		if m.key != "" {
			c.numeric("330", m.nick, safeUser(m.key), "has the identity key")
		}
		c.numeric("318", m.nick, "End of /WHOIS list")
	}
}

func (c *conn) ison(p []string) {
	var here []string
	var nicks []string
	for _, w := range p {
		nicks = append(nicks, strings.Fields(w)...)
	}
	for _, n := range nicks[:min(len(nicks), 32)] {
		if m, ok := c.roster.byNickOf(n); ok {
			here = append(here, m.nick)
		}
	}
	c.numeric("303", strings.Join(here, " "))
}

func (c *conn) userhost(p []string) {
	var replies []string
	for _, n := range p[:min(len(p), maxTargets)] {
		m, ok := c.roster.byNickOf(n)
		if !ok {
			continue
		}
		op, away := "", "+"
		if m.channelPrefix() != "" {
			op = "*"
		}
		if m.away {
			away = "-"
		}
		replies = append(replies, m.nick+op+"="+away+m.user()+"@"+m.host())
	}
	c.numeric("302", strings.Join(replies, " "))
}

// motd tells the client, in a few lines, what it needs to know of the
// room that IRC does not say itself.
func (c *conn) motd() {
	c.numeric("375", "- "+serverName+" Message of the day -")
	for _, line := range []string{
		"This is the room " + oneLine(c.roomName) + ", which is the channel " + c.channel + ".",
		"Room commands: /msg " + serviceNick + " help (or /quote HELP).",
		"MODE +b bans, +o makes an admin, +q mutes (quiet); PART leaves the room, JOIN comes back.",
	} {
		c.numeric("372", "- "+line)
	}
	c.numeric("376", "End of /MOTD command")
}
