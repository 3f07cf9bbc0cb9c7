package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
	"unicode/utf8"

	"chatroom/host/wire"
	"chatroom/join"
)

// JSONVersion is the version of chatroom's JSON output ("join --json" and
// "list --json"), in the "v" field of every object. Within a version,
// fields are only ever added: a field keeps its name, its type and its
// meaning, and a program that ignores the fields it does not know keeps
// working. Removing or changing one raises the version.
const JSONVersion = 1

// The JSON output is an interface of its own, not the protocol: each
// frame is mapped, field by field, to a jsonEvent, so that a change to
// wire.Frame (which is free to change between a host and its members)
// never changes what a script reads.

// The values of jsonEvent.Type. An event's type is its kind; a kind this
// version does not know is typeEvent, with the kind in Kind.
const (
	typeWelcome    = "welcome"     // the host let the person in (again after each reconnect)
	typeEvent      = "event"       // a room event of a kind this version does not know
	typePrivate    = "private"     // a /msg, to or from the person
	typeNotice     = "notice"      // the host's answer to the person's command; Error for a refusal
	typeBans       = "bans"        // the room's ban list, to admins
	typeMembers    = "members"     // who is in a big room, after a welcome that gave only member_count
	typeClosed     = "closed"      // the host ends the connection
	typeRefused    = "refused"     // the host would not let the person in
	typeError      = "error"       // the room could not read what the client sent, and ends the connection
	typeNote       = "note"        // a line of the client's own (Kind: info, warning, progress, settled)
	typeBacklogEnd = "backlog_end" // the backlog shown on joining is over
)

// jsonEvent is one line of "join --json". Every field but V and Type is
// left out when it does not apply or is empty (a false "error", a zero
// "seq"); the README documents each.
type jsonEvent struct {
	V    int    `json:"v"`
	Type string `json:"type"`
	// event of an unknown kind: the kind. note: info, warning, progress
	// or settled.
	Kind string `json:"kind,omitempty"`
	// Every frame from the room: backlog, missed or live (join.Phase).
	Phase string `json:"phase,omitempty"`
	// event: its number in the room. private: the number of the room's
	// last event when it was sent. welcome: the person's own join event.
	Seq uint64 `json:"seq,omitempty"`
	// private: its number among the private messages to this person.
	PrivateSeq uint64 `json:"private_seq,omitempty"`
	// event, private: when the host handled it, RFC 3339 in UTC.
	Time string `json:"time,omitempty"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// event (join, leave, role, nick): whom it is about (for nick, the
	// name before). welcome: the person's own name.
	Name string `json:"name,omitempty"`
	// nick: the name after.
	NewName string `json:"new_name,omitempty"`
	// join, nick: the tag of the member's identity key, as /whois shows
	// it; welcome: the person's own. Absent when the room tells none (a
	// member without a key, an older host) or sends something that is
	// not a tag (join.ValidKeyTag).
	Key  string `json:"key,omitempty"`
	Role string `json:"role,omitempty"`
	By   string `json:"by,omitempty"`
	Code string `json:"code,omitempty"`
	Text string `json:"text,omitempty"`
	// notice: the host refused the command.
	Error bool `json:"error,omitempty"`
	// event, private, notice: the number of the person's own line that
	// this answers (see ownRef).
	Ref uint64 `json:"ref,omitempty"`

	// welcome
	Room    *jsonRoom    `json:"room,omitempty"`
	Members []jsonMember `json:"members,omitempty"`
	// welcome (added within version 1): in a room of more than
	// wire.MembersInWelcome, whose welcome leaves the members out, how
	// many there are.
	MemberCount int         `json:"member_count,omitempty"`
	Limits      *jsonLimits `json:"limits,omitempty"`
	Resumed     bool        `json:"resumed,omitempty"`
	Missed      uint64      `json:"missed,omitempty"`
	// bans, and a welcome to an admin: the names on the ban list. A bans
	// line always has it, empty when the list is.
	Bans *[]string `json:"bans,omitempty"`

	// presence (added within version 1): the joins and leaves of a big
	// room, told together. joined: who came, as a welcome's members;
	// left: who left before them, each with its code ("left" or "lost").
	// A program applies the leaves first, then the joins.
	Joined []jsonMember `json:"joined,omitempty"`
	Left   []jsonLeft   `json:"left,omitempty"`

	// File sharing (added within version 1). offer, unsend, private (an
	// offer to one member), notice (the answer to an offer or a "/get"):
	// the file. notice (the answer to "/files"): the files on offer.
	File  *jsonFile  `json:"file,omitempty"`
	Files []jsonFile `json:"files,omitempty"`
}

// jsonFile is a file on offer, as the room describes it. What lets a
// member fetch or upload it (the room's ID and Token) is never written:
// the output may be logged or shown, and the client does the fetching.
type jsonFile struct {
	Number int    `json:"number,omitempty"`
	Name   string `json:"name,omitempty"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	// Expires is when the host stops keeping it, RFC 3339 in UTC.
	Expires string `json:"expires,omitempty"`
}

