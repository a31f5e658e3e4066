package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/testenv"
)

// bins holds the supervisor binary and the test child, built once.
var bins struct{ supervisor, child string }

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "supervisor-main-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bins.supervisor = filepath.Join(dir, "supervisor")
	bins.child = filepath.Join(dir, "child")
	for out, pkg := range map[string]string{bins.supervisor: ".", bins.child: "../../supervisor/testdata/child"} {
		build := exec.Command("go", "build", "-o", out, pkg)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", pkg+":", err)
			return 1
		}
	}
	return m.Run()
}

// A manifest of two sleeping children and the supervisor itself, plus the
// identities that call the supervisor's API. The children do not listen; the
// supervisor gets free ports from an addresses file.
const testManifest = `trust_domain: andes.local
processes:
  - {name: alpha, kind: service, main: ./x/alpha, grpc: 17001, admin: 17002}
  - name: beta
    kind: simulator
    main: ./x/beta
    grpc: 17003
    admin: 17004
    edges: [{name: edge, port: 17005, protocol: http}]
    peers: [alpha]
    needs: [redis]
  - {name: supervisor, kind: supervisor, main: ./monitor/cmd/supervisor, grpc: 17006, admin: 17007}
identities:
  - name: monitor
  - name: operator
`

type platform struct {
	t      *testing.T
	root   string
	cmd    *exec.Cmd
	logDir string
	addrs  manifest.Addrs
	stderr *syncBuffer
	exited chan error
}

// startSupervisor runs the real binary over the test manifest, as `make up`
// would, with the repository's policy for its own API.
func startSupervisor(t *testing.T, args ...string) *platform {
	t.Helper()
	root := t.TempDir()
	deploy := filepath.Join(root, "deploy")
	binDir := filepath.Join(root, "bin")
	for _, d := range []string{filepath.Join(deploy, "policies"), binDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(deploy, "manifest.yaml"), []byte(testManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	policy, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "policies", "supervisor.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(deploy, "policies", "supervisor.json"), policy, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alpha", "beta"} {
		if err := os.Symlink(bins.child, filepath.Join(binDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := manifest.Parse([]byte(testManifest))
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := m.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	addrsFile := filepath.Join(root, "addrs.json")
	if err := addrs.WriteFile(addrsFile); err != nil {
		t.Fatal(err)
	}
	p := &platform{t: t, root: root, logDir: filepath.Join(root, "logs"), addrs: addrs, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bins.supervisor, append([]string{"-bin", binDir, "-logs", p.logDir, "-addrs", addrsFile}, args...)...)
	p.cmd.Dir = root // the manifest is found from the working folder
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "REDIS_URL=redis://127.0.0.1:1", "DATABASE_URL=postgres://secret"}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("supervisor stderr:\n%s", p.stderr)
		}
	})
	return p
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, _ := os.Getwd()
	path, err := manifest.Find(wd)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(path))
}

// syncBuffer is a bytes.Buffer the supervisor's output can be written to while
// a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var pidLine = regexp.MustCompile(`(?m)^child pid (\d+)$`)

// pids waits until every named child has written its first line, and returns the
// pids found in their logs.
func (p *platform) pids(names ...string) []int {
	p.t.Helper()
	var pids []int
	for _, name := range names {
		var found [][]byte
		testenv.Eventually(p.t, 10*time.Second, name+" to start", func() bool {
			raw, _ := os.ReadFile(filepath.Join(p.logDir, name+".log"))
			found = nil
			for _, m := range pidLine.FindAllSubmatch(raw, -1) {
				found = append(found, m[1])
			}
			return len(found) > 0
		})
		for _, f := range found {
			pid, _ := strconv.Atoi(string(f))
			pids = append(pids, pid)
		}
	}
	return pids
}

// readyLog waits until the child has printed its whole environment ("child ready"
// comes after the last "child env" line) and returns its log.
func (p *platform) readyLog(name string) string {
	p.t.Helper()
	var raw []byte
	testenv.Eventually(p.t, 10*time.Second, name+" to be ready", func() bool {
		raw, _ = os.ReadFile(filepath.Join(p.logDir, name+".log"))
		return bytes.Contains(raw, []byte("child ready\n"))
	})
	return string(raw)
}

func (p *platform) log(name string) string {
	raw, err := os.ReadFile(filepath.Join(p.logDir, name+".log"))
	if err != nil {
		p.t.Fatal(err)
	}
	return string(raw)
}

func TestSIGTERMStopsEveryChild(t *testing.T) {
	p := startSupervisor(t)
	pids := p.pids("alpha", "beta")

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("supervisor ended with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("supervisor did not stop")
	}
	p.exited <- nil // for the cleanup
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("child %d alive after the supervisor stopped", pid)
		}
	}
}

func TestSIGKILLOfTheSupervisorLeavesNoChild(t *testing.T) {
	p := startSupervisor(t)
	pids := p.pids("alpha", "beta")

	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Pdeathsig, not the supervisor, ends the children now.
	for _, pid := range pids {
		testenv.Eventually(t, 10*time.Second, fmt.Sprintf("child %d to die", pid), func() bool { return !alive(pid) })
	}
}

