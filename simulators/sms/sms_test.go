package sms_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andes-bank/andes/simulators/sms"
)

type fixture struct {
	api, admin *httptest.Server
	svc        *sms.Service
}

func newFixture(t *testing.T) *fixture {
	svc, err := sms.New(sms.FaultSettings{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{svc: svc, api: httptest.NewServer(svc.Handler()), admin: httptest.NewServer(svc.Faults().Handler())}
	t.Cleanup(f.api.Close)
	t.Cleanup(f.admin.Close)
	return f
}

func (f *fixture) send(t *testing.T, key, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.api.URL+"/v1/messages", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

func (f *fixture) list(t *testing.T, to string) []map[string]any {
	t.Helper()
	resp, err := http.Get(f.api.URL + "/v1/messages?to=" + strings.ReplaceAll(to, "+", "%2B"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Messages []map[string]any }
	json.NewDecoder(resp.Body).Decode(&out)
	return out.Messages
}

func TestSendIsIdempotentAndListedPerPhone(t *testing.T) {
	f := newFixture(t)
	body := `{"to":"+51987654321","sender":"Andes","text":"Tu código es 123456"}`
	code, first, _ := f.send(t, "k1", body)
	if code != http.StatusAccepted || first["status"] != "delivered" || first["id"] == "" {
		t.Fatalf("send: %d %v", code, first)
	}
	code, again, h := f.send(t, "k1", body)
	if code != http.StatusAccepted || again["id"] != first["id"] || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %v", code, again)
	}
	if code, _, _ := f.send(t, "k1", `{"to":"+51987654321","text":"otro"}`); code != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other message: %d", code)
	}
	f.send(t, "k2", `{"to":"+51987654321","text":"segundo"}`)
	f.send(t, "k3", `{"to":"+51912345678","text":"para José"}`)
	got := f.list(t, "+51987654321")
	if len(got) != 2 || got[0]["text"] != "segundo" || got[1]["text"] != "Tu código es 123456" {
		t.Fatalf("list: %v", got)
	}
	if all := f.list(t, ""); len(all) != 3 {
		t.Fatalf("all: %v", all)
	}
	resp, _ := http.Get(f.api.URL + "/v1/messages/" + first["id"].(string))
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("get: %d", resp.StatusCode)
	}
	resp, _ = http.Get(f.api.URL + "/?to=%2B51912345678")
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "para José") || strings.Contains(string(page), "segundo") {
		t.Fatalf("page: %s", page)
	}
}

func TestSendValidates(t *testing.T) {
	f := newFixture(t)
	for name, tc := range map[string]struct{ key, body string }{
		"no key":        {"", `{"to":"+51987654321","text":"x"}`},
		"bad phone":     {"a", `{"to":"987654321","text":"x"}`},
		"empty text":    {"b", `{"to":"+51987654321","text":""}`},
		"long text":     {"c", `{"to":"+51987654321","text":"` + strings.Repeat("x", 481) + `"}`},
		"unknown field": {"d", `{"to":"+51987654321","text":"x","priority":1}`},
		"not json":      {"e", `to=+51987654321`},
	} {
		if code, _, _ := f.send(t, tc.key, tc.body); code != http.StatusBadRequest {
			t.Errorf("%s: %d", name, code)
		}
	}
}

func TestFaultKnobs(t *testing.T) {
	f := newFixture(t)
	put := func(body string) int {
		req, _ := http.NewRequest(http.MethodPut, f.admin.URL, bytes.NewBufferString(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if put(`{"down":true}`) != 200 {
		t.Fatal("set down")
	}
	if code, _, h := f.send(t, "k", `{"to":"+51987654321","text":"x"}`); code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Fatalf("down: %d", code)
	}
	put(`{"down":false,"error_share":1}`)
	if code, _, _ := f.send(t, "k", `{"to":"+51987654321","text":"x"}`); code != http.StatusInternalServerError {
		t.Fatalf("error share: %d", code)
	}
	if len(f.svc.Messages("")) != 0 {
		t.Fatal("a failed send was stored")
	}
	put(`{"error_share":0,"latency":"1ms"}`)
	if code, _, _ := f.send(t, "k", `{"to":"+51987654321","text":"x"}`); code != http.StatusAccepted {
		t.Fatalf("recovered: %d", code)
	}
	for _, bad := range []string{`{"error_share":2}`, `{"latency":"soon"}`, `{"latency":"-1s"}`, `{"nope":1}`} {
		if put(bad) != http.StatusBadRequest {
			t.Errorf("accepted %s", bad)
		}
	}
	if s := f.svc.Faults().Settings(); s.Latency.String() != "1ms" || s.Down {
		t.Fatalf("settings %+v", s)
	}
}
