package ports

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/simulators/corebank/app"
	"github.com/andes-bank/andes/simulators/corebank/domain"
)

const p = api.Prefix

func (h *HTTP) routes() {
	h.handle("GET "+p+"/bank", false, h.bank)
	h.handle("GET "+p+"/customers", false, h.searchCustomers)
	h.handle("POST "+p+"/customers", false, h.createCustomer)
	h.handle("GET "+p+"/customers/{number}", false, h.customer)
	h.handle("GET "+p+"/customers/{number}/accounts", false, h.customerAccounts)
	h.handle("POST "+p+"/customers/{number}/accounts", false, h.openAccount)
	h.handle("GET "+p+"/customers/{number}/products", false, h.products)
	h.handle("GET "+p+"/customers/{number}/position", false, h.position)
	h.handle("GET "+p+"/accounts/{number}", false, h.account)
	h.handle("GET "+p+"/accounts/{number}/balance", false, h.balance)
	h.handle("GET "+p+"/accounts/{number}/postings", false, h.postings)
	h.handle("GET "+p+"/accounts/{number}/statement", false, h.statement)
	h.handle("POST "+p+"/transfers", false, h.transfer)
	h.handle("GET "+p+"/transactions/{id}", false, h.transaction)
	h.handle("POST "+p+"/cash-in", false, h.cashIn)
	h.handle("POST "+p+"/cash-out", false, h.cashOut)
	h.handle("POST "+p+"/holds", false, h.createHold)
	h.handle("GET "+p+"/holds/{id}", false, h.hold)
	h.handle("POST "+p+"/holds/{id}/capture", false, h.captureHold)
	h.handle("POST "+p+"/holds/{id}/void", false, h.voidHold)
	h.handle("GET "+p+"/operations/{key}", false, h.operation)
	h.handle("GET "+p+"/feed", false, h.feed)

	h.handle("POST "+p+"/admin/movements", true, h.injectMovement)
	h.handle("PUT "+p+"/admin/accounts/{number}/status", true, h.setAccountStatus)
	h.handle("GET "+p+"/admin/audit", true, h.audit)
}

func (h *HTTP) now() time.Time { return h.o.Core.Now() }

func (h *HTTP) reader() app.Reader { return h.o.Core.Reader() }

// --- customers and accounts ----------------------------------------------------

func (h *HTTP) bank(c *call) {
	accts, err := h.reader().BankAccounts(c.r.Context())
	if err != nil {
		h.failWith(c, err)
		return
	}
	h.reply(c, http.StatusOK, api.Bank{Accounts: toAccounts(accts, h.now())})
}

func (h *HTTP) searchCustomers(c *call) {
	q := c.r.URL.Query()
	docType, docNumber := q.Get("document_type"), q.Get("document_number")
	if docType == "" || docNumber == "" {
		h.fail(c, http.StatusBadRequest, api.CodeMalformed, "search by document_type and document_number", map[string]string{"field": "document_number"})
		return
	}
	cu, err := h.reader().CustomerByDocument(c.r.Context(), docType, docNumber)
	switch {
	case err == nil:
		h.reply(c, http.StatusOK, api.CustomerList{Customers: []api.Customer{toCustomer(cu)}})
	case isNotFound(err):
		h.reply(c, http.StatusOK, api.CustomerList{Customers: []api.Customer{}})
	default:
		h.failWith(c, err)
	}
}

func isNotFound(err error) bool {
	status, _, ok := refusal(err, "")
	return ok && status == http.StatusNotFound
}

func (h *HTTP) customer(c *call) {
	cu, err := h.reader().Customer(c.r.Context(), c.r.PathValue("number"))
	if err != nil {
		h.failWith(c, err)
		return
	}
	h.reply(c, http.StatusOK, toCustomer(cu))
}

func (h *HTTP) createCustomer(c *call) {
	var req api.CreateCustomerRequest
	if !h.decode(c, &req) {
		return
	}
	h.write(c, req, func(ctx context.Context, l app.Ledger, _ string) (int, any, error) {
		cu, err := h.o.Core.CreateCustomer(ctx, l, domain.NewCustomer{DocumentType: req.DocumentType,
			DocumentNumber: req.DocumentNumber, GivenNames: req.GivenNames, FamilyNames: req.FamilyNames,
			BirthDate: req.BirthDate, Email: req.Email, Phone: req.Phone})
		return http.StatusCreated, toCustomer(cu), err
	})
}

