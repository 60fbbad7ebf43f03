#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Search spike (issue 12): time LIKE, Mroonga and an InnoDB bigram table on spike_search (see
# README.md); run from the repository root against the dev stack: python3 tests/bench/search-spike/queries.py 7
import subprocess, statistics, sys
M = ["mariadb","--no-defaults","--socket=.run/mysql/mysqld.sock","-uroot","spike_search","-N","-B"]
def grams(k): return [k[i:i+2] for i in range(len(k)-1)]
def ngram_sql(k, extra="", order="c.id DESC", limit=20, count=False):
    gs = grams(k)
    # the rarest gram drives; the others checked by EXISTS; the exact substring checked on the row
    joins = " ".join(f"AND EXISTS (SELECT 1 FROM g g{i} WHERE g{i}.gram = '{x}' AND g{i}.id = g0.id)" for i, x in enumerate(gs[1:], 1))
    base = f"FROM g g0 JOIN c ON c.id = g0.id WHERE g0.gram = '{gs[0]}' {joins} AND c.name LIKE '%{k}%' {extra}"
    return f"SELECT COUNT(*) {base}" if count else f"SELECT c.id, c.name {base} ORDER BY g0.id DESC LIMIT {limit}"
cases = []
for k in ["华为", "鲁花教育", "深圳市华为", "新材料集团"]:
    cases += [
      (f"LIKE   '{k}' top20", f"SELECT id, name FROM c WHERE name LIKE '%{k}%' ORDER BY id DESC LIMIT 20"),
      (f"LIKE   '{k}' count", f"SELECT COUNT(*) FROM c WHERE name LIKE '%{k}%'"),
      (f"mroonga '{k}' top20", f"SELECT c.id, c.name FROM m JOIN c ON c.id = m.id WHERE MATCH(m.name) AGAINST('+\"{k}\"' IN BOOLEAN MODE) ORDER BY m.id DESC LIMIT 20"),
      (f"mroonga '{k}' count", f"SELECT COUNT(*) FROM m WHERE MATCH(m.name) AGAINST('+\"{k}\"' IN BOOLEAN MODE)"),
      (f"ngram  '{k}' top20", ngram_sql(k)),
      (f"ngram  '{k}' count", ngram_sql(k, count=True)),
      (f"ngram  '{k}' +SELF(mgr 2) top20", ngram_sql(k, "AND c.manager_id = 2")),
      (f"mroonga '{k}' +SELF(mgr 2) top20", f"SELECT c.id, c.name FROM m JOIN c ON c.id = m.id WHERE MATCH(m.name) AGAINST('+\"{k}\"' IN BOOLEAN MODE) AND c.manager_id = 2 ORDER BY m.id DESC LIMIT 20"),
    ]
N = int(sys.argv[1]) if len(sys.argv) > 1 else 9
script = ["SET profiling = 1; SET profiling_history_size = 100;"]
out = []
for name, sql in cases:
    body = "\n".join([sql + ";"] * N)
    r = subprocess.run(M, input="SET profiling=1; SET profiling_history_size=100;\n" + body + "\nSHOW PROFILES;", capture_output=True, text=True)
    lines = [l for l in r.stdout.strip().split("\n") if l.count("\t") >= 2 and l.split("\t")[0].isdigit()]
    durs = [float(l.split("\t")[1]) * 1000 for l in lines][-N:]
    res_lines = [l for l in r.stdout.strip().split("\n") if l not in lines]
    first = res_lines[0] if res_lines else ""
    durs.sort()
    print(f"{name:42s} p50 {statistics.median(durs):8.2f} ms  max {durs[-1]:8.2f} ms   first row: {first[:40]}", flush=True)
    if r.stderr: print("  ERR", r.stderr.strip()[:200])
