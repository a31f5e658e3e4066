package hsm

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/andes-bank/andes/simulators/hsm/paycrypto"
)

// Development keys: fixed so that every process of a `make up` run, and every
// test, agrees on them without configuration. Never use them for real cards.
// Their check values: ZPK 392C08, PVK A90A9F, CVK D63B66.
const (
	DevZPK = "4652BC79A791C8978A643746A8EC5E8C"
	DevPVK = "7F51C491E6453725B35BBA4051A280B6"
	DevCVK = "C738ADA8D6687529BF52F489CDE937F4"
	DevKEK = "FE7D52492946DD1503C9B64BA618EE88A91C3D21A68391D8082C1A5B1FE44B6F"
)

// DefaultEdgeAddr is the manifest's port for the hsm edge listener.
const DefaultEdgeAddr = "127.0.0.1:1500"

// Keys are the keys the HSM holds.
type Keys struct {
	ZPK *paycrypto.DESKey  // zone PIN key: PIN blocks from the network
	PVK *paycrypto.DESKey  // PIN verification key pair: PVVs
	CVK *paycrypto.DESKey  // card verification key pair: CVV, CVV2, iCVV
	KEK *paycrypto.KEKRing // key-encryption keys: wrapping data keys
}

// DevKeys returns the development keys, for tests and simulators that run an
// HSM in process or build PIN blocks for one.
func DevKeys() Keys {
	keys, err := parseKeys(DevZPK, DevPVK, DevCVK, DevKEK)
	if err != nil {
		panic("hsm: development keys do not parse: " + err.Error()) // constants; a test covers them
	}
	return keys
}

func parseKeys(zpk, pvk, cvk, kek string) (Keys, error) {
	var keys Keys
	var err error
	if keys.ZPK, err = paycrypto.ParseDESKey(zpk); err != nil {
		return Keys{}, fmt.Errorf("ZPK: %w", err)
	}
	if keys.PVK, err = parsePair(pvk); err != nil {
		return Keys{}, fmt.Errorf("PVK: %w", err)
	}
	if keys.CVK, err = parsePair(cvk); err != nil {
		return Keys{}, fmt.Errorf("CVK: %w", err)
	}
	if keys.KEK, err = parseKEKRing(kek); err != nil {
		return Keys{}, fmt.Errorf("KEK: %w", err)
	}
	return keys, nil
}

// parsePair accepts only double-length keys: the Visa PVV and CVV methods are
// defined on a pair A‖B.
func parsePair(s string) (*paycrypto.DESKey, error) {
	if len(s) != 32 {
		return nil, errors.New("must be 32 hex digits (key A and key B)")
	}
	return paycrypto.ParseDESKey(s)
}

// parseKEKRing reads "hex" (version 1) or "v:hex,v:hex", current first.
func parseKEKRing(s string) (*paycrypto.KEKRing, error) {
	if !strings.Contains(s, ":") {
		s = "1:" + s
	}
	keys := make(map[int][]byte)
	current := 0
	for i, entry := range strings.Split(s, ",") {
		v, h, _ := strings.Cut(strings.TrimSpace(entry), ":")
		version, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("entry %d: version is not a number", i+1)
		}
		if _, dup := keys[version]; dup {
			return nil, fmt.Errorf("entry %d: version %d given twice", i+1, version)
		}
		key, err := hex.DecodeString(h)
		if err != nil || len(key) != paycrypto.KEKLen {
			return nil, fmt.Errorf("entry %d: key must be %d hex digits", i+1, 2*paycrypto.KEKLen)
		}
		keys[version] = key
		if i == 0 {
			current = version
		}
	}
	ring, err := paycrypto.NewKEKRing(current, keys)
	for _, k := range keys {
		clear(k)
	}
	return ring, err
}

// Config is everything the process reads from its environment.
type Config struct {
	Name     string // ANDES_NAME, default "hsm"
	EdgeAddr string // ANDES_EDGE_ADDR
	Keys     Keys
	// DevKeys lists the keys that took their development default.
	DevKeys []string
	Faults  FaultSettings
}

// LoadConfig reads the configuration through getenv and readFile (os.Getenv
// and os.ReadFile in main; maps in tests). A bad value stops start-up with an
// error naming the variable, never quoting a secret.
func LoadConfig(getenv func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	cfg := Config{
		Name:     orDefault(getenv("ANDES_NAME"), "hsm"),
		EdgeAddr: orDefault(getenv("ANDES_EDGE_ADDR"), DefaultEdgeAddr),
	}

	key := func(name, dev string) (string, error) {
		v, set, err := secret(getenv, readFile, name)
		if !set && err == nil {
			v = dev
			cfg.DevKeys = append(cfg.DevKeys, strings.TrimPrefix(name, "ANDES_HSM_"))
		}
		return v, err
	}
	// The messages below name the variable and what is expected, never the
	// value: it is a secret.
	v, err := key("ANDES_HSM_ZPK", DevZPK)
	if err != nil {
		return Config{}, err
	}
	if cfg.Keys.ZPK, err = paycrypto.ParseDESKey(v); err != nil {
		return Config{}, errors.New("ANDES_HSM_ZPK: must be 16, 32 or 48 hex digits")
	}
	if v, err = key("ANDES_HSM_PVK", DevPVK); err != nil {
		return Config{}, err
	}
	if cfg.Keys.PVK, err = parsePair(v); err != nil {
		return Config{}, errors.New("ANDES_HSM_PVK: must be 32 hex digits (key A and key B)")
	}
	if v, err = key("ANDES_HSM_CVK", DevCVK); err != nil {
		return Config{}, err
	}
	if cfg.Keys.CVK, err = parsePair(v); err != nil {
		return Config{}, errors.New("ANDES_HSM_CVK: must be 32 hex digits (key A and key B)")
	}
	if v, err = key("ANDES_HSM_KEK", DevKEK); err != nil {
		return Config{}, err
	}
	if cfg.Keys.KEK, err = parseKEKRing(v); err != nil {
		return Config{}, fmt.Errorf("ANDES_HSM_KEK: %w", err) // names entries and versions only
	}

	if v := getenv("ANDES_HSM_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return Config{}, errors.New("ANDES_HSM_LATENCY: must be a non-negative duration such as 20ms")
		}
		cfg.Faults.Latency = d
	}
	if v := getenv("ANDES_HSM_ERROR_SHARE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return Config{}, errors.New("ANDES_HSM_ERROR_SHARE: must be a number from 0 to 1")
		}
		cfg.Faults.ErrorShare = f
	}
	if v := getenv("ANDES_HSM_DISABLED_COMMANDS"); v != "" {
		for c := range strings.SplitSeq(v, ",") {
			cfg.Faults.DisabledCommands = append(cfg.Faults.DisabledCommands, strings.TrimSpace(c))
		}
	}
	if err := cfg.Faults.Validate(); err != nil {
		return Config{}, fmt.Errorf("ANDES_HSM_DISABLED_COMMANDS: %w", err)
	}
	return cfg, nil
}

// secret reads NAME or the file named by NAME_FILE.
func secret(getenv func(string) string, readFile func(string) ([]byte, error), name string) (string, bool, error) {
	direct, file := getenv(name), getenv(name+"_FILE")
	switch {
	case direct != "" && file != "":
		return "", false, fmt.Errorf("%s and %s_FILE are both set; set one", name, name)
	case file != "":
		b, err := readFile(file)
		if err != nil {
			return "", false, fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimSpace(string(b)), true, nil
	default:
		return strings.TrimSpace(direct), direct != "", nil
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
