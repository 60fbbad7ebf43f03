// SPDX-License-Identifier: Apache-2.0
// Drills of issue 13: a hand-over of a leaving manager's 20,000 customers to two colleagues,
// with kill -9 of the customer service in the middle (it applies transfer.completed), and a
// second with kill -9 of the transfer service itself (it works through the job). Each time
// every customer ends with its right owner, changed exactly once (one transfer item, one
// customer.updated, version 2), and the job says done.
//
// The customers are loaded straight into the two services' tables (the customer service's and
// the transfer service's view of owners), as a data load would: 20,000 creates through the API
// would take this suite minutes and show nothing more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminToken, api, eventually, mysql, pidOf, rnd, supervisorctl, waitHealthy } from './lib.mjs';

async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A customer manager made for the drill, known to both services' projections. */
async function manager(tok, tag) {
  const roles = (await ok(await api('GET', '/api/v1/roles?page_size=100', tok))).items;
  const u = await ok(await api('POST', '/api/v1/users', tok, {
    username: `ho_${tag}`, display_name: `交接${tag}`, password: 'Quartz-Meadow-61', role_ids: [roles.find((r) => r.code === 'customer_manager').id],
  }), 201);
  for (const svc of ['customer', 'transfer']) {
    await eventually(() => mysql(`SELECT role_codes FROM crm_${svc}.scope_users WHERE user_id = ${u.id}`) === 'customer_manager', 20000, `${u.username} known to ${svc}`);
  }
  return u;
}

/** 'n' customers of 'owner' with ids from 'base' + 1, in both services. */
function load(owner, n, base, tag) {
  mysql(`INSERT INTO crm_customer.customers (id, name, name_search, name_norm, manager_id, created_by)
         SELECT ${base} + seq, CONCAT('交接客户${tag}', seq, '有限公司'), CONCAT('交接客户${tag}', seq, '有限公司'),
                CONCAT('交接客户${tag}', seq, '有限公司'), ${owner}, ${owner} FROM crm_customer.seq_1_to_${n}`);
  mysql(`INSERT INTO crm_transfer.customer_owners (customer_id, name, manager_id, version)
         SELECT ${base} + seq, CONCAT('交接客户${tag}', seq, '有限公司'), ${owner}, 1 FROM crm_customer.seq_1_to_${n}`);
}

const progress = (id) => mysql(`SELECT done FROM crm_transfer.transfers WHERE id = ${id}`);

async function drill(t, victim, n) {
  const tok = await adminToken();
  const tag = rnd();
  const [giver, a, b] = [await manager(tok, `${tag}g`), await manager(tok, `${tag}a`), await manager(tok, `${tag}b`)];
  const base = Number(mysql('SELECT GREATEST(COALESCE(MAX(id), 0), 1000000) FROM crm_customer.customers')) + 1000;
  load(giver.id, n, base, tag);
  const range = `BETWEEN ${base + 1} AND ${base + n}`;
  const started = Date.now();
  const job = await ok(await api('POST', '/api/v1/transfers/handover', tok, {
    from_manager_id: giver.id, to_manager_ids: [a.id, b.id], reason: `${giver.display_name}离职，交接全部客户`,
  }), 202);
  assert.equal(job.total, n);
  // kill -9 once a part has moved (and the customer service is applying it)
  await eventually(() => Number(progress(job.id)) >= n / 4, 60000, 'a quarter moved');
  const pid = pidOf(victim);
  process.kill(pid, 'SIGKILL');
  t.diagnostic(`killed ${victim} (pid ${pid}) with ${progress(job.id)} of ${n} moved`);
  await eventually(() => { const s = supervisorctl('status', victim); return /RUNNING/.test(s) && !s.includes(`pid ${pid},`); }, 20000, `${victim} restarted`);
  await waitHealthy(victim, 30000);
  let state;
  await eventually(async () => {
    state = await ok(await api('GET', `/api/v1/transfers/${job.id}`, tok));
    return state.status === 'done';
  }, 240000, 'the hand-over done');
  const jobMs = Date.now() - started;
  await eventually(() => mysql(`SELECT COUNT(*) FROM crm_customer.customers WHERE id ${range} AND last_transfer_id = ${job.id}`) === String(n), 240000, 'every customer moved at the customer service');
  t.diagnostic(`${n} customers: job done after ${jobMs} ms, all applied by the customer service after ${Date.now() - started} ms`);
  assert.equal(state.done, n);
  assert.equal(state.failed, 0);
  // one item each, spread evenly, every customer changed once
  assert.equal(mysql(`SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM crm_transfer.transfer_items WHERE transfer_id = ${job.id}`), `${n}\t${n}`);
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_transfer.transfer_items WHERE transfer_id = ${job.id} AND customer_id NOT ${range}`), '0');
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_customer.customers WHERE id ${range} AND manager_id = ${a.id}`), String(n / 2));
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_customer.customers WHERE id ${range} AND manager_id = ${b.id}`), String(n / 2));
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_customer.customers WHERE id ${range} AND version <> 2`), '0', 'changed exactly once');
  // the owner each customer has is the one its transfer item names
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_customer.customers c JOIN crm_transfer.transfer_items ti ON ti.customer_id = c.id AND ti.transfer_id = ${job.id} WHERE c.manager_id <> ti.to_manager_id`), '0');
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_transfer.customer_owners o JOIN crm_transfer.transfer_items ti ON ti.customer_id = o.customer_id AND ti.transfer_id = ${job.id} WHERE o.manager_id <> ti.to_manager_id`), '0');
  // one customer.updated per customer, and one transfer.completed
  const subject = "CAST(JSON_VALUE(envelope, '$.subject.id') AS UNSIGNED)";
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_customer.outbox WHERE event_type = 'customer.updated' AND ${subject} ${range}`), String(n));
  assert.equal(mysql(`SELECT COUNT(*), COUNT(DISTINCT ${subject}) FROM crm_transfer.outbox WHERE event_type = 'transfer.completed' AND JSON_VALUE(envelope, '$.data.transfer_id') = ${job.id}`), `${n}\t${n}`);
  // and each transfer in the audit log, once (the next drill starts from a quiet audit too)
  const audited = () => mysql(`SELECT COUNT(*), COUNT(DISTINCT subject_id) FROM crm_audit.audit_log WHERE event_type = 'transfer.completed' AND CAST(subject_id AS UNSIGNED) ${range}`);
  await eventually(() => audited() === `${n}\t${n}`, 240000, 'every transfer in the audit log');
  await eventually(() => mysql(`SELECT COUNT(*) FROM crm_audit.audit_log WHERE event_type = 'customer.updated' AND CAST(subject_id AS UNSIGNED) ${range}`) === String(n), 240000, 'every owner change in the audit log');
  t.diagnostic(`audited after ${Date.now() - started} ms`);
}

test('kill -9 of the customer service in the middle of a hand-over of 20,000 customers: each ends with its owner, changed once', async (t) => {
  await drill(t, 'customer', 20000);
});

test('kill -9 of the transfer service in the middle of a hand-over: it resumes where it was, nothing moved twice', async (t) => {
  await drill(t, 'transfer', 10000);
});
