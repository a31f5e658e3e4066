// Package config reads a process's settings from its environment into a struct the
// process declares itself, so that a missing or malformed value stops the process at
// start with a message naming the variable, instead of failing later in an adapter.
//
// A field is bound to a variable with a struct tag:
//
//	type Config struct {
//		config.Base
//		FacadeAddr  string        `env:"ANDES_FACADE_ADDR,required,addr"`
//		DatabaseURL config.Secret `env:"DATABASE_URL,required"`
//		CacheTTL    time.Duration `env:"ANDES_CACHE_TTL" default:"24h"`
//	}
//
// Options after the name: required (set and not empty), addr (host:port), file (an
// existing regular file), secret (the value is never echoed in an error; implied by
// the Secret type and by values read from files). Every variable may instead be
// given as <VAR>_FILE, the path of a file holding the value, which is how secrets
// reach a process without showing up in its environment.
//
// Supported field types: string, Secret, bool, integers, floats, time.Duration,
// []string (comma-separated), any encoding.TextUnmarshaler (slog.Level,
// netip.AddrPort, ...), and structs, which are walked (embedded or not). After a
// struct's fields are loaded, its Validate() error method runs if it has one.
package config

import (
	"encoding"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultTrustDomain is the SPIFFE trust domain of the dev PKI and the manifest.
const DefaultTrustDomain = "andes.local"

// Base is the part of the configuration every Andes process has (DESIGN.md section
// 3). Processes embed it in their own struct.
type Base struct {
	Name       string `env:"ANDES_NAME,required"`
	GRPCAddr   string `env:"ANDES_GRPC_ADDR,required,addr"`
	AdminAddr  string `env:"ANDES_ADMIN_ADDR,required,addr"`
	TLS        TLS
	PolicyFile string `env:"ANDES_POLICY_FILE,required,file"`

	// TrustDomain is the SPIFFE trust domain peers' identities are checked against.
	TrustDomain string `env:"ANDES_TRUST_DOMAIN" default:"andes.local"`
	// LogLevel accepts DEBUG, INFO, WARN, ERROR (slog's names).
	LogLevel slog.Level `env:"ANDES_LOG_LEVEL" default:"INFO"`
	// ShutdownTimeout bounds graceful draining before connections are cut.
	ShutdownTimeout time.Duration `env:"ANDES_SHUTDOWN_TIMEOUT" default:"10s"`
}

// TLS names the files of the process's identity in the dev PKI (or a real one).
type TLS struct {
	CertFile string `env:"ANDES_TLS_CERT_FILE,required,file"`
	KeyFile  string `env:"ANDES_TLS_KEY_FILE,required,file"`
	CAFile   string `env:"ANDES_TLS_CA_FILE,required,file"`
}

// Process is satisfied by every struct that embeds Base, so bootstrap code can take
// a process's whole configuration and still reach the common part.
type Process interface {
	Common() *Base
}

// Common returns the embedded Base; it exists so that *T satisfies Process for any T
// that embeds Base.
func (b *Base) Common() *Base { return b }

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)

// Validate checks what tags cannot express.
func (b *Base) Validate() error {
	if !namePattern.MatchString(b.Name) {
		return &VarError{Var: "ANDES_NAME", Msg: fmt.Sprintf("%q is not a process name (lower-case letters, digits, dashes)", b.Name)}
	}
	if b.ShutdownTimeout <= 0 {
		return &VarError{Var: "ANDES_SHUTDOWN_TIMEOUT", Msg: "must be positive"}
	}
	return nil
}

// Secret is a string that does not print itself, so a configuration struct can be
// logged or formatted with %v without leaking passwords or URLs with credentials.
type Secret string

// String hides the value from fmt.
func (Secret) String() string { return "[REDACTED]" }

// GoString hides the value from %#v.
func (Secret) GoString() string { return "[REDACTED]" }

// LogValue hides the value from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// Reveal returns the value, for the one place that needs it (a connection string).
func (s Secret) Reveal() string { return string(s) }

// VarError is a problem with one environment variable.
type VarError struct {
	Var string
	Msg string
}

func (e *VarError) Error() string { return "config: " + e.Var + ": " + e.Msg }

// LookupFunc finds a variable; os.LookupEnv is the usual one.
type LookupFunc func(name string) (string, bool)

// Load fills dst, a pointer to a struct, from the process environment.
func Load(dst any) error { return LoadFrom(os.LookupEnv, dst) }

