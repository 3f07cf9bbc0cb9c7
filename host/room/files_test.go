package room

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
)

// fakeFiles is a Files that declares everything (ids id1, id2… and tokens
// tok1, tok2…, in order) unless err is set, and records what it was given.
// It is called on the room goroutine; tests read it after a sync, whose
// channel round trip orders the two.
type fakeFiles struct {
	err       error // Declare fails with it
	removeErr error // Remove fails with it
	n         int
	declared  []Offer
	removed   []string
}

// testExpiry is how long fakeFiles keeps a file.
const testExpiry = 24 * time.Hour

func (f *fakeFiles) Shown(string) error { return nil }

func (f *fakeFiles) Declare(o Offer) (Offer, error) {
	if f.err != nil {
		return Offer{}, f.err
	}
	f.n++
	o.ID, o.Token = fmt.Sprint("id", f.n), fmt.Sprint("tok", f.n)
	o.Offered, o.Expires = testTime, testTime.Add(testExpiry)
	f.declared = append(f.declared, o)
	return o, nil
}

func (f *fakeFiles) Remove(id string) error {
	f.removed = append(f.removed, id)
	return f.removeErr
}

// testSum is a sha256 as offers carry it.
var testSum = strings.Repeat("3f9a1c2b", 8)

func slides() wire.File { return wire.File{Name: "slides.pdf", Size: 2_300_000, SHA256: testSum} }

// sized is slides of another size: another file.
func sized(n int64) wire.File { f := slides(); f.Size = n; return f }

func (c *client) offer(to string, f wire.File, ref uint64) { c.tr.r.Offer(c.m, to, f, ref) }

// filesCast is the cast in a room that takes files, with eve, a plain
// member at 10.0.0.5, besides cy.
func filesCast(t *testing.T, cfg Config) (*cast, *fakeFiles, *client) {
	t.Helper()
	files := &fakeFiles{}
	if cfg.Files == nil {
		cfg.Files = files
	}
	c := newCast(t, cfg)
	eve := c.tr.joinReq(JoinRequest{Name: "eve", Addr: "10.0.0.5"})
	for _, m := range c.all() {
		m.frames()
	}
	return c, files, eve
}

// offered is the notice answering an offer that became file n: all of it,
// its Token too.
func offered(ref uint64, n int, from, to string, f wire.File) wire.Frame {
	text := fmt.Sprintf("uploading %s (%s) as file %d", f.Name, wire.FormatSize(f.Size), n)
	if to != "" {
		text += ", for " + to + " alone"
	}
	return wire.Frame{Type: wire.TypeNotice, Ref: ref, Text: text, File: &wire.File{Number: n, Name: f.Name, Size: f.Size, SHA256: f.SHA256,
		From: from, To: to, Expires: testTime.Add(testExpiry), ID: fmt.Sprint("id", n), Token: fmt.Sprint("tok", n)}}
}

// shown is file n as the room shows it: without ID or Token.
func shownAs(n int, from, to string, f wire.File) *wire.File {
	return &wire.File{Number: n, Name: f.Name, Size: f.Size, SHA256: f.SHA256, From: from, To: to, Expires: testTime.Add(testExpiry)}
}

func offerEvent(seq uint64, n int, from string, f wire.File) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: testTime, Kind: wire.KindOffer, From: from, File: shownAs(n, from, "", f)}
}

func privateOffer(seq, privateSeq uint64, n int, from, to string, f wire.File) wire.Frame {
	return wire.Frame{Type: wire.TypePrivate, Seq: seq, PrivateSeq: privateSeq, Time: testTime, Kind: wire.KindOffer, From: from, To: to, File: shownAs(n, from, to, f)}
}

// got is the notice answering "/get n" with ref.
func got(ref uint64, n int, from, to string, f wire.File) wire.Frame {
	file := shownAs(n, from, to, f)
	file.ID = fmt.Sprint("id", n)
	return wire.Frame{Type: wire.TypeNotice, Ref: ref, File: file,
		Text: fmt.Sprintf("fetching file %d: %s (%s) from %s", n, f.Name, wire.FormatSize(f.Size), from)}
}

func refErrorNotice(ref uint64, text string) wire.Frame {
	f := errorNotice(text)
	f.Ref = ref
	return f
}

