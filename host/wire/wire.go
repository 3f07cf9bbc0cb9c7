// Package wire is the chatroom protocol: the frames that a host and its
// members exchange, and how they are written and read, and how both sides
// name and certify their keys (Fingerprint, CertName, SelfSignedCert). Both
// sides import it; it imports neither, and knows nothing of rooms, sockets or
// terminals.
//
// # Framing
//
// A connection (always TLS, except the host's own in-process member) carries
// one JSON object per line, each ending in '\n'. Every object has a "type".
// A frame is valid UTF-8 and at most a fixed number of bytes long: members
// may send at most [MaxClientFrame] bytes, hosts at most [MaxHostFrame]. The
// limit is enforced while reading, so an oversized frame is never buffered
// whole; a reader that meets one answers with an "error" frame and closes.
// Fields a side does not know are ignored, so later versions can add fields
// (a member identity, a resume point) without breaking older peers; a change
// that would break them raises [Version].
//
// # Conversation
//
// The member speaks first:
//
//	member: {"type":"hello","version":1,"name":"bob"}
//	host:   {"type":"welcome","version":1,"room":{...},"you":{...},"members":[...],"seq":41,"commands":[...]}
//
// or, when the host will not have it, a "refused" frame and the end of the
// connection:
//
//	host:   {"type":"refused","code":"name-taken","text":"the name \"bob\" is taken"}
//
// A hello may carry "password" to join as an admin.
//
// The welcome's "commands" lists every command the host knows, each with
// "admin" set when only admins may use it, so that a client can offer the
// ones the member's role allows now and follow later role events without
// asking again. A welcome to an admin also carries "bans", the names on the
// ban list, for completing "/unban". The welcome's "room" carries the
// room's "topic" (when it has one), and each member in "members" (and
// "you") is marked "away" while it is; why is in its "away" event. A
// member with an identity key carries its tag in "key" (as /whois shows
// it), in the welcome and in its "join" and "nick" events.
//
// After the welcome the member sends what its person types, one "say" frame
// per line. The host decides what a line means: plain text is a message,
// "/cmd args" is a command, "//text" is a message that starts with "/".
//
//	member: {"type":"say","text":"hi all"}
//	member: {"type":"say","text":"/kick cy spam"}
//
// The host sends these kinds of frames to a member:
//
//   - "event": something that happened in the room, which every member
//     receives alike and in the same order. Each event carries the room's
//     sequence number (one more than the event before it), the host's time,
//     and a kind: "say", "me", "join", "leave", "role", "nick" (a member
//     took another name: "name" is the old one, "new_name" the new),
//     "away" (the member in "from" is away, "text" says why; with no text,
//     back), "topic" (the member in "from" set the room's topic to
//     "text"; no text clears it) or "presence" (see below). The name in
//     "from" is set by the host: a
//     member cannot speak as anyone else. A client that meets a kind it
//     does not know shows nothing for it and keeps going, so later hosts
//     may add kinds.
//   - "private" and "notice": meant for this member alone (a /msg, the
//     answer to a command, a refusal). They carry no sequence number.
//   - "bans": to admins alone, the names on the ban list in "bans", sent
//     whenever the list changes and to a member when it is made an admin.
//     It replaces the list the member had. Clients that do not know the
//     type ignore it, as they ignore any frame type they do not know.
//   - "closed": the host is ending this member's connection, with a code
//     ("kicked", "banned", "room-closed", "too-slow", "left", "replaced")
//     and reason.
//
// # Presence
//
// In a big room the host tells plain joins and leaves (a member who chose
// to leave, or whose connection broke; not kicks, bans or members too
// slow) together, in one "presence" event for a short while's worth:
// "left" lists who left, each with "name" and "code", and "joined" who
// came, each as a welcome's members are. A client applies the leaves
// first, then the joins, so a name in both left and came back. A host
// that holds an arrival welcomes the member with the number of the
// presence event that will announce it, lists in "members" the room
// before that event, and sends the member that event too: the one event
// numbered as a welcome that a member is sent. A member that comes and
// goes within the while is in no event.
//
//	host:   {"type":"event","seq":4,"time":"...","kind":"presence","joined":[{"name":"dee","role":"member"}],"left":[{"name":"bob","code":"lost"}]}
//
// # History and resume
//
// The host keeps the room's latest events (its history) under an "epoch",
// a name for one unbroken run of sequence numbers: it stays the same
// across a clean restart of the host, which saves the history, and
// changes when the history is lost. Right after the welcome (whose "seq"
// is the member's own join event) the host sends earlier events, each
// exactly as it was first sent, with a number below the welcome's:
//
//   - to a newcomer, the backlog: the room's last messages (say and me
//     events), for the client to show as earlier. The welcome's
//     "backlog" says how many follow, so that a client knows the backlog
//     is over with its last event, in a quiet room too;
//   - to a member whose hello carries "resume" (the epoch and the last
//     seq it has) for the welcome's epoch, every event after that seq, in
//     order. The welcome then has "resumed" set, and "missed" counts the
//     events that were older than the history and cannot be sent. With
//     another epoch, or a seq beyond the room's last event (which no
//     member of this epoch can hold), the member gets the backlog, as a
//     newcomer does, and the welcome does not say resumed.
//
// A "say" frame may carry "ref", the member's own number for the line; the
// event, "private" or "notice" that answers it carries the same "ref", so
// that a client whose connection broke can tell which of its lines the
// room took and send the others again after it resumes.
//
// # Liveness
//
// Each side sends a "ping" frame when it has sent nothing for the
// welcome's "heartbeat_ms", and takes a peer from which it has received
// nothing for three such intervals as gone. A busy room needs no pings
// from the host. A ping needs no answer.
//
// A frame that cannot be read ends the connection with an "error" frame.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Version is the protocol version a hello and a welcome carry.
const Version = 1

