#!/usr/bin/env bash
# scripts/bench.sh: issue 13's figures in one table, each beside a baseline
# measured in the same run. `make bench` calls it; BENCHMARKS.md holds the
# latest output, the command of every row and the machine.
#
# Rows:
#   first sync / full reconcile (no change) of 100,000 users: whole
#     processes, psasim --users 100000 --unlimited and psasync sync --mode
#     full under /usr/bin/time -v (CPU = user + system, peak RSS = Maximum
#     resident set size); Graph and PSA requests from the simulators'
#     /_sim/stats. Baseline: the same runs of psasync built from BASE_REV,
#     the last commit before issue 13's enumeration changes (delta pages of
#     100 decoded through kiota's parse tree).
#   5,000-user burst, backlog, 1,000 tenants: go benchmarks in ./app
#     (BenchmarkUserBurst5000, BenchmarkBacklog5000,
#     BenchmarkNightly1000Tenants), each measuring its baseline in the same
#     run.
#
# Environment: BASE_REV (default f7d6837), SKIP_NIGHT=1 skips the
# whole-process night of 1,000 tenants, SKIP_100K=1 skips the two
# 100,000-user rows (minutes of CPU), BENCH_USERS changes their size (a
# quick check of the script), SKIP_GO=1 skips the go benchmarks,
# TEST_REDIS_ADDR (default 127.0.0.1:6379) for the go benchmarks.
set -euo pipefail

cd "$(dirname "$0")/.."
BASE_REV=${BASE_REV:-f7d6837}
USERS=${BENCH_USERS:-100000}
export TEST_REDIS_ADDR=${TEST_REDIS_ADDR:-127.0.0.1:6379}
work=$(mktemp -d)
sim_pid=""
cleanup() {
	if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

log() { echo "bench: $*" >&2; }

# timed NAME CMD...: runs CMD under /usr/bin/time -v; sets cpu, rss_mb, wall.
timed() {
	local name=$1
	shift
	# A run whose report lists errors (the seeded duplicates) exits 1 but
	# still ran: only a run without a report is a failure here.
	/usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" || {
		grep -q '"statistics"' "$work/$name.out" || { log "$name failed:"; tail -20 "$work/$name.err" >&2; exit 1; }
	}
	local user sys
	user=$(awk -F': ' '/User time/ {print $2}' "$work/$name.time")
	sys=$(awk -F': ' '/System time/ {print $2}' "$work/$name.time")
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.1f", u + s}')
	rss_mb=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$work/$name.time")
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.1f", s}' "$work/$name.time")
}

# stats: the simulators' counters (Graph requests without token requests,
# PSA reads and writes).
graph_requests() { curl -sk "https://127.0.0.1:18443/_sim/stats" | jq '.requests - .tokens'; }
psa_stat() { curl -s "http://127.0.0.1:18081/_sim/stats" | jq ".$1"; }
reset_stats() {
	curl -sk -X DELETE "https://127.0.0.1:18443/_sim/stats" >/dev/null
	curl -s -X DELETE "http://127.0.0.1:18081/_sim/stats" >/dev/null
}

# start_sim PSASIM: a fresh psasim of 100,000 users and its config.
start_sim() {
	local sim=$1
	if [ -n "$sim_pid" ]; then kill "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; fi
	rm -f "$work/psasync.yaml"
	"$sim" --users "$USERS" --unlimited --graph-addr 127.0.0.1:18443 --psa-addr 127.0.0.1:18081 \
		--write-config "$work/psasync.yaml" >"$work/psasim.out" 2>&1 &
	sim_pid=$!
	for _ in $(seq 1 600); do
		if [ -s "$work/psasync.yaml" ] && curl -s "http://127.0.0.1:18081/_sim/stats" >/dev/null 2>&1; then
			# The Redis of production, not the embedded one: the queue, the
			# links and the change log live there, under a prefix of this
			# run's own (deleted when it ends).
			sim_prefix="psasync-bench-100k-$$-$RANDOM:"
			echo "redis: {addr: \"$TEST_REDIS_ADDR\", key_prefix: \"$sim_prefix\", queue_prefix: \"$sim_prefix\"}" >>"$work/psasync.yaml"
			return
		fi
		sleep 0.5
	done
	log "psasim did not start"; cat "$work/psasim.out" >&2; exit 1
}

