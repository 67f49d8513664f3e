#!/usr/bin/env bash
# bench-load: loopback load runs against a local stack this script starts and
# stops by itself (`make bench-load`). Bounded: each hey run lasts DURATION,
# everything targets 127.0.0.1, and every process it starts is stopped on
# exit.
#
#   MODE=emulator ingest (internal/benchload/ingest-alone) publishing with
#                 the real Pub/Sub client to a Pub/Sub emulator in a process
#                 of its own: Google's (gcloud beta emulators pubsub) where
#                 it is installed, else internal/benchload/pstest-server
#                 (EMULATOR=google|pstest forces one). The topic has no
#                 subscription, so nothing is delivered and nothing is kept
#                 (Google's emulator keeps messages per subscription only;
#                 pstest-server drops what it stored every second): the
#                 accept-and-store shape of a gateway.
#   MODE=discard  the ingest handler alone: a publisher that acknowledges and
#                 drops (ingest-alone -queue discard).
#   MODE=stack    `eventrelay dev`: ingest publishing to the in-process Pub/Sub
#                 emulator (whose events subscription keeps only what is not
#                 yet acknowledged), the push emulator delivering to the
#                 forwarder and the Events API stand-in, all in one process.
#   MODE=all      (default) the three above.
#   MODE=floor    emulator, floor, discard and floor-discard, interleaved:
#                 floor is ingest-alone -handler floor, the same HTTP
#                 server and Pub/Sub client with none of ingest's own work
#                 (read, publish one message, answer), so the difference
#                 between emulator and floor is what ingest's own code costs
#                 under load; floor-discard is the same with the publisher
#                 that drops. Single-event shapes only (the floor publishes
#                 a body as one message).
#   MODE="a b"    these modes, in this order.
#
# RUNS (1) rounds, interleaved: each round runs every mode's singles
# (`hey -c 50`, one event per request), batches (`hey -c 10`, 100 events
# per request) and singles at `hey -c 200` (single-c200), each DURATION
# (20s) long against a freshly started process (and a freshly started
# emulator). SHAPES picks some of them (name:concurrency:events-per-request,
# the events 1 or 100, e.g. SHAPES=single:50:1). Each
# measured run follows WARMUP (5s) of the same load, not measured: the
# emulator's JVM spends its first seconds compiling itself, and Pub/Sub in
# the cloud is never cold (cold starts are timed apart, below; WARMUP=0
# measures from the first request). With RUNS > 1 the medians are printed at
# the end. STARTS (5) cold starts of each mode are timed first: process start
# to the first HTTP answer from ingest.
#
# Each run reports, besides hey's throughput and latency, the load average
# at its start, and from /proc: the ingest process's own CPU time (utime +
# stime in /proc/<pid>/stat, during the hey run) per event and its peak RSS
# (VmHWM in /proc/<pid>/status), the whole process's for MODE=stack; for
# MODE=emulator, the emulator's process tree's CPU per event and peak RSS
# on a line of its own; and hey's own CPU per request (bash's `times`), as
# it shares the cores. PROFILE=1 writes a
# CPU profile of ingest-alone or `eventrelay dev` per run
# ($OUT/<mode>-<shape>-<run>.pprof).
#
# hey sends the same body on every request, so the stack runs with
# INGEST_DEDUPE_WINDOW=0: every request is authenticated, parsed, validated,
# hashed, recorded in the ledger and published again, as a new event would
# be (with the default 10 min window, repeats would be answered from the
# de-duplication set without publishing, which measures nothing useful).
set -euo pipefail

