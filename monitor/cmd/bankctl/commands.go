package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	grpcstatus "google.golang.org/grpc/status"

	"github.com/andes-bank/andes/monitor/probe"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/pki"
)

// load reads the manifest and the addresses of the run.
func (c *common) load() (*manifest.Manifest, manifest.Addrs, error) {
	m, err := manifest.Load(c.manifestFile)
	if err != nil {
		return nil, nil, err
	}
	if c.addrsFile == "" {
		return m, m.Defaults(), nil
	}
	addrs, err := m.ReadAddrs(c.addrsFile)
	return m, addrs, err
}

func status(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("status", stderr)
	var c common
	c.register(fs)
	wait := fs.Duration("wait", 0, "keep probing until every process is SERVING or this long has passed")
	quiet := fs.Bool("q", false, "print nothing; only the exit status says")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := c.resolve(getenv); err != nil {
		return err
	}
	m, addrs, err := c.load()
	if err != nil {
		return err
	}
	creds, err := operator(c.pkiDir, m)
	if err != nil {
		return err
	}

	var results []probe.Result
	if *wait > 0 {
		wctx, cancel := context.WithTimeout(ctx, *wait)
		results = probe.Wait(wctx, creds, m, addrs, 250*time.Millisecond)
		cancel()
	} else {
		results = probe.All(ctx, creds, m, addrs)
	}
	if !*quiet {
		printStatus(stdout, results)
	}
	if !probe.AllServing(results) {
		return errNotServing
	}
	return nil
}

// operator loads the operator's identity from the dev PKI.
func operator(dir string, m *manifest.Manifest) (*pki.Credentials, error) {
	d := pki.Dir(dir)
	creds, err := pki.Load(d.CertFile("operator"), d.KeyFile("operator"), d.CAFile(), m.TrustDomain)
	if err != nil {
		return nil, fmt.Errorf("the operator identity (run 'bankctl pki init' or 'make up' first): %w", err)
	}
	return creds, nil
}

func printStatus(w io.Writer, results []probe.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROCESS\tHEALTH\tGRPC\tDETAIL")
	serving, notBuilt := 0, 0
	for _, r := range results {
		detail := ""
		switch {
		case r.Err != nil:
			detail = oneLine(grpcstatus.Convert(r.Err).Message())
		case len(r.NotBuilt) > 0:
			// The process runs, but its API answers only Unimplemented.
			detail = "API not built (" + strings.Join(r.NotBuilt, ", ") + ")"
		}
		if r.Serving() {
			serving++
			if len(r.NotBuilt) > 0 {
				notBuilt++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Status, r.Addr, detail)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d of %d processes SERVING", serving, len(results))
	if notBuilt > 0 {
		fmt.Fprintf(w, ", %d of them with their API not built", notBuilt)
	}
	fmt.Fprintln(w)
}

// oneLine keeps an error readable in a table cell: its end says what happened
// ("connection refused"), its start mostly how gRPC got there.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = "..." + s[len(s)-77:]
	}
	return s
}

func pkiInit(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("pki init", stderr)
	var c common
	c.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := c.resolve(getenv); err != nil {
		return err
	}
	m, err := manifest.Load(c.manifestFile)
	if err != nil {
		return err
	}
	if err := pki.Ensure(c.pkiDir, m); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dev PKI ready in %s (%d identities)\n", c.pkiDir, len(m.IdentityNames()))
	return nil
}

func endpoints(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("endpoints", stderr)
	var c common
	c.register(fs)
	fs.StringVar(&c.demoFile, "demo", "", "the demo bank ($ANDES_DEMO_FILE); default: deploy/demo/demo.yaml")
	noDemo := fs.Bool("no-demo", false, "leave out the demo logins")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := c.resolve(getenv); err != nil {
		return err
	}
	m, addrs, err := c.load()
	if err != nil {
		return err
	}
	printEndpoints(stdout, m, addrs)
	if *noDemo {
		return nil
	}
	d, err := demo.Load(c.demoFile)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	printLogins(stdout, d)
	return nil
}

// URL schemes by edge protocol; the others are raw TCP.
var schemes = map[string]string{
	"http":       "http",
	"h2c":        "http",
	"https":      "https",
	"https-mtls": "https",
	"smtp":       "smtp",
}

func edgeURL(e manifest.Edge, addr string) string {
	scheme, ok := schemes[e.Protocol]
	if !ok {
		return "tcp://" + addr + " (" + e.Protocol + ")"
	}
	u := scheme + "://" + addr
	switch e.Protocol {
	case "h2c":
		u += " (h2c)"
	case "https-mtls":
		u += " (mTLS)"
	}
	return u
}

func printEndpoints(w io.Writer, m *manifest.Manifest, addrs manifest.Addrs) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROCESS\tKIND\tGRPC (mTLS)\tADMIN (http)\tEDGES")
	for _, p := range m.Processes {
		l := addrs[p.Name]
		var edges []string
		for _, e := range p.Edges {
			name := ""
			if e.Name != manifest.EdgeDefault {
				name = e.Name + " "
			}
			edges = append(edges, name+edgeURL(e, l.Edges[e.Name]))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.Kind, l.GRPC, l.Admin, strings.Join(edges, ", "))
	}
	tw.Flush()
}

// printLogins shows the demo bank's personas and clients. They are demo values
// derived from the demo seed, printed on purpose: nothing real is behind them.
func printLogins(w io.Writer, d *demo.Dataset) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DEMO CUSTOMER\tDOCUMENT\tPASSWORD\tPARTNER")
	for _, c := range d.Customers {
		if c.Key == "" {
			break // the personas come first; generated customers cannot log in
		}
		partner := c.Partner
		if partner == "" {
			partner = "-"
		}
		fmt.Fprintf(tw, "%s %s\t%s %s\t%s\t%s\n", c.GivenNames, c.FamilyNames, c.DocumentType, c.DocumentNumber, c.Password, partner)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DEMO CLIENT\tCLIENT ID\tCLIENT SECRET\tSCOPES")
	for _, p := range d.Partners {
		fmt.Fprintf(tw, "partner %s\t%s\t%s\t%s\n", p.Name, p.ClientID, p.ClientSecret, strings.Join(p.Scopes, " "))
	}
	for _, a := range d.Agents {
		fmt.Fprintf(tw, "agent %s\t%s\t%s\t%s\n", a.Name, a.ClientID, a.ClientSecret, "agent of "+a.Partner)
	}
	tw.Flush()
}
