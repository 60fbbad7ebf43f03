// SPDX-License-Identifier: Apache-2.0
// Transfers (issue 13): the seed's flow (manager A hands customers to B with a reason; B has
// every right on them, contacts and follow-ups included, A none); who may transfer what, and
// to whom; every refusal a field error with nothing recorded; two transfers of one customer at
// once, one wins; a director's hand-over of all of a manager's customers as a job, spread over
// two receivers; the history per customer and per manager inside the scope; the audit.
// The demo accounts of deploy/demo/load (东: director_east, manager_east1/2; 南: manager_south1),
// through the gateway.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually, expectProblem, login, mysql, tokenOf } from './lib.mjs';

const sfx = Math.random().toString(36).slice(2, 8);
const T = {};
const ME = {};
let seq = 0;

async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A customer of 'who', once the transfer service knows it (its projection of customer.*). */
async function customer(who, fields = {}) {
  const c = await ok(await api('POST', '/api/v1/customers', T[who], { name: `转移测试${sfx}${++seq}有限公司`, ...fields }), 201);
  await eventually(() => mysql(`SELECT manager_id FROM crm_transfer.customer_owners WHERE customer_id = ${c.id}`) === String(c.manager_id), 20000, `customer ${c.id} known to the transfer service`);
  return c;
}
const transfer = (who, body) => api('POST', '/api/v1/transfers', T[who], body);
const ownerOf = (id) => mysql(`SELECT manager_id FROM crm_customer.customers WHERE id = ${Number(id)}`);

before(async () => {
  for (const u of ['admin', 'director_east', 'manager_east1', 'manager_east2', 'manager_south1', 'viewer']) {
    T[u] = await tokenOf(u);
    ME[u] = (await ok(await api('GET', '/api/v1/auth/me', T[u]))).id;
  }
});

