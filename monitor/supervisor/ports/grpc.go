// Package ports serves the supervisor's API, andes.supervisor.v1, over a
// supervisor.Manager: the monitor asks it to redeploy a sick process, operators
// read it. Errors of the manager are mapped to gRPC statuses here, once.
package ports

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"buf.build/go/protovalidate"
	"golang.org/x/sys/unix"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	supervisorv1 "github.com/andes-bank/andes/gen/andes/supervisor/v1"
	"github.com/andes-bank/andes/monitor/supervisor"
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
	m         Manager
	now       func() time.Time
	validator protovalidate.Validator

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
	v, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("ports: %w", err)
	}
	return &Server{m: m, now: now, validator: v, restarts: map[string]bool{}, completed: map[string]keyedRestart{}}, nil
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
	if err := s.validator.Validate(req); err != nil {
		return nil, validationError(err)
	}
	if _, ok := s.m.Status(req.GetName()); !ok {
		return nil, refusal(codes.NotFound, errorsv1.Reason_REASON_NOT_FOUND, "no supervised process "+strconv.Quote(req.GetName()), nil)
	}

	s.mu.Lock()
	s.forgetOldKeys()
	if prev, ok := s.completed[req.GetIdempotencyKey()]; ok {
		s.mu.Unlock()
		if prev.name != req.GetName() {
			return nil, refusal(codes.FailedPrecondition, errorsv1.Reason_REASON_IDEMPOTENCY_MISMATCH,
				"the idempotency key was used to restart another process", nil)
		}
		return prev.resp, nil
	}
	if s.restarts[req.GetName()] {
		s.mu.Unlock()
		return nil, refusal(codes.ResourceExhausted, errorsv1.Reason_REASON_RESTART_THROTTLED,
			"a restart of "+req.GetName()+" is under way", map[string]string{"retry_after_seconds": "1"})
	}
	s.restarts[req.GetName()] = true
	s.mu.Unlock()

	st, err := s.m.Restart(req.GetName())

	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.restarts, req.GetName())
	switch {
	case errors.Is(err, supervisor.ErrNotRunning):
		return nil, refusal(codes.Unavailable, errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE,
			"the supervisor is stopping", map[string]string{"retry_after_seconds": "5"})
	case err != nil:
		// The binary could not be executed: the process is in backoff and the
		// supervisor keeps trying; the caller learns the restart did not start it.
		return nil, status.Errorf(codes.Internal, "%s could not be started", req.GetName())
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

// domain is the ErrorInfo domain of every refusal this API makes.
var domain = proto.GetExtension(errorsv1.Domain_DOMAIN_SUPERVISOR.Descriptor().Values().
	ByNumber(errorsv1.Domain_DOMAIN_SUPERVISOR.Number()).Options(), errorsv1.E_DomainName).(string) // "supervisor.andes.bank"

// reasonString is the wire string of a reason, from the contract's own table.
func reasonString(r errorsv1.Reason) string {
	ev := r.Descriptor().Values().ByNumber(r.Number())
	spec, _ := proto.GetExtension(ev.Options(), errorsv1.E_ReasonSpec).(*errorsv1.ReasonSpec)
	return spec.GetReason()
}

func refusal(code codes.Code, reason errorsv1.Reason, msg string, metadata map[string]string) error {
	st, err := status.New(code, msg).WithDetails(&errdetails.ErrorInfo{
		Reason: reasonString(reason), Domain: domain, Metadata: metadata,
	})
	if err != nil {
		return status.Error(code, msg)
	}
	return st.Err()
}

func validationError(err error) error {
	var verr *protovalidate.ValidationError
	br := &errdetails.BadRequest{}
	if errors.As(err, &verr) {
		for _, v := range verr.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
				Field:       protovalidate.FieldPathString(v.Proto.GetField()),
				Description: v.Proto.GetMessage(),
			})
		}
	}
	st, derr := status.New(codes.InvalidArgument, "the request breaks an input rule").WithDetails(
		&errdetails.ErrorInfo{Reason: reasonString(errorsv1.Reason_REASON_VALIDATION_FAILED), Domain: domain}, br)
	if derr != nil {
		return status.Error(codes.InvalidArgument, "the request breaks an input rule")
	}
	return st.Err()
}
