# Sourced by bench.sh, soak.sh and abtest.sh: starts and stops headless
# servers on fresh data directories under $work. The sourcing script sets
# work and defines die.

server_pid=""
server_addr=""
server_pids=()

# stop_server stops every server this script started, by their pids.
stop_server() {
  local pid
  for pid in "${server_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  server_pids=()
  server_pid=""
}

cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME [BINARY] starts BINARY (bin/regsandbox) headless on a
# fresh data directory and sets server_pid and server_addr from its
# listening line.
start_server() {
  local name=$1 bin=${2:-bin/regsandbox} line=""
  mkdir -p "$work/$name-data"
  "$bin" --headless --addr 127.0.0.1:0 --tls-addr "" --data "$work/$name-data" \
    >"$work/$name.out" 2>"$work/$name.err" &
  server_pid=$!
  server_pids+=("$server_pid")
  for _ in $(seq 100); do
    line=$(grep -m1 '^regsandbox listening ' "$work/$name.out" || true)
    [ -n "$line" ] && break
    kill -0 "$server_pid" 2>/dev/null || die "the $name server exited: $(cat "$work/$name.err")"
    sleep 0.1
  done
  [ -n "$line" ] || die "the $name server printed no listening line within 10 s"
  server_addr=${line#*http=}
  server_addr=${server_addr%% *}
  [[ $server_addr =~ ^127\.0\.0\.1:[0-9]+$ ]] || die "unexpected listening line: $line"
}
