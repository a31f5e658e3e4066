package controller_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	eventsv1 "github.com/andes-bank/andes/gen/andes/events/v1"
	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/testenv"
)

// accounts are a persona's accounts in Andes ids, as the customer service has
// them (asked as the controller, which may see any).
func (s *stack) accounts(key string) []*customerv1.Account {
	s.t.Helper()
	c := s.ds.Customer(key)
	conn := s.dial(s.procs["customer"].grpc, "controller", "customer")
	resp, err := customerv1.NewCustomerServiceClient(conn).ListAccounts(ctxT(s.t), &customerv1.ListAccountsRequest{CustomerId: c.ID, IncludeClosed: true})
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.GetAccounts()
}

// balance is an account's ledger balance in the core, through the facade.
func (s *stack) balance(t testing.TB, number string) int64 {
	t.Helper()
	resp, err := s.facade.GetAccount(ctxT(t), &facadev1.GetAccountRequest{AccountNumber: number})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetAccount().GetLedgerBalance().GetAmountMinor()
}

func pen(minor int64) *moneyv1.Money { return &moneyv1.Money{AmountMinor: minor, Currency: "PEN"} }

func refused(t testing.TB, err error, code codes.Code, want string) {
	t.Helper()
	if r := rpcstatus.Read(err); r.Code != code || r.Reason != want {
		t.Fatalf("got %v (reason %q), want %v %s", err, r.Reason, code, want)
	}
}

func challenge(t testing.TB, err error) *authv1.StepUpChallenge {
	t.Helper()
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if c, ok := d.(*authv1.StepUpChallenge); ok {
			return c
		}
	}
	t.Fatalf("no StepUpChallenge in %v", err)
	return nil
}

// account picks a persona's account by currency and type.
func pick(t testing.TB, accs []*customerv1.Account, currency string, typ customerv1.AccountType) *customerv1.Account {
	t.Helper()
	for _, a := range accs {
		if a.GetCurrency() == currency && (typ == customerv1.AccountType_ACCOUNT_TYPE_UNSPECIFIED || a.GetType() == typ) {
			return a
		}
	}
	t.Fatalf("no %s %v account", currency, typ)
	return nil
}

