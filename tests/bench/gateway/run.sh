#!/usr/bin/env bash
# tests/bench/gateway/run.sh — what the gateway costs in front of a service, compared with
# HAProxy 2.6 doing the same JWT check. See README.md beside this file.
#
# One authenticated GET of a trivial endpoint (GET /api/v1/system/customer/info on the customer
# service, answered from memory after the service verifies the token itself), measured with wrk:
#   direct   straight to the service                     127.0.0.1:7102
#   gateway  through a bench-only crm-gateway            127.0.0.1:18080  (rate limit off)
#   haproxy  through HAProxy 2.6 verifying the same JWT  127.0.0.1:18081  (nbthread 1)
#
# Environment:
#   DURATION=15s       measured time of each throughput run (wrk -d); a bare number means seconds
#   CONNS=32           connections of the throughput runs (wrk -c)
#   LAT_DURATION=10s   measured time of each single-connection latency run
#   WARMUP=3s          unmeasured wrk run before every measured run
#   UNIQUE_TOKENS=32768  distinct tokens for the extra "every request a new token" pass; 0 skips it
#   KEEP_TMP=1         keep the scratch directory (configs, logs, raw wrk output)
#   NEW_TOKENS_ONLY=1  only the "every request a new token" pass (aim 3), ~40 s
#   GATEWAY_BIN=path   the crm-gateway to measure (default build/gateway/crm-gateway)
#   SVC_ADDR=host:port the customer service behind both (default the dev stack's 127.0.0.1:7102;
#                      another one is not started here: it must answer)
#   KEYS_DIR=dir       its JWT key directory (default .run/keys of the dev stack)
#   REDIS_PORT=n       the Redis of that stack (the revocation set; default 6380, the dev stack's)
#   REDIS_PASSWORD_FILE=file  the gateway's Redis password (default .run/secrets/redis_gateway;
#                      its user is crm_gateway)
#   PROXY_SECRET=file  the proxy secret the service was started with (default
#                      .run/secrets/gateway_proof): the bench gateway signs its requests with it,
#                      so the service does not verify the token's signature a second time;
#                      empty: no proof (the service verifies every token itself, as before #7)
#
# Needs the dev stack (deploy/crm up; started here when the customer service does not answer).
# Never touches the dev stack's processes: it starts and stops only its own gateway and HAProxy.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
readonly HERE REPO

secs() { [[ $1 =~ ^[0-9]+$ ]] && echo "${1}s" || echo "$1"; }
DURATION=$(secs "${DURATION:-15s}")
LAT_DURATION=$(secs "${LAT_DURATION:-10s}")
WARMUP=$(secs "${WARMUP:-3s}")
CONNS=${CONNS:-32}
UNIQUE_TOKENS=${UNIQUE_TOKENS:-32768}
readonly DURATION LAT_DURATION WARMUP CONNS UNIQUE_TOKENS

SVC_ADDR=${SVC_ADDR:-127.0.0.1:7102}
readonly SVC_ADDR
readonly GW_ADDR=127.0.0.1:18080
readonly HAP_ADDR=127.0.0.1:18081
readonly ENDPOINT=/api/v1/system/customer/info
KEYS_DIR=${KEYS_DIR:-$REPO/.run/keys}
PROXY_SECRET=${PROXY_SECRET-$REPO/.run/secrets/gateway_proof}
REDIS_PORT=${REDIS_PORT:-6380}
readonly KEYS_DIR PROXY_SECRET REDIS_PORT
GW_BIN=${GATEWAY_BIN:-$REPO/build/gateway/crm-gateway}
readonly GW_BIN

say() { printf '%s\n' "$*"; }
die() {
    printf 'bench: ERROR: %s\n' "$*" >&2
    exit 1
}

[[ $CONNS =~ ^[1-9][0-9]*$ ]] || die "CONNS='$CONNS' is not a positive integer"
[[ $UNIQUE_TOKENS =~ ^[0-9]+$ ]] || die "UNIQUE_TOKENS='$UNIQUE_TOKENS' is not a number"

