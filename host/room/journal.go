package room

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"chatroom/host/wire"
)

// Journal is where the room writes what a restart after a crash needs to
// continue its epoch, so that every member can resume exactly where it
// was: each event, and the few facts about members with an identity key
// that a resume rests on (their joins, the refs of their lines the room
// handled, their private frames, their renames, their departures). The
// host implements it with a file in its state directory.
//
// The room calls it from its goroutine, and hands no member anything (a
// frame in its outbox, a welcome) before the records behind it were given
// to Append: the host writes them into the system's page cache, which
// outlives the host's process however it ends, so a member never holds an
// event number that a restart could give to another event.
type Journal interface {
	// Append is given the records of one piece of the room's work, each
	// one JSON line, ending with a line that marks them whole (see
	// ReplayJournal). The slice is the room's again once Append returns.
	Append(records []byte) error
	// Checkpoint is given the room's history, its members present counted
	// among those who may resume (History.Present): once as Run starts,
	// before the room numbers anything, and again whenever the records
	// appended since the last checkpoint come to more than a bound (see
	// journalBound). The host starts the journal anew from it, so that the
	// journal is bounded by about the history's window, and a journal of
	// an earlier run is replaced before any number it holds can be given
	// again. The History is the room's only during the call.
	Checkpoint(History) error
}

// The records of the journal, one JSON object per line. Events are
// appended as members are sent them ({"type":"event",...}); every other
// record has a "j" field that names it. Encoding them here, where they are
// made and where ReplayJournal reads them back, keeps their meaning in one
// package: the host only stores lines.
const (
	recordJoin      = "join"      // a member with a key joined (or resumed)
	recordTaken     = "taken"     // the ref of the latest line handled from it
	recordPrivate   = "private"   // a private frame it was sent, kept for its resume
	recordNick      = "nick"      // its name, and so its name key, changed
	recordLeave     = "leave"     // it left the room
	recordResumable = "resumable" // it left the room, and may resume
	recordEnd       = "end"       // the records of one Append are whole
)

// record is one line of the journal that is not an event.
type record struct {
	J          string          `json:"j"`
	Key        string          `json:"k,omitempty"` // the member's name key
	NewKey     string          `json:"nk,omitempty"`
	Identity   string          `json:"id,omitempty"`
	Since      uint64          `json:"since,omitempty"`
	Taken      uint64          `json:"taken,omitempty"`
	PrivateSeq uint64          `json:"pseq,omitempty"`
	Resumed    bool            `json:"resumed,omitempty"`
	Frame      json.RawMessage `json:"f,omitempty"`
}

// endLine is the record that closes each Append: a write cut short by the
// host's death leaves a last piece of work without it, which no member was
// handed anything of, and which ReplayJournal leaves out whole.
var endLine = []byte(`{"j":"end"}` + "\n")

// journalBound is how many records the journal takes between checkpoints:
// twice the most events a history holds (limit messages and limit other
// events), so that the journal is at most a few times the history's window
// and a checkpoint, which writes the whole history, comes seldom.
func journalBound(limit int) int { return max(4*limit, 4096) }

// MaxJournalTail bounds, in bytes, the records appended between two
// checkpoints, whatever their number: the host's file must stay within
// what it reads back.
const MaxJournalTail = 32 << 20

// journaling is the room's side of its Journal.
type journaling struct {
	to Journal // nil: no journal, or one that failed
	// pending holds the records not yet appended; encoder encodes into it,
	// without escaping < > & as json.Marshal would, so that a private
	// frame is kept exactly as it was sent.
	pending bytes.Buffer
	encoder *json.Encoder
	// records and bytes count what was appended since the last
	// checkpoint, which bound is the limit of.
	records, bytes, bound int
}

func newJournaling(to Journal, historyLimit int) *journaling {
	j := &journaling{to: to, bound: journalBound(historyLimit)}
	j.encoder = json.NewEncoder(&j.pending)
	j.encoder.SetEscapeHTML(false)
	return j
}

