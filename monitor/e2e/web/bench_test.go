package web

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andes-bank/andes/monitor/platformtest"
)

// webBench makes TestWebBench measure the web BFF and print BENCH lines:
//
//	go test -count=1 -run '^TestWebBench$' -v ./monitor/e2e/web -args -web-bench
var webBench = flag.Bool("web-bench", false, "measure the web BFF (accounts page p50, transfers/s and p99) and print BENCH lines")

const (
	benchPageLoads = 300
	benchWorkers   = 8
	benchTransfers = 800
)

func TestWebBench(t *testing.T) {
	if !*webBench {
		t.Skip("run with -args -web-bench")
	}
	p := platformtest.Up(t)
	base := "http://" + p.Edge(t, "bff-web", "")
	c := newWebClient(t, base)
	c.login(mariaDocument, mariaPassword)
	hc := &http.Client{Jar: c.http.Jar, Timeout: platformtest.StepTimeout}

	call := func(method, body string, csrf bool) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/andes.web.v1.WebService/"+method, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if csrf {
			req.Header.Set("X-CSRF-Token", c.csrf)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// The page load as the server sees it: the page, the session, the accounts.
	loads := make([]time.Duration, 0, benchPageLoads)
	for i := range benchPageLoads + 20 {
		start := time.Now()
		resp, err := hc.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /: %d", resp.StatusCode)
		}
		if code, b := call("GetSession", `{}`, false); code != http.StatusOK {
			t.Fatalf("GetSession: %d %s", code, b)
		}
		if code, b := call("ListAccounts", `{}`, false); code != http.StatusOK {
			t.Fatalf("ListAccounts: %d %s", code, b)
		}
		if i >= 20 { // the first loads warm caches and connections
			loads = append(loads, time.Since(start))
		}
	}
	slices.Sort(loads)
	p50 := loads[len(loads)/2]

	// Transfers between maria's own PEN accounts, one cent each way.
	var accounts struct {
		Accounts []struct {
			AccountID string
			Kind      string
			Available struct{ Currency string }
		}
	}
	c.rpcOK("ListAccounts", `{}`, &accounts)
	var pen []string
	for _, a := range accounts.Accounts {
		if a.Available.Currency == "PEN" {
			pen = append(pen, a.AccountID)
		}
	}
	if len(pen) < 2 {
		t.Fatalf("maria has %d PEN accounts, want 2", len(pen))
	}
	run := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	var mu sync.Mutex
	var lat []time.Duration
	var failures []string
	var wg sync.WaitGroup
	jobs := make(chan int)
	start := time.Now()
	for range benchWorkers {
		wg.Go(func() {
			for i := range jobs {
				from, to := pen[i%2], pen[1-i%2]
				body := jsonBody(map[string]any{"idempotencyKey": fmt.Sprintf("%s-%d", run, i), "sourceAccountId": from,
					"destinationAccountId": to, "amount": map[string]any{"amountMinor": "1", "currency": "PEN"}, "description": "bench"})
				t0 := time.Now()
				code, b := call("Transfer", body, true)
				d := time.Since(t0)
				mu.Lock()
				if code == http.StatusOK && strings.Contains(b, "TRANSFER_STATUS_COMPLETED") {
					lat = append(lat, d)
				} else if len(failures) < 5 {
					failures = append(failures, fmt.Sprintf("%d %s", code, b))
				}
				mu.Unlock()
			}
		})
	}
	for i := range benchTransfers {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if len(failures) > 0 {
		t.Fatalf("%d of %d transfers failed, e.g. %v", benchTransfers-len(lat), benchTransfers, failures)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[len(lat)*99/100]
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("BENCH web.accounts.p50 %.2f ms\n", ms(p50))
	fmt.Printf("BENCH web.transfer.tps %.1f tx/s\n", float64(len(lat))/elapsed.Seconds())
	fmt.Printf("BENCH web.transfer.p99 %.2f ms\n", ms(p99))
}