# ---------------------------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------------------------

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v haproxy >/dev/null || missing+=(haproxy)
if ((${#missing[@]})); then
    say "installing ${missing[*]} (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; } ||
        die "could not install ${missing[*]}"
fi
for c in node curl ss; do command -v "$c" >/dev/null || die "'$c' is needed"; done

if ! curl -fsS -o /dev/null --max-time 2 "http://$SVC_ADDR/healthz"; then
    [[ $SVC_ADDR == 127.0.0.1:7102 ]] || die "the customer service does not answer on $SVC_ADDR"
    say "the customer service does not answer on $SVC_ADDR: starting the dev stack (deploy/crm up)"
    "$REPO/deploy/crm" up
    curl -fsS -o /dev/null --max-time 2 "http://$SVC_ADDR/healthz" || die "customer service still down after deploy/crm up"
fi
[[ -x $GW_BIN ]] || die "$GW_BIN is missing (deploy/crm up builds it)"
ls "$KEYS_DIR"/*.key.pem >/dev/null 2>&1 || die "no signing key in $KEYS_DIR"
KID=$(find "$KEYS_DIR" -maxdepth 1 -name '*.key.pem' -printf '%f\n' | sed 's/\.key\.pem$//' | sort | tail -n 1)
readonly KID
PUB_PEM=$KEYS_DIR/$KID.pub.pem
readonly PUB_PEM
[[ -r $PUB_PEM ]] || die "no public key $PUB_PEM"
[[ -z $PROXY_SECRET || -r $PROXY_SECRET ]] || die "PROXY_SECRET=$PROXY_SECRET is not readable"

newer=
[[ -n ${GATEWAY_BIN:-} ]] || newer=$(find "$REPO/gateway" "$REPO/shared" -newer "$GW_BIN" -name '*.[ch]' -print -quit)
[[ -z $newer ]] || say "WARNING: ${newer#"$REPO"/} is newer than $GW_BIN: the binary may be stale (deploy/crm up rebuilds it)"

HAP_VERSION=$(haproxy -v | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p')
[[ $HAP_VERSION == 2.6.* ]] || say "WARNING: HAProxy $HAP_VERSION, not 2.6 as the benchmark is written for"

port_busy() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }
port_busy "$GW_ADDR" && die "$GW_ADDR is already in use (another benchmark running?)"
port_busy "$HAP_ADDR" && die "$HAP_ADDR is already in use (another benchmark running?)"

# ---------------------------------------------------------------------------------------------
# Scratch directory and clean-up: only the processes this script started
# ---------------------------------------------------------------------------------------------

TMP=$(mktemp -d /tmp/crm-bench-gateway.XXXXXX)
readonly TMP
GW_PID=
HAP_PID=

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

cleanup() {
    stop_pid "$HAP_PID"
    stop_pid "$GW_PID"
    if [[ ${KEEP_TMP:-0} == 1 ]]; then
        say "scratch files kept in $TMP"
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# The bench gateway and HAProxy
# ---------------------------------------------------------------------------------------------

wait_http() { # wait_http ADDR PID NAME: until ADDR answers HTTP (any status)
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$2" 2>/dev/null || return 1
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$1/healthz") != 000 ]] && return 0
        sleep 0.1
    done
    return 1
}

cat >"$TMP/gateway.conf" <<EOF
# bench-only gateway: plain HTTP, rate limit off, same keys as the dev stack
listen = $GW_ADDR
upstream_customer = $SVC_ADDR
rate_limit_rps = 0
jwt_keys_dir = $KEYS_DIR
access_log = $TMP/access.log
web_root = $REPO/web/dist
drain_timeout_ms = 1000
admin_listen = off
redis_port = $REDIS_PORT
EOF
# Redis has one ACL user per process (issue 10 #9): the bench gateway logs in as the gateway
if [[ -r ${REDIS_PASSWORD_FILE:-$REPO/.run/secrets/redis_gateway} ]]; then
    printf 'redis_user = crm_gateway\nredis_password_file = %s\n' \
        "${REDIS_PASSWORD_FILE:-$REPO/.run/secrets/redis_gateway}" >>"$TMP/gateway.conf"
fi
[[ -z $PROXY_SECRET ]] || echo "proxy_secret_file = $PROXY_SECRET" >>"$TMP/gateway.conf"
"$GW_BIN" --config "$TMP/gateway.conf" --check-config >/dev/null 2>"$TMP/gateway.log" ||
    die "bench gateway config rejected: $(cat "$TMP/gateway.log")"
"$GW_BIN" --config "$TMP/gateway.conf" >"$TMP/gateway.log" 2>&1 &
GW_PID=$!
wait_http "$GW_ADDR" "$GW_PID" || die "bench gateway did not start: $(tail -n 5 "$TMP/gateway.log")"

# The same checks as the gateway's token verification (shared/jwtv.c), in the same order, all
# fail-closed (a missing claim makes its "ok" ACL false): bearer present, alg ES256, typ JWT when
# present, kid known, ES256 signature, exp in the future, nbf not more than 30 s (the gateway's
# leeway) in the future, iss crm-auth, aud crm, sub non-empty. Anything else: 401 from HAProxy.
RETURN_401="http-request return status 401 content-type application/problem+json string '{\"status\":401,\"code\":\"unauthorized\",\"detail\":\"rejected by haproxy\"}'"
cat >"$TMP/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4096

defaults
    mode http
    option http-keep-alive
    timeout connect 500ms
    timeout client 30s
    timeout server 5s
    timeout http-keep-alive 30s

frontend bench
    bind $HAP_ADDR
    http-request set-var(txn.bearer) http_auth_bearer
    http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('\$.alg')
    http-request set-var(txn.typ) var(txn.bearer),jwt_header_query('\$.typ')
    http-request set-var(txn.kid) var(txn.bearer),jwt_header_query('\$.kid')
    http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('\$.iss')
    http-request set-var(txn.aud) var(txn.bearer),jwt_payload_query('\$.aud')
    http-request set-var(txn.sub) var(txn.bearer),jwt_payload_query('\$.sub')
    http-request set-var(txn.now) date()
    http-request set-var(txn.ttl) var(txn.bearer),jwt_payload_query('\$.exp','int'),sub(txn.now)
    http-request set-var(txn.early) var(txn.bearer),jwt_payload_query('\$.nbf','int'),sub(txn.now)
    acl bearer  var(txn.bearer) -m found
    acl alg_ok  var(txn.alg) -m str ES256
    acl typ_set var(txn.typ) -m found
    acl typ_jwt var(txn.typ) -m str JWT
    acl kid_ok  var(txn.kid) -m str $KID
    acl sig_ok  var(txn.bearer),jwt_verify("ES256","$PUB_PEM") -m int 1
    acl exp_ok  var(txn.ttl) -m int gt 0
    acl nbf_bad var(txn.early) -m int gt 30
    acl iss_ok  var(txn.iss) -m str crm-auth
    acl aud_ok  var(txn.aud) -m str crm
    acl sub_ok  var(txn.sub) -m len gt 0
    $RETURN_401 hdr WWW-Authenticate Bearer unless bearer
    $RETURN_401 hdr WWW-Authenticate 'Bearer error="invalid_token"' if typ_set !typ_jwt
    $RETURN_401 hdr WWW-Authenticate 'Bearer error="invalid_token"' unless alg_ok kid_ok sig_ok exp_ok !nbf_bad iss_ok aud_ok sub_ok
    default_backend customer

backend customer
    http-reuse always
    server customer $SVC_ADDR maxconn 512
EOF
haproxy -c -q -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 || die "haproxy config rejected: $(cat "$TMP/haproxy.log")"
haproxy -f "$TMP/haproxy.cfg" -db >"$TMP/haproxy.log" 2>&1 &
HAP_PID=$!
wait_http "$HAP_ADDR" "$HAP_PID" || die "haproxy did not start: $(tail -n 5 "$TMP/haproxy.log")"

SVC_PID=$(ss -ltnpH "sport = :${SVC_ADDR##*:}" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)

# ---------------------------------------------------------------------------------------------
# Header: the machine and what runs
# ---------------------------------------------------------------------------------------------

say "== gateway benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "machine : $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr)"
say "load    : $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) before the runs"
say "repo    : $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD -- gateway shared 2>/dev/null || echo ' (gateway/ or shared/ modified in the work tree)')"
say "gateway : $GW_BIN, built $(date -u -r "$GW_BIN" +%Y-%m-%dT%H:%M:%SZ)"
say "tools   : $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), HAProxy $HAP_VERSION (nbthread 1), node $(node --version)"
say "runs    : wrk -t1, throughput -c$CONNS -d$DURATION, latency -c1 -d$LAT_DURATION, each after a $WARMUP warm-up"
TOKEN=$(node "$HERE/mint-token.mjs" "$KEYS_DIR")
readonly TOKEN
say "endpoint: GET $ENDPOINT, token ${#TOKEN} bytes (service pid ${SVC_PID:-?}, bench gateway pid $GW_PID, haproxy pid $HAP_PID)"
say "proof   : ${PROXY_SECRET:-none} (with it the service skips the second ES256 check of a token the gateway verified)"
FAILURES=()
fail() {
    FAILURES+=("$*")
    say "  FAIL: $*"
}

# ---------------------------------------------------------------------------------------------
# Sanity: every target answers the valid token; the gateway and HAProxy themselves reject bad
# ones (the service's 401 counter must not move, so the service never saw them)
# ---------------------------------------------------------------------------------------------

svc_401s() {
    curl -fsS --max-time 2 "http://$SVC_ADDR/metrics" |
        awk -v r="route=\"$ENDPOINT\"" 'index($0, "crm_http_requests_total{") == 1 && index($0, r) && index($0, "status=\"401\"") { n += $NF } END { print n + 0 }'
}
code_of() { # code_of ADDR [TOKEN]: HTTP status of the endpoint
    if [[ $# -ge 2 ]]; then
        curl -s -o "$TMP/body" -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $2" "http://$1$ENDPOINT"
    else
        curl -s -o "$TMP/body" -w '%{http_code}' --max-time 5 "http://$1$ENDPOINT"
    fi
}

say ""
say "== sanity (status codes; 'service saw' counts the customer service's 401s during the bad-token checks)"
declare -A BAD
for v in tampered none expired future issuer audience; do
    BAD[$v]=$(node "$HERE/mint-token.mjs" "$KEYS_DIR" "$v")
done
BAD[garbage]=not.a.jwt
for target in direct:$SVC_ADDR gateway:$GW_ADDR haproxy:$HAP_ADDR; do
    name=${target%%:*} addr=${target#*:}
    c=$(code_of "$addr" "$TOKEN")
    line="valid=$c"
    [[ $c == 200 ]] || fail "$name: the valid token got $c: $(head -c 300 "$TMP/body")"
    [[ $name == direct ]] && {
        say "  $(printf '%-8s' "$name") $line"
        continue
    }
    before=$(svc_401s)
    c=$(code_of "$addr")
    line+=" no-bearer=$c"
    [[ $c == 401 ]] || fail "$name: no bearer got $c"
    for v in tampered none expired future issuer audience garbage; do
        c=$(code_of "$addr" "${BAD[$v]}")
        line+=" $v=$c"
        [[ $c == 401 ]] || fail "$name: the $v token got $c"
        [[ $name == haproxy && $c == 401 ]] && ! grep -q 'rejected by haproxy' "$TMP/body" &&
            fail "$name: the $v token's 401 did not come from haproxy"
    done
    after=$(svc_401s)
    line+="  service saw $((after - before))"
    ((after == before)) || fail "$name: $((after - before)) bad tokens reached the service"
    say "  $(printf '%-8s' "$name") $line"
done
((${#FAILURES[@]} == 0)) || die "sanity checks failed; not benchmarking"

# ---------------------------------------------------------------------------------------------
# wrk runs
# ---------------------------------------------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { # utime+stime of PID in clock ticks (empty when the pid is unknown)
    [[ -n ${1:-} && -r /proc/$1/stat ]] || return 0
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
busy_ticks() { # all CPUs' non-idle time in clock ticks (user nice system irq softirq steal)
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}
child_ticks() { # CHILD_TICKS = CPU time of this shell's finished children (wrk), in clock ticks;
    # 'times' must run in this shell, not in a $(...) subshell, which has no finished children
    times >"$TMP/times"
    CHILD_TICKS=$(awk -v t="$CLK_TCK" 'NR == 2 {
        n = 0
        for (i = 1; i <= 2; i++) { split($i, a, /m|s/); n += a[1] * 60 + a[2] }
        printf "%.0f", n * t }' "$TMP/times")
}
cpu_pct() { # cpu_pct BEFORE AFTER SECONDS
    [[ -n $1 && -n $2 ]] || {
        echo -
        return
    }
    awk -v a="$1" -v b="$2" -v s="$3" -v t="$CLK_TCK" 'BEGIN { printf "%.0f", (b - a) / t / s * 100 }'
}
to_ms() { # wrk's 1.23us / 4.56ms / 1.01s / 1.50m -> milliseconds
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
        else printf "nan" }'
}

declare -A RPS P50 P99 PCPU SCPU OCPU
ROWS=()
NOISY=()
# bench KEY TARGET CONNS DURATION MODE: one warm-up and one measured wrk run; MODE is "one"
# (the same token every request) or "rotate" (the next of UNIQUE_TOKENS tokens every request)
bench() {
    local key=$1 target=$2 conns=$3 dur=$4 mode=$5 addr pid out t0 t1 p0 p1 s0 s1 b0 b1 w0 w1
    case $target in
    direct) addr=$SVC_ADDR pid= ;;
    gateway) addr=$GW_ADDR pid=$GW_PID ;;
    haproxy) addr=$HAP_ADDR pid=$HAP_PID ;;
    esac
    local args=(-t1 "-c$conns" --latency)
    if [[ $mode == rotate ]]; then
        args+=(-s "$HERE/rotate-tokens.lua" "http://$addr$ENDPOINT" -- "$TMP/tokens.txt")
    else
        args+=(-H "Authorization: Bearer $TOKEN" "http://$addr$ENDPOINT")
    fi
    wrk "-d$WARMUP" "${args[@]}" >"$TMP/wrk-$key.warmup.txt" 2>&1 || true
    out=$TMP/wrk-$key.txt
    child_ticks
    w0=$CHILD_TICKS b0=$(busy_ticks)
    p0=$(cpu_ticks "$pid") s0=$(cpu_ticks "$SVC_PID") t0=$(date +%s.%N)
    wrk "-d$dur" "${args[@]}" >"$out" 2>&1 || fail "$key: wrk exited with an error: $(tail -n 3 "$out")"
    t1=$(date +%s.%N) p1=$(cpu_ticks "$pid") s1=$(cpu_ticks "$SVC_PID")
    b1=$(busy_ticks)
    child_ticks
    w1=$CHILD_TICKS
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    RPS[$key]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    P50[$key]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    P99[$key]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    PCPU[$key]=$(cpu_pct "$p0" "$p1" "$secs")
    SCPU[$key]=$(cpu_pct "$s0" "$s1" "$secs")
    # everything else on the machine: all busy time minus wrk, the proxy and the service
    OCPU[$key]=$(awk -v b="$((b1 - b0))" -v w="$((w1 - w0))" -v p="$(((${p1:-0}) - (${p0:-0})))" \
        -v s="$(((${s1:-0}) - (${s0:-0})))" -v sec="$secs" -v t="$CLK_TCK" \
        'BEGIN { o = (b - w - p - s) / t / sec * 100; printf "%.0f", (o < 0 ? 0 : o) }')
    ROWS+=("$key")
    local bad
    bad=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$out")
    [[ -z $bad ]] || fail "$key: $bad non-2xx/3xx responses"
    bad=$(grep -m 1 'Socket errors' "$out" || true)
    [[ -z $bad ]] || fail "$key: ${bad#"${bad%%[![:space:]]*}"}"
    [[ -n ${RPS[$key]} && ${RPS[$key]} != 0 ]] || fail "$key: no requests/sec in the wrk output"
    say "  $(printf '%-28s' "$key") $(printf '%8s req/s  p50 %s ms  p99 %s ms' "${RPS[$key]:-?}" "${P50[$key]}" "${P99[$key]}")"
}

say ""
if [[ ${NEW_TOKENS_ONLY:-0} != 1 ]]; then
    say "== runs (same token every request; the gateway's and the service's verified-token caches hit)"
    for t in direct gateway haproxy; do bench "$t c$CONNS" "$t" "$CONNS" "$DURATION" one; done
    for t in direct gateway haproxy; do bench "$t c1" "$t" 1 "$LAT_DURATION" one; done
fi
if ((UNIQUE_TOKENS > 0)); then
    say ""
    say "== runs (every request a different token, $UNIQUE_TOKENS round robin: a full ES256 check everywhere)"
    node "$HERE/mint-token.mjs" "$KEYS_DIR" valid "$UNIQUE_TOKENS" >"$TMP/tokens.txt"
    for t in direct gateway haproxy; do bench "$t c$CONNS new-token" "$t" "$CONNS" "$DURATION" rotate; done
fi

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

say ""
say "== results ($(nproc) cores; load after the runs $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-28s %5s %9s %8s %8s %10s %9s %10s\n' target conns "req/s" "p50 ms" "p99 ms" "proxy cpu" "svc cpu" "other cpu"
for key in "${ROWS[@]}"; do
    conns=${key#* c}
    conns=${conns%% *}
    pc=${PCPU[$key]}
    [[ $pc == - ]] || pc+=%
    sc=${SCPU[$key]}
    [[ $sc == - ]] || sc+=%
    printf '%-28s %5s %9s %8s %8s %10s %9s %10s\n' "$key" "$conns" "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" "$pc" "$sc" "${OCPU[$key]}%"
    ((${OCPU[$key]} <= 15)) || NOISY+=("$key")
done

if ((${#NOISY[@]})); then
    say "WARNING: other processes used more than 15% CPU during: ${NOISY[*]} (the machine was not quiet; figures disturbed)"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

G=gateway H=haproxy D=direct
rps_ratio=$(ratio "${RPS[$G c$CONNS]:-0}" "${RPS[$H c$CONNS]:-0}")
add_c1=$(diff_ms "${P50[$G c1]:-0}" "${P50[$D c1]:-0}")
row() { printf '%-40s : %s\n' "$1" "$2"; }
say ""
say "== ratios"
row "gateway/haproxy req/s  (c$CONNS)" "$rps_ratio"
row "gateway/direct  req/s  (c$CONNS)" "$(ratio "${RPS[$G c$CONNS]:-0}" "${RPS[$D c$CONNS]:-0}")"
row "haproxy/direct  req/s  (c$CONNS)" "$(ratio "${RPS[$H c$CONNS]:-0}" "${RPS[$D c$CONNS]:-0}")"
row "gateway p50 - direct p50 (c1)" "$add_c1 ms"
row "haproxy p50 - direct p50 (c1)" "$(diff_ms "${P50[$H c1]:-0}" "${P50[$D c1]:-0}") ms"
row "gateway p50 - direct p50 (c$CONNS)" "$(diff_ms "${P50[$G c$CONNS]:-0}" "${P50[$D c$CONNS]:-0}") ms (includes queueing)"
if ((UNIQUE_TOKENS > 0)); then
    row "gateway/haproxy req/s  (c$CONNS, new tokens)" "$(ratio "${RPS[$G c$CONNS new-token]:-0}" "${RPS[$H c$CONNS new-token]:-0}")"
fi

say ""
say "== aims"
aim1=$(awk -v r="$rps_ratio" 'BEGIN { print (r >= 1.0) ? "MET" : "NOT MET" }')
aim2=$(awk -v d="$add_c1" 'BEGIN { print (d <= 0.2) ? "MET" : "NOT MET" }')
row "gateway req/s >= haproxy req/s (c$CONNS)" "$aim1 (ratio $rps_ratio)"
row "gateway adds <= 0.2 ms p50 over direct (c1)" "$aim2 (adds $add_c1 ms)"
if ((UNIQUE_TOKENS > 0)); then
    new_ratio=$(ratio "${RPS[$G c$CONNS new-token]:-0}" "${RPS[$H c$CONNS new-token]:-0}")
    aim3=$(awk -v r="$new_ratio" 'BEGIN { print (r >= 1.5) ? "MET" : "NOT MET" }')
    row "gateway req/s >= 1.5 x haproxy (new tokens)" "$aim3 (ratio $new_ratio)"
fi

say ""
say "== bench gateway"
if [[ -s $TMP/access.log ]]; then
    say "access log statuses: $(grep -o '"status":[0-9]*' "$TMP/access.log" | sort | uniq -c | awk '{ printf "%s%s x%s", sep, substr($2, 10), $1; sep = ", " }')"
    n=$(grep -c -v '"status":\(200\|401\)' "$TMP/access.log" || true)
    ((n == 0)) || fail "the bench gateway's access log has $n answers other than 200/401"
fi
# without PROXY_SECRET the gateway says once that the services will not believe it: expected
[[ -n $PROXY_SECRET ]] || sed -i "/config key 'proxy_secret_file' is not set/d" "$TMP/gateway.log"
n=$(grep -c '"level":"\(warn\|error\)"' "$TMP/gateway.log" || true)
say "gateway log: $n warn/error lines"
((n == 0)) || {
    grep '"level":"\(warn\|error\)"' "$TMP/gateway.log" | sed 's/.*"msg"://' | sort | uniq -c | sort -rn | sed -n 1,5p
    fail "the bench gateway logged $n warnings/errors"
}
kill -0 "$GW_PID" 2>/dev/null || fail "the bench gateway died during the run"
now_pid=$(ss -ltnpH "sport = :${SVC_ADDR##*:}" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)
[[ $now_pid == "$SVC_PID" ]] || fail "the customer service was restarted during the run (pid ${SVC_PID:-?} -> ${now_pid:-none}): someone restarted the dev stack"
kill -0 "$HAP_PID" 2>/dev/null || fail "haproxy died during the run"

if ((${#FAILURES[@]})); then
    say ""
    say "RUN FAILED (${#FAILURES[@]}):"
    printf '  %s\n' "${FAILURES[@]}"
    exit 1
fi
say ""
say "run ok"
