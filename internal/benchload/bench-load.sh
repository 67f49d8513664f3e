#!/usr/bin/env bash
# bench-load: loopback load runs against a local stack this script starts and
# stops by itself (`make bench-load`). Bounded: each hey run lasts DURATION,
# everything targets 127.0.0.1, and the stack is killed on exit.
#
#   MODE=stack    `eventrelay dev`: ingest publishing to the pstest
#                 Pub/Sub emulator, the push emulator delivering to the
#                 forwarder and the Events API stand-in, all in one process.
#   MODE=pstest   ingest publishing to pstest, nothing consuming: the store-
#                 only shape of a gateway (internal/benchload/ingest-alone).
#   MODE=discard  the ingest handler alone: a publisher that acknowledges and
#                 drops (internal/benchload/ingest-alone).
#   MODE=all      (default) the three above, one after the other.
#
# DURATION (20s) is each hey run, RUNS (1) how many of each; with RUNS > 1
# the medians are printed at the end. STARTS (5) cold starts of each mode
# are timed first: process start to the first HTTP answer from ingest.
#
# Each hey run starts its own process; VmHWM (peak RSS) is read from
# /proc/<pid>/status at the end of the run.
#
# hey sends the same body on every request, so the stack runs with
# INGEST_DEDUPE_WINDOW=0: every request is authenticated, parsed, validated,
# hashed, recorded in the ledger and published again, as a new event would
# be (with the default 10 min window, repeats would be answered from the
# de-duplication set without publishing, which measures nothing useful).
set -euo pipefail

DURATION=${DURATION:-20s}
RUNS=${RUNS:-1}
STARTS=${STARTS:-5}
MODE=${MODE:-all}
PORT=${PORT:-18080}
PUBSUB_PORT=${PUBSUB_PORT:-18085}
LOG_LEVEL=${LOG_LEVEL:-info}
OUT=${OUT:-$(mktemp -d /tmp/bench-load.XXXXXX)}
GO=${GO:-go}
HEY=${HEY:-hey}
KEY="dev.local-development-key-not-a-secret" # the local stack's well-known key

command -v "$HEY" >/dev/null || { echo "bench-load: hey is missing (apt-get install -y hey)" >&2; exit 1; }
mkdir -p "$OUT"
bin="$OUT/bin"
mkdir -p "$bin"
$GO build -o "$bin/eventrelay" ./cmd/eventrelay
$GO build -o "$bin/ingest-alone" ./internal/benchload/ingest-alone

# Bodies: one event (about 600 bytes, like the peer's 638 B), and 100
# distinct events (ids evt-0..evt-99; in-request duplicates would be dropped).
ts=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
event() { # $1: id
	printf '{"id":"%s","event_type":"PURCHASE","timestamp":"%s","channel_type":"APP","user_id":"user-%s@example.com","custom_id":"cust-%s","page_id":"home/checkout/confirm","device":{"os":"android","os_version":"14","model":"Pixel 8","persistent_id":"3f8e2a41-6b1d-4a77-9c0e-%s","ip":"203.0.113.7","ua":"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"},"items":[{"id":"sku-1001","price":{"currency":"USD","amount":19.99},"quantity":2},{"id":"sku-2002","price":{"currency":"USD","amount":5.5},"quantity":1}],"revenue":{"currency":"USD","amount":45.48},"session_id":"sess-%s"}' \
		"$1" "$ts" "$1" "$1" "${1#evt-}" "$1"
}
event evt-single >"$OUT/single.json"
{ printf '['; for i in $(seq 0 99); do [ "$i" -gt 0 ] && printf ','; event "evt-$i"; done; printf ']'; } >"$OUT/batch.json"

pid=
stop() { if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -INT "$pid"; wait "$pid" 2>/dev/null || true; fi; pid=; }
trap stop EXIT

