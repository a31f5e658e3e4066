// Package platformtest starts the whole platform for a test the way `make up`
// does — every main of the manifest built, the dev PKI, private PostgreSQL, Redis
// and NATS, the supervisor in front — on free ports, so end-to-end tests (the
// supervisor's promises, journeys through the gateways) run against real
// processes over real transports.
//
//	p := platformtest.Up(t)                       // every process SERVING
//	conn := p.Dial(t, "controller", "operator")   // gRPC + mTLS as an identity
//	url := "http://" + p.Edge("bff-partner", "")  // an edge listener
//
// Building every binary (testenv.Build) takes a while the first time; the Go
// build cache and the lasting folder of binaries make later runs quick.
package platformtest

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"

	supervisorv1 "github.com/andes-bank/andes/gen/andes/supervisor/v1"
	"github.com/andes-bank/andes/monitor/probe"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/devdeps"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/pki"
	"github.com/andes-bank/andes/platform/redisconn"
	"github.com/andes-bank/andes/platform/testenv"
)

// Generous bounds against hangs, never assertions about speed.
const (
	upTimeout = 3 * time.Minute
	// StepTimeout bounds one step of a test: a restart, a state change.
	StepTimeout = time.Minute
)

// Run is what every start of the platform in a test shares: binaries, PKI,
// addresses and dependencies, as `make up` prepares them.
type Run struct {
	Root, BinDir, LogDir, PKIDir, AddrsFile string
	Manifest                                *manifest.Manifest
	Addrs                                   manifest.Addrs
	Env                                     []string
	Demo                                    *demo.Dataset
}

// Up prepares a run, starts the supervisor and waits until every process is
// SERVING; the platform stops when the test ends.
func Up(t testing.TB) *Platform {
	t.Helper()
	r := NewRun(t)
	p := r.Start(t)
	p.WaitServing(t)
	return p
}

// NewRun builds the binaries (once per test binary), issues the PKI, picks free
// ports and makes a fresh database; nothing runs yet.
func NewRun(t testing.TB) *Run {
	t.Helper()
	wd, _ := os.Getwd()
	manifestFile, err := manifest.Find(wd)
	if err != nil {
		t.Fatal(err)
	}
	r := &Run{Root: filepath.Dir(filepath.Dir(manifestFile))}
	if r.Manifest, err = manifest.Load(manifestFile); err != nil {
		t.Fatal(err)
	}
	demoFile := filepath.Join(r.Root, "deploy", "demo", "demo.yaml")
	if r.Demo, err = demo.Load(demoFile); err != nil {
		t.Fatal(err)
	}
	mains := make([]string, len(r.Manifest.Processes))
	for i, p := range r.Manifest.Processes {
		mains[i] = strings.TrimPrefix(p.Main, "./")
	}
	bins := testenv.Build(t, mains...)
	dir := t.TempDir()
	// Each run gets its own copy of the binaries, in a folder removed when the test
	// ends, so a test may break a binary.
	r.BinDir, r.LogDir, r.PKIDir = filepath.Join(dir, "bin"), filepath.Join(dir, "logs"), filepath.Join(dir, "pki")
	if err := os.MkdirAll(r.BinDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", append(append([]string{"-a"}, bins...), r.BinDir+"/")...).CombinedOutput(); err != nil {
		t.Fatalf("copying the binaries: %v\n%s", err, out)
	}
	if err := pki.Ensure(r.PKIDir, r.Manifest); err != nil {
		t.Fatal(err)
	}
	if r.Addrs, err = r.Manifest.FreePorts(); err != nil {
		t.Fatal(err)
	}
	r.AddrsFile = filepath.Join(dir, "addrs.json")
	if err := r.Addrs.WriteFile(r.AddrsFile); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	urls, err := testenv.Deps(ctx, devdeps.Redis, devdeps.NATS)
	if err != nil {
		t.Fatal(err)
	}
	db, err := testenv.NewDatabase(ctx, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), StepTimeout)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Error(err)
		}
	})
	redisURL := ownRedisDB(ctx, t, urls.RedisURL)
	r.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"DATABASE_URL=" + db.URL,
		"REDIS_URL=" + redisURL,
		"NATS_URL=" + urls.NATSURL,
		"ANDES_DEMO_FILE=" + demoFile,
	}
	return r
}

