// Command cardnet is the card network simulator on the acquirer side: it
// connects to the authorizer's ISO 8583 listener (ANDES_AUTHORIZER_EDGE_ADDR,
// text in ANDES_CARDNET_TEXT_ENCODING), signs on, echoes, stands in when the
// authorizer is slow or unreachable and delivers advices and reversals.
//
//	cardnet [serve]                      keep signed-on connections under the supervisor
//	                                     (internal gRPC health, admin HTTP)
//	cardnet scenario <name>|all [flags]  play scenarios from the field, printing every message
//	cardnet scenarios [-v]               after make up: every scenario against the running
//	                                     authorizer on fresh demo cards, as a pass/fail table
//	cardnet load [flags]                 generate load and print BENCH lines
//
// Scenarios and load need cards: -cards FILE (or ANDES_CARDNET_CARDS_FILE),
// a JSON array of {"name","pan","expiry","cvv2","pin","currency"}, or
// -fake-issuer to run against an in-process fake issuer instead of the
// authorizer. Every other setting is an ANDES_CARDNET_* variable (see package
// cardnet).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/logging"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet"
	"github.com/andes-bank/andes/simulators/cardnet/issuertest"
	"github.com/andes-bank/andes/simulators/cardnet/link"
	"github.com/andes-bank/andes/simulators/cardnet/load"
	"github.com/andes-bank/andes/simulators/cardnet/scenario"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 || args[0] == "serve" {
		serve()
		return
	}
	if err := run(args, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cardnet:", err)
		os.Exit(1)
	}
}

// serveConfig is the process's environment under the supervisor.
type serveConfig struct {
	config.Base
	cardnet.Settings
}

// linkHealth is the gRPC health service that reports whether a connection
// to the issuer is signed on. The process's own health ("") stays serving
// while the authorizer is away: restarting the network would not bring it
// back.
const linkHealth = "andes.cardnet.IssuerLink"

func serve() {
	var cfg serveConfig
	server.Main(&cfg, func(ctx context.Context, p *server.Process) error {
		var svc *cardnet.Service
		p.GRPC.SetServing(linkHealth, false)
		svc, err := cardnet.New(cfg.Settings, cardnet.Hooks{
			Logger: p.Logger,
			OnState: func(conn int, s link.State, err error) {
				p.Logger.Info("issuer connection", "conn", conn, "state", s.String(), "err", err)
				if svc != nil {
					p.GRPC.SetServing(linkHealth, svc.Pool.Ready() > 0)
				}
			},
		})
		if err != nil {
			return err
		}
		p.Go("issuer-link", svc.Run)
		if cfg.LogFile != "" {
			p.OnStop(func(context.Context) error { return svc.DumpLog(cfg.LogFile) })
		}
		return nil
	})
}

func run(args []string, out io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var settings cardnet.Settings
	if err := config.Load(&settings); err != nil {
		return err
	}
	switch args[0] {
	case "scenario":
		return runScenario(ctx, settings, args[1:], out)
	case "scenarios":
		return runScenarios(ctx, settings, args[1:], out)
	case "load":
		return runLoad(ctx, settings, args[1:], out)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(out, "usage: cardnet [serve] | scenario <name>|all [flags] | scenarios [-v] | load [flags]\nscenarios: "+strings.Join(scenario.Names(), ", "))
		return nil
	}
	return fmt.Errorf("unknown command %q: want serve, scenario, scenarios or load", args[0])
}

// common are the flags of scenario and load.
type common struct {
	cards      string
	fakeIssuer bool
	addr       string
	conns      int
	logJSON    string
	verbose    bool
}

func (c *common) register(fs *flag.FlagSet, settings cardnet.Settings) {
	fs.StringVar(&c.cards, "cards", os.Getenv("ANDES_CARDNET_CARDS_FILE"), "JSON file of the cards to use (ANDES_CARDNET_CARDS_FILE)")
	fs.BoolVar(&c.fakeIssuer, "fake-issuer", false, "run against an in-process fake issuer instead of the authorizer")
	fs.StringVar(&c.addr, "addr", settings.AuthorizerAddr, "the authorizer's ISO 8583 listener (ANDES_AUTHORIZER_EDGE_ADDR)")
	fs.IntVar(&c.conns, "conns", settings.Connections, "connections to the issuer (ANDES_CARDNET_CONNECTIONS)")
	fs.StringVar(&c.logJSON, "log-json", settings.LogFile, "write the network's transaction log to this file at the end")
	fs.BoolVar(&c.verbose, "v", false, "log connection events to stderr")
}

// target connects the service to the authorizer or to a fake issuer, and
// returns the cards to use and, with the fake, its ledger view.
func (c *common) target(settings *cardnet.Settings) (cards []terminal.Card, ledger scenario.Ledger, cleanup func(), err error) {
	settings.AuthorizerAddr, settings.Connections = c.addr, c.conns
	if c.fakeIssuer {
		bank := issuertest.NewBank(nil)
		for i, name := range []string{"daily", "atm"} {
			card, err := bank.NewCard(name, fakePANs[i], "3012", "4321", "604", issuertest.CardSettings{Balance: 10_000_000, DailyATMCount: 3})
			if err != nil {
				return nil, nil, nil, err
			}
			cards = append(cards, card)
		}
		srv, err := issuertest.Start(iso8583Codec(*settings), bank)
		if err != nil {
			return nil, nil, nil, err
		}
		settings.AuthorizerAddr = srv.Addr()
		return cards, bank, srv.Close, nil
	}
	if c.cards == "" {
		return nil, nil, nil, errors.New("no cards: give -cards FILE (or ANDES_CARDNET_CARDS_FILE) with cards issued by the authorizer, or -fake-issuer")
	}
	data, err := os.ReadFile(c.cards)
	if err != nil {
		return nil, nil, nil, err
	}
	cards, err = terminal.ParseCards(data)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(cards) == 0 {
		return nil, nil, nil, errors.New("the cards file lists no cards")
	}
	return cards, nil, func() {}, nil
}

