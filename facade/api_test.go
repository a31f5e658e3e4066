package facade_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"github.com/andes-bank/andes/facade/app"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	identityv1 "github.com/andes-bank/andes/gen/andes/identity/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/checkdigit"
	"github.com/andes-bank/andes/platform/rpcstatus"
)

func TestRefusalsAreTranslated(t *testing.T) {
	s := newStack(t, stackOptions{})
	maria, carlos := s.demo.Customer("maria"), s.demo.Customer("carlos")
	pen, checking, usd := maria.Accounts[0].Number, maria.Accounts[1].Number, maria.Accounts[2].Number
	blocked := carlos.Accounts[0].Number
	check, err := checkdigit.Mod97("999999999999")
	if err != nil {
		t.Fatal(err)
	}
	nobody := "999999999999" + check // valid check digits, no such account

	cases := []struct {
		name   string
		req    *facadev1.TransferRequest
		code   codes.Code
		reason string
	}{
		{"insufficient funds", transfer(uuid.NewString(), pen, checking, 999_999_999), codes.FailedPrecondition, "INSUFFICIENT_FUNDS"},
		{"account blocked", transfer(uuid.NewString(), pen, blocked, 100), codes.FailedPrecondition, "ACCOUNT_BLOCKED"},
		{"not found", transfer(uuid.NewString(), pen, nobody, 100), codes.NotFound, "NOT_FOUND"},
		{"currency mismatch", transfer(uuid.NewString(), pen, usd, 100), codes.FailedPrecondition, "CURRENCY_MISMATCH"},
		{"same account", transfer(uuid.NewString(), pen, pen, 100), codes.InvalidArgument, "VALIDATION_FAILED"},
		{"operation id not a uuid", transfer("op-1", pen, checking, 100), codes.InvalidArgument, "VALIDATION_FAILED"},
		{"amount not positive", transfer(uuid.NewString(), pen, checking, 0), codes.InvalidArgument, "VALIDATION_FAILED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.client.Transfer(ctx(t), c.req)
			wantReason(t, err, c.code, c.reason)
		})
	}

	// A refused operation's outcome is known later too.
	op := cases[0].req.GetOperationId()
	g, err := s.client.GetTransaction(ctx(t), &facadev1.GetTransactionRequest{OperationId: op})
	if err != nil {
		t.Fatal(err)
	}
	if g.GetTransaction().GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_REJECTED ||
		g.GetTransaction().GetRejectionReason() != errorsv1.Reason_REASON_INSUFFICIENT_FUNDS {
		t.Fatalf("rejected operation: %v", g.GetTransaction())
	}
	// Operation ids are the caller's own: another caller asking about the same
	// id asks about its own, which never happened.
	g, err = s.as("customer").GetTransaction(ctx(t), &facadev1.GetTransactionRequest{OperationId: op})
	if err != nil || g.GetTransaction().GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_NOT_RECEIVED {
		t.Fatalf("another caller's view: %v %v", g.GetTransaction(), err)
	}
	s.audit()
}

