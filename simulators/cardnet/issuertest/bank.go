package issuertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
	"github.com/andes-bank/andes/simulators/hsm"
	"github.com/andes-bank/andes/simulators/hsm/paycrypto"
)

// ErrUnknownCard is returned for a card the bank does not hold.
var ErrUnknownCard = errors.New("issuertest: unknown card")

// CardSettings are a fake card's account and limits.
type CardSettings struct {
	Balance       int64 // opening balance, minor units of the card's currency
	DailyATMCount int   // withdrawals per day (0: 3)
}

// Position is a card account's state: what it may still spend and what is
// held for authorizations not yet cleared.
type Position struct {
	Balance   int64 // posted
	Held      int64
	Available int64 // Balance - Held
}

type account struct {
	card     terminal.Card
	pvv      string
	balance  int64
	held     int64
	pinTries int
	atmDay   string
	atmCount int
	atmLimit int
}

type authorization struct {
	pan          string
	hold         int64
	posted       bool
	postedAmount int64
	reversed     bool
	standIn      bool // booked from the network's stand-in advice
}

// Bank is a fake issuer's ledger and rules: unknown card 14, expired 54,
// wrong PIN 55 (75 from the third), bad CVV2 82, daily ATM count 65,
// insufficient funds 51 or a partial approval 10 when the terminal takes
// one; holds per network transaction id, incremental authorizations adding
// to them, completions replacing them, reversals (DE95) setting them,
// financial advices posting them, stand-in advices posted by force, refunds
// credited, duplicates and repeats answered as before.
type Bank struct {
	keys hsm.Keys
	now  func() time.Time

	mu      sync.Mutex
	cards   map[string]*account
	auths   map[string]*authorization // by network transaction id
	answers map[string]iso8583.Answer // by message identity, for duplicates and repeats
	seq     int
}

// NewBank returns an empty bank using the HSM's development keys.
func NewBank(now func() time.Time) *Bank {
	if now == nil {
		now = time.Now
	}
	return &Bank{keys: hsm.DevKeys(), now: now, cards: make(map[string]*account),
		auths: make(map[string]*authorization), answers: make(map[string]iso8583.Answer)}
}

// NewCard makes a test card whose CVV2 is the one the development CVK gives
// (so the bank's CVV2 check passes) and opens it at the bank.
func (b *Bank) NewCard(name, pan, expiry, pin, currency string, s CardSettings) (terminal.Card, error) {
	cvv2, err := paycrypto.CVV(b.keys.CVK, pan, expiry, paycrypto.ServiceCodeCVV2)
	if err != nil {
		return terminal.Card{}, fmt.Errorf("issuertest: CVV2 of %s: %w", name, err)
	}
	card := terminal.Card{Name: name, PAN: pan, Expiry: expiry, CVV2: cvv2, PIN: pin, PVKI: 1, Currency: currency}
	return card, b.AddCard(card, s)
}

