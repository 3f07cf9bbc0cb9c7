package join

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"chatroom/host/wire"
)

// # Files, on the owner's side
//
// The person's file requests are local commands, taken by the owner
// goroutine as it takes /quit: "/send PATH [TO]" and "/get N [DIR]". Each
// becomes a fileAction, which the owner alone holds and takes through its
// steps as news comes:
//
//	/send: hashing (a goroutine reads the file for its sha256) → the
//	       offer, a frame queued among the lines (outgoing), with a ref →
//	       the room's answer with the same ref (a notice carrying the
//	       file's ID and upload Token, or an error) → the upload (a
//	       transfer goroutine: transfer.go) → stored, and the room's
//	       announcement of it (an offer event, or a private frame, from
//	       the person with the file's number).
//	/get:  "/get N", a say line with a ref → the answer (a notice with
//	       the file and its ID, or an error) → the fetch (a transfer
//	       goroutine) → the file in place, matched against its sha256.
//
// What the goroutines learn (a sha256, a transfer's end) comes back on
// fileNews; what the room says about files (the answers, the
// announcements) the receivers forward on fileFrames. Neither touches the
// client.

// maxFileActions bounds the file requests going on at once: each holds a
// goroutine and, once moving, a connection; and it bounds the news a
// client may have waiting from them (fileNews never blocks).
const maxFileActions = 16

// maxFileFrames bounds the room's frames about files waiting for the
// owner. A working room sends one answer a request; what a hostile room
// sends past the bound is dropped, not held.
const maxFileFrames = 64

// maxFetchSize is the largest file a fetch takes a room's word for, as the
// host's store bounds what it keeps (1 TiB).
const maxFetchSize = 1 << 40

// maxCapability bounds a file's ID and Token as a room gives them: they go
// back to it in a frame, and into the state file of uploads.
const maxCapability = 256

// defaultAnnounceWait bounds the wait, once an upload is stored, for the
// room's announcement of it (see Options.announceWait).
const defaultAnnounceWait = 30 * time.Second

// announceWait is the wait for the room's announcement of a stored upload.
func (c *client) announceWait() time.Duration {
	return cmp.Or(c.opts.announceWait, defaultAnnounceWait)
}

// filePatience bounds how long a script's leaving waits for its file
// requests (a transfer gives up by itself after transferPatience without
// progress; this covers a room that never answers a request).
const filePatience = 30 * time.Minute

// actionStep is where a fileAction is.
type actionStep int

const (
	stepHashing actionStep = iota // /send: reading the file for its sha256
	stepAsked                     // the offer or the /get waits, or went, unanswered
	stepMoving                    // a transfer goroutine runs
	stepStored                    // an upload stored: its announcement is awaited
	stepOver                      // done, or failed
)

// fileAction is one /send or /get, from the command to its end; the owner
// goroutine's alone.
type fileAction struct {
	key    int
	up     bool
	path   string // up: the file offered
	dir    string // a fetch: where the file lands
	number int    // a fetch: the N of "/get N"
	to     string // up: the member it is for, "" for the room
	file   wire.File
	step   actionStep
	// announced: the room showed the offer (it may come before the
	// upload's own news that the file is stored).
	announced bool
	// resumed: the upload goes on from an earlier run's offer (its ID and
	// Token from the state file of uploads); if the host no longer has
	// it, the file is offered anew.
	resumed bool
	// refused: the room refused the offer or the "/get" (its notice
	// said why).
	refused bool
	run     *transferRun // while stepMoving
	done    int64        // bytes through when it was cut short
	started time.Time
}

// FileOutcome is how one of the client's file requests ended, for
// SendFile and Get.
type FileOutcome struct {
	Up   bool
	File wire.File // as the room described it
	Path string    // the file sent, or where a fetch landed
	// Err is why it did not end well: nil for an upload stored and
	// announced, or a fetch in place and matched.
	Err error
}

