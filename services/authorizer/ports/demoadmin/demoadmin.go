// Package demoadmin serves the demo bank's scenario card endpoints (the contract
// is package demoapi) on the admin listener, and writes the issued cards' data to
// a file only the platform's user can read.
package demoadmin

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"

	"github.com/andes-bank/andes/services/authorizer/app"
	"github.com/andes-bank/andes/services/authorizer/demoapi"
	"github.com/andes-bank/andes/services/authorizer/domain"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
)

// Cards is what the endpoints ask of card administration.
type Cards interface {
	IssueScenarioCards(ctx context.Context, names []string, balance int64) ([]app.ScenarioCard, error)
	ScenarioCardByID(ctx context.Context, id string) (domain.Card, error)
	ScenarioAccount(ctx context.Context, id string) (domain.CardAccount, error)
	SetPIN(ctx context.Context, cardID string, block []byte) (domain.Card, error)
}

var _ Cards = (*app.Cards)(nil)

var scenarioName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// Handler serves the endpoints under /demo/, writing card data to file.
func Handler(cards Cards, file string, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /demo/scenario-cards", func(w http.ResponseWriter, r *http.Request) {
		var req demoapi.ScenarioCardsRequest
		if !readJSON(w, r, &req) {
			return
		}
		if len(req.Names) == 0 || len(req.Names) > demoapi.MaxCards || req.Balance < 0 || req.Balance > demoapi.MaxBalance {
			http.Error(w, fmt.Sprintf("want 1 to %d names and a balance of 0 to %d", demoapi.MaxCards, demoapi.MaxBalance), http.StatusBadRequest)
			return
		}
		for _, n := range req.Names {
			if !scenarioName.MatchString(n) {
				http.Error(w, "names are lower-case letters, digits and dashes, at most 32", http.StatusBadRequest)
				return
			}
		}
		issued, err := cards.IssueScenarioCards(r.Context(), req.Names, req.Balance)
		var resp demoapi.ScenarioCardsResponse
		if err == nil {
			resp, err = writeCards(file, issued)
		}
		if err != nil {
			log.Error("scenario cards", "err", err)
			http.Error(w, "issuing the scenario cards failed; see the authorizer's log", http.StatusInternalServerError)
			return
		}
		log.Info("scenario cards issued", "count", len(issued), "file", resp.File)
		writeJSON(w, resp)
	})
	mux.HandleFunc("POST /demo/scenario-cards/{card}/pin", func(w http.ResponseWriter, r *http.Request) {
		var req demoapi.ScenarioPINRequest
		if !readJSON(w, r, &req) {
			return
		}
		block, err := hex.DecodeString(req.PINBlock)
		if err != nil || len(block) != 8 {
			http.Error(w, "pin_block: want 16 hex digits", http.StatusBadRequest)
			return
		}
		card, err := cards.ScenarioCardByID(r.Context(), r.PathValue("card"))
		if err != nil {
			http.Error(w, "no such scenario card", http.StatusNotFound)
			return
		}
		if _, err := cards.SetPIN(r.Context(), card.ID, block); err != nil {
			log.Warn("scenario card PIN", "card_id", card.ID, "err", err)
			http.Error(w, "setting the PIN failed", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /demo/scenario-accounts/{id}", func(w http.ResponseWriter, r *http.Request) {
		a, err := cards.ScenarioAccount(r.Context(), r.PathValue("id"))
		if err != nil {
			http.Error(w, "no such scenario card account", http.StatusNotFound)
			return
		}
		writeJSON(w, demoapi.ScenarioBalances{Available: a.Available, Held: a.Held, Ledger: a.Ledger})
	})
	return mux
}

// writeCards writes the cards' data to file and answers what may travel: the
// file's path and the masked numbers.
func writeCards(file string, issued []app.ScenarioCard) (demoapi.ScenarioCardsResponse, error) {
	resp := demoapi.ScenarioCardsResponse{}
	cards := make([]demoapi.ScenarioCard, 0, len(issued))
	for _, c := range issued {
		cards = append(cards, demoapi.ScenarioCard{Name: c.Name, CardID: c.Card.ID, CardAccountID: c.AccountID,
			PAN: c.PAN, Expiry: c.Card.Expiry, CVV2: c.CVV2, Currency: c.Currency.Numeric})
		resp.Cards = append(resp.Cards, demoapi.IssuedScenarioCard{Name: c.Name, CardID: c.Card.ID,
			CardAccountID: c.AccountID, MaskedPAN: iso8583.MaskPAN(c.PAN)})
	}
	path, err := writePrivateJSON(file, cards)
	resp.File = path
	return resp, err
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
