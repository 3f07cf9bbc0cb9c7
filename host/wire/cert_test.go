package wire

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"slices"
	"testing"
	"time"
)

// The room's and a member's certificates: self-signed for the key given,
// with the name and usage given, valid from an hour ago for 30 years, and
// a fresh serial number each time.
func TestSelfSignedCert(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// A room key made by another tool may be ECDSA (or RSA).
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what  string
		key   crypto.Signer
		name  string
		usage x509.ExtKeyUsage
	}{
		{"a room's", edKey, CertName("0123456789abcdef"), x509.ExtKeyUsageServerAuth},
		{"a room's, of a key from another tool", ecKey, CertName("0123456789abcdef"), x509.ExtKeyUsageServerAuth},
		{"a member's", edKey, "chatroom member", x509.ExtKeyUsageClientAuth},
	} {
		before := time.Now().Truncate(time.Second)
		der, err := SelfSignedCert(tc.key, tc.name, tc.usage)
		if err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		after := time.Now()
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		pub, err := x509.MarshalPKIXPublicKey(tc.key.Public())
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !bytes.Equal(cert.RawSubjectPublicKeyInfo, pub):
			t.Errorf("%s: certifies another key", tc.what)
		case cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) != nil:
			t.Errorf("%s: not signed by its own key", tc.what)
		case cert.Subject.CommonName != tc.name || cert.Issuer.CommonName != tc.name:
			t.Errorf("%s: subject %q, issuer %q, want %q", tc.what, cert.Subject.CommonName, cert.Issuer.CommonName, tc.name)
		case cert.KeyUsage != x509.KeyUsageDigitalSignature || !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{tc.usage}):
			t.Errorf("%s: usage %v, %v", tc.what, cert.KeyUsage, cert.ExtKeyUsage)
		case cert.NotBefore.Before(before.Add(-time.Hour)) || cert.NotBefore.After(after.Add(-time.Hour)):
			t.Errorf("%s: valid from %v, want an hour before %v", tc.what, cert.NotBefore, before)
		case cert.NotAfter.Before(before.AddDate(30, 0, 0)) || cert.NotAfter.After(after.AddDate(30, 0, 0)):
			t.Errorf("%s: valid until %v, want 30 years after %v", tc.what, cert.NotAfter, before)
		case cert.SerialNumber.Sign() <= 0 || cert.SerialNumber.BitLen() > 127:
			t.Errorf("%s: serial number %v", tc.what, cert.SerialNumber)
		}
		again, err := SelfSignedCert(tc.key, tc.name, tc.usage)
		if err != nil {
			t.Fatal(err)
		}
		if second, err := x509.ParseCertificate(again); err != nil || second.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			t.Errorf("%s: two certificates with serial number %v (%v)", tc.what, cert.SerialNumber, err)
		}
	}
}
