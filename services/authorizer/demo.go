package authorizer

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/services/authorizer/app"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

// demoNamespace roots the ids the authorizer derives for demo objects.
var demoNamespace = uuid.MustParse("0b8a3c52-7a0e-5d43-9f61-6c2f4e1d8a90")

// demoBalance is what the demo card account starts with: PEN 500.00.
const demoBalance = 50_000

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

// SeedDemo gives the persona maria a funded PEN card account and an active card,
// once: a second run finds the account and does nothing.
func (s *Service) SeedDemo(ctx context.Context, path string) error {
	ds, err := demo.Load(path)
	if err != nil {
		return err
	}
	maria := ds.Customer("maria")
	if maria == nil {
		return errNoPersona
	}
	accountID := DemoCardAccountID(maria.ID)
	if _, err := s.Store.Account(ctx, accountID); err == nil {
		return nil
	} else if !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	pen, _ := domain.CurrencyByAlpha("PEN")
	now := s.now()
	if _, err := s.Store.OpenAccount(ctx, domain.NewAccount{ID: accountID, CustomerID: maria.ID, Currency: pen, Now: now}); err != nil {
		return err
	}
	if _, _, err := s.Cards.Fund(ctx, accountID, demoBalance, "PEN", "demo-seed", "demo-seed"); err != nil {
		return err
	}
	pan, err := DemoPAN(s.Cards.BIN(), maria.ID)
	if err != nil {
		return err
	}
	card, _, err := s.Cards.IssueCard(ctx, app.IssueRequest{AccountID: accountID, CardholderName: "MARIA E QUISPE", PAN: pan, OperationID: "demo-seed"})
	if err != nil {
		return err
	}
	// A demo card is usable at once; its PIN is set through SetPin like any other.
	if _, err := s.Store.ChangeStatus(ctx, domain.StatusChange{
		CardID: card.ID, From: []domain.CardStatus{domain.CardInactive}, To: domain.CardActive, Reason: "demo",
		Event: domain.EventMeta{ID: uuid.NewString(), Now: now},
	}); err != nil {
		return err
	}
	s.log.Info("demo card issued", "customer", "maria", "card_id", card.ID, "card", card.MaskedPAN(), "expiry", card.Expiry)
	return nil
}
