// SPDX-License-Identifier: Apache-2.0
// What administrators of a RuoYi-style console expect of the API (issue 11 #7): departments with
// a leader, phone, email and status, a delete refusal that says what a department still holds,
// the built-in administrator role locked, and role names in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, expectProblem, mysql, tokenOf, eventually, login } from './lib.mjs';

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
  const p = await expectProblem(await api('DELETE', `/api/v1/departments/${d.id}`, admin), 409, 'conflict');
  assert.equal(p.errors[0].code, 'dept_has_children');
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

// ---- sessions: online users and my sessions ----------------------------------------------------

const refresh = (refresh_token) => api('POST', '/api/v1/auth/refresh', null, { refresh_token });
const sessionsOf = async (tok, path = '/api/v1/auth/sessions') => (await json(await api('GET', path, tok), 200)).items;

test('#7 my sessions: each sign-in is one, the current one is marked; signing one out ends it at once, the other goes on', async () => {
  const admin = await tokenOf('admin');
  const username = `ses_${rnd()}`;
  const u = await json(await api('POST', '/api/v1/users', admin, { username, display_name: '会话用户', password: PW }), 201);
  const a = (await login(username, PW, { 'user-agent': 'Laptop-Browser/1.0' })).body;
  const b = (await login(username, PW, { 'user-agent': 'Phone-Browser/2.0' })).body;
  const mine = await sessionsOf(a.access_token);
  assert.equal(mine.length, 2, JSON.stringify(mine));
  const cur = mine.find((s) => s.current);
  assert.equal(cur.user_agent, 'Laptop-Browser/1.0');
  assert.equal(mine.filter((s) => s.current).length, 1);
  const other = mine.find((s) => !s.current);
  assert.equal(other.user_agent, 'Phone-Browser/2.0');
  for (const s of mine) {
    assert.equal(s.user_id, u.id);
    assert.equal(s.username, username);
    assert.ok(Date.parse(s.login_at) <= Date.parse(s.last_used_at));
    assert.ok(!('access_jti' in s) && !('family_id' in s), 'no token ids in the answer');
  }
  // a refresh keeps the session's id and login time and moves its last use
  await new Promise((r) => setTimeout(r, 20));
  const b2 = await json(await refresh(b.refresh_token), 200);
  const after = await sessionsOf(b2.access_token);
  const same = after.find((s) => s.current);
  assert.equal(same.id, other.id, 'the id stays while the tokens rotate');
  assert.equal(same.login_at, other.login_at);
  assert.ok(Date.parse(same.last_used_at) >= Date.parse(other.last_used_at));

  // someone else's session is not mine to end
  const adminSessions = await sessionsOf(admin);
  assert.ok(adminSessions.length >= 1);
  await expectProblem(await api('DELETE', `/api/v1/auth/sessions/${adminSessions[0].id}`, a.access_token), 404, 'not_found');
  // sign out the phone from the laptop: its access and refresh tokens stop at once
  assert.equal((await api('DELETE', `/api/v1/auth/sessions/${other.id}`, a.access_token)).status, 204);
  await expectProblem(await api('GET', '/api/v1/auth/me', b2.access_token), 401, 'unauthorized');
  await expectProblem(await refresh(b2.refresh_token), 401);
  assert.equal((await api('GET', '/api/v1/auth/me', a.access_token)).status, 200, 'the laptop goes on');
  assert.deepEqual((await sessionsOf(a.access_token)).map((s) => s.id), [cur.id]);
  await eventually(() => mysql(`SELECT COUNT(*) FROM crm_audit.audit_log WHERE event_type = 'auth.session_revoked' AND subject_id = '${u.id}'`) === '1', 20000, 'auth.session_revoked audited');
});

