// Package scenario plays card payments from the field through the network,
// printing every message (card data masked) and every decision, and
// checking the answers and, when a ledger view is given, the card account's
// balances at the end.
//
// Scenarios take the cards they use as input (Env.Cards); a card named as a
// scenario wants ("atm" for atm-daily-count) is used when present, else the
// first. The cards must be active, funded with at least 2,000.00 in their
// currency, allowed at POS, online and at ATMs, and have their PIN and CVV2
// as given.
package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/link"
	"github.com/andes-bank/andes/simulators/cardnet/network"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
	"github.com/andes-bank/andes/simulators/cardnet/txlog"
)

// Ledger is the issuer's view of a card account, for checking balances.
type Ledger interface {
	Balances(ctx context.Context, card terminal.Card) (available, held int64, err error)
}

// Cable is the network's connection to the issuer as the cable-cut
// scenario needs it (a *link.Pool).
type Cable interface {
	Cut()
	Restore()
	WaitReady(ctx context.Context, n int) error
}

var _ Cable = (*link.Pool)(nil)

// Env is what scenarios run against.
type Env struct {
	Network  *network.Network
	Cable    Cable
	Acquirer *terminal.Acquirer
	Log      *txlog.Log
	Cards    []terminal.Card
	// Ledger, when set, is read before and after each scenario to check
	// what the network decided is what the issuer booked.
	Ledger Ledger
	// Printer shows the steps; nil prints nothing.
	Printer *Printer
	// LateWait bounds the wait for the issuer's late answer in the cable
	// cut (default 10s).
	LateWait time.Duration
}

// Scenario is one story from the field.
type Scenario struct {
	Name  string
	Title string
	run   func(ctx context.Context, r *Run) error
}

// All returns the scenarios in the order `all` runs them.
func All() []Scenario {
	return []Scenario{
		{"restaurant-pin", "a wrong PIN at a restaurant, then the right one", restaurantPIN},
		{"online-cvv2", "an online purchase with CVV2", onlineCVV2},
		{"flight-tickets", "two flight tickets, one cancelled (partial reversal), a refund after clearing", flightTickets},
		{"cable-cut", "the cable cut mid-day: stand-in, then advices and reversals after reconnect", cableCut},
		{"fuel-pump", "a fuel pump pre-authorization completed for less", fuelPump},
		{"hotel", "a hotel stay with an incremental authorization", hotel},
		{"atm-daily-count", "ATM withdrawals until the daily count limit", atmDailyCount},
	}
}

// CardNames are the names of the cards the scenarios ask for, one each, so
// that every scenario's balances and counters start clean.
func CardNames() []string {
	return []string{"restaurant", "online", "travel", "daily", "fuel", "hotel", "atm"}
}