// fileNews is what a hashing or transfer goroutine tells the owner: each
// sends one, at its end.
type fileNews struct {
	act *fileAction
	// hashing: the file's sha256 and size.
	hashed *wire.File
	// a transfer: it ended well (an upload stored; a fetch in place at
	// path).
	ok   bool
	path string
	// gone: an upload's host no longer has the offer (not-found): a
	// resumed upload is offered anew.
	gone bool
	// whole: an upload the host had whole already, announced back then.
	whole bool
	// unannounced: announceWait has passed since the upload was stored
	// (a timer's news, not a goroutine's end).
	unannounced bool
	err         error
}

// fileError is a file request that did not work, in words for a person.
type fileError struct{ text string }

func (e *fileError) Error() string { return e.text }

func fileErrorf(format string, args ...any) error {
	return &fileError{fmt.Sprintf(format, args...)}
}

// localFileCommand takes line if it is one of the client's own file
// commands, "/send" or "/get", and reports whether it was.
func (c *client) localFileCommand(line string) bool {
	cmd, rest, _ := strings.Cut(strings.TrimLeft(line, " "), " ")
	switch cmd {
	case "/send":
		c.startSend(rest)
	case "/get":
		c.startGet(rest)
	default:
		return false
	}
	return true
}

// fileRefused tells the person why a file command did nothing.
func (c *client) fileRefused(err error) {
	c.ui.Note(Note{Warning, InWords(err)})
	c.noteOutcome(FileOutcome{Err: err})
}

// noteOutcome keeps how a request ended, for a one-shot (SendFile, Get),
// which has the one; at the prompt nothing is kept, however many the
// person makes.
func (c *client) noteOutcome(o FileOutcome) {
	if c.opts.firstFile != nil {
		c.outcomes = append(c.outcomes, o)
	}
}

// startSend is "/send PATH [TO]": the file is checked, then hashed off the
// owner goroutine.
func (c *client) startSend(rest string) {
	path, to, err := parseSend(rest, func(p string) bool {
		st, err := os.Stat(p)
		return err == nil && !st.IsDir()
	})
	if err != nil {
		c.fileRefused(err)
		return
	}
	c.offerFile(path, to)
}

// offerFile checks the file at path and starts hashing it, to offer it to
// to ("" for the room).
func (c *client) offerFile(path, to string) {
	size, err := checkSendable(path)
	if err != nil {
		c.fileRefused(err)
		return
	}
	name := filepath.Base(path)
	if err := wire.CheckFileName(name); err != nil {
		c.fileRefused(fileErrorf("%s cannot be offered under its name: %s; rename it first", Sanitize(name), err))
		return
	}
	if !c.roomForFiles() {
		return
	}
	act := c.addAction(&fileAction{up: true, path: path, to: to, file: wire.File{Name: name, Size: size, To: to}})
	c.ui.Transfer(Transfer{Key: act.key, File: act.file, Up: true, State: Hashing, Path: path})
	go hashFile(c.filesCtx, act, c.ui, c.fileNews)
}

// checkSendable reports the size of the file at path, or why it cannot be
// offered, in a line for a person.
func checkSendable(path string) (int64, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return 0, fileErrorf("not sent: %s does not exist", path)
	case err != nil:
		return 0, fileErrorf("not sent: %s cannot be read (%s)", path, InWords(err))
	case st.IsDir():
		return 0, fileErrorf("not sent: %s is a directory; offer one file", path)
	case !st.Mode().IsRegular():
		return 0, fileErrorf("not sent: %s is not a plain file", path)
	case st.Size() == 0:
		return 0, fileErrorf("not sent: %s is empty", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fileErrorf("not sent: %s cannot be read (%s)", path, InWords(err))
	}
	f.Close()
	return st.Size(), nil
}

// roomForFiles reports whether another file request may start, and says
// why not when it may not.
func (c *client) roomForFiles() bool {
	n := 0
	for _, a := range c.actions {
		if a.step != stepOver {
			n++
		}
	}
	if n >= maxFileActions {
		c.fileRefused(fileErrorf("not started: %d file transfers are going on already; wait for one to end", n))
		return false
	}
	return true
}

