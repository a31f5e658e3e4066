package devdeps

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/andes-bank/andes/platform/freeport"
)

// state is the content of .run/deps.json.
type state map[Dep]Instance

func (s *starter) statePath() string { return filepath.Join(s.runDir, "deps.json") }

func (s *starter) readState() (state, error) {
	raw, err := os.ReadFile(s.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return state{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("devdeps: %w", err)
	}
	st := state{}
	if err := json.Unmarshal(raw, &st); err != nil {
		// A damaged record only costs a restart of the dependencies.
		return state{}, nil
	}
	return st, nil
}

// updateState rewrites deps.json under its own lock: the per-dependency locks let
// two dependencies start at once, and each must keep the other's record.
func (s *starter) updateState(ctx context.Context, change func(state)) error {
	unlock, err := lockFile(ctx, filepath.Join(s.runDir, "deps.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.readState()
	if err != nil {
		return err
	}
	change(st)
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.statePath() + ".tmp"
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("devdeps: %w", err)
	}
	// Rename so a reader never sees half a file.
	if err := os.Rename(tmp, s.statePath()); err != nil {
		return fmt.Errorf("devdeps: %w", err)
	}
	return nil
}

// lockFile takes an exclusive flock on path, polling so ctx can cancel the wait.
// flock locks belong to the open file, so two goroutines of one process exclude
// each other as two processes do.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("devdeps: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("devdeps: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("devdeps: waiting for %s: %w", path, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// alive reports whether the recorded process still runs and still answers on its
// port; both, because a pid or a port alone may have been reused by another program.
func alive(ctx context.Context, inst Instance) bool {
	return processAlive(inst.PID) && portOpen(ctx, inst.Port)
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A zombie answers kill(0) but serves nothing.
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	if i := strings.LastIndexByte(string(raw), ')'); i > 0 && i+2 < len(raw) {
		return raw[i+2] != 'Z'
	}
	return true
}

func portOpen(ctx context.Context, port int) bool {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", loopback(port))
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// freePort finds an unused loopback port (see package freeport). Another program
// may still take it before the server binds it; callers retry on a bind failure.
func freePort() (int, error) {
	port, err := freeport.Port()
	if err != nil {
		return 0, fmt.Errorf("devdeps: %w", err)
	}
	return port, nil
}

// terminate sends SIGTERM and waits for the process to go, then SIGKILL.
func terminate(ctx context.Context, pid int) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	return nil
}

// stopUnrecorded stops a server that a pid file says still runs although no record
// names it (deps.json was deleted): it would otherwise run for ever, unreachable.
// The command line is checked so a recycled pid is left alone.
func stopUnrecorded(ctx context.Context, pidFile, binary string) {
	pid, err := readPIDFile(pidFile)
	if err != nil || !processAlive(pid) {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), binary) {
		return
	}
	_ = terminate(ctx, pid)
}

// readPIDFile reads the first line of a pid file (PostgreSQL's postmaster.pid
// carries more lines after it).
func readPIDFile(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, fmt.Errorf("devdeps: empty pid file %s", path)
	}
	return strconv.Atoi(strings.TrimSpace(sc.Text()))
}

// waitFor polls ready until it succeeds, the timeout passes or ctx ends.
func waitFor(ctx context.Context, timeout time.Duration, what string, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("devdeps: %s not ready after %s: %w", what, timeout, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devdeps: waiting for %s: %w", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// tail returns the last lines of a log file for an error message.
func tail(path string, lines int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return lastLines(raw, lines)
}

func lastLines(raw []byte, n int) string {
	all := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(all) > n {
		all = all[len(all)-n:]
	}
	return strings.Join(all, "\n")
}
