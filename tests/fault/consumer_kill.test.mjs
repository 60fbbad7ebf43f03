// SPDX-License-Identifier: Apache-2.0
// Drill (b): the audit consumer dies (kill -9) while it holds delivered, unacknowledged entries,
// and is not restarted; a second consumer of the group (another process, consumer_name audit-2)
// claims the dead one's entries and reads the rest. Every committed change must reach the audit
// log exactly once and the chain must verify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUDIT_STREAMS as STREAMS, adminToken, alive, burst, consumerCounts, eventually, expectExactlyOnce,
  expectItemsOnce, expectOperationsOnce, expectVerifyOk, freezeHolding, killFrozen, marks, moreSuccesses, pendingAt, pidOf, programState as state,
  quiet, redis, rnd, startSecond, statuses, supervisorctl, waitHealthy,
} from './lib.mjs';

test('kill -9 of the audit consumer holding pending entries: a second consumer claims them, each change audited once', async (t) => {
  const tok = await adminToken();
  await quiet();
  for (const s of STREAMS) assert.deepEqual(pendingAt(s, 'audit-1'), [], `nothing pending at audit-1 on ${s} before the drill`);
  const m = marks();
  const prefix = `fb${rnd()}_`;
  const b = burst(tok, prefix, { workers: 2 });
  const pid = pidOf('audit');
  let second = null, stopped = false;
  try {
    await moreSuccesses(b, 5, 15000, 'writes before the consumer stops');
    // Freeze audit-1 so that it holds entries delivered to it, never acknowledged.
    const held = await freezeHolding(pid, 'audit-1');
    stopped = held.length > 0;
    assert.ok(held.length > 0, 'audit-1 holds delivered, unacknowledged entries of crm:stream:auth');
    // kill -9 it, under a stop request so supervisord does not start it again
    await (await killFrozen('audit', pid)).gone;
    const orphaned = STREAMS.flatMap((s) => pendingAt(s, 'audit-1').map((id) => `${s} ${id}`));
    t.diagnostic(`audit-1 (pid ${pid}) killed holding ${orphaned.length} entries: ${orphaned.slice(0, 4).join(', ')}`);
    assert.ok(orphaned.length >= held.length);
    await moreSuccesses(b, 10, 15000, 'writes while no consumer runs');

    // the second consumer: same group, another name, claims entries idle for 2 s
    second = await startSecond('audit', { claim_idle_ms: 2000 });
    const SECOND = second.base;
    await eventually(async () => (await consumerCounts(SECOND)).claimed > 0, 15000, 'audit-2 claiming');
    await eventually(() => STREAMS.every((s) => pendingAt(s, 'audit-1').length === 0), 15000, 'audit-1\'s entries all taken over');
    await moreSuccesses(b, 10, 15000, 'writes while audit-2 consumes');
    await b.stop();
    t.diagnostic(`answers: ${JSON.stringify(statuses(b.results))}`);

    const rows = await expectExactlyOnce(m, 'with audit-2');
    expectItemsOnce(prefix, b.results, 'with audit-2');
    await expectOperationsOnce(prefix, b.results, 'with audit-2');
    const c = await consumerCounts(SECOND);
    t.diagnostic(`${rows.length} events committed; audit-2: ${JSON.stringify(c)}`);
    assert.ok(c.claimed >= held.length, 'audit-2 claimed at least what audit-1 held');
    assert.equal(c.dead, 0, 'nothing dead-lettered');
    await expectVerifyOk(tok, SECOND);

    // audit-2 leaves (SIGTERM: it finishes what it holds), audit-1 comes back
    await eventually(() => STREAMS.every((s) => pendingAt(s, 'audit-2').length === 0), 10000, 'audit-2 holding nothing');
    const exit = await second.stop();
    assert.deepEqual(exit, { code: 0, sig: null }, 'audit-2 stopped cleanly on SIGTERM');
    second = null;
    for (const s of STREAMS) redis('XGROUP', 'DELCONSUMER', s, 'audit', 'audit-2');
  } finally {
    await b.stop();
    if (second) { second.proc.kill('SIGKILL'); second = null; }
    if (stopped && alive(pid)) process.kill(pid, 'SIGCONT');
    if (state('audit') !== 'RUNNING') supervisorctl('start', 'audit');
  }
  await waitHealthy('audit');
  await expectVerifyOk(tok);
  // the restarted audit-1 keeps consuming
  const m2 = marks();
  const after = burst(tok, `${prefix}z`, { workers: 1 });
  await moreSuccesses(after, 3, 15000, 'writes after audit-1 is back');
  await after.stop();
  await expectExactlyOnce(m2, 'after audit-1 is back');
});
