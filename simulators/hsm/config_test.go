package hsm_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	protocol "github.com/andes-bank/andes/platform/hsm"
	"github.com/andes-bank/andes/simulators/hsm"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func files(contents map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		c, ok := contents[name]
		if !ok {
			return nil, fs.ErrNotExist
		}
		return []byte(c), nil
	}
}

const (
	otherKey = "0123456789ABCDEFFEDCBA9876543210"
	kek1     = "1111111111111111111111111111111111111111111111111111111111111111"
	kek2     = "2222222222222222222222222222222222222222222222222222222222222222"
)

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := hsm.LoadConfig(env(nil), files(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.EdgeAddr != hsm.DefaultEdgeAddr || cfg.Name != "hsm" {
		t.Fatalf("addr %q name %q", cfg.EdgeAddr, cfg.Name)
	}
	if got := strings.Join(cfg.DevKeys, ","); got != "ZPK,PVK,CVK,KEK" {
		t.Fatalf("DevKeys = %s", got)
	}
	if cfg.Keys.ZPK.CheckValue() != hsm.DevKeys().ZPK.CheckValue() {
		t.Fatal("default ZPK is not the dev ZPK")
	}
}

func TestLoadConfigFromEnvironmentAndFiles(t *testing.T) {
	cfg, err := hsm.LoadConfig(env(map[string]string{
		"ANDES_EDGE_ADDR":             "127.0.0.1:9999",
		"ANDES_HSM_ZPK":               otherKey,
		"ANDES_HSM_PVK_FILE":          "/run/secrets/pvk",
		"ANDES_HSM_KEK":               "2:" + kek2 + ", 1:" + kek1,
		"ANDES_HSM_LATENCY":           "15ms",
		"ANDES_HSM_ERROR_SHARE":       "0.25",
		"ANDES_HSM_DISABLED_COMMANDS": "CY, CW",
	}), files(map[string]string{"/run/secrets/pvk": otherKey + "\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Keys.ZPK.CheckValue() != "08D7B4" || cfg.Keys.PVK.CheckValue() != "08D7B4" {
		t.Fatal("keys not taken from the environment and the file")
	}
	if cfg.Keys.KEK.CurrentVersion() != 2 {
		t.Fatalf("current KEK version %d, want 2", cfg.Keys.KEK.CurrentVersion())
	}
	if strings.Join(cfg.DevKeys, ",") != "CVK" {
		t.Fatalf("DevKeys = %v", cfg.DevKeys)
	}
	want := hsm.FaultSettings{Latency: 15 * time.Millisecond, ErrorShare: 0.25, DisabledCommands: []string{"CY", "CW"}}
	if cfg.Faults.Latency != want.Latency || cfg.Faults.ErrorShare != want.ErrorShare || strings.Join(cfg.Faults.DisabledCommands, ",") != "CY,CW" {
		t.Fatalf("faults = %+v", cfg.Faults)
	}
}

// A bad value stops start-up with the variable's name and without the value.
func TestLoadConfigRefusals(t *testing.T) {
	secretish := "ABCDEF0123456789ABCDEF01234567"
	tests := []struct {
		name    string
		vars    map[string]string
		wantVar string
	}{
		{"ZPK of 15 bytes", map[string]string{"ANDES_HSM_ZPK": secretish}, "ANDES_HSM_ZPK"},
		{"PVK single length", map[string]string{"ANDES_HSM_PVK": secretish[:16]}, "ANDES_HSM_PVK"},
		{"CVK not hex", map[string]string{"ANDES_HSM_CVK": strings.Repeat("Z", 32)}, "ANDES_HSM_CVK"},
		{"KEK short", map[string]string{"ANDES_HSM_KEK": secretish}, "ANDES_HSM_KEK"},
		{"KEK version twice", map[string]string{"ANDES_HSM_KEK": "1:" + kek1 + ",1:" + kek2}, "ANDES_HSM_KEK"},
		{"KEK version 0", map[string]string{"ANDES_HSM_KEK": "0:" + kek1}, "ANDES_HSM_KEK"},
		{"both ZPK and ZPK_FILE", map[string]string{"ANDES_HSM_ZPK": otherKey, "ANDES_HSM_ZPK_FILE": "/x"}, "ANDES_HSM_ZPK"},
		{"missing ZPK file", map[string]string{"ANDES_HSM_ZPK_FILE": "/nope"}, "ANDES_HSM_ZPK_FILE"},
		{"latency", map[string]string{"ANDES_HSM_LATENCY": "soon"}, "ANDES_HSM_LATENCY"},
		{"error share", map[string]string{"ANDES_HSM_ERROR_SHARE": "1.5"}, "ANDES_HSM_ERROR_SHARE"},
		{"disabled command", map[string]string{"ANDES_HSM_DISABLED_COMMANDS": "verify"}, "ANDES_HSM_DISABLED_COMMANDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hsm.LoadConfig(env(tt.vars), files(nil))
			if err == nil || !strings.Contains(err.Error(), tt.wantVar) {
				t.Fatalf("err = %v, want it to name %s", err, tt.wantVar)
			}
			if strings.Contains(err.Error(), secretish[:16]) || strings.Contains(err.Error(), kek1[:16]) {
				t.Fatalf("error quotes the key: %v", err)
			}
		})
	}
}

func TestFaultsHandler(t *testing.T) {
	f, err := hsm.NewFaults(hsm.FaultSettings{ErrorShare: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	h := f.Handler()
	do := func(method, body string) (int, map[string]any) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/faults", strings.NewReader(body)))
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}

	code, out := do(http.MethodGet, "")
	if code != http.StatusOK || out["error_share"] != 0.5 || out["latency"] != "0s" {
		t.Fatalf("GET: %d %v", code, out)
	}
	// Only latency changes; the error share keeps its value.
	code, out = do(http.MethodPut, `{"latency":"25ms","disabled_commands":["DC"]}`)
	if code != http.StatusOK || out["latency"] != "25ms" || out["error_share"] != 0.5 {
		t.Fatalf("PUT: %d %v", code, out)
	}
	if s := f.Settings(); s.Latency != 25*time.Millisecond || len(s.DisabledCommands) != 1 {
		t.Fatalf("settings = %+v", s)
	}
	if err := f.Admit(context.Background(), "DC"); !errors.Is(err, protocol.ErrDisabled) {
		t.Fatalf("Admit(DC) = %v", err)
	}
	for _, bad := range []string{`{"error_share":2}`, `{"latency":"later"}`, `{"colour":"red"}`, `not json`, `{"disabled_commands":["verify"]}`} {
		if code, _ := do(http.MethodPost, bad); code != http.StatusBadRequest {
			t.Errorf("POST %s: %d, want 400", bad, code)
		}
	}
	if code, _ := do(http.MethodDelete, ""); code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", code)
	}
	if s := f.Settings(); s.ErrorShare != 0.5 {
		t.Fatalf("a refused update changed the settings: %+v", s)
	}
}
