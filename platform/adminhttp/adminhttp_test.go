package adminhttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/adminhttp"
)

func body(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func TestReadinessFollowsStartDrainAndChecks(t *testing.T) {
	reg, _ := adminhttp.Registry("facade")
	ready := adminhttp.NewReadiness()
	h := adminhttp.Handler(reg, ready)

	if code, _ := body(t, h, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz before start: %d; liveness must not wait for readiness", code)
	}
	if code, _ := body(t, h, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before start: %d", code)
	}
	ready.SetReady(true)
	if code, _ := body(t, h, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after start: %d", code)
	}
	ready.Add("postgres", func(context.Context) error {
		return errors.New("dial postgres://andes:hunter2@127.0.0.1:5432/andes: refused (password=hunter2)")
	})
	ready.Add("hangs", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	began := time.Now()
	code, text := body(t, h, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(text, "postgres") || !strings.Contains(text, "hangs") {
		t.Errorf("/readyz with failing checks: %d %q", code, text)
	}
	if strings.Contains(text, "hunter2") {
		t.Errorf("/readyz leaks a password: %q", text)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("a hanging check held /readyz for %v", d)
	}
	ready.SetReady(false)
	if code, text := body(t, h, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(text, "draining") {
		t.Errorf("/readyz while draining: %d %q", code, text)
	}
}

func TestMetricsCarryTheServiceLabel(t *testing.T) {
	reg, _ := adminhttp.Registry("facade")
	code, text := body(t, adminhttp.Handler(reg, adminhttp.NewReadiness()), "/metrics")
	if code != http.StatusOK || !strings.Contains(text, `go_goroutines{service="facade"}`) {
		t.Errorf("/metrics: %d\n%s", code, text)
	}
}