func TestOfferAnswered(t *testing.T) {
	c, files, _ := filesCast(t, Config{})
	c.cy.offer("", slides(), 7)
	c.cy.expect(offered(7, 1, "cy", "", slides()))
	for _, m := range c.others("cy") {
		m.expectNothing()
	}
	want := []Offer{{Number: 1, ID: "id1", Token: "tok1", Name: "slides.pdf", Size: 2_300_000, SHA256: testSum,
		From: "cy", Owner: "addr:10.0.0.3", Offered: testTime, Expires: testTime.Add(testExpiry)}}
	if !slices.Equal(files.declared, want) {
		t.Errorf("declared %+v\nwant %+v", files.declared, want)
	}
	// A member with a key is counted by it, and the file to one member
	// names it with its key.
	kim := c.tr.joinReq(JoinRequest{Name: "kim", Addr: "10.0.0.6", Identity: "SHA256:kim"})
	lee := c.tr.joinReq(JoinRequest{Name: "lee", Addr: "10.0.0.7", Identity: "SHA256:lee"})
	kim.frames()
	kim.offer("LEE", slides(), 8)
	kim.expect(offered(8, 2, "kim", "lee", slides()))
	lee.expectNothing() // until it is stored
	if d := files.declared[1]; d.Owner != "key:SHA256:kim" || d.FromKey != "SHA256:kim" || d.To != "lee" || d.ToKey != "SHA256:lee" {
		t.Errorf("declared %+v", d)
	}
	// The member's ref counts as a line's: it is Taken.
	c.tr.inState(func(s *state) {
		if s.byKey[NameKey("kim")].taken != 8 {
			t.Errorf("kim's taken = %d, want 8", s.byKey[NameKey("kim")].taken)
		}
	})
}

// Attack: an offer frame carrying the ID, Token and Number of another's
// file, to be answered with them or to take its number. The room reads
// only the name, size and sha256 of an offer.
func TestOfferForgedFields(t *testing.T) {
	c, files, eve := filesCast(t, Config{})
	c.cy.offer("", slides(), 1)
	c.cy.frames()
	forged := slides()
	forged.Number, forged.ID, forged.Token, forged.From, forged.To = 1, "id1", "tok1", "cy", "ana"
	eve.offer("", forged, 2)
	eve.expect(offered(2, 2, "eve", "", slides()))
	if d := files.declared[1]; d.From != "eve" || d.To != "" || d.Number != 2 {
		t.Errorf("declared %+v", d)
	}
}

// Attack: hostile offers, each refused with one error notice (carrying
// the offer's ref) before the store is asked, and nothing for anyone else:
// names that would land elsewhere or trick a reader, sums and sizes that
// are no file's, and offers to no one.
func TestOfferRefused(t *testing.T) {
	withName := func(name string) wire.File { f := slides(); f.Name = name; return f }
	withSum := func(sum string) wire.File { f := slides(); f.SHA256 = sum; return f }
	withSize := func(n int64) wire.File { f := slides(); f.Size = n; return f }
	dirName := "not offered: the file name has a directory in it: offer a name only"
	tests := []struct {
		name string
		to   string
		file wire.File
		want string
	}{
		{"parent", "", withName("../x"), dirName},
		{"path", "", withName("a/b.txt"), dirName},
		{"windows path", "", withName(`..\..\x.exe`), dirName},
		{"dots", "", withName(".."), "not offered: the file name is only dots"},
		{"empty", "", withName(""), "not offered: the file name is empty"},
		{"bidi", "", withName("invoice\u202Efdp.exe"), "not offered: the file name has an invisible or control character (U+202E) in it"},
		{"zero width", "", withName("a\u200Bb.txt"), "not offered: the file name has an invisible or control character (U+200B) in it"},
		{"device", "", withName("CON"), "not offered: the file name is one Windows keeps for a device (CON, NUL, COM1 and the like)"},
		{"device with extension", "", withName("nul.txt"), "not offered: the file name is one Windows keeps for a device (CON, NUL, COM1 and the like)"},
		{"NUL byte", "", withName("a\x00b"), "not offered: the file name has an invisible or control character (U+0000) in it"},
		{"line break", "", withName("a\nbob offers x.pdf"), "not offered: the file name has an invisible or control character (U+000A) in it"},
		{"escape", "", withName("a\x1b[2Jb"), "not offered: the file name has an invisible or control character (U+001B) in it"},
		{"trailing dot", "", withName("a.exe."), "not offered: the file name ends with a dot or a space"},
		{"bad UTF-8", "", withName("a\xffb"), "not offered: the file name is not valid UTF-8"},
		{"too long", "", withName(strings.Repeat("a", 201)), "not offered: the file name is 201 bytes long, more than the 200 allowed"},
		{"no sum", "", withSum(""), "not offered: the sha256 is not 64 lowercase hex digits"},
		{"upper-case sum", "", withSum(strings.ToUpper(testSum)), "not offered: the sha256 is not 64 lowercase hex digits"},
		{"short sum", "", withSum(testSum[1:]), "not offered: the sha256 is not 64 lowercase hex digits"},
		{"not hex", "", withSum(strings.Repeat("zz", 32)), "not offered: the sha256 is not 64 lowercase hex digits"},
		{"empty file", "", withSize(0), "not offered: the file is empty, so there is nothing to send"},
		{"negative size", "", withSize(-1), "not offered: the size is not a number of bytes"},
		{"to no one", "zed", slides(), `not offered: no one here is called "zed"`},
		{"to oneself", "eve", slides(), "not offered: you cannot offer a file to yourself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, files, eve := filesCast(t, Config{})
			eve.offer(tt.to, tt.file, 3)
			eve.expect(refErrorNotice(3, tt.want))
			for _, m := range c.all() {
				m.expectNothing()
			}
			if len(files.declared) != 0 {
				t.Errorf("declared %+v; want nothing", files.declared)
			}
			// Nothing was numbered.
			eve.offer("", slides(), 4)
			eve.expect(offered(4, 1, "eve", "", slides()))
		})
	}
}

