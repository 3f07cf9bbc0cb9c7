package join

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"chatroom/host/statefile"
)

// KnownRooms remembers the key of every room joined, by room id, as SSH's
// known_hosts remembers host keys: the first key a room shows is trusted
// and kept, and a known room that later shows another key is refused. On a
// shared LAN anyone can announce a room with a known room's id; only the
// real room has its key.
//
// The file has one line per room: id, fingerprint, when it was first seen
// (RFC 3339), and the room's name for people reading it.
type KnownRooms struct {
	path string

	mu    sync.Mutex
	rooms map[string]knownRoom
	order []string // ids in file order, so rewriting keeps it
}

type knownRoom struct {
	fingerprint string
	since       time.Time
	name        string
}

// KnownRoomsFile is the name of the file in the state directory.
const KnownRoomsFile = "known-rooms"

// LoadKnownRooms reads the known rooms at path; a missing file is none. A
// damaged line is an error, never skipped: skipping it would forget a pin.
func LoadKnownRooms(path string) (*KnownRooms, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &KnownRooms{path: path, rooms: make(map[string]knownRoom)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading known rooms: %w", err)
	}
	return parseKnownRooms(path, data)
}

// parseKnownRooms reads data, the contents of the known rooms file at path
// (which errors name), apart from reading the file so that it can be
// fuzzed.
func parseKnownRooms(path string, data []byte) (*KnownRooms, error) {
	k := &KnownRooms{path: path, rooms: make(map[string]knownRoom)}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, " ", 4)
		if len(fields) < 3 || !strings.HasPrefix(fields[1], "SHA256:") {
			return nil, fmt.Errorf("%s:%d is damaged; fix or remove that line", path, n)
		}
		since, err := time.Parse(time.RFC3339, fields[2])
		if err != nil {
			return nil, fmt.Errorf("%s:%d is damaged (%v); fix or remove that line", path, n, err)
		}
		// time.Parse takes offsets such as +24:60 that Format writes as
		// +25:00, which it refuses: kept, such a time would make the
		// file unreadable once the next room is saved.
		if _, err := time.Parse(time.RFC3339, since.Format(time.RFC3339)); err != nil {
			return nil, fmt.Errorf("%s:%d is damaged (time zone offset out of range in %q); fix or remove that line", path, n, fields[2])
		}
		r := knownRoom{fingerprint: fields[1], since: since}
		if len(fields) == 4 {
			r.name = fields[3]
		}
		if _, dup := k.rooms[fields[0]]; !dup {
			k.order = append(k.order, fields[0])
		}
		k.rooms[fields[0]] = r
	}
	return k, sc.Err()
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
		room, e.Known, e.Since.Format("2006-01-02"), e.Offered)
}

// Trust is what KnownRooms.Check decided about a key.
type Trust int

const (
	TrustKnown   Trust = iota // the room's remembered key
	TrustNew                  // a room never seen before: now remembered
	TrustChanged              // a changed key the person chose to accept: now remembered
)

// Check checks that the room with id shows fingerprint, remembering it for
// a room never seen. A known room showing another key is a
// *KeyChangedError, unless acceptChange says to take the new key.
func (k *KnownRooms) Check(id, fingerprint, name string, acceptChange bool) (Trust, error) {
	if id == "" {
		return 0, errors.New("the room does not say which room it is (its certificate names no room id); it cannot be checked")
	}
	if strings.ContainsAny(id, " \n") || strings.ContainsAny(fingerprint, " \n") {
		return 0, errors.New("the room's id or key is malformed")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	known, ok := k.rooms[id]
	if ok && known.fingerprint == fingerprint {
		return TrustKnown, nil
	}
	if ok && !acceptChange {
		if name == "" {
			name = known.name
		}
		return 0, &KeyChangedError{ID: id, Name: name, Known: known.fingerprint, Offered: fingerprint, Since: known.since}
	}
	trust := TrustNew
	if ok {
		trust = TrustChanged
	}
	if name == "" {
		name = known.name
	}
	if !ok {
		k.order = append(k.order, id)
	}
	k.rooms[id] = knownRoom{fingerprint: fingerprint, since: time.Now().UTC().Truncate(time.Second), name: oneLine(name)}
	if err := k.save(); err != nil {
		return 0, fmt.Errorf("remembering the room's key: %w", err)
	}
	return trust, nil
}

// oneLine keeps a room's name to one line of the file.
func oneLine(s string) string {
	return strings.Join(strings.Fields(Sanitize(s)), " ")
}

// save writes the file anew, atomically.
func (k *KnownRooms) save() error {
	return statefile.WriteAtomic(k.path, k.encode(), 0o600)
}

// encode returns the file's contents; the caller holds k.mu, or has the
// only reference to k.
func (k *KnownRooms) encode() []byte {
	var b strings.Builder
	b.WriteString("# rooms joined, and their keys: id fingerprint first-seen name\n")
	for _, id := range k.order {
		r := k.rooms[id]
		fmt.Fprintf(&b, "%s %s %s %s\n", id, r.fingerprint, r.since.Format(time.RFC3339), r.name)
	}
	return []byte(b.String())
}
