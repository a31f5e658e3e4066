package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// metrics counts calls by method and code and times them, under the names
// go-grpc-prometheus made familiar, so existing dashboards and alerts apply.
type metrics struct {
	handled  *prometheus.CounterVec
	handling *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_handled_total",
			Help: "RPCs completed on the server, by method and status code.",
		}, []string{"grpc_type", "grpc_service", "grpc_method", "grpc_code"}),
		handling: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "grpc_server_handling_seconds",
			Help: "Time the server took to complete RPCs, by method.",
			// Internal calls take a millisecond or so; the tail to 10s
			// shows a stuck dependency.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"grpc_type", "grpc_service", "grpc_method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "grpc_server_in_flight",
			Help: "RPCs being handled now.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.handled, m.handling, m.inFlight} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("server: metrics: %w", err)
			}
		}
	}
	return m, nil
}

func splitMethod(full string) (service, method string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "unknown", full
}

func (m *metrics) observe(kind, fullMethod string, err error, start time.Time) {
	svc, method := splitMethod(fullMethod)
	m.handled.WithLabelValues(kind, svc, method, status.Code(err).String()).Inc()
	m.handling.WithLabelValues(kind, svc, method).Observe(time.Since(start).Seconds())
}

func (m *metrics) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	m.inFlight.Inc()
	defer m.inFlight.Dec()
	resp, err := handler(ctx, req)
	m.observe("unary", info.FullMethod, err, start)
	return resp, err
}

func (m *metrics) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	m.inFlight.Inc()
	defer m.inFlight.Dec()
	kind := "bidi_stream"
	switch {
	case info.IsClientStream && !info.IsServerStream:
		kind = "client_stream"
	case !info.IsClientStream && info.IsServerStream:
		kind = "server_stream"
	}
	err := handler(srv, ss)
	m.observe(kind, info.FullMethod, err, start)
	return err
}

// boundary is the last line between a handler and the wire: a panic becomes
// Internal and the process lives on; an error that is not a gRPC status (a port
// forgot to map it) becomes Internal too. Either way the details go to the log and
// never to the caller, who could learn table names or worse from them.
type boundary struct {
	log *slog.Logger
	// internal is all a caller learns when the server fails unexpectedly:
	// INTERNAL in the process's domain.
	internal error
}

func (b boundary) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			b.panicked(ctx, info.FullMethod, r)
			resp, err = nil, b.internal
		}
	}()
	resp, err = handler(ctx, req)
	return resp, b.mapped(ctx, info.FullMethod, err)
}

func (b boundary) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			b.panicked(ss.Context(), info.FullMethod, r)
			err = b.internal
		}
	}()
	return b.mapped(ss.Context(), info.FullMethod, handler(srv, ss))
}

func (b boundary) panicked(ctx context.Context, method string, r any) {
	b.log.ErrorContext(ctx, "panic in grpc handler", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
}

func (b boundary) mapped(ctx context.Context, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	// A context error means the caller went away or ran out of time; grpc
	// reports that itself and it is not the server's failure.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	b.log.ErrorContext(ctx, "grpc handler returned an unmapped error", "method", method, "err", err)
	return b.internal
}
