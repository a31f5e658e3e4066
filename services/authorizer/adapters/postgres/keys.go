package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// WrappedKey is a data key as stored: wrapped by the HSM's key-encryption key.
type WrappedKey struct {
	ID         int
	KEKVersion int
	Wrapped    []byte
}

// CurrentDataKey returns the current key of label; ok is false when there is none.
func (s *Store) CurrentDataKey(ctx context.Context, label string) (WrappedKey, bool, error) {
	var k WrappedKey
	err := s.pool.QueryRow(ctx, `SELECT id, kek_version, wrapped FROM data_keys WHERE label = $1 AND retired_at IS NULL`, label).
		Scan(&k.ID, &k.KEKVersion, &k.Wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, false, nil
	}
	if err != nil {
		return k, false, fmt.Errorf("postgres: data key: %w", err)
	}
	return k, true, nil
}

// AddDataKey stores a first key for label unless another process stored one
// first; either way the caller reads the current one back.
func (s *Store) AddDataKey(ctx context.Context, label string, kekVersion int, wrapped []byte, now time.Time) error {
	_, err := s.pool.Exec(ctx, `
INSERT INTO data_keys (label, kek_version, wrapped, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (label) WHERE retired_at IS NULL DO NOTHING`, label, kekVersion, wrapped, now)
	if err != nil {
		return fmt.Errorf("postgres: add data key: %w", err)
	}
	return nil
}
