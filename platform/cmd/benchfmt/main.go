// Command benchfmt turns `go test -bench` output into the project's benchmark lines,
// one figure a line: `BENCH <name> <value> <unit>`.
//
// A result line `BenchmarkDecision/hot-2  5000  184210 ns/op  12 allocs/op  0.81 ratio`
// of package .../authorizer/iso8583 becomes
//
//	BENCH iso8583.decision.hot 184210 ns/op
//	BENCH iso8583.decision.hot.allocs 12 allocs/op
//	BENCH iso8583.decision.hot.ratio 0.81 ratio
//
// Lines that already start with "BENCH " (figures printed by end-to-end benchmarks)
// pass through; a failing package makes benchfmt exit non-zero after printing the rest.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strings"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchfmt:", err)
		os.Exit(1)
	}
}

var gomaxprocsSuffix = regexp.MustCompile(`-\d+$`)

func run(in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	pkg := "bench" // go test prints "pkg: <import path>" before a package's results
	failed := false
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "BENCH "):
			fmt.Fprintln(out, line)
		case strings.HasPrefix(line, "pkg: "):
			pkg = path.Base(strings.TrimSpace(strings.TrimPrefix(line, "pkg: ")))
		case len(fields) >= 4 && strings.HasPrefix(fields[0], "Benchmark"):
			printResult(out, pkg, fields)
		case strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL"):
			failed = true
			fmt.Fprintln(os.Stderr, line)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if failed {
		return fmt.Errorf("a benchmark package failed")
	}
	return nil
}

func printResult(out io.Writer, pkg string, fields []string) {
	name := strings.TrimPrefix(fields[0], "Benchmark")
	name = gomaxprocsSuffix.ReplaceAllString(name, "")
	name = pkg + "." + strings.ToLower(strings.ReplaceAll(name, "/", "."))
	// fields[1] is the iteration count; then value/unit pairs.
	for i := 2; i+1 < len(fields); i += 2 {
		value, unit := fields[i], fields[i+1]
		figure := name
		switch unit {
		case "ns/op":
		case "B/op":
			figure += ".bytes"
		case "allocs/op":
			figure += ".allocs"
		default:
			figure += "." + strings.SplitN(unit, "/", 2)[0]
		}
		fmt.Fprintf(out, "BENCH %s %s %s\n", figure, value, unit)
	}
}
