package tui

import (
	"sync"

	"chatroom/join"
)

// plainNotes turns the client's own lines into plain lines, as line mode
// prints them and the log keeps them: "!! " before a warning, "-- " before
// the rest. Plain lines cannot replace one another as the prompt's status
// line does, so of an outage's statuses only the first and the last are
// kept. Its zero value is ready; it is safe for use from several
// goroutines.
type plainNotes struct {
	mu     sync.Mutex
	outage bool // a status of the current outage was given
}

// line returns n as a plain line, or false when it is an outage's status
// between its first and its last, which is left out.
func (p *plainNotes) line(n join.Note) (string, bool) {
	prefix := "-- "
	switch n.Kind {
	case join.Warning:
		prefix = "!! "
	case join.Progress, join.Settled:
		p.mu.Lock()
		shown := p.outage
		p.outage = n.Kind == join.Progress
		p.mu.Unlock()
		if shown && n.Kind == join.Progress {
			return "", false
		}
	}
	return prefix + n.Text, true
}
