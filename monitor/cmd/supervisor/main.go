// Command supervisor is the local deployer: it starts every process of the
// manifest from built binaries, keeps them running, and stops them all on SIGINT
// or SIGTERM. Configuration comes from flags, each defaulting to an environment
// variable (run with -h for the list).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	supervisorv1 "github.com/andes-bank/andes/gen/andes/supervisor/v1"
	"github.com/andes-bank/andes/monitor/supervisor"
	"github.com/andes-bank/andes/monitor/supervisor/ports"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/pki"
	"github.com/andes-bank/andes/platform/server"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Getenv, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "supervisor:", err)
		os.Exit(1)
	}
}

// options are the supervisor's own settings (flags and environment).
type options struct {
	manifestFile string
	binDir       string
	logDir       string
	pkiDir       string
	policyDir    string
	addrsFile    string // empty: the manifest's fixed ports
	supervise    string // "all", "none" or a comma-separated list of names
	echo         bool
	databaseURL  string
	redisURL     string
	natsURL      string
	pidFile      string // empty: none
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("supervisor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c options
	// The environment is read after parsing, not as flag defaults, so that -h does
	// not print a DATABASE_URL with its password.
	fromEnv := map[*string]string{}
	str := func(p *string, name, env, usage string) {
		fs.StringVar(p, name, "", usage+" ($"+env+")")
		fromEnv[p] = env
	}
	str(&c.manifestFile, "manifest", "ANDES_MANIFEST_FILE", "the manifest; default: deploy/manifest.yaml above the working folder")
	str(&c.binDir, "bin", "ANDES_BIN_DIR", "folder of the built binaries, one per process name; default: .run/bin of the repository")
	str(&c.logDir, "logs", "ANDES_LOG_DIR", "folder of the per-process log files; default: .run/logs of the repository")
	str(&c.pkiDir, "pki", "ANDES_PKI_DIR", "the dev PKI folder (<name>.crt, <name>.key, ca.crt); default: .run/pki of the repository")
	str(&c.policyDir, "policies", "ANDES_POLICY_DIR", "folder of the authorization policies; default: deploy/policies")
	str(&c.addrsFile, "addrs", "ANDES_ADDRS_FILE", "addresses file (JSON, from manifest.Addrs.WriteFile); default: the manifest's fixed ports")
	str(&c.supervise, "supervise", "ANDES_SUPERVISED", `processes to run: "all" (default), "none", or names separated by commas`)
	fs.BoolVar(&c.echo, "echo", getenv("ANDES_SUPERVISOR_ECHO") == "true", "also copy every child's output to stderr, led by its name ($ANDES_SUPERVISOR_ECHO=true)")
	str(&c.databaseURL, "database-url", "DATABASE_URL", "PostgreSQL, for the processes that need it")
	str(&c.redisURL, "redis-url", "REDIS_URL", "Redis, for the processes that need it")
	str(&c.natsURL, "nats-url", "NATS_URL", "NATS, for the processes that need it")
	str(&c.pidFile, "pidfile", "ANDES_PID_FILE", "write the supervisor's pid here while it runs (make down reads it); default: none")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for p, env := range fromEnv {
		if *p == "" {
			*p = getenv(env)
		}
	}

	if c.manifestFile == "" {
		wd, err := os.Getwd()
		if err != nil {
			return options{}, err
		}
		if c.manifestFile, err = manifest.Find(wd); err != nil {
			return options{}, err
		}
	}
	// The manifest sits in <repo>/deploy; the other folders default to their
	// places in the repository, wherever the supervisor was started.
	deploy := filepath.Dir(c.manifestFile)
	root := filepath.Dir(deploy)
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.binDir, filepath.Join(root, ".run", "bin"))
	def(&c.logDir, filepath.Join(root, ".run", "logs"))
	def(&c.pkiDir, filepath.Join(root, ".run", "pki"))
	def(&c.policyDir, filepath.Join(deploy, "policies"))
	def(&c.supervise, "all")
	return c, nil
}

// run supervises until ctx ends or a SIGINT or SIGTERM arrives, then stops every
// child. The manager starts first and stops last, so the andes.supervisor.v1 API
// served on the internal listener only ever sees a running manager.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("name", "supervisor")

	m, err := manifest.Load(cfg.manifestFile)
	if err != nil {
		return err
	}
	addrs := m.Defaults()
	if cfg.addrsFile != "" {
		if addrs, err = m.ReadAddrs(cfg.addrsFile); err != nil {
			return err
		}
	}
	// The children it starts need their certificates; a supervisor running none
	// (in containers) is handed its own by the environment.
	if cfg.supervise != "none" {
		if err := pki.Ensure(cfg.pkiDir, m); err != nil {
			return err
		}
	}
	if cfg.pidFile != "" {
		release, err := writePIDFile(cfg.pidFile)
		if err != nil {
			return err
		}
		defer release()
	}
	own, err := ownConfig(m, addrs, cfg, getenv)
	if err != nil {
		return err
	}
	mgr, err := newManager(cfg, m, addrs, getenv, stderr, log)
	if err != nil {
		return err
	}

	ctx, stopSignals := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stopSignals()
	if err := mgr.Start(); err != nil {
		return err
	}
	log.Info("supervising", "processes", len(mgr.List()), "logs", cfg.logDir)

	err = server.Run(ctx, own, func(_ context.Context, p *server.Process) error {
		api, err := ports.NewServer(mgr, time.Now)
		if err != nil {
			return err
		}
		supervisorv1.RegisterSupervisorServiceServer(p.GRPC, api)
		return nil
	})
	// From here a second Ctrl-C kills the supervisor at once, and Pdeathsig takes
	// the children with it: an impatient operator still leaves nothing behind.
	stopSignals()
	log.Info("stopping every process")
	mgr.Stop()
	return err
}