// addAction starts act, an upload or a fetch as its fields say, under a
// key of its own, and returns it.
func (c *client) addAction(act *fileAction) *fileAction {
	c.lastKey++
	act.key, act.started = c.lastKey, time.Now()
	c.actions[act.key] = act
	return act
}

// startGet is "/get N [DIR]": "/get N" goes to the room as a line, and the
// answer starts the fetch.
func (c *client) startGet(rest string) {
	number, dir, err := parseGet(rest)
	if err != nil {
		c.fileRefused(err)
		return
	}
	c.getFile(number, dir)
}

// getFile fetches the room's file number into dir ("" for the download
// directory).
func (c *client) getFile(number int, dir string) {
	var err error
	if dir == "" {
		dir, err = downloadDir()
		if err != nil {
			c.fileRefused(err)
			return
		}
	} else if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		c.fileRefused(fileErrorf("not fetched: %s is not a directory", dir))
		return
	}
	if !c.roomForFiles() {
		return
	}
	act := c.addAction(&fileAction{dir: dir, number: number, file: wire.File{Number: number}, step: stepAsked})
	c.queueFileLine(act, outLine{text: "/get " + strconv.Itoa(number), act: act})
}

// queueFileLine queues the line (or offer) of act among the person's
// lines.
func (c *client) queueFileLine(act *fileAction, l outLine) {
	if !c.out.queueLine(l) {
		c.endAction(act, "", fileErrorf("not sent: %d lines are already waiting for the room", c.out.waitingCount()))
		return
	}
	c.pump()
}

// parseSend splits what follows "/send" into the file's path and whom it
// is for: a quoted path ("my slides.pdf" bob); else the whole rest when
// it names a file (exists); else the rest less its last word, which names
// the member. A path starting "~/" is in the person's home.
func parseSend(rest string, exists func(string) bool) (path, to string, err error) {
	rest = strings.TrimSpace(rest)
	usage := fileErrorf("usage: /send PATH [NAME] (quote a path with spaces: /send \"my slides.pdf\")")
	if rest == "" {
		return "", "", usage
	}
	if q := rest[0]; q == '"' || q == '\'' {
		end := strings.IndexByte(rest[1:], q)
		if end < 0 {
			return "", "", fileErrorf("not sent: the path's closing %c is missing", q)
		}
		path, after := rest[1:1+end], strings.TrimSpace(rest[2+end:])
		if strings.ContainsAny(after, " \t") {
			return "", "", usage
		}
		return expandHome(path), after, nil
	}
	if exists(expandHome(rest)) {
		return expandHome(rest), "", nil
	}
	if i := strings.LastIndexAny(rest, " \t"); i > 0 {
		return expandHome(strings.TrimSpace(rest[:i])), rest[i+1:], nil
	}
	return expandHome(rest), "", nil
}

// parseGet splits what follows "/get" into the file's number and the
// directory to fetch it into ("" for the download directory), which may
// be quoted.
func parseGet(rest string) (number int, dir string, err error) {
	rest = strings.TrimSpace(rest)
	first, dir, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(first)
	if err != nil || n <= 0 {
		return 0, "", fileErrorf("usage: /get N [DIR], N the number the room gave the file (/files lists them)")
	}
	dir = strings.TrimSpace(dir)
	if len(dir) >= 2 && (dir[0] == '"' || dir[0] == '\'') && dir[len(dir)-1] == dir[0] {
		dir = dir[1 : len(dir)-1]
	}
	return n, expandHome(dir), nil
}

// expandHome puts the person's home in place of a leading "~/".
func expandHome(path string) string {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return path
}

// downloadDir is where a fetched file lands when no directory is given:
// $XDG_DOWNLOAD_DIR, else Downloads in the person's home, made if
// missing.
func downloadDir() (string, error) {
	if d := os.Getenv("XDG_DOWNLOAD_DIR"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, nil
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fileErrorf("not fetched: no home directory to fetch into; give a directory (/get N DIR)")
	}
	d := filepath.Join(home, "Downloads")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fileErrorf("not fetched: %s cannot be made (%s); give a directory (/get N DIR)", d, InWords(err))
	}
	return d, nil
}

