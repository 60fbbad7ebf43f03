// SPDX-License-Identifier: Apache-2.0
// What administrators of a RuoYi-style console expect of the API (issue 11 #7): departments with
// a leader, phone, email and status, a delete refusal that says what a department still holds,
// the built-in administrator role locked, and role names in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, expectProblem, mysql, tokenOf, eventually } from './lib.mjs';

const rnd = () => Math.random().toString(36).slice(2, 10);
const PW = 'Quartz-Lantern-2026!';
const json = async (res, status) => {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return text ? JSON.parse(text) : null;
};
const findDept = (nodes, id) => {
  for (const n of nodes) {
    if (n.id === id) return n;
    const c = findDept(n.children || [], id);
    if (c) return c;
  }
  return null;
};
const audited = (type, id) =>
  mysql(`SELECT changes FROM crm_audit.audit_log WHERE event_type = '${type}' AND subject_id = '${id}' ORDER BY id DESC LIMIT 1`);

test('#7 a department keeps its leader (shown by name), phone, email and status; the event carries them', async () => {
  const admin = await tokenOf('admin');
  const leader = await json(await api('POST', '/api/v1/users', admin, { username: `lead_${rnd()}`, display_name: '部门负责人', password: PW }), 201);
  const d = await json(await api('POST', '/api/v1/departments', admin, {
    name: `部门 ${rnd()}`, leader_id: leader.id, phone: '+86 10-8888 0000', email: 'east@example.com', status: 'enabled',
  }), 201);
  assert.equal(d.leader_id, leader.id);
  assert.equal(d.leader_name, '部门负责人');
  assert.equal(d.phone, '+86 10-8888 0000');
  assert.equal(d.email, 'east@example.com');
  assert.equal(d.status, 'enabled');
  const tree = await json(await api('GET', '/api/v1/departments', admin), 200);
  const node = findDept(tree.items, d.id);
  assert.equal(node.leader_name, '部门负责人', 'the tree shows the leader by name');
  await eventually(() => audited('department.created', d.id).includes('east@example.com'), 20000, 'department.created audited with its email');

  // a patch disables it and clears the leader; the change is in the event
  const p = await json(await api('PATCH', `/api/v1/departments/${d.id}`, admin, { version: d.version, status: 'disabled', leader_id: null }), 200);
  assert.equal(p.status, 'disabled');
  assert.equal(p.leader_id, null);
  assert.equal(p.leader_name, null);
  await eventually(() => /"field": ?"status"/.test(audited('department.updated', d.id)), 20000, 'department.updated with the status change');

  // bad values are field errors
  const bad = await expectProblem(await api('POST', '/api/v1/departments', admin, {
    name: `坏 ${rnd()}`, leader_id: 987654321, phone: 'call me', email: 'nobody', status: 'closed',
  }), 422, 'validation_failed');
  assert.deepEqual(bad.errors.map((e) => e.field).sort(), ['email', 'leader_id', 'phone', 'status']);
  const stale = await expectProblem(await api('PATCH', `/api/v1/departments/${d.id}`, admin, { version: p.version, email: 'x y@z' }), 422, 'validation_failed');
  assert.equal(stale.errors[0].field, 'email');
});

test('#7 deleting a department that still holds sub-departments and users answers 409 with the counts', async () => {
  const admin = await tokenOf('admin');
  const d = await json(await api('POST', '/api/v1/departments', admin, { name: `满 ${rnd()}` }), 201);
  await json(await api('POST', '/api/v1/departments', admin, { name: `子 ${rnd()}`, parent_id: d.id }), 201);
  await json(await api('POST', '/api/v1/departments', admin, { name: `子 ${rnd()}`, parent_id: d.id }), 201);
  await json(await api('POST', '/api/v1/users', admin, { username: `in_${rnd()}`, display_name: '部门成员', password: PW, dept_id: d.id }), 201);
  const p = await expectProblem(await api('DELETE', `/api/v1/departments/${d.id}`, admin), 409, 'department_not_empty');
  assert.equal(p.children, 2);
  assert.equal(p.users, 1);
  assert.equal(findDept((await json(await api('GET', '/api/v1/departments', admin), 200)).items, d.id)?.id, d.id, 'it is still there');
  // an empty one goes
  const e = await json(await api('POST', '/api/v1/departments', admin, { name: `空 ${rnd()}` }), 201);
  assert.equal((await api('DELETE', `/api/v1/departments/${e.id}`, admin)).status, 204);
});

