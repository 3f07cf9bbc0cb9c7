package room

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
	// Shown records that the room has shown the complete file: one the
	// host holds complete but not shown (it was killed in between) is
	// not Stored when the room starts, and the host has the room show it
	// (FileStored).
	Shown(id string) error
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

// offers is what the room knows of the files on offer: every offer the
// store holds, stored or still uploading, by number and by id.
type offers struct {
	byNumber map[int]*Offer
	byID     map[string]*Offer
	// last is the highest number the room has given, or seen given (in
	// Config.Offers, or in an offer event of the history it continues):
	// the next offer is numbered one more, so that a number once shown
	// never names another file while anyone may still hold it.
	last int
}

func newOffers(known []Offer) offers {
	o := offers{byNumber: make(map[int]*Offer), byID: make(map[string]*Offer)}
	for _, k := range known {
		if k.Number <= 0 || k.ID == "" || o.byNumber[k.Number] != nil || o.byID[k.ID] != nil {
			// The host's store wrote these; were one unusable here all
			// the same, it is left out rather than shadow another.
			continue
		}
		k := k
		o.add(&k)
	}
	return o
}

func (o *offers) add(f *Offer) {
	o.byNumber[f.Number] = f
	o.byID[f.ID] = f
	o.last = max(o.last, f.Number)
}

func (o *offers) drop(f *Offer) {
	delete(o.byNumber, f.Number)
	delete(o.byID, f.ID)
}

// sorted returns the offers by number, oldest first.
func (o *offers) sorted() []*Offer {
	list := make([]*Offer, 0, len(o.byNumber))
	for _, f := range o.byNumber {
		list = append(list, f)
	}
	slices.SortFunc(list, func(a, b *Offer) int { return a.Number - b.Number })
	return list
}

// errNoFiles answers offers and the file commands in a room without a
// store of files.
var errNoFiles = userError("this room does not take files")

// ownerOf is what the store counts m's files against: its key, which
// outlasts its name and its address, or, without one, its address.
func ownerOf(m *Member) string {
	if m.identity != "" {
		return "key:" + m.identity
	}
	return "addr:" + m.addr
}

// isFrom reports whether m is who offered o: by key when o's offerer had
// one; otherwise by name and address together, the most a member without
// a key can be known by (a stranger who takes the name from another
// machine is not it).
func isFrom(m *Member, o *Offer) bool {
	if o.FromKey != "" {
		return m.identity == o.FromKey
	}
	return m.identity == "" && m.key == NameKey(o.From) && ownerOf(m) == o.Owner
}

// isTo reports whether m is the one member o is offered to: by key when it
// had one when the file was offered, by name otherwise.
func isTo(m *Member, o *Offer) bool {
	if o.To == "" {
		return false
	}
	if o.ToKey != "" {
		return m.identity == o.ToKey
	}
	return m.key == NameKey(o.To)
}

// mayFetch reports whether m may be given o's ID: everyone, for a file
// offered to the room; the two members of a private one.
func mayFetch(m *Member, o *Offer) bool {
	return o.To == "" || isFrom(m, o) || isTo(m, o)
}

// shownFile is o as the room shows it: never its ID or Token.
func shownFile(o *Offer) *wire.File {
	return &wire.File{Number: o.Number, Name: o.Name, Size: o.Size, SHA256: o.SHA256, From: o.From, To: o.To, Expires: o.Expires}
}

// describeFile is o on a line for people: "slides.pdf (2.3 MB)".
func describeFile(o *Offer) string {
	return fmt.Sprintf("%s (%s)", o.Name, wire.FormatSize(o.Size))
}

// shortSHA256 is the start of a sha256, as a line for people shows it:
// enough to compare by eye, not to fill the line.
func shortSHA256(sum string) string {
	if len(sum) <= 8 {
		return sum
	}
	return sum[:8] + "…"
}

// offer handles an offer frame from m, as say handles a line: it counts as
// one, and its ref is one of the member's lines' (see Member.taken).
func (s *state) offer(m *Member, to string, f wire.File, ref uint64) {
	if m.gone {
		return // removed while its reader was still reading
	}
	s.journalTaken(m, ref)
	m.taken = max(m.taken, ref)
	c := call{from: m, ref: ref}
	if err := s.takeOffer(c, to, f); err != nil {
		s.reportError(c, err)
	}
}

