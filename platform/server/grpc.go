// Package server is the bootstrap every Andes process shares: the internal gRPC
// listener (mutual TLS, authorization policy, health, reflection, metrics, tracing,
// panic recovery, request validation, graceful shutdown), the loopback admin HTTP
// listener, and Run, which turns a process's main into loading its config and
// registering its services.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/authz"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"

	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/platform/pki"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/validation"
)

// Defaults applied when Options leave a field zero.
const (
	// DefaultMaxRecvMsgSize bounds what one request may make the server buffer;
	// internal messages are small, so 4 MiB refuses abuse without refusing work.
	DefaultMaxRecvMsgSize = 4 << 20
	// DefaultShutdownTimeout is how long in-flight calls may finish before
	// connections are cut.
	DefaultShutdownTimeout = 10 * time.Second
	// policyRefresh is how often the policy file is re-read, so an operator's
	// edit applies without a restart.
	policyRefresh = 2 * time.Second
)

// Options configure the internal gRPC server.
type Options struct {
	// Credentials are the process's certificate and CA: clients must present a
	// certificate from the same CA.
	Credentials *pki.Credentials
	// PolicyFile is the authorization policy (deploy/policies/<name>.json),
	// re-read when it changes. Policy is the same as inline JSON, for tests. One
	// of them is required: without a policy nothing would be allowed.
	PolicyFile string
	Policy     string

	Logger         *slog.Logger
	Registerer     prometheus.Registerer         // nil: metrics are collected but not exposed
	TracerProvider trace.TracerProvider          // nil: trace context is propagated, spans are not recorded
	Propagator     propagation.TextMapPropagator // nil: W3C trace context and baggage

	MaxRecvMsgSize  int
	ShutdownTimeout time.Duration

	// Interceptors run after the platform's (metrics, recovery, authorization),
	// so they only see authorized calls; e.g. end-user token verification. Use
	// adds more later.
	UnaryInterceptors  []grpc.UnaryServerInterceptor
	StreamInterceptors []grpc.StreamServerInterceptor
	ServerOptions      []grpc.ServerOption
}

// Server is the internal gRPC server of a process. Register services on it (it is
// a grpc.ServiceRegistrar) before calling Serve.
type Server struct {
	grpc            *grpc.Server
	health          *health.Server
	draining        chan struct{}
	policy          interface{ Close() }
	log             *slog.Logger
	shutdownTimeout time.Duration

	// Interceptors added with Use, after construction: Run builds the server
	// before the process's setup knows what it needs (token verification).
	unary   []grpc.UnaryServerInterceptor
	stream  []grpc.StreamServerInterceptor
	serving bool
	// notBuilt are the services registered with RegisterPlaceholder.
	notBuilt []string
}

var _ grpc.ServiceRegistrar = (*Server)(nil)

