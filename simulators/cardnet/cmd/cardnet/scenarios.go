package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/services/authorizer/demoapi"
	"github.com/andes-bank/andes/simulators/cardnet"
	"github.com/andes-bank/andes/simulators/cardnet/scenario"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
	"github.com/andes-bank/andes/simulators/hsm/paycrypto"
)

// scenarioBalance is what each scenario card starts with: PEN 5,000.00.
const scenarioBalance = 500_000

// runScenarios plays every scenario against the running authorizer with
// fresh cards the local dev bank issues for the run, and prints a table.
//
// The cards come from the authorizer's admin listener (loopback, demo bank
// only): it writes their numbers to a file only this user can read, which is
// read and removed at once; PINs are chosen here and reach the authorizer as
// PIN blocks under the zone PIN key. Addresses come from the manifest (and
// ANDES_ADDRS_FILE for a run on other ports), as bankctl finds them.
func runScenarios(ctx context.Context, settings cardnet.Settings, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("cardnet scenarios", flag.ContinueOnError)
	fs.SetOutput(out)
	manifestFile := fs.String("manifest", os.Getenv("ANDES_MANIFEST_FILE"), "the manifest ($ANDES_MANIFEST_FILE); default: deploy/manifest.yaml above the working folder")
	addrsFile := fs.String("addrs", os.Getenv("ANDES_ADDRS_FILE"), "addresses file of a run on other ports ($ANDES_ADDRS_FILE); default: the manifest's ports")
	addr := fs.String("addr", "", "the authorizer's ISO 8583 listener; default: from the manifest")
	admin := fs.String("admin", "", "the authorizer's admin listener; default: from the manifest")
	verbose := fs.Bool("v", false, "print every step, message (card data masked) and decision")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" || *admin == "" {
		edge, adm, err := authorizerAddrs(*manifestFile, *addrsFile)
		if err != nil {
			return err
		}
		if *addr == "" {
			*addr = edge
		}
		if *admin == "" {
			*admin = adm
		}
	}
	settings.AuthorizerAddr = *addr
	zpk, err := paycrypto.ParseDESKey(settings.ZPK.Reveal())
	if err != nil {
		return errors.New("ANDES_CARDNET_ZPK: not a DES key")
	}
	bank := &demoBank{base: "http://" + *admin, client: &http.Client{Timeout: 30 * time.Second}}
	cards, err := bank.issue(ctx, scenario.CardNames(), scenarioBalance, zpk)
	if err != nil {
		return err
	}

	var steps io.Writer = io.Discard
	if *verbose {
		steps = out
	}
	printer := scenario.NewPrinter(steps, iso8583Codec(settings), *verbose)
	svc, err := cardnet.New(settings, cardnet.Hooks{OnFrame: printer.Frame, OnEvent: printer.Event})
	if err != nil {
		return err
	}
	stopService := svc.Start(ctx)
	defer stopService()
	if err := svc.WaitReady(ctx, 30*time.Second); err != nil {
		return err
	}
	env := &scenario.Env{Network: svc.Network, Cable: svc.Pool, Acquirer: svc.Acquirer, Log: svc.Log,
		Cards: cards, Ledger: bank, Printer: printer, LateWait: settings.LateWindow}

	fmt.Fprintf(out, "cardnet: %d scenarios against the authorizer at %s, on %d fresh cards\n\n", len(scenario.All()), *addr, len(cards))
	type row struct {
		name, result, took, why string
	}
	var rows []row
	failed := 0
	for _, s := range scenario.All() {
		began := time.Now()
		err := env.Run(ctx, s)
		r := row{name: s.Name, result: "PASS", took: time.Since(began).Round(time.Millisecond).String()}
		if err != nil {
			failed++
			r.result, r.why = "FAIL", strings.TrimPrefix(err.Error(), "scenario "+s.Name+": ")
		}
		rows = append(rows, r)
		if ctx.Err() != nil {
			break
		}
	}
	// Advices and reversals still queued are delivered before the verdict: the
	// ledger must end equal to what the network decided.
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	drainErr := svc.Network.Drain(dctx)
	cancel()
	stopService() // signs off before the table, so nothing prints after it

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tRESULT\tTOOK\tDETAIL")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.name, r.result, r.took, r.why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	switch {
	case failed > 0:
		return fmt.Errorf("%d of %d scenarios failed (run with -v to see every message)", failed, len(rows))
	case len(rows) < len(scenario.All()):
		return ctx.Err()
	case drainErr != nil:
		return fmt.Errorf("advices and reversals not all delivered: %w", drainErr)
	}
	fmt.Fprintf(out, "all %d scenarios passed\n", len(rows))
	return nil
}

