package host

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"chatroom/host/room"
	"chatroom/host/statefile"
	"chatroom/host/wire"
)

// Files in the state directory.
const (
	keyFile  = "room-key.pem"  // the room's TLS private key (PKCS #8), 0600
	certFile = "room-cert.pem" // its self-signed certificate
	idFile   = "room-id"
	lockName = "lock" // held by the host of the room (lockStateDir), with its pid
)

// openStateDir makes the state directory if need be, private to the user
// (its files are the room's key, the bans, and what people said), and
// takes it for this process (lockStateDir). It warns of a directory that
// others may write into: they could replace the files in it.
func openStateDir(dir string, log *slog.Logger) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot make the state directory: %w", err)
	}
	if fi, err := os.Stat(dir); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o022 != 0 {
		log.Warn(fmt.Sprintf("others can write into the state directory %s (mode %04o), and could replace the room's bans or key; make it private with: chmod 700 %s", dir, fi.Mode().Perm(), dir))
	}
	return lockStateDir(dir)
}

// errLocked is lockFile's error when another holds the lock.
var errLocked = errors.New("locked by another")

// alreadyHostedError is Start's error when another host holds the state
// directory.
type alreadyHostedError struct {
	dir string
	pid int // 0: not known
}

func (e *alreadyHostedError) Error() string {
	if e.pid > 0 {
		return fmt.Sprintf("the room in %s is already hosted (pid %d)", e.dir, e.pid)
	}
	return fmt.Sprintf("the room in %s is already hosted by another process", e.dir)
}

// lockStateDir takes the state directory for this host until the returned
// file is closed (or the process ends, however it ends): two hosts on one
// directory would each save their own bans over the other's, losing bans
// confirmed by the first. The lock file holds the pid of its holder, for
// the second host to say; the lock, not the file, is what counts, so a
// file left by a killed host is taken over.
func lockStateDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := statefile.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot lock the state directory: %w", err)
	}
	if err := lockFile(f); err != nil {
		defer f.Close()
		if errors.Is(err, errLocked) {
			data, _ := io.ReadAll(io.LimitReader(f, 32))
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			return nil, &alreadyHostedError{dir: dir, pid: pid}
		}
		return nil, fmt.Errorf("cannot lock the state directory %s: %w", dir, err)
	}
	// The pid is for people; a failure to write it leaves the lock held.
	if f.Truncate(0) == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// AlreadyHosted returns the error Start would give because another host
// holds the room in dir, or nil; for the command to say so before anything
// else it would say about a room it will not host (a warning about its
// password). It takes the lock and lets it go, so it creates nothing: a
// directory without a lock file was never hosted. Start takes the lock
// again, and is what keeps two hosts apart.
func AlreadyHosted(dir string) error {
	if _, err := os.Lstat(filepath.Join(dir, lockName)); err != nil {
		return nil
	}
	f, err := lockStateDir(dir)
	var held *alreadyHostedError
	if errors.As(err, &held) {
		return err
	}
	if f != nil {
		f.Close()
	}
	return nil // anything else wrong with the directory, Start says
}

