// SPDX-License-Identifier: Apache-2.0
// The other services' projection of users (libcrm scope.c, fed by auth's user events) knows
// each user's status and role codes: who may own a customer or receive a transfer is decided
// by the service itself, without reading auth's tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually, mysql, tokenOf } from './lib.mjs';

const sfx = Math.random().toString(36).slice(2, 8);

async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

const projected = (id) => mysql(`SELECT CONCAT(status, ' ', role_codes) FROM crm_customer.scope_users WHERE user_id = ${Number(id)}`);

test('a user\'s roles and status reach the customer service\'s projection: created, roles changed, disabled, enabled', async () => {
  const admin = await tokenOf('admin');
  const roles = (await ok(await api('GET', '/api/v1/roles?page_size=100', admin))).items;
  const role = (code) => roles.find((r) => r.code === code).id;
  const u = await ok(await api('POST', '/api/v1/users', admin, {
    username: `pj_${sfx}`, display_name: '投影', password: 'Kite-Harbor-Lamp-93', role_ids: [role('customer_manager')],
  }), 201);
  assert.deepEqual(u.role_codes, ['customer_manager'], 'the API shows the codes too');
  await eventually(() => projected(u.id) === 'enabled customer_manager', 20000, 'created with its role');

  await ok(await api('PATCH', `/api/v1/users/${u.id}`, admin, { version: u.version, role_ids: [role('customer_manager'), role('readonly')] }));
  await eventually(() => /^enabled (customer_manager,readonly|readonly,customer_manager)$/.test(projected(u.id)), 20000, 'both roles');

  await ok(await api('POST', `/api/v1/users/${u.id}/disable`, admin));
  await eventually(() => projected(u.id).startsWith('disabled '), 20000, 'disabled');
  await ok(await api('POST', `/api/v1/users/${u.id}/enable`, admin));
  await eventually(() => projected(u.id).startsWith('enabled '), 20000, 'enabled again');
});
