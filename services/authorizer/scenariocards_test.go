package authorizer_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andes-bank/andes/services/authorizer/authorizertest"
	"github.com/andes-bank/andes/services/authorizer/demoapi"
	"github.com/andes-bank/andes/services/authorizer/ports/demoadmin"
)

// The demo bank issues scenario cards on an operator's request: numbers only in
// a 0600 file, never in the answer; PINs set from PIN blocks; only scenario
// cards and accounts reachable.
func TestScenarioCardsAreIssuedThroughAPrivateFile(t *testing.T) {
	st := authorizertest.Start(t, authorizertest.StartHSM(t))
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "cardnet", "scenario-cards.json")
	srv := httptest.NewServer(demoadmin.Handler(st.Service.Cards, file, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)

	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	code, body := call(http.MethodPost, "/demo/scenario-cards", `{"names":["restaurant","atm"],"balance":500000}`)
	if code != http.StatusOK {
		t.Fatalf("issue: %d %s", code, body)
	}
	var resp demoapi.ScenarioCardsResponse
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.File != file || len(resp.Cards) != 2 {
		t.Fatalf("answer %+v, want 2 cards written to %s", resp, file)
	}
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("the cards file is %v, want readable by its owner only", info.Mode().Perm())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cards []demoapi.ScenarioCard
	if err := json.Unmarshal(data, &cards); err != nil {
		t.Fatal(err)
	}
	for i, c := range cards {
		if strings.Contains(body, c.PAN) || strings.Contains(body, `"`+c.CVV2+`"`) {
			t.Errorf("the answer carries %s's card data", c.Name)
		}
		if want := resp.Cards[i].MaskedPAN; c.PAN[:6] != want[:6] || c.PAN[len(c.PAN)-4:] != want[len(want)-4:] {
			t.Errorf("%s: file and answer disagree on the card", c.Name)
		}
		got, err := st.PAN(ctx, c.CardID)
		if err != nil || got != c.PAN {
			t.Errorf("%s: the file's number is not the vault's (%v)", c.Name, err)
		}
		if c.Currency != "604" || len(c.CVV2) != 3 || len(c.Expiry) != 4 {
			t.Errorf("%s: currency %q, CVV2 of %d digits, expiry %q", c.Name, c.Currency, len(c.CVV2), c.Expiry)
		}
	}

	// The PIN arrives as a block under the zone PIN key and the card becomes
	// usable; its account answers its balances.
	c := cards[0]
	block := st.PINBlock(c.PAN, "1357")
	if code, body := call(http.MethodPost, "/demo/scenario-cards/"+c.CardID+"/pin", `{"pin_block":"`+hex.EncodeToString(block)+`"}`); code != http.StatusNoContent {
		t.Fatalf("set PIN: %d %s", code, body)
	}
	card, err := st.Service.Cards.Card(ctx, c.CardID)
	if err != nil || card.Status != "active" || !card.PINSet {
		t.Fatalf("after the PIN: %+v %v", card, err)
	}
	code, body = call(http.MethodGet, "/demo/scenario-accounts/"+c.CardAccountID, "")
	var bal demoapi.ScenarioBalances
	if code != http.StatusOK || json.Unmarshal([]byte(body), &bal) != nil || bal != (demoapi.ScenarioBalances{Available: 500_000, Ledger: 500_000}) {
		t.Fatalf("balances: %d %s", code, body)
	}

	// Nothing else is reachable, and bad input changes nothing.
	other := st.IssueCard(ctx, authorizertest.CardOptions{Balance: 100})
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodGet, "/demo/scenario-accounts/" + other.AccountID, "", http.StatusNotFound},
		{http.MethodPost, "/demo/scenario-cards/" + other.ID + "/pin", `{"pin_block":"` + hex.EncodeToString(block) + `"}`, http.StatusNotFound},
		{http.MethodPost, "/demo/scenario-cards/" + c.CardID + "/pin", `{"pin_block":"00"}`, http.StatusBadRequest},
		{http.MethodPost, "/demo/scenario-cards", `{"names":["../etc"],"balance":1}`, http.StatusBadRequest},
		{http.MethodPost, "/demo/scenario-cards", `{"names":["a"],"balance":-1}`, http.StatusBadRequest},
		{http.MethodPost, "/demo/scenario-cards", `{"names":["a"],"pan":"4761340000000000"}`, http.StatusBadRequest},
		{http.MethodGet, "/demo/scenario-cards", "", http.StatusMethodNotAllowed},
	} {
		if code, body := call(tc.method, tc.path, tc.body); code != tc.want {
			t.Errorf("%s %s %s: %d %s, want %d", tc.method, tc.path, tc.body, code, body, tc.want)
		}
	}
	after, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(after, data) {
		t.Errorf("refused requests rewrote the cards file (%v)", err)
	}
}
