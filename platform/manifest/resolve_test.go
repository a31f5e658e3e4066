package manifest_test

import (
	"errors"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/andes-bank/andes/platform/manifest"
)

func TestDefaultsUseTheManifestPortsOnLoopback(t *testing.T) {
	m := load(t)
	addrs := m.Defaults()
	if err := m.Check(addrs); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Processes {
		l := addrs[p.Name]
		if want := "127.0.0.1:" + strconv.Itoa(p.GRPC); l.GRPC != want {
			t.Errorf("%s grpc = %s, want %s", p.Name, l.GRPC, want)
		}
		if want := "127.0.0.1:" + strconv.Itoa(p.Admin); l.Admin != want {
			t.Errorf("%s admin = %s, want %s", p.Name, l.Admin, want)
		}
		for _, e := range p.Edges {
			if want := "127.0.0.1:" + strconv.Itoa(e.Port); l.Edges[e.Name] != want {
				t.Errorf("%s %s = %s, want %s", p.Name, e.Name, l.Edges[e.Name], want)
			}
		}
	}
}

func TestFreePortsAreDistinctLoopbackPorts(t *testing.T) {
	m := load(t)
	addrs, err := m.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(addrs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	use := func(addr string) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" || port == "0" {
			t.Errorf("bad address %q", addr)
		}
		if seen[addr] {
			t.Errorf("address %s given twice", addr)
		}
		seen[addr] = true
	}
	for _, l := range addrs {
		use(l.GRPC)
		use(l.Admin)
		for _, a := range l.Edges {
			use(a)
		}
	}
	// The ports were released, so a process can bind them.
	for addr := range seen {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("cannot bind %s: %v", addr, err)
			continue
		}
		l.Close()
	}
}

func shared() manifest.Shared {
	return manifest.Shared{
		PKIDir:      "/pki",
		PolicyDir:   "/policies",
		DatabaseURL: "postgres://db",
		RedisURL:    "redis://r",
		NATSURL:     "nats://n",
	}
}

func TestEnvFollowsTheDesign(t *testing.T) {
	m := load(t)
	addrs := m.Defaults()
	cases := map[string][]string{
		// peers (gRPC listeners and auth's edge for token keys), postgres and nats but not redis.
		"controller": {
			"ANDES_NAME=controller",
			"ANDES_GRPC_ADDR=127.0.0.1:7103",
			"ANDES_ADMIN_ADDR=127.0.0.1:7203",
			"ANDES_FACADE_ADDR=127.0.0.1:7108",
			"ANDES_CUSTOMER_ADDR=127.0.0.1:7102",
			"ANDES_AUTH_ADDR=127.0.0.1:7101",
			"ANDES_AUTH_EDGE_ADDR=127.0.0.1:8083",
			"ANDES_TLS_CERT_FILE=/pki/controller.crt",
			"ANDES_TLS_KEY_FILE=/pki/controller.key",
			"ANDES_TLS_CA_FILE=/pki/ca.crt",
			"ANDES_POLICY_FILE=/policies/controller.json",
			"DATABASE_URL=postgres://db",
			"NATS_URL=nats://n",
		},
		// two edges: the default one and a named one; no dependencies.
		"mail": {
			"ANDES_NAME=mail",
			"ANDES_GRPC_ADDR=127.0.0.1:7135",
			"ANDES_ADMIN_ADDR=127.0.0.1:7235",
			"ANDES_EDGE_ADDR=127.0.0.1:8446",
			"ANDES_SMTP_ADDR=127.0.0.1:2525",
			"ANDES_TLS_CERT_FILE=/pki/mail.crt",
			"ANDES_TLS_KEY_FILE=/pki/mail.key",
			"ANDES_TLS_CA_FILE=/pki/ca.crt",
			"ANDES_POLICY_FILE=/policies/mail.json",
		},
		// peers reached at their edges.
		"messaging": {
			"ANDES_NAME=messaging",
			"ANDES_GRPC_ADDR=127.0.0.1:7105",
			"ANDES_ADMIN_ADDR=127.0.0.1:7205",
			"ANDES_SMS_EDGE_ADDR=127.0.0.1:8445",
			"ANDES_MAIL_SMTP_ADDR=127.0.0.1:2525",
			"ANDES_TLS_CERT_FILE=/pki/messaging.crt",
			"ANDES_TLS_KEY_FILE=/pki/messaging.key",
			"ANDES_TLS_CA_FILE=/pki/ca.crt",
			"ANDES_POLICY_FILE=/policies/messaging.json",
			"DATABASE_URL=postgres://db",
			"NATS_URL=nats://n",
		},
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := manifest.Env(m.Process(name), addrs, shared())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

func TestEnvGivesDependencyURLsOnlyToWhoNeedsThem(t *testing.T) {
	m := load(t)
	addrs := m.Defaults()
	for _, p := range m.Processes {
		env, err := manifest.Env(&p, addrs, shared())
		if err != nil {
			t.Fatal(err)
		}
		has := func(key string) bool {
			return slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
		}
		for need, key := range map[string]string{
			manifest.NeedPostgres: "DATABASE_URL", manifest.NeedRedis: "REDIS_URL", manifest.NeedNATS: "NATS_URL",
		} {
			if has(key) != p.NeedsDep(need) {
				t.Errorf("%s: has %s = %v, needs %s = %v", p.Name, key, has(key), need, p.NeedsDep(need))
			}
		}
	}
}

func TestEnvListensOnListenHostAndDialsPeersByName(t *testing.T) {
	m := load(t)
	s := shared()
	s.ListenHost = "0.0.0.0"
	env, err := manifest.Env(m.Process("facade"), m.ServiceAddrs(), s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ANDES_GRPC_ADDR=0.0.0.0:7108",
		"ANDES_ADMIN_ADDR=0.0.0.0:7208",
		"ANDES_COREBANK_EDGE_ADDR=corebank:8441",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("env lacks %s: %v", want, env)
		}
	}
}

func TestEnvRefusesWhatItCannotFill(t *testing.T) {
	m := load(t)
	addrs := m.Defaults()

	s := shared()
	s.DatabaseURL = ""
	if _, err := manifest.Env(m.Process("customer"), addrs, s); !errors.Is(err, manifest.ErrMissingDependency) {
		t.Errorf("customer without DATABASE_URL: err = %v", err)
	}
	if _, err := manifest.Env(m.Process("registry"), addrs, s); err != nil {
		t.Errorf("registry needs no database: %v", err)
	}

	noFacade := m.Defaults()
	delete(noFacade, "facade")
	if _, err := manifest.Env(m.Process("customer"), noFacade, shared()); err == nil {
		t.Error("customer without its peer's address accepted")
	}
	if _, err := manifest.Env(m.Process("customer"), addrs, manifest.Shared{}); err == nil {
		t.Error("env without PKI and policy folders accepted")
	}
}

func TestAddressesFileRoundTrip(t *testing.T) {
	m := load(t)
	addrs, err := m.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "addrs.json")
	if err := addrs.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := m.ReadAddrs(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range addrs {
		if back[name].GRPC != l.GRPC || back[name].Admin != l.Admin || len(back[name].Edges) != len(l.Edges) {
			t.Errorf("%s: wrote %+v, read %+v", name, l, back[name])
		}
	}

	delete(addrs, "hsm")
	if err := addrs.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ReadAddrs(path); err == nil {
		t.Error("addresses file without hsm accepted")
	}
}
