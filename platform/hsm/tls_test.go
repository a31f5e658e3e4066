package hsm

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"
)

// The edge speaks TLS outside development: the same protocol over a TLS
// listener, with the client verifying the server.
func TestClientOverTLS(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hsm"},
		DNSNames:              []string{"hsm.andes.local"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsLn := tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS13,
	})
	srv := NewServer(scriptBackend{}, ServerOptions{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tlsLn) }()
	defer func() {
		srv.Shutdown(context.Background())
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()

	ctx := testContext(t)
	c, err := Dial(ctx, ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "hsm.andes.local", MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, err := c.VerifyPIN(ctx, VerifyPINRequest{PAN: "4111111111111111", PVKI: 1, PVV: "1234"}); !ok || err != nil {
		t.Fatalf("over TLS: %v, %v", ok, err)
	}

	// A client that does not trust the server's certificate gets no connection.
	if _, err := Dial(ctx, ln.Addr().String(), &tls.Config{ServerName: "hsm.andes.local"}); err == nil {
		t.Fatal("dialled a server with an untrusted certificate")
	}
}