// writePIDFile records this process's pid for `make down`, refusing when the file
// names a supervisor that still runs: two would fight over the same ports.
func writePIDFile(path string) (release func(), err error) {
	if raw, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil && pid != os.Getpid() && syscall.Kill(pid, 0) == nil {
			return nil, fmt.Errorf("another supervisor runs (pid %d in %s): stop it first (make down)", pid, path)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return nil, err
	}
	return func() { _ = os.Remove(path) }, nil
}

// ownConfig is the supervisor's own process configuration (its listeners,
// certificate and policy). The environment wins, as in containers where it is
// all given; what it leaves out comes from the supervisor's manifest entry
// resolved for this run, as under `make up`, where nothing starts the supervisor
// but a shell.
func ownConfig(m *manifest.Manifest, addrs manifest.Addrs, cfg options, getenv func(string) string) (*config.Base, error) {
	i := slices.IndexFunc(m.Processes, func(p manifest.Process) bool { return p.Kind == manifest.KindSupervisor })
	if i < 0 {
		return nil, errors.New("the manifest has no process of kind supervisor")
	}
	env, err := manifest.Env(&m.Processes[i], addrs, manifest.Shared{PKIDir: cfg.pkiDir, PolicyDir: cfg.policyDir})
	if err != nil {
		return nil, err
	}
	derived := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		derived[k] = v
	}
	lookup := func(k string) (string, bool) {
		if v := getenv(k); v != "" {
			return v, true
		}
		v, ok := derived[k]
		return v, ok
	}
	var own config.Base
	if err := config.LoadFrom(lookup, &own); err != nil {
		return nil, err
	}
	return &own, nil
}

// newManager resolves the manifest into the processes to run and builds the
// manager over them.
func newManager(cfg options, m *manifest.Manifest, addrs manifest.Addrs, getenv func(string) string, stderr io.Writer, log *slog.Logger) (*supervisor.Manager, error) {
	shared := manifest.Shared{
		PKIDir:      cfg.pkiDir,
		PolicyDir:   cfg.policyDir,
		DatabaseURL: cfg.databaseURL,
		RedisURL:    cfg.redisURL,
		NATSURL:     cfg.natsURL,
	}
	// Children inherit only what any program needs from its host, and the demo
	// bank the seeders read; everything else they are told comes from the
	// manifest (DESIGN.md section 3).
	var base []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL", "GOTRACEBACK", "GOCOVERDIR", "ANDES_DEMO_FILE"} {
		if v := getenv(k); v != "" {
			base = append(base, k+"="+v)
		}
	}
	// Only the chosen processes are resolved, so a supervisor running none (in
	// containers) or a few needs no URL of a dependency it will not hand out.
	chosen := *m
	var err error
	if chosen.Processes, err = choose(m.Processes, cfg.supervise); err != nil {
		return nil, err
	}
	specs, err := supervisor.Specs(&chosen, addrs, shared, cfg.binDir, base)
	if err != nil {
		return nil, err
	}

	mcfg := supervisor.Config{
		Specs:  specs,
		LogDir: cfg.logDir,
		Timing: supervisor.DefaultTiming(),
		Logger: log,
	}
	if cfg.echo {
		mcfg.Echo = stderr
	}
	return supervisor.New(mcfg)
}

// choose keeps the processes named by which: "all", "none" (in containers, where
// the container runtime restarts processes), or names separated by commas.
func choose(procs []manifest.Process, which string) ([]manifest.Process, error) {
	switch which {
	case "all":
		return procs, nil
	case "none":
		return nil, nil
	}
	names := strings.Split(which, ",")
	for _, n := range names {
		i := slices.IndexFunc(procs, func(p manifest.Process) bool { return p.Name == n })
		if i < 0 || procs[i].Kind == manifest.KindSupervisor {
			return nil, fmt.Errorf("cannot supervise %q: not a supervised process of the manifest", n)
		}
	}
	var kept []manifest.Process
	for _, p := range procs {
		if slices.Contains(names, p.Name) {
			kept = append(kept, p)
		}
	}
	return kept, nil
}
