package ports_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	supervisorv1 "github.com/andes-bank/andes/gen/andes/supervisor/v1"
	"github.com/andes-bank/andes/monitor/supervisor"
	"github.com/andes-bank/andes/monitor/supervisor/ports"
	"github.com/andes-bank/andes/platform/rpcstatus"
)

// fakeManager restarts "alpha" when told to through release.
type fakeManager struct {
	entered chan struct{}
	release chan error
	pid     int
}

func (f *fakeManager) List() []supervisor.Status {
	return []supervisor.Status{{Name: "alpha", State: supervisor.Running, PID: f.pid}}
}

func (f *fakeManager) Status(name string) (supervisor.Status, bool) {
	if name != "alpha" {
		return supervisor.Status{}, false
	}
	return f.List()[0], true
}

func (f *fakeManager) Restart(string) (supervisor.Status, error) {
	f.entered <- struct{}{}
	if err := <-f.release; err != nil {
		return supervisor.Status{}, err
	}
	f.pid++
	return supervisor.Status{Name: "alpha", State: supervisor.Running, PID: f.pid, Restarts: 1}, nil
}

func newServer(t *testing.T, clock *time.Time) (*ports.Server, *fakeManager) {
	t.Helper()
	f := &fakeManager{entered: make(chan struct{}, 1), release: make(chan error, 1), pid: 100}
	s, err := ports.NewServer(f, func() time.Time { return *clock })
	if err != nil {
		t.Fatal(err)
	}
	return s, f
}

func reason(t *testing.T, err error) string {
	t.Helper()
	r := rpcstatus.Read(err)
	if r.Reason == "" {
		t.Fatalf("no ErrorInfo in %v", err)
	}
	if r.Domain != "supervisor.andes.bank" {
		t.Errorf("domain %q", r.Domain)
	}
	return r.Reason
}

func TestASecondRestartWhileOneRunsIsThrottled(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, f := newServer(t, &now)
	done := make(chan error, 1)
	go func() {
		_, err := s.RestartProcess(context.Background(), &supervisorv1.RestartProcessRequest{IdempotencyKey: "a", Name: "alpha"})
		done <- err
	}()
	<-f.entered
	_, err := s.RestartProcess(context.Background(), &supervisorv1.RestartProcessRequest{IdempotencyKey: "b", Name: "alpha"})
	if status.Code(err) != codes.ResourceExhausted || reason(t, err) != "RESTART_THROTTLED" {
		t.Errorf("second restart = %v, want RESTART_THROTTLED", err)
	}
	f.release <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestAKeyReplaysItsRestartUntilItExpires(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, f := newServer(t, &now)
	req := &supervisorv1.RestartProcessRequest{IdempotencyKey: "redeploy-7", Name: "alpha"}
	f.release <- nil
	first, err := s.RestartProcess(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	<-f.entered

	now = now.Add(ports.KeyTTL - time.Second)
	again, err := s.RestartProcess(context.Background(), req)
	if err != nil || again.GetProcess().GetPid() != first.GetProcess().GetPid() {
		t.Fatalf("replay = %v, %v; want pid %d", again, err, first.GetProcess().GetPid())
	}

	now = now.Add(2 * time.Second)
	f.release <- nil
	later, err := s.RestartProcess(context.Background(), req)
	if err != nil || later.GetProcess().GetPid() == first.GetProcess().GetPid() {
		t.Fatalf("after the key expired = %v, %v; want a new restart", later, err)
	}
}

func TestStartFailureAndStoppingAreMappedOnce(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		err  error
		code codes.Code
	}{
		{supervisor.ErrNotRunning, codes.Unavailable},
		{errors.New("fork/exec /x/alpha: permission denied"), codes.Internal},
	} {
		s, f := newServer(t, &now)
		f.release <- tc.err
		_, err := s.RestartProcess(context.Background(), &supervisorv1.RestartProcessRequest{IdempotencyKey: "k", Name: "alpha"})
		if status.Code(err) != tc.code {
			t.Errorf("%v mapped to %v, want %v", tc.err, err, tc.code)
		}
		if status.Convert(err).Message() == tc.err.Error() {
			t.Errorf("the manager's error was passed through: %v", err)
		}
	}
}
