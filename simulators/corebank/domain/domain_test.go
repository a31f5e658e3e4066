package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/checkdigit"
	"github.com/andes-bank/andes/simulators/corebank/domain"
)

func TestAccountNumbers(t *testing.T) {
	tests := []struct {
		number string
		valid  bool
	}{
		{domain.WithCheckDigits("191001000001"), true},
		{domain.GLNumber(domain.ClassEquity, "PEN"), true},
		{domain.GLNumber(domain.ClassFees, "USD"), true},
		{"19100100000100", false}, // wrong check digits
		{"1910010000010", false},  // 13 digits
		{"191001000001AB", false}, // not digits
		{"", false},
	}
	for _, tt := range tests {
		if got := domain.ValidAccountNumber(tt.number); got != tt.valid {
			t.Errorf("ValidAccountNumber(%q) = %v, want %v", tt.number, got, tt.valid)
		}
	}
	seen := map[string]bool{}
	for _, c := range domain.GLClasses() {
		for _, cur := range domain.Currencies() {
			n := domain.GLNumber(c, cur)
			if seen[n] || !strings.HasPrefix(n, "1910000") {
				t.Errorf("GL number %s for %s %s: repeated or outside branch 0000", n, c, cur)
			}
			seen[n] = true
		}
	}
	n, err := domain.NewAccountNumber(42)
	if err != nil || n[:6] != "191002" || !checkdigit.ValidMod97(n) {
		t.Errorf("NewAccountNumber(42) = %s, %v", n, err)
	}
	if _, err := domain.NewAccountNumber(1_000_000); err == nil {
		t.Error("serial beyond six digits accepted")
	}
}

func TestIDs(t *testing.T) {
	if s := domain.FormatTxID(42); s != "TX000000000042" {
		t.Errorf("FormatTxID = %s", s)
	}
	if id, ok := domain.ParseTxID("TX000000000042"); !ok || id != 42 {
		t.Errorf("ParseTxID = %d %v", id, ok)
	}
	for _, bad := range []string{"HD000000000042", "TX", "TX-1", "TX0", "42", "TXabc"} {
		if _, ok := domain.ParseTxID(bad); ok {
			t.Errorf("ParseTxID(%q) accepted", bad)
		}
	}
	if id, ok := domain.ParseHoldID(domain.FormatHoldID(7)); !ok || id != 7 {
		t.Errorf("hold id round trip: %d %v", id, ok)
	}
}

func TestPostValidate(t *testing.T) {
	a, b := domain.WithCheckDigits("191001000001"), domain.WithCheckDigits("191001000002")
	ok := domain.Post{Debit: a, Credit: b, AmountMinor: 100, Currency: "PEN"}
	tests := []struct {
		name   string
		change func(*domain.Post)
		want   error
		field  string
	}{
		{"valid", func(*domain.Post) {}, nil, ""},
		{"bad debit", func(p *domain.Post) { p.Debit = "19100100000100" }, domain.ErrInvalid, "debit_account"},
		{"bad credit", func(p *domain.Post) { p.Credit = "x" }, domain.ErrInvalid, "credit_account"},
		{"same account", func(p *domain.Post) { p.Credit = a }, domain.ErrSameAccount, ""},
		{"zero", func(p *domain.Post) { p.AmountMinor = 0 }, domain.ErrInvalid, "amount_minor"},
		{"negative", func(p *domain.Post) { p.AmountMinor = -5 }, domain.ErrInvalid, "amount_minor"},
		{"too much", func(p *domain.Post) { p.AmountMinor = domain.MaxAmountMinor + 1 }, domain.ErrInvalid, "amount_minor"},
		{"currency", func(p *domain.Post) { p.Currency = "EUR" }, domain.ErrInvalid, "currency"},
		{"long description", func(p *domain.Post) { p.Description = strings.Repeat("ñ", 141) }, domain.ErrInvalid, "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.change(&p)
			err := p.Validate()
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.field != "" && domain.Fields(err)["field"] != tt.field {
				t.Errorf("field %v, want %s", domain.Fields(err), tt.field)
			}
		})
	}
}

