package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/services/auth"
)

func baseEnv(t *testing.T) map[string]string {
	dir := t.TempDir()
	file := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return map[string]string{
		"ANDES_NAME": "auth", "ANDES_GRPC_ADDR": "127.0.0.1:7101", "ANDES_ADMIN_ADDR": "127.0.0.1:7201",
		"ANDES_EDGE_ADDR": "127.0.0.1:8083", "ANDES_TLS_CERT_FILE": file("c"), "ANDES_TLS_KEY_FILE": file("k"),
		"ANDES_TLS_CA_FILE": file("ca"), "ANDES_POLICY_FILE": file("p"), "ANDES_CUSTOMER_ADDR": "127.0.0.1:7102",
		"DATABASE_URL": "postgres://x", "REDIS_URL": "redis://x", "NATS_URL": "nats://x",
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	env := baseEnv(t)
	var cfg auth.Config
	if err := config.LoadFrom(config.Map(env), &cfg); err != nil {
		t.Fatal(err)
	}
	iss, _ := cfg.IssuerURL()
	if cfg.AccessTokenTTL != 10*time.Minute || cfg.RefreshTokenTTL != 720*time.Hour || iss != "http://127.0.0.1:8083" ||
		cfg.WebRedirect() != "http://127.0.0.1:8080/auth/callback" || cfg.LoginMaxFailures != 5 {
		t.Fatalf("defaults %+v", cfg)
	}
	pepper := filepath.Join(t.TempDir(), "pepper")
	os.WriteFile(pepper, []byte(strings.Repeat("s", 40)+"\n"), 0o600)
	for _, tc := range []struct {
		set  map[string]string
		want string // a variable named in the error; "" for none
	}{
		{map[string]string{"ANDES_AUTH_ACCESS_TOKEN_TTL": "15m", "ANDES_BFF_WEB_EDGE_ADDR": "127.0.0.1:9000", "ANDES_AUTH_PEPPER_FILE": pepper}, ""},
		{map[string]string{"ANDES_AUTH_ACCESS_TOKEN_TTL": "2h"}, "ANDES_AUTH_ACCESS_TOKEN_TTL"},
		{map[string]string{"ANDES_AUTH_ACCESS_TOKEN_TTL": "10s"}, "ANDES_AUTH_ACCESS_TOKEN_TTL"},
		{map[string]string{"ANDES_AUTH_REFRESH_TOKEN_TTL": "1m"}, "ANDES_AUTH_REFRESH_TOKEN_TTL"},
		{map[string]string{"ANDES_AUTH_PEPPER": "short"}, "ANDES_AUTH_PEPPER"},
		{map[string]string{"ANDES_EDGE_ADDR": "0.0.0.0:8083"}, "ANDES_AUTH_ISSUER"},
		{map[string]string{"ANDES_EDGE_ADDR": "0.0.0.0:8083", "ANDES_AUTH_ISSUER": "https://auth.andes.bank"}, ""},
		{map[string]string{"ANDES_AUTH_ISSUER": "https://auth.andes.bank/path?x"}, "ANDES_AUTH_ISSUER"},
		{map[string]string{"ANDES_AUTH_LOGIN_MAX_FAILURES": "1"}, "ANDES_AUTH_LOGIN_MAX_FAILURES"},
	} {
		e := baseEnv(t)
		for k, v := range tc.set {
			e[k] = v
		}
		var c auth.Config
		err := config.LoadFrom(config.Map(e), &c)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.set, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: %v, want an error naming %s", tc.set, err, tc.want)
		}
		if tc.want == "" && tc.set["ANDES_AUTH_PEPPER_FILE"] != "" && (c.Pepper.Reveal() != strings.Repeat("s", 40) || c.WebRedirect() != "http://127.0.0.1:9000/auth/callback") {
			t.Errorf("pepper or redirect not read: %+v", c)
		}
	}
}
