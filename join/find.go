package join

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"chatroom/discovery"
	"chatroom/host/wire"
)

// Finder finds the rooms on the network: discovery.Browse in the program,
// a fake in tests.
type Finder func(ctx context.Context) ([]discovery.Room, error)

// Picker lets the person choose one of several rooms, by index; false when
// there is no one to ask (line mode) or they chose none.
type Picker func(rooms []discovery.Room) (int, bool)

// ErrNoRooms means browsing found no room at all.
var ErrNoRooms = errors.New("no room found on the network")

// AmbiguousError means several rooms match and no one could choose.
type AmbiguousError struct {
	Query string
	Rooms []discovery.Room
}

func (e *AmbiguousError) Error() string {
	what := "several rooms found"
	if e.Query != "" {
		what = fmt.Sprintf("several rooms are called %q", Sanitize(e.Query))
	}
	return what + "; choose one with --addr HOST:PORT (chatroom list shows them)"
}

// NoRoomCalledError means rooms were found, but none by the name asked for.
type NoRoomCalledError struct {
	Query string
	Found []string // the names found, sanitized and quoted
}

func (e *NoRoomCalledError) Error() string {
	return fmt.Sprintf("no room called %q; found %s", Sanitize(e.Query), strings.Join(e.Found, ", "))
}

// FindRoom finds the room to join: the one called query (compared without
// case, or by id), or any when query is "". One match is the answer; among
// several, pick chooses. It returns every record found with the chosen
// room's id: one, or several when machines advertise that id with
// different keys (a clone of the room, which Pinning.DialFound tells
// apart). Records with one id count as one room here, so that a clone
// never makes the person choose between the room and itself.
func FindRoom(ctx context.Context, find Finder, query string, pick Picker) ([]discovery.Room, error) {
	rooms, err := find(ctx)
	if err != nil {
		return nil, err
	}
	if len(rooms) == 0 {
		return nil, ErrNoRooms
	}
	var candidates []discovery.Room // one record per id
	for _, r := range rooms {
		if query != "" && !strings.EqualFold(r.Name, query) && r.ID != query {
			continue
		}
		if !slices.ContainsFunc(candidates, func(c discovery.Room) bool { return c.ID == r.ID }) {
			candidates = append(candidates, r)
		}
	}
	if len(candidates) == 0 {
		var names []string
		var seen []string // ids: a clone's record is not another room
		for _, r := range rooms {
			if !slices.Contains(seen, r.ID) {
				seen = append(seen, r.ID)
				names = append(names, strconv.Quote(Sanitize(r.Name)))
			}
		}
		return nil, &NoRoomCalledError{Query: query, Found: names}
	}
	chosen := -1
	if len(candidates) == 1 {
		chosen = 0
	} else if pick != nil {
		if i, ok := pick(candidates); ok && i >= 0 && i < len(candidates) {
			chosen = i
		}
	}
	if chosen < 0 {
		return nil, &AmbiguousError{Query: query, Rooms: candidates}
	}
	var same []discovery.Room
	for _, r := range rooms {
		if r.ID == candidates[chosen].ID {
			same = append(same, r)
		}
	}
	return same, nil
}

// RoomLine describes a found room on one line, its columns separated by
// tabs, as chatroom list prints it: name, host, the address join dials it
// at first (ShownAddr, with this machine's addresses), id, its key's tag
// and, with known (the rooms the person knows; nil leaves it out),
// whether the person has been in it ("new", "visited", or
// "visited-other-key": joined before, but the room shows another key now),
// so that two rooms of one name on two machines are told apart; then its
// topic, when it has one.
func RoomLine(r discovery.Room, known *KnownRooms) string {
	return roomLine(r, known, LocalAddrs())
}

func roomLine(r discovery.Room, known *KnownRooms, local []LocalAddr) string {
	line := fmt.Sprintf("%s\t%s\t%s\tid %s\tkey %s", Sanitize(r.Name), Sanitize(r.Host), ShownAddr(r, local), Sanitize(r.ID), Sanitize(wire.KeyTag(r.Fingerprint)))
	if known != nil {
		line += "\t" + VisitStatus(r, known)
	}
	if r.Topic != "" {
		line += "\ttopic: " + Sanitize(r.Topic)
	}
	return line
}

