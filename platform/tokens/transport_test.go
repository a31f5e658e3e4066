package tokens_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/golang-jwt/jwt/v5"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/platform/tokens"
)

func fixture(t *testing.T) (*tokens.Verifier, string) {
	k := newIssuer(t)
	v := newVerifier(t, k.static, nil, nil)
	return v, k.sign(t, jwt.SigningMethodEdDSA, nil, claims(time.Now()))
}

func TestHTTPMiddlewareReadsOnlyTheAuthorizationHeader(t *testing.T) {
	v, tok := fixture(t)
	h := v.Middleware(tokens.RequireScopeHTTP("transfers:write", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, tokens.FromContext(r.Context()).ClientID)
	})), tokens.HTTPOptions{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	do := func(path, auth string, extra ...string) (int, string, http.Header) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		for _, e := range extra {
			req.Header.Add("Authorization", e)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if code, body, _ := do("/", "Bearer "+tok); code != 200 || body != "bff-web" {
		t.Fatalf("header: %d %s", code, body)
	}
	if code, _, _ := do("/", "bearer "+tok); code != 200 {
		t.Fatalf("lower-case scheme: %d", code)
	}
	if code, _, hd := do("/?access_token="+tok, ""); code != 401 || hd.Get("WWW-Authenticate") != `Bearer realm="andes"` {
		t.Fatalf("query string: %d %v", code, hd)
	}
	if code, _, hd := do("/", "Bearer x.y.z"); code != 401 || !strings.Contains(hd.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("bad token: %d %v", code, hd)
	}
	if code, _, _ := do("/", "Basic "+tok); code != 401 {
		t.Fatalf("basic scheme: %d", code)
	}
	if code, _, _ := do("/", "Bearer "+tok, "Bearer "+tok); code != 401 {
		t.Fatalf("two Authorization headers: %d", code)
	}
	// Insufficient scope is 403.
	narrow := v.Middleware(tokens.RequireScopeHTTP("cash", http.NotFoundHandler()), tokens.HTTPOptions{})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	narrow.ServeHTTP(rec, req)
	if rec.Code != 403 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "insufficient_scope") {
		t.Fatalf("insufficient scope: %d %v", rec.Code, rec.Header())
	}
	// Optional: no token passes without a principal.
	opt := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tokens.FromContext(r.Context()) != nil {
			t.Error("a principal without a token")
		}
	}), tokens.HTTPOptions{Optional: true})
	rec = httptest.NewRecorder()
	opt.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != 200 {
		t.Fatalf("optional without a token: %d", rec.Code)
	}
}

func reasonOf(t *testing.T, err error) (codes.Code, string) {
	t.Helper()
	r := rpcstatus.Read(err)
	if r.Reason != "" && r.Domain != "test.andes.bank" {
		t.Errorf("domain %q", r.Domain)
	}
	return r.Code, r.Reason
}

func TestGRPCInterceptors(t *testing.T) {
	v, tok := fixture(t)
	opts := tokens.RPCOptions{Domain: "test.andes.bank"}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(v.UnaryServerInterceptor(opts)), grpc.ChainStreamInterceptor(v.StreamServerInterceptor(opts)))
	desc := &grpc.ServiceDesc{
		ServiceName: "test.v1.Echo", HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "Who", Handler: func(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, _ any) (any, error) {
				if err := tokens.RequireScope(ctx, in.GetValue()); err != nil {
					return nil, err
				}
				return wrapperspb.String(tokens.FromContext(ctx).Subject), nil
			}
			return ic(ctx, in, &grpc.UnaryServerInfo{FullMethod: "/test.v1.Echo/Who"}, h)
		}}},
		Streams: []grpc.StreamDesc{{StreamName: "Watch", ServerStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
			return ss.SendMsg(wrapperspb.String(tokens.FromContext(ss.Context()).ClientID))
		}}},
	}
	srv.RegisterService(desc, nil)
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	call := func(ctx context.Context, scope string) (string, error) {
		out := new(wrapperspb.StringValue)
		err := conn.Invoke(ctx, "/test.v1.Echo/Who", wrapperspb.String(scope), out)
		return out.GetValue(), err
	}
	authed := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	if sub, err := call(authed, "accounts:read"); err != nil || sub == "" {
		t.Fatalf("unary: %q %v", sub, err)
	}
	if _, err := call(context.Background(), "accounts:read"); err == nil {
		t.Fatal("unary without a token")
	} else if c, r := reasonOf(t, err); c != codes.Unauthenticated || r != "INVALID_TOKEN" {
		t.Fatalf("unary without a token: %v %s", c, r)
	}
	if _, err := call(authed, "cash"); err == nil {
		t.Fatal("a missing scope passed")
	} else if c, r := reasonOf(t, err); c != codes.PermissionDenied || r != "INSUFFICIENT_SCOPE" {
		t.Fatalf("missing scope: %v %s", c, r)
	}
	stream, err := conn.NewStream(authed, &desc.Streams[0], "/test.v1.Echo/Watch")
	if err != nil {
		t.Fatal(err)
	}
	stream.CloseSend()
	out := new(wrapperspb.StringValue)
	if err := stream.RecvMsg(out); err != nil || out.GetValue() != "bff-web" {
		t.Fatalf("stream: %q %v", out.GetValue(), err)
	}
	stream, _ = conn.NewStream(context.Background(), &desc.Streams[0], "/test.v1.Echo/Watch")
	stream.CloseSend()
	if err := stream.RecvMsg(out); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("stream without a token: %v", err)
	}
}

