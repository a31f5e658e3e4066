// Package vault keeps card numbers: it encrypts a PAN with AES-256-GCM under a data
// key and computes its HMAC-SHA256 fingerprint, the only form in which the database
// can look a card up. Both keys are random 256-bit data keys stored wrapped by the
// HSM's key-encryption key; the vault unwraps them through the HSM at start and
// never writes them anywhere in clear.
package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/andes-bank/andes/services/authorizer/adapters/postgres"
)

// Labels bind each wrapped key to its use: the HSM refuses to unwrap a key under
// another label.
const (
	LabelEncryption  = "authorizer/pan-encryption"
	LabelFingerprint = "authorizer/pan-fingerprint"
)

// KeyStore keeps wrapped data keys.
type KeyStore interface {
	CurrentDataKey(ctx context.Context, label string) (postgres.WrappedKey, bool, error)
	AddDataKey(ctx context.Context, label string, kekVersion int, wrapped []byte, now time.Time) error
}

// KeyWrapper is the HSM's part.
type KeyWrapper interface {
	WrapKey(ctx context.Context, label string, key []byte) (kekVersion int, wrapped []byte, err error)
	UnwrapKey(ctx context.Context, label string, wrapped []byte) ([]byte, error)
}

// ErrDecrypt means a ciphertext does not authenticate under the vault's key.
var ErrDecrypt = errors.New("vault: PAN ciphertext does not authenticate")

// Vault encrypts and fingerprints PANs. It is safe for concurrent use.
type Vault struct {
	aead    cipher.AEAD
	keyID   int
	macPool sync.Pool
}

// Open loads the vault's keys, creating and wrapping them on the first start.
func Open(ctx context.Context, keys KeyStore, hsm KeyWrapper, now time.Time) (*Vault, error) {
	enc, encID, err := dataKey(ctx, keys, hsm, LabelEncryption, now)
	if err != nil {
		return nil, err
	}
	mac, _, err := dataKey(ctx, keys, hsm, LabelFingerprint, now)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(enc)
	clear(enc)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	v := &Vault{aead: aead, keyID: encID}
	v.macPool.New = func() any { return hmac.New(sha256.New, mac) }
	return v, nil
}

func dataKey(ctx context.Context, keys KeyStore, hsm KeyWrapper, label string, now time.Time) ([]byte, int, error) {
	k, ok, err := keys.CurrentDataKey(ctx, label)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, 0, fmt.Errorf("vault: %w", err)
		}
		version, wrapped, err := hsm.WrapKey(ctx, label, fresh)
		clear(fresh)
		if err != nil {
			return nil, 0, fmt.Errorf("vault: wrap %s: %w", label, err)
		}
		// Another instance may have stored its key first: the stored one wins.
		if err := keys.AddDataKey(ctx, label, version, wrapped, now); err != nil {
			return nil, 0, err
		}
		if k, ok, err = keys.CurrentDataKey(ctx, label); err != nil || !ok {
			return nil, 0, fmt.Errorf("vault: data key %s vanished: %w", label, err)
		}
	}
	key, err := hsm.UnwrapKey(ctx, label, k.Wrapped)
	if err != nil {
		return nil, 0, fmt.Errorf("vault: unwrap %s: %w", label, err)
	}
	return key, k.ID, nil
}

// KeyID is the data key new ciphertexts are under.
func (v *Vault) KeyID() int { return v.keyID }

// Fingerprint is HMAC-SHA256(PAN) under the fingerprint key: stable for a PAN,
// useless without the key.
func (v *Vault) Fingerprint(pan string) []byte {
	h := v.macPool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(pan))
	sum := h.Sum(make([]byte, 0, sha256.Size))
	v.macPool.Put(h)
	return sum
}

// Encrypt seals a PAN to the card it belongs to (the card id is the additional
// data, so a ciphertext moved to another card's row does not open).
func (v *Vault) Encrypt(cardID, pan string) ([]byte, error) {
	nonce := make([]byte, v.aead.NonceSize(), v.aead.NonceSize()+len(pan)+v.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return v.aead.Seal(nonce, nonce, []byte(pan), []byte(cardID)), nil
}

// Decrypt opens a PAN sealed by Encrypt.
func (v *Vault) Decrypt(cardID string, ciphertext []byte) (string, error) {
	n := v.aead.NonceSize()
	if len(ciphertext) < n+v.aead.Overhead() {
		return "", ErrDecrypt
	}
	pan, err := v.aead.Open(nil, ciphertext[:n], ciphertext[n:], []byte(cardID))
	if err != nil {
		return "", ErrDecrypt
	}
	return string(pan), nil
}
