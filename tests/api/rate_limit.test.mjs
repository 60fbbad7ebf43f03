// SPDX-License-Identifier: Apache-2.0
// The gateway's rate limit per client address: a burst gets 429 problem+json with Retry-After.
// crm-test: alone (deploy/crm runs it by itself, after the others: the burst empties the bucket
// of 127.0.0.1, which every other test file shares)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEWAY, expectProblem, sleep } from './lib.mjs';

test('the gateway limits request rate per client address with 429 and Retry-After', async () => {
  // The test stack allows 100/s with a burst of 200: 600 quick requests must see 429s. The
  // gateway answers unknown API paths itself, so the burst arrives faster than the refill.
  const results = await Promise.all(Array.from({ length: 600 }, () => fetch(`${GATEWAY}/api/v1/no-such-thing`)));
  const limited = results.filter((r) => r.status === 429);
  assert.ok(limited.length > 0, 'some requests were limited');
  assert.ok(results.some((r) => r.status === 404), 'the burst was served');
  const body = await expectProblem(limited[0], 429, 'rate_limited');
  assert.ok(Number(limited[0].headers.get('retry-after')) >= 1);
  assert.ok(body.detail);
  await Promise.all(results.filter((r) => !r.bodyUsed).map((r) => r.body?.cancel()));
  // static files and health checks are not rate limited
  assert.equal((await fetch(`${GATEWAY}/healthz`)).status, 200);
  await sleep(2500); // let the bucket refill for the tests that follow
});
