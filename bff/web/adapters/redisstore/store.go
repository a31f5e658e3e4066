// Package redisstore keeps bff-web's sessions and pending logins in Redis, under
// the hash of their random ids, each with the TTL of its idle deadline.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
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

func (s *Store) SaveLogin(ctx context.Context, stateHash string, l domain.PendingLogin, ttl time.Duration) error {
	raw, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, s.rdb.Key("login", stateHash), raw, ttl).Err()
}

func (s *Store) TakeLogin(ctx context.Context, stateHash string) (domain.PendingLogin, error) {
	var l domain.PendingLogin
	raw, err := s.rdb.GetDel(ctx, s.rdb.Key("login", stateHash)).Bytes()
	if errors.Is(err, redis.Nil) {
		return l, domain.ErrLoginState
	}
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		return l, domain.ErrLoginState
	}
	return l, nil
}

func (s *Store) SaveSession(ctx context.Context, idHash string, sess *domain.Session, ttl time.Duration) error {
	raw, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, s.rdb.Key("session", idHash), raw, ttl).Err()
}

func (s *Store) Session(ctx context.Context, idHash string) (*domain.Session, error) {
	raw, err := s.rdb.Get(ctx, s.rdb.Key("session", idHash)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, domain.ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	var sess domain.Session
	if err := json.Unmarshal(raw, &sess); err != nil {
		return nil, domain.ErrNoSession
	}
	return &sess, nil
}

func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	return s.rdb.Del(ctx, s.rdb.Key("session", idHash)).Err()
}

func (s *Store) Lock(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	return s.rdb.SetNX(ctx, s.rdb.Key("lock", name), "1", ttl).Result()
}

func (s *Store) Unlock(ctx context.Context, name string) error {
	return s.rdb.Del(ctx, s.rdb.Key("lock", name)).Err()
}
