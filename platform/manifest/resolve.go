package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/andes-bank/andes/platform/freeport"
)

// Listeners are the concrete addresses (host:port) of one process's listeners.
type Listeners struct {
	GRPC  string            `json:"grpc"`
	Admin string            `json:"admin"`
	Edges map[string]string `json:"edges,omitempty"` // by edge name
}

// Addrs holds the listeners of every process, by process name. It is the manifest
// resolved for one run: fixed ports for `make up`, free ports for a test, service
// names for docker-compose. As JSON it is the addresses file handed to the
// supervisor and read back by tests and tools.
type Addrs map[string]Listeners

// Defaults gives every listener its manifest port on 127.0.0.1, the layout of
// `make up`.
func (m *Manifest) Defaults() Addrs {
	return m.fixed(func(string) string { return "127.0.0.1" })
}

// ServiceAddrs gives every listener its manifest port on a host named after its
// process: the DNS names docker-compose gives its services.
func (m *Manifest) ServiceAddrs() Addrs {
	return m.fixed(func(name string) string { return name })
}

func (m *Manifest) fixed(host func(process string) string) Addrs {
	addrs := make(Addrs, len(m.Processes))
	for _, p := range m.Processes {
		h := host(p.Name)
		l := Listeners{
			GRPC:  net.JoinHostPort(h, strconv.Itoa(p.GRPC)),
			Admin: net.JoinHostPort(h, strconv.Itoa(p.Admin)),
		}
		for _, e := range p.Edges {
			if l.Edges == nil {
				l.Edges = map[string]string{}
			}
			l.Edges[e.Name] = net.JoinHostPort(h, strconv.Itoa(e.Port))
		}
		addrs[p.Name] = l
	}
	return addrs
}

// FreePorts gives every listener a distinct free port on 127.0.0.1, so tests run
// beside `make up` and beside each other; package freeport says how the ports are
// kept from colliding with other test binaries and outgoing connections.
func (m *Manifest) FreePorts() (Addrs, error) {
	free := func() (string, error) {
		addr, err := freeport.Addr()
		if err != nil {
			return "", fmt.Errorf("manifest: %w", err)
		}
		return addr, nil
	}
	addrs := make(Addrs, len(m.Processes))
	for _, p := range m.Processes {
		var l Listeners
		var err error
		if l.GRPC, err = free(); err != nil {
			return nil, err
		}
		if l.Admin, err = free(); err != nil {
			return nil, err
		}
		for _, e := range p.Edges {
			if l.Edges == nil {
				l.Edges = map[string]string{}
			}
			if l.Edges[e.Name], err = free(); err != nil {
				return nil, err
			}
		}
		addrs[p.Name] = l
	}
	return addrs, nil
}

// Check reports the first listener of the manifest that addrs leaves without an
// address, so a stale addresses file fails at start rather than as a process that
// cannot find its peer.
func (m *Manifest) Check(addrs Addrs) error {
	for _, p := range m.Processes {
		l, ok := addrs[p.Name]
		if !ok {
			return fmt.Errorf("manifest: no addresses for process %q", p.Name)
		}
		if l.GRPC == "" || l.Admin == "" {
			return fmt.Errorf("manifest: process %q lacks its grpc or admin address", p.Name)
		}
		for _, e := range p.Edges {
			if l.Edges[e.Name] == "" {
				return fmt.Errorf("manifest: process %q lacks an address for edge %q", p.Name, e.Name)
			}
		}
	}
	return nil
}

// ReadAddrs reads an addresses file written by WriteFile and checks it covers
// every listener of the manifest.
func (m *Manifest) ReadAddrs(path string) (Addrs, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var addrs Addrs
	if err := json.Unmarshal(raw, &addrs); err != nil {
		return nil, fmt.Errorf("manifest: addresses file %s: %w", path, err)
	}
	if err := m.Check(addrs); err != nil {
		return nil, err
	}
	return addrs, nil
}

