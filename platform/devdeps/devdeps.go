// Package devdeps starts the private PostgreSQL, Redis and NATS JetStream that tests
// and `make up` use on one machine, so nothing depends on servers the machine may or
// may not already run on their default ports.
//
// Instances belong to one checkout: they listen on free loopback ports, keep their
// files under the checkout's .run/ folder (PostgreSQL's cluster under
// /var/tmp/andes-<hash>, linked from .run/, because the postgres user cannot enter
// a private home folder), and are recorded in .run/deps.json. Later calls from the
// same checkout reuse live instances; a file lock per dependency makes parallel test
// binaries start each one once. A dependency whose URL is already in the
// environment (DATABASE_URL, REDIS_URL, NATS_URL) is never started.
package devdeps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Dep names one private dependency.
type Dep string

// The dependencies the starter knows.
const (
	Postgres Dep = "postgres"
	Redis    Dep = "redis"
	NATS     Dep = "nats"
)

// Environment variables through which processes receive the dependencies' URLs.
const (
	EnvDatabaseURL = "DATABASE_URL"
	EnvRedisURL    = "REDIS_URL"
	EnvNATSURL     = "NATS_URL"
)

// All lists every dependency in start order.
func All() []Dep { return []Dep{Postgres, Redis, NATS} }

// EnvVar is the variable that carries dep's URL.
func (d Dep) EnvVar() string {
	switch d {
	case Postgres:
		return EnvDatabaseURL
	case Redis:
		return EnvRedisURL
	case NATS:
		return EnvNATSURL
	}
	return ""
}

// ParseDep reads a dependency name as the CLI and scripts spell it.
func ParseDep(s string) (Dep, error) {
	switch d := Dep(s); d {
	case Postgres, Redis, NATS:
		return d, nil
	}
	return "", fmt.Errorf("devdeps: unknown dependency %q (want postgres, redis or nats)", s)
}

// Options says which checkout the instances belong to and how to report.
type Options struct {
	// Root is the checkout root, the folder holding go.work (see FindRoot).
	Root string
	// LookupEnv reads the URL variables; when it reports a non-empty URL for a
	// dependency, that dependency is used as is and not started. Nil honors nothing.
	LookupEnv func(string) (string, bool)
	// Log receives one line per slow step (initdb, apt-get, go build, starts).
	Log io.Writer
	// NoFsync starts PostgreSQL with fsync, synchronous_commit and
	// full_page_writes off: faster, and a machine crash may corrupt the cluster.
	// Off by default so benchmarks measure real commits. It applies only when this
	// call starts the server; a running one keeps its mode.
	NoFsync bool
}

// URLs are the addresses of the dependencies, empty for those not asked for.
type URLs struct {
	DatabaseURL string // an admin connection (superuser, database postgres)
	RedisURL    string
	NATSURL     string
}

// Get returns dep's URL.
func (u URLs) Get(d Dep) string {
	switch d {
	case Postgres:
		return u.DatabaseURL
	case Redis:
		return u.RedisURL
	case NATS:
		return u.NATSURL
	}
	return ""
}

func (u *URLs) set(d Dep, url string) {
	switch d {
	case Postgres:
		u.DatabaseURL = url
	case Redis:
		u.RedisURL = url
	case NATS:
		u.NATSURL = url
	}
}

// Env renders the known URLs as VAR=value lines, in start order.
func (u URLs) Env() []string {
	var lines []string
	for _, d := range All() {
		if v := u.Get(d); v != "" {
			lines = append(lines, d.EnvVar()+"="+v)
		}
	}
	return lines
}

// Result is what Ensure found or started.
type Result struct {
	URLs
	// Started lists the dependencies this call started (not reused, not from the
	// environment), so a caller such as `make up` can stop exactly those.
	Started []Dep
}

// Instance is one running dependency as recorded in .run/deps.json.
type Instance struct {
	Dep       Dep       `json:"dep"`
	PID       int       `json:"pid"`
	Port      int       `json:"port"`
	URL       string    `json:"url"`
	Dir       string    `json:"dir"`
	StartedAt time.Time `json:"started_at"`
}

// Status is an Instance with a liveness check.
type Status struct {
	Instance
	Alive bool
}

// FindRoot walks up from dir to the folder that holds go.work.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("devdeps: no go.work in %s or any parent", dir)
		}
		d = parent
	}
}

// Ensure makes each asked dependency (all when none is named) available and returns
// the URLs: from the environment, from a live instance of this checkout, or from an
// instance it starts now.
func Ensure(ctx context.Context, opts Options, deps ...Dep) (Result, error) {
	s, err := newStarter(opts)
	if err != nil {
		return Result{}, err
	}
	if len(deps) == 0 {
		deps = All()
	}
	var res Result
	for _, d := range deps {
		if url, ok := s.fromEnv(d); ok {
			res.set(d, url)
			continue
		}
		inst, started, err := s.ensure(ctx, d)
		if err != nil {
			return res, err
		}
		res.set(d, inst.URL)
		if started {
			res.Started = append(res.Started, d)
		}
	}
	return res, nil
}

