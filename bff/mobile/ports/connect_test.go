package ports_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
	"google.golang.org/grpc/metadata"

	"github.com/andes-bank/andes/bff/mobile/app"
	"github.com/andes-bank/andes/bff/mobile/domain"
	"github.com/andes-bank/andes/bff/mobile/ports"
	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	mobilev1 "github.com/andes-bank/andes/gen/andes/mobile/v1"
	"github.com/andes-bank/andes/gen/andes/mobile/v1/mobilev1connect"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/tokens"
)

const (
	issuer   = "http://auth.test"
	audience = "https://api.andes.test"
	maria    = "5f0c7a10-0000-5000-8000-000000000001"
)

// issuerKey signs access tokens the way auth does (EdDSA, typ at+jwt), so the
// real verifier checks them.
type issuerKey struct {
	priv ed25519.PrivateKey
	kid  string
	keys tokens.StaticKeys
}

func newIssuerKey(t *testing.T) *issuerKey {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	jwk, err := tokens.NewJWK(pub)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := jwk.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return &issuerKey{priv: priv, kid: jwk.Kid, keys: tokens.StaticKeys{jwk.Kid: pk}}
}

func (k *issuerKey) token(t *testing.T, sub, clientID, scope string) string {
	t.Helper()
	now := time.Now()
	c := tokens.Claims{Issuer: issuer, Subject: sub, Audience: tokens.Audience{audience}, IssuedAt: tokens.At(now),
		ExpiresAt: tokens.At(now.Add(10 * time.Minute)), ID: "jti-" + now.Format(time.RFC3339Nano), ClientID: clientID, Scope: scope}
	header, _ := json.Marshal(map[string]string{"alg": "EdDSA", "typ": "at+jwt", "kid": k.kid})
	payload, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	return signing + "." + enc.EncodeToString(ed25519.Sign(k.priv, []byte(signing)))
}

// services stands in for the customer service and the controller, and records
// what reached them.
type services struct {
	forwarded  []string
	customerID string
	transfer   func(domain.TransferRequest) (domain.Transfer, error)
}

func (s *services) seen(ctx context.Context) {
	md, _ := metadata.FromOutgoingContext(ctx)
	s.forwarded = append(s.forwarded, md.Get("authorization")...)
}

func (s *services) Profile(ctx context.Context, id string) (domain.Profile, error) {
	s.seen(ctx)
	return domain.Profile{GivenNames: "María Elena"}, nil
}

func (s *services) View(ctx context.Context, id string) (domain.View, error) {
	s.customerID = id
	return domain.View{Accounts: []domain.Account{{ID: "a1", Kind: domain.AccountKindSavings, Number: "00110000123456784821",
		Available: domain.Money{AmountMinor: 1250000, Currency: "PEN"}, Active: true}}}, nil
}

func (s *services) Movements(ctx context.Context, _ string, _ int, _ string) ([]domain.Movement, string, error) {
	return nil, "", nil
}

func (s *services) Transfer(ctx context.Context, customerID string, r domain.TransferRequest) (domain.Transfer, error) {
	s.seen(ctx)
	s.customerID = customerID
	return s.transfer(r)
}

func (s *services) GetTransfer(ctx context.Context, id string) (domain.Transfer, error) {
	return domain.Transfer{}, domain.ErrNotFound
}

type fixture struct {
	key      *issuerKey
	svc      *services
	connect  mobilev1connect.MobileServiceClient
	grpc     mobilev1connect.MobileServiceClient
	customer string
}