// Frame size limits, in bytes, including the final newline. A member's
// frames are short lines of text; a host's welcome lists every member, so it
// may be much longer: at a host's 10,000 members, each with a name of 24
// characters of 4 bytes, about 1.3 MB, which MaxHostFrame leaves room for
// three times over (room.TestWorstWelcomeFits builds it).
const (
	MaxClientFrame = 16 << 10
	MaxHostFrame   = 4 << 20
)

// MaxText is the longest message, in bytes, that a host accepts in a "say"
// frame. It leaves room in [MaxClientFrame] for JSON escaping.
const MaxText = 4000

// Frame types.
const (
	TypeHello   = "hello"   // member -> host: first frame
	TypeSay     = "say"     // member -> host: a line typed by the member
	TypeWelcome = "welcome" // host -> member: hello accepted
	TypeRefused = "refused" // host -> member: hello refused; connection ends
	TypeEvent   = "event"   // host -> all members: a room event, numbered
	TypePrivate = "private" // host -> sender and recipient of a /msg
	TypeNotice  = "notice"  // host -> one member: a command's answer or an error
	TypeBans    = "bans"    // host -> admins: the names on the ban list
	TypeClosed  = "closed"  // host -> member: the host ends this connection
	TypeError   = "error"   // either way: the peer's frame was unreadable; connection ends
	TypePing    = "ping"    // either way: sent after a heartbeat interval of silence
	// member -> host: send the members, which a big room's welcome left
	// out (MembersOnRequest); host -> member: them, in Members, once per
	// connection.
	TypeMembers = "members"
)

// Event kinds, in Frame.Kind of a TypeEvent frame.
const (
	KindSay   = "say"   // From said Text
	KindMe    = "me"    // From did Text ("/me waves")
	KindJoin  = "join"  // Name joined, with Role
	KindLeave = "leave" // Name left; Code says why, By and Text for kicks and bans
	KindRole  = "role"  // Name now has Role, given By
	KindNick  = "nick"  // Name is now called NewName
	KindAway  = "away"  // From is away: Text says why; no Text, From is back
	KindTopic = "topic" // From set the room's topic to Text; no Text clears it
	// Presence: in a big room, the plain joins and leaves of a short
	// while, as one event: first everyone in Left left, then everyone in
	// Joined came (so a name in both left and came back).
	KindPresence = "presence"
)

