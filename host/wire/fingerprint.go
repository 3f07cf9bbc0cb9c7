package wire

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Fingerprint names a room's TLS key the way people compare it: "SHA256:"
// and the unpadded base64 of the SHA-256 of the certificate's public key
// (its DER SubjectPublicKeyInfo), as SSH prints host keys. It names the key,
// not the certificate, so a renewed certificate for the same key keeps it.
func Fingerprint(subjectPublicKeyInfo []byte) string {
	sum := sha256.Sum256(subjectPublicKeyInfo)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// certNamePrefix starts the common name of a room's certificate, which
// names the room's id: a member checks the key it pinned for that id during
// the TLS handshake, before it sends anything (a name, a password) to a
// room that may not be the one it knows.
const certNamePrefix = "chatroom room "

// CertName is the common name of the certificate of the room with id.
func CertName(id string) string { return certNamePrefix + id }

// RoomIDFromCertName returns the room id that a certificate's common name
// states, and false when it states none.
func RoomIDFromCertName(commonName string) (string, bool) {
	id, ok := strings.CutPrefix(commonName, certNamePrefix)
	if !ok || id == "" {
		return "", false
	}
	return id, true
}

// KeyTag is the short form of a fingerprint that people read in a room
// (/whois, /bans): its first 8 characters after "SHA256:", which tell
// members apart, while the whole fingerprint is what is compared.
func KeyTag(fingerprint string) string {
	tag := strings.TrimPrefix(fingerprint, "SHA256:")
	if len(tag) > 8 {
		tag = tag[:8]
	}
	return tag
}
