package ports

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	partnerv1 "github.com/andes-bank/andes/gen/andes/partner/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/tokens"
)

// DefaultMaxBodyBytes bounds a request body: the largest partner request is a few
// hundred bytes.
const DefaultMaxBodyBytes = 64 << 10

// idempotencyKeyMD is the metadata the Idempotency-Key header becomes.
const idempotencyKeyMD = "idempotency-key"

// Verifier checks an access token; *tokens.Verifier is one.
type Verifier interface {
	Verify(ctx context.Context, raw string) (*tokens.Principal, error)
}

// Quota is the outcome of one request against a partner's budget.
type Quota struct {
	Allowed          bool
	Limit, Remaining int
	RetryAfter       time.Duration
}

// Limiter spends one request of a partner's budget.
type Limiter interface {
	Take(ctx context.Context, partnerID string) (Quota, error)
}

// Options configure the REST edge.
type Options struct {
	API      partnerv1.PartnerServiceServer
	Verifier Verifier
	// Limiter is nil for no rate limits.
	Limiter Limiter
	// OpenAPI is the document served at /openapi.json.
	OpenAPI []byte
	Logger  *slog.Logger
	// MaxBodyBytes bounds request bodies; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
}

// NewREST returns the partner edge: /openapi.json, and andes.partner.v1 transcoded by
// grpc-gateway to the API in-process (RegisterPartnerServiceHandlerServer: no
// loopback gRPC hop, no second listener that could expose the partner API without
// this edge's checks). Around it, outermost first: a request id, panic recovery,
// the body bound, bearer-token verification, the partner's rate limit.
func NewREST(ctx context.Context, o Options) (http.Handler, error) {
	if o.API == nil || o.Verifier == nil || o.Logger == nil {
		return nil, errors.New("ports: the API, a verifier and a logger are required")
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	gw := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &strictJSON{JSONPb: runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
		runtime.WithIncomingHeaderMatcher(func(h string) (string, bool) {
			if strings.EqualFold(h, "Idempotency-Key") {
				return idempotencyKeyMD, true
			}
			return "", false
		}),
		runtime.WithOutgoingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithErrorHandler(func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
			writeStatus(w, r, status.Convert(err))
		}),
		runtime.WithRoutingErrorHandler(func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, code int) {
			switch code {
			case http.StatusMethodNotAllowed:
				writeStatus(w, r, refusal(errorsv1.Reason_REASON_METHOD_NOT_ALLOWED, "", nil))
			case http.StatusNotFound:
				writeStatus(w, r, refusal(errorsv1.Reason_REASON_NOT_FOUND, "no such route", nil))
			default:
				writeStatus(w, r, refusal(errorsv1.Reason_REASON_VALIDATION_FAILED, http.StatusText(code), nil))
			}
		}),
		runtime.WithForwardResponseOption(func(_ context.Context, w http.ResponseWriter, _ proto.Message) error {
			w.Header().Set("Cache-Control", "no-store")
			return nil
		}),
	)
	if err := partnerv1.RegisterPartnerServiceHandlerServer(ctx, gw, o.API); err != nil {
		return nil, fmt.Errorf("partner REST routes: %w", err)
	}
	e := &edge{o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(o.OpenAPI)
	})
	mux.Handle("/", e.bound(e.authenticate(e.limit(gw))))
	return e.requestID(e.recover(mux)), nil
}

type edge struct{ o Options }

type requestIDKey struct{}

