package network_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/issuertest"
	"github.com/andes-bank/andes/simulators/cardnet/link"
	"github.com/andes-bank/andes/simulators/cardnet/network"
	"github.com/andes-bank/andes/simulators/cardnet/standin"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
	"github.com/andes-bank/andes/simulators/cardnet/txlog"
	"github.com/andes-bank/andes/simulators/hsm"
)

const hangGuard = 20 * time.Second

var shop = terminal.Merchant{MCC: "5411", TerminalID: "POS00001", MerchantID: "SHOP00000000001", NameLocation: "BODEGA SAN ISIDRO      LIMA         PE"}

type rig struct {
	bank    *issuertest.Bank
	issuer  *issuertest.Server
	pool    *link.Pool
	net     *network.Network
	log     *txlog.Log
	acq     *terminal.Acquirer
	card    terminal.Card
	events  chan network.Event
	runNet  func()
	ctx     context.Context
	handler *countingHandler
}

// countingHandler leaves the first `silent` advices (0120/0121)
// unanswered, then hands everything to the bank.
type countingHandler struct {
	bank    *issuertest.Bank
	silent  int
	advices atomic.Int64
}

func (h *countingHandler) Handle(req *iso8583.Request) (iso8583.Answer, bool) {
	if req.MTI == "0120" || req.MTI == "0121" {
		if int(h.advices.Add(1)) <= h.silent {
			return iso8583.Answer{}, false
		}
	}
	return h.bank.Handle(req)
}

