// Package ports is the core simulator's HTTPS edge: the JSON API of package api
// on top of app, with the caller's identity from its client certificate, the
// core's own error codes, idempotency on every write, and the fault knobs.
package ports

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/pki"
	"github.com/andes-bank/andes/simulators/corebank/app"
	"github.com/andes-bank/andes/simulators/corebank/domain"
	"github.com/andes-bank/andes/simulators/corebank/faults"
)

// OperatorName is the identity that may also call /core/v2/admin/.
const OperatorName = "operator"

// maxBody bounds request bodies.
const maxBody = 64 << 10

// Feed is the change feed's sequencer as the HTTP port needs it.
type Feed interface {
	Kick()
	Changed() <-chan struct{}
}

// Options wire the HTTP port.
type Options struct {
	Core        *app.Core
	Writes      app.Writes
	Snapshots   app.Snapshots
	Knobs       *faults.Knobs
	Feed        Feed
	Audit       func(ctx context.Context) (api.Audit, error)
	TrustDomain string
	// Callers may call the API (by identity name); OperatorName may also call the admin endpoints.
	Callers    []string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Stopping ends long polls when the process shuts down.
	Stopping <-chan struct{}
}

// HTTP is the JSON API handler.
type HTTP struct {
	o        Options
	callers  map[string]bool
	mux      *http.ServeMux
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewHTTP builds the handler.
func NewHTTP(o Options) (*HTTP, error) {
	h := &HTTP{o: o, callers: map[string]bool{}, mux: http.NewServeMux()}
	for _, c := range o.Callers {
		h.callers[c] = true
	}
	if o.Stopping == nil {
		h.o.Stopping = make(chan struct{})
	}
	h.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corebank_http_requests_total", Help: "Requests to the core's API by route and HTTP status.",
	}, []string{"route", "code"})
	h.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "corebank_http_request_seconds", Help: "Time to answer the core's API, by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 30},
	}, []string{"route"})
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{h.requests, h.latency} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("ports: metrics: %w", err)
			}
		}
	}
	h.routes()
	return h, nil
}

// call is one request on its way through the port.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	caller string
	trace  string
	status int
}

type handlerFunc func(c *call)

func (h *HTTP) handle(pattern string, admin bool, fn handlerFunc) {
	route := pattern
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r, trace: traceID(r)}
		w.Header().Set(api.HeaderTrace, c.trace)
		start := time.Now()
		defer func() {
			h.requests.WithLabelValues(route, strconv.Itoa(c.status)).Inc()
			h.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}()
		if !h.admit(c, admin) {
			return
		}
		fn(c)
	})
}

// admit checks the caller and applies the fault knobs (never to the operator's
// admin calls; the knobs themselves are on the admin listener, see Faults).
func (h *HTTP) admit(c *call, admin bool) bool {
	name, err := callerName(c.r, h.o.TrustDomain)
	if err != nil || !h.callers[name] || (admin && name != OperatorName) {
		who := name
		if who == "" {
			who = "an unidentified caller"
		}
		h.fail(c, http.StatusForbidden, api.CodeForbidden, who+" may not call "+c.r.Method+" "+c.r.URL.Path, nil)
		return false
	}
	c.caller = name
	if admin {
		return true
	}
	if err := h.o.Knobs.Delay(c.r.Context()); err != nil {
		c.status = 499 // the client went away while we were slow
		return false
	}
	if h.o.Knobs.Fail() {
		c.w.Header().Set(api.HeaderRetryAfter, "1")
		h.fail(c, http.StatusServiceUnavailable, api.CodeUnavailable, "the core is temporarily unavailable; nothing was done", nil)
		return false
	}
	return true
}

func callerName(r *http.Request, trustDomain string) (string, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return "", errors.New("no client certificate")
	}
	return pki.Name(r.TLS.PeerCertificates[0], trustDomain)
}

// traceID continues the caller's W3C trace when it sends one, so the facade's
// logs and the core's meet; otherwise it makes one.
func traceID(r *http.Request) string {
	if tp := r.Header.Get("traceparent"); len(tp) == 55 && tp[2] == '-' && tp[35] == '-' {
		if _, err := hex.DecodeString(tp[3:35]); err == nil {
			return tp[3:35]
		}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ServeHTTP answers unknown paths and methods with the core's own error body.
func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern != "" {
		h.mux.ServeHTTP(w, r)
		return
	}
	// Let the mux decide between 404 and 405 (it sets Allow), then answer in
	// the core's format.
	probe := &statusProbe{header: http.Header{}}
	h.mux.ServeHTTP(probe, r)
	c := &call{w: w, r: r, trace: traceID(r)}
	w.Header().Set(api.HeaderTrace, c.trace)
	if probe.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		h.fail(c, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path, nil)
		return
	}
	h.fail(c, http.StatusNotFound, api.CodeRouteNotFound, "no endpoint "+r.Method+" "+r.URL.Path, nil)
}

