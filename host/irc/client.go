package irc

import (
	"strings"

	"github.com/ergochat/irc-go/ircmsg"
	"github.com/ergochat/irc-go/ircutils"
)

// command handles one message from the client.
func (c *conn) command(msg ircmsg.Message) {
	name := strings.ToUpper(msg.Command)
	p := msg.Params
	arg := func(i int) string {
		if i < len(p) {
			return p[i]
		}
		return ""
	}
	switch name {
	case "CAP":
		c.capCommand(p)
		return
	case "NICK":
		c.nickCommand(arg(0))
		return
	case "USER":
		if c.registered {
			c.numeric("462", "You may not reregister")
		} else if len(p) < 4 {
			c.numeric("461", "USER", "Not enough parameters")
		} else {
			c.userSeen = true
			c.maybeRegister()
		}
		return
	case "PASS":
		if c.registered || c.phase != registering {
			c.numeric("462", "You may not reregister")
		} else if len(p) < 1 {
			c.numeric("461", "PASS", "Not enough parameters")
		} else {
			c.password, c.bySASL = p[0], false
		}
		return
	case "AUTHENTICATE":
		c.authenticate(arg(0))
		return
	case "PING":
		c.send(ircmsg.MakeMessage(nil, serverName, "PONG", serverName, arg(0)))
		return
	case "PONG":
		return
	case "QUIT":
		reason := "Quit"
		if len(p) > 0 && p[0] != "" {
			reason = "Quit: " + p[0]
		}
		c.quit(reason)
		return
	}
	if !c.registered {
		c.numeric("451", "You have not registered")
		return
	}
	switch name {
	case "PRIVMSG", "NOTICE":
		c.privmsg(name, p)
	case "TAGMSG":
		// Typing notifications and reactions are not the room's; they go
		// nowhere.
	case "JOIN":
		c.joinCommand(arg(0))
	case "PART":
		c.partCommand(arg(0))
	case "AWAY":
		if text := strings.TrimSpace(arg(0)); text != "" {
			c.roomSay("/away " + cleanIRCText(text))
		} else {
			c.roomSay("/away")
		}
	case "TOPIC":
		c.topicCommand(p)
	case "KICK":
		c.kickCommand(p)
	case "MODE":
		c.modeCommand(p)
	case "NAMES":
		if ch := arg(0); ch != "" && !c.isChannel(ch) {
			c.numeric("366", ch, "End of /NAMES list")
			return
		}
		c.names()
	case "WHO":
		c.who(arg(0))
	case "WHOIS":
		c.whois(p)
	case "ISON":
		c.ison(p)
	case "USERHOST":
		c.userhost(p)
	case "LIST":
		c.numeric("321", "Channel", "Users  Name")
		if c.phase == inRoom {
			c.numeric("322", c.channel, itoa(len(c.roster.order)), c.topic)
		}
		c.numeric("323", "End of /LIST")
	case "MOTD":
		c.motd()
	case "LUSERS":
		c.numeric("251", "There are "+itoa(len(c.roster.order))+" users and 0 invisible on 1 server")
	case "VERSION":
		c.numeric("351", "chatroom", serverName, "the chatroom's IRC gateway")
	case "TIME":
		c.numeric("391", serverName, c.now.UTC().Format("Mon Jan 2 2006 15:04:05 UTC"))
	default:
		// A room command the IRC client has no word of its own for:
		// "/quote MODLOG 20" is "/modlog 20".
		lower := strings.ToLower(name)
		if c.roomCmds[lower] {
			c.roomSay(strings.TrimSpace("/" + lower + " " + strings.Join(p, " ")))
			return
		}
		c.numeric("421", msg.Command, "Unknown command")
	}
}