test('the seed\'s flow: A transfers to B with a reason; B reads and edits it, A gets 404', async () => {
  const c = await customer('manager_east1');
  const t = await ok(await transfer('manager_east1', { customer_ids: [c.id], to_manager_id: ME.manager_east2, reason: '  张伟调岗，客户交李娜跟进  ' }), 201);
  assert.equal(t.kind, 'select');
  assert.equal(t.status, 'completed');
  assert.equal(t.reason, '张伟调岗，客户交李娜跟进', 'the reason is kept trimmed');
  assert.equal(t.operator_id, ME.manager_east1);
  assert.equal(t.to_manager_name, '李娜');
  assert.deepEqual(t.items.map((i) => [i.customer_id, i.from_manager_id, i.to_manager_id]), [[c.id, ME.manager_east1, ME.manager_east2]]);

  // the customer service applies transfer.completed: B owns it, owner_time moved, not followed up
  await eventually(() => ownerOf(c.id) === String(ME.manager_east2), 20000, 'the new owner at the customer service');
  const seen = await ok(await api('GET', `/api/v1/customers/${c.id}`, T.manager_east2));
  assert.equal(seen.manager_id, ME.manager_east2);
  assert.equal(seen.manager_name, '李娜');
  assert.equal(seen.followed_up, false);
  assert.ok(Date.parse(seen.owner_time) >= Date.parse(c.owner_time));
  // "moved to me" on B's to-dos, until B follows it up
  const todos = await ok(await api('GET', '/api/v1/customers/todos', T.manager_east2));
  assert.ok(todos.moved >= 1, JSON.stringify(todos));
  const moved = await ok(await api('GET', '/api/v1/customers?todo=moved&page_size=100', T.manager_east2));
  assert.ok(moved.items.some((x) => x.id === c.id), 'in the moved-to-me list');
  assert.ok(!(await ok(await api('GET', '/api/v1/customers?todo=moved&page_size=100', T.manager_east1))).items.some((x) => x.id === c.id));
  await ok(await api('PATCH', `/api/v1/customers/${c.id}`, T.manager_east2, { version: seen.version, notes: '接手后第一次编辑' }));
  // B adds a contact and a follow-up; the follow-up takes it off "moved to me"
  const contact = await ok(await api('POST', '/api/v1/contacts', T.manager_east2, { customer_id: c.id, name: '王经理', mobile: '13912345678' }), 201);
  const f = await ok(await api('POST', '/api/v1/followups', T.manager_east2, {
    customer_id: c.id, contact_at: new Date(Date.now() - 60e3).toISOString(), method: 'phone', content: '接手后首次电话沟通',
    contact_ids: [contact.id],
  }), 201);
  assert.ok(!(await ok(await api('GET', '/api/v1/customers?todo=moved&page_size=100', T.manager_east2))).items.some((x) => x.id === c.id), 'followed up: off the list');
  await expectProblem(await api('GET', `/api/v1/followups/${f.id}`, T.manager_east1), 404, 'not_found');
  await expectProblem(await api('GET', `/api/v1/contacts/${contact.id}`, T.manager_east1), 404, 'not_found');
  await expectProblem(await api('GET', `/api/v1/customers/${c.id}/contacts`, T.manager_east1), 404, 'not_found');
  await expectProblem(await api('GET', `/api/v1/customers/${c.id}/followups`, T.manager_east1), 404, 'not_found');
  await expectProblem(await api('GET', `/api/v1/customers/${c.id}`, T.manager_east1), 404, 'not_found');
  await expectProblem(await api('PATCH', `/api/v1/customers/${c.id}`, T.manager_east1, { version: seen.version + 1, notes: 'x' }), 404, 'not_found');
  // the director of both still sees it
  await ok(await api('GET', `/api/v1/customers/${c.id}`, T.director_east));

  // the history: the customer's, the giver's and the receiver's; the transfer by id
  const hist = await ok(await api('GET', `/api/v1/transfers?customer_id=${c.id}`, T.manager_east2));
  assert.equal(hist.items.length, 1);
  assert.equal(hist.items[0].from_manager_name, '张伟');
  assert.equal(hist.items[0].to_manager_name, '李娜');
  assert.equal(hist.items[0].reason, '张伟调岗，客户交李娜跟进');
  assert.equal(hist.items[0].customer_name, c.name);
  const given = await ok(await api('GET', `/api/v1/transfers?from_manager_id=${ME.manager_east1}&page_size=100`, T.manager_east1));
  assert.ok(given.items.some((i) => i.customer_id === c.id), 'A sees what A gave');
  await ok(await api('GET', `/api/v1/transfers/${t.id}`, T.manager_east1));
  await ok(await api('GET', `/api/v1/transfers/${t.id}`, T.manager_east2));
  // a manager of another department sees neither the items nor the transfer
  const other = await ok(await api('GET', `/api/v1/transfers?customer_id=${c.id}`, T.manager_south1));
  assert.equal(other.items.length, 0);
  await expectProblem(await api('GET', `/api/v1/transfers/${t.id}`, T.manager_south1), 404, 'not_found');

  // the audit has it, on the customer
  await eventually(async () => {
    const a = await ok(await api('GET', `/api/v1/audit/logs?event_type=transfer.completed&subject_type=customer&subject_id=${c.id}`, T.admin));
    return a.items.length === 1;
  }, 20000, 'transfer.completed in the audit log');
});

