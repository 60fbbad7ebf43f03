#!/usr/bin/env bash
# tests/bench/events/run.sh — the event backbone under a steady 1,000 events/s: commit-to-audit
# latency p50/p95/p99/max and the audit consumer's lag. See README.md beside this file.
#
# Two phases, each RATE events/s for DURATION s, one after the other (details in bench.mjs):
#   outbox  rows INSERTed straight into crm_auth.outbox (root over the dev stack's socket); the
#           auth service's own relay publishes them to crm:stream:auth; the audit service records
#           them. Isolates relay -> Redis -> consumer from the HTTP API, but nothing wakes the relay:
#           it finds these rows on its 1 s idle poll, which then dominates the latency.
#   http    PATCH /api/v1/dicts/bench_events/items/{id} straight to the auth service (7101): the
#           real path of a business write (commit wakes the relay); needs the service to keep up.
# Events: type dict.item_updated, data {dict, value, changes}, request_id bench-<run>-<o|h><n>.
#
# Environment:
#   MODES=outbox,http  phases to run, in order
#   RATE=1000          events/s of the outbox phase (and of the http phase unless HTTP_RATE is set)
#   HTTP_RATE=RATE     requests/s of the http phase (open loop); "max": closed loop, each connection
#                      sends its next request when the last is answered (the service's capacity)
#   DURATION=60        seconds of load per phase
#   DRAIN_S=120        after the load, wait up to this long for every event to reach the audit log
#   TX_ROWS=1          outbox rows per INSERT transaction in the outbox phase
#   CONNS=16           keep-alive connections of the http phase (the service has 4 workers, queue 256)
#   ITEMS=64           dictionary items the http phase cycles through (each patched by one request
#                      at a time, so versions never conflict)
#   SETTLE_S=60        wait up to this long for an idle backbone (outbox, lag, pending all 0) first
#   WAIT_QUIET=0       wait up to this many seconds for the machine to be quiet (< 30% of one core
#                      busy over 3 s) before measuring; it measures anyway when the time is up
#   RESULT_JSON=path   also write the figures and the 500 ms samples there
#
# Leaves behind (append-only by design, nothing can be deleted): one crm_audit.audit_log row per
# event, the outbox rows in crm_auth.outbox, the entries in crm:stream:auth (trimmed by the relay
# like any others), the dictionary bench_events with its items bench_001..bench_NNN (disabled;
# versions and label_en changed by every run), and an admin login per run.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
readonly HERE REPO
readonly AUTH_ADDR=127.0.0.1:7101 AUDIT_ADDR=127.0.0.1:7105 REDIS_PORT=6380
SUPERVISORCTL=(supervisorctl -c "$REPO/.run/supervisord.conf")

say() { printf '%s\n' "$*"; }
die() {
    printf 'bench: ERROR: %s\n' "$*" >&2
    exit 1
}

[[ ${HTTP_RATE:-} == max ]] || [[ -z ${HTTP_RATE:-} || $HTTP_RATE =~ ^[0-9]+([.][0-9]+)?$ ]] || die "HTTP_RATE='$HTTP_RATE' is not a number nor 'max'"
for v in RATE DURATION DRAIN_S TX_ROWS CONNS ITEMS SETTLE_S WAIT_QUIET; do
    [[ -z ${!v:-} || ${!v} =~ ^[0-9]+([.][0-9]+)?$ ]] || die "$v='${!v}' is not a number"
done

# ---------------------------------------------------------------------------------------------
# Prerequisites: node, the mariadb client, the dev stack

for c in node curl mariadb supervisorctl; do command -v "$c" >/dev/null || die "'$c' is needed (deploy/crm up installs it)"; done
node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' || die "node 18 or later is needed"

if ! curl -fsS -o /dev/null --max-time 2 "http://$AUTH_ADDR/healthz" ||
    ! curl -fsS -o /dev/null --max-time 2 "http://$AUDIT_ADDR/healthz"; then
    say "the auth or audit service does not answer: starting the dev stack (deploy/crm up)"
    "$REPO/deploy/crm" up