// capCommand is IRCv3 capability negotiation (CAP LS, LIST, REQ, END).
func (c *conn) capCommand(p []string) {
	if len(p) == 0 {
		c.numeric("461", "CAP", "Not enough parameters")
		return
	}
	target := c.nick
	if target == "" {
		target = "*"
	}
	switch strings.ToUpper(p[0]) {
	case "LS":
		if !c.registered {
			c.negotiating = true
		}
		if len(p) > 1 && p[1] >= "302" {
			c.cap302 = true
		}
		list := make([]string, 0, len(offeredCaps))
		for _, cp := range offeredCaps {
			if cp == capSASL && c.cap302 {
				cp += "=PLAIN"
			}
			list = append(list, cp)
		}
		c.send(ircmsg.MakeMessage(nil, serverName, "CAP", target, "LS", strings.Join(list, " ")))
	case "LIST":
		var list []string
		for _, cp := range offeredCaps {
			if c.caps[cp] {
				list = append(list, cp)
			}
		}
		c.send(ircmsg.MakeMessage(nil, serverName, "CAP", target, "LIST", strings.Join(list, " ")))
	case "REQ":
		if !c.registered {
			c.negotiating = true
		}
		req := ""
		if len(p) > 1 {
			req = p[1]
		}
		wanted := strings.Fields(req)
		for _, w := range wanted {
			if !offered(strings.TrimPrefix(w, "-")) {
				c.send(ircmsg.MakeMessage(nil, serverName, "CAP", target, "NAK", req))
				return
			}
		}
		for _, w := range wanted {
			if off, ok := strings.CutPrefix(w, "-"); ok {
				delete(c.caps, off)
			} else {
				c.caps[w] = true
			}
		}
		c.send(ircmsg.MakeMessage(nil, serverName, "CAP", target, "ACK", req))
	case "END":
		c.negotiating = false
		c.maybeRegister()
	default:
		c.numeric("410", p[0], "Invalid CAP command")
	}
}

func offered(cp string) bool {
	for _, o := range offeredCaps {
		if o == cp {
			return true
		}
	}
	return false
}

// authenticate is SASL PLAIN (IRCv3 sasl-3.1). The password is the
// room's admin password, which the room checks when the hello goes out;
// the names are not used.
func (c *conn) authenticate(param string) {
	switch {
	case c.registered || c.phase != registering:
		c.numeric("907", "You have already authenticated using SASL")
		return
	case !c.caps[capSASL]:
		c.numeric("904", "SASL authentication failed")
		return
	case param == "*":
		c.sasl = nil
		c.numeric("906", "SASL authentication aborted")
		return
	case c.sasl == nil:
		if strings.ToUpper(param) != "PLAIN" {
			c.numeric("908", "PLAIN", "are available SASL mechanisms")
			c.numeric("904", "SASL authentication failed")
			return
		}
		c.sasl = ircutils.NewSASLBuffer(saslMax)
		c.send(ircmsg.MakeMessage(nil, "", "AUTHENTICATE", "+"))
		return
	}
	done, data, err := c.sasl.Add(param)
	if !done && err == nil {
		return
	}
	c.sasl = nil
	parts := strings.Split(string(data), "\x00")
	if err != nil || len(parts) != 3 {
		c.numeric("904", "SASL authentication failed")
		return
	}
	c.password, c.bySASL = parts[2], true
	c.numeric("903", "SASL authentication successful: the room checks the password as you join")
}

// maybeRegister sends the hello once registration is over: NICK and USER
// in, and capability negotiation, if begun, ended.
func (c *conn) maybeRegister() {
	if c.phase == registering && c.nick != "" && c.userSeen && !c.negotiating && c.sasl == nil {
		c.dialRoom()
	}
}

func (c *conn) nickCommand(nick string) {
	switch {
	case nick == "":
		c.numeric("431", "No nickname given")
		return
	case !validNick(nick):
		c.numeric("432", nick, "Erroneous nickname: nicks may not hold spaces, commas, '*', '?', '!', '@' or '.', nor begin with ':', '#', '&', '$', '~', '+', '%' or '-'")
		return
	}
	switch c.phase {
	case registering:
		c.nick = nick
		c.maybeRegister()
	case nickRefused:
		c.nick = nick
		c.dialRoom()
	case parted:
		// Out of the room, the nick is the client's own until it joins
		// again under it.
		old := c.nick
		c.nick = nick
		c.send(ircmsg.MakeMessage(nil, old+"!~"+safeUser(old)+"@"+serverName, "NICK", nick))
	case inRoom:
		if nick != c.nick {
			c.roomSay("/nick " + nick)
		}
	}
}

// roomSay queues text for the room, where the room's pace lets it go.
func (c *conn) roomSay(text string) {
	if c.phase != inRoom {
		c.numeric("442", c.channelOr(), "You're not on that channel")
		return
	}
	c.says = append(c.says, text)
	c.queued++
	c.pumpSays()
}

func (c *conn) channelOr() string {
	if c.channel == "" {
		return "#"
	}
	return c.channel
}

func (c *conn) isChannel(name string) bool {
	return c.channel != "" && foldNick(name) == foldNick(c.channel)
}

// privmsg is PRIVMSG and NOTICE: to the channel a message, to a nick a
// private one, to *room a room command.
func (c *conn) privmsg(verb string, p []string) {
	if len(p) < 1 || p[0] == "" {
		c.numeric("411", "No recipient given ("+verb+")")
		return
	}
	if len(p) < 2 || p[1] == "" {
		c.numeric("412", "No text to send")
		return
	}
	targets := strings.Split(p[0], ",")
	if len(targets) > maxTargets {
		c.numeric("407", p[0], "Too many targets")
		return
	}
	for _, t := range targets {
		c.privmsgTo(verb, t, p[1])
	}
}

