# Sourced by bench.sh and soak.sh: starts and stops a headless
# bin/regsandbox on a fresh data directory under $work. The sourcing
# script sets work and defines die.

server_pid=""
server_addr=""

# stop_server stops the server this script started, by its pid.
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME starts bin/regsandbox headless on a fresh data directory
# and sets server_pid and server_addr from its listening line.
start_server() {
  local name=$1 line=""
  mkdir -p "$work/$name-data"
  bin/regsandbox --headless --addr 127.0.0.1:0 --tls-addr "" --data "$work/$name-data" \
    >"$work/$name.out" 2>"$work/$name.err" &
  server_pid=$!
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
