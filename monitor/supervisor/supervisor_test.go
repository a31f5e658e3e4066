package supervisor_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/andes-bank/andes/monitor/supervisor"
	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/testenv"
)

// childBin is the test program of testdata/child, built once for all tests.
var childBin string

func TestMain(m *testing.M) {
	os.Exit(buildChildAndRun(m))
}

func buildChildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "supervisor-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	childBin = filepath.Join(dir, "child")
	build := exec.Command("go", "build", "-o", childBin, "./testdata/child")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the test child:", err)
		return 1
	}
	return m.Run()
}

// fast keeps every test well under a second of waiting.
func fast() supervisor.Timing {
	return supervisor.Timing{
		BackoffMin:  10 * time.Millisecond,
		BackoffMax:  80 * time.Millisecond,
		StableAfter: time.Second,
		BrakeExits:  5,
		BrakeWindow: 10 * time.Second,
		StopGrace:   2 * time.Second,
	}
}

// harness runs a Manager over test children and, at the end, stops it and checks
// that no child it ever started is alive.
type harness struct {
	t      *testing.T
	pidDir string
	logDir string
	m      *supervisor.Manager

	mu     sync.Mutex
	events []supervisor.Status
}

func newHarness(t *testing.T, timing supervisor.Timing, modes map[string]string, edit func(*supervisor.Config)) *harness {
	t.Helper()
	h := &harness{t: t, pidDir: t.TempDir(), logDir: t.TempDir()}
	var specs []supervisor.Spec
	for _, name := range slices.Sorted(maps.Keys(modes)) {
		specs = append(specs, h.spec(name, modes[name]))
	}
	cfg := supervisor.Config{
		Specs:  specs,
		LogDir: h.logDir,
		Timing: timing,
		OnChange: func(s supervisor.Status) {
			h.mu.Lock()
			h.events = append(h.events, s)
			h.mu.Unlock()
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := supervisor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
	t.Cleanup(func() {
		m.Stop()
		h.noneAlive()
	})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	return h
}

// spec is a child in the given mode; a mode starting with "file:" names a file
// holding the mode.
func (h *harness) spec(name, mode string) supervisor.Spec {
	env := []string{"CHILD_PID_DIR=" + h.pidDir}
	if f, ok := strings.CutPrefix(mode, "file:"); ok {
		env = append(env, "CHILD_MODE_FILE="+f)
	} else {
		env = append(env, "CHILD_MODE="+mode)
	}
	return supervisor.Spec{Name: name, Path: childBin, Env: env}
}

// pids are all the pids ever started, children and grandchildren.
func (h *harness) pids() []int {
	entries, err := os.ReadDir(h.pidDir)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, pid)
	}
	return out
}

func (h *harness) noneAlive() {
	h.t.Helper()
	for _, pid := range h.pids() {
		testenv.Eventually(h.t, 5*time.Second, fmt.Sprintf("pid %d to be gone", pid), func() bool { return !alive(pid) })
	}
}

func (h *harness) status(name string) supervisor.Status {
	s, ok := h.m.Status(name)
	if !ok {
		h.t.Fatalf("no process %s", name)
	}
	return s
}

func (h *harness) waitState(name string, want supervisor.State, extra func(supervisor.Status) bool) supervisor.Status {
	h.t.Helper()
	var s supervisor.Status
	testenv.Eventually(h.t, 10*time.Second, name+" "+want.String(), func() bool {
		s = h.status(name)
		return s.State == want && (extra == nil || extra(s))
	})
	return s
}

func (h *harness) sawState(name string, want supervisor.State) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.events {
		if e.Name == name && e.State == want {
			return true
		}
	}
	return false
}

// alive reports whether pid is a live process; a zombie is not, since nothing runs
// in it any more and only its (possibly absent) reaper can remove it.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	rest := raw[bytes.LastIndexByte(raw, ')')+1:]
	return !bytes.HasPrefix(bytes.TrimSpace(rest), []byte("Z"))
}

func TestKilledChildIsRestarted(t *testing.T) {
	h := newHarness(t, fast(), map[string]string{"a": "sleep", "b": "sleep"}, nil)
	first := h.waitState("a", supervisor.Running, nil)

	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	again := h.waitState("a", supervisor.Running, func(s supervisor.Status) bool { return s.PID != first.PID })
	if again.Restarts != 1 {
		t.Errorf("restarts = %d, want 1", again.Restarts)
	}
	if again.LastExit == nil || again.LastExit.Signal != syscall.SIGKILL {
		t.Errorf("last exit = %v, want signal killed", again.LastExit)
	}
	if s := h.status("b"); s.Restarts != 0 || s.State != supervisor.Running {
		t.Errorf("b was disturbed: %+v", s)
	}
}