test('#7 the built-in administrator role: its permissions and data scope are locked (403 builtin_role_locked)', async () => {
  const admin = await tokenOf('admin');
  const roles = await json(await api('GET', '/api/v1/roles?page_size=100', admin), 200);
  const role = roles.items.find((r) => r.code === 'admin');
  assert.equal(role.builtin, true);
  const before = mysql(`SELECT COUNT(*) FROM crm_auth.role_permissions WHERE role_id = ${role.id}`);
  const p1 = await expectProblem(await api('PATCH', `/api/v1/roles/${role.id}`, admin, { version: role.version, permissions: ['system:user:read'] }), 403, 'builtin_role_locked');
  assert.equal(p1.errors[0].field, 'permissions');
  const p2 = await expectProblem(await api('PATCH', `/api/v1/roles/${role.id}`, admin, { version: role.version, data_scope: 'SELF' }), 403, 'builtin_role_locked');
  assert.equal(p2.errors[0].field, 'data_scope');
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_auth.role_permissions WHERE role_id = ${role.id}`), before, 'no permission was taken away');
  assert.equal(mysql(`SELECT data_scope FROM crm_auth.roles WHERE id = ${role.id}`), 'ALL');
  // (its names and description may change; not tried here: any change to the role ends the
  // sessions of every administrator, those of the other test files too)
  // another built-in role stays editable
  const director = roles.items.find((x) => x.code === 'sales_director');
  const d = await json(await api('PATCH', `/api/v1/roles/${director.id}`, admin, { version: director.version, permissions: director.permissions }), 200);
  assert.deepEqual(d.permissions, director.permissions);
});

test('#7 roles have an English name beside the Chinese one; the built-in roles have theirs', async () => {
  const admin = await tokenOf('admin');
  const roles = await json(await api('GET', '/api/v1/roles?page_size=100', admin), 200);
  const en = Object.fromEntries(roles.items.filter((r) => r.builtin).map((r) => [r.code, r.name_en]));
  assert.deepEqual(en, { admin: 'Administrator', sales_director: 'Sales director', customer_manager: 'Customer manager', readonly: 'Read-only user' });
  const code = `bi_${rnd()}`;
  const c = await json(await api('POST', '/api/v1/roles', admin, { code, name: '渠道经理', name_en: 'Channel manager', data_scope: 'SELF' }), 201);
  assert.equal(c.name_en, 'Channel manager');
  const p = await json(await api('PATCH', `/api/v1/roles/${c.id}`, admin, { version: c.version, name_en: 'Partner manager' }), 200);
  assert.equal(p.name_en, 'Partner manager');
  assert.equal((await json(await api('GET', `/api/v1/roles/${c.id}`, admin), 200)).name_en, 'Partner manager');
  await expectProblem(await api('POST', '/api/v1/roles', admin, { code: `bj_${rnd()}`, name: 'x', name_en: 'y'.repeat(65), data_scope: 'SELF' }), 422, 'validation_failed');
  // a user's roles carry both names (the console shows the one of its language)
  const u = await json(await api('POST', '/api/v1/users', admin, { username: `rn_${rnd()}`, display_name: '双语', password: PW, role_ids: [c.id] }), 201);
  const got = await json(await api('GET', `/api/v1/users/${u.id}`, admin), 200);
  assert.ok(JSON.stringify(got).includes('Partner manager'), JSON.stringify(got));
});