func (c *conn) privmsgTo(verb, target, text string) {
	action, isCTCP := "", false
	if strings.HasPrefix(text, "\x01") {
		isCTCP = true
		body := strings.TrimSuffix(text[1:], "\x01")
		word, rest, _ := strings.Cut(body, " ")
		if strings.ToUpper(word) == "ACTION" {
			action = cleanIRCText(rest)
		} else {
			// CTCP VERSION, PING, TIME..., and the replies to them: never
			// passed on, since the members of the room are not IRC
			// clients to answer them (and an IRC member's client is
			// never asked, so never answers into the room).
			return
		}
	}
	switch {
	case c.isChannel(target):
		if isCTCP {
			if strings.TrimSpace(action) == "" {
				return
			}
			c.roomSay("/me " + action)
			return
		}
		c.roomSay(asMessage(cleanIRCText(text)))
	case foldNick(target) == foldNick(serviceNick):
		if verb == "NOTICE" || isCTCP {
			return // a notice is never answered, a command least of all
		}
		cmd := strings.TrimSpace(cleanIRCText(text))
		if cmd == "" {
			return
		}
		c.roomSay("/" + strings.TrimPrefix(cmd, "/"))
	case strings.HasPrefix(target, "#") || strings.HasPrefix(target, "&"):
		c.numeric("403", target, "No such channel")
	default:
		m, ok := c.roster.byNickOf(target)
		if !ok {
			c.numeric("401", target, "No such nick/channel")
			return
		}
		if isCTCP {
			if strings.TrimSpace(action) == "" {
				return
			}
			c.roomSay("/msg " + m.name + " " + privateAction(c.me, action))
			return
		}
		c.roomSay("/msg " + m.name + " " + cleanIRCText(text))
	}
}

// privateAction is a private message saying that name did text. The room
// has no private actions: a chatroom member sees the text, which reads as
// an action as the room shows one in the channel ("* cy waves"), and an
// IRC member's gateway makes it a CTCP ACTION again (asPrivateAction).
func privateAction(name, text string) string {
	return "* " + name + " " + text
}

// asPrivateAction says whether a private message from the member called
// from is an action, and what it did: "* NAME text", as privateAction
// writes one, or "/me text", as a chatroom member types one ("/msg cy /me
// waves").
func asPrivateAction(from, text string) (string, bool) {
	if rest, ok := strings.CutPrefix(text, "/me "); ok {
		return rest, true
	}
	if rest, ok := strings.CutPrefix(text, privateAction(from, "")); ok && from != "" {
		return rest, true
	}
	return text, false
}

// asMessage is text as a line the room takes as a message: a line that
// begins with "/" is doubled, as the room reads "//" as a message.
func asMessage(text string) string {
	if strings.HasPrefix(text, "/") {
		return "/" + text
	}
	return text
}