DURATION=${DURATION:-20s}
RUNS=${RUNS:-1}
WARMUP=${WARMUP:-5s}
SHAPES=${SHAPES:-single:50:1 batch:10:100 single-c200:200:1}
STARTS=${STARTS:-5}
MODE=${MODE:-all}
EMULATOR=${EMULATOR:-}
PROFILE=${PROFILE:-0}
PORT=${PORT:-18080}
PUBSUB_PORT=${PUBSUB_PORT:-18085}
# The stack's other listeners, off `make dev`'s ports: counters, verify, backfill.
ADMIN_PORT=${ADMIN_PORT:-18089}
VERIFY_PORT=${VERIFY_PORT:-18086}
BACKFILL_PORT=${BACKFILL_PORT:-18087}
LOG_LEVEL=${LOG_LEVEL:-info}
# ingest-alone runs with the Go GC settings the Terraform modules give ingest
# (GOGC=400, GOMEMLIMIT at 3/8 of the default 256 MB), so its CPU and RSS are
# the deployed function's; INGEST_GOGC= and INGEST_GOMEMLIMIT= run it on
# the Go defaults.
INGEST_GOGC=${INGEST_GOGC-400}
INGEST_GOMEMLIMIT=${INGEST_GOMEMLIMIT-100663296}
# ingest-alone's in-memory ledger keeps this many entries (see its doc: a
# deployed ingest's ledger is not in its heap); 0: ledger.MemoryMaxEntries.
INGEST_LEDGER_ENTRIES=${INGEST_LEDGER_ENTRIES:-1000}
OUT=${OUT:-$(mktemp -d /tmp/bench-load.XXXXXX)}
GO=${GO:-go}
HEY=${HEY:-hey}
KEY="dev.local-development-key-not-a-secret" # the local stack's well-known key
GOOGLE_EMULATOR=/usr/lib/google-cloud-sdk/platform/pubsub-emulator
# Google's emulator runs on the JVM's first-tier compiler and its serial
# collector: with the defaults (C2 and G1), its freshly started JVM spent most
# of its CPU compiling itself for the whole of a 10 s run, 109-132 us per
# single event against 22-29 us with these, so it, not ingest, decided what
# the two cores could do. The managed service it stands in for is never
# cold. EMULATOR_JAVA_OPTS= runs it on the JVM's defaults.
EMULATOR_JAVA_OPTS=${EMULATOR_JAVA_OPTS--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}

command -v "$HEY" >/dev/null || { echo "bench-load: hey is missing (apt-get install -y hey)" >&2; exit 1; }
if [ -z "$EMULATOR" ]; then
	EMULATOR=pstest
	if command -v gcloud >/dev/null && command -v java >/dev/null && [ -d "$GOOGLE_EMULATOR" ]; then EMULATOR=google; fi
fi
case $EMULATOR in google | pstest) ;; *) echo "bench-load: EMULATOR=$EMULATOR: want google or pstest" >&2; exit 1 ;; esac
mkdir -p "$OUT"
bin="$OUT/bin"
mkdir -p "$bin"
$GO build -o "$bin/eventrelay" ./cmd/eventrelay
$GO build -o "$bin/ingest-alone" ./internal/benchload/ingest-alone
$GO build -o "$bin/pstest-server" ./internal/benchload/pstest-server
CLK_TCK=$(getconf CLK_TCK)

# Bodies: one event (about 600 bytes, like the peer's 638 B), and 100
# distinct events (ids evt-0..evt-99; in-request duplicates would be dropped).
ts=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
event() { # $1: id
	printf '{"id":"%s","event_type":"PURCHASE","timestamp":"%s","channel_type":"APP","user_id":"user-%s@example.com","custom_id":"cust-%s","page_id":"home/checkout/confirm","device":{"os":"android","os_version":"14","model":"Pixel 8","persistent_id":"3f8e2a41-6b1d-4a77-9c0e-%s","ip":"203.0.113.7","ua":"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"},"items":[{"id":"sku-1001","price":{"currency":"USD","amount":19.99},"quantity":2},{"id":"sku-2002","price":{"currency":"USD","amount":5.5},"quantity":1}],"revenue":{"currency":"USD","amount":45.48},"session_id":"sess-%s"}' \
		"$1" "$ts" "$1" "$1" "${1#evt-}" "$1"
}
event evt-single >"$OUT/single.json"
{ printf '['; for i in $(seq 0 99); do [ "$i" -gt 0 ] && printf ','; event "evt-$i"; done; printf ']'; } >"$OUT/batch.json"