// Codes, in Frame.Code. Refusals and closings share one namespace so that a
// member can tell a person exactly why they are not in the room.
const (
	// Refusals of a hello.
	CodeVersion       = "version"        // unsupported protocol version
	CodeNameInvalid   = "name-invalid"   // the name breaks the name rules
	CodeNameTaken     = "name-taken"     // someone in the room has that name
	CodeBanned        = "banned"         // banned by name or by address
	CodeWrongPassword = "wrong-password" // the admin password did not match
	CodeNoAdmin       = "no-admin"       // the room has no admin password
	CodeRoomClosed    = "room-closed"    // the room is closing or closed
	CodeTooMany       = "too-many"       // too many connections, joins or wrong admin passwords lately: try again later

	// Reasons a member leaves or is closed, in "leave" events and "closed"
	// frames (with CodeBanned and CodeRoomClosed above).
	CodeLeft     = "left"     // the member quit
	CodeLost     = "lost"     // the connection broke
	CodeKicked   = "kicked"   // an admin kicked the member
	CodeTooSlow  = "too-slow" // the member fell too far behind
	CodeProtocol = "protocol" // the member sent something unreadable
	CodeReplaced = "replaced" // the same member (name and key) joined again on another connection

	// Errors, in "error" frames.
	CodeTooLarge   = "too-large"  // a frame over the size limit
	CodeMalformed  = "malformed"  // not a JSON object with a type, or not UTF-8
	CodeUnexpected = "unexpected" // a valid frame at the wrong time
)

// Roles of members.
const (
	RoleMember = "member"
	RoleAdmin  = "admin"
	RoleOwner  = "owner" // the person who runs the host; an admin no one can demote
)

// Frame is one protocol message. Which fields are set depends on Type (see
// the package documentation); the rest are left empty and not sent.
type Frame struct {
	Type string `json:"type"`

	// hello, welcome
	Version int `json:"version,omitempty"`
	// hello: the name to join as. event (join, leave, role, nick): whom it
	// is about.
	Name string `json:"name,omitempty"`
	// event (nick): the name Name has now.
	NewName string `json:"new_name,omitempty"`
	// event (join, nick): the tag (KeyTag) of the member's identity key,
	// absent for a member without one, so that a client can tell the
	// same person under another name (/ignore). /whois shows the same tag
	// to everyone.
	Key string `json:"key,omitempty"`
	// hello: the admin password, when joining as an admin.
	Password string `json:"password,omitempty"`
	// hello: where the member's copy of the room's events ends, to be
	// sent what it missed.
	Resume *Resume `json:"resume,omitempty"`
	// hello (with a resume point): the client keeps its roster across
	// the resume, folding the replay into it, so the room may leave the
	// members out of the welcome when the replay holds every change of
	// who is present since the resume point (see MembersOmitted).
	KeepsRoster bool `json:"keeps_roster,omitempty"`
	// hello: the client asks for the members when it needs them (a
	// TypeMembers frame), so the room may leave them out of the welcome
	// in a big room (see MembersOnRequest). A client that does not say so
	// is always sent them.
	AsksMembers bool `json:"asks_members,omitempty"`

	// welcome
	Room     *Room     `json:"room,omitempty"`
	You      *Member   `json:"you,omitempty"`
	Members  []Member  `json:"members,omitempty"`
	Commands []Command `json:"commands,omitempty"`
	// welcome (to an admin), bans: the names on the room's ban list.
	Bans []string `json:"bans,omitempty"`
	// welcome: how fast the member may send lines; a client paces itself
	// to stay within it, and the host refuses lines beyond it.
	Limits *Limits `json:"limits,omitempty"`
	// welcome: the epoch of the room's sequence numbers (see Resume).
	Epoch string `json:"epoch,omitempty"`
	// welcome: the hello's resume point was honoured: the events after it
	// follow the welcome.
	Resumed bool `json:"resumed,omitempty"`
	// welcome (resumed): the events, joins and leaves among them, between
	// the resume point and the first one replayed, which the host no
	// longer holds; non-zero only when messages were among them, so that
	// the member can be told some were lost.
	Missed uint64 `json:"missed,omitempty"`
	// welcome (resumed, to a member with an identity key): the ref of the
	// last line the room handled from the member's previous connection.
	// Every line up to it was handled, whether or not its answer arrived
	// (a notice is in no replay), so the member sends none of them again.
	Taken uint64 `json:"taken,omitempty"`
	// welcome (not resumed): how many events of the backlog follow it; 0
	// or absent for none (or a host that does not say).
	Backlog int `json:"backlog,omitempty"`
	// welcome: the heartbeat interval in milliseconds (see Liveness).
	HeartbeatMS int `json:"heartbeat_ms,omitempty"`
	// welcome (resumed, to a hello that keeps its roster): Members are
	// left out, the roster the client held at its resume point with the
	// replay being the room's. A client that did not ask takes an empty
	// list.
	MembersOmitted bool `json:"members_omitted,omitempty"`
	// welcome (to a hello that asks for members): Members are left out,
	// since the room lists more than MembersInWelcome; MemberCount says
	// how many it lists. A TypeMembers frame asks for them; the answer
	// comes in the member's order of frames, so that the events after it
	// follow on from it.
	MembersOnRequest bool `json:"members_on_request,omitempty"`
	MemberCount      int  `json:"member_count,omitempty"`

	// event: this event's number. welcome: the number of the member's own
	// "join" event, which the member is not sent separately (for a member
	// muted when it joins, which the others are not shown, the room's
	// latest event; for one whose arrival is held in a big room, the
	// presence event to come, which it is sent: see Presence); the events
	// it receives next are numbered from Seq+1 on. private: the number of the
	// room's last event when it was sent, which places it among them.
	Seq uint64 `json:"seq,omitempty"`
	// private: its number among the private frames sent to this member,
	// from 1, continued across resumed connections, so that a member can
	// resume after the last it holds (Resume.Private).
	PrivateSeq uint64 `json:"private_seq,omitempty"`
	// event, private: when the host handled it.
	Time time.Time `json:"time,omitzero"`
	// event: what happened (Kind* constants).
	Kind string `json:"kind,omitempty"`
	// event (say, me), private: who wrote it. event (away, topic): who
	// did it. private: to whom.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// event (join, role): the role the member has now.
	Role string `json:"role,omitempty"`
	// event (leave), refused, closed, error: why (Code* constants).
	Code string `json:"code,omitempty"`
	// event (leave, role), closed: the admin who did it.
	By string `json:"by,omitempty"`
	// say, event (say, me), private: the message. event (away): why the
	// member is away; event (topic): the new topic. notice: the answer, one
	// or more lines. event (leave), refused, closed, error: a reason in words.
	Text string `json:"text,omitempty"`
	// notice: the text reports an error (a refused command).
	Error bool `json:"error,omitempty"`
	// say: the member's own number for the line. event, private, notice:
	// the number of the line this frame answers.
	Ref uint64 `json:"ref,omitempty"`

	// event (presence): who came, as a welcome lists members, in the
	// order they came; and who left before them, with why (CodeLeft or
	// CodeLost).
	Joined []Member    `json:"joined,omitempty"`
	Left   []Departure `json:"left,omitempty"`

	// offer, event (offer, unsend), private (an offer to one member),
	// notice (the answer to an offer or a "/get"), upload, fetch: the
	// file (see Files in files.go). offer, private: To is the one member
	// it is for.
	File *File `json:"file,omitempty"`
	// notice (the answer to "/files"): the files on offer to the member.
	Files []File `json:"files,omitempty"`
	// fetch: the bytes the member has already; ready: where the data
	// goes on from.
	Offset int64 `json:"offset,omitempty"`
}

