package pki_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"slices"
	"testing"

	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/pki"
)

func loadManifest(t *testing.T) *manifest.Manifest {
	t.Helper()
	wd, _ := os.Getwd()
	path, err := manifest.Find(wd)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(raw)
	if b == nil {
		t.Fatalf("%s: not PEM", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every process of the manifest and the operator get a certificate that chains to
// the CA and names them as SPIFFE ids, usable as client and as server.
func TestEnsureIssuesEveryManifestIdentity(t *testing.T) {
	m := loadManifest(t)
	dir := pki.Dir(t.TempDir())
	if err := pki.Ensure(string(dir), m); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, dir.CAFile()))
	names := m.IdentityNames()
	if !slices.Contains(names, "operator") || !slices.Contains(names, "facade") {
		t.Fatalf("identities %v lack operator or facade", names)
	}
	for _, name := range names {
		c := readCert(t, dir.CertFile(name))
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("%s as client: %v", name, err)
		}
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost"}); err != nil {
			t.Errorf("%s as server for localhost: %v", name, err)
		}
		if len(c.URIs) != 1 || c.URIs[0].String() != "spiffe://andes.local/"+name {
			t.Errorf("%s: URI SANs %v", name, c.URIs)
		}
		if !slices.ContainsFunc(c.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) }) {
			t.Errorf("%s: no IP SAN 127.0.0.1", name)
		}
		if _, err := pki.Load(dir.CertFile(name), dir.KeyFile(name), dir.CAFile(), m.TrustDomain); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		st, err := os.Stat(dir.KeyFile(name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: key file mode %v %v", name, st.Mode(), err)
		}
	}
}

// A second run keeps what is valid, so running processes keep trusting each other,
// and replaces only what is missing or broken.
func TestEnsureIsIdempotent(t *testing.T) {
	dir := pki.Dir(t.TempDir())
	names := []string{"facade", "controller", "operator"}
	if err := pki.EnsureIdentities(string(dir), "andes.local", names...); err != nil {
		t.Fatal(err)
	}
	snapshot := func() map[string][]byte {
		out := map[string][]byte{}
		for _, f := range []string{dir.CAFile(), dir.CertFile("facade"), dir.KeyFile("facade"), dir.CertFile("controller")} {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out[f] = b
		}
		return out
	}
	before := snapshot()
	if err := os.Remove(dir.CertFile("controller")); err != nil {
		t.Fatal(err)
	}
	if err := pki.EnsureIdentities(string(dir), "andes.local", names...); err != nil {
		t.Fatal(err)
	}
	after := snapshot()
	for _, f := range []string{dir.CAFile(), dir.CertFile("facade"), dir.KeyFile("facade")} {
		if !bytes.Equal(before[f], after[f]) {
			t.Errorf("%s was rewritten", f)
		}
	}
	if bytes.Equal(before[dir.CertFile("controller")], after[dir.CertFile("controller")]) {
		t.Error("the removed certificate was not reissued")
	}

	// A broken CA replaces the whole PKI: leaves of the old CA would not verify.
	if err := os.WriteFile(dir.CAFile(), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pki.EnsureIdentities(string(dir), "andes.local", names...); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, dir.CAFile()))
	if _, err := readCert(t, dir.CertFile("facade")).Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("after a new CA, facade's certificate does not chain to it: %v", err)
	}
}

func TestLoadRefusesAnotherTrustDomain(t *testing.T) {
	dir := pki.Dir(t.TempDir())
	if err := pki.EnsureIdentities(string(dir), "elsewhere.test", "facade"); err != nil {
		t.Fatal(err)
	}
	if _, err := pki.Load(dir.CertFile("facade"), dir.KeyFile("facade"), dir.CAFile(), "andes.local"); err == nil {
		t.Error("loaded a certificate of another trust domain")
	}
}
