package supervisor

import (
	"fmt"
	"path/filepath"

	"github.com/andes-bank/andes/platform/manifest"
)

// Specs lists what the supervisor starts for a manifest: every process except the
// supervisor itself, each from binDir/<name> (the binary is named after the
// process), with base followed by the environment manifest.Env builds, so the
// manifest's values win over a base variable of the same name.
func Specs(m *manifest.Manifest, addrs manifest.Addrs, shared manifest.Shared, binDir string, base []string) ([]Spec, error) {
	var specs []Spec
	for i := range m.Processes {
		p := &m.Processes[i]
		if p.Kind == manifest.KindSupervisor {
			continue
		}
		env, err := manifest.Env(p, addrs, shared)
		if err != nil {
			return nil, fmt.Errorf("supervisor: %w", err)
		}
		specs = append(specs, Spec{
			Name: p.Name,
			Path: filepath.Join(binDir, p.Name),
			Env:  append(append([]string{}, base...), env...),
		})
	}
	return specs, nil
}
