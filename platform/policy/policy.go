// Package policy is the authorization policy of a process's internal gRPC listener,
// in the JSON form google.golang.org/grpc/authz enforces (the in-process form of an
// Istio AuthorizationPolicy): deny by default, allow rules naming callers by SPIFFE
// id and methods by path. The files live in deploy/policies/<process>.json.
//
// Paths match exactly, or by prefix when they end in "*" ("/andes.facade.v1.*"),
// or by suffix when they start with "*". Principals are matched against the URI
// SAN of the caller's certificate (spiffe://andes.local/<name>).
//
// Conventions the default policies follow, so that a wildcard never grants too
// much:
//   - a process's internal API is every service of package andes.<domain>.v1,
//     where domain is the process name without dashes: "/andes.facade.v1.*";
//   - admin methods live in a package of their own, andes.<domain>.admin.v1, or in
//     the platform-wide andes.admin.v1, so the internal API's wildcard does not
//     reach them; only the operator gets them.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/grpc/authz"

	"github.com/andes-bank/andes/platform/manifest"
)

// Identities with standing rights on every process.
const (
	Operator   = "operator"   // people through bankctl: health, reflection, admin
	Supervisor = "supervisor" // starts processes and waits for them to be healthy
	Monitor    = "monitor"    // probes health
)

// Paths of the standard services every listener serves.
const (
	HealthPaths          = "/grpc.health.v1.Health/*"
	ReflectionPaths      = "/grpc.reflection.v1.ServerReflection/*"
	ReflectionAlphaPaths = "/grpc.reflection.v1alpha.ServerReflection/*"
	PlatformAdminPaths   = "/andes.admin.v1.*"
)

// Policy is one process's policy.
type Policy struct {
	Name       string `json:"name"`
	DenyRules  []Rule `json:"deny_rules,omitempty"`
	AllowRules []Rule `json:"allow_rules"`
}

// Rule grants (or, among deny rules, refuses) the requests it matches.
type Rule struct {
	Name    string   `json:"name"`
	Source  *Source  `json:"source,omitempty"`
	Request *Request `json:"request,omitempty"`
}

// Source says who; no principals means any authenticated caller.
type Source struct {
	Principals []string `json:"principals,omitempty"`
}

// Request says which calls.
type Request struct {
	Paths   []string `json:"paths,omitempty"`
	Headers []Header `json:"headers,omitempty"`
}

// Header matches request metadata.
type Header struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// Parse decodes a policy, refusing unknown fields (a misspelt "allow_rule" would
// otherwise silently deny everything), and checks that authz accepts it.
func Parse(raw []byte) (*Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if _, err := authz.NewStatic(string(raw)); err != nil {
		return nil, fmt.Errorf("policy %q: %w", p.Name, err)
	}
	return &p, nil
}

// Load reads and parses a policy file.
func Load(path string) (*Policy, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(raw)
}

// JSON renders the policy as authz reads it.
func (p *Policy) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return append(b, '\n'), nil
}

// File is where a process's policy lives in the repository.
func File(repoRoot, name string) string {
	return filepath.Join(repoRoot, "deploy", "policies", name+".json")
}

// InternalAPIPaths is the path pattern of a process's internal API.
func InternalAPIPaths(process string) string {
	return "/andes." + domain(process) + ".v1.*"
}

// AdminPaths is the path pattern of a process's own admin methods.
func AdminPaths(process string) string {
	return "/andes." + domain(process) + ".admin.v1.*"
}

func domain(process string) string { return strings.ReplaceAll(process, "-", "") }

// Default is the policy the manifest implies for a process: the operator gets
// health, reflection and admin methods; the supervisor and the monitor get health;
// every process that lists it as a gRPC peer gets its internal API. Anything more
// (a read-only support method for the operator) is added by hand to the file.
func Default(m *manifest.Manifest, name string) (*Policy, error) {
	if m.Process(name) == nil {
		return nil, fmt.Errorf("policy: %q is not a process of the manifest", name)
	}
	id := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = m.SPIFFEID(n)
		}
		return out
	}
	p := &Policy{Name: name}
	p.AllowRules = append(p.AllowRules,
		Rule{
			Name:    "health",
			Source:  &Source{Principals: id(Operator, Supervisor, Monitor)},
			Request: &Request{Paths: []string{HealthPaths}},
		},
		Rule{
			Name:   "operator",
			Source: &Source{Principals: id(Operator)},
			Request: &Request{Paths: []string{
				ReflectionPaths, ReflectionAlphaPaths, PlatformAdminPaths, AdminPaths(name),
			}},
		},
	)
	var callers []string
	for _, caller := range m.Processes {
		for _, ref := range caller.Peers {
			if peer := manifest.ParsePeer(ref); peer.Process == name && peer.Listener == "grpc" {
				callers = append(callers, caller.Name)
			}
		}
	}
	if len(callers) > 0 {
		slices.Sort(callers)
		p.AllowRules = append(p.AllowRules, Rule{
			Name:    "internal-api",
			Source:  &Source{Principals: id(callers...)},
			Request: &Request{Paths: []string{InternalAPIPaths(name)}},
		})
	}
	return p, nil
}

// Covers reports the first rule of want that p does not grant at least as broadly
// (a rule of the same name with every principal and path of want's), so a
// hand-edited file can add grants but not lose the ones the manifest implies.
func (p *Policy) Covers(want *Policy) error {
	for _, w := range want.AllowRules {
		i := slices.IndexFunc(p.AllowRules, func(r Rule) bool { return r.Name == w.Name })
		if i < 0 {
			return fmt.Errorf("policy %q lacks allow rule %q", p.Name, w.Name)
		}
		r := p.AllowRules[i]
		if w.Source != nil {
			if r.Source != nil && len(r.Source.Principals) > 0 {
				for _, pr := range w.Source.Principals {
					if !slices.Contains(r.Source.Principals, pr) {
						return fmt.Errorf("policy %q: rule %q does not grant %s", p.Name, w.Name, pr)
					}
				}
			}
		}
		if w.Request != nil && r.Request != nil && len(r.Request.Paths) > 0 {
			for _, path := range w.Request.Paths {
				if !slices.Contains(r.Request.Paths, path) {
					return fmt.Errorf("policy %q: rule %q does not grant %s", p.Name, w.Name, path)
				}
			}
		}
	}
	return nil
}
