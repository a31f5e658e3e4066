// Package grpcclient dials another Andes process: mutual TLS with the server's
// SPIFFE identity checked against the peer the caller expects, a default deadline
// on every call that has none, retries on UNAVAILABLE only for the methods the
// caller declares safe to repeat, and W3C trace context propagation.
package grpcclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/andes-bank/andes/platform/pki"
)

// DefaultTimeout is the deadline given to a unary call whose context has none: a
// call without a deadline can hang a request chain forever.
const DefaultTimeout = 5 * time.Second

// Options configure a connection to one peer.
type Options struct {
	// Credentials are the caller's own certificate and CA.
	Credentials *pki.Credentials
	// Peer is the manifest name the server must prove it is ("facade").
	Peer string
	// Timeout replaces DefaultTimeout; negative disables the default deadline.
	Timeout time.Duration
	// Retry lists the methods that are safe to send again when the server was
	// unavailable: reads, and writes that carry an idempotency key. Each entry
	// is "package.Service/Method", or "package.Service" for every method of a
	// read-only service. Nothing else is retried, because a write repeated
	// without a key can move money twice.
	Retry []string

	TracerProvider trace.TracerProvider          // nil: context propagated, no spans recorded
	Propagator     propagation.TextMapPropagator // nil: W3C trace context and baggage
	DialOptions    []grpc.DialOption
}

// retryPolicy is gRPC's own retry (A6): attempts are spaced by jittered
// exponential backoff and bounded by the call's deadline.
var retryPolicy = map[string]any{
	"maxAttempts":          4,
	"initialBackoff":       "0.05s",
	"maxBackoff":           "1s",
	"backoffMultiplier":    2,
	"retryableStatusCodes": []string{"UNAVAILABLE"},
}

// New returns a client connection to target (host:port). Like grpc.NewClient it
// does not connect until the first call.
func New(target string, o Options) (*grpc.ClientConn, error) {
	if o.Credentials == nil || o.Peer == "" {
		return nil, errors.New("grpcclient: credentials and the expected peer are required")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.TracerProvider == nil {
		o.TracerProvider = tracenoop.NewTracerProvider()
	}
	if o.Propagator == nil {
		o.Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	sc, err := ServiceConfig(o.Retry)
	if err != nil {
		return nil, err
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(credentials.NewTLS(o.Credentials.ClientConfig(o.Peer))),
		grpc.WithDefaultServiceConfig(sc),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(o.TracerProvider),
			otelgrpc.WithPropagators(o.Propagator),
			otelgrpc.WithMeterProvider(metricnoop.NewMeterProvider()),
		)),
		// Pings keep idle connections through NAT and notice a dead peer
		// before the next call does; the server permits one per 10s.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}),
	}
	if o.Timeout > 0 {
		opts = append(opts, grpc.WithChainUnaryInterceptor(deadline(o.Timeout)))
	}
	conn, err := grpc.NewClient(target, append(opts, o.DialOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("grpcclient: %s at %s: %w", o.Peer, target, err)
	}
	return conn, nil
}

func deadline(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// ServiceConfig renders the gRPC service config that retries the given methods
// (see Options.Retry) on UNAVAILABLE.
func ServiceConfig(retry []string) (string, error) {
	type name struct {
		Service string `json:"service"`
		Method  string `json:"method,omitempty"`
	}
	var names []name
	for _, r := range retry {
		svc, method, _ := strings.Cut(strings.TrimPrefix(r, "/"), "/")
		if svc == "" || !strings.Contains(svc, ".") || strings.Contains(method, "/") || method == "*" {
			return "", fmt.Errorf("grpcclient: retry %q: want package.Service/Method or package.Service", r)
		}
		names = append(names, name{Service: svc, Method: method})
	}
	cfg := map[string]any{}
	if len(names) > 0 {
		cfg["methodConfig"] = []any{map[string]any{"name": names, "retryPolicy": retryPolicy}}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("grpcclient: %w", err)
	}
	return string(b), nil
}