// loadOrCreateRoomID returns the room's id, making one the first time. The
// id names the room for as long as its state directory lives, so that a
// member can tell the room it knew from another with the same name.
func loadOrCreateRoomID(dir string) (string, error) {
	path := filepath.Join(dir, idFile)
	data, err := statefile.ReadFile(path)
	if err == nil {
		id, ok := parseRoomID(data)
		if !ok {
			return "", fmt.Errorf("%s is damaged (want 16 hex digits); remove it to give the room a new id", path)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading the room id: %w", err)
	}
	var b [8]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	// Not secret: the id is in every advertisement of the room and in its
	// certificate, which every member is sent.
	if err := statefile.WriteAtomic(path, []byte(id+"\n"), 0o644); err != nil {
		return "", err
	}
	return id, nil
}

// parseRoomID reads idFile's contents: 16 lowercase hex digits, with space
// around them allowed (a file edited by hand).
func parseRoomID(data []byte) (string, bool) {
	id := strings.TrimSpace(string(data))
	if !wire.ValidRoomID(id) {
		return "", false
	}
	return id, true
}

// loadOrCreateCert returns the room's TLS certificate, creating a key and a
// self-signed certificate in dir the first time. The key is what members pin
// (see wire.Fingerprint), so it is made once and kept; the certificate names
// the room's id (wire.CertName), and is made anew for the same key when it
// does not, or when it is missing or damaged: it holds nothing the key does
// not give again.
func loadOrCreateCert(dir, id string, log *slog.Logger) (tls.Certificate, error) {
	keyPath, certPath := filepath.Join(dir, keyFile), filepath.Join(dir, certFile)
	keyPEM, err := statefile.ReadFile(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		if _, certErr := os.Lstat(certPath); !errors.Is(certErr, fs.ErrNotExist) {
			// Never replace a key that members may have pinned without
			// being told: a certificate says there was one.
			return tls.Certificate{}, fmt.Errorf("the room key %s is missing, though its certificate is there: restore the key, or remove %s to give the room a new key (members who knew the room will be warned that it changed)", keyPath, certPath)
		}
		return newRoomKey(dir, id)
	}
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("reading the room key: %w", err)
	}
	if err := checkPrivate(keyPath); err != nil {
		return tls.Certificate{}, err
	}
	key, err := parseRoomKey(keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("the room key %s is damaged (%v): restore it from a backup, or remove it and %s to give the room a new key", keyPath, err, certPath)
	}
	certPEM, err := statefile.ReadFile(certPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("reading the room certificate: %w", err)
	}
	if err == nil {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err == nil && cert.Leaf.Subject.CommonName == wire.CertName(id) {
			return cert, nil
		}
		if err != nil {
			log.Warn(fmt.Sprintf("%s does not go with the room key (%v); made it again from the key, whose fingerprint members know", certPath, err))
		}
	} else {
		log.Warn(fmt.Sprintf("%s was missing; made it again from the room key, whose fingerprint members know", certPath))
	}
	return issueCert(dir, id, key)
}

// newRoomKey makes the room's key and its certificate, for a room's first
// start.
func newRoomKey(dir, id string) (tls.Certificate, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := statefile.WriteAtomic(filepath.Join(dir, keyFile), keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	return issueCert(dir, id, key)
}

// parseRoomKey reads a PEM private key of the kinds crypto/tls reads
// (PKCS #8, as chatroom writes it; PKCS #1 and SEC 1 from other tools).
func parseRoomKey(keyPEM []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("a key of an unknown kind")
	}
	return signer, nil
}

// checkPrivate refuses a key file that others on the machine may read: it
// is what makes the room this room, and whoever holds a copy can pose as
// it to every member who pinned it. Windows keeps no such mode bits.
func checkPrivate(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("the room key %s can be read by others (mode %04o), and whoever reads it can pose as the room; make it private with: chmod 600 %s", path, perm, path)
	}
	return nil
}

