#!/usr/bin/env bash
# tests/bench/auth/run.sh — what a login flood does to everyone else. See README.md beside this file.
#
# A steady authenticated GET (GET /api/v1/auth/me, open-loop at RATE req/s) is measured alone,
# then while LOGIN_LOOPS concurrent loops log in as fast as they are answered (argon2id on every
# login). Prints login throughput, the GET's p50/p95/p99/max without and with the flood, their
# p99 ratio, and the auth process's RSS sampled every second. All traffic goes through a
# bench-only gateway on 127.0.0.1:18090 with its rate limit off.
#
# The auth service throttles logins per address (30/min) and per account (10/min) in Redis
# (crm:login:ip:<ip>, crm:login:user:<name>, 60 s windows). During the flood this script DELETES
# those counters every CLEAR_MS (redis-cli on port 6380), so the flood measures the cost of
# logins, not the throttle. That also clears counters other clients of the dev stack built up.
#
# Environment:
#   RATE=50          steady GET requests per second (open loop)
#   BASELINE_S=20    measured seconds without logins
#   FLOOD_S=20       measured seconds with the login loops running
#   WARMUP_S=3       discarded seconds of the steady GET before the baseline
#   SETTLE_S=2       seconds between starting the login loops and measuring
#   AFTER_S=5        seconds of the steady GET after the flood (information only; RSS end)
#   LOGIN_LOOPS=50   concurrent login loops, each its own user bench_01..bench_NN
#   GET_USER=manager_east1  demo account (from .run/credentials) of the steady GET
#   CLEAR_MS=500     period of the counter sweeps during the flood (see README: why not 1000)
#   WAIT_QUIET=0     wait up to this many seconds for the machine to be quiet (< 30% of one core
#                    busy over 3 s) before measuring; it measures anyway when the time is up
#   KEEP_TMP=1       keep the scratch directory (gateway config and logs, result.json)
#   GATEWAY_BIN=path the crm-gateway to run (default build/gateway/crm-gateway)
#
# Leaves behind: the bench users bench_01..bench_NN (role customer_manager, password a random
# one of the last run, which nobody keeps) and their refresh tokens from the flood.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
readonly HERE REPO

readonly GW_ADDR=127.0.0.1:18090
readonly DEV_GW=127.0.0.1:8080
readonly REDIS_PORT=6380
readonly KEYS_DIR=$REPO/.run/keys
GW_BIN=${GATEWAY_BIN:-$REPO/build/gateway/crm-gateway}
readonly GW_BIN
SUPERVISORCTL=(supervisorctl -c "$REPO/.run/supervisord.conf")
# Redis takes logins only (deploy/crm makes crm_admin's secret); the password goes by environment
REDISCLI_AUTH=$(tr -d '\n' <"$REPO/.run/secrets/redis_crm_admin" 2>/dev/null || true)
export REDISCLI_AUTH
readonly RCLI="redis-cli -p $REDIS_PORT --user crm_admin --no-auth-warning"
readonly CLEAR_CMD="$RCLI --scan --pattern 'crm:login:*' | xargs -r $RCLI DEL"

say() { printf '%s\n' "$*"; }
die() {
    printf 'bench: ERROR: %s\n' "$*" >&2
    exit 1
}

for v in RATE BASELINE_S FLOOD_S WARMUP_S SETTLE_S AFTER_S LOGIN_LOOPS CLEAR_MS; do
    [[ -z ${!v:-} || ${!v} =~ ^[0-9]+([.][0-9]+)?$ ]] || die "$v='${!v}' is not a number"
done
if ! [[ ${LOGIN_LOOPS:-50} =~ ^[0-9]+$ ]] || ((${LOGIN_LOOPS:-50} < 1 || ${LOGIN_LOOPS:-50} > 99)); then
    die "LOGIN_LOOPS must be 1..99 (users bench_01..bench_99)"
fi

# ---------------------------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------------------------

for c in node curl redis-cli supervisorctl; do command -v "$c" >/dev/null || die "'$c' is needed"; done
node -e 'process.exit(typeof fetch === "function" && +process.versions.node.split(".")[0] >= 20 ? 0 : 1)' ||
    die "node 20 or later is needed (fetch, worker_threads)"