func jsonFileOf(f wire.File) jsonFile {
	return jsonFile{Number: f.Number, Name: f.Name, Size: f.Size, SHA256: f.SHA256, From: f.From, To: f.To, Expires: jsonTime(f.Expires)}
}

// typeTransfer is the type of jsonTransfer's lines.
const typeTransfer = "transfer"

// jsonTransfer is the line of a file transfer's state (added within
// version 1): "transfer" is the client's number for the transfer (each
// line with the same number is a later state of the same one); direction
// "up" (the person's own file on its way to the room) or "down" (a
// fetch); state "hashing", "waiting" (connecting, or again after a break:
// text says what broke), "moving", "finished" (an upload stored and
// offered; a fetch checked against its sha256 and in place at path) or
// "failed" (text says why); the file as the room described it; done, the
// bytes through, of size; rate, bytes a second lately (0: not known);
// path, the local file.
type jsonTransfer struct {
	V         int      `json:"v"`
	Type      string   `json:"type"`
	Transfer  int      `json:"transfer"`
	Direction string   `json:"direction"`
	State     string   `json:"state"`
	File      jsonFile `json:"file"`
	Done      int64    `json:"done"`
	Size      int64    `json:"size"`
	Rate      float64  `json:"rate"`
	Path      string   `json:"path,omitempty"`
	Text      string   `json:"text,omitempty"`
}

// transferStates are the values of jsonTransfer.State.
var transferStates = map[join.TransferState]string{
	join.Hashing:  "hashing",
	join.Waiting:  "waiting",
	join.Moving:   "moving",
	join.Finished: "finished",
	join.Failed:   "failed",
}

func jsonFromTransfer(t join.Transfer) *jsonTransfer {
	dir := "down"
	if t.Up {
		dir = "up"
	}
	state, ok := transferStates[t.State]
	if !ok {
		state = "waiting" // a state added later is at least not done
	}
	return &jsonTransfer{
		V: JSONVersion, Type: typeTransfer, Transfer: t.Key, Direction: dir, State: state,
		File: jsonFileOf(t.File), Done: t.Done, Size: t.File.Size, Rate: math.Round(knownRate(t.Rate)), Path: t.Path, Text: t.Err,
	}
}

type jsonLeft struct {
	Name string `json:"name"`
	Code string `json:"code,omitempty"`
}

type jsonRoom struct {
	Name  string `json:"name"`
	ID    string `json:"id,omitempty"`
	Topic string `json:"topic,omitempty"`
}

type jsonMember struct {
	Name string `json:"name"`
	Role string `json:"role"`
	Away bool   `json:"away,omitempty"`
	// Key is the member's key tag, as jsonEvent.Key.
	Key string `json:"key,omitempty"`
}

