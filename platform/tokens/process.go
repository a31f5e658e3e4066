package tokens

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
)

// Issuer is auth's issuer URL as processes are configured with it: override
// (ANDES_AUTH_ISSUER) when set, else http://<edgeAddr> (ANDES_AUTH_EDGE_ADDR,
// where auth publishes its JWKS), else "" when neither is set.
func Issuer(override, edgeAddr string) string {
	switch {
	case override != "":
		return override
	case edgeAddr != "":
		return "http://" + edgeAddr
	}
	return ""
}

// PlatformAudience is the platform's one audience, read from the auth contract
// (the claim value of andes.auth.v1.AUDIENCE_PLATFORM), so that it cannot drift
// from what auth issues.
func PlatformAudience() string { return ClaimValue(authv1.Audience_AUDIENCE_PLATFORM) }

// Process is what ForProcess needs of the process it wires (a *server.Process):
// a place to run the revocation feed from start to shutdown.
type Process interface {
	Go(name string, run func(ctx context.Context) error)
}

// ProcessOptions configure ForProcess.
type ProcessOptions struct {
	// Issuer is auth's issuer URL (see Issuer); the JWKS is read from
	// <Issuer>/.well-known/jwks.json.
	Issuer string
	// Revocations is the JetStream where auth announces revoked tokens: the
	// verifier's set follows DefaultFeed in a task of the process, and until it
	// has caught up Verify answers ErrUnavailable. Nil checks no revocations (for
	// a process that only reads tokens it got from auth's token endpoint itself).
	Revocations jetstream.JetStream
	// Feed is where on Revocations; DefaultFeed when zero (tests give their own).
	Feed Feed
	// Logger hears of revocation feed problems; nil discards them.
	Logger *slog.Logger
}

// ForProcess is the verifier of end-user tokens of a process: auth's JWKS, the
// platform audience and, with o.Revocations, the revocation feed followed by a
// task of p. Errors name ANDES_AUTH_ISSUER.
func ForProcess(p Process, o ProcessOptions) (*Verifier, error) {
	if o.Issuer == "" {
		return nil, fmt.Errorf("ANDES_AUTH_ISSUER: no issuer (set it or ANDES_AUTH_EDGE_ADDR)")
	}
	opts := Options{Issuer: o.Issuer, Audience: PlatformAudience(),
		Keys: NewJWKS(o.Issuer+"/.well-known/jwks.json", JWKSOptions{})}
	if o.Revocations != nil {
		log := o.Logger
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		rs := NewRevocationSet(time.Now)
		opts.Revocations = rs
		js, feed := o.Revocations, o.Feed
		if feed == (Feed{}) {
			feed = DefaultFeed
		}
		p.Go("token revocations", func(ctx context.Context) error {
			return rs.Follow(ctx, js, feed, func(err error) {
				log.Warn("token revocation feed", "err", err)
			})
		})
	}
	v, err := NewVerifier(opts)
	if err != nil {
		return nil, fmt.Errorf("ANDES_AUTH_ISSUER: %w", err)
	}
	return v, nil
}

// ServerInterceptors are UnaryServerInterceptor and StreamServerInterceptor with
// the same options, in the order server.Server.Use takes them.
func (v *Verifier) ServerInterceptors(o RPCOptions) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	return v.UnaryServerInterceptor(o), v.StreamServerInterceptor(o)
}
