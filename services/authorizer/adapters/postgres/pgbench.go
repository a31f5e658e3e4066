package postgres

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/andes-bank/andes/services/authorizer/domain"
)

// authorizeParamNames name authorize.sql's parameters, in order: pgbench's
// variables in bench/authorize.sql.
var authorizeParamNames = []string{
	"fp", "now", "today", "yymm", "id", "mti", "kind", "pc", "stan", "de7", "acq", "rrn",
	"amount", "currency", "bamount", "bcurrency", "channel", "intl", "mcc", "expiry",
	"pin", "pvv", "cvv", "partial", "ntid", "lckey", "origkey", "preauth", "expires", "approval",
	"merchant", "mname", "mcountry", "terminal", "eventid", "head", "static",
}

// pgbenchRandom are the variables the script draws for each transaction: which
// card (its fingerprint is the card's number as text, see bench/seed.sql) and the
// message's STAN, which also makes its RRN, network transaction id and keys.
const pgbenchRandom = `\set fp random(1, :ncards)
\set stan random(1, 999999999)
\set rrn :stan
\set ntid :stan
\set lckey :stan
\set origkey :stan
`

var paramRef = regexp.MustCompile(`\$(\d+)`)

// PgbenchScript is bench/authorize.sql: the authorization statement, byte for byte
// but for its parameters, which become pgbench variables.
func PgbenchScript() string {
	body := paramRef.ReplaceAllStringFunc(authorizeSQL, func(m string) string {
		var n int
		fmt.Sscanf(m[1:], "%d", &n)
		return ":" + authorizeParamNames[n-1]
	})
	var b strings.Builder
	b.WriteString("-- Generated from adapters/postgres/sql/authorize.sql by TestPgbenchScript; do not edit.\n")
	b.WriteString("-- Run with -M prepared and -D for every variable not drawn below (see BenchmarkDecisionVsPgbench).\n")
	b.WriteString(pgbenchRandom)
	b.WriteString(strings.TrimRight(body, "\n"))
	b.WriteString(";\n")
	return b.String()
}

// PgbenchDefines are the -D name=value arguments that give the script in's values
// for everything it does not draw itself; ids are '-', for the statement to make.
func PgbenchDefines(in *domain.Input) []string {
	random := map[string]bool{"fp": true, "stan": true, "rrn": true, "ntid": true, "lckey": true, "origkey": true, "id": true, "eventid": true}
	var out []string
	for i, v := range authorizeParams(in) {
		name := authorizeParamNames[i]
		if random[name] {
			if name == "id" || name == "eventid" {
				out = append(out, "-D", name+"=-")
			}
			continue
		}
		var s string
		switch v := v.(type) {
		case []byte:
			s = fmt.Sprintf(`\x%x`, v)
		case interface{ Format(string) string }: // time.Time
			s = v.Format("2006-01-02T15:04:05.999999Z07:00")
		default:
			s = fmt.Sprint(v)
		}
		if s == "" {
			s = "''" // pgbench refuses empty variables; give the benchmark input values
		}
		out = append(out, "-D", name+"="+s)
	}
	return out
}
