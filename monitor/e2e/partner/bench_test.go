package partner

import (
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/andes-bank/andes/monitor/platformtest"
)

// partnerBench makes TestPartnerTransferP99 measure and print a BENCH line for
// `make bench`.
var partnerBench = flag.Bool("partner-bench", false, "measure REST transfers through bff-partner and print BENCH partner.transfer.p99")

// TestPartnerTransferP99 sends transfers one after another through the partner
// edge, the way a partner's server would, to a beneficiary already paid (no step-up),
// each with its own Idempotency-Key, and prints the 99th percentile of the whole
// HTTP round trip: edge, token check, rate limit, tenancy checks at the customer
// service, the controller, the facade and the core simulator.
func TestPartnerTransferP99(t *testing.T) {
	if !*partnerBench {
		t.Skip("run with -partner-bench (make bench does)")
	}
	const n = 300
	p := platformtest.Up(t)
	kallpaDemo := p.Demo.Partner("kallpa")
	tok, _ := clientToken(t, p.Edge(t, "auth", ""), kallpaDemo.ClientID, kallpaDemo.ClientSecret)
	c := partnerClient{base: "http://" + p.Edge(t, "bff-partner", ""), token: tok}
	ana, jose := p.Demo.Customer("ana"), p.Demo.Customer("jose")
	acct := accountID(t, c, ana.ID, ana.Accounts[0].Number)
	path := "/v1/customers/" + ana.ID + "/transfers"
	body := fmt.Sprintf(`{"source_account_id":%q,"destination_account_number":%q,"amount":{"amount_minor":"1","currency":"PEN"},"description":"bench"}`,
		acct, jose.Accounts[0].Number)

	first := withStepUp(t, c, p.Edge(t, "sms", ""), ana.Phone, path, newKey(t, "bench"), body)
	ok(t, first, "the first transfer (step-up)")

	lat := make([]time.Duration, 0, n)
	for range n {
		key := newKey(t, "bench")
		start := time.Now()
		r := c.post(t, path, key, body)
		lat = append(lat, time.Since(start))
		ok(t, r, "a bench transfer")
	}
	slices.Sort(lat)
	ms := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	fmt.Printf("BENCH partner.transfer.p50 %.2f ms\n", ms(0.50))
	fmt.Printf("BENCH partner.transfer.p99 %.2f ms\n", ms(0.99))
}
