// SPDX-License-Identifier: Apache-2.0
// Drill (e): stream trimming never drops what a consumer group has not read. The producers trim
// their streams once they hold more than stream_trim_above entries (the test stack: 5000 for the
// services' streams, 300 for the gateway's; see deploy/crm). With the audit service stopped,
// writes push both crm:stream:gateway and crm:stream:auth well past that: every entry written
// meanwhile must still be there (none was read). Once the audit service is back and has read
// them, every change is in the audit log exactly once, the streams shrink to at most their
// threshold, and the chain verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  STATE, adminToken, burst, eventually, expectExactlyOnce, expectOperationsOnce, expectVerifyOk, marks, outboxSince,
  quiet, redis, rnd, serviceUrl, sleep, statuses, supervisorctl, unpublished, waitHealthy,
} from './lib.mjs';

const GW = 'crm:stream:gateway';
const AUTH = 'crm:stream:auth';
const xlen = (stream) => Number(redis('XLEN', stream));

/** stream_trim_above of a process of the test stack (its generated config file). */
function trimAbove(name) {
  const m = /^stream_trim_above\s*=\s*(\d+)\s*$/m.exec(readFileSync(`${STATE}/etc/${name}.conf`, 'utf8'));
  assert.ok(m, `${name}.conf sets stream_trim_above`);
  return Number(m[1]);
}

/** 'n' dictionary items created straight at the auth service (no gateway, no rate limit),
 * 'conns' requests at a time; each commits one dict.item_created event. */
async function createDirect(tok, prefix, n, conns = 8) {
  let next = 0;
  const statusCounts = {};
  const one = async () => {
    while (next < n) {
      const value = `${prefix}${next++}`;
      const res = await fetch(`${serviceUrl('auth')}/api/v1/dicts/industry/items`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
        body: JSON.stringify({ value, label_zh: `裁剪${value}`, label_en: `trim ${value}` }),
      });
      await res.arrayBuffer();
      statusCounts[res.status] = (statusCounts[res.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: conns }, one));
  return statusCounts;
}

test('trimming keeps every entry the audit group has not read, and shrinks the streams once it has', async (t) => {
  const gwAbove = trimAbove('gateway');
  const authAbove = trimAbove('auth');
  const tok = await adminToken();
  await quiet();
  const m = marks();
  const prefix = `ft${rnd()}_`;
  t.diagnostic(`stream_trim_above: gateway ${gwAbove}, auth ${authAbove}; XLEN now ${xlen(GW)} / ${xlen(AUTH)}`);

  supervisorctl('stop', 'audit');
  let started = false;
  t.after(() => { if (!started) supervisorctl('start', 'audit'); });

  // Through the gateway: each answered write leaves a gateway.operation entry (and a created
  // item leaves a dict.item_created on the auth stream), none of them read by anyone.
  const gwNeed = gwAbove + 200;
  const b = burst(tok, prefix, { workers: 2, paceMs: 10 });
  try {
    await eventually(() => b.results.filter((r) => r.status !== 0).length >= gwNeed, 60000, `${gwNeed} writes through the gateway`);
  } finally {
    await b.stop();
  }
  // Straight at auth: more unread entries on the auth stream than its threshold too.
  const authNeed = Math.max(0, authAbove - outboxSince(m).filter((r) => r.producer === 'auth').length) + 200;
  const direct = await createDirect(tok, `${prefix}d`, authNeed);
  assert.deepEqual(Object.keys(direct), ['201'], `direct creates: ${JSON.stringify(direct)}`);
  t.diagnostic(`gateway writes ${JSON.stringify(statuses(b.results))}, direct creates ${authNeed}`);

  await eventually(() => unpublished() === 0, 30000, 'every outbox row published');
  await sleep(3000); // the relays trim every second, the gateway every 250 ms

  // More unread entries than the threshold, so the producers tried to trim (the entries read
  // before the drill may have gone), and nothing unread was trimmed: all of it is still there.
  const answered = b.results.filter((r) => r.status !== 0).length;
  const authEvents = outboxSince(m).filter((r) => r.producer === 'auth').length;
  assert.ok(answered > gwAbove && authEvents > authAbove, `unread: ${answered} operations, ${authEvents} auth events`);
  assert.ok(xlen(GW) >= answered, `${GW}: ${xlen(GW)} entries, ${answered} of them unread`);
  assert.ok(xlen(AUTH) >= authEvents, `${AUTH}: ${xlen(AUTH)} entries, ${authEvents} of them unread`);

  supervisorctl('start', 'audit');
  started = true;
  await waitHealthy('audit');

  // Every change and every operation applied once, and then the streams are trimmed.
  await expectExactlyOnce(m, 'after the audit service read the backlog', 120000);
  await expectOperationsOnce(prefix, b.results, 'the gateway writes', 60000);
  await eventually(() => xlen(GW) <= gwAbove, 20000, `${GW} trimmed to at most ${gwAbove} entries`);
  await eventually(() => xlen(AUTH) <= authAbove, 20000, `${AUTH} trimmed to at most ${authAbove} entries`);
  t.diagnostic(`XLEN after the audit read: ${xlen(GW)} / ${xlen(AUTH)}`);
  await expectVerifyOk(tok);
});
