package domain

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// SecretHasher hashes client secrets with HMAC-SHA256 under a server-side pepper.
//
// Client secrets are 256-bit random values: a slow hash adds nothing against
// guessing them and would cap token issuance (DESIGN.md section 7: Ory Hydra spends
// ~80% of its CPU on PBKDF2 of client secrets). The pepper keeps a stolen table of
// hashes from being checked offline against candidate secrets.
type SecretHasher struct {
	pepper []byte
}

// MinPepperLen is the shortest pepper accepted: 256 bits.
const MinPepperLen = 32

// NewSecretHasher takes the pepper (ANDES_AUTH_PEPPER_FILE's contents).
func NewSecretHasher(pepper []byte) (*SecretHasher, error) {
	if len(pepper) < MinPepperLen {
		return nil, errors.New("pepper must be at least 32 bytes")
	}
	return &SecretHasher{pepper: append([]byte(nil), pepper...)}, nil
}

// Hash returns the keyed hash of a secret.
func (h *SecretHasher) Hash(secret string) []byte {
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte("client-secret\x00"))
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// Verify compares a presented secret with a stored hash in constant time.
func (h *SecretHasher) Verify(secret string, hash []byte) bool {
	if len(hash) != sha256.Size {
		return false
	}
	return hmac.Equal(h.Hash(secret), hash)
}

// Derive returns a key for another purpose (the signing-key encryption key, the CSRF
// key) from the pepper, so one secret file configures them all and each purpose gets
// an independent key.
func (h *SecretHasher) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte("derive\x00"))
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// NewClientSecret returns a fresh 256-bit secret, hex encoded.
func NewClientSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}
