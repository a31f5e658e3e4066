// Package corebank is the facade's client of the core banking system's JSON API
// (package api, version 2) over HTTPS with mutual TLS: the one place
// that knows the core's paths, JSON and error codes and turns them into the
// facade's domain errors, with a deadline on every call, retries with backoff and
// jitter only where a retry cannot post twice, and a circuit breaker so that
// while the core is down callers fail fast instead of queueing.
package corebank

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/facade/domain"
	"github.com/andes-bank/andes/platform/backoff"
)

// Options configure the client. Zero values take the defaults named.
type Options struct {
	// Addr is the core's edge, host:port (ANDES_COREBANK_EDGE_ADDR).
	Addr string
	// TLS is the facade's client configuration, checking that the server is
	// the core: pki.Credentials.ClientConfig("corebank").
	TLS *tls.Config

	// ReadTimeout bounds a read, retries included (2s).
	ReadTimeout time.Duration
	// WriteTimeout bounds a write (5s). A write that reaches it has an unknown
	// outcome.
	WriteTimeout time.Duration
	// Attempts is how many times a call may be sent when a retry is safe (3).
	Attempts int
	// BackoffBase and BackoffMax shape the full-jitter exponential backoff
	// between attempts (50ms, 1s).
	BackoffBase, BackoffMax time.Duration

	// BreakerFailures consecutive failures open the circuit (5).
	BreakerFailures uint32
	// BreakerOpenFor is how long the circuit stays open before one probe may
	// pass (5s).
	BreakerOpenFor time.Duration

	// MaxIdleConns kept to the core (64): more than the default 2, so
	// concurrent callers reuse TLS connections instead of handshaking.
	MaxIdleConns int

	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadTimeout, 2*time.Second)
	def(&o.WriteTimeout, 5*time.Second)
	def(&o.BackoffBase, 50*time.Millisecond)
	def(&o.BackoffMax, time.Second)
	def(&o.BreakerOpenFor, 5*time.Second)
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = 5
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = 64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Client calls the core.
type Client struct {
	o       Options
	base    string
	http    *http.Client
	breaker *gobreaker.TwoStepCircuitBreaker
	m       *metrics
}

// New builds the client; it does not connect until the first call.
func New(o Options) (*Client, error) {
	o.defaults()
	if o.Addr == "" || o.TLS == nil {
		return nil, errors.New("corebank: an address and a TLS configuration are required")
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		DialContext:         dialer.DialContext,
		TLSClientConfig:     o.TLS.Clone(),
		TLSHandshakeTimeout: 3 * time.Second,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        o.MaxIdleConns,
		MaxIdleConnsPerHost: o.MaxIdleConns,
		IdleConnTimeout:     90 * time.Second,
	}
	c := &Client{o: o, base: "https://" + o.Addr + api.Prefix, http: &http.Client{Transport: transport}, m: m}
	c.breaker = gobreaker.NewTwoStepCircuitBreaker(gobreaker.Settings{
		Name:        "corebank",
		MaxRequests: 1,
		Timeout:     o.BreakerOpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= o.BreakerFailures },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			m.breakerState.Set(float64(to))
			o.Logger.Warn("core banking circuit changed", "from", from.String(), "to", to.String())
		},
	})
	return c, nil
}

// Close drops idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// BreakerOpen reports whether calls are being refused without trying, for
// readiness and tests.
func (c *Client) BreakerOpen() bool { return c.breaker.State() == gobreaker.StateOpen }

// call is one logical request to the core.
type call struct {
	op     string // metric label
	method string
	path   string
	query  url.Values
	body   any
	key    string // Idempotency-Key, for writes
	// timeout overrides the read or write timeout (the change feed's long poll).
	timeout time.Duration
	// unguarded calls bypass the breaker: a long poll neither proves nor
	// disproves the core's health within a request's time.
	unguarded bool
}

func (cl call) write() bool { return cl.method != http.MethodGet }

// attemptError is a failure of one attempt with what is known about it.
type attemptError struct {
	err error
	// sent: the request was written whole, so the core may have acted on it.
	sent bool
	// refused: the breaker refused the attempt; retrying now is pointless.
	refused bool
}

// do runs cl, decoding a successful answer into out. Reads are retried while the
// core is unavailable; writes only when the request never left (so the core
// cannot have seen it), always with the same idempotency key.
func (c *Client) do(ctx context.Context, cl call, out any) error {
	timeout := cl.timeout
	if timeout == 0 {
		timeout = c.o.ReadTimeout
		if cl.write() {
			timeout = c.o.WriteTimeout
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var body []byte
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return fmt.Errorf("corebank: encode %s: %w", cl.op, err)
		}
		body = b
	}
	for attempt := 1; ; attempt++ {
		ae := c.attempt(ctx, cl, body, out)
		if ae == nil {
			c.m.observe(cl.op, "ok", start)
			return nil
		}
		retry := attempt < c.o.Attempts && !ae.refused && errors.Is(ae.err, domain.ErrUnavailable) &&
			(!cl.write() || !ae.sent)
		if retry && c.sleep(ctx, attempt) {
			continue
		}
		c.m.observe(cl.op, outcome(ae.err), start)
		return ae.err
	}
}

// sleep waits a full-jitter backoff before attempt+1; false if ctx ends first or
// the wait would not leave time for another attempt.
func (c *Client) sleep(ctx context.Context, attempt int) bool {
	d := backoff.Policy{Base: c.o.BackoffBase, Max: c.o.BackoffMax}.Full(attempt - 1)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d+c.o.BackoffBase {
		return false
	}
	return backoff.Sleep(ctx, d)
}

