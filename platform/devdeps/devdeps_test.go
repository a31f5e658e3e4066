package devdeps

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// scratchCheckout makes an empty checkout in a temporary folder, sharing the real
// checkout's nats-server binary (built once if missing) so the test does not
// rebuild it. Its instances are stopped and its cluster removed at the end.
func scratchCheckout(t *testing.T) Options {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	realRoot, err := FindRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	real, err := newStarter(Options{Root: realRoot, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := lockFile(ctx, filepath.Join(real.runDir, string(NATS)+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := real.ensureNATSBinary(ctx)
	unlock()
	if err != nil {
		t.Fatal(err)
	}

	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.work"), []byte("go 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, ".tools", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, filepath.Join(root, ".tools", "bin", "nats-server")); err != nil {
		t.Fatal(err)
	}
	opts := Options{Root: root, Log: testLog{t}}
	s, err := newStarter(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := Remove(ctx, Options{Root: root}); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(s.varDir); err == nil {
			t.Errorf("Remove left %s", s.varDir)
		}
	})
	return opts
}

func TestConcurrentEnsureStartsEachDependencyOnce(t *testing.T) {
	opts := scratchCheckout(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Two callers at once, as two test binaries of one `go test` run would be.
	var wg sync.WaitGroup
	results := make([]Result, 2)
	errs := make([]error, 2)
	began := time.Now()
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = Ensure(ctx, opts)
		}()
	}
	wg.Wait()
	t.Logf("first start of all three took %s", time.Since(began).Round(time.Millisecond))
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if results[0].URLs != results[1].URLs {
		t.Fatalf("callers got different instances:\n%+v\n%+v", results[0].URLs, results[1].URLs)
	}
	started := append(slices.Clone(results[0].Started), results[1].Started...)
	slices.Sort(started)
	if want := []Dep{NATS, Postgres, Redis}; !slices.Equal(started, want) {
		t.Fatalf("started %v between them, want each of %v once", started, want)
	}
	urls := results[0].URLs

	// A later caller reuses them.
	again, err := Ensure(ctx, opts)
	if err != nil || again.URLs != urls || len(again.Started) != 0 {
		t.Fatalf("third Ensure = %+v, %v; want the same URLs, nothing started", again, err)
	}
	checkServers(t, ctx, urls)

	// A dead instance is replaced; the others are kept.
	sts, err := Statuses(ctx, opts)
	if err != nil || len(sts) != 3 {
		t.Fatalf("Statuses = %v, %v", sts, err)
	}
	for _, st := range sts {
		if !st.Alive {
			t.Fatalf("%s is not alive", st.Dep)
		}
		if st.Dep == Redis {
			if err := terminate(ctx, st.PID); err != nil {
				t.Fatal(err)
			}
		}
	}
	afterKill, err := Ensure(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(afterKill.Started, []Dep{Redis}) || afterKill.DatabaseURL != urls.DatabaseURL || afterKill.NATSURL != urls.NATSURL {
		t.Fatalf("after killing Redis: %+v; want only Redis restarted", afterKill)
	}
	if err := redisPing(ctx, portOf(t, afterKill.RedisURL)); err != nil {
		t.Fatal(err)
	}

	// A cluster still running after its record was lost is adopted, not restarted.
	oldSts, _ := Statuses(ctx, opts)
	s, _ := newStarter(opts)
	if err := os.Remove(s.statePath()); err != nil {
		t.Fatal(err)
	}
	adopted, err := Ensure(ctx, opts, Postgres)
	if err != nil || adopted.DatabaseURL != urls.DatabaseURL || len(adopted.Started) != 0 {
		t.Fatalf("after losing deps.json: %+v, %v; want the running cluster", adopted, err)
	}

	// Redis and NATS, now unrecorded, are replaced, and the old ones stopped.
	if _, err := Ensure(ctx, opts, Redis, NATS); err != nil {
		t.Fatal(err)
	}
	for _, st := range oldSts {
		if st.Dep != Postgres && processAlive(st.PID) {
			t.Fatalf("the unrecorded %s (pid %d) still runs", st.Dep, st.PID)
		}
	}

	// Stop stops them all; a new start reuses the cluster's data (no initdb).
	sts, _ = Statuses(ctx, opts)
	if err := Stop(ctx, opts); err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if processAlive(st.PID) {
			t.Fatalf("%s (pid %d) survived Stop", st.Dep, st.PID)
		}
	}
	if sts, _ := Statuses(ctx, opts); len(sts) != 0 {
		t.Fatalf("after Stop: %v recorded", sts)
	}
	began = time.Now()
	fast := opts
	fast.NoFsync = true
	restarted, err := Ensure(ctx, fast, Postgres)
	if err != nil || !slices.Equal(restarted.Started, []Dep{Postgres}) {
		t.Fatalf("restart = %+v, %v", restarted, err)
	}
	t.Logf("restart of an existing cluster took %s", time.Since(began).Round(time.Millisecond))
	conn, err := pgx.Connect(ctx, restarted.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var fsync string
	if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "off" {
		t.Fatalf("fsync = %q, %v; want off when asked", fsync, err)
	}
}

// checkServers talks to each server and checks the cluster's settings.
func checkServers(t *testing.T, ctx context.Context, urls URLs) {
	t.Helper()
	conn, err := pgx.Connect(ctx, urls.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for setting, want := range map[string]string{
		"max_connections":  "300",
		"shared_buffers":   "256MB",
		"fsync":            "on",
		"listen_addresses": "127.0.0.1",
		"server_version":   "15",
	} {
		var got string
		if err := conn.QueryRow(ctx, "SHOW "+setting).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got, want) {
			t.Errorf("%s = %s, want %s", setting, got, want)
		}
	}
	if err := redisPing(ctx, portOf(t, urls.RedisURL)); err != nil {
		t.Fatal(err)
	}
	if err := natsReady(ctx, portOf(t, urls.NATSURL)); err != nil {
		t.Fatal(err)
	}
}

func portOf(t *testing.T, url string) int {
	t.Helper()
	hostPort := url[strings.Index(url, "127.0.0.1:")+len("127.0.0.1:"):]
	n := 0
	for _, c := range hostPort {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	if n == 0 {
		t.Fatalf("no port in %s", url)
	}
	return n
}

func TestURLsFromTheEnvironmentAreHonored(t *testing.T) {
	root := t.TempDir()
	env := map[string]string{
		EnvDatabaseURL: "postgres://app@db.internal:5432/andes",
		EnvRedisURL:    "redis://cache.internal:6379/2",
		EnvNATSURL:     "nats://bus.internal:4222",
	}
	opts := Options{Root: root, LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}}
	res, err := Ensure(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := URLs{DatabaseURL: env[EnvDatabaseURL], RedisURL: env[EnvRedisURL], NATSURL: env[EnvNATSURL]}
	if res.URLs != want || len(res.Started) != 0 {
		t.Fatalf("Ensure = %+v; want the environment's URLs, nothing started", res)
	}
	if sts, _ := Statuses(context.Background(), opts); len(sts) != 0 {
		t.Fatalf("recorded %v; want nothing", sts)
	}
	wantEnv := []string{
		"DATABASE_URL=" + env[EnvDatabaseURL],
		"REDIS_URL=" + env[EnvRedisURL],
		"NATS_URL=" + env[EnvNATSURL],
	}
	if got := res.Env(); !slices.Equal(got, wantEnv) {
		t.Fatalf("Env() = %v, want %v", got, wantEnv)
	}
}

func TestFindRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "services", "controller", "adapters")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.work"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := FindRoot(deep); err != nil || got != root {
		t.Fatalf("FindRoot = %q, %v; want %q", got, err, root)
	}
	if _, err := FindRoot(t.TempDir()); err == nil {
		t.Fatal("FindRoot outside a checkout: want an error")
	}
}

func TestParseDep(t *testing.T) {
	for _, d := range All() {
		if got, err := ParseDep(string(d)); err != nil || got != d {
			t.Errorf("ParseDep(%q) = %q, %v", d, got, err)
		}
	}
	if _, err := ParseDep("mysql"); err == nil {
		t.Error("ParseDep(mysql): want an error")
	}
}
