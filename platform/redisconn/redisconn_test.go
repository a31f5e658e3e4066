package redisconn_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/redisconn"
	"github.com/andes-bank/andes/platform/testenv"
)

func TestKeysStayUnderTheirPrefix(t *testing.T) {
	ctx := context.Background()
	mine := testenv.Redis(t)
	other := testenv.Redis(t)
	if mine.Prefix() == other.Prefix() || !strings.HasSuffix(mine.Prefix(), ":") {
		t.Fatalf("prefixes %q and %q: want distinct, ending in ':'", mine.Prefix(), other.Prefix())
	}
	if got, want := mine.Key("session", "abc"), mine.Prefix()+"session:abc"; got != want {
		t.Fatalf("Key = %q, want %q", got, want)
	}
	for i, k := range []string{"a", "b", "c*"} {
		if err := mine.Set(ctx, mine.Key(k), i, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Set(ctx, other.Key("a"), "theirs", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := mine.DeletePrefixed(ctx); err != nil || n != 3 {
		t.Fatalf("DeletePrefixed = %d, %v; want 3", n, err)
	}
	if v, err := other.Get(ctx, other.Key("a")).Result(); err != nil || v != "theirs" {
		t.Fatalf("the other prefix's key = %q, %v; want it untouched", v, err)
	}
}

func TestOpenRefusesBadURLs(t *testing.T) {
	_, err := redisconn.Open(context.Background(), redisconn.Config{URL: "http://user:s3cret@host"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v: want an error that does not quote the password", err)
	}
}
