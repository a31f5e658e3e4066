// Package network is the card network between merchants and the issuer: it
// forwards authorizations, answers the merchant itself when the issuer does
// not answer in time (stand-in), and owes the issuer, store-and-forward, the
// advices and reversals that keep the issuer's ledger equal to what was
// decided.
//
// What the issuer receives, and how to read it:
//
//   - 0100 authorization requests, as the merchant's acquirer sent them.
//   - 0120 stand-in advice: the network decided an 0100 on the issuer's
//     behalf. It repeats the 0100's fields — STAN, DE7, RRN, DE48
//     transaction id included, so the issuer can tie it to an 0100 it may
//     have seen — without PIN block or CVV2, with the network's decision in
//     DE39 (00 approved: a forced post; anything else: declined, nothing to
//     hold) and its approval code (S.....) in DE38. It has no DE90.
//   - 0120 or 0220 completion advice from a merchant: DE90 names the
//     pre-authorization's 0100, DE4 is the final amount.
//   - 0420 reversal: DE90 names the 0100 reversed; DE95 holds the amounts
//     that remain (a partial reversal), or is absent (full). DE39 says why:
//     17 the customer cancelled, 68 the issuer's approval arrived after the
//     network's timeout. A 68 reversal voids the issuer's own late answer
//     to that 0100, not the network's decision: the issuer sees 0100, its
//     late approval reversed (0420), then the stand-in advice (0120), whose
//     decision stands — a forced post when it approved.
//
// That order is kept by holding a stand-in advice back while the issuer
// may still answer its 0100 (until the answer comes, the connection
// carrying it drops, or the late window closes): an advice sent at once on
// another connection could overtake the 0100 it is about. Should an
// approval's advice have gone before a late approval (it cannot, unless
// the late window is longer than the hold), no reversal follows: the issuer
// reconciles its own approval with the advice (same transaction id and
// original key).
//   - 0121, 0221, 0421: the same message repeated, identical but for the
//     MTI, until an answer comes. Any answer acknowledges it except DE39 91
//     or 96 (the issuer could not make it durable: repeat) and 30 (format
//     error: repeating cannot help; the message is set aside as rejected).
//
// Advices and reversals go one at a time, in order, as a store-and-forward
// queue does.
package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/link"
	"github.com/andes-bank/andes/simulators/cardnet/standin"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
	"github.com/andes-bank/andes/simulators/cardnet/txlog"
)

// Issuer is the network's connection to the issuer (a *link.Pool).
type Issuer interface {
	Send(req *iso8583.Request) (*link.Call, error)
	Stamp(req *iso8583.Request)
	WaitReady(ctx context.Context, n int) error
}

var _ Issuer = (*link.Pool)(nil)

// Options configure a Network.
type Options struct {
	Issuer   Issuer
	StandIn  *standin.Rules
	Log      *txlog.Log
	Acquirer *terminal.Acquirer
	// IssuerTimeout is how long the network waits for the issuer's answer
	// before it stands in (default 3s).
	IssuerTimeout time.Duration
	// LateWindow is how long after that it still listens for a late answer
	// to reverse (default 30s).
	LateWindow time.Duration
	// AdviceTimeout is how long an advice or reversal waits for its answer
	// before it is repeated (default 5s).
	AdviceTimeout time.Duration
	// RetryInterval is the pause before a repeat, or before sending again
	// when the issuer is unreachable (default 1s).
	RetryInterval time.Duration
	// MaxAttempts abandons an advice or reversal after this many sends; 0
	// never gives up, as a network's store-and-forward does not.
	MaxAttempts int
	// Now is the clock of the log (default time.Now).
	Now func() time.Time
	// OnEvent, when set, is told every decision and delivery, in order.
	OnEvent func(Event)
	Logger  *slog.Logger
}

// Event is something the network did, for people to read.
type Event struct {
	Kind  string // EventDecision, EventStandIn, EventLate, EventQueued, EventRepeat, EventAcknowledged, EventRejected, EventAbandoned
	Text  string
	Entry txlog.Entry
}

// Event kinds.
const (
	EventDecision     = "decision"
	EventStandIn      = "stand-in"
	EventLate         = "late-answer"
	EventQueued       = "queued"
	EventRepeat       = "repeat"
	EventAcknowledged = "acknowledged"
	EventRejected     = "rejected"
	EventAbandoned    = "abandoned"
)

