package demo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Every process that seeds demo data finds the demo bank the same way: the file
// ANDES_DEMO_FILE names, or else the checkout's deploy/demo/demo.yaml, looked for
// from the working folder upwards (make up, the supervisor and tests start
// processes from different folders of the checkout).

// Find looks for deploy/demo/demo.yaml from dir upwards, the way manifest.Find
// looks for the manifest.
func Find(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; {
		p := filepath.Join(d, "deploy", "demo", "demo.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("demo: no deploy/demo/demo.yaml above %s", abs)
		}
		d = parent
	}
}

// ErrNoDemoBank says no demo file was named and the working folder is not in a
// checkout: the process warns and seeds nothing.
var ErrNoDemoBank = errors.New("demo: no ANDES_DEMO_FILE and no deploy/demo/demo.yaml above the working folder")

// Open loads the demo bank a process seeds: the file at path, or when path is
// empty the checkout's (ErrNoDemoBank without one).
func Open(path string) (*Dataset, error) {
	if path == "" {
		found, err := Find(".")
		if err != nil {
			return nil, ErrNoDemoBank
		}
		path = found
	}
	return Load(path)
}
