package tokens_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/platform/tokens"
)

// process stands in for server.Process: it runs the tasks it is given until the
// test ends.
type process struct {
	t     *testing.T
	mu    sync.Mutex
	names []string
}

func (p *process) Go(name string, run func(ctx context.Context) error) {
	p.mu.Lock()
	p.names = append(p.names, name)
	p.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = run(ctx) }()
	p.t.Cleanup(func() { cancel(); <-done })
}

// jwksServer publishes k's keys at /.well-known/jwks.json, as auth's edge does;
// the URL is the issuer.
func jwksServer(t *testing.T, k *issuerKeys) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(tokens.JWKSet{Keys: []tokens.JWK{k.edJWK, k.ecJWK}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func platformToken(t *testing.T, k *issuerKeys, iss, jti string) string {
	c := claims(time.Now())
	c.Issuer, c.Audience, c.ID = iss, tokens.Audience{tokens.PlatformAudience()}, jti
	return k.sign(t, jwt.SigningMethodEdDSA, nil, c)
}

func TestIssuerAndAudience(t *testing.T) {
	for _, c := range []struct{ override, edge, want string }{
		{"https://auth.andes.bank", "127.0.0.1:8083", "https://auth.andes.bank"},
		{"", "127.0.0.1:8083", "http://127.0.0.1:8083"},
		{"", "", ""},
	} {
		if got := tokens.Issuer(c.override, c.edge); got != c.want {
			t.Errorf("Issuer(%q, %q) = %q, want %q", c.override, c.edge, got, c.want)
		}
	}
	// What auth puts in aud (andes.auth.v1.AUDIENCE_PLATFORM's claim value).
	if got := tokens.PlatformAudience(); got != audience {
		t.Errorf("PlatformAudience() = %q, want %q", got, audience)
	}
}

func TestForProcessWithoutRevocations(t *testing.T) {
	k := newIssuer(t)
	iss := jwksServer(t, k)
	p := &process{t: t}
	v, err := tokens.ForProcess(p, tokens.ProcessOptions{Issuer: iss})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.names) != 0 {
		t.Errorf("tasks %v without a revocation feed", p.names)
	}
	pr, err := v.Verify(context.Background(), platformToken(t, k, iss, "jti-plain"))
	if err != nil || pr.Subject == "" {
		t.Fatalf("a valid token: %v %v", pr, err)
	}
	// Another issuer's token (same keys) is refused.
	if _, err := v.Verify(context.Background(), platformToken(t, k, "http://elsewhere", "jti-x")); err == nil {
		t.Fatal("a token of another issuer passed")
	}
	if _, err := tokens.ForProcess(p, tokens.ProcessOptions{}); err == nil || !strings.Contains(err.Error(), "ANDES_AUTH_ISSUER") {
		t.Fatalf("no issuer: %v", err)
	}
}

func TestForProcessFollowsTheRevocationFeed(t *testing.T) {
	nc, prefix := testenv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	feed := tokens.Feed{Stream: prefix + "_REV", Subject: prefix + ".rev"}
	k := newIssuer(t)
	iss := jwksServer(t, k)
	p := &process{t: t}
	v, err := tokens.ForProcess(p, tokens.ProcessOptions{Issuer: iss, Revocations: nc.JS, Feed: feed})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.names) != 1 || p.names[0] != "token revocations" {
		t.Fatalf("tasks %v", p.names)
	}
	good, revoked := platformToken(t, k, iss, "jti-good-"+prefix), platformToken(t, k, iss, "jti-revoked-"+prefix)
	// The stream does not exist yet (auth creates it): the verifier must not
	// accept a token it cannot check for revocation.
	if _, err := v.Verify(ctx, good); !errors.Is(err, tokens.ErrUnavailable) {
		t.Fatalf("before the feed is read: %v", err)
	}
	if _, err := nc.JS.CreateOrUpdateStream(ctx, feed.StreamConfig(time.Hour)); err != nil {
		t.Fatal(err)
	}
	publishRevoked(ctx, t, nc.JS, feed, "jti-revoked-"+prefix, time.Now())
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, errGood := v.Verify(ctx, good)
		_, errRevoked := v.Verify(ctx, revoked)
		if errGood == nil && errRevoked != nil && !errors.Is(errRevoked, tokens.ErrUnavailable) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("good: %v, revoked: %v", errGood, errRevoked)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestForwardBearer(t *testing.T) {
	ctx := metadata.NewOutgoingContext(context.Background(), metadata.Pairs("authorization", "Bearer stale", "x-other", "1"))
	md, _ := metadata.FromOutgoingContext(tokens.ForwardBearer(ctx, "tok-1"))
	if a := md.Get("authorization"); len(a) != 1 || a[0] != "Bearer tok-1" || len(md.Get("x-other")) != 1 {
		t.Errorf("outgoing metadata %v", md)
	}
	// The caller's context is not changed.
	if md, _ := metadata.FromOutgoingContext(ctx); md.Get("authorization")[0] != "Bearer stale" {
		t.Errorf("the parent context changed: %v", md)
	}
	if got := tokens.ForwardBearer(context.Background(), ""); got != context.Background() {
		t.Error("an empty token changed the context")
	}
}

// A gateway's forwarded token reaches a service through real gRPC, and the
// service's ServerInterceptors turn it into the principal.
func TestForwardBearerToServerInterceptors(t *testing.T) {
	k := newIssuer(t)
	iss := jwksServer(t, k)
	v, err := tokens.ForProcess(&process{t: t}, tokens.ProcessOptions{Issuer: iss})
	if err != nil {
		t.Fatal(err)
	}
	unary, stream := v.ServerInterceptors(tokens.RPCOptions{Domain: "test.andes.bank", Optional: true})
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream))
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "test.v1.Echo", HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "Who", Handler: func(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			return ic(ctx, in, &grpc.UnaryServerInfo{FullMethod: "/test.v1.Echo/Who"}, func(ctx context.Context, _ any) (any, error) {
				if p := tokens.FromContext(ctx); p != nil {
					return wrapperspb.String(p.Subject), nil
				}
				return wrapperspb.String("anonymous"), nil
			})
		}}},
	}, nil)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	who := func(ctx context.Context) string {
		out := new(wrapperspb.StringValue)
		if err := conn.Invoke(ctx, "/test.v1.Echo/Who", wrapperspb.String(""), out); err != nil {
			t.Fatal(err)
		}
		return out.GetValue()
	}
	if got := who(tokens.ForwardBearer(context.Background(), platformToken(t, k, iss, "jti-fwd"))); got != claims(time.Now()).Subject {
		t.Errorf("forwarded token: the service saw %q", got)
	}
	if got := who(context.Background()); got != "anonymous" {
		t.Errorf("no token: the service saw %q", got)
	}
}
