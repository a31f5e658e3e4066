// Package manifest reads deploy/manifest.yaml, the single list of Andes processes
// with their listeners, peers and dependencies, and resolves it into addresses and
// the environment each process is started with.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Kinds of process.
const (
	KindGateway    = "gateway"
	KindService    = "service"
	KindMonitor    = "monitor"
	KindSupervisor = "supervisor"
	KindSimulator  = "simulator"
)

// Shared dependencies a process may need.
const (
	NeedPostgres = "postgres"
	NeedRedis    = "redis"
	NeedNATS     = "nats"
)

// EdgeDefault is the name of the edge announced as ANDES_EDGE_ADDR.
const EdgeDefault = "edge"

// Manifest is the whole platform.
type Manifest struct {
	TrustDomain string     `yaml:"trust_domain"`
	Processes   []Process  `yaml:"processes"`
	Identities  []Identity `yaml:"identities"`
}

// Process is one deployable.
type Process struct {
	Name  string   `yaml:"name"`
	Kind  string   `yaml:"kind"`
	Main  string   `yaml:"main"` // repository-relative path of its main package
	GRPC  int      `yaml:"grpc"`
	Admin int      `yaml:"admin"`
	Edges []Edge   `yaml:"edges"`
	Peers []string `yaml:"peers"`
	Needs []string `yaml:"needs"`
}

// Edge is a listener reached from outside the mesh.
type Edge struct {
	Name     string `yaml:"name"`
	Port     int    `yaml:"port"`
	Protocol string `yaml:"protocol"`
}

// Identity is a certificate holder that is not a process (the operator).
type Identity struct {
	Name string `yaml:"name"`
}

// Peer is a reference to another process's listener: "facade" (its gRPC listener)
// or "corebank:edge" (one of its edges).
type Peer struct {
	Process  string
	Listener string // "grpc" or an edge name
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)

// Load reads and validates the manifest at path.
func Load(path string) (*Manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return Parse(raw)
}

// Parse decodes and validates a manifest; unknown fields are refused.
func Parse(raw []byte) (*Manifest, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, nil
}

// Find locates deploy/manifest.yaml from dir upwards, so tests in any package and
// binaries started from the repository root find the same file.
func Find(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "deploy", "manifest.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("manifest: no deploy/manifest.yaml above %s", dir)
		}
	}
}

func (m *Manifest) validate() error {
	if m.TrustDomain == "" {
		return errors.New("trust_domain is empty")
	}
	names := map[string]*Process{}
	ports := map[int]string{}
	usePort := func(port int, who string) error {
		if port <= 0 || port > 65535 {
			return fmt.Errorf("%s: port %d out of range", who, port)
		}
		if other, dup := ports[port]; dup {
			return fmt.Errorf("%s: port %d already used by %s", who, port, other)
		}
		ports[port] = who
		return nil
	}
	for i := range m.Processes {
		p := &m.Processes[i]
		if !namePattern.MatchString(p.Name) {
			return fmt.Errorf("process %q: name must be lower-case letters, digits and dashes", p.Name)
		}
		if names[p.Name] != nil {
			return fmt.Errorf("process %q listed twice", p.Name)
		}
		names[p.Name] = p
		switch p.Kind {
		case KindGateway, KindService, KindMonitor, KindSupervisor, KindSimulator:
		default:
			return fmt.Errorf("process %q: unknown kind %q", p.Name, p.Kind)
		}
		if !strings.HasPrefix(p.Main, "./") {
			return fmt.Errorf("process %q: main must be a ./relative package path", p.Name)
		}
		if err := usePort(p.GRPC, p.Name+" grpc"); err != nil {
			return err
		}
		if err := usePort(p.Admin, p.Name+" admin"); err != nil {
			return err
		}
		edges := map[string]bool{}
		for _, e := range p.Edges {
			if !namePattern.MatchString(e.Name) || e.Name == "grpc" || e.Name == "admin" || edges[e.Name] {
				return fmt.Errorf("process %q: bad or repeated edge name %q", p.Name, e.Name)
			}
			edges[e.Name] = true
			if e.Protocol == "" {
				return fmt.Errorf("process %q: edge %q has no protocol", p.Name, e.Name)
			}
			if err := usePort(e.Port, p.Name+" "+e.Name); err != nil {
				return err
			}
		}
		for _, n := range p.Needs {
			switch n {
			case NeedPostgres, NeedRedis, NeedNATS:
			default:
				return fmt.Errorf("process %q: unknown need %q", p.Name, n)
			}
		}
	}
	for _, id := range m.Identities {
		if !namePattern.MatchString(id.Name) || names[id.Name] != nil {
			return fmt.Errorf("identity %q: bad name or clashes with a process", id.Name)
		}
	}
	for _, p := range m.Processes {
		for _, ref := range p.Peers {
			peer := ParsePeer(ref)
			target := names[peer.Process]
			if target == nil {
				return fmt.Errorf("process %q: unknown peer %q", p.Name, ref)
			}
			if peer.Listener != "grpc" && target.Edge(peer.Listener) == nil {
				return fmt.Errorf("process %q: peer %q has no edge %q", p.Name, peer.Process, peer.Listener)
			}
		}
	}
	return nil
}