// Departure is a member who left, in a presence event: its name, and why
// (CodeLeft or CodeLost).
type Departure struct {
	Name string `json:"name"`
	Code string `json:"code,omitempty"`
}

// Resume is a member's resume point: the last event it holds, and the
// last private frame (its PrivateSeq).
type Resume struct {
	Epoch   string `json:"epoch"`
	Seq     uint64 `json:"seq"`
	Private uint64 `json:"private,omitempty"`
}

// Limits is the rate at which a member may send lines: Burst at once, then
// PerSecond (a token bucket).
type Limits struct {
	Burst     int     `json:"burst"`
	PerSecond float64 `json:"per_second"`
}

// Room describes a room in a welcome.
type Room struct {
	Name string `json:"name"`
	// ID stays the same for as long as the host keeps its state, across
	// restarts, and is what mDNS advertises: a member that finds the room
	// again, at another address, knows it is the same room.
	ID string `json:"id,omitempty"`
	// Topic is the room's topic, as the last "topic" event set it; "" for
	// none.
	Topic string `json:"topic,omitempty"`
}

// Member is one member of a room, in a welcome.
type Member struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// Away says the member is away, as its last "away" event did. Why is
	// in that event and in /whois, not here: a welcome lists every member,
	// and must stay far under MaxHostFrame however they fill their texts.
	Away bool `json:"away,omitempty"`
	// Key is the tag (KeyTag) of the member's identity key, absent for a
	// member without one; as in join and nick events.
	Key string `json:"key,omitempty"`
}

