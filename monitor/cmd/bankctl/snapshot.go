package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/grpcclient"
)

// snapshot prints a customer's snapshot from the facade, read with the operator
// identity (the facade's policy grants the operator GetCustomerSnapshot alone).
func snapshot(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("snapshot", stderr)
	var c common
	c.register(fs)
	fs.StringVar(&c.demoFile, "demo", "", "the demo bank, to find a customer by document or persona ($ANDES_DEMO_FILE); default: deploy/demo/demo.yaml")
	fresh := fs.Bool("fresh", false, "skip the facade's cache: read from the core or fail")
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bankctl snapshot [flags] <document number | persona | core customer number>")
		fs.PrintDefaults()
	}
	// The customer may come before or after the flags.
	var who string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		who, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if who == "" && fs.NArg() == 1 {
		who = fs.Arg(0)
	} else if fs.NArg() > 0 || who == "" {
		fs.Usage()
		return errors.New("name one customer")
	}
	if err := c.resolve(getenv); err != nil {
		return err
	}
	m, addrs, err := c.load()
	if err != nil {
		return err
	}
	number, err := customerNumber(who, c.demoFile)
	if err != nil {
		return err
	}
	creds, err := operator(c.pkiDir, m)
	if err != nil {
		return err
	}
	conn, err := grpcclient.New(addrs["facade"].GRPC, grpcclient.Options{Credentials: creds, Peer: "facade", Timeout: *timeout})
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := facadev1.NewFacadeServiceClient(conn).GetCustomerSnapshot(ctx,
		&facadev1.GetCustomerSnapshotRequest{CustomerNumber: number, RequireFresh: *fresh})
	if err != nil {
		return fmt.Errorf("facade at %s: %w", addrs["facade"].GRPC, err)
	}
	if *asJSON {
		b, err := protojson.MarshalOptions{Multiline: true}.Marshal(resp)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	printSnapshot(stdout, resp)
	return nil
}

// customerNumber takes a core customer number as it is, and finds a document
// number or a persona's key in the demo bank.
func customerNumber(who, demoFile string) (string, error) {
	if strings.HasPrefix(who, "CU") {
		return who, nil
	}
	d, err := demo.Load(demoFile)
	if err != nil {
		return "", fmt.Errorf("finding %q in the demo bank: %w", who, err)
	}
	c := d.Customer(who)
	if c == nil {
		return "", fmt.Errorf("no demo customer with document or key %q (give a core customer number, CU…, for others)", who)
	}
	return c.CoreNumber, nil
}

func money(m *moneyv1.Money) string {
	if m == nil {
		return "-"
	}
	sign, v := "", m.GetAmountMinor()
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, v/100, v%100, m.GetCurrency())
}

func trim(s string) string {
	for _, p := range []string{"ACCOUNT_TYPE_", "ACCOUNT_STATUS_", "PRODUCT_TYPE_", "MOVEMENT_KIND_", "SNAPSHOT_SOURCE_"} {
		s = strings.TrimPrefix(s, p)
	}
	return strings.ToLower(s)
}

func printSnapshot(w io.Writer, r *facadev1.GetCustomerSnapshotResponse) {
	s := r.GetSnapshot()
	p := s.GetProfile()
	state := "fresh"
	if s.GetStale() {
		state = "STALE (the core could not be reached)"
	}
	fmt.Fprintf(w, "%s %s  %s  %s %s\n", p.GetGivenNames(), p.GetFamilyNames(), p.GetCustomerNumber(),
		strings.TrimPrefix(p.GetDocument().GetType().String(), "DOCUMENT_TYPE_"), p.GetDocument().GetNumber())
	fmt.Fprintf(w, "as of %s, %s, from %s; fresh until %s\n\n", s.GetAsOf().AsTime().Format(time.RFC3339), state,
		trim(r.GetSource().String()), s.GetFreshUntil().AsTime().Format(time.RFC3339))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ACCOUNT\tTYPE\tSTATUS\tLEDGER\tAVAILABLE\t")
	for _, a := range s.GetAccounts() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", a.GetAccountNumber(), trim(a.GetType().String()), trim(a.GetStatus().String()),
			money(a.GetLedgerBalance()), money(a.GetAvailableBalance()))
	}
	tw.Flush()
	if len(s.GetProducts()) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PRODUCT\tNAME\tAMOUNT\tDUE")
		for _, pr := range s.GetProducts() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", trim(pr.GetType().String()), pr.GetName(), money(pr.GetAmount()), pr.GetDueDate())
		}
		tw.Flush()
	}
	if len(s.GetLatestMovements()) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DATE\tACCOUNT\tKIND\tAMOUNT\tBALANCE\tDESCRIPTION")
		for _, m := range s.GetLatestMovements() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.GetValueDate(), m.GetAccountNumber(), trim(m.GetKind().String()),
				money(m.GetAmount()), money(m.GetBalanceAfter()), m.GetDescription())
		}
		tw.Flush()
	}
}