// Outcome is what the merchant was told about an authorization.
type Outcome struct {
	// Request is the 0100 as it was sent, STAN and DE7 stamped.
	Request *iso8583.Request
	// Response is the issuer's answer; nil when the network stood in.
	Response       *iso8583.Response
	Source         string // txlog.SourceIssuer or txlog.SourceStandIn
	ResponseCode   string
	ApprovalCode   string
	ApprovedAmount int64 // in DE4's currency
	Reason         string
	Latency        time.Duration
	LogID          int64
}

// Approved reports whether the merchant may hand over the goods (00 or 10).
func (o Outcome) Approved() bool {
	return o.ResponseCode == iso8583.ResponseApproved || o.ResponseCode == iso8583.ResponsePartialApproval
}

// Network forwards, stands in and delivers advices and reversals.
type Network struct {
	o      Options
	logger *slog.Logger

	mu      sync.Mutex
	queue   []*item // waiting; the one being delivered is current
	current *item
	wake    chan struct{}
	idle    chan struct{} // closed and replaced when the queue empties

	eventMu sync.Mutex
	late    sync.WaitGroup
	closing chan struct{}
	closed  sync.Once
}

// item is an advice or reversal owed to the issuer.
type item struct {
	req       *iso8583.Request
	kind      string
	logID     int64
	txnID     string
	attempts  int
	delivery  *Delivery
	standInOf *iso8583.Request // the 0100 a stand-in approval reversal releases limits of
	held      chan struct{}    // when not nil, the item waits until it is closed
}

// ready reports whether it may be sent.
func (it *item) ready() bool {
	if it.held == nil {
		return true
	}
	select {
	case <-it.held:
		return true
	default:
		return false
	}
}

// Delivery is the fate of one advice or reversal.
type Delivery struct {
	done chan struct{}
	resp *iso8583.Response
	err  error
	req  *iso8583.Request
	kind string
	// LogID is its entry in the transaction log.
	LogID int64
}

// ErrRejected means the issuer answered an advice or reversal with a format
// error.
var ErrRejected = errors.New("network: the issuer rejected the message as malformed")

// ErrAbandoned means an advice or reversal ran out of attempts.
var ErrAbandoned = errors.New("network: gave up delivering the message")

