package irc

import (
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
	"github.com/ergochat/irc-go/ircmsg"
)

// conformanceWelcome is the room of the mapping tables: the owner ann
// (with a key), bob.x (whose nick is bob_x), a real bob_x (bob_x_2, as
// the nick bob_x is taken first), #hash (_#hash), and the client, cy, an
// admin who is told the ban list.
func conformanceWelcome() wire.Frame {
	w := testWelcome("cy")
	w.You.Role = wire.RoleAdmin
	w.Members = []wire.Member{
		{Name: "ann", Role: wire.RoleOwner, Key: "3f9a1cB2"},
		{Name: "bob.x", Role: wire.RoleMember},
		{Name: "bob_x", Role: wire.RoleMember, Away: true},
		{Name: "#hash", Role: wire.RoleMember},
		{Name: "cy", Role: wire.RoleAdmin},
	}
	w.Bans = []string{"eve.z"}
	return w
}

// marker is a line whose say ends what a case sent: what the room read
// before it is what the case made.
const marker = "PRIVMSG #the-den :marker"

// TestClientToRoom is the table of what each IRC command the client
// sends becomes: the say the room reads (says), or the gateway's own
// answer (replies), or nothing at all.
func TestClientToRoom(t *testing.T) {
	tg := startGateway(t, Config{})
	cases := []struct {
		in      string
		says    []string // what the room reads, in order
		replies []string // what the client is answered, tags left out
	}{
		{in: "PRIVMSG #the-den :hello", says: []string{"hello"}},
		{in: "PRIVMSG #THE-DEN :hello", says: []string{"hello"}},
		{in: "PRIVMSG #the-den :/etc is a place", says: []string{"//etc is a place"}},
		{in: "PRIVMSG #the-den :\x01ACTION waves\x01", says: []string{"/me waves"}},
		{in: "PRIVMSG #the-den :\x01VERSION\x01"},
		{in: "PRIVMSG #the-den :\x01ACTION\x01"},
		{in: "NOTICE #the-den :hi", says: []string{"hi"}},
		{in: "PRIVMSG #the-den :\x02bold\x02 \x0304,12red\x03 \x1ditalic\x0f", says: []string{"bold red italic"}},
		{in: "PRIVMSG #the-den :a\x07b", says: []string{"a b"}},
		{in: "PRIVMSG #the-den,bob_x :both", says: []string{"both", "/msg bob.x both"}},
		{in: "PRIVMSG bob_x :psst", says: []string{"/msg bob.x psst"}},
		{in: "PRIVMSG BOB_X :psst", says: []string{"/msg bob.x psst"}},
		// The room has no private actions: a chatroom member reads one as
		// the room shows an action ("* cy nods").
		{in: "PRIVMSG bob_x :\x01ACTION nods\x01", says: []string{"/msg bob.x * cy nods"}},
		{in: "PRIVMSG bob_x :\x01action nods", says: []string{"/msg bob.x * cy nods"}},
		{in: "PRIVMSG bob_x :\x01ACTION\x01"},
		{in: "PRIVMSG #the-den,bob_x :\x01ACTION waves\x01", says: []string{"/me waves", "/msg bob.x * cy waves"}},
		// CTCP requests go to a person, who is no IRC client to answer
		// them; and an IRC member's client, never asked, has no reply to
		// send, which goes nowhere either.
		{in: "PRIVMSG bob_x :\x01VERSION\x01"},
		{in: "PRIVMSG bob_x :\x01PING 1733080000\x01"},
		{in: "PRIVMSG bob_x :\x01TIME\x01"},
		{in: "NOTICE bob_x :\x01VERSION irssi\x01"},
		{in: "NOTICE bob_x :\x01PING 1733080000\x01"},
		{in: "PRIVMSG bob_x_2 :hey", says: []string{"/msg bob_x hey"}},
		{in: "PRIVMSG _#hash :x", says: []string{"/msg #hash x"}},
		{in: "PRIVMSG nobody :x", replies: []string{":chatroom 401 cy nobody :No such nick/channel"}},
		{in: "PRIVMSG #other :x", replies: []string{":chatroom 403 cy #other :No such channel"}},
		{in: "PRIVMSG", replies: []string{":chatroom 411 cy :No recipient given (PRIVMSG)"}},
		{in: "PRIVMSG #the-den", replies: []string{":chatroom 412 cy :No text to send"}},
		{in: "PRIVMSG a,b,c,d,e,f :x", replies: []string{":chatroom 407 cy a,b,c,d,e,f :Too many targets"}},
		{in: "PRIVMSG *room :modlog 20", says: []string{"/modlog 20"}},
		{in: "PRIVMSG *ROOM :/bans", says: []string{"/bans"}},
		{in: "NOTICE *room :modlog"},
		{in: "TAGMSG #the-den"},
		{in: "NICK dee", says: []string{"/nick dee"}},
		{in: "NICK cy"},
		{in: "NICK bad!nick", replies: []string{":chatroom 432 cy bad!nick :Erroneous nickname: nicks may not hold spaces, commas, '*', '?', '!', '@' or '.', nor begin with ':', '#', '&', '$', '~', '+', '%' or '-'"}},
		{in: "AWAY :at lunch", says: []string{"/away at lunch"}},
		{in: "AWAY", says: []string{"/away"}},
		{in: "TOPIC #the-den :new topic", says: []string{"/topic new topic"}},
		{in: "TOPIC #the-den :", says: []string{"/topic -delete"}},
		{in: "TOPIC #the-den", replies: []string{":chatroom 332 cy #the-den snacks"}},
		{in: "KICK #the-den bob_x :spam and more", says: []string{"/kick bob.x spam and more"}},
		{in: "KICK #the-den bob_x", says: []string{"/kick bob.x"}},
		{in: "KICK #the-den nobody", replies: []string{":chatroom 401 cy nobody :No such nick/channel"}},
		{in: "KICK #other bob_x", replies: []string{":chatroom 403 cy #other :No such channel"}},
		{in: "MODE #the-den +b bob_x", says: []string{"/ban bob.x"}},
		{in: "MODE #the-den +b bob_x!*@*", says: []string{"/ban bob.x"}},
		{in: "MODE #the-den +b gone", says: []string{"/ban gone"}},
		{in: "MODE #the-den +b BOB_X!*@*", says: []string{"/ban bob.x"}},
		// Masks as IRC clients make them from a member's prefix: irssi's
		// "*!*user@*.domain" (the user's "~" dropped), weechat's
		// "*!user@host", HexChat's "*!*@host". The one member present a
		// mask matches is banned; the room decides whether cy may.
		{in: "MODE #the-den +b *!*ann@*.key", says: []string{"/ban ann"}},
		{in: "MODE #the-den +b *!~ann@3f9a1cB2.key", says: []string{"/ban ann"}},
		{in: "MODE #the-den +b *!*@*.KEY", says: []string{"/ban ann"}},
		{in: "MODE #the-den +b ~ann@*", says: []string{"/ban ann"}},
		{in: "MODE #the-den +b bob_x_?", says: []string{"/ban bob_x"}},
		{in: "MODE #the-den +b _#h*!*", says: []string{"/ban #hash"}},
		// A mask of several is never a ban of several: a "*!*@*" typo
		// must not empty the room.
		{in: "MODE #the-den +b *!*bob_x@chatroom", replies: []string{":*room!room@chatroom NOTICE cy :2 members match *!*bob_x@chatroom: name the one to ban (MODE +b NICK), as the room bans one member at a time"}},
		{in: "MODE #the-den +b *!*@chatroom", replies: []string{":*room!room@chatroom NOTICE cy :4 members match *!*@chatroom: name the one to ban (MODE +b NICK), as the room bans one member at a time"}},
		{in: "MODE #the-den +b *!*@*", replies: []string{":*room!room@chatroom NOTICE cy :5 members match *!*@*: name the one to ban (MODE +b NICK), as the room bans one member at a time"}},
		{in: "MODE #the-den +b *", replies: []string{":*room!room@chatroom NOTICE cy :5 members match *!*@*: name the one to ban (MODE +b NICK), as the room bans one member at a time"}},
		{in: "MODE #the-den +bb *!*@* bob_x", says: []string{"/ban bob.x"}, replies: []string{":*room!room@chatroom NOTICE cy :5 members match *!*@*: name the one to ban (MODE +b NICK), as the room bans one member at a time"}},
		{in: "MODE #the-den +b *!*@somewhere", replies: []string{":*room!room@chatroom NOTICE cy :no one here matches *!*@somewhere: MODE +b bans the one member a mask matches, or the member a nick names"}},
		{in: "MODE #the-den +b gone!*@*.key", replies: []string{":*room!room@chatroom NOTICE cy :no one here matches gone!*@*.key: MODE +b bans the one member a mask matches, or the member a nick names"}},
		{in: "MODE #the-den +b :gone --addr 1w", replies: []string{":*room!room@chatroom NOTICE cy :MODE +b: a mask holds no spaces; name the member (MODE +b NICK)"}},
		{in: "MODE #the-den -b :eve_z --all", replies: []string{":*room!room@chatroom NOTICE cy :MODE -b: a mask holds no spaces; name the member (MODE -b NICK)"}},
		{in: "MODE #the-den -q :bob_x x", replies: []string{":*room!room@chatroom NOTICE cy :MODE -q: a mask holds no spaces; name the member (MODE -q NICK)"}},
		{in: "MODE #the-den +b " + strings.Repeat("*a", 65), replies: []string{":*room!room@chatroom NOTICE cy :MODE +b: the mask is too long to be a member's; name the member (MODE +b NICK)"}},
		// The ban list holds names, shown as NICK!*@*: a mask with a nick
		// lifts the ban of the name it stands for, another mask the one
		// ban on the list it matches.
		{in: "MODE #the-den -b eve_z!*@*", says: []string{"/unban eve.z"}},
		{in: "MODE #the-den -b EVE.Z", says: []string{"/unban eve.z"}},
		{in: "MODE #the-den -b 3f9a1cB2", says: []string{"/unban 3f9a1cB2"}},
		{in: "MODE #the-den -b eve*", says: []string{"/unban eve.z"}},
		{in: "MODE #the-den -b *!*@*", says: []string{"/unban eve.z"}},
		{in: "MODE #the-den -b *!*eve@*.key", replies: []string{":*room!room@chatroom NOTICE cy :no banned member shows as *!*eve@*.key: name the banned member (MODE -b NICK, or /msg *room unban NAME)"}},
		{in: "MODE #the-den b", replies: []string{":chatroom 367 cy #the-den eve_z!*@*", ":chatroom 368 cy #the-den :End of channel ban list"}},
		{in: "MODE #the-den +b", replies: []string{":chatroom 367 cy #the-den eve_z!*@*", ":chatroom 368 cy #the-den :End of channel ban list"}},
		{in: "MODE #the-den +o bob_x", says: []string{"/op bob.x"}},
		{in: "MODE #the-den -o ann", says: []string{"/deop ann"}},
		{in: "MODE #the-den +q bob_x", says: []string{"/mute bob.x"}},
		{in: "MODE #the-den -q bob_x", says: []string{"/unmute bob.x"}},
		{in: "MODE #the-den +q *!*ann@*.key", says: []string{"/mute ann"}},
		{in: "MODE #the-den +q *!*@chatroom", replies: []string{":*room!room@chatroom NOTICE cy :4 members match *!*@chatroom: name the one to mute (MODE +q NICK), as the room mutes one member at a time"}},
		{in: "MODE #the-den +q *!*@somewhere", replies: []string{":*room!room@chatroom NOTICE cy :no one here matches *!*@somewhere: MODE +q mutes the one member a mask matches, or the member a nick names"}},
		{in: "MODE #the-den +q nobody", replies: []string{":chatroom 401 cy nobody :No such nick/channel"}},
		{in: "MODE #the-den -q *!~ann@*", says: []string{"/unmute ann"}},
		{in: "MODE #the-den -q gone!*@*", says: []string{"/unmute gone"}},
		{in: "MODE #the-den -q *!*@*", replies: []string{":*room!room@chatroom NOTICE cy :5 members match *!*@*: name the muted member (MODE -q NICK; /msg *room mutes lists them)"}},
		{in: "MODE #the-den +oq bob_x bob_x_2", says: []string{"/op bob.x", "/mute bob_x"}},
		{in: "MODE #the-den q", says: []string{"/mutes"}},
		{in: "MODE #the-den +o nobody", replies: []string{":chatroom 401 cy nobody :No such nick/channel"}},
		{in: "MODE #the-den +z", replies: []string{":chatroom 472 cy z :is unknown mode char to me"}},
		{in: "MODE #the-den", replies: []string{":chatroom 324 cy #the-den +nt"}},
		{in: "MODE cy", replies: []string{":chatroom 221 cy +"}},
		{in: "MODE ann +i", replies: []string{":chatroom 502 cy :Can't change mode for other users"}},
		{in: "JOIN #the-den"},
		{in: "JOIN #other", replies: []string{":chatroom 403 cy #other :No such channel: this room is #the-den"}},
		{in: "MODLOG 20", says: []string{"/modlog 20"}},
		{in: "BANS", says: []string{"/bans"}},
		{in: "mutes 2", says: []string{"/mutes 2"}},
		{in: "FROB x", replies: []string{":chatroom 421 cy FROB :Unknown command"}},
		{in: "USER a b c d", replies: []string{":chatroom 462 cy :You may not reregister"}},
		{in: "PASS secret", replies: []string{":chatroom 462 cy :You may not reregister"}},
		{in: "NAMES", replies: []string{":chatroom 353 cy = #the-den :@ann bob_x bob_x_2 _#hash @cy", ":chatroom 366 cy #the-den :End of /NAMES list"}},
		{in: "WHO #the-den", replies: []string{
			":chatroom 352 cy #the-den ~ann 3f9a1cB2.key chatroom ann H@ :0 ann",
			":chatroom 352 cy #the-den ~bob_x chatroom chatroom bob_x H :0 bob.x",
			":chatroom 352 cy #the-den ~bob_x chatroom chatroom bob_x_2 G :0 bob_x",
			":chatroom 352 cy #the-den ~_hash chatroom chatroom _#hash H :0 #hash",
			":chatroom 352 cy #the-den ~cy chatroom chatroom cy H@ :0 cy",
			":chatroom 315 cy #the-den :End of /WHO list",
		}},
		{in: "WHO bob_x", replies: []string{
			":chatroom 352 cy #the-den ~bob_x chatroom chatroom bob_x H :0 bob.x",
			":chatroom 315 cy bob_x :End of /WHO list",
		}},
		{in: "WHOIS ann", replies: []string{
			":chatroom 311 cy ann ~ann 3f9a1cB2.key * ann",
			":chatroom 319 cy ann @#the-den",
			":chatroom 312 cy ann chatroom :the room's IRC gateway",
			":chatroom 320 cy ann :is the room's host",
			":chatroom 330 cy ann 3f9a1cB2 :has the identity key",
			":chatroom 318 cy ann :End of /WHOIS list",
		}},
		{in: "WHOIS bob_x_2", replies: []string{
			":chatroom 311 cy bob_x_2 ~bob_x chatroom * bob_x",
			":chatroom 319 cy bob_x_2 #the-den",
			":chatroom 312 cy bob_x_2 chatroom :the room's IRC gateway",
			":chatroom 301 cy bob_x_2 away",
			":chatroom 318 cy bob_x_2 :End of /WHOIS list",
		}},
		{in: "WHOIS nobody", replies: []string{":chatroom 401 cy nobody :No such nick/channel", ":chatroom 318 cy nobody :End of /WHOIS list"}},
		{in: "ISON ann nobody bob_x", replies: []string{":chatroom 303 cy :ann bob_x"}},
		{in: "USERHOST ann bob_x_2", replies: []string{":chatroom 302 cy :ann*=+~ann@3f9a1cB2.key bob_x_2=-~bob_x@chatroom"}},
		{in: "LIST", replies: []string{":chatroom 321 cy Channel :Users  Name", ":chatroom 322 cy #the-den 5 snacks", ":chatroom 323 cy :End of /LIST"}},
		{in: "LUSERS", replies: []string{":chatroom 251 cy :There are 5 users and 0 invisible on 1 server"}},
		{in: "VERSION", replies: []string{":chatroom 351 cy chatroom chatroom :the chatroom's IRC gateway"}},
		{in: "CAP LIST", replies: []string{":chatroom CAP cy LIST :"}},
		{in: "AUTHENTICATE PLAIN", replies: []string{":chatroom 907 cy :You have already authenticated using SASL"}},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.in, "\x01", "^A"), func(t *testing.T) {
			s := tg.join("cy", nil, conformanceWelcome())
			s.c.send(tc.in, "PING :end-of-case", marker)
			for _, want := range tc.says {
				if got := s.room.readSay(); got.Text != want {
					t.Fatalf("the room read %q, want %q", got.Text, want)
				}
			}
			if got := s.room.readSay(); got.Text != "marker" {
				t.Fatalf("the room read %q after what was wanted", got.Text)
			}
			var replies []string
			for {
				line := withoutTags(s.c.readLine())
				if line == ":chatroom PONG chatroom end-of-case" {
					break
				}
				replies = append(replies, line)
			}
			if strings.Join(replies, "\n") != strings.Join(tc.replies, "\n") {
				t.Fatalf("the client was answered\n\t%s\nwant\n\t%s", strings.Join(replies, "\n\t"), strings.Join(tc.replies, "\n\t"))
			}
		})
	}
}

