package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/andes-bank/andes/platform/logging"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

// CardStore is the card ledger as card administration uses it. (Its record types
// are the adapter's: they carry the encrypted PAN, which the domain never holds.)
type CardStore interface {
	OpenAccount(ctx context.Context, a domain.NewAccount) (domain.CardAccount, error)
	Account(ctx context.Context, id string) (domain.CardAccount, error)
	Fund(ctx context.Context, f domain.Funding) (domain.CardAccount, error)
	IssueCard(ctx context.Context, r domain.CardRecord, meta domain.EventMeta) (domain.Card, error)
	Card(ctx context.Context, id string) (domain.Card, error)
	CardPAN(ctx context.Context, id string) ([]byte, int, error)
	CardIDByFingerprint(ctx context.Context, fingerprint []byte) (string, error)
	ListCards(ctx context.Context, customerID, accountID, after string, limit int) ([]domain.Card, error)
	SetPVV(ctx context.Context, cardID, pvv string, now time.Time) (domain.Card, error)
	ChangeStatus(ctx context.Context, ch domain.StatusChange) (domain.Card, error)
	SetLimits(ctx context.Context, cardID string, l domain.Limits, now time.Time) (domain.Card, error)
	SetChannels(ctx context.Context, cardID string, ch domain.Channels, now time.Time) (domain.Card, error)
	ListAuthorizations(ctx context.Context, cardID, accountID string, since time.Time, after string, limit int) ([]domain.Authorization, error)
}

// PANVault encrypts and fingerprints card numbers.
type PANVault interface {
	Fingerprinter
	Encrypt(cardID, pan string) ([]byte, error)
	Decrypt(cardID string, ciphertext []byte) (string, error)
	KeyID() int
}

// CardSecurity is the HSM's part of card administration.
type CardSecurity interface {
	GenerateCVV2(ctx context.Context, pan, expiry string) (string, error)
	ComputePVV(ctx context.Context, block []byte, pan string, pvki int) (string, error)
}

// Program is the card program's configuration.
type Program struct {
	BIN            string // 6 or 8 digits
	ValidYears     int    // a new card expires at the end of the month this many years ahead
	PVKI           int    // PIN verification key index recorded with PVVs
	DefaultLimits  domain.Limits
	DefaultChannel domain.Channels
}

// Cards is card administration.
type Cards struct {
	store   CardStore
	vault   PANVault
	hsm     CardSecurity
	program Program
	now     func() time.Time
	newID   func() string
	// forget tells the decision path that a card's PIN changed.
	forget func(pan string)
}

// NewCards builds card administration.
func NewCards(store CardStore, vault PANVault, hsm CardSecurity, program Program, now func() time.Time, newID func() string, forget func(pan string)) *Cards {
	if program.ValidYears <= 0 {
		program.ValidYears = 5
	}
	if program.PVKI == 0 {
		program.PVKI = 1
	}
	if forget == nil {
		forget = func(string) {}
	}
	return &Cards{store: store, vault: vault, hsm: hsm, program: program, now: now, newID: newID, forget: forget}
}

// OpenAccount opens a card account in currency for a customer.
func (c *Cards) OpenAccount(ctx context.Context, customerID, currency string) (domain.CardAccount, error) {
	cur, ok := domain.CurrencyByAlpha(currency)
	if !ok {
		return domain.CardAccount{}, domain.ErrCurrency
	}
	return c.store.OpenAccount(ctx, domain.NewAccount{ID: c.newID(), CustomerID: customerID, Currency: cur, Now: c.now()})
}

// IssueRequest asks for a card.
type IssueRequest struct {
	AccountID      string
	CardholderName string
	Limits         *domain.Limits   // nil: the program's
	Channels       *domain.Channels // nil: the program's
	// PAN, when set, is the number to issue (demo seeding, migrations); otherwise
	// a random one under the program's BIN.
	PAN string
	// OperationID links the CardIssued event to the request.
	OperationID string
}

