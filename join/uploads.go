package join

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"

	"chatroom/host/wire"
)

// uploadsFile is the file, in the person's state directory (beside
// KnownRoomsFile), that keeps the uploads offered and not yet stored: a
// client killed half-way through one goes on with it when the same file
// is offered to the same room again, rather than offering it anew.
const uploadsFile = "uploads"

// maxPendingUploads bounds the uploads kept: the oldest go first.
const maxPendingUploads = 100

// maxUploadsFileBytes bounds what is read of the file: a damaged one (or
// one written by someone else) costs no more memory than that.
const maxUploadsFileBytes = 1 << 20

// pendingUpload is one offer whose upload is not known to be stored: the
// room (its id), the file (its sha256, size and path, and whom it was
// for), and what the room gave for it (its number, ID and upload Token).
type pendingUpload struct {
	Room   string `json:"room"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	To     string `json:"to,omitempty"`
	Path   string `json:"path"`
	Number int    `json:"number"`
	ID     string `json:"id"`
	Token  string `json:"token"`
}

// pendingUploads is the uploads file, read afresh at each use and written
// whole (WriteStateFile), so that two clients of the same person lose
// little of each other's entries. Only the owner goroutine uses it. With
// no path (no state directory), it keeps its entries in memory.
type pendingUploads struct {
	path    string
	entries []pendingUpload // without a path
	warn    func(string)
}

// uploads is the client's pendingUploads, made at first use.
func (c *client) uploads() *pendingUploads {
	if c.pending == nil {
		c.pending = &pendingUploads{warn: func(s string) { c.ui.Note(Note{Warning, s}) }}
		if c.opts.StateDir != "" {
			c.pending.path = filepath.Join(c.opts.StateDir, uploadsFile)
		}
	}
	return c.pending
}

// read returns the entries the file holds. A line that cannot be read
// costs that entry, with a warning; a file that cannot be read at all,
// its entries.
func (p *pendingUploads) read() []pendingUpload {
	if p.path == "" {
		return append([]pendingUpload(nil), p.entries...)
	}
	f, err := os.Open(p.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		p.warn(fmt.Sprintf("%s cannot be read (%s): uploads of earlier runs start over", p.path, InWords(err)))
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUploadsFileBytes))
	if err != nil {
		p.warn(fmt.Sprintf("%s cannot be read (%s): uploads of earlier runs start over", p.path, InWords(err)))
		return nil
	}
	entries, bad := parseUploads(data)
	if bad > 0 {
		p.warn(fmt.Sprintf("%s: %d damaged %s skipped (those uploads start over)", p.path, bad, plural(bad, "entry", "entries")))
	}
	return entries
}

// parseUploads reads the uploads file's entries from data, one JSON
// object a line, and counts the lines it could not take: a line that
// is not such an object, or whose entry is not one the client could have
// written (a file's sha256, size and number as the room gives them, an
// ID and Token it would send back), since the file may be damaged or
// written by someone else. Each costs its own entry alone.
func parseUploads(data []byte) (entries []pendingUpload, bad int) {
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var e pendingUpload
		if err := json.Unmarshal(line, &e); err != nil || !e.usable() {
			bad++
			continue
		}
		entries = append(entries, e)
	}
	return entries, bad
}

// usable reports whether e is an entry the client could have written.
func (e pendingUpload) usable() bool {
	return e.Room != "" && len(e.Room) <= maxCapability && utf8.ValidString(e.Room) &&
		wire.CheckSHA256(e.SHA256) == nil && e.Size > 0 && e.Size <= maxFetchSize && e.Number >= 0 &&
		checkCapability(e.ID, "id") == nil && checkCapability(e.Token, "upload token") == nil &&
		utf8.ValidString(e.To) && utf8.ValidString(e.Path)
}

func (p *pendingUploads) write(entries []pendingUpload) {
	if len(entries) > maxPendingUploads {
		entries = entries[len(entries)-maxPendingUploads:]
	}
	if p.path == "" {
		p.entries = entries
		return
	}
	var buf bytes.Buffer
	for _, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			continue
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if err := WriteStateFile(p.path, buf.Bytes(), 0o600); err != nil {
		p.warn(fmt.Sprintf("%s cannot be written (%s): an upload cut short will start over", p.path, InWords(err)))
	}
}

// find returns the upload offered to room of the file with sha256 and
// size, for to, if one is kept.
func (p *pendingUploads) find(room, sha256 string, size int64, to string) (pendingUpload, bool) {
	if room == "" {
		return pendingUpload{}, false
	}
	entries := p.read()
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Room == room && e.SHA256 == sha256 && e.Size == size && e.To == to {
			return e, true
		}
	}
	return pendingUpload{}, false
}

// add keeps e, in place of any for the same file in the same room.
func (p *pendingUploads) add(e pendingUpload) {
	if e.Room == "" {
		return // a room with no id cannot be told from another next time
	}
	entries := p.read()
	kept := entries[:0]
	for _, old := range entries {
		if !(old.Room == e.Room && old.SHA256 == e.SHA256 && old.Size == e.Size && old.To == e.To) {
			kept = append(kept, old)
		}
	}
	p.write(append(kept, e))
}

// remove forgets the upload of room whose ID is id.
func (p *pendingUploads) remove(room, id string) {
	if room == "" || id == "" {
		return
	}
	entries := p.read()
	kept := entries[:0]
	for _, e := range entries {
		if !(e.Room == room && e.ID == id) {
			kept = append(kept, e)
		}
	}
	if len(kept) != len(entries) {
		p.write(kept)
	}
}