// The store's refusal (its quota, its size limit) reaches the member in
// the store's words, and takes no number.
func TestOfferStoreRefuses(t *testing.T) {
	const quota = "slides.pdf is 3.1 GB, more than the 2 GB the host takes for one file"
	c, files, eve := filesCast(t, Config{})
	files.err = errors.New(quota)
	eve.offer("", slides(), 5)
	eve.expect(refErrorNotice(5, quota))
	for _, m := range c.all() {
		m.expectNothing()
	}
	files.err = nil // read on the room goroutine only after the sync above
	eve.offer("", slides(), 6)
	eve.expect(offered(6, 1, "eve", "", slides()))
}

func TestOfferNoFiles(t *testing.T) {
	c := newCast(t, Config{})
	c.cy.offer("", slides(), 1)
	c.cy.expect(refErrorNotice(1, "this room does not take files"))
	for i, line := range []string{"/files", "/get 1", "/unsend 1"} {
		c.cy.sayRef(line, uint64(2+i))
		c.cy.expect(refErrorNotice(uint64(2+i), "this room does not take files"))
	}
	for _, m := range c.others("cy") {
		m.expectNothing()
	}
}

// Attack: a muted member offers a file, to put its name before everyone;
// and a member muted once its file is offered finishes the upload. Neither
// is shown.
func TestOfferMuted(t *testing.T) {
	c, files, eve := filesCast(t, Config{})
	c.bob.say("/mute eve")
	for _, m := range c.all() {
		m.frames()
	}
	eve.frames()
	eve.offer("", slides(), 9)
	eve.expect(refErrorNotice(9, "not sent: you are muted until an admin lifts it"))
	if len(files.declared) != 0 {
		t.Errorf("declared %+v; want nothing", files.declared)
	}

	c.cy.offer("", slides(), 1)
	c.cy.frames()
	c.bob.say("/mute cy 1h")
	for _, m := range append(c.all(), eve) {
		m.frames()
	}
	c.tr.r.FileStored("id1")
	c.cy.expect(errorNotice("file 1, slides.pdf (2.3 MB), was not shown: you are muted"))
	for _, m := range append(c.others("cy"), eve) {
		m.expectNothing()
	}
	c.tr.sync()
	if !slices.Equal(files.removed, []string{"id1"}) {
		t.Errorf("removed %v, want [id1]", files.removed)
	}
	c.bob.sayRef("/get 1", 2)
	c.bob.expect(refErrorNotice(2, "there is no file 1 on offer (/files lists them)"))
}

// Attack: a member without a key, on an address an admin mutes (with
// --addr, as someone else there is the spammer), finishes the upload of
// a file it offered before: the mute holds its address, so the file is
// not shown, as at joining.
func TestOfferSilencedByAnAddressMute(t *testing.T) {
	c, files, eve := filesCast(t, Config{})
	spam := c.tr.joinReq(JoinRequest{Name: "spam", Addr: "10.0.0.5"})
	for _, m := range append(c.all(), eve) {
		m.frames()
	}
	eve.offer("", slides(), 1)
	eve.frames()
	c.bob.say("/mute spam --addr")
	for _, m := range append(c.all(), eve, spam) {
		m.frames()
	}
	c.tr.r.FileStored("id1")
	eve.expect(errorNotice("file 1, slides.pdf (2.3 MB), was not shown: you are muted"))
	for _, m := range append(c.all(), spam) {
		m.expectNothing()
	}
	c.tr.sync()
	if !slices.Equal(files.removed, []string{"id1"}) {
		t.Errorf("removed %v, want [id1]", files.removed)
	}
}

// Attack: a flood of offers. Each takes a line's token, and is refused as
// a line is once the budget is spent.
func TestOfferRateLimited(t *testing.T) {
	lim := wire.Limits{Burst: 2, PerSecond: 1}
	c, files, eve := filesCast(t, Config{Limits: lim})
	held := HeldLimits(lim).Burst
	for i := range held {
		eve.offer("", sized(int64(i+1)), uint64(i+1))
	}
	frames := eve.frames()
	if len(frames) != held {
		t.Fatalf("%d answers to %d offers: %s", len(frames), held, lines(frames))
	}
	eve.offer("", slides(), 99)
	eve.expect(refErrorNotice(99, "not sent: you are sending faster than the room allows (2 lines at once, then 1 a second)"))
	eve.say("and a line")
	eve.expect(errorNotice("not sent: you are sending faster than the room allows (2 lines at once, then 1 a second)"))
	if len(files.declared) != held {
		t.Errorf("%d declared, want %d", len(files.declared), held)
	}
	for _, m := range c.all() {
		m.expectNothing()
	}
}

