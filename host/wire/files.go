package wire

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// # Files
//
// A member shares a file in three steps, the first and last on its
// member connection and the data on a connection of its own, so that the
// room's chat never waits behind a file:
//
//  1. Offer. The member sends an "offer" frame with the file's name, size
//     and sha256 (and "to", for one member alone), with a ref. The room
//     checks it as it checks a line (rate, mute) and against the host's
//     limits, and answers with a "notice" carrying the same ref: an error,
//     or "file" with the offer's Number, its ID and the upload's Token,
//     which only the member who offered it is given.
//
//     member: {"type":"offer","file":{"name":"slides.pdf","size":2300000,"sha256":"3f9a…"},"ref":7}
//     host:   {"type":"notice","ref":7,"text":"…","file":{"number":4,"name":"slides.pdf",…,"id":"…","token":"…"}}
//
//  2. Upload. On a new connection to the room (TLS, as the member's
//     own), the member's first frame is "upload" with the ID and Token.
//     The host answers "ready" with the offset its copy ends at (0 at
//     first; where a broken upload stopped after a break or a restart),
//     and the member sends the file's bytes from there to its end, raw,
//     with no framing. The host checks the sha256 when the last byte is
//     in and answers "stored"; a file that fails the check is removed and
//     the connection ends with a "refused" frame (CodeMismatch). A member
//     whose upload broke sends "upload" again on a new connection and
//     goes on from the offset the host says.
//
//     member: {"type":"upload","file":{"id":"…","token":"…"}}
//     host:   {"type":"ready","offset":0}
//     member: <2300000 bytes>
//     host:   {"type":"stored"}
//
//  3. The offer shown. Once the file is stored, the room sends an "event"
//     of kind "offer" with the file (its Number, Name, Size, SHA256, From,
//     Expires; never the ID or Token) to everyone, or, for an offer to one
//     member, a "private" frame with the file to that member and to the
//     one who offered it.
//
// Fetching: "/get N" (a say line) is answered with a notice carrying the
// file with its ID, to a member who may have it (everyone for an offer to
// the room; the two members of a private one). On a new connection the
// member's first frame is "fetch" with the ID and the offset it has
// already (0 at first); the host answers "ready" with that offset, and
// sends the file's bytes from there to its end, raw, then closes. The
// member checks the whole file's sha256 before it calls the file done.
//
//     member: {"type":"fetch","file":{"id":"…"},"offset":1048576}
//     host:   {"type":"ready","offset":1048576}
//     host:   <the rest of the file's bytes>
//
// A transfer the host will not do is answered with a "refused" frame
// (CodeNotFound, CodeMismatch, CodeDamaged, CodeTooMany, CodeUnexpected)
// and the end of the connection.
//
// "/files" lists the files on offer the member may fetch (a notice whose
// "files" holds them, without IDs); "/unsend N" (by the member who
// offered it, or an admin) takes one back, which the room tells with an
// "event" of kind "unsend" carrying the file's Number (and By); the room
// tells a file's expiry the same way, with Code "expired".

// Frame types of file sharing.
const (
	TypeOffer  = "offer"  // member -> host: offer a file (Frame.File: Name, Size, SHA256; Frame.To for one member)
	TypeUpload = "upload" // member -> host, the first frame of a transfer connection: File.ID, File.Token
	TypeFetch  = "fetch"  // member -> host, the first frame of a transfer connection: File.ID, Frame.Offset
	TypeReady  = "ready"  // host -> member, on a transfer connection: the data goes on from Frame.Offset
	TypeStored = "stored" // host -> member, on an upload connection: every byte is in and the sha256 matched
)

// Event kinds of file sharing.
const (
	KindOffer  = "offer"  // From offers File (a private frame's File: to To alone)
	KindUnsend = "unsend" // File.Number is no longer on offer: taken back By, or Code CodeExpired
)

// Codes of file sharing, in Frame.Code.
const (
	CodeNotFound = "not-found" // no such file on offer (never offered, taken back, or expired)
	CodeMismatch = "mismatch"  // the data did not match the offered sha256; the file is gone
	CodeDamaged  = "damaged"   // the host's copy is damaged on disk; the file is gone
	CodeExpired  = "expired"   // the file's time on offer ran out
)

// File is a file on offer, in an offer frame (member to host: Name, Size,
// SHA256), in an offer event and a private offer (Number, Name, Size,
// SHA256, From, To, Expires), in the notice answering an offer (all of
// it, Token included: for the member who offered it alone) or a "/get"
// (all but Token), and in the first frame of a transfer connection (ID,
// and Token to upload).
type File struct {
	Number int    `json:"number,omitempty"` // the room's number for it, as "/get N" takes
	Name   string `json:"name,omitempty"`   // a name only, as CheckFileName allows
	Size   int64  `json:"size,omitempty"`   // in bytes, at least 1
	SHA256 string `json:"sha256,omitempty"` // 64 lowercase hex digits
	From   string `json:"from,omitempty"`   // who offered it
	To     string `json:"to,omitempty"`     // an offer to one member: to whom
	// Expires is when the host stops keeping it.
	Expires time.Time `json:"expires,omitzero"`
	// ID names the file on a transfer connection; it is given only to
	// members who may fetch it.
	ID string `json:"id,omitempty"`
	// Token lets the member who offered the file upload it; no one else
	// is given it.
	Token string `json:"token,omitempty"`
}

