// Package e2e starts the whole platform the way `make up` does — every main of
// the manifest built, the dev PKI, private PostgreSQL, Redis and NATS, the
// supervisor in front — on free ports, and checks what the supervisor promises:
// every process SERVING over mutual TLS, a killed process restarted, a process
// that crashes at start braked and reported, and no child left alive however the
// supervisor ends.
//
// It builds every binary, so it takes a while; -short skips it.
package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"

	supervisorv1 "github.com/andes-bank/andes/gen/andes/supervisor/v1"
	"github.com/andes-bank/andes/monitor/probe"
	"github.com/andes-bank/andes/platform/devdeps"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/pki"
	"github.com/andes-bank/andes/platform/testenv"
)

// upToServing makes TestUpToServing measure one start and print it for `make bench`.
var upToServing = flag.Bool("up-to-serving", false, "measure the time from starting the supervisor to every process SERVING, print it as a BENCH line")

// Generous bounds against hangs, never assertions about speed.
const (
	buildTimeout = 15 * time.Minute
	upTimeout    = 3 * time.Minute
	stepTimeout  = time.Minute
)

func TestPlatform(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts every process; skipped under -short")
	}
	r := newRun(t)
	p := r.start(t)
	p.waitServing(t)

	t.Run("a process killed with SIGKILL is restarted and SERVING again", func(t *testing.T) {
		const victim = "customer"
		before := p.process(t, victim)
		if err := syscall.Kill(int(before.GetPid()), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		after := p.waitState(t, victim, func(pr *supervisorv1.Process) bool {
			return pr.GetPid() != 0 && pr.GetPid() != before.GetPid()
		})
		if after.GetRestarts() != before.GetRestarts()+1 || after.GetLastExit().GetSignal() != "SIGKILL" {
			t.Errorf("after the kill: %v; before: %v", after, before)
		}
		p.waitOneServing(t, victim)
	})

	t.Run("a process that crashes at start is braked, reported and redeployed", func(t *testing.T) {
		const victim = "sms"
		real := r.breakConfig(t, victim, "ANDES_LOG_LEVEL=LOUD")
		before := p.process(t, victim)
		if err := syscall.Kill(int(before.GetPid()), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		crashed := p.waitState(t, victim, func(pr *supervisorv1.Process) bool {
			return pr.GetState() == supervisorv1.ProcessState_PROCESS_STATE_CRASH_LOOP
		})
		// The kill and four failed starts make the five exits of the brake; a
		// fifth start would have counted one more restart.
		if got, want := crashed.GetRestarts()-before.GetRestarts(), int32(4); got != want || crashed.GetPid() != 0 {
			t.Errorf("crash loop after %d restarts (pid %d), want %d", got, crashed.GetPid(), want)
		}
		if log := r.log(t, victim); !strings.Contains(log, "ANDES_LOG_LEVEL") {
			t.Errorf("the log of %s does not name the broken variable:\n%s", victim, log)
		}

		r.repair(t, victim, real)
		resp, err := p.supervisor(t).RestartProcess(context.Background(), &supervisorv1.RestartProcessRequest{
			IdempotencyKey: "e2e-redeploy-" + victim, Name: victim, Reason: "config repaired",
		})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetProcess().GetState() == supervisorv1.ProcessState_PROCESS_STATE_CRASH_LOOP {
			t.Errorf("still in crash loop after the redeploy: %v", resp.GetProcess())
		}
		p.waitOneServing(t, victim)
	})

	t.Run("stopping the supervisor leaves no child alive", func(t *testing.T) {
		pids := p.childPIDs(t)
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := p.wait(t); err != nil {
			t.Errorf("supervisor ended with %v", err)
		}
		for name, pid := range pids {
			if alive(pid) {
				t.Errorf("%s (pid %d) alive after the supervisor stopped", name, pid)
			}
		}
	})

	t.Run("killing the supervisor with SIGKILL leaves no child alive", func(t *testing.T) {
		p := r.start(t)
		p.waitServing(t)
		pids := p.childPIDs(t)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = p.wait(t)
		// Pdeathsig, not the supervisor, ends the children now.
		for name, pid := range pids {
			waitFor(t, stepTimeout, fmt.Sprintf("%s (pid %d) to die", name, pid), func() bool { return !alive(pid) })
		}
	})
}

// TestUpToServing measures what `make bench` reports as platform.up_to_serving:
// from starting the supervisor over built binaries and running dependencies to
// every process of the manifest SERVING.
func TestUpToServing(t *testing.T) {
	if !*upToServing {
		t.Skip("run with -up-to-serving (make bench does)")
	}
	r := newRun(t)
	p := r.start(t)
	took := p.waitServing(t)
	fmt.Printf("BENCH platform.up_to_serving %.2f s\n", took.Seconds())
}

// run is what every start of the platform in a test shares: binaries, PKI,
// addresses and dependencies, as `make up` prepares them.
type run struct {
	root, binDir, logDir, pkiDir, addrsFile string
	m                                       *manifest.Manifest
	addrs                                   manifest.Addrs
	env                                     []string
}

// built holds the binaries, built once per test binary.
var built struct {
	once sync.Once
	dir  string
	err  error
}

func newRun(t *testing.T) *run {
	t.Helper()
	wd, _ := os.Getwd()
	manifestFile, err := manifest.Find(wd)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{root: filepath.Dir(filepath.Dir(manifestFile))}
	if r.m, err = manifest.Load(manifestFile); err != nil {
		t.Fatal(err)
	}
	built.once.Do(func() { built.dir, built.err = build(r.root, r.m) })
	if built.err != nil {
		t.Fatal(built.err)
	}
	dir := t.TempDir()
	// Each run gets its own copy of the folder, so a test may break a binary.
	r.binDir, r.logDir, r.pkiDir = filepath.Join(dir, "bin"), filepath.Join(dir, "logs"), filepath.Join(dir, "pki")
	if out, err := exec.Command("cp", "-a", built.dir, r.binDir).CombinedOutput(); err != nil {
		t.Fatalf("copying the binaries: %v\n%s", err, out)
	}
	if err := pki.Ensure(r.pkiDir, r.m); err != nil {
		t.Fatal(err)
	}
	if r.addrs, err = r.m.FreePorts(); err != nil {
		t.Fatal(err)
	}
	r.addrsFile = filepath.Join(dir, "addrs.json")
	if err := r.addrs.WriteFile(r.addrsFile); err != nil {
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
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Error(err)
		}
	})
	r.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"DATABASE_URL=" + db.URL,
		"REDIS_URL=" + urls.RedisURL,
		"NATS_URL=" + urls.NATSURL,
		"ANDES_DEMO_FILE=" + filepath.Join(r.root, "deploy", "demo", "demo.yaml"),
	}
	return r
}