// Find returns the scenario called name.
func Find(name string) (Scenario, bool) {
	for _, s := range All() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Names lists the scenarios' names.
func Names() []string {
	var out []string
	for _, s := range All() {
		out = append(out, s.Name)
	}
	return out
}

// Run plays s on env, returning the first expectation it fails.
func (env *Env) Run(ctx context.Context, s Scenario) error {
	if len(env.Cards) == 0 {
		return errors.New("scenario: no cards given")
	}
	r := &Run{env: env, p: env.Printer}
	r.p.Linef("=== scenario %s: %s", s.Name, s.Title)
	err := s.run(ctx, r)
	if err != nil {
		r.p.Linef("=== FAIL %s: %v", s.Name, err)
		return fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	r.p.Linef("=== PASS %s", s.Name)
	return nil
}

// RunAll plays every scenario, stopping at the first failure.
func (env *Env) RunAll(ctx context.Context) error {
	for _, s := range All() {
		if err := env.Run(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// Run is one scenario being played.
type Run struct {
	env  *Env
	p    *Printer
	step int
}

// card returns the card called name, or the first.
func (r *Run) card(name string) terminal.Card {
	for _, c := range r.env.Cards {
		if c.Name == name {
			return c
		}
	}
	return r.env.Cards[0]
}

// Step announces the next step.
func (r *Run) Step(format string, args ...any) {
	r.step++
	r.p.Linef("--- step %d: %s", r.step, fmt.Sprintf(format, args...))
}

// authorize sends an 0100 and checks the merchant was told one of want.
func (r *Run) authorize(ctx context.Context, card terminal.Card, s terminal.Sale, want []string, opts ...network.AuthorizeOption) (network.Outcome, error) {
	req, err := r.env.Acquirer.Authorization(card, s)
	if err != nil {
		return network.Outcome{}, err
	}
	return r.send(ctx, req, want, opts...)
}

func (r *Run) send(ctx context.Context, req *iso8583.Request, want []string, opts ...network.AuthorizeOption) (network.Outcome, error) {
	o, err := r.env.Network.Authorize(ctx, req, opts...)
	if err != nil {
		return o, err
	}
	by := "the issuer"
	if o.Source == txlog.SourceStandIn {
		by = "stand-in"
	}
	r.p.Linef("    merchant told %s by %s, approval code %q, approved %s", network.DescribeCode(o.ResponseCode), by, o.ApprovalCode, money(o.ApprovedAmount))
	for _, w := range want {
		if o.ResponseCode == w {
			return o, nil
		}
	}
	return o, fmt.Errorf("step %d: merchant told %s, want %s", r.step, network.DescribeCode(o.ResponseCode), strings.Join(want, " or "))
}

// deliver waits for an advice or reversal to be acknowledged.
func (r *Run) deliver(ctx context.Context, d *network.Delivery) error {
	resp, err := d.Wait(ctx)
	if err != nil {
		return fmt.Errorf("step %d: delivery: %w", r.step, err)
	}
	r.p.Linef("    issuer acknowledged with %s", network.DescribeCode(resp.ResponseCode))
	return nil
}

// balances is a ledger reading; ok is false without a ledger.
type balances struct {
	available, held int64
	ok              bool
}

// complete sends the acquirer's completion of an approved authorization for
// amount — a 0120 completion advice or a 0220 financial advice — through the
// network's advice queue, and waits until the issuer has acknowledged it.
func (r *Run) complete(ctx context.Context, mti string, o network.Outcome, amount int64) error {
	msg, err := r.env.Acquirer.Completion(mti, o.Request, o.ApprovalCode, amount)
	if err != nil {
		return err
	}
	d, err := r.env.Network.Advise(msg, o.LogID)
	if err != nil {
		return err
	}
	return r.deliver(ctx, d)
}

func (r *Run) balances(ctx context.Context, card terminal.Card) (balances, error) {
	if r.env.Ledger == nil {
		return balances{}, nil
	}
	a, h, err := r.env.Ledger.Balances(ctx, card)
	if err != nil {
		return balances{}, fmt.Errorf("reading %s's balances: %w", card, err)
	}
	return balances{available: a, held: h, ok: true}, nil
}

// expect checks that card's balances moved from start by the deltas the
// network's decisions imply.
func (r *Run) expect(ctx context.Context, card terminal.Card, start balances, availableDelta, heldDelta int64) error {
	if !start.ok {
		r.p.Linef("    (no ledger view: expecting available %s, held %s)", signed(availableDelta), signed(heldDelta))
		return nil
	}
	now, err := r.balances(ctx, card)
	if err != nil {
		return err
	}
	gotA, gotH := now.available-start.available, now.held-start.held
	r.p.Linef("    ledger: available %s (%s), held %s (%s)", money(now.available), signed(gotA), money(now.held), signed(gotH))
	if gotA != availableDelta || gotH != heldDelta {
		return fmt.Errorf("step %d: available moved %s and held %s, the network decided %s and %s",
			r.step, signed(gotA), signed(gotH), signed(availableDelta), signed(heldDelta))
	}
	return nil
}

// money prints minor units with two decimals (the scenarios' currencies
// have exponent 2).
func money(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

func signed(v int64) string {
	if v >= 0 {
		return "+" + money(v)
	}
	return money(v)
}

// Printer writes scenarios' steps, messages and decisions, one line each.
type Printer struct {
	mu     sync.Mutex
	w      io.Writer
	codec  *iso8583.Codec
	frames bool
}

// NewPrinter prints to w; with frames, every message is printed as masked
// JSON decoded with codec.
func NewPrinter(w io.Writer, codec *iso8583.Codec, frames bool) *Printer {
	return &Printer{w: w, codec: codec, frames: frames}
}

// Linef prints one line.
func (p *Printer) Linef(format string, args ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// Frame prints a message as masked JSON; it fits link.Options.OnFrame.
func (p *Printer) Frame(dir link.Direction, conn int, msg []byte) {
	if p == nil || !p.frames {
		return
	}
	js, err := p.codec.DecodeJSON(msg, iso8583.JSONOptions{})
	if err != nil {
		// Never the bytes: they may hold a card number.
		p.Linef("  %s [c%d] undecodable message of %d bytes: %v", dir, conn, len(msg), err)
		return
	}
	p.Linef("  %s [c%d] %s", dir, conn, js)
}

// Event prints a network event; it fits network.Options.OnEvent.
func (p *Printer) Event(e network.Event) {
	if p == nil {
		return
	}
	stan := e.Entry.STAN
	if stan == "" {
		stan = "(not yet sent)"
	}
	p.Linef("  == %s %s STAN %s: %s", e.Entry.Kind, e.Entry.Card, stan, e.Text)
}
