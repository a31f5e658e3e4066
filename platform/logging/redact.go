package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redacted replaces a value that must not be logged.
const Redacted = "[REDACTED]"

// Redact wraps a handler so that nothing sensitive reaches it: the message, every
// attribute value (nested groups, errors, structs and maps included) and attributes
// added with With are scrubbed. Values under sensitive keys (password, token, cvv,
// pin, pan, ...) are replaced whole; in free text, card numbers that pass Luhn are
// masked to first six and last four, bearer tokens, JWTs and key=value secrets are
// replaced.
func Redact(inner slog.Handler) slog.Handler { return &redactor{inner: inner} }

type redactor struct {
	inner slog.Handler
	// hidden is set inside a group whose name is itself sensitive
	// (logger.WithGroup("credentials")): everything in it is replaced.
	hidden bool
}

func (h *redactor) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *redactor) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, RedactText(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h *redactor) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &redactor{inner: h.inner.WithAttrs(clean), hidden: h.hidden}
}

func (h *redactor) WithGroup(name string) slog.Handler {
	return &redactor{inner: h.inner.WithGroup(name), hidden: h.hidden || sensitiveKey(name)}
}

func (h *redactor) attr(a slog.Attr) slog.Attr {
	if h.hidden {
		return slog.String(a.Key, Redacted)
	}
	return redactAttr(a)
}

var (
	traceIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
	spanIDPattern  = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if sensitiveKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		// Trace ids are hex and could hold a digit run that looks like a card
		// number; they are ours and safe, and must stay intact to be searchable.
		if (a.Key == KeyTraceID && traceIDPattern.MatchString(s)) || (a.Key == KeySpanID && spanIDPattern.MatchString(s)) {
			return a
		}
		if r := RedactText(s); r != s {
			return slog.String(a.Key, r)
		}
		return a
	case slog.KindInt64, slog.KindUint64:
		digits := v.String()
		if m := maskCards(digits); m != digits {
			return slog.String(a.Key, m)
		}
		return a
	case slog.KindGroup:
		attrs := v.Group()
		clean := make([]slog.Attr, len(attrs))
		for i, g := range attrs {
			clean[i] = redactAttr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(clean...)}
	case slog.KindAny:
		return slog.Attr{Key: a.Key, Value: redactAny(v.Any())}
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}

// redactAny handles values slog would hand to encoding/json: errors become their
// scrubbed text (as slog's JSON handler prints them), anything else is walked as
// the JSON it would become, so a struct field named Password or a map holding a
// card number is caught too.
func redactAny(x any) slog.Value {
	switch x := x.(type) {
	case nil:
		return slog.AnyValue(nil)
	case error:
		return slog.StringValue(RedactText(x.Error()))
	case []byte:
		if utf8.Valid(x) {
			return slog.StringValue(RedactText(string(x)))
		}
		return slog.AnyValue(x)
	}
	raw, err := json.Marshal(x)
	if err != nil {
		return slog.StringValue(RedactText(fmt.Sprintf("%+v", x)))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return slog.StringValue(RedactText(string(raw)))
	}
	clean, changed := redactTree(tree)
	if !changed {
		return slog.AnyValue(x)
	}
	return slog.AnyValue(clean)
}

func redactTree(v any) (any, bool) {
	switch v := v.(type) {
	case string:
		r := RedactText(v)
		return r, r != v
	case json.Number:
		s := v.String()
		if m := maskCards(s); m != s {
			return m, true
		}
		return v, false
	case map[string]any:
		changed := false
		for k, e := range v {
			if sensitiveKey(k) {
				v[k], changed = Redacted, true
				continue
			}
			if c, ch := redactTree(e); ch {
				v[k], changed = c, true
			}
		}
		return v, changed
	case []any:
		changed := false
		for i, e := range v {
			if c, ch := redactTree(e); ch {
				v[i], changed = c, true
			}
		}
		return v, changed
	default:
		return v, false
	}
}

// Key words that mark a value as sensitive wherever they occur in a key
// (client_secret, accessToken, X-Authorization), compared without case or
// punctuation.
var sensitiveParts = []string{
	"password", "passwd", "passphrase", "secret", "token", "authorization", "cookie",
	"apikey", "privatekey", "credential", "cvv", "cvc", "pinblock", "cardnumber",
	"track1", "track2", "trackdata",
}

// Short words that are sensitive only as a whole word of a key: "pin" and "pan"
// must match pin_block and card.pan but not shipping or span_id.
var sensitiveWords = map[string]bool{"pin": true, "pan": true, "pwd": true, "pvv": true}

func sensitiveKey(key string) bool {
	var norm strings.Builder
	for _, r := range key {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			norm.WriteRune(unicode.ToLower(r))
		}
	}
	n := norm.String()
	for _, p := range sensitiveParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	for _, w := range keyWords(key) {
		if sensitiveWords[w] {
			return true
		}
	}
	return false
}

