package wire

import (
	"crypto/sha256"
	"encoding/base64"
)

// Fingerprint names a room's TLS key the way people compare it: "SHA256:"
// and the unpadded base64 of the SHA-256 of the certificate's public key
// (its DER SubjectPublicKeyInfo), as SSH prints host keys. It names the key,
// not the certificate, so a renewed certificate for the same key keeps it.
func Fingerprint(subjectPublicKeyInfo []byte) string {
	sum := sha256.Sum256(subjectPublicKeyInfo)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}