// jsonKey is tag when it is a key tag, and "" when it is not.
func jsonKey(tag string) string {
	if join.ValidKeyTag(tag) {
		return tag
	}
	return ""
}

type jsonLimits struct {
	Burst     int     `json:"burst"`
	PerSecond float64 `json:"per_second"`
}

// jsonUI is line mode's input with JSON output: one object per line, for
// a program to read rather than a person.
type jsonUI struct {
	// lines reads the input as line mode does; it prints nothing.
	lines *lineUI

	mu     sync.Mutex // the room's lines are shown from other goroutines
	out    io.Writer
	roster *join.Roster // the current session's, once welcomed: who the person is
	gate   transferGate // paces the transfers' lines
}

// NewJSONUI returns a UI that reads lines from in as line mode does and
// writes to out one JSON object per line (see jsonEvent, and the README's
// "JSON output"): each welcome, every frame from the room of a type this
// version knows, every note of the client's, and the end of the backlog.
// It never asks for another
// name. A line longer than wire.MaxText bytes is not sent: it is reported
// with a warning note and skipped.
func NewJSONUI(in io.Reader, out io.Writer) join.UI {
	return &jsonUI{lines: newLineUI(in, io.Discard), out: out}
}

func (u *jsonUI) ReadLine() (string, error) {
	for {
		line, err := u.lines.readLine()
		if err == join.ErrLineTooLong {
			u.write(&jsonEvent{Type: typeNote, Kind: "warning", Text: err.Error()})
			continue
		}
		return line, err
	}
}

// AskName never asks: no person reads the output.
func (u *jsonUI) AskName(string) (string, bool) { return "", false }

// Enter writes each welcome, the first and each after a reconnect: a
// program learns from "resumed" whether what it missed follows.
func (u *jsonUI) Enter(w wire.Frame, r *join.Roster) {
	u.mu.Lock()
	u.roster = r
	u.mu.Unlock()
	e := jsonEvent{Type: typeWelcome, Seq: w.Seq}
	welcomeFields(&e, w)
	u.write(&e)
	if w.MembersOnRequest && r != nil {
		// A program learns who is here from the events that follow its
		// welcome: in a big room, whose welcome gave only the count, it is
		// sent the list at once, as a "members" line at its place among
		// them.
		r.Ask()
	}
}

func (u *jsonUI) Show(f wire.Frame, phase join.Phase) {
	u.mu.Lock()
	r := u.roster
	u.mu.Unlock()
	me := ""
	if r != nil {
		me = r.Me() // as the terminal asks it: current after a change of name
	}
	if e, ok := jsonFromFrame(f, phase, me); ok {
		u.write(&e)
	}
}

func (u *jsonUI) Note(n join.Note) {
	u.write(jsonFromNote(n))
}

func (u *jsonUI) write(e *jsonEvent) { u.writeLine(e) }

