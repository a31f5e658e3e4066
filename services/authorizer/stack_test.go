package authorizer_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/logging"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/services/authorizer"
	"github.com/andes-bank/andes/services/authorizer/authorizertest"
	"github.com/andes-bank/andes/services/authorizer/domain"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/services/authorizer/ports/network"
)

// stack is the authorizer assembled for a test: a fresh database, the HSM
// simulator as a process over real TCP, the ISO 8583 edge on a loopback port.
type stack struct {
	st       *authorizertest.Stack
	t        testing.TB
	pool     *pgxpool.Pool
	svc      *authorizer.Service
	hsm      authorizertest.HSM
	edge     string
	logs     *syncBuffer
	codec    *iso8583.Codec
	clock    *testenv.Clock
	stan     atomic.Int64
	shutdown func()
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var now0 = time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC)

type stackOptions struct {
	text    iso8583.TextEncoding
	network network.Options
}

func newStack(t testing.TB, o stackOptions) *stack {
	t.Helper()
	s := &stack{t: t, logs: &syncBuffer{}, codec: iso8583.NewCodec(o.text), clock: testenv.NewClock(now0)}
	if o.network.AuthorizationTimeout == 0 {
		// A loaded test machine must not turn slow decisions into silence.
		o.network.AuthorizationTimeout = answerTimeout
	}
	st := authorizertest.Start(t, authorizertest.StartHSM(t),
		authorizertest.WithText(o.text),
		authorizertest.WithNetwork(o.network),
		authorizertest.WithClock(s.clock.Now),
		authorizertest.WithLogger(logging.New(s.logs, "authorizer", slog.LevelDebug)))
	s.st = st
	s.pool, s.svc, s.hsm, s.edge, s.shutdown = st.Pool, st.Service, st.HSM, st.ISOAddr(), st.Stop
	return s
}

// card is a card issued through the use cases, with its PAN known to the test.
type card struct {
	id, accountID, pan, expiry, cvv2 string
}

const testPIN = authorizertest.DefaultPIN

// issue opens a PEN card account funded with balance and issues an active card
// with PIN 4524.
func (s *stack) issue(balance int64, limits *domain.Limits) card {
	s.t.Helper()
	c := s.st.IssueCard(context.Background(), authorizertest.CardOptions{Balance: balance, Limits: limits, PIN: testPIN})
	return card{id: c.ID, accountID: c.AccountID, pan: c.PAN, expiry: c.Expiry, cvv2: c.CVV2}
}

func (s *stack) pinBlock(pan, pin string) []byte { return s.st.PINBlock(pan, pin) }

func (s *stack) account(c card) domain.CardAccount {
	s.t.Helper()
	a, err := s.svc.Store.Account(context.Background(), c.accountID)
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

func (s *stack) expectAccount(c card, ledger, held int64) {
	s.t.Helper()
	a := s.account(c)
	if a.Ledger != ledger || a.Held != held || a.Available != ledger-held {
		s.t.Fatalf("account ledger %d held %d available %d; want ledger %d held %d", a.Ledger, a.Held, a.Available, ledger, held)
	}
}

// purchase is a chip purchase at a terminal in Lima.
func (s *stack) purchase(c card, amount int64) *iso8583.Request {
	n := s.stan.Add(1)
	return &iso8583.Request{
		MTI: "0100", PAN: c.pan, ProcessingCode: "000000", Amount: amount, Currency: "604",
		TransmissionDateTime: "0310143000", STAN: fmt.Sprintf("%06d", n), LocalTime: "093000", LocalDate: "0310",
		MCC: "5411", AcquirerCountry: "604", POSEntryMode: "051", POSCondition: "00",
		AcquirerID: "12345678", RRN: fmt.Sprintf("%012d", n), TerminalID: "TERM0001", MerchantID: "MERCHANT0000001",
		MerchantNameLocation: "BODEGA SAN ISIDRO      LIMA         PE",
		PrivateData:          iso8583.PrivateData{NetworkTransactionID: fmt.Sprintf("58%013d", n)},
	}
}

// client is the network's side of one connection: requests go out as they are
// sent, responses are matched by STAN.
type client struct {
	t       testing.TB
	s       *stack
	conn    net.Conn
	mu      sync.Mutex
	waiting map[string]chan *iso8583.Response
	closed  chan struct{}
}

func (s *stack) dial() *client {
	s.t.Helper()
	conn, err := net.Dial("tcp", s.edge)
	if err != nil {
		s.t.Fatal(err)
	}
	c := &client{t: s.t, s: s, conn: conn, waiting: map[string]chan *iso8583.Response{}, closed: make(chan struct{})}
	go c.readLoop()
	s.t.Cleanup(func() { conn.Close() })
	return c
}

func (c *client) readLoop() {
	defer close(c.closed)
	fr := iso8583.NewFrameReader(c.conn, 0)
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			return
		}
		var r iso8583.Response
		if err := c.s.codec.UnpackResponse(frame, &r); err != nil {
			c.t.Errorf("response does not unpack: %v", err)
			return
		}
		c.mu.Lock()
		ch := c.waiting[r.STAN]
		delete(c.waiting, r.STAN)
		c.mu.Unlock()
		if ch != nil {
			ch <- &r
		}
	}
}

// send sends a request and returns where its response will arrive.
func (c *client) send(r *iso8583.Request) <-chan *iso8583.Response {
	c.t.Helper()
	msg, err := c.s.codec.AppendRequest(nil, r)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.sendRaw(r.STAN, msg)
}

func (c *client) sendRaw(stan string, msg []byte) <-chan *iso8583.Response {
	c.t.Helper()
	ch := make(chan *iso8583.Response, 1)
	c.mu.Lock()
	c.waiting[stan] = ch
	c.mu.Unlock()
	frame, err := iso8583.AppendFrame(nil, msg, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.Write(frame); err != nil {
		c.t.Fatal(err)
	}
	return ch
}

// answerTimeout guards against hangs; no test asserts a latency.
const answerTimeout = 20 * time.Second

func (c *client) await(ch <-chan *iso8583.Response) *iso8583.Response {
	c.t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(answerTimeout):
		c.t.Fatal("no answer")
		return nil
	}
}

func (c *client) do(r *iso8583.Request) *iso8583.Response {
	c.t.Helper()
	return c.await(c.send(r))
}

func (c *client) expect(r *iso8583.Request, code string) *iso8583.Response {
	c.t.Helper()
	resp := c.do(r)
	if resp.ResponseCode != code {
		c.t.Fatalf("%s STAN %s: DE39 %s, want %s", r.MTI, r.STAN, resp.ResponseCode, code)
	}
	return resp
}
