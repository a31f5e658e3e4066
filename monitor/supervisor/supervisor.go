// Package supervisor is the local deployer: it starts every process of the
// platform, restarts the ones that exit (with backoff and a crash-loop brake),
// restarts one on request (the monitor's redeploy) and stops them all, leaving no
// child behind even when the supervisor itself is killed.
//
// It relies on Linux: each child runs in its own process group and carries
// Pdeathsig=SIGKILL, so the kernel kills it when the supervisor dies. Grandchildren
// are not covered by Pdeathsig; they are killed with their group on stop and
// restart.
package supervisor

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"
)

// Spec is one process to supervise.
type Spec struct {
	Name string
	Path string   // the binary
	Args []string // arguments after the program name
	Env  []string // the whole environment: nothing is inherited from the supervisor
	Dir  string   // working directory; empty means the supervisor's
}

// Timing tunes backoff, the brake and stopping; tests shorten it.
type Timing struct {
	BackoffMin  time.Duration // delay before the first restart after an exit
	BackoffMax  time.Duration // the delay doubles up to this
	StableAfter time.Duration // a process up this long restarts after BackoffMin again
	BrakeExits  int           // this many exits within BrakeWindow stop the restarts
	BrakeWindow time.Duration
	StopGrace   time.Duration // between SIGTERM and SIGKILL
}

// DefaultTiming restarts a killed process within 100 ms (the platform's target is
// healthy again within 5 s) and gives up on one that exits 5 times in 30 s.
func DefaultTiming() Timing {
	return Timing{
		BackoffMin:  100 * time.Millisecond,
		BackoffMax:  5 * time.Second,
		StableAfter: 10 * time.Second,
		BrakeExits:  5,
		BrakeWindow: 30 * time.Second,
		StopGrace:   5 * time.Second,
	}
}

// Config is what a Manager needs.
type Config struct {
	Specs  []Spec
	LogDir string // each child's stdout and stderr are appended to LogDir/<name>.log
	// Echo, when set, also receives every line of every child, led by its name.
	Echo   io.Writer
	Timing Timing
	Logger *slog.Logger // nil discards
	// OnChange is called with the new status after every state change, from the
	// process's own goroutine: it must return quickly and must not call back into
	// the Manager. A status in CrashLoop is the report that the brake has stopped
	// restarting a process.
	OnChange func(Status)
}

// State is where a supervised process is in its life.
type State int

const (
	Starting  State = iota + 1 // being started
	Running                    // started and not exited
	Backoff                    // exited, waiting to be started again
	CrashLoop                  // exited too often: no more restarts until Restart
	Stopped                    // stopped by the supervisor
)

func (s State) String() string {
	switch s {
	case Starting:
		return "STARTING"
	case Running:
		return "RUNNING"
	case Backoff:
		return "BACKOFF"
	case CrashLoop:
		return "CRASH_LOOP"
	case Stopped:
		return "STOPPED"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Exit is how a run of a process ended.
type Exit struct {
	Code     int            // exit code; -1 when killed by a signal or never started
	Signal   syscall.Signal // the signal that killed it, or 0
	StartErr string         // why it could not be started, or ""
	At       time.Time
	Uptime   time.Duration
}

func (e Exit) String() string {
	switch {
	case e.StartErr != "":
		return "start failed: " + e.StartErr
	case e.Signal != 0:
		return "signal " + e.Signal.String()
	}
	return fmt.Sprintf("exit code %d", e.Code)
}

// Status is a snapshot of one supervised process.
type Status struct {
	Name     string
	State    State
	PID      int       // while Running, else 0
	Restarts int       // starts after the first, automatic or requested
	LastExit *Exit     // nil until the first exit
	Since    time.Time // when State was entered
}

// Errors of Restart.
var (
	ErrUnknownProcess = errors.New("supervisor: unknown process")
	ErrNotRunning     = errors.New("supervisor: not started or already stopped")
)

// Manager supervises a fixed set of processes.
type Manager struct {
	cfg      Config
	log      *slog.Logger
	procs    []*proc
	byName   map[string]*proc
	launcher *launcher
	echoMu   sync.Mutex // one line at a time on Echo, whichever child wrote it

	mu      sync.Mutex
	started bool
	stopped bool
	loops   sync.WaitGroup
}

// New checks the configuration; nothing is started until Start.
func New(cfg Config) (*Manager, error) {
	t := cfg.Timing
	if t.BackoffMin <= 0 || t.BackoffMax < t.BackoffMin || t.BrakeExits < 1 || t.BrakeWindow <= 0 || t.StopGrace <= 0 {
		return nil, fmt.Errorf("supervisor: bad timing %+v", t)
	}
	if cfg.LogDir == "" {
		return nil, errors.New("supervisor: no log folder")
	}
	if err := os.MkdirAll(cfg.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	m := &Manager{cfg: cfg, log: cfg.Logger, byName: map[string]*proc{}}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	for _, s := range cfg.Specs {
		if s.Name == "" || s.Path == "" {
			return nil, fmt.Errorf("supervisor: spec %+v lacks a name or a path", s)
		}
		if m.byName[s.Name] != nil {
			return nil, fmt.Errorf("supervisor: process %q listed twice", s.Name)
		}
		p := newProc(m, s)
		m.procs = append(m.procs, p)
		m.byName[s.Name] = p
	}
	return m, nil
}

// Start starts every process and returns; failures to start are handled like
// exits (backoff, then the brake) and show in the status.
func (m *Manager) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started || m.stopped {
		return errors.New("supervisor: Start called twice or after Stop")
	}
	m.started = true
	m.launcher = startLauncher()
	for _, p := range m.procs {
		m.loops.Add(1)
		go func() {
			defer m.loops.Done()
			p.run()
		}()
	}
	return nil
}

// Stop stops every process (SIGTERM to its group, SIGKILL after the grace period)
// and returns when all have exited. Later calls return at once.
func (m *Manager) Stop() {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.stopped = true
	started := m.started
	m.mu.Unlock()
	if !started {
		return
	}
	for _, p := range m.procs {
		go p.stop()
	}
	m.loops.Wait()
	// Only now may the launching thread end: its end is what Pdeathsig reacts to.
	m.launcher.close()
	m.log.Info("all processes stopped")
}

// Restart stops the process if it runs, clears its backoff and crash-loop brake,
// and starts it again; it returns once the new start was attempted, with the
// start's error if it failed. This is the redeploy the monitor asks for.
func (m *Manager) Restart(name string) (Status, error) {
	p := m.byName[name]
	if p == nil {
		return Status{}, fmt.Errorf("%w: %q", ErrUnknownProcess, name)
	}
	m.mu.Lock()
	running := m.started && !m.stopped
	m.mu.Unlock()
	if !running {
		return Status{}, ErrNotRunning
	}
	if err := p.restart(); err != nil {
		return p.snapshot(), err
	}
	return p.snapshot(), nil
}

// List returns the status of every process, in the order of the specs.
func (m *Manager) List() []Status {
	out := make([]Status, 0, len(m.procs))
	for _, p := range m.procs {
		out = append(out, p.snapshot())
	}
	return out
}

// Status returns one process's status.
func (m *Manager) Status(name string) (Status, bool) {
	p := m.byName[name]
	if p == nil {
		return Status{}, false
	}
	return p.snapshot(), true
}
