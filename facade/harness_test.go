package facade_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"

	"github.com/andes-bank/andes/facade"
	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/server/servertest"
	"github.com/andes-bank/andes/platform/testenv"
)

// The facade's tests run the whole chain for real: the core banking simulator
// as its own process (built from its main, configured through its environment
// as `make up` does) on a fresh PostgreSQL database seeded with the small demo
// bank, serving HTTPS with mutual TLS on a loopback port; the facade built by its
// composition root on a real Redis, serving gRPC with mutual TLS and its
// deployed policy; callers with certificates of a test PKI.

const (
	demoFile   = "../simulators/corebank/testdata/demo.yaml"
	policyFile = "../deploy/policies/facade.json"
)

type stackOptions struct {
	cfg    facade.Config // timeouts and breaker for the test; zero values take test defaults
	follow bool          // run the change-feed follower in the background
}

// stack is the core simulator and the facade in front of it.
type stack struct {
	t        testing.TB
	pki      *pkitest.PKI
	demo     *demo.Dataset
	core     *testenv.Process
	coreAddr string        // the core's edge
	pool     *pgxpool.Pool // the core's database
	operator *http.Client  // the operator at the core's API (admin endpoints)
	svc      *facade.Service
	reg      *prometheus.Registry
	clock    *testenv.Clock // the clock snapshot freshness is judged by
	addr     string         // the facade's gRPC listener
	client   facadev1.FacadeServiceClient
}

