package wire

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"time"
)

// SelfSignedCert makes the certificate, in DER, that a room (usage
// x509.ExtKeyUsageServerAuth, named CertName(id)) or a member
// (x509.ExtKeyUsageClientAuth) presents for key in the TLS handshake. No
// authority signs it: the other side checks the key's Fingerprint, not a
// chain or a date, so the certificate is made to outlast any room (30
// years) and is valid from an hour ago, for a clock a little behind.
func SelfSignedCert(key crypto.Signer, commonName string, usage x509.ExtKeyUsage) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(30, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	return x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
}
