package corebank

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/facade/domain"
)

func path(parts ...string) string {
	s := ""
	for _, p := range parts {
		s += "/" + url.PathEscape(p)
	}
	return s
}

// Position reads a customer's consolidated position in one call: profile,
// accounts with balances, products and the latest movements.
func (c *Client) Position(ctx context.Context, customer string) (domain.Snapshot, error) {
	var p api.Position
	err := c.do(ctx, call{op: "position", method: http.MethodGet, path: path("customers", customer, "position"),
		query: url.Values{"latest": {strconv.Itoa(domain.LatestMovements)}}}, &p)
	if err != nil {
		return domain.Snapshot{}, err
	}
	return toSnapshot(p), nil
}

// Account reads one account with its balances.
func (c *Client) Account(ctx context.Context, number string) (domain.Account, error) {
	var a api.Account
	if err := c.do(ctx, call{op: "account", method: http.MethodGet, path: path("accounts", number)}, &a); err != nil {
		return domain.Account{}, err
	}
	return toAccount(a), nil
}

// Customer reads a customer's record.
func (c *Client) Customer(ctx context.Context, number string) (domain.Profile, error) {
	var cu api.Customer
	if err := c.do(ctx, call{op: "customer", method: http.MethodGet, path: path("customers", number)}, &cu); err != nil {
		return domain.Profile{}, err
	}
	return toProfile(cu), nil
}

// Movements reads a page of an account's postings, newest first; with a date
// range it also reads the ledger balances around it from the statement.
func (c *Client) Movements(ctx context.Context, q domain.MovementQuery) (domain.MovementPage, error) {
	v := url.Values{"page_size": {strconv.Itoa(q.PageSize)}}
	if q.PageToken != "" {
		v.Set("page_token", q.PageToken)
	}
	if q.From != "" {
		v.Set("from", q.From)
		v.Set("to", q.To)
	}
	var page api.PostingPage
	if err := c.do(ctx, call{op: "postings", method: http.MethodGet, path: path("accounts", q.Account, "postings"), query: v}, &page); err != nil {
		return domain.MovementPage{}, err
	}
	out := domain.MovementPage{NextPageToken: page.NextPageToken, Movements: make([]domain.Movement, len(page.Postings))}
	for i, p := range page.Postings {
		out.Movements[i] = toMovement(p)
	}
	if q.From == "" {
		return out, nil
	}
	var st api.Statement
	if err := c.do(ctx, call{op: "statement", method: http.MethodGet, path: path("accounts", q.Account, "statement"),
		query: url.Values{"from": {q.From}, "to": {q.To}, "page_size": {"1"}}}, &st); err != nil {
		return domain.MovementPage{}, err
	}
	out.Opening = &domain.Money{Minor: st.OpeningBalanceMinor, Currency: st.Currency}
	out.Closing = &domain.Money{Minor: st.ClosingBalanceMinor, Currency: st.Currency}
	return out, nil
}

// Transfer posts a transfer with key as the idempotency key; the key also goes
// on both postings as their reference, so statements name the operation.
func (c *Client) Transfer(ctx context.Context, key string, t domain.TransferOrder) (domain.Transaction, error) {
	var tx api.Transaction
	err := c.do(ctx, call{op: "transfer", method: http.MethodPost, path: "/transfers", key: key, body: api.TransferRequest{
		DebitAccount: t.Source, CreditAccount: t.Destination, AmountMinor: t.Amount.Minor, Currency: t.Amount.Currency,
		Description: t.Description, Reference: key,
	}}, &tx)
	if err != nil {
		return domain.Transaction{}, err
	}
	return toTransaction(tx), nil
}

// CashIn posts a cash deposit at an agent.
func (c *Client) CashIn(ctx context.Context, key string, o domain.CashOrder) (domain.Transaction, error) {
	return c.cash(ctx, "cash_in", "/cash-in", key, o)
}

// CashOut posts a cash withdrawal at an agent.
func (c *Client) CashOut(ctx context.Context, key string, o domain.CashOrder) (domain.Transaction, error) {
	return c.cash(ctx, "cash_out", "/cash-out", key, o)
}

func (c *Client) cash(ctx context.Context, op, p, key string, o domain.CashOrder) (domain.Transaction, error) {
	var tx api.Transaction
	err := c.do(ctx, call{op: op, method: http.MethodPost, path: p, key: key, body: api.CashRequest{
		AgentAccount: o.AgentAccount, Account: o.Account, AmountMinor: o.Amount.Minor, Currency: o.Amount.Currency,
		Description: o.AgentReference, Reference: key,
	}}, &tx)
	if err != nil {
		return domain.Transaction{}, err
	}
	return toTransaction(tx), nil
}

// CreateCustomer creates a customer.
func (c *Client) CreateCustomer(ctx context.Context, key string, p domain.Profile) (domain.Profile, error) {
	var cu api.Customer
	err := c.do(ctx, call{op: "create_customer", method: http.MethodPost, path: "/customers", key: key, body: api.CreateCustomerRequest{
		DocumentType: toCoreDocument(p.DocumentType), DocumentNumber: p.DocumentNumber, GivenNames: p.GivenNames,
		FamilyNames: p.FamilyNames, BirthDate: p.BirthDate, Email: p.Email, Phone: p.Phone,
	}}, &cu)
	if err != nil {
		return domain.Profile{}, err
	}
	return toProfile(cu), nil
}

// OpenAccount opens an account for a customer.
func (c *Client) OpenAccount(ctx context.Context, key string, a domain.NewAccount) (domain.Account, error) {
	var out api.Account
	err := c.do(ctx, call{op: "open_account", method: http.MethodPost, path: path("customers", a.CustomerNumber, "accounts"), key: key,
		body: api.OpenAccountRequest{Type: toCoreAccountType(a.Type), Currency: a.Currency}}, &out)
	if err != nil {
		return domain.Account{}, err
	}
	return toAccount(out), nil
}

// Operation asks what happened to the write made with key.
func (c *Client) Operation(ctx context.Context, key string) (domain.Operation, error) {
	var op api.Operation
	err := c.do(ctx, call{op: "operation", method: http.MethodGet, path: path("operations", key)}, &op)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Operation{State: domain.OperationNotReceived}, nil
	}
	if err != nil {
		return domain.Operation{}, err
	}
	if op.Status != "completed" {
		return domain.Operation{State: domain.OperationInProgress}, nil
	}
	return storedAnswer(op), nil
}

// maxFeedWait is the longest long poll the core accepts.
const maxFeedWait = 30 * time.Second

// Feed reads up to limit change-feed postings after the sequence number after,
// waiting up to wait for the first one.
func (c *Client) Feed(ctx context.Context, after int64, limit int, wait time.Duration) (domain.FeedPage, error) {
	wait = min(wait, maxFeedWait)
	var page api.FeedPage
	err := c.do(ctx, call{op: "feed", method: http.MethodGet, path: "/feed", unguarded: true,
		timeout: wait + c.o.ReadTimeout,
		query:   url.Values{"after": {strconv.FormatInt(after, 10)}, "limit": {strconv.Itoa(limit)}, "wait": {wait.String()}},
	}, &page)
	if err != nil {
		return domain.FeedPage{}, err
	}
	out := domain.FeedPage{NextAfter: page.NextAfter, Head: page.Head, Postings: make([]domain.FeedPosting, len(page.Postings))}
	for i, p := range page.Postings {
		out.Postings[i] = domain.FeedPosting{Seq: p.Seq, CustomerNumber: p.CustomerNumber, AccountNumber: p.AccountNumber, PostedAt: p.PostedAt}
	}
	return out, nil
}
