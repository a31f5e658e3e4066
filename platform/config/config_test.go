package config_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/config"
)

// controllerConfig is what a process declares: the common part plus its own.
type controllerConfig struct {
	config.Base
	FacadeAddr  string        `env:"ANDES_FACADE_ADDR,required,addr"`
	DatabaseURL config.Secret `env:"DATABASE_URL,required"`
	MaxInFlight int           `env:"ANDES_MAX_IN_FLIGHT" default:"64"`
	Currencies  []string      `env:"ANDES_CURRENCIES" default:"PEN,USD"`
}

// validEnv is a complete environment; tests change one variable at a time.
func validEnv(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	file := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return map[string]string{
		"ANDES_NAME":          "controller",
		"ANDES_GRPC_ADDR":     "127.0.0.1:7103",
		"ANDES_ADMIN_ADDR":    "127.0.0.1:7203",
		"ANDES_TLS_CERT_FILE": file("controller.crt"),
		"ANDES_TLS_KEY_FILE":  file("controller.key"),
		"ANDES_TLS_CA_FILE":   file("ca.crt"),
		"ANDES_POLICY_FILE":   file("controller.json"),
		"ANDES_FACADE_ADDR":   "127.0.0.1:7108",
		"DATABASE_URL":        "postgres://controller:s3cr3t-pw@127.0.0.1:5432/andes",
	}
}

func TestLoadsAValidEnvironment(t *testing.T) {
	var cfg controllerConfig
	if err := config.LoadFrom(config.Map(validEnv(t)), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "controller" || cfg.FacadeAddr != "127.0.0.1:7108" || cfg.GRPCAddr != "127.0.0.1:7103" {
		t.Errorf("loaded %+v", cfg)
	}
	if cfg.MaxInFlight != 64 || strings.Join(cfg.Currencies, "|") != "PEN|USD" {
		t.Errorf("defaults not applied: %d %v", cfg.MaxInFlight, cfg.Currencies)
	}
	if cfg.ShutdownTimeout != 10*time.Second || cfg.LogLevel != slog.LevelInfo || cfg.TrustDomain != "andes.local" {
		t.Errorf("base defaults not applied: %v %v %q", cfg.ShutdownTimeout, cfg.LogLevel, cfg.TrustDomain)
	}
	if cfg.Common().Name != "controller" {
		t.Error("Common does not reach the embedded Base")
	}
}

// A missing and a malformed variable each stop start-up with the variable's name.
func TestBadVariablesAreNamed(t *testing.T) {
	cases := []struct {
		name    string
		change  func(env map[string]string)
		wantVar string
	}{
		{"missing peer address", func(e map[string]string) { delete(e, "ANDES_FACADE_ADDR") }, "ANDES_FACADE_ADDR"},
		{"missing base variable", func(e map[string]string) { delete(e, "ANDES_GRPC_ADDR") }, "ANDES_GRPC_ADDR"},
		{"empty counts as missing", func(e map[string]string) { e["ANDES_NAME"] = "" }, "ANDES_NAME"},
		{"address without port", func(e map[string]string) { e["ANDES_ADMIN_ADDR"] = "localhost" }, "ANDES_ADMIN_ADDR"},
		{"address with a word for port", func(e map[string]string) { e["ANDES_FACADE_ADDR"] = "127.0.0.1:http2" }, "ANDES_FACADE_ADDR"},
		{"integer", func(e map[string]string) { e["ANDES_MAX_IN_FLIGHT"] = "many" }, "ANDES_MAX_IN_FLIGHT"},
		{"duration", func(e map[string]string) { e["ANDES_SHUTDOWN_TIMEOUT"] = "10" }, "ANDES_SHUTDOWN_TIMEOUT"},
		{"log level", func(e map[string]string) { e["ANDES_LOG_LEVEL"] = "LOUD" }, "ANDES_LOG_LEVEL"},
		{"file that does not exist", func(e map[string]string) { e["ANDES_TLS_CA_FILE"] = "/nonexistent/ca.crt" }, "ANDES_TLS_CA_FILE"},
		{"process name", func(e map[string]string) { e["ANDES_NAME"] = "Controller!" }, "ANDES_NAME"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv(t)
			tc.change(env)
			var cfg controllerConfig
			err := config.LoadFrom(config.Map(env), &cfg)
			if err == nil {
				t.Fatal("loaded a bad environment")
			}
			if !strings.Contains(err.Error(), tc.wantVar) {
				t.Errorf("error %q does not name %s", err, tc.wantVar)
			}
			var ve *config.VarError
			if !errors.As(err, &ve) || ve.Var != tc.wantVar {
				t.Errorf("error %v is not a VarError for %s", err, tc.wantVar)
			}
		})
	}
}

// Every problem is reported at once, so an operator fixes a deployment in one go.
func TestAllProblemsAreReported(t *testing.T) {
	env := validEnv(t)
	delete(env, "ANDES_NAME")
	env["ANDES_MAX_IN_FLIGHT"] = "x"
	var cfg controllerConfig
	err := config.LoadFrom(config.Map(env), &cfg)
	for _, v := range []string{"ANDES_NAME", "ANDES_MAX_IN_FLIGHT"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("error %v does not name %s", err, v)
		}
	}
}

func TestSecretsComeFromFiles(t *testing.T) {
	env := validEnv(t)
	delete(env, "DATABASE_URL")
	path := filepath.Join(t.TempDir(), "database-url")
	if err := os.WriteFile(path, []byte("postgres://u:from-file@db/andes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env["DATABASE_URL_FILE"] = path
	var cfg controllerConfig
	if err := config.LoadFrom(config.Map(env), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL.Reveal() != "postgres://u:from-file@db/andes" {
		t.Errorf("got %q", cfg.DatabaseURL.Reveal())
	}

	env["DATABASE_URL"] = "postgres://also-set"
	if err := config.LoadFrom(config.Map(env), &cfg); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("setting both the value and its file was accepted: %v", err)
	}

	delete(env, "DATABASE_URL")
	env["DATABASE_URL_FILE"] = filepath.Join(t.TempDir(), "missing")
	if err := config.LoadFrom(config.Map(env), &cfg); err == nil || !strings.Contains(err.Error(), "DATABASE_URL_FILE") {
		t.Errorf("an unreadable secret file was accepted: %v", err)
	}
}

// A secret never shows up in an error message or when the config is printed.
func TestSecretsAreNotEchoed(t *testing.T) {
	type withSecret struct {
		Port  config.Secret `env:"SECRET_PORT,addr"`
		Token string        `env:"API_TOKEN,secret,addr"`
	}
	var cfg withSecret
	err := config.LoadFrom(config.Map(map[string]string{"SECRET_PORT": "hunter2", "API_TOKEN": "tok-abc123"}), &cfg)
	if err == nil {
		t.Fatal("malformed values accepted")
	}
	for _, leaked := range []string{"hunter2", "tok-abc123"} {
		if strings.Contains(err.Error(), leaked) {
			t.Errorf("error leaks %q: %v", leaked, err)
		}
	}
	s := config.Secret("hunter2")
	for _, out := range []string{s.String(), s.GoString(), s.LogValue().String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("Secret prints itself: %q", out)
		}
	}
}

func TestLoadRefusesNonStruct(t *testing.T) {
	var s string
	if err := config.LoadFrom(config.Map(nil), &s); err == nil {
		t.Error("loaded into a string")
	}
}
