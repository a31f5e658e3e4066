// Command devdeps starts, stops and reports the checkout's private PostgreSQL, Redis
// and NATS JetStream (see package devdeps).
//
//	devdeps start [-no-fsync] [postgres|redis|nats ...]   start what is missing; print VAR=url lines
//	devdeps stop  [postgres|redis|nats ...]               stop the checkout's instances
//	devdeps status                                        list the instances and whether they answer
//	devdeps clean                                         stop them and delete their data
//
// `eval "$(go run ./platform/cmd/devdeps start)"` puts the URLs into a shell.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/andes-bank/andes/platform/devdeps"
)

const usage = `usage: devdeps start [-no-fsync] [postgres|redis|nats ...] | stop [postgres|redis|nats ...] | status | clean`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	var deps []devdeps.Dep
	noFsync := false
	for _, a := range args[1:] {
		if a == "-no-fsync" && args[0] == "start" {
			noFsync = true
			continue
		}
		d, err := devdeps.ParseDep(a)
		if err != nil {
			return err
		}
		deps = append(deps, d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := devdeps.FindRoot(wd)
	if err != nil {
		return err
	}
	opts := devdeps.Options{Root: root, LookupEnv: os.LookupEnv, Log: stderr, NoFsync: noFsync}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A first start may build nats-server and install Redis; a hang beyond that is a bug.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()

	switch args[0] {
	case "start":
		res, err := devdeps.Ensure(ctx, opts, deps...)
		if err != nil {
			return err
		}
		for _, line := range res.Env() {
			fmt.Fprintln(stdout, line)
		}
		return nil
	case "stop":
		return devdeps.Stop(ctx, opts, deps...)
	case "clean":
		return devdeps.Remove(ctx, opts)
	case "status":
		sts, err := devdeps.Statuses(ctx, opts)
		if err != nil {
			return err
		}
		if len(sts) == 0 {
			fmt.Fprintln(stdout, "no private dependencies recorded in", root+"/.run")
		}
		for _, st := range sts {
			state := "down"
			if st.Alive {
				state = "up"
			}
			fmt.Fprintf(stdout, "%-9s %-5s pid %-7d %s  %s\n", st.Dep, state, st.PID, st.URL, st.Dir)
		}
		return nil
	default:
		return errors.New(usage)
	}
}
