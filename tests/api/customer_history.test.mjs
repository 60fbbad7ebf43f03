// SPDX-License-Identifier: Apache-2.0
// The change history of a customer (GET /api/v1/customers/{id}/history): every write about
// it, its follow-ups included, newest first, by name, with the field-level changes; readable
// by whoever may see the customer (its manager, their director, after a transfer its new
// manager with everything before), 404 outside the scope or in the recycle bin.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually, expectProblem, tokenOf } from './lib.mjs';

const sfx = Math.random().toString(36).slice(2, 8);
const T = {};
const ME = {};

async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}
const history = async (who, id) => ok(await api('GET', `/api/v1/customers/${id}/history?page_size=100`, T[who]));

before(async () => {
  for (const u of ['admin', 'director_east', 'manager_east1', 'manager_east2', 'manager_south1']) {
    T[u] = await tokenOf(u);
    ME[u] = (await ok(await api('GET', '/api/v1/auth/me', T[u]))).id;
  }
});

test('a customer\'s history: its writes and follow-ups, newest first, by name, with before and after', async () => {
  const c = await ok(await api('POST', '/api/v1/customers', T.manager_east1, { name: `历史${sfx}有限公司`, level: 'b' }), 201);
  const u = await ok(await api('PATCH', `/api/v1/customers/${c.id}`, T.manager_east1, { version: c.version, level: 'a', notes: '升为重点客户 ⭐' }));
  await ok(await api('POST', '/api/v1/followups', T.manager_east1, {
    customer_id: c.id, contact_at: new Date(Date.now() - 60e3).toISOString(), method: 'phone', content: '电话沟通报价',
  }), 201);
  const h = await history('manager_east1', c.id);
  const types = h.items.map((i) => i.event_type);
  assert.equal(types[types.length - 1], 'customer.created', 'oldest last');
  assert.ok(types.includes('followup.created'), types.join());
  const edit = h.items.find((i) => i.event_type === 'customer.updated' && i.data.changes.some((x) => x.field === 'level'));
  assert.ok(edit, JSON.stringify(h.items));
  assert.deepEqual(edit.data.changes.find((x) => x.field === 'level'), { field: 'level', before: 'b', after: 'a' });
  assert.deepEqual(edit.data.changes.find((x) => x.field === 'notes'), { field: 'notes', before: '', after: '升为重点客户 ⭐' });
  assert.equal(edit.actor_name, '张伟');
  assert.equal(edit.actor_user_id, ME.manager_east1);
  assert.ok(h.items.every((i, k) => k === 0 || i.id < h.items[k - 1].id), 'newest first');
  assert.ok(u.version > c.version);
  // the director sees it; a manager of another department, and a colleague, do not
  await ok(await api('GET', `/api/v1/customers/${c.id}/history`, T.director_east));
  await expectProblem(await api('GET', `/api/v1/customers/${c.id}/history`, T.manager_south1), 404, 'not_found');
  await expectProblem(await api('GET', `/api/v1/customers/${c.id}/history`, T.manager_east2), 404, 'not_found');

  // after a transfer the new manager has the whole history, the transfer included; the old one none
  await ok(await api('POST', '/api/v1/transfers', T.manager_east1, { customer_ids: [c.id], to_manager_id: ME.manager_east2, reason: '调岗' }), 201);
  let after;
  await eventually(async () => {
    const r = await api('GET', `/api/v1/customers/${c.id}/history?page_size=100`, T.manager_east2);
    if (r.status !== 200) return false;
    after = await r.json();
    return after.items.some((i) => i.event_type === 'customer.updated' && i.data.changes?.some((x) => x.field === 'manager_id'));
  }, 20000, 'the new manager reads the history with the transfer');
  assert.ok(after.items.some((i) => i.event_type === 'followup.created'), 'the follow-ups before the transfer');
  await expectProblem(await api('GET', `/api/v1/customers/${c.id}/history`, T.manager_east1), 404, 'not_found');

  // in the recycle bin: 404 like the customer
  assert.equal((await api('DELETE', `/api/v1/customers/${c.id}`, T.manager_east2)).status, 204);
  await expectProblem(await api('GET', `/api/v1/customers/${c.id}/history`, T.manager_east2), 404, 'not_found');
});
