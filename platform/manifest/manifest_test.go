package manifest_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/andes-bank/andes/platform/manifest"
)

func load(t *testing.T) *manifest.Manifest {
	t.Helper()
	wd, _ := os.Getwd()
	path, err := manifest.Find(wd)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The manifest lists every process of DESIGN.md section 3, and nothing else.
func TestManifestListsEveryProcessOfTheDesign(t *testing.T) {
	m := load(t)
	want := []string{
		"bff-web", "bff-mobile", "bff-partner", "auth", "onboarding", "customer",
		"controller", "messaging", "authorizer", "migrator", "facade", "monitor",
		"supervisor", "corebank", "registry", "biometrics", "esign", "sms", "mail",
		"cardnet", "hsm",
	}
	got := map[string]bool{}
	for _, p := range m.Processes {
		got[p.Name] = true
	}
	for _, name := range want {
		if !got[name] {
			t.Errorf("manifest lacks %s", name)
		}
		delete(got, name)
	}
	for name := range got {
		t.Errorf("manifest has %s, which the design does not name", name)
	}
	for _, p := range m.Processes {
		if _, err := os.Stat("../../" + strings.TrimPrefix(p.Main, "./") + "/main.go"); err != nil {
			t.Errorf("%s: no main package at %s", p.Name, p.Main)
		}
	}
}

// Every variable a process is given names one listener, so no caller gets two
// peers under one name.
func TestPeerVariablesAreUnique(t *testing.T) {
	m := load(t)
	for _, p := range m.Processes {
		seen := map[string]string{}
		for _, ref := range p.Peers {
			env := manifest.PeerEnv(manifest.ParsePeer(ref))
			if other, dup := seen[env]; dup {
				t.Errorf("%s: peers %s and %s both become %s", p.Name, other, ref, env)
			}
			seen[env] = ref
		}
	}
}

func TestBadManifestsAreRefused(t *testing.T) {
	base := "trust_domain: andes.local\nprocesses:\n"
	proc := func(name string, grpc, admin int, extra string) string {
		return "  - {name: " + name + ", kind: service, main: ./x, grpc: " + strconv.Itoa(grpc) + ", admin: " + strconv.Itoa(admin) + extra + "}\n"
	}
	cases := map[string]string{
		"duplicate port":  base + proc("a", 1, 2, "") + proc("b", 1, 3, ""),
		"duplicate name":  base + proc("a", 1, 2, "") + proc("a", 3, 4, ""),
		"unknown peer":    base + proc("a", 1, 2, ", peers: [nobody]"),
		"unknown edge":    base + proc("a", 1, 2, "") + proc("b", 3, 4, ", peers: [\"a:edge\"]"),
		"unknown field":   base + proc("a", 1, 2, ", colour: red"),
		"unknown need":    base + proc("a", 1, 2, ", needs: [mysql]"),
		"bad name":        base + proc("A_b", 1, 2, ""),
		"no trust domain": "processes: []\n",
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := manifest.Parse([]byte(doc)); err == nil {
				t.Fatalf("accepted:\n%s", doc)
			}
		})
	}
}
