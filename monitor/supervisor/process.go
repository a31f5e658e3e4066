package supervisor

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// proc is one supervised process. Its run loop owns the child; Restart and Stop
// reach the loop through ctl, so only one goroutine ever starts or signals it.
type proc struct {
	m    *Manager
	spec Spec
	ctl  chan request
	done chan struct{} // closed when run returns

	mu     sync.Mutex
	status Status
}

type request struct {
	restart bool // false: stop
	reply   chan error
}

// child is one run of the process.
type child struct {
	pid     int
	started time.Time
	exited  chan Exit // receives once
}

func newProc(m *Manager, s Spec) *proc {
	return &proc{
		m:      m,
		spec:   s,
		ctl:    make(chan request),
		done:   make(chan struct{}),
		status: Status{Name: s.Name, State: Stopped, Since: time.Now()},
	}
}

func (p *proc) snapshot() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.status
	if s.LastExit != nil {
		e := *s.LastExit
		s.LastExit = &e
	}
	return s
}

// set applies change to the status and reports a change of state.
func (p *proc) set(change func(*Status)) {
	p.mu.Lock()
	before := p.status.State
	change(&p.status)
	if p.status.State != before {
		p.status.Since = time.Now()
	}
	s := p.status
	p.mu.Unlock()
	if s.State != before && p.m.cfg.OnChange != nil {
		p.m.cfg.OnChange(s)
	}
}

func (p *proc) restart() error {
	r := request{restart: true, reply: make(chan error, 1)}
	select {
	case p.ctl <- r:
	case <-p.done:
		return ErrNotRunning
	}
	return <-r.reply
}

func (p *proc) stop() {
	r := request{reply: make(chan error, 1)}
	select {
	case p.ctl <- r:
		<-r.reply
	case <-p.done:
	}
}

// run starts the process and keeps it running until a stop request.
func (p *proc) run() {
	defer close(p.done)
	t := p.m.cfg.Timing
	log := p.m.log.With("process", p.spec.Name)
	var (
		delay   time.Duration // the last backoff delay
		exits   []time.Time   // recent exits, for the brake
		waiters []chan error  // Restart callers, answered once the process is started again
	)
	// handle answers a request that came while the process was not running; it
	// reports whether the loop must end.
	handle := func(r request) (stop bool) {
		if !r.restart {
			p.set(func(s *Status) { s.State = Stopped })
			r.reply <- nil
			return true
		}
		log.Info("restart requested")
		exits, delay = nil, 0
		waiters = append(waiters, r.reply)
		return false
	}
	defer func() {
		for _, w := range waiters {
			w <- ErrNotRunning
		}
	}()

	for first := true; ; first = false {
		p.set(func(s *Status) {
			s.State = Starting
			if !first {
				s.Restarts++
			}
		})
		c, err := p.start()
		for _, w := range waiters {
			w <- err
		}
		waiters = nil

		var exit Exit
		if err != nil {
			exit = Exit{Code: -1, StartErr: err.Error(), At: time.Now()}
			log.Error("start failed", "err", err)
		} else {
			p.set(func(s *Status) { s.State, s.PID = Running, c.pid })
			log.Info("started", "pid", c.pid)
			select {
			case exit = <-c.exited:
				log.Warn("exited", "pid", c.pid, "how", exit.String(), "uptime", exit.Uptime)
			case r := <-p.ctl:
				exit = p.terminate(c, log)
				p.set(func(s *Status) { s.PID, s.LastExit = 0, &exit })
				if handle(r) {
					log.Info("stopped")
					return
				}
				continue
			}
		}
		p.set(func(s *Status) { s.PID, s.LastExit = 0, &exit })

		now := time.Now()
		exits = append(recent(exits, now.Add(-t.BrakeWindow)), now)
		if len(exits) >= t.BrakeExits {
			p.set(func(s *Status) { s.State = CrashLoop })
			log.Error("crash loop: no more restarts until one is requested",
				"exits", len(exits), "within", t.BrakeWindow, "last", exit.String())
			if handle(<-p.ctl) {
				return
			}
			continue
		}

		if exit.Uptime >= t.StableAfter {
			delay = 0
		}
		delay = next(delay, t)
		p.set(func(s *Status) { s.State = Backoff })
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case r := <-p.ctl:
			timer.Stop()
			if handle(r) {
				return
			}
		}
	}
}

