package auth_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/auth/domain"
)

// quiet keeps the server's logs out of the benchmark's output, which benchfmt
// parses line by line.
func quiet(o *harnessOptions) { o.logLevel = slog.LevelError + 4 }

// BenchmarkClientCredentials issues JWT access tokens to a partner over real HTTP
// with parallel keep-alive clients, the way a gateway's token cache refills; it
// reports tokens/s. The target (DESIGN.md section 14) is 5,000/s; Ory Hydra does
// ~100/s on this machine.
func BenchmarkClientCredentials(b *testing.B) {
	h := start(b, quiet)
	id, secret := h.partner("kallpa")
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	body := url.Values{"grant_type": {"client_credentials"}}.Encode()
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, h.base+"/oauth2/token", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(id, secret)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tokens/s")
}

// BenchmarkCodeFlow runs the whole authorization code + PKCE flow as a browser and
// an app would: authorize, the login page, the login POST (argon2id at its real
// cost), the code exchange. It reports the flow's p50 and p99.
func BenchmarkCodeFlow(b *testing.B) {
	h := start(b, quiet, func(o *harnessOptions) { o.passwordParams = domain.DefaultPasswordParams })
	web := h.web()
	var took []time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		tr := h.codeFlow(web, "maria")
		took = append(took, time.Since(t0))
		if tr.AccessToken == "" {
			b.Fatal("no token")
		}
	}
	b.StopTimer()
	slices.Sort(took)
	q := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
}
