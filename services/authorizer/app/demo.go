package app

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

// The demo bank's cards: the personas' prepaid cards, and the card network
// simulator's scenario cards. Only the local dev bank runs these use cases (the
// composition root wires them when a demo dataset is seeded).

// demoNamespace roots the ids the authorizer derives for demo objects.
var demoNamespace = uuid.MustParse("0b8a3c52-7a0e-5d43-9f61-6c2f4e1d8a90")

// ScenarioCustomerID owns every scenario card account.
var ScenarioCustomerID = uuid.NewSHA1(demoNamespace, []byte("cardnet-scenarios")).String()

// DemoPAN is the card number of a demo customer's prepaid card: derived from the
// customer id, so the card network simulator can use the card without asking.
func DemoPAN(bin, customerID string) (string, error) {
	sum := sha256.Sum256([]byte("andes-demo-card|" + customerID))
	serialLen := domain.PANLength - 1 - len(bin)
	serial := fmt.Sprintf("%020d", binary.BigEndian.Uint64(sum[:8]))
	return domain.NewPAN(bin, serial[len(serial)-serialLen:])
}

// DemoCardAccountID is the id of a demo customer's card account.
func DemoCardAccountID(customerID string) string {
	return uuid.NewSHA1(demoNamespace, []byte("card-account|"+customerID)).String()
}

// demoBalance is what a persona's card account starts with: PEN 500.00.
const demoBalance = 50_000

// demoCardholders are the personas that get a prepaid card, by key, with the
// name embossed on it.
var demoCardholders = []struct{ persona, name string }{{"maria", "MARIA E QUISPE"}}

// SeedDemo gives each card-holding persona of the demo bank a funded PEN card
// account and an active card under its derived number, once: a second run finds
// the accounts and issues nothing. It returns the cards it issued.
func (c *Cards) SeedDemo(ctx context.Context, ds *demo.Dataset) ([]domain.Card, error) {
	var issued []domain.Card
	for _, h := range demoCardholders {
		p := ds.Customer(h.persona)
		if p == nil {
			return issued, fmt.Errorf("demo: persona %s not found", h.persona)
		}
		card, ok, err := c.seedDemoCard(ctx, p.ID, h.name)
		if err != nil {
			return issued, fmt.Errorf("demo card of %s: %w", h.persona, err)
		}
		if ok {
			issued = append(issued, card)
		}
	}
	return issued, nil
}

func (c *Cards) seedDemoCard(ctx context.Context, customerID, cardholder string) (domain.Card, bool, error) {
	accountID := DemoCardAccountID(customerID)
	if _, err := c.store.Account(ctx, accountID); err == nil {
		return domain.Card{}, false, nil
	} else if !errors.Is(err, domain.ErrNotFound) {
		return domain.Card{}, false, err
	}
	pen, _ := domain.CurrencyByAlpha("PEN")
	if _, err := c.store.OpenAccount(ctx, domain.NewAccount{ID: accountID, CustomerID: customerID, Currency: pen, Now: c.now()}); err != nil {
		return domain.Card{}, false, err
	}
	if _, _, err := c.Fund(ctx, accountID, demoBalance, pen.Alpha, "demo-seed", "demo-seed"); err != nil {
		return domain.Card{}, false, err
	}
	pan, err := DemoPAN(c.program.BIN, customerID)
	if err != nil {
		return domain.Card{}, false, err
	}
	card, _, err := c.IssueCard(ctx, IssueRequest{AccountID: accountID, CardholderName: cardholder, PAN: pan, OperationID: "demo-seed"})
	if err != nil {
		return domain.Card{}, false, err
	}
	// A demo card is usable at once; its PIN is set through SetPin like any other.
	card, err = c.changeStatus(ctx, card.ID, "demo", domain.CardActive, domain.CardInactive)
	return card, err == nil, err
}

// ScenarioCard is a card issued for the card network simulator's scenarios, with
// the data the simulator needs to use it.
type ScenarioCard struct {
	Name      string
	Card      domain.Card
	AccountID string
	PAN       string
	CVV2      string
	Currency  domain.Currency
}

// IssueScenarioCards opens and funds a PEN card account per name for the
// scenario customer and issues a card on each, usable once its PIN is set; fresh
// ones on every call, since scenarios use their cards up (an ATM daily count, PIN
// tries).
func (c *Cards) IssueScenarioCards(ctx context.Context, names []string, balance int64) ([]ScenarioCard, error) {
	pen, _ := domain.CurrencyByAlpha("PEN")
	cards := make([]ScenarioCard, 0, len(names))
	for _, name := range names {
		acct, err := c.OpenAccount(ctx, ScenarioCustomerID, pen.Alpha)
		if err != nil {
			return nil, err
		}
		if balance > 0 {
			if _, _, err := c.Fund(ctx, acct.ID, balance, pen.Alpha, "cardnet-scenarios", c.newID()); err != nil {
				return nil, err
			}
		}
		card, cvv2, err := c.IssueCard(ctx, IssueRequest{AccountID: acct.ID, CardholderName: "CARDNET SCENARIO", OperationID: c.newID()})
		if err != nil {
			return nil, err
		}
		pan, err := c.pan(ctx, card.ID)
		if err != nil {
			return nil, err
		}
		cards = append(cards, ScenarioCard{Name: name, Card: card, AccountID: acct.ID, PAN: pan, CVV2: cvv2, Currency: pen})
	}
	return cards, nil
}

// ScenarioCardByID returns a scenario card; any other card is not found.
func (c *Cards) ScenarioCardByID(ctx context.Context, id string) (domain.Card, error) {
	card, err := c.store.Card(ctx, id)
	if err == nil && card.CustomerID != ScenarioCustomerID {
		return domain.Card{}, domain.ErrNotFound
	}
	return card, err
}

// ScenarioAccount returns a scenario card account; any other is not found.
func (c *Cards) ScenarioAccount(ctx context.Context, id string) (domain.CardAccount, error) {
	a, err := c.store.Account(ctx, id)
	if err == nil && a.CustomerID != ScenarioCustomerID {
		return domain.CardAccount{}, domain.ErrNotFound
	}
	return a, err
}