// issueCert makes and saves a self-signed certificate for key that names
// the room id, and returns it with the key.
func issueCert(dir, id string, key crypto.Signer) (tls.Certificate, error) {
	der, err := wire.SelfSignedCert(key, wire.CertName(id), x509.ExtKeyUsageServerAuth)
	if err != nil {
		return tls.Certificate{}, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	// Not secret: every member is sent the certificate.
	if err := statefile.WriteAtomic(filepath.Join(dir, certFile), certPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// Lists the room remembers, each in a file of its own in the state
// directory as {"version": 1, "<key>": [...]}: the key names the list, so
// a file opened by hand says what it is.
var (
	bansList  = listFile{file: "bans.json", key: "bans"}
	opsList   = listFile{file: "ops.json", key: "ops"}
	mutesList = listFile{file: "mutes.json", key: "mutes"}
)

type listFile struct{ file, key string }

// loadList reads a saved list; a missing file is an empty list. A file that
// cannot be read is an error, never an empty list: starting a room that has
// forgotten its bans would let the banned back in.
func loadList[T any](dir string, l listFile) ([]T, error) {
	path := filepath.Join(dir, l.file)
	data, err := statefile.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", l.key, err)
	}
	items, version, err := parseList[T](data, l)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %s is damaged (%v); fix or remove it", l.key, path, err)
	}
	if version != 1 {
		return nil, fmt.Errorf("reading %s: %s has version %d, this chatroom reads version 1", l.key, path, version)
	}
	return items, nil
}

// parseList reads the contents of a list's file: its items and the
// version the file says it has.
func parseList[T any](data []byte, l listFile) (items []T, version int, err error) {
	var doc map[string]json.RawMessage
	err = json.Unmarshal(data, &doc)
	if err == nil {
		err = json.Unmarshal(doc["version"], &version)
	}
	if err == nil && doc[l.key] != nil {
		err = json.Unmarshal(doc[l.key], &items)
	}
	return items, version, err
}

// encodeList is what saveList writes.
func encodeList[T any](l listFile, items []T) ([]byte, error) {
	if items == nil {
		items = []T{}
	}
	data, err := json.MarshalIndent(map[string]any{"version": 1, l.key: items}, "", "  ")
	return append(data, '\n'), err
}

// saveList replaces a saved list with items, atomically: after a crash the
// file holds either the old list or the new one.
func saveList[T any](dir string, l listFile, items []T) error {
	data, err := encodeList(l, items)
	if err != nil {
		return err
	}
	return statefile.WriteAtomic(filepath.Join(dir, l.file), data, 0o600)
}

// modLogFile is the moderation log: one JSON object per line, appended.
const modLogFile = "modlog.jsonl"

// loadModLog reads the moderation log. A damaged line is an error, since
// the log is a record people rely on, except for the last: a last line cut
// short is what a host that died while appending it leaves (or a disk
// that filled up), and it is cut off the file, with a warning. Left in
// place, it would have the next entry glued onto it, and the line they
// made, damaged and no longer the last, would stop the room's next start.
func loadModLog(dir string, log *slog.Logger) ([]room.ModEntry, error) {
	path := filepath.Join(dir, modLogFile)
	data, err := statefile.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the moderation log: %w", err)
	}
	entries, whole, err := parseModLog(data)
	if err != nil {
		return nil, fmt.Errorf("%s:%v; fix or remove that line", path, err)
	}
	if whole < len(data) {
		// A file that cannot be cut is a warning too: the room starts, and
		// its log is only as damaged as it was.
		if err := truncateFile(path, int64(whole)); err != nil {
			log.Warn(fmt.Sprintf("the last line of %s is cut short, and removing it failed (%v): remove that line by hand", path, unwrapPathError(err)))
		} else {
			log.Warn(fmt.Sprintf("the last line of %s was cut short (the host stopped while writing it); removed it", path))
		}
	}
	return entries, nil
}

// parseModLog reads modLogFile's contents: its entries, and the length of
// the part of data that is whole lines, without a damaged or unfinished
// last line. A damaged line before the last is an error that starts with
// its line number.
func parseModLog(data []byte) (entries []room.ModEntry, whole int, err error) {
	for n := 1; whole < len(data); n++ {
		end := bytes.IndexByte(data[whole:], '\n')
		if end < 0 {
			return entries, whole, nil // unfinished
		}
		line := data[whole : whole+end]
		var e room.ModEntry
		if len(bytes.TrimSpace(line)) > 0 {
			if err := json.Unmarshal(line, &e); err != nil {
				if whole+end+1 == len(data) {
					return entries, whole, nil
				}
				return nil, 0, fmt.Errorf("%d is damaged (%v)", n, err)
			}
			entries = append(entries, e)
		}
		whole += end + 1
	}
	return entries, whole, nil
}

// truncateFile cuts the state file at path to size, and syncs it.
func truncateFile(path string, size int64) error {
	f, err := statefile.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	return syncClose(f, f.Truncate(size))
}

