#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# How fast administrators' audit queries answer on the dev stack's audit log as it is (run the
# events benchmark first to grow it: each of its runs adds 60,000 entries per phase), and how
# long a whole-chain verification takes through the windowed /audit/verify.
# Straight to the audit service (127.0.0.1:7105), with an admin token from .run/credentials.
# Prints, for each query, the median and max of REPEAT calls (curl's time_total).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
readonly REPO
REPEAT=${REPEAT:-5}
AUDIT=${AUDIT:-http://127.0.0.1:7105}
GATEWAY=${GATEWAY:-http://127.0.0.1:8080}
MYSQL_SOCK=${MYSQL_SOCK:-$REPO/.run/mysql/mysqld.sock}

die() { echo "audit bench: $*" >&2; exit 1; }
[[ -r $REPO/.run/credentials ]] || die "no .run/credentials: run deploy/crm up first"
curl -fsS -o /dev/null "$AUDIT/healthz" || die "the audit service does not answer on $AUDIT"

pw=$(awk '$1 == "admin" { print $2 }' "$REPO/.run/credentials")
TOKEN=$(curl -fsS -X POST "$GATEWAY/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$pw\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
readonly TOKEN

rows=$(mariadb --no-defaults --socket="$MYSQL_SOCK" -uroot -N -B -e \
    'SELECT (SELECT COUNT(*) FROM crm_audit.audit_log), (SELECT COUNT(*) FROM crm_audit.login_log),
            (SELECT COUNT(*) FROM crm_audit.operation_log)' 2>/dev/null) ||
    die "cannot count the audit tables as root over $MYSQL_SOCK"
read -r n_audit n_login n_ops <<<"$rows"
echo "== audit queries  $(date -u +%FT%TZ)  repo $(git -C "$REPO" rev-parse --short HEAD)"
echo "machine  : $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "data     : audit_log $n_audit rows, login_log $n_login, operation_log $n_ops"
echo

# a request id and an actor that exist, for the selective filters
rid=$(curl -fsS "$AUDIT/api/v1/audit/logs?page_size=1&page=50" -H "authorization: Bearer $TOKEN" |
    python3 -c 'import json, sys; i = json.load(sys.stdin)["items"]; print(i[0]["request_id"] if i else "none")')
day=$(date -u -d '1 day ago' +%FT%TZ)
hour=$(date -u -d '1 hour ago' +%FT%TZ)

time_one() { # time_one LABEL PATH: REPEAT calls, median and max in ms, the total and items
    local label=$1 path=$2 times=() out status
    for ((i = 0; i < REPEAT; i++)); do
        out=$(curl -sS -o /tmp/crm-audit-bench.json -w '%{http_code} %{time_total}' "$AUDIT$path" \
            -H "authorization: Bearer $TOKEN")
        status=${out%% *}
        [[ $status == 200 ]] || die "$path answered $status: $(head -c 300 /tmp/crm-audit-bench.json)"
        times+=("${out##* }")
    done
    python3 - "$label" "${times[@]}" <<'EOF'
import json, statistics, sys
label, t = sys.argv[1], sorted(float(x) * 1000 for x in sys.argv[2:])
d = json.load(open('/tmp/crm-audit-bench.json'))
total = f"{d.get('total')}{'+' if d.get('total_capped') else ''}"
print(f"  {label:<44} p50 {statistics.median(t):8.1f} ms   max {t[-1]:8.1f} ms   total {total:>7}  items {len(d.get('items', []))}")
EOF
}

echo "lists (page_size 20 unless said; $REPEAT calls each):"
time_one "logs, no filter" "/api/v1/audit/logs"
time_one "logs, actor=1" "/api/v1/audit/logs?actor=1"
time_one "logs, event_type=user.updated" "/api/v1/audit/logs?event_type=user.updated"
time_one "logs, subject user/1" "/api/v1/audit/logs?subject_type=user&subject_id=1"
time_one "logs, request_id" "/api/v1/audit/logs?request_id=$rid"
time_one "logs, last hour" "/api/v1/audit/logs?from=$hour"
time_one "logs, last day, page 200 of 50" "/api/v1/audit/logs?from=$day&page=200&page_size=50"
time_one "history user/1" "/api/v1/audit/history/user/1"
time_one "logins, no filter" "/api/v1/audit/logins"
time_one "logins, username=admin" "/api/v1/audit/logins?username=admin"
time_one "operations, no filter" "/api/v1/audit/operations"
time_one "operations, path=/api/v1/dicts/, PATCH" "/api/v1/audit/operations?path=/api/v1/dicts/&method=PATCH"
echo

echo "chain verification, window after window (GET /audit/verify?after_id=...):"
python3 - "$AUDIT" "$TOKEN" <<'EOF'
import json, sys, time, urllib.request
base, token = sys.argv[1], sys.argv[2]
after, checked, windows, slowest = 0, 0, 0, 0.0
t0 = time.monotonic()
while True:
    req = urllib.request.Request(f"{base}/api/v1/audit/verify?after_id={after}",
                                 headers={"authorization": f"Bearer {token}"})
    t = time.monotonic()
    v = json.load(urllib.request.urlopen(req, timeout=60))
    slowest = max(slowest, time.monotonic() - t)
    windows += 1
    checked += v["checked"]
    if not v["ok"] or v["complete"]:
        break
    after = v["last_id"]
total = time.monotonic() - t0
print(f"  ok={v['ok']} checked {checked} entries in {windows} windows: {total:.1f} s"
      f" ({checked / total:,.0f} entries/s); slowest window {slowest * 1000:.0f} ms")
if not v["ok"]:
    print(f"  first bad entry: {v['first_bad']}")
EOF