// journalRecord adds r to the records to append.
func (s *state) journalRecord(r record) {
	if s.journal.to == nil {
		return
	}
	if err := s.journal.encoder.Encode(r); err != nil { // with its '\n'
		panic("room: " + err.Error()) // strings, numbers and a frame the room encoded
	}
	s.journal.records++
}

// journalEvent adds an event, as members are sent it, to the records.
func (s *state) journalEvent(frame []byte) {
	if s.journal.to == nil {
		return
	}
	s.journal.pending.Write(frame)
	s.journal.records++
}

// journalJoin records that m, with a key, joined; resumed, that it took up
// its place of before, with the private frames kept for it.
func (s *state) journalJoin(m *Member, resumed bool) {
	if m.identity != "" {
		s.journalRecord(record{J: recordJoin, Key: m.key, Identity: m.identity, Since: m.since, Taken: m.taken, PrivateSeq: m.privateSeq, Resumed: resumed})
	}
}

// journalTaken records ref, that of a line from m the room is about to
// handle, when it is m's latest (see Member.taken).
func (s *state) journalTaken(m *Member, ref uint64) {
	if m.identity != "" && ref > m.taken {
		s.journalRecord(record{J: recordTaken, Key: m.key, Taken: ref})
	}
}

// journalPrivate records a private frame sent to m, kept for its resume.
func (s *state) journalPrivate(m *Member, frame []byte) {
	if m.identity != "" {
		s.journalRecord(record{J: recordPrivate, Key: m.key, Frame: frame[:len(frame)-1]})
	}
}

// journalNick records that m's name key becomes key.
func (s *state) journalNick(m *Member, key string) {
	if m.identity != "" && key != m.key {
		s.journalRecord(record{J: recordNick, Key: m.key, NewKey: key})
	}
}

// journalLeave records that m left; journalResumable, next, that it may
// resume.
func (s *state) journalLeave(m *Member) {
	if m.identity != "" {
		s.journalRecord(record{J: recordLeave, Key: m.key})
	}
}

func (s *state) journalResumable(m *Member) {
	s.journalRecord(record{J: recordResumable, Key: m.key})
}

// appendJournal appends the records made so far, if any, before a member
// is handed anything that follows from them.
func (s *state) appendJournal() {
	if s.journal.pending.Len() > 0 {
		s.flushJournal()
	}
}

func (s *state) flushJournal() {
	j := s.journal
	if j.to == nil {
		j.pending.Reset()
		return
	}
	j.pending.Write(endLine)
	j.bytes += j.pending.Len()
	err := j.to.Append(j.pending.Bytes())
	j.pending.Reset()
	if err != nil {
		// The host says so and removes what it cannot complete; the room
		// goes on without it.
		j.to = nil
	}
}

// startJournal hands the journal its first checkpoint, as Run starts.
func (s *state) startJournal() {
	if s.journal.to != nil && s.journal.to.Checkpoint(s.checkpoint()) != nil {
		s.journal.to = nil
	}
}

// endWork appends what is left of a piece of work's records and, when the
// journal has taken its bound, hands the host a checkpoint.
func (s *state) endWork() {
	s.appendJournal()
	j := s.journal
	if j.to == nil || (j.records <= j.bound && j.bytes <= MaxJournalTail) {
		return
	}
	j.records, j.bytes = 0, 0
	if err := j.to.Checkpoint(s.checkpoint()); err != nil {
		j.to = nil
	}
}

// checkpoint returns the history as a snapshot does, with the members
// present who have a key after those who left, as if the room closed now.
func (s *state) checkpoint() History {
	h := s.snapshot()
	for _, m := range s.members {
		if m.identity != "" {
			h.Resumable = append(h.Resumable, Resumable{NameKey: m.key, Identity: m.identity, Since: m.since,
				Taken: m.taken, PrivateSeq: m.privateSeq, Privates: m.privates})
			h.Present++
		}
	}
	return h
}

