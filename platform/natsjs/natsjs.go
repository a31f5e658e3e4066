// Package natsjs connects a process to NATS JetStream from NATS_URL and makes sure
// the streams it relies on exist.
package natsjs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config is what a process knows about its NATS.
type Config struct {
	URL  string // NATS_URL, e.g. nats://127.0.0.1:4222
	Name string // the connection's name in the server's monitoring; the process name
}

// Conn is a NATS connection with its JetStream context.
type Conn struct {
	NC     *nats.Conn
	JS     jetstream.JetStream
	closed chan struct{}
}

// Connect dials NATS and opens JetStream. The connection reconnects for ever once
// established: a NATS restart must not take the process down with it.
func Connect(ctx context.Context, cfg Config) (*Conn, error) {
	if cfg.URL == "" {
		return nil, errors.New("natsjs: NATS_URL is empty")
	}
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	closed := make(chan struct{})
	opts := []nats.Option{
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
	}
	if cfg.Name != "" {
		opts = append(opts, nats.Name(cfg.Name))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("natsjs: connect: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsjs: %w", err)
	}
	// Fail at start, not at the first publish, when the server has no JetStream.
	if _, err := js.AccountInfo(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsjs: JetStream: %w", err)
	}
	return &Conn{NC: nc, JS: js, closed: closed}, nil
}

// Close drains subscriptions and pending publishes, then closes, waiting at most a
// few seconds: messages handed to NATS before shutdown are not lost.
func (c *Conn) Close() {
	if err := c.NC.Drain(); err != nil {
		c.NC.Close()
		return
	}
	select {
	case <-c.closed:
	case <-time.After(5 * time.Second):
		c.NC.Close()
	}
}

// EnsureStream creates the stream or updates it to cfg. Safe to call at every
// start from every process that relies on the stream.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("natsjs: stream %s: %w", cfg.Name, err)
	}
	return s, nil
}