func TestMovementsPostAgainstTheirGLAccount(t *testing.T) {
	acct := domain.WithCheckDigits("191001000001")
	tests := []struct {
		kind          domain.MovementKind
		debit, credit string
	}{
		{domain.KindSalary, domain.GLNumber(domain.ClassPayroll, "PEN"), acct},
		{domain.KindInterest, domain.GLNumber(domain.ClassInterest, "PEN"), acct},
		{domain.KindFee, acct, domain.GLNumber(domain.ClassFees, "PEN")},
	}
	for _, tt := range tests {
		p, err := domain.Movement{Kind: tt.kind, Account: acct, AmountMinor: 100, Currency: "PEN"}.Post()
		if err != nil || p.Debit != tt.debit || p.Credit != tt.credit || p.Kind != tt.kind {
			t.Errorf("%s: %+v %v", tt.kind, p, err)
		}
	}
	if _, err := (domain.Movement{Kind: "bonus", Account: acct, AmountMinor: 1, Currency: "PEN"}).Post(); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := (domain.Movement{Kind: domain.KindSalary, Account: acct, AmountMinor: 1, Currency: "CLP"}).Post(); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("unknown currency: %v", err)
	}
}

func TestNewCustomerValidate(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	ok := domain.NewCustomer{DocumentType: "DNI", DocumentNumber: "12345678", GivenNames: "Rosa", FamilyNames: "Quispe",
		BirthDate: "1990-01-01", Email: "rosa@example.pe", Phone: "+51987654321", At: now}
	tests := []struct {
		name   string
		change func(*domain.NewCustomer)
		field  string
	}{
		{"valid", func(*domain.NewCustomer) {}, ""},
		{"passport", func(c *domain.NewCustomer) { c.DocumentType, c.DocumentNumber = "PAS", "AB123456" }, ""},
		{"unknown document type", func(c *domain.NewCustomer) { c.DocumentType = "XYZ" }, "document_type"},
		{"short DNI", func(c *domain.NewCustomer) { c.DocumentNumber = "1234567" }, "document_number"},
		{"no names", func(c *domain.NewCustomer) { c.GivenNames = "  " }, "given_names"},
		{"bad date", func(c *domain.NewCustomer) { c.BirthDate = "01/01/1990" }, "birth_date"},
		{"a minor", func(c *domain.NewCustomer) { c.BirthDate = "2010-01-01" }, "birth_date"},
		{"bad email", func(c *domain.NewCustomer) { c.Email = "rosa at example" }, "email"},
		{"email with a name", func(c *domain.NewCustomer) { c.Email = "Rosa <rosa@example.pe>" }, "email"},
		{"bad phone", func(c *domain.NewCustomer) { c.Phone = "987654321" }, "phone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, domain.ErrInvalid) || domain.Fields(err)["field"] != tt.field {
				t.Fatalf("got %v (%v), want field %s", err, domain.Fields(err), tt.field)
			}
		})
	}
}

func TestNewAccountValidate(t *testing.T) {
	tests := []struct {
		a     domain.NewAccount
		field string
	}{
		{domain.NewAccount{Type: "savings", Currency: "PEN"}, ""},
		{domain.NewAccount{Type: "checking", Currency: "USD", OverdraftMinor: 50_000}, ""},
		{domain.NewAccount{Type: "savings", Currency: "PEN", OverdraftMinor: 1}, "overdraft_limit_minor"},
		{domain.NewAccount{Type: "checking", Currency: "PEN", OverdraftMinor: -1}, "overdraft_limit_minor"},
		{domain.NewAccount{Type: "term", Currency: "PEN"}, "type"},
		{domain.NewAccount{Type: "savings", Currency: "BRL"}, "currency"},
	}
	for _, tt := range tests {
		err := tt.a.Validate()
		if got := domain.Fields(err)["field"]; got != tt.field || (tt.field == "") != (err == nil) {
			t.Errorf("%+v: %v, want field %q", tt.a, err, tt.field)
		}
	}
}

func TestClassesThatMayGoNegative(t *testing.T) {
	for c, want := range map[domain.Class]bool{
		domain.ClassCustomer: false, domain.ClassAgent: false, domain.ClassEquity: true,
		domain.ClassSettlement: true, domain.ClassFees: true, domain.ClassPayroll: true,
	} {
		if got := c.MayGoNegative(); got != want {
			t.Errorf("%s.MayGoNegative() = %v", c, got)
		}
	}
}
