#!/usr/bin/env bash
# tests/bench/notice_streams/run.sh — 500 idle notice streams (server-sent events) through a
# bench-only gateway (release build, 127.0.0.1:18092, admin 127.0.0.1:18093, its own config,
# stopped at the end) to a running care service. Prints the gateway's RSS before / with the
# streams open / after, and its open-stream gauges. See README.md.
#
# Environment:
#   GATEWAY_BIN=path      the crm-gateway (default build/gateway/crm-gateway; not the ASan one)
#   UPSTREAM_CARE=h:p     the care service (default 127.0.0.1:7104, the dev stack's)
#   KEYS_DIR=dir          its JWT key directory (default .run/keys)
#   REDIS_PORT=n          the Redis of that stack (revocations; default 6380)
#   PROXY_SECRET=file     its proxy secret (default .run/secrets/gateway_proof; empty: none)
#   STREAMS=500 HOLD_S=20 AIM_MB=8 CARE_PID=  (the care service's pid: its CPU while held)
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
readonly HERE REPO
GW_BIN=${GATEWAY_BIN:-$REPO/build/gateway/crm-gateway}
UPSTREAM_CARE=${UPSTREAM_CARE:-127.0.0.1:7104}
KEYS_DIR=${KEYS_DIR:-$REPO/.run/keys}
REDIS_PORT=${REDIS_PORT:-6380}
PROXY_SECRET=${PROXY_SECRET-$REPO/.run/secrets/gateway_proof}
readonly GW_BIN UPSTREAM_CARE KEYS_DIR REDIS_PORT PROXY_SECRET
readonly GW_ADDR=127.0.0.1:18092 ADMIN_ADDR=127.0.0.1:18093

die() {
    printf 'bench: ERROR: %s\n' "$*" >&2
    exit 1
}
[[ -x $GW_BIN ]] || die "$GW_BIN is missing (deploy/crm up builds build/, or set GATEWAY_BIN)"
curl -fsS -o /dev/null --max-time 2 "http://$UPSTREAM_CARE/healthz" ||
    die "the care service does not answer on $UPSTREAM_CARE"
(exec 3<>"/dev/tcp/${GW_ADDR%:*}/${GW_ADDR##*:}") 2>/dev/null && die "$GW_ADDR is in use"
ulimit -n 4096 2>/dev/null || true

TMP=$(mktemp -d /tmp/crm-bench-streams.XXXXXX)
GW_PID=
stop_gw() {
    [[ -n $GW_PID ]] && kill -0 "$GW_PID" 2>/dev/null || return 0
    kill -TERM "$GW_PID" 2>/dev/null || true
    wait "$GW_PID" 2>/dev/null || true
    GW_PID=
}
trap 'stop_gw; rm -rf "$TMP"' EXIT

TOKEN=$(node "$REPO/tests/bench/gateway/mint-token.mjs" "$KEYS_DIR")
cat >"$TMP/gateway.conf" <<CONF
listen = $GW_ADDR
admin_listen = $ADMIN_ADDR
upstream_care = $UPSTREAM_CARE
rate_limit_rps = 0
jwt_keys_dir = $KEYS_DIR
redis_port = $REDIS_PORT
access_log = $TMP/access.log
web_root = $REPO/web/dist
drain_timeout_ms = 1000
max_connections_per_address = 0
CONF
[[ -z $PROXY_SECRET ]] || echo "proxy_secret_file = $PROXY_SECRET" >>"$TMP/gateway.conf"
"$GW_BIN" --config "$TMP/gateway.conf" >"$TMP/gateway.log" 2>&1 &
GW_PID=$!
for ((i = 0; i < 100; i++)); do
    curl -fsS -o /dev/null --max-time 1 "http://$GW_ADDR/healthz" 2>/dev/null && break
    sleep 0.1
done
# warm up: the route answers (and the gateway has served one stream) before measuring
for ((i = 0; i < 50; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        "http://$GW_ADDR/api/v1/notices/unread-count") == 200 ]] && break
    sleep 0.1
done
curl -s -o /dev/null --max-time 1 -H "Authorization: Bearer $TOKEN" "http://$GW_ADDR/api/v1/notices/stream" || true

printf '== notice streams benchmark  %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf 'machine : %s cores, load %s; gateway %s (repo %s)\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$GW_BIN" "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
RESULT=0
node "$HERE/bench.mjs" "$GW_ADDR" "$GW_PID" "$TOKEN" "$ADMIN_ADDR" || RESULT=1
stop_gw
exit "$RESULT"