func (h *HTTP) customerAccounts(c *call) {
	accts, err := h.reader().Accounts(c.r.Context(), c.r.PathValue("number"))
	if err != nil {
		h.failWith(c, err)
		return
	}
	h.reply(c, http.StatusOK, api.AccountList{Accounts: toAccounts(accts, h.now())})
}

func (h *HTTP) openAccount(c *call) {
	var req api.OpenAccountRequest
	if !h.decode(c, &req) {
		return
	}
	customer := c.r.PathValue("number")
	h.write(c, req, func(ctx context.Context, l app.Ledger, _ string) (int, any, error) {
		a, err := h.o.Core.OpenAccount(ctx, l, domain.NewAccount{Customer: customer, Type: req.Type,
			Currency: req.Currency, OverdraftMinor: req.OverdraftLimitMinor})
		return http.StatusCreated, toAccount(a, h.now()), err
	})
}

func (h *HTTP) products(c *call) {
	prods, err := h.reader().Products(c.r.Context(), c.r.PathValue("number"))
	if err != nil {
		h.failWith(c, err)
		return
	}
	h.reply(c, http.StatusOK, toProducts(prods))
}

func (h *HTTP) position(c *call) {
	latest, ok := h.intParam(c, "latest", 10, 0, 100)
	if !ok {
		return
	}
	number, now := c.r.PathValue("number"), h.now()
	var pos api.Position
	err := h.o.Snapshots.Consistent(c.r.Context(), func(ctx context.Context, r app.Reader) error {
		cu, err := r.Customer(ctx, number)
		if err != nil {
			return err
		}
		accts, err := r.Accounts(ctx, number)
		if err != nil {
			return err
		}
		prods, err := r.Products(ctx, number)
		if err != nil {
			return err
		}
		ps, err := r.CustomerPostings(ctx, number, int(latest))
		if err != nil {
			return err
		}
		pos = api.Position{Customer: toCustomer(cu), Accounts: toAccounts(accts, now),
			Products: toProducts(prods), LatestPostings: toPostings(ps), AsOf: now.UTC()}
		return nil
	})
	if err != nil {
		h.failWith(c, err)
		return
	}
	h.reply(c, http.StatusOK, pos)
}

func (h *HTTP) account(c *call) {
	a, err := h.reader().Account(c.r.Context(), c.r.PathValue("number"))
	if err != nil {
		h.failWith(c, err)
		return
	}
	h.reply(c, http.StatusOK, toAccount(a, h.now()))
}

func (h *HTTP) balance(c *call) {
	a, err := h.reader().Account(c.r.Context(), c.r.PathValue("number"))
	if err != nil {
		h.failWith(c, err)
		return
	}
	h.reply(c, http.StatusOK, toBalance(a, h.now()))
}

func (h *HTTP) postings(c *call) {
	size, ok := h.intParam(c, "page_size", 50, 1, 500)
	if !ok {
		return
	}
	before, ok := h.pageCursor(c)
	if !ok {
		return
	}
	f := domain.PostingFilter{BeforeTx: before, Limit: int(size) + 1}
	q := c.r.URL.Query()
	if q.Get("from") != "" || q.Get("to") != "" {
		from, to, err := app.DateRange(q.Get("from"), q.Get("to"), h.now())
		if err != nil {
			h.failWith(c, err)
			return
		}
		f.From, f.To = from, to
	}
	ps, err := h.reader().Postings(c.r.Context(), c.r.PathValue("number"), f)
	if err != nil {
		h.failWith(c, err)
		return
	}
	page := api.PostingPage{}
	if len(ps) > int(size) {
		ps = ps[:size]
		page.NextPageToken = pageToken(ps[len(ps)-1].TransactionID)
	}
	page.Postings = toPostings(ps)
	h.reply(c, http.StatusOK, page)
}

func (h *HTTP) statement(c *call) {
	size, ok := h.intParam(c, "page_size", 100, 1, 500)
	if !ok {
		return
	}
	after, ok := h.pageCursor(c)
	if !ok {
		return
	}
	q := c.r.URL.Query()
	var st app.Statement
	err := h.o.Snapshots.Consistent(c.r.Context(), func(ctx context.Context, r app.Reader) error {
		var err error
		st, err = h.o.Core.StatementPage(ctx, r, c.r.PathValue("number"), q.Get("from"), q.Get("to"), after, int(size))
		return err
	})
	if err != nil {
		h.failWith(c, err)
		return
	}
	h.reply(c, http.StatusOK, api.Statement{AccountNumber: st.Account.Number, Currency: st.Account.Currency,
		From: st.From, To: st.To, OpeningBalanceMinor: st.OpeningMinor, ClosingBalanceMinor: st.ClosingMinor,
		Postings: toPostings(st.Postings), NextPageToken: pageToken(st.NextAfterTx)})
}

