#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/customers/run.sh — the customer list and search at 10,000 and at 1,000,000
# generated customers (3 contacts and 5 follow-ups each on average), and GET /api/v1/customers/{id}
# through the gateway at full load beside sysbench oltp_point_select on the same MariaDB.
# See README.md beside it.
#
#   tests/bench/customers/run.sh           the whole run: its own stack up, 10k, 1M, stack down
#   tests/bench/customers/run.sh up        only start (and keep) the bench stack, with its users
#   tests/bench/customers/run.sh gen N     load N generated customers into the running bench stack
#   tests/bench/customers/run.sh measure   measure the running bench stack at the size it has
#   tests/bench/customers/run.sh down      stop the bench stack
#
# The stack is the bench's own (deploy/crm's functions, sourced): .run/bench/, the release build
# in build/ (RelWithDebInfo, as deploy/crm up), every port shifted by CRM_BENCH_PORT_OFFSET, the
# services configured as the dev stack is, but with the gateway's rate limit off (the bench's
# load comes from one address) and MariaDB's buffer pool raised to BUFFER_POOL_MB online (the
# stack's 256 MB is a laptop's default; a million customers with their contacts, follow-ups and
# keyword index are ~3 GB on disk).
#
# Environment:
#   CRM_BENCH_PORT_OFFSET=6000  added to every port (gateway 14080, customer 13102, MariaDB 9307)
#   SIZES="10000 1000000"       the sizes measured, in this order
#   BUFFER_POOL_MB=3072         MariaDB's buffer pool during the run
#   REPEAT=100 WARMUP=10        measured and discarded requests per case (one at a time)
#   WRK_DURATION=15 WRK_CONNS=16 WRK_THREADS=2  the GET-by-id load; sysbench: WRK_CONNS threads, the same time
#   KEEP_STACK=1                leave the stack running at the end (run.sh down stops it)
#   DEADLINE_S=3600             the whole run stops after this many seconds (exit 1)
#
# Exit status 1 when a step failed or a request of a measured case did not answer 200: its
# figures are not to be quoted. The aims are printed MET / NOT MET, not enforced.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
readonly HERE

bdie() {
    printf 'customers bench: ERROR: %s\n' "$*" >&2
    exit 1
}

for v in CRM_BENCH_PORT_OFFSET BUFFER_POOL_MB REPEAT WARMUP WRK_DURATION WRK_CONNS WRK_THREADS \
    DEADLINE_S; do
    [[ -z ${!v:-} || ${!v} =~ ^[0-9]+$ ]] || bdie "$v='${!v}' is not a whole number"
done
DEADLINE_S=${DEADLINE_S:-3600}
if [[ -z ${CUSTOMERS_BENCH_TIMED:-} ]]; then
    CUSTOMERS_BENCH_TIMED=1 exec timeout -k 30 "$DEADLINE_S" "$0" "$@"
fi

# deploy/crm defines its functions only when sourced; they work on the stack stack_init selects
# shellcheck source=../../../deploy/crm
source "$REPO/deploy/crm"
cd "$REPO"
set -euo pipefail

OFFSET=${CRM_BENCH_PORT_OFFSET:-6000}
BUFFER_POOL_MB=${BUFFER_POOL_MB:-3072}
SIZES=${SIZES:-10000 1000000}
stack_init "$REPO/.run/bench" "$OFFSET" "$REPO/build" dev
BASE=http://127.0.0.1:$GW_PORT
export CRM_BENCH_STATE=$STATE CRM_BENCH_GATEWAY=$BASE CRM_BENCH_SOCK=$MYSQL_SOCK
GEN=$REPO/build/bench-customers-gen

# The bench stack's gateway has no rate limit: every request of the bench comes from 127.0.0.1.
eval "deploy_write_configs() $(declare -f write_configs | tail -n +2)"
write_configs() {
    deploy_write_configs
    sed -i 's/^rate_limit_rps = .*/rate_limit_rps = 0/' "$STATE/etc/gateway.conf"
}

sql() { mariadb --no-defaults --socket="$MYSQL_SOCK" -uroot -N -B "$@"; }

# bench_up: build (release), start the stack, demo accounts, the bench's managers.
bench_up() {
    lock bench
    check_http_ports
    make_dirs
    build_c "$REPO/build" "$STATE/log/build.log" -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$REPO/services/customer" -I"$REPO/shared" -o "$GEN" "$HERE/gen.c" \
        "$REPO/services/customer/rules.c" "$REPO/shared/util.c" -lcrypto -lm || bdie "the generator does not build"
    stack_up
    [[ -s $STATE/credentials ]] || "$REPO/deploy/demo/load" "$STATE" "$BASE" >/dev/null
    sql -e "SET GLOBAL innodb_buffer_pool_size = $((BUFFER_POOL_MB * 1048576))"
    # statements over 5 ms go to the slow log while bench.mjs measures (it switches the log on
    # and off); the threshold is copied into a connection when it opens: restart the service
    sql -e "SET GLOBAL long_query_time = 0.005, log_slow_verbosity = 'query_plan,explain'"
    sctl restart customer >/dev/null
    wait_healthy 60 customer
    node "$HERE/users.mjs" >"$STATE/bench_managers.tsv"
}

bench_gen() {
    local n=$1
    [[ $n =~ ^[1-9][0-9]*$ ]] || bdie "gen: '$n' is not a number of customers"
    "$HERE/load.sh" "$n"
}

bench_measure() {
    node "$HERE/bench.mjs"
}

case ${1:-all} in
up) bench_up ;;
gen) bench_gen "${2:-1000000}" ;;
measure) bench_measure ;;
down)
    stack_down
    ;;
all)
    trap '[[ ${KEEP_STACK:-0} == 1 ]] || stack_down' EXIT
    trap 'exit 130' INT TERM
    echo "== customers bench  $(date -u +%FT%TZ)  repo $(git -C "$REPO" rev-parse --short HEAD)"
    echo "machine  : $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)), $(free -g | awk '/Mem:/ { print $2 }') GB RAM"
    bench_up
    rc=0
    for n in $SIZES; do
        bench_gen "$n"
        bench_measure || rc=1
    done
    exit "$rc"
    ;;
*) bdie "usage: run.sh [up | gen N | measure | down]" ;;
esac
