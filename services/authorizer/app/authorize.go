// Package app holds the authorizer's use cases: deciding network messages (PIN and
// CVV through the HSM, then one decision statement) and card administration. It
// depends only on the small interfaces it declares here.
package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/andes-bank/andes/services/authorizer/domain"
)

// DecisionStore runs the one-statement decisions.
type DecisionStore interface {
	Decide(ctx context.Context, in *domain.Input) (domain.Outcome, error)
	CardSecrets(ctx context.Context, fingerprint []byte) (domain.CardSecrets, bool, error)
}

// CardVerifier is the HSM's part of a decision.
type CardVerifier interface {
	VerifyPIN(ctx context.Context, block []byte, pan string, pvki int, pvv string) (bool, error)
	VerifyCVV2(ctx context.Context, pan, expiry, cvv string) (bool, error)
}

// Fingerprinter turns a PAN into the card's lookup key.
type Fingerprinter interface {
	Fingerprint(pan string) []byte
}

// Policy is the program's configuration the decision needs.
type Policy struct {
	// IssuerCountry is the ISO 3166 numeric code of the cards' country (DE19 of a
	// domestic acquirer); use elsewhere needs the international channel.
	IssuerCountry string
	// Holds lapse after these unless completed or reversed.
	PreauthHold, DefaultHold time.Duration
	// HSMTimeout bounds each HSM call; past it the decision is 96.
	HSMTimeout time.Duration
}

// Authorizer decides network messages.
type Authorizer struct {
	store   DecisionStore
	hsm     CardVerifier
	fp      Fingerprinter
	policy  Policy
	now     func() time.Time
	newID   func() string
	secrets secretsCache
}

// NewAuthorizer builds the decision use case. now is the clock; newID gives
// unique, preferably time-ordered ids.
func NewAuthorizer(store DecisionStore, hsm CardVerifier, fp Fingerprinter, policy Policy, now func() time.Time, newID func() string) *Authorizer {
	if policy.PreauthHold <= 0 {
		policy.PreauthHold = 30 * 24 * time.Hour
	}
	if policy.DefaultHold <= 0 {
		policy.DefaultHold = 7 * 24 * time.Hour
	}
	if policy.HSMTimeout <= 0 {
		policy.HSMTimeout = 500 * time.Millisecond
	}
	return &Authorizer{store: store, hsm: hsm, fp: fp, policy: policy, now: now, newID: newID,
		secrets: secretsCache{m: make(map[string]domain.CardSecrets)}}
}

// Decide decides an authorization, advice or reversal. An error means nothing
// was decided (the database could not be reached): the caller answers nothing, or
// 96 where an answer is due, and the network stands in or repeats.
func (a *Authorizer) Decide(ctx context.Context, m *domain.NetworkMessage) (domain.Outcome, error) {
	family, ok := domain.FamilyOf(m.MTI)
	if !ok || family == domain.FamilyNetwork {
		return domain.Outcome{}, fmt.Errorf("app: no decision for MTI %s", m.MTI)
	}
	in := a.input(family, m)
	for attempt := 0; ; attempt++ {
		if family == domain.FamilyAuthorization {
			a.verify(ctx, m, in)
		}
		out, err := a.store.Decide(ctx, in)
		if err != nil {
			return out, err
		}
		if !out.ReverifyPIN || attempt == 1 {
			if out.ReverifyPIN { // the PIN changed twice under us: do not guess
				out.Code, out.ReverifyPIN = domain.CodeSystemError, false
			}
			return out, nil
		}
		// Another instance set a new PIN since this one cached the PVV.
		a.secrets.forget(in.Fingerprint)
	}
}