// VisitStatus says whether the person has been in r, by the rooms they
// know: "new", "visited", or "visited-other-key" (joined before, but the
// room shows another key now); "" when known is nil (unknown).
func VisitStatus(r discovery.Room, known *KnownRooms) string {
	if known == nil {
		return ""
	}
	switch fingerprint, ok := known.KeyOf(r.ID); {
	case !ok:
		return "new"
	case fingerprint == r.Fingerprint:
		return "visited"
	default:
		return "visited-other-key"
	}
}

// DescribeRoom names a found room in a sentence, with the address it was
// reached at:
//
//	"Lab 3" on lab-pc.local. (id 3f9a2c71d0e4b5a6) at 10.0.0.5:7465
func DescribeRoom(r discovery.Room, addr string) string {
	return fmt.Sprintf("%q on %s (id %s) at %s", Sanitize(r.Name), Sanitize(r.Host), Sanitize(r.ID), Sanitize(addr))
}

// ShownAddr is the address to show for a room, host:port: the first that
// join dials (dialOrder), so that what the person reads, and may copy
// into --addr, is where join would go. The room's first advertised
// address may be an idle docker0's 172.17.0.1, which on a machine with a
// docker0 of its own is that machine; this machine's own addresses are
// skipped (DialAddrs). "-" when there is no other.
func ShownAddr(r discovery.Room, local []LocalAddr) string {
	if addrs, _ := DialAddrs(r, local); len(addrs) > 0 {
		return Sanitize(addrs[0])
	}
	return "-"
}

// DialAddrs returns, as host:port, the room's addresses that join dials,
// in the order it tries them, and apart those that are this machine's own
// on an interface where the room was not found: what answers there is
// this machine, never the room (join tries them last, and does not take
// another key there for the room's).
func DialAddrs(r discovery.Room, local []LocalAddr) (addrs, own []string) {
	for _, c := range dialOrder(r, local) {
		if c.self {
			own = append(own, c.addr)
		} else {
			addrs = append(addrs, c.addr)
		}
	}
	return addrs, own
}

// LocalAddr is one of this machine's addresses, on the interface that
// holds it.
type LocalAddr struct {
	Iface  string
	Prefix netip.Prefix // the address, with its network's length
}

// LocalAddrs returns this machine's addresses, so that a room's are dialed
// in a sensible order (dialOrder).
func LocalAddrs() []LocalAddr {
	ifcs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var local []LocalAddr
	for _, ifc := range ifcs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipnet, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipnet.IP)
			if !ok {
				continue
			}
			ones, _ := ipnet.Mask.Size()
			local = append(local, LocalAddr{Iface: ifc.Name, Prefix: netip.PrefixFrom(ip.Unmap(), ones)})
		}
	}
	return local
}

// dialRoom returns a Dialer for a room found on the network. It tries the
// room's addresses in dialOrder and checks the key shown at each against
// the fingerprint the room advertised: an address that shows another key
// is not the room, and the next is tried (a machine's own docker0, say,
// which another machine advertises too). Only when no address shows the
// key is the dial refused, with the loud *KeyMismatchError, naming where
// another key was shown; a wrong key at this machine's own address is not
// the room's, and is not reported as a mismatch. So is a room whose
// certificate names another id than the one advertised. A room whose
// advertised id or key is not of the form a room makes is not dialed at
// all.
//
// The advertised key is only a claim, which anyone on the LAN can make:
// only once a room has proved it in a handshake may it be pinned
// (Pinning.Dialer).
func dialRoom(room discovery.Room, local []LocalAddr, opts ...DialOption) Dialer {
	cands := dialOrder(room, local)
	return func(ctx context.Context) (net.Conn, error) {
		if !wire.ValidRoomID(room.ID) || !wire.ValidFingerprint(room.Fingerprint) {
			return nil, fmt.Errorf("the room %q is advertised with an id or key not of the form a room makes", Sanitize(room.Name))
		}
		if len(cands) == 0 {
			return nil, fmt.Errorf("the room %q advertises no address", Sanitize(room.Name))
		}
		conn, tried := dialCandidates(ctx, room.ID, room.Fingerprint, cands, opts)
		if conn != nil {
			return conn, nil
		}
		return nil, tried.err(room.Fingerprint)
	}
}

// candidate is one address to try a room at.
type candidate struct {
	addr string // host:port
	// self is an address of this machine's own, on an interface where
	// the room was not found: what answers there is this machine.
	self  bool
	iface string // self's interface
}

// attempted is what came of trying a room's candidates.
type attempted struct {
	mismatches []*KeyMismatchError // another key, where the room could be
	selfKeys   []string            // "172.17.0.1:7465 (docker0)": this machine answered
	errs       []error             // no connection
	stopped    error               // ctx ended
}