# tree PID: the pid and its descendants (gcloud runs the emulator's JVM as
# a child).
tree() {
	local c
	echo "$1"
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done
}
# ticks PID: utime + stime of the tree, in clock ticks (fields 14 and 15 of
# /proc/<pid>/stat; the text after the command name starts at field 3).
ticks() {
	local t=0 p f
	for p in $(tree "$1"); do
		f=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + $(echo "$f" | awk '{ print $12 + $13 }')))
	done
	echo "$t"
}
# hwm PID: the largest VmHWM in the tree, MB.
hwm() {
	local m=0 p v
	for p in $(tree "$1"); do
		v=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$p/status" 2>/dev/null || echo 0)
		[ "${v:-0}" -gt "$m" ] && m=$v
	done
	echo "$m"
}
kill_tree() { # the children first, so none is left behind
	local p
	for p in $(tree "$1" | tac); do kill -INT "$p" 2>/dev/null || true; done
	wait "$1" 2>/dev/null || true
}

pid=
emu=
stop() { if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -INT "$pid"; wait "$pid" 2>/dev/null || true; fi; pid=; }
emu_stop() { if [ -n "$emu" ]; then kill_tree "$emu"; fi; emu=; }
trap 'stop; emu_stop' EXIT

# need_free PORT...: nothing may answer on these ports before this script
# starts its own processes there, or hey would measure someone else's (the
# readiness checks only ask whether something answers). A process of the
# previous round may take a few seconds to let go: 10 s at most.
need_free() {
	local p i
	for p in "$@"; do
		for i in $(seq 1 100); do
			(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || continue 2
			sleep 0.1
		done
		echo "bench-load: 127.0.0.1:$p is in use by another process; stop it or choose other ports (PORT, PUBSUB_PORT, ADMIN_PORT, VERIFY_PORT, BACKFILL_PORT)" >&2
		exit 1
	done
}

emu_start() {
	need_free "$PUBSUB_PORT"
	if [ "$EMULATOR" = google ]; then
		JAVA_OPTS=$EMULATOR_JAVA_OPTS gcloud beta emulators pubsub start --host-port="127.0.0.1:$PUBSUB_PORT" --project=eventrelay-local \
			>"$OUT/emulator.log" 2>&1 &
	else
		"$bin/pstest-server" -addr "127.0.0.1:$PUBSUB_PORT" >"$OUT/emulator.log" 2>&1 &
	fi
	emu=$!
	for _ in $(seq 1 600); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$PUBSUB_PORT") 2>/dev/null; then return; fi
		kill -0 "$emu" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench-load: the $EMULATOR Pub/Sub emulator did not come up; see $OUT/emulator.log" >&2
	exit 1
}

# with_emulator MODE: whether MODE publishes to the emulator process.
with_emulator() { [ "$1" = emulator ] || [ "$1" = floor ]; }

start() { # $1 mode, $2 profile file or empty
	need_free "$PORT"
	[ "$1" = stack ] && need_free "$PUBSUB_PORT" "$ADMIN_PORT" "$VERIFY_PORT" "$BACKFILL_PORT"
	local t0 t1 prof=() run_env=(env) queue=discard handler=ingest
	[ -n "$INGEST_GOGC" ] && run_env+=("GOGC=$INGEST_GOGC")
	[ -n "$INGEST_GOMEMLIMIT" ] && run_env+=("GOMEMLIMIT=$INGEST_GOMEMLIMIT")
	[ -n "${2:-}" ] && prof=(-cpuprofile "$2")
	t0=$(date +%s%N)
	case $1 in
	stack)
		"$bin/eventrelay" dev -ingest "127.0.0.1:$PORT" -pubsub "127.0.0.1:$PUBSUB_PORT" -admin "127.0.0.1:$ADMIN_PORT" \
			-verify "127.0.0.1:$VERIFY_PORT" -backfill "127.0.0.1:$BACKFILL_PORT" -log-level "$LOG_LEVEL" \
			-set INGEST_DEDUPE_WINDOW=0 "${prof[@]}" 2>"$OUT/ingest-$1.log" >/dev/null &
		;;
	*) # emulator, discard, floor, floor-discard: ingest-alone
		if with_emulator "$1"; then
			queue=pubsub
			run_env+=("PUBSUB_EMULATOR_HOST=127.0.0.1:$PUBSUB_PORT")
		fi
		case $1 in floor*) handler=floor ;; esac
		"${run_env[@]}" "$bin/ingest-alone" -handler "$handler" -queue "$queue" -ledger-entries "$INGEST_LEDGER_ENTRIES" \
			-addr "127.0.0.1:$PORT" -log-level "$LOG_LEVEL" "${prof[@]}" 2>"$OUT/ingest-$1.log" >/dev/null &
		;;
	esac
	pid=$!
	for _ in $(seq 1 3000); do # 30 s: a busy machine, the emulator JIT-warming
		if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
			t1=$(date +%s%N)
			ready_ms=$(((t1 - t0) / 1000000))
			return
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	echo "bench-load: $1 did not come up; see $OUT/ingest-$1.log" >&2
	exit 1
}