// LoadFrom fills dst from lookup. Every problem is reported, not just the first, so
// an operator fixes a deployment in one go; each is a *VarError joined with
// errors.Join.
func LoadFrom(lookup LookupFunc, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: Load needs a pointer to a struct, got %T", dst)
	}
	l := loader{lookup: lookup}
	l.walk(v.Elem())
	// A struct embedding Base also has Base's Validate, promoted: the same problem
	// would be reported twice.
	seen := map[string]bool{}
	var errs []error
	for _, err := range l.errs {
		if !seen[err.Error()] {
			seen[err.Error()] = true
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Map turns a map into a LookupFunc, for tests and for tools that build an
// environment themselves.
func Map(env map[string]string) LookupFunc {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

type loader struct {
	lookup LookupFunc
	errs   []error
}

type tag struct {
	name                         string
	required, addr, file, secret bool
	defaultValue                 string
	hasDefault                   bool
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationType    = reflect.TypeFor[time.Duration]()
	secretType      = reflect.TypeFor[Secret]()
	validator       = reflect.TypeFor[interface{ Validate() error }]()
)

func (l *loader) walk(s reflect.Value) {
	t := s.Type()
	before := len(l.errs)
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := s.Field(i)
		raw, tagged := f.Tag.Lookup("env")
		if !tagged {
			if f.Type.Kind() == reflect.Struct {
				l.walk(fv)
			}
			continue
		}
		tg, err := parseTag(raw, f)
		if err != nil {
			l.errs = append(l.errs, err)
			continue
		}
		l.field(fv, tg)
	}
	// Validate only a struct whose own fields loaded: its rules would otherwise
	// report the same missing variable a second time, less clearly.
	if len(l.errs) == before && s.CanAddr() && s.Addr().Type().Implements(validator) {
		if err := s.Addr().Interface().(interface{ Validate() error }).Validate(); err != nil {
			l.errs = append(l.errs, err)
		}
	}
}

func parseTag(raw string, f reflect.StructField) (tag, error) {
	parts := strings.Split(raw, ",")
	tg := tag{name: strings.TrimSpace(parts[0])}
	if tg.name == "" {
		return tg, fmt.Errorf("config: field %s has an empty env tag", f.Name)
	}
	for _, o := range parts[1:] {
		switch strings.TrimSpace(o) {
		case "required":
			tg.required = true
		case "addr":
			tg.addr = true
		case "file":
			tg.file = true
		case "secret":
			tg.secret = true
		default:
			return tg, fmt.Errorf("config: field %s: unknown env option %q", f.Name, o)
		}
	}
	tg.defaultValue, tg.hasDefault = f.Tag.Lookup("default")
	if f.Type == secretType {
		tg.secret = true
	}
	return tg, nil
}

func (l *loader) fail(name, format string, args ...any) {
	l.errs = append(l.errs, &VarError{Var: name, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) field(fv reflect.Value, tg tag) {
	value, set := l.lookup(tg.name)
	path, fromFile := l.lookup(tg.name + "_FILE")
	fromFile = fromFile && path != ""
	set = set && value != ""
	switch {
	case set && fromFile:
		l.fail(tg.name, "set both %s and %s_FILE; set only one", tg.name, tg.name)
		return
	case fromFile:
		b, err := os.ReadFile(path)
		if err != nil {
			l.fail(tg.name+"_FILE", "cannot read: %v", err)
			return
		}
		// Files written by editors and `echo` end in a newline that is not part
		// of the secret.
		value, set = strings.TrimRight(string(b), "\r\n"), true
		tg.secret = true
	}
	if !set {
		if tg.required {
			l.fail(tg.name, "required but not set")
			return
		}
		if !tg.hasDefault {
			return
		}
		value = tg.defaultValue
	}
	// Values are echoed in errors to help an operator, except secrets.
	shown := strconv.Quote(value)
	if tg.secret {
		shown = "the value"
	}
	if tg.addr {
		if err := checkAddr(value); err != nil {
			l.fail(tg.name, "%s is not host:port: %v", shown, err)
			return
		}
	}
	if tg.file {
		if st, err := os.Stat(value); err != nil {
			if tg.secret {
				l.fail(tg.name, "the value names no readable file")
			} else {
				l.fail(tg.name, "%v", err)
			}
			return
		} else if !st.Mode().IsRegular() {
			l.fail(tg.name, "%s is not a regular file", shown)
			return
		}
	}
	if err := assign(fv, value); err != nil {
		l.fail(tg.name, "%s is malformed: %v", shown, err)
	}
}

// checkAddr writes its own messages because net's quote the address.
func checkAddr(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("want host:port such as 127.0.0.1:7101")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return errors.New("the port is not a number from 0 to 65535")
	}
	return nil
}

// assign parses value into fv. Messages say what was expected, not what strconv
// thought, because strconv quotes the value and secrets must not be quoted.
func assign(fv reflect.Value, value string) error {
	if fv.CanAddr() && fv.Addr().Type().Implements(textUnmarshaler) {
		if err := fv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(value)); err != nil {
			return errors.New("not accepted by " + fv.Type().String())
		}
		return nil
	}
	if fv.Type() == durationType {
		d, err := time.ParseDuration(value)
		if err != nil {
			return errors.New("want a duration such as 250ms, 5s or 1h")
		}
		fv.SetInt(int64(d))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(value)
	case reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return errors.New("want true or false")
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(value, 10, fv.Type().Bits())
		if err != nil {
			return fmt.Errorf("want a whole number that fits %s", fv.Type())
		}
		fv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(value, 10, fv.Type().Bits())
		if err != nil {
			return fmt.Errorf("want a non-negative whole number that fits %s", fv.Type())
		}
		fv.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(value, fv.Type().Bits())
		if err != nil {
			return errors.New("want a number")
		}
		fv.SetFloat(n)
	case reflect.Slice:
		if fv.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported field type %s", fv.Type())
		}
		var items []string
		for item := range strings.SplitSeq(value, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		s := reflect.MakeSlice(fv.Type(), len(items), len(items))
		for i, item := range items {
			s.Index(i).SetString(item)
		}
		fv.Set(s)
	default:
		return fmt.Errorf("unsupported field type %s", fv.Type())
	}
	return nil
}
