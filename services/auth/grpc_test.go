package auth_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	identityv1 "github.com/andes-bank/andes/gen/andes/identity/v1"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/services/auth/domain"
)

type authClient struct {
	api authv1.AuthServiceClient
}

// authClient dials auth's internal listener with mTLS as the named service.
func (h *harness) authClient(t *testing.T, as string) authClient {
	t.Helper()
	conn, err := grpcclient.New(h.grpc, grpcclient.Options{Credentials: h.pki.Credentials(t, as), Peer: "auth"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return authClient{api: authv1.NewAuthServiceClient(conn)}
}

func (c authClient) listDevices(t *testing.T, customerID string) []*authv1.Device {
	t.Helper()
	resp, err := c.api.ListDevices(context.Background(), &authv1.ListDevicesRequest{CustomerId: customerID})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetDevices()
}

func reason(err error) (codes.Code, string, map[string]string) {
	r := rpcstatus.Read(err)
	return r.Code, r.Reason, r.Metadata
}

func TestCreateCredentialsIsIdempotent(t *testing.T) {
	h := start(t)
	c := h.authClient(t, "onboarding")
	ctx := context.Background()
	req := &authv1.CreateCredentialsRequest{IdempotencyKey: "onb-1", CustomerId: "5f0e8d1c-2b3a-4c5d-8e9f-0a1b2c3d4e5f",
		Document: &identityv1.IdentityDocument{Type: identityv1.DocumentType_DOCUMENT_TYPE_DNI, Number: "12345678"}, Password: "una clave larga"}
	first, err := c.api.CreateCredentials(ctx, req)
	if err != nil || first.GetUser().GetStatus() != authv1.UserStatus_USER_STATUS_ACTIVE {
		t.Fatalf("create: %v %v", first, err)
	}
	again, err := c.api.CreateCredentials(ctx, req)
	if err != nil || !again.GetUser().GetCreatedAt().AsTime().Equal(first.GetUser().GetCreatedAt().AsTime()) {
		t.Fatalf("replay: %v %v", again, err)
	}
	other := proto.Clone(req).(*authv1.CreateCredentialsRequest)
	other.Password = "otra clave larga"
	if _, err := c.api.CreateCredentials(ctx, other); err == nil {
		t.Fatal("same key, another request accepted")
	} else if code, r, _ := reason(err); code != codes.FailedPrecondition || r != "IDEMPOTENCY_MISMATCH" {
		t.Fatalf("same key, another request: %v %s", code, r)
	}
	dup := proto.Clone(req).(*authv1.CreateCredentialsRequest)
	dup.IdempotencyKey = "onb-2"
	if _, err := c.api.CreateCredentials(ctx, dup); err == nil {
		t.Fatal("second credentials for one customer")
	} else if code, r, _ := reason(err); code != codes.AlreadyExists || r != "ALREADY_EXISTS" {
		t.Fatalf("another key, same customer: %v %s", code, r)
	}
	weak := proto.Clone(req).(*authv1.CreateCredentialsRequest)
	weak.IdempotencyKey, weak.Password = "onb-3", "short"
	if _, err := c.api.CreateCredentials(ctx, weak); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("weak password: %v", err)
	}
	// The new customer logs in through the login page.
	b := h.browser()
	lp := h.openLogin(b, authorizeURL(h.base, h.web(), domain.S256Challenge(newVerifier()), "s", nil))
	if resp, _ := h.submitLogin(b, lp, "12345678", "una clave larga"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the new credentials: %d", resp.StatusCode)
	}
	// Only the services of the policy may call.
	if _, err := h.authClient(t, "facade").api.GetUser(ctx, &authv1.GetUserRequest{CustomerId: req.CustomerId}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("facade calling auth: %v", err)
	}
}

func TestDisableUserRevokesTokensAndBlocksLogin(t *testing.T) {
	h := start(t)
	c := h.authClient(t, "bff-web")
	ctx := context.Background()
	maria := h.ds.Customer("maria")
	tr := h.codeFlow(h.web(), "maria")
	resp, err := c.api.DisableUser(ctx, &authv1.DisableUserRequest{CustomerId: maria.ID, Reason: "fraud suspicion"})
	if err != nil || resp.GetUser().GetStatus() != authv1.UserStatus_USER_STATUS_DISABLED {
		t.Fatalf("disable: %v %v", resp, err)
	}
	if h.active(tr.AccessToken) {
		t.Fatal("a disabled user's token is active")
	}
	if r := h.refresh(h.web(), tr.RefreshToken); r.Error != "invalid_grant" {
		t.Fatalf("a disabled user's refresh: %+v", r)
	}
	b := h.browser()
	lp := h.openLogin(b, authorizeURL(h.base, h.web(), domain.S256Challenge(newVerifier()), "s", nil))
	if resp, body := h.submitLogin(b, lp, maria.DocumentNumber, maria.Password); resp.StatusCode != http.StatusForbidden || body == "" {
		t.Fatalf("disabled login: %d", resp.StatusCode)
	}
	if _, err := c.api.EnableUser(ctx, &authv1.EnableUserRequest{CustomerId: maria.ID, Reason: "cleared"}); err != nil {
		t.Fatal(err)
	}
	h.codeFlow(h.web(), "maria")
	if h.active(tr.AccessToken) {
		t.Fatal("enabling brought an old token back")
	}
	if _, err := c.api.GetUser(ctx, &authv1.GetUserRequest{CustomerId: "00000000-0000-4000-8000-000000000000"}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown user: %v", err)
	}
	before, err := c.api.RevokeUserTokens(ctx, &authv1.RevokeUserTokensRequest{CustomerId: maria.ID, Reason: "log out everywhere"})
	if err != nil || before.GetRevokedBefore().AsTime().After(time.Now().Add(time.Second)) {
		t.Fatalf("revoke tokens: %v %v", before, err)
	}
}

func TestGetUserShowsLockout(t *testing.T) {
	h := start(t)
	maria := h.ds.Customer("maria")
	b := h.browser()
	for range 5 {
		lp := h.openLogin(b, authorizeURL(h.base, h.web(), domain.S256Challenge(newVerifier()), "s", nil))
		h.submitLogin(b, lp, maria.DocumentNumber, "wrong-password")
	}
	resp, err := h.authClient(t, "bff-web").api.GetUser(context.Background(), &authv1.GetUserRequest{CustomerId: maria.ID})
	if err != nil || resp.GetUser().GetStatus() != authv1.UserStatus_USER_STATUS_LOCKED || resp.GetUser().GetLockedUntil() == nil {
		t.Fatalf("user %v %v", resp, err)
	}
}

func TestStepUpCodes(t *testing.T) {
	h := start(t, withSMS)
	c := h.authClient(t, "controller")
	ctx := context.Background()
	jose := h.ds.Customer("jose")
	binding := "controller:op-1234567890abcdef"
	send := &authv1.SendStepUpCodeRequest{CustomerId: jose.ID, Purpose: authv1.StepUpPurpose_STEP_UP_PURPOSE_NEW_BENEFICIARY, Binding: binding}
	first, err := c.api.SendStepUpCode(ctx, send)
	if err != nil || first.GetChallenge().GetMaskedDestination() != "+51 9** *** 678" || first.GetChallenge().GetAttemptsLeft() != 3 {
		t.Fatalf("send: %v %v", first, err)
	}
	// Asked again before the resend time: the same challenge, no second SMS.
	again, err := c.api.SendStepUpCode(ctx, send)
	if err != nil || again.GetChallenge().GetChallengeId() != first.GetChallenge().GetChallengeId() || len(h.sms.messages(t, jose.Phone)) != 1 {
		t.Fatalf("resend: %v %v", again, err)
	}
	code := h.sms.lastCode(t, jose.Phone)
	id := first.GetChallenge().GetChallengeId()
	verify := func(b, code string) (*authv1.VerifyStepUpCodeResponse, error) {
		return c.api.VerifyStepUpCode(ctx, &authv1.VerifyStepUpCodeRequest{CustomerId: jose.ID, Binding: b, Proof: &authv1.StepUpProof{ChallengeId: id, Code: code}})
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if _, err := verify(binding, wrong); err == nil {
		t.Fatal("wrong code accepted")
	} else if cd, r, md := reason(err); cd != codes.PermissionDenied || r != "STEP_UP_CODE_INVALID" || md["attempts_left"] != "2" {
		t.Fatalf("wrong code: %v %s %v", cd, r, md)
	}
	if _, err := verify("controller:op-other-000000000", code); err == nil {
		t.Fatal("the code approved another request")
	} else if _, r, _ := reason(err); r != "STEP_UP_EXPIRED" {
		t.Fatalf("another binding: %s", r)
	}
	ok, err := verify(binding, code)
	if err != nil || ok.GetPurpose() != authv1.StepUpPurpose_STEP_UP_PURPOSE_NEW_BENEFICIARY {
		t.Fatalf("right code: %v %v", ok, err)
	}
	if again, err := verify(binding, code); err != nil || !again.GetVerifiedAt().AsTime().Equal(ok.GetVerifiedAt().AsTime()) {
		t.Fatalf("retry of the right code: %v %v", again, err)
	}

	// Codes used up by wrong guesses.
	send.Binding = "controller:op-second-00000000"
	second, _ := c.api.SendStepUpCode(ctx, send)
	id = second.GetChallenge().GetChallengeId()
	right := h.sms.lastCode(t, jose.Phone)
	guesses := []string{"000001", "000002", "000003"}
	for i, g := range guesses {
		if g == right {
			g = "999999"
		}
		_, err := verify(send.Binding, g)
		_, r, _ := reason(err)
		if want := map[bool]string{true: "STEP_UP_EXPIRED", false: "STEP_UP_CODE_INVALID"}[i == 2]; r != want {
			t.Fatalf("guess %d: %s, want %s", i+1, r, want)
		}
	}
	if _, err := verify(send.Binding, right); err == nil {
		t.Fatal("the right code after the attempts were used up")
	}
}

func TestStepUpWithSMSGatewayDown(t *testing.T) {
	h := start(t, withSMS)
	c := h.authClient(t, "controller")
	h.sms.faults(t, `{"down":true}`)
	ana := h.ds.Customer("ana")
	send := &authv1.SendStepUpCodeRequest{CustomerId: ana.ID, Purpose: authv1.StepUpPurpose_STEP_UP_PURPOSE_CASH_OUT, Binding: "controller:op-down-000000000"}
	if _, err := c.api.SendStepUpCode(context.Background(), send); err == nil {
		t.Fatal("a code was 'sent' through a down gateway")
	} else if cd, r, _ := reason(err); cd != codes.Unavailable || r != "DEPENDENCY_UNAVAILABLE" {
		t.Fatalf("gateway down: %v %s", cd, r)
	}
	h.sms.faults(t, `{"down":false}`)
	// Nothing was left pending: the retry sends at once.
	if _, err := c.api.SendStepUpCode(context.Background(), send); err != nil || len(h.sms.messages(t, ana.Phone)) != 1 {
		t.Fatalf("after recovery: %v", err)
	}
}
