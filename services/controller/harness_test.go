package controller_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/devdeps"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/redisconn"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/services/controller"
)

// The controller's tests run it against the real chain: the core banking
// simulator, the facade, the customer service, auth and the SMS simulator as
// processes (built from their mains, configured through their environment like
// `make up` does), on one fresh PostgreSQL database, the checkout's Redis and
// NATS, mutual TLS from a test PKI and the deployed policies. The controller runs
// in the test binary through its own composition root. End users' tokens are
// signed by the test and verified through a JWKS endpoint the test serves, by the
// controller and the customer service alike.

const (
	root     = "../.."
	demoFile = root + "/simulators/corebank/testdata/demo.yaml"
	audience = "https://api.andes.bank"
	// redisDB keeps these processes' keys away from other tests' on the shared
	// Redis; it is emptied when the stack starts.
	redisDB = 11
)

// peers are the mains the controller's tests run as processes.
var peers = []string{
	"simulators/corebank/cmd/corebank",
	"simulators/sms/cmd/sms",
	"facade/cmd/facade",
	"services/customer/cmd/customer",
	"services/auth/cmd/auth",
}

type proc struct {
	grpc, admin string
	edge        string
	*testenv.Process
}

// stack is everything the controller needs, running.
type stack struct {
	t         *testing.T
	ds        *demo.Dataset
	pki       *pkitest.PKI
	key       ed25519.PrivateKey
	issuer    string
	dbURL     string
	natsURL   string
	prefix    string
	procs     map[string]*proc
	ctrl      string // the controller's gRPC address
	conns     map[string]controllerv1.ControllerServiceClient
	facade    facadev1.FacadeServiceClient
	smsEdge   string
	eventSubj string
}

func start(t *testing.T) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// One go build per module for every peer, rather than one per peer.
	testenv.Build(t, peers...)
	ds, err := demo.Load(demoFile)
	if err != nil {
		t.Fatal(err)
	}
	urls, err := testenv.Deps(ctx, devdeps.Redis, devdeps.NATS)
	if err != nil {
		t.Fatal(err)
	}
	redisURL := withDB(t, urls.RedisURL)
	s := &stack{t: t, ds: ds, pki: pkitest.New(t, "corebank", "sms", "facade", "customer", "auth", "controller", "operator",
		"bff-mobile", "bff-partner", "bff-web"), dbURL: testenv.PostgresURL(t), natsURL: urls.NATSURL,
		prefix: testenv.Prefix("ctl"), procs: map[string]*proc{}, conns: map[string]controllerv1.ControllerServiceClient{}}
	s.eventSubj = s.prefix + ".events.controller."

	// End users' tokens: a key of the test's, published as a JWKS.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s.key = priv
	jwk, err := tokens.NewJWK(pub)
	if err != nil {
		t.Fatal(err)
	}
	jwk.Kid, jwk.Use = "k1", "sig"
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(tokens.JWKSet{Keys: []tokens.JWK{jwk}})
	}))
	t.Cleanup(jwks.Close)
	s.issuer = jwks.URL

	common := []string{"ANDES_LOG_LEVEL=WARN", "ANDES_DEMO_FILE=" + abs(t, demoFile), "ANDES_SHUTDOWN_TIMEOUT=2s"}
	corebank := s.spawn(peers[0], "corebank", true, append(common, "DATABASE_URL="+s.dbURL, "ANDES_COREBANK_TIMEOUT_STALL=4s"))
	sms := s.spawn(peers[1], "sms", true, common)
	s.smsEdge = sms.edge
	facade := s.spawn(peers[2], "facade", false, append(common, "REDIS_URL="+redisURL, "ANDES_COREBANK_EDGE_ADDR="+corebank.edge,
		"ANDES_FACADE_CORE_WRITE_TIMEOUT=3s", "ANDES_FACADE_CORE_RESOLVE_TIMEOUT=3s", "ANDES_FACADE_BREAKER_OPEN_FOR=200ms"))
	customer := s.spawn(peers[3], "customer", false, append(common, "DATABASE_URL="+s.dbURL, "NATS_URL="+s.natsURL,
		"ANDES_FACADE_ADDR="+facade.grpc, "ANDES_AUTH_ISSUER="+s.issuer))
	// Auth announces revocations on the default feed: the customer service and
	// the controller follow only that one, and verify no token until they have
	// caught up with it.
	auth := s.spawn(peers[4], "auth", true, append(common, "DATABASE_URL="+s.dbURL, "NATS_URL="+s.natsURL, "REDIS_URL="+redisURL,
		"ANDES_SMS_EDGE_ADDR="+sms.edge, "ANDES_CUSTOMER_ADDR="+customer.grpc, "ANDES_BFF_WEB_EDGE_ADDR="+testenv.FreeAddr(t)))
	for _, p := range []*proc{corebank, sms, facade, customer, auth} {
		began := time.Now()
		p.WaitReady(t)
		t.Logf("%s ready after another %v", p.Name, time.Since(began).Round(time.Millisecond))
	}
	// The customer identity may read accounts at the facade (the operator may not).
	s.facade = facadev1.NewFacadeServiceClient(s.dial(facade.grpc, "customer", "facade"))

	s.ctrl = s.startController(controllerOptions{})
	return s
}

type controllerOptions struct {
	writeTimeout time.Duration
	limits       string
	dbURL        string // another database, for a second controller
}

