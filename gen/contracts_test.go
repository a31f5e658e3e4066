// Checks on the contracts that buf lint cannot make: every protovalidate rule compiles
// with the runtime library the services use, and the enum-to-string tables (error
// reasons, domains, scopes) are complete and consistent; the OpenAPI document is
// embedded. Hand-written: `make proto`
// regenerates only gen/andes and gen/openapi.
package gen_test

import (
	"encoding/json"
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/andes-bank/andes/gen"
	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	_ "github.com/andes-bank/andes/gen/andes/authorizer/v1"
	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	_ "github.com/andes-bank/andes/gen/andes/customer/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	_ "github.com/andes-bank/andes/gen/andes/events/v1"
	_ "github.com/andes-bank/andes/gen/andes/facade/v1"
	identityv1 "github.com/andes-bank/andes/gen/andes/identity/v1"
	_ "github.com/andes-bank/andes/gen/andes/messaging/v1"
	_ "github.com/andes-bank/andes/gen/andes/migrator/v1"
	_ "github.com/andes-bank/andes/gen/andes/mobile/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	_ "github.com/andes-bank/andes/gen/andes/monitor/v1"
	_ "github.com/andes-bank/andes/gen/andes/onboarding/v1"
	partnerv1 "github.com/andes-bank/andes/gen/andes/partner/v1"
	_ "github.com/andes-bank/andes/gen/andes/supervisor/v1"
	_ "github.com/andes-bank/andes/gen/andes/web/v1"
)

// andesMessages returns every message declared in an andes.* package.
func andesMessages(t *testing.T) []protoreflect.MessageDescriptor {
	t.Helper()
	var out []protoreflect.MessageDescriptor
	var walk func(protoreflect.MessageDescriptors)
	walk = func(ms protoreflect.MessageDescriptors) {
		for i := range ms.Len() {
			m := ms.Get(i)
			if m.IsMapEntry() {
				continue
			}
			out = append(out, m)
			walk(m.Messages())
		}
	}
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if strings.HasPrefix(string(f.Package()), "andes.") {
			walk(f.Messages())
		}
		return true
	})
	if len(out) < 100 {
		t.Fatalf("found only %d andes messages: a generated package is not imported", len(out))
	}
	return out
}

func TestEveryValidationRuleCompiles(t *testing.T) {
	// WithDisableLazy makes New compile the rules of every message now, so a CEL
	// expression or a rule the runtime does not know fails here, not in production.
	_, err := protovalidate.New(
		protovalidate.WithDisableLazy(),
		protovalidate.WithMessageDescriptors(andesMessages(t)...),
	)
	if err != nil {
		t.Fatal(err)
	}
}

func TestValidationRules(t *testing.T) {
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	dni := func(n string) *identityv1.IdentityDocument {
		return &identityv1.IdentityDocument{Type: identityv1.DocumentType_DOCUMENT_TYPE_DNI, Number: n}
	}
	pen := func(minor int64) *moneyv1.Money { return &moneyv1.Money{AmountMinor: minor, Currency: "PEN"} }
	transfer := func(edit func(*controllerv1.TransferRequest)) *controllerv1.TransferRequest {
		r := &controllerv1.TransferRequest{
			IdempotencyKey:  "k-1",
			CustomerId:      "0190b8a0-0000-7000-8000-000000000001",
			SourceAccountId: "0190b8a0-0000-7000-8000-000000000002",
			Destination:     &controllerv1.TransferRequest_DestinationAccountNumber{DestinationAccountNumber: "19100012345678"},
			Amount:          pen(1050),
		}
		edit(r)
		return r
	}
	for _, tc := range []struct {
		name  string
		msg   proto.Message
		valid bool
	}{
		{"dni of 8 digits", dni("45678912"), true},
		{"dni of 7 digits", dni("4567891"), false},
		{"ruc must be 11 digits", &identityv1.IdentityDocument{Type: identityv1.DocumentType_DOCUMENT_TYPE_RUC, Number: "45678912"}, false},
		{"currency upper case", &moneyv1.Money{AmountMinor: 1, Currency: "USD"}, true},
		{"currency lower case", &moneyv1.Money{AmountMinor: 1, Currency: "usd"}, false},
		{"transfer ok", transfer(func(*controllerv1.TransferRequest) {}), true},
		{"transfer without destination", transfer(func(r *controllerv1.TransferRequest) { r.Destination = nil }), false},
		{"transfer of zero", transfer(func(r *controllerv1.TransferRequest) { r.Amount = pen(0) }), false},
		{"transfer without key", transfer(func(r *controllerv1.TransferRequest) { r.IdempotencyKey = "" }), false},
		{"transfer key with a space", transfer(func(r *controllerv1.TransferRequest) { r.IdempotencyKey = "a b" }), false},
		{"transfer with a bad step-up code", transfer(func(r *controllerv1.TransferRequest) {
			r.StepUp = &authv1.StepUpProof{ChallengeId: "0190b8a0-0000-7000-8000-000000000003", Code: "12345"}
		}), false},
		{"statement range in order", &partnerv1.GetStatementRequest{
			CustomerId: "0190b8a0-0000-7000-8000-000000000001", AccountId: "0190b8a0-0000-7000-8000-000000000002",
			FromDate: "2026-01-01", ToDate: "2026-01-31",
		}, true},
		{"statement range reversed", &partnerv1.GetStatementRequest{
			CustomerId: "0190b8a0-0000-7000-8000-000000000001", AccountId: "0190b8a0-0000-7000-8000-000000000002",
			FromDate: "2026-02-01", ToDate: "2026-01-31",
		}, false},
		{"statement month 13", &partnerv1.GetStatementRequest{
			CustomerId: "0190b8a0-0000-7000-8000-000000000001", AccountId: "0190b8a0-0000-7000-8000-000000000002",
			FromDate: "2026-13-01", ToDate: "2026-13-31",
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := v.Validate(tc.msg)
			if tc.valid && err != nil {
				t.Fatalf("want valid, got %v", err)
			}
			if !tc.valid && err == nil {
				t.Fatal("want a violation, got none")
			}
		})
	}
}