func start(t *testing.T) *fixture {
	t.Helper()
	key := newIssuerKey(t)
	v, err := tokens.NewVerifier(tokens.Options{Issuer: issuer, Audience: audience, Keys: key.keys})
	if err != nil {
		t.Fatal(err)
	}
	svc := &services{transfer: func(domain.TransferRequest) (domain.Transfer, error) {
		return domain.Transfer{ID: "op-1", Status: domain.TransferCompleted}, nil
	}}
	api, err := ports.NewConnect(app.New(svc, svc, app.Options{PartTimeout: time.Minute}), nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(api.Handler(v))
	srv := httptest.NewServer(h2c.NewHandler(mux, &http2.Server{}))
	t.Cleanup(srv.Close)
	h2 := &http.Transport{Protocols: new(http.Protocols)}
	h2.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(h2.CloseIdleConnections)
	return &fixture{key: key, svc: svc,
		connect: mobilev1connect.NewMobileServiceClient(srv.Client(), srv.URL, connect.WithProtoJSON()),
		grpc:    mobilev1connect.NewMobileServiceClient(&http.Client{Transport: h2}, srv.URL, connect.WithGRPC()),
	}
}

func withToken[T any](msg *T, token string) *connect.Request[T] {
	req := connect.NewRequest(msg)
	if token != "" {
		req.Header().Set("Authorization", "Bearer "+token)
	}
	return req
}

// reason is the ErrorInfo reason and domain of a Connect error.
func reason(t *testing.T, err error) (connect.Code, string, string) {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("not a Connect error: %v", err)
	}
	r := rpcstatus.ReadConnect(err)
	return connect.Code(r.Code), r.Reason, r.Domain
}

func TestHomeOverConnectAndGRPCForwardsTheToken(t *testing.T) {
	f := start(t)
	tok := f.key.token(t, maria, "andes-mobile", "accounts:read transfers:write")
	for name, c := range map[string]mobilev1connect.MobileServiceClient{"connect+json": f.connect, "grpc over h2c": f.grpc} {
		f.svc.forwarded = nil
		resp, err := c.Home(context.Background(), withToken(&mobilev1.HomeRequest{}, tok))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		h := resp.Msg
		if h.GetGivenName() != "María" || len(h.GetAccounts()) != 1 || h.GetAccounts()[0].GetMaskedNumber() != "•••• 4821" ||
			h.GetAccounts()[0].GetAvailable().GetAmountMinor() != 1250000 || len(h.GetMissingSections()) != 0 {
			t.Errorf("%s: home %v", name, h)
		}
		if f.svc.customerID != maria || len(f.svc.forwarded) != 1 || f.svc.forwarded[0] != "Bearer "+tok {
			t.Errorf("%s: the services saw customer %q and tokens %q", name, f.svc.customerID, f.svc.forwarded)
		}
	}
}

func TestTokensRefused(t *testing.T) {
	f := start(t)
	other := newIssuerKey(t)
	tests := []struct {
		name, token string
		code        connect.Code
		reason      string
	}{
		{"no token", "", connect.CodeUnauthenticated, "INVALID_TOKEN"},
		{"not a JWT", "not-a-token", connect.CodeUnauthenticated, "INVALID_TOKEN"},
		{"signed by another key", other.token(t, maria, "andes-mobile", "accounts:read"), connect.CodeUnauthenticated, "INVALID_TOKEN"},
		{"a partner's own token", f.key.token(t, "partner-kallpa", "partner-kallpa", "accounts:read"), connect.CodeUnauthenticated, "INVALID_TOKEN"},
		{"without accounts:read", f.key.token(t, maria, "andes-mobile", "transfers:write"), connect.CodePermissionDenied, "INSUFFICIENT_SCOPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.connect.Home(context.Background(), withToken(&mobilev1.HomeRequest{}, tt.token))
			code, r, domain := reason(t, err)
			if code != tt.code || r != tt.reason || domain != "bff-mobile.andes.bank" {
				t.Fatalf("got %v %s %s, want %v %s", code, r, domain, tt.code, tt.reason)
			}
		})
	}
	if len(f.svc.forwarded) != 0 {
		t.Errorf("a refused call reached the services: %q", f.svc.forwarded)
	}
}

func transferRequest() *mobilev1.TransferRequest {
	return &mobilev1.TransferRequest{IdempotencyKey: "k-1", SourceAccountId: "0b3e1a52-3c4d-5e6f-8a9b-0c1d2e3f4a5b",
		Destination: &mobilev1.TransferRequest_DestinationAccountNumber{DestinationAccountNumber: "00110000123456784821"},
		Amount:      &moneyv1.Money{AmountMinor: 1000, Currency: "PEN"}}
}

