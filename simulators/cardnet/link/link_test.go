package link_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/issuertest"
	"github.com/andes-bank/andes/simulators/cardnet/link"
)

// hangGuard bounds every wait in these tests: a generous limit against a
// hang, not a latency assertion.
const hangGuard = 20 * time.Second

// approveAll answers every request 00.
var approveAll = issuertest.HandlerFunc(func(*iso8583.Request) (iso8583.Answer, bool) {
	return iso8583.Answer{ResponseCode: iso8583.ResponseApproved, ApprovalCode: "123456"}, true
})

func startIssuer(t *testing.T, codec *iso8583.Codec, h issuertest.Handler) *issuertest.Server {
	t.Helper()
	s, err := issuertest.Start(codec, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// startPool runs a pool against addr until the test ends, and returns it
// with a function that stops it and waits for the sign-offs.
func startPool(t *testing.T, o link.Options) (*link.Pool, func()) {
	t.Helper()
	p, err := link.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	stop := func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return p, stop
}

func guard(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}

func purchase(terminal string, amount int64) *iso8583.Request {
	return &iso8583.Request{
		MTI: "0100", PAN: "4111111111111111", ProcessingCode: "000000", Amount: amount, Currency: "604",
		AcquirerID: "400001", RRN: "000000000001", TerminalID: terminal, MerchantID: "MERCHANT0000001",
	}
}

func TestSignOnEchoAndReconnectAfterTheIssuerDropsTheConnection(t *testing.T) {
	for _, enc := range []iso8583.TextEncoding{iso8583.ASCII, iso8583.EBCDIC} {
		t.Run(enc.String(), func(t *testing.T) {
			codec := iso8583.NewCodec(enc)
			issuer := startIssuer(t, codec, approveAll)
			var states sync.Map
			pool, stop := startPool(t, link.Options{
				Addr: issuer.Addr(), Codec: codec, Conns: 2, AcquirerID: "400001",
				EchoInterval: 10 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond,
				OnState: func(conn int, s link.State, _ error) { states.Store(fmt.Sprint(conn, s), true) },
			})
			ctx := guard(t)

			if err := pool.WaitReady(ctx, 2); err != nil {
				t.Fatal(err)
			}
			if err := issuer.WaitFor(ctx, func(rs []issuertest.Received) bool {
				return issuertest.Count(rs, "0800", link.Echo) >= 4
			}); err != nil {
				t.Fatal(err)
			}

			issuer.DropConnections()
			if err := issuer.WaitFor(ctx, func(rs []issuertest.Received) bool {
				return issuertest.Count(rs, "0800", link.SignOn) >= 4
			}); err != nil {
				t.Fatalf("no sign-on after the drop: %v", err)
			}
			if err := pool.WaitReady(ctx, 2); err != nil {
				t.Fatal(err)
			}
			resp, err := pool.Exchange(ctx, purchase("TERM0001", 1500), hangGuard)
			if err != nil {
				t.Fatalf("request after reconnect: %v", err)
			}
			if resp.MTI != "0110" || resp.ResponseCode != "00" || resp.ApprovalCode != "123456" {
				t.Fatalf("answer after reconnect: %+v", resp)
			}

			stop()
			// The issuer records a request after answering it.
			if err := issuer.WaitFor(ctx, func(rs []issuertest.Received) bool {
				return issuertest.Count(rs, "0800", link.SignOff) == 2
			}); err != nil {
				t.Fatalf("sign-offs at stop: %v", err)
			}
			st := pool.Stats()
			if st.SignOns < 4 || st.Echoes < 4 || st.SignOffs != 2 {
				t.Fatalf("stats: %+v", st)
			}
			for _, s := range []string{"0 signed-on", "1 signed-on", "0 down", "1 down"} {
				if _, ok := states.Load(s); !ok {
					t.Errorf("state %q never reported", s)
				}
			}
			if pool.Ready() != 0 {
				t.Fatalf("ready after stop: %d", pool.Ready())
			}
		})
	}
}

func TestRefusedSignOnKeepsTheConnectionOutOfService(t *testing.T) {
	codec := iso8583.NewCodec(iso8583.ASCII)
	issuer := startIssuer(t, codec, approveAll)
	issuer.RefuseSignOn(true)
	pool, _ := startPool(t, link.Options{
		Addr: issuer.Addr(), Codec: codec, AcquirerID: "400001", EchoInterval: -1,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	})
	ctx := guard(t)
	if err := issuer.WaitFor(ctx, func(rs []issuertest.Received) bool {
		return issuertest.Count(rs, "0800", link.SignOn) >= 3
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Send(purchase("TERM0001", 100)); !errors.Is(err, link.ErrNotConnected) {
		t.Fatalf("send while sign-on is refused: got %v, want ErrNotConnected", err)
	}
	issuer.RefuseSignOn(false)
	if err := pool.WaitReady(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if st := pool.Stats(); st.SignOnFailures < 3 {
		t.Fatalf("sign-on failures: %+v", st)
	}
}

// A hundred requests in flight on one connection, answered in an order of
// the issuer's choosing, each find their own answer.
func TestHundredConcurrentRequestsOnOneConnectionAreMatched(t *testing.T) {
	codec := iso8583.NewCodec(iso8583.EBCDIC)
	issuer := startIssuer(t, codec, issuertest.HandlerFunc(func(req *iso8583.Request) (iso8583.Answer, bool) {
		// The approval code names the request, so a mismatch shows.
		return iso8583.Answer{ResponseCode: "00", ApprovalCode: "A" + req.STAN[1:]}, true
	}))
	// Later requests answered sooner: answers overtake each other.
	issuer.SetDelay(func(req *iso8583.Request) time.Duration {
		return time.Duration(100-req.Amount%100) * 200 * time.Microsecond
	})
	pool, _ := startPool(t, link.Options{Addr: issuer.Addr(), Codec: codec, AcquirerID: "400001", EchoInterval: -1})
	ctx := guard(t)
	if err := pool.WaitReady(ctx, 1); err != nil {
		t.Fatal(err)
	}

	const n = 100
	type result struct {
		req  *iso8583.Request
		resp *iso8583.Response
		err  error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Half share a terminal, so STAN and DE7 must tell them apart.
			req := purchase(fmt.Sprintf("TERM%04d", i%2), int64(1000+i))
			resp, err := pool.Exchange(ctx, req, hangGuard)
			results[i] = result{req, resp, err}
		})
	}
	wg.Wait()
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("request %d: %v", i, r.err)
		}
		if r.resp.STAN != r.req.STAN || r.resp.Amount != r.req.Amount || r.resp.TerminalID != r.req.TerminalID ||
			r.resp.ApprovalCode != "A"+r.req.STAN[1:] {
			t.Fatalf("request %d (STAN %s, amount %d) got the answer to STAN %s, amount %d, code %s",
				i, r.req.STAN, r.req.Amount, r.resp.STAN, r.resp.Amount, r.resp.ApprovalCode)
		}
	}
	conns := map[int]bool{}
	for _, r := range issuer.Received() {
		conns[r.Conn] = true
	}
	if len(conns) != 1 {
		t.Fatalf("requests went over %d connections, want 1", len(conns))
	}
	if st := pool.Stats(); st.Unmatched != 0 {
		t.Fatalf("unmatched answers: %d", st.Unmatched)
	}
}

func TestTimeoutThenLateAnswerIsUnmatched(t *testing.T) {
	codec := iso8583.NewCodec(iso8583.ASCII)
	issuer := startIssuer(t, codec, approveAll)
	release := issuer.Hold(func(r *iso8583.Request) bool { return r.MTI == "0100" })
	pool, _ := startPool(t, link.Options{Addr: issuer.Addr(), Codec: codec, AcquirerID: "400001", EchoInterval: -1})
	ctx := guard(t)
	if err := pool.WaitReady(ctx, 1); err != nil {
		t.Fatal(err)
	}
	late := make(chan *iso8583.Response, 1)
	pool.OnUnmatched(func(_ int, resp *iso8583.Response) { late <- resp })

	req := purchase("TERM0001", 700)
	if _, err := pool.Exchange(ctx, req, time.Millisecond); !errors.Is(err, link.ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	release()
	select {
	case resp := <-late:
		if resp.STAN != req.STAN {
			t.Fatalf("late answer for STAN %s, want %s", resp.STAN, req.STAN)
		}
	case <-ctx.Done():
		t.Fatal("the late answer was never reported")
	}
}

func TestCutFailsCallsInFlightAndRestoreReconnects(t *testing.T) {
	codec := iso8583.NewCodec(iso8583.ASCII)
	issuer := startIssuer(t, codec, approveAll)
	release := issuer.Hold(func(r *iso8583.Request) bool { return r.MTI == "0100" })
	defer release()
	pool, _ := startPool(t, link.Options{
		Addr: issuer.Addr(), Codec: codec, Conns: 2, AcquirerID: "400001", EchoInterval: -1, MinBackoff: time.Millisecond,
	})
	ctx := guard(t)
	if err := pool.WaitReady(ctx, 2); err != nil {
		t.Fatal(err)
	}
	call, err := pool.Send(purchase("TERM0001", 100))
	if err != nil {
		t.Fatal(err)
	}
	pool.Cut()
	if _, err := call.Wait(ctx, hangGuard); !errors.Is(err, link.ErrConnectionLost) {
		t.Fatalf("in-flight call after a cut: got %v, want ErrConnectionLost", err)
	}
	if _, err := pool.Send(purchase("TERM0001", 100)); !errors.Is(err, link.ErrNotConnected) {
		t.Fatalf("send during the cut: got %v, want ErrNotConnected", err)
	}
	if err := issuer.WaitFor(ctx, func(rs []issuertest.Received) bool {
		return issuertest.Count(rs, "0800", link.SignOn) == 2
	}); err != nil {
		t.Fatal(err)
	}
	pool.Restore()
	if err := pool.WaitReady(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := issuer.WaitFor(ctx, func(rs []issuertest.Received) bool {
		return issuertest.Count(rs, "0800", link.SignOn) == 4
	}); err != nil {
		t.Fatalf("sign-ons after restore: %v", err)
	}
}

func startIssuerB(b *testing.B, codec *iso8583.Codec) string {
	s, err := issuertest.Start(codec, approveAll)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	return s.Addr()
}