func newStack(t testing.TB, o stackOptions) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := &stack{t: t, pki: pkitest.New(t, "corebank", "facade", "operator", "controller", "customer"),
		reg:   prometheus.NewRegistry(),
		clock: testenv.NewClock(time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC))}

	// The core simulator, as `make up` starts it.
	dbURL := testenv.PostgresURL(t)
	demoPath, err := filepath.Abs(demoFile)
	if err != nil {
		t.Fatal(err)
	}
	if s.demo, err = demo.Load(demoPath); err != nil {
		t.Fatal(err)
	}
	s.core = testenv.StartProcess(t, testenv.ProcessSpec{Name: "corebank", Main: "simulators/corebank/cmd/corebank",
		PKI: s.pki, Edge: true, Env: []string{"DATABASE_URL=" + dbURL, "ANDES_DEMO_FILE=" + demoPath,
			"ANDES_COREBANK_DB_MAX_CONNS=40", "ANDES_LOG_LEVEL=WARN", "ANDES_SHUTDOWN_TIMEOUT=2s"}})
	s.core.WaitReady(t)
	s.coreAddr = s.core.Edge
	// The core's ledger, read directly to count postings; the simulator keeps
	// it in its own schema.
	pool, err := postgres.Open(ctx, postgres.Config{URL: dbURL, Schema: "corebank", MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s.pool = pool
	tr := &http.Transport{TLSClientConfig: s.pki.Credentials(t, "operator").ClientConfig("corebank"), ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	s.operator = &http.Client{Transport: tr, Timeout: time.Minute}

	// The facade, through its composition root.
	cfg := o.cfg
	cfg.CorebankEdgeAddr = s.coreAddr
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.SnapshotFreshness, 24*time.Hour)
	def(&cfg.SnapshotRetention, 7*24*time.Hour)
	def(&cfg.CoreReadTimeout, 2*time.Second)
	def(&cfg.CoreWriteTimeout, 3*time.Second)
	def(&cfg.CoreResolveTimeout, 3*time.Second)
	def(&cfg.BreakerOpenFor, 200*time.Millisecond)
	def(&cfg.FeedWait, 2*time.Second)
	if cfg.SnapshotJitter == 0 {
		cfg.SnapshotJitter = 0.1
	}
	if cfg.BreakerFailures == 0 {
		cfg.BreakerFailures = 5
	}
	facadeCreds := s.pki.Credentials(t, "facade")
	s.svc, err = facade.Build(&cfg, facade.Deps{Redis: testenv.Redis(t), CoreTLS: facadeCreds.ClientConfig("corebank"),
		Registerer: s.reg, Now: s.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.svc.Core.Close)
	// The feed's position starts at the head before anything happens, as at a
	// process's start.
	if err := s.svc.Feed.Step(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if o.follow {
		feedCtx, stopFeed := context.WithCancel(context.Background())
		feedDone := make(chan error, 1)
		go func() { feedDone <- s.svc.Feed.Run(feedCtx) }()
		t.Cleanup(func() {
			stopFeed()
			<-feedDone
		})
	}
	srv, err := server.New(server.Options{Credentials: facadeCreds, PolicyFile: policyFile, ShutdownTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	facadev1.RegisterFacadeServiceServer(srv, s.svc.API)
	s.addr = servertest.Serve(t, srv)
	s.client = s.as("controller")
	return s
}

// as is a client of the facade with the named identity.
func (s *stack) as(name string) facadev1.FacadeServiceClient {
	conn, err := grpcclient.New(s.addr, grpcclient.Options{Credentials: s.pki.Credentials(s.t, name), Peer: "facade", Timeout: -1})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { conn.Close() })
	return facadev1.NewFacadeServiceClient(conn)
}

// ctx is a generous deadline against hangs.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// faults changes the core simulator's fault knobs: body is the JSON of
// api.Faults, e.g. {"error_share":1}; the knobs it leaves out keep their value.
// They live on the simulator's admin listener (loopback HTTP).
func (s *stack) faults(body string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+s.core.Admin+"/faults", strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		s.t.Fatalf("faults %s: %d %s", body, resp.StatusCode, raw)
	}
}

// coreCalls counts the requests the core received on a route ("GET
// /core/v2/customers/{number}/position"), from the metrics on its admin
// listener.
func (s *stack) coreCalls(route string) int {
	s.t.Helper()
	resp, err := http.Get("http://" + s.core.Admin + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	// Lines such as: corebank_http_requests_total{code="200",route="GET /core/v2/..."} 3
	label := `route="` + route + `"`
	n := 0.0
	for line := range strings.Lines(string(raw)) {
		if !strings.HasPrefix(line, "corebank_http_requests_total{") || !strings.Contains(line, label) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[strings.LastIndexByte(line, ' ')+1:]), 64)
		if err != nil {
			s.t.Fatalf("metrics line %q: %v", line, err)
		}
		n += v
	}
	return int(n)
}

const (
	positionRoute = "GET " + api.Prefix + "/customers/{number}/position"
	transferRoute = "POST " + api.Prefix + "/transfers"
)

// counter sums one of the facade's own counters over its labels.
func (s *stack) counter(name string) float64 {
	s.t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		s.t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// admin calls an operator endpoint of the core and decodes the answer into out.
func (s *stack) admin(method, path string, body, out any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "https://"+s.coreAddr+api.Prefix+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if method != http.MethodGet {
		req.Header.Set(api.HeaderIdempotencyKey, uuid.NewString())
	}
	resp, err := s.operator.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		s.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatal(err)
		}
	}
}

// audit fails the test if any ledger invariant of the core is broken.
func (s *stack) audit() api.Audit {
	s.t.Helper()
	var a api.Audit
	s.admin(http.MethodGet, "/admin/audit", nil, &a)
	for _, p := range a.Problems {
		s.t.Error("core audit: " + p)
	}
	return a
}

// postingsOf counts the core's postings referencing a facade key.
func (s *stack) postingsOf(key string) int {
	s.t.Helper()
	var n int
	err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM postings p JOIN transactions t ON t.id = p.transaction_id WHERE t.reference = $1`, key).Scan(&n)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// snapshot reads a snapshot as the controller.
func (s *stack) snapshot(customer string, fresh bool) (*facadev1.GetCustomerSnapshotResponse, error) {
	return s.client.GetCustomerSnapshot(ctx(s.t), &facadev1.GetCustomerSnapshotRequest{CustomerNumber: customer, RequireFresh: fresh})
}

func (s *stack) mustSnapshot(customer string) *facadev1.GetCustomerSnapshotResponse {
	s.t.Helper()
	r, err := s.snapshot(customer, false)
	if err != nil {
		s.t.Fatalf("snapshot of %s: %v", customer, err)
	}
	return r
}

func balanceOf(snap *facadev1.CustomerSnapshot, account string) int64 {
	for _, a := range snap.GetAccounts() {
		if a.GetAccountNumber() == account {
			return a.GetLedgerBalance().GetAmountMinor()
		}
	}
	return -1
}

func wantReason(t testing.TB, err error, code codes.Code, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s %s", code, want)
	}
	if r := rpcstatus.Read(err); r.Code != code || r.Reason != want {
		t.Fatalf("error %v: got %s %q, want %s %q", err, r.Code, r.Reason, code, want)
	}
}

// waitFor polls cond until it holds; the generous limit only guards against a hang.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, what, cond)
}