// IssueCard issues a card and returns it with its CVV2, which is not kept.
func (c *Cards) IssueCard(ctx context.Context, r IssueRequest) (domain.Card, string, error) {
	acct, err := c.store.Account(ctx, r.AccountID)
	if err != nil {
		return domain.Card{}, "", err
	}
	if acct.Status != domain.AccountActive {
		return domain.Card{}, "", domain.ErrAccountNotActive
	}
	limits, channels := c.program.DefaultLimits, c.program.DefaultChannel
	if r.Limits != nil {
		limits = c.withDefaults(*r.Limits)
	}
	if r.Channels != nil {
		channels = *r.Channels
	}
	if err := limits.Validate(); err != nil {
		return domain.Card{}, "", err
	}
	pan := r.PAN
	for attempt := 0; pan == ""; attempt++ {
		candidate, err := c.randomPAN()
		if err != nil {
			return domain.Card{}, "", err
		}
		_, err = c.store.CardIDByFingerprint(ctx, c.vault.Fingerprint(candidate))
		switch {
		case errors.Is(err, domain.ErrNotFound):
			pan = candidate
		case err != nil:
			return domain.Card{}, "", err
		case attempt > 5:
			return domain.Card{}, "", errors.New("app: no free card number under the BIN")
		}
	}
	now := c.now()
	expiry := now.UTC().AddDate(c.program.ValidYears, 0, 0).Format("0601")
	cvv2, err := c.hsm.GenerateCVV2(ctx, pan, expiry)
	if err != nil {
		return domain.Card{}, "", err
	}
	card := domain.Card{
		ID: c.newID(), CardAccountID: acct.ID, CustomerID: acct.CustomerID,
		First6: pan[:6], Last4: pan[len(pan)-4:], Expiry: expiry, CardholderName: r.CardholderName,
		Status: domain.CardInactive, Limits: limits, Channels: channels, IssuedAt: now,
	}
	ciphertext, err := c.vault.Encrypt(card.ID, pan)
	if err != nil {
		return domain.Card{}, "", err
	}
	card, err = c.store.IssueCard(ctx, domain.CardRecord{
		Card: card, Fingerprint: c.vault.Fingerprint(pan), PANCiphertext: ciphertext, DataKeyID: c.vault.KeyID(),
	}, domain.EventMeta{ID: c.newID(), IdempotencyKey: r.OperationID, Now: now})
	if err != nil {
		return domain.Card{}, "", err
	}
	return card, cvv2, nil
}

func (c *Cards) randomPAN() (string, error) {
	digits := domain.PANLength - 1 - len(c.program.BIN)
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return "", err
	}
	return domain.NewPAN(c.program.BIN, fmt.Sprintf("%0*d", digits, n))
}

// SetPIN sets a card's PIN from an encrypted PIN block: the HSM derives the PVV.
func (c *Cards) SetPIN(ctx context.Context, cardID string, block []byte) (domain.Card, error) {
	card, err := c.store.Card(ctx, cardID)
	if err != nil {
		return card, err
	}
	if card.Status.Final() {
		return card, domain.ErrCardState
	}
	pan, err := c.pan(ctx, cardID)
	if err != nil {
		return card, err
	}
	pvv, err := c.hsm.ComputePVV(ctx, block, pan, c.program.PVKI)
	if err != nil {
		return card, err
	}
	card, err = c.store.SetPVV(ctx, cardID, pvv, c.now())
	if err == nil {
		c.forget(pan)
	}
	return card, err
}

func (c *Cards) pan(ctx context.Context, cardID string) (string, error) {
	ct, _, err := c.store.CardPAN(ctx, cardID)
	if err != nil {
		return "", err
	}
	return c.vault.Decrypt(cardID, ct)
}

// Block blocks a card for a while.
func (c *Cards) Block(ctx context.Context, cardID, reason string) (domain.Card, error) {
	return c.changeStatus(ctx, cardID, reason, domain.CardBlocked, domain.CardActive, domain.CardInactive)
}

// Unblock returns a blocked card to use: ACTIVE, or INACTIVE if it has no PIN.
func (c *Cards) Unblock(ctx context.Context, cardID string) (domain.Card, error) {
	card, err := c.store.Card(ctx, cardID)
	if err != nil {
		return card, err
	}
	if card.Status == domain.CardActive || card.Status == domain.CardInactive {
		return card, nil
	}
	to := domain.CardInactive
	if card.PINSet {
		to = domain.CardActive
	}
	return c.changeStatus(ctx, cardID, "", to, domain.CardBlocked)
}

