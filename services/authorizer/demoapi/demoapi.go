// Package demoapi is the contract of the demo bank's scenario card endpoints on
// the authorizer's admin listener (served by ports/demoadmin), which the card
// network simulator calls. It holds only the wire shapes, so a caller links
// nothing of the authorizer.
//
// The card network simulator's field scenarios need cards whose number, CVV2 and
// PIN it knows, and fresh ones on every run (an ATM daily count used up, PIN
// tries counted). Card data is never committed nor sent in clear over a wire, so
// the local dev bank issues them on an operator's request on the admin listener
// (loopback only), and hands the numbers over through a file only the platform's
// user can read:
//
//	POST /demo/scenario-cards                {"names": [...], "balance": 500000}
//	     → opens and funds a PEN card account per name for the scenario customer,
//	       issues an active card on each, writes [{name, card_id, card_account_id,
//	       pan, expiry, cvv2, currency}] to the scenario cards file (0600, replaced
//	       atomically) and answers its path and the masked numbers;
//	POST /demo/scenario-cards/{card_id}/pin  {"pin_block": "<hex>"}
//	     → sets the card's PIN from a PIN block under the zone PIN key the network
//	       shares with the HSM: the authorizer never sees the PIN;
//	GET  /demo/scenario-accounts/{id}        → the account's balances, so the
//	       runner checks what the network decided is what the ledger booked.
//
// Only cards and accounts of the scenario customer are reachable, and the
// endpoints exist only when the demo bank is seeded (ANDES_DEMO_FILE).
package demoapi

// Limits of one request.
const (
	MaxCards   = 32
	MaxBalance = 10_000_000 // PEN 100,000.00
)

// ScenarioCard is one line of the scenario cards file.
type ScenarioCard struct {
	Name          string `json:"name"`
	CardID        string `json:"card_id"`
	CardAccountID string `json:"card_account_id"`
	PAN           string `json:"pan"`
	Expiry        string `json:"expiry"` // YYMM
	CVV2          string `json:"cvv2"`
	Currency      string `json:"currency"` // ISO 4217 numeric
}

// IssuedScenarioCard is what the issuance answers per card: no card data.
type IssuedScenarioCard struct {
	Name          string `json:"name"`
	CardID        string `json:"card_id"`
	CardAccountID string `json:"card_account_id"`
	MaskedPAN     string `json:"masked_pan"`
}

// ScenarioCardsRequest asks for one card per name.
type ScenarioCardsRequest struct {
	Names   []string `json:"names"`
	Balance int64    `json:"balance"` // minor units of PEN on each card
}

// ScenarioCardsResponse says where the cards' data was written.
type ScenarioCardsResponse struct {
	File  string               `json:"file"`
	Cards []IssuedScenarioCard `json:"cards"`
}

// ScenarioPINRequest sets a scenario card's PIN.
type ScenarioPINRequest struct {
	PINBlock string `json:"pin_block"` // 16 hex digits
}

// ScenarioBalances is a scenario card account's balances in minor units.
type ScenarioBalances struct {
	Available int64 `json:"available"`
	Held      int64 `json:"held"`
	Ledger    int64 `json:"ledger"`
}
