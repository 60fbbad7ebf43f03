// SPDX-License-Identifier: Apache-2.0
// Drill (d): an operator trims a stream past entries the audit group has not read yet (XTRIM
// while the audit service is down). Redis 7.0 then counts the group's reads wrongly for good
// (redis#13957: XINFO GROUPS shows a lag that never returns to 0 once the group has caught
// up). The consumer's metrics refresh must correct it: crm_consumer_lag and Redis' own lag
// read 0 again once the group has read the stream's last entry, and what was left after the
// trim is applied once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  adminToken, burst, eventually, expectOperationsOnce, expectVerifyOk, metricsText, quiet, redis,
  rnd, sample, supervisorctl, waitHealthy,
} from './lib.mjs';

const STREAM = 'crm:stream:gateway';

/** The audit group's lag on STREAM as Redis reports it (XINFO GROUPS), or null when nil. */
function redisLag() {
  const lines = redis('XINFO', 'GROUPS', STREAM).split('\n').map((l) => l.trim());
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === 'name' && lines[i + 1] === 'audit') {
      const at = lines.indexOf('lag', i);
      const v = lines[at + 1];
      return v === '' ? null : Number(v);
    }
  }
  throw new Error(`no audit group on ${STREAM}`);
}

test('a stream trimmed past unread entries: the lag metric and Redis\' lag return to 0, the rest is applied once', async (t) => {
  const tok = await adminToken();
  await quiet();
  const prefix = `fd${rnd()}_`;
  supervisorctl('stop', 'audit');
  let started = false;
  t.after(() => { if (!started) supervisorctl('start', 'audit'); });

  // Writes through the gateway while the audit service is down: each leaves one
  // gateway.operation entry on STREAM that the group has not read.
  const b = burst(tok, prefix, { workers: 1, paceMs: 20 });
  await eventually(() => b.results.filter((r) => r.status === 201).length >= 8, 15000, 'writes while audit is down');
  const results = await b.stop();
  await eventually(() => Number(redis('XLEN', STREAM)) > 0, 5000, 'operations on the stream');

  // The operator's trim: only the newest entry stays; the group is now behind the stream's start.
  redis('XTRIM', STREAM, 'MAXLEN', '1');
  const kept = redis('XREVRANGE', STREAM, '+', '-', 'COUNT', '1');
  const keptRid = results.map((r) => r.rid).find((rid) => kept.includes(`"${rid}"`));
  assert.ok(keptRid, 'the entry left after the trim is one of the drill\'s operations');

  supervisorctl('start', 'audit');
  started = true;
  await waitHealthy('audit');

  // The kept operation is applied once (the trimmed ones are gone: that is what XTRIM does).
  await expectOperationsOnce(prefix, results.filter((r) => r.rid === keptRid), 'the entry left after the trim');

  // Without the correction Redis keeps reporting the trimmed entries as lag forever.
  await eventually(() => redisLag() === 0, 15000, `Redis reports lag 0 on ${STREAM} once the group has read its last entry`);
  await eventually(async () => sample(await metricsText('audit'), 'crm_consumer_lag', { stream: STREAM }) === 0,
    15000, `crm_consumer_lag of ${STREAM} back to 0`);
  await quiet();
  await expectVerifyOk(tok);
});
