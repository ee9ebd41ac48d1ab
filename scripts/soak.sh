#!/usr/bin/env bash
# `make soak`: RegSandbox's soak test. Builds the binary and tools/loadgen,
# starts a headless server on 127.0.0.1:0 with a fresh data directory and
# holds mixed traffic against it for SOAK_DURATION (Capture registrations,
# sign-ins, /entity, social sign-ins and registrations, the Onegini
# backchannel and QR flow, flow documents and client errors) while
# sampling its goroutines and resident set. `loadgen soak` prints PASS/FAIL
# per criterion; this script exits with its status (0: all passed, 3: a
# criterion failed, other: the soak could not run).
#
# Tunable: SOAK_DURATION (default 3m), SOAK_CONNS (16), SOAK_SAMPLE (5s),
# SOAK_RECORD_LIMIT (20000, the inspector's retention during the soak),
# SOAK_RSS (default anon: Badger maps its value-log files, whose pages
# are the kernel's reclaimable cache, so the private memory is what shows
# a leak; total: judge VmRSS; anon: judge RssAnon, without the mapped
# database files, whose pages grow with the value log until its GC).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

GO=${GO:-go}
DURATION=${SOAK_DURATION:-3m}
CONNS=${SOAK_CONNS:-16}
SAMPLE=${SOAK_SAMPLE:-5s}
RECORD_LIMIT=${SOAK_RECORD_LIMIT:-20000}
RSS=${SOAK_RSS:-anon}

work=$(mktemp -d "${TMPDIR:-/tmp}/regsandbox-soak.XXXXXX")

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'soak: %s\n' "$*" >&2; exit 1; }

# shellcheck source=scripts/headless-server.sh
source scripts/headless-server.sh

mkdir -p bin
log "building bin/regsandbox and bin/loadgen"
$GO build -o bin/regsandbox . || die "go build of the server failed"
$GO build -o bin/loadgen ./tools/loadgen || die "go build of tools/loadgen failed"

log "soak: $CONNS connections for $DURATION, a sample every $SAMPLE"
start_server soak
status=0
bin/loadgen soak -addr "$server_addr" -pid "$server_pid" -d "$DURATION" -c "$CONNS" \
  -sample "$SAMPLE" -record-limit "$RECORD_LIMIT" -rss "$RSS" || status=$?
stop_server
exit "$status"