func TestCrashingChildHitsTheBrake(t *testing.T) {
	h := newHarness(t, fast(), map[string]string{"crasher": "crash", "fine": "sleep"}, nil)
	s := h.waitState("crasher", supervisor.CrashLoop, nil)

	if s.Restarts != 4 {
		t.Errorf("restarts = %d, want 4 (5 runs)", s.Restarts)
	}
	if s.LastExit == nil || s.LastExit.Code != 3 {
		t.Errorf("last exit = %v, want exit code 3", s.LastExit)
	}
	if !h.sawState("crasher", supervisor.CrashLoop) {
		t.Error("no CRASH_LOOP change was reported")
	}
	if !h.sawState("crasher", supervisor.Backoff) {
		t.Error("no BACKOFF between the runs")
	}
	// The brake holds: no start during several backoff periods.
	started := len(h.pids())
	time.Sleep(3 * fast().BackoffMax)
	if n := len(h.pids()); n != started {
		t.Errorf("%d more starts after the brake", n-started)
	}
	if s := h.status("fine"); s.State != supervisor.Running {
		t.Errorf("the healthy process is %s", s.State)
	}
}

func TestMissingBinaryHitsTheBrake(t *testing.T) {
	h := newHarness(t, fast(), nil, func(c *supervisor.Config) {
		c.Specs = []supervisor.Spec{{Name: "ghost", Path: filepath.Join(t.TempDir(), "ghost")}}
	})
	s := h.waitState("ghost", supervisor.CrashLoop, nil)
	if s.LastExit == nil || s.LastExit.StartErr == "" {
		t.Errorf("last exit = %v, want a start error", s.LastExit)
	}
	if _, err := h.m.Restart("ghost"); err == nil {
		t.Error("restarting a missing binary reported success")
	}
}

func TestRestartReplacesTheRunningChild(t *testing.T) {
	h := newHarness(t, fast(), map[string]string{"a": "sleep"}, nil)
	old := h.waitState("a", supervisor.Running, nil)

	s, err := h.m.Restart("a")
	if err != nil {
		t.Fatal(err)
	}
	if s.State != supervisor.Running || s.PID == old.PID || s.PID == 0 {
		t.Errorf("after restart: %+v (old pid %d)", s, old.PID)
	}
	if s.Restarts != 1 {
		t.Errorf("restarts = %d, want 1", s.Restarts)
	}
	if s.LastExit == nil || s.LastExit.Signal != syscall.SIGTERM {
		t.Errorf("last exit = %v, want signal terminated", s.LastExit)
	}
	if alive(old.PID) {
		t.Errorf("old pid %d still alive", old.PID)
	}
}

func TestRestartKillsAChildThatIgnoresSIGTERM(t *testing.T) {
	timing := fast()
	timing.StopGrace = 150 * time.Millisecond
	h := newHarness(t, timing, map[string]string{"stubborn": "stubborn"}, nil)
	old := h.waitState("stubborn", supervisor.Running, nil)
	// The child must ignore SIGTERM before it is asked to stop.
	testenv.Eventually(t, 5*time.Second, "the child to be ready", func() bool {
		raw, _ := os.ReadFile(filepath.Join(h.logDir, "stubborn.log"))
		return bytes.Contains(raw, []byte("child ready\n"))
	})

	s, err := h.m.Restart("stubborn")
	if err != nil {
		t.Fatal(err)
	}
	if s.LastExit == nil || s.LastExit.Signal != syscall.SIGKILL {
		t.Errorf("last exit = %v, want signal killed after the grace period", s.LastExit)
	}
	if s.PID == old.PID {
		t.Error("same pid after restart")
	}
}