func TestCashAtAnAgent(t *testing.T) {
	s := newStack(t, stackOptions{})
	jose := s.demo.Customer("jose")
	account, agent := jose.Accounts[0].Number, s.demo.Agents[0].Account.Number
	before := balanceOf(s.mustSnapshot(jose.CoreNumber).GetSnapshot(), account)

	in, err := s.client.CashIn(ctx(t), &facadev1.CashInRequest{OperationId: uuid.NewString(), AccountNumber: account,
		AgentAccountNumber: agent, Amount: &moneyv1.Money{AmountMinor: 20_000, Currency: "PEN"}, AgentReference: "R-1001"})
	if err != nil || in.GetTransaction().GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_COMPLETED {
		t.Fatalf("cash-in: %v %v", in.GetTransaction(), err)
	}
	out, err := s.client.CashOut(ctx(t), &facadev1.CashOutRequest{OperationId: uuid.NewString(), AccountNumber: account,
		AgentAccountNumber: agent, Amount: &moneyv1.Money{AmountMinor: 5_000, Currency: "PEN"}, AgentReference: "R-1002"})
	if err != nil || out.GetTransaction().GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_COMPLETED {
		t.Fatalf("cash-out: %v %v", out.GetTransaction(), err)
	}
	snap := s.mustSnapshot(jose.CoreNumber).GetSnapshot()
	if got := balanceOf(snap, account); got != before+15_000 {
		t.Fatalf("balance %d, want %d", got, before+15_000)
	}
	kinds := []facadev1.MovementKind{snap.GetLatestMovements()[0].GetKind(), snap.GetLatestMovements()[1].GetKind()}
	if kinds[0] != facadev1.MovementKind_MOVEMENT_KIND_CASH_OUT || kinds[1] != facadev1.MovementKind_MOVEMENT_KIND_CASH_IN {
		t.Fatalf("latest kinds %v", kinds)
	}
	// Cash-out beyond the balance is refused.
	_, err = s.client.CashOut(ctx(t), &facadev1.CashOutRequest{OperationId: uuid.NewString(), AccountNumber: account,
		AgentAccountNumber: agent, Amount: &moneyv1.Money{AmountMinor: 900_000_000, Currency: "PEN"}})
	wantReason(t, err, codes.FailedPrecondition, "INSUFFICIENT_FUNDS")
	// A customer account is no agent.
	_, err = s.client.CashIn(ctx(t), &facadev1.CashInRequest{OperationId: uuid.NewString(), AccountNumber: account,
		AgentAccountNumber: s.demo.Customer("maria").Accounts[0].Number, Amount: &moneyv1.Money{AmountMinor: 100, Currency: "PEN"}})
	wantReason(t, err, codes.InvalidArgument, "VALIDATION_FAILED")
	s.audit()
}