test('refusals are field errors and record nothing', async () => {
  const c = await customer('manager_east1');
  const mine = await customer('manager_east1');
  const south = await customer('manager_south1');
  const before = mysql('SELECT COUNT(*) FROM crm_transfer.transfer_items');
  const refuse = async (who, body, field, code) => {
    const p = await expectProblem(await transfer(who, body), 422, 'validation_failed');
    const e = p.errors.find((x) => x.field === field);
    assert.ok(e, `${field} in ${JSON.stringify(p.errors)}`);
    assert.equal(e.code, code, `${field}: ${JSON.stringify(e)}`);
  };
  const base = { customer_ids: [c.id], to_manager_id: ME.manager_east2, reason: '调整' };
  await refuse('manager_east1', { ...base, reason: '   ' }, 'reason', 'blank');
  await refuse('manager_east1', { ...base, reason: '' }, 'reason', 'length');
  await refuse('manager_east1', { ...base, customer_ids: [] }, 'customer_ids', 'item_count');
  await refuse('manager_east1', { ...base, customer_ids: [c.id, c.id] }, 'customer_ids[1]', 'repeated_value');
  await refuse('manager_east1', { ...base, to_manager_id: ME.manager_east1 }, 'customer_ids[0]', 'same_owner');
  await refuse('manager_east1', { ...base, to_manager_id: ME.viewer }, 'to_manager_id', 'not_a_receiver');
  await refuse('manager_east1', { ...base, to_manager_id: 987654321 }, 'to_manager_id', 'no_such_user');
  // another manager's customer, by a manager: not theirs to give
  await refuse('manager_east1', { ...base, customer_ids: [mine.id, south.id] }, 'customer_ids[1]', 'no_such_customer');
  // a director outside their department
  await refuse('director_east', { ...base, customer_ids: [south.id] }, 'customer_ids[0]', 'no_such_customer');
  await refuse('director_east', { ...base, to_manager_id: ME.manager_south1 }, 'to_manager_id', 'no_such_user');
  // a customer in the recycle bin
  const gone = await customer('manager_east1');
  assert.equal((await api('DELETE', `/api/v1/customers/${gone.id}`, T.manager_east1)).status, 204);
  await eventually(() => mysql(`SELECT deleted FROM crm_transfer.customer_owners WHERE customer_id = ${gone.id}`) === '1', 20000, 'the deletion known');
  await refuse('manager_east1', { ...base, customer_ids: [gone.id] }, 'customer_ids[0]', 'no_such_customer');
  // a disabled receiver
  const roles = (await ok(await api('GET', '/api/v1/roles?page_size=100', T.admin))).items;
  const cm = roles.find((r) => r.code === 'customer_manager').id;
  const u = await ok(await api('POST', '/api/v1/users', T.admin, { username: `tr_${sfx}`, display_name: '离职员工', password: 'Lantern-Orchid-57', role_ids: [cm] }), 201);
  await ok(await api('POST', `/api/v1/users/${u.id}/disable`, T.admin));
  await eventually(() => mysql(`SELECT status FROM crm_transfer.scope_users WHERE user_id = ${u.id}`) === 'disabled', 20000, 'the disable known');
  await refuse('manager_east1', { ...base, to_manager_id: u.id }, 'to_manager_id', 'not_a_receiver');
  // a viewer may not transfer at all
  await expectProblem(await transfer('viewer', base), 403, 'forbidden');
  assert.equal(mysql('SELECT COUNT(*) FROM crm_transfer.transfer_items'), before, 'nothing recorded');
  assert.equal(ownerOf(c.id), String(ME.manager_east1));
});

test('two transfers of one customer at the same moment: exactly one wins, the other says why', async () => {
  for (let round = 0; round < 3; round++) {
    const c = await customer('manager_east1');
    const [a, b] = await Promise.all([
      transfer('manager_east1', { customer_ids: [c.id], to_manager_id: ME.manager_east2, reason: '并发一' }),
      transfer('manager_east1', { customer_ids: [c.id], to_manager_id: ME.manager_east2, reason: '并发二' }),
    ]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [201, 422], `round ${round}: ${statuses}`);
    const loser = a.status === 422 ? a : b;
    const p = await loser.json();
    assert.ok(['no_such_customer', 'same_owner'].includes(p.errors[0].code), JSON.stringify(p));
    assert.equal(mysql(`SELECT COUNT(*) FROM crm_transfer.transfer_items WHERE customer_id = ${c.id}`), '1');
  }
});

