// Package redisconn opens a process's Redis client from REDIS_URL and gives its keys
// a prefix, so processes (and test packages) sharing one Redis never collide.
//
// The prefix is applied by Key, not by rewriting commands: go-redis cannot tell
// which arguments of an arbitrary command are keys, and a half-prefixed command is
// worse than an explicit one.
package redisconn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Config is what a process knows about its Redis.
type Config struct {
	// URL is REDIS_URL: redis://[user:password@]host:port/db, or rediss:// for TLS.
	URL string
	// Prefix starts every key this process builds with Key, e.g. "auth:". A
	// process uses its own name.
	Prefix string
	// ClientName shows in CLIENT LIST; the process name is a good one.
	ClientName string
}

// Client is a go-redis client that knows its key prefix.
type Client struct {
	*redis.Client
	prefix string
}

// Open connects and checks that the server answers.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		// go-redis's message may quote the URL, password included.
		return nil, errors.New("redisconn: REDIS_URL is not a valid redis:// URL")
	}
	if cfg.ClientName != "" {
		opts.ClientName = cfg.ClientName
	}
	rdb := redis.NewClient(opts)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redisconn: ping: %w", err)
	}
	return &Client{Client: rdb, prefix: cfg.Prefix}, nil
}

// Prefix is the key prefix.
func (c *Client) Prefix() string { return c.prefix }

// Key builds a prefixed key from parts joined by ":": Key("session", id) is
// "<prefix>session:<id>".
func (c *Client) Key(parts ...string) string { return c.prefix + strings.Join(parts, ":") }

// DeletePrefixed deletes every key under the prefix, scanning rather than KEYS so a
// large Redis is not blocked; for tests and resets, not for request paths.
func (c *Client) DeletePrefixed(ctx context.Context) (int64, error) {
	if c.prefix == "" {
		return 0, errors.New("redisconn: refusing to delete every key: no prefix")
	}
	var n int64
	iter := c.Scan(ctx, 0, escapeGlob(c.prefix)+"*", 500).Iterator()
	batch := make([]string, 0, 500)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		d, err := c.Unlink(ctx, batch...).Result()
		n += d
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// escapeGlob quotes the characters SCAN MATCH treats as a pattern.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
