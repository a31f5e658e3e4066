package corebank

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/facade/domain"
)

func body(code api.Code, details map[string]string) []byte {
	b, _ := json.Marshal(api.ErrorBody{Error: api.Error{Code: code, Message: "the core's own words", Trace: "t", Details: details}})
	return b
}

func TestTranslateEveryCodeTheFacadeMeets(t *testing.T) {
	cases := []struct {
		status int
		code   api.Code
		want   error // nil: not a domain error (the facade's bug, answered Internal)
	}{
		{400, api.CodeMalformed, domain.ErrInvalid},
		{400, api.CodeInvalid, domain.ErrInvalid},
		{400, api.CodeMissingKey, nil},
		{403, api.CodeForbidden, domain.ErrUnavailable},
		{404, api.CodeCustomerNotFound, domain.ErrNotFound},
		{404, api.CodeAccountNotFound, domain.ErrNotFound},
		{404, api.CodeTransactionNotFound, domain.ErrNotFound},
		{404, api.CodeOperationNotFound, domain.ErrNotFound},
		{404, api.CodeRouteNotFound, nil},
		{405, api.CodeMethodNotAllowed, nil},
		{409, api.CodeInProgress, domain.ErrInProgress},
		{409, api.CodeCustomerExists, domain.ErrAlreadyExists},
		{409, api.CodeAlreadyPosted, domain.ErrUnknownOutcome},
		{413, api.CodeTooLarge, nil},
		{422, api.CodeKeyMismatch, domain.ErrIdempotencyMismatch},
		{422, api.CodeInsufficientFunds, domain.ErrInsufficientFunds},
		{422, api.CodeAccountBlocked, domain.ErrAccountBlocked},
		{422, api.CodeCurrencyMismatch, domain.ErrCurrencyMismatch},
		{422, api.CodeSameAccount, domain.ErrSameAccount},
		{422, api.CodeAccountNotAllowed, domain.ErrAccountNotAllowed},
		{422, api.CodeHoldNotPending, nil},
		{500, api.CodeInternal, domain.ErrUnavailable},
		{503, api.CodeUnavailable, domain.ErrUnavailable},
		{502, "CB-9999", domain.ErrUnavailable},
	}
	for _, c := range cases {
		t.Run(string(c.code), func(t *testing.T) {
			err := translate(c.status, http.Header{}, body(c.code, map[string]string{"account": "19100100000323"}))
			if err == nil {
				t.Fatal("no error")
			}
			if c.want == nil {
				if _, ok := domain.Details(err); ok || domain.IsRefusal(err) {
					t.Fatalf("%v: want a plain error", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("%v, want %v", err, c.want)
			}
			// The core's wording never travels: the facade says it its own way.
			if d, _ := domain.Details(err); d == nil || d.Message == "the core's own words" {
				t.Fatalf("message passed through: %v", err)
			}
		})
	}
}

func TestTranslateKeepsWhatExplainsARefusal(t *testing.T) {
	err := translate(422, http.Header{}, body(api.CodeAccountBlocked, map[string]string{"account": "19100100000808", "side": "credit"}))
	if d, ok := domain.Details(err); !ok || d.Account != "19100100000808" {
		t.Fatalf("%+v", err)
	}
	err = translate(400, http.Header{}, body(api.CodeInvalid, map[string]string{"field": "amount_minor"}))
	if d, ok := domain.Details(err); !ok || d.Field != "amount_minor" {
		t.Fatalf("%+v", err)
	}
	h := http.Header{}
	h.Set(api.HeaderRetryAfter, "3")
	err = translate(409, h, body(api.CodeInProgress, nil))
	if d, ok := domain.Details(err); !ok || d.RetryAfter != 3*time.Second {
		t.Fatalf("%+v", err)
	}
	// A body that is not the core's (a proxy's page) still classifies.
	if err := translate(502, http.Header{}, []byte("<html>bad gateway</html>")); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("502 without the core's body: %v", err)
	}
	if err := translate(418, http.Header{}, []byte("teapot")); domain.IsRefusal(err) || errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("418: %v", err)
	}
}

func TestStoredAnswersDecodeByShape(t *testing.T) {
	tx, _ := json.Marshal(api.Transaction{TransactionID: "TX000000000042", Postings: []api.Posting{
		{AccountNumber: "1", CustomerNumber: "CU00000001", AmountMinor: -5},
		{AccountNumber: "2", CustomerNumber: "CU00000002", AmountMinor: 5}}})
	op := storedAnswer(api.Operation{Status: "completed", HTTPStatus: 201, Response: tx})
	if op.Transaction == nil || op.Transaction.CoreTransactionID != "TX000000000042" || len(op.Transaction.Customers) != 2 {
		t.Fatalf("transaction: %+v", op)
	}
	cu, _ := json.Marshal(api.Customer{CustomerNumber: "CU00000009", DocumentType: "PAS", DocumentNumber: "AB123456"})
	if op := storedAnswer(api.Operation{HTTPStatus: 201, Response: cu}); op.Profile == nil || op.Profile.DocumentType != domain.DocumentPassport {
		t.Fatalf("customer: %+v", op)
	}
	ac, _ := json.Marshal(api.Account{AccountNumber: "19100100000323", Type: "checking", Status: "active"})
	if op := storedAnswer(api.Operation{HTTPStatus: 201, Response: ac}); op.Account == nil || op.Account.Type != domain.AccountChecking {
		t.Fatalf("account: %+v", op)
	}
	if op := storedAnswer(api.Operation{HTTPStatus: 422, Response: body(api.CodeInsufficientFunds, nil)}); !errors.Is(op.Refusal, domain.ErrInsufficientFunds) {
		t.Fatalf("refusal: %+v", op)
	}
}