func TestConnectInterceptor(t *testing.T) {
	v, tok := fixture(t)
	mux := http.NewServeMux()
	mux.Handle("/test.v1.Echo/Who", connect.NewUnaryHandler("/test.v1.Echo/Who",
		func(ctx context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[wrapperspb.StringValue], error) {
			if err := tokens.RequireScope(ctx, req.Msg.GetValue()); err != nil {
				return nil, err
			}
			return connect.NewResponse(wrapperspb.String(tokens.FromContext(ctx).Subject)), nil
		}, connect.WithInterceptors(v.ConnectInterceptor(tokens.RPCOptions{Domain: "test.andes.bank"}))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](http.DefaultClient, srv.URL+"/test.v1.Echo/Who")
	req := connect.NewRequest(wrapperspb.String("accounts:read"))
	req.Header().Set("Authorization", "Bearer "+tok)
	if resp, err := client.CallUnary(context.Background(), req); err != nil || resp.Msg.GetValue() == "" {
		t.Fatalf("connect: %v", err)
	}
	_, err := client.CallUnary(context.Background(), connect.NewRequest(wrapperspb.String("accounts:read")))
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeUnauthenticated || len(ce.Details()) != 1 {
		t.Fatalf("connect without a token: %v", err)
	}
	req = connect.NewRequest(wrapperspb.String("cash"))
	req.Header().Set("Authorization", "Bearer "+tok)
	_, err = client.CallUnary(context.Background(), req)
	if r := rpcstatus.ReadConnect(err); r.Code != codes.PermissionDenied || r.Reason != "INSUFFICIENT_SCOPE" || r.Metadata["scope"] != "cash" {
		t.Fatalf("connect missing scope: %v (%+v)", err, r)
	}
}

func TestRevocationFeedOverNATS(t *testing.T) {
	nc, prefix := testenv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	feed := tokens.Feed{Stream: prefix + "_REV", Subject: prefix + ".rev"}
	if _, err := nc.JS.CreateOrUpdateStream(ctx, feed.StreamConfig(time.Hour)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	publish := func(revoked string) { publishRevoked(ctx, t, nc.JS, feed, revoked, now) }
	publish("before-start")
	// A repeated publish (the drainer's at-least-once) is dropped by the stream.
	publish("before-start")
	sub, _ := feed.SubjectRevokedMsg(tokens.RevokedSubject{Subject: "cust", Before: now, Expires: now.Add(time.Minute)}, "auth", now)
	if _, err := nc.JS.PublishMsg(ctx, sub); err != nil {
		t.Fatal(err)
	}

	rs := tokens.NewRevocationSet(nil)
	go rs.Follow(ctx, nc.JS, feed, func(err error) { t.Log(err) })
	if err := rs.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if !rs.Revoked("before-start", "x", now) || !rs.Revoked("y", "cust", now.Add(-time.Second)) || rs.Len() != 2 {
		t.Fatalf("replay: len %d", rs.Len())
	}
	publish("after-start")
	deadline := time.Now().Add(10 * time.Second)
	for !rs.Revoked("after-start", "x", now) {
		if time.Now().After(deadline) {
			t.Fatal("a live revocation did not arrive")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// publishRevoked announces jti revoked on feed, as auth does.
func publishRevoked(ctx context.Context, t *testing.T, js jetstream.JetStream, feed tokens.Feed, jti string, now time.Time) {
	t.Helper()
	msg, err := feed.TokenRevokedMsg(tokens.RevokedToken{JTI: jti, Expires: now.Add(time.Minute)}, "auth", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
}
