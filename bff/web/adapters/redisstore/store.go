// Package redisstore keeps bff-web's sessions and pending logins in Redis, each
// sealed under a key derived from its random id and named by another (see
// domain.RecordKey), with the TTL of its idle deadline. Redis sees neither the ids
// nor the tokens.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/andes-bank/andes/bff/web/app"
	"github.com/andes-bank/andes/bff/web/domain"
	"github.com/andes-bank/andes/platform/redisconn"
)

// Store is app.Store on Redis.
type Store struct{ rdb *redisconn.Client }

var _ app.Store = (*Store)(nil)

// New returns the store on rdb (keys under rdb's prefix).
func New(rdb *redisconn.Client) *Store { return &Store{rdb: rdb} }

func (s *Store) SaveLogin(ctx context.Context, key domain.RecordKey, l domain.PendingLogin, ttl time.Duration) error {
	return s.put(ctx, domain.KindLogin, key, l, ttl)
}

func (s *Store) TakeLogin(ctx context.Context, key domain.RecordKey) (domain.PendingLogin, error) {
	var l domain.PendingLogin
	raw, err := s.rdb.GetDel(ctx, s.rdb.Key(domain.KindLogin, key.Lookup)).Bytes()
	if errors.Is(err, redis.Nil) {
		return l, domain.ErrLoginState
	}
	if err != nil {
		return l, err
	}
	if !open(key, raw, &l) {
		return l, domain.ErrLoginState
	}
	return l, nil
}

func (s *Store) SaveSession(ctx context.Context, key domain.RecordKey, sess *domain.Session, ttl time.Duration) error {
	return s.put(ctx, domain.KindSession, key, sess, ttl)
}

func (s *Store) Session(ctx context.Context, key domain.RecordKey) (*domain.Session, error) {
	raw, err := s.rdb.Get(ctx, s.rdb.Key(domain.KindSession, key.Lookup)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, domain.ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	var sess domain.Session
	if !open(key, raw, &sess) {
		return nil, domain.ErrNoSession
	}
	return &sess, nil
}

func (s *Store) DeleteSession(ctx context.Context, key domain.RecordKey) error {
	return s.rdb.Del(ctx, s.rdb.Key(domain.KindSession, key.Lookup)).Err()
}

func (s *Store) Lock(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	return s.rdb.SetNX(ctx, s.rdb.Key("lock", name), "1", ttl).Result()
}

func (s *Store) Unlock(ctx context.Context, name string) error {
	return s.rdb.Del(ctx, s.rdb.Key("lock", name)).Err()
}

// put seals v's JSON under key. Errors name the record kind only: the record
// holds tokens, and its JSON must not reach a log through an error.
func (s *Store) put(ctx context.Context, kind string, key domain.RecordKey, v any, ttl time.Duration) error {
	plain, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("redisstore: encode %s: %w", kind, err)
	}
	sealed, err := key.Seal(plain)
	if err != nil {
		return fmt.Errorf("redisstore: seal %s: %w", kind, err)
	}
	return s.rdb.Set(ctx, s.rdb.Key(kind, key.Lookup), sealed, ttl).Err()
}

// open reports whether raw opened under key into v. A record that does not open
// (another id, tampered, written in clear before sealing) is as good as none.
func open(key domain.RecordKey, raw []byte, v any) bool {
	plain, err := key.Open(raw)
	return err == nil && json.Unmarshal(plain, v) == nil
}
