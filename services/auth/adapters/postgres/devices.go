package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/andes-bank/andes/services/auth/domain"
)

const deviceColumns = `device_id::text, customer_id::text, display_name, platform, public_key, key_thumbprint, status,
 bound_at, coalesce(last_used_at, 'epoch'), coalesce(revoked_at, 'epoch'), revoke_reason`

func scanDevice(row pgx.Row) (*domain.Device, error) {
	var d domain.Device
	var der []byte
	var status string
	if err := row.Scan(&d.ID, &d.CustomerID, &d.DisplayName, &d.Platform, &der, &d.Thumbprint, &status,
		&d.BoundAt, &d.LastUsedAt, &d.RevokedAt, &d.RevokeReason); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, domain.ErrDeviceNotFound
		}
		return nil, fmt.Errorf("postgres: device: %w", err)
	}
	d.Status = domain.DeviceStatus(status)
	if d.LastUsedAt.Unix() == 0 {
		d.LastUsedAt = time.Time{}
	}
	if d.RevokedAt.Unix() == 0 {
		d.RevokedAt = time.Time{}
	}
	k, err := domain.ParseDeviceKey(der)
	if err != nil {
		return nil, fmt.Errorf("postgres: device %s key: %w", d.ID, err)
	}
	d.PublicKey = k
	return &d, nil
}

// InsertDevice binds a device; domain.ErrDeviceExists when its key is bound already.
func (s *Store) InsertDevice(ctx context.Context, d *domain.Device) error {
	der, err := domain.MarshalDeviceKey(d.PublicKey)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `
INSERT INTO devices (device_id, customer_id, display_name, platform, public_key, key_thumbprint, status, bound_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.ID, d.CustomerID, d.DisplayName, d.Platform, der, d.Thumbprint, string(d.Status), d.BoundAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return domain.ErrDeviceExists
	}
	if err != nil {
		return fmt.Errorf("postgres: insert device: %w", err)
	}
	return nil
}

// Device returns a device by id, or domain.ErrDeviceNotFound.
func (s *Store) Device(ctx context.Context, id string) (*domain.Device, error) {
	if domain.CheckCustomerID(id) != nil {
		return nil, domain.ErrDeviceNotFound
	}
	return scanDevice(s.pool.QueryRow(ctx, `SELECT `+deviceColumns+` FROM devices WHERE device_id = $1`, id))
}

// TouchDevice records a successful device login.
func (s *Store) TouchDevice(ctx context.Context, id string, now time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE devices SET last_used_at = $2 WHERE device_id = $1`, id, now)
	return err
}

// RevokeDevice revokes a customer's device; revoking a revoked one changes nothing.
// Another customer's device is domain.ErrDeviceNotFound.
func (s *Store) RevokeDevice(ctx context.Context, customerID, id, reason string, now time.Time) (*domain.Device, bool, error) {
	if domain.CheckCustomerID(id) != nil || domain.CheckCustomerID(customerID) != nil {
		return nil, false, domain.ErrDeviceNotFound
	}
	d, err := scanDevice(s.pool.QueryRow(ctx, `
UPDATE devices SET status = 'revoked', revoked_at = $3, revoke_reason = $4
 WHERE device_id = $1 AND customer_id = $2 AND status = 'active'
RETURNING `+deviceColumns, id, customerID, now, reason))
	if errors.Is(err, domain.ErrDeviceNotFound) {
		d, err = scanDevice(s.pool.QueryRow(ctx, `SELECT `+deviceColumns+` FROM devices WHERE device_id = $1 AND customer_id = $2`, id, customerID))
		return d, false, err
	}
	return d, err == nil, err
}

type devicePage struct {
	BoundAt time.Time `json:"b"`
	ID      string    `json:"i"`
}

// Devices lists a customer's devices, newest binding first, a page at a time.
func (s *Store) Devices(ctx context.Context, customerID string, includeRevoked bool, size int, token string) ([]*domain.Device, string, error) {
	if domain.CheckCustomerID(customerID) != nil {
		return nil, "", nil
	}
	after := devicePage{BoundAt: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ID: "ffffffff-ffff-ffff-ffff-ffffffffffff"}
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || json.Unmarshal(raw, &after) != nil {
			return nil, "", domain.ErrBadPageToken
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT `+deviceColumns+` FROM devices
 WHERE customer_id = $1 AND ($2 OR status = 'active') AND (bound_at, device_id) < ($3, $4::uuid)
 ORDER BY bound_at DESC, device_id DESC LIMIT $5`, customerID, includeRevoked, after.BoundAt, after.ID, size+1)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: devices: %w", err)
	}
	defer rows.Close()
	var out []*domain.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > size {
		out = out[:size]
		last := out[size-1]
		raw, _ := json.Marshal(devicePage{BoundAt: last.BoundAt, ID: last.ID})
		next = base64.RawURLEncoding.EncodeToString(raw)
	}
	return out, next, nil
}
