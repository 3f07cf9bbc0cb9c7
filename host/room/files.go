package room

import (
	"time"

	"chatroom/host/wire"
)

// # Files on offer
//
// A member offers a file with an "offer" frame (see Files in
// wire/files.go), which the host hands the room as [Room.Offer]. The room
// checks it as it checks a line, numbers it, and has the host's store
// ([Files]) declare it; the member alone is answered with the offer's ID
// and upload Token. The file is shown to the room only once the host has
// it whole and checked ([Room.FileStored]); the host tells the room when
// it drops one ([Room.FileGone]). The room keeps the offers it knows in
// its own state, on its goroutine like the rest; the store keeps the
// files and what the room needs to know them again after a restart
// (Config.Offers).

// Offer is a file on offer in the room, as the room and the host's store
// know it.
type Offer struct {
	Number  int    // the room's number for it ("/get N")
	ID      string // the store's id: the fetch capability
	Token   string // the upload capability (offerer only)
	Name    string // checked by wire.CheckFileName
	Size    int64
	SHA256  string // 64 lowercase hex
	From    string // name of who offered it
	FromKey string // identity key fingerprint of who offered it, "" for none
	To      string // "" for the whole room; else the one member's name
	ToKey   string // that member's identity key at offer time, "" for none
	Owner   string // what the store counts it against: "key:"+FromKey, or "addr:"+address
	Offered time.Time
	Expires time.Time
	Stored  bool // every byte in and sha256-checked: announced and fetchable
}

// Files is the host's store of offered files as the room uses it, called
// on the room goroutine (each call is quick: a small metadata write).
type Files interface {
	// Declare checks o against the host's limits, reserves its space and
	// fills in ID, Token, Offered and Expires. An error's text is a
	// sentence for the person who offered it ("slides.pdf is 3.1 GB, more
	// than the 2 GB the host takes for one file").
	Declare(o Offer) (Offer, error)
	// Remove takes the file back, data and all (an upload or reads in
	// progress fail).
	Remove(id string) error
}

// Offer hands the room an offer frame from m: the file (Name, Size,
// SHA256), to, the one member it is for ("" for the whole room), and the
// frame's ref, which the notice that answers it carries back. Like Say it
// returns at once; the answer goes to m's outbox.
func (r *Room) Offer(m *Member, to string, f wire.File, ref uint64) {
	r.send(func(s *state) { s.offer(m, to, f, ref) })
}

// FileStored tells the room that the upload of the file id is complete
// and checked: the room announces it. An id the room does not know, or
// has announced already, is ignored.
func (r *Room) FileStored(id string) {
	r.send(func(s *state) { s.fileStored(id) })
}

// FileGone tells the room that the host dropped the file id, for code
// (wire.CodeExpired, wire.CodeDamaged, wire.CodeMismatch): the room tells
// those who were shown it. An id the room does not know is ignored.
func (r *Room) FileGone(id string, code string) {
	r.send(func(s *state) { s.fileGone(id, code) })
}

func (s *state) offer(m *Member, to string, f wire.File, ref uint64) {}

func (s *state) fileStored(id string) {}

func (s *state) fileGone(id, code string) {}
