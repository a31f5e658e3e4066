// Package standin decides authorizations on the issuer's behalf when the
// issuer does not answer in time (stand-in processing, STIP), within limits
// the network keeps per card in its own state: an amount per transaction, an
// amount and a count per day, and a count of cash withdrawals per day.
//
// The network knows less than the issuer: not the balance, not the PIN
// verification value, not the card's status. So it approves small amounts
// blindly and declines what it cannot check: PIN transactions (91, issuer
// unavailable) unless told to trust them, and anything over its limits (61
// amount, 65 count). Refunds are always accepted: they credit the card.
// An approval's code starts with S, so advices show where it came from.
package standin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
)

// Response codes stand-in gives (DE39).
const (
	Approved           = "00"
	ExpiredCard        = "54"
	AmountLimit        = "61"
	CountLimit         = "65"
	IssuerUnavailable  = "91"
	InvalidTransaction = "12"
)

// Limits bound what stand-in approves for one card. Amounts are minor units
// of the amount the issuer would hold (DE6 when the network converted, else
// DE4); they apply to each currency separately. A zero limit declines
// everything it governs.
type Limits struct {
	PerTransaction int64 `json:"per_transaction"`
	DailyAmount    int64 `json:"daily_amount"`
	DailyCount     int   `json:"daily_count"`
	DailyCashCount int   `json:"daily_cash_count"`
	// ApproveUnverifiedPIN approves PIN transactions without verifying the
	// PIN (the network holds no PIN verification key).
	ApproveUnverifiedPIN bool `json:"approve_unverified_pin"`
}

// DefaultLimits are modest, as networks' stand-in limits are.
var DefaultLimits = Limits{PerTransaction: 50_000, DailyAmount: 100_000, DailyCount: 5, DailyCashCount: 0}

// Decision is a stand-in decision.
type Decision struct {
	ResponseCode string // DE39
	ApprovalCode string // DE38 of an approval
	Reason       string // why, for people
}

// Approved reports whether the decision approves.
func (d Decision) Approved() bool { return d.ResponseCode == Approved }

// usage is one card's consumption of its limits on one day in one currency.
type usage struct {
	day       string
	amount    int64
	count     int
	cashCount int
}

// Rules applies Limits and keeps each card's usage. Cards are keyed by a
// keyed hash of the PAN, never the PAN.
type Rules struct {
	limits Limits
	now    func() time.Time
	key    []byte

	mu    sync.Mutex
	usage map[string]*usage
	seq   int
}

// New returns stand-in rules with limits, reading days from now (UTC).
func New(limits Limits, now func() time.Time) *Rules {
	if now == nil {
		now = time.Now
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand does not fail on supported platforms
	return &Rules{limits: limits, now: now, key: key, usage: make(map[string]*usage)}
}

// Limits returns the rules' limits.
func (r *Rules) Limits() Limits { return r.limits }

// CardRef is the rules' reference for a PAN: a keyed hash, stable for the
// process's life, that logs and state may hold instead of the PAN.
func (r *Rules) CardRef(pan string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(pan))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Decide decides req (an 0100) on the issuer's behalf and, on approval,
// counts it against the card's limits.
func (r *Rules) Decide(req *iso8583.Request) Decision {
	now := r.now().UTC()
	kind := ""
	if len(req.ProcessingCode) >= 2 {
		kind = req.ProcessingCode[:2]
	}
	switch kind {
	case "00", "01", "20":
	default:
		return Decision{ResponseCode: InvalidTransaction, Reason: "stand-in takes purchases, cash and refunds only"}
	}
	if expired(req.Expiry, now) {
		return Decision{ResponseCode: ExpiredCard, Reason: "card expired " + req.Expiry}
	}
	if kind == "20" {
		return r.approve("refunds credit the card: always accepted")
	}
	if len(req.PINBlock) > 0 && !r.limits.ApproveUnverifiedPIN {
		return Decision{ResponseCode: IssuerUnavailable, Reason: "the network cannot verify a PIN for the issuer"}
	}
	amount, currency := req.Amount, req.Currency
	if req.BillingCurrency != "" {
		amount, currency = req.BillingAmount, req.BillingCurrency
	}
	if amount > r.limits.PerTransaction {
		return Decision{ResponseCode: AmountLimit, Reason: fmt.Sprintf("%d over the stand-in limit of %d per transaction", amount, r.limits.PerTransaction)}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.usageOf(req.PAN, currency, now)
	switch {
	case u.count+1 > r.limits.DailyCount:
		return Decision{ResponseCode: CountLimit, Reason: fmt.Sprintf("stand-in already approved %d today, the daily limit", u.count)}
	case kind == "01" && u.cashCount+1 > r.limits.DailyCashCount:
		return Decision{ResponseCode: CountLimit, Reason: fmt.Sprintf("stand-in already approved %d withdrawals today, the daily limit", u.cashCount)}
	case u.amount+amount > r.limits.DailyAmount:
		return Decision{ResponseCode: AmountLimit, Reason: fmt.Sprintf("%d more would pass the stand-in daily limit of %d (%d used)", amount, r.limits.DailyAmount, u.amount)}
	}
	u.amount += amount
	u.count++
	if kind == "01" {
		u.cashCount++
	}
	r.seq++
	return Decision{ResponseCode: Approved, ApprovalCode: fmt.Sprintf("S%05d", r.seq%100000),
		Reason: fmt.Sprintf("within stand-in limits (%d of %d today)", u.amount, r.limits.DailyAmount)}
}

func (r *Rules) approve(reason string) Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	return Decision{ResponseCode: Approved, ApprovalCode: fmt.Sprintf("S%05d", r.seq%100000), Reason: reason}
}

// Release gives back what a stand-in approval of orig used, down to
// remaining (0: all of it), after the merchant reversed it.
func (r *Rules) Release(orig *iso8583.Request, remaining int64) {
	if len(orig.ProcessingCode) < 2 || orig.ProcessingCode[:2] == "20" {
		return
	}
	amount, currency := orig.Amount, orig.Currency
	if orig.BillingCurrency != "" {
		amount, currency = orig.BillingAmount, orig.BillingCurrency
		if orig.Amount > 0 {
			remaining = remaining * orig.BillingAmount / orig.Amount
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.usageOf(orig.PAN, currency, r.now().UTC())
	u.amount = max(0, u.amount-(amount-remaining))
	if remaining == 0 {
		u.count = max(0, u.count-1)
		if orig.ProcessingCode[:2] == "01" {
			u.cashCount = max(0, u.cashCount-1)
		}
	}
}

// usageOf returns the card's usage today, starting a new day when the date
// changed. r.mu must be held.
func (r *Rules) usageOf(pan, currency string, now time.Time) *usage {
	k := r.CardRef(pan) + "/" + currency
	day := now.Format(time.DateOnly)
	u := r.usage[k]
	if u == nil || u.day != day {
		u = &usage{day: day}
		r.usage[k] = u
	}
	return u
}

// expired reports whether a YYMM expiry is before now's month. A missing or
// malformed expiry is the issuer's business, not stand-in's.
func expired(yymm string, now time.Time) bool {
	if len(yymm) != 4 {
		return false
	}
	yy, mm := 0, 0
	for i := range 4 {
		c := yymm[i]
		if c < '0' || c > '9' {
			return false
		}
		if i < 2 {
			yy = yy*10 + int(c-'0')
		} else {
			mm = mm*10 + int(c-'0')
		}
	}
	year := 2000 + yy
	return year < now.Year() || (year == now.Year() && mm < int(now.Month()))
}
