package join

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"chatroom/discovery"
	"chatroom/host/wire"
)

// KnownRooms remembers the key of every room joined, by room id, as SSH's
// known_hosts remembers host keys: the first key a room shows is trusted
// and kept, and a known room that later shows another key is refused. On a
// shared LAN anyone can announce a room with a known room's id; only the
// real room has its key.
//
// The file has one line per room: id, fingerprint, when it was first seen
// (RFC 3339), and the room's name for people reading it. Ids and keys are
// only ever the forms a room makes (wire.ValidRoomID, wire.ValidFingerprint)
// and the name is made one short line, so nothing a room says can break a
// line. A line that is damaged all the same (a crash, a hand edit) costs
// that one room, never the others: it is reported, kept as it is when the
// file is written again, and the room it names is refused until the line
// is mended.
type KnownRooms struct {
	path string

	mu    sync.Mutex
	rooms map[string]knownRoom
	lines []fileLine // the file as read, in order, and rooms added since

	// damaged holds, for a room id that a damaged line still shows, the
	// number of that line: the key remembered there cannot be read, so
	// the room cannot be checked.
	damaged  map[string]int
	warnings []string
}

type knownRoom struct {
	fingerprint string
	since       time.Time
	name        string
}

// fileLine is one line of the file: a room, by id, or text kept as it was
// read (a comment, a blank line, a damaged line).
type fileLine struct {
	id  string
	raw string
}

// KnownRoomsFile is the name of the file in the state directory.
const KnownRoomsFile = "known-rooms"

// knownRoomsHeader is the comment that starts the file.
const knownRoomsHeader = "# rooms joined, and their keys: id fingerprint first-seen name"

// maxKnownName bounds the name kept for a room: as long as a TXT record can
// carry, more than enough for a person to recognise the line.
const maxKnownName = 255

// LoadKnownRooms reads the known rooms at path; a missing file is none. A
// damaged line is skipped, with a warning (Warnings), and its room refused:
// the rest of the file still counts.
func LoadKnownRooms(path string) (*KnownRooms, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return parseKnownRooms(path, nil), nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading known rooms: %w", err)
	}
	return parseKnownRooms(path, data), nil
}

// parseKnownRooms reads data, the contents of the known rooms file at path
// (which warnings name), apart from reading the file so that it can be
// fuzzed. It never fails: a line it cannot read is one damaged line.
func parseKnownRooms(path string, data []byte) *KnownRooms {
	k := &KnownRooms{path: path, rooms: make(map[string]knownRoom), damaged: make(map[string]int)}
	// Split by hand rather than with bufio.Scanner, whose 64 KB line limit
	// would make one long line the end of the whole file.
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		raw := string(line)
		id, r, ok, why := parseKnownRoom(raw)
		if !ok {
			if why != "" {
				k.markDamaged(n, raw, why)
			}
			k.lines = append(k.lines, fileLine{raw: raw})
			continue
		}
		if _, twice := k.rooms[id]; !twice {
			k.lines = append(k.lines, fileLine{id: id})
		}
		k.rooms[id] = r // of two lines for one room, the later counts, as it always has
	}
	return k
}

// parseKnownRoom reads one line of the file: a room, or ok false with why
// it is damaged, or ok false and why "" for a comment or a blank line.
func parseKnownRoom(raw string) (id string, r knownRoom, ok bool, why string) {
	line := strings.Trim(raw, " \t\r")
	if line == "" || strings.HasPrefix(line, "#") {
		return "", r, false, ""
	}
	fields := strings.SplitN(line, " ", 4)
	switch {
	case !wire.ValidRoomID(fields[0]):
		return "", r, false, "it does not start with a room id"
	case len(fields) < 2 || !wire.ValidFingerprint(fields[1]):
		return "", r, false, "no room key after the id"
	case len(fields) < 3:
		return "", r, false, "no time of first visit after the key"
	}
	since, err := time.Parse(time.RFC3339, fields[2])
	if err != nil {
		return "", r, false, "its time of first visit cannot be read"
	}
	// time.Parse takes offsets such as +24:60 that Format writes as
	// +25:00, which it refuses: kept, such a time would damage the line
	// once the file is written again.
	if _, err := time.Parse(time.RFC3339, since.Format(time.RFC3339)); err != nil {
		return "", r, false, "its time zone offset is out of range"
	}
	r = knownRoom{fingerprint: fields[1], since: since}
	if len(fields) == 4 {
		r.name = fields[3]
	}
	// A name that Check did not write (edited by hand: controls, doubled
	// spaces) is read as Check would write it, so that the file reads the
	// same after the next save.
	r.name = oneLine(r.name)
	return fields[0], r, true, ""
}