func TestCreateCustomerAndOpenAccount(t *testing.T) {
	s := newStack(t, stackOptions{})
	op := uuid.NewString()
	req := &facadev1.CreateCustomerRequest{OperationId: op,
		Document:   &identityv1.IdentityDocument{Type: identityv1.DocumentType_DOCUMENT_TYPE_DNI, Number: "77665544"},
		GivenNames: "Rosa", FamilyNames: "Condori Apaza", BirthDate: "1995-06-30", Email: "rosa@example.pe", PhoneNumber: "+51944433322"}
	c, err := s.client.CreateCustomer(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	number := c.GetProfile().GetCustomerNumber()
	if number == "" || c.GetProfile().GetDocument().GetNumber() != "77665544" || c.GetProfile().GetPhoneNumber() != "+51944433322" {
		t.Fatalf("created: %v", c.GetProfile())
	}
	// The same operation again answers the same customer; another operation
	// with the same document is refused.
	again, err := s.client.CreateCustomer(ctx(t), req)
	if err != nil || again.GetProfile().GetCustomerNumber() != number {
		t.Fatalf("replay: %v %v", again.GetProfile(), err)
	}
	req.OperationId = uuid.NewString()
	_, err = s.client.CreateCustomer(ctx(t), req)
	wantReason(t, err, codes.AlreadyExists, "ALREADY_EXISTS")

	if snap := s.mustSnapshot(number).GetSnapshot(); len(snap.GetAccounts()) != 0 {
		t.Fatalf("new customer with accounts: %v", snap.GetAccounts())
	}
	a, err := s.client.OpenAccount(ctx(t), &facadev1.OpenAccountRequest{OperationId: uuid.NewString(), CustomerNumber: number,
		Type: facadev1.AccountType_ACCOUNT_TYPE_SAVINGS, Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	acct := a.GetAccount()
	if acct.GetCustomerNumber() != number || acct.GetCurrency() != "USD" || acct.GetType() != facadev1.AccountType_ACCOUNT_TYPE_SAVINGS ||
		acct.GetStatus() != facadev1.AccountStatus_ACCOUNT_STATUS_ACTIVE || acct.GetLedgerBalance().GetAmountMinor() != 0 {
		t.Fatalf("opened: %v", acct)
	}
	// The cached snapshot was marked stale by the facade's own write.
	r := s.mustSnapshot(number)
	if r.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CORE || len(r.GetSnapshot().GetAccounts()) != 1 {
		t.Fatalf("after opening: %s %v", r.GetSource(), r.GetSnapshot().GetAccounts())
	}
	g, err := s.client.GetAccount(ctx(t), &facadev1.GetAccountRequest{AccountNumber: acct.GetAccountNumber()})
	if err != nil || g.GetHolderName() != "Rosa Condori Apaza" {
		t.Fatalf("get account: %v %v", g, err)
	}
	_, err = s.client.OpenAccount(ctx(t), &facadev1.OpenAccountRequest{OperationId: uuid.NewString(), CustomerNumber: "CU99999999",
		Type: facadev1.AccountType_ACCOUNT_TYPE_CHECKING, Currency: "PEN"})
	wantReason(t, err, codes.NotFound, "NOT_FOUND")
}

func TestListMovementsPages(t *testing.T) {
	s := newStack(t, stackOptions{})
	account := s.demo.Customer("maria").Accounts[0].Number
	seen := map[string]bool{}
	token := ""
	pages := 0
	for {
		r, err := s.client.ListMovements(ctx(t), &facadev1.ListMovementsRequest{AccountNumber: account, PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(r.GetMovements()) > 3 {
			t.Fatalf("page of %d", len(r.GetMovements()))
		}
		for i, m := range r.GetMovements() {
			if seen[m.GetPostingId()] {
				t.Fatalf("posting %s on two pages", m.GetPostingId())
			}
			seen[m.GetPostingId()] = true
			if i > 0 && m.GetBookedAt().AsTime().After(r.GetMovements()[i-1].GetBookedAt().AsTime()) {
				t.Fatal("not newest first")
			}
		}
		if token = r.GetNextPageToken(); token == "" {
			break
		}
	}
	if pages < 3 || len(seen) < 7 {
		t.Fatalf("%d movements on %d pages", len(seen), pages)
	}

	// A date range carries the balances at its ends.
	last, err := time.Parse(time.DateOnly, s.mustSnapshot(s.demo.Customer("maria").CoreNumber).GetSnapshot().GetLatestMovements()[0].GetValueDate())
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.client.ListMovements(ctx(t), &facadev1.ListMovementsRequest{AccountNumber: account,
		FromDate: last.AddDate(0, 0, -60).Format(time.DateOnly), ToDate: last.Format(time.DateOnly), PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetOpeningBalance() == nil || r.GetClosingBalance() == nil || r.GetClosingBalance().GetCurrency() != "PEN" ||
		r.GetOpeningBalance().GetAmountMinor() != 0 || len(r.GetMovements()) != len(seen) {
		t.Fatalf("range balances: %v %v", r.GetOpeningBalance(), r.GetClosingBalance())
	}
	_, err = s.client.ListMovements(ctx(t), &facadev1.ListMovementsRequest{AccountNumber: account, FromDate: "2026-02-01"})
	wantReason(t, err, codes.InvalidArgument, "VALIDATION_FAILED")
	_, err = s.client.ListMovements(ctx(t), &facadev1.ListMovementsRequest{AccountNumber: account, PageToken: "not-a-token"})
	wantReason(t, err, codes.InvalidArgument, "VALIDATION_FAILED")
}

func TestOperatorMayOnlyReadSnapshots(t *testing.T) {
	s := newStack(t, stackOptions{})
	maria := s.demo.Customer("maria")
	op := s.as("operator")
	if _, err := op.GetCustomerSnapshot(ctx(t), &facadev1.GetCustomerSnapshotRequest{CustomerNumber: maria.CoreNumber}); err != nil {
		t.Fatalf("operator snapshot: %v", err)
	}
	id := uuid.NewString()
	_, err := op.Transfer(ctx(t), transfer(id, maria.Accounts[0].Number, maria.Accounts[1].Number, 1))
	if rpcstatus.Read(err).Code != codes.PermissionDenied {
		t.Fatalf("operator transfer: %v", err)
	}
	if _, err := op.GetAccount(ctx(t), &facadev1.GetAccountRequest{AccountNumber: maria.Accounts[0].Number}); err == nil {
		t.Fatal("the operator read an account")
	}
	if n := s.postingsOf(app.Key("operator", id)); n != 0 {
		t.Fatalf("%d postings by the operator", n)
	}
}
