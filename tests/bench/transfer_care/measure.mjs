#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// measure.mjs — the figures of run.sh (see there), printed with the aims of issues 13 and 14.
// Environment: CRM_BENCH_STATE, CRM_BENCH_GATEWAY, CRM_BENCH_SOCK, CRM_BENCH_SUPERVISOR_CONF;
// TRANSFERS=1000, WORKBENCH=200; PARTS="workbench scan transfers handover" (the parts run, in
// that order whatever the order given: transfers and the hand-over move bm_001's customers away).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { api, login, pct, sleep, sql } from '../customers/http.mjs';

const STATE = process.env.CRM_BENCH_STATE;
const TRANSFERS = Number(process.env.TRANSFERS ?? 1000);
const WORKBENCH = Number(process.env.WORKBENCH ?? 200);
const PARTS = new Set((process.env.PARTS ?? 'workbench scan transfers handover').split(/[\s,]+/).filter(Boolean));
for (const p of PARTS) if (!['workbench', 'scan', 'transfers', 'handover'].includes(p)) throw new Error(`PARTS: no part '${p}'`);
const benchPw = readFileSync(join(STATE, 'secrets', 'bench_password'), 'utf8').trim();
const adminPw = readFileSync(join(STATE, 'secrets', 'admin_password'), 'utf8').trim();
const managers = readFileSync(join(STATE, 'bench_managers.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
const [big, a, b, c] = managers; // bm_001 owns 30,000; three others receive
const id = (m) => Number(m[0]);
const ms = (x) => `${x.toFixed(1)} ms`;
const aim = (ok) => (ok ? 'MET' : 'NOT MET');
const line = (name, xs) => `${name.padEnd(44)} n=${String(xs.length).padStart(5)}  p50 ${ms(pct(xs, 50)).padStart(9)}  p95 ${ms(pct(xs, 95)).padStart(9)}  p99 ${ms(pct(xs, 99)).padStart(9)}`;

function pidOf(program) {
  return Number(execFileSync('supervisorctl', ['-c', process.env.CRM_BENCH_SUPERVISOR_CONF, 'pid', program], { encoding: 'utf8' }).trim());
}
function peakKb(program) {
  const status = readFileSync(`/proc/${pidOf(program)}/status`, 'utf8');
  return { hwm: Number(/VmHWM:\s+(\d+)/.exec(status)[1]), rss: Number(/VmRSS:\s+(\d+)/.exec(status)[1]) };
}

async function transfers(tokBig, tokA) {
  // single transfers, one at a time: bm_001 gives one of its customers to bm_002; the time until
  // bm_002 reads it through the gateway (the customer service applied transfer.completed)
  const ids = sql(`SELECT id FROM customers WHERE manager_id = ${id(big)} AND deleted_at IS NULL ORDER BY id LIMIT ${TRANSFERS}`).split('\n').map(Number);
  const lat = [];
  const marks = []; // per transfer: its id and the client's wall-clock times (ms)
  const t0 = Date.now();
  for (const cid of ids) {
    const start = performance.now();
    const sent = Date.now();
    const t = await api(tokBig, 'POST', '/api/v1/transfers', { customer_ids: [cid], to_manager_id: id(a), reason: '基准测试：单个转移' }, [201]);
    const answered = Date.now();
    for (;;) {
      const res = await fetch(`${process.env.CRM_BENCH_GATEWAY}/api/v1/customers/${cid}`, { headers: { authorization: `Bearer ${tokA}` } });
      await res.arrayBuffer();
      if (res.status === 200) break;
      await sleep(1);
    }
    lat.push(performance.now() - start);
    marks.push({ id: t.id, cid, sent, answered, readable: Date.now() });
  }
  lat.sort((x, y) => x - y);
  console.log(line(`transfer -> readable by the new owner`, lat));
  console.log(`  ${TRANSFERS} transfers in ${((Date.now() - t0) / 1000).toFixed(1)} s; aim p99 < 50 ms: ${aim(pct(lat, 99) < 50)}`);
  stages(marks);
}

// Where a single transfer's time goes, from the clocks of one machine: the client's (sent,
// answered, readable), the transfer row's created_at (its transaction began), the stream entry
// id of its transfer.completed (the relay's XADD: Redis's clock, milliseconds) as the customer
// service recorded it in processed_events, and the customer's owner_time (the customer
// service's consumer applied it, before its commit).
function stages(marks) {
  const first = marks[0].id;
  const got = new Map();
  const rows = sql(`SET time_zone = '+00:00'; SELECT id, ROUND(UNIX_TIMESTAMP(created_at) * 1000) FROM crm_transfer.transfers WHERE id BETWEEN ${first} AND ${marks.at(-1).id}`);
  for (const l of rows.split('\n')) {
    const [tid, created] = l.split('\t').map(Number);
    got.set(tid, { created });
  }
  const applied = sql(`SET time_zone = '+00:00'; SELECT JSON_VALUE(o.envelope, '$.data.transfer_id'), SUBSTRING_INDEX(p.stream_entry_id, '-', 1),
      ROUND(UNIX_TIMESTAMP(c.owner_time) * 1000)
    FROM crm_transfer.outbox o JOIN crm_customer.processed_events p ON p.event_id = o.event_id
    JOIN crm_customer.customers c ON c.id = CAST(JSON_VALUE(o.envelope, '$.data.customer_id') AS UNSIGNED)
    WHERE o.event_type = 'transfer.completed' AND JSON_VALUE(o.envelope, '$.data.transfer_id') BETWEEN ${first} AND ${marks.at(-1).id}`);
  for (const l of applied.split('\n')) {
    const [tid, xadd, owner] = l.split('\t').map(Number);
    Object.assign(got.get(tid) ?? {}, { xadd, owner });
  }
  const parts = { 'request -> its transaction began': [], 'transaction -> answered (commit, reply)': [],
    'answered -> XADD by the relay': [], 'XADD -> applied by the customer service': [],
    'applied -> the new owner read it (commit, gateway, poll)': [] };
  const keys = Object.keys(parts);
  for (const m of marks) {
    const g = got.get(m.id);
    if (!g || g.xadd === undefined) continue;
    const xs = [g.created - m.sent, m.answered - g.created, g.xadd - m.answered, g.owner - g.xadd, m.readable - g.owner];
    xs.forEach((x, i) => parts[keys[i]].push(x));
  }
  console.log(`  where the time goes (ms, clocks of one machine at 1 ms; ${parts[keys[0]].length} transfers):`);
  for (const k of keys) {
    const xs = parts[k].sort((x, y) => x - y);
    console.log(`    ${k.padEnd(58)} p50 ${String(pct(xs, 50)).padStart(4)}  p95 ${String(pct(xs, 95)).padStart(4)}  p99 ${String(pct(xs, 99)).padStart(4)}  max ${String(xs.at(-1)).padStart(4)}`);
  }
}

async function handover(tokAdmin) {
  const n = Number(sql(`SELECT COUNT(*) FROM customers WHERE manager_id = ${id(big)} AND deleted_at IS NULL`));
  const t0 = performance.now();
  const job = await api(tokAdmin, 'POST', '/api/v1/transfers/handover', { from_manager_id: id(big), to_manager_ids: [id(b), id(c)], reason: '基准测试：离职交接' }, [202]);
  let state;
  do {
    await sleep(100);
    state = await api(tokAdmin, 'GET', `/api/v1/transfers/${job.id}`);
  } while (state.status !== 'done' && state.status !== 'failed');
  const jobMs = performance.now() - t0;
  for (;;) {
    const left = Number(sql(`SELECT COUNT(*) FROM customers WHERE manager_id = ${id(big)} AND deleted_at IS NULL`));
    if (left === 0) break;
    await sleep(200);
  }
  const allMs = performance.now() - t0;
  const rate = (state.done / jobMs) * 1000;
  console.log(`hand-over of ${n} customers to 2 receivers: ${state.status}, ${state.done} moved`);
  console.log(`  transfer service: ${(jobMs / 1000).toFixed(2)} s = ${rate.toFixed(0)} customers/s (aim >= 5,000/s: ${aim(rate >= 5000)})`);
  console.log(`  every owner changed at the customer service: ${(allMs / 1000).toFixed(2)} s = ${((state.done / allMs) * 1000).toFixed(0)} customers/s end to end`);
}

async function scan(tokAdmin) {
  // the busiest day of the year among the generated birthdays
  const [m, d, n] = sql('SELECT birth_month, birth_day, COUNT(*) AS n FROM care_contacts WHERE birth_month IS NOT NULL GROUP BY birth_month, birth_day ORDER BY n DESC LIMIT 1', 'crm_care').split('\t').map(Number);
  const year = new Date().getUTCFullYear() + 1;
  const day = `${year}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  const before = peakKb('care');
  const t0 = performance.now();
  const r = await api(tokAdmin, 'POST', '/api/v1/care/scan', { date: day });
  const took = performance.now() - t0;
  const after = peakKb('care');
  console.log(`birthday scan of ${day} over ${sql('SELECT COUNT(*) FROM care_contacts', 'crm_care')} contacts: ${r.made} tasks (${n} born that day) in ${(took / 1000).toFixed(2)} s (aim < 5 s: ${aim(took < 5000)})`);
  console.log(`  care service memory: peak ${(after.hwm / 1024).toFixed(1)} MB (before the scan ${(before.hwm / 1024).toFixed(1)} MB), RSS now ${(after.rss / 1024).toFixed(1)} MB`);
  const again = performance.now();
  const r2 = await api(tokAdmin, 'POST', '/api/v1/care/scan', { date: day });
  console.log(`  the same day again: ${r2.made} tasks in ${((performance.now() - again) / 1000).toFixed(2)} s`);
}

async function workbench(tokBig) {
  const answers = {};
  const one = async (path) => {
    const t = performance.now();
    answers[path] = await api(tokBig, 'GET', path);
    return performance.now() - t;
  };
  for (let i = 0; i < 10; i++) await Promise.all([one('/api/v1/care/summary'), one('/api/v1/customers/todos')]);
  const care = [], todos = [], both = [];
  for (let i = 0; i < WORKBENCH; i++) {
    const t = performance.now();
    const [x, y] = await Promise.all([one('/api/v1/care/summary'), one('/api/v1/customers/todos')]);
    both.push(performance.now() - t);
    care.push(x);
    todos.push(y);
  }
  for (const xs of [care, todos, both]) xs.sort((p, q) => p - q);
  const owned = sql(`SELECT COUNT(*) FROM customers WHERE manager_id = ${id(big)} AND deleted_at IS NULL`);
  console.log(`workbench numbers of ${big[2]} (owns ${owned} customers now; 30,000 before the hand-over):`);
  console.log(line('  GET /api/v1/care/summary', care));
  console.log(line('  GET /api/v1/customers/todos', todos));
  console.log(line('  both, side by side', both));
  console.log(`  aim p95 < 30 ms: ${aim(pct(both, 95) < 30)}`);
  const { done_per_week: _weeks, ...careNumbers } = answers['/api/v1/care/summary'];
  console.log(`  answers: care/summary ${JSON.stringify(careNumbers)}; customers/todos ${JSON.stringify(answers['/api/v1/customers/todos'])}`);
}

const tokAdmin = await login('admin', adminPw);
const tokBig = await login(big[2], benchPw);
const tokA = await login(a[2], benchPw);
// each part with the machine's load average as it starts (a shared machine's figures vary)
const parts = { workbench: () => workbench(tokBig), scan: () => scan(tokAdmin), transfers: () => transfers(tokBig, tokA), handover: () => handover(tokAdmin) };
for (const [name, run] of Object.entries(parts)) { // the workbench first: with the 30,000 customers
  if (!PARTS.has(name)) continue;
  console.log(`[${name}: load ${loadavg().map((x) => x.toFixed(2)).join(' ')}]`);
  await run();
}
