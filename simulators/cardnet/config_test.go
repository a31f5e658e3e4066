package cardnet_test

import (
	"strings"
	"testing"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet"
	"github.com/andes-bank/andes/simulators/hsm"
)

func TestDefaults(t *testing.T) {
	s := cardnet.DefaultSettings()
	if s.ZPK.Reveal() != hsm.DevZPK {
		t.Fatal("the default zone PIN key must be the HSM simulator's development key")
	}
	if s.AuthorizerAddr != "127.0.0.1:8583" || s.TextEncoding.TextEncoding != iso8583.ASCII || s.Connections != 2 {
		t.Fatalf("defaults: %+v", s)
	}
	if _, err := cardnet.New(s, cardnet.Hooks{}); err != nil {
		t.Fatal(err)
	}
}

func TestSettingsFromTheEnvironment(t *testing.T) {
	var s cardnet.Settings
	err := config.LoadFrom(config.Map(map[string]string{
		"ANDES_AUTHORIZER_EDGE_ADDR":   "127.0.0.1:9583",
		"ANDES_CARDNET_TEXT_ENCODING":  "EBCDIC",
		"ANDES_CARDNET_CONNECTIONS":    "8",
		"ANDES_CARDNET_ISSUER_TIMEOUT": "250ms",
	}), &s)
	if err != nil {
		t.Fatal(err)
	}
	if s.AuthorizerAddr != "127.0.0.1:9583" || s.TextEncoding.TextEncoding != iso8583.EBCDIC || s.Connections != 8 || s.IssuerTimeout.Milliseconds() != 250 {
		t.Fatalf("%+v", s)
	}
}

func TestBadSettingsNameTheirVariable(t *testing.T) {
	const secret = "0123456789ABCDEFXYZ"
	for variable, value := range map[string]string{
		"ANDES_CARDNET_TEXT_ENCODING":  "utf-8",
		"ANDES_CARDNET_CONNECTIONS":    "0",
		"ANDES_CARDNET_ACQUIRER_ID":    "ACQ",
		"ANDES_CARDNET_ISSUER_TIMEOUT": "-1s",
		"ANDES_CARDNET_ZPK":            secret,
		"ANDES_AUTHORIZER_EDGE_ADDR":   "nowhere",
	} {
		var s cardnet.Settings
		err := config.LoadFrom(config.Map(map[string]string{variable: value}), &s)
		if err == nil || !strings.Contains(err.Error(), variable) {
			t.Errorf("%s=%s: got %v, want an error naming the variable", variable, value, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("the error quotes the key: %v", err)
		}
	}
}
