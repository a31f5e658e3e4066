// Package api is the wire contract of the core banking system's JSON API
// (version 2, under /core/v2): request and response bodies, the error body and
// its codes, and the headers. The facade, the core's only caller, owns it; the
// core banking simulator imports it to play the core. Each side maps these
// shapes to its own types.
//
// Conventions:
//   - Money is an integer number of minor units (amount_minor) and an ISO 4217
//     currency (PEN, USD); never a float.
//   - Times are RFC 3339 in UTC; business dates (statements, products) are
//     YYYY-MM-DD in Lima time.
//   - Every POST and PUT needs an Idempotency-Key header (at most 255 bytes). A
//     retry with the same key and the same request gets the first answer again,
//     byte for byte, with Idempotent-Replayed: true; the same key with another
//     request is refused with CB-4220; a key whose first request is still running
//     is answered CB-4090 with Retry-After. GET /core/v2/operations/{key} tells
//     what happened to a key.
//   - Errors are {"error":{"code":"CB-....","message":"...","trace":"...","details":{...}}}
//     with the HTTP status of the code (see the Code constants); X-Core-Trace-Id
//     carries the trace on every answer.
//   - Unknown JSON fields are refused (CB-4000); bodies are at most 64 KiB.
//   - Only the facade and the operator identities may call (mutual TLS with a
//     certificate from the Andes CA; SPIFFE id in the URI SAN); /core/v2/admin/ is
//     the operator's alone.
package api

import (
	"encoding/json"
	"time"
)

// Prefix is the path every endpoint of this version starts with.
const Prefix = "/core/v2"

// Headers.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderReplayed       = "Idempotent-Replayed"
	HeaderTrace          = "X-Core-Trace-Id"
	HeaderRetryAfter     = "Retry-After"
)

// Code is one of the core's error codes.
type Code string

// Error codes, with the HTTP status each is answered with.
const (
	CodeMalformed           Code = "CB-4000" // 400: body or parameter malformed, unknown field, wrong type
	CodeInvalid             Code = "CB-4001" // 400: a value breaks a rule (amount, account number check digits, currency, dates); details.field names it
	CodeMissingKey          Code = "CB-4002" // 400: Idempotency-Key header missing or longer than 255 bytes
	CodeForbidden           Code = "CB-4030" // 403: the caller's identity may not call this
	CodeCustomerNotFound    Code = "CB-4040" // 404
	CodeAccountNotFound     Code = "CB-4041" // 404, also when a write names an unknown account; details.account, details.side
	CodeHoldNotFound        Code = "CB-4042" // 404
	CodeTransactionNotFound Code = "CB-4043" // 404
	CodeOperationNotFound   Code = "CB-4044" // 404: the core never saw this idempotency key (or forgot it after 24 h)
	CodeRouteNotFound       Code = "CB-4045" // 404: no such endpoint
	CodeMethodNotAllowed    Code = "CB-4050" // 405
	CodeInProgress          Code = "CB-4090" // 409: a request with this key is still running; retry after Retry-After seconds
	CodeCustomerExists      Code = "CB-4091" // 409: a customer with this document exists; details.customer_number
	CodeAlreadyPosted       Code = "CB-4092" // 409: the ledger already holds a posting for this operation
	CodeTooLarge            Code = "CB-4130" // 413: body over 64 KiB
	CodeKeyMismatch         Code = "CB-4220" // 422: the idempotency key was used with a different request
	CodeInsufficientFunds   Code = "CB-4221" // 422: available balance plus overdraft below the amount; details.account
	CodeAccountBlocked      Code = "CB-4222" // 422: an account is not active; details.account, details.side (debit|credit)
	CodeCurrencyMismatch    Code = "CB-4223" // 422: accounts (or amount and account) in different currencies: the core never converts
	CodeSameAccount         Code = "CB-4224" // 422: debit and credit account are the same
	CodeAccountNotAllowed   Code = "CB-4225" // 422: the account may not take part (a GL account in a transfer, a customer account as agent); details.side
	CodeHoldNotPending      Code = "CB-4226" // 422: the hold was already captured, voided or expired; details.status
	CodeHoldExpired         Code = "CB-4227" // 422: the hold's expiry passed
	CodeExceedsHold         Code = "CB-4228" // 422: capture above the held amount
	CodeInternal            Code = "CB-5000" // 500: a fault of the core; nothing was posted
	CodeUnavailable         Code = "CB-5030" // 503: the core is unavailable (maintenance, overload, injected fault); nothing was posted
)