func newRig(t *testing.T, silentAdvices int, startNetwork bool, lateWindow ...time.Duration) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	codec := iso8583.NewCodec(iso8583.ASCII)
	bank := issuertest.NewBank(nil)
	card, err := bank.NewCard("ana", "4000001234567899", "3012", "1234", "604", issuertest.CardSettings{Balance: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	h := &countingHandler{bank: bank, silent: silentAdvices}
	issuer, err := issuertest.Start(codec, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(issuer.Close)
	pool, err := link.New(link.Options{Addr: issuer.Addr(), Codec: codec, Conns: 1, AcquirerID: "400001", EchoInterval: -1, MinBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = pool.Run(runCtx) })
	t.Cleanup(func() { stop(); wg.Wait() })

	late := hangGuard
	if len(lateWindow) > 0 {
		late = lateWindow[0]
	}
	r := &rig{bank: bank, issuer: issuer, pool: pool, log: txlog.New(0), card: card, ctx: ctx, handler: h,
		acq: terminal.NewAcquirer("400001", hsm.DevKeys().ZPK, nil), events: make(chan network.Event, 100)}
	r.net, err = network.New(network.Options{
		Issuer: pool, StandIn: standin.New(standin.DefaultLimits, nil), Log: r.log, Acquirer: r.acq,
		IssuerTimeout: 50 * time.Millisecond, LateWindow: late, AdviceTimeout: 20 * time.Millisecond,
		RetryInterval: time.Millisecond,
		OnEvent:       func(e network.Event) { r.events <- e },
	})
	if err != nil {
		t.Fatal(err)
	}
	r.runNet = func() { wg.Go(func() { _ = r.net.Run(runCtx) }) }
	if startNetwork {
		r.runNet()
	}
	if err := pool.WaitReady(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) waitEvent(t *testing.T, kind string) network.Event {
	t.Helper()
	for {
		select {
		case e := <-r.events:
			if e.Kind == kind {
				return e
			}
		case <-r.ctx.Done():
			t.Fatalf("no %s event", kind)
		}
	}
}

func (r *rig) purchase(t *testing.T, amount int64) *iso8583.Request {
	t.Helper()
	req, err := r.acq.Authorization(r.card, terminal.Sale{Amount: amount, Merchant: shop, Entry: terminal.Contactless})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func (r *rig) position(t *testing.T) issuertest.Position {
	t.Helper()
	p, err := r.bank.Position(r.ctx, r.card)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIssuerAnswerInTimeReachesTheMerchant(t *testing.T) {
	r := newRig(t, 0, true)
	o, err := r.net.Authorize(r.ctx, r.purchase(t, 2_500))
	if err != nil {
		t.Fatal(err)
	}
	if o.Source != txlog.SourceIssuer || o.ResponseCode != "00" || o.ApprovedAmount != 2_500 {
		t.Fatalf("outcome: %+v", o)
	}
	if p := r.position(t); p.Held != 2_500 || p.Available != 97_500 {
		t.Fatalf("position: %+v", p)
	}
	if r.net.Queued() != 0 {
		t.Fatal("an answered authorization owes the issuer nothing")
	}
}

// The issuer does not answer: the network answers the merchant from
// stand-in, then owes an 0120 it repeats as 0121 until one is answered.
func TestStandInOnTimeoutAnswersTheMerchantThenAdvisesUntilAcknowledged(t *testing.T) {
	// The issuer never answers the 0100: the advice goes when the late
	// window closes.
	r := newRig(t, 3, true, 30*time.Millisecond)
	release := r.issuer.Hold(func(req *iso8583.Request) bool { return req.MTI == "0100" })
	defer release()

	req := r.purchase(t, 3_000)
	o, err := r.net.Authorize(r.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if o.Source != txlog.SourceStandIn || o.ResponseCode != "00" || !strings.HasPrefix(o.ApprovalCode, "S") || o.Response != nil {
		t.Fatalf("merchant outcome: %+v", o)
	}
	if err := r.net.Drain(r.ctx); err != nil {
		t.Fatal(err)
	}
	var advices []issuertest.Received
	if err := r.issuer.WaitFor(r.ctx, func(rs []issuertest.Received) bool {
		advices = advices[:0]
		for _, x := range rs {
			if x.MTI == "0120" || x.MTI == "0121" {
				advices = append(advices, x)
			}
		}
		return len(advices) == 4 && advices[3].Handled
	}); err != nil {
		t.Fatal(err)
	}
	wantMTI := []string{"0120", "0121", "0121", "0121"}
	for i, a := range advices {
		if a.MTI != wantMTI[i] {
			t.Fatalf("advice %d: MTI %s, want %s", i, a.MTI, wantMTI[i])
		}
		if a.STAN != req.STAN || a.Transmitted != req.TransmissionDateTime || a.TransactionID != req.PrivateData.NetworkTransactionID {
			t.Fatalf("advice %d does not carry the 0100's STAN, DE7 and transaction id: %+v", i, a)
		}
		if a.ResponseCode != "00" || a.Amount != 3_000 || a.HasPINBlock || a.HasCVV2 || a.Original.MTI != "" {
			t.Fatalf("advice %d: %+v", i, a)
		}
		wantAnswer := ""
		if i == 3 {
			wantAnswer = "00"
		}
		if a.Answer != wantAnswer {
			t.Fatalf("advice %d answered %q, want %q", i, a.Answer, wantAnswer)
		}
	}
	var advice txlog.Entry
	for _, e := range r.log.Entries() {
		if e.Kind == txlog.KindAdvice {
			advice = e
		}
	}
	if advice.Delivery != txlog.Acknowledged || advice.Attempts != 4 || advice.AckCode != "00" || advice.RelatesTo != o.LogID {
		t.Fatalf("advice log entry: %+v", advice)
	}
	// The bank held the 0100 it never answered in time, and the advice made
	// the stand-in approval a posting instead: the money moved once.
	if p := r.position(t); p.Balance != 97_000 || p.Held != 0 {
		t.Fatalf("position after the advice: %+v", p)
	}
}

// The issuer approves after the network's timeout: the network reverses
// that approval (0420, DE39 68) ahead of its stand-in advice, and the card
// ends charged once, as the network decided.
func TestLateApprovalIsReversedAheadOfTheStandInAdvice(t *testing.T) {
	r := newRig(t, 0, false) // the queue starts after both are owed
	release := r.issuer.Hold(func(req *iso8583.Request) bool { return req.MTI == "0100" })

	req := r.purchase(t, 4_000)
	o, err := r.net.Authorize(r.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if o.Source != txlog.SourceStandIn || o.ResponseCode != "00" {
		t.Fatalf("merchant outcome: %+v", o)
	}
	release()
	late := r.waitEvent(t, network.EventLate)
	if !strings.Contains(late.Text, "reversed") {
		t.Fatalf("late event: %s", late.Text)
	}
	r.waitEvent(t, network.EventQueued) // the reversal, after the advice
	if r.net.Queued() != 2 {
		t.Fatalf("queued: %d, want advice and reversal", r.net.Queued())
	}
	r.runNet()
	if err := r.net.Drain(r.ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.issuer.WaitFor(r.ctx, func(rs []issuertest.Received) bool { return len(rs) >= 4 && rs[len(rs)-1].Handled }); err != nil {
		t.Fatal(err)
	}
	var got []issuertest.Received
	for _, x := range r.issuer.Received() {
		if x.MTI != "0800" {
			got = append(got, x)
		}
	}
	if len(got) != 3 || got[0].MTI != "0100" || got[1].MTI != "0420" || got[2].MTI != "0120" {
		t.Fatalf("issuer saw %+v, want 0100, 0420, 0120", got)
	}
	rev := got[1]
	if rev.ResponseCode != terminal.ReasonLateResponse || rev.Amount != 4_000 || rev.Remaining != 0 ||
		rev.Original.MTI != "0100" || rev.Original.STAN != req.STAN || rev.Original.TransmissionDateTime != req.TransmissionDateTime ||
		rev.TransactionID != req.PrivateData.NetworkTransactionID || rev.STAN == req.STAN {
		t.Fatalf("reversal: %+v", rev)
	}
	if p := r.position(t); p.Balance != 96_000 || p.Held != 0 {
		t.Fatalf("position: %+v, want one posting of 4000 and nothing held", p)
	}
	entry, _ := r.log.Get(o.LogID)
	if entry.LateResponseCode != "00" {
		t.Fatalf("log entry of the authorization: %+v", entry)
	}
}

// While the cable is cut the network stands in at once; after the cut its
// advices and the reversal a merchant asked for arrive, in order.
func TestCutStandsInAndDeliversAfterReconnect(t *testing.T) {
	r := newRig(t, 0, true)
	r.pool.Cut()
	o1, err := r.net.Authorize(r.ctx, r.purchase(t, 1_000))
	if err != nil {
		t.Fatal(err)
	}
	o2, err := r.net.Authorize(r.ctx, r.purchase(t, 60_000)) // over the stand-in limit
	if err != nil {
		t.Fatal(err)
	}
	if o1.ResponseCode != "00" || !strings.Contains(o1.Reason, "unreachable") || o2.ResponseCode != standin.AmountLimit {
		t.Fatalf("outcomes during the cut: %+v / %+v", o1, o2)
	}
	o3, err := r.net.Authorize(r.ctx, r.purchase(t, 2_000))
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.net.Reverse(o3, 0, terminal.ReasonCustomerCancellation)
	if err != nil {
		t.Fatal(err)
	}
	if r.net.Queued() != 4 {
		t.Fatalf("owed during the cut: %d, want 3 advices and a reversal", r.net.Queued())
	}
	r.pool.Restore()
	if resp, err := d.Wait(r.ctx); err != nil || resp.ResponseCode != "00" {
		t.Fatalf("reversal delivery: %v %v", resp, err)
	}
	if err := r.net.Drain(r.ctx); err != nil {
		t.Fatal(err)
	}
	if p := r.position(t); p.Balance != 99_000 || p.Held != 0 {
		t.Fatalf("position: %+v, want the 1000 stand-in approval posted, the rest nothing", p)
	}
	var buf bytes.Buffer
	if err := r.log.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), r.card.PAN) || !strings.Contains(buf.String(), r.card.Masked()) {
		t.Fatal("the log dump must show the card masked, never in clear")
	}
}

// The stand-in advice waits for the fate of the 0100 it stands in for, so
// it can never overtake it on another connection; other messages go on.
func TestStandInAdviceWaitsForTheLateAnswer(t *testing.T) {
	r := newRig(t, 0, true)
	slow := r.purchase(t, 5_000)
	release := r.issuer.Hold(func(req *iso8583.Request) bool {
		return req.MTI == "0100" && req.PrivateData.NetworkTransactionID == slow.PrivateData.NetworkTransactionID
	})
	o, err := r.net.Authorize(r.ctx, slow)
	if err != nil {
		t.Fatal(err)
	}
	if o.Source != txlog.SourceStandIn || !o.Approved() {
		t.Fatalf("merchant outcome: %+v", o)
	}
	quick, err := r.net.Authorize(r.ctx, r.purchase(t, 1_000))
	if err != nil || quick.Source != txlog.SourceIssuer {
		t.Fatalf("second purchase: %+v %v", quick, err)
	}
	clearing, err := r.acq.Completion("0220", quick.Request, quick.ApprovalCode, 1_000)
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.net.Advise(clearing, quick.LogID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Wait(r.ctx); err != nil {
		t.Fatalf("a completion behind the held advice: %v", err)
	}
	if n := issuertest.Count(r.issuer.Received(), "0120", ""); n != 0 || r.net.Queued() != 1 {
		t.Fatalf("advices sent before the 0100's answer: %d (queued %d)", n, r.net.Queued())
	}
	release()
	if err := r.net.Drain(r.ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range r.issuer.Received() {
		if x.TransactionID == slow.PrivateData.NetworkTransactionID {
			got = append(got, x.MTI)
		}
	}
	if strings.Join(got, ",") != "0100,0420,0120" {
		t.Fatalf("the issuer saw %v for the slow purchase, want 0100, 0420, 0120", got)
	}
	if p := r.position(t); p.Balance != 94_000 || p.Held != 0 {
		t.Fatalf("position: %+v, want 5000 forced and 1000 cleared", p)
	}
}

// After a stand-in decline the issuer's late approval is reversed ahead of
// the decline's advice: the decline holds nothing, the approval does.
func TestLateApprovalAfterAStandInDeclineIsReversed(t *testing.T) {
	r := newRig(t, 0, true)
	release := r.issuer.Hold(func(req *iso8583.Request) bool { return req.MTI == "0100" })
	o, err := r.net.Authorize(r.ctx, r.purchase(t, 60_000)) // over the stand-in limit: declined
	if err != nil {
		t.Fatal(err)
	}
	if o.Source != txlog.SourceStandIn || o.ResponseCode != standin.AmountLimit {
		t.Fatalf("merchant outcome: %+v", o)
	}
	release()
	if e := r.waitEvent(t, network.EventLate); !strings.Contains(e.Text, "reversed") {
		t.Fatalf("late event: %s", e.Text)
	}
	if err := r.net.Drain(r.ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range r.issuer.Received() {
		if x.MTI != "0800" {
			got = append(got, x.MTI+"/"+x.ResponseCode)
		}
	}
	if strings.Join(got, ",") != "0100/,0420/68,0120/61" {
		t.Fatalf("the issuer saw %v", got)
	}
	if p := r.position(t); p.Balance != 100_000 || p.Held != 0 {
		t.Fatalf("position: %+v, want the issuer's late hold released", p)
	}
}
