package files

import (
	"chatroom/host/wire"

	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	// metaVersion is the version of the metadata file's format: 2 added
	// the room's Number, From, FromKey, To, ToKey and the upload's Token
	// (no host ever wrote version 1 outside tests); 3, that the room's
	// showing of a complete file is kept, as ID.shown (see Info.Shown),
	// where a file of version 2 was shown once complete.
	metaVersion = 3
	// legacyMetaVersion is the oldest version read.
	legacyMetaVersion = 2
	// maxMetaBytes bounds a metadata file read back: a real one is a few
	// hundred bytes, and a hostile one must not cost the host its memory.
	maxMetaBytes = 16 << 10
	// MaxOwnerBytes bounds the owner string a file is kept under.
	MaxOwnerBytes = 256
	// maxStoredSize bounds a size read back from metadata whatever the
	// host's limits are now (they may have changed since the offer), so
	// that sums over sizes cannot overflow and a file's chunk sums
	// (4 MiB at most) are read at little cost.
	maxStoredSize = 1 << 40
	// MaxPersonBytes bounds the names (From, To) a file is kept with: the
	// room's names are far shorter (24 characters); this only stops a
	// hostile state directory from handing the room a long one.
	MaxPersonBytes = 256
	// MaxKeyBytes bounds the identity key fingerprints (FromKey, ToKey):
	// "SHA256:" and 43 base64 characters, with room to spare.
	MaxKeyBytes = 128
	// MaxNumber bounds the room's number for a file.
	MaxNumber = 1<<31 - 1
)

// metaFile is a file's metadata as it is written to ID.json.
type metaFile struct {
	Version int       `json:"version"`
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Size    int64     `json:"size"`
	SHA256  string    `json:"sha256"`
	Owner   string    `json:"owner"`
	Number  int       `json:"number,omitempty"`
	From    string    `json:"from,omitempty"`
	FromKey string    `json:"from_key,omitempty"`
	To      string    `json:"to,omitempty"`
	ToKey   string    `json:"to_key,omitempty"`
	Token   string    `json:"token"`
	Offered time.Time `json:"offered"`
	Expires time.Time `json:"expires"`
}

func encodeMeta(info Info) ([]byte, error) {
	return json.Marshal(metaFile{
		Version: metaVersion,
		ID:      info.ID,
		Name:    info.Name,
		Size:    info.Size,
		SHA256:  hex.EncodeToString(info.SHA256[:]),
		Owner:   info.Owner,
		Number:  info.Number,
		From:    info.From,
		FromKey: info.FromKey,
		To:      info.To,
		ToKey:   info.ToKey,
		Token:   info.Token,
		Offered: info.Offered.UTC(),
		Expires: info.Expires.UTC(),
	})
}

// parseMeta reads the metadata of the file id from data, which came from
// a state directory that may have been damaged or written by someone
// else: every field is checked again as it was when the file was offered.
func parseMeta(data []byte, id string) (Info, error) {
	if len(data) > maxMetaBytes {
		return Info{}, fmt.Errorf("is %d bytes long, more than the %d a metadata file may be", len(data), maxMetaBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m metaFile
	if err := dec.Decode(&m); err != nil {
		return Info{}, fmt.Errorf("is not a metadata file: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Info{}, errors.New("has more after its metadata")
	}
	switch {
	case m.Version != metaVersion && m.Version != legacyMetaVersion:
		return Info{}, fmt.Errorf("is of version %d, not %d or %d", m.Version, legacyMetaVersion, metaVersion)
	case m.ID != id:
		return Info{}, fmt.Errorf("names the file %q, not %q", m.ID, id)
	case m.Size <= 0 || m.Size > maxStoredSize:
		return Info{}, fmt.Errorf("gives a size of %d bytes, outside 1 to %d", m.Size, int64(maxStoredSize))
	case m.Offered.IsZero() || m.Expires.IsZero():
		return Info{}, errors.New("has no offer or expiry time")
	}
	if err := wire.CheckFileName(m.Name); err != nil {
		return Info{}, fmt.Errorf("gives a name that is not safe: %v", err)
	}
	if err := checkOwner(m.Owner); err != nil {
		return Info{}, err
	}
	if !ValidID(m.Token) {
		return Info{}, errors.New("has an upload token that is not 32 lowercase hex digits")
	}
	if err := checkRoomFields(m.Number, m.From, m.FromKey, m.To, m.ToKey); err != nil {
		return Info{}, err
	}
	sum, err := hex.DecodeString(m.SHA256)
	if err != nil || len(sum) != 32 || hex.EncodeToString(sum) != m.SHA256 {
		return Info{}, errors.New("has a sha256 that is not 64 lowercase hex digits")
	}
	info := Info{
		ID:      m.ID,
		Name:    m.Name,
		Size:    m.Size,
		Owner:   m.Owner,
		Number:  m.Number,
		From:    m.From,
		FromKey: m.FromKey,
		To:      m.To,
		ToKey:   m.ToKey,
		Token:   m.Token,
		Offered: m.Offered,
		Expires: m.Expires,
		legacy:  m.Version == legacyMetaVersion,
	}
	copy(info.SHA256[:], sum)
	return info, nil
}

// checkOwner checks the opaque owner string: the store compares it and
// keeps it, and a host or a state directory could hand it anything.
func checkOwner(owner string) error {
	switch {
	case owner == "":
		return errors.New("has no owner")
	case len(owner) > MaxOwnerBytes:
		return fmt.Errorf("has an owner %d bytes long, more than the %d allowed", len(owner), MaxOwnerBytes)
	case !utf8.ValidString(owner):
		return errors.New("has an owner that is not valid UTF-8")
	}
	return nil
}

// checkRoomFields checks what the store keeps of a file for the room that
// offered it, which it does not read but hands back after a restart: a
// hostile state directory must not reach the room with a name full of
// control characters or a number that overflows. They are optional for
// the store (zero and ""), bounded and printable when given.
func checkRoomFields(number int, from, fromKey, to, toKey string) error {
	if number < 0 || number > MaxNumber {
		return fmt.Errorf("has the number %d, outside 0 to %d", number, MaxNumber)
	}
	for _, f := range []struct{ what, v string }{{"sender's name", from}, {"recipient's name", to}} {
		if err := checkPrintable(f.v, MaxPersonBytes); err != nil {
			return fmt.Errorf("has a %s that %v", f.what, err)
		}
	}
	for _, f := range []struct{ what, v string }{{"sender's key", fromKey}, {"recipient's key", toKey}} {
		if err := checkPrintable(f.v, MaxKeyBytes); err != nil {
			return fmt.Errorf("has a %s that %v", f.what, err)
		}
		if strings.ContainsFunc(f.v, func(r rune) bool { return r > unicode.MaxASCII || r == ' ' }) {
			return fmt.Errorf("has a %s that is not a fingerprint", f.what)
		}
	}
	return nil
}

// checkPrintable checks that s is at most limit bytes of UTF-8 with no
// control, format (bidi) or line-breaking characters.
func checkPrintable(s string, limit int) error {
	switch {
	case len(s) > limit:
		return fmt.Errorf("is %d bytes long, more than the %d allowed", len(s), limit)
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8")
	case strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp)
	}):
		return errors.New("has an invisible or control character in it")
	}
	return nil
}