// authorizerAddrs finds the authorizer's ISO 8583 edge and admin listener in
// the manifest, or in the addresses file of a run on other ports.
func authorizerAddrs(manifestFile, addrsFile string) (edge, admin string, err error) {
	if manifestFile == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", "", err
		}
		if manifestFile, err = manifest.Find(wd); err != nil {
			return "", "", fmt.Errorf("%w (run from the repository, or give -addr and -admin)", err)
		}
	}
	m, err := manifest.Load(manifestFile)
	if err != nil {
		return "", "", err
	}
	addrs := m.Defaults()
	if addrsFile != "" {
		if addrs, err = m.ReadAddrs(addrsFile); err != nil {
			return "", "", err
		}
	}
	l, ok := addrs["authorizer"]
	if !ok || l.Edges[manifest.EdgeDefault] == "" || l.Admin == "" {
		return "", "", errors.New("the manifest has no authorizer with an ISO 8583 edge")
	}
	return l.Edges[manifest.EdgeDefault], l.Admin, nil
}

// demoBank is the local dev bank's scenario card endpoints on the
// authorizer's admin listener; it is also the scenarios' ledger view.
type demoBank struct {
	base     string
	client   *http.Client
	accounts map[string]string // card account id by PAN
}

// issue asks for one fresh card per name, reads their numbers from the file
// the authorizer wrote (and removes it), and sets a random PIN on each.
func (b *demoBank) issue(ctx context.Context, names []string, balance int64, zpk *paycrypto.DESKey) ([]terminal.Card, error) {
	var resp demoapi.ScenarioCardsResponse
	err := b.call(ctx, http.MethodPost, "/demo/scenario-cards", demoapi.ScenarioCardsRequest{Names: names, Balance: balance}, &resp)
	var status statusError
	switch {
	case errors.As(err, &status) && status.code == http.StatusNotFound:
		return nil, errors.New("no scenario card endpoint: the authorizer runs without the demo bank (ANDES_DEMO_FILE)")
	case err != nil:
		return nil, fmt.Errorf("issuing scenario cards at the authorizer's admin listener (is `make up` running?): %w", err)
	}
	data, err := os.ReadFile(resp.File)
	if err != nil {
		return nil, fmt.Errorf("the scenario cards file: %w", err)
	}
	// The numbers now live in this process only.
	if err := os.Remove(resp.File); err != nil {
		return nil, err
	}
	var issued []demoapi.ScenarioCard
	if err := json.Unmarshal(data, &issued); err != nil {
		return nil, errors.New("the scenario cards file is not JSON of cards") // never quote it: card data
	}
	b.accounts = map[string]string{}
	cards := make([]terminal.Card, 0, len(issued))
	for _, c := range issued {
		pin, err := randomPIN()
		if err != nil {
			return nil, err
		}
		card := terminal.Card{Name: c.Name, PAN: c.PAN, Expiry: c.Expiry, CVV2: c.CVV2, PIN: pin, PVKI: 1, Currency: c.Currency}
		if err := card.Validate(); err != nil {
			return nil, err
		}
		block, err := paycrypto.EncryptPINBlock(zpk, pin, c.PAN)
		if err != nil {
			return nil, err
		}
		if err := b.call(ctx, http.MethodPost, "/demo/scenario-cards/"+c.CardID+"/pin", map[string]string{"pin_block": hex.EncodeToString(block[:])}, nil); err != nil {
			return nil, fmt.Errorf("setting %s's PIN: %w", card, err)
		}
		b.accounts[c.PAN] = c.CardAccountID
		cards = append(cards, card)
	}
	return cards, nil
}

// Balances reads a scenario card's account at the authorizer.
func (b *demoBank) Balances(ctx context.Context, c terminal.Card) (available, held int64, err error) {
	id, ok := b.accounts[c.PAN]
	if !ok {
		return 0, 0, fmt.Errorf("%s was not issued for this run", c)
	}
	var bal demoapi.ScenarioBalances
	if err := b.call(ctx, http.MethodGet, "/demo/scenario-accounts/"+id, nil, &bal); err != nil {
		return 0, 0, err
	}
	return bal.Available, bal.Held, nil
}

func (b *demoBank) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return statusError{code: resp.StatusCode, text: fmt.Sprintf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(msg)))}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// statusError is an answer other than 2xx.
type statusError struct {
	code int
	text string
}

func (e statusError) Error() string { return e.text }

// randomPIN is 4 random digits.
func randomPIN() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b[:]), nil
}