// Command is a command the host knows, so that a client can offer
// completion and help without knowing the host's version. Admin says only
// admins (and the owner) may use it.
type Command struct {
	Name  string `json:"name"`  // without the slash
	Usage string `json:"usage"` // "/kick NAME [REASON]"
	Help  string `json:"help"`  // one line
	Admin bool   `json:"admin,omitempty"`
	// Target says which names may follow the command: "member" (someone in
	// the room) or "banned" (someone on the ban list), or "" for none.
	Target string `json:"target,omitempty"`
}

// Error is a frame that could not be read. Its Code is CodeTooLarge or
// CodeMalformed, fit to send back to the peer in an "error" frame.
type Error struct {
	Code string
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Append appends f, encoded as one line, to buf and returns the result.
func Append(buf []byte, f *Frame) ([]byte, error) {
	if b, ok := appendPlain(buf, f); ok {
		return b, nil
	}
	w := bytes.NewBuffer(buf)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // '<' is common in chat and needs no escaping here
	if err := enc.Encode(f); err != nil {
		return buf, fmt.Errorf("wire: encoding %s frame: %w", f.Type, err)
	}
	return w.Bytes(), nil
}

// Encode returns f encoded as one line, ready to be written.
func Encode(f *Frame) ([]byte, error) {
	return Append(nil, f)
}

// AppendMember appends m encoded as an element of a frame's "members",
// exactly as Encode writes it there, to buf.
func AppendMember(buf []byte, m Member) ([]byte, error) {
	w := bytes.NewBuffer(buf)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // as Append
	if err := enc.Encode(m); err != nil {
		return buf, fmt.Errorf("wire: encoding a member: %w", err)
	}
	b := w.Bytes()
	return b[:len(b)-1], nil // without the newline Encode ends with
}

// membersPlaceholder is the list EncodeWithMembers encodes in place of the
// members it is given, and then finds and replaces. Outside a string a
// quote is never escaped, and inside one it always is, so its encoding
// after `,"members":` can only be the frame's own field: no text a member
// chose can hold that sequence of bytes.
var (
	membersPlaceholder = []Member{{}}
	membersField       = placeholderField()
)

// placeholderField is `,"members":` and membersPlaceholder as Encode
// writes them.
func placeholderField() []byte {
	b, err := AppendMember([]byte(`,"members":[`), membersPlaceholder[0])
	if err != nil {
		panic("wire: " + err.Error())
	}
	return append(b, ']')
}

// EncodeWithMembers returns f encoded as Encode would, with the
// "members" field holding members: a JSON array of members, each as
// AppendMember encodes it (or nil for none), which the caller keeps
// encoded from one frame to the next, so that a welcome costs the same
// whatever the room's size. f's own Members are not used.
func EncodeWithMembers(f *Frame, members []byte) ([]byte, error) {
	g := *f
	if len(members) == 0 {
		g.Members = nil
		return Encode(&g)
	}
	g.Members = membersPlaceholder
	b, err := Encode(&g)
	if err != nil {
		return nil, err
	}
	i := bytes.Index(b, membersField)
	if i < 0 {
		return nil, fmt.Errorf("wire: encoding %s frame: no place for its members", f.Type)
	}
	at := i + len(`,"members":`)
	out := make([]byte, 0, len(b)-len(membersField)+len(`,"members":`)+len(members))
	out = append(out, b[:at]...)
	out = append(out, members...)
	return append(out, b[i+len(membersField):]...), nil
}

// MembersInWelcome is the most members a welcome lists to a client that
// asks for them when it needs them (Frame.AsksMembers): some 40 bytes
// each, so at most about 8 KB. Beyond it the welcome leaves them out
// (MembersOnRequest): a room of thousands would otherwise send every
// joiner a list of them all, the most of what a join costs the host, to
// people who mostly never look at it.
const MembersInWelcome = 200

// Decoder reads frames from a stream, refusing any frame longer than its
// limit without buffering more than the limit.
//
// Its buffer starts small and grows, up to the limit, only for a frame that
// needs it; once such a frame has been read and nothing is left over, the
// large buffer is let go. So a connection that waits for its next short
// line holds a few hundred bytes, not the limit.
type Decoder struct {
	r     io.Reader
	limit int
	buf   []byte // buf[start:end] is read and not yet returned
	start int
	end   int
	err   error // from r, returned once what is buffered is used up
}

// decoderStart is the size of a Decoder's buffer while it reads short
// frames, which nearly all are.
const decoderStart = 512

// NewDecoder returns a Decoder that reads frames of at most limit bytes
// (including the newline) from r.
func NewDecoder(r io.Reader, limit int) *Decoder {
	return &Decoder{r: r, limit: max(limit, 1)}
}

// Decode reads the next frame. At the end of the stream it returns io.EOF,
// or io.ErrUnexpectedEOF when the stream ends inside a frame. A frame that
// is too long, not UTF-8, or not a JSON object with a type is returned as an
// *Error; the stream cannot be read further after one.
func (d *Decoder) Decode() (Frame, error) {
	line, err := d.ReadLine()
	if err != nil {
		return Frame{}, err
	}
	return Parse(line)
}

// ReadLine reads the next frame as it came, its newline included, without
// decoding it (Parse does), with the errors of Decode but those of Parse.
// The line is valid until the next call. A reader that waits long for
// each frame waits here with little on its stack, and may look at the
// line before it decodes it (a ping needs no decoding).
func (d *Decoder) ReadLine() ([]byte, error) {
	scanned := 0 // bytes of buf[start:end] known to hold no newline
	for {
		if i := bytes.IndexByte(d.buf[d.start+scanned:d.end], '\n'); i >= 0 {
			end := d.start + scanned + i + 1
			line := d.buf[d.start:end]
			d.start = end
			if d.start == d.end {
				d.start, d.end = 0, 0
				if len(d.buf) > decoderStart {
					// A long frame is done with: hold a short buffer again.
					// line keeps the long one alive until it is parsed.
					d.buf = nil
				}
			}
			return line, nil
		}
		scanned = d.end - d.start
		if scanned >= d.limit {
			return nil, &Error{Code: CodeTooLarge, Msg: fmt.Sprintf("frame longer than %d bytes", d.limit)}
		}
		if d.err != nil {
			err := d.err
			if err == io.EOF && scanned > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		d.fill()
	}
}

// fill reads once more from r, after making room at the end of the
// buffer: by moving what is unread to the front, or by growing the buffer
// (never past the limit) when it is full of one frame.
func (d *Decoder) fill() {
	if d.end == len(d.buf) {
		unread := d.end - d.start
		if unread < len(d.buf) && len(d.buf) > 0 {
			copy(d.buf, d.buf[d.start:d.end])
		} else {
			size := min(max(2*len(d.buf), decoderStart), d.limit)
			grown := make([]byte, size)
			copy(grown, d.buf[d.start:d.end])
			d.buf = grown
		}
		d.start, d.end = 0, unread
	}
	// A reader that keeps returning nothing, without an error, is broken;
	// give up on it after a while rather than spin.
	for range 100 {
		n, err := d.r.Read(d.buf[d.end:])
		if n < 0 || n > len(d.buf)-d.end {
			panic("wire: reader returned an impossible count")
		}
		d.end += n
		if err != nil {
			d.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	d.err = io.ErrNoProgress
}

// Parse decodes one frame from line, which holds exactly one JSON object
// (a final newline is allowed). It does not check the size of line.
func Parse(line []byte) (Frame, error) {
	if !utf8.Valid(line) {
		// encoding/json would quietly replace the bad bytes; refuse them
		// instead, so that what a member sent is what others see.
		return Frame{}, &Error{Code: CodeMalformed, Msg: "frame is not valid UTF-8"}
	}
	if f, ok := parseSay(line); ok {
		return f, nil
	}
	var f Frame
	if err := json.Unmarshal(line, &f); err != nil {
		return Frame{}, &Error{Code: CodeMalformed, Msg: "frame is not a JSON object: " + jsonProblem(err)}
	}
	if f.Type == "" {
		return Frame{}, &Error{Code: CodeMalformed, Msg: `frame has no "type"`}
	}
	return f, nil
}

// jsonProblem shortens encoding/json's errors, which can quote the whole
// offending value, to their kind.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("syntax error at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q has the wrong type", typ.Field)
		}
		return "wrong type"
	}
	return "unreadable"
}
