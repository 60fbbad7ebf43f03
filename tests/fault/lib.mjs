// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the fault drills: metrics, a burst of audited writes, and the exactly-once
// check (every event a producer committed in its outbox is in the audit log once, and the chain
// still verifies). Everything else comes from the API tests' helpers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import {
  PORTS, REPO, STATE, api, eventually, healthy, mysql, redis, serviceUrl, sleep, supervisorctl, tokenOf,
} from '../api/lib.mjs';
import { PRODUCERS, serviceEntry } from '../services.mjs';

export * from '../api/lib.mjs';

/** The producers with an outbox (one schema each), from shared/services.def. */
export { PRODUCERS };

/** Prometheus text of a process's /metrics (a service name or a base URL). */
export async function metricsText(where) {
  const base = where.startsWith('http') ? where : serviceUrl(where);
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(3000) });
  assert.equal(res.status, 200);
  return res.text();
}

/** The value of one sample ('name{labels}') in Prometheus text; undefined when absent. */
export function sample(text, name, labels = {}) {
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** crm_consumer_events_total of the audit group by outcome, from one audit process. */
export async function consumerCounts(where = 'audit') {
  const text = await metricsText(where);
  const out = {};
  for (const o of ['applied', 'duplicate', 'failed', 'claimed']) {
    out[o] = sample(text, 'crm_consumer_events_total', { group: 'audit', outcome: o });
    assert.equal(typeof out[o], 'number', `crm_consumer_events_total{outcome="${o}"} on ${where}`);
  }
  out.dead = sample(text, 'crm_consumer_dead_total', { group: 'audit' });
  return out;
}

const q = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** Highest id of each producer's outbox and of the audit logs: where a drill starts. */
export function marks() {
  const m = {};
  for (const p of PRODUCERS) m[p] = Number(mysql(`SELECT COALESCE(MAX(id), 0) FROM crm_${p}.outbox`));
  m.audit = Number(mysql('SELECT COALESCE(MAX(id), 0) FROM crm_audit.audit_log'));
  return m;
}

/** Outbox rows of every producer after 'm' as { producer, id, event_id, event_type, published }. */
export function outboxSince(m) {
  const rows = [];
  for (const p of PRODUCERS) {
    const out = mysql(`SELECT id, event_id, event_type, published_at IS NOT NULL FROM crm_${p}.outbox WHERE id > ${m[p]} ORDER BY id`);
    for (const line of out.split('\n').filter(Boolean)) {
      const [id, eventId, type, published] = line.split('\t');
      rows.push({ producer: p, id: Number(id), event_id: eventId, event_type: type, published: published === '1' });
    }
  }
  return rows;
}

/** Rows of every outbox not yet published (the whole table, not only a drill's part). */
export function unpublished() {
  return PRODUCERS.reduce((n, p) => n + Number(mysql(`SELECT COUNT(*) FROM crm_${p}.outbox WHERE published_at IS NULL`)), 0);
}

/** The union of every outbox's rows after 'm' (SQL), for joins with the audit log. */
const drillEvents = (m) => PRODUCERS.map((p) => `SELECT event_id FROM crm_${p}.outbox WHERE id > ${m[p]}`).join(' UNION ALL ');
const anyOutbox = (col) => PRODUCERS.map((p) => `EXISTS (SELECT 1 FROM crm_${p}.outbox o WHERE o.event_id = ${col})`).join(' OR ');

/** event_id -> how many audit_log rows carry it, for the events committed after 'm'. */
export function auditCountsOf(m) {
  const counts = new Map();
  const out = mysql(`SELECT a.event_id, COUNT(*) FROM crm_audit.audit_log a JOIN (${drillEvents(m)}) d ON d.event_id = a.event_id GROUP BY a.event_id`);
  for (const line of out.split('\n').filter(Boolean)) {
    const [id, n] = line.split('\t');
    counts.set(id, Number(n));
  }
  return counts;
}

/** Audit entries recorded after 'm' whose event no producer ever committed. */
export function phantoms(m) {
  return mysql(`SELECT a.id, a.event_id, a.event_type FROM crm_audit.audit_log a WHERE a.id > ${m.audit} AND NOT (${anyOutbox('a.event_id')})`)
    .split('\n').filter(Boolean);
}

/**
 * Wait until the audit log holds every outbox event committed since 'm' (or fail after 'ms'),
 * then check exactly-once both ways: no committed event missing from the audit log, none
 * recorded twice, and no audit entry that no producer committed. Returns the outbox rows.
 */
export async function expectExactlyOnce(m, what, ms = 30000) {
  let rows = [], audit = new Map(), missing = [];
  try {
    await eventually(() => {
      rows = outboxSince(m);
      audit = auditCountsOf(m);
      missing = rows.filter((r) => !audit.has(r.event_id));
      return missing.length === 0;
    }, ms, `${what}: every committed event in the audit log`);
  } catch (e) {
    e.message += ` (${missing.length} of ${rows.length} missing, e.g. ${JSON.stringify(missing.slice(0, 3))})`;
    throw e;
  }
  assert.ok(rows.length > 0, `${what}: events were committed`);
  const committed = new Set(rows.map((r) => r.event_id));
  assert.equal(committed.size, rows.length, `${what}: an outbox holds one event id twice`);
  const twice = [...audit].filter(([, n]) => n !== 1);
  assert.deepEqual(twice, [], `${what}: audit entries recorded more than once`);
  assert.equal(audit.size, rows.length, `${what}: as many audit entries as committed events`);
  assert.deepEqual(phantoms(m), [], `${what}: audit entries no producer committed`);
  // and the whole table: one audit entry per event id (the unique key says so; check anyway)
  assert.equal(mysql('SELECT COUNT(*) - COUNT(DISTINCT event_id) FROM crm_audit.audit_log'), '0');
  return rows;
}

/**
 * The committed dictionary items whose value starts with 'prefix' (the database is the truth:
 * a request that got no answer may still have committed), each with how many dict.item_created
 * events its outbox has and how many audit entries name it.
 */
export function committedItems(prefix) {
  const out = mysql(
    `SELECT i.id, i.value,
       (SELECT COUNT(*) FROM crm_auth.outbox o WHERE o.event_type = 'dict.item_created'
          AND JSON_VALUE(o.envelope, '$.subject.id') = CAST(i.id AS CHAR)),
       (SELECT COUNT(*) FROM crm_audit.audit_log a WHERE a.event_type = 'dict.item_created'
          AND a.subject_type = 'dict_item' AND a.subject_id = CAST(i.id AS CHAR))
     FROM crm_auth.dict_items i WHERE i.value LIKE ${q(`${prefix}%`)} ORDER BY i.id`,
  );
  return out.split('\n').filter(Boolean).map((l) => {
    const [id, value, events, audits] = l.split('\t');
    return { id: Number(id), value, events: Number(events), audits: Number(audits) };
  });
}

/** Every committed item has one event and one audit entry; every 2xx answer is committed. */
export function expectItemsOnce(prefix, results, what) {
  const items = committedItems(prefix);
  const ok = results.filter((r) => r.status === 201);
  assert.ok(ok.length > 0, `${what}: some writes succeeded`);
  const ids = new Set(items.map((i) => i.id));
  const lost = ok.filter((r) => !ids.has(r.id));
  assert.deepEqual(lost, [], `${what}: a write answered 201 but is not in the database`);
  const wrong = items.filter((i) => i.events !== 1 || i.audits !== 1);
  assert.deepEqual(wrong, [], `${what}: committed items without exactly one event and one audit entry`);
  return items;
}

/**
 * The gateway's operation log: every write of the burst that got an answer (its X-Request-Id,
 * made by the gateway) is in crm_audit.operation_log exactly once, with the status the client
 * saw. ('prefix' named the burst's ids when clients chose them; kept for the callers.)
 */
export async function expectOperationsOnce(prefix, results, what, ms = 30000) {
  const answered = new Map(results.filter((r) => r.status !== 0).map((r) => [r.rid, r.status]));
  let logged = new Map();
  const ids = [...answered.keys()].map(q).join(',') || "''";
  const read = () => {
    logged = new Map();
    const out = mysql(`SELECT request_id, COUNT(*), MIN(status), MAX(status) FROM crm_audit.operation_log
      WHERE request_id IN (${ids}) GROUP BY request_id`);
    for (const l of out.split('\n').filter(Boolean)) {
      const [rid, n, lo, hi] = l.split('\t');
      logged.set(rid, { n: Number(n), lo: Number(lo), hi: Number(hi) });
    }
    return [...answered.keys()].every((rid) => logged.has(rid));
  };
  try {
    await eventually(read, ms, `${what}: every answered write in the operation log`);
  } catch (e) {
    e.message += ` (${[...answered.keys()].filter((rid) => !logged.has(rid)).length} of ${answered.size} missing)`;
    throw e;
  }
  const twice = [...logged].filter(([, v]) => v.n !== 1);
  assert.deepEqual(twice, [], `${what}: operations logged more than once`);
  const wrong = [...answered].filter(([rid, st]) => logged.get(rid).lo !== st || logged.get(rid).hi !== st);
  assert.deepEqual(wrong, [], `${what}: operations logged with another status than the client saw`);
}

/** GET /api/v1/audit/verify (through the gateway, or straight at an audit process 'base'),
 * window after window until the walk is complete; the counts add up over the windows. */
export async function verify(tok, base) {
  let after = 0, checked = 0;
  for (;;) {
    const path = `/api/v1/audit/verify?after_id=${after}`;
    const res = base
      ? await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${tok}` } })
      : await api('GET', path, tok);
    assert.equal(res.status, 200, `verify answered ${res.status}`);
    const v = await res.json();
    checked += v.checked;
    if (!v.ok || v.complete) return { ...v, checked };
    assert.ok(v.last_id > after, `verify moves on (${after} -> ${v.last_id})`);
    after = v.last_id;
  }
}

export async function expectVerifyOk(tok, base) {
  const v = await verify(tok, base);
  assert.equal(v.ok, true, `the audit chain verifies: ${JSON.stringify(v)}`);
  assert.ok(v.checked > 0);
  return v;
}

/**
 * A burst of writes: 'workers' loops creating dictionary items (value prefix + n) through the
 * gateway until stop() is called. Each write waits 'paceMs' after its answer so the gateway's
 * rate limit (100/s per address) is not what fails them. Returns { stop, results } where
 * results collects { value, rid, status, id, at } (status 0 = no answer at all, with 'error').
 */
export function burst(tok, prefix, { workers = 3, paceMs = 25, dict = 'industry' } = {}) {
  const results = [];
  let stopping = false, n = 0;
  const loop = async () => {
    while (!stopping) {
      const value = `${prefix}${n++}`;
      let rid = `${prefix}r${n}`;
      let status = 0, id = null, error;
      const at = Date.now();
      try {
        const res = await api('POST', `/api/v1/dicts/${dict}/items`, tok,
          { value, label_zh: `演练${value}`, label_en: `drill ${value}` }, { 'x-request-id': rid });
        status = res.status;
        // the gateway makes the request id: the one sent comes back as X-Client-Request-Id
        rid = res.headers.get('x-request-id') ?? rid;
        const body = await res.json().catch(() => ({}));
        if (status === 201) id = body.id;
      } catch (e) { error = String(e.cause?.code ?? e.cause?.message ?? e.message); /* no answer */ }
      results.push({ value, rid, status, id, at, ...(error ? { error } : {}) });
      await sleep(paceMs);
    }
  };
  const running = Array.from({ length: workers }, loop);
  return {
    results,
    async stop() { stopping = true; await Promise.all(running); return results; },
  };
}

/** Wait until 'n' more writes of the burst succeeded than now (bounded). */
export async function moreSuccesses(b, n, ms, what) {
  const base = b.results.filter((r) => r.status === 201).length;
  await eventually(() => b.results.filter((r) => r.status === 201).length >= base + n, ms, what);
}

/** Answer statuses of a burst, e.g. { 201: 80, 502: 4, 0: 1 }. */
export function statuses(results) {
  const out = {};
  for (const r of results) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

export async function waitHealthy(svc, ms = 30000) {
  await eventually(() => healthy(serviceUrl(svc)), ms, `${svc} healthy`);
}

/** Before a drill: nothing left to publish, and the audit consumer neither behind nor holding
 * anything (so events of earlier tests do not land in the middle of the drill). */
export async function quiet(ms = 30000) {
  await eventually(async () => {
    if (unpublished() !== 0) return false;
    const text = await metricsText('audit');
    for (const name of ['crm_consumer_lag', 'crm_consumer_pending']) {
      const values = text.split('\n').filter((l) => l.startsWith(`${name}{`)).map((l) => Number(l.split(' ').pop()));
      if (values.length !== 5 || values.some((v) => v > 0)) return false; // -1: lag unknown
    }
    return true;
  }, ms, 'nothing unpublished and the audit consumer caught up before the drill');
}

/** The admin's access token, one login per file (tokenOf of the API tests' helpers). Tokens
 * live 15 minutes: plenty for a drill. */
export const adminToken = () => tokenOf('admin');

export const rnd = () => Math.random().toString(36).slice(2, 8);

/* ------------------------------------------------------------------------------------------ */
/* processes: the supervised ones and a second instance a drill starts itself                 */

/** The streams the audit group reads, from its line of shared/services.def. */
export const AUDIT_STREAMS = serviceEntry('audit').streams;

/** Entry ids of 'stream' pending at 'consumer' in the audit group. */
export function pendingAt(stream, consumer) {
  return redis('XPENDING', stream, 'audit', '-', '+', '1000', consumer).split('\n')
    .filter((l) => /^\d+-\d+$/.test(l.trim())).map((l) => l.trim());
}

export const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** supervisord's state of 'program' (RUNNING, STOPPING, STOPPED, ...; '?' when unknown). */
export const programState = (program) => (supervisorctl('status', program).trim().split(/\s+/)[1] ?? '?');

/** The port of the second instance of 'svc' a drill starts: CRM_TEST_PORT_<SVC>2, else the
 * stack's port of 'svc' plus 10 (so it moves with the stack's offset like the stack's own). */
export const secondPort = (svc) => Number(process.env[`CRM_TEST_PORT_${svc.toUpperCase()}2`] ?? PORTS[svc] + 10);

/** Second instances still running; node's exit kills them (a test that failed half-way or
 * timed out must not leave one behind, holding a relay lock or a consumer's entries). */
const seconds = new Set();
process.on('exit', () => { for (const p of seconds) p.kill('SIGKILL'); });

/**
 * Start a second instance of 'svc' beside the stack's own: the stack's config of 'svc' with
 * its own listen port, the consumer name '<svc>-2' and the keys of 'extra' (e.g.
 * { claim_idle_ms: 2000 }), written to etc/<svc>-2.conf; run under the sanitizers as the
 * supervised processes are (reports in the stack's log directory), output in log/<svc>-2.log.
 * Waits until it is healthy. Returns { proc, pid, base, name, log, exited, stop() }: 'exited' is a
 * promise of { code, sig }; stop() sends SIGTERM and resolves with that (SIGKILL after 20 s).
 */
export async function startSecond(svc, extra = {}) {
  const port = secondPort(svc), base = `http://127.0.0.1:${port}`, name = `${svc}-2`;
  assert.equal(await healthy(base).catch(() => false), false, `port ${port} is free for ${name}`);
  const mine = ['listen', 'consumer_name', ...Object.keys(extra)];
  const lines = readFileSync(`${STATE}/etc/${svc}.conf`, 'utf8').split('\n')
    .filter((l) => l.trim() && !mine.includes(l.split('=')[0].trim()));
  lines.push(`listen = 127.0.0.1:${port}`, `consumer_name = ${name}`, ...Object.entries(extra).map(([k, v]) => `${k} = ${v}`));
  const conf = `${STATE}/etc/${name}.conf`;
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const env = {
    PATH: process.env.PATH,
    ASAN_OPTIONS: `detect_leaks=0:abort_on_error=1:log_path=${STATE}/log/asan`,
    UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1:log_path=${STATE}/log/ubsan`,
  };
  const log = `${STATE}/log/${name}.log`, out = openSync(log, 'a');
  const proc = spawn(`${REPO}/build-asan/services/${svc}/crm-${svc}`, ['--config', conf],
    { cwd: REPO, env, stdio: ['ignore', out, out] });
  seconds.add(proc);
  const exited = new Promise((r) => proc.on('exit', (code, sig) => { seconds.delete(proc); r({ code, sig }); }));
  await Promise.race([
    eventually(() => healthy(base), 30000, `${name} healthy`),
    exited.then((e) => assert.fail(`${name} exited while starting: ${JSON.stringify(e)} (see ${STATE}/log/${name}.log)`)),
  ]);
  return {
    proc, pid: proc.pid, base, name, log, exited,
    async stop() {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
      const e = await exited;
      clearTimeout(timer);
      return e;
    },
  };
}

/**
 * kill -9 the supervised 'program', whose process 'pid' the caller has frozen (SIGSTOP), under
 * a stop request, so that supervisord does not start it again (frozen, it never acts on the
 * stop request's SIGTERM: what dies is a process killed in the middle of its work). Returns
 * { at, gone } once the SIGKILL is sent: 'at' its time, 'gone' a promise that resolves when
 * the process is gone and supervisord says STOPPED.
 */
export async function killFrozen(program, pid) {
  const cmd = process.env.CRM_TEST_SUPERVISORCTL ?? `supervisorctl -c ${STATE}/supervisord.conf`;
  const stopper = spawn('sh', ['-c', `${cmd} stop ${program}`], { stdio: 'ignore' });
  const stopped = new Promise((r) => stopper.on('exit', r));
  await eventually(() => programState(program) === 'STOPPING', 10000, `supervisord stopping ${program}`);
  process.kill(pid, 'SIGKILL');
  const at = Date.now();
  const gone = (async () => {
    await stopped;
    await eventually(() => !alive(pid), 5000, `${program} (pid ${pid}) gone`);
    assert.equal(programState(program), 'STOPPED', `supervisord did not restart ${program}`);
  })();
  return { at, gone };
}

/**
 * Freeze (SIGSTOP) the audit consumer 'consumer', process 'pid', so that it holds delivered,
 * unacknowledged entries of 'stream': frozen inside its blocking XREADGROUP, it is still
 * delivered the next entries. A freeze that caught it elsewhere is undone and tried again, at
 * most 'tries' times. Returns the held entry ids with the process left frozen, or [] with it
 * running.
 */
export async function freezeHolding(pid, consumer, stream = 'crm:stream:auth', tries = 10) {
  for (let i = 0; i < tries; i++) {
    process.kill(pid, 'SIGSTOP');
    let held = [];
    try {
      await sleep(600);
      held = pendingAt(stream, consumer);
    } finally {
      if (held.length === 0) process.kill(pid, 'SIGCONT');
    }
    if (held.length > 0) return held;
    await sleep(150 + 100 * i);
  }
  return [];
}

/** The ACL rules of Redis user 'user' as ACL LIST has them: root rules and "(selector)" each
 * one argument, ready for ACL SETUSER. */
export function redisRulesOf(user) {
  const line = redis('ACL', 'LIST').split('\n').find((l) => l.startsWith(`user ${user} `));
  assert.ok(line, `no Redis user ${user}`);
  return line.slice(`user ${user} `.length).match(/\([^)]*\)|\S+/g);
}

/** Refuse XADD to Redis user 'user' for a moment (everything else it may do stays): each of its
 * selectors ends with -xadd. Returns its rules as they were, for restoreRedisUser. */
export function refuseXadd(user) {
  const rules = redisRulesOf(user);
  const without = rules.map((t) => (t.startsWith('(') ? `${t.slice(0, -1)} -xadd)` : t));
  // clearselectors, not reset: reset would add flags (sanitize-payload) the user did not have
  assert.equal(redis('ACL', 'SETUSER', user, 'clearselectors', ...without, '-xadd'), 'OK');
  return rules;
}

/** Put back the rules 'rules' of 'user' (from refuseXadd), in place: its connections stay. */
export function restoreRedisUser(user, rules) {
  assert.equal(redis('ACL', 'SETUSER', user, 'clearselectors', ...rules), 'OK');
}
