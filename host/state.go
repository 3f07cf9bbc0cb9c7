package host

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"chatroom/host/room"
	"chatroom/host/statefile"
	"chatroom/host/wire"
)

// Files in the state directory.
const (
	keyFile  = "room-key.pem"  // the room's TLS private key (PKCS #8), 0600
	certFile = "room-cert.pem" // its self-signed certificate
	idFile   = "room-id"
)

// loadOrCreateRoomID returns the room's id, making one the first time. The
// id names the room for as long as its state directory lives, so that a
// member can tell the room it knew from another with the same name.
func loadOrCreateRoomID(dir string) (string, error) {
	path := filepath.Join(dir, idFile)
	data, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(data))
		if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" {
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
	if err := statefile.WriteAtomic(path, []byte(id+"\n"), 0o644); err != nil {
		return "", err
	}
	return id, nil
}

// loadOrCreateCert returns the room's TLS certificate, creating a key and a
// self-signed certificate in dir the first time. The key is what members pin
// (see wire.Fingerprint), so it is made once and kept; the certificate names
// the room's id (wire.CertName), and is made anew for the same key when it
// does not.
func loadOrCreateCert(dir, id string) (tls.Certificate, error) {
	keyPath, certPath := filepath.Join(dir, keyFile), filepath.Join(dir, certFile)
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil {
		if cert.Leaf.Subject.CommonName == wire.CertName(id) {
			return cert, nil
		}
		key, ok := cert.PrivateKey.(crypto.Signer)
		if !ok {
			return tls.Certificate{}, fmt.Errorf("the room key in %s is of an unknown kind", dir)
		}
		return issueCert(dir, id, key)
	}
	_, keyErr := os.Stat(keyPath)
	_, certErr := os.Stat(certPath)
	if !errors.Is(keyErr, fs.ErrNotExist) || !errors.Is(certErr, fs.ErrNotExist) {
		// Never replace a key that exists: members have pinned it.
		return tls.Certificate{}, fmt.Errorf("reading the room key in %s: %w", dir, err)
	}

	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := statefile.WriteAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return tls.Certificate{}, err
	}
	return issueCert(dir, id, key)
}

// issueCert makes and saves a self-signed certificate for key that names
// the room id, and returns it with the key.
func issueCert(dir, id string, key crypto.Signer) (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: wire.CertName(id)},
		// Members check the key's fingerprint, not a chain or a date, so the
		// certificate is made to outlast any room.
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.AddDate(30, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, err
	}
	certPath := filepath.Join(dir, certFile)
	if err := statefile.WriteAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(certPath, filepath.Join(dir, keyFile))
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
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", l.key, err)
	}
	var doc map[string]json.RawMessage
	var version int
	var items []T
	err = json.Unmarshal(data, &doc)
	if err == nil {
		err = json.Unmarshal(doc["version"], &version)
	}
	if err == nil && doc[l.key] != nil {
		err = json.Unmarshal(doc[l.key], &items)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %s is damaged (%v); fix or remove it", l.key, path, err)
	}
	if version != 1 {
		return nil, fmt.Errorf("reading %s: %s has version %d, this chatroom reads version 1", l.key, path, version)
	}
	return items, nil
}

// saveList replaces a saved list with items, atomically: after a crash the
// file holds either the old list or the new one.
func saveList[T any](dir string, l listFile, items []T) error {
	if items == nil {
		items = []T{}
	}
	data, err := json.MarshalIndent(map[string]any{"version": 1, l.key: items}, "", "  ")
	if err != nil {
		return err
	}
	return statefile.WriteAtomic(filepath.Join(dir, l.file), append(data, '\n'), 0o600)
}

// modLogFile is the moderation log: one JSON object per line, appended.
const modLogFile = "modlog.jsonl"

