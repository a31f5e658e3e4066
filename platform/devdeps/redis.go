package devdeps

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func (s *starter) startRedis(ctx context.Context) (Instance, error) {
	bin, err := s.redisBinary(ctx)
	if err != nil {
		return Instance{}, err
	}
	dir := filepath.Join(s.runDir, "redis")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Instance{}, fmt.Errorf("devdeps: %w", err)
	}
	pidFile := filepath.Join(dir, "redis.pid")
	logFile := filepath.Join(dir, "redis.log")
	stopUnrecorded(ctx, pidFile, "redis-server")
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return Instance{}, err
		}
		_ = os.Remove(pidFile)
		s.logf("starting Redis on %s", loopback(port))
		// A cache and token store for tests: no snapshots, no append-only file.
		cmd := exec.CommandContext(ctx, bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no",
			"--daemonize", "yes", "--pidfile", pidFile, "--dir", dir, "--logfile", logFile)
		if out, err := cmd.CombinedOutput(); err != nil {
			return Instance{}, fmt.Errorf("devdeps: redis-server: %w: %s", err, bytes.TrimSpace(out))
		}
		// redis-server daemonizes before it binds, so a taken port shows only as a
		// server that never answers.
		err = waitFor(ctx, 10*time.Second, "Redis", func() error { return redisPing(ctx, port) })
		if err != nil {
			lastErr = fmt.Errorf("%w\n%s", err, tail(logFile, 10))
			if pid, perr := readPIDFile(pidFile); perr == nil {
				_ = terminate(ctx, pid)
			}
			continue
		}
		var pid int
		err = waitFor(ctx, 5*time.Second, "Redis pid file", func() error {
			pid, err = readPIDFile(pidFile)
			return err
		})
		if err != nil {
			return Instance{}, err
		}
		return Instance{
			Dep:       Redis,
			PID:       pid,
			Port:      port,
			URL:       fmt.Sprintf("redis://%s/0", loopback(port)),
			Dir:       dir,
			StartedAt: time.Now().UTC(),
		}, nil
	}
	return Instance{}, lastErr
}

// redisBinary finds redis-server, installing Debian's package when it is missing
// and we may: a fresh CI machine has no Redis.
func (s *starter) redisBinary(ctx context.Context) (string, error) {
	if bin, err := exec.LookPath("redis-server"); err == nil {
		return bin, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("devdeps: redis-server not found; install it (apt-get install -y redis-server) or set REDIS_URL")
	}
	s.logf("redis-server missing: apt-get install -y redis-server")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "redis-server"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("devdeps: apt-get %s: %w\n%s", strings.Join(args, " "), err, lastLines(out, 10))
		}
	}
	for _, bin := range []string{"/usr/bin/redis-server", "/usr/sbin/redis-server"} {
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	return exec.LookPath("redis-server")
}

// redisPing speaks just enough RESP to know the server is up.
func redisPing(ctx context.Context, port int) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", loopback(port))
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected answer %q", strings.TrimSpace(line))
	}
	return nil
}
