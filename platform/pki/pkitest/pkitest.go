// Package pkitest makes throwaway PKIs for tests: a CA and certificates in a test's
// temporary folder, removed when the test ends.
package pkitest

import (
	"testing"

	"github.com/andes-bank/andes/platform/pki"
)

// TrustDomain is the trust domain of test PKIs, the same as the manifest's so that
// policies from deploy/ apply unchanged.
const TrustDomain = "andes.local"

// PKI is a CA and the certificates issued so far.
type PKI struct {
	Dir pki.Dir
}

// New makes a fresh CA with a certificate for each name. Two calls make two CAs
// that do not trust each other.
func New(tb testing.TB, names ...string) *PKI {
	tb.Helper()
	p := &PKI{Dir: pki.Dir(tb.TempDir())}
	p.Issue(tb, names...)
	return p
}

// Issue adds certificates for more names under the same CA.
func (p *PKI) Issue(tb testing.TB, names ...string) {
	tb.Helper()
	if err := pki.EnsureIdentities(string(p.Dir), TrustDomain, names...); err != nil {
		tb.Fatal(err)
	}
}

// Credentials loads the named identity, issuing it first if needed.
func (p *PKI) Credentials(tb testing.TB, name string) *pki.Credentials {
	tb.Helper()
	p.Issue(tb, name)
	c, err := pki.Load(p.Dir.CertFile(name), p.Dir.KeyFile(name), p.Dir.CAFile(), TrustDomain)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
