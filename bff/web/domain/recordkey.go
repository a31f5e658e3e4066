package domain

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Kinds of stored record, each with keys of its own.
const (
	KindSession = "session" // keyed by the session id of the cookie
	KindLogin   = "login"   // keyed by the OAuth2 state of a pending login
)

// ErrSealed: a stored record that its key cannot open (another id, tampered, or
// written before records were sealed). Stores answer it as "no such record".
var ErrSealed = errors.New("record does not open under this key")

// RecordKey is what a store knows of a record's random id: the name to look it up
// by and the AES-256-GCM key that seals it, both derived from the id with HKDF-SHA256
// under distinct labels. The id itself is never stored, so the store alone can
// neither act as the browser nor read the tokens it keeps.
type RecordKey struct {
	// Lookup is hex HKDF(id, "lookup"): the record's name in the store.
	Lookup string
	seal   []byte
}

// KeyFor derives the keys of the record of kind named by the random id.
func KeyFor(kind, id string) RecordKey {
	return RecordKey{
		Lookup: hex.EncodeToString(derive(id, "andes/bff-web/"+kind+"/lookup")),
		seal:   derive(id, "andes/bff-web/"+kind+"/seal"),
	}
}

func derive(id, label string) []byte {
	// No salt: the id is 256 bits of uniform randomness already.
	k, err := hkdf.Key(sha256.New, []byte(id), nil, label, 32)
	if err != nil { // only for lengths past 255 hash blocks
		panic(err)
	}
	return k
}

// String shows the lookup name only, so printing a key never prints the sealing key.
func (k RecordKey) String() string { return k.Lookup }

// GoString keeps %#v from printing the sealing key.
func (k RecordKey) GoString() string { return "domain.RecordKey{Lookup:" + k.Lookup + "}" }

// Seal encrypts and authenticates plain, bound to the lookup name. Nonces are
// random (96 bits): a key seals only one record's saves, far below GCM's 2^32
// messages per key.
func (k RecordKey) Seal(plain []byte) ([]byte, error) {
	a, err := k.aead()
	if err != nil {
		return nil, err
	}
	return a.Seal(nil, nil, plain, []byte(k.Lookup)), nil
}

// Open decrypts what Seal made under the same key; ErrSealed otherwise, whatever
// the input (short, tampered, moved under another name, clear JSON of old).
func (k RecordKey) Open(sealed []byte) ([]byte, error) {
	a, err := k.aead()
	if err != nil {
		return nil, ErrSealed
	}
	plain, err := a.Open(nil, nil, sealed, []byte(k.Lookup))
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}

func (k RecordKey) aead() (cipher.AEAD, error) {
	if len(k.seal) != 32 { // a zero RecordKey, not made by KeyFor
		return nil, errors.New("domain: record key without a sealing key")
	}
	b, err := aes.NewCipher(k.seal)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(b)
}