test('#7 online users: an administrator lists the sessions in use and ends one; a scoped manager sees and ends only its departments\' sessions', async () => {
  const admin = await tokenOf('admin');
  const deptA = await json(await api('POST', '/api/v1/departments', admin, { name: `在线甲 ${rnd()}` }), 201);
  const deptB = await json(await api('POST', '/api/v1/departments', admin, { name: `在线乙 ${rnd()}` }), 201);
  const role = await json(await api('POST', '/api/v1/roles', admin, {
    code: `ses_mgr_${rnd()}`, name: '在线管理', data_scope: 'DEPT', permissions: ['system:session:read', 'system:user:force_logout', 'system:user:read'],
  }), 201);
  const mk = async (dept, roles = []) => {
    const username = `on_${rnd()}`;
    const u = await json(await api('POST', '/api/v1/users', admin, { username, display_name: `在线 ${username}`, password: PW, dept_id: dept.id, role_ids: roles }), 201);
    return { ...u, tokens: (await login(username, PW, { 'user-agent': `UA-${username}` })).body };
  };
  const mgr = await mk(deptA, [role.id]);
  const x = await mk(deptA);
  const y = await mk(deptB);

  // the administrator sees everyone's, with names
  const all = (await json(await api('GET', `/api/v1/sessions?user_id=${y.id}`, admin), 200)).items;
  assert.equal(all.length, 1);
  assert.equal(all[0].display_name, y.display_name);
  assert.equal(all[0].dept_name, deptB.name);
  assert.equal(all[0].user_agent, `UA-${y.username}`);
  assert.equal(all[0].current, false);

  // the DEPT manager: department A only
  const seen = (await json(await api('GET', '/api/v1/sessions?page_size=100', mgr.tokens.access_token), 200)).items;
  const users = new Set(seen.map((s) => s.user_id));
  assert.ok(users.has(x.id) && users.has(mgr.id), JSON.stringify([...users]));
  assert.ok(!users.has(y.id), 'a session outside the scope is not listed');
  assert.ok(seen.every((s) => s.dept_name === deptA.name));
  const ySession = all[0].id;
  await expectProblem(await api('DELETE', `/api/v1/sessions/${ySession}`, mgr.tokens.access_token), 404, 'not_found');
  assert.equal((await api('GET', '/api/v1/auth/me', y.tokens.access_token)).status, 200, 'y was not signed out');
  // one in its department it ends
  const xSession = seen.find((s) => s.user_id === x.id).id;
  assert.equal((await api('DELETE', `/api/v1/sessions/${xSession}`, mgr.tokens.access_token)).status, 204);
  await expectProblem(await api('GET', '/api/v1/auth/me', x.tokens.access_token), 401, 'unauthorized');
  // the administrator ends y's
  assert.equal((await api('DELETE', `/api/v1/sessions/${ySession}`, admin)).status, 204);
  await expectProblem(await api('GET', '/api/v1/auth/me', y.tokens.access_token), 401, 'unauthorized');
  await expectProblem(await api('DELETE', `/api/v1/sessions/${ySession}`, admin), 404, 'not_found');
  // without the permission: 403
  await expectProblem(await api('GET', '/api/v1/sessions', await tokenOf('manager_east1')), 403, 'forbidden');
  await expectProblem(await api('DELETE', `/api/v1/sessions/${xSession}`, await tokenOf('viewer')), 403, 'forbidden');
});

test('#7 a manager may not end the session of a user holding a role it could not grant (403 user_not_manageable)', async () => {
  const admin = await tokenOf('admin');
  const dept = await json(await api('POST', '/api/v1/departments', admin, { name: `在线丙 ${rnd()}` }), 201);
  const weak = await json(await api('POST', '/api/v1/roles', admin, {
    code: `ses_weak_${rnd()}`, name: '弱', data_scope: 'DEPT', permissions: ['system:session:read', 'system:user:force_logout'],
  }), 201);
  const strong = await json(await api('POST', '/api/v1/roles', admin, {
    code: `ses_strong_${rnd()}`, name: '强', data_scope: 'DEPT', permissions: ['system:user:create'],
  }), 201);
  const mk = async (roles) => {
    const username = `mg_${rnd()}`;
    const u = await json(await api('POST', '/api/v1/users', admin, { username, display_name: username, password: PW, dept_id: dept.id, role_ids: roles }), 201);
    return { ...u, tokens: (await login(username, PW)).body };
  };
  const mgr = await mk([weak.id]);
  const boss = await mk([strong.id]);
  const s = (await json(await api('GET', `/api/v1/sessions?user_id=${boss.id}`, mgr.tokens.access_token), 200)).items;
  assert.equal(s.length, 1);
  await expectProblem(await api('DELETE', `/api/v1/sessions/${s[0].id}`, mgr.tokens.access_token), 403, 'user_not_manageable');
  assert.equal((await api('GET', '/api/v1/auth/me', boss.tokens.access_token)).status, 200);
});

