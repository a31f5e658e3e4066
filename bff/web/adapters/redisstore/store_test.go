package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/andes-bank/andes/bff/web/adapters/redisstore"
	"github.com/andes-bank/andes/bff/web/domain"
	"github.com/andes-bank/andes/platform/testenv"
)

// TestRecordsAreSealed reads what Redis holds, as someone with a copy of it would.
func TestRecordsAreSealed(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t)
	store := redisstore.New(rdb)
	// stored returns every value under the test's prefix, with its key name.
	stored := func() map[string][]byte {
		keys, err := rdb.Keys(ctx, rdb.Key("*")).Result()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]byte{}
		for _, k := range keys {
			v, err := rdb.Get(ctx, k).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			out[k] = v
		}
		return out
	}
	now := time.Now().UTC().Truncate(time.Second)

	t.Run("a session's tokens and id are not in Redis; its id opens it, no other", func(t *testing.T) {
		id := domain.NewSecret()
		sess := &domain.Session{CustomerID: "0b7f6c3e-8a59-5a36-9d0e-2f1c4b5a6d7e", CSRF: domain.NewSecret(),
			Tokens:  domain.Tokens{Access: "eyJ.access." + domain.NewSecret(), Refresh: "refresh." + domain.NewSecret(), AccessExpires: now.Add(10 * time.Minute)},
			Created: now, LastSeen: now, Expires: now.Add(12 * time.Hour)}
		key := domain.KeyFor(domain.KindSession, id)
		if err := store.SaveSession(ctx, key, sess, time.Minute); err != nil {
			t.Fatal(err)
		}
		all := stored()
		if len(all) != 1 {
			t.Fatalf("%d records stored, want 1", len(all))
		}
		var raw []byte
		for k, v := range all {
			raw = v
			for what, secret := range map[string]string{"session id": id, "access token": sess.Tokens.Access,
				"refresh token": sess.Tokens.Refresh, "CSRF token": sess.CSRF} {
				if bytes.Contains([]byte(k), []byte(secret)) || bytes.Contains(v, []byte(secret)) {
					t.Errorf("Redis holds the %s in clear under %q", what, k)
				}
			}
			if bytes.Contains(v, []byte(sess.CustomerID)) {
				t.Errorf("Redis holds the session's customer id in clear")
			}
		}

		got, err := store.Session(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Tokens != sess.Tokens || got.CSRF != sess.CSRF || got.CustomerID != sess.CustomerID {
			t.Errorf("read back %+v, want %+v", got, sess)
		}

		other := domain.KeyFor(domain.KindSession, domain.NewSecret())
		if _, err := store.Session(ctx, other); !errors.Is(err, domain.ErrNoSession) {
			t.Errorf("another id: %v, want ErrNoSession", err)
		}
		// Someone who can write to Redis moves the record under another id's name,
		// tampers with it, or plants a clear one: none opens.
		for name, v := range map[string][]byte{
			"moved":    raw,
			"tampered": append(append([]byte{}, raw[:len(raw)-1]...), raw[len(raw)-1]^1),
			"short":    raw[:10],
			"clear":    []byte(`{"c":"someone-else","t":{"a":"stolen","r":"stolen"}}`),
		} {
			if err := rdb.Set(ctx, rdb.Key(domain.KindSession, other.Lookup), v, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if _, err := store.Session(ctx, other); !errors.Is(err, domain.ErrNoSession) {
				t.Errorf("%s record: %v, want ErrNoSession", name, err)
			}
		}
		// The session's own record still opens: the attacker's writes did not touch it.
		if _, err := store.Session(ctx, key); err != nil {
			t.Errorf("own record after the others: %v", err)
		}
	})

	t.Run("a pending login's PKCE verifier is sealed under its state", func(t *testing.T) {
		state := domain.NewSecret()
		l := domain.PendingLogin{Verifier: domain.NewSecret(), Language: domain.LangEnglish}
		key := domain.KeyFor(domain.KindLogin, state)
		if err := store.SaveLogin(ctx, key, l, time.Minute); err != nil {
			t.Fatal(err)
		}
		for k, v := range stored() {
			if bytes.Contains(v, []byte(l.Verifier)) || bytes.Contains([]byte(k), []byte(state)) || bytes.Contains(v, []byte(state)) {
				t.Errorf("Redis holds the verifier or the state in clear under %q", k)
			}
		}
		if _, err := store.TakeLogin(ctx, domain.KeyFor(domain.KindLogin, domain.NewSecret())); !errors.Is(err, domain.ErrLoginState) {
			t.Errorf("another state: %v, want ErrLoginState", err)
		}
		if _, err := store.TakeLogin(ctx, domain.KeyFor(domain.KindSession, state)); !errors.Is(err, domain.ErrLoginState) {
			t.Errorf("the state's session keys: %v, want ErrLoginState", err)
		}
		got, err := store.TakeLogin(ctx, key)
		if err != nil || got != l {
			t.Errorf("took %+v, %v; want %+v", got, err, l)
		}
		if _, err := store.TakeLogin(ctx, key); !errors.Is(err, domain.ErrLoginState) {
			t.Errorf("taken twice: %v, want ErrLoginState", err)
		}
	})
}