func (a *Authorizer) input(family domain.Family, m *domain.NetworkMessage) *domain.Input {
	now := a.now()
	kind, cash := domain.KindOf(m.ProcessingCode)
	channel := domain.ChannelOf(m.MCC, m.POSEntryMode, m.ECI)
	in := &domain.Input{
		ID: a.newID(), EventID: a.newID(), Now: now,
		Family: family, MTI: m.MTI, Fingerprint: a.fp.Fingerprint(m.PAN),
		ProcessingCode: m.ProcessingCode, Kind: kind, Cash: cash, Channel: channel,
		International: m.AcquirerCountry != "" && a.policy.IssuerCountry != "" && m.AcquirerCountry != a.policy.IssuerCountry,
		Amount:        m.Amount, Currency: m.Currency, BillingAmount: m.BillingAmount, BillingCurrency: m.BillingCurrency,
		FinalAmount: m.FinalAmount, FinalBillingAmount: m.FinalBilling,
		STAN: m.STAN, Transmission: m.Transmission, AcquirerID: m.AcquirerID, RRN: m.RRN,
		MCC: m.MCC, MerchantID: m.MerchantID, MerchantName: m.MerchantName,
		MerchantCountry: m.AcquirerCountry, TerminalID: m.TerminalID,
		Expiry: m.Expiry, PIN: domain.PINNone, CVV: domain.CVVNone,
		PartialOK:            m.PartialApproval && kind == domain.KindDebit && !cash && channel != domain.ChannelATM,
		NetworkTransactionID: m.NetworkTransactionID,
		Preauth:              m.POSCondition == domain.PreauthorizationCondition,
		StandInCode:          m.ResponseCode,
		ApprovalCode:         m.ApprovalCode,
	}
	if in.Expiry == "" {
		in.Expiry = domain.Track2Expiry(m.Track2)
	}
	in.OrigKey = domain.OrigKey(m.STAN, m.Transmission, m.AcquirerID)
	if family != domain.FamilyAuthorization && m.Original.STAN != "" {
		in.OrigKey = domain.OrigKey(m.Original.STAN, m.Original.Transmission, m.Original.AcquirerID)
	}
	in.LCKey = in.OrigKey
	if m.NetworkTransactionID != "" {
		in.LCKey = m.NetworkTransactionID
	}
	hold := a.policy.DefaultHold
	if in.Preauth {
		hold = a.policy.PreauthHold
	}
	in.HoldExpiresAt = now.Add(hold)
	if family == domain.FamilyAuthorization {
		in.ApprovalCode = newApprovalCode()
	}
	return in
}

// verify asks the HSM about the PIN and the CVV2 the message carries, so the
// statement receives verdicts, never secrets.
func (a *Authorizer) verify(ctx context.Context, m *domain.NetworkMessage, in *domain.Input) {
	in.PIN, in.PVVUsed, in.CVV = domain.PINNone, "", domain.CVVNone
	needPIN := len(m.PINBlock) > 0
	needExpiry := m.CVV2 != "" && in.Expiry == ""
	if !needPIN && m.CVV2 == "" {
		return
	}
	var sec domain.CardSecrets
	if needPIN || needExpiry {
		var known bool
		var err error
		sec, known, err = a.cardSecrets(ctx, in.Fingerprint)
		switch {
		case err != nil:
			if needPIN {
				in.PIN = domain.PINError
			}
			if m.CVV2 != "" {
				in.CVV = domain.CVVError
			}
			return
		case !known:
			return // the statement answers 14
		}
	}
	if needPIN {
		in.PVVUsed = sec.PVV
		if sec.PVV == "" {
			in.PIN = domain.PINUnset
		} else {
			hctx, cancel := context.WithTimeout(ctx, a.policy.HSMTimeout)
			ok, err := a.hsm.VerifyPIN(hctx, m.PINBlock, m.PAN, sec.PVKI, sec.PVV)
			cancel()
			switch {
			case err != nil:
				in.PIN = domain.PINError
			case ok:
				in.PIN = domain.PINOK
			default:
				in.PIN = domain.PINWrong
			}
		}
	}
	if m.CVV2 != "" {
		expiry := in.Expiry
		if expiry == "" {
			expiry = sec.Expiry
		}
		hctx, cancel := context.WithTimeout(ctx, a.policy.HSMTimeout)
		ok, err := a.hsm.VerifyCVV2(hctx, m.PAN, expiry, m.CVV2)
		cancel()
		switch {
		case err != nil:
			in.CVV = domain.CVVError
		case ok:
			in.CVV = domain.CVVOK
		default:
			in.CVV = domain.CVVBad
		}
	}
}

func (a *Authorizer) cardSecrets(ctx context.Context, fp []byte) (domain.CardSecrets, bool, error) {
	if sec, ok := a.secrets.get(fp); ok {
		return sec, true, nil
	}
	sec, ok, err := a.store.CardSecrets(ctx, fp)
	if err != nil || !ok {
		return sec, ok, err
	}
	a.secrets.put(fp, sec)
	return sec, true, nil
}

// ForgetCard drops what the authorizer remembers of a card (after its PIN changed
// here; other instances notice through the statement's PVV check).
func (a *Authorizer) ForgetCard(pan string) { a.secrets.forget(a.fp.Fingerprint(pan)) }

// secretsCache keeps the PVV and expiry of cards that used a PIN or CVV2, so that
// verifying them costs no database round trip before the decision. A stale PVV is
// caught by the decision statement, which compares it with the card's.
type secretsCache struct {
	mu sync.RWMutex
	m  map[string]domain.CardSecrets
}

// maxCachedCards bounds the cache; past it, it starts again empty.
const maxCachedCards = 200_000

func (c *secretsCache) get(fp []byte) (domain.CardSecrets, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.m[string(fp)]
	return s, ok
}

func (c *secretsCache) put(fp []byte, s domain.CardSecrets) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedCards {
		clear(c.m)
	}
	c.m[string(fp)] = s
}

func (c *secretsCache) forget(fp []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, string(fp))
}

// newApprovalCode returns 6 random digits for DE38.
func newApprovalCode() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b[:])
}