// Wait waits until the issuer acknowledged the message, or ctx ends.
func (d *Delivery) Wait(ctx context.Context) (*iso8583.Response, error) {
	select {
	case <-d.done:
		return d.resp, d.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// New returns a network; Run delivers its advices and reversals.
func New(o Options) (*Network, error) {
	if o.Issuer == nil || o.StandIn == nil || o.Log == nil || o.Acquirer == nil {
		return nil, errors.New("network: Issuer, StandIn, Log and Acquirer are required")
	}
	if o.IssuerTimeout <= 0 {
		o.IssuerTimeout = 3 * time.Second
	}
	if o.LateWindow <= 0 {
		o.LateWindow = 30 * time.Second
	}
	if o.AdviceTimeout <= 0 {
		o.AdviceTimeout = 5 * time.Second
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Network{o: o, logger: o.Logger, wake: make(chan struct{}, 1), idle: make(chan struct{}), closing: make(chan struct{})}
	close(n.idle)
	return n, nil
}

// AuthorizeOption changes one authorization's handling.
type AuthorizeOption func(*authorizeSettings)

type authorizeSettings struct{ timeout time.Duration }

// WithIssuerTimeout overrides the network's timeout for one request, as
// when a line degrades.
func WithIssuerTimeout(d time.Duration) AuthorizeOption {
	return func(s *authorizeSettings) { s.timeout = d }
}

// Authorize forwards an 0100 to the issuer and returns what the merchant is
// told: the issuer's answer if it comes within the timeout, else the
// network's stand-in decision, whose advice is then queued. A late approval
// is reversed. req is stamped (STAN, DE7) in place.
func (n *Network) Authorize(ctx context.Context, req *iso8583.Request, opts ...AuthorizeOption) (Outcome, error) {
	if req.MTI != "0100" {
		return Outcome{}, fmt.Errorf("network: Authorize takes an 0100, not %s", req.MTI)
	}
	s := authorizeSettings{timeout: n.o.IssuerTimeout}
	for _, opt := range opts {
		opt(&s)
	}
	n.o.Issuer.Stamp(req)
	id := n.o.Log.Add(n.entry(txlog.KindAuthorization, req))

	// The network's timer runs from the moment it forwards the request.
	start := time.Now()
	deadline := start.Add(s.timeout)
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	call, err := n.o.Issuer.Send(req)
	if err != nil {
		return n.standIn(req, id, start, "issuer unreachable: "+err.Error(), nil), nil
	}
	select {
	case <-call.Done():
		resp, err := call.Result()
		if err != nil {
			return n.standIn(req, id, start, "no answer: "+err.Error(), nil), nil
		}
		if call.Answered().After(deadline) {
			// Both were ready when looked at; the answer came after the timer.
			return n.standInLate(call, req, id, start, s.timeout), nil
		}
		if resp.ResponseCode == standin.IssuerUnavailable {
			return n.standIn(req, id, start, "the issuer answered 91 (unavailable)", nil), nil
		}
		o := Outcome{
			Request: req, Response: resp, Source: txlog.SourceIssuer, ResponseCode: resp.ResponseCode,
			ApprovalCode: resp.ApprovalCode, Latency: time.Since(start), LogID: id,
		}
		if o.Approved() {
			o.ApprovedAmount = req.Amount
			if resp.ResponseCode == iso8583.ResponsePartialApproval {
				o.ApprovedAmount = resp.Amount
			}
		}
		n.o.Log.Update(id, func(e *txlog.Entry) {
			e.Source, e.ResponseCode, e.ApprovalCode, e.ApprovedAmount, e.Latency =
				o.Source, o.ResponseCode, o.ApprovalCode, o.ApprovedAmount, o.Latency
		})
		n.emit(EventDecision, fmt.Sprintf("issuer answered %s%s", o.ResponseCode, describeCode(o.ResponseCode)), id)
		return o, nil
	case <-timer.C:
		return n.standInLate(call, req, id, start, s.timeout), nil
	case <-ctx.Done():
		call.Cancel()
		return Outcome{}, ctx.Err()
	}
}

// standInLate stands in for a request the issuer may still answer: its
// advice waits until that answer (or the end of the late window), so that
// it never overtakes the 0100 and a late approval's reversal goes first.
func (n *Network) standInLate(call *link.Call, req *iso8583.Request, id int64, start time.Time, timeout time.Duration) Outcome {
	held := make(chan struct{})
	o := n.standIn(req, id, start, fmt.Sprintf("no answer within %v", timeout), held)
	n.watchLate(call, req, id, o.Approved(), held)
	return o
}

// standIn decides req on the issuer's behalf and queues the advice, held
// back until held is closed when held is not nil.
func (n *Network) standIn(req *iso8583.Request, id int64, start time.Time, why string, held chan struct{}) Outcome {
	d := n.o.StandIn.Decide(req)
	o := Outcome{
		Request: req, Source: txlog.SourceStandIn, ResponseCode: d.ResponseCode, ApprovalCode: d.ApprovalCode,
		Reason: why + "; " + d.Reason, Latency: time.Since(start), LogID: id,
	}
	if d.Approved() {
		o.ApprovedAmount = req.Amount
	}
	n.o.Log.Update(id, func(e *txlog.Entry) {
		e.Source, e.ResponseCode, e.ApprovalCode, e.ApprovedAmount, e.Reason, e.Latency =
			o.Source, o.ResponseCode, o.ApprovalCode, o.ApprovedAmount, o.Reason, o.Latency
	})
	n.emit(EventStandIn, fmt.Sprintf("stood in (%s): %s%s", o.Reason, o.ResponseCode, describeCode(o.ResponseCode)), id)

	advice := *req
	advice.MTI = "0120"
	advice.ResponseCode = d.ResponseCode
	advice.ApprovalCode = d.ApprovalCode
	advice.PINBlock, advice.ICC, advice.Track2 = nil, nil, ""
	advice.PrivateData.CVV2 = ""
	n.enqueueAt(&advice, txlog.KindAdvice, id, nil, false, atEnd, nil, held)
	return o
}

// watchLate listens for the issuer's answer after the network stood in; an
// approval is reversed.
func (n *Network) watchLate(call *link.Call, req *iso8583.Request, id int64, standInApproved bool, held chan struct{}) {
	n.late.Add(1)
	go func() {
		defer n.late.Done()
		defer n.release(held)
		t := time.NewTimer(n.o.LateWindow)
		defer t.Stop()
		select {
		case <-call.Done():
		case <-t.C:
			call.Cancel()
			return
		case <-n.closing:
			call.Cancel()
			return
		}
		resp, err := call.Result()
		if err != nil {
			return
		}
		n.o.Log.Update(id, func(e *txlog.Entry) { e.LateResponseCode = resp.ResponseCode })
		if resp.ResponseCode != iso8583.ResponseApproved && resp.ResponseCode != iso8583.ResponsePartialApproval {
			n.emit(EventLate, fmt.Sprintf("issuer answered %s after stand-in: nothing to undo", resp.ResponseCode), id)
			return
		}
		orig := *req
		if resp.ResponseCode == iso8583.ResponsePartialApproval {
			orig.Amount = resp.Amount
		}
		rev, err := n.o.Acquirer.Reversal(&orig, resp.ApprovalCode, 0, terminal.ReasonLateResponse)
		if err != nil {
			n.logger.Error("building the reversal of a late approval", "err", err)
			return
		}
		if !n.enqueueLateReversal(rev, id, standInApproved) {
			n.emit(EventLate, fmt.Sprintf("issuer approved (%s) after the timeout; the stand-in approval's advice, already sent, settles it: no reversal", resp.ApprovalCode), id)
		}
	}()
}

// enqueueLateReversal queues the reversal of a late approval ahead of the
// transaction's stand-in advice while that is still waiting, or at the end
// after a stand-in decline. After a stand-in approval whose advice has
// gone it queues nothing and returns false.
func (n *Network) enqueueLateReversal(rev *iso8583.Request, relatesTo int64, standInApproved bool) bool {
	txn := rev.PrivateData.NetworkTransactionID
	d := n.enqueueAt(rev, txlog.KindReversal, relatesTo, nil, false, func(queue []*item) (int, bool) {
		if i := slices.IndexFunc(queue, func(q *item) bool { return q.kind == txlog.KindAdvice && q.txnID == txn }); i >= 0 {
			return i, true
		}
		return len(queue), !standInApproved
	}, func(id int64) {
		n.emit(EventLate, fmt.Sprintf("issuer approved (%s) after the timeout: its approval is reversed", rev.ApprovalCode), relatesTo)
	}, nil)
	return d != nil
}

// Reverse queues a merchant's reversal of an approved authorization: in
// full when remaining is 0, else down to remaining (DE95). reason is DE39
// (terminal.ReasonCustomerCancellation).
func (n *Network) Reverse(o Outcome, remaining int64, reason string) (*Delivery, error) {
	if !o.Approved() {
		return nil, errors.New("network: only an approval can be reversed")
	}
	orig := *o.Request
	orig.Amount = o.ApprovedAmount
	rev, err := n.o.Acquirer.Reversal(&orig, o.ApprovalCode, remaining, reason)
	if err != nil {
		return nil, err
	}
	var standInOf *iso8583.Request
	if o.Source == txlog.SourceStandIn {
		standInOf = o.Request
	}
	return n.enqueue(rev, txlog.KindReversal, o.LogID, standInOf, false), nil
}

// Advise queues an advice from a merchant (a completion, 0120 or 0220)
// about the authorization logged as relatesTo (0 if none).
func (n *Network) Advise(req *iso8583.Request, relatesTo int64) (*Delivery, error) {
	switch req.MTI {
	case "0120", "0220":
	default:
		return nil, fmt.Errorf("network: Advise takes an 0120 or 0220, not %s", req.MTI)
	}
	return n.enqueue(req, txlog.KindAdvice, relatesTo, nil, false), nil
}

// enqueue logs an advice or reversal and puts it at the end of the queue.
func (n *Network) enqueue(req *iso8583.Request, kind string, relatesTo int64, standInOf *iso8583.Request, repeat bool) *Delivery {
	return n.enqueueAt(req, kind, relatesTo, standInOf, repeat, atEnd, nil, nil)
}

func atEnd(q []*item) (int, bool) { return len(q), true }

// release lets a held advice go.
func (n *Network) release(held chan struct{}) {
	close(held)
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// enqueueAt logs req and inserts it where place says, deciding under the
// queue's lock so the worker cannot take an item in between; place may
// refuse (nil is returned). before runs first, outside the lock, when it
// is queued. A repeat is sent with its repeat MTI from the start.
func (n *Network) enqueueAt(req *iso8583.Request, kind string, relatesTo int64, standInOf *iso8583.Request, repeat bool,
	place func([]*item) (int, bool), before func(id int64), held chan struct{}) *Delivery {
	e := n.entry(kind, req)
	e.Delivery, e.RelatesTo = txlog.Queued, relatesTo
	e.ResponseCode, e.ApprovalCode = req.ResponseCode, req.ApprovalCode
	e.Remaining = req.Replacement.Amount
	it := &item{req: req, kind: kind, txnID: req.PrivateData.NetworkTransactionID, standInOf: standInOf, held: held}
	if repeat {
		it.attempts = 1
	}

	n.mu.Lock()
	at, ok := place(n.queue)
	if !ok {
		n.mu.Unlock()
		return nil
	}
	it.logID = n.o.Log.Add(e)
	it.delivery = &Delivery{done: make(chan struct{}), LogID: it.logID, req: req, kind: kind}
	n.queue = slices.Insert(n.queue, at, it)
	if len(n.queue) == 1 && n.current == nil {
		n.idle = make(chan struct{})
	}
	n.mu.Unlock()
	if before != nil {
		before(it.logID)
	}
	select {
	case n.wake <- struct{}{}:
	default:
	}
	n.emit(EventQueued, fmt.Sprintf("%s %s queued for the issuer", req.MTI, kind), it.logID)
	return it.delivery
}

// Repeat queues a delivered advice or reversal once more, identical but
// for its repeat MTI (0121, 0221, 0421), as a network does when it is not
// sure the first one arrived. The issuer must answer it as before and book
// nothing twice.
func (n *Network) Repeat(d *Delivery) (*Delivery, error) {
	select {
	case <-d.done:
	default:
		return nil, errors.New("network: only a delivered message is repeated by hand")
	}
	if d.req == nil {
		return nil, errors.New("network: nothing to repeat")
	}
	again := *d.req
	e, _ := n.o.Log.Get(d.LogID)
	return n.enqueue(&again, d.kind, e.RelatesTo, nil, true), nil
}

// Queued returns how many advices and reversals are owed to the issuer.
func (n *Network) Queued() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	q := len(n.queue)
	if n.current != nil {
		q++
	}
	return q
}

// Drain waits until every advice and reversal owed has been delivered (or
// set aside), or ctx ends.
func (n *Network) Drain(ctx context.Context) error {
	for {
		n.mu.Lock()
		idle, empty := n.idle, len(n.queue) == 0 && n.current == nil
		n.mu.Unlock()
		if empty {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("network: %d advices and reversals still owed: %w", n.Queued(), ctx.Err())
		}
	}
}

// Run delivers the queue until ctx ends, then stops listening for late
// answers. What is still owed stays in the queue (and the log).
func (n *Network) Run(ctx context.Context) error {
	defer func() {
		n.closed.Do(func() { close(n.closing) })
		n.late.Wait()
	}()
	for ctx.Err() == nil {
		it := n.next(ctx)
		if it == nil {
			break
		}
		n.deliver(ctx, it)
	}
	return nil
}

// next waits for the first item free to go and makes it current.
func (n *Network) next(ctx context.Context) *item {
	for {
		n.mu.Lock()
		// The first item free to go, keeping each transaction's messages
		// in order behind one that is held.
		blocked := map[string]bool{}
		for i, it := range n.queue {
			if blocked[it.txnID] {
				continue
			}
			if !it.ready() {
				blocked[it.txnID] = true
				continue
			}
			n.queue = slices.Delete(n.queue, i, i+1)
			n.current = it
			n.mu.Unlock()
			return it
		}
		n.mu.Unlock()
		select {
		case <-n.wake:
		case <-ctx.Done():
			return nil
		}
	}
}

// deliver sends it, repeating, until the issuer answers it or ctx ends.
func (n *Network) deliver(ctx context.Context, it *item) {
	for ctx.Err() == nil {
		if err := n.o.Issuer.WaitReady(ctx, 1); err != nil {
			break
		}
		if it.req.STAN == "" {
			n.o.Issuer.Stamp(it.req) // once: repeats keep STAN and DE7
		}
		msg := *it.req
		if it.attempts > 0 {
			msg.MTI = repeatMTI(msg.MTI)
		}
		call, err := n.o.Issuer.Send(&msg)
		if err != nil {
			n.pause(ctx)
			continue
		}
		it.attempts++
		n.o.Log.Update(it.logID, func(e *txlog.Entry) {
			e.Attempts = it.attempts
			e.STAN, e.Transmitted = it.req.STAN, it.req.TransmissionDateTime
		})
		resp, err := call.Wait(ctx, n.o.AdviceTimeout)
		switch {
		case err != nil:
			n.emit(EventRepeat, fmt.Sprintf("%s got no answer (%v): will repeat as %s", msg.MTI, err, repeatMTI(it.req.MTI)), it.logID)
		case resp.ResponseCode == "91" || resp.ResponseCode == "96":
			n.emit(EventRepeat, fmt.Sprintf("%s answered %s: will repeat as %s", msg.MTI, resp.ResponseCode, repeatMTI(it.req.MTI)), it.logID)
		case resp.ResponseCode == iso8583.ResponseFormatError:
			n.finish(it, txlog.Rejected, resp, ErrRejected)
			return
		default:
			n.finish(it, txlog.Acknowledged, resp, nil)
			return
		}
		if n.o.MaxAttempts > 0 && it.attempts >= n.o.MaxAttempts {
			n.finish(it, txlog.Abandoned, nil, ErrAbandoned)
			return
		}
		n.pause(ctx)
	}
	// Stopping: what is owed goes back to the head of the queue.
	n.mu.Lock()
	n.queue = slices.Insert(n.queue, 0, it)
	n.current = nil
	n.mu.Unlock()
}

func (n *Network) pause(ctx context.Context) {
	t := time.NewTimer(n.o.RetryInterval)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// finish records the fate of it and moves on.
func (n *Network) finish(it *item, state string, resp *iso8583.Response, err error) {
	code := ""
	if resp != nil {
		code = resp.ResponseCode
	}
	n.o.Log.Update(it.logID, func(e *txlog.Entry) { e.Delivery, e.AckCode = state, code })
	if state == txlog.Acknowledged && it.standInOf != nil {
		n.o.StandIn.Release(it.standInOf, it.req.Replacement.Amount)
	}
	n.mu.Lock()
	n.current = nil
	if len(n.queue) == 0 {
		close(n.idle)
	}
	n.mu.Unlock()
	it.delivery.resp, it.delivery.err = resp, err
	close(it.delivery.done)
	kind := map[string]string{txlog.Acknowledged: EventAcknowledged, txlog.Rejected: EventRejected, txlog.Abandoned: EventAbandoned}[state]
	n.emit(kind, fmt.Sprintf("%s %s after %d attempt(s), answer %q", it.req.MTI, state, it.attempts, code), it.logID)
}

// entry starts a log entry for req.
func (n *Network) entry(kind string, req *iso8583.Request) txlog.Entry {
	return txlog.Entry{
		At: n.o.Now(), Kind: kind, MTI: req.MTI, STAN: req.STAN, Transmitted: req.TransmissionDateTime,
		RRN: req.RRN, TransactionID: req.PrivateData.NetworkTransactionID, Card: iso8583.MaskPAN(req.PAN),
		CardRef: n.o.StandIn.CardRef(req.PAN), ProcessingCode: req.ProcessingCode, Amount: req.Amount,
		Currency: req.Currency,
	}
}

// emit tells OnEvent, one event at a time.
func (n *Network) emit(kind, text string, id int64) {
	if n.o.OnEvent == nil {
		return
	}
	e, _ := n.o.Log.Get(id)
	n.eventMu.Lock()
	defer n.eventMu.Unlock()
	n.o.OnEvent(Event{Kind: kind, Text: text, Entry: e})
}

// repeatMTI is the repeat of an advice or reversal: 0120→0121, 0220→0221,
// 0420→0421.
func repeatMTI(mti string) string {
	if len(mti) == 4 && mti[3] == '0' {
		return mti[:3] + "1"
	}
	return mti
}

// describeCode names the DE39 values the scenarios meet.
func describeCode(code string) string {
	if name, ok := responseNames[code]; ok {
		return " (" + name + ")"
	}
	return ""
}

var responseNames = map[string]string{
	"00": "approved", "10": "partial approval", "12": "invalid transaction", "14": "unknown card",
	"17": "customer cancellation", "30": "format error", "41": "lost card", "51": "insufficient funds",
	"54": "expired card", "55": "wrong PIN", "57": "not permitted", "61": "amount limit",
	"62": "restricted card", "65": "count limit", "68": "response too late", "75": "PIN tries exceeded",
	"82": "bad CVV", "91": "issuer unavailable", "96": "system error",
}

// DescribeCode names a DE39 value ("55 (wrong PIN)").
func DescribeCode(code string) string { return code + describeCode(code) }
