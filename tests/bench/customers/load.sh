#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/customers/load.sh N — replace the customers, contacts, follow-ups and keyword
# index of the bench stack's customer service by N generated customers (gen.c), with LOAD DATA
# LOCAL INFILE of the generator's files, and print how long each step and table took.
# Called by run.sh (which sets CRM_BENCH_STATE and CRM_BENCH_SOCK and builds the generator).
#
# The rows are written straight into crm_customer, as root: no events go through the outbox
# (the audit and the other services never hear of the generated customers), and the demo's own
# customers are gone. The stack is the bench's own: nothing else reads it.
set -euo pipefail

N=${1:?usage: load.sh N}
STATE=${CRM_BENCH_STATE:?}
SOCK=${CRM_BENCH_SOCK:?}
REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd)
GEN=${GEN:-$REPO/build/bench-customers-gen}
DIR=$STATE/gen
sql() { mariadb --no-defaults --socket="$SOCK" -uroot -N -B --local-infile=1 crm_customer "$@"; }
now_ms() { date +%s%3N; }

[[ -x $GEN ]] || { echo "load.sh: no generator $GEN (run.sh up builds it)" >&2; exit 1; }
[[ -s $STATE/bench_managers.tsv ]] || { echo "load.sh: no $STATE/bench_managers.tsv (run.sh up)" >&2; exit 1; }
admin=$(mariadb --no-defaults --socket="$SOCK" -uroot -N -B crm_auth -e "SELECT id FROM users WHERE username = 'admin'")

rm -rf "$DIR" && mkdir -p "$DIR"
t0=$(now_ms)
"$GEN" "$N" "$DIR" "$admin" <"$STATE/bench_managers.tsv"
t1=$(now_ms)
printf 'generated %s customers in %.1f s: %s\n' "$N" "$(((t1 - t0)))e-3" \
    "$(awk -F'\t' '/^(contacts|followups|followup_contacts|grams)\t/ { printf "%s%s %s", sep, $2, $1; sep = ", " }' "$DIR/meta.tsv")"

# the redo log is flushed once a second during the load (not at every commit), as for any bulk
# load; put back afterwards
old_flush=$(sql -e 'SELECT @@innodb_flush_log_at_trx_commit')
trap 'sql -e "SET GLOBAL innodb_flush_log_at_trx_commit = $old_flush" || true' EXIT
sql -e 'SET GLOBAL innodb_flush_log_at_trx_commit = 2'
sql -e 'TRUNCATE customer_search; TRUNCATE followup_contacts; TRUNCATE followups; TRUNCATE contacts;
        TRUNCATE customers'

# load TABLE COLUMNS: one LOAD DATA of $DIR/TABLE.tsv, timed
load() {
    local table=$1 cols=$2 a b
    a=$(now_ms)
    sql -e "SET unique_checks = 0, foreign_key_checks = 0;
            LOAD DATA LOCAL INFILE '$DIR/$table.tsv' INTO TABLE $table CHARACTER SET utf8mb4
            FIELDS TERMINATED BY '\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\n' ($cols)"
    b=$(now_ms)
    printf '  %-18s %10s rows  %6.1f s\n' "$table" "$(sql -e "SELECT COUNT(*) FROM $table")" "$(((b - a)))e-3"
}
echo "loading (LOAD DATA LOCAL INFILE):"
tl=$(now_ms)
load customers 'id, name, name_search, name_norm, credit_code, industry, source, level, province, city,
    district, address, telephone, telephone_digits, mobile, email, website, wechat, status, deal_status,
    deal_time, manager_id, owner_time, tags, notes, last_contact_at, last_contact_content,
    next_contact_at, followed_up, created_by, created_at, updated_at, version, deleted_at, deleted_by'
load customer_search 'gram, customer_id'
load contacts 'id, customer_id, name, name_search, gender, position, decision_maker, reports_to, mobile,
    telephone, telephone_digits, email, wechat, birth_year, birth_month, birth_day, address, notes,
    is_primary, created_by, created_at, updated_at, version'
load followups 'id, customer_id, contact_at, method, content, next_contact_at, author_id, created_at,
    updated_at, version'
load followup_contacts 'followup_id, contact_id'
ta=$(now_ms)
sql -e 'ANALYZE TABLE customers, customer_search, contacts, followups, followup_contacts' >/dev/null
te=$(now_ms)
printf '  %-18s %23.1f s\n' "ANALYZE TABLE" "$(((te - ta)))e-3"
printf 'loaded in %.1f s (generation included: %.1f s); on disk:\n' "$(((te - tl)))e-3" "$(((te - t0)))e-3"
sql -e "SELECT CONCAT('  ', table_name, ' ', ROUND((data_length + index_length) / 1048576), ' MB')
        FROM information_schema.tables WHERE table_schema = 'crm_customer'
        AND table_name IN ('customers', 'customer_search', 'contacts', 'followups', 'followup_contacts')"
cp "$DIR/meta.tsv" "$STATE/bench_meta.tsv"
rm -rf "$DIR"
