package scenario_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet"
	"github.com/andes-bank/andes/simulators/cardnet/issuertest"
	"github.com/andes-bank/andes/simulators/cardnet/scenario"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
)

const hangGuard = 60 * time.Second

// syncBuffer is a bytes.Buffer safe for the printer's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv connects a network to the issuer at addr and returns the
// scenarios' environment over it. It is the one constructor the fake
// issuer's tests and the real authorizer's share.
func newEnv(t *testing.T, addr string, enc iso8583.TextEncoding, cards []terminal.Card, ledger scenario.Ledger, out *syncBuffer) *scenario.Env {
	t.Helper()
	s := cardnet.DefaultSettings()
	s.AuthorizerAddr = addr
	s.TextEncoding = cardnet.Encoding{TextEncoding: enc}
	s.AdviceTimeout = 2 * time.Second
	s.RetryInterval = 20 * time.Millisecond
	printer := scenario.NewPrinter(out, iso8583.NewCodec(enc), true)
	svc, err := cardnet.New(s, cardnet.Hooks{OnFrame: printer.Frame, OnEvent: printer.Event})
	if err != nil {
		t.Fatal(err)
	}
	stop := svc.Start(context.Background())
	t.Cleanup(stop)
	if err := svc.WaitReady(context.Background(), hangGuard); err != nil {
		t.Fatal(err)
	}
	return &scenario.Env{
		Network: svc.Network, Cable: svc.Pool, Acquirer: svc.Acquirer, Log: svc.Log,
		Cards: cards, Ledger: ledger, Printer: printer,
	}
}

func fakeIssuer(t *testing.T, enc iso8583.TextEncoding) (*issuertest.Bank, *issuertest.Server, []terminal.Card) {
	t.Helper()
	bank := issuertest.NewBank(nil)
	var cards []terminal.Card
	for _, c := range []struct{ name, pan string }{{"daily", "4000001234567899"}, {"atm", "4000009876543217"}} {
		card, err := bank.NewCard(c.name, c.pan, "3012", "4321", "604", issuertest.CardSettings{Balance: 500_000, DailyATMCount: 4})
		if err != nil {
			t.Fatal(err)
		}
		cards = append(cards, card)
	}
	srv, err := issuertest.Start(iso8583.NewCodec(enc), bank)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return bank, srv, cards
}

func TestEveryScenarioAgainstTheFakeIssuer(t *testing.T) {
	for _, enc := range []iso8583.TextEncoding{iso8583.ASCII, iso8583.EBCDIC} {
		t.Run(enc.String(), func(t *testing.T) {
			bank, srv, cards := fakeIssuer(t, enc)
			out := &syncBuffer{}
			env := newEnv(t, srv.Addr(), enc, cards, bank, out)
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			for _, s := range scenario.All() {
				if err := env.Run(ctx, s); err != nil {
					t.Errorf("%v\n%s", err, out.String())
					return
				}
			}
			printed := out.String()
			for _, c := range cards {
				if strings.Contains(printed, c.PAN) {
					t.Fatalf("card %s printed in clear", c)
				}
			}
			for _, want := range []string{"0100", "0110", "0120", "0130", "0220", "0230", "0420", "0421", "0430", "stood in", "=== PASS atm-daily-count"} {
				if !strings.Contains(printed, want) {
					t.Errorf("the output never shows %q", want)
				}
			}
			if testing.Verbose() {
				t.Log("\n" + printed)
			}
		})
	}
}

// TestScenariosAgainstTheAuthorizer runs every scenario against the real
// authorizer, in process (authorizertest: PostgreSQL, the HSM simulator, the
// ISO 8583 edge over TCP) in both text encodings, reading the card ledger
// after each step. With ANDES_CARDNET_TEST_AUTHORIZER_ADDR and
// ANDES_CARDNET_TEST_CARDS_FILE (a JSON array of terminal.Card, funded and
// with PINs set; ANDES_CARDNET_TEST_TEXT_ENCODING optional) it plays them
// against that running authorizer instead, checking the answers only.
func TestScenariosAgainstTheAuthorizer(t *testing.T) {
	addr, cardsFile := os.Getenv("ANDES_CARDNET_TEST_AUTHORIZER_ADDR"), os.Getenv("ANDES_CARDNET_TEST_CARDS_FILE")
	if addr != "" || cardsFile != "" {
		runAgainstRunning(t, addr, cardsFile)
		return
	}
	for _, enc := range []iso8583.TextEncoding{iso8583.ASCII, iso8583.EBCDIC} {
		t.Run(enc.String(), func(t *testing.T) { runAgainstInProcess(t, enc) })
	}
}

func runAgainstRunning(t *testing.T, addr, cardsFile string) {
	if addr == "" || cardsFile == "" {
		t.Fatal("set both ANDES_CARDNET_TEST_AUTHORIZER_ADDR and ANDES_CARDNET_TEST_CARDS_FILE")
	}
	data, err := os.ReadFile(cardsFile)
	if err != nil {
		t.Fatal(err)
	}
	cards, err := terminal.ParseCards(data)
	if err != nil {
		t.Fatal(err)
	}
	enc := iso8583.ASCII
	if v := os.Getenv("ANDES_CARDNET_TEST_TEXT_ENCODING"); v != "" {
		if enc, err = iso8583.ParseTextEncoding(v); err != nil {
			t.Fatal(err)
		}
	}
	out := &syncBuffer{}
	env := newEnv(t, addr, enc, cards, nil, out)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := env.RunAll(ctx); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
}