// WriteFile stores the addresses as JSON, for the supervisor and for tools that
// must reach the processes of this run.
func (a Addrs) WriteFile(path string) error {
	raw, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

// Of returns the address of a peer reference ("facade", "corebank:edge").
func (a Addrs) Of(peer Peer) (string, bool) {
	l, ok := a[peer.Process]
	if !ok {
		return "", false
	}
	var addr string
	if peer.Listener == "grpc" {
		addr = l.GRPC
	} else {
		addr = l.Edges[peer.Listener]
	}
	return addr, addr != ""
}

// Shared is what every process of one run is given alike.
type Shared struct {
	PKIDir    string // holds <name>.crt, <name>.key and ca.crt (the dev PKI's layout)
	PolicyDir string // holds <name>.json, the authorization policies (deploy/policies)

	// Dependency URLs, handed only to the processes whose needs list them.
	DatabaseURL string
	RedisURL    string
	NATSURL     string

	// ListenHost, when set, replaces the host of a process's own listener addresses
	// (not its peers'). In containers a process binds 0.0.0.0 while its peers dial
	// it by service name; locally both are 127.0.0.1 and this stays empty.
	ListenHost string
}

// ErrMissingDependency is returned when a process needs a dependency whose URL the
// run does not have.
var ErrMissingDependency = errors.New("manifest: dependency URL missing")

// Env builds the environment a process is started with (DESIGN.md section 3): its
// name and listeners, its peers' addresses, its certificate, key and CA, its
// policy, and the URLs of the dependencies it needs, in that order.
func Env(p *Process, addrs Addrs, shared Shared) ([]string, error) {
	if shared.PKIDir == "" || shared.PolicyDir == "" {
		return nil, errors.New("manifest: env: PKI and policy folders are required")
	}
	own, ok := addrs[p.Name]
	if !ok {
		return nil, fmt.Errorf("manifest: env: no addresses for process %q", p.Name)
	}
	listen := func(addr string) (string, error) {
		if shared.ListenHost == "" {
			return addr, nil
		}
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return "", fmt.Errorf("manifest: env: %s: %w", p.Name, err)
		}
		return net.JoinHostPort(shared.ListenHost, port), nil
	}

	env := []string{"ANDES_NAME=" + p.Name}
	add := func(key, addr string) error {
		a, err := listen(addr)
		if err != nil {
			return err
		}
		env = append(env, key+"="+a)
		return nil
	}
	if err := add("ANDES_GRPC_ADDR", own.GRPC); err != nil {
		return nil, err
	}
	if err := add("ANDES_ADMIN_ADDR", own.Admin); err != nil {
		return nil, err
	}
	for _, e := range p.Edges {
		addr, ok := own.Edges[e.Name]
		if !ok {
			return nil, fmt.Errorf("manifest: env: no address for %s edge %q", p.Name, e.Name)
		}
		if err := add(EdgeEnv(e.Name), addr); err != nil {
			return nil, err
		}
	}
	for _, ref := range p.Peers {
		peer := ParsePeer(ref)
		addr, ok := addrs.Of(peer)
		if !ok {
			return nil, fmt.Errorf("manifest: env: %s: no address for peer %q", p.Name, ref)
		}
		env = append(env, PeerEnv(peer)+"="+addr)
	}
	env = append(env,
		"ANDES_TLS_CERT_FILE="+filepath.Join(shared.PKIDir, p.Name+".crt"),
		"ANDES_TLS_KEY_FILE="+filepath.Join(shared.PKIDir, p.Name+".key"),
		"ANDES_TLS_CA_FILE="+filepath.Join(shared.PKIDir, "ca.crt"),
		"ANDES_POLICY_FILE="+filepath.Join(shared.PolicyDir, p.Name+".json"),
	)
	deps := []struct{ need, key, url string }{
		{NeedPostgres, "DATABASE_URL", shared.DatabaseURL},
		{NeedRedis, "REDIS_URL", shared.RedisURL},
		{NeedNATS, "NATS_URL", shared.NATSURL},
	}
	for _, d := range deps {
		if !p.NeedsDep(d.need) {
			continue
		}
		if d.url == "" {
			return nil, fmt.Errorf("%w: %s needs %s but %s is empty", ErrMissingDependency, p.Name, d.need, d.key)
		}
		env = append(env, d.key+"="+d.url)
	}
	return env, nil
}