// ReportLost makes a card LOST, for good.
func (c *Cards) ReportLost(ctx context.Context, cardID string, stolen bool) (domain.Card, error) {
	reason := "lost"
	if stolen {
		reason = "stolen"
	}
	return c.changeStatus(ctx, cardID, reason, domain.CardLost, domain.CardActive, domain.CardInactive, domain.CardBlocked)
}

func (c *Cards) changeStatus(ctx context.Context, cardID, reason string, to domain.CardStatus, from ...domain.CardStatus) (domain.Card, error) {
	return c.store.ChangeStatus(ctx, domain.StatusChange{
		// A reason is typed by people, who paste card numbers into anything.
		CardID: cardID, From: from, To: to, Reason: logging.RedactText(reason),
		Event: domain.EventMeta{ID: c.newID(), Now: c.now()},
	})
}

// withDefaults fills the amounts left at zero with the program's: the API's
// "zero means the program's default".
func (c *Cards) withDefaults(l domain.Limits) domain.Limits {
	if l.PerTransaction == 0 {
		l.PerTransaction = c.program.DefaultLimits.PerTransaction
	}
	if l.Rolling30Days == 0 {
		l.Rolling30Days = c.program.DefaultLimits.Rolling30Days
	}
	return l
}

// SetLimits replaces a card's limits; zero amounts take the program's.
func (c *Cards) SetLimits(ctx context.Context, cardID string, l domain.Limits) (domain.Card, error) {
	l = c.withDefaults(l)
	if err := l.Validate(); err != nil {
		return domain.Card{}, err
	}
	return c.store.SetLimits(ctx, cardID, l, c.now())
}

// SetChannels replaces a card's channels.
func (c *Cards) SetChannels(ctx context.Context, cardID string, ch domain.Channels) (domain.Card, error) {
	for _, mcc := range ch.BlockedMCCs {
		if len(mcc) != 4 || !digits(mcc) {
			return domain.Card{}, fmt.Errorf("%w: merchant category %q is not 4 digits", domain.ErrInvalidLimits, mcc)
		}
	}
	return c.store.SetChannels(ctx, cardID, ch, c.now())
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Fund credits a card account from program funding.
func (c *Cards) Fund(ctx context.Context, accountID string, amount int64, currency, reference, operationID string) (domain.CardAccount, string, error) {
	if amount <= 0 {
		return domain.CardAccount{}, "", domain.ErrInvalidAmount
	}
	acct, err := c.store.Account(ctx, accountID)
	if err != nil {
		return acct, "", err
	}
	if acct.Currency != currency {
		return acct, "", domain.ErrCurrency
	}
	postingID := c.newID()
	now := c.now()
	acct, err = c.store.Fund(ctx, domain.Funding{
		AccountID: accountID, Amount: amount, Reference: reference, PostingID: postingID, Now: now,
		Event: domain.EventMeta{ID: c.newID(), IdempotencyKey: operationID, Now: now},
	})
	return acct, postingID, err
}

// Card returns a card.
func (c *Cards) Card(ctx context.Context, id string) (domain.Card, error) {
	return c.store.Card(ctx, id)
}

// Account returns a card account.
func (c *Cards) Account(ctx context.Context, id string) (domain.CardAccount, error) {
	return c.store.Account(ctx, id)
}

// ListCards pages through cards.
func (c *Cards) ListCards(ctx context.Context, customerID, accountID, after string, limit int) ([]domain.Card, error) {
	return c.store.ListCards(ctx, customerID, accountID, after, limit)
}

// ListAuthorizations pages through decisions.
func (c *Cards) ListAuthorizations(ctx context.Context, cardID, accountID string, since time.Time, after string, limit int) ([]domain.Authorization, error) {
	return c.store.ListAuthorizations(ctx, cardID, accountID, since, after, limit)
}

// BIN is the program's BIN.
func (c *Cards) BIN() string { return c.program.BIN }
