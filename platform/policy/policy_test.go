package policy_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/policy"
)

var update = flag.Bool("update", false, "write deploy/policies/<name>.json from the manifest (overwrites hand edits)")

func repo(t *testing.T) (string, *manifest.Manifest) {
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
	return filepath.Dir(filepath.Dir(path)), m
}

// Every manifest process has a policy that authz accepts and that grants at least
// what the manifest implies; no policy is left for a process that no longer exists.
func TestEveryProcessHasAValidPolicy(t *testing.T) {
	root, m := repo(t)
	for _, p := range m.Processes {
		want, err := policy.Default(m, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		file := policy.File(root, p.Name)
		if *update {
			raw, err := want.JSON()
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := policy.Load(file)
		if err != nil {
			t.Errorf("%s: %v", p.Name, err)
			continue
		}
		if got.Name != p.Name {
			t.Errorf("%s: policy is named %q", file, got.Name)
		}
		if err := got.Covers(want); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(root, "deploy", "policies", "*.json"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".json"); m.Process(name) == nil {
			t.Errorf("%s: no process %q in the manifest", f, name)
		}
	}
}

func TestDefaultGrantsManifestPeers(t *testing.T) {
	_, m := repo(t)
	p, err := policy.Default(m, "facade")
	if err != nil {
		t.Fatal(err)
	}
	var internal *policy.Rule
	for i := range p.AllowRules {
		if p.AllowRules[i].Name == "internal-api" {
			internal = &p.AllowRules[i]
		}
	}
	if internal == nil {
		t.Fatal("facade's policy has no internal-api rule")
	}
	got := strings.Join(internal.Source.Principals, " ")
	for _, caller := range []string{"customer", "controller", "onboarding"} {
		if !strings.Contains(got, "spiffe://andes.local/"+caller) {
			t.Errorf("facade does not admit %s: %s", caller, got)
		}
	}
	if strings.Contains(got, "authorizer") {
		t.Errorf("facade admits a process that does not call it: %s", got)
	}
	if _, err := policy.Default(m, "nobody"); err == nil {
		t.Error("made a policy for a process the manifest lacks")
	}
}

func TestParseRefusesMistakes(t *testing.T) {
	for name, raw := range map[string]string{
		"misspelt field": `{"name":"x","allow_rule":[{"name":"r"}]}`,
		"no allow rules": `{"name":"x"}`,
		"not JSON":       `allow everything`,
	} {
		if _, err := policy.Parse([]byte(raw)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
