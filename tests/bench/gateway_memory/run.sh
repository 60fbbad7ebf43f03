#!/usr/bin/env bash
# tests/bench/gateway_memory/run.sh — unauthenticated memory exhaustion of the gateway (issue 10
# #5): 500 connections each send most of a 1 MiB body to /api/v1/auth/refresh or, without a
# token, to /api/v1/users, while a normal user on another address keeps calling the API. Prints
# the gateway's RSS before / peak / after and the normal user's latency. See README.md.
#
# Two phases against a bench-only gateway (127.0.0.1:18090, its own config, stopped at the end):
#   1. the gateway's defaults (max_connections_per_address = 64): most attackers are refused at
#      accept; the 64 that get in are answered before their bodies are read;
#   2. the per-address cap off (as if the 500 came from 500 addresses): every connection gets
#      in, and the head-time checks alone (401 without a token, 413 above the 16 KiB of a route
#      without a token) keep the bodies out of memory.
#
# Environment:
#   GATEWAY_BIN=path        the crm-gateway (default build/gateway/crm-gateway; not the ASan one)
#   UPSTREAM_CUSTOMER=h:p   the customer service the normal user reaches (default 127.0.0.1:7102)
#   KEYS_DIR=dir            its JWT key directory (default .run/keys)
#   REDIS_PORT=n            the Redis of that stack (revocations; default 6380)
#   PROXY_SECRET=file       its proxy secret (default .run/secrets/gateway_proof; empty: none)
#   CONNS=500 BODY_KB=960 HOLD_S=5   the attack: each attacker connects again 200 ms after its
#                                    connection ended, for HOLD_S s (a phase takes HOLD_S + ~4 s)
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
readonly HERE REPO
GW_BIN=${GATEWAY_BIN:-$REPO/build/gateway/crm-gateway}
UPSTREAM_CUSTOMER=${UPSTREAM_CUSTOMER:-127.0.0.1:7102}
KEYS_DIR=${KEYS_DIR:-$REPO/.run/keys}
REDIS_PORT=${REDIS_PORT:-6380}
PROXY_SECRET=${PROXY_SECRET-$REPO/.run/secrets/gateway_proof}
readonly GW_BIN UPSTREAM_CUSTOMER KEYS_DIR REDIS_PORT PROXY_SECRET
readonly GW_ADDR=127.0.0.1:18090

die() {
    printf 'bench: ERROR: %s\n' "$*" >&2
    exit 1
}
[[ -x $GW_BIN ]] || die "$GW_BIN is missing (deploy/crm up builds build/, or set GATEWAY_BIN)"
curl -fsS -o /dev/null --max-time 2 "http://$UPSTREAM_CUSTOMER/healthz" ||
    die "the customer service does not answer on $UPSTREAM_CUSTOMER"
(exec 3<>"/dev/tcp/${GW_ADDR%:*}/${GW_ADDR##*:}") 2>/dev/null && die "$GW_ADDR is in use"
ulimit -n 4096 2>/dev/null || true

TMP=$(mktemp -d /tmp/crm-bench-gwmem.XXXXXX)
GW_PID=
stop_gw() {
    [[ -n $GW_PID ]] && kill -0 "$GW_PID" 2>/dev/null || return 0
    kill -TERM "$GW_PID" 2>/dev/null || true
    wait "$GW_PID" 2>/dev/null || true
    GW_PID=
}
trap 'stop_gw; rm -rf "$TMP"' EXIT

TOKEN=$(node "$REPO/tests/bench/gateway/mint-token.mjs" "$KEYS_DIR")

phase() { # phase NAME CAP
    cat >"$TMP/gateway.conf" <<CONF
listen = $GW_ADDR
admin_listen = off
upstream_customer = $UPSTREAM_CUSTOMER
rate_limit_rps = 0
jwt_keys_dir = $KEYS_DIR
redis_port = $REDIS_PORT
access_log = $TMP/access.log
web_root = $REPO/web/dist
drain_timeout_ms = 1000
max_connections_per_address = $2
CONF
    [[ -z $PROXY_SECRET ]] || echo "proxy_secret_file = $PROXY_SECRET" >>"$TMP/gateway.conf"
    "$GW_BIN" --config "$TMP/gateway.conf" >"$TMP/gateway.log" 2>&1 &
    GW_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        curl -fsS -o /dev/null --max-time 1 "http://$GW_ADDR/healthz" 2>/dev/null && break
        sleep 0.1
    done
    # the normal user's route answers before the attack
    for ((i = 0; i < 50; i++)); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
            "http://$GW_ADDR/api/v1/system/customer/info") == 200 ]] && break
        sleep 0.1
    done
    printf '\n== %s (max_connections_per_address = %s)\n' "$1" "$2"
    node "$HERE/bench.mjs" "$GW_ADDR" "$GW_PID" "$TOKEN" || RESULT=1
    stop_gw
}

RESULT=0
printf '== gateway memory benchmark  %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf 'machine : %s cores, load %s; gateway %s (repo %s)\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$GW_BIN" "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
phase "1. defaults" 64
phase "2. per-address cap off: the head-time checks alone" 0
exit "$RESULT"