if ! curl -fsS -o /dev/null --max-time 2 "http://$DEV_GW/healthz"; then
    say "the dev stack does not answer on $DEV_GW: starting it (deploy/crm up)"
    "$REPO/deploy/crm" up
    curl -fsS -o /dev/null --max-time 2 "http://$DEV_GW/healthz" || die "dev stack still down after deploy/crm up"
fi
[[ -x $GW_BIN ]] || die "$GW_BIN is missing (deploy/crm up builds it)"
[[ -r $REPO/.run/credentials ]] || die "no $REPO/.run/credentials (deploy/crm up writes it)"
ls "$KEYS_DIR"/*.pub.pem >/dev/null 2>&1 || die "no public key in $KEYS_DIR"
$RCLI PING >/dev/null 2>&1 || die "redis on port $REDIS_PORT does not answer"

pid_of() { # pid_of PROGRAM: the pid supervisord reports for a program of the dev stack
    local p
    p=$("${SUPERVISORCTL[@]}" pid "$1" 2>/dev/null || true)
    [[ $p =~ ^[1-9][0-9]*$ && -r /proc/$p/status ]] && echo "$p"
}
AUTH_PID=$(pid_of auth) || die "supervisorctl does not report a running auth process"
readonly AUTH_PID
curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:7101/healthz || die "the auth service does not answer on 127.0.0.1:7101"

port_busy() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }
port_busy "$GW_ADDR" && die "$GW_ADDR is already in use (another run of this benchmark?)"

# ---------------------------------------------------------------------------------------------
# Scratch directory, clean-up, the bench gateway
# ---------------------------------------------------------------------------------------------

TMP=$(mktemp -d /tmp/crm-bench-auth.XXXXXX)
readonly TMP
GW_PID=
NODE_PID=

stop_pid() {
    local pid=$1 i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # invoked through the trap
cleanup() {
    local i interrupted=$NODE_PID
    stop_pid "$NODE_PID"
    stop_pid "$GW_PID"
    sh -c "$CLEAR_CMD" >/dev/null 2>&1 || true # the counters the flood left (and others' too)
    if [[ -n $interrupted ]]; then
        # the logins the killed loops had queued still run in the auth service (about 50 x 45 ms)
        # and count again: sweep a few more times
        for ((i = 0; i < 6; i++)); do
            sleep 1
            sh -c "$CLEAR_CMD" >/dev/null 2>&1 || true
        done
    fi
    if [[ ${KEEP_TMP:-0} == 1 ]]; then
        say "scratch files kept in $TMP"
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$TMP/gateway.conf" <<EOF
# bench-only gateway: plain HTTP, rate limit off, same keys and Redis as the dev stack
listen = $GW_ADDR
rate_limit_rps = 0
jwt_keys_dir = $KEYS_DIR
redis_port = $REDIS_PORT
web_root = $REPO/web/dist
access_log = $TMP/access.log
drain_timeout_ms = 1000
EOF
"$GW_BIN" --config "$TMP/gateway.conf" --check-config >/dev/null 2>"$TMP/gateway.log" ||
    die "bench gateway config rejected: $(cat "$TMP/gateway.log")"
"$GW_BIN" --config "$TMP/gateway.conf" >"$TMP/gateway.log" 2>&1 &
GW_PID=$!
for ((i = 0; i < 100; i++)); do
    kill -0 "$GW_PID" 2>/dev/null || die "bench gateway exited: $(tail -n 5 "$TMP/gateway.log")"
    curl -fsS -o /dev/null --max-time 1 "http://$GW_ADDR/healthz" 2>/dev/null && break
    sleep 0.1
done
curl -fsS -o /dev/null --max-time 1 "http://$GW_ADDR/healthz" || die "bench gateway did not answer"

# ---------------------------------------------------------------------------------------------
# Header
# ---------------------------------------------------------------------------------------------

busy_pct() { # busy_pct SECONDS: the machine's non-idle CPU over SECONDS, % of one core
    local a b
    a=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat)
    sleep "$1"
    b=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat)
    awk -v a="$a" -v b="$b" -v s="$1" -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", (b - a) / t / s * 100 }'
}
QUIET_WAIT=${WAIT_QUIET:-0}
[[ $QUIET_WAIT =~ ^[0-9]+$ ]] || die "WAIT_QUIET='$QUIET_WAIT' is not a whole number of seconds"
idle_start=$SECONDS
while :; do
    BUSY=$(busy_pct 3)
    ((BUSY < 30 || SECONDS - idle_start >= QUIET_WAIT)) && break
    say "machine busy ($BUSY% of one core): waiting for it to calm down ($((QUIET_WAIT - (SECONDS - idle_start))) s left)"
done

conf_val() { # conf_val FILE KEY DEFAULT
    local v
    v=$(sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$1" 2>/dev/null | tail -n 1)
    echo "${v:-$3 (default)}"
}
AUTH_CONF=$REPO/.run/etc/auth.conf
AUTH_BIN=$(readlink "/proc/$AUTH_PID/exe" 2>/dev/null || echo '?')
AUTH_BUILT="built $(date -u -r "${AUTH_BIN% (deleted)}" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo '?')"
[[ $AUTH_BIN == *' (deleted)' ]] && AUTH_BUILT="(rebuilt on disk since the process started: the running binary is older)"
say "== auth login-flood benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "machine : $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr)"
say "load    : $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min), $BUSY% of one core busy over the 3 s before the run"
say "repo    : $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD -- services/auth shared gateway 2>/dev/null || echo ' (services/auth, shared/ or gateway/ modified in the work tree)')"
say "auth    : pid $AUTH_PID, ${AUTH_BIN% (deleted)} $AUTH_BUILT; hash_threads $(conf_val "$AUTH_CONF" hash_threads 1), workers $(conf_val "$AUTH_CONF" workers 4), argon2 m=$(conf_val "$AUTH_CONF" argon2_memory_kib 19456) KiB t=$(conf_val "$AUTH_CONF" argon2_iterations 2)"
say "gateway : bench $GW_BIN on $GW_ADDR (pid $GW_PID, rate limit off)"
say "client  : node $(node --version), steady GET ${RATE:-50} req/s, ${LOGIN_LOOPS:-50} login loops"
say "throttle: login counters (crm:login:*) deleted every ${CLEAR_MS:-500} ms during the flood"
say ""

CPU_PIDS=gateway=$GW_PID
for p in mariadb redis audit; do
    pid=$(pid_of "$p") && CPU_PIDS+=",$p=$pid"
done

rc=0
env BENCH_URL="http://$GW_ADDR" REPO="$REPO" AUTH_PID="$AUTH_PID" GATEWAY_PID="$GW_PID" REDIS_PORT="$REDIS_PORT" \
    CPU_PIDS="$CPU_PIDS" CLK_TCK="$(getconf CLK_TCK)" RESULT_JSON="$TMP/result.json" \
    node "$HERE/bench.mjs" &
NODE_PID=$! # in the background, so that a signal reaches the trap at once
wait "$NODE_PID" || rc=$?
NODE_PID=

# ---------------------------------------------------------------------------------------------
# The bench gateway and the auth process after the run
# ---------------------------------------------------------------------------------------------

say ""
say "== bench gateway"
stop_pid "$GW_PID" # flushes the access log
GW_PID=
if [[ -s $TMP/access.log ]]; then
    say "access log statuses: $(grep -o '"status":[0-9]*' "$TMP/access.log" | sort | uniq -c | awk '{ printf "%s%s x%s", sep, substr($2, 10), $1; sep = ", " }')"
fi
n=$(grep -c '"level":"\(warn\|error\)"' "$TMP/gateway.log" || true)
say "gateway log: $n warn/error lines"
if ((n > 0)); then
    grep '"level":"\(warn\|error\)"' "$TMP/gateway.log" | sed 's/"ts":"[^"]*",//; s/"request_id":"[^"]*",//' | sort | uniq -c | sort -rn | head -n 5
fi
now_pid=$(pid_of auth || true)
if [[ $now_pid != "$AUTH_PID" ]]; then
    say "FAIL: the auth process changed during the run (pid $AUTH_PID, now ${now_pid:-none})"
    rc=1
fi
if ((rc == 0)); then say "run ok"; else say "run INVALID (exit $rc): do not quote these figures"; fi
exit "$rc"