// cleanIRCText takes IRC's formatting codes out of text (bold, colours,
// italics...), which the room would refuse as control characters, and
// turns any other control character into a space, for the room to read
// as it would any other.
func cleanIRCText(text string) string {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		ch := text[i]
		switch ch {
		case 0x02, 0x0f, 0x11, 0x16, 0x1d, 0x1e, 0x1f:
			continue
		case 0x03:
			// ^C[fg[,bg]]: one or two digits, then maybe a comma and one
			// or two more.
			i = skipDigits(text, i+1, 2)
			if i+1 < len(text) && text[i+1] == ',' && i+2 < len(text) && isDigit(text[i+2]) {
				i = skipDigits(text, i+2, 2)
			}
			continue
		case 0x04:
			// ^D[RRGGBB[,RRGGBB]]
			i = skipHex(text, i+1)
			if i+1 < len(text) && text[i+1] == ',' && i+7 < len(text)+1 && isHex6(text, i+2) {
				i = skipHex(text, i+2)
			}
			continue
		}
		if ch < 0x20 || ch == 0x7f {
			b.WriteByte(' ')
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// skipDigits returns the index of the last of up to n digits from i on,
// or i-1 for none.
func skipDigits(s string, i, n int) int {
	j := i
	for j < len(s) && j < i+n && isDigit(s[j]) {
		j++
	}
	return j - 1
}

func isHex6(s string, i int) bool {
	if i+6 > len(s) {
		return false
	}
	for _, b := range []byte(s[i : i+6]) {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(b)) {
			return false
		}
	}
	return true
}

func skipHex(s string, i int) int {
	if isHex6(s, i) {
		return i + 5
	}
	return i - 1
}

func (c *conn) joinCommand(channels string) {
	if channels == "" {
		c.numeric("461", "JOIN", "Not enough parameters")
		return
	}
	for _, ch := range strings.Split(channels, ",") {
		switch {
		case !c.isChannel(ch):
			c.numeric("403", ch, "No such channel: this room is "+c.channel)
		case c.phase == parted:
			c.dialRoom()
		}
	}
}

func (c *conn) partCommand(channels string) {
	for _, ch := range strings.Split(channels, ",") {
		if !c.isChannel(ch) {
			c.numeric("403", ch, "No such channel")
			continue
		}
		if c.phase != inRoom {
			c.numeric("442", ch, "You're not on that channel")
			continue
		}
		c.leaveRoom()
	}
}

func (c *conn) topicCommand(p []string) {
	if len(p) < 1 || !c.isChannel(p[0]) {
		c.numeric("403", firstOr(p, "*"), "No such channel")
		return
	}
	if len(p) < 2 {
		c.sendTopic()
		return
	}
	if text := strings.TrimSpace(cleanIRCText(p[1])); text != "" {
		c.roomSay("/topic " + text)
	} else {
		c.roomSay("/topic -delete")
	}
}

func firstOr(p []string, or string) string {
	if len(p) > 0 {
		return p[0]
	}
	return or
}

func (c *conn) kickCommand(p []string) {
	if len(p) < 2 {
		c.numeric("461", "KICK", "Not enough parameters")
		return
	}
	if !c.isChannel(p[0]) {
		c.numeric("403", p[0], "No such channel")
		return
	}
	for _, nick := range strings.Split(p[1], ",")[:min(maxTargets, len(strings.Split(p[1], ",")))] {
		m, ok := c.roster.byNickOf(nick)
		if !ok {
			c.numeric("401", nick, "No such nick/channel")
			continue
		}
		reason := ""
		if len(p) > 2 {
			reason = strings.TrimSpace(cleanIRCText(p[2]))
		}
		c.roomSay(strings.TrimSpace("/kick " + m.name + " " + reason))
	}
}

// modeCommand maps channel modes to the room's moderation: +b/-b bans,
// +o/-o admins, +q/-q mutes ("quiet", as solanum and InspIRCd have it).
// A ban or mute takes a mask, as IRC clients send them (masks.go).
func (c *conn) modeCommand(p []string) {
	if len(p) < 1 {
		c.numeric("461", "MODE", "Not enough parameters")
		return
	}
	target := p[0]
	if !c.isChannel(target) {
		switch {
		case foldNick(target) == foldNick(c.nick):
			c.numeric("221", "+")
		case strings.HasPrefix(target, "#"):
			c.numeric("403", target, "No such channel")
		default:
			c.numeric("502", "Can't change mode for other users")
		}
		return
	}
	if len(p) < 2 {
		c.numeric("324", c.channel, "+nt")
		return
	}
	args := p[2:]
	sign := byte('+')
	changes := 0
	for i := 0; i < len(p[1]); i++ {
		letter := p[1][i]
		if letter == '+' || letter == '-' {
			sign = letter
			continue
		}
		if changes++; changes > maxModes {
			return
		}
		arg := ""
		takesArg := letter == 'b' || letter == 'o' || letter == 'q'
		if takesArg && len(args) > 0 {
			arg, args = args[0], args[1:]
		}
		switch {
		case letter == 'b' && arg == "":
			for _, name := range c.bans {
				c.numeric("367", c.channel, banListMask(name))
			}
			c.numeric("368", c.channel, "End of channel ban list")
		case letter == 'q' && arg == "":
			c.roomSay("/mutes")
		case letter == 'b' && sign == '+':
			c.banByMask(arg)
		case letter == 'b':
			c.unbanByMask(arg)
		case letter == 'q' && sign == '+':
			c.muteByMask(arg)
		case letter == 'q':
			c.unmuteByMask(arg)
		case letter == 'o':
			if arg == "" {
				c.numeric("461", "MODE", "Not enough parameters")
				continue
			}
			m, ok := c.roster.byNickOf(arg)
			if !ok {
				c.numeric("401", arg, "No such nick/channel")
				continue
			}
			if sign == '+' {
				c.roomSay("/op " + m.name)
			} else {
				c.roomSay("/deop " + m.name)
			}
		default:
			c.numeric("472", string(letter), "is unknown mode char to me")
		}
	}
}