// controllerDB is the main controller's database.
func (s *stack) controllerDB(t testing.TB) *pgxpool.Pool {
	pool, err := pgxpool.New(ctxT(t), s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func key() string { return "k-" + uuid.NewString() }

// outboxEvent is the TransferCompleted event the controller's outbox holds for an
// operation, or nil.
func (s *stack) outboxEvent(t testing.TB, operationID string) *eventsv1.TransferCompleted {
	t.Helper()
	rows, err := s.controllerDB(t).Query(ctxT(t), `SELECT event_type, payload FROM controller.outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ string
		var payload []byte
		if err := rows.Scan(&typ, &payload); err != nil {
			t.Fatal(err)
		}
		var env eventsv1.Envelope
		if err := proto.Unmarshal(payload, &env); err != nil {
			t.Fatal(err)
		}
		if env.GetIdempotencyKey() != operationID || typ != "andes.events.v1.TransferCompleted" {
			continue
		}
		var ev eventsv1.TransferCompleted
		if err := env.GetPayload().UnmarshalTo(&ev); err != nil {
			t.Fatal(err)
		}
		return &ev
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return nil
}

func TestController(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the core simulator, the facade, customer, auth and sms; skipped under -short")
	}
	s := start(t)
	maria, jose, carlos := s.ds.Customer("maria"), s.ds.Customer("jose"), s.ds.Customer("carlos")
	mariaAccs, joseAccs := s.accounts("maria"), s.accounts("jose")
	mariaSavings := pick(t, mariaAccs, "PEN", customerv1.AccountType_ACCOUNT_TYPE_SAVINGS)
	mariaChecking := pick(t, mariaAccs, "PEN", customerv1.AccountType_ACCOUNT_TYPE_CHECKING)
	mariaUSD := pick(t, mariaAccs, "USD", customerv1.AccountType_ACCOUNT_TYPE_UNSPECIFIED)
	joseSavings := pick(t, joseAccs, "PEN", customerv1.AccountType_ACCOUNT_TYPE_SAVINGS)
	mobile := s.client("bff-mobile")

	t.Run("a transfer between own accounts moves the money in the core and shows on the statement", func(t *testing.T) {
		ctx := s.asCustomer(ctxT(t), "maria")
		before, beforeDst := s.balance(t, mariaSavings.GetAccountNumber()), s.balance(t, mariaChecking.GetAccountNumber())
		resp, err := mobile.Transfer(ctx, &controllerv1.TransferRequest{IdempotencyKey: key(), CustomerId: maria.ID,
			SourceAccountId: mariaSavings.GetAccountId(), Destination: &controllerv1.TransferRequest_DestinationAccountId{DestinationAccountId: mariaChecking.GetAccountId()},
			Amount: pen(1234), Description: "ahorro a corriente"})
		if err != nil {
			t.Fatal(err)
		}
		op := resp.GetOperation()
		if op.GetStatus() != controllerv1.OperationStatus_OPERATION_STATUS_COMPLETED || op.GetCoreTransactionId() == "" ||
			op.GetTransfer().GetNewBeneficiary() || op.GetChannel() != controllerv1.Channel_CHANNEL_MOBILE {
			t.Fatalf("operation: %v", op)
		}
		if got := s.balance(t, mariaSavings.GetAccountNumber()); got != before-1234 {
			t.Errorf("source balance %d, want %d", got, before-1234)
		}
		if got := s.balance(t, mariaChecking.GetAccountNumber()); got != beforeDst+1234 {
			t.Errorf("destination balance %d, want %d", got, beforeDst+1234)
		}
		got, err := mobile.GetOperation(ctx, &controllerv1.GetOperationRequest{OperationId: op.GetOperationId()})
		if err != nil || !proto.Equal(got.GetOperation(), op) {
			t.Fatalf("GetOperation: %v, %v; want %v", got, err, op)
		}
		today := time.Now().In(time.FixedZone("Lima", -5*3600)).Format(time.DateOnly)
		st, err := mobile.GetStatement(ctx, &controllerv1.GetStatementRequest{CustomerId: maria.ID, AccountId: mariaSavings.GetAccountId(),
			FromDate: today, ToDate: today})
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, m := range st.GetMovements() {
			if m.GetOperationId() == op.GetOperationId() && m.GetAmount().GetAmountMinor() == -1234 {
				found = true
			}
		}
		if !found || st.GetClosingBalance().GetAmountMinor() != before-1234 {
			t.Errorf("statement %v lacks the transfer or closes at %d (want %d)", st.GetMovements(), st.GetClosingBalance().GetAmountMinor(), before-1234)
		}
		// The completed operation's event was written with it, in the outbox.
		ev := s.outboxEvent(t, op.GetOperationId())
		if ev == nil || ev.GetAmount().GetAmountMinor() != 1234 || ev.GetDestinationCustomerId() != maria.ID ||
			ev.GetCoreTransactionId() != op.GetCoreTransactionId() {
			t.Errorf("TransferCompleted in the outbox: %v", ev)
		}
	})

	// toJose is a transfer from María's savings to José's account number.
	toJose := func(k string, minor int64, proof *authv1.StepUpProof) *controllerv1.TransferRequest {
		return &controllerv1.TransferRequest{IdempotencyKey: k, CustomerId: maria.ID, SourceAccountId: mariaSavings.GetAccountId(),
			Destination: &controllerv1.TransferRequest_DestinationAccountNumber{DestinationAccountNumber: joseSavings.GetAccountNumber()},
			Amount:      pen(minor), Description: "pago a José", StepUp: proof}
	}

	t.Run("a first payment to another customer's account number needs the one-time code sent to the payer", func(t *testing.T) {
		ctx := s.asCustomer(ctxT(t), "maria")
		before, beforeJose := s.balance(t, mariaSavings.GetAccountNumber()), s.balance(t, joseSavings.GetAccountNumber())
		k := key()
		_, err := mobile.Transfer(ctx, toJose(k, 5000, nil))
		refused(t, err, codes.PermissionDenied, "STEP_UP_REQUIRED")
		ch := challenge(t, err)
		if ch.GetPurpose() != authv1.StepUpPurpose_STEP_UP_PURPOSE_NEW_BENEFICIARY || ch.GetMaskedDestination() == "" {
			t.Errorf("challenge %v", ch)
		}
		if s.balance(t, mariaSavings.GetAccountNumber()) != before {
			t.Fatal("money moved before the step-up")
		}
		code := s.lastCode(maria.Phone)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		_, err = mobile.Transfer(ctx, toJose(k, 5000, &authv1.StepUpProof{ChallengeId: ch.GetChallengeId(), Code: wrong}))
		refused(t, err, codes.PermissionDenied, "STEP_UP_CODE_INVALID")

		resp, err := mobile.Transfer(ctx, toJose(k, 5000, &authv1.StepUpProof{ChallengeId: ch.GetChallengeId(), Code: code}))
		if err != nil {
			t.Fatal(err)
		}
		op := resp.GetOperation()
		if op.GetStatus() != controllerv1.OperationStatus_OPERATION_STATUS_COMPLETED || !op.GetTransfer().GetNewBeneficiary() ||
			op.GetTransfer().GetMaskedBeneficiaryName() == "" || op.GetTransfer().GetDestinationAccountId() != "" {
			t.Fatalf("operation %v", op)
		}
		if got := s.balance(t, mariaSavings.GetAccountNumber()); got != before-5000 {
			t.Errorf("María's balance %d, want %d", got, before-5000)
		}
		if got := s.balance(t, joseSavings.GetAccountNumber()); got != beforeJose+5000 {
			t.Errorf("José's balance %d, want %d", got, beforeJose+5000)
		}

		// José is a beneficiary now: the next payment needs no code.
		resp, err = mobile.Transfer(ctx, toJose(key(), 700, nil))
		if err != nil || resp.GetOperation().GetTransfer().GetNewBeneficiary() {
			t.Fatalf("second payment: %v, %v", resp, err)
		}
		bs, err := mobile.ListBeneficiaries(ctx, &controllerv1.ListBeneficiariesRequest{CustomerId: maria.ID})
		if err != nil || len(bs.GetBeneficiaries()) != 1 || bs.GetBeneficiaries()[0].GetAccountNumber() != joseSavings.GetAccountNumber() {
			t.Fatalf("beneficiaries %v, %v", bs, err)
		}
	})

	t.Run("a retried transfer moves the money once and answers the same; another request with the key is refused", func(t *testing.T) {
		ctx := s.asCustomer(ctxT(t), "maria")
		before := s.balance(t, mariaSavings.GetAccountNumber())
		k := key()
		req := &controllerv1.TransferRequest{IdempotencyKey: k, CustomerId: maria.ID, SourceAccountId: mariaSavings.GetAccountId(),
			Destination: &controllerv1.TransferRequest_DestinationAccountId{DestinationAccountId: mariaChecking.GetAccountId()}, Amount: pen(321)}
		first, err := mobile.Transfer(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := mobile.Transfer(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(first, again) {
			t.Errorf("replay %v differs from %v", again, first)
		}
		if got := s.balance(t, mariaSavings.GetAccountNumber()); got != before-321 {
			t.Errorf("balance %d, want %d (moved once)", got, before-321)
		}
		other := proto.CloneOf(req)
		other.Amount = pen(322)
		_, err = mobile.Transfer(ctx, other)
		refused(t, err, codes.FailedPrecondition, "IDEMPOTENCY_MISMATCH")
		// The key is the caller's: the web app may use the same string for its own request.
		if _, err := s.client("bff-web").Transfer(metadata.AppendToOutgoingContext(ctxT(t), "authorization",
			"Bearer "+s.token(maria.ID, "andes-web", "", customerScopes)), other); err != nil {
			t.Errorf("the same key from another client: %v", err)
		}
	})

	t.Run("refusals: daily limit, funds, blocked account, currency, amount rules", func(t *testing.T) {
		ctx := s.asCustomer(ctxT(t), "maria")
		before := s.balance(t, mariaSavings.GetAccountNumber())
		// 200,000 a day leave María's accounts at most (the harness's limit), less
		// what other payments used today.
		lim, err := mobile.GetDailyLimits(ctx, &controllerv1.GetDailyLimitsRequest{CustomerId: maria.ID})
		if err != nil {
			t.Fatal(err)
		}
		var penLimit *controllerv1.DailyLimit
		for _, l := range lim.GetLimits() {
			if l.GetLimit().GetCurrency() == "PEN" {
				penLimit = l
			}
		}
		used, remaining := penLimit.GetUsed().GetAmountMinor(), penLimit.GetRemaining().GetAmountMinor()
		if penLimit.GetLimit().GetAmountMinor() != 200_000 || used < 0 || remaining != 200_000-used {
			t.Fatalf("PEN limit %v", penLimit)
		}
		over := remaining + 1 // within the per-operation limit and María's funds
		_, err = mobile.Transfer(ctx, toJose(key(), over, nil))
		refused(t, err, codes.FailedPrecondition, "DAILY_LIMIT_EXCEEDED")

		bs, err := mobile.ListBeneficiaries(ctx, &controllerv1.ListBeneficiariesRequest{CustomerId: maria.ID})
		if err != nil {
			t.Fatal(err)
		}
		joseKnown := false
		for _, b := range bs.GetBeneficiaries() {
			joseKnown = joseKnown || b.GetAccountNumber() == joseSavings.GetAccountNumber()
		}
		pv, err := mobile.PreviewTransfer(ctx, &controllerv1.PreviewTransferRequest{CustomerId: maria.ID, SourceAccountId: mariaSavings.GetAccountId(),
			Destination: &controllerv1.PreviewTransferRequest_DestinationAccountNumber{DestinationAccountNumber: joseSavings.GetAccountNumber()},
			Amount:      pen(100)})
		if err != nil || pv.GetStepUpRequired() == joseKnown || pv.GetMaskedBeneficiaryName() == "" || pv.GetDailyLimit().GetRemaining().GetAmountMinor() != remaining {
			t.Errorf("preview %v, %v (José a known beneficiary: %v, remaining %d)", pv, err, joseKnown, remaining)
		}
		_, err = mobile.PreviewTransfer(ctx, &controllerv1.PreviewTransferRequest{CustomerId: maria.ID, SourceAccountId: mariaSavings.GetAccountId(),
			Destination: &controllerv1.PreviewTransferRequest_DestinationAccountNumber{DestinationAccountNumber: joseSavings.GetAccountNumber()},
			Amount:      pen(over)})
		refused(t, err, codes.FailedPrecondition, "DAILY_LIMIT_EXCEEDED")

		// Own transfers do not count toward the limit, but need the funds.
		_, err = mobile.Transfer(ctx, &controllerv1.TransferRequest{IdempotencyKey: key(), CustomerId: maria.ID,
			SourceAccountId: mariaChecking.GetAccountId(), Destination: &controllerv1.TransferRequest_DestinationAccountId{DestinationAccountId: mariaSavings.GetAccountId()},
			Amount: pen(900_000)})
		refused(t, err, codes.FailedPrecondition, "INSUFFICIENT_FUNDS")

		_, err = mobile.Transfer(ctx, &controllerv1.TransferRequest{IdempotencyKey: key(), CustomerId: maria.ID,
			SourceAccountId: mariaSavings.GetAccountId(), Destination: &controllerv1.TransferRequest_DestinationAccountId{DestinationAccountId: mariaUSD.GetAccountId()},
			Amount: pen(100)})
		refused(t, err, codes.FailedPrecondition, "CURRENCY_MISMATCH")

		_, err = mobile.Transfer(ctx, toJose(key(), 1_000_001, nil))
		refused(t, err, codes.FailedPrecondition, "TRANSACTION_LIMIT_EXCEEDED")

		carlosAcc := s.accounts("carlos")[0]
		_, err = mobile.Transfer(s.asCustomer(ctxT(t), "carlos"), &controllerv1.TransferRequest{IdempotencyKey: key(), CustomerId: carlos.ID,
			SourceAccountId: carlosAcc.GetAccountId(), Destination: &controllerv1.TransferRequest_DestinationAccountNumber{DestinationAccountNumber: mariaSavings.GetAccountNumber()},
			Amount: pen(100)})
		refused(t, err, codes.FailedPrecondition, "ACCOUNT_BLOCKED")

		if got := s.balance(t, mariaSavings.GetAccountNumber()); got != before {
			t.Errorf("a refusal moved money: %d, want %d", got, before)
		}
		// A refusal is stored with its key and replayed.
		k := key()
		_, err = mobile.Transfer(ctx, toJose(k, over, nil))
		refused(t, err, codes.FailedPrecondition, "DAILY_LIMIT_EXCEEDED")
		_, err = mobile.Transfer(ctx, toJose(k, over, nil))
		refused(t, err, codes.FailedPrecondition, "DAILY_LIMIT_EXCEEDED")
	})

	t.Run("another customer's or partner's ids are not found and move nothing", func(t *testing.T) {
		joseCtx := s.asCustomer(ctxT(t), "jose")
		mine, err := mobile.Transfer(s.asCustomer(ctxT(t), "maria"), &controllerv1.TransferRequest{IdempotencyKey: key(), CustomerId: maria.ID,
			SourceAccountId: mariaSavings.GetAccountId(), Destination: &controllerv1.TransferRequest_DestinationAccountId{DestinationAccountId: mariaChecking.GetAccountId()},
			Amount: pen(100)})
		if err != nil {
			t.Fatal(err)
		}
		before := s.balance(t, mariaSavings.GetAccountNumber())
		// José names María as the payer.
		_, err = mobile.Transfer(joseCtx, toJose(key(), 100, nil))
		refused(t, err, codes.NotFound, "NOT_FOUND")
		// José pays from María's account as himself.
		_, err = mobile.Transfer(joseCtx, &controllerv1.TransferRequest{IdempotencyKey: key(), CustomerId: jose.ID,
			SourceAccountId: mariaSavings.GetAccountId(), Destination: &controllerv1.TransferRequest_DestinationAccountId{DestinationAccountId: joseSavings.GetAccountId()},
			Amount: pen(100)})
		refused(t, err, codes.NotFound, "NOT_FOUND")
		// José credits María's account as if it were his own.
		_, err = mobile.Transfer(joseCtx, &controllerv1.TransferRequest{IdempotencyKey: key(), CustomerId: jose.ID,
			SourceAccountId: joseSavings.GetAccountId(), Destination: &controllerv1.TransferRequest_DestinationAccountId{DestinationAccountId: mariaSavings.GetAccountId()},
			Amount: pen(100)})
		refused(t, err, codes.NotFound, "NOT_FOUND")
		_, err = mobile.GetOperation(joseCtx, &controllerv1.GetOperationRequest{OperationId: mine.GetOperation().GetOperationId()})
		refused(t, err, codes.NotFound, "NOT_FOUND")
		_, err = mobile.GetStatement(joseCtx, &controllerv1.GetStatementRequest{CustomerId: maria.ID, AccountId: mariaSavings.GetAccountId(),
			FromDate: "2026-01-01", ToDate: "2026-01-31"})
		refused(t, err, codes.NotFound, "NOT_FOUND")
		// A partner acts only on the customers it onboarded (María is the bank's own).
		yaku := s.ds.Partner("yaku")
		_, err = s.client("bff-partner").Transfer(s.asClient(ctxT(t), yaku.ClientID, yaku.Key, "transfers:write accounts:read"), toJose(key(), 100, nil))
		refused(t, err, codes.NotFound, "NOT_FOUND")
		if got := s.balance(t, mariaSavings.GetAccountNumber()); got != before {
			t.Errorf("María's balance %d, want %d", got, before)
		}
		// No token at all.
		_, err = mobile.GetOperation(ctxT(t), &controllerv1.GetOperationRequest{OperationId: uuid.NewString()})
		refused(t, err, codes.Unauthenticated, "INVALID_TOKEN")
	})

	t.Run("an agent's cash-in credits the customer and debits the agent; cash-out needs the holder's code", func(t *testing.T) {
		agent := s.ds.Agents[0]
		partner := s.client("bff-partner")
		ctx := s.asClient(ctxT(t), agent.ClientID, agent.Partner, "cash")
		before, agentBefore := s.balance(t, mariaSavings.GetAccountNumber()), s.balance(t, agent.Account.Number)
		resp, err := partner.CashIn(ctx, &controllerv1.CashInRequest{IdempotencyKey: key(), AgentPartnerId: agent.Partner,
			AccountNumber: mariaSavings.GetAccountNumber(), Amount: pen(4000), AgentReference: "R-0001"})
		if err != nil {
			t.Fatal(err)
		}
		op := resp.GetOperation()
		if op.GetStatus() != controllerv1.OperationStatus_OPERATION_STATUS_COMPLETED || op.GetCustomerId() != maria.ID ||
			op.GetChannel() != controllerv1.Channel_CHANNEL_AGENT || op.GetCash().GetAccountId() != mariaSavings.GetAccountId() {
			t.Fatalf("operation %v", op)
		}
		if got := s.balance(t, mariaSavings.GetAccountNumber()); got != before+4000 {
			t.Errorf("customer balance %d, want %d", got, before+4000)
		}
		if got := s.balance(t, agent.Account.Number); got != agentBefore-4000 {
			t.Errorf("agent balance %d, want %d", got, agentBefore-4000)
		}
		// The agent follows its own operation; another partner does not see it.
		if _, err := partner.GetOperation(ctx, &controllerv1.GetOperationRequest{OperationId: op.GetOperationId()}); err != nil {
			t.Errorf("agent's GetOperation: %v", err)
		}
		yaku := s.ds.Partner("yaku")
		yakuCtx := s.asClient(ctxT(t), yaku.ClientID, yaku.Key, "transfers:write accounts:read")
		_, err = partner.GetOperation(yakuCtx, &controllerv1.GetOperationRequest{OperationId: op.GetOperationId()})
		refused(t, err, codes.NotFound, "NOT_FOUND")
		// Without the cash scope, or for another partner's agent, nothing happens.
		_, err = partner.CashIn(yakuCtx, &controllerv1.CashInRequest{IdempotencyKey: key(), AgentPartnerId: yaku.Key,
			AccountNumber: mariaSavings.GetAccountNumber(), Amount: pen(4000), AgentReference: "R-0002"})
		refused(t, err, codes.PermissionDenied, "INSUFFICIENT_SCOPE")
		_, err = partner.CashIn(ctx, &controllerv1.CashInRequest{IdempotencyKey: key(), AgentPartnerId: "yaku",
			AccountNumber: mariaSavings.GetAccountNumber(), Amount: pen(4000), AgentReference: "R-0003"})
		refused(t, err, codes.NotFound, "NOT_FOUND")

		k := key()
		out := &controllerv1.CashOutRequest{IdempotencyKey: k, AgentPartnerId: agent.Partner,
			AccountNumber: mariaSavings.GetAccountNumber(), Amount: pen(1500), AgentReference: "R-0004"}
		_, err = partner.CashOut(ctx, out)
		refused(t, err, codes.PermissionDenied, "STEP_UP_REQUIRED")
		ch := challenge(t, err)
		out.StepUp = &authv1.StepUpProof{ChallengeId: ch.GetChallengeId(), Code: s.lastCode(maria.Phone)}
		resp2, err := partner.CashOut(ctx, out)
		if err != nil {
			t.Fatal(err)
		}
		if resp2.GetOperation().GetStatus() != controllerv1.OperationStatus_OPERATION_STATUS_COMPLETED {
			t.Fatalf("cash-out %v", resp2.GetOperation())
		}
		if got := s.balance(t, mariaSavings.GetAccountNumber()); got != before+4000-1500 {
			t.Errorf("customer balance %d after cash-out, want %d", got, before+4000-1500)
		}
	})

	t.Run("statements keep to their range and refuse more than a year", func(t *testing.T) {
		ctx := s.asCustomer(ctxT(t), "jose")
		lima := time.FixedZone("Lima", -5*3600)
		from := time.Now().In(lima).AddDate(0, 0, -10).Format(time.DateOnly)
		to := time.Now().In(lima).AddDate(0, 0, -3).Format(time.DateOnly)
		st, err := mobile.GetStatement(ctx, &controllerv1.GetStatementRequest{CustomerId: jose.ID, AccountId: joseSavings.GetAccountId(),
			FromDate: from, ToDate: to, PageSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		var all []*customerv1.Movement
		all = append(all, st.GetMovements()...)
		for tok := st.GetNextPageToken(); tok != ""; {
			page, err := mobile.GetStatement(ctx, &controllerv1.GetStatementRequest{CustomerId: jose.ID, AccountId: joseSavings.GetAccountId(),
				FromDate: from, ToDate: to, PageSize: 2, PageToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			all, tok = append(all, page.GetMovements()...), page.GetNextPageToken()
		}
		if len(all) == 0 {
			t.Fatal("no movements in the seeded history")
		}
		sum := st.GetOpeningBalance().GetAmountMinor()
		for i, m := range all {
			if m.GetValueDate() < from || m.GetValueDate() > to {
				t.Errorf("movement %s dated %s outside %s..%s", m.GetMovementId(), m.GetValueDate(), from, to)
			}
			if i > 0 && m.GetBookedAt().AsTime().Before(all[i-1].GetBookedAt().AsTime()) {
				t.Errorf("movements not oldest first at %d", i)
			}
			sum += m.GetAmount().GetAmountMinor()
		}
		if sum != st.GetClosingBalance().GetAmountMinor() {
			t.Errorf("opening %d + movements = %d, closing %d", st.GetOpeningBalance().GetAmountMinor(), sum, st.GetClosingBalance().GetAmountMinor())
		}
		_, err = mobile.GetStatement(ctx, &controllerv1.GetStatementRequest{CustomerId: jose.ID, AccountId: joseSavings.GetAccountId(),
			FromDate: "2024-01-01", ToDate: "2025-06-30"})
		refused(t, err, codes.InvalidArgument, "VALIDATION_FAILED")
	})

	t.Run("the core timing out after posting leaves the operation pending until the reconciler completes it", func(t *testing.T) {
		// A second controller whose deadline at the facade is shorter than the
		// core's stall: the answer is lost after the posting.
		addr := s.startController(controllerOptions{writeTimeout: time.Second, dbURL: testenv.PostgresURL(t)})
		c := s.clientAt(addr, "bff-mobile")
		ctx := s.asCustomer(ctxT(t), "maria")
		before := s.balance(t, mariaSavings.GetAccountNumber())
		s.coreFaults(t, `{"timeout_after_post_share": 1, "timeout_stall": "4s"}`)
		t.Cleanup(func() { s.coreFaults(t, `{"timeout_after_post_share": 0}`) })
		req := &controllerv1.TransferRequest{IdempotencyKey: key(), CustomerId: maria.ID, SourceAccountId: mariaSavings.GetAccountId(),
			Destination: &controllerv1.TransferRequest_DestinationAccountId{DestinationAccountId: mariaChecking.GetAccountId()}, Amount: pen(777)}
		resp, err := c.Transfer(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetOperation().GetStatus() != controllerv1.OperationStatus_OPERATION_STATUS_PENDING {
			t.Fatalf("operation %v, want PENDING", resp.GetOperation())
		}
		s.coreFaults(t, `{"timeout_after_post_share": 0}`)
		id := resp.GetOperation().GetOperationId()
		var op *controllerv1.Operation
		testenv.Eventually(t, time.Minute, "the reconciler to complete the operation", func() bool {
			got, err := c.GetOperation(ctx, &controllerv1.GetOperationRequest{OperationId: id})
			if err != nil {
				t.Fatal(err)
			}
			op = got.GetOperation()
			return op.GetStatus() != controllerv1.OperationStatus_OPERATION_STATUS_PENDING
		})
		if op.GetStatus() != controllerv1.OperationStatus_OPERATION_STATUS_COMPLETED || op.GetCoreTransactionId() == "" {
			t.Fatalf("resolved as %v", op)
		}
		if got := s.balance(t, mariaSavings.GetAccountNumber()); got != before-777 {
			t.Errorf("balance %d, want %d: one posting", got, before-777)
		}
		again, err := c.Transfer(ctx, req)
		if err != nil || !proto.Equal(again.GetOperation(), op) {
			t.Errorf("retry after the resolution: %v, %v; want %v", again, err, op)
		}
		if got := s.balance(t, mariaSavings.GetAccountNumber()); got != before-777 {
			t.Errorf("balance %d after the retry, want %d", got, before-777)
		}
	})
}
