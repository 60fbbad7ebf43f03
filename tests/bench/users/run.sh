#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/users/run.sh — how fast GET /api/v1/users answers on 100,000 users: page 1, a deep
# page by ?page= and by cursor, filtered pages; straight to the auth service and through the
# gateway; p50/p95 of each, the aims, and the plans of the statements. See README.md beside it.
#
# It uses a running stack (it never starts or stops one): by default the dev stack's ports and
# .run/, or another stack through the environment:
#   CRM_PORT_OFFSET=0   added to the default ports (auth 7101, gateway 8080)
#   STATE=.run          the stack's directory: credentials (the admin line) and mysql/mysqld.sock
#   AUTH, GATEWAY       base URLs (default http://127.0.0.1:<port + offset>)
#   MYSQL_SOCK          MariaDB's socket (root by socket authentication) (default $STATE/mysql/...)
# and what it does:
#   USERS=100000        bench users bu_000001.. (inserted with SQL when not exactly that many)
#   REPEAT=200 WARMUP=20  measured and discarded requests per case
#   INTERVAL_MS=20      one request started at most every INTERVAL_MS (50/s: under the gateway's
#                       rate limit of 100/s, and a bounded load on a shared machine)
#   DEEP_PAGE=2000      the deep page
#   EXPLAIN=1           print the plans (EXPLAIN) and the database's time (ANALYZE) of each case
#   SYSBENCH=0          1: also sysbench oltp_point_select, 1 thread, 10 s, on a scratch schema
#                       (the database's own round trip, for context)
#   WAIT_QUIET=0        wait up to this many seconds for a quiet machine (< 30% of one core busy
#                       over 3 s) before measuring; it measures anyway when the time is up (the
#                       wait counts in DEADLINE_S)
#   DEADLINE_S=900      the whole run stops after this many seconds (exit 1)
#
# Leaves behind: the bench users (kept for the next run; see README.md to remove them) and the
# team departments 华东一组.. under the demo's sales departments.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
readonly HERE REPO

die() {
    printf 'users bench: ERROR: %s\n' "$*" >&2
    exit 1
}

for v in CRM_PORT_OFFSET USERS REPEAT WARMUP INTERVAL_MS DEEP_PAGE DEADLINE_S WAIT_QUIET; do
    [[ -z ${!v:-} || ${!v} =~ ^[0-9]+$ ]] || die "$v='${!v}' is not a whole number"
done

DEADLINE_S=${DEADLINE_S:-900}
# Bound the whole run: run again under timeout(1) once.
if [[ -z ${USERS_BENCH_TIMED:-} ]]; then
    USERS_BENCH_TIMED=1 exec timeout -k 10 "$DEADLINE_S" "$0" "$@"
fi
trap 'exit 130' INT TERM # so that an EXIT trap runs when timeout(1) or Ctrl-C ends the run

OFF=${CRM_PORT_OFFSET:-0}
STATE=${STATE:-$REPO/.run}
AUTH=${AUTH:-http://127.0.0.1:$((7101 + OFF))}
GATEWAY=${GATEWAY:-http://127.0.0.1:$((8080 + OFF))}
MYSQL_SOCK=${MYSQL_SOCK:-$STATE/mysql/mysqld.sock}
SYSBENCH=${SYSBENCH:-0}

for c in node curl mariadb; do command -v "$c" >/dev/null || die "'$c' is needed"; done
curl -fsS -o /dev/null --max-time 2 "$AUTH/healthz" ||
    die "the auth service does not answer on $AUTH (start a stack: see README.md)"
curl -fsS -o /dev/null --max-time 2 "$GATEWAY/healthz" || die "the gateway does not answer on $GATEWAY"
[[ -r $STATE/credentials ]] || die "no $STATE/credentials (deploy/demo/load writes it)"
mariadb --no-defaults --socket="$MYSQL_SOCK" -uroot -e 'SELECT 1' crm_auth >/dev/null 2>&1 ||
    die "cannot reach crm_auth as root over $MYSQL_SOCK"

echo "== users list  $(date -u +%FT%TZ)  repo $(git -C "$REPO" rev-parse --short HEAD)" \
    "$( [[ -n $(git -C "$REPO" status --porcelain -- shared services) ]] && echo '(C sources changed)')"
echo "stack    : auth $AUTH, gateway $GATEWAY, MariaDB $(mariadb --no-defaults --socket="$MYSQL_SOCK" -uroot -N -B \
    -e 'SELECT VERSION(), @@innodb_buffer_pool_size DIV 1048576' | awk '{ print $1 ", buffer pool " $2 " MB" }')"

export AUTH GATEWAY STATE MYSQL_SOCK WAIT_QUIET
export DEADLINE_MS=$(((DEADLINE_S - SECONDS - 60) * 1000)) # leave time for sysbench and the exit
rc=0
node "$HERE/bench.mjs" || rc=$?

if [[ $SYSBENCH == 1 ]]; then
    echo
    if ! command -v sysbench >/dev/null; then
        echo "sysbench: not installed (apt-get install sysbench); skipped"
    else
        # a scratch schema, dropped again; root by socket authentication like the rest
        db=bench_sysbench
        sb=(sysbench oltp_point_select --db-driver=mysql --mysql-socket="$MYSQL_SOCK" --mysql-user=root
            --mysql-db="$db" --tables=1 --table-size=100000)
        mariadb --no-defaults --socket="$MYSQL_SOCK" -uroot -e "CREATE DATABASE IF NOT EXISTS $db"
        trap 'mariadb --no-defaults --socket="$MYSQL_SOCK" -uroot -e "DROP DATABASE IF EXISTS $db" || true' EXIT
        "${sb[@]}" prepare >/dev/null
        out=$("${sb[@]}" --threads=1 --time=10 --percentile=95 run)
        echo "sysbench oltp_point_select, 1 thread, 10 s, 100,000 rows (primary-key SELECT over the socket):"
        awk '/queries:/ { gsub(/[()]/, ""); print "  " $3 " queries/s" }
             /avg:|95th percentile:/ { sub(/^ +/, ""); print "  latency " $0 " ms" }' <<<"$out"
    fi
fi
exit "$rc"
