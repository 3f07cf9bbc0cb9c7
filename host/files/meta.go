package files

import (
	"chatroom/host/wire"

	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

const (
	// metaVersion is the version of the metadata file's format.
	metaVersion = 1
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
)

// metaFile is a file's metadata as it is written to ID.json.
type metaFile struct {
	Version int       `json:"version"`
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Size    int64     `json:"size"`
	SHA256  string    `json:"sha256"`
	Owner   string    `json:"owner"`
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
	case m.Version != metaVersion:
		return Info{}, fmt.Errorf("is of version %d, not %d", m.Version, metaVersion)
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
	sum, err := hex.DecodeString(m.SHA256)
	if err != nil || len(sum) != 32 || hex.EncodeToString(sum) != m.SHA256 {
		return Info{}, errors.New("has a sha256 that is not 64 lowercase hex digits")
	}
	info := Info{
		ID:      m.ID,
		Name:    m.Name,
		Size:    m.Size,
		Owner:   m.Owner,
		Offered: m.Offered,
		Expires: m.Expires,
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
