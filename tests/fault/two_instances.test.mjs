// SPDX-License-Identifier: Apache-2.0
// Drill (f): two instances of auth and two of audit side by side: the stack's own (supervised)
// and a second of each that the drill starts from the stack's config (auth-2, audit-2 with a
// 2 s claim time). Writes go straight to both auth instances; exactly one relay leads. The
// leading auth is killed (kill -9) holding events it committed but could not publish yet: the
// other takes the lead and publishes them. The stack's audit is killed holding delivered,
// unacknowledged entries, and supervisord restarts it. Every committed change must reach the
// audit log exactly once, nothing may be dead-lettered, and the chain must verify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  AUDIT_STREAMS, adminToken, api, asGateway, consumerCounts, eventually, expectExactlyOnce, expectVerifyOk, freezeHolding,
  killFrozen, marks, metricsText, mysql, pendingAt, pidOf, programState, quiet, redis, refuseXadd, restoreRedisUser, rnd, sample, serviceUrl,
  sleep, startSecond, statuses, supervisorctl, waitHealthy,
} from './lib.mjs';

const GOOD_PW = 'Correct-Horse-9-Battery';
const leads = async (base) => sample(await metricsText(base), 'crm_relay_leader', { svc: 'auth' });
const published = async (base) => sample(await metricsText(base), 'crm_events_published_total', { svc: 'auth' });

/** How long fn() takes to become truthy (fails after 'ms'). */
async function timeTo(fn, ms, what, from = Date.now()) {
  await eventually(fn, ms, what);
  return Date.now() - from;
}

/** When the relay of the process logging to 'log' took the lead, the first time after 'since'
 * (ms since the epoch; its own line, so no polling delay is in it), or NaN. */
function ledAt(log, since) {
  const at = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"relay of crm:stream:auth: leading'))
    .map((l) => Date.parse(JSON.parse(l).ts)).find((ts) => ts >= since);
  return at ?? NaN;
}

/** The relay leader flags of the live auth instances 'bases' (an unreachable one counts 0). */
async function leaders(bases) {
  return Promise.all(bases.map((b) => leads(b).catch(() => 0)));
}

/**
 * Write load straight to auth instances: one loop per user of 'users', each renaming its own
 * user (PATCH display_name with the version it knows, so loops never conflict) through the
 * instance 'bases[tag]' its user is given to, request id and new name '<prefix><tag>r|v<n>'.
 * After any answer but 200 (409 after a write that committed without an answer, none from a
 * dead instance) the loop reads the user's version again from an instance that answers.
 * Returns { stop, results } with results { rid, value, tag, user, status, at } (status 0: no
 * answer).
 */
