package corebank_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/simulators/corebank"
	"github.com/andes-bank/andes/simulators/corebank/faults"
)

// harness is the simulator serving its real HTTPS edge with mutual TLS on a
// loopback port, on a fresh database seeded with the small test demo bank.
type harness struct {
	t        testing.TB
	svc      *corebank.Service
	pool     *pgxpool.Pool
	dbURL    string
	addr     string
	base     string
	pki      *pkitest.PKI
	demo     *demo.Dataset
	facade   *http.Client
	operator *http.Client
	admin    string // the fault knobs, as the admin listener serves them
	keys     *atomic.Int64
	clock    *clock
}

// clock is the core's time in tests: the real time plus an offset a test may
// move forward, so hold expiry needs no waiting.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

func start(t testing.TB, knobs faults.Settings) *harness {
	t.Helper()
	return startWith(t, knobs, func(ctx context.Context, svc *corebank.Service, ln net.Listener) error { return svc.Run(ctx, ln) })
}

// startWith is start with run serving the service (Service.Run: the edge and the
// background work) until its context ends.
func startWith(t testing.TB, knobs faults.Settings, run func(context.Context, *corebank.Service, net.Listener) error) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := pkitest.New(t, "corebank", "facade", "operator", "controller")
	dbURL := testenv.PostgresURL(t)
	pool, err := postgres.Open(ctx, postgres.Config{URL: dbURL, Schema: corebank.Schema, MaxConns: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	d, err := demo.Load("testdata/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := corebank.Prepare(ctx, pool, d, time.Now(), true); err != nil {
		t.Fatal(err)
	}
	clk := new(clock)
	svc, err := corebank.New(corebank.Options{
		Now:  clk.Now,
		Pool: pool, Credentials: p.Credentials(t, "corebank"), Faults: knobs,
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		SequenceInterval: 50 * time.Millisecond, ShutdownTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(runCtx, svc, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("service: %v", err)
		}
	})
	h := &harness{t: t, svc: svc, pool: pool, dbURL: dbURL, addr: ln.Addr().String(), base: "https://" + ln.Addr().String() + api.Prefix,
		pki: p, demo: d, keys: new(atomic.Int64), clock: clk}
	h.facade = h.client("facade")
	h.operator = h.client("operator")
	admin := httptest.NewServer(svc.FaultsHandler())
	t.Cleanup(admin.Close)
	h.admin = admin.URL + "/faults"
	return h
}

// faults changes the knobs through the admin endpoint and returns its answer.
func (h *harness) faults(t testing.TB, f api.Faults, want int) answer {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPut, h.admin, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT /faults: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("PUT /faults: %d %s, want %d", resp.StatusCode, body, want)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

// client calls the core as identity name, over HTTP/2 like the facade will.
func (h *harness) client(name string) *http.Client {
	tr := &http.Transport{TLSClientConfig: h.pki.Credentials(h.t, name).ClientConfig("corebank"), ForceAttemptHTTP2: true}
	h.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// at is the harness reporting to t (a subtest).
func (h *harness) at(t testing.TB) *harness {
	c := *h
	c.t = t
	return &c
}

func (h *harness) key() string { return fmt.Sprintf("test-key-%d", h.keys.Add(1)) }

// answer is an HTTP answer, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) decode(t testing.TB, dst any) {
	t.Helper()
	if err := json.Unmarshal(a.body, dst); err != nil {
		t.Fatalf("answer %d %s: %v", a.status, a.body, err)
	}
}

func (a answer) code(t testing.TB) api.Code {
	t.Helper()
	var e api.ErrorBody
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error.Code == "" {
		return ""
	}
	if e.Error.Trace == "" {
		t.Errorf("error answer without a trace: %s", a.body)
	}
	return e.Error.Code
}

func (h *harness) call(c *http.Client, method, path, key string, body any) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	if key != "" {
		req.Header.Set(api.HeaderIdempotencyKey, key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// must is call that fails the test on a transport error or an unexpected status.
func (h *harness) must(c *http.Client, method, path, key string, body any, want int) answer {
	h.t.Helper()
	a, err := h.call(c, method, path, key, body)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	if a.status != want {
		h.t.Fatalf("%s %s: %d %s, want %d", method, path, a.status, a.body, want)
	}
	return a
}

func (h *harness) account(t testing.TB, number string) api.Account {
	t.Helper()
	var a api.Account
	h.must(h.facade, "GET", "/accounts/"+number, "", nil, http.StatusOK).decode(t, &a)
	return a
}

func (h *harness) audit(t testing.TB) {
	t.Helper()
	var a api.Audit
	h.must(h.operator, "GET", "/admin/audit", "", nil, http.StatusOK).decode(t, &a)
	for _, p := range a.Problems {
		t.Error("audit: " + p)
	}
}

// count runs a counting query on the core's database.
func (h *harness) count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func strconvFormat(n int64) string { return strconv.FormatInt(n, 10) }