// hashFile reads act's file for its sha256, telling ui how far it is, and
// tells the owner the sum.
func hashFile(ctx context.Context, act *fileAction, ui UI, news chan<- fileNews) {
	t := Transfer{Key: act.key, File: act.file, Up: true, State: Hashing, Path: act.path}
	sum, size, err := hashPath(ctx, act.path, func(done int64) {
		t.Done = done
		ui.Transfer(t)
	})
	n := fileNews{act: act, err: err}
	if err == nil {
		n.hashed = &wire.File{SHA256: sum, Size: size}
	}
	news <- n
}

// hashPath is the sha256 of the file at path, and its size; progress is
// told how far it is, every progressEvery.
func hashPath(ctx context.Context, path string, progress func(done int64)) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fileErrorf("%s cannot be read (%s)", path, InWords(err))
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, transferBuffer)
	var done int64
	last := time.Now()
	for {
		if ctx.Err() != nil {
			return "", 0, ctx.Err()
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		done += int64(n)
		if time.Since(last) >= progressEvery {
			last = time.Now()
			progress(done)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", 0, fileErrorf("%s cannot be read (%s)", path, InWords(err))
		}
	}
	return hex.EncodeToString(h.Sum(nil)), done, nil
}

// heardFile takes the news of a hashing or transfer goroutine.
func (c *client) heardFile(n fileNews) {
	act := n.act
	if act.step == stepOver {
		return
	}
	switch {
	case n.unannounced:
		if act.step == stepStored {
			c.endAction(act, "", fileErrorf("%s was stored, but the room did not announce it within %s", Sanitize(act.file.Name), roundDelay(c.announceWait())))
		}
	case act.step == stepHashing && n.err != nil:
		c.endAction(act, "", n.err)
	case act.step == stepHashing:
		act.file.SHA256, act.file.Size = n.hashed.SHA256, n.hashed.Size
		if p, ok := c.uploads().find(c.roomID, act.file.SHA256, act.file.Size, act.to); ok {
			// Offered before, by an earlier run that did not finish the
			// upload: it goes on where the host's copy stops.
			act.file.ID, act.file.Token, act.file.Number = p.ID, p.Token, p.Number
			act.resumed = true
			c.ui.Note(Note{Info, fmt.Sprintf("%s was offered before; its upload goes on", Sanitize(act.file.Name))})
			c.startTransfer(act)
			return
		}
		act.step = stepAsked
		offer := act.file
		c.queueFileLine(act, outLine{offer: &offer, to: act.to, act: act})
	case n.gone && act.resumed:
		// The host dropped the earlier offer: offered anew.
		c.uploads().remove(c.roomID, act.file.ID)
		act.resumed, act.run = false, nil
		act.file.ID, act.file.Token, act.file.Number = "", "", 0
		act.step = stepAsked
		offer := act.file
		c.queueFileLine(act, outLine{offer: &offer, to: act.to, act: act})
	case n.err != nil:
		var refused *refusal
		if act.up && errors.As(n.err, &refused) {
			// Refused for good; an upload that gave up after breaks is
			// kept, for the next run to go on with.
			c.uploads().remove(c.roomID, act.file.ID)
		}
		c.endAction(act, "", n.err)
	case act.up:
		c.uploads().remove(c.roomID, act.file.ID)
		act.run = nil
		act.step = stepStored
		if n.whole && act.resumed && c.sess != nil {
			// Stored by an earlier run, and announced then: no
			// announcement comes now.
			act.announced = true
			act.file.From = c.sess.Roster().Me()
		}
		if act.announced {
			c.endAction(act, act.path, nil)
			break
		}
		// The room announces a file as soon as it is stored; one that
		// does not, ever, must not keep a script waiting.
		news := c.fileNews
		time.AfterFunc(c.announceWait(), func() {
			select {
			case news <- fileNews{act: act, unannounced: true}:
			default: // only a client with every request ending at once
			}
		})
	default:
		c.endAction(act, n.path, nil)
	}
	c.pump() // a script's leaving may have waited for it
}