check() { # one request first: the body must be accepted, not refused
	local code
	code=$(curl -s -o "$OUT/check.out" -w '%{http_code}' -H 'Content-Type: application/json' -H "X-Api-Key: $KEY" \
		--data-binary @"$1" "http://127.0.0.1:$PORT/")
	[ "$code" = 202 ] || { echo "bench-load: $1 answered $code: $(cat "$OUT/check.out")" >&2; exit 1; }
}

# hey_load FOR BODY CONCURRENCY: hey against ingest for FOR, its report on stdout.
hey_load() {
	"$HEY" -z "$1" -c "$3" -m POST -T application/json -H "X-Api-Key: $KEY" -D "$2" "http://127.0.0.1:$PORT/"
}

# run NAME BODY CONCURRENCY EVENTS-PER-REQUEST RUN: one hey run; appends a
# tab-separated line to results.tsv and prints it readably.
run() {
	local f="$OUT/$mode-$1-$5.txt" load c0 c1 e0=0 e1=0 rhwm ehwm=0
	if [ "$WARMUP" != 0 ] && [ "$WARMUP" != 0s ]; then
		hey_load "$WARMUP" "$2" "$3" >"$f.warmup"
	fi
	load=$(awk '{ print $1 }' /proc/loadavg)
	c0=$(ticks "$pid")
	[ -n "$emu" ] && e0=$(ticks "$emu")
	# times: the CPU of this subshell's children, that is of hey.
	(
		hey_load "$DURATION" "$2" "$3" >"$f"
		times >"$f.times"
	)
	c1=$(ticks "$pid")
	[ -n "$emu" ] && { e1=$(ticks "$emu"); ehwm=$(hwm "$emu"); }
	rhwm=$(hwm "$pid")
	awk -v n="$4" -v name="$1" -v mode="$mode" -v c="$3" -v hwm="$rhwm" -v load="$load" -v tck="$CLK_TCK" \
		-v hey="$(hey_seconds "$f.times")" -v cpu=$((c1 - c0)) -v ecpu=$((e1 - e0)) -v ehwm="$ehwm" -v emu="${emu:+$EMULATOR}" '
		/Requests\/sec/ { rps = $2 }
		/ 50%+ in / { p50 = $3 * 1000 }
		/ 99%+ in / { p99 = $3 * 1000 }
		/^ *\[[0-9]+\]/ { codes = codes " " $1 $2; if ($1 == "[202]") ok = $2 }
		END {
			ev = ok * n; us = ev ? cpu / tck * 1e6 / ev : 0; eus = ev ? ecpu / tck * 1e6 / ev : 0
			hus = ok ? hey / ok * 1e6 : 0
			printf "%s\t%s\t%d\t%.0f\t%.0f\t%.2f\t%.2f\t%d\t%.1f\t%.1f\t%d\t%s\t%s\t%s\t%.1f\n", mode, name, c, rps, rps * n, p50, p99, hwm, us, eus, ehwm, load, emu ? emu : "-", codes, hus
		}' "$f" >>"$OUT/results.tsv"
	tail -n 1 "$OUT/results.tsv" | show
	[ "$mode" = stack ] && delivered
	return 0
}

# hey_seconds FILE: user + system seconds of the children line of `times`
# output (its second line, e.g. "0m3.120s 0m1.004s").
hey_seconds() {
	awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] } print t }' "$1"
}

# delivered: for the stack, how many of the events ingest
# accepted the forwarder had handled when hey ended (the rest is backlog).
delivered() {
	local c
	c=$(curl -sf "http://127.0.0.1:$ADMIN_PORT/counters") || { echo "bench-load: no counters from the stack" >&2; exit 1; }
	echo "$c" | tr -d '{}' | tr ',' '\n' | awk -F: '
		$1 == "\"ingest_events.accepted\"" { a = $2 }
		$1 ~ /^"forwarder_outcomes\./ { d += $2 }
		END { printf "stack    forwarder: %d of the %d accepted events handled when hey ended (%.0f%%)\n", d, a, a ? 100 * d / a : 0 }'
}