// New builds the server. It fails if the policy cannot be read or parsed, so a
// process with a broken policy never starts serving.
func New(o Options) (*Server, error) {
	if o.Credentials == nil {
		return nil, errors.New("server: no credentials: the internal listener is mutual TLS only")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxRecvMsgSize == 0 {
		o.MaxRecvMsgSize = DefaultMaxRecvMsgSize
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.TracerProvider == nil {
		o.TracerProvider = tracenoop.NewTracerProvider()
	}
	if o.Propagator == nil {
		o.Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}

	var (
		policy interface {
			UnaryInterceptor(context.Context, any, *grpc.UnaryServerInfo, grpc.UnaryHandler) (any, error)
			StreamInterceptor(any, grpc.ServerStream, *grpc.StreamServerInfo, grpc.StreamHandler) error
		}
		closer interface{ Close() } = nopCloser{}
	)
	switch {
	case o.PolicyFile != "":
		w, err := authz.NewFileWatcher(o.PolicyFile, policyRefresh)
		if err != nil {
			return nil, fmt.Errorf("server: policy %s: %w", o.PolicyFile, err)
		}
		policy, closer = w, w
	case o.Policy != "":
		s, err := authz.NewStatic(o.Policy)
		if err != nil {
			return nil, fmt.Errorf("server: policy: %w", err)
		}
		policy = s
	default:
		return nil, errors.New("server: no authorization policy")
	}

	m, err := newMetrics(o.Registerer)
	if err != nil {
		closer.Close()
		return nil, err
	}
	s := &Server{
		health:          health.NewServer(),
		draining:        make(chan struct{}),
		policy:          closer,
		log:             o.Logger,
		shutdownTimeout: o.ShutdownTimeout,
		unary:           o.UnaryInterceptors,
		stream:          o.StreamInterceptors,
	}
	v, err := validation.New()
	if err != nil {
		closer.Close()
		return nil, fmt.Errorf("server: validator: %w", err)
	}
	domain := rpcstatus.ProcessDomain(o.Credentials.Name())
	b := boundary{log: o.Logger, internal: domain.Error(errorsv1.Reason_REASON_INTERNAL, "internal error", nil)}
	// Requests are validated last, after authorization and the process's own
	// interceptors (token verification): a caller that may not call learns nothing
	// of the rules, and no handler sees a request that breaks them.
	unary := []grpc.UnaryServerInterceptor{m.unary, b.unary, policy.UnaryInterceptor, s.runUnary, v.UnaryServerInterceptor(domain)}
	stream := []grpc.StreamServerInterceptor{m.stream, b.stream, policy.StreamInterceptor, s.runStream, v.StreamServerInterceptor(domain)}

	opts := []grpc.ServerOption{
		grpc.Creds(credentials.NewTLS(o.Credentials.ServerConfig())),
		grpc.MaxRecvMsgSize(o.MaxRecvMsgSize),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		grpc.StatsHandler(otelgrpc.NewServerHandler(
			otelgrpc.WithTracerProvider(o.TracerProvider),
			otelgrpc.WithPropagators(o.Propagator),
			// Metrics are Prometheus's job here; no global meter provider.
			otelgrpc.WithMeterProvider(metricnoop.NewMeterProvider()),
		)),
		// Clients keep idle connections alive with pings every 30s; refuse
		// only clients that ping abusively.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
	s.grpc = grpc.NewServer(append(opts, o.ServerOptions...)...)
	healthgrpc.RegisterHealthServer(s.grpc, drainingHealth{Server: s.health, draining: s.draining, srv: s})
	reflection.Register(s.grpc)
	return s, nil
}

// Use adds interceptors (either may be nil) that run after the platform's, on
// authorized calls only. Call it before Serve.
func (s *Server) Use(unary grpc.UnaryServerInterceptor, stream grpc.StreamServerInterceptor) {
	if s.serving {
		panic("server: Use after Serve")
	}
	if unary != nil {
		s.unary = append(s.unary, unary)
	}
	if stream != nil {
		s.stream = append(s.stream, stream)
	}
}

func (s *Server) runUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	for i := len(s.unary) - 1; i >= 0; i-- {
		ic, next := s.unary[i], handler
		handler = func(ctx context.Context, req any) (any, error) { return ic(ctx, req, info, next) }
	}
	return handler(ctx, req)
}

func (s *Server) runStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	for i := len(s.stream) - 1; i >= 0; i-- {
		ic, next := s.stream[i], handler
		handler = func(srv any, ss grpc.ServerStream) error { return ic(srv, ss, info, next) }
	}
	return handler(srv, ss)
}

type nopCloser struct{}

func (nopCloser) Close() {}

// RegisterService makes Server a grpc.ServiceRegistrar for generated Register
// functions.
func (s *Server) RegisterService(desc *grpc.ServiceDesc, impl any) {
	s.grpc.RegisterService(desc, impl)
}

// HeaderNotBuilt is the response header of every health check of a process
// that registered placeholders: one value per service whose API is not built.
const HeaderNotBuilt = "andes-api-not-built"

// RegisterPlaceholder registers impl, the generated Unimplemented server, for a
// service whose features are still to come. Every method answers Unimplemented,
// as the generated code makes it; the process still says so itself: health
// reports the service NOT_SERVING, and every health answer names it in
// HeaderNotBuilt, so operators (bankctl status) see a process that runs with its
// API not built.
func (s *Server) RegisterPlaceholder(desc *grpc.ServiceDesc, impl any) {
	s.grpc.RegisterService(desc, impl)
	s.notBuilt = append(s.notBuilt, desc.ServiceName)
}

// SetServing reports one service (or the whole server, service "") as serving or
// not in grpc.health.v1, for a process whose dependency went away.
func (s *Server) SetServing(service string, serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus(service, st)
}

// Serve serves on lis until ctx is cancelled, then drains: health turns
// NOT_SERVING, new calls are refused, calls in flight get the shutdown timeout to
// finish before connections are cut. It returns nil after a shutdown and the
// listener's error if serving fails.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	s.serving = true
	defer s.policy.Close()
	for name := range s.grpc.GetServiceInfo() {
		s.SetServing(name, !slices.Contains(s.notBuilt, name))
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)

	served := make(chan error, 1)
	go func() { served <- s.grpc.Serve(lis) }()
	select {
	case err := <-served:
		return fmt.Errorf("server: grpc: %w", err)
	case <-ctx.Done():
	}

	s.health.Shutdown()
	close(s.draining)
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(s.shutdownTimeout)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		s.log.Warn("grpc calls still running after the shutdown timeout; closing their connections", "timeout", s.shutdownTimeout)
		s.grpc.Stop()
		<-stopped
	}
	<-served
	return nil
}

// drainingHealth ends Watch streams when the server drains: they never finish by
// themselves and would hold every graceful shutdown to its full timeout. Its
// answers to Check name the placeholders (HeaderNotBuilt).
type drainingHealth struct {
	*health.Server
	draining <-chan struct{}
	srv      *Server
}

func (h drainingHealth) Check(ctx context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	// Placeholders are registered before Serve, which happens before any call.
	if len(h.srv.notBuilt) > 0 {
		if err := grpc.SetHeader(ctx, metadata.MD{HeaderNotBuilt: h.srv.notBuilt}); err != nil {
			return nil, err
		}
	}
	return h.Server.Check(ctx, in)
}

func (h drainingHealth) Watch(in *healthpb.HealthCheckRequest, stream healthgrpc.Health_WatchServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	go func() {
		select {
		case <-h.draining:
			cancel()
		case <-ctx.Done():
		}
	}()
	return h.Server.Watch(in, watchStream{Health_WatchServer: stream, ctx: ctx})
}

type watchStream struct {
	healthgrpc.Health_WatchServer
	ctx context.Context
}

func (w watchStream) Context() context.Context { return w.ctx }
