package domain

// Response codes (DE39) the authorizer answers with. The order of the rules that
// produce them is the order of this list: the first that applies decides.
const (
	CodeApproved          = "00"
	CodePartialApproval   = "10"
	CodeUnknownCard       = "14" // no card with this PAN
	CodeLostCard          = "41" // reported lost or stolen
	CodeRestrictedCard    = "62" // blocked or closed card, or blocked card account
	CodeExpiredCard       = "54" // past its expiry, or DE14 is not the card's
	CodeSystemError       = "96" // the HSM could not verify the PIN or CVV
	CodeInvalidCVV        = "82" // CVV2 did not verify
	CodePINTriesExceeded  = "75" // the third wrong PIN, and any PIN after it
	CodeIncorrectPIN      = "55" // wrong PIN, or a PIN for a card that has none
	CodeNotPermitted      = "57" // channel disabled, merchant category blocked, currency not the account's
	CodeAmountLimit       = "61" // per-transaction or rolling 30-day limit
	CodeATMCountLimit     = "65" // daily ATM withdrawals
	CodeInsufficientFunds = "51"
	CodeFormatError       = "30" // the frame could not be read
)

// MaxPINTries is how many wrong PINs in a row a card account takes; the one that
// reaches it is answered 75, and so is every PIN transaction after it until a new
// PIN is set.
const MaxPINTries = 3

// MessageClass is the kind of network message a decision came from
// (andes.authorizer.v1.MessageClass).
type MessageClass int32

const (
	ClassAuthorization    MessageClass = 1
	ClassIncremental      MessageClass = 2
	ClassStandInAdvice    MessageClass = 3
	ClassCompletionAdvice MessageClass = 4
	ClassFinancialAdvice  MessageClass = 5
	ClassReversal         MessageClass = 6
	ClassRefund           MessageClass = 7
)

// Decision is the outcome (andes.authorizer.v1.Decision).
type Decision int32

const (
	DecisionApproved          Decision = 1
	DecisionPartiallyApproved Decision = 2
	DecisionDeclined          Decision = 3
)

// DeclineReason says why (andes.authorizer.v1.DeclineReason).
type DeclineReason int32

const (
	ReasonNone              DeclineReason = 0
	ReasonUnknownCard       DeclineReason = 1
	ReasonLostCard          DeclineReason = 2
	ReasonInsufficientFunds DeclineReason = 3
	ReasonExpiredCard       DeclineReason = 4
	ReasonIncorrectPIN      DeclineReason = 5
	ReasonNotPermitted      DeclineReason = 6
	ReasonAmountLimit       DeclineReason = 7
	ReasonRestrictedCard    DeclineReason = 8
	ReasonATMCountLimit     DeclineReason = 9
	ReasonPINTriesExceeded  DeclineReason = 10
	ReasonInvalidCVV        DeclineReason = 11
	ReasonSystemError       DeclineReason = 12
	ReasonStandIn           DeclineReason = 13
)

// HoldStatus is the state of a life cycle's hold (andes.authorizer.v1.HoldStatus).
type HoldStatus int32

const (
	HoldNone    HoldStatus = 1
	HoldPending HoldStatus = 2
	HoldPosted  HoldStatus = 3
	HoldVoided  HoldStatus = 4
	HoldExpired HoldStatus = 5
)