// MaxFileNameBytes bounds an offered name. It leaves room under the 255
// bytes most file systems allow a name for the " (999)" that a client
// adds to keep from overwriting a file of the same name.
const MaxFileNameBytes = 200

// CheckFileName reports whether name is fit to be an offered file's name
// and, on the receiving side, the name of a new file in a download
// directory: a name only, never a path. It refuses what could lead a file
// elsewhere or trick a person reading it: a directory separator of any
// system, "." and "..", control, format (bidi, zero-width) and
// line-breaking characters, the characters Windows forbids, a name
// Windows takes for a device (CON, NUL, COM1, "nul.txt" too), a trailing
// dot or space (which Windows drops, so "a.exe." would land as "a.exe"),
// bad UTF-8 and more than MaxFileNameBytes bytes. The error says why, in
// words for a person.
func CheckFileName(name string) error {
	switch {
	case name == "":
		return errors.New("the file name is empty")
	case len(name) > MaxFileNameBytes:
		return fmt.Errorf("the file name is %d bytes long, more than the %d allowed", len(name), MaxFileNameBytes)
	case !utf8.ValidString(name):
		return errors.New("the file name is not valid UTF-8")
	case strings.Trim(name, ".") == "":
		return errors.New("the file name is only dots")
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		return errors.New("the file name ends with a dot or a space")
	}
	for _, r := range name {
		switch {
		case r == '/' || r == '\\':
			return errors.New("the file name has a directory in it: offer a name only")
		case strings.ContainsRune(`<>:"|?*`, r):
			return fmt.Errorf("the file name has %q in it, which Windows does not allow in a name", r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp):
			return fmt.Errorf("the file name has an invisible or control character (U+%04X) in it", r)
		}
	}
	if isDeviceName(name) {
		return errors.New("the file name is one Windows keeps for a device (CON, NUL, COM1 and the like)")
	}
	return nil
}

// isDeviceName reports whether Windows takes name for a device: the part
// before the first dot, less trailing spaces, is one of its reserved
// names, in any case. The superscript digits count as digits there.
func isDeviceName(name string) bool {
	stem, _, _ := strings.Cut(name, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if rest, ok := strings.CutPrefix(stem, "COM"); ok {
		return isDeviceDigit(rest)
	}
	if rest, ok := strings.CutPrefix(stem, "LPT"); ok {
		return isDeviceDigit(rest)
	}
	return false
}

func isDeviceDigit(s string) bool {
	switch s {
	case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
		return true
	}
	return false
}

// CheckSHA256 reports whether s is a sha256 as File.SHA256 holds it: 64
// lowercase hex digits.
func CheckSHA256(s string) error {
	if len(s) != 64 || strings.ToLower(s) != s {
		return errors.New("the sha256 is not 64 lowercase hex digits")
	}
	if _, err := hex.DecodeString(s); err != nil {
		return errors.New("the sha256 is not 64 lowercase hex digits")
	}
	return nil
}

// FormatSize gives a size in bytes as a person reads it: "512 bytes",
// "2.3 MB", "1 GB" (powers of 1000, as file managers show them).
func FormatSize(n int64) string {
	if n < 1000 {
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	}
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	v := float64(n) / 1000
	i := 0
	for v >= 999.95 && i < len(units)-1 {
		v /= 1000
		i++
	}
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + units[i]
}

// Rest returns what follows the last frame read: the bytes d has read
// ahead, then the rest of the stream. A transfer connection, whose frames
// give way to a file's raw bytes, reads those through it; d is not to be
// used after.
func (d *Decoder) Rest() io.Reader {
	ahead := d.buf[d.start:d.end]
	d.start, d.end = 0, 0
	if len(ahead) == 0 && d.err == nil {
		return d.r
	}
	return io.MultiReader(&aheadReader{b: ahead, err: d.err}, d.r)
}

// aheadReader gives the bytes a Decoder read ahead, then its error (nil:
// the stream goes on).
type aheadReader struct {
	b   []byte
	err error
}

func (a *aheadReader) Read(p []byte) (int, error) {
	if len(a.b) > 0 {
		n := copy(p, a.b)
		a.b = a.b[n:]
		return n, nil
	}
	if a.err != nil {
		return 0, a.err
	}
	return 0, io.EOF
}
