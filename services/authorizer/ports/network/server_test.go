package network_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/authorizer/domain"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/services/authorizer/ports/network"
)

// gate holds every decision until released, so overload is made, not timed.
type gate struct {
	mu      sync.Mutex
	entered chan string
	release chan struct{}
	fail    bool
}

func (g *gate) Decide(ctx context.Context, m *domain.NetworkMessage) (domain.Outcome, error) {
	g.entered <- m.MTI
	select {
	case <-g.release:
	case <-ctx.Done():
		return domain.Outcome{}, ctx.Err()
	}
	if g.fail {
		return domain.Outcome{}, errors.New("database down")
	}
	return domain.Outcome{Code: domain.CodeApproved, ApprovalCode: "654321"}, nil
}

const guard = 20 * time.Second

type conn struct {
	t     *testing.T
	c     net.Conn
	codec *iso8583.Codec
	got   chan *iso8583.Response
}

func dial(t *testing.T, addr string) *conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	k := &conn{t: t, c: c, codec: iso8583.NewCodec(iso8583.ASCII), got: make(chan *iso8583.Response, 100)}
	go func() {
		fr := iso8583.NewFrameReader(c, 0)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				close(k.got)
				return
			}
			var r iso8583.Response
			if err := k.codec.UnpackResponse(f, &r); err == nil {
				k.got <- &r
			}
		}
	}()
	return k
}

func (k *conn) send(mti, stan string) {
	r := seedRequest()
	r.MTI, r.STAN = mti, stan
	if mti[1] == '4' {
		r.Original = iso8583.OriginalData{MTI: "0100", STAN: "000001", TransmissionDateTime: "0310143000", AcquirerID: "12345"}
	}
	msg, err := k.codec.AppendRequest(nil, r)
	if err != nil {
		k.t.Fatal(err)
	}
	f, _ := iso8583.AppendFrame(nil, msg, 0)
	if _, err := k.c.Write(f); err != nil {
		k.t.Fatal(err)
	}
}

func (k *conn) next() *iso8583.Response {
	select {
	case r, ok := <-k.got:
		if !ok {
			k.t.Fatal("connection closed")
		}
		return r
	case <-time.After(guard):
		k.t.Fatal("no answer")
		return nil
	}
}

func wait(t *testing.T, ch chan string) string {
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatal("no decision started")
		return ""
	}
}

// TestOverload: with every decision slot taken, authorizations are left
// unanswered for the network to stand in, while advices and reversals wait for a
// slot and are acknowledged once decided.
func TestOverload(t *testing.T) {
	g := &gate{entered: make(chan string, 10), release: make(chan struct{})}
	srv := network.NewServer(g, network.Options{MaxInFlight: 2})
	addr := start(t, srv)
	k := dial(t, addr)

	k.send("0100", "000001")
	k.send("0100", "000002")
	wait(t, g.entered)
	wait(t, g.entered) // both slots taken
	for _, stan := range []string{"000003", "000004", "000005"} {
		k.send("0100", stan)
	}
	poll(t, func() bool { return srv.Stats().Shed.Load() == 3 })
	// These wait for a slot (and hold up the reading of the connection).
	k.send("0420", "000006")
	k.send("0120", "000007")
	g.release <- struct{}{}
	if r := k.next(); r.STAN != "000001" && r.STAN != "000002" {
		t.Fatalf("first answer: %+v", r)
	}
	if mti := wait(t, g.entered); mti != "0420" {
		t.Fatalf("decided %s, want the reversal", mti)
	}
	if n := srv.Stats().Shed.Load(); n != 3 {
		t.Fatalf("%d shed, want 3", n)
	}
	close(g.release)
	if mti := wait(t, g.entered); mti != "0120" {
		t.Fatalf("decided %s, want the advice", mti)
	}
	answered := map[string]string{}
	for range 3 {
		r := k.next()
		answered[r.STAN] = r.MTI + " " + r.ResponseCode
	}
	want := map[string]string{"000006": "0430 00", "000007": "0130 00"}
	for stan, w := range want {
		if answered[stan] != w {
			t.Errorf("STAN %s answered %q, want %q (all: %v)", stan, answered[stan], w, answered)
		}
	}
	for _, stan := range []string{"000003", "000004", "000005"} {
		if _, ok := answered[stan]; ok {
			t.Errorf("shed purchase %s was answered", stan)
		}
	}
}

// TestFailedDecisions: a purchase whose decision fails gets 96; an advice gets no
// acknowledgement, so the network sends it again.
func TestFailedDecisions(t *testing.T) {
	g := &gate{entered: make(chan string, 10), release: make(chan struct{}), fail: true}
	close(g.release)
	srv := network.NewServer(g, network.Options{})
	k := dial(t, start(t, srv))
	k.send("0120", "000001")
	k.send("0100", "000002")
	r := k.next()
	if r.STAN != "000002" || r.ResponseCode != "96" {
		t.Fatalf("answer %+v, want only the purchase's 96", r)
	}
	// The echo behind them proves the advice was never answered.
	k.send("0800", "000003")
	if r := k.next(); r.MTI != "0810" {
		t.Fatalf("answer %+v, want the echo", r)
	}
	poll(t, func() bool { return srv.Stats().Failed.Load() == 2 })
}

func poll(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(time.Millisecond)
	}
}

func start(t *testing.T, srv *network.Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}
