package domain

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rules are the amount rules of one currency: the bounds of one operation and the
// customer's daily limit on money leaving their accounts (transfers to others and
// cash-outs; moves between their own accounts and cash-ins do not count).
type Rules struct {
	MinPerOperation int64
	MaxPerOperation int64
	Daily           int64
}

// Limits are the rules by currency.
type Limits map[string]Rules

// DefaultLimits are the bank's rules: PEN 0.01 to 10,000.00 per operation and
// 20,000.00 a day; USD 0.01 to 3,000.00 and 6,000.00 a day.
func DefaultLimits() Limits {
	return Limits{
		"PEN": {MinPerOperation: 1, MaxPerOperation: 1_000_000, Daily: 2_000_000},
		"USD": {MinPerOperation: 1, MaxPerOperation: 300_000, Daily: 600_000},
	}
}

// ParseLimits reads "PEN:1:1000000:2000000,USD:1:300000:600000" (currency, minimum,
// maximum per operation, daily), the form of ANDES_CONTROLLER_LIMITS.
func ParseLimits(s string) (Limits, error) {
	l := Limits{}
	for _, part := range strings.Split(s, ",") {
		f := strings.Split(strings.TrimSpace(part), ":")
		if len(f) != 4 || len(f[0]) != 3 || strings.ToUpper(f[0]) != f[0] {
			return nil, fmt.Errorf("limits: %q is not CUR:min:max:daily", part)
		}
		var n [3]int64
		for i := range n {
			v, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil || v <= 0 {
				return nil, fmt.Errorf("limits: %q: %q is not a positive integer", part, f[i+1])
			}
			n[i] = v
		}
		if n[0] > n[1] {
			return nil, fmt.Errorf("limits: %q: minimum above maximum", part)
		}
		l[f[0]] = Rules{MinPerOperation: n[0], MaxPerOperation: n[1], Daily: n[2]}
	}
	return l, nil
}

// CheckAmount applies the per-operation rules to amount, in an account of
// accountCurrency.
func (l Limits) CheckAmount(amount Money, accountCurrency string) error {
	switch {
	case amount.Minor <= 0:
		return &InvalidError{Field: "amount.amount_minor", Description: "amount must be positive"}
	case amount.Currency != accountCurrency:
		return ErrCurrencyMismatch
	}
	r, ok := l[amount.Currency]
	if !ok {
		return &InvalidError{Field: "amount.currency", Description: "no operations in " + amount.Currency}
	}
	switch {
	case amount.Minor < r.MinPerOperation:
		return &TransactionLimitError{Limit: Money{r.MinPerOperation, amount.Currency}, Below: true}
	case amount.Minor > r.MaxPerOperation:
		return &TransactionLimitError{Limit: Money{r.MaxPerOperation, amount.Currency}}
	}
	return nil
}

// Daily is a customer's daily limit in one currency and its use.
type Daily struct {
	Limit        Money
	Used         Money
	BusinessDate string
}

// Remaining is what is left, never negative.
func (d Daily) Remaining() Money {
	return Money{max(d.Limit.Minor-d.Used.Minor, 0), d.Limit.Currency}
}

// Allows refuses an amount that would pass the limit.
func (d Daily) Allows(amount int64) error {
	if d.Used.Minor+amount > d.Limit.Minor {
		return &DailyLimitError{Limit: d.Limit, Remaining: d.Remaining()}
	}
	return nil
}

// lima is the bank's time zone. Peru has kept UTC-5 without daylight saving since
// 1994, so a fixed zone is exact and needs no tzdata on the host.
var lima = time.FixedZone("America/Lima", -5*60*60)

// BusinessDate is the business day (America/Lima) of t, YYYY-MM-DD.
func BusinessDate(t time.Time) string { return t.In(lima).Format(time.DateOnly) }

// MaxStatementDays bounds a statement's range.
const MaxStatementDays = 366

// CheckRange validates a statement's date range.
func CheckRange(from, to string) error {
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return &InvalidError{Field: "from_date", Description: "not a date"}
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return &InvalidError{Field: "to_date", Description: "not a date"}
	}
	switch {
	case t.Before(f):
		return &InvalidError{Field: "from_date", Description: "from_date must not be after to_date"}
	case t.Sub(f) >= MaxStatementDays*24*time.Hour:
		return &InvalidError{Field: "to_date", Description: fmt.Sprintf("ranges are at most %d days", MaxStatementDays)}
	}
	return nil
}

// MaskAccountNumber keeps the last 4 digits of another party's account number.
func MaskAccountNumber(n string) string {
	if len(n) <= 4 {
		return n
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}