// --- money movements -----------------------------------------------------------

func (h *HTTP) transfer(c *call) {
	var req api.TransferRequest
	if !h.decode(c, &req) {
		return
	}
	h.write(c, req, func(ctx context.Context, l app.Ledger, op string) (int, any, error) {
		t, err := h.o.Core.Transfer(ctx, l, app.TransferCmd{Debit: req.DebitAccount, Credit: req.CreditAccount,
			AmountMinor: req.AmountMinor, Currency: req.Currency, Description: req.Description, Reference: req.Reference}, op)
		return http.StatusCreated, toTransaction(t), err
	})
}

func (h *HTTP) cashIn(c *call)  { h.cash(c, true) }
func (h *HTTP) cashOut(c *call) { h.cash(c, false) }

func (h *HTTP) cash(c *call, in bool) {
	var req api.CashRequest
	if !h.decode(c, &req) {
		return
	}
	h.write(c, req, func(ctx context.Context, l app.Ledger, op string) (int, any, error) {
		cmd := app.CashCmd{Agent: req.AgentAccount, Account: req.Account, AmountMinor: req.AmountMinor,
			Currency: req.Currency, Description: req.Description, Reference: req.Reference}
		var (
			t   domain.Transaction
			err error
		)
		if in {
			t, err = h.o.Core.CashIn(ctx, l, cmd, op)
		} else {
			t, err = h.o.Core.CashOut(ctx, l, cmd, op)
		}
		return http.StatusCreated, toTransaction(t), err
	})
}

func (h *HTTP) transaction(c *call) {
	id, ok := domain.ParseTxID(c.r.PathValue("id"))
	if !ok {
		h.fail(c, http.StatusNotFound, api.CodeTransactionNotFound, "no transaction "+c.r.PathValue("id"), nil)
		return
	}
	t, err := h.reader().Transaction(c.r.Context(), id)
	if err != nil {
		h.failWith(c, err)
		return
	}
	h.reply(c, http.StatusOK, toTransaction(t))
}

// --- holds ------------------------------------------------------------------------

func (h *HTTP) holdID(c *call) (int64, bool) {
	id, ok := domain.ParseHoldID(c.r.PathValue("id"))
	if !ok {
		h.fail(c, http.StatusNotFound, api.CodeHoldNotFound, "no hold "+c.r.PathValue("id"), nil)
	}
	return id, ok
}

func (h *HTTP) createHold(c *call) {
	var req api.HoldRequest
	if !h.decode(c, &req) {
		return
	}
	h.write(c, req, func(ctx context.Context, l app.Ledger, op string) (int, any, error) {
		cmd := app.HoldCmd{Account: req.Account, AmountMinor: req.AmountMinor, Currency: req.Currency, Description: req.Description}
		if req.ExpiresAt != nil {
			cmd.ExpiresAt = *req.ExpiresAt
		}
		hd, err := h.o.Core.CreateHold(ctx, l, cmd, op)
		return http.StatusCreated, toHold(hd, nil), err
	})
}

func (h *HTTP) hold(c *call) {
	id, ok := h.holdID(c)
	if !ok {
		return
	}
	hd, err := h.reader().Hold(c.r.Context(), id)
	if err != nil {
		h.failWith(c, err)
		return
	}
	var capture *domain.Transaction
	if hd.TransactionID != 0 {
		t, err := h.reader().Transaction(c.r.Context(), hd.TransactionID)
		if err != nil {
			h.failWith(c, err)
			return
		}
		capture = &t
	}
	h.reply(c, http.StatusOK, toHold(hd, capture))
}

func (h *HTTP) captureHold(c *call) {
	id, ok := h.holdID(c)
	if !ok {
		return
	}
	var req api.CaptureRequest
	if !h.decode(c, &req) {
		return
	}
	h.write(c, req, func(ctx context.Context, l app.Ledger, op string) (int, any, error) {
		hd, t, err := h.o.Core.CaptureHold(ctx, l, app.CaptureCmd{HoldID: id, AmountMinor: req.AmountMinor,
			Credit: req.CreditAccount, Description: req.Description}, op)
		return http.StatusOK, toHold(hd, &t), err
	})
}