func TestEveryReasonHasItsSpec(t *testing.T) {
	values := errorsv1.Reason(0).Descriptor().Values()
	seen := map[string]bool{}
	for i := range values.Len() {
		ev := values.Get(i)
		if ev.Number() == 0 {
			continue
		}
		spec, _ := proto.GetExtension(ev.Options(), errorsv1.E_ReasonSpec).(*errorsv1.ReasonSpec)
		name := string(ev.Name())
		switch {
		case spec == nil:
			t.Errorf("%s has no reason_spec", name)
			continue
		case spec.GetReason() != strings.TrimPrefix(name, "REASON_"):
			t.Errorf("%s: reason %q, want the name without REASON_", name, spec.GetReason())
		case spec.GetCode() == 0:
			t.Errorf("%s: code OK for an error", name)
		case spec.GetHttpStatus() < 400 || spec.GetHttpStatus() > 599:
			t.Errorf("%s: http_status %d", name, spec.GetHttpStatus())
		case spec.GetCommon() == (len(spec.GetDomains()) > 0):
			t.Errorf("%s: set exactly one of common and domains", name)
		}
		if seen[spec.GetReason()] {
			t.Errorf("reason %q appears twice", spec.GetReason())
		}
		seen[spec.GetReason()] = true
	}
}

func TestEveryDomainHasItsName(t *testing.T) {
	values := errorsv1.Domain(0).Descriptor().Values()
	for i := range values.Len() {
		ev := values.Get(i)
		if ev.Number() == 0 {
			continue
		}
		got := proto.GetExtension(ev.Options(), errorsv1.E_DomainName).(string)
		process := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(string(ev.Name()), "DOMAIN_")), "_", "-")
		if want := process + ".andes.bank"; got != want {
			t.Errorf("%s: domain_name %q, want %q", ev.Name(), got, want)
		}
	}
}

func TestEveryScopeAndAudienceHasAClaimValue(t *testing.T) {
	seen := map[string]bool{}
	for _, enum := range []protoreflect.EnumDescriptor{
		authv1.Scope(0).Descriptor(), authv1.Audience(0).Descriptor(),
	} {
		for i := range enum.Values().Len() {
			ev := enum.Values().Get(i)
			if ev.Number() == 0 {
				continue
			}
			got := proto.GetExtension(ev.Options(), authv1.E_ClaimValue).(string)
			if got == "" || strings.ContainsAny(got, " \"\\") || seen[got] {
				t.Errorf("%s: claim_value %q must be set, unique, without spaces or quotes", ev.FullName(), got)
			}
			seen[got] = true
		}
	}
	if !seen["cash"] {
		t.Error(`the scope "cash" of DESIGN.md section 1 is missing`)
	}
}

func TestPartnerOpenAPIIsEmbedded(t *testing.T) {
	var doc struct {
		Swagger string         `json:"swagger"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(gen.PartnerOpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Swagger != "2.0" || doc.Paths["/v1/customers/{customer_id}/accounts"] == nil {
		t.Fatalf("unexpected document: swagger %q, %d paths", doc.Swagger, len(doc.Paths))
	}
}
