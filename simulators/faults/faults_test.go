package faults_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/simulators/faults"
)

// knobs is a simulator's settings as the tests see one: the common knobs plus
// an extra of its own, a list to show that clones keep it private.
type knobs struct {
	Latency    time.Duration
	ErrorShare float64
	Down       bool
	Tags       []string
}

func (k knobs) Common() faults.Common {
	return faults.Common{Latency: k.Latency, ErrorShare: k.ErrorShare, Down: k.Down}
}

func (k knobs) Validate() error {
	if err := k.Common().Validate(); err != nil {
		return err
	}
	if slices.Contains(k.Tags, "") {
		return errors.New("tags must not be empty")
	}
	return nil
}

func (k knobs) Clone() knobs { k.Tags = slices.Clone(k.Tags); return k }

type knobsJSON struct {
	Latency    *string   `json:"latency,omitempty"`
	ErrorShare *float64  `json:"error_share,omitempty"`
	Down       *bool     `json:"down,omitempty"`
	Tags       *[]string `json:"tags,omitempty"`
}

func handler(k *faults.Knobs[knobs]) http.Handler {
	show := func(s knobs) knobsJSON {
		l := s.Latency.String()
		return knobsJSON{Latency: &l, ErrorShare: &s.ErrorShare, Down: &s.Down, Tags: &s.Tags}
	}
	apply := func(in knobsJSON, s *knobs) error {
		if in.Latency != nil {
			d, err := time.ParseDuration(*in.Latency)
			if err != nil {
				return errors.New("latency must be a duration")
			}
			s.Latency = d
		}
		if in.ErrorShare != nil {
			s.ErrorShare = *in.ErrorShare
		}
		if in.Down != nil {
			s.Down = *in.Down
		}
		if in.Tags != nil {
			s.Tags = *in.Tags
		}
		return nil
	}
	return faults.Handler(k, show, apply)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		s    knobs
		ok   bool
	}{
		{"zero", knobs{}, true},
		{"all set", knobs{Latency: time.Second, ErrorShare: 1, Down: true, Tags: []string{"a"}}, true},
		{"negative latency", knobs{Latency: -1}, false},
		{"share below 0", knobs{ErrorShare: -0.01}, false},
		{"share above 1", knobs{ErrorShare: 1.01}, false},
		{"extension refuses", knobs{Tags: []string{""}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.Common().Validate(); tt.name != "extension refuses" && (err == nil) != tt.ok {
				t.Errorf("Common.Validate: %v", err)
			}
			k, err := faults.New(tt.s)
			if (err == nil) != tt.ok {
				t.Fatalf("New: %v", err)
			}
			if err == nil && k.Set(tt.s) != nil {
				t.Fatal("Set refused what New took")
			}
		})
	}
}

func TestAdmit(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		s       knobs
		ctx     context.Context
		applies bool
		want    error
	}{
		{"nothing set", knobs{}, context.Background(), true, nil},
		{"down", knobs{Down: true}, context.Background(), true, faults.ErrDown},
		{"down beats the error share", knobs{Down: true, ErrorShare: 1}, context.Background(), true, faults.ErrDown},
		{"error share 1", knobs{ErrorShare: 1}, context.Background(), true, faults.ErrInjected},
		{"error share not applying", knobs{ErrorShare: 1}, context.Background(), false, nil},
		{"latency cut by ctx", knobs{Latency: time.Hour, Down: true}, cancelled, true, context.Canceled},
		{"short latency waited out", knobs{Latency: time.Millisecond}, context.Background(), true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := faults.New(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.Admit(tt.ctx, tt.applies); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Admit = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDrawAndFail(t *testing.T) {
	k, err := faults.New(knobs{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		share float64
		want  bool
	}{{0, false}, {1, true}} {
		for range 100 {
			if got := k.Draw(tt.share); got != tt.want {
				t.Fatalf("Draw(%v) = %v", tt.share, got)
			}
		}
	}
	if k.Fail() {
		t.Error("a zero error share failed a request")
	}
}

func TestSetAnnouncesAndClones(t *testing.T) {
	tags := []string{"a"}
	k, err := faults.New(knobs{Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	tags[0] = "changed by the caller"
	s, changed := k.Watch()
	s.Tags[0] = "changed by a reader"
	if got := k.Settings().Tags[0]; got != "a" {
		t.Fatalf("settings in force shared with callers: %q", got)
	}
	if err := k.Set(knobs{ErrorShare: 2}); err == nil {
		t.Fatal("Set took an error share of 2")
	}
	select {
	case <-changed:
		t.Fatal("a refused Set was announced")
	default:
	}
	if err := k.Set(knobs{Down: true}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("the change was not announced")
	}
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name   string
		method string
		body   string
		code   int
		want   string // the settings shown afterwards, as JSON
	}{
		{"get", http.MethodGet, "", 200, `{"latency":"0s","error_share":0.5,"down":false,"tags":["a"]}`},
		{"put one field keeps the others", http.MethodPut, `{"latency":"25ms"}`, 200, `{"latency":"25ms","error_share":0.5,"down":false,"tags":["a"]}`},
		{"post an extension field", http.MethodPost, `{"down":true,"tags":["b","c"]}`, 200, `{"latency":"0s","error_share":0.5,"down":true,"tags":["b","c"]}`},
		{"out of range", http.MethodPut, `{"error_share":2}`, 400, ""},
		{"extension refuses", http.MethodPut, `{"tags":[""]}`, 400, ""},
		{"apply refuses", http.MethodPut, `{"latency":"later"}`, 400, ""},
		{"unknown field", http.MethodPut, `{"colour":"red"}`, 400, ""},
		{"not json", http.MethodPost, `not json`, 400, ""},
		{"too large", http.MethodPut, `{"tags":["` + strings.Repeat("x", 5000) + `"]}`, 400, ""},
		{"method", http.MethodDelete, "", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := faults.New(knobs{ErrorShare: 0.5, Tags: []string{"a"}})
			if err != nil {
				t.Fatal(err)
			}
			before := k.Settings()
			rec := httptest.NewRecorder()
			handler(k).ServeHTTP(rec, httptest.NewRequest(tt.method, "/faults", strings.NewReader(tt.body)))
			if rec.Code != tt.code {
				t.Fatalf("%s %s: %d %s, want %d", tt.method, tt.body, rec.Code, rec.Body, tt.code)
			}
			if tt.code != http.StatusOK {
				if after := k.Settings(); !slices.Equal(after.Tags, before.Tags) || after.Common() != before.Common() {
					t.Fatalf("a refused request changed the settings: %+v", after)
				}
				if tt.code == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "" {
					t.Error("405 without Allow")
				}
				return
			}
			var got, want any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
				t.Fatalf("answer %s, want %s", g, w)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
