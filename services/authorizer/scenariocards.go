package authorizer

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"

	"github.com/google/uuid"

	"github.com/andes-bank/andes/services/authorizer/app"
	"github.com/andes-bank/andes/services/authorizer/domain"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
)

// Scenario cards: the card network simulator's field scenarios need cards whose
// number, CVV2 and PIN it knows, and fresh ones on every run (an ATM daily count
// used up, PIN tries counted). Card data is never committed nor sent in clear
// over a wire, so the local dev bank issues them on an operator's request on the
// admin listener (loopback only), and hands the numbers over through a file only
// the platform's user can read:
//
//	POST /demo/scenario-cards                {"names": [...], "balance": 500000}
//	     → opens and funds a PEN card account per name for the scenario customer,
//	       issues an active card on each, writes [{name, card_id, card_account_id,
//	       pan, expiry, cvv2, currency}] to the scenario cards file (0600, replaced
//	       atomically) and answers its path and the masked numbers;
//	POST /demo/scenario-cards/{card_id}/pin  {"pin_block": "<hex>"}
//	     → sets the card's PIN from a PIN block under the zone PIN key the network
//	       shares with the HSM: the authorizer never sees the PIN;
//	GET  /demo/scenario-accounts/{id}        → the account's balances, so the
//	       runner checks what the network decided is what the ledger booked.
//
// Only cards and accounts of the scenario customer are reachable, and the
// endpoints exist only when the demo bank is seeded (ANDES_DEMO_FILE).

// ScenarioCustomerID owns every scenario card account.
var ScenarioCustomerID = uuid.NewSHA1(demoNamespace, []byte("cardnet-scenarios")).String()

// ScenarioCard is one line of the scenario cards file.
type ScenarioCard struct {
	Name          string `json:"name"`
	CardID        string `json:"card_id"`
	CardAccountID string `json:"card_account_id"`
	PAN           string `json:"pan"`
	Expiry        string `json:"expiry"` // YYMM
	CVV2          string `json:"cvv2"`
	Currency      string `json:"currency"` // ISO 4217 numeric
}

// IssuedScenarioCard is what the issuance answers per card: no card data.
type IssuedScenarioCard struct {
	Name          string `json:"name"`
	CardID        string `json:"card_id"`
	CardAccountID string `json:"card_account_id"`
	MaskedPAN     string `json:"masked_pan"`
}

// ScenarioCardsRequest asks for one card per name.
type ScenarioCardsRequest struct {
	Names   []string `json:"names"`
	Balance int64    `json:"balance"` // minor units of PEN on each card
}

// ScenarioCardsResponse says where the cards' data was written.
type ScenarioCardsResponse struct {
	File  string               `json:"file"`
	Cards []IssuedScenarioCard `json:"cards"`
}

// ScenarioBalances is a scenario card account's balances in minor units.
type ScenarioBalances struct {
	Available int64 `json:"available"`
	Held      int64 `json:"held"`
	Ledger    int64 `json:"ledger"`
}

const (
	maxScenarioCards   = 32
	maxScenarioBalance = 10_000_000 // PEN 100,000.00
)