// next is the backoff after prev: BackoffMin first, then doubling up to BackoffMax.
func next(prev time.Duration, t Timing) time.Duration {
	if prev == 0 {
		return t.BackoffMin
	}
	return min(prev*2, t.BackoffMax)
}

// recent drops the times before since.
func recent(times []time.Time, since time.Time) []time.Time {
	kept := times[:0]
	for _, at := range times {
		if at.After(since) {
			kept = append(kept, at)
		}
	}
	return kept
}

// start launches one run of the process, its output appended to its log file.
func (p *proc) start() (*child, error) {
	logf, err := os.OpenFile(filepath.Join(p.m.cfg.LogDir, p.spec.Name+".log"),
		os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	fmt.Fprintf(logf, "--- supervisor: starting %s at %s\n", p.spec.Name, time.Now().Format(time.RFC3339Nano))

	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	// Never nil: a nil Env would hand the child the supervisor's whole environment,
	// and a process is configured only through the environment its spec gives.
	cmd.Env = append([]string{}, p.spec.Env...)
	cmd.Dir = p.spec.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true, // its own group: stop and restart signal the child and its children together
		Pdeathsig: syscall.SIGKILL,
	}
	if p.m.cfg.Echo != nil {
		out := io.MultiWriter(logf, &prefixWriter{mu: &p.m.echoMu, w: p.m.cfg.Echo, prefix: []byte(p.spec.Name + " | ")})
		cmd.Stdout, cmd.Stderr = out, out
		// A grandchild that keeps the pipe open must not hold Wait forever.
		cmd.WaitDelay = p.m.cfg.Timing.StopGrace
	} else {
		// The file itself, so the child writes straight to it with no copying goroutine.
		cmd.Stdout, cmd.Stderr = logf, logf
	}

	if err := p.m.launcher.start(cmd); err != nil {
		fmt.Fprintf(logf, "--- supervisor: start failed: %v\n", err)
		logf.Close()
		return nil, err
	}
	c := &child{pid: cmd.Process.Pid, started: time.Now(), exited: make(chan Exit, 1)}
	go func() {
		err := cmd.Wait()
		// Sweep the group: whatever the child left behind goes with it. The id stays
		// reserved while a member lives, and the kernel hands out pids in sequence,
		// so it is not another group's this soon after the child ended.
		_ = syscall.Kill(-c.pid, syscall.SIGKILL)
		exit := exitOf(cmd.ProcessState, err)
		exit.Uptime = exit.At.Sub(c.started)
		fmt.Fprintf(logf, "--- supervisor: pid %d ended: %s\n", c.pid, exit)
		logf.Close()
		c.exited <- exit
	}()
	return c, nil
}

// terminate asks the child's group to stop, kills it after the grace period, and
// returns how the child ended.
func (p *proc) terminate(c *child, log *slog.Logger) Exit {
	_ = syscall.Kill(-c.pid, syscall.SIGTERM)
	timer := time.NewTimer(p.m.cfg.Timing.StopGrace)
	defer timer.Stop()
	select {
	case e := <-c.exited:
		return e
	case <-timer.C:
	}
	log.Warn("still running after the grace period: killing", "pid", c.pid, "grace", p.m.cfg.Timing.StopGrace)
	_ = syscall.Kill(-c.pid, syscall.SIGKILL)
	return <-c.exited
}

// exitOf reads how the child ended. Wait's error adds nothing when the process
// state is known (an exit code, or output copying cut short by WaitDelay).
func exitOf(ps *os.ProcessState, waitErr error) Exit {
	e := Exit{Code: -1, At: time.Now()}
	if ps == nil {
		e.StartErr = fmt.Sprint("wait: ", waitErr)
		return e
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Signal = ws.Signal()
		return e
	}
	e.Code = ps.ExitCode()
	return e
}
