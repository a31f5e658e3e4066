package devdeps

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func (s *starter) natsBinary() string {
	return filepath.Join(s.opts.Root, ".tools", "bin", "nats-server")
}

func (s *starter) startNATS(ctx context.Context) (Instance, error) {
	bin, err := s.ensureNATSBinary(ctx)
	if err != nil {
		return Instance{}, err
	}
	dir := filepath.Join(s.runDir, "nats")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Instance{}, fmt.Errorf("devdeps: %w", err)
	}
	logFile := filepath.Join(dir, "nats-server.log")
	pidFile := filepath.Join(dir, "nats-server.pid")
	stopUnrecorded(ctx, pidFile, "nats-server")
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return Instance{}, err
		}
		s.logf("starting NATS JetStream on %s", loopback(port))
		cmd := exec.Command(bin,
			"-a", "127.0.0.1", "-p", strconv.Itoa(port),
			"-n", "andes-dev", "-js", "-sd", filepath.Join(dir, "store"),
			"-P", pidFile, "-l", logFile)
		// Its own session, so a Ctrl-C meant for the caller's terminal does not
		// reach it, and no pipe to the caller, so `go test` does not wait for it.
		// It outlives the caller on purpose: the checkout's next run reuses it.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			return Instance{}, fmt.Errorf("devdeps: nats-server: %w", err)
		}
		exited := make(chan struct{})
		go func() {
			// Reap it if it dies while we live, so a zombie never looks alive.
			_ = cmd.Wait()
			close(exited)
		}()
		err = waitFor(ctx, 15*time.Second, "NATS", func() error {
			select {
			case <-exited:
				return errExited
			default:
			}
			return natsReady(ctx, port)
		})
		if err == nil {
			return Instance{
				Dep:       NATS,
				PID:       cmd.Process.Pid,
				Port:      port,
				URL:       fmt.Sprintf("nats://%s", loopback(port)),
				Dir:       dir,
				StartedAt: time.Now().UTC(),
			}, nil
		}
		_ = cmd.Process.Kill()
		lastErr = fmt.Errorf("%w\n%s", err, tail(logFile, 10))
	}
	return Instance{}, lastErr
}

var errExited = errors.New("exited")

// ensureNATSBinary builds nats-server from the version platform/go.mod pins when
// `make tools` has not: Debian's package is too old for the JetStream API we use.
func (s *starter) ensureNATSBinary(ctx context.Context) (string, error) {
	bin := s.natsBinary()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("devdeps: %w", err)
	}
	s.logf("building %s from platform/go.mod's nats-server version", bin)
	began := time.Now()
	tmp := bin + ".building"
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, "github.com/nats-io/nats-server/v2")
	cmd.Dir = filepath.Join(s.opts.Root, "platform")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("devdeps: go build nats-server: %w\n%s", err, bytes.TrimSpace(out))
	}
	// Rename so a parallel reader never runs half a binary.
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("devdeps: %w", err)
	}
	s.logf("built nats-server in %s", time.Since(began).Round(time.Second))
	return bin, nil
}

// natsReady reads the server's INFO greeting and checks that JetStream is on.
func natsReady(ctx context.Context, port int) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", loopback(port))
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	body, ok := strings.CutPrefix(strings.TrimSpace(line), "INFO ")
	if !ok {
		return fmt.Errorf("unexpected greeting %q", line)
	}
	var info struct {
		JetStream bool `json:"jetstream"`
	}
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		return err
	}
	if !info.JetStream {
		return errors.New("JetStream is not enabled")
	}
	return nil
}