// ParsePeer splits "corebank:edge" into its process and listener.
func ParsePeer(ref string) Peer {
	name, listener, found := strings.Cut(ref, ":")
	if !found {
		listener = "grpc"
	}
	return Peer{Process: name, Listener: listener}
}

// Process returns the named process, or nil.
func (m *Manifest) Process(name string) *Process {
	for i := range m.Processes {
		if m.Processes[i].Name == name {
			return &m.Processes[i]
		}
	}
	return nil
}

// IdentityNames returns every certificate holder: each process and each extra identity.
func (m *Manifest) IdentityNames() []string {
	var out []string
	for _, p := range m.Processes {
		out = append(out, p.Name)
	}
	for _, id := range m.Identities {
		out = append(out, id.Name)
	}
	return out
}

// SPIFFEID is the URI SAN of an identity's certificate.
func (m *Manifest) SPIFFEID(name string) string {
	return "spiffe://" + m.TrustDomain + "/" + name
}

// Edge returns the named edge, or nil.
func (p *Process) Edge(name string) *Edge {
	for i := range p.Edges {
		if p.Edges[i].Name == name {
			return &p.Edges[i]
		}
	}
	return nil
}

// NeedsDep reports whether the process uses the dependency.
func (p *Process) NeedsDep(dep string) bool {
	for _, n := range p.Needs {
		if n == dep {
			return true
		}
	}
	return false
}

// Schema is the process's PostgreSQL schema.
func (p *Process) Schema() string { return SchemaOf(p.Name) }

// SchemaOf turns a process name into its schema name.
func SchemaOf(name string) string { return strings.ReplaceAll(name, "-", "_") }

// EnvName turns a process or edge name into an environment word: bff-web → BFF_WEB.
func EnvName(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// EdgeEnv is the variable that announces an edge's address to its own process.
func EdgeEnv(edge string) string {
	if edge == EdgeDefault {
		return "ANDES_EDGE_ADDR"
	}
	return "ANDES_" + EnvName(edge) + "_ADDR"
}

// PeerEnv is the variable that announces a peer's address to a caller:
// ANDES_FACADE_ADDR for a gRPC listener, ANDES_COREBANK_EDGE_ADDR for the edge
// named "edge", ANDES_MAIL_SMTP_ADDR for another edge.
func PeerEnv(peer Peer) string {
	if peer.Listener == "grpc" {
		return "ANDES_" + EnvName(peer.Process) + "_ADDR"
	}
	return "ANDES_" + EnvName(peer.Process) + "_" + EnvName(peer.Listener) + "_ADDR"
}