func (c *Client) attempt(ctx context.Context, cl call, body []byte, out any) *attemptError {
	done := func(bool) {}
	if !cl.unguarded {
		d, err := c.breaker.Allow()
		if err != nil {
			e := domain.Errorf(domain.ErrUnavailable, "the core's circuit is open")
			e.RetryAfter = c.o.BreakerOpenFor
			return &attemptError{err: e, refused: true}
		}
		done = d
	}
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			sent.Store(true)
		}
	}}
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), cl.method, u, rd)
	if err != nil {
		done(true)
		return &attemptError{err: fmt.Errorf("corebank: %s: %w", cl.op, err)}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.key != "" {
		req.Header.Set(api.HeaderIdempotencyKey, cl.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// A caller that went away says nothing about the core's health.
		done(errors.Is(ctx.Err(), context.Canceled))
		return c.transportError(cl, err, sent.Load())
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		done(errors.Is(ctx.Err(), context.Canceled))
		// The answer started, so the core has acted on a write.
		return c.transportError(cl, err, true)
	}
	done(resp.StatusCode < 500)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return &attemptError{err: fmt.Errorf("corebank: %s: decode answer: %w", cl.op, err), sent: true}
		}
		return nil
	}
	return &attemptError{err: translate(resp.StatusCode, resp.Header, raw), sent: true}
}

// transportError classifies a failure without an answer: a write that left has
// an unknown outcome; anything else is the core being unavailable.
func (c *Client) transportError(cl call, err error, sent bool) *attemptError {
	if cl.write() && sent {
		return &attemptError{err: domain.Errorf(domain.ErrUnknownOutcome, "no answer from the core to "+cl.op).WithCause(err), sent: true}
	}
	msg := "the core could not be reached"
	if sent {
		msg = "the core did not answer in time"
	}
	return &attemptError{err: domain.Errorf(domain.ErrUnavailable, msg).WithCause(err), sent: sent}
}

// translate turns the core's error answer into the facade's domain errors: the
// one place that knows the core's codes.
func translate(status int, h http.Header, raw []byte) error {
	var eb api.ErrorBody
	if err := json.Unmarshal(raw, &eb); err != nil || eb.Error.Code == "" {
		if status >= 500 {
			return domain.Errorf(domain.ErrUnavailable, "the core failed with HTTP "+strconv.Itoa(status))
		}
		return fmt.Errorf("corebank: unexpected HTTP %d without the core's error body", status)
	}
	d := eb.Error.Details
	refuse := func(kind error, msg string) error {
		e := domain.Errorf(kind, msg)
		e.Account = d["account"]
		e.Field = d["field"]
		return e
	}
	retryAfter := func(e *domain.Error) error {
		if s, err := strconv.Atoi(h.Get(api.HeaderRetryAfter)); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	switch eb.Error.Code {
	case api.CodeMalformed, api.CodeInvalid:
		msg := "the core refused the request"
		if d["field"] != "" {
			msg = "the core refused the value of " + d["field"]
		}
		return refuse(domain.ErrInvalid, msg)
	case api.CodeCustomerNotFound:
		return refuse(domain.ErrNotFound, "no such customer")
	case api.CodeAccountNotFound:
		return refuse(domain.ErrNotFound, "no such account")
	case api.CodeTransactionNotFound, api.CodeOperationNotFound:
		return refuse(domain.ErrNotFound, "no such transaction")
	case api.CodeInProgress:
		return retryAfter(domain.Errorf(domain.ErrInProgress, "the core is still processing this operation"))
	case api.CodeCustomerExists:
		return refuse(domain.ErrAlreadyExists, "a customer with this document exists")
	case api.CodeAlreadyPosted:
		// Another attempt with this operation posted it: what it answered is
		// the status endpoint's to say.
		return domain.Errorf(domain.ErrUnknownOutcome, "the core already posted this operation")
	case api.CodeKeyMismatch:
		return refuse(domain.ErrIdempotencyMismatch, "the operation id was used with a different request")
	case api.CodeInsufficientFunds:
		return refuse(domain.ErrInsufficientFunds, "the available balance does not cover the amount")
	case api.CodeAccountBlocked:
		return refuse(domain.ErrAccountBlocked, "an account is not active")
	case api.CodeCurrencyMismatch:
		return refuse(domain.ErrCurrencyMismatch, "the accounts and the amount are not all in one currency")
	case api.CodeSameAccount:
		return refuse(domain.ErrSameAccount, "debit and credit account are the same")
	case api.CodeAccountNotAllowed:
		return refuse(domain.ErrAccountNotAllowed, "an account may not take part in this operation")
	case api.CodeForbidden:
		// The core does not accept the facade's identity: a deployment
		// problem, not the caller's; nothing was done.
		return domain.Errorf(domain.ErrUnavailable, "the core refuses the facade's identity")
	case api.CodeInternal, api.CodeUnavailable:
		return retryAfter(domain.Errorf(domain.ErrUnavailable, "the core is unavailable"))
	}
	if status >= 500 {
		return domain.Errorf(domain.ErrUnavailable, "the core failed with "+string(eb.Error.Code))
	}
	// A code the facade does not expect (a missing key, an unknown route) is
	// the facade's bug, not the caller's refusal.
	return fmt.Errorf("corebank: unexpected answer %d %s", status, eb.Error.Code)
}

func outcome(err error) string {
	switch {
	case errors.Is(err, domain.ErrUnknownOutcome):
		return "unknown"
	case errors.Is(err, domain.ErrUnavailable):
		return "unavailable"
	case domain.IsRefusal(err), errors.Is(err, domain.ErrInProgress):
		return "refused"
	}
	return "error"
}
