// Command child is the process the supervisor's tests supervise. What it does is
// chosen by CHILD_MODE, or by the first line of the file CHILD_MODE_FILE names (so
// a test can change it between restarts):
//
//	sleep     (the default) run until signalled
//	crash     exit with code 3 at once
//	stubborn  ignore SIGTERM, run until killed
//	parent    start a copy of itself in sleep mode, then sleep: a grandchild
//
// It prints "child pid N", then "child env K=V" for each ANDES_ variable, then
// "child ready" once its mode is in force. When CHILD_PID_DIR is set it creates a
// file named after its pid there, so a test knows every pid ever started.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
}

func run() error {
	pid := os.Getpid()
	fmt.Printf("child pid %d\n", pid)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ANDES_") {
			fmt.Printf("child env %s\n", kv)
		}
	}
	if dir := os.Getenv("CHILD_PID_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(pid)), nil, 0o644); err != nil {
			return err
		}
	}
	mode := os.Getenv("CHILD_MODE")
	if f := os.Getenv("CHILD_MODE_FILE"); f != "" {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		mode, _, _ = strings.Cut(strings.TrimSpace(string(raw)), "\n")
	}
	switch mode {
	case "crash":
		fmt.Fprintln(os.Stderr, "child: crashing")
		os.Exit(3)
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
	case "parent":
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "CHILD_MODE=sleep", "CHILD_MODE_FILE=")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			return err
		}
	case "", "sleep":
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	fmt.Println("child ready")
	// A sleep, not an empty select: with no other goroutine the runtime would
	// report a deadlock and exit.
	for {
		time.Sleep(time.Hour)
	}
}
