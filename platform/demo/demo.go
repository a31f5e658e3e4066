// Package demo builds the Andes demo bank from deploy/demo/demo.yaml: the personas a
// newcomer logs in as plus a few thousand generated customers, all derived from one
// seed, so every seeder (core simulator, customer, auth, authorizer) agrees on ids,
// document numbers, account numbers and demo secrets without talking to another.
package demo

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/andes-bank/andes/platform/checkdigit"
)

// namespace roots every derived UUID, so demo ids never collide with random ones.
var namespace = uuid.MustParse("6f1c2f8e-4a36-5a7b-9d0e-8b9a1c0d2e3f")

// Account types and statuses as the core knows them.
const (
	AccountSavings  = "savings"
	AccountChecking = "checking"
	StatusActive    = "active"
	StatusBlocked   = "blocked"
)

// Dataset is the whole demo bank.
type Dataset struct {
	Seed        uint64
	HistoryDays int
	Bank        Bank
	Customers   []Customer // the personas first, in file order, then the generated ones
	Partners    []Partner
	Agents      []Agent
}

// Bank holds the bank's own general-ledger accounts in the core.
type Bank struct {
	Name       string
	Country    string
	Settlement Account // the card program's settlement account
}

// Customer is a person with accounts at the core.
type Customer struct {
	Key            string // persona key ("maria"); empty for generated customers
	ID             string // the Andes customer id, the sub of the customer's tokens
	CoreNumber     string // the core banking system's customer number
	DocumentType   string
	DocumentNumber string
	GivenNames     string
	FamilyNames    string
	BirthDate      string // YYYY-MM-DD
	Email          string
	Phone          string // E.164
	Password       string // personas only; generated customers cannot log in
	Partner        string // key of the partner that onboarded the customer; empty: the bank's own
	Accounts       []Account
}

// Account is an account at the core.
type Account struct {
	Number         string // 12 digits and 2 MOD 97-10 check digits
	Type           string
	Currency       string
	BalanceMinor   int64 // opening balance the seeder funds
	OverdraftMinor int64
	Status         string
}

// Partner is a BaaS tenant reaching Andes with client credentials.
type Partner struct {
	Key          string
	Name         string
	ClientID     string
	ClientSecret string // 256 bits, hex; derived from the seed for the demo
	Scopes       []string
}

// Agent is a cash agent whose settlement account cash-in and cash-out post against.
type Agent struct {
	Key          string
	Name         string
	Partner      string
	ClientID     string
	ClientSecret string
	Account      Account
}

// Load reads the demo file and builds the dataset.
func Load(path string) (*Dataset, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return Build(raw)
}

// Build decodes a demo file and derives the dataset; the same bytes always give the
// same dataset.
func Build(raw []byte) (*Dataset, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	b := builder{seed: f.Seed, rng: rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))}
	d := &Dataset{Seed: f.Seed, HistoryDays: f.Generated.HistoryDays}
	d.Bank = Bank{Name: f.Bank.Name, Country: f.Bank.Country,
		Settlement: b.account(accountFile{Type: AccountChecking, Currency: f.Bank.CardProgramSettlement.Currency})}

	for _, p := range f.Partners {
		d.Partners = append(d.Partners, Partner{Key: p.Key, Name: p.Name, ClientID: "partner-" + p.Key,
			ClientSecret: b.secret("client/partner-" + p.Key), Scopes: p.Scopes})
	}
	for _, a := range f.Agents {
		d.Agents = append(d.Agents, Agent{Key: a.Key, Name: a.Name, Partner: a.Partner,
			ClientID: "agent-" + a.Key, ClientSecret: b.secret("client/agent-" + a.Key),
			Account: b.account(accountFile{Type: AccountChecking, Currency: a.Currency, BalanceMinor: a.FloatMinor})})
	}
	for _, p := range f.Personas {
		c := b.customer(p.Document.Type, p.Document.Number)
		c.Key, c.GivenNames, c.FamilyNames, c.BirthDate = p.Key, p.GivenNames, p.FamilyNames, p.BirthDate
		c.Email, c.Phone, c.Password, c.Partner = p.Email, p.Phone, p.Password, p.Partner
		for _, a := range p.Accounts {
			c.Accounts = append(c.Accounts, b.account(a))
		}
		d.Customers = append(d.Customers, c)
	}
	taken := map[string]bool{}
	for _, c := range d.Customers {
		taken[c.DocumentNumber] = true
	}
	for len(d.Customers) < len(f.Personas)+f.Generated.Customers {
		d.Customers = append(d.Customers, b.generated(taken, d.Partners))
	}
	return d, nil
}