// takeOffer checks an offer of f to to ("" for the room) from c.from,
// has the store declare it and gives the member the means to upload it;
// or returns why not. Only the name, size and sha256 of f are read: an
// ID, Token or Number a member puts in its offer is no claim on anyone's
// file.
func (s *state) takeOffer(c call, to string, f wire.File) error {
	m := c.from
	if err := s.allow(m); err != nil {
		return err
	}
	if s.files == nil {
		return errNoFiles
	}
	// Not maySpeak: a member the others do not see is shown to them only
	// once its file is (see fileStored).
	if u, muted := s.muteFor(m); muted {
		return mutedError(s.now(), u)
	}
	if err := wire.CheckFileName(f.Name); err != nil {
		return userError("not offered: " + err.Error())
	}
	if err := wire.CheckSHA256(f.SHA256); err != nil {
		return userError("not offered: " + err.Error())
	}
	switch {
	case f.Size == 0:
		return userError("not offered: the file is empty, so there is nothing to send")
	case f.Size < 0:
		return userError("not offered: the size is not a number of bytes")
	}
	o := Offer{Number: s.offers.last + 1, Name: f.Name, Size: f.Size, SHA256: f.SHA256,
		From: m.name, FromKey: m.identity, Owner: ownerOf(m)}
	if to != "" {
		target, ok := s.lookup(to)
		if ok && target.hidden && !isAdminRole(m.role) {
			ok = false // as in /msg (see Member.hidden)
		}
		switch {
		case !ok:
			return refusef("not offered: no one here is called %q", shortText(to, maxNameShown))
		case target == m:
			return userError("not offered: you cannot offer a file to yourself")
		}
		o.To, o.ToKey = target.name, target.identity
	}
	if same := s.sameOffer(m, &o); same != nil {
		if same.Stored {
			return refusef("not offered: %s is on offer already, as file %d (/unsend %d takes it back)", same.Name, same.Number, same.Number)
		}
		// The member offers again what it has not uploaded yet: it lost
		// the answer (its connection broke before it came, or the host
		// restarted), and is given the same again, to upload from where
		// its copy stopped, rather than a second reservation in the
		// store's quota for one file.
		s.answerOffer(c, same)
		return nil
	}
	declared, err := s.files.Declare(o)
	if err != nil {
		// The store's words are written for the member (see Files).
		if err.Error() == "" {
			return userError("not offered: the host could not take the file")
		}
		return userError(err.Error())
	}
	if declared.ID == "" || s.offers.byID[declared.ID] != nil {
		return errors.New("room: the store declared no id, or one in use")
	}
	// What the room decided stays the room's; the store fills in the rest.
	o.ID, o.Token, o.Offered, o.Expires = declared.ID, declared.Token, declared.Offered, declared.Expires
	s.offers.add(&o)
	s.answerOffer(c, &o)
	return nil
}

// answerOffer gives the member whose offer c is the offer o: all of it,
// the upload's Token too, for it alone.
func (s *state) answerOffer(c call, o *Offer) {
	file := shownFile(o)
	file.ID, file.Token = o.ID, o.Token
	text := fmt.Sprintf("uploading %s as file %d", describeFile(o), o.Number)
	if o.To != "" {
		text += ", for " + o.To + " alone"
	}
	s.sendNotice(c.from, &wire.Frame{Type: wire.TypeNotice, Text: text, Ref: c.ref, File: file})
}

// sameOffer returns the file m offered already that o would be again (the
// same name, size and sha256, to the same), or nil.
func (s *state) sameOffer(m *Member, o *Offer) *Offer {
	for _, k := range s.offers.byNumber {
		if isFrom(m, k) && k.Name == o.Name && k.Size == o.Size && k.SHA256 == o.SHA256 && k.To == o.To && k.ToKey == o.ToKey {
			return k
		}
	}
	return nil
}

// fileStored shows the file id, now whole and checked, to those who may
// fetch it: an offer event to everyone, or, for a file offered to one
// member, a private frame to it and to the member who offered it.
func (s *state) fileStored(id string) {
	o := s.offers.byID[id]
	if o == nil || o.Stored {
		return
	}
	if why := s.silenced(o); why != "" {
		// Muted or banned since it offered the file: showing it now
		// would be speaking for it.
		s.offers.drop(o)
		_ = s.files.Remove(o.ID) // gone from the room either way; the store's expiry ends what is left
		for _, m := range s.partiesOf(o, true) {
			s.notifyError(m, 0, fmt.Sprintf("file %d, %s, was not shown: %s", o.Number, describeFile(o), why))
		}
		return
	}
	o.Stored = true
	for _, m := range s.partiesOf(o, true) {
		s.reveal(m) // as maySpeak would: it is about to be heard
	}
	if o.To == "" {
		s.broadcast(&wire.Frame{Kind: wire.KindOffer, From: o.From, File: shownFile(o)})
	} else {
		s.sendPrivates(o, wire.Frame{Kind: wire.KindOffer, From: o.From, To: o.To, File: shownFile(o), Time: s.now()})
	}
	// In the journal before it is marked shown: a kill between the two
	// has the file shown twice, never not at all.
	s.appendJournal()
	_ = s.files.Shown(o.ID) // if it cannot be kept, the file is shown again after a restart
}

