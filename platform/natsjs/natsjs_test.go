package natsjs_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/andes-bank/andes/platform/natsjs"
	"github.com/andes-bank/andes/platform/testenv"
)

func TestEnsureStreamIsRepeatable(t *testing.T) {
	nc, prefix := testenv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := jetstream.StreamConfig{Name: prefix + "_EVENTS", Subjects: []string{prefix + ".events.>"}}
	if _, err := natsjs.EnsureStream(ctx, nc.JS, cfg); err != nil {
		t.Fatal(err)
	}
	// Every process that relies on the stream ensures it at start; a changed
	// setting is applied.
	cfg.MaxAge = time.Hour
	s, err := natsjs.EnsureStream(ctx, nc.JS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.JS.Publish(ctx, prefix+".events.one", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxAge != time.Hour || info.State.Msgs != 1 {
		t.Fatalf("stream: max age %s, %d messages; want 1h, 1", info.Config.MaxAge, info.State.Msgs)
	}
	msg, err := s.GetMsg(ctx, 1)
	if err != nil || string(msg.Data) != "hello" {
		t.Fatalf("message 1 = %v, %v", msg, err)
	}
}

func TestConnectFailsWithoutAServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens there.
	if _, err := natsjs.Connect(ctx, natsjs.Config{URL: "nats://127.0.0.1:1"}); err == nil {
		t.Fatal("want an error")
	}
}