// ownRedisDB claims one of Redis's numbered databases for the run and empties it:
// the processes' keys (the facade's snapshots, auth's tokens, rate-limit buckets)
// are the same in every run, so two runs side by side, or a run after an earlier
// one, must not share them. Database 0 is left to package testenv's prefixed keys
// and 11 to the controller's tests; the claim is a lock file held until the test
// binary exits.
func ownRedisDB(ctx context.Context, t testing.TB, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	dir := filepath.Join(os.TempDir(), "andes-redis-db")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for n := 1; n < 16; n++ {
		if n == 11 {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(n)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		t.Cleanup(func() { f.Close() })
		u.Path = "/" + strconv.Itoa(n)
		rdb, err := redisconn.Open(ctx, redisconn.Config{URL: u.String()})
		if err != nil {
			t.Fatal(err)
		}
		defer rdb.Close()
		if err := rdb.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		return u.String()
	}
	t.Fatal("every Redis database is claimed by another run")
	return ""
}

// Edge is the address of a process's edge listener; name may be empty when the
// process has one edge.
func (r *Run) Edge(t testing.TB, process, name string) string {
	t.Helper()
	edges := r.Addrs[process].Edges
	if name == "" && len(edges) == 1 {
		for _, addr := range edges {
			return addr
		}
	}
	addr, ok := edges[name]
	if !ok {
		names := make([]string, 0, len(edges))
		for n := range edges {
			names = append(names, n)
		}
		sort.Strings(names)
		t.Fatalf("%s has no edge %q (it has %v)", process, name, names)
	}
	return addr
}

// Identity loads the credentials of a workload or of the operator.
func (r *Run) Identity(t testing.TB, name string) *pki.Credentials {
	t.Helper()
	d := pki.Dir(r.PKIDir)
	creds, err := pki.Load(d.CertFile(name), d.KeyFile(name), d.CAFile(), r.Manifest.TrustDomain)
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

// Dial opens a gRPC connection with mutual TLS to process's internal listener, as
// identity (a process name or "operator"); closed when the test ends.
func (r *Run) Dial(t testing.TB, process, identity string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpcclient.New(r.Addrs[process].GRPC, grpcclient.Options{Credentials: r.Identity(t, identity), Peer: process})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// BreakConfig replaces the process's binary with one that starts the real
// binary with a broken variable, and returns where the real one went.
func (r *Run) BreakConfig(t testing.TB, name, variable string) string {
	t.Helper()
	bin := filepath.Join(r.BinDir, name)
	real := bin + ".real"
	if err := os.Rename(bin, real); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nexport " + variable + "\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return real
}

// Repair undoes BreakConfig.
func (r *Run) Repair(t testing.TB, name, real string) {
	t.Helper()
	if err := os.Rename(real, filepath.Join(r.BinDir, name)); err != nil {
		t.Fatal(err)
	}
}

// Log is what a process wrote so far.
func (r *Run) Log(t testing.TB, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(r.LogDir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// Platform is one running supervisor and its children.
type Platform struct {
	*Run
	Cmd     *exec.Cmd
	started time.Time
	exited  chan error
	done    bool
	output  *bytes.Buffer
	api     supervisorv1.SupervisorServiceClient
}

// Start runs the supervisor over the run's binaries, as scripts/up.sh does; it is
// stopped with SIGTERM when the test ends, and its output logged if the test failed.
func (r *Run) Start(t testing.TB) *Platform {
	t.Helper()
	var mu sync.Mutex
	p := &Platform{Run: r, exited: make(chan error, 1), output: &bytes.Buffer{}}
	p.Cmd = exec.Command(filepath.Join(r.BinDir, "supervisor"),
		"-manifest", filepath.Join(r.Root, "deploy", "manifest.yaml"),
		"-bin", r.BinDir, "-logs", r.LogDir, "-pki", r.PKIDir, "-addrs", r.AddrsFile)
	p.Cmd.Env = r.Env
	// A test binary killed by its timeout runs no cleanup: the supervisor hears
	// SIGTERM when the test binary dies and stops the platform, instead of 21
	// processes living on (seen after a timed-out run).
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	p.Cmd.Stdout, p.Cmd.Stderr = lockedWriter{&mu, p.output}, lockedWriter{&mu, p.output}
	p.started = time.Now()
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.Cmd.Wait() }()
	conn, err := grpcclient.New(r.Addrs["supervisor"].GRPC, grpcclient.Options{Credentials: r.Identity(t, "monitor"), Peer: "supervisor"})
	if err != nil {
		t.Fatal(err)
	}
	p.api = supervisorv1.NewSupervisorServiceClient(conn)
	t.Cleanup(func() {
		conn.Close()
		if !p.done {
			_ = p.Cmd.Process.Signal(syscall.SIGTERM)
			_ = p.Wait(t)
		}
		if t.Failed() {
			mu.Lock()
			t.Logf("supervisor output:\n%s", p.output)
			mu.Unlock()
		}
	})
	return p
}

// Wait waits for the supervisor to exit and returns how it ended.
func (p *Platform) Wait(t testing.TB) error {
	t.Helper()
	if p.done {
		return nil
	}
	select {
	case err := <-p.exited:
		p.done = true
		return err
	case <-time.After(StepTimeout):
		_ = p.Cmd.Process.Kill()
		p.done = true
		t.Fatal("the supervisor did not stop")
		return nil
	}
}

// WaitServing waits until every process of the manifest answers SERVING to the
// operator, and returns how long that took from the supervisor's start.
func (p *Platform) WaitServing(t testing.TB) time.Duration {
	t.Helper()
	creds := p.Identity(t, "operator")
	ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
	defer cancel()
	results := probe.Wait(ctx, creds, p.Manifest, p.Addrs, 100*time.Millisecond)
	took := time.Since(p.started)
	if !probe.AllServing(results) {
		for _, res := range results {
			if !res.Serving() {
				t.Errorf("%s: %s %v", res.Name, res.Status, res.Err)
			}
		}
		t.FailNow()
	}
	t.Logf("every process SERVING %.2fs after the supervisor started", took.Seconds())
	return took
}

// WaitOneServing waits until one process answers SERVING.
func (p *Platform) WaitOneServing(t testing.TB, name string) {
	t.Helper()
	creds := p.Identity(t, "operator")
	WaitFor(t, StepTimeout, name+" SERVING", func() bool {
		return probe.Check(context.Background(), creds, name, p.Addrs[name].GRPC).Serving()
	})
}

// Supervisor is the client of the supervisor's API, with the monitor's identity,
// the one its policy lets in.
func (p *Platform) Supervisor() supervisorv1.SupervisorServiceClient { return p.api }

// List is every process the supervisor runs.
func (p *Platform) List(t testing.TB) []*supervisorv1.Process {
	t.Helper()
	out, err := p.api.ListProcesses(context.Background(), &supervisorv1.ListProcessesRequest{}, grpc.WaitForReady(true))
	if err != nil {
		t.Fatal(err)
	}
	return out.GetProcesses()
}

// Process is one process as the supervisor sees it.
func (p *Platform) Process(t testing.TB, name string) *supervisorv1.Process {
	t.Helper()
	for _, pr := range p.List(t) {
		if pr.GetName() == name {
			return pr
		}
	}
	t.Fatalf("the supervisor does not list %s", name)
	return nil
}

// WaitState polls the process until ok holds.
func (p *Platform) WaitState(t testing.TB, name string, ok func(*supervisorv1.Process) bool) *supervisorv1.Process {
	t.Helper()
	var last *supervisorv1.Process
	WaitFor(t, StepTimeout, name+" to change state", func() bool {
		last = p.Process(t, name)
		return ok(last)
	})
	return last
}

// ChildPIDs lists every running child, by name; every supervised process must be
// running.
func (p *Platform) ChildPIDs(t testing.TB) map[string]int {
	t.Helper()
	pids := map[string]int{}
	for _, pr := range p.List(t) {
		if pr.GetPid() == 0 {
			t.Fatalf("%s is not running: %v", pr.GetName(), pr)
		}
		pids[pr.GetName()] = int(pr.GetPid())
	}
	if len(pids) != len(p.Manifest.Processes)-1 {
		t.Fatalf("the supervisor runs %d processes, the manifest lists %d besides it", len(pids), len(p.Manifest.Processes)-1)
	}
	return pids
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// WaitFor polls cond until it holds, failing the test after timeout
// (testenv.Eventually, under the name the end-to-end tests use).
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, timeout, what, cond)
}
