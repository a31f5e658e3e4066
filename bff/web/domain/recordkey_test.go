package domain

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRecordKey(t *testing.T) {
	id := NewSecret()
	k := KeyFor(KindSession, id)

	if k.Lookup != KeyFor(KindSession, id).Lookup {
		t.Error("the same id gave two lookup names")
	}
	if k.Lookup == KeyFor(KindLogin, id).Lookup || k.Lookup == KeyFor(KindSession, NewSecret()).Lookup {
		t.Error("another kind or id gave the same lookup name")
	}
	if seal := hex.EncodeToString(k.seal); seal == k.Lookup {
		t.Error("the lookup name is the sealing key")
	}

	t.Run("printing a key shows no sealing key", func(t *testing.T) {
		out := fmt.Sprintf("%v %+v %#v %s", k, k, k, k)
		if strings.Contains(out, hex.EncodeToString(k.seal)) || strings.Contains(out, fmt.Sprint(k.seal)) {
			t.Errorf("printed %q", out)
		}
	})

	t.Run("only the same key opens a sealed record", func(t *testing.T) {
		sealed, err := k.Seal([]byte(`{"t":{"a":"access"}}`))
		if err != nil {
			t.Fatal(err)
		}
		if plain, err := KeyFor(KindSession, id).Open(sealed); err != nil || string(plain) != `{"t":{"a":"access"}}` {
			t.Errorf("opened %q, %v", plain, err)
		}
		for name, c := range map[string]struct {
			key    RecordKey
			sealed []byte
		}{
			"another id":   {KeyFor(KindSession, NewSecret()), sealed},
			"another kind": {KeyFor(KindLogin, id), sealed},
			"empty":        {k, nil},
			"short":        {k, sealed[:5]},
			"zero key":     {RecordKey{}, sealed},
		} {
			if _, err := c.key.Open(c.sealed); !errors.Is(err, ErrSealed) {
				t.Errorf("%s: %v, want ErrSealed", name, err)
			}
		}
		if _, err := (RecordKey{}).Seal([]byte("x")); err == nil {
			t.Error("a zero key sealed")
		}
	})
}
