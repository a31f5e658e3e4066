package cardnet

import (
	"errors"
	"fmt"
	"time"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/standin"
)

// Settings are the network's settings, read from the environment with
// platform/config in every mode (serve, scenario, load).
type Settings struct {
	// AuthorizerAddr is the authorizer's ISO 8583 listener, its edge in the
	// manifest.
	AuthorizerAddr string `env:"ANDES_AUTHORIZER_EDGE_ADDR,addr" default:"127.0.0.1:8583"`
	// TextEncoding is the listener's text encoding: ascii or ebcdic.
	TextEncoding Encoding `env:"ANDES_CARDNET_TEXT_ENCODING" default:"ascii"`
	// Connections to the issuer.
	Connections int `env:"ANDES_CARDNET_CONNECTIONS" default:"2"`
	// AcquirerID is DE32 of everything the network sends.
	AcquirerID string `env:"ANDES_CARDNET_ACQUIRER_ID" default:"400001"`
	// ZPK is the zone PIN key shared with the issuer's HSM, hex; the HSM
	// simulator's development key (hsm.DevZPK) by default.
	ZPK config.Secret `env:"ANDES_CARDNET_ZPK" default:"4652BC79A791C8978A643746A8EC5E8C"`

	EchoInterval  time.Duration `env:"ANDES_CARDNET_ECHO_INTERVAL" default:"30s"`
	IssuerTimeout time.Duration `env:"ANDES_CARDNET_ISSUER_TIMEOUT" default:"3s"`
	LateWindow    time.Duration `env:"ANDES_CARDNET_LATE_WINDOW" default:"30s"`
	AdviceTimeout time.Duration `env:"ANDES_CARDNET_ADVICE_TIMEOUT" default:"5s"`
	RetryInterval time.Duration `env:"ANDES_CARDNET_RETRY_INTERVAL" default:"1s"`

	StandInPerTransaction int64 `env:"ANDES_CARDNET_STANDIN_PER_TRANSACTION" default:"50000"`
	StandInDailyAmount    int64 `env:"ANDES_CARDNET_STANDIN_DAILY_AMOUNT" default:"100000"`
	StandInDailyCount     int   `env:"ANDES_CARDNET_STANDIN_DAILY_COUNT" default:"5"`
	StandInDailyCashCount int   `env:"ANDES_CARDNET_STANDIN_DAILY_CASH_COUNT" default:"0"`

	// LogFile, when set, receives the transaction log as JSON when the
	// process stops.
	LogFile string `env:"ANDES_CARDNET_LOG_FILE"`
}

// DefaultSettings are the settings with every default, for tests.
func DefaultSettings() Settings {
	var s Settings
	if err := config.LoadFrom(config.Map(nil), &s); err != nil {
		panic("cardnet: defaults do not load: " + err.Error()) // constants; a test covers them
	}
	return s
}

// Validate checks what tags cannot.
func (s *Settings) Validate() error {
	var errs []error
	bad := func(name, msg string) { errs = append(errs, &config.VarError{Var: name, Msg: msg}) }
	if s.Connections < 1 || s.Connections > 256 {
		bad("ANDES_CARDNET_CONNECTIONS", "must be 1 to 256")
	}
	if len(s.AcquirerID) == 0 || len(s.AcquirerID) > 11 || !digits(s.AcquirerID) {
		bad("ANDES_CARDNET_ACQUIRER_ID", "must be 1 to 11 digits")
	}
	for name, d := range map[string]time.Duration{
		"ANDES_CARDNET_ISSUER_TIMEOUT": s.IssuerTimeout, "ANDES_CARDNET_LATE_WINDOW": s.LateWindow,
		"ANDES_CARDNET_ADVICE_TIMEOUT": s.AdviceTimeout, "ANDES_CARDNET_RETRY_INTERVAL": s.RetryInterval,
	} {
		if d <= 0 {
			bad(name, "must be positive")
		}
	}
	if s.StandInPerTransaction < 0 || s.StandInDailyAmount < 0 || s.StandInDailyCount < 0 || s.StandInDailyCashCount < 0 {
		bad("ANDES_CARDNET_STANDIN_*", "limits cannot be negative")
	}
	if _, err := parseZPK(s.ZPK); err != nil {
		bad("ANDES_CARDNET_ZPK", "must be 16, 32 or 48 hex digits") // never the value: a key
	}
	return errors.Join(errs...)
}

// StandInLimits are the settings' stand-in limits.
func (s *Settings) StandInLimits() standin.Limits {
	return standin.Limits{
		PerTransaction: s.StandInPerTransaction, DailyAmount: s.StandInDailyAmount,
		DailyCount: s.StandInDailyCount, DailyCashCount: s.StandInDailyCashCount,
	}
}

// Encoding is a text encoding read from the environment.
type Encoding struct{ iso8583.TextEncoding }

// UnmarshalText reads ascii or ebcdic.
func (e *Encoding) UnmarshalText(b []byte) error {
	t, err := iso8583.ParseTextEncoding(string(b))
	if err != nil {
		return fmt.Errorf("want ascii or ebcdic")
	}
	e.TextEncoding = t
	return nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
