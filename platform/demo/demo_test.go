package demo_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/andes-bank/andes/platform/checkdigit"
	"github.com/andes-bank/andes/platform/demo"
)

func load(t *testing.T) *demo.Dataset {
	t.Helper()
	d, err := demo.Load(filepath.Join("..", "..", "deploy", "demo", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDatasetIsDeterministicAndConsistent(t *testing.T) {
	a, b := load(t), load(t)
	if len(a.Customers) != len(b.Customers) || len(a.Customers) < 1000 {
		t.Fatalf("customers: %d and %d", len(a.Customers), len(b.Customers))
	}
	for i := range a.Customers {
		if a.Customers[i].ID != b.Customers[i].ID || a.Customers[i].Accounts[0].Number != b.Customers[i].Accounts[0].Number {
			t.Fatalf("customer %d differs between two loads", i)
		}
	}
	ids, docs, numbers := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, c := range a.Customers {
		if ids[c.ID] || docs[c.DocumentNumber] {
			t.Fatalf("duplicate customer %s / %s", c.ID, c.DocumentNumber)
		}
		ids[c.ID], docs[c.DocumentNumber] = true, true
		if c.ID != demo.CustomerID(c.DocumentType, c.DocumentNumber) {
			t.Fatalf("customer %s: id not derived from the document", c.DocumentNumber)
		}
		for _, acc := range c.Accounts {
			if numbers[acc.Number] || !checkdigit.ValidMod97(acc.Number) || len(acc.Number) != 14 {
				t.Fatalf("account %q: duplicate or bad check digits", acc.Number)
			}
			numbers[acc.Number] = true
		}
	}
	maria := a.Customer("maria")
	if maria == nil || maria.DocumentNumber != "45678912" || len(maria.Accounts) != 3 || maria.Password == "" {
		t.Fatalf("persona maria: %+v", maria)
	}
	if p := a.Partner("kallpa"); p == nil || len(p.ClientSecret) != 64 || p.ClientID != "partner-kallpa" {
		t.Fatalf("partner kallpa: %+v", p)
	}
	if a.ClientSecret("partner-kallpa") != a.Partner("kallpa").ClientSecret {
		t.Fatal("ClientSecret disagrees with the partner's secret")
	}
	if a.Partner("kallpa").ClientSecret == a.Partner("yaku").ClientSecret {
		t.Fatal("two partners share a secret")
	}
}

func TestBadDemoFilesAreRefused(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("..", "..", "deploy", "demo", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Build(good); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"no seed":       "generated: {customers: 1}\n",
		"unknown field": "seed: 1\ncolour: red\n",
		"bad currency":  "seed: 1\nbank: {card_program_settlement: {currency: soles}}\n",
		"unknown partner": `seed: 1
bank: {card_program_settlement: {currency: PEN}}
personas:
  - {key: x, document: {type: DNI, number: "1"}, birth_date: "2000-01-01", phone: "+51999999999", partner: nobody,
     accounts: [{type: savings, currency: PEN}]}
`,
	}
	for name, doc := range cases {
		if _, err := demo.Build([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTheCheckoutsDemoBankIsFoundFromBelow(t *testing.T) {
	want, err := filepath.Abs("../../deploy/demo/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := demo.Find("."); err != nil || got != want {
		t.Fatalf("Find: %q %v, want %q", got, err, want)
	}
	if _, err := demo.Find(t.TempDir()); err == nil {
		t.Error("found a demo bank outside the checkout")
	}
	t.Chdir(t.TempDir())
	if ds, err := demo.Open(""); ds != nil || !errors.Is(err, demo.ErrNoDemoBank) {
		t.Errorf("Open outside a checkout: %v %v, want ErrNoDemoBank", ds, err)
	}
	if _, err := demo.Open(filepath.Join(t.TempDir(), "nope.yaml")); err == nil || errors.Is(err, demo.ErrNoDemoBank) {
		t.Errorf("a named file that does not exist: %v, want an error of its own", err)
	}
	if ds, err := demo.Open(want); ds == nil || err != nil {
		t.Errorf("Open(%s): %v", want, err)
	}
}