// AddCard opens an account for card.
func (b *Bank) AddCard(card terminal.Card, s CardSettings) error {
	if err := card.Validate(); err != nil {
		return err
	}
	pvki := card.PVKI
	if pvki == 0 {
		pvki = 1
	}
	pvv := ""
	if card.PIN != "" {
		var err error
		if pvv, err = paycrypto.PVV(b.keys.PVK, card.PAN, pvki, card.PIN); err != nil {
			return fmt.Errorf("issuertest: PVV of %s: %w", card, err)
		}
	}
	if s.DailyATMCount == 0 {
		s.DailyATMCount = 3
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cards[card.PAN] = &account{card: card, pvv: pvv, balance: s.Balance, atmLimit: s.DailyATMCount}
	return nil
}

// Position returns card's account position.
func (b *Bank) Position(_ context.Context, card terminal.Card) (Position, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.cards[card.PAN]
	if a == nil {
		return Position{}, ErrUnknownCard
	}
	return Position{Balance: a.balance, Held: a.held, Available: a.balance - a.held}, nil
}

// Balances returns what card may still spend and what is held, the view
// the scenarios check.
func (b *Bank) Balances(ctx context.Context, card terminal.Card) (available, held int64, err error) {
	p, err := b.Position(ctx, card)
	return p.Available, p.Held, err
}

// Handle decides one request.
func (b *Bank) Handle(req *iso8583.Request) (iso8583.Answer, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := identity(req)
	if prior, ok := b.answers[id]; ok {
		return prior, true
	}
	var answer iso8583.Answer
	switch req.MTI {
	case "0100", "0101":
		answer = b.authorize(req)
	case "0120", "0121":
		answer = b.advice(req)
	case "0220", "0221":
		answer = b.financialAdvice(req)
	case "0420", "0421", "0400", "0401":
		answer = b.reverse(req)
	default:
		answer = iso8583.Answer{ResponseCode: "12"}
	}
	b.answers[id] = answer
	return answer, true
}

// identity is what makes a message a duplicate: a repeat is its original.
func identity(req *iso8583.Request) string {
	mti := req.MTI
	if mti[3] == '1' {
		mti = mti[:3] + "0"
	}
	return mti + "|" + req.PAN + "|" + req.STAN + "|" + req.TransmissionDateTime + "|" + req.AcquirerID + "|" + req.RRN
}

func (b *Bank) authorize(req *iso8583.Request) iso8583.Answer {
	a := b.cards[req.PAN]
	if a == nil {
		return decline("14")
	}
	now := b.now().UTC()
	if req.Expiry != a.card.Expiry || a.card.Expiry < now.Format("0601") {
		return decline("54")
	}
	kind := req.ProcessingCode[:2]
	if kind == "20" {
		a.balance += req.Amount
		return b.approve()
	}
	if len(req.PINBlock) > 0 {
		if a.pinTries >= 3 {
			return decline("75")
		}
		var block paycrypto.PINBlock
		copy(block[:], req.PINBlock)
		ok, err := paycrypto.VerifyPIN(b.keys.ZPK, b.keys.PVK, block, req.PAN, max(a.card.PVKI, 1), a.pvv)
		if err != nil || !ok {
			a.pinTries++
			if a.pinTries >= 3 {
				return decline("75")
			}
			return decline("55")
		}
		a.pinTries = 0
	}
	if cvv2 := req.PrivateData.CVV2; cvv2 != "" {
		ok, err := paycrypto.VerifyCVV(b.keys.CVK, req.PAN, a.card.Expiry, paycrypto.ServiceCodeCVV2, cvv2)
		if err != nil || !ok {
			return decline("82")
		}
	}
	if kind == "01" {
		day := now.Format(time.DateOnly)
		if a.atmDay != day {
			a.atmDay, a.atmCount = day, 0
		}
		if a.atmCount >= a.atmLimit {
			return decline("65")
		}
	}
	amount := req.Amount
	available := a.balance - a.held
	answer := b.approve()
	if amount > available {
		if !req.PrivateData.PartialApproval || kind != "00" || available <= 0 {
			return decline("51")
		}
		amount = available
		answer.ResponseCode = iso8583.ResponsePartialApproval
		answer.ApprovedAmount = amount
	}
	if kind == "01" {
		a.atmCount++
	}
	a.held += amount
	txn := req.PrivateData.NetworkTransactionID
	if auth := b.auths[txn]; auth != nil && !auth.reversed && !auth.posted {
		auth.hold += amount // an incremental authorization
	} else {
		b.auths[txn] = &authorization{pan: req.PAN, hold: amount}
	}
	return answer
}

// advice takes a completion (DE90 present: the final amount replaces the
// hold) or a stand-in advice (no DE90: an approval is posted by force).
func (b *Bank) advice(req *iso8583.Request) iso8583.Answer {
	a := b.cards[req.PAN]
	if a == nil {
		return ack() // the network's decision is final; nothing to book here
	}
	auth := b.auths[req.PrivateData.NetworkTransactionID]
	if req.Original.MTI != "" { // completion
		if auth == nil || auth.reversed || auth.posted {
			return ack()
		}
		a.held += req.Amount - auth.hold
		auth.hold = req.Amount
		return ack()
	}
	if req.ResponseCode != iso8583.ResponseApproved {
		return ack() // a stand-in decline: nothing held
	}
	if auth != nil && !auth.reversed && !auth.posted {
		a.held -= auth.hold // our own approval of the same transaction gives way
		auth.hold = 0
	}
	a.balance -= req.Amount // forced post: may overdraw
	b.auths[req.PrivateData.NetworkTransactionID] = &authorization{pan: req.PAN, posted: true, postedAmount: req.Amount, standIn: true}
	return ack()
}

// financialAdvice posts a transaction: its hold is released and the amount
// debited.
func (b *Bank) financialAdvice(req *iso8583.Request) iso8583.Answer {
	a := b.cards[req.PAN]
	if a == nil {
		return ack()
	}
	auth := b.auths[req.PrivateData.NetworkTransactionID]
	switch {
	case auth == nil || auth.reversed:
		auth = &authorization{pan: req.PAN}
		b.auths[req.PrivateData.NetworkTransactionID] = auth
	case auth.posted:
		return ack() // already cleared
	}
	a.held -= auth.hold
	auth.hold, auth.posted, auth.postedAmount = 0, true, req.Amount
	a.balance -= req.Amount
	return ack()
}

// reverse sets the hold to what remains (DE95), zero for a full reversal;
// a transaction already posted (a forced post) is credited back down to it.
func (b *Bank) reverse(req *iso8583.Request) iso8583.Answer {
	a := b.cards[req.PAN]
	auth := b.auths[req.PrivateData.NetworkTransactionID]
	if a == nil || auth == nil || auth.reversed {
		return ack()
	}
	if auth.standIn && req.ResponseCode == "68" {
		// It voids our late answer; the network's stand-in decision stands.
		return ack()
	}
	remaining := req.Replacement.Amount
	if auth.posted {
		if credit := auth.postedAmount - remaining; credit > 0 {
			a.balance += credit
			auth.postedAmount = remaining
		}
		auth.reversed = remaining == 0
		return ack()
	}
	if remaining > auth.hold {
		remaining = auth.hold
	}
	a.held -= auth.hold - remaining
	auth.hold = remaining
	if remaining == 0 {
		auth.reversed = true
	}
	return ack()
}

func (b *Bank) approve() iso8583.Answer {
	b.seq++
	return iso8583.Answer{ResponseCode: iso8583.ResponseApproved, ApprovalCode: fmt.Sprintf("%06d", b.seq%1e6)}
}

func decline(code string) iso8583.Answer { return iso8583.Answer{ResponseCode: code} }

func ack() iso8583.Answer { return iso8583.Answer{ResponseCode: iso8583.ResponseApproved} }