type statusProbe struct {
	header http.Header
	code   int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(code int)        { p.code = code }

// reply writes a JSON body.
func (h *HTTP) reply(c *call, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		h.internal(c, err)
		return
	}
	h.raw(c, status, b)
}

func (h *HTTP) raw(c *call, status int, body []byte) {
	c.status = status
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

func (h *HTTP) fail(c *call, status int, code api.Code, msg string, details map[string]string) {
	h.reply(c, status, errorBody(code, msg, c.trace, details))
}

func errorBody(code api.Code, msg, trace string, details map[string]string) api.ErrorBody {
	return api.ErrorBody{Error: api.Error{Code: code, Message: msg, Trace: trace, Details: details}}
}

func (h *HTTP) internal(c *call, err error) {
	h.o.Logger.ErrorContext(c.r.Context(), "core API failed", "err", err, "trace", c.trace,
		"method", c.r.Method, "path", c.r.URL.Path, "caller", c.caller)
	h.fail(c, http.StatusInternalServerError, api.CodeInternal, "internal error of the core; nothing was posted", nil)
}

// refusals map the domain's reasons to the core's codes, once.
var refusals = []struct {
	reason error
	status int
	code   api.Code
}{
	{domain.ErrInvalid, http.StatusBadRequest, api.CodeInvalid},
	{domain.ErrCustomerNotFound, http.StatusNotFound, api.CodeCustomerNotFound},
	{domain.ErrAccountNotFound, http.StatusNotFound, api.CodeAccountNotFound},
	{domain.ErrHoldNotFound, http.StatusNotFound, api.CodeHoldNotFound},
	{domain.ErrTxNotFound, http.StatusNotFound, api.CodeTransactionNotFound},
	{domain.ErrOperationNotFound, http.StatusNotFound, api.CodeOperationNotFound},
	{domain.ErrCustomerExists, http.StatusConflict, api.CodeCustomerExists},
	{domain.ErrDuplicateOperation, http.StatusConflict, api.CodeAlreadyPosted},
	{domain.ErrInsufficientFunds, http.StatusUnprocessableEntity, api.CodeInsufficientFunds},
	{domain.ErrAccountBlocked, http.StatusUnprocessableEntity, api.CodeAccountBlocked},
	{domain.ErrCurrencyMismatch, http.StatusUnprocessableEntity, api.CodeCurrencyMismatch},
	{domain.ErrSameAccount, http.StatusUnprocessableEntity, api.CodeSameAccount},
	{domain.ErrAccountNotAllowed, http.StatusUnprocessableEntity, api.CodeAccountNotAllowed},
	{domain.ErrHoldNotPending, http.StatusUnprocessableEntity, api.CodeHoldNotPending},
	{domain.ErrHoldExpired, http.StatusUnprocessableEntity, api.CodeHoldExpired},
	{domain.ErrExceedsHold, http.StatusUnprocessableEntity, api.CodeExceedsHold},
}

// refusal returns the status and body of a domain refusal; ok is false for
// anything else (a fault).
func refusal(err error, trace string) (int, api.ErrorBody, bool) {
	for _, r := range refusals {
		if errors.Is(err, r.reason) {
			return r.status, errorBody(r.code, err.Error(), trace, domain.Fields(err)), true
		}
	}
	return 0, api.ErrorBody{}, false
}

// failWith answers err: a refusal with its code, anything else as internal.
func (h *HTTP) failWith(c *call, err error) {
	if status, body, ok := refusal(err, c.trace); ok {
		h.reply(c, status, body)
		return
	}
	h.internal(c, err)
}

// decode reads a JSON body strictly: known fields only, one value, at most maxBody.
func (h *HTTP) decode(c *call, dst any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(c, http.StatusRequestEntityTooLarge, api.CodeTooLarge, "the body is over 64 KiB", nil)
			return false
		}
		h.fail(c, http.StatusBadRequest, api.CodeMalformed, "the body could not be read", nil)
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		h.fail(c, http.StatusBadRequest, api.CodeMalformed, "the body is not valid JSON for this endpoint: "+err.Error(), nil)
		return false
	}
	if dec.More() {
		h.fail(c, http.StatusBadRequest, api.CodeMalformed, "the body holds more than one JSON value", nil)
		return false
	}
	return true
}

