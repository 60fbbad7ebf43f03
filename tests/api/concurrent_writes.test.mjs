// SPDX-License-Identifier: Apache-2.0
// Writes at the same moment all land: two creates inserting into neighbouring gaps of the same
// indexes (names, the keyword index, the outbox, the history) can make InnoDB pick one as a
// deadlock's victim; the platform runs a victim again (svc.c, svc_job_rerun) instead of
// answering 503 "busy" to a request nobody did wrong. Seen in a suite run: POST /customers ->
// 503 busy, "Deadlock found when trying to get lock" in the customer log.
// crm-test: alone (deploy/crm runs it by itself, after the others: its bursts of writes take
// most of the gateway's rate-limit bucket of this address, which the other files share)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, sleep, tokenOf } from './lib.mjs';

const sfx = Math.random().toString(36).slice(2, 8);
// mobiles unique across runs on one stack (a mobile taken is a 409)
const base = 10000000 + Math.floor(Math.random() * 89990000);
const T = {};

before(async () => {
  for (const u of ['manager_east1', 'manager_east2', 'manager_south1']) T[u] = await tokenOf(u);
});

// the bucket full again (100 a second) before the next file
after(() => sleep(2500));

test('customers and their contacts created at once by several managers: every one 201', async () => {
  const who = Object.keys(T);
  const statuses = new Map();
  const count = (s) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
  // 8 at a time: the test stack's worker queue is 16 deep (a full queue is 503 too) and its
  // rate limit 100 requests a second
  for (let round = 0; round < 7; round++) {
    const made = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
      const res = await api('POST', '/api/v1/customers', T[who[i % who.length]], {
        name: `并发${sfx}${round}${String(i).padStart(2, '0')}贸易有限公司`, mobile: `139${base + round * 100 + i}`,
      });
      const body = await res.json();
      count(`${res.status}${body.code ? ` ${body.code}` : ''}`);
      return res.status === 201 ? { id: body.id, tok: T[who[i % who.length]] } : null;
    }));
    await Promise.all(made.filter(Boolean).flatMap((c, i) => [0, 1].map(async (k) => {
      const res = await api('POST', '/api/v1/contacts', c.tok, { customer_id: c.id, name: `联系人${i}${k}` });
      const body = await res.json();
      count(`${res.status}${body.code ? ` ${body.code}` : ''}`);
    })));
  }
  assert.deepEqual([...statuses.keys()], ['201'], `answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
});