start() {
	local t0 t1
	t0=$(date +%s%N)
	if [ "$1" != stack ]; then
		"$bin/ingest-alone" -queue "$1" -addr "127.0.0.1:$PORT" -log-level "$LOG_LEVEL" 2>"$OUT/$1.log" >/dev/null &
	else
		"$bin/eventrelay" dev -ingest "127.0.0.1:$PORT" -pubsub "127.0.0.1:$PUBSUB_PORT" -log-level "$LOG_LEVEL" \
			-set INGEST_DEDUPE_WINDOW=0 2>"$OUT/$1.log" >/dev/null &
	fi
	pid=$!
	for _ in $(seq 1 500); do
		if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
			t1=$(date +%s%N)
			ready_ms=$(((t1 - t0) / 1000000))
			return
		fi
		sleep 0.01
	done
	echo "bench-load: $1 did not come up; see $OUT/$1.log" >&2
	exit 1
}

check() { # one request first: the body must be accepted, not refused
	local code
	code=$(curl -s -o "$OUT/check.out" -w '%{http_code}' -H 'Content-Type: application/json' -H "X-Api-Key: $KEY" \
		--data-binary @"$1" "http://127.0.0.1:$PORT/")
	[ "$code" = 202 ] || { echo "bench-load: $1 answered $code: $(cat "$OUT/check.out")" >&2; exit 1; }
}

run() { # $1 name, $2 body, $3 concurrency, $4 events per request, $5 run number
	local f="$OUT/$mode-$1-$5.txt" hwm
	"$HEY" -z "$DURATION" -c "$3" -m POST -T application/json -H "X-Api-Key: $KEY" -D "$2" \
		"http://127.0.0.1:$PORT/" >"$f"
	hwm=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$pid/status")
	awk -v n="$4" -v name="$1" -v mode="$mode" -v c="$3" -v hwm="$hwm" '
		/Requests\/sec/ { rps = $2 }
		/ 50%+ in / { p50 = $3 * 1000 }
		/ 99%+ in / { p99 = $3 * 1000 }
		/^ *\[[0-9]+\]/ { codes = codes " " $1 $2 }
		END { printf "%-7s %-6s c=%-3d %9.0f req/s %9.0f events/s  p50 %6.2f ms  p99 %6.2f ms  VmHWM %5d MB  status%s\n", mode, name, c, rps, rps * n, p50, p99, hwm, codes }' "$f" | tee -a "$OUT/results.txt"
}

modes=$MODE
[ "$MODE" = all ] && modes="stack pstest discard"
echo "machine: $(nproc) cores; $(uptime | sed 's/.*load/load/')"
for mode in $modes; do
	starts=()
	for _ in $(seq 1 "$STARTS"); do
		start "$mode"
		starts+=("$ready_ms")
		stop
	done
	if [ "$STARTS" -gt 0 ]; then
		echo "$mode: start to ready, ms: ${starts[*]}; median $(printf '%s\n' "${starts[@]}" | sort -n | awk '{a[NR] = $1} END {print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')"
	fi
	# Every hey run gets a freshly started process: the emulator and the
	# in-memory ledger keep everything they are given, so a second run on
	# the same process would measure the first one's leftovers.
	for r in $(seq 1 "$RUNS"); do
		start "$mode"
		check "$OUT/single.json"
		run single "$OUT/single.json" 50 1 "$r"
		stop
		start "$mode"
		check "$OUT/batch.json"
		run batch "$OUT/batch.json" 10 100 "$r"
		stop
	done
	echo "machine: $(uptime | sed 's/.*load/load/')"
done
if [ "$RUNS" -gt 1 ]; then
	echo "medians of $RUNS runs (each column on its own):"
	for mode in $modes; do for name in single batch; do
		grep "^$mode *$name " "$OUT/results.txt" | awk -v mode="$mode" -v name="$name" '
			{ c = $3; r[NR] = $4; e[NR] = $6; p50[NR] = $9; p99[NR] = $12; m[NR] = $15 }
			function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
				return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
			END { printf "%-7s %-6s %s %9.0f req/s %9.0f events/s  p50 %6.2f ms  p99 %6.2f ms  VmHWM %5d MB\n", mode, name, c, med(r, NR), med(e, NR), med(p50, NR), med(p99, NR), med(m, NR) }'
	done; done
fi
echo "hey outputs: $OUT"
