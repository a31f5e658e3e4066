package manifest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/andes-bank/andes/platform/manifest"
)

// What docker-compose.yml gives every process besides its addresses.
var composeShared = manifest.Shared{
	PKIDir:      "/etc/andes/pki",
	PolicyDir:   "/etc/andes/policies",
	DatabaseURL: "postgres://andes:andes@postgres:5432/andes?sslmode=disable",
	RedisURL:    "redis://redis:6379/0",
	NATSURL:     "nats://nats:4222",
	ListenHost:  "0.0.0.0",
}

// The compose services that are not processes of the manifest.
var composeDependencies = map[string]string{
	manifest.NeedPostgres: "postgres:15",
	manifest.NeedRedis:    "redis:7",
	manifest.NeedNATS:     "nats:2",
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       any               `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	DependsOn   map[string]any    `yaml:"depends_on"`
}

// repoFile reads a file at the repository root, found from the manifest.
func repoFile(t *testing.T, name string) []byte {
	t.Helper()
	wd, _ := os.Getwd()
	path, err := manifest.Find(wd)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(path)), name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestComposeRunsEveryProcessOfTheManifest(t *testing.T) {
	m := load(t)
	var compose composeFile
	if err := yaml.Unmarshal(repoFile(t, "docker-compose.yml"), &compose); err != nil {
		t.Fatal(err)
	}
	addrs := m.ServiceAddrs()

	for _, p := range m.Processes {
		t.Run(p.Name, func(t *testing.T) {
			s, ok := compose.Services[p.Name]
			if !ok {
				t.Fatalf("no compose service %s", p.Name)
			}
			if s.Build == nil || s.Image == "" {
				t.Errorf("not built from the Dockerfile: image %q, build %v", s.Image, s.Build)
			}
			if !slices.Equal(s.Command, []string{p.Name}) {
				t.Errorf("command = %v, want [%s]", s.Command, p.Name)
			}

			want := []string{published(p.GRPC), published(p.Admin)}
			for _, e := range p.Edges {
				want = append(want, published(e.Port))
			}
			if !sameSet(s.Ports, want) {
				t.Errorf("ports = %v, want %v", s.Ports, want)
			}

			env, err := manifest.Env(&p, addrs, composeShared)
			if err != nil {
				t.Fatal(err)
			}
			given := map[string]bool{}
			for _, kv := range env {
				k, v, _ := strings.Cut(kv, "=")
				given[k] = true
				if got, ok := s.Environment[k]; !ok || got != v {
					t.Errorf("environment %s = %q, want %q", k, got, v)
				}
			}
			// Anything more is a service-specific setting, never an address or a
			// dependency the manifest does not give.
			for k := range s.Environment {
				if !given[k] && (strings.HasSuffix(k, "_ADDR") || strings.HasSuffix(k, "_URL")) {
					t.Errorf("environment has %s, which the manifest does not give %s", k, p.Name)
				}
			}

			for _, need := range p.Needs {
				if _, ok := s.DependsOn[need]; !ok {
					t.Errorf("does not depend on %s", need)
				}
			}
		})
	}

	for name, s := range compose.Services {
		if image, dep := composeDependencies[name]; dep {
			if s.Image != image {
				t.Errorf("%s: image %q, want %q", name, s.Image, image)
			}
			continue
		}
		if m.Process(name) == nil {
			t.Errorf("compose service %s is not a process of the manifest", name)
		}
	}
}

// published is a manifest port published on the host's loopback, as `make up`
// listens on it.
func published(port int) string {
	return fmt.Sprintf("127.0.0.1:%d:%d", port, port)
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// The Dockerfile builds the packages on the manifest's `main:` lines with awk and
// names each binary after its folder; compose and the supervisor run the binary
// named after the process. Both hold only while the manifest keeps that shape.
func TestDockerfileBuildsTheBinaryOfEveryProcess(t *testing.T) {
	m := load(t)
	var mains []string
	for _, line := range strings.Split(string(repoFile(t, "deploy/manifest.yaml")), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "main:" {
			mains = append(mains, f[1])
		}
	}
	var want []string
	for _, p := range m.Processes {
		want = append(want, p.Main)
		if filepath.Base(p.Main) != p.Name {
			t.Errorf("%s: main %s builds a binary named %s", p.Name, p.Main, filepath.Base(p.Main))
		}
	}
	if !sameSet(mains, want) {
		t.Errorf("the Dockerfile's awk finds %v, the manifest has %v", mains, want)
	}
	if df := string(repoFile(t, "Dockerfile")); !strings.Contains(df, `awk '$1 == "main:" {print $2}' deploy/manifest.yaml`) {
		t.Error("the Dockerfile no longer lists the binaries from the manifest")
	}
}
