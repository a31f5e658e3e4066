#!/usr/bin/env bash
# make down: stop what a previous `make up` left running — the supervisor named
# by .run/supervisor.pid (it stops every process it started) and the checkout's
# private PostgreSQL, Redis and NATS.
set -euo pipefail
cd "$(dirname "$0")/.."
pidfile=.run/supervisor.pid

if [ -f "$pidfile" ]; then
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null; then
		echo "==> stopping the supervisor (pid $pid)"
		kill -TERM "$pid"
		# The supervisor gives each process a grace period; 30 s is far past it.
		for _ in $(seq 300); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "==> still running: killing it (its children die with it)"
			kill -KILL "$pid"
		fi
	fi
	rm -f "$pidfile"
fi
echo "==> stopping the private dependencies"
go run ./platform/cmd/devdeps stop