// build compiles every main of the manifest into one folder, as `make build` does.
func build(root string, m *manifest.Manifest) (string, error) {
	dir, err := os.MkdirTemp("", "andes-e2e-bin-")
	if err != nil {
		return "", err
	}
	args := []string{"build", "-o", dir + "/"}
	for _, p := range m.Processes {
		args = append(args, p.Main)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return dir, nil
}

// breakConfig replaces the process's binary with one that starts the real
// binary with a broken variable, and returns where the real one went.
func (r *run) breakConfig(t *testing.T, name, variable string) string {
	t.Helper()
	bin := filepath.Join(r.binDir, name)
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

func (r *run) repair(t *testing.T, name, real string) {
	t.Helper()
	if err := os.Rename(real, filepath.Join(r.binDir, name)); err != nil {
		t.Fatal(err)
	}
}

func (r *run) log(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(r.logDir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// platform is one running supervisor and its children.
type platform struct {
	r       *run
	cmd     *exec.Cmd
	started time.Time
	exited  chan error
	done    bool
	output  *bytes.Buffer
	api     supervisorv1.SupervisorServiceClient
}

// start runs the supervisor over the run's binaries, as scripts/up.sh does.
func (r *run) start(t *testing.T) *platform {
	t.Helper()
	var mu sync.Mutex
	p := &platform{r: r, exited: make(chan error, 1), output: &bytes.Buffer{}}
	p.cmd = exec.Command(filepath.Join(r.binDir, "supervisor"),
		"-manifest", filepath.Join(r.root, "deploy", "manifest.yaml"),
		"-bin", r.binDir, "-logs", r.logDir, "-pki", r.pkiDir, "-addrs", r.addrsFile)
	p.cmd.Env = r.env
	p.cmd.Stdout, p.cmd.Stderr = lockedWriter{&mu, p.output}, lockedWriter{&mu, p.output}
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	conn, err := grpcclient.New(r.addrs["supervisor"].GRPC, grpcclient.Options{Credentials: r.identity(t, "monitor"), Peer: "supervisor"})
	if err != nil {
		t.Fatal(err)
	}
	p.api = supervisorv1.NewSupervisorServiceClient(conn)
	t.Cleanup(func() {
		conn.Close()
		if !p.done {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			_ = p.wait(t)
		}
		if t.Failed() {
			mu.Lock()
			t.Logf("supervisor output:\n%s", p.output)
			mu.Unlock()
		}
	})
	return p
}

// wait waits for the supervisor to exit and returns how it ended.
func (p *platform) wait(t *testing.T) error {
	t.Helper()
	if p.done {
		return nil
	}
	select {
	case err := <-p.exited:
		p.done = true
		return err
	case <-time.After(stepTimeout):
		_ = p.cmd.Process.Kill()
		p.done = true
		t.Fatal("the supervisor did not stop")
		return nil
	}
}

// waitServing waits until every process of the manifest answers SERVING to the
// operator, and returns how long that took from the supervisor's start.
func (p *platform) waitServing(t *testing.T) time.Duration {
	t.Helper()
	creds := p.r.identity(t, "operator")
	ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
	defer cancel()
	results := probe.Wait(ctx, creds, p.r.m, p.r.addrs, 100*time.Millisecond)
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

func (p *platform) waitOneServing(t *testing.T, name string) {
	t.Helper()
	creds := p.r.identity(t, "operator")
	waitFor(t, stepTimeout, name+" SERVING", func() bool {
		return probe.Check(context.Background(), creds, name, p.r.addrs[name].GRPC).Serving()
	})
}

func (r *run) identity(t *testing.T, name string) *pki.Credentials {
	t.Helper()
	d := pki.Dir(r.pkiDir)
	creds, err := pki.Load(d.CertFile(name), d.KeyFile(name), d.CAFile(), r.m.TrustDomain)
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

// supervisor is the client of the supervisor's API, with the monitor's identity,
// the one its policy lets in.
func (p *platform) supervisor(*testing.T) supervisorv1.SupervisorServiceClient { return p.api }

func (p *platform) list(t *testing.T) []*supervisorv1.Process {
	t.Helper()
	out, err := p.supervisor(t).ListProcesses(context.Background(), &supervisorv1.ListProcessesRequest{}, grpc.WaitForReady(true))
	if err != nil {
		t.Fatal(err)
	}
	return out.GetProcesses()
}

func (p *platform) process(t *testing.T, name string) *supervisorv1.Process {
	t.Helper()
	for _, pr := range p.list(t) {
		if pr.GetName() == name {
			return pr
		}
	}
	t.Fatalf("the supervisor does not list %s", name)
	return nil
}

func (p *platform) waitState(t *testing.T, name string, ok func(*supervisorv1.Process) bool) *supervisorv1.Process {
	t.Helper()
	var last *supervisorv1.Process
	waitFor(t, stepTimeout, name+" to change state", func() bool {
		last = p.process(t, name)
		return ok(last)
	})
	return last
}

// childPIDs lists every running child, by name; every supervised process must be
// running.
func (p *platform) childPIDs(t *testing.T) map[string]int {
	t.Helper()
	pids := map[string]int{}
	for _, pr := range p.list(t) {
		if pr.GetPid() == 0 {
			t.Fatalf("%s is not running: %v", pr.GetName(), pr)
		}
		pids[pr.GetName()] = int(pr.GetPid())
	}
	if len(pids) != len(p.r.m.Processes)-1 {
		t.Fatalf("the supervisor runs %d processes, the manifest lists %d besides it", len(pids), len(p.r.m.Processes)-1)
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

// alive reports whether pid runs; a zombie is dead, it only waits for a reaper,
// which a container may not have.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	rest := raw[bytes.LastIndexByte(raw, ')')+1:]
	return !bytes.HasPrefix(bytes.TrimSpace(rest), []byte("Z"))
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
