// Package logging builds the process logger: log/slog JSON lines carrying the
// service name, the trace id of the current OpenTelemetry span and attributes the
// context carries (an idempotency key), with card data, PINs, passwords, tokens and
// secrets redacted in the logger itself, so no call site can leak them by mistake.
package logging

import (
	"context"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Attribute keys every Andes log line may carry.
const (
	KeyService        = "service"
	KeyTraceID        = "trace_id"
	KeySpanID         = "span_id"
	KeyIdempotencyKey = "idempotency_key"
)

// New returns the logger of the process named service, writing JSON to w.
func New(w io.Writer, service string, level slog.Leveler) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(ContextHandler(Redact(h))).With(slog.String(KeyService, service))
}

type ctxAttrsKey struct{}

// ContextWith returns a context whose log records carry attrs, for values known
// deep in a call (an idempotency key) that every later line should show.
func ContextWith(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(ctxAttrsKey{}).([]slog.Attr)
	all := make([]slog.Attr, 0, len(prev)+len(attrs))
	all = append(append(all, prev...), attrs...)
	return context.WithValue(ctx, ctxAttrsKey{}, all)
}

// ContextHandler adds to each record the trace and span ids of the span in its
// context and the attributes ContextWith stored. Put it outside Redact so that
// context attributes are redacted too.
func ContextHandler(inner slog.Handler) slog.Handler { return &contextHandler{inner: inner} }

type contextHandler struct{ inner slog.Handler }

func (h *contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *contextHandler) Handle(ctx context.Context, r slog.Record) error {
	sc := trace.SpanContextFromContext(ctx)
	extra, _ := ctx.Value(ctxAttrsKey{}).([]slog.Attr)
	if sc.IsValid() || len(extra) > 0 {
		// The record may be shared with other handlers; adding to a copy that
		// shares its backing array would corrupt theirs.
		r = r.Clone()
		if sc.IsValid() {
			r.AddAttrs(slog.String(KeyTraceID, sc.TraceID().String()), slog.String(KeySpanID, sc.SpanID().String()))
		}
		r.AddAttrs(extra...)
	}
	return h.inner.Handle(ctx, r)
}

func (h *contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &contextHandler{inner: h.inner.WithAttrs(attrs)}
}

func (h *contextHandler) WithGroup(name string) slog.Handler {
	return &contextHandler{inner: h.inner.WithGroup(name)}
}