test('#7 personal centre: a user changes their own name, phone and email (PATCH /auth/me), nothing else', async () => {
  const admin = await tokenOf('admin');
  const username = `me_${rnd()}`;
  const u = await json(await api('POST', '/api/v1/users', admin, { username, display_name: '旧名字', password: PW }), 201);
  const tok = (await login(username, PW)).body.access_token;
  const me = await json(await api('GET', '/api/v1/auth/me', tok), 200);
  const p = await json(await api('PATCH', '/api/v1/auth/me', tok, { version: me.version, display_name: '新名字', phone: '138 0013 8000', email: 'me@example.com' }), 200);
  assert.equal(p.id, u.id);
  assert.equal(p.display_name, '新名字');
  assert.equal((await json(await api('GET', `/api/v1/users/${u.id}`, admin), 200)).email, 'me@example.com');
  await expectProblem(await api('PATCH', '/api/v1/auth/me', tok, { version: me.version, display_name: '再改' }), 409, 'version_conflict');
  const bad = await expectProblem(await api('PATCH', '/api/v1/auth/me', tok, { version: p.version, email: 'not-mail', phone: 'x' }), 422, 'validation_failed');
  assert.deepEqual(bad.errors.map((e) => e.field).sort(), ['email', 'phone']);
  // one's roles, department or status are not in this door
  for (const body of [{ role_ids: [1] }, { dept_id: 1 }, { status: 'enabled' }, { username: 'other' }]) {
    await expectProblem(await api('PATCH', '/api/v1/auth/me', tok, { version: p.version, ...body }), 422, 'validation_failed');
  }
  await eventually(() => mysql(`SELECT COUNT(*) FROM crm_audit.audit_log WHERE event_type = 'user.updated' AND subject_id = '${u.id}' AND actor_user_id = '${u.id}'`) === '1', 20000, 'user.updated by the user audited');
});

test('#7 the user list by department includes the departments below it when asked (include_children=true)', async () => {
  const admin = await tokenOf('admin');
  const top = await json(await api('POST', '/api/v1/departments', admin, { name: `树 ${rnd()}` }), 201);
  const sub = await json(await api('POST', '/api/v1/departments', admin, { name: `枝 ${rnd()}`, parent_id: top.id }), 201);
  const leaf = await json(await api('POST', '/api/v1/departments', admin, { name: `叶 ${rnd()}`, parent_id: sub.id }), 201);
  const ids = [];
  for (const d of [top, sub, leaf]) {
    ids.push((await json(await api('POST', '/api/v1/users', admin, { username: `tr_${rnd()}`, display_name: '树人', password: PW, dept_id: d.id }), 201)).id);
  }
  const only = await json(await api('GET', `/api/v1/users?dept_id=${top.id}`, admin), 200);
  assert.deepEqual(only.items.map((u) => u.id), [ids[0]]);
  const all = await json(await api('GET', `/api/v1/users?dept_id=${top.id}&include_children=true`, admin), 200);
  assert.deepEqual(all.items.map((u) => u.id).sort((a, b) => a - b), ids);
  assert.equal(all.total, 3);
  const mid = await json(await api('GET', `/api/v1/users?dept_id=${sub.id}&include_children=true`, admin), 200);
  assert.equal(mid.total, 2);
  await expectProblem(await api('GET', `/api/v1/users?dept_id=${top.id}&include_children=yes`, admin), 422, 'validation_failed');
});