func (h *HTTP) voidHold(c *call) {
	id, ok := h.holdID(c)
	if !ok {
		return
	}
	var req struct{}
	if !h.decode(c, &req) {
		return
	}
	h.write(c, req, func(ctx context.Context, l app.Ledger, _ string) (int, any, error) {
		hd, err := h.o.Core.VoidHold(ctx, l, id)
		return http.StatusOK, toHold(hd, nil), err
	})
}

// --- operations and the change feed ----------------------------------------------

// operation answers "what happened to key K": the caller's own keys; the
// operator may name another caller with ?caller=.
func (h *HTTP) operation(c *call) {
	caller := c.caller
	if other := c.r.URL.Query().Get("caller"); other != "" && c.caller == OperatorName {
		caller = other
	}
	op, err := h.reader().Operation(c.r.Context(), caller, c.r.PathValue("key"), h.now())
	if err != nil {
		h.failWith(c, err)
		return
	}
	out := api.Operation{IdempotencyKey: op.Key, Status: op.Status, HTTPStatus: op.HTTPStatus, CreatedAt: op.CreatedAt.UTC()}
	if op.Status == domain.OperationCompleted {
		out.Response = json.RawMessage(op.Response)
		if !json.Valid(out.Response) {
			out.Response = nil
		}
		done := op.CompletedAt.UTC()
		out.CompletedAt = &done
	}
	h.reply(c, http.StatusOK, out)
}

// maxFeedWait bounds a long poll below common proxy idle timeouts.
const maxFeedWait = 30 * time.Second

// feed answers postings numbered after ?after=, waiting up to ?wait= (a Go
// duration, at most 30s) for the first one when there is none yet.
func (h *HTTP) feed(c *call) {
	after, ok := h.intParam(c, "after", 0, 0, 1<<62)
	if !ok {
		return
	}
	limit, ok := h.intParam(c, "limit", 100, 1, 1000)
	if !ok {
		return
	}
	var wait time.Duration
	if s := c.r.URL.Query().Get("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > maxFeedWait {
			h.fail(c, http.StatusBadRequest, api.CodeMalformed, "wait must be a duration from 0s to 30s", map[string]string{"field": "wait"})
			return
		}
		wait = d
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		changed := h.o.Feed.Changed() // taken before the read, so no posting slips between
		ps, head, err := h.reader().Feed(c.r.Context(), after, int(limit))
		if err != nil {
			h.failWith(c, err)
			return
		}
		if len(ps) > 0 || wait == 0 {
			next := after
			if len(ps) > 0 {
				next = ps[len(ps)-1].Seq
			}
			h.reply(c, http.StatusOK, api.FeedPage{Postings: toPostings(ps), NextAfter: next, Head: head})
			return
		}
		select {
		case <-changed:
			continue
		case <-deadline.C:
		case <-c.r.Context().Done():
			c.status = 499
			return
		case <-h.o.Stopping:
		}
		wait = 0 // one last read, then answer whatever there is
	}
}

// --- admin --------------------------------------------------------------------------

func (h *HTTP) injectMovement(c *call) {
	var req api.MovementRequest
	if !h.decode(c, &req) {
		return
	}
	h.write(c, req, func(ctx context.Context, l app.Ledger, op string) (int, any, error) {
		t, err := h.o.Core.Inject(ctx, l, domain.Movement{Kind: domain.MovementKind(req.Kind), Account: req.Account,
			AmountMinor: req.AmountMinor, Currency: req.Currency, Description: req.Description}, op)
		return http.StatusCreated, toTransaction(t), err
	})
}

func (h *HTTP) setAccountStatus(c *call) {
	var req api.AccountStatusRequest
	if !h.decode(c, &req) {
		return
	}
	number := c.r.PathValue("number")
	h.write(c, req, func(ctx context.Context, l app.Ledger, _ string) (int, any, error) {
		a, err := h.o.Core.SetAccountStatus(ctx, l, number, req.Status)
		return http.StatusOK, toAccount(a, h.now()), err
	})
}

func (h *HTTP) audit(c *call) {
	a, err := h.o.Audit(c.r.Context())
	if err != nil {
		h.failWith(c, err)
		return
	}
	h.reply(c, http.StatusOK, a)
}
