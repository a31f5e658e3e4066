package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/andes-bank/andes/simulators/cardnet/network"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
	"github.com/andes-bank/andes/simulators/cardnet/txlog"
)

// Merchants of the scenarios, in Lima.
var (
	restaurant = terminal.Merchant{MCC: "5812", TerminalID: "REST0001", MerchantID: "LAMARCEVICHERIA", NameLocation: "LA MAR CEVICHERIA      LIMA         PE"}
	webShop    = terminal.Merchant{MCC: "5732", TerminalID: "ECOM0001", MerchantID: "TIENDAONLINE001", NameLocation: "TIENDA ONLINE SAC      LIMA         PE"}
	airline    = terminal.Merchant{MCC: "4511", TerminalID: "WEB00001", MerchantID: "AEROANDINO00001", NameLocation: "AEROANDINO.COM         LIMA         PE"}
	grocery    = terminal.Merchant{MCC: "5411", TerminalID: "POS00001", MerchantID: "BODEGASANISIDRO", NameLocation: "BODEGA SAN ISIDRO      LIMA         PE"}
	pharmacy   = terminal.Merchant{MCC: "5912", TerminalID: "POS00002", MerchantID: "BOTICAMIRAFLORS", NameLocation: "BOTICA MIRAFLORES      LIMA         PE"}
	gadgets    = terminal.Merchant{MCC: "5732", TerminalID: "POS00003", MerchantID: "ELECTROJOCKEY01", NameLocation: "ELECTRO JOCKEY PLAZA   LIMA         PE"}
	taxi       = terminal.Merchant{MCC: "4121", TerminalID: "TAXI0042", MerchantID: "TAXISEGUROLIMA1", NameLocation: "TAXI SEGURO            LIMA         PE"}
	fuel       = terminal.Merchant{MCC: "5542", TerminalID: "PUMP0007", MerchantID: "GRIFOPRIMAX0007", NameLocation: "GRIFO PRIMAX JAVIER PR LIMA         PE"}
	hotelDesk  = terminal.Merchant{MCC: "7011", TerminalID: "FRONT001", MerchantID: "HOTELCUSCOPLAZA", NameLocation: "HOTEL PLAZA DE ARMAS   CUSCO        PE"}
	atm        = terminal.Merchant{MCC: "6011", TerminalID: "ATM00123", MerchantID: "ANDESATMNETWORK", NameLocation: "ATM LARCOMAR           LIMA         PE"}
)

func restaurantPIN(ctx context.Context, r *Run) error {
	card := r.card("restaurant")
	start, err := r.balances(ctx, card)
	if err != nil {
		return err
	}
	const bill = 18_550
	r.Step("dinner for two, %s at the table; the PIN is mistyped", money(bill))
	if _, err := r.authorize(ctx, card, terminal.Sale{Amount: bill, Merchant: restaurant, Entry: terminal.ChipPIN, PIN: wrongPIN(card.PIN)}, []string{"55"}); err != nil {
		return err
	}
	if err := r.expect(ctx, card, start, 0, 0); err != nil {
		return err
	}
	r.Step("the right PIN")
	o, err := r.authorize(ctx, card, terminal.Sale{Amount: bill, Merchant: restaurant, Entry: terminal.ChipPIN}, []string{"00"})
	if err != nil {
		return err
	}
	return r.expect(ctx, card, start, -o.ApprovedAmount, o.ApprovedAmount)
}

// wrongPIN changes the last digit.
func wrongPIN(pin string) string {
	if pin == "" {
		return "0000"
	}
	last := pin[len(pin)-1]
	return pin[:len(pin)-1] + string('0'+(last-'0'+1)%10)
}

func onlineCVV2(ctx context.Context, r *Run) error {
	card := r.card("online")
	start, err := r.balances(ctx, card)
	if err != nil {
		return err
	}
	const price = 25_990
	r.Step("headphones online for %s; the CVV2 is mistyped", money(price))
	if _, err := r.authorize(ctx, card, terminal.Sale{Amount: price, Merchant: webShop, Entry: terminal.ECommerce, CVV2: wrongCVV2(card.CVV2)}, []string{"82"}); err != nil {
		return err
	}
	r.Step("the right CVV2, 3-D Secure authenticated (ECI 05)")
	o, err := r.authorize(ctx, card, terminal.Sale{Amount: price, Merchant: webShop, Entry: terminal.ECommerce, ECI: "05"}, []string{"00"})
	if err != nil {
		return err
	}
	return r.expect(ctx, card, start, -o.ApprovedAmount, o.ApprovedAmount)
}

func wrongCVV2(cvv2 string) string {
	if cvv2 == "" {
		return "000"
	}
	return wrongPIN(cvv2)
}