// Customer returns the persona or generated customer with the key or document number.
func (d *Dataset) Customer(keyOrDocument string) *Customer {
	for i := range d.Customers {
		c := &d.Customers[i]
		if c.Key == keyOrDocument || c.DocumentNumber == keyOrDocument {
			return c
		}
	}
	return nil
}

// Partner returns the partner with the key, or nil.
func (d *Dataset) Partner(key string) *Partner {
	for i := range d.Partners {
		if d.Partners[i].Key == key {
			return &d.Partners[i]
		}
	}
	return nil
}

// CustomerID derives the Andes customer id of a person from their document, so any
// process can name a demo customer without asking another.
func CustomerID(docType, docNumber string) string {
	return uuid.NewSHA1(namespace, []byte("customer/"+docType+"/"+docNumber)).String()
}

type builder struct {
	seed     uint64
	rng      *rand.Rand
	accounts int
	people   int
}

func (b *builder) customer(docType, docNumber string) Customer {
	b.people++
	return Customer{
		ID:             CustomerID(docType, docNumber),
		CoreNumber:     fmt.Sprintf("CU%08d", b.people),
		DocumentType:   docType,
		DocumentNumber: docNumber,
	}
}

// account numbers: bank code 191, branch 001, a six-digit serial, two check digits.
func (b *builder) account(a accountFile) Account {
	b.accounts++
	base := fmt.Sprintf("191001%06d", b.accounts)
	check, err := checkdigit.Mod97(base)
	if err != nil {
		panic(err) // base is built from digits only
	}
	status := a.Status
	if status == "" {
		status = StatusActive
	}
	return Account{Number: base + check, Type: a.Type, Currency: a.Currency,
		BalanceMinor: a.BalanceMinor, OverdraftMinor: a.OverdraftMinor, Status: status}
}

// secret derives a 256-bit demo secret; a real deployment issues random ones.
func (b *builder) secret(label string) string { return derivedSecret(b.seed, label) }

// ClientSecret is the demo secret of any OAuth2 client, the platform's own (the web
// BFF) as well as partners' and agents', so the client and auth agree on it
// without asking each other.
func (d *Dataset) ClientSecret(clientID string) string {
	return derivedSecret(d.Seed, "client/"+clientID)
}

func derivedSecret(seed uint64, label string) string {
	mac := hmac.New(sha256.New, []byte(fmt.Sprintf("andes-demo-%d", seed)))
	mac.Write([]byte(label))
	return hex.EncodeToString(mac.Sum(nil))
}

var (
	givenNames = []string{"Rosa", "Juan", "Lucía", "Miguel", "Carmen", "Luis", "Sofía", "Jorge",
		"Valeria", "Pedro", "Camila", "Diego", "Isabel", "Ricardo", "Fiorella", "Renzo", "Milagros",
		"Alonso", "Gabriela", "César"}
	familyNames = []string{"Quispe", "Flores", "Sánchez", "Rodríguez", "García", "Mamani", "Huamán",
		"Chávez", "Ramos", "Torres", "Vásquez", "Castillo", "Espinoza", "Díaz", "Mendoza", "Rojas",
		"Vargas", "Gutiérrez", "Ccori", "Condori"}
)

func (b *builder) generated(taken map[string]bool, partners []Partner) Customer {
	doc := ""
	for doc == "" || taken[doc] {
		doc = fmt.Sprintf("%08d", 10000000+b.rng.IntN(79999999))
	}
	taken[doc] = true
	c := b.customer("DNI", doc)
	given := givenNames[b.rng.IntN(len(givenNames))]
	family1 := familyNames[b.rng.IntN(len(familyNames))]
	family2 := familyNames[b.rng.IntN(len(familyNames))]
	c.GivenNames, c.FamilyNames = given, family1+" "+family2
	c.BirthDate = fmt.Sprintf("%04d-%02d-%02d", 1950+b.rng.IntN(55), 1+b.rng.IntN(12), 1+b.rng.IntN(28))
	c.Email = fmt.Sprintf("cliente%s@demo.andes.pe", doc)
	c.Phone = fmt.Sprintf("+519%08d", b.rng.IntN(100000000))
	if len(partners) > 0 && b.rng.IntN(4) == 0 {
		c.Partner = partners[b.rng.IntN(len(partners))].Key
	}
	c.Accounts = append(c.Accounts, b.account(accountFile{Type: AccountSavings, Currency: "PEN",
		BalanceMinor: int64(b.rng.IntN(2_000_000))}))
	if b.rng.IntN(3) == 0 {
		c.Accounts = append(c.Accounts, b.account(accountFile{Type: AccountSavings, Currency: "USD",
			BalanceMinor: int64(b.rng.IntN(300_000))}))
	}
	return c
}