func TestTransferRefusalsKeepTheirReason(t *testing.T) {
	f := start(t)
	tok := f.key.token(t, maria, "andes-mobile", "accounts:read transfers:write")
	challenge := &domain.StepUpChallenge{ID: "ch-1", Purpose: "NEW_BENEFICIARY", Channel: "SMS",
		MaskedDestination: "+51 9** *** 321", ExpiresAt: time.Now().Add(5 * time.Minute), AttemptsLeft: 3}
	tests := []struct {
		name   string
		err    error
		code   connect.Code
		reason string
	}{
		{"insufficient funds", &domain.Refusal{Reason: "INSUFFICIENT_FUNDS"}, connect.CodeFailedPrecondition, "INSUFFICIENT_FUNDS"},
		{"daily limit", &domain.Refusal{Reason: "DAILY_LIMIT_EXCEEDED", Metadata: map[string]string{"limit_minor": "500000"}},
			connect.CodeFailedPrecondition, "DAILY_LIMIT_EXCEEDED"},
		{"step-up", &domain.Refusal{Reason: "STEP_UP_REQUIRED", Challenge: challenge}, connect.CodePermissionDenied, "STEP_UP_REQUIRED"},
		{"not found", domain.ErrNotFound, connect.CodeNotFound, "NOT_FOUND"},
		{"unavailable", domain.ErrUnavailable, connect.CodeUnavailable, "DEPENDENCY_UNAVAILABLE"},
		{"a reason this API does not answer", &domain.Refusal{Reason: "AGENT_NOT_ENABLED"}, connect.CodeInternal, "INTERNAL"},
		{"not built yet", domain.ErrNotImplemented, connect.CodeUnimplemented, "NOT_IMPLEMENTED"},
		{"a failure", errors.New("controller answered Internal: pq: deadlock"), connect.CodeInternal, "INTERNAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.svc.transfer = func(domain.TransferRequest) (domain.Transfer, error) { return domain.Transfer{}, tt.err }
			_, err := f.grpc.Transfer(context.Background(), withToken(transferRequest(), tok))
			code, r, _ := reason(t, err)
			if code != tt.code || r != tt.reason {
				t.Fatalf("got %v %q, want %v %q (%v)", code, r, tt.code, tt.reason, err)
			}
			var ce *connect.Error
			errors.As(err, &ce)
			if ce.Message() == "" || len(ce.Message()) > 100 {
				t.Errorf("message %q", ce.Message())
			}
			if tt.reason != "STEP_UP_REQUIRED" {
				return
			}
			for _, d := range ce.Details() {
				if m, _ := d.Value(); m != nil {
					if ch, ok := m.(*authv1.StepUpChallenge); ok {
						if ch.GetChallengeId() != "ch-1" || ch.GetPurpose() != authv1.StepUpPurpose_STEP_UP_PURPOSE_NEW_BENEFICIARY ||
							ch.GetChannel() != authv1.StepUpChannel_STEP_UP_CHANNEL_SMS || ch.GetAttemptsLeft() != 3 {
							t.Errorf("challenge %v", ch)
						}
						return
					}
				}
			}
			t.Errorf("no StepUpChallenge detail in %v", ce.Details())
		})
	}
}

func TestTransferValidationAndScope(t *testing.T) {
	f := start(t)
	tok := f.key.token(t, maria, "andes-mobile", "accounts:read transfers:write")
	bad := transferRequest()
	bad.IdempotencyKey = ""
	_, err := f.connect.Transfer(context.Background(), withToken(bad, tok))
	if code, r, _ := reason(t, err); code != connect.CodeInvalidArgument || r != "VALIDATION_FAILED" {
		t.Fatalf("no key: %v %s", code, r)
	}
	var fields []string
	for _, v := range rpcstatus.ReadConnect(err).Violations {
		fields = append(fields, v.GetField())
	}
	if len(fields) == 0 || slices.ContainsFunc(fields, func(f string) bool { return f != "idempotency_key" }) {
		t.Errorf("violations on %v", fields)
	}

	readOnly := f.key.token(t, maria, "andes-mobile", "accounts:read")
	_, err = f.connect.Transfer(context.Background(), withToken(transferRequest(), readOnly))
	if code, r, _ := reason(t, err); code != connect.CodePermissionDenied || r != "INSUFFICIENT_SCOPE" {
		t.Fatalf("read-only token: %v %s", code, r)
	}

	resp, err := f.connect.Transfer(context.Background(), withToken(transferRequest(), tok))
	if err != nil || resp.Msg.GetTransfer().GetStatus() != mobilev1.TransferStatus_TRANSFER_STATUS_COMPLETED || f.svc.customerID != maria {
		t.Fatalf("transfer %v %v (customer %q)", resp, err, f.svc.customerID)
	}
}