// ErrorBody is every error answer.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error explains a refusal or a failure.
type Error struct {
	Code    Code              `json:"code"`
	Message string            `json:"message"`
	Trace   string            `json:"trace"`
	Details map[string]string `json:"details,omitempty"`
}

// Customer is a person known to the core.
type Customer struct {
	CustomerNumber string    `json:"customer_number"` // CU and 8 digits
	DocumentType   string    `json:"document_type"`   // DNI, CE, PAS
	DocumentNumber string    `json:"document_number"`
	GivenNames     string    `json:"given_names"`
	FamilyNames    string    `json:"family_names"`
	BirthDate      string    `json:"birth_date"` // YYYY-MM-DD
	Email          string    `json:"email"`
	Phone          string    `json:"phone"` // E.164
	CreatedAt      time.Time `json:"created_at"`
}

// CreateCustomerRequest is the body of POST /core/v2/customers.
type CreateCustomerRequest struct {
	DocumentType   string `json:"document_type"`
	DocumentNumber string `json:"document_number"`
	GivenNames     string `json:"given_names"`
	FamilyNames    string `json:"family_names"`
	BirthDate      string `json:"birth_date"`
	Email          string `json:"email"`
	Phone          string `json:"phone"`
}

// CustomerList answers a search by document: zero or one customer.
type CustomerList struct {
	Customers []Customer `json:"customers"`
}

// Balance is an account's money. Available is ledger minus pending holds; a
// debit may take it down to minus the overdraft limit.
type Balance struct {
	Currency            string    `json:"currency"`
	LedgerMinor         int64     `json:"ledger_minor"`
	AvailableMinor      int64     `json:"available_minor"`
	HeldMinor           int64     `json:"held_minor"`
	OverdraftLimitMinor int64     `json:"overdraft_limit_minor"`
	AsOf                time.Time `json:"as_of"`
}

// Account is an account with its balance.
type Account struct {
	AccountNumber  string    `json:"account_number"` // 14 digits, MOD 97-10 check digits last
	CustomerNumber string    `json:"customer_number,omitempty"`
	Class          string    `json:"class"` // customer, agent, settlement, equity, payroll, interest, fees, merchant
	Type           string    `json:"type"`  // savings, checking, gl
	Currency       string    `json:"currency"`
	Name           string    `json:"name,omitempty"`
	Status         string    `json:"status"` // active, blocked
	Balance        Balance   `json:"balance"`
	OpenedAt       time.Time `json:"opened_at"`
}

// AccountList lists accounts.
type AccountList struct {
	Accounts []Account `json:"accounts"`
}

// OpenAccountRequest is the body of POST /core/v2/customers/{number}/accounts.
type OpenAccountRequest struct {
	Type                string `json:"type"` // savings, checking
	Currency            string `json:"currency"`
	OverdraftLimitMinor int64  `json:"overdraft_limit_minor,omitempty"` // checking only
}

// Posting is one leg of a transaction on one account: credits positive, debits
// negative, with the account's ledger balance right after it.
type Posting struct {
	Seq               int64     `json:"seq,omitempty"` // change-feed number; absent until the feed has numbered it
	TransactionID     string    `json:"transaction_id"`
	Leg               int       `json:"leg"`
	AccountNumber     string    `json:"account_number"`
	CustomerNumber    string    `json:"customer_number,omitempty"`
	AmountMinor       int64     `json:"amount_minor"`
	Currency          string    `json:"currency"`
	BalanceAfterMinor int64     `json:"balance_after_minor"`
	Kind              string    `json:"kind"` // transfer, cash_in, cash_out, hold_capture, opening, salary, interest, fee, purchase
	Description       string    `json:"description"`
	Reference         string    `json:"reference,omitempty"`
	PostedAt          time.Time `json:"posted_at"`
}