// Attack: a member learns another's upload token (to put its own bytes in
// the file) or a private file's ID from what the room shows. Only the
// offerer's answer carries the token; the offer event carries neither.
func TestOfferStoredShown(t *testing.T) {
	c, _, eve := filesCast(t, Config{})
	c.cy.offer("", slides(), 1)
	c.cy.frames()
	c.tr.r.FileStored("nope") // unknown: ignored
	c.tr.r.FileStored("id1")
	c.tr.r.FileStored("id1") // again: ignored
	for _, m := range append(c.all(), eve) {
		m.expect(offerEvent(6, 1, "cy", slides()))
	}
	// In the history, as raw bytes: no id, no token.
	c.tr.inState(func(s *state) {
		for _, e := range s.history.since(0) {
			if strings.Contains(string(e.frame), "tok1") || strings.Contains(string(e.frame), "id1") {
				t.Errorf("the history holds %s", e.frame)
			}
		}
	})
	eve.sayRef("/get 1", 4)
	eve.expect(got(4, 1, "cy", "", slides()))
	eve.sayRef("/get #1 ~/Downloads", 5)
	eve.expect(got(5, 1, "cy", "", slides()))
	// A newcomer's backlog is messages: the offer is not in it, and
	// /files tells it.
	zoe := c.tr.join("zoe")
	if len(zoe.replay) != 0 {
		t.Errorf("zoe's backlog: %s", lines(zoe.replay))
	}
}

func TestGetRefused(t *testing.T) {
	c, _, eve := filesCast(t, Config{})
	c.cy.offer("", slides(), 1)
	c.cy.frames()
	for _, tt := range []struct{ line, want string }{
		{"/get", "usage: /get N [DIR]"},
		{"/get x", "usage: /get N [DIR]"},
		{"/get -1", "usage: /get N [DIR]"},
		{"/get 0", "usage: /get N [DIR]"},
		{"/get 99999999999999999999", "usage: /get N [DIR]"},
		{"/get 2", "there is no file 2 on offer (/files lists them)"},
		{"/get 1", "file 1 is still uploading: it can be fetched once it is all in"},
		{"/unsend", "usage: /unsend N"},
		{"/unsend 2", "there is no file 2 on offer (/files lists them)"},
		{"/unsend 1", "not allowed: only the member who offered file 1, or an admin, may take it back"},
	} {
		eve.sayRef(tt.line, 8)
		eve.expect(refErrorNotice(8, tt.want))
	}
	for _, m := range c.all() {
		m.expectNothing()
	}
}

// Attack: members other than the two of a private offer try every number,
// with /get, /files and /unsend, to learn of it or take it; and one takes
// the recipient's name when it has left. The answers to the numbers of
// private files are those to numbers never given.
func TestPrivateOffer(t *testing.T) {
	c, _, eve := filesCast(t, Config{})
	kim := c.tr.joinReq(JoinRequest{Name: "kim", Addr: "10.0.0.6", Identity: "SHA256:kim"})
	lee := c.tr.joinReq(JoinRequest{Name: "lee", Addr: "10.0.0.7", Identity: "SHA256:lee"})
	everyone := append(c.all(), eve, kim, lee)
	for _, m := range everyone {
		m.frames()
	}
	kim.offer("lee", slides(), 1)
	kim.frames()
	c.tr.r.FileStored("id1")
	kim.expect(privateOffer(7, 1, 1, "kim", "lee", slides()))
	lee.expect(privateOffer(7, 1, 1, "kim", "lee", slides()))
	for _, m := range everyone[:5] {
		m.expectNothing()
	}
	for _, m := range everyone[:5] {
		for n := 1; n <= 3; n++ {
			m.sayRef(fmt.Sprint("/get ", n), 2)
			m.expect(refErrorNotice(2, fmt.Sprintf("there is no file %d on offer (/files lists them)", n)))
		}
		m.sayRef("/files", 3)
		m.expect(wire.Frame{Type: wire.TypeNotice, Ref: 3, Text: "no files are on offer (/send PATH offers one)"})
		if m != c.cy && m != eve {
			continue // admins may take any file back (below)
		}
		m.sayRef("/unsend 1", 4)
		m.expect(refErrorNotice(4, "there is no file 1 on offer (/files lists them)"))
	}
	lee.sayRef("/get 1", 5)
	lee.expect(got(5, 1, "kim", "lee", slides()))
	kim.sayRef("/get 1", 5)
	kim.expect(got(5, 1, "kim", "lee", slides()))
	lee.sayRef("/files", 6)
	lee.expect(wire.Frame{Type: wire.TypeNotice, Ref: 6, Files: []wire.File{*shownAs(1, "kim", "lee", slides())},
		Text: "1 file on offer:\n1  slides.pdf (2.3 MB), sha256 3f9a1c2b…, from kim, to you alone, kept until Sat 15:09"})

	// lee leaves; someone without lee's key takes the name.
	c.tr.r.Leave(lee.m, wire.CodeLeft)
	fake := c.tr.joinReq(JoinRequest{Name: "lee", Addr: "10.0.0.7"})
	fake.sayRef("/get 1", 7)
	fake.expect(refErrorNotice(7, "there is no file 1 on offer (/files lists them)"))
	// lee comes back, under another name, with its key: the file is its.
	lee2 := c.tr.joinReq(JoinRequest{Name: "lee2", Addr: "10.0.0.8", Identity: "SHA256:lee"})
	lee2.sayRef("/get 1", 8)
	lee2.expect(got(8, 1, "kim", "lee", slides()))
}

