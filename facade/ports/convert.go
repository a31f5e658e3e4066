package ports

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/andes-bank/andes/facade/domain"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	identityv1 "github.com/andes-bank/andes/gen/andes/identity/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
)

func toMoney(m domain.Money) *moneyv1.Money {
	return &moneyv1.Money{AmountMinor: m.Minor, Currency: m.Currency}
}

func fromMoney(m *moneyv1.Money) domain.Money {
	return domain.Money{Minor: m.GetAmountMinor(), Currency: m.GetCurrency()}
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

var documentTypes = map[identityv1.DocumentType]string{
	identityv1.DocumentType_DOCUMENT_TYPE_DNI:      domain.DocumentDNI,
	identityv1.DocumentType_DOCUMENT_TYPE_CE:       domain.DocumentCE,
	identityv1.DocumentType_DOCUMENT_TYPE_PASSPORT: domain.DocumentPassport,
	identityv1.DocumentType_DOCUMENT_TYPE_RUC:      domain.DocumentRUC,
}

func fromDocumentType(t identityv1.DocumentType) string { return documentTypes[t] }

func toDocumentType(s string) identityv1.DocumentType {
	for k, v := range documentTypes {
		if v == s {
			return k
		}
	}
	return identityv1.DocumentType_DOCUMENT_TYPE_UNSPECIFIED
}

func toProfile(p domain.Profile) *facadev1.Profile {
	return &facadev1.Profile{
		CustomerNumber: p.CustomerNumber,
		Document:       &identityv1.IdentityDocument{Type: toDocumentType(p.DocumentType), Number: p.DocumentNumber},
		GivenNames:     p.GivenNames, FamilyNames: p.FamilyNames, BirthDate: p.BirthDate, Email: p.Email, PhoneNumber: p.Phone,
	}
}

func fromAccountType(t facadev1.AccountType) domain.AccountType {
	switch t {
	case facadev1.AccountType_ACCOUNT_TYPE_SAVINGS:
		return domain.AccountSavings
	case facadev1.AccountType_ACCOUNT_TYPE_CHECKING:
		return domain.AccountChecking
	}
	return domain.AccountTypeUnknown
}

func toAccount(a domain.Account) *facadev1.Account {
	out := &facadev1.Account{AccountNumber: a.Number, CustomerNumber: a.CustomerNumber, Currency: a.Currency,
		LedgerBalance: toMoney(a.Ledger), AvailableBalance: toMoney(a.Available), OverdraftLimit: toMoney(a.Overdraft),
		OpenedAt: timestamp(a.OpenedAt)}
	switch a.Type {
	case domain.AccountSavings:
		out.Type = facadev1.AccountType_ACCOUNT_TYPE_SAVINGS
	case domain.AccountChecking:
		out.Type = facadev1.AccountType_ACCOUNT_TYPE_CHECKING
	}
	switch a.Status {
	case domain.AccountActive:
		out.Status = facadev1.AccountStatus_ACCOUNT_STATUS_ACTIVE
	case domain.AccountBlocked:
		out.Status = facadev1.AccountStatus_ACCOUNT_STATUS_BLOCKED
	case domain.AccountClosed:
		out.Status = facadev1.AccountStatus_ACCOUNT_STATUS_CLOSED
	}
	return out
}

var productTypes = map[domain.ProductType]facadev1.ProductType{
	domain.ProductTermDeposit: facadev1.ProductType_PRODUCT_TYPE_TERM_DEPOSIT,
	domain.ProductLoan:        facadev1.ProductType_PRODUCT_TYPE_LOAN,
	domain.ProductCardProgram: facadev1.ProductType_PRODUCT_TYPE_CARD_PROGRAM,
}

var movementKinds = map[domain.MovementKind]facadev1.MovementKind{
	domain.MovementTransferIn:  facadev1.MovementKind_MOVEMENT_KIND_TRANSFER_IN,
	domain.MovementTransferOut: facadev1.MovementKind_MOVEMENT_KIND_TRANSFER_OUT,
	domain.MovementCashIn:      facadev1.MovementKind_MOVEMENT_KIND_CASH_IN,
	domain.MovementCashOut:     facadev1.MovementKind_MOVEMENT_KIND_CASH_OUT,
	domain.MovementCardFunding: facadev1.MovementKind_MOVEMENT_KIND_CARD_FUNDING,
	domain.MovementSalary:      facadev1.MovementKind_MOVEMENT_KIND_SALARY,
	domain.MovementInterest:    facadev1.MovementKind_MOVEMENT_KIND_INTEREST,
	domain.MovementFee:         facadev1.MovementKind_MOVEMENT_KIND_FEE,
	domain.MovementOther:       facadev1.MovementKind_MOVEMENT_KIND_OTHER,
}

func toMovement(m domain.Movement) *facadev1.Movement {
	return &facadev1.Movement{PostingId: m.PostingID, AccountNumber: m.AccountNumber, BookedAt: timestamp(m.BookedAt),
		ValueDate: m.ValueDate, Amount: toMoney(m.Amount), BalanceAfter: toMoney(m.BalanceAfter), Description: m.Description,
		Kind: movementKinds[m.Kind], CounterpartyAccountNumber: m.Counterparty, CounterpartyName: m.CounterpartyNm,
		OperationId: m.OperationID}
}

func toSnapshot(s domain.Snapshot) *facadev1.CustomerSnapshot {
	out := &facadev1.CustomerSnapshot{Profile: toProfile(s.Profile), AsOf: timestamp(s.AsOf),
		FreshUntil: timestamp(s.FreshUntil), Stale: s.Stale,
		Accounts:        make([]*facadev1.Account, len(s.Accounts)),
		Products:        make([]*facadev1.Product, len(s.Products)),
		LatestMovements: make([]*facadev1.Movement, len(s.LatestMovements))}
	for i, a := range s.Accounts {
		out.Accounts[i] = toAccount(a)
	}
	for i, p := range s.Products {
		out.Products[i] = &facadev1.Product{ProductId: p.ID, Type: productTypes[p.Type], Name: p.Name,
			Amount: toMoney(p.Amount), DueDate: p.DueDate}
	}
	for i, m := range s.LatestMovements {
		out.LatestMovements[i] = toMovement(m)
	}
	return out
}

func toSource(s domain.Source) facadev1.SnapshotSource {
	switch s {
	case domain.SourceCache:
		return facadev1.SnapshotSource_SNAPSHOT_SOURCE_CACHE
	case domain.SourceCore:
		return facadev1.SnapshotSource_SNAPSHOT_SOURCE_CORE
	case domain.SourceStaleCache:
		return facadev1.SnapshotSource_SNAPSHOT_SOURCE_STALE_CACHE
	}
	return facadev1.SnapshotSource_SNAPSHOT_SOURCE_UNSPECIFIED
}

func toTransaction(t domain.Transaction) *facadev1.Transaction {
	out := &facadev1.Transaction{OperationId: t.OperationID, CoreTransactionId: t.CoreTransactionID, PostedAt: timestamp(t.PostedAt)}
	switch t.Status {
	case domain.TransactionCompleted:
		out.Status = facadev1.TransactionStatus_TRANSACTION_STATUS_COMPLETED
	case domain.TransactionPending:
		out.Status = facadev1.TransactionStatus_TRANSACTION_STATUS_PENDING
	case domain.TransactionRejected:
		out.Status = facadev1.TransactionStatus_TRANSACTION_STATUS_REJECTED
		if r, _, ok := reasonOf(t.Rejection); ok {
			out.RejectionReason = r
		} else {
			out.RejectionReason = errorsv1.Reason_REASON_UNSPECIFIED
		}
	case domain.TransactionNotReceived:
		out.Status = facadev1.TransactionStatus_TRANSACTION_STATUS_NOT_RECEIVED
	}
	return out
}