// writeLine writes v, a jsonEvent or jsonTransfer with its version set,
// as one line.
func (u *jsonUI) writeLine(v any) {
	var line []byte
	if e, ok := v.(*jsonEvent); ok {
		line = jsonLine(e)
	} else {
		var err error
		if line, err = JSONLine(v); err != nil {
			line = jsonLine(&jsonEvent{Type: typeNote, Kind: "warning", Text: "cannot encode a line: " + err.Error()})
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	// As in line mode, an output that fails has no one to tell; one write
	// per line keeps lines whole.
	u.out.Write(line)
}

// earlierEnd is the text of join's note after the backlog, which the JSON
// output marks as a line of its own type.
const earlierEnd = "end of earlier messages"

func jsonFromNote(n join.Note) *jsonEvent {
	if n.Kind == join.Info && n.Text == earlierEnd {
		return &jsonEvent{Type: typeBacklogEnd}
	}
	e := &jsonEvent{Type: typeNote, Text: n.Text}
	switch n.Kind {
	case join.Info:
		e.Kind = "info"
	case join.Warning:
		e.Kind = "warning"
	case join.Progress:
		e.Kind = "progress"
	case join.Settled:
		e.Kind = "settled"
	case join.Pacing:
		e.Kind = "pacing"
	default:
		e.Kind = "info" // a kind added later says at least its words
	}
	return e
}

// phaseNames are the values of "phase".
var phaseNames = map[join.Phase]string{
	join.Backlog: "backlog",
	join.Missed:  "missed",
	join.Live:    "live",
}

// jsonFromFrame maps f, shown in phase to me, to its JSON line; false for a
// frame type this version does not know, which is left out rather than
// guessed at (as the terminal shows it as nothing).
//
// Each field is copied by name: the type of the line is chosen here, from
// a fixed set, and never copied from the network, so that no room can make
// an event read as a notice or the end of the backlog.
func jsonFromFrame(f wire.Frame, phase join.Phase, me string) (jsonEvent, bool) {
	e := jsonEvent{
		Phase:      phaseNames[phase],
		Seq:        f.Seq,
		PrivateSeq: f.PrivateSeq,
		Time:       jsonTime(f.Time),
		From:       f.From,
		To:         f.To,
		Name:       f.Name,
		NewName:    f.NewName,
		Role:       f.Role,
		By:         f.By,
		Code:       f.Code,
		Text:       f.Text,
		Ref:        ownRef(f, phase, me),
	}
	switch f.Type {
	case wire.TypeEvent:
		switch f.Kind {
		case wire.KindSay, wire.KindMe, wire.KindJoin, wire.KindLeave, wire.KindRole, wire.KindNick, wire.KindAway, wire.KindTopic, wire.KindOffer, wire.KindUnsend:
			e.Type = f.Kind
			if f.Kind == wire.KindJoin || f.Kind == wire.KindNick {
				e.Key = jsonKey(f.Key)
			}
		case wire.KindPresence:
			e.Type = f.Kind
			for _, m := range f.Joined {
				e.Joined = append(e.Joined, jsonMember{Name: m.Name, Role: m.Role, Away: m.Away, Key: jsonKey(m.Key)})
			}
			for _, d := range f.Left {
				e.Left = append(e.Left, jsonLeft{Name: d.Name, Code: d.Code})
			}
		default:
			e.Type, e.Kind = typeEvent, f.Kind
		}
	case wire.TypePrivate:
		e.Type = typePrivate
	case wire.TypeNotice:
		e.Type, e.Error = typeNotice, f.Error
	case wire.TypeBans:
		bans := append([]string{}, f.Bans...)
		e.Type, e.Bans = typeBans, &bans
	case wire.TypeClosed:
		e.Type = typeClosed
	case wire.TypeRefused:
		e.Type = typeRefused
	case wire.TypeError:
		e.Type = typeError
	case wire.TypeWelcome:
		e.Type = typeWelcome
		welcomeFields(&e, f)
	case wire.TypeMembers:
		// The members a big room's welcome left out, which a program is
		// sent as soon as the room answers (see Enter).
		e.Type = typeMembers
		e.Members = []jsonMember{}
		for _, m := range f.Members {
			e.Members = append(e.Members, jsonMember{Name: m.Name, Role: m.Role, Away: m.Away, Key: jsonKey(m.Key)})
		}
	default:
		return jsonEvent{}, false
	}
	switch f.Type {
	case wire.TypeEvent, wire.TypePrivate, wire.TypeNotice:
		if f.File != nil {
			file := jsonFileOf(*f.File)
			e.File = &file
		}
		for _, file := range f.Files {
			e.Files = append(e.Files, jsonFileOf(file))
		}
	}
	return e, true
}

// ownRef is f's ref when it answers one of me's own lines: a notice (which
// is the person's alone), or an event or private message from them, not
// from the backlog. The person's lines are numbered from 1 in the order
// they are sent to the room, and on across reconnects; the room passes
// each member's ref to everyone with its event, and the backlog holds a
// previous run's, which would only mislead a program matching answers to
// its lines.
func ownRef(f wire.Frame, phase join.Phase, me string) uint64 {
	switch {
	case phase == join.Backlog:
		return 0
	case f.Type == wire.TypeNotice:
		return f.Ref
	case (f.Type == wire.TypeEvent || f.Type == wire.TypePrivate) && f.From == me && me != "":
		return f.Ref
	case f.Type == wire.TypeEvent && f.Kind == wire.KindNick && me != "" && (f.Name == me || f.NewName == me):
		// The person's own /nick: an event about them, not from them,
		// and they may be known by either name as it is shown.
		return f.Ref
	}
	return 0
}

// welcomeFields fills in what a welcome carries: the room, the person
// (name, role and key tag), who is there, the pace lines may be sent at, whether
// the session resumed, and the ban list for an admin.
func welcomeFields(e *jsonEvent, w wire.Frame) {
	if w.Room != nil {
		e.Room = &jsonRoom{Name: w.Room.Name, ID: w.Room.ID, Topic: w.Room.Topic}
	}
	if w.You != nil {
		e.Name, e.Role, e.Key = w.You.Name, w.You.Role, jsonKey(w.You.Key)
	}
	for _, m := range w.Members {
		e.Members = append(e.Members, jsonMember{Name: m.Name, Role: m.Role, Away: m.Away, Key: jsonKey(m.Key)})
	}
	if w.MembersOnRequest {
		e.MemberCount = max(1, w.MemberCount)
	}
	if w.Limits != nil {
		e.Limits = &jsonLimits{Burst: w.Limits.Burst, PerSecond: w.Limits.PerSecond}
	}
	e.Resumed, e.Missed = w.Resumed, w.Missed
	if w.Bans != nil {
		bans := append([]string{}, w.Bans...)
		e.Bans = &bans
	}
}

// jsonTime is t in RFC 3339, to the second, in UTC ("2024-03-01T10:04:00Z");
// "" for none.
func jsonTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// jsonLine encodes e as one line, with the version set.
func jsonLine(e *jsonEvent) []byte {
	e.V = JSONVersion
	b, err := JSONLine(e)
	if err != nil {
		// Strings, numbers and booleans always encode; should that ever
		// change, a line still says so rather than vanish.
		b, _ = JSONLine(&jsonEvent{V: JSONVersion, Type: typeNote, Kind: "warning", Text: "cannot encode a line: " + err.Error()})
	}
	return b
}

// JSONLine encodes v as one line of JSON, its newline included, safe to
// print on a terminal: encoding/json escapes C0 controls, U+2028 and
// U+2029 and replaces invalid UTF-8 with U+FFFD; JSONLine also escapes
// DEL, C1 controls and the bidi controls (every character join.Sanitize
// would replace), as \uXXXX. A program reads the same strings; a terminal
// shows the escapes as text, so nothing a room sent can move its cursor
// or reorder a line.
func JSONLine(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // '<' and '&' are common in chat and harmless here
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return escapeInvisible(buf.Bytes()), nil
}

// escapeInvisible escapes, as \uXXXX, every rune of b that a terminal
// could act on. b is JSON from encoding/json, which holds such runes only
// inside strings, where the escape means the same rune.
func escapeInvisible(b []byte) []byte {
	i := bytes.IndexFunc(b, invisible)
	if i < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for _, r := range string(b[i:]) {
		if invisible(r) {
			// Every such rune is in the Basic Multilingual Plane: one
			// escape, no surrogate pair.
			out = fmt.Appendf(out, `\u%04x`, r)
			continue
		}
		out = utf8.AppendRune(out, r)
	}
	return out
}

// invisible reports a rune that escapeInvisible escapes: one that
// join.Sanitize replaces, other than the C0 controls, which encoding/json
// has escaped already (the newline that ends the line among them).
func invisible(r rune) bool { return r >= 0x20 && join.NeedsPlaceholder(r) }
