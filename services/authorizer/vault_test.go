package authorizer_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/andes-bank/andes/services/authorizer/adapters/hsm"
	"github.com/andes-bank/andes/services/authorizer/adapters/vault"
)

// TestVaultKeysSurviveARestart: a second start unwraps the same data keys through
// the HSM, so fingerprints still find cards and ciphertexts still open; a
// ciphertext moved to another card does not.
func TestVaultKeysSurviveARestart(t *testing.T) {
	s := newStack(t, stackOptions{})
	k := s.issue(0, nil)
	ctx := context.Background()
	h, err := hsm.Dial(ctx, s.hsm.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	again, err := vault.Open(ctx, s.svc.Store, h, now0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Fingerprint(k.pan), s.svc.Vault.Fingerprint(k.pan)) || again.KeyID() != s.svc.Vault.KeyID() {
		t.Fatal("a restarted vault fingerprints differently")
	}
	ct, _, err := s.svc.Store.CardPAN(ctx, k.id)
	if err != nil {
		t.Fatal(err)
	}
	if pan, err := again.Decrypt(k.id, ct); err != nil || pan != k.pan {
		t.Fatalf("decrypt after restart: %v", err)
	}
	if _, err := again.Decrypt(k.accountID, ct); err == nil {
		t.Fatal("a ciphertext opened under another card's id")
	}
	var keys int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM data_keys`).Scan(&keys); err != nil || keys != 2 {
		t.Fatalf("%d data keys, %v; want 2 (encryption, fingerprint)", keys, err)
	}
}
