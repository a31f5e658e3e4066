#!/usr/bin/env bash
# make up: the whole platform on this machine, in the foreground.
#
#   1. builds every process of deploy/manifest.yaml (and bankctl, devdeps) into .run/bin;
#   2. starts the private PostgreSQL, Redis and NATS (platform/cmd/devdeps), unless
#      DATABASE_URL, REDIS_URL, NATS_URL point elsewhere or they already run;
#   3. makes the dev PKI under .run/pki (bankctl pki init);
#   4. runs the supervisor, which starts every process on the manifest's ports;
#   5. waits until every process answers SERVING over mTLS, then prints the URLs
#      and the demo logins (bankctl endpoints).
#
# Ctrl-C stops the supervisor (which stops every process) and the dependencies this
# run started; dependencies it found running stay up. Process logs: .run/logs.
set -euo pipefail
cd "$(dirname "$0")/.."
run=$PWD/.run
bin=$run/bin
pidfile=$run/supervisor.pid
mkdir -p "$bin" "$run/logs"

echo "==> building every process into .run/bin"
# shellcheck disable=SC2046 # one argument per main package
go build -o "$bin/" $(awk '$1 == "main:" {print $2}' deploy/manifest.yaml) ./monitor/cmd/bankctl ./platform/cmd/devdeps

echo "==> dependencies"
# What runs already, or comes from the environment, is not ours to stop.
declare -A keep=()
[ -n "${DATABASE_URL:-}" ] && keep[postgres]=1
[ -n "${REDIS_URL:-}" ] && keep[redis]=1
[ -n "${NATS_URL:-}" ] && keep[nats]=1
while read -r dep state _; do
	[ "$state" = up ] && keep[$dep]=1
done < <("$bin/devdeps" status)
urls=$("$bin/devdeps" start)
started=()
for dep in postgres redis nats; do
	[ -z "${keep[$dep]:-}" ] && started+=("$dep")
done
while read -r line; do
	export "${line?}"
done <<<"$urls"

supervisor=
stopping=
cleanup() {
	stopping=1
	if [ -n "$supervisor" ] && kill -0 "$supervisor" 2>/dev/null; then
		kill -TERM "$supervisor" 2>/dev/null || true
		while kill -0 "$supervisor" 2>/dev/null; do wait "$supervisor" 2>/dev/null || true; done
	fi
	if [ ${#started[@]} -gt 0 ]; then
		echo "==> stopping ${started[*]} (started by this run)"
		"$bin/devdeps" stop "${started[@]}" || true
	fi
}
trap cleanup EXIT
# Ctrl-C reaches this script and the supervisor is told once, by cleanup: the
# supervisor runs in its own session, out of the terminal's reach, because a
# second signal would make it kill its children instead of stopping them.
trap 'exit 130' INT TERM HUP

echo "==> dev PKI"
"$bin/bankctl" pki init

echo "==> starting the supervisor (process logs in .run/logs)"
export ANDES_DEMO_FILE=$PWD/deploy/demo/demo.yaml
setsid "$bin/supervisor" -bin "$bin" -logs "$run/logs" -pki "$run/pki" -pidfile "$pidfile" &
supervisor=$!
started_at=$EPOCHREALTIME

if "$bin/bankctl" status -wait 2m -q; then
	echo
	"$bin/bankctl" endpoints
	echo
	took=$(awk -v a="$started_at" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}')
	echo "==> every process is SERVING ${took} s after the supervisor started (${SECONDS} s since make up began)."
	echo "    'make status' checks again; Ctrl-C stops everything."
elif [ -z "$stopping" ] && kill -0 "$supervisor" 2>/dev/null; then
	echo "==> not every process is SERVING after 2 minutes; see .run/logs/<process>.log"
	"$bin/bankctl" status || true
fi
# The supervisor exits only when told to (cleanup) or when it cannot start.
while kill -0 "$supervisor" 2>/dev/null; do wait "$supervisor" || true; done