// loadModLog reads the moderation log. A last line cut short (the host
// died while appending it) is skipped; a damaged line before it is an
// error, since the log is a record people rely on.
func loadModLog(dir string) ([]room.ModEntry, error) {
	path := filepath.Join(dir, modLogFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the moderation log: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var entries []room.ModEntry
	for i, line := range lines {
		if line == "" {
			continue
		}
		var e room.ModEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			if i == len(lines)-1 {
				break
			}
			return nil, fmt.Errorf("%s:%d is damaged (%v); fix or remove that line", path, i+1, err)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// appendModEntry adds e to the moderation log and syncs it to disk.
func appendModEntry(dir string, e room.ModEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, modLogFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
	// Resumable are the members who may resume (room.Resumable).
	Resumable []resumableRecord `json:"resumable,omitempty"`
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
}

func toRecord(r room.Resumable) resumableRecord {
	rec := resumableRecord{NameKey: r.NameKey, Identity: r.Identity, Since: r.Since, Taken: r.Taken, PrivateSeq: r.PrivateSeq}
	for _, p := range r.Privates {
		rec.Privates = append(rec.Privates, json.RawMessage(bytes.TrimSuffix(p.Frame, []byte("\n"))))
	}
	return rec
}

// fromRecord reads back what toRecord wrote, or says what is wrong with it.
func fromRecord(rec resumableRecord, lastSeq uint64) (room.Resumable, string) {
	if rec.NameKey == "" || rec.Identity == "" || rec.Since > lastSeq {
		return room.Resumable{}, "is not one the room could have kept"
	}
	r := room.Resumable{NameKey: rec.NameKey, Identity: rec.Identity, Since: rec.Since, Taken: rec.Taken, PrivateSeq: rec.PrivateSeq}
	for _, raw := range rec.Privates {
		frame := append(slices.Clip([]byte(raw)), '\n')
		f, err := wire.Parse(frame)
		if err != nil || f.Type != wire.TypePrivate || f.Seq > lastSeq || f.PrivateSeq == 0 || f.PrivateSeq > rec.PrivateSeq {
			return room.Resumable{}, "has a private frame the room could not have sent"
		}
		r.Privates = append(r.Privates, room.PrivateCopy{After: f.Seq, Seq: f.PrivateSeq, Frame: frame})
	}
	return r, ""
}

// saveHistory writes the room's history, atomically, for the next start.
func saveHistory(dir string, h room.History) error {
	header := historyHeader{Version: 1, Epoch: h.Epoch, Seq: h.Seq}
	for _, r := range h.Resumable {
		header.Resumable = append(header.Resumable, toRecord(r))
	}
	head, err := json.Marshal(header)
	if err != nil {
		return err
	}
	size := len(head) + 1
	for _, e := range h.Events {
		size += len(e)
	}
	data := make([]byte, 0, size)
	data = append(append(data, head...), '\n')
	for _, e := range h.Events {
		data = append(data, e...) // each already ends in '\n'
	}
	// The history is what people said: private, as the bans are.
	return statefile.WriteAtomic(filepath.Join(dir, historyFile), data, 0o600)
}

// takeHistory reads the history a clean shutdown saved and removes its
// file, so that the room continues its epoch and numbering. The file must
// be gone before the room numbers anything: were the host then killed, the
// next start would find it again and number new events with numbers
// members already hold in the same epoch. With no file (the first start,
// or after a crash) the room starts a new epoch, which tells resuming
// members that their numbers mean nothing here any more.
//
// A damaged file is a warning, not an error: the history is a convenience,
// and a new epoch is always safe (members are then sent the backlog, as
// newcomers), whereas refusing to start would turn a lost convenience into
// a room no one can use. Bans, unlike it, are refused when damaged, since
// forgetting them lets the banned back in.
func takeHistory(dir string, log *slog.Logger) (room.History, error) {
	path := filepath.Join(dir, historyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return room.History{}, nil
	}
	if err != nil {
		return room.History{}, fmt.Errorf("reading the room's history: %w", err)
	}
	past, problem := parseHistory(data)
	if problem != "" {
		log.Warn(fmt.Sprintf("%s is damaged (%s); starting a new history: members cannot resume across this restart", path, problem))
		past = room.History{}
	}
	if err := os.Remove(path); err != nil {
		return room.History{}, fmt.Errorf("cannot remove %s (%v): remove it by hand and start again", path, unwrapPathError(err))
	}
	if d, err := os.Open(dir); err == nil {
		// As in statefile.WriteAtomic: the removal must be on disk before
		// the room numbers anything. Systems that cannot sync a directory
		// do without.
		d.Sync()
		d.Close()
	}
	return past, nil
}

// parseHistory reads historyFile's contents, or says what is wrong with
// them.
func parseHistory(data []byte) (room.History, string) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	if len(lines) == 0 {
		return room.History{}, "it is empty"
	}
	var head historyHeader
	if err := json.Unmarshal(lines[0], &head); err != nil {
		return room.History{}, "line 1 is not a header: " + err.Error()
	}
	if head.Version != 1 {
		return room.History{}, fmt.Sprintf("version %d, this chatroom reads version 1", head.Version)
	}
	if head.Epoch == "" {
		return room.History{}, "the header names no epoch"
	}
	events := lines[1:]
	if uint64(len(events)) > head.Seq {
		return room.History{}, fmt.Sprintf("%d events, numbered up to %d", len(events), head.Seq)
	}
	first := head.Seq - uint64(len(events)) + 1
	for i, line := range events {
		if line[len(line)-1] != '\n' {
			return room.History{}, fmt.Sprintf("line %d is cut short", i+2)
		}
		f, err := wire.Parse(line)
		if err != nil {
			return room.History{}, fmt.Sprintf("line %d: %v", i+2, err)
		}
		if f.Type != wire.TypeEvent || f.Seq != first+uint64(i) {
			return room.History{}, fmt.Sprintf("line %d is not event %d", i+2, first+uint64(i))
		}
	}
	past := room.History{Epoch: head.Epoch, Seq: head.Seq, Events: events}
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
