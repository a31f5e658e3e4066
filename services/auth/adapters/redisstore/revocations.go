package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Revocation is one event for verifiers: a token id revoked until it expires, or
// every token of a subject issued before a time.
type Revocation struct {
	JTI     string    // set for one token
	Subject string    // set for a subject's tokens
	Before  time.Time // a subject's tokens issued before this are revoked
	Expires time.Time // after this the entry may be forgotten
}

type queued struct {
	K      string `json:"k"`
	JTI    string `json:"jti,omitempty"`
	Sub    string `json:"sub,omitempty"`
	Before int64  `json:"before,omitempty"`
	Exp    int64  `json:"exp"`
}

// Publish sends revocations to verifiers; it returns once they are durable (a
// JetStream ack), and may be called again with the same ones after a crash.
type Publish func(ctx context.Context, revs []Revocation) error

// DrainRevocations publishes the revocation events the store's scripts queued in
// Redis, in the same step as the revocations themselves, so none is lost between
// revoking and announcing. It runs until ctx ends. Several auth instances may
// drain at once: a short lock makes them take turns, and publishing is at least
// once (the NATS message id dedupes a repeat).
func (s *TokenStore) DrainRevocations(ctx context.Context, publish Publish, idle time.Duration, onError func(error)) error {
	for {
		n, err := s.DrainOnce(ctx, publish)
		if err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
		if err == nil && n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(idle):
		}
	}
}

const drainBatch = 200

// DrainOnce publishes up to one batch and reports how many it published.
func (s *TokenStore) DrainOnce(ctx context.Context, publish Publish) (int, error) {
	lock := s.rdb.Key("revocations", "lock")
	token := fmt.Sprint(time.Now().UnixNano())
	ok, err := s.rdb.SetNX(ctx, lock, token, 30*time.Second).Result()
	if err != nil || !ok {
		return 0, err
	}
	defer s.rdb.Eval(context.WithoutCancel(ctx), `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, []string{lock}, token)

	raw, err := s.rdb.LRange(ctx, s.revocationList(), 0, drainBatch-1).Result()
	if err != nil || len(raw) == 0 {
		return 0, err
	}
	revs := make([]Revocation, 0, len(raw))
	for _, r := range raw {
		var q queued
		if err := json.Unmarshal([]byte(r), &q); err != nil {
			continue // cannot happen: the scripts write these; skipping keeps the queue moving
		}
		switch q.K {
		case "jti":
			revs = append(revs, Revocation{JTI: q.JTI, Expires: time.Unix(q.Exp, 0)})
		case "sub":
			revs = append(revs, Revocation{Subject: q.Sub, Before: time.UnixMilli(q.Before), Expires: time.Unix(q.Exp, 0)})
		}
	}
	// Bounded well within the lock's life, so no other drainer trims meanwhile.
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := publish(pctx, revs); err != nil {
		return 0, fmt.Errorf("redisstore: publish revocations: %w", err)
	}
	// Only the drainer holding the lock removes from the head, and scripts only
	// append at the tail, so the first len(raw) entries are exactly those read.
	if err := s.rdb.LTrim(ctx, s.revocationList(), int64(len(raw)), -1).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("redisstore: trim revocations: %w", err)
	}
	return len(raw), nil
}
