// Package pki is the development public-key infrastructure of the mesh: a CA and
// one certificate per identity of the manifest, each naming its holder with the URI
// SAN spiffe://<trust domain>/<name>; and the TLS configurations that make every
// internal hop mutual TLS checked against those names (DESIGN.md section 7).
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/andes-bank/andes/platform/manifest"
)

// Lifetimes of the dev PKI. Leaves are renewed by Ensure when they come within
// renewBefore of expiry, so a long-lived checkout never starts with stale ones.
const (
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 365 * 24 * time.Hour
	renewBefore  = 30 * 24 * time.Hour
	// Certificates are back-dated so a peer whose clock is slightly behind
	// accepts them.
	backdate = time.Hour
)

// Dir is a directory holding the dev PKI: ca.crt, ca.key and <name>.crt/<name>.key.
type Dir string

// CAFile is the CA certificate every process trusts.
func (d Dir) CAFile() string { return filepath.Join(string(d), "ca.crt") }

func (d Dir) caKeyFile() string { return filepath.Join(string(d), "ca.key") }

// CertFile is the certificate of the named identity.
func (d Dir) CertFile(name string) string { return filepath.Join(string(d), name+".crt") }

// KeyFile is the private key of the named identity.
func (d Dir) KeyFile(name string) string { return filepath.Join(string(d), name+".key") }

// SPIFFEID is the URI SAN that names an identity.
func SPIFFEID(trustDomain, name string) string { return "spiffe://" + trustDomain + "/" + name }

// Ensure makes dir hold a CA and a valid certificate for every identity of the
// manifest (each process and the operator). It keeps what is already there and
// valid, so processes that are running keep trusting each other; it replaces what
// is missing, unreadable or near expiry, and reissues everything if the CA changes.
func Ensure(dir string, m *manifest.Manifest) error {
	return EnsureIdentities(dir, m.TrustDomain, m.IdentityNames()...)
}

// EnsureIdentities is Ensure for an explicit list of names.
func EnsureIdentities(dir, trustDomain string, names ...string) (err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	// make up and a test run may both ensure the same folder; two fresh CAs
	// written at once would leave leaves signed by a CA that lost the race.
	unlock, err := lock(filepath.Join(dir, ".lock"))
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer unlock()

	d := Dir(dir)
	now := time.Now()
	ca, caKey, err := loadCA(d, now)
	reissue := false
	if err != nil {
		if ca, caKey, err = newCA(trustDomain, now); err != nil {
			return err
		}
		if err := writePair(d.CAFile(), d.caKeyFile(), ca.Raw, caKey); err != nil {
			return err
		}
		reissue = true
	}
	for _, name := range names {
		if !reissue && leafValid(d, name, trustDomain, ca, now) {
			continue
		}
		der, key, err := issue(ca, caKey, trustDomain, name, now)
		if err != nil {
			return err
		}
		if err := writePair(d.CertFile(name), d.KeyFile(name), der, key); err != nil {
			return err
		}
	}
	return nil
}

func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func loadCA(d Dir, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cert, key, err := readPair(d.CAFile(), d.caKeyFile())
	if err != nil {
		return nil, nil, err
	}
	if !cert.IsCA || now.Add(renewBefore).After(cert.NotAfter) {
		return nil, nil, errors.New("pki: CA expired or not a CA")
	}
	return cert, key, nil
}

func leafValid(d Dir, name, trustDomain string, ca *x509.Certificate, now time.Time) bool {
	cert, _, err := readPair(d.CertFile(name), d.KeyFile(name))
	if err != nil || now.Add(renewBefore).After(cert.NotAfter) {
		return false
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}); err != nil {
		return false
	}
	// Both usages must be present: an identity is a client of its peers and a
	// server to its callers.
	if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return false
	}
	return len(cert.URIs) == 1 && cert.URIs[0].String() == SPIFFEID(trustDomain, name)
}

// readPair reads a certificate and its key and checks they belong together.
func readPair(certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("pki: not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, errors.New("pki: key does not match certificate")
	}
	return cert, key, nil
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

func newCA(trustDomain string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %w", err)
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{Organization: []string{"Andes"}, CommonName: "Andes dev CA " + trustDomain},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %w", err)
	}
	return cert, key, nil
}

func issue(ca *x509.Certificate, caKey crypto.Signer, trustDomain, name string, now time.Time) ([]byte, *ecdsa.PrivateKey, error) {
	id, err := url.Parse(SPIFFEID(trustDomain, name))
	if err != nil {
		return nil, nil, fmt.Errorf("pki: identity %q: %w", name, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %w", err)
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{Organization: []string{"Andes"}, CommonName: name},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(leafLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{id},
		// Host names let plain TLS clients (curl, a browser, docker-compose
		// neighbours) reach edges served with this certificate; the mesh itself
		// checks the SPIFFE id.
		DNSNames:    []string{"localhost", name},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %s: %w", name, err)
	}
	return der, key, nil
}

// writePair writes a certificate and its key, each by rename so that a process
// starting meanwhile never reads half a file.
func writePair(certFile, keyFile string, der []byte, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return writeFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}
