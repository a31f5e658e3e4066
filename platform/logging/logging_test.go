package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/andes-bank/andes/platform/logging"
)

const (
	pan         = "4111111111111111" // Luhn-valid test Visa
	panSpaced   = "5500 0000 0000 0004"
	panDashed   = "3782-822463-10005" // Amex, 15 digits
	bearer      = "Bearer sk_live_9f8e7d6c5b4a"
	bearerValue = "sk_live_9f8e7d6c5b4a"
	jwt         = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
	pinBlock    = "0412AC89ABCDEF01"
	password    = "correct-horse-battery-staple"
	cvv         = "737"
)

// Everything that must never appear in a log line, in any form a caller might use.
var forbidden = []string{
	pan, panSpaced, panDashed, "550000000000", "378282246310005", bearerValue, jwt,
	"c2lnbmF0dXJl", pinBlock, password,
}

type cardholder struct {
	Name     string
	PAN      string
	Password string
	Note     string
}

type loginError struct{ user, pw string }

func (e loginError) Error() string { return "login failed for " + e.user + " password=" + e.pw }

// A card number, a bearer token, a PIN block and a password handed to the logger in
// messages and attributes never appear in its output.
func TestSensitiveDataNeverReachesTheOutput(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, "authorizer", slog.LevelDebug)
	ctx := logging.ContextWith(context.Background(), slog.String("note", "card "+pan))

	// In messages.
	log.Info("authorizing card " + pan + " for " + panSpaced + " and " + panDashed)
	log.Info("incoming call with Authorization: " + bearer)
	log.Info("token " + jwt + " verified")
	log.Info("PIN block " + pinBlock + " forwarded to hsm")
	log.Info(fmt.Sprintf("pin_block=%s cvv=%s password=%s", pinBlock, cvv, password))
	log.Info(`body {"password":"` + password + `","pan":"` + pan + `"}`)

	// In attributes, under telling and innocent keys.
	log.InfoContext(ctx, "attributes",
		"pan", pan,
		"card_number", panSpaced,
		"comment", "customer typed "+pan,
		"amount_ref", 4111111111111111,
		"authorization", bearer,
		"header", bearer,
		"access_token", jwt,
		"pin_block", pinBlock,
		"PINBlock", pinBlock,
		"cvv2", cvv,
		"password", password,
		"userPassword", password,
		"client_secret", password,
	)
	// In nested groups, in With, in errors, in structs and maps.
	log.With("session", slog.GroupValue(slog.String("password", password))).
		Info("nested",
			slog.Group("request", slog.String("text", "pay with "+pan), slog.Group("auth", slog.String("value", bearer))),
			slog.Any("err", fmt.Errorf("hsm: %w", loginError{"ana", password})),
			slog.Any("cardholder", cardholder{Name: "Ana", PAN: pan, Password: password, Note: "PIN block " + pinBlock}),
			slog.Any("headers", map[string][]string{"Authorization": {bearer}, "X-Note": {jwt}}),
			slog.Any("raw", []byte("pan="+pan)),
		)
	log.WithGroup("credentials").Info("group named after a secret", "value", password)
	log.Error("failed", "err", errors.New("declined "+pan+" with "+bearer))

	out := buf.String()
	for _, secret := range forbidden {
		if strings.Contains(out, secret) {
			t.Errorf("output contains %q", secret)
		}
	}
	if strings.Contains(out, `"`+cvv+`"`) || strings.Contains(out, "cvv="+cvv) {
		t.Error("output contains the CVV")
	}
	// Operators still see which card it was, as PCI DSS allows.
	if !strings.Contains(out, "411111******1111") {
		t.Error("card numbers are not shown masked as first six / last four")
	}
	for line := range strings.Lines(out) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		if rec["service"] != "authorizer" {
			t.Errorf("line without service: %s", line)
		}
	}
	t.Log(out)
}

func TestLinesCarryTheTraceID(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, "facade", slog.LevelInfo)
	// A trace id whose digits happen to form a Luhn-valid run must survive intact.
	traceID, _ := trace.TraceIDFromHex("4111111111111111abcdefabcdefabcd")
	spanID, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled,
	}))
	ctx = logging.ContextWith(ctx, slog.String(logging.KeyIdempotencyKey, "op-42"))
	log.InfoContext(ctx, "snapshot served")

	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["trace_id"] != traceID.String() || rec["span_id"] != spanID.String() {
		t.Errorf("trace ids: %v %v", rec["trace_id"], rec["span_id"])
	}
	if rec["service"] != "facade" || rec["idempotency_key"] != "op-42" {
		t.Errorf("record: %v", rec)
	}
}

// Redaction must not eat ordinary data an operator needs.
func TestOrdinaryValuesAreKept(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, "customer", slog.LevelInfo)
	kept := map[string]any{
		"customer_id":    "123e4567-e89b-12d3-a456-426614174000",
		"operation_id":   "1234567890123", // 13 digits, not Luhn-valid
		"span":           "shipping",
		"shipping":       "express",
		"company":        "Andes SAC",
		"phone":          "+51 987 654 321",
		"account":        "00219300123456789012", // 20-digit CCI, not a card
		"amount_minor":   int64(150000),
		"key_id":         "kid-2026-11",
		"http.path":      "/v1/accounts",
		"opinion":        "pinned",
		"idempotencyKey": "abc",
	}
	args := make([]any, 0, 2*len(kept))
	for k, v := range kept {
		args = append(args, k, v)
	}
	log.Info("ordinary", args...)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	for k, v := range kept {
		if fmt.Sprint(rec[k]) != fmt.Sprint(v) {
			t.Errorf("%s: logged %v, want %v", k, rec[k], v)
		}
	}
}

func TestRedactText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"card 4111111111111111 ok", "card 411111******1111 ok"},
		{"card 4111 1111 1111 1111.", "card 4111 11** **** 1111."},
		{"pan=4111111111111111", "pan=[REDACTED]"},
		{"PAN4111111111111111", "PAN411111******1111"},
		{"order 4111111111111112", "order 4111111111111112"}, // fails Luhn
		{"at 2026-11-22 4111111111111111", "at 2026-11-22 411111******1111"},
		{"Authorization: Bearer abc.def-ghi", "Authorization: [REDACTED] [REDACTED]"},
		{"sent bearer abc123", "sent bearer [REDACTED]"},
		{"pin block: 0412ac89abcdef01", "pin block: [REDACTED]"},
		{"pin_block=0412AC89ABCDEF01 token=" + jwt, "pin_block=[REDACTED] token=[REDACTED]"},
		{`{"client_secret": "s3"}`, `{"client_secret": [REDACTED]}`},
		{"dial postgres://andes:pw%40x@127.0.0.1:5432/andes failed", "dial postgres://andes:[REDACTED]@127.0.0.1:5432/andes failed"},
		{"redis://:s3cret@127.0.0.1:6379/0", "redis://:[REDACTED]@127.0.0.1:6379/0"},
		{"see https://andes.local:8443/path", "see https://andes.local:8443/path"},
		{"nothing to see", "nothing to see"},
	}
	for _, tc := range cases {
		if got := logging.RedactText(tc.in); got != tc.want {
			t.Errorf("RedactText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMaskPAN(t *testing.T) {
	if got := logging.MaskPAN("4111111111111111"); got != "411111******1111" {
		t.Errorf("got %s", got)
	}
	if got := logging.MaskPAN("1234"); got != "****" {
		t.Errorf("got %s", got)
	}
}