# drop_prefix PREFIX: deletes a run's keys from the bench Redis.
drop_prefix() {
	local host=${TEST_REDIS_ADDR%:*} port=${TEST_REDIS_ADDR##*:}
	redis-cli -h "$host" -p "$port" --scan --pattern "*$1*" | xargs -r -n 500 redis-cli -h "$host" -p "$port" DEL >/dev/null
}

# sync_rows BIN PREFIX PSASIM: first sync, then a full reconcile with no
# change, on a fresh simulator; sets PREFIX_first_* and PREFIX_full_*.
sync_rows() {
	local bin=$1 p=$2
	start_sim "$3"
	for kind in first full; do
		reset_stats
		log "$p: $kind ($bin sync --mode full)"
		timed "$p-$kind" "$bin" sync --config "$work/psasync.yaml" --mode full --progress never
		printf -v "${p}_${kind}_cpu" %s "$cpu"
		printf -v "${p}_${kind}_rss" %s "$rss_mb"
		printf -v "${p}_${kind}_wall" %s "$wall"
		printf -v "${p}_${kind}_graph" %s "$(graph_requests)"
		printf -v "${p}_${kind}_reads" %s "$(psa_stat reads)"
		printf -v "${p}_${kind}_writes" %s "$(psa_stat writes)"
	done
	drop_prefix "$sim_prefix"
}

# night LABEL SPREAD MAX_RUNS: a real night of 1,000 tenants × 100 users
# as whole processes: psasim, and psasync worker and psasync scheduler
# under /usr/bin/time -v on Redis (TEST_REDIS_ADDR), reconcile_at the next
# minute. Sets LABEL_runs, LABEL_wall (until the 1,000th run finished),
# LABEL_worker_rss, LABEL_sched_rss, LABEL_rss (MB) and LABEL_cpu.
night() {
	local label=$1 spread=$2 runs=$3
	local prefix="psasync-bench-$label-$$:"
	local host=${TEST_REDIS_ADDR%:*} port=${TEST_REDIS_ADDR##*:}
	rm -f "$work/night.yaml"
	bin/psasim --tenants 1000 --users 100 --unlimited --seed-psa=false --graph-addr 127.0.0.1:18444 --psa-addr 127.0.0.1:18082 \
		--write-config "$work/night.yaml" >"$work/night-psasim.out" 2>&1 &
	sim_pid=$!
	for _ in $(seq 1 600); do [ -s "$work/night.yaml" ] && break; sleep 0.5; done
	local at
	at=$(date -u -d '+1 min' +%H:%M)
	{
		echo "redis: {addr: \"$TEST_REDIS_ADDR\", key_prefix: \"$prefix\", queue_prefix: \"$prefix\"}"
		echo "worker: {concurrency: 20, max_tenant_runs: $runs}"
		echo "schedule: {incremental_every: -1m, reconcile_at: \"$at\", reconcile_spread: $spread}"
	} >>"$work/night.yaml"
	log "$label: 1,000 tenants, reconcile_at $at UTC, spread $spread, max_tenant_runs $runs"
	local start=$SECONDS
	/usr/bin/time -v -o "$work/$label-worker.time" bin/psasync worker --config "$work/night.yaml" >"$work/$label-worker.out" 2>&1 &
	local wpid=$!
	/usr/bin/time -v -o "$work/$label-sched.time" bin/psasync scheduler --config "$work/night.yaml" >"$work/$label-sched.out" 2>&1 &
	local spid=$!
	local done_runs=0
	for _ in $(seq 1 1800); do
		done_runs=$(redis-cli -h "$host" -p "$port" GET "asynq:{${prefix}low}:processed")
		[ "${done_runs:-0}" -ge 1000 ] && break
		sleep 1
	done
	printf -v "${label}_wall" %s $((SECONDS - start))
	printf -v "${label}_runs" %s "${done_runs:-0}"
	local p child
	for p in $wpid $spid; do
		child=$(pgrep -P "$p" || true)
		[ -n "$child" ] && kill -TERM "$child"
	done
	wait "$wpid" "$spid" || true
	kill "$sim_pid"
	wait "$sim_pid" 2>/dev/null || true
	sim_pid=""
	local w s
	w=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$work/$label-worker.time")
	s=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$work/$label-sched.time")
	printf -v "${label}_worker_rss" %s "$w"
	printf -v "${label}_sched_rss" %s "$s"
	printf -v "${label}_rss" %s $((w + s))
	printf -v "${label}_cpu" %s "$(awk -F': ' '/User time|System time/ {t += $2} END {printf "%.1f", t}' "$work/$label-worker.time" "$work/$label-sched.time")"
	redis-cli -h "$host" -p "$port" --scan --pattern "*${prefix}*" | xargs -r -n 500 redis-cli -h "$host" -p "$port" DEL >/dev/null
}

# bench_metric FILE METRIC: one reported metric of a go benchmark's output.
bench_metric() {
	awk -v m="$2" '/^Benchmark/ {for (i = 1; i < NF; i++) if ($(i + 1) == m) print $i}' "$1"
}

log "building psasync and psasim"
go build -o bin/psasync ./cmd/psasync
go build -o bin/psasim ./cmd/psasim

if [ "${SKIP_100K:-}" != 1 ]; then
	log "building the baseline psasync from $BASE_REV"
	mkdir -p "$work/base"
	git archive "$BASE_REV" | tar -x -C "$work/base"
	(cd "$work/base" && go build -o "$work/psasync-base" ./cmd/psasync && go build -o "$work/psasim-base" ./cmd/psasim)
	sync_rows bin/psasync new bin/psasim
	# The baseline's own simulators: its config has the keys it knows.
	sync_rows "$work/psasync-base" base "$work/psasim-base"
	kill "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; sim_pid=""
fi

if [ "${SKIP_NIGHT:-}" != 1 ]; then
	night spread 2m 2
	night allatonce -1s 20
fi

if [ "${SKIP_GO:-}" != 1 ]; then
log "go benchmarks: 5,000-user burst, backlog, 1,000 tenants"
go test -run '^$' -bench 'UserBurst5000|Backlog5000' -benchtime 1x -timeout 30m ./app >"$work/app-bench.txt"
go test -run '^$' -bench 'Nightly1000Tenants' -benchtime 1x -timeout 60m ./app >"$work/nightly-bench.txt"
fi
m() { bench_metric "$work/app-bench.txt" "$1"; }
n() { bench_metric "$work/nightly-bench.txt" "$1"; }

echo
echo "| run | figure | target | baseline (same run) |"
echo "|---|---|---|---|"
if [ "${SKIP_100K:-}" != 1 ]; then
	echo "| full reconcile, ${USERS} users, no change | ${new_full_cpu} s CPU, ${new_full_rss} MB peak RSS, ${new_full_graph} Graph requests, ${new_full_writes} PSA writes, ${new_full_reads} PSA reads, ${new_full_wall} s wall | ≤ 10 s CPU, ≤ 200 MB, ≤ 120 requests, 0 writes, reads = pages, ≤ 30 s | ${base_full_cpu} s CPU, ${base_full_rss} MB, ${base_full_graph} Graph requests, ${base_full_writes} writes, ${base_full_reads} reads, ${base_full_wall} s wall ($BASE_REV) |"
	echo "| first sync, same tenant | ${new_first_cpu} s CPU, ${new_first_rss} MB peak RSS, ${new_first_graph} Graph requests, ${new_first_writes} PSA writes, ${new_first_wall} s wall | ≤ 60 s CPU, ≤ 300 MB | ${base_first_cpu} s CPU, ${base_first_rss} MB, ${base_first_graph} Graph requests, ${base_first_writes} writes, ${base_first_wall} s wall ($BASE_REV) |"
fi
if [ "${SKIP_GO:-}" != 1 ]; then
echo "| burst of notifications for 5,000 distinct users (20 workers) | $(m batched-round-trips) Graph round trips, $(m batched-wall-s) s | ≤ 250 | $(m naive-round-trips) (one GET per user), $(m naive-wall-s) s; ratio $(m ratio) |"
echo "| pending user:sync jobs per user, no worker, 16 notifications per user over 8 windows | $(m max-jobs/user) (of $(m jobs-waiting) for 5,000 users) | ≤ 2 | $(m naive-jobs/user) (one job per notification, $(m naive-jobs-waiting)) |"
echo "| nightly reconcile, 1,000 tenants × 100 users, simulated clock (BenchmarkNightly1000Tenants) | starts spread: at most $(n spread-max-starts/min) a minute; $(n spread-peak-runs) runs at once; every tenant ran | spread over the window, every tenant runs | all due at 02:00: $(n previous-max-starts/min) in one minute, $(n previous-peak-runs) runs at once |"
fi
if [ "${SKIP_NIGHT:-}" != 1 ]; then
	echo "| nightly reconcile, 1,000 tenants × 100 users, whole processes (a first night: every run creates its tenant's contacts) | ${spread_runs} of 1,000 runs done ${spread_wall} s after start (window 2m from the next minute); peak RSS worker ${spread_worker_rss} MB + scheduler ${spread_sched_rss} MB = ${spread_rss} MB; ${spread_cpu} s CPU | every tenant runs, ≤ 300 MB | all due at once, 20 runs at a time: ${allatonce_runs} runs in ${allatonce_wall} s; worker ${allatonce_worker_rss} MB + scheduler ${allatonce_sched_rss} MB = ${allatonce_rss} MB; ${allatonce_cpu} s CPU |"
fi
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3)"