// file mirrors deploy/demo/demo.yaml.
type file struct {
	Seed      uint64 `yaml:"seed"`
	Generated struct {
		Customers   int `yaml:"customers"`
		HistoryDays int `yaml:"history_days"`
	} `yaml:"generated"`
	Bank struct {
		Name                  string `yaml:"name"`
		Country               string `yaml:"country"`
		CardProgramSettlement struct {
			Currency string `yaml:"currency"`
		} `yaml:"card_program_settlement"`
	} `yaml:"bank"`
	Personas []struct {
		Key      string `yaml:"key"`
		Document struct {
			Type   string `yaml:"type"`
			Number string `yaml:"number"`
		} `yaml:"document"`
		GivenNames  string        `yaml:"given_names"`
		FamilyNames string        `yaml:"family_names"`
		BirthDate   string        `yaml:"birth_date"`
		Email       string        `yaml:"email"`
		Phone       string        `yaml:"phone"`
		Password    string        `yaml:"password"`
		Partner     string        `yaml:"partner"`
		Accounts    []accountFile `yaml:"accounts"`
	} `yaml:"personas"`
	Partners []struct {
		Key    string   `yaml:"key"`
		Name   string   `yaml:"name"`
		Scopes []string `yaml:"scopes"`
	} `yaml:"partners"`
	Agents []struct {
		Key        string `yaml:"key"`
		Name       string `yaml:"name"`
		Partner    string `yaml:"partner"`
		Currency   string `yaml:"currency"`
		FloatMinor int64  `yaml:"float_minor"`
	} `yaml:"agents"`
}

type accountFile struct {
	Type           string `yaml:"type"`
	Currency       string `yaml:"currency"`
	BalanceMinor   int64  `yaml:"balance_minor"`
	OverdraftMinor int64  `yaml:"overdraft_minor"`
	Status         string `yaml:"status"`
}

var (
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	datePattern     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	phonePattern    = regexp.MustCompile(`^\+\d{8,15}$`)
)

func (f *file) validate() error {
	if f.Seed == 0 {
		return errors.New("seed must be set")
	}
	if f.Generated.Customers < 0 || f.Generated.HistoryDays < 0 {
		return errors.New("generated counts must not be negative")
	}
	if !currencyPattern.MatchString(f.Bank.CardProgramSettlement.Currency) {
		return errors.New("bank.card_program_settlement.currency must be an ISO 4217 code")
	}
	partners := map[string]bool{}
	for _, p := range f.Partners {
		if p.Key == "" || partners[p.Key] {
			return fmt.Errorf("partner %q: empty or repeated key", p.Key)
		}
		partners[p.Key] = true
	}
	for _, a := range f.Agents {
		if !partners[a.Partner] || !currencyPattern.MatchString(a.Currency) || a.FloatMinor < 0 {
			return fmt.Errorf("agent %q: unknown partner, bad currency or negative float", a.Key)
		}
	}
	seen := map[string]bool{}
	for _, p := range f.Personas {
		switch {
		case p.Key == "" || seen[p.Key]:
			return fmt.Errorf("persona %q: empty or repeated key", p.Key)
		case p.Document.Type == "" || p.Document.Number == "":
			return fmt.Errorf("persona %q: document type and number are required", p.Key)
		case !datePattern.MatchString(p.BirthDate):
			return fmt.Errorf("persona %q: birth_date must be YYYY-MM-DD", p.Key)
		case !phonePattern.MatchString(p.Phone):
			return fmt.Errorf("persona %q: phone must be E.164", p.Key)
		case p.Partner != "" && !partners[p.Partner]:
			return fmt.Errorf("persona %q: unknown partner %q", p.Key, p.Partner)
		case len(p.Accounts) == 0:
			return fmt.Errorf("persona %q: needs an account", p.Key)
		}
		seen[p.Key] = true
		for _, a := range p.Accounts {
			if (a.Type != AccountSavings && a.Type != AccountChecking) || !currencyPattern.MatchString(a.Currency) ||
				a.BalanceMinor < 0 || a.OverdraftMinor < 0 || (a.Status != "" && a.Status != StatusActive && a.Status != StatusBlocked) {
				return fmt.Errorf("persona %q: bad account %+v", p.Key, a)
			}
		}
	}
	return nil
}