// err is the error that ends a dial that reached no room showing want.
func (t attempted) err(want string) error {
	if t.stopped != nil {
		return t.stopped
	}
	if len(t.mismatches) > 0 {
		return t.mismatches[0]
	}
	errs := t.errs
	if len(t.selfKeys) > 0 {
		errs = append(errs, fmt.Errorf("%s is this machine's own address, where another room answers: not the room", strings.Join(t.selfKeys, ", ")))
	}
	switch len(errs) {
	case 0:
		return fmt.Errorf("no address to try the room %s at", want)
	case 1:
		return errs[0]
	}
	return dialErrors(errs)
}

// dialErrors is what each of a room's addresses met, said on one line:
// "cannot connect to the room: 10.0.0.5:7465 refused …; no answer from
// 172.17.0.1:7465 within 10s".
type dialErrors []error

func (e dialErrors) Error() string {
	const prefix = "cannot connect to the room: "
	parts := make([]string, len(e))
	for i, err := range e {
		parts[i] = strings.TrimPrefix(err.Error(), prefix)
	}
	return prefix + strings.Join(parts, "; ")
}

func (e dialErrors) Unwrap() []error { return e }

// dialCandidates tries cands in order until one shows the key want (and a
// certificate naming id), and returns that connection, or nil and what
// each attempt met.
func dialCandidates(ctx context.Context, id, want string, cands []candidate, opts []DialOption) (net.Conn, attempted) {
	var t attempted
	for _, c := range cands {
		conn, err := dialTLS(c.addr, want, nil, func(k RoomKey) error {
			if k.ID != id {
				return fmt.Errorf("the room at %s is not the one advertised: its certificate names room %q, not %q",
					c.addr, Sanitize(k.ID), Sanitize(id))
			}
			return nil
		}, opts)(ctx)
		if err == nil {
			return conn, t
		}
		if ctx.Err() != nil {
			t.stopped = err
			return nil, t
		}
		var mismatch *KeyMismatchError
		switch {
		case errors.As(err, &mismatch) && c.self:
			t.selfKeys = append(t.selfKeys, fmt.Sprintf("%s (%s)", c.addr, c.iface))
		case errors.As(err, &mismatch):
			t.mismatches = append(t.mismatches, &KeyMismatchError{Expected: mismatch.Expected, Got: mismatch.Got, Addr: c.addr})
		default:
			t.errs = append(t.errs, err)
		}
	}
	return nil, t
}

// dialOrder returns the room's addresses in the order to try them: first
// those on a network of an interface where the room was found (the
// answer came that way), then those on another of this machine's
// networks, then the rest (each unreachable address costs a timeout), and
// last this machine's own addresses on interfaces where the room was not
// found. An idle docker0 has 172.17.0.1 on every machine: a room that
// advertises its own is, dialed there, this machine. Within each, the
// advertised order is kept.
func dialOrder(room discovery.Room, local []LocalAddr) []candidate {
	const (
		foundHere = iota
		onLocalNet
		elsewhere
		self
	)
	port := strconv.Itoa(room.Port)
	type ranked struct {
		candidate
		rank int
	}
	var all []ranked
	for _, a := range room.Addrs {
		c := ranked{candidate: candidate{addr: net.JoinHostPort(a.String(), port)}, rank: elsewhere}
		if z := a.Zone(); z != "" {
			// A link-local address is on the interface its zone names.
			if slices.Contains(room.Ifaces, z) {
				c.rank = foundHere
			}
			all = append(all, c)
			continue
		}
		for _, l := range local {
			found := slices.Contains(room.Ifaces, l.Iface)
			switch {
			case l.Prefix.Addr() == a && !found:
				c.rank, c.self, c.iface = self, true, l.Iface
			case l.Prefix.Masked().Contains(a) && found:
				c.rank = min(c.rank, foundHere)
			case l.Prefix.Masked().Contains(a):
				c.rank = min(c.rank, onLocalNet)
			}
			if c.self {
				break
			}
		}
		all = append(all, c)
	}
	slices.SortStableFunc(all, func(a, b ranked) int { return a.rank - b.rank })
	cands := make([]candidate, len(all))
	for i, c := range all {
		cands[i] = c.candidate
	}
	return cands
}