// work is a write's business part: it answers a status and a body, or a domain
// refusal, or a fault.
type work func(ctx context.Context, l app.Ledger, op string) (int, any, error)

// write runs a write once per idempotency key: the first outcome (success or
// refusal) is stored with the business change and replayed to retries; the
// fault knobs may then withhold the answer of a write that did commit.
func (h *HTTP) write(c *call, request any, fn work) {
	key := c.r.Header.Get(api.HeaderIdempotencyKey)
	if key == "" || len(key) > idempotency.MaxKeyLen {
		h.fail(c, http.StatusBadRequest, api.CodeMissingKey, "every write needs an Idempotency-Key header of 1 to 255 bytes", nil)
		return
	}
	fingerprint, err := json.Marshal(request)
	if err != nil {
		h.internal(c, err)
		return
	}
	fingerprint = append([]byte(c.r.Method+" "+c.r.URL.Path+"\n"), fingerprint...)
	resp, err := h.o.Writes.Once(c.r.Context(), idempotency.Scope{Caller: c.caller}, key, fingerprint,
		func(ctx context.Context, l app.Ledger, lease *idempotency.Lease) (idempotency.Response, error) {
			status, body, err := fn(ctx, l, lease.OperationID)
			if err != nil {
				if errors.Is(err, domain.ErrDuplicateOperation) {
					return idempotency.Response{}, err // the transaction is aborted: nothing to store
				}
				status, eb, ok := refusal(err, c.trace)
				if !ok {
					return idempotency.Response{}, err
				}
				b, merr := json.Marshal(eb)
				return idempotency.Response{Code: status, Body: b}, merr
			}
			b, err := json.Marshal(body)
			return idempotency.Response{Code: status, Body: b}, err
		})
	var busy *idempotency.BusyError
	switch {
	case err == nil:
	case errors.Is(err, idempotency.ErrMismatch):
		h.fail(c, http.StatusUnprocessableEntity, api.CodeKeyMismatch, "this Idempotency-Key was used with a different request", map[string]string{"idempotency_key": key})
		return
	case errors.As(err, &busy):
		c.w.Header().Set(api.HeaderRetryAfter, strconv.Itoa(max(1, int(busy.RetryAfter.Round(time.Second).Seconds()))))
		h.fail(c, http.StatusConflict, api.CodeInProgress, "a request with this Idempotency-Key is in progress", map[string]string{"idempotency_key": key})
		return
	case errors.Is(err, idempotency.ErrInvalidKey):
		h.fail(c, http.StatusBadRequest, api.CodeMissingKey, err.Error(), nil)
		return
	default:
		h.failWith(c, err)
		return
	}
	if resp.Replayed {
		c.w.Header().Set(api.HeaderReplayed, "true")
	} else if resp.Code < 300 {
		h.o.Feed.Kick()
		if stall, ok := h.o.Knobs.StallAfterPost(); ok {
			h.withhold(c, stall)
		}
	}
	h.raw(c, resp.Code, resp.Body)
}

// withhold is the unknown outcome: the write has committed, but its caller
// hears nothing until it gives up or the stall ends, and then the connection
// (or the HTTP/2 stream) is cut.
func (h *HTTP) withhold(c *call, stall time.Duration) {
	c.status = 599
	h.o.Logger.InfoContext(c.r.Context(), "fault: withholding the answer of a committed write",
		"trace", c.trace, "path", c.r.URL.Path, "stall", stall)
	t := time.NewTimer(stall)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.r.Context().Done():
	case <-h.o.Stopping:
	}
	panic(http.ErrAbortHandler)
}

// query parameter helpers.

func (h *HTTP) intParam(c *call, name string, def, lo, hi int64) (int64, bool) {
	s := c.r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < lo || v > hi {
		h.fail(c, http.StatusBadRequest, api.CodeMalformed, fmt.Sprintf("%s must be an integer from %d to %d", name, lo, hi), map[string]string{"field": name})
		return 0, false
	}
	return v, true
}

func pageToken(txID int64) string {
	if txID == 0 {
		return ""
	}
	return "t" + strconv.FormatInt(txID, 36)
}

func (h *HTTP) pageCursor(c *call) (int64, bool) {
	s := c.r.URL.Query().Get("page_token")
	if s == "" {
		return 0, true
	}
	v, err := strconv.ParseInt(strings.TrimPrefix(s, "t"), 36, 64)
	if !strings.HasPrefix(s, "t") || err != nil || v <= 0 {
		h.fail(c, http.StatusBadRequest, api.CodeMalformed, "page_token is not one this endpoint gave", map[string]string{"field": "page_token"})
		return 0, false
	}
	return v, true
}
