package join

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"chatroom/host/wire"
)

// identityFile is the person's key and certificate, in the state
// directory: one PEM file, private (0600).
const identityFile = "identity.pem"

// LoadOrCreateIdentity returns the person's identity: an Ed25519 key in a
// self-signed certificate, presented to every room as a TLS client
// certificate. Rooms know a person by this key, not by name: a ban or an
// op outlives a change of name. It is made on first use and kept in dir.
func LoadOrCreateIdentity(dir string) (tls.Certificate, error) {
	path := filepath.Join(dir, identityFile)
	data, err := os.ReadFile(path)
	if err == nil {
		return parseIdentity(path, data)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("reading your identity: %w", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	der, err := wire.SelfSignedCert(key, "chatroom member", x509.ExtKeyUsageClientAuth)
	if err != nil {
		return tls.Certificate{}, err
	}
	data, err = encodeIdentity(der, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := WriteStateFile(path, data, 0o600); err != nil {
		return tls.Certificate{}, fmt.Errorf("saving your identity: %w", err)
	}
	return tls.X509KeyPair(data, data)
}

// parseIdentity reads data, the contents of the identity file at path
// (which errors name), apart from reading the file so that it can be
// fuzzed.
func parseIdentity(path string, data []byte) (tls.Certificate, error) {
	cert, err := tls.X509KeyPair(data, data)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s is damaged (%v); remove it to make a new identity, which rooms will not know", path, err)
	}
	return cert, nil
}

// encodeIdentity returns the identity file that holds the certificate der
// and its key.
func encodeIdentity(der []byte, key any) ([]byte, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...), nil
}

// identityTag is the short form of an identity's fingerprint that rooms
// show (in /whois, /bans): enough to tell people apart at a glance.
func identityTag(cert tls.Certificate) string {
	if cert.Leaf == nil {
		return ""
	}
	return wire.KeyTag(wire.Fingerprint(cert.Leaf.RawSubjectPublicKeyInfo))
}