// PostingPage is a page of an account's postings, newest first.
type PostingPage struct {
	Postings      []Posting `json:"postings"`
	NextPageToken string    `json:"next_page_token,omitempty"`
}

// Statement is a page of an account's statement over business dates, oldest
// first, with the ledger balance before the first day and after the last.
type Statement struct {
	AccountNumber       string    `json:"account_number"`
	Currency            string    `json:"currency"`
	From                string    `json:"from"`
	To                  string    `json:"to"`
	OpeningBalanceMinor int64     `json:"opening_balance_minor"`
	ClosingBalanceMinor int64     `json:"closing_balance_minor"`
	Postings            []Posting `json:"postings"`
	NextPageToken       string    `json:"next_page_token,omitempty"`
}

// TransferRequest is the body of POST /core/v2/transfers. Both accounts must be
// customer accounts (or the card program's settlement account) in the amount's
// currency.
type TransferRequest struct {
	DebitAccount  string `json:"debit_account"`
	CreditAccount string `json:"credit_account"`
	AmountMinor   int64  `json:"amount_minor"`
	Currency      string `json:"currency"`
	Description   string `json:"description,omitempty"` // at most 140 characters
	Reference     string `json:"reference,omitempty"`   // the caller's own reference, at most 64 bytes
}

// CashRequest is the body of POST /core/v2/cash-in and /core/v2/cash-out.
type CashRequest struct {
	AgentAccount string `json:"agent_account"`
	Account      string `json:"account"`
	AmountMinor  int64  `json:"amount_minor"`
	Currency     string `json:"currency"`
	Description  string `json:"description,omitempty"`
	Reference    string `json:"reference,omitempty"`
}

// AccountState is an account's balances right after a transaction.
type AccountState struct {
	AccountNumber  string `json:"account_number"`
	LedgerMinor    int64  `json:"ledger_minor"`
	AvailableMinor int64  `json:"available_minor"`
}

// Transaction is a balanced set of postings. Write answers add the balances of
// both accounts right after.
type Transaction struct {
	TransactionID string         `json:"transaction_id"` // TX and 12 digits
	Status        string         `json:"status"`         // posted
	Kind          string         `json:"kind"`
	AmountMinor   int64          `json:"amount_minor"`
	Currency      string         `json:"currency"`
	Description   string         `json:"description"`
	Reference     string         `json:"reference,omitempty"`
	PostedAt      time.Time      `json:"posted_at"`
	Postings      []Posting      `json:"postings"`
	Balances      []AccountState `json:"balances,omitempty"`
}

// HoldRequest is the body of POST /core/v2/holds.
type HoldRequest struct {
	Account     string     `json:"account"`
	AmountMinor int64      `json:"amount_minor"`
	Currency    string     `json:"currency"`
	Description string     `json:"description,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"` // default: 7 days; at most 31
}

// CaptureRequest is the body of POST /core/v2/holds/{id}/capture. The rest of
// the hold is released.
type CaptureRequest struct {
	AmountMinor   int64  `json:"amount_minor,omitempty"` // omitted or 0: the whole hold
	CreditAccount string `json:"credit_account"`         // a customer, settlement or merchant clearing account
	Description   string `json:"description,omitempty"`
}

// Hold is money reserved on an account.
type Hold struct {
	HoldID        string       `json:"hold_id"` // HD and 12 digits
	Account       string       `json:"account"`
	AmountMinor   int64        `json:"amount_minor"`
	CapturedMinor int64        `json:"captured_minor"`
	Currency      string       `json:"currency"`
	Status        string       `json:"status"` // pending, captured, voided, expired
	Description   string       `json:"description"`
	CreatedAt     time.Time    `json:"created_at"`
	ExpiresAt     time.Time    `json:"expires_at"`
	ClosedAt      *time.Time   `json:"closed_at,omitempty"`
	Transaction   *Transaction `json:"transaction,omitempty"` // the capture's
}

// Operation is what the core remembers of an idempotency key.
type Operation struct {
	IdempotencyKey string          `json:"idempotency_key"`
	Status         string          `json:"status"`                // completed, in_progress
	HTTPStatus     int             `json:"http_status,omitempty"` // of the stored answer, when completed
	Response       json.RawMessage `json:"response,omitempty"`    // the stored answer's body, when completed
	CreatedAt      time.Time       `json:"created_at"`
	CompletedAt    *time.Time      `json:"completed_at,omitempty"`
}