func TestChildrenGetTheManifestEnvironmentOnly(t *testing.T) {
	p := startSupervisor(t)
	beta, alpha := p.readyLog("beta"), p.readyLog("alpha")
	for _, want := range []string{
		"child env ANDES_NAME=beta",
		"child env ANDES_GRPC_ADDR=" + p.addrs["beta"].GRPC,
		"child env ANDES_EDGE_ADDR=" + p.addrs["beta"].Edges["edge"],
		"child env ANDES_ALPHA_ADDR=" + p.addrs["alpha"].GRPC,
		"child env ANDES_TLS_CA_FILE=" + filepath.Join(p.root, ".run", "pki", "ca.crt"),
		"child env ANDES_POLICY_FILE=" + filepath.Join(p.root, "deploy", "policies", "beta.json"),
	} {
		if !strings.Contains(beta, want+"\n") {
			t.Errorf("beta's log lacks %q:\n%s", want, beta)
		}
	}
	if strings.Contains(alpha, "secret") || strings.Contains(beta, "secret") {
		t.Error("a child that does not need PostgreSQL was given DATABASE_URL")
	}
}

func TestChoose(t *testing.T) {
	procs := []manifest.Process{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "supervisor", Kind: manifest.KindSupervisor}}
	names := func(ps []manifest.Process) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return strings.Join(out, ",")
	}
	for which, want := range map[string]string{"all": "a,b,c,supervisor", "none": "", "c,a": "a,c", "b": "b"} {
		got, err := choose(procs, which)
		if err != nil || names(got) != want {
			t.Errorf("choose(%q) = %q, %v; want %q", which, names(got), err, want)
		}
	}
	for _, bad := range []string{"", "d", "a,,b", "supervisor"} {
		if _, err := choose(procs, bad); err == nil {
			t.Errorf("choose(%q) accepted", bad)
		}
	}
}

func TestFlagsOverrideEnvironmentOverDefaults(t *testing.T) {
	env := map[string]string{"ANDES_MANIFEST_FILE": "/repo/deploy/manifest.yaml", "ANDES_LOG_DIR": "/env/logs", "ANDES_BIN_DIR": "/env/bin"}
	c, err := parseConfig([]string{"-bin", "/flag/bin"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := options{
		manifestFile: "/repo/deploy/manifest.yaml",
		binDir:       "/flag/bin",
		logDir:       "/env/logs",
		pkiDir:       "/repo/.run/pki",
		policyDir:    "/repo/deploy/policies",
		supervise:    "all",
	}
	if c != want {
		t.Errorf("config = %+v\nwant     %+v", c, want)
	}
}

func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// A zombie is dead: it waits only for a reaper, which may not exist in a container.
	rest := raw[bytes.LastIndexByte(raw, ')')+1:]
	return !bytes.HasPrefix(bytes.TrimSpace(rest), []byte("Z"))
}

// In containers the supervisor runs none of the processes, and so needs none of
// their dependencies' URLs; its own listeners, certificate and policy come from
// the environment, as docker-compose.yml gives them.
func TestSupervisingNoneNeedsNoDependencies(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	certs := pkitest.New(t, "supervisor")
	env := map[string]string{
		"ANDES_SUPERVISED":    "none",
		"ANDES_LOG_DIR":       t.TempDir(),
		"ANDES_PKI_DIR":       filepath.Join(t.TempDir(), "never-made"),
		"ANDES_GRPC_ADDR":     "127.0.0.1:0",
		"ANDES_ADMIN_ADDR":    "127.0.0.1:0",
		"ANDES_TLS_CERT_FILE": certs.Dir.CertFile("supervisor"),
		"ANDES_TLS_KEY_FILE":  certs.Dir.KeyFile("supervisor"),
		"ANDES_TLS_CA_FILE":   certs.Dir.CAFile(),
	}
	var stderr syncBuffer
	if err := run(ctx, nil, func(k string) string { return env[k] }, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "processes=0") {
		t.Errorf("supervised something:\n%s", stderr.String())
	}
	if _, err := os.Stat(env["ANDES_PKI_DIR"]); !os.IsNotExist(err) {
		t.Errorf("a supervisor running nothing made a PKI: %v", err)
	}
}

func TestThePIDFileNamesTheRunningSupervisorOnly(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "supervisor.pid")
	p := startSupervisor(t, "-pidfile", pidFile)
	p.pids("alpha")
	raw, err := os.ReadFile(pidFile)
	if err != nil || strings.TrimSpace(string(raw)) != strconv.Itoa(p.cmd.Process.Pid) {
		t.Fatalf("pid file holds %q (%v), want %d", raw, err, p.cmd.Process.Pid)
	}

	second := exec.Command(bins.supervisor, "-pidfile", pidFile, "-supervise", "none")
	second.Dir = p.root
	out, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another supervisor runs") {
		t.Errorf("a second supervisor over the same pid file: %v\n%s", err, out)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-p.exited; err != nil {
		t.Fatalf("supervisor ended with %v", err)
	}
	p.exited <- nil // for the cleanup
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
}
