package testenv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/devdeps"
	"github.com/andes-bank/andes/platform/pki/pkitest"
)

// Tests that need another process — a simulator, a peer service — run its main
// as `make up` does: built from the checkout, configured only through its
// environment, on free ports, with a certificate of the test's PKI and its
// deployed policy.
//
//	p := testenv.StartProcess(t, testenv.ProcessSpec{Name: "hsm", Main: "simulators/hsm/cmd/hsm", PKI: pki, Edge: true})
//	p.WaitReady(t)
//	... p.Edge, p.Admin ...

// buildTimeout covers a cold build cache; a hang beyond it is a bug.
const buildTimeout = 15 * time.Minute

// Checkout is the root of the checkout the test runs in (the folder of
// go.work), found from the working directory, which `go test` sets to the
// package's folder.
func Checkout(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := devdeps.FindRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var built struct {
	mu    sync.Mutex
	mains map[string]string // main folder → binary
}

// Build compiles main packages, given as folders under the checkout's root
// (e.g. "simulators/sms/cmd/sms"), and returns their binaries' paths in the
// same order. Each main is built once per test binary; the binaries live in a
// lasting folder of this checkout, where go build leaves an up-to-date binary
// alone, so later test binaries skip the links. Mains of one module are built
// by one go build run in that module, so this works with GOWORK=off as well.
func Build(t testing.TB, mains ...string) []string {
	t.Helper()
	built.mu.Lock()
	defer built.mu.Unlock()
	if built.mains == nil {
		built.mains = map[string]string{}
	}
	root := Checkout(t)
	sum := sha256.Sum256([]byte(root))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	// One folder per checkout: worktrees of the same repository must not run
	// each other's binaries.
	dir := filepath.Join(cache, "andes", "test-bin", hex.EncodeToString(sum[:6]))
	byModule := map[string][]string{}
	var modules []string
	for _, m := range mains {
		if _, ok := built.mains[m]; ok {
			continue
		}
		mod, err := moduleOf(root, m)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := byModule[mod]; !ok {
			modules = append(modules, mod)
		}
		byModule[mod] = append(byModule[mod], m)
	}
	if len(modules) > 0 {
		if err := withLock(dir, func() error {
			for _, mod := range modules {
				if err := goBuild(filepath.Join(root, mod), dir, mod, byModule[mod]); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, mod := range modules {
			for _, m := range byModule[mod] {
				built.mains[m] = filepath.Join(dir, filepath.Base(m))
			}
		}
	}
	bins := make([]string, len(mains))
	for i, m := range mains {
		bins[i] = built.mains[m]
	}
	return bins
}

// moduleOf is the folder, relative to root, of the module holding main: the
// nearest one with a go.mod.
func moduleOf(root, main string) (string, error) {
	for d := filepath.Clean(main); d != "." && d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(root, d, "go.mod")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("testenv: no module holds %s", main)
}

func goBuild(moduleDir, out, module string, mains []string) error {
	args := []string{"build", "-o", out + "/"}
	for _, m := range mains {
		args = append(args, "./"+strings.TrimPrefix(filepath.ToSlash(m), module+"/"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("testenv: go build %s: %v\n%s", strings.Join(mains, " "), err, out)
	}
	return nil
}

// withLock runs f holding the folder's lock, so the test binaries of several
// packages take turns building into it.
func withLock(dir string, f func() error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	return f()
}

// ProcessSpec says which process to start and how.
type ProcessSpec struct {
	// Name is the process's manifest name: ANDES_NAME, its certificate's
	// identity and its policy file (deploy/policies/<name>.json).
	Name string
	// Main is the folder of its main under the checkout's root.
	Main string
	// PKI issues its certificate.
	PKI *pkitest.PKI
	// Edge gives it an edge listener (ANDES_EDGE_ADDR).
	Edge bool
	// Env is the rest of its environment: DATABASE_URL, peers' addresses,
	// settings. PATH and HOME come from the test's.
	Env []string
}

// Process is a process a test started; it stops when the test ends.
type Process struct {
	Name              string
	GRPC, Admin, Edge string // listener addresses; Edge is empty without one
	log               string
	exited            chan struct{}
}

// StartProcess builds the spec's main (once per test binary) and starts it with
// the environment the manifest would give it, its output in a log file. It does
// not wait for the process to be ready: start the peers together, then wait for
// each. When the test ends the process gets SIGTERM (SIGKILL if it lingers);
// when the test failed, the tail of its log is logged.
func StartProcess(t testing.TB, s ProcessSpec) *Process {
	t.Helper()
	bin := Build(t, s.Main)[0]
	root := Checkout(t)
	s.PKI.Issue(t, s.Name)
	p := &Process{Name: s.Name, GRPC: FreeAddr(t), Admin: FreeAddr(t), log: filepath.Join(t.TempDir(), s.Name+".log"),
		exited: make(chan struct{})}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"ANDES_NAME=" + s.Name, "ANDES_GRPC_ADDR=" + p.GRPC, "ANDES_ADMIN_ADDR=" + p.Admin,
		"ANDES_TLS_CERT_FILE=" + s.PKI.Dir.CertFile(s.Name), "ANDES_TLS_KEY_FILE=" + s.PKI.Dir.KeyFile(s.Name),
		"ANDES_TLS_CA_FILE=" + s.PKI.Dir.CAFile(), "ANDES_POLICY_FILE=" + filepath.Join(root, "deploy", "policies", s.Name+".json")}
	if s.Edge {
		p.Edge = FreeAddr(t)
		env = append(env, "ANDES_EDGE_ADDR="+p.Edge)
	}
	env = append(env, s.Env...)
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logf, logf
	// Its own process group, and killed with the test binary's thread that
	// started it: a test binary that dies leaves no process behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-p.exited
		}
		logf.Close()
		if t.Failed() {
			t.Logf("%s log (tail):\n%s", p.Name, p.Tail(40))
		}
	})
	return p
}

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Tail is the last n lines the process wrote.
func (p *Process) Tail(n int) string {
	raw, _ := os.ReadFile(p.log)
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// readyTimeout covers a loaded machine starting several processes at once.
const readyTimeout = 3 * time.Minute

// WaitReady waits until the process's admin listener answers /readyz with 200;
// a process that exits first fails the test with its log.
func (p *Process) WaitReady(t testing.TB) {
	t.Helper()
	Eventually(t, readyTimeout, p.Name+" ready", func() bool {
		select {
		case <-p.exited:
			t.Fatalf("%s exited:\n%s", p.Name, p.Tail(40))
		default:
		}
		return ready(p.Admin)
	})
}

// WaitReady waits until the admin listener at admin, of a process the test
// runs in its own binary, answers /readyz with 200.
func WaitReady(t testing.TB, name, admin string) {
	t.Helper()
	Eventually(t, readyTimeout, name+" ready", func() bool { return ready(admin) })
}

func ready(admin string) bool {
	resp, err := http.Get("http://" + admin + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Eventually polls cond every 20 ms until it holds, and fails the test after
// timeout: a generous bound against a hang, never a statement about speed.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
