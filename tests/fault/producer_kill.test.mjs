// SPDX-License-Identifier: Apache-2.0
// Drill (a): kill -9 a producing service between its commit and the publish. auth is killed in
// the middle of a burst of writes, at a moment when it has committed rows whose events it has
// not published yet; supervisord restarts it, and the restarted relay publishes them. Every
// committed change must reach the audit log exactly once, and the chain must still verify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  adminToken, burst, consumerCounts, eventually, expectExactlyOnce, expectItemsOnce, expectOperationsOnce, expectVerifyOk,
  marks, moreSuccesses, mysql, pidOf, quiet, redis, redisRulesOf, refuseXadd, restoreRedisUser, rnd, statuses, supervisorctl, unpublished, waitHealthy,
} from './lib.mjs';

/** The auth stream's entries carrying 'eventId' (a republished event appears twice). */
function streamCopies(eventId, since) {
  return redis('XRANGE', 'crm:stream:auth', since, '+').split('\n')
    .filter((l) => l.startsWith('{') && l.includes(`"id":"${eventId}"`)).length;
}

test('kill -9 of auth between commit and publish: the committed events are published after the restart, each audited once', async (t) => {
  const tok = await adminToken();
  await quiet();
  const m = marks();
  const since = redis('XREVRANGE', 'crm:stream:auth', '+', '-', 'COUNT', '1').split('\n')[0] || '-';
  const before = await consumerCounts();
  const prefix = `fa${rnd()}_`;
  const b = burst(tok, prefix);
  let held = false;
  try {
    await moreSuccesses(b, 10, 15000, 'writes before the kill');
    // Refuse XADD for a moment (everything else in Redis keeps working): from now on auth
    // commits rows whose events it cannot publish, so the kill lands between commit and publish.
    // A relay that marked a row published before Redis had it would lose those events here.
    const authRules = redisRulesOf('crm_auth');
    held = refuseXadd('crm_auth');
    const holdMark = Number(mysql('SELECT COALESCE(MAX(id), 0) FROM crm_auth.outbox'));
    const strandedSql = `SELECT event_id FROM crm_auth.outbox WHERE id > ${holdMark}`;
    await eventually(() => mysql(strandedSql).split('\n').filter(Boolean).length >= 3, 5000, 'rows committed while XADD is refused');
    const pid = pidOf('auth');
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    // committed while no event could reach the stream: the restarted auth must publish them
    const stranded = mysql(strandedSql).split('\n').filter(Boolean);
    const unstamped = Number(mysql(`SELECT COUNT(*) FROM crm_auth.outbox WHERE id > ${holdMark} AND published_at IS NULL`));
    t.diagnostic(`killed auth (pid ${pid}) with ${stranded.length} events committed since XADD was refused (${unstamped} not marked published)`);
    restoreRedisUser('crm_auth', held);
    held = false;
    // the burst sees auth gone (502) before anything here blocks the event loop: the polls
    // below run child processes synchronously, and the burst sends nothing while they do
    await eventually(() => b.results.some((r) => r.at >= killedAt && r.status !== 201), 10000,
      'a write refused while auth is down');
    // supervisord restarts it (a new pid); the burst keeps going meanwhile (502 while it is down)
    await eventually(() => { const s = supervisorctl('status', 'auth'); return /RUNNING/.test(s) && !s.includes(`pid ${pid},`); },
      20000, 'supervisord restarting auth');
    await waitHealthy('auth', 30000);
    t.diagnostic(`auth back after ${Date.now() - killedAt} ms`);
    await moreSuccesses(b, 10, 15000, 'writes after the restart');
    await b.stop();
    t.diagnostic(`answers: ${JSON.stringify(statuses(b.results))}`);
    assert.ok(b.results.some((r) => r.status !== 201), 'some writes failed while auth was down');

    // the restarted relay publishes what the dead one left behind: nothing stays unpublished
    await eventually(() => unpublished() === 0, 15000, 'crm_auth.outbox fully published');
    assert.equal(mysql('SELECT COUNT(*) FROM crm_auth.outbox WHERE published_at IS NULL'), '0');
    for (const id of stranded) assert.equal(streamCopies(id, since) >= 1, true, `stranded event ${id} published`);
    const rows = await expectExactlyOnce(m, 'after kill -9 of auth');
    const items = expectItemsOnce(prefix, b.results, 'after kill -9 of auth');
    t.diagnostic(`${rows.length} events committed during the drill, ${items.length} items committed`);
    await expectOperationsOnce(prefix, b.results, 'after kill -9 of auth');

    // The crash can also land between XADD and the stamp: the row is published again and the
    // stream holds the event twice. Make that state on purpose (unstamp a consumed row): the
    // relay republishes it, the consumer sees a duplicate, the audit log keeps one entry.
    const again = stranded[0];
    const dupBefore = (await consumerCounts()).duplicate;
    mysql(`UPDATE crm_auth.outbox SET published_at = NULL WHERE event_id = '${again}'`);
    await eventually(() => streamCopies(again, since) >= 2, 10000, 'the unstamped event published again');
    await eventually(async () => (await consumerCounts()).duplicate > dupBefore, 10000, 'the redelivery counted as a duplicate');
    assert.equal(mysql(`SELECT COUNT(*) FROM crm_audit.audit_log WHERE event_id = '${again}'`), '1');
    await expectExactlyOnce(m, 'after a republished event');
    await expectVerifyOk(tok);
    assert.deepEqual(redisRulesOf('crm_auth'), authRules, 'Redis permissions as before');
    const after = await consumerCounts();
    t.diagnostic(`audit consumer: applied +${after.applied - before.applied}, duplicate +${after.duplicate - before.duplicate}`);
    assert.equal(after.dead, before.dead, 'nothing dead-lettered');
  } finally {
    if (held) restoreRedisUser('crm_auth', held);
    await b.stop();
  }
});
