package pgledger_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/andes-bank/andes/simulators/corebank/adapters/pgledger"
	"github.com/andes-bank/andes/simulators/corebank/bench"
)

// benchVars name PostSQL's parameters in bench/transfer.sql, in order ($1 first).
var benchVars = []string{"debit", "credit", "amount", "currency", "kind", "description", "reference", "opref", "posted_at", "debit_classes", "credit_classes"}

var pgbenchVar = regexp.MustCompile(`:([a-z_]+)`)

// scriptStatement returns the SQL of bench/transfer.sql with its pgbench
// variables turned back into PostgreSQL parameters.
func scriptStatement(t testing.TB) string {
	t.Helper()
	var sql []string
	for _, line := range strings.Split(bench.Script, "\n") {
		if strings.HasPrefix(line, `\`) || strings.HasPrefix(line, "--") {
			continue
		}
		sql = append(sql, line)
	}
	stmt := strings.TrimSuffix(strings.TrimSpace(strings.Join(sql, "\n")), ";")
	index := map[string]string{}
	for i, v := range benchVars {
		index[v] = "$" + itoa(i+1)
	}
	// Casts (::text) are not variables.
	stmt = strings.ReplaceAll(stmt, "::", "\x00")
	stmt = pgbenchVar.ReplaceAllStringFunc(stmt, func(m string) string {
		if p, ok := index[m[1:]]; ok {
			return p
		}
		t.Fatalf("bench/transfer.sql uses %s, which is not one of PostSQL's parameters", m)
		return m
	})
	return strings.ReplaceAll(stmt, "\x00", "::")
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// TestBenchScriptIsPostSQL keeps pgbench running exactly the statement the core runs.
func TestBenchScriptIsPostSQL(t *testing.T) {
	if got, want := scriptStatement(t), strings.TrimSpace(pgledger.PostSQL); got != want {
		t.Fatalf("bench/transfer.sql differs from pgledger.PostSQL; regenerate it.\n--- script ---\n%s\n--- PostSQL ---\n%s", got, want)
	}
}