// A private offer is a private frame: numbered among the member's, and
// sent again to a member that resumes from before it.
func TestPrivateOfferResumed(t *testing.T) {
	c, _, _ := filesCast(t, Config{})
	lee := c.tr.joinReq(JoinRequest{Name: "lee", Addr: "10.0.0.7", Identity: "SHA256:lee"})
	c.cy.frames()
	c.cy.offer("lee", slides(), 1)
	c.cy.frames()
	c.tr.r.FileStored("id1")
	want := privateOffer(6, 1, 1, "cy", "lee", slides())
	lee.expect(want)
	c.tr.r.Leave(lee.m, wire.CodeLost)
	back := c.tr.joinReq(JoinRequest{Name: "lee", Addr: "10.0.0.7", Identity: "SHA256:lee",
		Resume: &wire.Resume{Epoch: testEpoch, Seq: lee.welcome.Seq}})
	if !back.welcome.Resumed {
		t.Fatal("lee did not resume")
	}
	var privates []wire.Frame
	for _, f := range back.replay {
		if f.Type == wire.TypePrivate {
			privates = append(privates, f)
		}
	}
	if len(privates) != 1 || encodeString(privates[0]) != encodeString(want) {
		t.Errorf("lee's replay: %s", lines(back.replay))
	}
}

func TestUnsend(t *testing.T) {
	c, files, eve := filesCast(t, Config{})
	everyone := append(c.all(), eve)
	c.cy.offer("", slides(), 1)
	c.cy.frames()
	c.tr.r.FileStored("id1")
	for _, m := range everyone {
		m.frames()
	}
	// Attack: another member takes back cy's file.
	eve.sayRef("/unsend 1", 2)
	eve.expect(refErrorNotice(2, "not allowed: only the member who offered file 1, or an admin, may take it back"))
	// The store fails: the file stays on offer.
	files.removeErr = errors.New("the host could not remove it: disk error")
	c.bob.sayRef("/unsend 1", 3)
	c.bob.expect(refErrorNotice(3, "file 1 not taken back: the host could not remove it: disk error"))
	files.removeErr = nil
	// An admin may.
	c.bob.sayRef("/unsend 1", 4)
	unsend := wire.Frame{Type: wire.TypeEvent, Seq: 7, Time: testTime, Kind: wire.KindUnsend, File: &wire.File{Number: 1, Name: "slides.pdf"}, By: "bob"}
	for _, m := range everyone {
		// Every member sees the ref of the line an event answers.
		want := unsend
		want.Ref = 4
		m.expect(want)
	}
	if !slices.Equal(files.removed, []string{"id1", "id1"}) {
		t.Errorf("removed %v", files.removed)
	}
	eve.sayRef("/get 1", 5)
	eve.expect(refErrorNotice(5, "there is no file 1 on offer (/files lists them)"))

	// The offerer may, and, of a file still uploading, is told alone.
	eve.offer("", slides(), 6)
	eve.frames()
	eve.sayRef("/unsend 2", 7)
	eve.expect(wire.Frame{Type: wire.TypeNotice, Ref: 7, Text: "took back file 2, slides.pdf (2.3 MB)"})
	// An admin who takes back a file still uploading tells its offerer.
	eve.offer("", slides(), 8)
	eve.frames()
	c.dee.sayRef("/unsend 3", 9)
	c.dee.expect(wire.Frame{Type: wire.TypeNotice, Ref: 9, Text: "took back file 3, slides.pdf (2.3 MB)"})
	eve.expect(notice("dee took back file 3, slides.pdf (2.3 MB), before it was all in"))
	for _, m := range everyone {
		m.expectNothing()
	}
}

// Attack: a member without a key offers a file and leaves; another takes
// its name from another machine and takes the file back, or fetches a
// file offered to the name alone. The offerer without a key is known by
// its name and address together.
func TestUnsendImpostor(t *testing.T) {
	c, _, eve := filesCast(t, Config{})
	eve.offer("", slides(), 1)
	eve.frames()
	c.tr.r.FileStored("id1")
	for _, m := range append(c.all(), eve) {
		m.frames()
	}
	c.tr.r.Leave(eve.m, wire.CodeLeft)
	fake := c.tr.joinReq(JoinRequest{Name: "eve", Addr: "10.0.0.66"})
	fake.sayRef("/unsend 1", 2)
	fake.expect(refErrorNotice(2, "not allowed: only the member who offered file 1, or an admin, may take it back"))
	c.tr.r.Leave(fake.m, wire.CodeLeft)
	back := c.tr.joinReq(JoinRequest{Name: "eve", Addr: "10.0.0.5"})
	back.sayRef("/unsend 1", 3)
	if f := back.frames(); len(f) != 1 || f[0].Kind != wire.KindUnsend || f[0].By != "eve" {
		t.Errorf("eve's /unsend 1: %s", lines(f))
	}
}