// markDamaged notes damaged line n, and the room it still names if any.
func (k *KnownRooms) markDamaged(n int, raw, why string) {
	id, _, _ := strings.Cut(strings.Trim(raw, " \t\r"), " ")
	if !wire.ValidRoomID(id) {
		k.warnings = append(k.warnings, fmt.Sprintf("%s:%d is damaged and was skipped (%s); fix or remove that line", k.path, n, why))
		return
	}
	k.warnings = append(k.warnings, fmt.Sprintf("%s:%d is damaged and was skipped (%s); room %s is refused until you fix or remove that line", k.path, n, why, id))
	if _, twice := k.damaged[id]; !twice {
		k.damaged[id] = n
	}
}

// Warnings says, one line each, what was wrong with the file as read: each
// damaged line, which was skipped. The caller shows them to the person.
func (k *KnownRooms) Warnings() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.warnings...)
}

// KeyChangedError is a known room that shows a key other than the one
// remembered for it.
type KeyChangedError struct {
	ID, Name       string
	Known, Offered string
	Since          time.Time
}

func (e *KeyChangedError) Error() string {
	room := "room " + Sanitize(e.ID)
	if e.Name != "" {
		room = fmt.Sprintf("room %q (id %s)", Sanitize(e.Name), Sanitize(e.ID))
	}
	return fmt.Sprintf("the key of %s has changed: known %s since %s, offered %s; "+
		"someone may be pretending to be the room, or its host lost its state directory; "+
		"if you are sure the new key is right, join with --accept-new-key",
		room, Sanitize(e.Known), e.Since.Format("2006-01-02"), Sanitize(e.Offered))
}

// UnreadablePinError is a room whose remembered key is on a damaged line of
// the file. It is not a first visit, and the key it shows now cannot be
// compared with the one remembered: it is refused, whatever key it shows,
// until the person mends the line (or removes it, to visit anew).
type UnreadablePinError struct {
	ID   string
	Path string
	Line int
}

func (e *UnreadablePinError) Error() string {
	return fmt.Sprintf("the key remembered for room %s cannot be read: %s:%d is damaged; fix that line, or remove it to trust the room anew",
		e.ID, e.Path, e.Line)
}

// Trust is what KnownRooms.Check decided about a key.
type Trust int

const (
	TrustKnown   Trust = iota // the room's remembered key
	TrustNew                  // a room never seen before: now remembered
	TrustChanged              // a changed key the person chose to accept: now remembered
)

// KeyChange is what KnownRooms.Check does with a known room that shows
// another key than the one remembered.
type KeyChange int

const (
	RefuseKeyChange KeyChange = iota // a *KeyChangedError
	AcceptKeyChange                  // the new key is taken (TrustChanged)
)

// Check checks that the room with id shows fingerprint, remembering it for
// a room never seen. A known room showing another key is a
// *KeyChangedError, unless change is AcceptKeyChange. An id or
// key not of the form a room makes is refused, and so is a room whose
// remembered key is unreadable (*UnreadablePinError).
//
// Call Check only once the room has proved it holds the key (a TLS
// handshake finished with it); before that, Precheck.
func (k *KnownRooms) Check(id, fingerprint, name string, change KeyChange) (Trust, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	trust, err := k.decide(id, fingerprint, name, change)
	if err != nil || trust == TrustKnown {
		return trust, err
	}
	known, ok := k.rooms[id]
	if name == "" {
		name = known.name
	}
	if !ok {
		k.lines = append(k.lines, fileLine{id: id})
	}
	k.rooms[id] = knownRoom{fingerprint: fingerprint, since: time.Now().UTC().Truncate(time.Second), name: oneLine(name)}
	if err := k.save(); err != nil {
		return 0, fmt.Errorf("remembering the room's key: %w", err)
	}
	return trust, nil
}