function load(tok, users, bases, prefix, paceMs = 30) {
  const results = [];
  let stopping = false, n = 0;
  const call = (base, method, path, body, rid) => fetch(`${base}${path}`, {
    method,
    // with a request id of the drill's own, as the gateway would send it (a service believes
    // X-Request-Id only with the gateway's proof)
    headers: {
      authorization: `Bearer ${tok}`, 'content-type': 'application/json',
      ...(rid ? asGateway({ method, target: path, requestId: rid, authorization: `Bearer ${tok}` }) : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(5000),
  });
  const loop = async ({ id, tag, version }) => {
    while (!stopping) {
      const k = n++, rid = `${prefix}${tag}r${k}`, value = `${prefix}${tag}v${k}`, at = Date.now();
      let status = 0;
      try {
        const res = await call(bases[tag], 'PATCH', `/api/v1/users/${id}`, { version, display_name: value }, rid);
        status = res.status;
        const body = await res.json().catch(() => ({}));
        if (status === 200) version = body.version;
      } catch { /* no answer: it may have committed */ }
      results.push({ rid, value, tag, user: id, status, at });
      if (status !== 200) {
        for (const base of [bases[tag], ...Object.values(bases)]) {
          const res = await call(base, 'GET', `/api/v1/users/${id}`).catch(() => null);
          if (res?.status === 200) { version = (await res.json()).version; break; }
        }
      }
      await sleep(paceMs);
    }
  };
  const running = users.map(loop);
  return {
    results,
    async stop() { stopping = true; await Promise.all(running); return results; },
  };
}

/** Wait until 'n' more writes through instance 'tag' succeeded than now (bounded). */
async function moreWrites(l, tag, n, ms, what) {
  const ok = () => l.results.filter((r) => r.tag === tag && r.status === 200).length;
  const base = ok();
  await eventually(() => ok() >= base + n, ms, what);
}

/** Outbox rows of auth after 'mark' that are not published yet, by request id prefix. */
function unpublishedOf(mark, ridPrefix) {
  return mysql(`SELECT event_id FROM crm_auth.outbox WHERE id > ${mark} AND published_at IS NULL
    AND JSON_VALUE(envelope, '$.request_id') LIKE '${ridPrefix}%'`).split('\n').filter(Boolean);
}

test('two auth and two audit instances side by side: one relay leads, kill -9 of the leader and of an audit, each change audited once', { timeout: 60000 }, async (t) => {
  const t0 = Date.now();
  const tok = await adminToken();
  await quiet();
  for (const s of AUDIT_STREAMS) assert.deepEqual(pendingAt(s, 'audit-1'), [], `nothing pending at audit-1 on ${s} before the drill`);
  const AUTH1 = serviceUrl('auth');
  assert.equal(await leads(AUTH1), 1, 'the stack\'s auth leads before the drill');
  const deadBefore = Number(redis('XLEN', 'crm:dead:audit'));
  const m = marks();
  const prefix = `ff${rnd()}_`;
  // four users to rename, two through each instance
  const users = await Promise.all([0, 1, 2, 3].map(async (k) => {
    const res = await api('POST', '/api/v1/users', tok, { username: `${prefix}u${k}`, display_name: `${prefix}u${k}`, password: GOOD_PW });
    const body = await res.json();
    assert.equal(res.status, 201, JSON.stringify(body));
    return { id: body.id, version: body.version, tag: k < 2 ? 'a1' : 'a2' };
  }));

  let auth2 = null, audit2 = null, l = null, xaddRefused = false, frozen = null;
  const authPid = pidOf('auth'), auditPid = pidOf('audit');
  // what the drill changed is put back however it ends (a timeout included: node runs 'after')
  const restore = async () => {
    if (l) await l.stop();
    if (xaddRefused) restoreRedisUser('crm_auth', xaddRefused);
    xaddRefused = false;
    if (frozen) process.kill(frozen, 'SIGCONT');
    frozen = null;
    for (const p of [auth2, audit2]) if (p) p.proc.kill('SIGKILL');
    auth2 = audit2 = null;
    if (programState('auth') !== 'RUNNING') supervisorctl('start', 'auth');
    if (programState('audit') !== 'RUNNING') supervisorctl('start', 'audit');
  };
  t.after(restore);
  try {
    [auth2, audit2] = await Promise.all([startSecond('auth'), startSecond('audit', { claim_idle_ms: 2000 })]);
    const AUTH2 = auth2.base;
    // The second relay stands by: the lock is held by a live session. Sampled over more than
    // one retry interval (1 s), never both and never neither.
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(await leaders([AUTH1, AUTH2]), [1, 0], 'exactly one auth relay leads: the stack\'s');
      await sleep(400);
    }

    l = load(tok, users, { a1: AUTH1, a2: AUTH2 }, prefix);
    await Promise.all([moreWrites(l, 'a1', 10, 15000, 'writes through auth-1'), moreWrites(l, 'a2', 10, 15000, 'writes through auth-2')]);

    // Refuse XADD for a moment (the rest of Redis keeps working): both instances go on
    // committing, nothing is published. Then the leader dies holding events it committed.
    const holdMark = Number(mysql('SELECT COALESCE(MAX(id), 0) FROM crm_auth.outbox'));
    xaddRefused = refuseXadd('crm_auth');
    await eventually(() => unpublishedOf(holdMark, `${prefix}a1`).length >= 3, 10000, 'auth-1 committing events it cannot publish');
    const holder = mysql(`SELECT IS_USED_LOCK('crm.auth.relay')`);
    const publishedBefore = await published(AUTH2); // a standby's: nothing, so far
    process.kill(authPid, 'SIGSTOP');
    frozen = authPid;
    const killed = await killFrozen('auth', authPid);
    frozen = null;
    const freedMs = await timeTo(() => mysql(`SELECT IS_USED_LOCK('crm.auth.relay')`) !== holder, 10000, 'MariaDB freeing the dead leader\'s lock', killed.at);
    const stranded = unpublishedOf(holdMark, prefix);
    const strandedOfLeader = unpublishedOf(holdMark, `${prefix}a1`);
    restoreRedisUser('crm_auth', xaddRefused);
    xaddRefused = false;
    const seenMs = await timeTo(async () => (await leads(AUTH2)) === 1, 10000, 'auth-2 taking the lead', killed.at);
    const takeoverMs = ledAt(auth2.log, killed.at) - killed.at;
    const drainMs = await timeTo(() => unpublishedOf(holdMark, prefix).length === 0, 10000, 'the stranded events published', killed.at);
    await killed.gone;
    t.diagnostic(`auth-1 (pid ${authPid}) killed with ${stranded.length} events unpublished (${strandedOfLeader.length} of its own); ` +
      `the lock was free after ${freedMs} ms, auth-2 took it after ${takeoverMs} ms (its metric said so after ${seenMs} ms), all published after ${drainMs} ms`);
    // MariaDB frees the lock when it has seen the session end; from then a standby trying once
    // a second (LEADER_RETRY_MS) has it within that second. 'freedMs' is when this drill saw
    // the lock free (polling, on a busy machine late): never before it was free.
    assert.ok(takeoverMs - freedMs < 1300, `auth-2 took the lead within the retry interval of 1 s after the lock was free (${takeoverMs - freedMs} ms)`);
    assert.ok((await published(AUTH2)) - publishedBefore >= stranded.length, 'auth-2 published what was stranded');
    await moreWrites(l, 'a2', 10, 15000, 'writes through auth-2 while auth-1 is down');

    // auth-1 back (supervisord): it stands by, auth-2 keeps the lead
    supervisorctl('start', 'auth');
    await waitHealthy('auth');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await leaders([AUTH1, AUTH2]), [0, 1], 'exactly one auth relay leads: auth-2, after auth-1\'s restart');
      await sleep(400);
    }
    await moreWrites(l, 'a1', 10, 15000, 'writes through the restarted auth-1');

    // audit-1 dies holding entries; supervisord restarts it; audit-2 may claim them first
    const held = await freezeHolding(auditPid, 'audit-1');
    assert.ok(held.length > 0, 'audit-1 holds delivered, unacknowledged entries');
    process.kill(auditPid, 'SIGKILL');
    const auditKilledAt = Date.now();
    await eventually(() => { const s = supervisorctl('status', 'audit'); return /RUNNING/.test(s) && !s.includes(`pid ${auditPid},`); },
      20000, 'supervisord restarting audit');
    await waitHealthy('audit');
    t.diagnostic(`audit-1 (pid ${auditPid}) killed holding ${held.length} entries, back after ${Date.now() - auditKilledAt} ms`);
    await Promise.all([moreWrites(l, 'a1', 10, 15000, 'writes after the audit kill'), moreWrites(l, 'a2', 10, 15000, 'writes after the audit kill')]);
    await l.stop();
    t.diagnostic(`answers: a1 ${JSON.stringify(statuses(l.results.filter((r) => r.tag === 'a1')))}, a2 ${JSON.stringify(statuses(l.results.filter((r) => r.tag === 'a2')))}`);

    // every committed event audited once (both ways), and every 2xx rename by its request id
    const rows = await expectExactlyOnce(m, 'two instances');
    await quiet();
    const ok = l.results.filter((r) => r.status === 200);
    const audited = new Map(mysql(`SELECT request_id, COUNT(*), MIN(JSON_VALUE(changes, '$[0].after')) FROM crm_audit.audit_log
      WHERE id > ${m.audit} AND event_type = 'user.updated' AND request_id LIKE '${prefix}%' GROUP BY request_id`)
      .split('\n').filter(Boolean).map((line) => { const [rid, n, after] = line.split('\t'); return [rid, { n: Number(n), after }]; }));
    const missing = ok.filter((r) => !audited.has(r.rid));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} renames answered 200 without an audit entry`);
    const wrong = ok.filter((r) => audited.get(r.rid).n !== 1 || audited.get(r.rid).after !== r.value);
    assert.deepEqual(wrong.slice(0, 5), [], 'each 200 rename audited once, with the name it set');
    assert.deepEqual([...audited].filter(([, v]) => v.n !== 1), [], 'no rename audited twice');
    assert.equal(Number(redis('XLEN', 'crm:dead:audit')), deadBefore, 'nothing dead-lettered');
    const c2 = await consumerCounts(audit2.base);
    assert.equal(c2.dead, 0, 'audit-2 dead-lettered nothing');
    t.diagnostic(`${rows.length} events committed, ${ok.length} renames answered 200; audit-2: ${JSON.stringify(c2)}`);
    // straight at the stack's audit, like the writes: the gateway gives up on an upstream after
    // 2 s on the test stack, as long as one verify window may take
    await expectVerifyOk(tok, serviceUrl('audit'));

    // audit-2 leaves holding nothing; auth-2 leaves and the stack's auth takes the lead again
    await eventually(() => AUDIT_STREAMS.every((s) => pendingAt(s, 'audit-2').length === 0), 10000, 'audit-2 holding nothing');
    assert.deepEqual(await audit2.stop(), { code: 0, sig: null }, 'audit-2 stopped cleanly on SIGTERM');
    for (const s of AUDIT_STREAMS) redis('XGROUP', 'DELCONSUMER', s, 'audit', 'audit-2');
    audit2 = null;
    assert.deepEqual(await auth2.stop(), { code: 0, sig: null }, 'auth-2 stopped cleanly on SIGTERM');
    auth2 = null;
    const backMs = await timeTo(async () => (await leads(AUTH1)) === 1, 5000, 'the stack\'s auth leading again');
    t.diagnostic(`the stack's auth led again ${backMs} ms after auth-2 stopped; drill took ${Date.now() - t0} ms`);
  } finally {
    await restore();
  }
  await waitHealthy('auth');
  await waitHealthy('audit');
  await eventually(async () => (await leads(serviceUrl('auth'))) === 1, 5000, 'the stack\'s auth leading after the drill');
});