// heardFileFrame takes a frame of the room's about files: an answer to a
// request's ref, or the announcement of an offer.
func (c *client) heardFileFrame(f wire.Frame) {
	if f.Type == wire.TypeNotice {
		act := c.fileRefs[f.Ref]
		if act == nil || act.step != stepAsked {
			return
		}
		delete(c.fileRefs, f.Ref)
		c.answeredFile(act, f)
		c.pump()
		return
	}
	// An announcement: of the person's own upload, by its number.
	if f.File == nil || f.File.Number == 0 {
		return
	}
	for _, act := range c.actions {
		if act.up && act.file.Number == f.File.Number && act.step != stepOver && act.step != stepHashing {
			act.announced = true
			act.file.From = cmp.Or(f.File.From, f.From)
			if f.File.Expires.After(act.file.Expires) {
				act.file.Expires = f.File.Expires
			}
			if act.step == stepStored {
				c.endAction(act, act.path, nil)
				c.pump()
			}
		}
	}
}

// answeredFile takes the room's answer to act's offer or "/get".
func (c *client) answeredFile(act *fileAction, f wire.Frame) {
	if f.Error {
		act.refused = true
		c.endAction(act, "", &fileError{"the room refused: " + f.Text})
		return
	}
	if f.File == nil {
		c.endAction(act, "", fileErrorf("the room answered without the file (it may not take files)"))
		return
	}
	got := *f.File
	if err := checkCapability(got.ID, "id"); err != nil {
		c.endAction(act, "", err)
		return
	}
	if act.up {
		if err := checkCapability(got.Token, "upload token"); err != nil {
			c.endAction(act, "", err)
			return
		}
		act.file.Number, act.file.ID, act.file.Token, act.file.Expires = got.Number, got.ID, got.Token, got.Expires
		c.uploads().add(pendingUpload{Room: c.roomID, SHA256: act.file.SHA256, Size: act.file.Size, To: act.to,
			Path: act.path, Number: got.Number, ID: got.ID, Token: got.Token})
		c.startTransfer(act)
		return
	}
	// Every field of a hostile room's answer is checked before any file
	// is made: the name is the one the file will have in act.dir.
	if err := checkFetchable(got); err != nil {
		c.endAction(act, "", err)
		return
	}
	got.Token = ""
	for _, other := range c.actions {
		if other != act && !other.up && other.step == stepMoving && other.file.SHA256 == got.SHA256 && other.dir == act.dir {
			// Both would write the same part.
			c.endAction(act, "", fileErrorf("not fetched: %s is being fetched into %s already", Sanitize(got.Name), act.dir))
			return
		}
	}
	act.file = got
	c.ui.Note(Note{Info, fmt.Sprintf("%s lands in %s once its sha256 is checked", Sanitize(got.Name), act.dir)})
	c.startTransfer(act)
}

// checkFetchable checks a file as a room describes it in its answer to a
// "/get", before anything is written: its name must be a name only (no
// directory, no "..", no control or bidi characters), its sha256 and size
// of the forms a room gives.
func checkFetchable(f wire.File) error {
	if err := wire.CheckFileName(f.Name); err != nil {
		return fileErrorf("not fetched: the room gave a file name that is not fit to be one (%s)", err)
	}
	if err := wire.CheckSHA256(f.SHA256); err != nil {
		return fileErrorf("not fetched: the room gave %s without a proper sha256", Sanitize(f.Name))
	}
	if f.Size <= 0 || f.Size > maxFetchSize {
		return fileErrorf("not fetched: the room gave %s a size of %d bytes", Sanitize(f.Name), f.Size)
	}
	return nil
}

// checkCapability checks an ID or Token a room gave: something to send
// back, of a bounded length, printable.
func checkCapability(s, what string) error {
	if s == "" || len(s) > maxCapability || !utf8.ValidString(s) || Sanitize(s) != s || strings.ContainsAny(s, " \t") {
		return fileErrorf("the room's answer gave no usable file %s", what)
	}
	return nil
}

