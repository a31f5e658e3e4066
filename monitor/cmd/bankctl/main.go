// Command bankctl is the operator's command line. It acts with the operator
// identity of the dev PKI (DESIGN.md section 7), so what it may do on a process is
// what that process's policy grants the operator.
//
//	bankctl status [-wait 90s]    every process's health (gRPC health over mTLS); exit 0 only when all are SERVING
//	bankctl endpoints             the URLs and ports of every listener, and the demo logins
//	bankctl pki init              make or complete the dev PKI (a CA and one certificate per identity)
//	bankctl snapshot <customer>   a customer's snapshot from the facade (document, persona or CU number)
//	bankctl iso8583 decode|encode an authorizer frame (hex) as JSON, card data masked, and back
//
// Common flags: -manifest, -addrs (the addresses file of a run on other ports) and
// -pki; each defaults to an environment variable and then to its place in the
// repository (run bankctl <command> -h).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/andes-bank/andes/platform/manifest"
)

const usage = `usage: bankctl <command> [flags]

commands:
  status      every process's health over mTLS; exit 0 only when all are SERVING
  endpoints   the URLs and ports of every listener, and the demo logins
  pki init    make or complete the dev PKI under .run/pki
  snapshot    a customer's snapshot from the facade: bankctl snapshot 45678912 (document, persona or CU number)
  iso8583     decode|encode: an authorizer frame in hex as JSON (card data masked unless -reveal), and back`

// errNotServing makes status exit 1 without another message: the table said it.
var errNotServing = errors.New("not every process is SERVING")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errNotServing):
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "bankctl:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	if cmd == "pki" {
		if len(rest) == 0 || rest[0] != "init" {
			return errors.New("usage: bankctl pki init [-manifest FILE] [-pki DIR]")
		}
		cmd, rest = "pki init", rest[1:]
	}
	switch cmd {
	case "status":
		return status(ctx, rest, getenv, stdout, stderr)
	case "endpoints":
		return endpoints(rest, getenv, stdout, stderr)
	case "pki init":
		return pkiInit(rest, getenv, stdout, stderr)
	case "snapshot":
		return snapshot(ctx, rest, getenv, stdout, stderr)
	case "iso8583":
		return iso8583Cmd(rest, os.Stdin, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// common are the flags every command shares: where the manifest, the addresses
// and the PKI are.
type common struct {
	manifestFile string
	addrsFile    string
	pkiDir       string
	demoFile     string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.manifestFile, "manifest", "", "the manifest ($ANDES_MANIFEST_FILE); default: deploy/manifest.yaml above the working folder")
	fs.StringVar(&c.addrsFile, "addrs", "", "addresses file of a run on other ports ($ANDES_ADDRS_FILE); default: the manifest's ports")
	fs.StringVar(&c.pkiDir, "pki", "", "the dev PKI folder ($ANDES_PKI_DIR); default: .run/pki of the repository")
}

// resolve fills what flags left empty from the environment, then from the
// repository's layout.
func (c *common) resolve(getenv func(string) string) error {
	for p, env := range map[*string]string{
		&c.manifestFile: "ANDES_MANIFEST_FILE",
		&c.addrsFile:    "ANDES_ADDRS_FILE",
		&c.pkiDir:       "ANDES_PKI_DIR",
		&c.demoFile:     "ANDES_DEMO_FILE",
	} {
		if *p == "" {
			*p = getenv(env)
		}
	}
	if c.manifestFile == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if c.manifestFile, err = manifest.Find(wd); err != nil {
			return err
		}
	}
	root := filepath.Dir(filepath.Dir(c.manifestFile))
	if c.pkiDir == "" {
		c.pkiDir = filepath.Join(root, ".run", "pki")
	}
	if c.demoFile == "" {
		c.demoFile = filepath.Join(root, "deploy", "demo", "demo.yaml")
	}
	return nil
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bankctl "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return nil
}
