package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
)

// ErrInsufficientScope is matched by the error RequireScope returns.
var ErrInsufficientScope = errors.New("tokens: insufficient scope")

// ScopeError is a token without a scope a method needs. It converts itself to a
// gRPC status (PermissionDenied, INSUFFICIENT_SCOPE with the scope in metadata);
// the Connect interceptor converts it too.
type ScopeError struct {
	Scope  string
	domain string
}

func (e *ScopeError) Error() string        { return "tokens: insufficient scope: " + e.Scope }
func (e *ScopeError) Is(target error) bool { return target == ErrInsufficientScope }

// GRPCStatus lets grpc-go send the error as a status with its ErrorInfo.
func (e *ScopeError) GRPCStatus() *status.Status {
	return rpcstatus.Domain(e.domain).Status(errorsv1.Reason_REASON_INSUFFICIENT_SCOPE, "insufficient scope",
		map[string]string{rpcstatus.KeyScope: e.Scope})
}

type domainKey struct{}

// RequireScope returns nil when the request's principal carries scope, else a
// *ScopeError (also when there is no principal: a method that needs a scope needs
// a token).
func RequireScope(ctx context.Context, scope string) error {
	if p := FromContext(ctx); p != nil && p.HasScope(scope) {
		return nil
	}
	d, _ := ctx.Value(domainKey{}).(string)
	return &ScopeError{Scope: scope, domain: d}
}

// BearerToken extracts the token of an "Authorization: Bearer <token>" header
// value (RFC 6750 section 2.1); the scheme is case-insensitive.
func BearerToken(authorization string) (string, bool) {
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// fromHeader reads the token from exactly one Authorization header: two are an
// ambiguity an attacker could play on.
func fromHeader(values []string) (string, error) {
	switch len(values) {
	case 0:
		return "", ErrNoToken
	case 1:
		if t, ok := BearerToken(values[0]); ok {
			return t, nil
		}
	}
	return "", refuse(ReasonMalformed, errors.New("not one Authorization: Bearer header"))
}

// HTTPOptions configure Middleware.
type HTTPOptions struct {
	// Optional lets requests without a token through, without a principal; a token
	// that is present must still be valid.
	Optional bool
	// Realm is the WWW-Authenticate realm; "andes" when empty.
	Realm string
}

// Middleware verifies the bearer token of each request and puts its principal in
// the request context. The token is read from the Authorization header only: a
// token in the query string or a form is ignored (and so the request has none).
// Refusals answer 401 with WWW-Authenticate (RFC 6750 section 3), a verifier not
// yet ready 503.
func (v *Verifier) Middleware(next http.Handler, o HTTPOptions) http.Handler {
	if o.Realm == "" {
		o.Realm = "andes"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := fromHeader(r.Header.Values("Authorization"))
		if errors.Is(err, ErrNoToken) && o.Optional {
			next.ServeHTTP(w, r)
			return
		}
		var p *Principal
		if err == nil {
			p, err = v.Verify(r.Context(), raw)
		}
		if err != nil {
			writeHTTPError(w, err, o.Realm)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// RequireScopeHTTP answers 403 insufficient_scope unless the principal has scope.
func RequireScopeHTTP(scope string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := RequireScope(r.Context(), scope); err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+scope+`"`)
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "scope": scope})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeHTTPError(w http.ResponseWriter, err error, realm string) {
	if errors.Is(err, ErrUnavailable) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
		return
	}
	if errors.Is(err, ErrNoToken) {
		// RFC 6750 section 3.1: no error code when the request had no token.
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="invalid_token"`)
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// RPCOptions configure the gRPC and Connect interceptors.
type RPCOptions struct {
	// Domain is the ErrorInfo domain of refusals: the answering process's,
	// "<name>.andes.bank".
	Domain string
	// Optional lets calls without a token through, without a principal (machine
	// calls between services); a token that is present must still be valid.
	Optional bool
	// Skip exempts methods ("/package.Service/Method") from verification; health
	// and reflection are always exempt.
	Skip func(fullMethod string) bool
}

func (o RPCOptions) skip(method string) bool {
	if strings.HasPrefix(method, "/grpc.health.v1.Health/") || strings.HasPrefix(method, "/grpc.reflection.") {
		return true
	}
	return o.Skip != nil && o.Skip(method)
}

func (v *Verifier) authenticate(ctx context.Context, values []string, o RPCOptions) (context.Context, error) {
	raw, err := fromHeader(values)
	if errors.Is(err, ErrNoToken) && o.Optional {
		return context.WithValue(ctx, domainKey{}, o.Domain), nil
	}
	var p *Principal
	if err == nil {
		p, err = v.Verify(ctx, raw)
	}
	if err != nil {
		return nil, err
	}
	return context.WithValue(WithPrincipal(ctx, p), domainKey{}, o.Domain), nil
}

func grpcError(err error, domain string) error {
	d := rpcstatus.Domain(domain)
	if errors.Is(err, ErrUnavailable) {
		return d.Error(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, "token verification unavailable", rpcstatus.RetryAfter(time.Second))
	}
	return d.Error(errorsv1.Reason_REASON_INVALID_TOKEN, "invalid token", nil)
}

// UnaryServerInterceptor verifies the "authorization" metadata of unary calls.
func (v *Verifier) UnaryServerInterceptor(o RPCOptions) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if o.skip(info.FullMethod) {
			return handler(ctx, req)
		}
		md, _ := metadata.FromIncomingContext(ctx)
		ctx, err := v.authenticate(ctx, md.Get("authorization"), o)
		if err != nil {
			return nil, grpcError(err, o.Domain)
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor verifies the "authorization" metadata of streams.
func (v *Verifier) StreamServerInterceptor(o RPCOptions) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if o.skip(info.FullMethod) {
			return handler(srv, ss)
		}
		md, _ := metadata.FromIncomingContext(ss.Context())
		ctx, err := v.authenticate(ss.Context(), md.Get("authorization"), o)
		if err != nil {
			return grpcError(err, o.Domain)
		}
		return handler(srv, &principalStream{ServerStream: ss, ctx: ctx})
	}
}

type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *principalStream) Context() context.Context { return s.ctx }

// ConnectInterceptor verifies the Authorization header of Connect, gRPC and
// gRPC-Web calls served by connect-go handlers. Handler errors that are
// *ScopeError are turned into PermissionDenied with INSUFFICIENT_SCOPE.
func (v *Verifier) ConnectInterceptor(o RPCOptions) connect.Interceptor {
	return &connectInterceptor{v: v, o: o}
}

type connectInterceptor struct {
	v *Verifier
	o RPCOptions
}

func (c *connectInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient || c.o.skip(req.Spec().Procedure) {
			return next(ctx, req)
		}
		ctx, err := c.v.authenticate(ctx, req.Header().Values("Authorization"), c.o)
		if err != nil {
			return nil, connectError(err, c.o.Domain)
		}
		resp, err := next(ctx, req)
		return resp, convertScope(err)
	}
}

func (c *connectInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (c *connectInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if c.o.skip(conn.Spec().Procedure) {
			return next(ctx, conn)
		}
		ctx, err := c.v.authenticate(ctx, conn.RequestHeader().Values("Authorization"), c.o)
		if err != nil {
			return connectError(err, c.o.Domain)
		}
		return convertScope(next(ctx, conn))
	}
}

func connectError(err error, domain string) *connect.Error {
	return rpcstatus.Connect(status.Convert(grpcError(err, domain)))
}

func convertScope(err error) error {
	var se *ScopeError
	if errors.As(err, &se) {
		return rpcstatus.Connect(se.GRPCStatus())
	}
	return err
}
