// SPDX-License-Identifier: Apache-2.0
// Failure of one service: 502 fast when it is dead, 504 within the timeout when it hangs, other
// routes unaffected; workers never block the event loop; full queues answer 503; SIGTERM drains.
// crm-test: alone (deploy/crm runs it by itself, after the others: it kills, stops and restarts
// services, fills audit's worker queue, and counts customer's busy workers)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEWAY, auth, eventually, expectProblem, healthy, pidOf, serviceUrl, sleep, supervisorctl } from './lib.mjs';

const info = (svc) => fetch(`${GATEWAY}/api/v1/system/${svc}/info`, { headers: auth() });

test('a service killed with kill -9 gives 502 within 1 s; others keep answering; it comes back', async () => {
  const supervisord = Number(supervisorctl('pid').trim());
  assert.ok(supervisord > 0);
  const victim = pidOf('transfer'); // ask before the supervisor is paused: it cannot answer then
  // hold the supervisor so the dead service stays dead while we look
  process.kill(supervisord, 'SIGSTOP');
  try {
    process.kill(victim, 'SIGKILL');
    await sleep(100);
    const t0 = performance.now();
    const res = await info('transfer');
    const elapsed = performance.now() - t0;
    await expectProblem(res, 502, 'bad_gateway');
    assert.ok(elapsed < 1000, `502 after ${elapsed.toFixed(0)} ms`);
    assert.equal((await info('customer')).status, 200);
    assert.equal((await info('auth')).status, 200);
  } finally {
    process.kill(supervisord, 'SIGCONT');
  }
  await eventually(async () => (await info('transfer')).status === 200, 30000, 'transfer restarted by the supervisor');
});

test('a service that hangs gives 504 within the upstream timeout; others keep answering', async () => {
  const pid = pidOf('care');
  process.kill(pid, 'SIGSTOP');
  try {
    const t0 = performance.now();
    const [hung, other] = await Promise.all([info('care'), (async () => { await sleep(200); const t = performance.now(); const r = await info('audit'); return { r, ms: performance.now() - t }; })()]);
    const elapsed = performance.now() - t0;
    await expectProblem(hung, 504, 'gateway_timeout');
    // the test stack's upstream_timeout_ms is 2000
    assert.ok(elapsed >= 1900 && elapsed < 3500, `504 after ${elapsed.toFixed(0)} ms`);
    assert.equal(other.r.status, 200);
    assert.ok(other.ms < 500, `other route took ${other.ms.toFixed(0)} ms while care hung`);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await eventually(async () => (await info('care')).status === 200, 10000, 'care answers again');
});

test('a request parked in a worker does not delay /healthz of the same process', async () => {
  const base = serviceUrl('customer');
  const parked = fetch(`${base}/_debug/sleep?ms=3000`);
  await sleep(200);
  const t0 = performance.now();
  const h = await fetch(`${base}/healthz`);
  const ms = performance.now() - t0;
  assert.equal(h.status, 200);
  assert.ok(ms < 250, `/healthz took ${ms.toFixed(0)} ms while a worker slept`);
  const m = await (await fetch(`${base}/metrics`)).text();
  assert.match(m, /crm_worker_busy\{svc="customer"\} 1/);
  const done = await parked;
  assert.equal(done.status, 200);
  assert.deepEqual(await done.json(), { slept_ms: 3000 });
});

test('when the worker queue is full the service answers 503 with Retry-After', async () => {
  // the test stack runs 4 workers with a queue of 16: 40 sleepers overflow it
  const base = serviceUrl('audit');
  const all = await Promise.all(Array.from({ length: 40 }, () => fetch(`${base}/_debug/sleep?ms=500`)));
  const busy = all.filter((r) => r.status === 503);
  const ok = all.filter((r) => r.status === 200);
  assert.ok(busy.length > 0, 'some were refused');
  // 4 workers and 16 places hold 20, less what the files running beside this one have queued on
  // audit at that moment (the API files run three at a time): a full pool, not an exact count
  assert.ok(ok.length >= 12, `the pool served ${ok.length}`);
  const b = await expectProblem(busy[0], 503, 'overloaded');
  assert.equal(busy[0].headers.get('retry-after'), '1');
  assert.ok(b.detail);
  await Promise.all(all.filter((r) => !r.bodyUsed).map((r) => r.body?.cancel()));
  assert.ok(await healthy(base));
});

test('bad query parameters are field-level 422 problems', async () => {
  const res = await fetch(`${serviceUrl('audit')}/_debug/sleep?ms=forever`);
  const body = await expectProblem(res, 422, 'validation_failed');
  assert.deepEqual(body.errors, [
    { field: 'ms', code: 'out_of_range', params: { min: 0, max: 60000 }, message: 'must be an integer from 0 to 60000' },
  ]);
});

test('SIGTERM drains: the in-flight request completes, then the process exits and is restarted', async () => {
  const base = serviceUrl('care');
  const pid = pidOf('care');
  const inflight = fetch(`${base}/_debug/sleep?ms=1500`);
  await sleep(300);
  process.kill(pid, 'SIGTERM');
  const res = await inflight;
  assert.equal(res.status, 200, 'the request in flight was answered');
  assert.equal(res.headers.get('connection'), 'close');
  await eventually(() => { try { return pidOf('care') !== pid; } catch { return false; } }, 20000, 'a new care process');
  await eventually(() => healthy(base), 20000, 'care healthy again');
});
