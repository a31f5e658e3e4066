package corebank

import (
	"fmt"
	"os"
	"time"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/simulators/corebank/faults"
)

// Config is the simulator's configuration, read from its environment.
type Config struct {
	config.Base
	EdgeAddr    string        `env:"ANDES_EDGE_ADDR,required,addr"`
	DatabaseURL config.Secret `env:"DATABASE_URL,required"`
	// DemoFile is the demo bank to seed (deploy/demo/demo.yaml); empty looks for
	// deploy/demo/demo.yaml under the working directory and seeds nothing when
	// it is not there.
	DemoFile    string `env:"ANDES_DEMO_FILE"`
	SeedHistory bool   `env:"ANDES_COREBANK_SEED_HISTORY" default:"true"`
	// Callers may call the API; the operator alone may call /core/v2/admin/.
	Callers    []string      `env:"ANDES_COREBANK_CALLERS" default:"facade,operator"`
	HoldTTL    time.Duration `env:"ANDES_COREBANK_HOLD_TTL" default:"168h"`
	DBMaxConns int32         `env:"ANDES_COREBANK_DB_MAX_CONNS" default:"16"`

	// Fault knobs at start; changed at run time with PUT /faults on the admin listener.
	Latency               time.Duration `env:"ANDES_COREBANK_LATENCY" default:"0s"`
	ErrorShare            float64       `env:"ANDES_COREBANK_ERROR_SHARE" default:"0"`
	TimeoutAfterPostShare float64       `env:"ANDES_COREBANK_TIMEOUT_AFTER_POST_SHARE" default:"0"`
	TimeoutStall          time.Duration `env:"ANDES_COREBANK_TIMEOUT_STALL" default:"30s"`
	Down                  bool          `env:"ANDES_COREBANK_DOWN" default:"false"`
	DownFor               time.Duration `env:"ANDES_COREBANK_DOWN_FOR" default:"0s"`
}

// Faults are the knobs the process starts with.
func (c *Config) Faults() faults.Settings {
	return faults.Settings{Latency: c.Latency, ErrorShare: c.ErrorShare, TimeoutAfterPostShare: c.TimeoutAfterPostShare,
		TimeoutStall: c.TimeoutStall, Down: c.Down, DownFor: c.DownFor}
}

// Validate checks what tags cannot.
func (c *Config) Validate() error {
	if err := c.Faults().Validate(); err != nil {
		return &config.VarError{Var: "ANDES_COREBANK_*", Msg: err.Error()}
	}
	if c.DBMaxConns < 2 {
		return &config.VarError{Var: "ANDES_COREBANK_DB_MAX_CONNS", Msg: "must be at least 2"}
	}
	if len(c.Callers) == 0 {
		return &config.VarError{Var: "ANDES_COREBANK_CALLERS", Msg: "must name at least one identity"}
	}
	if c.DemoFile != "" {
		if st, err := os.Stat(c.DemoFile); err != nil || !st.Mode().IsRegular() {
			return &config.VarError{Var: "ANDES_DEMO_FILE", Msg: fmt.Sprintf("%q is not a readable file", c.DemoFile)}
		}
	}
	return nil
}

// defaultDemoFile is where the demo bank lives in a checkout; make up and the
// supervisor start processes from the checkout's root.
const defaultDemoFile = "deploy/demo/demo.yaml"