fi
for a in $AUTH_ADDR $AUDIT_ADDR; do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$a/readyz") == 200 ]] || die "$a is not ready (/readyz)"
done
[[ -r $REPO/.run/credentials ]] || die "no $REPO/.run/credentials (deploy/crm up writes it)"

# The MariaDB socket, found as deploy/crm places it (under /tmp for deep checkouts).
MYSQL_SOCK=$REPO/.run/mysql/mysqld.sock
if ((${#MYSQL_SOCK} > 100)); then
    MYSQL_SOCK=/tmp/crm-$(printf '%s' "$REPO/.run" | sha256sum | cut -c1-12)/mysqld.sock
fi
readonly MYSQL_SOCK
mariadb --no-defaults --socket="$MYSQL_SOCK" -uroot -N -B -e 'SELECT 1 FROM crm_auth.outbox LIMIT 1; SELECT 1 FROM crm_audit.audit_log LIMIT 1' >/dev/null 2>&1 ||
    die "cannot read crm_auth.outbox and crm_audit.audit_log as root over $MYSQL_SOCK"


# One run at a time (two would measure each other).
exec 9>/tmp/crm-bench-events.lock
flock -n 9 || die "another run of this benchmark holds /tmp/crm-bench-events.lock"

# ---------------------------------------------------------------------------------------------
# A quiet machine (other benchmarks or builds running at the same time distort the figures)

busy_pct() { # busy_pct SECONDS: % of one core busy over SECONDS
    local a b
    a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat)
    sleep "$1"
    b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat)
    awk -v a="$a" -v b="$b" -v s="$1" -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", (b - a) / t / s * 100 }'
}
QUIET_WAIT=${WAIT_QUIET:-0}
idle_start=$SECONDS
while :; do
    BUSY=$(busy_pct 3)
    ((BUSY < 30 || SECONDS - idle_start >= ${QUIET_WAIT%.*})) && break
    say "machine busy ($BUSY% of one core): waiting for it to calm down ($((${QUIET_WAIT%.*} - (SECONDS - idle_start))) s left)"
done

# The dev stack's pids, read after the wait (a restart during it would leave stale ones).
pid_of() { # the pid supervisord reports for a program of the dev stack
    local p
    p=$("${SUPERVISORCTL[@]}" pid "$1" 2>/dev/null || true)
    [[ $p =~ ^[1-9][0-9]*$ && -r /proc/$p/stat ]] && echo "$p"
}
PIDS=
for p in auth audit mariadb redis gateway customer transfer care; do
    pid=$(pid_of "$p") || die "supervisorctl does not report a running $p"
    PIDS+="$p=$pid,"
done
readonly PIDS

binfo() { # binfo PROGRAM: the binary a running program executes, and when it was built
    local pid exe
    pid=$(pid_of "$1") || return 0
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null || echo '?')
    if [[ $exe == *' (deleted)' ]]; then
        echo "pid $pid, ${exe% (deleted)} (rebuilt on disk since it started: the running binary is older)"
    else
        echo "pid $pid, $exe built $(date -u -r "$exe" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo '?')"
    fi
}
say "== event backbone benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "machine  : $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr)"
say "load     : $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min), $BUSY% of one core busy over the 3 s before the run"
say "repo     : $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD -- shared services/auth services/audit 2>/dev/null || echo ' (shared/, services/auth or services/audit modified in the work tree)')"
say "auth     : $(binfo auth)"
say "audit    : $(binfo audit)"
say "mariadb  : $(mariadb --no-defaults --socket="$MYSQL_SOCK" -uroot -N -B -e "SELECT CONCAT(VERSION(), ', innodb_flush_log_at_trx_commit=', @@innodb_flush_log_at_trx_commit)")"
say "client   : node $(node --version); MODES=${MODES:-outbox,http} RATE=${RATE:-1000} HTTP_RATE=${HTTP_RATE:-${RATE:-1000}} DURATION=${DURATION:-60} TX_ROWS=${TX_ROWS:-1} CONNS=${CONNS:-16}"

export REPO MYSQL_SOCK PIDS AUTH_ADDR AUDIT_ADDR REDIS_PORT
# node is the only process this script starts (it starts and ends its own mariadb clients);
# Ctrl-C reaches it through the terminal's process group.
node "$HERE/bench.mjs"