// keyWords splits snake_case, kebab-case, dotted and camelCase keys into lower-case
// words; a run of capitals is one word (PINBlock → pin, block).
func keyWords(key string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(key)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			continue
		case unicode.IsUpper(r) && len(cur) > 0:
			prevLower := unicode.IsLower(rs[i-1])
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || (unicode.IsUpper(rs[i-1]) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

var (
	// "Bearer abc.def", "Basic dXNlcjpwdw==" in headers quoted into messages.
	authSchemePattern = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9\-._~+/]+=*`)
	// A JWS or JWE: base64url JSON header "eyJ" and at least one more part.
	jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)*`)
	// key=value and "key": "value" pairs in free text whose key is sensitive; a
	// value an earlier pattern already replaced is matched whole, not re-wrapped.
	keyValuePattern = regexp.MustCompile(`(?i)\b([a-z0-9_.-]*(?:password|passwd|passphrase|secret|token|authorization|api[_-]?key|cvv2?|cvc2?|pin[_-]?block)|pin|pan|pwd|pvv)("?\s*[=:]\s*)(\[REDACTED\]|"[^"]*"|'[^']*'|[^\s,;&"'}\]]+)`)
	// The password of a URL's user info: postgres://andes:pw@host/db.
	urlPasswordPattern = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@`)
	// "PIN block 0412AC89ABCDEF01": a PIN block named in prose without = or :.
	pinBlockPattern = regexp.MustCompile(`(?i)(pin[_ -]?block\W{0,3})[0-9a-f]{16}\b`)
)

// RedactText scrubs free text: passwords in URLs, bearer and basic credentials,
// JWTs, key=value secrets, PIN blocks and Luhn-valid card numbers. Tools that print operator-facing
// text (bankctl) use it too.
func RedactText(s string) string {
	if s == "" {
		return s
	}
	s = urlPasswordPattern.ReplaceAllString(s, "${1}"+Redacted+"@")
	s = authSchemePattern.ReplaceAllString(s, "${1}${2}"+Redacted)
	s = jwtPattern.ReplaceAllString(s, Redacted)
	s = pinBlockPattern.ReplaceAllString(s, "${1}"+Redacted)
	s = keyValuePattern.ReplaceAllString(s, "${1}${2}"+Redacted)
	return maskCards(s)
}

// MaskPAN shows a card number as first six and last four digits, the most PCI DSS
// allows to be displayed; anything too short to be a card number is hidden whole.
func MaskPAN(pan string) string {
	if len(pan) < 13 {
		return strings.Repeat("*", len(pan))
	}
	return pan[:6] + strings.Repeat("*", len(pan)-10) + pan[len(pan)-4:]
}

// maskCards finds card numbers in text: 13 to 19 digits, written together or in
// groups separated by one space or dash, that pass the Luhn check. Digits are
// masked except the first six and last four of each match; where candidates
// overlap, every digit any of them masks stays masked, so a card number is never
// shown in more than its first six and last four whatever surrounds it.
//
// A digit run longer than 19 is not a card number and is left alone: splitting it
// into windows would mask timestamps and ids at random. Groups are only joined when
// the group before the first is not glued to a letter, so the hex groups of a UUID
// are not read as one number.
func maskCards(s string) string {
	type run struct{ start, end int } // byte offsets of a maximal digit run
	var runs []run
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		runs = append(runs, run{i, j})
		i = j
	}
	if len(runs) == 0 {
		return s
	}
	var mask []bool
	joined := func(a, b run) bool { // b follows a after exactly one separator
		return b.start == a.end+1 && (s[a.end] == ' ' || s[a.end] == '-')
	}
	gluedLeft := func(r run) bool { return r.start > 0 && isLetter(s[r.start-1]) }
	gluedRight := func(r run) bool { return r.end < len(s) && isLetter(s[r.end]) }
	digits := make([]byte, 0, 19)
	for i := range runs {
		digits = digits[:0]
		for j := i; j < len(runs); j++ {
			if j > i && !joined(runs[j-1], runs[j]) {
				break
			}
			digits = append(digits, s[runs[j].start:runs[j].end]...)
			if len(digits) > 19 {
				break
			}
			if len(digits) < 13 || !luhn(digits) {
				continue
			}
			if j > i && (gluedLeft(runs[i]) || gluedRight(runs[j])) {
				continue
			}
			if mask == nil {
				mask = make([]bool, len(s))
			}
			// Mask every digit of the candidate but its first six and last four.
			seen := 0
			for p := runs[i].start; p < runs[j].end; p++ {
				if !isDigit(s[p]) {
					continue
				}
				if seen >= 6 && seen < len(digits)-4 {
					mask[p] = true
				}
				seen++
			}
		}
	}
	if mask == nil {
		return s
	}
	b := []byte(s)
	for p, m := range mask {
		if m {
			b[p] = '*'
		}
	}
	return string(b)
}

func luhn(digits []byte) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