test('a director hands over all of a manager\'s customers to two receivers as a job; each moves once', async () => {
  // a fresh giver with customers of their own
  const roles = (await ok(await api('GET', '/api/v1/roles?page_size=100', T.admin))).items;
  const cm = roles.find((r) => r.code === 'customer_manager').id;
  const me = await ok(await api('GET', '/api/v1/auth/me', T.director_east));
  const giver = await ok(await api('POST', '/api/v1/users', T.admin, { username: `tg_${sfx}`, display_name: '交接人', password: 'Marble-Violet-83', dept_id: me.dept_id, role_ids: [cm] }), 201);
  await eventually(() => mysql(`SELECT COUNT(*) FROM crm_customer.scope_users WHERE user_id = ${giver.id}`) === '1', 20000, 'the giver known to the customer service');
  const ids = [];
  for (let i = 0; i < 12; i++) ids.push((await ok(await api('POST', '/api/v1/customers', T.director_east, { name: `交接客户${sfx}${i}有限公司`, manager_id: giver.id }), 201)).id);
  await eventually(() => mysql(`SELECT COUNT(*) FROM crm_transfer.customer_owners WHERE manager_id = ${giver.id}`) === '12', 20000, 'the giver\'s customers known');
  await expectProblem(await api('POST', '/api/v1/transfers/handover', T.manager_east1, { from_manager_id: giver.id, to_manager_ids: [ME.manager_east2], reason: '离职' }), 403, 'forbidden');
  const preview = await ok(await api('GET', `/api/v1/transfers/handover/preview?from_manager_id=${giver.id}`, T.director_east));
  assert.equal(preview.total, 12);
  const job = await ok(await api('POST', '/api/v1/transfers/handover', T.director_east, {
    from_manager_id: giver.id, to_manager_ids: [ME.manager_east1, ME.manager_east2], reason: '交接人离职，客户平均分给张伟和李娜',
  }), 202);
  assert.equal(job.kind, 'handover');
  assert.equal(job.total, 12);
  let state;
  await eventually(async () => {
    state = await ok(await api('GET', `/api/v1/transfers/${job.id}`, T.director_east));
    return state.status === 'done';
  }, 30000, 'the hand-over done');
  assert.equal(state.done, 12);
  assert.equal(state.failed, 0);
  const items = await ok(await api('GET', `/api/v1/transfers?transfer_id=${job.id}&page_size=100`, T.director_east));
  assert.equal(items.items.length, 12);
  const per = {};
  for (const i of items.items) per[i.to_manager_id] = (per[i.to_manager_id] ?? 0) + 1;
  assert.deepEqual(per, { [ME.manager_east1]: 6, [ME.manager_east2]: 6 }, 'spread evenly');
  await eventually(() => mysql(`SELECT COUNT(*) FROM crm_customer.customers WHERE manager_id = ${giver.id}`) === '0', 20000, 'every customer moved at the customer service');
  for (const id of ids) assert.equal(mysql(`SELECT COUNT(*) FROM crm_transfer.transfer_items WHERE customer_id = ${id}`), '1');

  // the hand-over page lists it from the server, on any device: for its director and for ALL,
  // with the receivers' names; not for a holder of the permission whose scope is elsewhere
  const names = await Promise.all(['manager_east1', 'manager_east2'].map(async (u) => (await ok(await api('GET', '/api/v1/auth/me', T[u]))).display_name));
  for (const who of ['director_east', 'admin']) {
    const page = await ok(await api('GET', '/api/v1/transfers/handover?page_size=100', T[who]));
    const row = page.items.find((h) => h.id === job.id);
    assert.ok(row, `${who} lists the hand-over`);
    assert.deepEqual(row.receiver_names, names);
    assert.deepEqual(row.receivers, [ME.manager_east1, ME.manager_east2]);
    assert.equal(row.status, 'done');
    assert.equal(row.from_manager_name, '交接人');
    assert.ok(page.items.every((h) => h.kind === 'handover'), 'hand-overs only');
  }
  await expectProblem(await api('GET', '/api/v1/transfers/handover', T.manager_east1), 403, 'forbidden');
  const south = (await ok(await api('GET', `/api/v1/users/${ME.manager_south1}`, T.admin))).dept_id;
  const elsewhere = await ok(await api('POST', '/api/v1/roles', T.admin, {
    code: `ho_south_${sfx}`, name: '华南交接', data_scope: 'DEPT', permissions: ['transfer:transfer:handover', 'transfer:transfer:read'],
  }), 201);
  const other = await ok(await api('POST', '/api/v1/users', T.admin, { username: `ho_south_${sfx}`, display_name: '华南交接人', password: 'Marble-Violet-83', dept_id: south, role_ids: [elsewhere.id] }), 201);
  const l = await login(other.username, 'Marble-Violet-83');
  assert.equal(l.res.status, 200, JSON.stringify(l.body));
  const theirs = await ok(await api('GET', '/api/v1/transfers/handover?page_size=100', l.body.access_token));
  assert.ok(!theirs.items.some((h) => h.id === job.id), 'outside the scope: not listed');
  await expectProblem(await api('GET', `/api/v1/transfers/${job.id}`, l.body.access_token), 404, 'not_found');
});