// CloneError is a room id advertised, or answered for, with more than one
// key, where nothing tells which is the room: a first visit (nothing
// remembered) or a changed key being accepted. One of them is another
// machine pretending to be the room. The person must choose, with
// --fingerprint, the key the room's host printed.
type CloneError struct {
	ID, Name string
	Keys     []KeyAt
	// Known, when set, is the room's known key, which did not answer,
	// though it was advertised at KnownAt (if any); Keys are the other
	// keys that answered.
	Known   string
	KnownAt []string
}

// KeyAt is a key and where it was advertised or shown.
type KeyAt struct {
	Fingerprint string
	Addrs       []string
}

func (k KeyAt) String() string {
	if len(k.Addrs) == 0 {
		return Sanitize(k.Fingerprint)
	}
	return Sanitize(k.Fingerprint) + " at " + Sanitize(strings.Join(k.Addrs, ", "))
}

func (e *CloneError) Error() string {
	if e.Known != "" {
		advice := "if its host lost its key, ask which key it printed, and join with --fingerprint KEY"
		if len(e.KnownAt) > 0 {
			advice = fmt.Sprintf("the room is advertised at %s, but did not answer: try again when it is back", Sanitize(strings.Join(e.KnownAt, ", ")))
		}
		return fmt.Sprintf("%s did not answer with its known key %s; %s for its id: %s; %s pretending to be the room; %s",
			roomName(e.ID, e.Name), Sanitize(e.Known),
			plural(len(e.Keys), "another key answered", "other keys answered"), keyList(e.Keys),
			plural(len(e.Keys), "that is another machine", "those are other machines"), advice)
	}
	return fmt.Sprintf("%s is advertised with %d different keys: %s; "+
		"only one of them is the room, and another machine is pretending to be it; "+
		"ask the room's host which key it printed, and join with --fingerprint KEY",
		roomName(e.ID, e.Name), len(e.Keys), keyList(e.Keys))
}

// Clones returns, for each id among rooms advertised with more than one
// key, a *CloneError naming its keys, in the order rooms lists them.
func Clones(rooms []discovery.Room) []*CloneError {
	byID := map[string]*CloneError{}
	var out []*CloneError
	for _, r := range rooms {
		e, ok := byID[r.ID]
		if !ok {
			e = &CloneError{ID: r.ID, Name: r.Name}
			byID[r.ID] = e
		}
		at := make([]string, len(r.Addrs))
		for i, a := range r.Addrs {
			at[i] = a.String()
		}
		e.Keys = append(e.Keys, KeyAt{Fingerprint: r.Fingerprint, Addrs: at})
		if len(e.Keys) == 2 {
			out = append(out, e)
		}
	}
	return out
}

// cloneWarning is what the person is told when the room was joined with
// the key they trust (known, or given) while another machine advertises
// its id with other keys.
func cloneWarning(id, name, trusted string, others []KeyAt) string {
	return fmt.Sprintf("%s, joined with its key %s, is also advertised with %s: %s; "+
		"%s pretending to be the room, and not joined",
		roomName(id, name), Sanitize(trusted), plural(len(others), "another key", "other keys"), keyList(others),
		plural(len(others), "that is another machine", "those are other machines"))
}

func roomName(id, name string) string {
	if name == "" {
		return "room " + Sanitize(id)
	}
	return fmt.Sprintf("room %q (id %s)", Sanitize(name), Sanitize(id))
}

func keyList(keys []KeyAt) string {
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = k.String()
	}
	return strings.Join(s, ", and ")
}

// keysOf groups records, all with one id, by the key they advertise, in
// the order first seen, with the addresses advertised for each.
func keysOf(records []discovery.Room) []KeyAt {
	var keys []KeyAt
	for _, r := range records {
		i := slices.IndexFunc(keys, func(k KeyAt) bool { return k.Fingerprint == r.Fingerprint })
		if i < 0 {
			keys = append(keys, KeyAt{Fingerprint: r.Fingerprint})
			i = len(keys) - 1
		}
		for _, a := range r.Addrs {
			addr := net.JoinHostPort(a.String(), strconv.Itoa(r.Port))
			if !slices.Contains(keys[i].Addrs, addr) {
				keys[i].Addrs = append(keys[i].Addrs, addr)
			}
		}
	}
	return keys
}