// ReplayJournal continues checkpoint, a History as the journal's last
// checkpoint (or a clean close) gave it, with the records appended after
// it (tail, one line each, '\n' included, every Append's closed by its end
// record: the host leaves out a last one cut short). It returns the
// history the room had when the host stopped: the events with those of
// the tail, bounded as a room with Config.History historyLimit holds
// them, and every member who may resume, those present when it stopped
// last. Its Present is 0: those are members who left now.
//
// Every line is checked as the room would have written it, in order; the
// first that is not is returned as an error, and nothing of the journal
// should then be trusted.
func ReplayJournal(checkpoint History, tail [][]byte, historyLimit int) (History, error) {
	r := replay{seq: checkpoint.Seq, departed: map[string]int{}, present: map[string]*replayMember{}}
	switch {
	case historyLimit == 0:
		r.history.limit = defaultHistory
	case historyLimit > 0:
		r.history.limit = historyLimit
	}
	r.history.lostMessage = checkpoint.LostMessage
	for _, b := range checkpoint.Events {
		f, err := wire.Parse(b)
		if err != nil || f.Seq > checkpoint.Seq {
			return History{}, errors.New("the checkpoint holds an event the room could not have written")
		}
		r.history.next = f.Seq
		r.history.add(entry{frame: b, message: isMessage(f.Kind)})
	}
	if checkpoint.Present < 0 || checkpoint.Present > len(checkpoint.Resumable) {
		return History{}, errors.New("the checkpoint counts more members present than it holds")
	}
	departed := len(checkpoint.Resumable) - checkpoint.Present
	for _, m := range checkpoint.Resumable[:departed] {
		r.keep(m)
	}
	for _, m := range checkpoint.Resumable[departed:] {
		if _, dup := r.present[m.NameKey]; dup {
			return History{}, fmt.Errorf("the checkpoint has %q present twice", m.NameKey)
		}
		r.arrive(m)
	}
	for i, line := range tail {
		if err := r.line(line); err != nil {
			return History{}, fmt.Errorf("record %d after the checkpoint: %w", i+1, err)
		}
	}
	if r.open {
		return History{}, errors.New("its last records are not marked whole")
	}
	h := History{Epoch: checkpoint.Epoch, Seq: r.seq, LostMessage: r.history.lostMessage}
	for _, e := range r.history.since(0) {
		h.Events = append(h.Events, e.frame)
	}
	for _, m := range r.departedOrder {
		if m != nil {
			h.Resumable = append(h.Resumable, *m)
		}
	}
	for _, m := range r.presentOrder {
		if m != nil {
			h.Resumable = append(h.Resumable, m.Resumable)
		}
	}
	return h, nil
}

// replay is the state ReplayJournal follows: the room's, as far as a
// resume needs it.
type replay struct {
	seq     uint64
	history history
	// departed indexes departedOrder by departedKey, as the room's own
	// table; present are the members with a key in the room, by name key,
	// and presentOrder in the order they came (nil: gone).
	departed      map[string]int
	departedOrder []*Resumable
	present       map[string]*replayMember
	presentOrder  []*replayMember
	// left is the member whose leave record came last, for the resumable
	// record that may follow it.
	left *Resumable
	// open is set by every record and cleared by an end record.
	open bool
}

func (r *replay) keep(m Resumable) {
	k := departedKey(m.NameKey, m.Identity)
	if i, ok := r.departed[k]; ok {
		*r.departedOrder[i] = m
		return
	}
	r.departed[k] = len(r.departedOrder)
	r.departedOrder = append(r.departedOrder, &m)
}

// replayMember is a member present, as the replay follows it: what it
// would resume with, and its place in presentOrder.
type replayMember struct {
	Resumable
	order int
}

func (r *replay) arrive(m Resumable) {
	p := &replayMember{Resumable: m, order: len(r.presentOrder)}
	r.present[m.NameKey] = p
	r.presentOrder = append(r.presentOrder, p)
}

// member returns the present member with name key key.
func (r *replay) member(key string) (*replayMember, error) {
	m, ok := r.present[key]
	if !ok {
		return nil, fmt.Errorf("it names %q, who is not in the room", key)
	}
	return m, nil
}