// silenced says why o's offerer may no longer be heard (muted, banned),
// or "".
func (s *state) silenced(o *Offer) string {
	s.pruneMutes()
	key := NameKey(o.From)
	// An offer is counted against its key, or, without one, its address,
	// which a mute or ban on that address holds against, as at joining.
	addr, _ := strings.CutPrefix(o.Owner, "addr:")
	if o.FromKey != "" {
		addr = ""
	}
	if slices.ContainsFunc(s.mutes, func(u Mute) bool {
		return u.nameKey == key || (u.Identity != "" && u.Identity == o.FromKey) || (addr != "" && u.Addr == addr)
	}) {
		return "you are muted"
	}
	if _, banned := s.banFor(key, addr, o.FromKey); banned {
		return "you are banned"
	}
	return ""
}

// partiesOf returns the members present who offered o (fromOnly) or, too,
// whom it is offered to.
func (s *state) partiesOf(o *Offer, fromOnly bool) []*Member {
	var list []*Member
	for _, m := range s.members {
		if !m.gone && (isFrom(m, o) || (!fromOnly && isTo(m, o))) {
			list = append(list, m)
		}
	}
	return list
}

// sendPrivates sends f as a private frame to each member present of o's
// two: by the /msg machinery, so that each is numbered among the member's
// private frames and kept for its resume.
func (s *state) sendPrivates(o *Offer, f wire.Frame) {
	for _, m := range s.partiesOf(o, false) {
		s.sendPrivate(m, f)
	}
}

// fileGone forgets the file id, which the host dropped for code, and
// tells those who were shown it.
func (s *state) fileGone(id, code string) {
	o := s.offers.byID[id]
	if o == nil {
		return
	}
	s.offers.drop(o)
	gone := &wire.File{Number: o.Number, Name: o.Name}
	switch {
	case !o.Stored:
		// No one else was shown it; its offerer is told on its upload
		// connection, and here too, for the one that broke.
		for _, m := range s.partiesOf(o, true) {
			s.notifyError(m, 0, fmt.Sprintf("file %d, %s, is gone: %s", o.Number, describeFile(o), goneText(code)))
		}
	case o.To == "":
		s.broadcast(&wire.Frame{Kind: wire.KindUnsend, File: gone, Code: code})
	default:
		s.sendPrivates(o, wire.Frame{Kind: wire.KindUnsend, From: o.From, To: o.To, File: gone, Code: code, Time: s.now()})
	}
}

// goneText says, for people, why the host dropped a file.
func goneText(code string) string {
	switch code {
	case wire.CodeExpired:
		return "its time on offer ran out"
	case wire.CodeDamaged:
		return "the host's copy of it was damaged"
	case wire.CodeMismatch:
		return "what was uploaded did not match its sha256"
	}
	return "the host dropped it"
}

// fileNumber reads the N of "/get N" and "/unsend N" ("7" or "#7").
func fileNumber(c call) (int, error) {
	word, _ := cutWord(c.args)
	n, err := strconv.Atoi(strings.TrimPrefix(word, "#"))
	if err != nil || n <= 0 {
		return 0, userError("usage: " + c.cmd.Usage)
	}
	return n, nil
}

// noSuchFile is the answer for a number that names no file the member may
// know of: a private file of others is answered so too, so that trying
// numbers tells no one which are taken.
func noSuchFile(n int) error {
	return refusef("there is no file %d on offer (/files lists them)", n)
}

// visibleOffer returns file n when m may know of it: any offer to the
// room (while uploading too, to say so), and a private one to its two
// members; admins know of every file, to take any back.
func (s *state) visibleOffer(m *Member, n int, admins bool) (*Offer, error) {
	o := s.offers.byNumber[n]
	if o == nil || !(mayFetch(m, o) || (admins && isAdminRole(m.role))) {
		return nil, noSuchFile(n)
	}
	return o, nil
}

