#!/usr/bin/env bash
# check-ui.sh — open the asynq web UI of `psasync serve --demo` in headless
# Chromium and check that it loads and lists the critical, default and low
# queues; save a screenshot of it.
#
#   scripts/check-ui.sh [SCREENSHOT.png]
#
# Needs Go and Chromium (Debian: apt-get install chromium; or set CHROMIUM to
# another Chromium or Chrome binary). PORT chooses the port (default: a free
# one). Everything the script starts is stopped when it exits. Exit status 0
# means the UI rendered the queues table.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
shot=${1:-}
port=${PORT:-0}
work=$(mktemp -d)
server_pid=""

cleanup() {
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "check-ui: FAIL: $*" >&2
	if [[ -s "$work/server.err" ]]; then
		echo "--- psasync log (last 20 lines)" >&2
		tail -n 20 "$work/server.err" >&2
	fi
	exit 1
}

chromium=${CHROMIUM:-}
if [[ -z "$chromium" ]]; then
	for c in chromium chromium-browser google-chrome google-chrome-stable; do
		if command -v "$c" >/dev/null 2>&1; then
			chromium=$(command -v "$c")
			break
		fi
	done
fi
[[ -n "$chromium" ]] || fail "no Chromium found (Debian: apt-get install chromium, or set CHROMIUM)"

# Build first and run the binary itself: stopping `go run` would leave the
# server it started running.
echo "check-ui: building psasync"
(cd "$root" && go build -o "$work/psasync" ./cmd/psasync)

echo "check-ui: starting psasync serve --demo"
"$work/psasync" serve --demo --listen "127.0.0.1:$port" --demo-change-every 2s >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

# The startup banner names the UI's URL and the bearer token.
ui_url="" token=""
for _ in $(seq 1 300); do
	kill -0 "$server_pid" 2>/dev/null || fail "psasync exited during startup"
	ui_url=$(sed -n 's/^ *queues UI: *\(http[^ ]*\/monitoring\/\).*/\1/p' "$work/server.out" | head -n 1)
	token=$(sed -n 's/.*Authorization: Bearer \([0-9A-Za-z._~-]*\)).*/\1/p' "$work/server.out" | head -n 1)
	[[ -n "$ui_url" && -n "$token" ]] && break
	sleep 0.2
done
[[ -n "$ui_url" ]] || fail "no 'queues UI:' line in the startup banner"
[[ -n "$token" ]] || fail "no bearer token in the startup banner"
base=${ui_url%/monitoring/}

for _ in $(seq 1 150); do
	if curl -fsS -o /dev/null "$base/readyz"; then
		break
	fi
	sleep 0.2
done
curl -fsS -o /dev/null "$base/readyz" || fail "$base/readyz never answered 200"

# Let the demo's first full sync and a simulated change or two run, so every
# queue has seen a job.
sleep 5

# The browser logs in with any user name and the token as password.
auth_url="${ui_url/http:\/\//http://msp-admin:$token@}"
chrome_flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
	--disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage
	--virtual-time-budget=10000 --window-size=1400,1000)

echo "check-ui: loading $ui_url in $chromium"
timeout -k 5 90 "$chromium" "${chrome_flags[@]}" --user-data-dir="$(mktemp -d -p "$work")" \
	--dump-dom "$auth_url" >"$work/dom.html" 2>"$work/chromium.err" || fail "chromium --dump-dom failed: $(tail -n 5 "$work/chromium.err")"
grep -q '<title>Asynq - Monitoring</title>' "$work/dom.html" || fail "the page is not the asynq UI"
for q in critical default low; do
	grep -q "href=\"/monitoring/queues/$q\"" "$work/dom.html" || fail "the queues table does not list $q"
done
echo "check-ui: the UI lists the queues critical, default and low"

if timeout -k 5 90 "$chromium" "${chrome_flags[@]}" --user-data-dir="$(mktemp -d -p "$work")" \
	--dump-dom "$ui_url" >"$work/anon.html" 2>/dev/null && grep -q '/monitoring/queues/' "$work/anon.html"; then
	fail "without credentials the UI still lists queues"
fi
echo "check-ui: without credentials the UI lists nothing"

if [[ -n "$shot" ]]; then
	shot_abs=$(cd "$(dirname "$shot")" && pwd)/$(basename "$shot")
	timeout -k 5 90 "$chromium" "${chrome_flags[@]}" --user-data-dir="$(mktemp -d -p "$work")" \
		--screenshot="$shot_abs" "$auth_url" >/dev/null 2>"$work/chromium.err" || fail "chromium --screenshot failed: $(tail -n 5 "$work/chromium.err")"
	[[ "$(head -c 8 "$shot_abs" | od -An -tx1 | tr -d ' \n')" == "89504e470d0a1a0a" ]] || fail "$shot_abs is not a PNG"
	echo "check-ui: screenshot saved to $shot_abs"
fi
echo "check-ui: OK"
