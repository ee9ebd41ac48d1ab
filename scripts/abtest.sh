#!/usr/bin/env bash
# abtest.sh compares what recording costs in two server binaries under the
# seed backchannel call. Both run at once; wrk drives each for SECS (2 s)
# at a time, recording and then paused (PUT /__admin/recording), the four
# phases in a rotating order for ROUNDS rounds, and the script prints each
# binary's req/s recording and paused, the overhead between the two, and
# the server CPU per call of each.
#
# Each overhead is a ratio within one process: two processes differ by
# several percent even when they run the same binary (where their memory
# lies, which core serves which), so comparing their req/s or CPU per call
# directly says little. Run it with the same binary twice first to see
# the noise of the machine: on the 2-core VM of the README, A/A runs of
# 8 rounds differ by 1–5 points of overhead.
#
#   scripts/abtest.sh bin/regsandbox /tmp/old-regsandbox [ROUNDS]
#   scripts/abtest.sh bin/regsandbox bin/regsandbox      # A/A: the noise
#
# Needs wrk (apt-get install wrk). Loopback only; stops by itself.
set -euo pipefail

a=${1:?usage: abtest.sh BIN_A BIN_B [ROUNDS]}
b=${2:?usage: abtest.sh BIN_A BIN_B [ROUNDS]}
rounds=${3:-8}
secs=${SECS:-2}
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
# CPU time of a process in clock ticks (user + system).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load() { wrk -t1 -c32 -d"$2" -s "$work/call.lua" "http://${addr[$1]}$path" | awk '/requests in/{print $1}'; }
for s in A B; do load "$s" 2s >/dev/null; done
phases=(A:false A:true B:false B:true)
for r in $(seq "$rounds"); do
  for i in 0 1 2 3; do
    phase=${phases[$(((i + r) % 4))]}
    s=${phase%%:*} paused=${phase##*:}
    curl -fsS -X PUT -d "{\"paused\": $paused}" "http://${addr[$s]}/__admin/recording" >/dev/null
    c0=$(ticks "${pid[$s]}")
    n=$(load "$s" "${secs}s")
    c1=$(ticks "${pid[$s]}")
    req[$phase]=$((${req[$phase]:-0} + n))
    cpu[$phase]=$((${cpu[$phase]:-0} + c1 - c0))
  done
done
hz=$(getconf CLK_TCK)
for s in A B; do
  awk -v nr="${req[$s:false]}" -v np="${req[$s:true]}" -v cr="${cpu[$s:false]}" -v cp="${cpu[$s:true]}" \
    -v hz="$hz" -v s="$s" -v t=$((rounds * secs)) 'BEGIN {
      us_r = cr / hz * 1e6 / nr; us_p = cp / hz * 1e6 / np
      printf "%s: %.0f req/s recording, %.0f paused: recording costs %.1f%% of req/s; server CPU %.2f µs/call recording, %.2f paused (+%.2f)\n",
        s, nr / t, np / t, 100 * (1 - nr / np), us_r, us_p, us_r - us_p }'
done
