#!/usr/bin/env bash
# `make invoke`: the function under cargo-lambda's Runtime API emulator (`cargo lambda watch`), one sample event
# sent with `cargo lambda invoke`, against the Connect emulator; the response is printed by a local receiver.
# EVENT=events/0N-....json picks another Create event (Update and Delete events need ids from earlier responses).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENT=${EVENT:-events/01-create-soft-phone.json}
EMU_PORT=${EMU_PORT:-4599}
RECV_PORT=${RECV_PORT:-4598}
INVOKE_PORT=${INVOKE_PORT:-9000}

kill_tree() { for c in $(pgrep -P "$1" || true); do kill_tree "$c"; done; kill -KILL "$1" 2>/dev/null || true; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill_tree "$p"; done; }
trap cleanup EXIT

wait_port() { for _ in $(seq 1 600); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.5; done; echo "port $1 did not open" >&2; return 1; }

target/debug/connect-emulator --port "$EMU_PORT" & pids+=($!); disown
python3 scripts/receiver.py "$RECV_PORT" & pids+=($!); disown
cargo lambda watch --ignore-changes -P "$INVOKE_PORT" -p connect-user-resource --features unify \
  --env-var "AWS_ENDPOINT_URL_CONNECT=http://127.0.0.1:$EMU_PORT,AWS_REGION=us-east-1,AWS_ACCESS_KEY_ID=AKIDEXAMPLE,AWS_SECRET_ACCESS_KEY=local,AWS_EC2_METADATA_DISABLED=true" \
  >/tmp/cargo-lambda-watch.log 2>&1 & pids+=($!); disown
wait_port "$EMU_PORT"; wait_port "$RECV_PORT"; wait_port "$INVOKE_PORT"

event=$(mktemp)
sed "s#{{ResponseURL}}#http://127.0.0.1:$RECV_PORT/response?X-Amz-Signature=local#" "$EVENT" > "$event"
echo "invoking with $EVENT (function logs: /tmp/cargo-lambda-watch.log)"
cargo lambda invoke connect-user-resource -P "$INVOKE_PORT" -F "$event"
echo
sleep 1
echo "users in the emulator:"
python3 -c "import json,urllib.request; s=json.load(urllib.request.urlopen('http://127.0.0.1:$EMU_PORT/_emulator/state')); [print(' ', u['Username'], u['Id']) for u in s['users']]"
