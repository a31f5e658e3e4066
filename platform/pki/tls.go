package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Credentials are a process's own certificate and the CA it trusts for its peers.
type Credentials struct {
	certificate tls.Certificate
	roots       *x509.CertPool
	trustDomain string
	name        string
}

// Load reads a certificate, its key and the CA, and checks that the certificate
// names an identity of trustDomain.
func Load(certFile, keyFile, caFile, trustDomain string) (*Credentials, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("pki: %s holds no PEM certificate", caFile)
	}
	name, err := Name(cert.Leaf, trustDomain)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", certFile, err)
	}
	return &Credentials{certificate: cert, roots: roots, trustDomain: trustDomain, name: name}, nil
}

// Name is the identity this process holds (its manifest name).
func (c *Credentials) Name() string { return c.name }

// TrustDomain is the SPIFFE trust domain the credentials belong to.
func (c *Credentials) TrustDomain() string { return c.trustDomain }

// Name returns the identity a certificate names: the path of its only URI SAN,
// which must be spiffe://<trustDomain>/<name>.
func Name(cert *x509.Certificate, trustDomain string) (string, error) {
	if cert == nil {
		return "", errors.New("no certificate")
	}
	if len(cert.URIs) != 1 {
		return "", fmt.Errorf("certificate has %d URI SANs, want one SPIFFE id", len(cert.URIs))
	}
	return NameFromID(cert.URIs[0], trustDomain)
}

// NameFromID returns the name in spiffe://<trustDomain>/<name>.
func NameFromID(id *url.URL, trustDomain string) (string, error) {
	name := strings.TrimPrefix(id.Path, "/")
	if id.Scheme != "spiffe" || id.Host != trustDomain || name == "" || strings.Contains(name, "/") || id.RawQuery != "" || id.Fragment != "" {
		return "", fmt.Errorf("%q is not an identity of spiffe://%s", id, trustDomain)
	}
	return name, nil
}

// ServerConfig is the TLS configuration of an internal listener: a client
// certificate from the CA is required, and it must name an identity of the trust
// domain (which identity may call what is the authorization policy's business).
func (c *Credentials) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{c.certificate},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    c.roots,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("pki: client sent no certificate")
			}
			_, err := Name(cs.PeerCertificates[0], c.trustDomain)
			return err
		},
	}
}

// ClientConfig is the TLS configuration for calling the named peer. The server's
// certificate must chain to the CA and name exactly that peer: host names are not
// checked, because addresses change (127.0.0.1 in tests, a service name in
// containers) while identities do not — as SPIFFE prescribes.
func (c *Credentials) ClientConfig(peer string) *tls.Config {
	want := SPIFFEID(c.trustDomain, peer)
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{c.certificate},
		// Verification is not skipped: VerifyConnection below does it, with
		// the identity check in place of the host name check.
		InsecureSkipVerify: true, //nolint:gosec // see VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyPeer(cs, c.roots, want)
		},
	}
}

func verifyPeer(cs tls.ConnectionState, roots *x509.CertPool, want string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("pki: server sent no certificate")
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err != nil {
		return fmt.Errorf("pki: server certificate: %w", err)
	}
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != want {
		got := make([]string, len(leaf.URIs))
		for i, u := range leaf.URIs {
			got[i] = u.String()
		}
		return fmt.Errorf("pki: server is %v, want %s", got, want)
	}
	return nil
}