// fakePANs are the fake issuer's cards (Luhn-valid test numbers).
var fakePANs = []string{"4000001234567899", "4000009876543217"}

func (c *common) logger() *slog.Logger {
	if !c.verbose {
		return nil
	}
	return logging.New(os.Stderr, "cardnet", slog.LevelInfo)
}

func runScenario(ctx context.Context, settings cardnet.Settings, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("cardnet scenario", flag.ContinueOnError)
	var c common
	c.register(fs, settings)
	frames := fs.Bool("frames", true, "print every message (card data masked)")
	if len(args) == 0 {
		return fmt.Errorf("scenario: name one of %s, or all", strings.Join(scenario.Names(), ", "))
	}
	name := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var chosen []scenario.Scenario
	if name == "all" {
		chosen = scenario.All()
	} else if s, ok := scenario.Find(name); ok {
		chosen = []scenario.Scenario{s}
	} else {
		return fmt.Errorf("scenario %q: want one of %s, or all", name, strings.Join(scenario.Names(), ", "))
	}
	cards, ledger, cleanup, err := c.target(&settings)
	if err != nil {
		return err
	}
	defer cleanup()

	printer := scenario.NewPrinter(out, iso8583Codec(settings), *frames)
	svc, err := cardnet.New(settings, cardnet.Hooks{OnFrame: printer.Frame, OnEvent: printer.Event, Logger: c.logger()})
	if err != nil {
		return err
	}
	stopService := svc.Start(ctx)
	defer stopService()
	if err := svc.WaitReady(ctx, 30*time.Second); err != nil {
		return err
	}
	env := &scenario.Env{Network: svc.Network, Cable: svc.Pool, Acquirer: svc.Acquirer, Log: svc.Log,
		Cards: cards, Ledger: ledger, Printer: printer, LateWait: settings.LateWindow}
	var failed []string
	for _, s := range chosen {
		if err := env.Run(ctx, s); err != nil {
			failed = append(failed, s.Name)
		}
	}
	stopService()
	if c.logJSON != "" {
		if err := svc.DumpLog(c.logJSON); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d scenarios failed: %s", len(failed), len(chosen), strings.Join(failed, ", "))
	}
	fmt.Fprintf(out, "all %d scenarios passed\n", len(chosen))
	return nil
}

func runLoad(ctx context.Context, settings cardnet.Settings, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("cardnet load", flag.ContinueOnError)
	var c common
	c.register(fs, settings)
	rate := fs.Float64("rate", 1000, "requests per second; 0 for as fast as -concurrency allows")
	duration := fs.Duration("duration", 10*time.Second, "how long to send")
	concurrency := fs.Int("concurrency", 64, "most requests in flight")
	timeout := fs.Duration("timeout", 2*time.Second, "how long a request waits for its answer")
	mix := fs.String("mix", "", "message mix, e.g. purchase=80,ecommerce=10,cash=4,refund=2,reversal=2,advice=2 (the default)")
	hot := fs.Bool("hot", false, "send everything on the first card (one hot account)")
	amount := fs.Int64("amount", 1000, "amount of each transaction in minor units")
	name := fs.String("name", "load", "BENCH name: lines read cardnet.<name>.<figure>")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m := load.DefaultMix
	if *mix != "" {
		var err error
		if m, err = load.ParseMix(*mix); err != nil {
			return err
		}
	}
	cards, _, cleanup, err := c.target(&settings)
	if err != nil {
		return err
	}
	defer cleanup()
	svc, err := cardnet.New(settings, cardnet.Hooks{Logger: c.logger()})
	if err != nil {
		return err
	}
	stopService := svc.Start(ctx)
	defer stopService()
	if err := svc.WaitReady(ctx, 30*time.Second); err != nil {
		return err
	}
	fmt.Fprintf(out, "load: %s for %v over %d connections to %s\n", rateText(*rate, *concurrency), *duration, settings.Connections, settings.AuthorizerAddr)
	res, err := load.Run(ctx, svc.Pool, svc.Acquirer, load.Config{
		Rate: *rate, Duration: *duration, Concurrency: *concurrency, Timeout: *timeout,
		Mix: m, Cards: cards, Hot: *hot, Amount: *amount,
	})
	if err != nil {
		return err
	}
	res.WriteSummary(out)
	res.WriteBench(out, *name)
	return nil
}

func rateText(rate float64, concurrency int) string {
	if rate <= 0 {
		return fmt.Sprintf("as fast as possible with %d in flight", concurrency)
	}
	return fmt.Sprintf("%.0f requests/s", rate)
}

func iso8583Codec(s cardnet.Settings) *iso8583.Codec {
	return iso8583.NewCodec(s.TextEncoding.TextEncoding)
}