// An admin may take back a private file it cannot fetch; its two members
// are told in private frames, the admin in a notice.
func TestUnsendPrivate(t *testing.T) {
	c, files, eve := filesCast(t, Config{})
	c.cy.offer("eve", slides(), 1)
	c.cy.frames()
	c.tr.r.FileStored("id1")
	c.cy.frames()
	eve.frames()
	c.bob.sayRef("/unsend 1", 2)
	c.bob.expect(wire.Frame{Type: wire.TypeNotice, Ref: 2, Text: "took back file 1, slides.pdf (2.3 MB)"})
	gone := wire.Frame{Type: wire.TypePrivate, Seq: 5, PrivateSeq: 2, Time: testTime, Kind: wire.KindUnsend, From: "cy", To: "eve", File: &wire.File{Number: 1, Name: "slides.pdf"}, By: "bob"}
	c.cy.expect(gone)
	eve.expect(gone)
	for _, m := range c.others("cy", "bob") {
		m.expectNothing()
	}
	if !slices.Equal(files.removed, []string{"id1"}) {
		t.Errorf("removed %v", files.removed)
	}
}

func TestFileGone(t *testing.T) {
	c, _, eve := filesCast(t, Config{})
	everyone := append(c.all(), eve)
	c.cy.offer("", slides(), 1)    // file 1: to the room
	c.cy.offer("eve", slides(), 2) // file 2: to eve
	c.cy.offer("", sized(3), 3)    // file 3: never stored
	c.cy.frames()
	c.tr.r.FileStored("id1")
	c.tr.r.FileStored("id2")
	for _, m := range everyone {
		m.frames()
	}
	c.tr.r.FileGone("nope", wire.CodeExpired) // unknown: ignored
	c.tr.r.FileGone("id1", wire.CodeExpired)
	for _, m := range everyone {
		m.expect(wire.Frame{Type: wire.TypeEvent, Seq: 7, Time: testTime, Kind: wire.KindUnsend, File: &wire.File{Number: 1, Name: "slides.pdf"}, Code: wire.CodeExpired})
	}
	c.tr.r.FileGone("id2", wire.CodeDamaged)
	gone := wire.Frame{Type: wire.TypePrivate, Seq: 7, PrivateSeq: 2, Time: testTime, Kind: wire.KindUnsend, From: "cy", To: "eve", File: &wire.File{Number: 2, Name: "slides.pdf"}, Code: wire.CodeDamaged}
	c.cy.expect(gone)
	eve.expect(gone)
	c.tr.r.FileGone("id3", wire.CodeMismatch)
	c.cy.expect(errorNotice("file 3, slides.pdf (3 bytes), is gone: what was uploaded did not match its sha256"))
	c.tr.r.FileGone("id1", wire.CodeExpired) // again: ignored
	for _, m := range everyone {
		m.expectNothing()
	}
	eve.sayRef("/files", 4)
	eve.expect(wire.Frame{Type: wire.TypeNotice, Ref: 4, Text: "no files are on offer (/send PATH offers one)"})
}

// After a restart the room knows the store's files again: the stored ones
// are fetchable, the others still uploading, and the numbers go on after
// the highest, and after the highest the history it continues showed.
func TestOffersRestored(t *testing.T) {
	f := slides()
	known := []Offer{
		{Number: 5, ID: "id5", Token: "tok5", Name: f.Name, Size: f.Size, SHA256: f.SHA256, From: "cy", Owner: "addr:10.0.0.3", Offered: testTime, Expires: testTime.Add(testExpiry), Stored: true},
		{Number: 9, ID: "id9", Token: "tok9", Name: f.Name, Size: f.Size, SHA256: f.SHA256, From: "cy", Owner: "addr:10.0.0.3", Offered: testTime, Expires: testTime.Add(testExpiry)},
		{Number: 0, ID: "bad"}, // unusable: left out
		{Number: 5, ID: "dup"}, // a number taken: left out
	}
	files := &fakeFiles{n: 9}
	c, _, eve := filesCast(t, Config{Files: files, Offers: known})
	eve.sayRef("/get 5", 1)
	eve.expect(got(1, 5, "cy", "", f))
	eve.sayRef("/get 9", 2)
	eve.expect(refErrorNotice(2, "file 9 is still uploading: it can be fetched once it is all in"))
	c.cy.sayRef("/files", 3)
	c.cy.expect(wire.Frame{Type: wire.TypeNotice, Ref: 3, Files: []wire.File{*shownAs(5, "cy", "", f)},
		Text: "2 files on offer:\n5  slides.pdf (2.3 MB), sha256 3f9a1c2b…, from cy, kept until Sat 15:09\n9  slides.pdf (2.3 MB), sha256 3f9a1c2b…, from cy, kept until Sat 15:09 — yours, still uploading"})
	eve.offer("", f, 4)
	eve.expect(offered(4, 10, "eve", "", f))
	c.tr.r.FileStored("id9")
	for _, m := range append(c.all(), eve) {
		m.expect(offerEvent(6, 9, "cy", f))
	}

	// A history whose last offer event showed file 12 (since expired,
	// and so not in the store) goes on at 13.
	past := encode(&wire.Frame{Type: wire.TypeEvent, Seq: 3, Time: testTime, Kind: wire.KindOffer, From: "cy", File: shownAs(12, "cy", "", f)})
	files = &fakeFiles{n: 12}
	tr := startRoom(t, Config{Files: files, Past: History{Epoch: testEpoch, Seq: 3, Events: [][]byte{past}}})
	kay := tr.join("kay")
	kay.offer("", f, 1)
	kay.expect(offered(1, 13, "kay", "", f))
}

