package devdeps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// pgBin is where Debian's postgresql-15 package puts the server binaries.
const pgBin = "/usr/lib/postgresql/15/bin"

// pgSettings favor tests and benchmarks without lying about durability: fsync and
// synchronous commit stay on so timings resemble production; enough connections for
// many parallel test packages; a WAL budget that keeps benchmarks from checkpointing
// constantly.
const pgSettings = `
# Added by platform/devdeps: a private cluster for tests and make up.
listen_addresses = '127.0.0.1'
max_connections = 300
shared_buffers = 256MB
fsync = on
synchronous_commit = on
max_wal_size = 2GB
checkpoint_timeout = 15min
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %d '
`

func (s *starter) pgData() string { return filepath.Join(s.varDir, "pg") }
func (s *starter) pgLog() string  { return filepath.Join(s.varDir, "postgres.log") }

// pgCommand runs a PostgreSQL binary, as the postgres user when we are root:
// initdb and postgres refuse to run as root.
func (s *starter) pgCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	bin := filepath.Join(pgBin, name)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	// The postgres user may not be allowed into the caller's working directory.
	cmd.Dir = s.varDir
	return cmd
}

func (s *starter) startPostgres(ctx context.Context) (Instance, bool, error) {
	if _, err := os.Stat(filepath.Join(pgBin, "pg_ctl")); err != nil {
		return Instance{}, false, fmt.Errorf("devdeps: PostgreSQL 15 server binaries not found in %s (apt-get install postgresql-15): %w", pgBin, err)
	}
	if err := s.preparePgDirs(); err != nil {
		return Instance{}, false, err
	}
	if _, err := os.Stat(filepath.Join(s.pgData(), "PG_VERSION")); err != nil {
		if err := s.initdb(ctx); err != nil {
			return Instance{}, false, err
		}
	}
	// A cluster still running without a record (state file deleted) is adopted
	// rather than fought over.
	if inst, ok := s.runningPostgres(ctx); ok {
		return inst, false, nil
	}
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return Instance{}, false, err
		}
		s.logf("starting PostgreSQL 15 on %s (data %s)", loopback(port), s.pgData())
		serverOpts := fmt.Sprintf("-p %d -k %s", port, s.pgData())
		if s.opts.NoFsync {
			serverOpts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
		}
		cmd := s.pgCommand(ctx, "pg_ctl", "start", "-D", s.pgData(), "-l", s.pgLog(), "-w", "-t", "60", "-s",
			"-o", serverOpts)
		out, err := cmd.CombinedOutput()
		if err == nil {
			inst, ok := s.runningPostgres(ctx)
			if !ok {
				return Instance{}, false, fmt.Errorf("devdeps: PostgreSQL started but does not answer; log %s:\n%s", s.pgLog(), tail(s.pgLog(), 10))
			}
			return inst, true, nil
		}
		lastErr = fmt.Errorf("devdeps: pg_ctl start: %w: %s\n%s", err, bytes.TrimSpace(out), tail(s.pgLog(), 10))
		if !strings.Contains(tail(s.pgLog(), 10), "already in use") {
			break
		}
	}
	return Instance{}, false, lastErr
}

// preparePgDirs makes /var/tmp/andes-<hash> (owned by postgres when we are root)
// and links the cluster and its log from .run/ so they are easy to find.
func (s *starter) preparePgDirs() error {
	if err := os.MkdirAll(s.varDir, 0o755); err != nil {
		return fmt.Errorf("devdeps: %w", err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("devdeps: running as root needs the postgres user (apt-get install postgresql-15): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(s.varDir, uid, gid); err != nil {
			return fmt.Errorf("devdeps: %w", err)
		}
	}
	if err := symlink(s.pgData(), filepath.Join(s.runDir, "pg")); err != nil {
		return err
	}
	return symlink(s.pgLog(), filepath.Join(s.runDir, "postgres.log"))
}

func (s *starter) initdb(ctx context.Context) error {
	// A half-made cluster from an interrupted initdb would make initdb refuse.
	if err := os.RemoveAll(s.pgData()); err != nil {
		return fmt.Errorf("devdeps: %w", err)
	}
	s.logf("initdb %s", s.pgData())
	began := time.Now()
	// --no-sync: the cluster is disposable, and skipping initdb's own fsyncs halves
	// the first start; the server itself runs with fsync on.
	cmd := s.pgCommand(ctx, "initdb", "-D", s.pgData(), "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("devdeps: initdb: %w\n%s", err, bytes.TrimSpace(out))
	}
	f, err := os.OpenFile(filepath.Join(s.pgData(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("devdeps: %w", err)
	}
	if _, err := f.WriteString(pgSettings); err != nil {
		_ = f.Close()
		return fmt.Errorf("devdeps: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("devdeps: %w", err)
	}
	s.logf("initdb done in %s", time.Since(began).Round(time.Millisecond))
	return nil
}

// runningPostgres reads postmaster.pid: its first line is the pid, its fourth the
// port.
func (s *starter) runningPostgres(ctx context.Context) (Instance, bool) {
	raw, err := os.ReadFile(filepath.Join(s.pgData(), "postmaster.pid"))
	if err != nil {
		return Instance{}, false
	}
	lines := strings.Split(string(raw), "\n")
	if len(lines) < 4 {
		return Instance{}, false
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(lines[0]))
	port, err2 := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err1 != nil || err2 != nil {
		return Instance{}, false
	}
	inst := Instance{
		Dep:       Postgres,
		PID:       pid,
		Port:      port,
		URL:       fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", loopback(port)),
		Dir:       s.pgData(),
		StartedAt: time.Now().UTC(),
	}
	if st, err := os.Stat(filepath.Join(s.pgData(), "postmaster.pid")); err == nil {
		inst.StartedAt = st.ModTime().UTC()
	}
	return inst, alive(ctx, inst)
}

func (s *starter) stopPostgres(ctx context.Context) error {
	if _, ok := s.runningPostgres(ctx); !ok {
		return nil
	}
	s.logf("stopping PostgreSQL (%s)", s.pgData())
	out, err := s.pgCommand(ctx, "pg_ctl", "stop", "-D", s.pgData(), "-m", "fast", "-w", "-s").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// symlink makes name point at target, replacing a link that points elsewhere.
func symlink(target, name string) error {
	if cur, err := os.Readlink(name); err == nil {
		if cur == target {
			return nil
		}
		if err := os.Remove(name); err != nil {
			return fmt.Errorf("devdeps: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		// Something that is not a link is in the way; leave it and the user's data alone.
		return nil
	}
	if err := os.Symlink(target, name); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("devdeps: %w", err)
	}
	return nil
}