// syncClose ends a change to f whose last step returned err: on success
// it syncs f to disk; either way it closes f, and returns the first error.
func syncClose(f *os.File, err error) error {
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// appendModEntry adds e to the moderation log and syncs it to disk.
func appendModEntry(dir string, e room.ModEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := statefile.OpenAppend(filepath.Join(dir, modLogFile), 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	return syncClose(f, err)
}

// dirStore is the room.Store of a state directory: each list in a file of
// its own, replaced atomically (saveList), and the moderation log appended
// to and synced (appendModEntry), so that what the room confirms is on
// disk.
type dirStore string

func (d dirStore) SaveBans(b []room.Ban) error        { return saveList(string(d), bansList, b) }
func (d dirStore) SaveOps(o []room.Op) error          { return saveList(string(d), opsList, o) }
func (d dirStore) SaveMutes(m []room.Mute) error      { return saveList(string(d), mutesList, m) }
func (d dirStore) SaveModEntry(e room.ModEntry) error { return appendModEntry(string(d), e) }
func (d dirStore) SaveTopic(t room.Topic) error       { return saveTopic(string(d), t) }

// load reads what the store kept into cfg: the lists and the moderation
// log.
func (d dirStore) load(cfg *room.Config, log *slog.Logger) error {
	var err error
	dir := string(d)
	if cfg.Bans, err = loadList[room.Ban](dir, bansList); err != nil {
		return err
	}
	if cfg.Ops, err = loadList[room.Op](dir, opsList); err != nil {
		return err
	}
	if cfg.Mutes, err = loadList[room.Mute](dir, mutesList); err != nil {
		return err
	}
	if cfg.Topic, err = loadTopic(dir); err != nil {
		return err
	}
	cfg.ModLog, err = loadModLog(dir, log)
	return err
}

// topicFile holds the room's topic as {"version": 1, "topic": {...}}; a
// room with no topic has none.
const topicFile = "topic.json"

// maxTopicFile bounds the topic file read: a topic is at most
// room.MaxTopic bytes, which JSON escaping can make six times as many.
const maxTopicFile = 16 << 10

// loadTopic reads the saved topic; a missing file is no topic. A damaged
// one stops the host, as a damaged list does: it is the host's own file,
// and its person should know it was changed.
func loadTopic(dir string) (room.Topic, error) {
	path := filepath.Join(dir, topicFile)
	data, err := statefile.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return room.Topic{}, nil
	}
	if err != nil {
		return room.Topic{}, fmt.Errorf("reading the topic: %w", err)
	}
	t, err := parseTopic(data)
	if err != nil {
		return room.Topic{}, fmt.Errorf("reading the topic: %s is damaged (%v); fix or remove it", path, err)
	}
	return t, nil
}

// parseTopic reads topicFile's contents. It takes only what the room
// would have saved: version 1, a text the room accepts as a topic (see
// room.CheckTopic) and a name of at most room.MaxNameRunes characters.
func parseTopic(data []byte) (room.Topic, error) {
	if len(data) > maxTopicFile {
		return room.Topic{}, fmt.Errorf("it is larger than %d bytes", maxTopicFile)
	}
	var doc struct {
		Version int        `json:"version"`
		Topic   room.Topic `json:"topic"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return room.Topic{}, errors.New("it is not the JSON the room writes")
	}
	t := doc.Topic
	switch {
	case doc.Version != 1:
		return room.Topic{}, fmt.Errorf("it has version %d, this chatroom reads version 1", doc.Version)
	case room.CheckTopic(t.Text) != "":
		return room.Topic{}, fmt.Errorf("its text is not a topic: %s", room.CheckTopic(t.Text))
	case t.By != "" && room.ValidateName(t.By) != nil:
		return room.Topic{}, errors.New("it names no member as its setter")
	}
	return t, nil
}

// encodeTopic is what saveTopic writes.
func encodeTopic(t room.Topic) ([]byte, error) {
	data, err := json.MarshalIndent(map[string]any{"version": 1, "topic": t}, "", "  ")
	return append(data, '\n'), err
}

// saveTopic replaces the saved topic, atomically.
func saveTopic(dir string, t room.Topic) error {
	data, err := encodeTopic(t)
	if err != nil {
		return err
	}
	return statefile.WriteAtomic(filepath.Join(dir, topicFile), data, 0o600)
}

// historyFile holds the room's history between a clean shutdown and the
// next start: a header line, then the events exactly as they were sent,
// one per line, oldest first.
const historyFile = "history.jsonl"

// historyHeader is the first line of historyFile.
type historyHeader struct {
	Version int    `json:"version"`
	Epoch   string `json:"epoch"`
	Seq     uint64 `json:"seq"` // the number of the last event
	// LostMessage is room.History's: the newest message the room no
	// longer held. A file without it was written when the events had no
	// gaps and anything before them could have been a message.
	LostMessage *uint64 `json:"lost_message,omitempty"`
	// Resumable are the members who may resume (room.Resumable).
	Resumable []resumableRecord `json:"resumable,omitempty"`
	// Present counts the last of Resumable that were in the room when a
	// checkpoint of its journal was written (room.History.Present).
	Present int `json:"present,omitempty"`

	// A checkpoint of journalFile has these too. Boot is the system's
	// boot id when it was written (see takeHistory). Events is the number
	// of event lines after the header: the journal's records follow them.
	// A historyFile has all its lines events, and no Events.
	Boot   string `json:"boot,omitempty"`
	Events *int   `json:"events,omitempty"`

	// RosterKept and RosterLost are room.History's: Resumable names
	// everyone present at the close, and the newest change of who is
	// present that no event held tells.
	RosterKept bool   `json:"roster_kept,omitempty"`
	RosterLost uint64 `json:"roster_lost,omitempty"`
}

type resumableRecord struct {
	NameKey    string `json:"name_key"`
	Identity   string `json:"identity"`
	Since      uint64 `json:"since"`
	Taken      uint64 `json:"taken,omitempty"`
	PrivateSeq uint64 `json:"private_seq,omitempty"`
	// Privates are the private frames kept for the member, as sent (each
	// one JSON object; its place and number are in it).
	Privates []json.RawMessage `json:"privates,omitempty"`
	// Name, Role and Away are room.Resumable's: the member as listed when
	// the room closed with it present. The room checks them.
	Name string `json:"name,omitempty"`
	Role string `json:"role,omitempty"`
	Away string `json:"away,omitempty"`
}

func toRecord(r room.Resumable) resumableRecord {
	rec := resumableRecord{NameKey: r.NameKey, Identity: r.Identity, Since: r.Since, Taken: r.Taken, PrivateSeq: r.PrivateSeq,
		Name: r.Name, Role: r.Role, Away: r.Away}
	for _, p := range r.Privates {
		rec.Privates = append(rec.Privates, json.RawMessage(bytes.TrimSuffix(p.Frame, []byte("\n"))))
	}
	return rec
}

// fromRecord reads back what toRecord wrote, or says what is wrong with it.
func fromRecord(rec resumableRecord, lastSeq uint64) (room.Resumable, string) {
	// The host's own member has no key: it is kept, as the owner, only
	// to be listed after a restart (room.Resumable.Name).
	keyless := rec.Identity == "" && !(rec.Role == wire.RoleOwner && rec.Name != "" && rec.PrivateSeq == 0 && len(rec.Privates) == 0)
	if rec.NameKey == "" || keyless || rec.Since > lastSeq || rec.PrivateSeq >= maxSeq {
		return room.Resumable{}, "is not one the room could have kept"
	}
	r := room.Resumable{NameKey: rec.NameKey, Identity: rec.Identity, Since: rec.Since, Taken: rec.Taken, PrivateSeq: rec.PrivateSeq,
		Name: rec.Name, Role: rec.Role, Away: rec.Away}
	var prev room.PrivateCopy
	for _, raw := range rec.Privates {
		frame := append(slices.Clip([]byte(raw)), '\n')
		f, err := wire.Parse(frame)
		if err != nil || f.Type != wire.TypePrivate || f.Seq > lastSeq || f.PrivateSeq == 0 || f.PrivateSeq > rec.PrivateSeq ||
			len(frame) > wire.MaxHostFrame || f.PrivateSeq <= prev.Seq || f.Seq < prev.After {
			// (The room keeps them in the order it sent them, which is
			// the order of both their numbers.)
			return room.Resumable{}, "has a private frame the room could not have sent"
		}
		prev = room.PrivateCopy{After: f.Seq, Seq: f.PrivateSeq, Frame: frame}
		r.Privates = append(r.Privates, prev)
	}
	return r, ""
}

// saveHistory writes the room's history, atomically, for the next start.
func saveHistory(dir string, h room.History) error {
	data, err := encodeHistory(h)
	if err != nil {
		return err
	}
	// The history is what people said: private, as the bans are.
	return statefile.WriteAtomic(filepath.Join(dir, historyFile), data, 0o600)
}

// encodeHistory is what saveHistory writes.
func encodeHistory(h room.History) ([]byte, error) {
	return encodeHistoryAs(h, func(*historyHeader) {})
}

// encodeHistoryAs encodes h as historyFile holds it, with its header as
// edit leaves it.
func encodeHistoryAs(h room.History, edit func(*historyHeader)) ([]byte, error) {
	header := historyHeader{Version: 1, Epoch: h.Epoch, Seq: h.Seq, LostMessage: &h.LostMessage, Present: h.Present,
		RosterKept: h.RosterKept, RosterLost: h.RosterLost}
	for _, r := range h.Resumable {
		header.Resumable = append(header.Resumable, toRecord(r))
	}
	edit(&header)
	// Without HTML escaping, which json.Marshal would apply to the private
	// frames too: they are kept exactly as they were sent.
	var head bytes.Buffer
	enc := json.NewEncoder(&head)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(header); err != nil { // with its '\n'
		return nil, err
	}
	size := head.Len()
	for _, e := range h.Events {
		size += len(e)
	}
	data := make([]byte, 0, size)
	data = append(data, head.Bytes()...)
	for _, e := range h.Events {
		data = append(data, e...) // each already ends in '\n'
	}
	return data, nil
}

// takeHistory reads the history the room's last run left, and removes its
// files, so that the room continues its epoch and numbering: historyFile,
// which a clean close saved, or else journalFile, which a host that never
// closed (killed, or the system stopped under it) left behind (see
// journalHistory). The files must be gone before the room numbers
// anything: the room's journal starts anew with its own first checkpoint,
// and were the host killed before that, the next start must not find
// numbers that members may by then hold in the same epoch. With neither
// file (the first start) the room starts a new epoch, which tells
// resuming members that their numbers mean nothing here any more.
//
// A damaged file is a warning, not an error: the history is a convenience,
// and a new epoch is always safe (members are then sent the backlog, as
// newcomers), whereas refusing to start would turn a lost convenience into
// a room no one can use. Bans, unlike it, are refused when damaged, since
// forgetting them lets the banned back in.
func takeHistory(dir string, log *slog.Logger) (room.History, error) {
	past, found, err := savedHistory(dir, log)
	if err == nil && !found {
		past, err = journalHistory(dir, bootID(), log)
	}
	if err != nil {
		return room.History{}, err
	}
	if n := len(past.Resumable); n > maxResumable {
		// Only a journal of a long run of comings and goings can keep
		// more: those who left first are dropped.
		past.Resumable = past.Resumable[n-maxResumable:]
		log.Warn(fmt.Sprintf("%d members may resume, more than the room keeps (%d): the %d who left first cannot", n, maxResumable, n-maxResumable))
	}
	if dropped, size := boundPrivates(&past); dropped > 0 {
		log.Warn(fmt.Sprintf("%s keeps %d KiB of private messages for members who may resume, more than the room keeps (%d KiB): the %d who left first cannot resume", filepath.Join(dir, historyFile), size>>10, maxPrivateBytes>>10, dropped))
	}
	for _, name := range []string{historyFile, journalFile} {
		path := filepath.Join(dir, name)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return room.History{}, fmt.Errorf("cannot remove %s (%v): remove it by hand and start again", path, unwrapPathError(err))
		}
	}
	// As in statefile.WriteAtomic: the removal must be on disk before the
	// room numbers anything.
	syncDir(dir)
	return past, nil
}

// savedHistory reads historyFile; found is false when there is none.
func savedHistory(dir string, log *slog.Logger) (past room.History, found bool, err error) {
	path := filepath.Join(dir, historyFile)
	data, err := readHistory(path)
	if errors.Is(err, fs.ErrNotExist) {
		return room.History{}, false, nil
	}
	if err != nil && !errors.Is(err, errHistoryTooLarge) {
		return room.History{}, false, fmt.Errorf("reading the room's history: %w", err)
	}
	problem := "it is larger than the room ever writes"
	if err == nil {
		past, problem = parseHistory(data)
	}
	if problem != "" {
		log.Warn(fmt.Sprintf("%s is damaged (%s); starting a new history: members cannot resume across this restart", path, problem))
		past = room.History{}
	}
	return past, true, nil
}

// journalHistory reads journalFile: its last checkpoint, and the records
// after it replayed (room.ReplayJournal), which give the room as it was
// when its host stopped, with every member present then among those who
// may resume. A last record cut short (the host was killed while writing
// it, or the disk was full) is left out, with a warning: it is the end of
// a write no member was handed anything of. Damage before that is a
// warning and a new history, as for historyFile.
//
// The epoch continues only when the journal was written in this boot of
// the system (boot is its boot id, "" where the system has none). A host
// killed leaves all it wrote in the page cache, which the next start
// reads; a power cut, or a crash of the system, loses what was written
// since the last sync (Config.SyncEvery), and members may hold event
// numbers the file no longer has. Were the epoch continued, the room
// would give those numbers to other events, and a member resuming would
// take them as what it already has. So after a boot the room starts a new
// epoch, with the events kept as its backlog: members are then sent the
// backlog as newcomers. Where there is no boot id to compare, every start
// after a crash is a new epoch.
func journalHistory(dir, boot string, log *slog.Logger) (room.History, error) {
	path := filepath.Join(dir, journalFile)
	data, err := readHistory(path)
	if errors.Is(err, fs.ErrNotExist) {
		return room.History{}, nil
	}
	if err != nil && !errors.Is(err, errHistoryTooLarge) {
		return room.History{}, fmt.Errorf("reading the room's journal: %w", err)
	}
	damaged := func(problem string) (room.History, error) {
		log.Warn(fmt.Sprintf("%s is damaged (%s); starting a new history: members cannot resume across this restart", path, problem))
		return room.History{}, nil
	}
	if err != nil {
		return damaged("it is larger than the room ever writes")
	}
	past, written, cut, problem := parseJournal(data)
	if problem != "" {
		return damaged(problem)
	}
	if cut != "" {
		log.Warn(fmt.Sprintf("%s ended with %s (the host stopped while writing it); left that out", path, cut))
	}
	if boot == "" || written != boot {
		log.Warn(fmt.Sprintf("the room's host stopped without closing it, and the system has started again since (or cannot tell): what was written last may be lost, so the room starts a new epoch, with the %d events it kept as backlog: members cannot resume across this restart", len(past.Events)))
		past.Epoch, past.Resumable = "", nil
	}
	return past, nil
}

// Bounds on what a history file may hold. The room writes none of these;
// a file beyond them was edited, or made by something else, and is not
// loaded as it is.
const (
	// maxHistoryFile bounds the file read whole: the default 2,000
	// messages of the longest line (4,000 bytes of text, about 24 KB at
	// worst once escaped) are under 48 MiB, the 2,000 joins, leaves and
	// role changes kept besides (each under 2 KB: a name, and a reason of
	// at most 200 characters) under 4 MiB, and the private frames kept add
	// maxPrivateBytes. A room configured to keep many more events than
	// the default may lose its history at a restart, with a warning.
	// The journal is such a history and the records after it, which the
	// room keeps under room.MaxJournalTail (32 MiB) between checkpoints.
	maxHistoryFile = 128 << 20
	// maxSeq bounds the numbers of events and private frames: the room
	// counts on from the saved numbers, one a frame, and must never wrap
	// around to numbers members hold. 2^53 is also the largest number
	// every JSON reader takes exactly.
	maxSeq = 1 << 53
	// maxResumable bounds the members kept for resuming: the room keeps
	// 1,024 who left and every one present when it closed, 10,000 at most.
	maxResumable = 1 << 14
	// maxEpoch is the longest epoch name; the room makes them of 16 hex
	// digits.
	maxEpoch = 64
)

// maxPrivateBytes bounds the private frames loaded for resuming members,
// in all: the room's own bound in memory, so that a file written by hand
// cannot load more than the room would ever have kept.
const maxPrivateBytes = room.MaxKeptPrivateBytes

// errHistoryTooLarge is readHistory's error for a file above maxHistoryFile.
var errHistoryTooLarge = errors.New("larger than the room writes")

// readHistory reads historyFile, up to maxHistoryFile.
func readHistory(path string) ([]byte, error) {
	f, err := statefile.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxHistoryFile {
		return nil, errHistoryTooLarge // without reading it
	}
	data, err := io.ReadAll(io.LimitReader(f, maxHistoryFile+1))
	if err == nil && len(data) > maxHistoryFile {
		return nil, errHistoryTooLarge
	}
	return data, err
}

// boundPrivates drops from past the resumable members who left first while
// their private frames come to more than maxPrivateBytes in all, and returns
// how many it dropped and the size there was.
func boundPrivates(past *room.History) (dropped, size int) {
	for _, r := range past.Resumable {
		for _, p := range r.Privates {
			size += len(p.Frame)
		}
	}
	total := size
	for total > maxPrivateBytes && dropped < len(past.Resumable) {
		for _, p := range past.Resumable[dropped].Privates {
			total -= len(p.Frame)
		}
		dropped++
	}
	past.Resumable = past.Resumable[dropped:]
	return dropped, size
}

// validEpoch reports whether epoch is a name the room could have made.
func validEpoch(epoch string) bool {
	return epoch != "" && len(epoch) <= maxEpoch && strings.Trim(epoch, "0123456789abcdef") == ""
}

// parseHistory reads historyFile's contents, or says what is wrong with
// them.
func parseHistory(data []byte) (room.History, string) {
	past, _, rest, problem := parseCheckpoint(data)
	if problem == "" && len(rest) > 0 {
		problem = "it has more lines than its header counts"
	}
	if problem != "" {
		return room.History{}, problem
	}
	return past, ""
}

// parseCheckpoint reads a history as historyFile holds it, and as
// journalFile starts with it, or says what is wrong with it; rest is what
// follows the events its header counts (Events), the journal's records.
func parseCheckpoint(data []byte) (past room.History, head historyHeader, rest []byte, problem string) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	if len(lines) == 0 {
		return room.History{}, head, nil, "it is empty"
	}
	if err := json.Unmarshal(lines[0], &head); err != nil {
		return room.History{}, head, nil, "line 1 is not a header: " + err.Error()
	}
	if head.Events != nil {
		n := *head.Events
		if n < 0 || n > len(lines)-1 {
			return room.History{}, head, nil, fmt.Sprintf("the header counts %d events, and %d lines follow it", n, len(lines)-1)
		}
		size := 0
		for _, l := range lines[1+n:] {
			size += len(l)
		}
		rest = data[len(data)-size:]
		lines = lines[:1+n]
	}
	if head.Present < 0 || head.Present > len(head.Resumable) {
		return room.History{}, head, nil, fmt.Sprintf("it counts %d members present, of %d who may resume", head.Present, len(head.Resumable))
	}
	past, problem = parseHistoryBody(head, lines[1:])
	return past, head, rest, problem
}

// parseHistoryBody checks a history's header and reads its events.
func parseHistoryBody(head historyHeader, events [][]byte) (room.History, string) {
	if head.Version != 1 {
		return room.History{}, fmt.Sprintf("version %d, this chatroom reads version 1", head.Version)
	}
	if head.Epoch == "" {
		return room.History{}, "the header names no epoch"
	}
	if !validEpoch(head.Epoch) {
		return room.History{}, "the header's epoch is not one the room makes"
	}
	if head.Seq >= maxSeq {
		return room.History{}, fmt.Sprintf("the last event is numbered %d, past what the room numbers (%d)", head.Seq, uint64(maxSeq))
	}
	if len(head.Resumable) > maxResumable {
		return room.History{}, fmt.Sprintf("%d members who may resume, more than the room keeps", len(head.Resumable))
	}
	// The events the room held, in increasing order up to Seq: with gaps
	// where it had dropped joins and leaves (its newest event it always
	// holds), and all after the newest message it had lost.
	var lost uint64
	switch {
	case head.LostMessage != nil:
		lost = *head.LostMessage
	case len(events) == 0:
		lost = head.Seq
	default:
		// Events numbered Seq-len(events)+1 to Seq, as such a file holds
		// them, after any number of lost messages.
		lost = head.Seq - min(head.Seq, uint64(len(events)))
	}
	if lost > head.Seq {
		return room.History{}, fmt.Sprintf("the newest message lost is numbered %d, after the last event (%d)", lost, head.Seq)
	}
	prev := lost
	for i, line := range events {
		if line[len(line)-1] != '\n' {
			return room.History{}, fmt.Sprintf("line %d is cut short", i+2)
		}
		if len(line) > wire.MaxHostFrame {
			return room.History{}, fmt.Sprintf("line %d is longer than a frame the room sends", i+2)
		}
		f, err := wire.Parse(line)
		if err != nil {
			return room.History{}, fmt.Sprintf("line %d: %v", i+2, err)
		}
		if f.Type != wire.TypeEvent {
			return room.History{}, fmt.Sprintf("line %d is not an event", i+2)
		}
		if f.Seq <= prev || f.Seq > head.Seq {
			return room.History{}, fmt.Sprintf("line %d is event %d, out of order", i+2, f.Seq)
		}
		if i == len(events)-1 && f.Seq != head.Seq {
			return room.History{}, fmt.Sprintf("the last event is %d, not %d as the header says", f.Seq, head.Seq)
		}
		prev = f.Seq
	}
	past := room.History{Epoch: head.Epoch, Seq: head.Seq, Events: events, LostMessage: lost, Present: head.Present,
		RosterKept: head.RosterKept, RosterLost: head.RosterLost}
	for i, rec := range head.Resumable {
		r, problem := fromRecord(rec, head.Seq)
		if problem != "" {
			return room.History{}, fmt.Sprintf("resumable member %d %s", i+1, problem)
		}
		past.Resumable = append(past.Resumable, r)
	}
	return past, ""
}

// unwrapPathError drops the "remove PATH:" that the caller says itself.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