// startTransfer starts act's upload or fetch on a goroutine of its own.
func (c *client) startTransfer(act *fileAction) {
	act.step = stepMoving
	act.run = &transferRun{
		key: act.key, up: act.up, file: act.file, path: act.path, dir: act.dir,
		dial: func() Dialer { return *c.dialNow.Load() }, ui: c.ui, sleep: c.opts.transferSleep, freeSpace: c.opts.freeSpace, news: c.fileNews, act: act,
		ended: make(chan struct{}),
	}
	go act.run.run(c.filesCtx)
}

// endAction ends act: well, with the file at path, or with err, which the
// person is told (Failed) unless a transfer already told it.
func (c *client) endAction(act *fileAction, path string, err error) {
	if act.step == stepOver {
		return
	}
	told := act.run != nil && act.step == stepMoving // the transfer's own Failed said it
	act.step = stepOver
	act.run = nil
	delete(c.actions, act.key)
	for ref, a := range c.fileRefs {
		if a == act {
			delete(c.fileRefs, ref)
		}
	}
	if path == "" && act.up {
		path = act.path
	}
	shown := act.file
	shown.ID, shown.Token = "", "" // the capabilities are no UI's business, nor a caller's
	c.noteOutcome(FileOutcome{Up: act.up, File: shown, Path: path, Err: err})
	if err != nil && !told {
		c.ui.Transfer(Transfer{Key: act.key, File: shown, Up: act.up, State: Failed, Done: act.done, Path: path, Err: InWords(err), Refused: act.refused})
	}
}

// filesBusy reports whether file requests are still going on that a
// script's leaving waits for: while patient, up to filePatience.
func (c *client) filesBusy() bool {
	if !c.leave.patient || c.ctx.Err() != nil || time.Since(c.leave.at) > filePatience {
		return false
	}
	for _, a := range c.actions {
		if a.step != stepOver {
			return true
		}
	}
	return false
}

// cutFiles ends what file requests are going on as Join ends: each is
// said to be cut short, and how to go on with it; their goroutines are
// stopped, and waited for a little.
func (c *client) cutFiles() {
	var ended []chan struct{}
	for _, act := range c.actions {
		if act.step == stepOver {
			continue
		}
		done := int64(0)
		if act.run != nil {
			done = act.run.done.Load()
			ended = append(ended, act.run.ended)
		}
		name := Sanitize(act.file.Name)
		// At the prompt, the command that goes on; for a one-shot, the
		// same command line again.
		again := "/send it again"
		if !act.up {
			again = fmt.Sprintf("/get %d again", act.number)
		}
		if c.opts.firstFile != nil {
			again = "run the same command again"
		}
		var text string
		switch {
		case act.up && act.step == stepStored:
			continue // stored: the room has it, and announces it
		case act.up && act.step == stepMoving:
			text = fmt.Sprintf("%s: %s uploaded; %s to go on", name, percent(done, act.file.Size), again)
		case act.up:
			text = fmt.Sprintf("%s: not offered (you left first)", name)
		case act.step == stepMoving:
			text = fmt.Sprintf("%s: %s fetched; %s to go on", name, percent(done, act.file.Size), again)
		default:
			text = fmt.Sprintf("file %d: not fetched (you left first)", act.number)
		}
		c.ui.Note(Note{Warning, text})
		act.run, act.done = nil, done // stopped, not failed: its goroutine says nothing more
		c.endAction(act, "", fileErrorf("%s", text))
	}
	c.stopFiles()
	wait := time.NewTimer(250 * time.Millisecond)
	defer wait.Stop()
	for _, e := range ended {
		select {
		case <-e:
		case <-wait.C:
			return
		}
	}
}

// percent is done of size, as a person reads it: "40%".
func percent(done, size int64) string {
	if size <= 0 {
		return "0%"
	}
	return fmt.Sprintf("%d%%", done*100/size)
}
