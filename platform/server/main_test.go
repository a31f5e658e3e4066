package server_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/server"
)

// asProcess makes the test binary act as a process's main when re-executed with
// SERVER_TEST_MAIN=1, so Main is tested as a real process: exit status, stderr and
// signals.
func asProcess() bool {
	if os.Getenv("SERVER_TEST_MAIN") != "1" {
		return false
	}
	var cfg facadeConfig
	server.Main(&cfg, func(context.Context, *server.Process) error { return nil })
	return true
}

func mainCommand(t *testing.T, env map[string]string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainAsAProcess$")
	// A clean environment: nothing of the machine's ANDES_* leaks in.
	cmd.Env = []string{"SERVER_TEST_MAIN=1", "PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

func TestMainAsAProcess(t *testing.T) {
	if asProcess() {
		return
	}
	pk := pkitest.New(t, "facade")

	t.Run("a missing or malformed variable stops start-up, naming it", func(t *testing.T) {
		for variable, change := range map[string]func(map[string]string){
			"ANDES_GRPC_ADDR":        func(e map[string]string) { delete(e, "ANDES_GRPC_ADDR") },
			"ANDES_SHUTDOWN_TIMEOUT": func(e map[string]string) { e["ANDES_SHUTDOWN_TIMEOUT"] = "soon" },
			"ANDES_EDGE_ADDR":        func(e map[string]string) { e["ANDES_EDGE_ADDR"] = "no-port" },
		} {
			env := facadeEnv(t, pk, "facade")
			change(env)
			out, err := mainCommand(t, env).CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("%s: exit %v, want status 1; output: %s", variable, err, out)
			}
			if !strings.Contains(string(out), variable) || !strings.Contains(string(out), `"level":"ERROR"`) {
				t.Errorf("%s: the log line does not name it: %s", variable, out)
			}
		}
	})

	t.Run("SIGTERM shuts down cleanly", func(t *testing.T) {
		cmd := mainCommand(t, facadeEnv(t, pk, "facade"))
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stderr)
		serving := make(chan bool, 1)
		go func() {
			for lines.Scan() {
				if strings.Contains(lines.Text(), `"msg":"serving"`) {
					serving <- true
				}
			}
			close(serving)
		}()
		select {
		case ok := <-serving:
			if !ok {
				t.Fatal("the process ended before serving")
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatal("the process never served")
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit after SIGTERM: %v, want status 0", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatal("SIGTERM did not stop the process")
		}
	})
}