// /files lists at most maxFilesListed, the newest, in one notice within
// the bound of a notice even when every name and sender is as long as it
// may be.
func TestListFilesBounded(t *testing.T) {
	long := "名" + strings.Repeat("字", (wire.MaxFileNameBytes-3)/3) // 3-byte runes up to the bound
	if len(long) > wire.MaxFileNameBytes || wire.CheckFileName(long) != nil {
		t.Fatalf("bad test name %q", long)
	}
	tr := startRoom(t, Config{Files: &fakeFiles{}})
	sender := strings.Repeat("é", 24) // the longest name, in bytes
	m := tr.join(sender)
	to := tr.join(strings.Repeat("ü", 24))
	const n = maxFilesListed + 15
	for i := range n {
		m.offer(to.m.name, wire.File{Name: long, Size: 1<<50 + int64(i), SHA256: testSum}, uint64(i+1))
		tr.r.FileStored(fmt.Sprint("id", i+1))
	}
	m.frames()
	m.sayRef("/files", 99)
	tr.sync()
	var raw [][]byte
	for {
		b, ok := m.next()
		if !ok {
			break
		}
		raw = append(raw, b)
	}
	if len(raw) != 1 {
		t.Fatalf("%d frames answer /files, want 1", len(raw))
	}
	if len(raw[0]) > maxNotice {
		t.Errorf("a notice of %d bytes, more than %d", len(raw[0]), maxNotice)
	}
	f := parse(t, raw[0])
	if len(f.Files) != maxFilesListed || f.Files[0].Number != n-maxFilesListed+1 || f.Files[maxFilesListed-1].Number != n {
		t.Errorf("listed %d files, %d to %d", len(f.Files), f.Files[0].Number, f.Files[len(f.Files)-1].Number)
	}
	if first, _, _ := strings.Cut(f.Text, "\n"); first != fmt.Sprintf("%d files on offer; the newest %d:", n, maxFilesListed) {
		t.Errorf("first line %q", first)
	}
	for _, file := range f.Files {
		if file.ID != "" || file.Token != "" {
			t.Fatalf("/files gave %+v", file)
		}
	}
}

// Offers, lines and stored files from many members at once: every member
// sees the same events in the same order, each offer event once.
func TestOffersSameOrder(t *testing.T) {
	files := &fakeFiles{}
	tr := startRoom(t, Config{Files: files})
	const members, each = 4, 20
	var cs []*client
	for i := range members {
		cs = append(cs, tr.join(fmt.Sprint("m", i)))
	}
	for _, c := range cs {
		c.frames() // the joins after each one's own
	}
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				c.offer("", sized(int64(j+1)), uint64(2*j+1))
				c.sayRef(fmt.Sprint("line ", i, " ", j), uint64(2*j+2))
			}
		}()
	}
	wg.Wait()
	tr.sync()
	// The ids were given in the room's order; stored from another
	// goroutine in another.
	var ids []string
	tr.inState(func(s *state) {
		for _, d := range files.declared {
			ids = append(ids, d.ID)
		}
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := len(ids) - 1; i >= 0; i-- {
			tr.r.FileStored(ids[i])
		}
	}()
	wg.Wait()
	var first []string
	for i, c := range cs {
		var seen []string
		offers := 0
		for _, f := range c.frames() {
			if f.Type != wire.TypeEvent {
				continue
			}
			if f.Kind == wire.KindOffer {
				offers++
			}
			seen = append(seen, encodeString(f))
		}
		if offers != members*each {
			t.Errorf("m%d saw %d offers, want %d", i, offers, members*each)
		}
		if i == 0 {
			first = seen
		} else if !slices.Equal(seen, first) {
			t.Errorf("m%d saw the events in another order than m0", i)
		}
	}
}