// Stop stops this checkout's instances of deps (all when none is named) and forgets
// them. PostgreSQL's data stays, so the next start skips initdb.
func Stop(ctx context.Context, opts Options, deps ...Dep) error {
	s, err := newStarter(opts)
	if err != nil {
		return err
	}
	if len(deps) == 0 {
		deps = All()
	}
	var errs []error
	for _, d := range deps {
		errs = append(errs, s.stop(ctx, d))
	}
	return errors.Join(errs...)
}

// Statuses reports the recorded instances of this checkout and whether each is alive.
func Statuses(ctx context.Context, opts Options) ([]Status, error) {
	s, err := newStarter(opts)
	if err != nil {
		return nil, err
	}
	st, err := s.readState()
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, d := range All() {
		inst, ok := st[d]
		if !ok {
			continue
		}
		out = append(out, Status{Instance: inst, Alive: alive(ctx, inst)})
	}
	return out, nil
}

// Remove stops this checkout's instances and deletes their data: the PostgreSQL
// cluster, the JetStream store, the records. The next Ensure starts from nothing.
func Remove(ctx context.Context, opts Options) error {
	if err := Stop(ctx, opts); err != nil {
		return err
	}
	s, err := newStarter(opts)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range []string{
		s.varDir,
		filepath.Join(s.runDir, "pg"),
		filepath.Join(s.runDir, "postgres.log"),
		filepath.Join(s.runDir, "redis"),
		filepath.Join(s.runDir, "nats"),
		s.statePath(),
	} {
		errs = append(errs, os.RemoveAll(p))
	}
	return errors.Join(errs...)
}

// starter carries the paths of one checkout.
type starter struct {
	opts   Options
	runDir string // <root>/.run
	// varDir is /var/tmp/andes-<hash of root>: short enough for a Unix socket path
	// and reachable by the postgres user.
	varDir string
}

func newStarter(opts Options) (*starter, error) {
	if opts.Root == "" {
		return nil, errors.New("devdeps: Options.Root is empty (use FindRoot)")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, err
	}
	opts.Root = root
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	sum := sha256.Sum256([]byte(root))
	s := &starter{
		opts:   opts,
		runDir: filepath.Join(root, ".run"),
		// Not os.TempDir: TMPDIR may be long or private, and the cluster needs a
		// short path the postgres user can enter.
		varDir: "/var/tmp/andes-" + hex.EncodeToString(sum[:6]),
	}
	if err := os.MkdirAll(s.runDir, 0o755); err != nil {
		return nil, fmt.Errorf("devdeps: %w", err)
	}
	return s, nil
}

func (s *starter) fromEnv(d Dep) (string, bool) {
	if s.opts.LookupEnv == nil {
		return "", false
	}
	v, ok := s.opts.LookupEnv(d.EnvVar())
	return v, ok && v != ""
}

func (s *starter) logf(format string, args ...any) {
	fmt.Fprintf(s.opts.Log, "devdeps: "+format+"\n", args...)
}

// ensure returns a live instance of d, starting one under d's lock when the
// recorded one is missing or dead.
func (s *starter) ensure(ctx context.Context, d Dep) (Instance, bool, error) {
	unlock, err := lockFile(ctx, filepath.Join(s.runDir, string(d)+".lock"))
	if err != nil {
		return Instance{}, false, err
	}
	defer unlock()

	st, err := s.readState()
	if err != nil {
		return Instance{}, false, err
	}
	if inst, ok := st[d]; ok && alive(ctx, inst) {
		return inst, false, nil
	}
	var inst Instance
	var started bool
	switch d {
	case Postgres:
		inst, started, err = s.startPostgres(ctx)
	case Redis:
		inst, err = s.startRedis(ctx)
		started = true
	case NATS:
		inst, err = s.startNATS(ctx)
		started = true
	default:
		err = fmt.Errorf("devdeps: unknown dependency %q", d)
	}
	if err != nil {
		return Instance{}, false, err
	}
	if err := s.updateState(ctx, func(st state) { st[d] = inst }); err != nil {
		return Instance{}, false, err
	}
	return inst, started, nil
}

func (s *starter) stop(ctx context.Context, d Dep) error {
	unlock, err := lockFile(ctx, filepath.Join(s.runDir, string(d)+".lock"))
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.readState()
	if err != nil {
		return err
	}
	inst, ok := st[d]
	if d == Postgres {
		// The cluster may run without a record (a deleted .run/): its own pid file
		// is the truth.
		err = s.stopPostgres(ctx)
	} else if ok && alive(ctx, inst) {
		err = terminate(ctx, inst.PID)
	}
	if err != nil {
		return fmt.Errorf("devdeps: stop %s: %w", d, err)
	}
	if !ok {
		return nil
	}
	return s.updateState(ctx, func(st state) { delete(st, d) })
}