// TestRoomToClient is the table of what each frame the room sends
// becomes in IRC lines, with the caps the client asked for.
func TestRoomToClient(t *testing.T) {
	tg := startGateway(t, Config{})
	at := time.Date(2026, 12, 1, 19, 30, 5, 123e6, time.UTC)
	long := strings.Repeat("word ", 300) // 1500 bytes: three lines at least
	cases := []struct {
		name  string
		caps  []string
		frame wire.Frame
		want  []string          // lines, tags left out
		tags  map[string]string // tags every line must carry
		gone  bool              // the gateway ends the connection
	}{
		{name: "say", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Time: at, Kind: wire.KindSay, From: "bob.x", Text: "hi"},
			want: []string{":bob_x!~bob_x@chatroom PRIVMSG #the-den :hi"}},
		{name: "say with tags", caps: []string{capServerTime, capMessageTags, capAccountTag},
			frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Time: at, Kind: wire.KindSay, From: "ann", Text: "hi"},
			want:  []string{":ann!~ann@3f9a1cB2.key PRIVMSG #the-den :hi"},
			tags:  map[string]string{"time": "2026-12-01T19:30:05.123Z", "msgid": "11", "account": "3f9a1cB2"}},
		{name: "own say", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindSay, From: "cy", Text: "mine"}},
		{name: "own say echoed", caps: []string{capEcho}, frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindSay, From: "cy", Text: "mine"},
			want: []string{":cy!~cy@chatroom PRIVMSG #the-den :mine"}},
		{name: "me", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindMe, From: "ann", Text: "waves"},
			want: []string{":ann!~ann@3f9a1cB2.key PRIVMSG #the-den :\x01ACTION waves\x01"}},
		{name: "say of someone gone", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindSay, From: "zed@home", Text: "x"},
			want: []string{":zed_home!~zed_home@chatroom PRIVMSG #the-den :x"}},
		{name: "say of two lines", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindSay, From: "ann", Text: "one\ntwo\r\x00three"},
			want: []string{":ann!~ann@3f9a1cB2.key PRIVMSG #the-den :one", ":ann!~ann@3f9a1cB2.key PRIVMSG #the-den :two\uFFFD\uFFFDthree"}},
		{name: "join", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindJoin, Name: "dee", Role: wire.RoleMember},
			want: []string{":dee!~dee@chatroom JOIN #the-den"}},
		{name: "join of an admin", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindJoin, Name: "eve", Role: wire.RoleAdmin, Key: "aa11"},
			want: []string{":eve!~eve@aa11.key JOIN #the-den", ":chatroom MODE #the-den +o eve"}},
		{name: "join of a clashing name", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindJoin, Name: "bob!x", Role: wire.RoleMember},
			want: []string{":bob_x_3!~bob_x@chatroom JOIN #the-den"}},
		{name: "leave", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindLeave, Name: "bob.x", Code: wire.CodeLeft},
			want: []string{":bob_x!~bob_x@chatroom PART #the-den :left the room"}},
		{name: "lost", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindLeave, Name: "bob.x", Code: wire.CodeLost},
			want: []string{":bob_x!~bob_x@chatroom QUIT :Connection lost"}},
		{name: "kicked", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindLeave, Name: "bob.x", Code: wire.CodeKicked, By: "ann", Text: "spam"},
			want: []string{":ann!~ann@3f9a1cB2.key KICK #the-den bob_x :kicked: spam"}},
		{name: "banned", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindLeave, Name: "bob.x", Code: wire.CodeBanned, By: "ann"},
			want: []string{":ann!~ann@3f9a1cB2.key KICK #the-den bob_x :banned"}},
		{name: "too slow", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindLeave, Name: "bob.x", Code: wire.CodeTooSlow},
			want: []string{":bob_x!~bob_x@chatroom QUIT :too slow"}},
		{name: "opped", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindRole, Name: "bob.x", Role: wire.RoleAdmin, By: "ann"},
			want: []string{":ann!~ann@3f9a1cB2.key MODE #the-den +o bob_x"}},
		{name: "deopped", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindRole, Name: "cy", Role: wire.RoleMember, By: "ann"},
			want: []string{":ann!~ann@3f9a1cB2.key MODE #the-den -o cy"}},
		{name: "nick", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindNick, Name: "bob.x", NewName: "bobby"},
			want: []string{":bob_x!~bob_x@chatroom NICK bobby"}},
		{name: "own nick", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindNick, Name: "cy", NewName: "cyd"},
			want: []string{":cy!~cy@chatroom NICK cyd"}},
		{name: "away unnotified", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindAway, From: "bob.x", Text: "lunch"}},
		{name: "away", caps: []string{capAwayNotify}, frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindAway, From: "bob.x", Text: "lunch"},
			want: []string{":bob_x!~bob_x@chatroom AWAY :lunch"}},
		{name: "back", caps: []string{capAwayNotify}, frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindAway, From: "bob_x"},
			want: []string{":bob_x_2!~bob_x@chatroom AWAY"}},
		{name: "own away", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindAway, From: "cy", Text: "lunch"},
			want: []string{":chatroom 306 cy :You have been marked as being away"}},
		{name: "own back", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindAway, From: "cy"},
			want: []string{":chatroom 305 cy :You are no longer marked as being away"}},
		{name: "topic", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindTopic, From: "ann", Text: "new one"},
			want: []string{":ann!~ann@3f9a1cB2.key TOPIC #the-den :new one"}},
		{name: "presence", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindPresence,
			Left:   []wire.Departure{{Name: "bob.x", Code: wire.CodeLost}, {Name: "#hash", Code: wire.CodeLeft}},
			Joined: []wire.Member{{Name: "bob.x", Role: wire.RoleMember}, {Name: "cy", Role: wire.RoleAdmin}}},
			want: []string{":bob_x!~bob_x@chatroom QUIT :Connection lost", ":_#hash!~_hash@chatroom PART #the-den :left the room", ":bob_x!~bob_x@chatroom JOIN #the-den"}},
		{name: "private", frame: wire.Frame{Type: wire.TypePrivate, From: "bob.x", To: "cy", Text: "psst"},
			want: []string{":bob_x!~bob_x@chatroom PRIVMSG cy :psst"}},
		{name: "private action", frame: wire.Frame{Type: wire.TypePrivate, From: "bob.x", To: "cy", Text: "/me nods"},
			want: []string{":bob_x!~bob_x@chatroom PRIVMSG cy :\x01ACTION nods\x01"}},
		{name: "private action as the room shows it", frame: wire.Frame{Type: wire.TypePrivate, From: "bob.x", To: "cy", Text: "* bob.x nods"},
			want: []string{":bob_x!~bob_x@chatroom PRIVMSG cy :\x01ACTION nods\x01"}},
		{name: "private of someone else's action", frame: wire.Frame{Type: wire.TypePrivate, From: "bob.x", To: "cy", Text: "* ann nods"},
			want: []string{":bob_x!~bob_x@chatroom PRIVMSG cy :* ann nods"}},
		{name: "private CTCP request", frame: wire.Frame{Type: wire.TypePrivate, From: "bob.x", To: "cy", Text: "\x01VERSION\x01"},
			want: []string{":bob_x!~bob_x@chatroom PRIVMSG cy :\uFFFDVERSION\uFFFD"}},
		{name: "own private action echoed", caps: []string{capEcho}, frame: wire.Frame{Type: wire.TypePrivate, From: "cy", To: "bob.x", Text: "* cy waves"},
			want: []string{":cy!~cy@chatroom PRIVMSG bob_x :\x01ACTION waves\x01"}},
		{name: "own private", frame: wire.Frame{Type: wire.TypePrivate, From: "cy", To: "bob.x", Text: "psst"}},
		{name: "own private echoed", caps: []string{capEcho}, frame: wire.Frame{Type: wire.TypePrivate, From: "cy", To: "bob.x", Text: "psst"},
			want: []string{":cy!~cy@chatroom PRIVMSG bob_x :psst"}},
		{name: "private to self", frame: wire.Frame{Type: wire.TypePrivate, From: "cy", To: "cy", Text: "note"},
			want: []string{":cy!~cy@chatroom PRIVMSG cy :note"}},
		{name: "notice", frame: wire.Frame{Type: wire.TypeNotice, Text: "one\ntwo"},
			want: []string{":*room!room@chatroom NOTICE cy :one", ":*room!room@chatroom NOTICE cy :two"}},
		{name: "error notice", frame: wire.Frame{Type: wire.TypeNotice, Text: "not allowed: /kick is for admins", Error: true},
			want: []string{":*room!room@chatroom NOTICE cy :not allowed: /kick is for admins"}},
		{name: "offer", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindOffer, From: "bob.x", File: slidesFile()},
			want: []string{":bob_x!~bob_x@chatroom PRIVMSG #the-den :\x01ACTION " + slidesOffer + "\x01"}},
		{name: "own offer", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindOffer, From: "cy", File: slidesFile()},
			want: []string{":cy!~cy@chatroom PRIVMSG #the-den :\x01ACTION " + slidesOffer + "\x01"}},
		// Attack: a name the room would refuse, as a broken or hostile
		// host could send it, to end the line and start another, or a
		// CTCP.
		{name: "offer of a hostile name", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindOffer, From: "bob.x",
			File: &wire.File{Number: 7, Name: "a\r\nPRIVMSG #the-den :x\x01\x00", Size: 1, SHA256: "\n\r\x01"}},
			want: []string{":bob_x!~bob_x@chatroom PRIVMSG #the-den :\x01ACTION offers a\uFFFD PRIVMSG #the-den :x\uFFFD\uFFFD (1 byte, sha256  \uFFFD\uFFFD) — /get 7 (fetch with chatroom get)\x01"}},
		{name: "offer without a file", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindOffer, From: "bob.x"}},
		{name: "unsend", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindUnsend, By: "ann", File: &wire.File{Number: 7, Name: "slides.pdf"}},
			want: []string{":ann!~ann@3f9a1cB2.key NOTICE #the-den :file 7 (slides.pdf) was taken back by ann"}},
		{name: "expired", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindUnsend, Code: wire.CodeExpired, File: &wire.File{Number: 7, Name: "slides.pdf"}},
			want: []string{":chatroom NOTICE #the-den :file 7 (slides.pdf) is no longer on offer: its time ran out"}},
		{name: "damaged", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindUnsend, Code: wire.CodeDamaged, File: &wire.File{Number: 7, Name: "slides.pdf"}},
			want: []string{":chatroom NOTICE #the-den :file 7 (slides.pdf) is no longer on offer: damaged"}},
		{name: "private offer", frame: wire.Frame{Type: wire.TypePrivate, Kind: wire.KindOffer, From: "bob.x", To: "cy", File: slidesFile()},
			want: []string{":bob_x!~bob_x@chatroom PRIVMSG cy :\x01ACTION " + slidesOffer + "\x01"}},
		{name: "own private offer", frame: wire.Frame{Type: wire.TypePrivate, Kind: wire.KindOffer, From: "cy", To: "bob.x", File: slidesFile()}},
		{name: "own private offer echoed", caps: []string{capEcho}, frame: wire.Frame{Type: wire.TypePrivate, Kind: wire.KindOffer, From: "cy", To: "bob.x", File: slidesFile()},
			want: []string{":cy!~cy@chatroom PRIVMSG bob_x :\x01ACTION " + slidesOffer + "\x01"}},
		{name: "private unsend", frame: wire.Frame{Type: wire.TypePrivate, Kind: wire.KindUnsend, From: "bob.x", To: "cy", By: "bob.x", File: &wire.File{Number: 7, Name: "slides.pdf"}},
			want: []string{":*room!room@chatroom NOTICE cy :file 7 (slides.pdf) was taken back by bob.x"}},
		{name: "get answered", frame: wire.Frame{Type: wire.TypeNotice, Text: "fetching file 7: slides.pdf (2.3 MB) from bob.x", File: &wire.File{Number: 7, ID: "f00"}},
			want: []string{":*room!room@chatroom NOTICE cy :fetching file 7: slides.pdf (2.3 MB) from bob.x", ":*room!room@chatroom NOTICE cy :files are fetched with chatroom get, not over IRC"}},
		{name: "unknown kind", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: "dance", From: "ann"}},
		{name: "unknown type", frame: wire.Frame{Type: "gift", From: "ann"}},
		{name: "kicked myself", frame: wire.Frame{Type: wire.TypeClosed, Code: wire.CodeKicked, By: "ann", Text: "go"},
			want: []string{":ann!~ann@3f9a1cB2.key KICK #the-den cy :kicked: go", "ERROR :Closing link: kicked: go"}, gone: true},
		{name: "banned myself", frame: wire.Frame{Type: wire.TypeClosed, Code: wire.CodeBanned, By: "ann"},
			want: []string{":ann!~ann@3f9a1cB2.key KICK #the-den cy :banned", "ERROR :Closing link: banned"}, gone: true},
		{name: "room closed", frame: wire.Frame{Type: wire.TypeClosed, Code: wire.CodeRoomClosed, Text: "the room is closing"},
			want: []string{"ERROR :Closing link: the room is closing"}, gone: true},
		{name: "too slow myself", frame: wire.Frame{Type: wire.TypeClosed, Code: wire.CodeTooSlow},
			want: []string{"ERROR :Closing link: too slow"}, gone: true},
		{name: "long say", frame: wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindSay, From: "ann", Text: long}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tg.join("cy", tc.caps, conformanceWelcome())
			s.room.write(tc.frame)
			if tc.gone {
				got := s.c.expectClosed()
				if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
					t.Fatalf("got\n\t%q\nwant\n\t%q", got, tc.want)
				}
				return
			}
			s.room.write(wire.Frame{Type: wire.TypeEvent, Seq: 12, Kind: wire.KindSay, From: "ann", Text: "marker"})
			var got []string
			var text strings.Builder
			for {
				line := s.c.readLine()
				m, _ := ircmsg.ParseLine(line)
				if m.Command == "PRIVMSG" && m.Params[1] == "marker" {
					break
				}
				for k, v := range tc.tags {
					if ok, got := m.GetTag(k); !ok || got != v {
						t.Errorf("line %q: tag %s is %q, want %q", line, k, got, v)
					}
				}
				got = append(got, withoutTags(line))
				if m.Command == "PRIVMSG" {
					text.WriteString(m.Params[1])
				}
			}
			if tc.name == "long say" {
				if len(got) < 3 || text.String() != long {
					t.Fatalf("a long say came as %d lines holding %q", len(got), text.String())
				}
				return
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
		})
	}
}

func slidesFile() *wire.File {
	return &wire.File{Number: 7, Name: "slides.pdf", Size: 2_300_000, SHA256: strings.Repeat("3f9a1c2b", 8)}
}

const slidesOffer = "offers slides.pdf (2.3 MB, sha256 3f9a1c2b…) — /get 7 (fetch with chatroom get)"