// DialFound returns a Dialer for a room found on the network as records
// (FindRoom: every record with its id), that goes on only with the room
// whose key the person trusts, and remembers it once proved (remembering):
//
//   - A key given (--fingerprint), or the key remembered for the room: the
//     records advertising it are tried first, then every other record
//     with the id (a clone's record may name the room's address), each
//     address checked for that key alone. Another key shown at an address
//     is not the room: the next is tried. Only when no address shows the
//     key is the join refused: *KeyChangedError (which suggests
//     --accept-new-key) when one other key was shown and no record
//     advertises the known key; a *CloneError when several were; a
//     *KeyMismatchError for a key given. A clone beside the room is told
//     to the person (Warn) and never joined.
//   - A first visit, or a changed key being accepted: the one key the
//     records advertise, checked at each address, and remembered once
//     proved. Records advertising several keys are a *CloneError: the
//     person chooses with --fingerprint.
//
// Once the room has been joined, a key error met dialing it again (while
// reconnecting) is another machine, not the room: it is said, and does
// not end the member's session (notTheRoomError).
func (p *Pinning) DialFound(records []discovery.Room, local []LocalAddr, opts ...DialOption) (Dialer, error) {
	var valid []discovery.Room
	for _, r := range records {
		if wire.ValidRoomID(r.ID) && wire.ValidFingerprint(r.Fingerprint) {
			valid = append(valid, r)
		}
	}
	if len(valid) == 0 {
		name := ""
		if len(records) > 0 {
			name = records[0].Name
		}
		return nil, fmt.Errorf("the room %q is advertised with an id or key not of the form a room makes", Sanitize(name))
	}
	id, name := valid[0].ID, valid[0].Name
	keys := keysOf(valid)

	want, fromPin := p.Fingerprint, false
	if want == "" {
		pin, known, err := p.Known.pinned(id)
		if err != nil {
			return nil, err
		}
		if known && p.keyChange() == RefuseKeyChange {
			want, fromPin = pin, true
		}
	}
	if want == "" {
		if len(keys) > 1 {
			return nil, &CloneError{ID: id, Name: name, Keys: keys}
		}
		want = keys[0].Fingerprint
	}

	// The records advertising the key wanted first, then the others.
	var ordered []discovery.Room
	for _, wanted := range []bool{true, false} {
		for _, r := range valid {
			if (r.Fingerprint == want) == wanted {
				ordered = append(ordered, r)
			}
		}
	}
	var cands []candidate
	for _, r := range ordered {
		for _, c := range dialOrder(r, local) {
			if !slices.ContainsFunc(cands, func(have candidate) bool { return have.addr == c.addr }) {
				cands = append(cands, c)
			}
		}
	}
	var others []KeyAt
	for _, k := range keys {
		if k.Fingerprint != want {
			others = append(others, k)
		}
	}
	wantAdvertised := slices.ContainsFunc(keys, func(k KeyAt) bool { return k.Fingerprint == want })
	var warned sync.Once

	dial := func(ctx context.Context) (net.Conn, error) {
		if len(cands) == 0 {
			return nil, fmt.Errorf("the room %q advertises no address", Sanitize(name))
		}
		conn, tried := dialCandidates(ctx, id, want, cands, opts)
		if conn != nil {
			if len(others) > 0 && p.Warn != nil {
				warned.Do(func() { p.Warn(cloneWarning(id, name, want, others)) })
			}
			return conn, nil
		}
		err := tried.err(want)
		if tried.stopped != nil || len(tried.mismatches) == 0 {
			return nil, err
		}
		var shown []KeyAt // the other keys shown, where
		for _, m := range tried.mismatches {
			i := slices.IndexFunc(shown, func(k KeyAt) bool { return k.Fingerprint == m.Got })
			if i < 0 {
				shown = append(shown, KeyAt{Fingerprint: m.Got})
				i = len(shown) - 1
			}
			shown[i].Addrs = append(shown[i].Addrs, m.Addr)
		}
		switch {
		case p.trusted.Load():
			return nil, &notTheRoomError{err}
		case !fromPin:
			// The *KeyMismatchError: not the key given, or not the one
			// the room advertised.
			return nil, err
		case len(shown) == 1 && !wantAdvertised:
			// Nothing advertises the known key, and one other key
			// answers: the room's key may really have changed.
			return nil, p.Known.Precheck(id, shown[0].Fingerprint, name, RefuseKeyChange)
		}
		return nil, &CloneError{ID: id, Name: name, Known: want, KnownAt: addrsOf(keys, want), Keys: shown}
	}
	return p.remembering(dial, name), nil
}

// addrsOf returns where keys say fingerprint was advertised.
func addrsOf(keys []KeyAt, fingerprint string) []string {
	for _, k := range keys {
		if k.Fingerprint == fingerprint {
			return k.Addrs
		}
	}
	return nil
}