// RequestID is the id the edge gave the request: in X-Request-Id, in every error
// body and in the logs, so that support can find a partner's request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func (e *edge) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// recover turns a panic anywhere below into a 500 with the request id: a panic
// never reaches a client as a cut connection, nor takes the process down.
func (e *edge) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recordingWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared, as net/http does
				panic(v)
			}
			e.o.Logger.ErrorContext(r.Context(), "panic serving a partner request", "request_id", RequestID(r.Context()),
				"method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			if !rw.wrote {
				writeStatus(rw, r, refusal(errorsv1.Reason_REASON_INTERNAL, "", nil))
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

type recordingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *recordingWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bound refuses bodies over the limit: at once when Content-Length says so, else
// when reading passes it (the decoder reports it).
func (e *edge) bound(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > e.o.MaxBodyBytes {
			writeStatus(w, r, refusal(errorsv1.Reason_REASON_VALIDATION_FAILED, tooLarge(e.o.MaxBodyBytes), nil))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, e.o.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

func tooLarge(limit int64) string {
	return "the request body is larger than " + strconv.FormatInt(limit, 10) + " bytes"
}

// authenticate verifies the bearer token (from the Authorization header only, never
// the query string) and admits partner tokens only: a customer's token or a bank
// client without a tenant has no business on the partner API.
func (e *edge) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := r.Header.Values("Authorization")
		raw, ok := "", len(values) == 1
		if ok {
			raw, ok = tokens.BearerToken(values[0])
		}
		if !ok {
			writeStatus(w, r, refusal(errorsv1.Reason_REASON_INVALID_TOKEN, "an Authorization: Bearer header with an access token is required", nil))
			return
		}
		p, err := e.o.Verifier.Verify(r.Context(), raw)
		switch {
		case errors.Is(err, tokens.ErrUnavailable):
			writeStatus(w, r, refusal(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, "token verification is starting; retry shortly",
				rpcstatus.RetryAfter(time.Second)))
			return
		case err != nil:
			e.o.Logger.InfoContext(r.Context(), "access token refused", "request_id", RequestID(r.Context()), "why", tokens.ReasonOf(err))
			writeStatus(w, r, refusal(errorsv1.Reason_REASON_INVALID_TOKEN, "", nil))
			return
		case p.PartnerID == "" || p.IsCustomer():
			writeStatus(w, r, refusal(errorsv1.Reason_REASON_INSUFFICIENT_SCOPE, "a partner's client-credentials token is required", nil))
			return
		}
		ctx := tokens.ForwardBearer(tokens.WithPrincipal(r.Context(), p), raw)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// limit spends one request of the partner's budget. When Redis cannot answer the
// request goes through (logged): the limit protects the platform, and an outage of
// its cache must not take the partner API down with it.
func (e *edge) limit(next http.Handler) http.Handler {
	if e.o.Limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		partner := tokens.FromContext(r.Context()).PartnerID
		q, err := e.o.Limiter.Take(r.Context(), partner)
		if err != nil {
			e.o.Logger.WarnContext(r.Context(), "rate limit unavailable; request let through", "partner_id", partner, "err", err)
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(q.Limit))
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(q.Remaining))
		if !q.Allowed {
			secs := max(int(math.Ceil(q.RetryAfter.Seconds())), 1)
			writeStatus(w, r, refusal(errorsv1.Reason_REASON_RATE_LIMITED, "", map[string]string{rpcstatus.KeyRetryAfterSeconds: strconv.Itoa(secs)}))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// strictJSON is grpc-gateway's JSON marshaler with a stricter decoder: the whole body
// must be one JSON object of the request (protojson refuses unknown fields and
// trailing data, which json.Decoder would leave unread), within the body bound.
type strictJSON struct {
	runtime.JSONPb
}

func (m *strictJSON) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		raw, err := io.ReadAll(r)
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return errors.New(tooLarge(tooBig.Limit))
		case err != nil:
			return fmt.Errorf("reading the request body: %w", err)
		case len(bytes.TrimSpace(raw)) == 0:
			return io.EOF // no body: the request's rules say what is missing
		}
		msg, ok := v.(proto.Message)
		if !ok {
			return status.Error(codes.Internal, "not a protobuf message")
		}
		if err := m.UnmarshalOptions.Unmarshal(raw, msg); err != nil {
			return fmt.Errorf("the body is not valid JSON for this request: %s", strings.TrimPrefix(err.Error(), "proto: "))
		}
		return nil
	})
}
