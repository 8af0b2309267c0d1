#!/usr/bin/env bash
# Collector under sustained load, with a kill -9 of the server mid-load.
#
# Starts the example server (crates/web/examples/serve.rs) on a temporary
# SQLite database on loopback, runs wrk for $DURATION seconds POSTing
# unique measurements (collector-load.lua logs every id acknowledged with
# HTTP 201), kills the server with SIGKILL half-way, restarts it on the same
# port, and when wrk is done checks that every acknowledged id is stored,
# none twice.
#
#   DURATION=60 CONNECTIONS=16 THREADS=2 PROFILE=debug crates/web/scripts/collector-load.sh
set -euo pipefail

DURATION=${DURATION:-60}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
PROFILE=${PROFILE:-debug}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }

cd "$repo"
if [ "$PROFILE" = release ]; then
  cargo build -q -p canary-web --example serve --release
else
  cargo build -q -p canary-web --example serve
fi
bin="$repo/target/$PROFILE/examples/serve"
work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

wait_listening() { # log file -> prints the port
  for _ in $(seq 1 300); do
    if grep -q "listening on http://" "$1" 2>/dev/null; then
      grep -o "listening on http://[0-9.]*:[0-9]*" "$1" | tail -1 | sed 's/.*://'
      return 0
    fi
    sleep 0.1
  done
  echo "server did not start; log:" >&2; cat "$1" >&2; return 1
}

"$bin" template > "$work/template.json"
RUST_LOG=warn "$bin" --listen 127.0.0.1:0 --database "$work/load.db" --no-rate-limit 2> "$work/server1.log" &
server_pid=$!
port=$(wait_listening "$work/server1.log")
echo "server on 127.0.0.1:$port (pid $server_pid), database $work/load.db"

mkdir -p "$work/acks"
CANARY_TEMPLATE="$work/template.json" CANARY_ACK_DIR="$work/acks" \
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$here/collector-load.lua" \
  "http://127.0.0.1:$port/api/v1/submit" > "$work/wrk.txt" 2>&1 &
wrk_pid=$!

sleep $((DURATION / 2))
echo "kill -9 of the server after $((DURATION / 2)) s"
kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null || true
RUST_LOG=warn "$bin" --listen "127.0.0.1:$port" --database "$work/load.db" --no-rate-limit 2> "$work/server2.log" &
server_pid=$!
wait_listening "$work/server2.log" >/dev/null
echo "restarted (pid $server_pid)"

wait "$wrk_pid" || true
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
server_pid=""

cat "$work/wrk.txt"
cat "$work"/acks/acked-*.txt > "$work/acked.txt"
"$bin" check "$work/load.db" "$work/acked.txt"
status=$?
echo "work dir: $work"
exit $status