// Products are a customer's products besides accounts.
type Products struct {
	TermDeposits []TermDeposit `json:"term_deposits"`
	Loans        []Loan        `json:"loans"`
	CardProgram  CardProgram   `json:"card_program"`
}

// TermDeposit is money placed for a term.
type TermDeposit struct {
	Number         string `json:"number"`
	Currency       string `json:"currency"`
	PrincipalMinor int64  `json:"principal_minor"`
	RateBps        int    `json:"rate_bps"`
	OpenedOn       string `json:"opened_on"`
	MaturesOn      string `json:"matures_on"`
	Status         string `json:"status"`
}

// Loan is a consumer loan.
type Loan struct {
	Number           string `json:"number"`
	Currency         string `json:"currency"`
	PrincipalMinor   int64  `json:"principal_minor"`
	OutstandingMinor int64  `json:"outstanding_minor"`
	RateBps          int    `json:"rate_bps"`
	OpenedOn         string `json:"opened_on"`
	MaturesOn        string `json:"matures_on"`
	Status           string `json:"status"`
}

// CardProgram is what the customer moved to the card program's settlement
// account (prepaid card funding), in total.
type CardProgram struct {
	SettlementAccount string `json:"settlement_account,omitempty"`
	Currency          string `json:"currency,omitempty"`
	FundedMinor       int64  `json:"funded_minor"`
	Fundings          int    `json:"fundings"`
}

// Position is a customer's consolidated position: profile, accounts with
// balances, products and latest movements, in one answer.
type Position struct {
	Customer       Customer  `json:"customer"`
	Accounts       []Account `json:"accounts"`
	Products       Products  `json:"products"`
	LatestPostings []Posting `json:"latest_postings"`
	AsOf           time.Time `json:"as_of"`
}

// FeedPage is an answer of the change feed: postings numbered after the asked
// sequence number, in order. Ask again with after=next_after.
type FeedPage struct {
	Postings  []Posting `json:"postings"`
	NextAfter int64     `json:"next_after"`
	Head      int64     `json:"head"` // the last number given so far
}

// Bank lists the bank's own accounts: general ledger, settlement, agents.
type Bank struct {
	Accounts []Account `json:"accounts"`
}

// MovementRequest is the body of POST /core/v2/admin/movements: a movement the
// platform did not make, posted against the bank's GL account for its kind.
type MovementRequest struct {
	Kind        string `json:"kind"` // salary (payroll → account), interest (interest expense → account), fee (account → fee income)
	Account     string `json:"account"`
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
	Description string `json:"description,omitempty"`
}

// AccountStatusRequest is the body of PUT /core/v2/admin/accounts/{number}/status.
type AccountStatusRequest struct {
	Status string `json:"status"` // active, blocked
}

// Faults are the fault knobs, served at /faults on the process's admin listener
// (not under /core/v2). In a PUT, fields left out keep their value.
type Faults struct {
	Latency               *string  `json:"latency,omitempty"`                  // Go duration added to every request, e.g. "200ms"
	ErrorShare            *float64 `json:"error_share,omitempty"`              // share of requests answered 503 CB-5030 before any effect, 0..1
	TimeoutAfterPostShare *float64 `json:"timeout_after_post_share,omitempty"` // share of writes that commit, then get no answer, 0..1
	TimeoutStall          *string  `json:"timeout_stall,omitempty"`            // how long such a write stalls before its connection is cut
	Down                  *bool    `json:"down,omitempty"`                     // true: the edge listener closes; connections are refused
	DownFor               *string  `json:"down_for,omitempty"`                 // with down: reopen after this long ("0s": stay down)
}

// Audit is the answer of GET /core/v2/admin/audit.
type Audit struct {
	Accounts     int              `json:"accounts"`
	Transactions int              `json:"transactions"`
	Postings     int              `json:"postings"`
	TotalsMinor  map[string]int64 `json:"totals_minor"`
	Problems     []string         `json:"problems"`
}
