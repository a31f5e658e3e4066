package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/andes-bank/andes/services/authorizer/app"
	"github.com/andes-bank/andes/services/authorizer/authorizertest"
	"github.com/andes-bank/andes/services/authorizer/ports/demoadmin"
	"github.com/andes-bank/andes/simulators/cardnet/scenario"
)

// fastNetwork makes the network's retries quick enough for a test; the
// scenarios' stories are unchanged.
func fastNetwork(t *testing.T) {
	t.Setenv("ANDES_CARDNET_ADVICE_TIMEOUT", "2s")
	t.Setenv("ANDES_CARDNET_RETRY_INTERVAL", "20ms")
}

// `cardnet scenarios` against a running authorizer (the real one, in process,
// with its admin endpoints on a loopback listener as make up serves them):
// fresh cards issued for the run, every scenario passes with the ledger
// checked, a table is printed, and no card number is left on disk or printed.
func TestScenariosCommandRunsEveryScenarioAgainstTheAuthorizer(t *testing.T) {
	fastNetwork(t)
	st := authorizertest.Start(t, authorizertest.StartHSM(t))
	file := filepath.Join(t.TempDir(), "scenario-cards.json")
	admin := httptest.NewServer(demoadmin.Handler(st.Service.Cards, file, slog.New(slog.DiscardHandler)))
	t.Cleanup(admin.Close)

	var out bytes.Buffer
	err := run([]string{"scenarios", "-v", "-addr", st.ISOAddr(), "-admin", strings.TrimPrefix(admin.URL, "http://")}, &out)
	printed := out.String()
	if err != nil {
		t.Fatalf("cardnet scenarios: %v\n%s", err, printed)
	}
	at := strings.Index(printed, "SCENARIO ")
	if at < 0 {
		t.Fatalf("no pass/fail table:\n%s", printed)
	}
	table := printed[at:]
	for _, s := range scenario.All() {
		if !regexp.MustCompile(`(?m)^` + s.Name + ` +PASS +[0-9.]+m?s`).MatchString(table) {
			t.Errorf("the table does not show %s passing", s.Name)
		}
	}
	if !strings.Contains(table, "all 7 scenarios passed") {
		t.Errorf("no pass/fail table:\n%s", printed)
	}
	if !strings.Contains(printed, "    ledger: available") {
		t.Errorf("the authorizer's ledger was not checked:\n%s", printed)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("the scenario cards file is still there (%v)", err)
	}
	cards, err := st.Service.Cards.ListCards(context.Background(), app.ScenarioCustomerID, "", "", 100)
	if err != nil || len(cards) != len(scenario.CardNames()) {
		t.Fatalf("%d scenario cards issued (%v), want %d", len(cards), err, len(scenario.CardNames()))
	}
	for _, c := range cards {
		pan, err := st.PAN(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(printed, pan) {
			t.Fatalf("card %s printed in clear", c.MaskedPAN())
		}
	}
	if testing.Verbose() {
		t.Log("\n" + printed)
	}
}

// Without the demo bank the command says why, and fails.
func TestScenariosCommandFailsWithoutTheDemoBank(t *testing.T) {
	admin := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(admin.Close)
	var out bytes.Buffer
	err := run([]string{"scenarios", "-addr", "127.0.0.1:1", "-admin", strings.TrimPrefix(admin.URL, "http://")}, &out)
	if err == nil || !strings.Contains(err.Error(), "ANDES_DEMO_FILE") {
		t.Fatalf("err = %v, want the demo bank named", err)
	}
}