// getFile answers "/get N" with the file's ID, which the member's client
// fetches it by.
func (s *state) getFile(c call) error {
	if s.files == nil {
		return errNoFiles
	}
	n, err := fileNumber(c)
	if err != nil {
		return err
	}
	o, err := s.visibleOffer(c.from, n, false)
	if err != nil {
		return err
	}
	if !o.Stored {
		// Not named: it is not shown yet, and may never be.
		return refusef("file %d is still uploading: it can be fetched once it is all in", n)
	}
	file := shownFile(o)
	file.ID = o.ID
	s.sendNotice(c.from, &wire.Frame{Type: wire.TypeNotice, Ref: c.ref, File: file,
		Text: fmt.Sprintf("fetching file %d: %s from %s", n, describeFile(o), o.From)})
	return nil
}

// maxFilesListed bounds the files one /files answer lists, the newest of
// them, so that the answer fits in one notice whatever the names: the
// store bounds how many there are.
const maxFilesListed = 40

// listFiles answers "/files": the files the member may fetch, in "files"
// and in lines for people, and its own still uploading, in the lines
// alone.
func (s *state) listFiles(c call) error {
	if s.files == nil {
		return errNoFiles
	}
	var shown []*Offer
	for _, o := range s.offers.sorted() {
		if (o.Stored && mayFetch(c.from, o)) || (!o.Stored && isFrom(c.from, o)) {
			shown = append(shown, o)
		}
	}
	if len(shown) == 0 {
		s.reply(c, "no files are on offer (/send PATH offers one)")
		return nil
	}
	older := max(0, len(shown)-maxFilesListed)
	shown = shown[older:]
	lines := []string{plural(len(shown)+older, "1 file on offer:", fmt.Sprintf("%d files on offer:", len(shown)+older))}
	if older > 0 {
		lines[0] = fmt.Sprintf("%d files on offer; the newest %d:", len(shown)+older, len(shown))
	}
	var files []wire.File
	for _, o := range shown {
		line := fmt.Sprintf("%d  %s, sha256 %s, from %s", o.Number, describeFile(o), shortSHA256(o.SHA256), o.From)
		switch {
		case o.To != "" && isTo(c.from, o):
			line += ", to you alone"
		case o.To != "":
			line += ", to " + o.To + " alone"
		}
		if !o.Expires.IsZero() {
			line += ", kept " + until(s.now(), o.Expires, "")
		}
		if o.Stored {
			files = append(files, *shownFile(o))
		} else {
			line += " — yours, still uploading"
		}
		lines = append(lines, line)
	}
	s.sendNotice(c.from, &wire.Frame{Type: wire.TypeNotice, Ref: c.ref, Text: strings.Join(lines, "\n"), Files: files})
	return nil
}

// unsend takes a file back: its offerer may, and admins may take back
// any. The store removes it first; only then is it gone from the room.
func (s *state) unsend(c call) error {
	if s.files == nil {
		return errNoFiles
	}
	n, err := fileNumber(c)
	if err != nil {
		return err
	}
	o, err := s.visibleOffer(c.from, n, true)
	if err != nil {
		return err
	}
	if !isFrom(c.from, o) && !isAdminRole(c.from.role) {
		return refusef("not allowed: only the member who offered file %d, or an admin, may take it back", n)
	}
	if err := s.files.Remove(o.ID); err != nil {
		return userError(fmt.Sprintf("file %d not taken back: %s", n, err.Error()))
	}
	s.offers.drop(o)
	gone := &wire.File{Number: o.Number, Name: o.Name}
	told := false
	switch {
	case !o.Stored:
		// No one else was shown it; an admin who takes it back tells
		// its offerer.
		for _, m := range s.partiesOf(o, true) {
			if m != c.from {
				s.notify(m, 0, fmt.Sprintf("%s took back file %d, %s, before it was all in", c.from.name, n, describeFile(o)))
			}
		}
	case o.To == "":
		s.broadcast(&wire.Frame{Kind: wire.KindUnsend, File: gone, By: c.from.name, Ref: c.ref})
		told = true
	default:
		f := wire.Frame{Kind: wire.KindUnsend, From: o.From, To: o.To, File: gone, By: c.from.name, Time: s.now()}
		for _, m := range s.partiesOf(o, false) {
			f.Ref = c.refFor(m)
			s.sendPrivate(m, f)
			told = told || m == c.from
		}
	}
	if !told {
		s.reply(c, fmt.Sprintf("took back file %d, %s", n, describeFile(o)))
	}
	return nil
}
