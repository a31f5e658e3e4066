package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/manifest"
)

func demoFile(t *testing.T) string {
	t.Helper()
	wd, _ := os.Getwd()
	m, err := manifest.Find(wd)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(filepath.Dir(filepath.Dir(m)), "deploy", "demo", "demo.yaml")
}

func TestSnapshotFindsTheCustomer(t *testing.T) {
	f := demoFile(t)
	for _, who := range []string{"45678912", "maria"} {
		n, err := customerNumber(who, f)
		if err != nil || n != "CU00000001" {
			t.Errorf("%s: %q %v", who, n, err)
		}
	}
	if n, err := customerNumber("CU00001234", f); err != nil || n != "CU00001234" {
		t.Errorf("a core number: %q %v", n, err)
	}
	if _, err := customerNumber("11111111", f); err == nil {
		t.Error("found a customer the demo bank lacks")
	}
}

func TestSnapshotNeedsOneCustomerAndTheOperator(t *testing.T) {
	env := map[string]string{"ANDES_PKI_DIR": filepath.Join(t.TempDir(), "pki")}
	if _, err := bankctl(t, env, "snapshot"); err == nil {
		t.Error("snapshot of nobody")
	}
	if out, err := bankctl(t, env, "snapshot", "maria"); err == nil || !strings.Contains(err.Error(), "operator identity") {
		t.Errorf("without an operator certificate: %v\n%s", err, out)
	}
}

func TestSnapshotPrintsMoneyInMajorUnits(t *testing.T) {
	at := timestamppb.New(time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC))
	var out bytes.Buffer
	printSnapshot(&out, &facadev1.GetCustomerSnapshotResponse{Source: facadev1.SnapshotSource_SNAPSHOT_SOURCE_STALE_CACHE,
		Snapshot: &facadev1.CustomerSnapshot{AsOf: at, FreshUntil: at, Stale: true,
			Profile: &facadev1.Profile{CustomerNumber: "CU00000001", GivenNames: "María Elena", FamilyNames: "Quispe Mamani"},
			Accounts: []*facadev1.Account{{AccountNumber: "19100100000323", Type: facadev1.AccountType_ACCOUNT_TYPE_SAVINGS,
				LedgerBalance: &moneyv1.Money{AmountMinor: 1250000, Currency: "PEN"}, AvailableBalance: &moneyv1.Money{AmountMinor: -5, Currency: "PEN"}}},
		}})
	for _, want := range []string{"María Elena Quispe Mamani", "12500.00 PEN", "-0.05 PEN", "STALE", "stale_cache", "savings"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
