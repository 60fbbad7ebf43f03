#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/transfer_care/run.sh — the transfer and care figures of issues 13 and 14 on the
# generated customers of tests/bench/customers (its stack, its generator, its managers):
#   - transfer: request to "the new owner reads the customer through the gateway", p50/p99 over
#     TRANSFERS single transfers; a hand-over of the 30,000-customer manager: customers a second
#     at the transfer service and until the customer service applied every one;
#   - care: the birthday scan of one day over the generated contacts (3 per customer), its time
#     and the care service's peak memory; the workbench's numbers (GET /api/v1/care/summary and
#     GET /api/v1/customers/todos) for the 30,000-customer manager, p50/p95.
#
#   tests/bench/transfer_care/run.sh          the whole run: the stack up, N customers, measure, down
#   N=1000000 KEEP_STACK=1 ...                 size (default 1,000,000); leave the stack running
#   PARTS="workbench scan" ...                 only these parts of measure.mjs (default: all four;
#                                              transfers and handover move bm_001's customers away)
#   REUSE=1 ...                                the stack a KEEP_STACK=1 run left, loaded and not
#                                              changed since (PARTS without transfers and handover):
#                                              rebuild, restart the services (their new migrations
#                                              apply), reload the views, measure; no new load
#
# The generated rows bypass the outbox (see ../customers/load.sh): the transfer and care
# services' views (customer_owners, care_contacts) are loaded here from the customer service's
# tables, as their consumers would have made them. See README.md beside it.
set -euo pipefail
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
CUST=$REPO/tests/bench/customers/run.sh
N=${N:-1000000}
OFFSET=${CRM_BENCH_PORT_OFFSET:-6000}
STATE=$REPO/.run/bench
export CRM_BENCH_STATE=$STATE CRM_BENCH_GATEWAY=http://127.0.0.1:$((8080 + OFFSET))
export CRM_BENCH_SOCK=$STATE/mysql/mysqld.sock
export CRM_BENCH_SUPERVISOR_CONF=$STATE/supervisord.conf

sql() { mariadb --no-defaults --socket="$CRM_BENCH_SOCK" -uroot -N -B "$@"; }
now_ms() { date +%s%3N; }

[[ ${KEEP_STACK:-0} == 1 ]] || trap '"$CUST" down >/dev/null 2>&1 || true' EXIT
echo "== transfer and care bench  $(date -u +%FT%TZ)  repo $(git -C "$REPO" rev-parse --short HEAD)"
echo "machine  : $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)), $(free -g | awk '/Mem:/ { print $2 }') GB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ ${REUSE:-0} == 1 ]]; then
    supervisorctl -c "$CRM_BENCH_SUPERVISOR_CONF" pid >/dev/null 2>&1 || { echo "REUSE=1: no bench stack running" >&2; exit 1; }
    cmake --build "$REPO/build" -j2 >"$STATE/log/build.log" 2>&1 || { tail -n 40 "$STATE/log/build.log" >&2; exit 1; }
    # (a program in BACKOFF makes restart fail: the readiness below is what counts)
    supervisorctl -c "$CRM_BENCH_SUPERVISOR_CONF" restart customer transfer care >/dev/null || true
    for port in $((7102 + OFFSET)) $((7103 + OFFSET)) $((7104 + OFFSET)); do
        # a new migration runs before the service answers (an index over the loaded million)
        for i in $(seq 1500); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
        ((i < 1500)) || { echo "REUSE=1: port $port not ready after 5 minutes (see .run/bench/log/)" >&2; exit 1; }
    done
    echo "reused   : the running stack, rebuilt and restarted, $(sql -e 'SELECT COUNT(*) FROM crm_customer.customers') customers"
else
    "$CUST" up
    "$CUST" gen "$N"
fi
t0=$(now_ms)
sql -e "
  TRUNCATE crm_transfer.customer_owners; TRUNCATE crm_care.customer_owners;
  TRUNCATE crm_care.care_contacts; TRUNCATE crm_care.care_tasks; TRUNCATE crm_care.care_scan_days;
  INSERT INTO crm_transfer.customer_owners (customer_id, name, manager_id, industry, source, level,
         status, province, city, version)
    SELECT id, name, manager_id, industry, source, level, status, province, city, version
    FROM crm_customer.customers WHERE deleted_at IS NULL;
  INSERT INTO crm_care.customer_owners SELECT * FROM crm_transfer.customer_owners;
  INSERT INTO crm_care.care_contacts (contact_id, customer_id, manager_id, name, decision_maker,
         birth_month, birth_day, birth_year, version)
    SELECT k.id, k.customer_id, c.manager_id, k.name, k.decision_maker, k.birth_month, k.birth_day,
           k.birth_year, k.version
    FROM crm_customer.contacts k JOIN crm_customer.customers c ON c.id = k.customer_id;"
echo "views    : customer_owners (transfer, care) and care_contacts loaded in $(( $(now_ms) - t0 )) ms:" \
    "$(sql -e 'SELECT COUNT(*) FROM crm_transfer.customer_owners') customers," \
    "$(sql -e 'SELECT COUNT(*) FROM crm_care.care_contacts') contacts"
node "$HERE/measure.mjs"