// A member that offers again what it has not uploaded yet (its answer was
// lost with its connection, or the host restarted) is given the same file
// again, token and all, rather than a second reservation; one that offers
// again what is on offer is told so.
func TestOfferAgain(t *testing.T) {
	c, files, eve := filesCast(t, Config{})
	eve.offer("", slides(), 1)
	eve.expect(offered(1, 1, "eve", "", slides()))
	eve.offer("", slides(), 2)
	eve.expect(offered(2, 1, "eve", "", slides()))
	// Another member's offer of the same bytes is its own.
	c.cy.offer("", slides(), 3)
	c.cy.expect(offered(3, 2, "cy", "", slides()))
	// To another, it is another offer.
	eve.offer("cy", slides(), 4)
	eve.expect(offered(4, 3, "eve", "cy", slides()))
	if len(files.declared) != 3 {
		t.Errorf("%d declared, want 3", len(files.declared))
	}
	c.tr.r.FileStored("id1")
	for _, m := range append(c.all(), eve) {
		m.frames()
	}
	eve.offer("", slides(), 5)
	eve.expect(refErrorNotice(5, "not offered: slides.pdf is on offer already, as file 1 (/unsend 1 takes it back)"))
}

// FuzzOffer feeds arbitrary offers to a room, has the store's files stored
// and fetched: the room never panics, every frame it sends is a frame, an
// offer it takes has a name CheckFileName allows, a sha256 and a size of
// a file, and no one but the offerer is ever sent an upload token (the
// attack: any offer that leads the room to show one).
func FuzzOffer(f *testing.F) {
	for _, seed := range []struct {
		name, sum, to string
		size          int64
	}{
		{"slides.pdf", testSum, "", 2_300_000},
		{"slides.pdf", testSum, "watcher", 1},
		{"../etc/passwd", testSum, "", 1},
		{"CON", testSum, "bob", 1},
		{"a\u202Etxt.exe", testSum, "", 1},
		{"a\nb", testSum, "", 1},
		{"x", strings.ToUpper(testSum), "", 1},
		{"x", testSum, "nobody", -5},
		{"x", testSum, "ana", 0},
		{"\xff", "", "\xff", 1 << 62},
	} {
		f.Add(seed.name, seed.sum, seed.to, seed.size)
	}
	f.Fuzz(func(t *testing.T, name, sum, to string, size int64) {
		files := &fakeFiles{}
		tr := startRoom(t, Config{Files: files})
		watcher := tr.join("watcher")
		ana := tr.joinReq(JoinRequest{Name: "ana", Admin: true})
		bob := tr.join("bob")
		next := watcher.welcome.Seq + 1
		bob.offer(to, wire.File{Name: name, Size: size, SHA256: sum}, 1)
		ana.offer(to, wire.File{Name: name, Size: size, SHA256: sum, ID: name, Token: sum}, 2)
		tr.sync()
		var ids []string
		tr.inState(func(*state) {
			for _, d := range files.declared {
				if wire.CheckFileName(d.Name) != nil || wire.CheckSHA256(d.SHA256) != nil || d.Size < 1 {
					t.Errorf("the room declared %+v", d)
				}
				ids = append(ids, d.ID)
			}
		})
		for _, id := range ids {
			tr.r.FileStored(id)
		}
		for _, c := range []*client{watcher, ana, bob} {
			c.say("/files")
			c.say("/get 1")
			c.say("/get 2")
		}
		bob.say("/unsend 1")
		tr.r.FileGone("id2", wire.CodeExpired)
		for _, c := range []*client{watcher, ana, bob} {
			for _, fr := range c.frames() {
				if fr.File != nil && fr.File.Token != "" && (c == watcher || fr.Ref == 0) {
					t.Fatalf("%s was sent a token: %s", c.m.name, encodeString(fr))
				}
				if c != watcher || fr.Type != wire.TypeEvent {
					continue
				}
				if fr.Seq != next {
					t.Fatalf("the watcher saw event %d where %d was due", fr.Seq, next)
				}
				next++
			}
		}
	})
}

// Attack: a member muted when it joined, whom the others do not see (see
// Member.hidden), offers a file once its mute ran out. Its offer is shown
// only after its join is: no one gets a file from a name not in its
// roster.
func TestOfferOfHiddenMember(t *testing.T) {
	var mu sync.Mutex
	now := testTime
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	tr := startRoom(t, Config{Now: clock, Files: &fakeFiles{},
		Mutes: []Mute{{Name: "mal", Identity: malKey, By: "ana", Time: testTime, Until: testTime.Add(time.Minute)}}})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	mal := tr.joinReq(JoinRequest{Name: "mal", Addr: "10.0.0.5", Identity: malKey})
	ana.expectNothing()
	mal.offer("", slides(), 1)
	mal.expect(refErrorNotice(1, "not sent: you are muted until 15:10"))
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	mal.offer("", slides(), 2)
	if f := mal.frames(); len(f) != 1 || f[0].File == nil || f[0].File.Token != "tok1" {
		t.Fatalf("mal got %s", lines(f))
	}
	ana.expectNothing()
	tr.r.FileStored("id1")
	got := ana.frames()
	if len(got) != 2 || got[0].Kind != wire.KindJoin || got[0].Name != "mal" || got[1].Kind != wire.KindOffer || got[1].From != "mal" {
		t.Fatalf("ana got %s", lines(got))
	}
}
