// SPDX-License-Identifier: Apache-2.0
// The customer service applies transfer.completed (issue 12): the test publishes the event the
// transfer service will produce (an envelope like the relay's, XADD to crm:stream:transfer as
// crm_admin), twice with the same event id, and checks that the customer changed owner once:
// one new version, one customer.updated on crm:stream:customer, one such entry in the audit; the
// new owner sees it (and its follow-up history), the old one gets 404. A transfer whose
// from_manager_id is no longer the owner is applied all the same; one of a customer that does
// not exist is recorded and skipped, never dead-lettered.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api, eventually, expectProblem, mysql, redis, sleep, tokenOf } from './lib.mjs';

const sfx = Math.random().toString(36).slice(2, 8);
const T = {};
const ME = {};
let seq = 0;
const uniq = () => `${sfx}${++seq}`;

async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

before(async () => {
  for (const u of ['admin', 'manager_east1', 'manager_east2', 'manager_south1']) {
    T[u] = await tokenOf(u);
    ME[u] = (await ok(await api('GET', '/api/v1/auth/me', T[u]))).id;
  }
});

/** A transfer.completed envelope as the transfer service's relay will write it (the contract
 * of proto-docs/asyncapi.yaml), by the administrator. */
function transferEvent(customerId, from, to, { id = randomUUID(), transferId = Math.floor(Math.random() * 1e9) } = {}) {
  return {
    id, type: 'transfer.completed', version: 1, occurred_at: new Date().toISOString(), producer: 'transfer',
    actor: { user_id: String(ME.admin), ip: '127.0.0.1' },
    subject: { type: 'customer', id: String(customerId) },
    data: {
      transfer_id: transferId, customer_id: customerId, customer_name: '转移测试客户', from_manager_id: from, to_manager_id: to,
      to_dept_id: 0, reason: '客户经理调岗 🚚', completed_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
    request_id: `transfer-test-${uniq()}`,
  };
}
const publish = (ev) => redis('XADD', 'crm:stream:transfer', '*', 'event', JSON.stringify(ev));

/** The envelopes of crm:stream:customer after entry 'since'. */
function customerEvents(since) {
  const out = [];
  const lines = redis('XRANGE', 'crm:stream:customer', `(${since}`, '+').split('\n');
  for (let i = 0; i < lines.length; i++) if (lines[i] === 'event') out.push(JSON.parse(lines[i + 1]));
  return out;
}
const lastCustomerEntry = () => redis('XREVRANGE', 'crm:stream:customer', '+', '-', 'COUNT', '1').split('\n')[0] || '0-0';
const processed = (id) => mysql(`SELECT COUNT(*) FROM crm_customer.processed_events WHERE event_id = '${id}'`);

test('transfer.completed changes the owner exactly once, even delivered twice', async () => {
  const c = await ok(await api('POST', '/api/v1/customers', T.manager_east1, { name: `转移${uniq()}有限公司` }), 201);
  const f = await ok(await api('POST', '/api/v1/followups', T.manager_east1, {
    customer_id: c.id, contact_at: new Date(Date.now() - 3600e3).toISOString(), method: 'phone', content: '转移前的跟进',
  }), 201);
  const was = await ok(await api('GET', `/api/v1/customers/${c.id}`, T.manager_east1));
  assert.equal(was.followed_up, true);
  const since = lastCustomerEntry();
  const ev = transferEvent(c.id, ME.manager_east1, ME.manager_east2);
  publish(ev);
  publish(ev); // a redelivery: the same event id
  let now;
  await eventually(async () => {
    const res = await api('GET', `/api/v1/customers/${c.id}`, T.manager_east2);
    if (res.status !== 200) return false;
    now = await res.json();
    return true;
  }, 15000, 'the new owner sees the customer');
  // a third event behind the two: once it is applied, the consumer is past the duplicate
  const marker = await ok(await api('POST', '/api/v1/customers', T.manager_east1, { name: `转移标记${uniq()}有限公司` }), 201);
  publish(transferEvent(marker.id, ME.manager_east1, ME.manager_east2));
  await eventually(async () => (await api('GET', `/api/v1/customers/${marker.id}`, T.manager_east2)).status === 200, 15000, 'the marker transferred');
  now = await ok(await api('GET', `/api/v1/customers/${c.id}`, T.manager_east2));
  assert.equal(now.manager_id, ME.manager_east2);
  assert.equal(now.manager_name, '李娜');
  assert.equal(now.version, was.version + 1, 'one new version, not two');
  assert.equal(now.followed_up, false, 'not followed up by its new owner');
  assert.ok(now.owner_time > was.owner_time, 'owner since now');
  assert.equal(processed(ev.id), '1');
  // the old owner: 404 everywhere; the new owner has the follow-up history
  await expectProblem(await api('GET', `/api/v1/customers/${c.id}`, T.manager_east1), 404, 'not_found');
  await expectProblem(await api('GET', `/api/v1/followups/${f.id}`, T.manager_east1), 404, 'not_found');
  const history = await ok(await api('GET', `/api/v1/customers/${c.id}/followups`, T.manager_east2));
  assert.deepEqual(history.items.map((x) => x.id), [f.id]);
  assert.equal(history.items[0].editable, false, 'the old owner wrote it');
  // one customer.updated, with the manager's change, the transfer's actor and request id
  const updates = customerEvents(since).filter((e) => e.type === 'customer.updated' && e.subject.id === String(c.id));
  assert.equal(updates.length, 1);
  const u = updates[0];
  assert.equal(u.request_id, ev.request_id);
  assert.equal(u.actor.user_id, String(ME.admin));
  assert.equal(u.data.transfer_id, ev.data.transfer_id);
  assert.equal(u.data.manager_id, ME.manager_east2);
  const change = (name) => u.data.changes.find((x) => x.field === name);
  assert.deepEqual(change('manager_id'), { field: 'manager_id', before: ME.manager_east1, after: ME.manager_east2 });
  assert.deepEqual(change('followed_up'), { field: 'followed_up', before: true, after: false });
  assert.ok(change('owner_time'));
  // and one entry in the audit
  let h;
  await eventually(async () => {
    h = await ok(await api('GET', `/api/v1/audit/history/customer/${c.id}`, T.admin));
    return h.items.some((i) => i.event_type === 'customer.updated' && i.changes.some((x) => x.field === 'manager_id'));
  }, 15000, 'the transfer in the audit');
  await sleep(1000);
  h = await ok(await api('GET', `/api/v1/audit/history/customer/${c.id}`, T.admin));
  const moved = h.items.filter((i) => i.event_type === 'customer.updated' && i.changes.some((x) => x.field === 'manager_id'));
  assert.equal(moved.length, 1);
  assert.deepEqual(moved[0].changes.find((x) => x.field === 'manager_id'), { field: 'manager_id', before: ME.manager_east1, after: ME.manager_east2 });
  assert.equal(h.items.filter((i) => i.event_type === 'transfer.completed').length, 1);
});

test('a transfer from someone who no longer owns the customer is applied; of a customer that does not exist, skipped', async () => {
  const c = await ok(await api('POST', '/api/v1/customers', T.manager_east1, { name: `转移${uniq()}有限公司` }), 201);
  // the transfer service checked it: the customer service applies what completed there
  publish(transferEvent(c.id, ME.manager_south1, ME.manager_east2));
  await eventually(async () => (await api('GET', `/api/v1/customers/${c.id}`, T.manager_east2)).status === 200, 15000, 'applied');
  // no such customer: recorded as processed, no change, nothing in the dead letters
  const ghost = transferEvent(2e12, ME.manager_east1, ME.manager_east2);
  const since = lastCustomerEntry();
  publish(ghost);
  await eventually(() => processed(ghost.id) === '1', 15000, 'the event recorded');
  assert.equal(customerEvents(since).filter((e) => e.subject.id === String(2e12)).length, 0);
  const dead = redis('XRANGE', 'crm:dead:customer', '-', '+');
  assert.ok(!dead.includes(ghost.id), 'not dead-lettered');
});

test('a transfer older than the last one applied to the customer, delivered late, changes nothing', async () => {
  const c = await ok(await api('POST', '/api/v1/customers', T.manager_east1, { name: `转移${uniq()}有限公司` }), 201);
  const newer = transferEvent(c.id, ME.manager_east1, ME.manager_east2, { transferId: 5000 });
  const older = transferEvent(c.id, ME.manager_east1, ME.manager_south1, { transferId: 4999 });
  publish(newer);
  await eventually(() => processed(newer.id) === '1', 15000, 'the newer applied');
  publish(older);
  await eventually(() => processed(older.id) === '1', 15000, 'the older recorded');
  assert.equal(mysql(`SELECT CONCAT(manager_id, ' ', last_transfer_id) FROM crm_customer.customers WHERE id = ${c.id}`), `${ME.manager_east2} 5000`);
  await expectProblem(await api('GET', `/api/v1/customers/${c.id}`, T.manager_south1), 404);
});

test('one batch of transfers: a customer moved twice in it moves twice, in order; a stale one among them changes nothing', async () => {
  const c = await ok(await api('POST', '/api/v1/customers', T.manager_east1, { name: `转移${uniq()}有限公司` }), 201);
  const d = await ok(await api('POST', '/api/v1/customers', T.manager_east1, { name: `转移${uniq()}有限公司` }), 201);
  const e = await ok(await api('POST', '/api/v1/customers', T.manager_east1, { name: `转移${uniq()}有限公司` }), 201);
  const base = 7000 + Math.floor(Math.random() * 1e6);
  const evs = [
    transferEvent(c.id, ME.manager_east1, ME.manager_east2, { transferId: base + 1 }),
    transferEvent(d.id, ME.manager_east1, ME.manager_south1, { transferId: base + 2 }),
    transferEvent(c.id, ME.manager_east2, ME.manager_south1, { transferId: base + 3 }),
    transferEvent(e.id, ME.manager_east1, ME.manager_east2, { transferId: base + 5 }),
    transferEvent(e.id, ME.manager_east1, ME.manager_south1, { transferId: base + 4 }), // older than the one before it
  ];
  const since = lastCustomerEntry();
  // one script: the entries are in the stream together, so the consumer reads them in one batch
  redis('EVAL', "for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'event', ARGV[i]) end return #ARGV", '1',
    'crm:stream:transfer', ...evs.map((x) => JSON.stringify(x)));
  await eventually(() => evs.every((x) => processed(x.id) === '1'), 15000, 'all five recorded');
  const updates = (id) => customerEvents(since).filter((x) => x.type === 'customer.updated' && x.subject.id === String(id));
  await eventually(() => updates(c.id).length >= 2 && updates(d.id).length >= 1 && updates(e.id).length >= 1, 15000, 'their customer.updated published');
  const row = (id) => mysql(`SELECT CONCAT(manager_id, ' ', last_transfer_id, ' ', version) FROM crm_customer.customers WHERE id = ${id}`);
  assert.equal(row(c.id), `${ME.manager_south1} ${base + 3} ${c.version + 2}`);
  assert.equal(row(d.id), `${ME.manager_south1} ${base + 2} ${d.version + 1}`);
  assert.equal(row(e.id), `${ME.manager_east2} ${base + 5} ${e.version + 1}`);
  const moves = (id) => updates(id).map((u) => [u.data.transfer_id, u.data.changes.find((x) => x.field === 'manager_id')]);
  assert.deepEqual(moves(c.id), [
    [base + 1, { field: 'manager_id', before: ME.manager_east1, after: ME.manager_east2 }],
    [base + 3, { field: 'manager_id', before: ME.manager_east2, after: ME.manager_south1 }],
  ]);
  assert.deepEqual(updates(c.id).map((u) => u.data.version), [c.version + 1, c.version + 2]);
  assert.deepEqual(updates(c.id).map((u) => u.request_id), [evs[0].request_id, evs[2].request_id]);
  assert.deepEqual(moves(d.id), [[base + 2, { field: 'manager_id', before: ME.manager_east1, after: ME.manager_south1 }]]);
  assert.deepEqual(moves(e.id), [[base + 5, { field: 'manager_id', before: ME.manager_east1, after: ME.manager_east2 }]]);
  // the customer's history (修改记录) has each move once
  const hist = mysql(`SELECT COUNT(*) FROM crm_customer.record_history WHERE record_type = 'customer' AND record_id = ${c.id} AND event_type = 'customer.updated'`);
  assert.equal(hist, '2');
});