func flightTickets(ctx context.Context, r *Run) error {
	card := r.card("travel")
	start, err := r.balances(ctx, card)
	if err != nil {
		return err
	}
	const ticket = 45_000
	r.Step("two tickets Lima–Cusco online, %s each", money(ticket))
	o, err := r.authorize(ctx, card, terminal.Sale{Amount: 2 * ticket, Merchant: airline, Entry: terminal.ECommerce}, []string{"00"})
	if err != nil {
		return err
	}
	if err := r.expect(ctx, card, start, -2*ticket, 2*ticket); err != nil {
		return err
	}
	r.Step("one passenger cannot travel: partial reversal down to %s (DE95)", money(ticket))
	d, err := r.env.Network.Reverse(o, ticket, terminal.ReasonCustomerCancellation)
	if err != nil {
		return err
	}
	if err := r.deliver(ctx, d); err != nil {
		return err
	}
	if err := r.expect(ctx, card, start, -ticket, ticket); err != nil {
		return err
	}
	r.Step("the same partial reversal arrives again (0421): nothing changes")
	if err := r.repeatLastReversal(ctx, d); err != nil {
		return err
	}
	if err := r.expect(ctx, card, start, -ticket, ticket); err != nil {
		return err
	}
	r.Step("clearing: the airline's financial advice (0220) for %s", money(ticket))
	if err := r.complete(ctx, "0220", o, ticket); err != nil {
		return err
	}
	if err := r.expect(ctx, card, start, -ticket, 0); err != nil {
		return err
	}
	const fee = 5_000
	r.Step("the passenger cancels after clearing: refund of %s (a %s change fee kept)", money(ticket-fee), money(fee))
	refund, err := r.env.Acquirer.Refund(card, ticket-fee, airline)
	if err != nil {
		return err
	}
	if _, err := r.send(ctx, refund, []string{"00"}); err != nil {
		return err
	}
	return r.expect(ctx, card, start, -fee, 0)
}

// repeatLastReversal sends the reversal behind d again, as the 0421 a
// network sends when it is unsure its 0420 arrived.
func (r *Run) repeatLastReversal(ctx context.Context, d *network.Delivery) error {
	d2, err := r.env.Network.Repeat(d)
	if err != nil {
		return err
	}
	return r.deliver(ctx, d2)
}

func cableCut(ctx context.Context, r *Run) error {
	card := r.card("daily")
	start, err := r.balances(ctx, card)
	if err != nil {
		return err
	}
	var decided, held int64 // what the network decided: spent, and still held

	r.Step("morning groceries, the line is fine")
	o, err := r.authorize(ctx, card, terminal.Sale{Amount: 3_250, Merchant: grocery, Entry: terminal.Contactless}, []string{"00"})
	if err != nil {
		return err
	}
	decided, held = decided+o.ApprovedAmount, held+o.ApprovedAmount

	r.Step("the line degrades: the issuer's answer to a pharmacy purchase comes after the network's timer")
	o, err = r.authorize(ctx, card, terminal.Sale{Amount: 6_000, Merchant: pharmacy, Entry: terminal.Contactless}, []string{"00"},
		network.WithIssuerTimeout(time.Microsecond))
	if err != nil {
		return err
	}
	if o.Source != txlog.SourceStandIn {
		return fmt.Errorf("step %d: the issuer answered within a microsecond; no stand-in to show", r.step)
	}
	decided += o.ApprovedAmount
	if late := r.awaitLate(ctx, o.LogID); late != "" {
		r.p.Linef("    the issuer's late answer: %s", network.DescribeCode(late))
	}

	r.Step("the cable is cut")
	r.env.Cable.Cut()

	r.Step("a pharmacy top-up during the cut")
	o, err = r.authorize(ctx, card, terminal.Sale{Amount: 4_500, Merchant: pharmacy, Entry: terminal.Contactless}, []string{"00"})
	if err != nil {
		return err
	}
	decided += o.ApprovedAmount

	r.Step("a television during the cut: over the network's stand-in limit")
	if _, err = r.authorize(ctx, card, terminal.Sale{Amount: 70_000, Merchant: gadgets, Entry: terminal.Chip}, []string{"61"}); err != nil {
		return err
	}

	r.Step("cash at an ATM during the cut: the network cannot verify the PIN")
	if _, err = r.authorize(ctx, card, terminal.Sale{Kind: terminal.Cash, Amount: 20_000, Merchant: atm, Entry: terminal.ChipPIN}, []string{"91"}); err != nil {
		return err
	}

	r.Step("a taxi during the cut, then the rider cancels: a reversal the issuer will get later")
	o, err = r.authorize(ctx, card, terminal.Sale{Amount: 1_800, Merchant: taxi, Entry: terminal.Contactless}, []string{"00"})
	if err != nil {
		return err
	}
	if _, err := r.env.Network.Reverse(o, 0, terminal.ReasonCustomerCancellation); err != nil {
		return err
	}
	r.p.Linef("    owed to the issuer: %d advices and reversals", r.env.Network.Queued())

	r.Step("the cable is back: sign-on, then the advices and reversals in order")
	r.env.Cable.Restore()
	if err := r.env.Cable.WaitReady(ctx, 1); err != nil {
		return err
	}
	if err := r.env.Network.Drain(ctx); err != nil {
		return err
	}
	r.p.Linef("    the network decided %s spent, %s of it still held", money(decided), money(held))
	return r.expect(ctx, card, start, -decided, held)
}

