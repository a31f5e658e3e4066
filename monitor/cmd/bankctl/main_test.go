package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andes-bank/andes/platform/manifest"
)

func bankctl(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestStatusReportsEveryProcessAndFailsWhenOneIsDown(t *testing.T) {
	wd, _ := os.Getwd()
	manifestFile, err := manifest.Find(wd)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(manifestFile)
	if err != nil {
		t.Fatal(err)
	}
	// Free ports, released: nothing of this run listens there.
	addrs, err := m.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	addrsFile := filepath.Join(t.TempDir(), "addrs.json")
	if err := addrs.WriteFile(addrsFile); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ANDES_PKI_DIR": filepath.Join(t.TempDir(), "pki"), "ANDES_ADDRS_FILE": addrsFile}

	if _, err := bankctl(t, env, "status"); err == nil || errors.Is(err, errNotServing) {
		t.Errorf("status without an operator certificate = %v, want an error saying so", err)
	}
	if out, err := bankctl(t, env, "pki", "init"); err != nil {
		t.Fatalf("pki init: %v\n%s", err, out)
	}
	out, err := bankctl(t, env, "status")
	if !errors.Is(err, errNotServing) {
		t.Errorf("status with everything down = %v, want errNotServing", err)
	}
	for _, p := range m.Processes {
		if !strings.Contains(out, p.Name) || !strings.Contains(out, addrs[p.Name].GRPC) {
			t.Errorf("status does not show %s at %s:\n%s", p.Name, addrs[p.Name].GRPC, out)
		}
	}
	if !strings.Contains(out, fmt.Sprintf("0 of %d processes SERVING", len(m.Processes))) {
		t.Errorf("no summary line:\n%s", out)
	}
}

func TestEndpointsShowListenersAndDemoLogins(t *testing.T) {
	out, err := bankctl(t, nil, "endpoints")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"http://127.0.0.1:8080",         // bff-web's edge
		"smtp smtp://127.0.0.1:2525",    // mail's second edge
		"https://127.0.0.1:8441 (mTLS)", // the core's mTLS API
		"DNI 45678912",                  // a persona
		"partner-kallpa",                // a partner's client id
	} {
		if !strings.Contains(out, want) {
			t.Errorf("endpoints lack %q:\n%s", want, out)
		}
	}
}

func TestUnknownCommandsAreRefused(t *testing.T) {
	for _, args := range [][]string{{"stauts"}, {"pki"}, {"pki", "renew"}, {"status", "extra"}} {
		if _, err := bankctl(t, nil, args...); err == nil {
			t.Errorf("bankctl %v accepted", args)
		}
	}
}
