package validation_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	supervisorv1 "github.com/andes-bank/andes/gen/andes/supervisor/v1"
	"github.com/andes-bank/andes/gen/andes/supervisor/v1/supervisorv1connect"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/validation"
)

const domain = rpcstatus.Domain("supervisor.andes.bank")

var (
	valid   = &supervisorv1.RestartProcessRequest{IdempotencyKey: "k1", Name: "alpha"}
	invalid = &supervisorv1.RestartProcessRequest{IdempotencyKey: "", Name: "Alpha!"}
)

// supervisor answers every valid restart; reaching it with an invalid one fails
// the test.
type supervisor struct {
	supervisorv1.UnimplementedSupervisorServiceServer
	t *testing.T
}

func (s supervisor) RestartProcess(_ context.Context, req *supervisorv1.RestartProcessRequest) (*supervisorv1.RestartProcessResponse, error) {
	if req.GetIdempotencyKey() == "" {
		s.t.Error("the handler saw an invalid request")
	}
	return &supervisorv1.RestartProcessResponse{Process: &supervisorv1.Process{Name: req.GetName()}}, nil
}

func (s supervisor) restartConnect(ctx context.Context, req *connect.Request[supervisorv1.RestartProcessRequest]) (*connect.Response[supervisorv1.RestartProcessResponse], error) {
	resp, err := s.RestartProcess(ctx, req.Msg)
	return connect.NewResponse(resp), err
}

// checkRefusal asserts VALIDATION_FAILED in domain with one violation per field
// of invalid.
func checkRefusal(t *testing.T, st *status.Status) {
	t.Helper()
	r := rpcstatus.Read(st.Err())
	if r.Code != codes.InvalidArgument || r.Reason != "VALIDATION_FAILED" || r.Domain != string(domain) {
		t.Fatalf("answer %+v, want VALIDATION_FAILED in %s", r, domain)
	}
	fields := map[string]bool{}
	for _, v := range r.Violations {
		fields[v.GetField()] = true
	}
	if len(r.Violations) != 2 || !fields["idempotency_key"] || !fields["name"] {
		t.Fatalf("violations %v, want one each for idempotency_key and name", r.Violations)
	}
}

func newValidator(t *testing.T) *validation.Validator {
	t.Helper()
	v, err := validation.New()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTheGRPCInterceptorRefusesAnInvalidRequest(t *testing.T) {
	v := newValidator(t)
	srv := grpc.NewServer(grpc.UnaryInterceptor(v.UnaryServerInterceptor(domain)))
	supervisorv1.RegisterSupervisorServiceServer(srv, supervisor{t: t})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := supervisorv1.NewSupervisorServiceClient(conn)

	_, err = client.RestartProcess(t.Context(), invalid)
	checkRefusal(t, status.Convert(err))
	if resp, err := client.RestartProcess(t.Context(), valid); err != nil || resp.GetProcess().GetName() != "alpha" {
		t.Fatalf("valid request: %v, %v", resp, err)
	}
}

// recvStream is a server stream whose client sends msgs.
type recvStream struct {
	grpc.ServerStream
	msgs []*supervisorv1.RestartProcessRequest
}

func (s *recvStream) Context() context.Context { return context.Background() }

func (s *recvStream) RecvMsg(m any) error {
	if len(s.msgs) == 0 {
		return errors.New("end of stream")
	}
	m.(*supervisorv1.RestartProcessRequest).IdempotencyKey = s.msgs[0].GetIdempotencyKey()
	m.(*supervisorv1.RestartProcessRequest).Name = s.msgs[0].GetName()
	s.msgs = s.msgs[1:]
	return nil
}

func TestTheStreamInterceptorRefusesAnInvalidMessage(t *testing.T) {
	v := newValidator(t)
	var errs []error
	handler := func(_ any, ss grpc.ServerStream) error {
		for range 2 {
			errs = append(errs, ss.RecvMsg(new(supervisorv1.RestartProcessRequest)))
		}
		return nil
	}
	err := v.StreamServerInterceptor(domain)(nil, &recvStream{msgs: []*supervisorv1.RestartProcessRequest{valid, invalid}},
		&grpc.StreamServerInfo{FullMethod: "/x/Y"}, handler)
	if err != nil || len(errs) != 2 {
		t.Fatalf("stream: %v %v", err, errs)
	}
	if errs[0] != nil {
		t.Fatalf("valid message refused: %v", errs[0])
	}
	checkRefusal(t, status.Convert(errs[1]))
}

func TestTheConnectInterceptorRefusesAnInvalidRequest(t *testing.T) {
	v := newValidator(t)
	mux := http.NewServeMux()
	mux.Handle(supervisorv1connect.NewSupervisorServiceHandler(connectSupervisor{supervisor{t: t}},
		connect.WithInterceptors(v.ConnectInterceptor(domain))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := supervisorv1connect.NewSupervisorServiceClient(srv.Client(), srv.URL)

	_, err := client.RestartProcess(t.Context(), connect.NewRequest(invalid))
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v", err)
	}
	st := status.New(codes.Code(ce.Code()), ce.Message())
	for _, d := range ce.Details() {
		m, err := d.Value()
		if err != nil {
			t.Fatal(err)
		}
		if st, err = st.WithDetails(protoadapt.MessageV1Of(m)); err != nil {
			t.Fatal(err)
		}
	}
	checkRefusal(t, st)
	if resp, err := client.RestartProcess(t.Context(), connect.NewRequest(valid)); err != nil || resp.Msg.GetProcess().GetName() != "alpha" {
		t.Fatalf("valid request: %v, %v", resp, err)
	}
}

func TestInProcessCallsAreCheckedToo(t *testing.T) {
	v := newValidator(t)
	if err := v.Check(domain, valid); err != nil {
		t.Fatal(err)
	}
	checkRefusal(t, status.Convert(v.Check(domain, invalid)))
	if err := v.Check(domain, "not a message"); err != nil {
		t.Fatalf("a value without rules was refused: %v", err)
	}
}

type connectSupervisor struct{ s supervisor }

func (c connectSupervisor) ListProcesses(context.Context, *connect.Request[supervisorv1.ListProcessesRequest]) (*connect.Response[supervisorv1.ListProcessesResponse], error) {
	return connect.NewResponse(&supervisorv1.ListProcessesResponse{}), nil
}

func (c connectSupervisor) RestartProcess(ctx context.Context, req *connect.Request[supervisorv1.RestartProcessRequest]) (*connect.Response[supervisorv1.RestartProcessResponse], error) {
	return c.s.restartConnect(ctx, req)
}