# show: results.tsv lines, readably.
show() {
	awk -F '\t' '{
		printf "%-8s %-6s c=%-3d %9.0f req/s %9.0f events/s  p50 %6.2f ms  p99 %6.2f ms  CPU %6.1f us/event  VmHWM %5d MB  load %s  status%s\n", $1, $2, $3, $4, $5, $6, $7, $9, $8, $12, $14
		printf "%-8s %-6s   hey: CPU %6.1f us/request\n", $1, $2, $15
		if ($13 != "-") printf "%-8s %-6s   emulator (%s): CPU %6.1f us/event  VmHWM %5d MB\n", $1, $2, $13, $10, $11
	}'
}

case $MODE in
all) modes="emulator discard stack" ;;
floor) modes="emulator floor discard floor-discard" ;;
*) modes=$MODE ;;
esac
for mode in $modes; do
	case $mode in emulator | discard | stack | floor | floor-discard) ;; *)
		echo "bench-load: MODE: $mode: want emulator, discard, stack, floor, floor-discard, all or a list" >&2
		exit 1
		;;
	esac
done
echo "machine: $(nproc) cores; $(uptime | sed 's/.*load/load/'); emulator for MODE=emulator: $EMULATOR"
[ "$EMULATOR" = google ] && echo "Google emulator JVM: JAVA_OPTS=${EMULATOR_JAVA_OPTS:-none}"
echo "ingest-alone: GOGC=${INGEST_GOGC:-default} GOMEMLIMIT=${INGEST_GOMEMLIMIT:-default} (the Terraform modules' settings for ingest unless set); in-memory ledger of $INGEST_LEDGER_ENTRIES entries"
for mode in $modes; do
	[ "$STARTS" -gt 0 ] || break
	starts=()
	if with_emulator "$mode"; then emu_start; fi
	for _ in $(seq 1 "$STARTS"); do
		start "$mode"
		starts+=("$ready_ms")
		stop
	done
	emu_stop
	echo "$mode: start to ready, ms: ${starts[*]}; median $(printf '%s\n' "${starts[@]}" | sort -n | awk '{a[NR] = $1} END {print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')"
done
# Every hey run gets a freshly started process (and emulator), so no run
# measures another's leftovers; rounds interleave the modes.
for r in $(seq 1 "$RUNS"); do
	for mode in $modes; do
		for shape in $SHAPES; do
			IFS=: read -r name c n <<<"$shape"
			case $mode in floor*) [ "$n" = 1 ] || continue ;; esac
			if with_emulator "$mode"; then emu_start; fi
			prof=
			[ "$PROFILE" = 1 ] && prof="$OUT/$mode-$name-$r.pprof"
			start "$mode" "$prof"
			body="$OUT/batch.json"
			[ "$n" = 1 ] && body="$OUT/single.json"
			check "$body"
			run "$name" "$body" "$c" "$n" "$r"
			stop
			emu_stop
		done
	done
done
echo "machine: $(uptime | sed 's/.*load/load/')"
if [ "$RUNS" -gt 1 ]; then
	echo "medians of $RUNS interleaved runs (each column on its own; load: the median at the runs' starts):"
	for mode in $modes; do for shape in $SHAPES; do
		name=${shape%%:*}
		awk -F '\t' -v mode="$mode" -v name="$name" '
			$1 == mode && $2 == name { n++; c = $3; emu = $13; for (k = 4; k <= 15; k++) v[k, n] = $k }
			function med(k,   i, j, t, a) { for (i = 1; i <= n; i++) a[i] = v[k, i]
				for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
				return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
			END { if (n) printf "%s\t%s\t%d\t%.0f\t%.0f\t%.2f\t%.2f\t%d\t%.1f\t%.1f\t%d\t%.2f\t%s\t (n=%d)\t%.1f\n", mode, name, c, med(4), med(5), med(6), med(7), med(8), med(9), med(10), med(11), med(12), emu, n, med(15) }' "$OUT/results.tsv"
	done; done | show
fi
echo "hey outputs and results.tsv: $OUT"
