package server

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// ErrNoCaller means the call did not come over mutual TLS with a SPIFFE identity;
// on the internal listener that cannot happen, so it points at a test or a wiring
// mistake.
var ErrNoCaller = errors.New("server: caller has no SPIFFE identity")

// CallerID returns the SPIFFE id of the caller, spiffe://andes.local/<name>, from
// the certificate it presented. The handshake has already checked that it chains
// to the CA and belongs to the trust domain.
func CallerID(ctx context.Context) (string, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return "", ErrNoCaller
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 || len(info.State.PeerCertificates[0].URIs) != 1 {
		return "", ErrNoCaller
	}
	return info.State.PeerCertificates[0].URIs[0].String(), nil
}

// CallerName returns the caller's manifest name ("controller", "operator"): what a
// service namespaces idempotency keys and audit records by.
func CallerName(ctx context.Context) (string, error) {
	id, err := CallerID(ctx)
	if err != nil {
		return "", err
	}
	name := id[strings.LastIndexByte(id, '/')+1:]
	if !strings.HasPrefix(id, "spiffe://") || name == "" {
		return "", ErrNoCaller
	}
	return name, nil
}
