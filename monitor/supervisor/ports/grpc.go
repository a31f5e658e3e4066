// Package ports serves the supervisor's API, andes.supervisor.v1, over a
// supervisor.Manager: the monitor asks it to redeploy a sick process, operators
// read it. Errors of the manager are mapped to gRPC statuses here, once.
package ports

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/types/known/timestamppb"

	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	supervisorv1 "github.com/andes-bank/andes/gen/andes/supervisor/v1"
	"github.com/andes-bank/andes/monitor/supervisor"
	"github.com/andes-bank/andes/platform/rpcstatus"
)

// Manager is what the API needs of the supervisor.
type Manager interface {
	List() []supervisor.Status
	Status(name string) (supervisor.Status, bool)
	Restart(name string) (supervisor.Status, error)
}

var _ Manager = (*supervisor.Manager)(nil)

// KeyTTL is how long a restart's idempotency key answers with the first outcome.
const KeyTTL = 10 * time.Minute

// Server implements andes.supervisor.v1.SupervisorService.
type Server struct {
	supervisorv1.UnimplementedSupervisorServiceServer
	m   Manager
	now func() time.Time

	mu        sync.Mutex
	restarts  map[string]bool         // processes with a restart under way
	completed map[string]keyedRestart // by idempotency key
}

// keyedRestart is the first outcome of a restart request, replayed for its key.
type keyedRestart struct {
	name string
	resp *supervisorv1.RestartProcessResponse
	at   time.Time
}

// NewServer serves m; now is the clock that ages idempotency keys.
func NewServer(m Manager, now func() time.Time) (*Server, error) {
	return &Server{m: m, now: now, restarts: map[string]bool{}, completed: map[string]keyedRestart{}}, nil
}

// ListProcesses lists every supervised process in manifest order.
func (s *Server) ListProcesses(context.Context, *supervisorv1.ListProcessesRequest) (*supervisorv1.ListProcessesResponse, error) {
	var out supervisorv1.ListProcessesResponse
	for _, st := range s.m.List() {
		out.Processes = append(out.Processes, toProto(st))
	}
	return &out, nil
}

// RestartProcess stops and starts one process, once per idempotency key.
func (s *Server) RestartProcess(_ context.Context, req *supervisorv1.RestartProcessRequest) (*supervisorv1.RestartProcessResponse, error) {
	if _, ok := s.m.Status(req.GetName()); !ok {
		return nil, errorDomain.Error(errorsv1.Reason_REASON_NOT_FOUND, "no supervised process "+strconv.Quote(req.GetName()), nil)
	}

	s.mu.Lock()
	s.forgetOldKeys()
	if prev, ok := s.completed[req.GetIdempotencyKey()]; ok {
		s.mu.Unlock()
		if prev.name != req.GetName() {
			return nil, errorDomain.Error(errorsv1.Reason_REASON_IDEMPOTENCY_MISMATCH,
				"the idempotency key was used to restart another process", nil)
		}
		return prev.resp, nil
	}
	if s.restarts[req.GetName()] {
		s.mu.Unlock()
		return nil, errorDomain.Error(errorsv1.Reason_REASON_RESTART_THROTTLED,
			"a restart of "+req.GetName()+" is under way", rpcstatus.RetryAfter(time.Second))
	}
	s.restarts[req.GetName()] = true
	s.mu.Unlock()

	st, err := s.m.Restart(req.GetName())

	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.restarts, req.GetName())
	switch {
	case errors.Is(err, supervisor.ErrNotRunning):
		return nil, errorDomain.Error(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE,
			"the supervisor is stopping", rpcstatus.RetryAfter(5*time.Second))
	case err != nil:
		// The binary could not be executed: the process is in backoff and the
		// supervisor keeps trying; the caller learns the restart did not start it.
		return nil, errorDomain.Error(errorsv1.Reason_REASON_INTERNAL, req.GetName()+" could not be started", nil)
	}
	resp := &supervisorv1.RestartProcessResponse{Process: toProto(st)}
	s.completed[req.GetIdempotencyKey()] = keyedRestart{name: req.GetName(), resp: resp, at: s.now()}
	return resp, nil
}

// forgetOldKeys drops keys past their TTL; the caller holds mu. The supervisor
// restarts a handful of processes a day, so a scan per request costs nothing.
func (s *Server) forgetOldKeys() {
	for k, r := range s.completed {
		if s.now().Sub(r.at) > KeyTTL {
			delete(s.completed, k)
		}
	}
}

func toProto(st supervisor.Status) *supervisorv1.Process {
	p := &supervisorv1.Process{
		Name:     st.Name,
		State:    stateToProto(st.State),
		Pid:      int32(st.PID),
		Restarts: int32(st.Restarts),
		Since:    timestamppb.New(st.Since),
	}
	if e := st.LastExit; e != nil {
		p.LastExit = &supervisorv1.Exit{Code: int32(e.Code), ExitedAt: timestamppb.New(e.At)}
		if e.Signal != 0 {
			// The API promises the conventional name ("SIGKILL"); Go's are descriptions.
			p.LastExit.Signal = unix.SignalName(e.Signal)
		}
	}
	return p
}

func stateToProto(s supervisor.State) supervisorv1.ProcessState {
	switch s {
	case supervisor.Starting:
		return supervisorv1.ProcessState_PROCESS_STATE_STARTING
	case supervisor.Running:
		return supervisorv1.ProcessState_PROCESS_STATE_RUNNING
	case supervisor.Backoff:
		return supervisorv1.ProcessState_PROCESS_STATE_BACKOFF
	case supervisor.CrashLoop:
		return supervisorv1.ProcessState_PROCESS_STATE_CRASH_LOOP
	case supervisor.Stopped:
		return supervisorv1.ProcessState_PROCESS_STATE_STOPPED
	}
	return supervisorv1.ProcessState_PROCESS_STATE_UNSPECIFIED
}

// errorDomain is the ErrorInfo domain of every refusal this API makes.
var errorDomain = rpcstatus.DomainOf(errorsv1.Domain_DOMAIN_SUPERVISOR)
