#!/usr/bin/env bash
# End-to-end test of the real window: starts bin/regsandbox in a real X
# display (Xvfb), sends a registration journey with curl, opens the
# Requests view and saves a screenshot in shots/. The screenshot is read
# back with OCR so the test fails when the requests do not appear.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=bin/regsandbox
shots=shots
mkdir -p "$shots"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A display number nobody uses.
display=99
while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
export DISPLAY=":$display"

LANG=en_US.UTF-8 "$bin" --in-memory --addr 127.0.0.1:0 --tls-addr 127.0.0.1:0 >"$work/out" 2>"$work/err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^regsandbox listening' "$work/out" 2>/dev/null && break; sleep 0.1; done
line=$(head -n1 "$work/out")
base="http://$(sed -E 's/.*http=([^ ]+).*/\1/' <<<"$line")"
[ "$base" != "http://" ] || { echo "e2e: the app did not start"; cat "$work/err"; exit 1; }
echo "e2e: $line"

form=(--data-urlencode 'client_id=12345abcde12345abcde12345abcde12' --data-urlencode 'flow=standard'
  --data-urlencode 'flow_version=20190618143040022299' --data-urlencode 'locale=en-US'
  --data-urlencode 'redirect_uri=http://localhost')
curl -sf -X POST "${form[@]}" --data-urlencode 'response_type=token' --data-urlencode 'form=registrationForm' \
  --data-urlencode 'emailAddress=johndoe@example.com' --data-urlencode 'newPassword=password123' \
  --data-urlencode 'newPasswordConfirm=password123' --data-urlencode 'lastName=Doe' --data-urlencode 'firstName=John' \
  --data-urlencode 'displayName=JohnDoe' "$base/oauth/register_native_traditional" >"$work/reg.json"
grep -q '"stat":"ok"' "$work/reg.json" || { echo "e2e: registration failed"; cat "$work/reg.json"; exit 1; }
curl -sf -X POST "${form[@]}" --data-urlencode 'form=signInForm' --data-urlencode 'signInEmailAddress=johndoe@example.com' \
  --data-urlencode 'currentPassword=password123' "$base/oauth/auth_native_traditional" >/dev/null
curl -sf -X POST -u example-api-client:example-api-secret -H 'Content-Type: application/json' \
  -d '{"data":"{\"custom_key\":\"custom_data\"}"}' "$base/oauth/api/v3/custom-registration/ExampleId/backchannel" >/dev/null

# The Requests tab is the second; the window lays its tabs out from the left.
sleep 2
win=$(xdotool search --name '^RegSandbox$' | head -n1)
xdotool mousemove --window "$win" 150 21 click 1
sleep 1
xdotool mousemove --window "$win" 200 180 click 1
sleep 1
import -window root "$shots/window-requests.png"
echo "e2e: screenshot saved in $shots/window-requests.png"

text=$(tesseract "$shots/window-requests.png" - 2>/dev/null | tr -s ' ')
for want in register_native_traditional auth_native_traditional backchannel; do
  if ! grep -q "$want" <<<"$text"; then
    echo "e2e: '$want' does not appear in the window; OCR read:"; echo "$text"; exit 1
  fi
done
echo "e2e: the window shows every request"

# SIGTERM closes the window and stops the server cleanly.
app_pid=${pids[-1]}
kill -TERM "$app_pid"
for _ in $(seq 50); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$app_pid" 2>/dev/null; then
  echo "e2e: the window ignored SIGTERM"; exit 1
fi
wait "$app_pid" || { echo "e2e: the app exited with $? on SIGTERM"; cat "$work/err"; exit 1; }
echo "e2e: SIGTERM closed the window"
