package join

import (
	"slices"
	"strings"
	"sync"

	"chatroom/host/wire"
)

// Roster is the client's picture of the room: who is in it with which
// role, who spoke last, which commands the host offers and, for an admin,
// who is banned. It starts from the welcome and follows the frames
// Session.Next returns, so a UI can complete names and commands without
// asking the host.
//
// Its methods are safe to call from the UI's goroutine while another
// goroutine reads frames: the lock guards only this client's copy, the
// room's state lives in the host.
type Roster struct {
	me       string
	commands []wire.Command // fixed at the welcome: every command the host knows

	mu     sync.Mutex
	roles  map[string]string // name -> role, for everyone present
	recent []string          // present members who spoke, most recent first
	bans   []string          // banned names, as the host last sent them to this admin
}

func newRoster(welcome wire.Frame) *Roster {
	r := &Roster{
		commands: slices.Clone(welcome.Commands),
		roles:    make(map[string]string, len(welcome.Members)+1),
		bans:     slices.Clone(welcome.Bans),
	}
	for _, m := range welcome.Members {
		r.roles[m.Name] = m.Role
	}
	if welcome.You != nil {
		r.me = welcome.You.Name
		r.roles[r.me] = welcome.You.Role
	}
	return r
}

// Me is the person's own name in the room.
func (r *Roster) Me() string { return r.me }

// Members returns everyone in the room, the person included, sorted by
// name.
func (r *Roster) Members() []wire.Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	ms := make([]wire.Member, 0, len(r.roles))
	for name, role := range r.roles {
		ms = append(ms, wire.Member{Name: name, Role: role})
	}
	slices.SortFunc(ms, func(a, b wire.Member) int { return compareNames(a.Name, b.Name) })
	return ms
}

// Role returns the role of name, and whether name is in the room.
func (r *Roster) Role(name string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	role, ok := r.roles[name]
	return role, ok
}

// Names returns everyone in the room in the order a completion should
// offer them: those who spoke most recently first (the person one is
// answering), then the others by name, and the person themself last.
func (r *Roster) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.roles))
	spoke := make(map[string]bool, len(r.recent))
	for _, n := range r.recent {
		names = append(names, n)
		spoke[n] = true
	}
	rest := make([]string, 0, len(r.roles)-len(names))
	for n := range r.roles {
		if !spoke[n] && n != r.me {
			rest = append(rest, n)
		}
	}
	slices.SortFunc(rest, compareNames)
	names = append(names, rest...)
	if _, ok := r.roles[r.me]; ok {
		names = append(names, r.me)
	}
	return names
}

// Commands returns the commands the person may use now: those the
// host's welcome listed, without the admin ones unless the person is an
// admin at present, so that completion follows /op and /deop.
func (r *Roster) Commands() []wire.Command {
	r.mu.Lock()
	admin := isAdmin(r.roles[r.me])
	r.mu.Unlock()
	var cmds []wire.Command
	for _, c := range r.commands {
		if !c.Admin || admin {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// Banned returns the names on the room's ban list, sorted, as the host
// last told this person; none unless the person is an admin.
func (r *Roster) Banned() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !isAdmin(r.roles[r.me]) {
		return nil
	}
	names := slices.Clone(r.bans)
	slices.SortFunc(names, compareNames)
	return names
}

func isAdmin(role string) bool {
	return role == wire.RoleAdmin || role == wire.RoleOwner
}

// apply updates the roster from one frame from the host.
func (r *Roster) apply(f wire.Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch f.Type {
	case wire.TypeEvent:
		switch f.Kind {
		case wire.KindJoin, wire.KindRole:
			r.roles[f.Name] = f.Role
		case wire.KindLeave:
			if f.Name != r.me {
				delete(r.roles, f.Name)
				r.recent = slices.DeleteFunc(r.recent, func(n string) bool { return n == f.Name })
			}
		case wire.KindSay, wire.KindMe:
			r.spoke(f.From)
		}
	case wire.TypeBans:
		r.bans = slices.Clone(f.Bans)
	case wire.TypePrivate:
		// Whoever one exchanges private messages with is the likeliest
		// next name to type, whichever way the message went.
		if f.From == r.me {
			r.spoke(f.To)
		} else {
			r.spoke(f.From)
		}
	}
}

// spoke moves name to the front of the recent speakers. The person
// themself is always last in Names, so is not tracked, nor is anyone not
// in the room (a message can cross its sender's leave).
func (r *Roster) spoke(name string) {
	if name == r.me {
		return
	}
	if _, ok := r.roles[name]; !ok {
		return
	}
	if i := slices.Index(r.recent, name); i >= 0 {
		r.recent = slices.Delete(r.recent, i, i+1)
	}
	r.recent = slices.Insert(r.recent, 0, name)
}

// compareNames orders names as a person reads a list: ignoring case first,
// then by bytes so that the order is total.
func compareNames(a, b string) int {
	if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}