func TestRestartClearsTheBrake(t *testing.T) {
	modeFile := filepath.Join(t.TempDir(), "mode")
	if err := os.WriteFile(modeFile, []byte("crash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, fast(), map[string]string{"flaky": "file:" + modeFile}, nil)
	h.waitState("flaky", supervisor.CrashLoop, nil)

	// The redeploy brings a fixed build.
	if err := os.WriteFile(modeFile, []byte("sleep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := h.m.Restart("flaky")
	if err != nil {
		t.Fatal(err)
	}
	if s.State != supervisor.Running || s.Restarts != 5 {
		t.Errorf("after restart: %+v, want RUNNING with 5 restarts", s)
	}
	// Crashing again, it gets a whole new allowance before the brake.
	if err := os.WriteFile(modeFile, []byte("crash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(s.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s = h.waitState("flaky", supervisor.CrashLoop, func(s supervisor.Status) bool { return s.Restarts > 5 })
	// The kill and four crashes make five exits since the restart.
	if s.Restarts != 9 {
		t.Errorf("restarts = %d, want 9", s.Restarts)
	}
}

func TestStopLeavesNoChildAlive(t *testing.T) {
	h := newHarness(t, fast(), map[string]string{
		"sleeper":  "sleep",
		"parent":   "parent", // its own child must go too
		"stubborn": "stubborn",
		"crasher":  "crash",
	}, func(c *supervisor.Config) { c.Timing.StopGrace = 300 * time.Millisecond })
	for _, name := range []string{"sleeper", "parent", "stubborn"} {
		h.waitState(name, supervisor.Running, nil)
	}
	testenv.Eventually(t, 5*time.Second, "the grandchild", func() bool { return len(h.pids()) >= 5 })

	h.m.Stop()
	for _, s := range h.m.List() {
		if s.State != supervisor.Stopped || s.PID != 0 {
			t.Errorf("after stop: %+v", s)
		}
	}
	for _, pid := range h.pids() {
		if alive(pid) {
			t.Errorf("pid %d alive after Stop", pid)
		}
	}
	if _, err := h.m.Restart("sleeper"); !errors.Is(err, supervisor.ErrNotRunning) {
		t.Errorf("restart after stop: err = %v", err)
	}
	h.m.Stop() // a second Stop returns at once
}

func TestOutputGoesToLogFilesAndEcho(t *testing.T) {
	var echo lockedBuffer
	h := newHarness(t, fast(), map[string]string{"talker": "sleep"}, func(c *supervisor.Config) { c.Echo = &echo })
	s := h.waitState("talker", supervisor.Running, nil)
	line := fmt.Sprintf("child pid %d\n", s.PID)

	testenv.Eventually(t, 5*time.Second, "the echoed line", func() bool { return strings.Contains(echo.String(), "talker | "+line) })
	raw, err := os.ReadFile(filepath.Join(h.logDir, "talker.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), line) {
		t.Errorf("log file lacks %q:\n%s", line, raw)
	}
}

func TestRestartOfUnknownOrUnstartedProcess(t *testing.T) {
	m, err := supervisor.New(supervisor.Config{
		Specs:  []supervisor.Spec{{Name: "a", Path: childBin}},
		LogDir: t.TempDir(),
		Timing: fast(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Restart("a"); !errors.Is(err, supervisor.ErrNotRunning) {
		t.Errorf("restart before start: err = %v", err)
	}
	if _, err := m.Restart("nobody"); !errors.Is(err, supervisor.ErrUnknownProcess) {
		t.Errorf("restart of unknown: err = %v", err)
	}
	m.Stop()
	if err := m.Start(); err == nil {
		t.Error("start after stop accepted")
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	cases := map[string]supervisor.Config{
		"no timing":   {LogDir: t.TempDir()},
		"no log dir":  {Timing: fast()},
		"no path":     {LogDir: t.TempDir(), Timing: fast(), Specs: []supervisor.Spec{{Name: "a"}}},
		"twice named": {LogDir: t.TempDir(), Timing: fast(), Specs: []supervisor.Spec{{Name: "a", Path: "x"}, {Name: "a", Path: "y"}}},
	}
	for name, cfg := range cases {
		if _, err := supervisor.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSpecsFromTheManifest(t *testing.T) {
	wd, _ := os.Getwd()
	path, err := manifest.Find(wd)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	shared := manifest.Shared{PKIDir: "/pki", PolicyDir: "/pol", DatabaseURL: "postgres://x", RedisURL: "redis://x", NATSURL: "nats://x"}
	specs, err := supervisor.Specs(m, m.Defaults(), shared, "/bin", []string{"PATH=/usr/bin", "ANDES_NAME=wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != len(m.Processes)-1 {
		t.Errorf("%d specs for %d processes", len(specs), len(m.Processes))
	}
	for _, s := range specs {
		if s.Name == "supervisor" {
			t.Error("the supervisor supervises itself")
		}
		if s.Path != "/bin/"+s.Name {
			t.Errorf("%s: path %s", s.Name, s.Path)
		}
		if s.Env[0] != "PATH=/usr/bin" {
			t.Errorf("%s: base environment not first: %v", s.Name, s.Env)
		}
		// exec keeps the last value of a repeated variable: the manifest's.
		if last := lastValue(s.Env, "ANDES_NAME"); last != s.Name {
			t.Errorf("%s: ANDES_NAME resolves to %q", s.Name, last)
		}
	}
}

func lastValue(env []string, key string) string {
	var v string
	for _, kv := range env {
		if k, val, _ := strings.Cut(kv, "="); k == key {
			v = val
		}
	}
	return v
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