func (r *replay) leave(m *replayMember) {
	delete(r.present, m.NameKey)
	r.presentOrder[m.order] = nil
}

// line replays one line of the tail.
func (r *replay) line(b []byte) error {
	if len(b) == 0 || b[len(b)-1] != '\n' || len(b) > wire.MaxHostFrame+wire.MaxHostFrame/2 {
		return errors.New("it is not a line the room writes")
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return errors.New("it is not JSON")
	}
	if rec.J != recordEnd {
		r.open = true
	}
	switch rec.J {
	case "":
		return r.event(b)
	case recordEnd:
		r.open = false
	case recordJoin:
		if rec.Key == "" || rec.Identity == "" || rec.Since > r.seq || rec.PrivateSeq >= maxRecordSeq {
			return errors.New("a join the room could not have made")
		}
		if _, taken := r.present[rec.Key]; taken {
			return fmt.Errorf("%q joins while in the room", rec.Key)
		}
		m := Resumable{NameKey: rec.Key, Identity: rec.Identity, Since: rec.Since, Taken: rec.Taken, PrivateSeq: rec.PrivateSeq}
		k := departedKey(rec.Key, rec.Identity)
		if i, ok := r.departed[k]; ok {
			// The room forgets it as it takes it back (takeResumable).
			if rec.Resumed {
				m.Privates = r.departedOrder[i].Privates
			}
			r.departedOrder[i] = nil
			delete(r.departed, k)
		}
		r.arrive(m)
	case recordTaken:
		m, err := r.member(rec.Key)
		if err != nil {
			return err
		}
		m.Taken = max(m.Taken, rec.Taken)
	case recordPrivate:
		m, err := r.member(rec.Key)
		if err != nil {
			return err
		}
		frame := append(slices.Clip([]byte(rec.Frame)), '\n')
		f, err := wire.Parse(frame)
		if err != nil || f.Type != wire.TypePrivate || f.Seq != r.seq || f.PrivateSeq != m.PrivateSeq+1 || len(frame) > wire.MaxHostFrame {
			return errors.New("a private frame the room could not have sent")
		}
		m.PrivateSeq = f.PrivateSeq
		m.Privates = append(m.Privates, PrivateCopy{After: f.Seq, Seq: f.PrivateSeq, Frame: frame})
		if n := len(m.Privates); n > maxPrivatesKept {
			m.Privates = slices.Clone(m.Privates[n-maxPrivatesKept:])
		}
	case recordNick:
		m, err := r.member(rec.Key)
		if err != nil {
			return err
		}
		if _, taken := r.present[rec.NewKey]; taken || rec.NewKey == "" {
			return fmt.Errorf("%q takes a name in use", rec.Key)
		}
		delete(r.present, m.NameKey)
		m.NameKey = rec.NewKey
		r.present[m.NameKey] = m
	case recordLeave:
		m, err := r.member(rec.Key)
		if err != nil {
			return err
		}
		r.leave(m)
		r.left = &m.Resumable
	case recordResumable:
		if r.left == nil || r.left.NameKey != rec.Key {
			return fmt.Errorf("%q may resume, but did not leave", rec.Key)
		}
		r.keep(*r.left)
		r.left = nil
	default:
		return fmt.Errorf("a record of an unknown kind %q", rec.J)
	}
	return nil
}

// maxRecordSeq bounds the numbers a journal may hold: 2^53, the largest
// every JSON reader takes exactly, far beyond any room's count.
const maxRecordSeq = 1 << 53

// event replays an event: the room's next, numbered one after the last.
func (r *replay) event(b []byte) error {
	f, err := wire.Parse(b)
	if err != nil || f.Type != wire.TypeEvent {
		return errors.New("an event the room could not have sent")
	}
	if f.Seq != r.seq+1 {
		return fmt.Errorf("event %d comes after event %d", f.Seq, r.seq)
	}
	r.seq = f.Seq
	r.history.next = f.Seq
	r.history.add(entry{frame: b, message: isMessage(f.Kind)})
	return nil
}