// startController runs the controller through its composition root; it stops
// when the test ends. Each one gets its own database schema.
func (s *stack) startController(o controllerOptions) string {
	t := s.t
	t.Helper()
	if o.writeTimeout == 0 {
		o.writeTimeout = 20 * time.Second
	}
	if o.dbURL == "" {
		o.dbURL = s.dbURL
	}
	if o.limits == "" {
		o.limits = "PEN:1:1000000:200000,USD:1:300000:600000"
	}
	name := "controller"
	cfg := &controller.Config{
		Base: config.Base{Name: name, GRPCAddr: testenv.FreeAddr(t), AdminAddr: testenv.FreeAddr(t),
			TLS:        config.TLS{CertFile: s.pki.Dir.CertFile(name), KeyFile: s.pki.Dir.KeyFile(name), CAFile: s.pki.Dir.CAFile()},
			PolicyFile: root + "/deploy/policies/controller.json", TrustDomain: pkitest.TrustDomain, LogLevel: slog.LevelError,
			ShutdownTimeout: 2 * time.Second},
		FacadeAddr: s.procs["facade"].grpc, CustomerAddr: s.procs["customer"].grpc, AuthAddr: s.procs["auth"].grpc,
		AuthIssuer: s.issuer, DatabaseURL: config.Secret(o.dbURL), NATSURL: config.Secret(s.natsURL),
		Limits: o.limits, WriteTimeout: o.writeTimeout, ReconcileInterval: 200 * time.Millisecond, LeaseTimeout: 5 * time.Second,
		EventStream: s.prefix + "_CONTROLLER", EventSubjectPrefix: s.eventSubj,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, cfg.Setup) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("controller stopped: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("controller did not stop")
		}
	})
	testenv.WaitReady(t, name, cfg.AdminAddr)
	return cfg.GRPCAddr
}

func withDB(t *testing.T, redisURL string) string {
	t.Helper()
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = fmt.Sprintf("/%d", redisDB)
	c, err := redisconn.Open(context.Background(), redisconn.Config{URL: u.String()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	return u.String()
}

func abs(t testing.TB, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// spawn starts a peer process from its main with the environment the manifest
// would give it.
func (s *stack) spawn(main, name string, edge bool, env []string) *proc {
	p := testenv.StartProcess(s.t, testenv.ProcessSpec{Name: name, Main: main, PKI: s.pki, Edge: edge, Env: env})
	s.procs[name] = &proc{grpc: p.GRPC, admin: p.Admin, edge: p.Edge, Process: p}
	return s.procs[name]
}

func (s *stack) dial(addr, identity, peer string) *grpc.ClientConn {
	s.t.Helper()
	conn, err := grpcclient.New(addr, grpcclient.Options{Credentials: s.pki.Credentials(s.t, identity), Peer: peer, Timeout: -1})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { conn.Close() })
	return conn
}

// client is the controller's API as a gateway sees it.
func (s *stack) client(gateway string) controllerv1.ControllerServiceClient {
	return s.clientAt(s.ctrl, gateway)
}

func (s *stack) clientAt(addr, gateway string) controllerv1.ControllerServiceClient {
	k := addr + "/" + gateway
	if c, ok := s.conns[k]; ok {
		return c
	}
	c := controllerv1.NewControllerServiceClient(s.dial(addr, gateway, "controller"))
	s.conns[k] = c
	return c
}

// token signs an access token as auth would.
func (s *stack) token(sub, clientID, partnerID, scope string) string {
	s.t.Helper()
	now := time.Now()
	c := &tokens.Claims{Issuer: s.issuer, Subject: sub, Audience: tokens.Audience{audience}, ClientID: clientID, Scope: scope,
		ExpiresAt: tokens.At(now.Add(time.Hour)), IssuedAt: tokens.At(now), ID: "jti-" + sub + "-" + clientID, PartnerID: partnerID}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["typ"] = tokens.TokenType
	tok.Header["kid"] = "k1"
	raw, err := tok.SignedString(s.key)
	if err != nil {
		s.t.Fatal(err)
	}
	return raw
}

const customerScopes = "accounts:read accounts:write transfers:write customers:read"

// asCustomer is a context carrying the persona's token from the mobile app.
func (s *stack) asCustomer(ctx context.Context, key string) context.Context {
	c := s.ds.Customer(key)
	if c == nil {
		s.t.Fatalf("no persona %s", key)
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.token(c.ID, "andes-mobile", "", customerScopes))
}

// asClient is a context carrying a client-credentials token.
func (s *stack) asClient(ctx context.Context, clientID, partnerID, scope string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.token(clientID, clientID, partnerID, scope))
}

// coreFaults changes the core simulator's fault knobs.
func (s *stack) coreFaults(t testing.TB, body string) {
	t.Helper()
	// The knobs live on the simulator's admin listener (loopback HTTP).
	req, _ := http.NewRequest(http.MethodPut, "http://"+s.procs["corebank"].admin+"/faults", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("faults %s: %d %s", body, resp.StatusCode, raw)
	}
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode is the one-time code of the newest SMS to a phone.
func (s *stack) lastCode(phone string) string {
	s.t.Helper()
	var code string
	testenv.Eventually(s.t, 30*time.Second, "an SMS to "+phone, func() bool {
		resp, err := http.Get("http://" + s.smsEdge + "/v1/messages?to=" + url.QueryEscape(phone))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var out struct{ Messages []struct{ Text string } }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Messages) == 0 {
			return false
		}
		m := sixDigits.FindStringSubmatch(out.Messages[0].Text)
		if m == nil {
			return false
		}
		code = m[1]
		return true
	})
	return code
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
