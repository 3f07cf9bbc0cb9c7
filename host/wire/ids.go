package wire

import (
	"encoding/base64"
	"strings"
)

// RoomIDLen is the length of a room id: 16 lowercase hex digits (8 random
// bytes), made once per state directory.
const RoomIDLen = 16

// ValidRoomID reports whether id has the form a room makes for its id. A
// member checks it wherever an id arrives (a certificate, a welcome, an
// mDNS record): anything else is not a chatroom room's, and an id that can
// hold spaces, controls or a megabyte of text must never reach a file or a
// terminal.
func ValidRoomID(id string) bool {
	if len(id) != RoomIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ValidFingerprint reports whether fp has the form Fingerprint gives:
// "SHA256:" and the unpadded standard base64 of 32 bytes.
func ValidFingerprint(fp string) bool {
	b64, ok := strings.CutPrefix(fp, "SHA256:")
	if !ok || len(b64) != base64.RawStdEncoding.EncodedLen(32) {
		return false
	}
	sum, err := base64.RawStdEncoding.Strict().DecodeString(b64)
	return err == nil && len(sum) == 32
}