// Precheck is Check that remembers nothing: for a key that a room has only
// claimed (in an mDNS record anyone can send), which may refuse the room
// before it is dialed but must not become its pin.
func (k *KnownRooms) Precheck(id, fingerprint, name string, change KeyChange) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, err := k.decide(id, fingerprint, name, change)
	return err
}

// pinned returns the key remembered for the room with id, if any, or an
// *UnreadablePinError for one whose line is damaged.
func (k *KnownRooms) pinned(id string) (fingerprint string, known bool, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if n, ok := k.damaged[id]; ok {
		return "", false, &UnreadablePinError{ID: id, Path: k.path, Line: n}
	}
	r, ok := k.rooms[id]
	return r.fingerprint, ok, nil
}

// KeyOf returns the key remembered for the room with id, if any: whether
// the person has been in a room found, with the key it shows now.
func (k *KnownRooms) KeyOf(id string) (fingerprint string, known bool) {
	fingerprint, known, err := k.pinned(id)
	return fingerprint, known && err == nil
}

// decide is what Check decides, without remembering; the caller holds k.mu.
func (k *KnownRooms) decide(id, fingerprint, name string, change KeyChange) (Trust, error) {
	switch {
	case id == "":
		return 0, errors.New("the room does not say which room it is (its certificate names no room id); it cannot be checked")
	case !wire.ValidRoomID(id):
		return 0, errors.New("the room's id is not of the form a room makes; it cannot be checked")
	case !wire.ValidFingerprint(fingerprint):
		return 0, errors.New("the room's key is not named as a room's key is; it cannot be checked")
	}
	if n, ok := k.damaged[id]; ok {
		return 0, &UnreadablePinError{ID: id, Path: k.path, Line: n}
	}
	known, ok := k.rooms[id]
	switch {
	case !ok:
		return TrustNew, nil
	case known.fingerprint == fingerprint:
		return TrustKnown, nil
	case change != AcceptKeyChange:
		if name == "" {
			name = known.name
		}
		return 0, &KeyChangedError{ID: id, Name: name, Known: known.fingerprint, Offered: fingerprint, Since: known.since}
	}
	return TrustChanged, nil
}

// oneLine makes a room's name one line of the file that reads back as it
// was written: no controls (Sanitize), single spaces and none at either end
// (Unicode's spaces, no-break and line separators included), and at most
// maxKnownName bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(Sanitize(s)), " ")
	if len(s) <= maxKnownName {
		return s
	}
	cut := maxKnownName
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " ")
}

// save writes the file anew, atomically.
func (k *KnownRooms) save() error {
	return WriteStateFile(k.path, k.encode(), 0o600)
}

