// Package e2e starts the whole platform the way `make up` does (package
// platformtest) and checks what the supervisor promises:
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
	"strconv"
	"strings"
	"syscall"
	"testing"

	supervisorv1 "github.com/andes-bank/andes/gen/andes/supervisor/v1"
	"github.com/andes-bank/andes/monitor/platformtest"
)

// upToServing makes TestUpToServing measure one start and print it for `make bench`.
var upToServing = flag.Bool("up-to-serving", false, "measure the time from starting the supervisor to every process SERVING, print it as a BENCH line")

func TestPlatform(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts every process; skipped under -short")
	}
	r := platformtest.NewRun(t)
	p := r.Start(t)
	p.WaitServing(t)

	t.Run("a process killed with SIGKILL is restarted and SERVING again", func(t *testing.T) {
		const victim = "customer"
		before := p.Process(t, victim)
		if err := syscall.Kill(int(before.GetPid()), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		after := p.WaitState(t, victim, func(pr *supervisorv1.Process) bool {
			return pr.GetPid() != 0 && pr.GetPid() != before.GetPid()
		})
		if after.GetRestarts() != before.GetRestarts()+1 || after.GetLastExit().GetSignal() != "SIGKILL" {
			t.Errorf("after the kill: %v; before: %v", after, before)
		}
		p.WaitOneServing(t, victim)
	})

	t.Run("a process that crashes at start is braked, reported and redeployed", func(t *testing.T) {
		const victim = "sms"
		real := r.BreakConfig(t, victim, "ANDES_LOG_LEVEL=LOUD")
		before := p.Process(t, victim)
		if err := syscall.Kill(int(before.GetPid()), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		crashed := p.WaitState(t, victim, func(pr *supervisorv1.Process) bool {
			return pr.GetState() == supervisorv1.ProcessState_PROCESS_STATE_CRASH_LOOP
		})
		// The kill and four failed starts make the five exits of the brake; a
		// fifth start would have counted one more restart.
		if got, want := crashed.GetRestarts()-before.GetRestarts(), int32(4); got != want || crashed.GetPid() != 0 {
			t.Errorf("crash loop after %d restarts (pid %d), want %d", got, crashed.GetPid(), want)
		}
		if log := r.Log(t, victim); !strings.Contains(log, "ANDES_LOG_LEVEL") {
			t.Errorf("the log of %s does not name the broken variable:\n%s", victim, log)
		}

		r.Repair(t, victim, real)
		resp, err := p.Supervisor().RestartProcess(context.Background(), &supervisorv1.RestartProcessRequest{
			IdempotencyKey: "e2e-redeploy-" + victim, Name: victim, Reason: "config repaired",
		})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetProcess().GetState() == supervisorv1.ProcessState_PROCESS_STATE_CRASH_LOOP {
			t.Errorf("still in crash loop after the redeploy: %v", resp.GetProcess())
		}
		p.WaitOneServing(t, victim)
	})

	t.Run("stopping the supervisor leaves no child alive", func(t *testing.T) {
		pids := p.ChildPIDs(t)
		if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(t); err != nil {
			t.Errorf("supervisor ended with %v", err)
		}
		for name, pid := range pids {
			if alive(pid) {
				t.Errorf("%s (pid %d) alive after the supervisor stopped", name, pid)
			}
		}
	})

	t.Run("killing the supervisor with SIGKILL leaves no child alive", func(t *testing.T) {
		p := r.Start(t)
		p.WaitServing(t)
		pids := p.ChildPIDs(t)
		if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = p.Wait(t)
		// Pdeathsig, not the supervisor, ends the children now.
		for name, pid := range pids {
			platformtest.WaitFor(t, platformtest.StepTimeout, fmt.Sprintf("%s (pid %d) to die", name, pid), func() bool { return !alive(pid) })
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
	r := platformtest.NewRun(t)
	p := r.Start(t)
	took := p.WaitServing(t)
	fmt.Printf("BENCH platform.up_to_serving %.2f s\n", took.Seconds())
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