// awaitLate waits up to Env.LateWait for the issuer's late answer to the
// authorization logged as id and returns its DE39 ("" if none came).
func (r *Run) awaitLate(ctx context.Context, id int64) string {
	wait := r.env.LateWait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if e, ok := r.env.Log.Get(id); ok && e.LateResponseCode != "" {
			return e.LateResponseCode
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ""
		}
	}
}

func fuelPump(ctx context.Context, r *Run) error {
	card := r.card("fuel")
	start, err := r.balances(ctx, card)
	if err != nil {
		return err
	}
	const estimate, pumped = 20_000, 6_543
	r.Step("card tapped at the pump: pre-authorization of %s", money(estimate))
	o, err := r.authorize(ctx, card, terminal.Sale{Amount: estimate, Merchant: fuel, Entry: terminal.Contactless, PreAuthorization: true}, []string{"00"})
	if err != nil {
		return err
	}
	if err := r.expect(ctx, card, start, -estimate, estimate); err != nil {
		return err
	}
	r.Step("the tank is full at %s: completion advice (0120)", money(pumped))
	if err := r.complete(ctx, "0120", o, pumped); err != nil {
		return err
	}
	if err := r.expect(ctx, card, start, -pumped, pumped); err != nil {
		return err
	}
	r.Step("clearing: financial advice (0220) for %s", money(pumped))
	if err := r.complete(ctx, "0220", o, pumped); err != nil {
		return err
	}
	return r.expect(ctx, card, start, -pumped, 0)
}

func hotel(ctx context.Context, r *Run) error {
	card := r.card("hotel")
	start, err := r.balances(ctx, card)
	if err != nil {
		return err
	}
	const nights, extra, final = 3 * 32_000, 38_500, 131_200
	r.Step("check-in for three nights: pre-authorization of %s", money(nights))
	o, err := r.authorize(ctx, card, terminal.Sale{Amount: nights, Merchant: hotelDesk, Entry: terminal.Chip, PreAuthorization: true}, []string{"00"})
	if err != nil {
		return err
	}
	if err := r.expect(ctx, card, start, -nights, nights); err != nil {
		return err
	}
	r.Step("one more night and the minibar: incremental authorization of %s, same transaction id", money(extra))
	inc, err := r.env.Acquirer.Incremental(card, o.Request, extra)
	if err != nil {
		return err
	}
	if _, err := r.send(ctx, inc, []string{"00"}); err != nil {
		return err
	}
	if err := r.expect(ctx, card, start, -(nights + extra), nights+extra); err != nil {
		return err
	}
	r.Step("check-out: the bill is %s, cleared with a financial advice (0220)", money(final))
	if err := r.complete(ctx, "0220", o, final); err != nil {
		return err
	}
	return r.expect(ctx, card, start, -final, 0)
}

// maxWithdrawals bounds the ATM scenario: a daily count limit above it is
// not one the scenario can show.
const maxWithdrawals = 12

func atmDailyCount(ctx context.Context, r *Run) error {
	card := r.card("atm")
	start, err := r.balances(ctx, card)
	if err != nil {
		return err
	}
	const amount = 10_000
	approved := int64(0)
	for i := 1; i <= maxWithdrawals; i++ {
		r.Step("withdrawal %d of %s at the ATM", i, money(amount))
		o, err := r.authorize(ctx, card, terminal.Sale{Kind: terminal.Cash, Amount: amount, Merchant: atm, Entry: terminal.ChipPIN}, []string{"00", "65"})
		if err != nil {
			return err
		}
		if o.ResponseCode == "65" {
			r.p.Linef("    the daily count limit stopped withdrawal %d (%d approved in this run)", i, approved)
			return r.expect(ctx, card, start, -approved*amount, approved*amount)
		}
		approved++
	}
	return fmt.Errorf("no daily count limit after %d withdrawals", maxWithdrawals)
}