var scenarioName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ScenarioCards serves the scenario card endpoints (under /demo/), writing card
// data to file.
func (s *Service) ScenarioCards(file string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /demo/scenario-cards", func(w http.ResponseWriter, r *http.Request) {
		var req ScenarioCardsRequest
		if !readJSON(w, r, &req) {
			return
		}
		if len(req.Names) == 0 || len(req.Names) > maxScenarioCards || req.Balance < 0 || req.Balance > maxScenarioBalance {
			http.Error(w, fmt.Sprintf("want 1 to %d names and a balance of 0 to %d", maxScenarioCards, maxScenarioBalance), http.StatusBadRequest)
			return
		}
		for _, n := range req.Names {
			if !scenarioName.MatchString(n) {
				http.Error(w, "names are lower-case letters, digits and dashes, at most 32", http.StatusBadRequest)
				return
			}
		}
		resp, err := s.issueScenarioCards(r.Context(), file, req)
		if err != nil {
			s.log.Error("scenario cards", "err", err)
			http.Error(w, "issuing the scenario cards failed; see the authorizer's log", http.StatusInternalServerError)
			return
		}
		writeJSON(w, resp)
	})
	mux.HandleFunc("POST /demo/scenario-cards/{card}/pin", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			PINBlock string `json:"pin_block"`
		}
		if !readJSON(w, r, &req) {
			return
		}
		block, err := hex.DecodeString(req.PINBlock)
		if err != nil || len(block) != 8 {
			http.Error(w, "pin_block: want 16 hex digits", http.StatusBadRequest)
			return
		}
		card, err := s.Cards.Card(r.Context(), r.PathValue("card"))
		if err != nil || card.CustomerID != ScenarioCustomerID {
			http.Error(w, "no such scenario card", http.StatusNotFound)
			return
		}
		if _, err := s.Cards.SetPIN(r.Context(), card.ID, block); err != nil {
			s.log.Warn("scenario card PIN", "card_id", card.ID, "err", err)
			http.Error(w, "setting the PIN failed", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /demo/scenario-accounts/{id}", func(w http.ResponseWriter, r *http.Request) {
		a, err := s.Cards.Account(r.Context(), r.PathValue("id"))
		if err != nil || a.CustomerID != ScenarioCustomerID {
			http.Error(w, "no such scenario card account", http.StatusNotFound)
			return
		}
		writeJSON(w, ScenarioBalances{Available: a.Available, Held: a.Held, Ledger: a.Ledger})
	})
	return mux
}

func (s *Service) issueScenarioCards(ctx context.Context, file string, req ScenarioCardsRequest) (ScenarioCardsResponse, error) {
	pen, _ := domain.CurrencyByAlpha("PEN")
	cards := make([]ScenarioCard, 0, len(req.Names))
	resp := ScenarioCardsResponse{}
	for _, name := range req.Names {
		acct, err := s.Cards.OpenAccount(ctx, ScenarioCustomerID, pen.Alpha)
		if err != nil {
			return resp, err
		}
		if req.Balance > 0 {
			if _, _, err := s.Cards.Fund(ctx, acct.ID, req.Balance, pen.Alpha, "cardnet-scenarios", uuid.NewString()); err != nil {
				return resp, err
			}
		}
		card, cvv2, err := s.Cards.IssueCard(ctx, app.IssueRequest{AccountID: acct.ID, CardholderName: "CARDNET SCENARIO", OperationID: uuid.NewString()})
		if err != nil {
			return resp, err
		}
		ct, _, err := s.Store.CardPAN(ctx, card.ID)
		if err != nil {
			return resp, err
		}
		pan, err := s.Vault.Decrypt(card.ID, ct)
		if err != nil {
			return resp, err
		}
		cards = append(cards, ScenarioCard{Name: name, CardID: card.ID, CardAccountID: acct.ID, PAN: pan, Expiry: card.Expiry, CVV2: cvv2, Currency: pen.Numeric})
		resp.Cards = append(resp.Cards, IssuedScenarioCard{Name: name, CardID: card.ID, CardAccountID: acct.ID, MaskedPAN: iso8583.MaskPAN(pan)})
	}
	path, err := writePrivateJSON(file, cards)
	if err != nil {
		return resp, err
	}
	resp.File = path
	s.log.Info("scenario cards issued", "count", len(cards), "file", path)
	return resp, nil
}

// writePrivateJSON replaces file with v as JSON, readable by this user only,
// and returns its absolute path.
func writePrivateJSON(file string, v any) (string, error) {
	path, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, ".scenario-cards-*") // created 0600
	if err != nil {
		return "", err
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		os.Remove(f.Name())
		return "", werr
	}
	return path, nil
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "body: want JSON of the documented shape", http.StatusBadRequest)
		}
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