// encode returns the file's contents, every line read kept in its place;
// the caller holds k.mu, or has the only reference to k.
func (k *KnownRooms) encode() []byte {
	var b strings.Builder
	b.WriteString(knownRoomsHeader + "\n")
	for _, l := range k.lines {
		if l.id == "" {
			if l.raw != knownRoomsHeader {
				b.WriteString(l.raw + "\n")
			}
			continue
		}
		r := k.rooms[l.id]
		fmt.Fprintf(&b, "%s %s %s", l.id, r.fingerprint, r.since.Format(time.RFC3339))
		if r.name != "" {
			b.WriteString(" " + r.name)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// Pinning is how one run of chatroom join trusts the keys of the rooms it
// meets, the first and every one it reconnects to: a key that a room only
// claims (its mDNS record, its certificate before the handshake is done)
// is checked and never remembered (Check); a key that a room proved in a
// finished TLS handshake is checked and remembered (remembering). A record
// anyone on the LAN can send, naming a real room's id with a key of its
// own, so pins nothing: the real room, when it answers, is a first visit
// as before.
type Pinning struct {
	Known *KnownRooms
	// Fingerprint, when set, is the person's own check (--fingerprint): a
	// room with another key is refused, and the key given replaces the
	// one remembered.
	Fingerprint string
	// AcceptNewKey takes a known room's changed key (--accept-new-key),
	// for the room as first joined only: a key that changes again while
	// reconnecting is refused.
	AcceptNewKey bool
	// Remembered, if not nil, hears of a key remembered anew: a first
	// visit, or a change accepted.
	Remembered func(t Trust, key RoomKey)
	// Warn, if not nil, hears of what the person should know but that
	// does not stop the join: another machine advertising the room's id
	// with another key (DialFound).
	Warn func(text string)

	trusted atomic.Bool // a room's key was remembered or found known
}

// keyChange says whether a known room's other key is to be taken.
func (p *Pinning) keyChange() KeyChange {
	if (p.AcceptNewKey && !p.trusted.Load()) || p.Fingerprint != "" {
		return AcceptKeyChange
	}
	return RefuseKeyChange
}

// Check refuses a room whose key is not to be trusted, remembering
// nothing: for a key a room only claims, before it is dialed or during the
// handshake (as a verifier).
func (p *Pinning) Check(key RoomKey, name string) error {
	if p.Fingerprint != "" && key.Fingerprint != p.Fingerprint {
		return &KeyMismatchError{Expected: p.Fingerprint, Got: key.Fingerprint}
	}
	return p.Known.Precheck(key.ID, key.Fingerprint, name, p.keyChange())
}

// remember checks a key that a room proved in a TLS handshake, and
// remembers it for a room never seen (or a change accepted).
func (p *Pinning) remember(key RoomKey, name string) error {
	if p.Fingerprint != "" && key.Fingerprint != p.Fingerprint {
		return &KeyMismatchError{Expected: p.Fingerprint, Got: key.Fingerprint}
	}
	t, err := p.Known.Check(key.ID, key.Fingerprint, name, p.keyChange())
	if err != nil {
		return err
	}
	p.trusted.Store(true)
	if t != TrustKnown && p.Remembered != nil {
		p.Remembered(t, key)
	}
	return nil
}

// remembering returns dial (dialTLSVerified, dialRoom) remembering the key of
// every room it reaches, as called name ("" keeps the name known), once
// the handshake has finished: only then has the room proved that it holds
// the key, as the handshake's own checks (a verifier) run before the
// room's signature is verified. A room the pins refuse is closed before
// anything is sent to it.
func (p *Pinning) remembering(dial Dialer, name string) Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		conn, err := dial(ctx)
		if err != nil {
			return nil, err
		}
		tc, ok := conn.(*tls.Conn)
		if !ok {
			conn.Close()
			return nil, errors.New("the connection to the room is not TLS, so the room's key cannot be checked")
		}
		key, err := roomKeyOf(tc.ConnectionState())
		if err == nil {
			err = p.remember(key, name)
		}
		if err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
}

// DialAddr returns a Dialer for the room at addr (join --addr): its key is
// checked during the handshake as a key it only claims, and remembered
// once the handshake has proved it (remembering).
func (p *Pinning) DialAddr(addr string, opts ...DialOption) Dialer {
	return p.remembering(dialTLSVerified(addr, func(key RoomKey) error { return p.Check(key, "") }, opts...), "")
}

// Rediscover returns a Reconnect.Rediscover that finds the room again by
// its id (findByID) at the records whose advertised key the pins accept,
// other machines advertising its id skipped, and remembers the key as
// remembering does.
func (p *Pinning) Rediscover(find Finder, local []LocalAddr, opts ...DialOption) func(ctx context.Context, id string) (Dialer, error) {
	byID := findByID(find, func(r discovery.Room) error {
		return p.Check(RoomKey{ID: r.ID, Fingerprint: r.Fingerprint}, r.Name)
	}, local, opts...)
	return func(ctx context.Context, id string) (Dialer, error) {
		dial, err := byID(ctx, id)
		if err != nil {
			return nil, err
		}
		return p.remembering(dial, ""), nil
	}
}
