package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestStartPrintsEnvLinesAndStatusShowsThem(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"start", "redis"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(out.String())
	if env := os.Getenv("REDIS_URL"); env != "" {
		if line != "REDIS_URL="+env {
			t.Fatalf("start printed %q, want the environment's REDIS_URL", line)
		}
		return // nothing was started, so status has nothing to show
	}
	if !strings.HasPrefix(line, "REDIS_URL=redis://127.0.0.1:") || strings.Contains(line, "\n") {
		t.Fatalf("start printed %q, want one REDIS_URL line", out.String())
	}
	out.Reset()
	if err := run([]string{"status"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "redis") || !strings.Contains(out.String(), " up ") {
		t.Fatalf("status printed %q, want Redis up", out.String())
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"restart"}, {"start", "mysql"}} {
		if err := run(args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%q): want an error", args)
		}
	}
}
