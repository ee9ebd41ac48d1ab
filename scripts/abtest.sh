#!/usr/bin/env bash
# abtest.sh compares two server binaries under the seed backchannel call:
# both run at once, wrk drives each in turn for 2 s, for ROUNDS rounds in
# A B / B A order, and the script prints each server's req/s and server
# CPU per request. Interleaving cancels the drift of a shared machine,
# which makes `make bench`'s figures move by several percent from one run
# to the next; a difference of half a microsecond per call shows here.
#
#   scripts/abtest.sh bin/regsandbox /tmp/old-regsandbox [ROUNDS]
#   PAUSE_B=1 scripts/abtest.sh bin/regsandbox bin/regsandbox   # recording vs paused
#
# Needs wrk (apt-get install wrk). Loopback only; stops by itself.
set -euo pipefail

a=${1:?usage: abtest.sh BIN_A BIN_B [ROUNDS]}
b=${2:?usage: abtest.sh BIN_A BIN_B [ROUNDS]}
rounds=${3:-16}
command -v wrk >/dev/null || { echo "abtest: wrk is needed (apt-get install wrk)" >&2; exit 2; }

work=$(mktemp -d)
die() { echo "abtest: $*" >&2; exit 1; }
# shellcheck source=scripts/headless-server.sh
source "$(dirname "$0")/headless-server.sh"

cat >"$work/call.lua" <<'EOF'
wrk.method = "POST"
wrk.body   = '{"data":"{\\"email_address\\":\\"jane@example.com\\"}"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic ZXhhbXBsZS1hcGktY2xpZW50OmV4YW1wbGUtYXBpLXNlY3JldA=="
EOF
path=/oauth/api/v3/custom-registration/ExampleId/backchannel

declare -A addr pid req cpu
start_server A "$a"
pid[A]=$server_pid addr[A]=$server_addr
start_server B "$b"
pid[B]=$server_pid addr[B]=$server_addr
if [ -n "${PAUSE_B:-}" ]; then
  curl -fsS -X PUT -d '{"paused": true}' "http://${addr[B]}/__admin/recording" >/dev/null
fi
# CPU time of a process in clock ticks (user + system).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for s in A B; do wrk -t1 -c32 -d3s -s "$work/call.lua" "http://${addr[$s]}$path" >/dev/null; done
for r in $(seq "$rounds"); do
  order="A B"
  [ $((r % 2)) = 0 ] && order="B A"
  for s in $order; do
    c0=$(ticks "${pid[$s]}")
    n=$(wrk -t1 -c32 -d2s -s "$work/call.lua" "http://${addr[$s]}$path" | awk '/requests in/{print $1}')
    c1=$(ticks "${pid[$s]}")
    req[$s]=$((${req[$s]:-0} + n))
    cpu[$s]=$((${cpu[$s]:-0} + c1 - c0))
  done
done
hz=$(getconf CLK_TCK)
for s in A B; do
  awk -v n="${req[$s]}" -v t="${cpu[$s]}" -v hz="$hz" -v secs=$((2 * rounds)) -v s="$s" \
    'BEGIN { printf "%s: %.0f req/s, %.2f µs of server CPU per call\n", s, n / secs, t / hz * 1e6 / n }'
done
