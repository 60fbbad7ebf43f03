// SPDX-License-Identifier: Apache-2.0
// Data scope of user administration: a DEPT_AND_CHILD user manager sees and changes only the
// users of their department and below (lists, filters, totals, by-id reads and every action),
// cannot place a user outside it nor grant a role wider than its own, and a move takes effect at
// once; a SELF user sees only itself.
// Everything is created here, under fresh department names, through the gateway.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, expectProblem, login, tokenOf } from './lib.mjs';

const sfx = Math.random().toString(36).slice(2, 8);
const PW = 'Scope-Test-Pass-42';
const MARK = `sc_${sfx}`; // in every username below: a q that matches users of both trees

const W = {}; // the world the tests share: tokens, departments, users, roles

async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function dept(name, parent_id) {
  return ok(await api('POST', '/api/v1/departments', W.admin, { name: `${name}-${sfx}`, ...(parent_id ? { parent_id } : {}) }), 201);
}

async function user(tag, dept_id, role_ids = []) {
  const username = `${MARK}_${tag}`;
  const u = await ok(await api('POST', '/api/v1/users', W.admin, { username, display_name: `用户${tag}`, password: PW, dept_id, role_ids }), 201);
  return { ...u, password: PW };
}

/** Every item of a list, page after page ('path' has its query already). */
async function allPages(tok, path, pageSize = 4) {
  const out = [];
  let first;
  for (let page = 1; page <= 50; page++) {
    const body = await ok(await api('GET', `${path}&page_size=${pageSize}&page=${page}`, tok));
    first ??= body;
    out.push(...body.items);
    if (body.items.length < pageSize) break;
  }
  return { items: out, total: first.total, capped: first.total_capped };
}

/** Every item of a list by walking next_cursor from page 1. */
async function allByCursor(tok, path, pageSize = 4) {
  const out = [];
  let cursor = null;
  for (let i = 0; i < 50; i++) {
    const body = await ok(await api('GET', `${path}&page_size=${pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, tok));
    out.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return out;
}

const ids = (items) => items.map((u) => u.id).sort((a, b) => a - b);
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const asAdmin = async (id) => ok(await api('GET', `/api/v1/users/${id}`, W.admin));

before(async () => {
  W.admin = await tokenOf('admin');
  const roles = (await ok(await api('GET', '/api/v1/roles?page_size=100', W.admin))).items;
  W.managerRole = roles.find((r) => r.code === 'customer_manager').id;
  // 华东 > 上海 > 浦东, and 华南 beside it (both top level: nothing else of the stack is below)
  W.east = await dept('华东');
  W.sh = await dept('上海', W.east.id);
  W.pd = await dept('浦东', W.sh.id);
  W.south = await dept('华南');
  W.scopeRole = await ok(await api('POST', '/api/v1/roles', W.admin, {
    code: `scope_dc_${sfx}`, name: `片区用户管理-${sfx}`, data_scope: 'DEPT_AND_CHILD',
    permissions: ['system:user:read', 'system:user:update', 'system:user:disable', 'system:user:reset_password',
      'system:user:force_logout', 'system:user:create'],
  }), 201);
  W.selfRole = await ok(await api('POST', '/api/v1/roles', W.admin, {
    code: `scope_self_${sfx}`, name: `只看自己-${sfx}`, data_scope: 'SELF', permissions: ['system:user:read'],
  }), 201);
  // the users the boss manages hold a role the boss could grant: a user with a wider role
  // (customer_manager's customer permissions) is not the boss's to edit (security_auth #1)
  W.memberRole = await ok(await api('POST', '/api/v1/roles', W.admin, {
    code: `scope_member_${sfx}`, name: `成员-${sfx}`, data_scope: 'SELF', permissions: ['system:user:read'],
  }), 201);
  W.users = { east: [], sh: [], pd: [], south: [] };
  for (const [key, d, n] of [['east', W.east, 2], ['sh', W.sh, 3], ['pd', W.pd, 2], ['south', W.south, 4]]) {
    for (let i = 1; i <= n; i++) W.users[key].push(await user(`${key}${i}`, d.id, [W.memberRole.id]));
  }
  W.boss = await user('boss', W.east.id, [W.scopeRole.id]);
  W.self = await user('self', W.east.id, [W.selfRole.id]);
  const l = await login(W.boss.username, PW);
  assert.equal(l.res.status, 200, JSON.stringify(l.body));
  W.tok = l.body.access_token;
  W.inScope = sorted([...W.users.east, ...W.users.sh, ...W.users.pd, W.boss, W.self].map((u) => u.id));
});

test('the list shows only the users of 华东 and below: every page, the total and the cursor walk', async () => {
  const me = await ok(await api('GET', '/api/v1/auth/me', W.tok));
  assert.equal(me.data_scope, 'DEPT_AND_CHILD');
  const paged = await allPages(W.tok, '/api/v1/users?sort=id&order=asc');
  assert.equal(paged.total, W.inScope.length);
  assert.equal(paged.capped, false);
  assert.deepEqual(ids(paged.items), W.inScope, 'page after page: exactly the users in scope');
  assert.equal(new Set(paged.items.map((u) => u.id)).size, paged.items.length, 'no user on two pages');
  assert.deepEqual(ids(await allByCursor(W.tok, '/api/v1/users?sort=username&order=desc')), W.inScope);
  // the admin sees the 华南 users the scoped list leaves out
  const all = await ok(await api('GET', `/api/v1/users?q=${MARK}&page_size=100`, W.admin));
  assert.equal(all.total, W.inScope.length + W.users.south.length);
});

test('filters stay inside the scope: q matching both trees, dept_id, status, role_id', async () => {
  const q = await allPages(W.tok, `/api/v1/users?q=${MARK}`);
  assert.equal(q.total, W.inScope.length);
  assert.deepEqual(ids(q.items), W.inScope, 'q matches 华南 users too, yet they are not listed');
  const south = await ok(await api('GET', `/api/v1/users?q=${MARK}_south`, W.admin));
  assert.equal(south.total, W.users.south.length, 'the admin finds the 华南 users by that q');
  assert.equal((await ok(await api('GET', `/api/v1/users?q=${MARK}_south`, W.tok))).total, 0);
  assert.equal((await ok(await api('GET', `/api/v1/users?dept_id=${W.south.id}`, W.tok))).total, 0);
  const pd = await ok(await api('GET', `/api/v1/users?dept_id=${W.pd.id}&q=${MARK}`, W.tok));
  assert.deepEqual(ids(pd.items), ids(W.users.pd));
  const mgr = await ok(await api('GET', `/api/v1/users?role_id=${W.memberRole.id}&q=${MARK}&page_size=100`, W.tok));
  assert.deepEqual(ids(mgr.items), ids([...W.users.east, ...W.users.sh, ...W.users.pd]));
  const enabled = await ok(await api('GET', `/api/v1/users?status=enabled&q=${MARK}&page_size=100`, W.tok));
  assert.ok(enabled.items.every((u) => W.inScope.includes(u.id) && u.status === 'enabled'));
});

test('an out-of-scope user by id is 404 not_found, like a user that does not exist', async () => {
  const target = W.users.south[0];
  const p = await expectProblem(await api('GET', `/api/v1/users/${target.id}`, W.tok), 404, 'not_found');
  const none = await expectProblem(await api('GET', '/api/v1/users/99999999', W.tok), 404, 'not_found');
  assert.equal(p.detail, none.detail, 'the answer does not tell that the user exists');
  const inside = await ok(await api('GET', `/api/v1/users/${W.users.pd[0].id}`, W.tok));
  assert.equal(inside.dept_id, W.pd.id);
});

test('edits and actions on an out-of-scope user are 404 and change nothing', async () => {
  const [a, b] = W.users.south;
  // b is disabled by the admin, so that "enable" would have something to do
  await ok(await api('POST', `/api/v1/users/${b.id}/disable`, W.admin));
  const aLogin = await login(a.username, PW);
  assert.equal(aLogin.res.status, 200);
  const before = { a: await asAdmin(a.id), b: await asAdmin(b.id) };
  const tries = [
    ['PATCH', a, { version: before.a.version, display_name: '被改了' }],
    ['PATCH', a, { version: before.a.version, dept_id: W.east.id }],
    ['POST', a, null, 'disable'],
    ['POST', b, null, 'enable'],
    ['POST', a, { new_password: 'Changed-By-Scope-9' }, 'reset-password'],
    ['POST', a, null, 'force-logout'],
  ];
  for (const [method, u, body, action] of tries) {
    const path = `/api/v1/users/${u.id}${action ? `/${action}` : ''}`;
    await expectProblem(await api(method, path, W.tok, body ?? undefined), 404, 'not_found');
  }
  const after = { a: await asAdmin(a.id), b: await asAdmin(b.id) };
  for (const k of ['a', 'b']) {
    for (const f of ['version', 'status', 'display_name', 'dept_id', 'updated_at']) {
      assert.deepEqual(after[k][f], before[k][f], `${k}.${f} unchanged`);
    }
  }
  assert.equal(after.b.status, 'disabled');
  // the token of a is still good (no force-logout, no reset) and the old password still works
  assert.equal((await api('GET', '/api/v1/auth/me', aLogin.body.access_token)).status, 200);
  assert.equal((await login(a.username, PW)).res.status, 200);
  assert.equal((await login(a.username, 'Changed-By-Scope-9')).res.status, 401);
  await ok(await api('POST', `/api/v1/users/${b.id}/enable`, W.admin));
});

test('the same edits and actions on an in-scope user work', async () => {
  const u = W.users.pd[1];
  const s = await login(u.username, PW);
  assert.equal(s.res.status, 200);
  const v0 = (await asAdmin(u.id)).version;
  const patched = await ok(await api('PATCH', `/api/v1/users/${u.id}`, W.tok, { version: v0, display_name: '浦东改名' }));
  assert.equal(patched.display_name, '浦东改名');
  assert.equal(patched.version, v0 + 1);
  const moved = await ok(await api('PATCH', `/api/v1/users/${u.id}`, W.tok, { version: patched.version, dept_id: W.sh.id }));
  assert.equal(moved.dept_id, W.sh.id, 'a move inside the scope is allowed');
  assert.equal((await ok(await api('POST', `/api/v1/users/${u.id}/disable`, W.tok))).status, 'disabled');
  await expectProblem(await api('GET', '/api/v1/auth/me', s.body.access_token), 401, 'unauthorized');
  assert.equal((await ok(await api('POST', `/api/v1/users/${u.id}/enable`, W.tok))).status, 'enabled');
  assert.equal((await api('POST', `/api/v1/users/${u.id}/reset-password`, W.tok, { new_password: 'Reset-By-Boss-77' })).status, 204);
  assert.equal((await login(u.username, PW)).res.status, 401, 'the old password is gone');
  const s2 = await login(u.username, 'Reset-By-Boss-77');
  assert.equal(s2.res.status, 200);
  assert.equal((await api('POST', `/api/v1/users/${u.id}/force-logout`, W.tok)).status, 204);
  await expectProblem(await api('GET', '/api/v1/auth/me', s2.body.access_token), 401, 'unauthorized');
  const end = await asAdmin(u.id);
  assert.equal(end.status, 'enabled');
  assert.equal(end.dept_id, W.sh.id);
  assert.equal(end.version, v0 + 5, 'patch, move, disable, enable, reset: one version each');
});

test('creating a user in 华南 or moving one there is a 422 on dept_id; inside the tree it works', async () => {
  const body = (tag, dept_id) => ({ username: `${MARK}_${tag}`, display_name: `新${tag}`, password: PW, dept_id });
  const out = await expectProblem(await api('POST', '/api/v1/users', W.tok, body('new_s', W.south.id)), 422, 'validation_failed');
  assert.deepEqual(out.errors.map((e) => e.field), ['dept_id']);
  const none = await expectProblem(await api('POST', '/api/v1/users', W.tok, { ...body('new_n'), dept_id: undefined }), 422, 'validation_failed');
  assert.deepEqual(none.errors.map((e) => e.field), ['dept_id'], 'no department is outside the scope too');
  assert.equal((await ok(await api('GET', `/api/v1/users?q=${MARK}_new_s`, W.admin))).total, 0, 'nothing was created');
  const made = await ok(await api('POST', '/api/v1/users', W.tok, body('new_p', W.pd.id)), 201);
  assert.equal(made.dept_id, W.pd.id);
  await ok(await api('GET', `/api/v1/users/${made.id}`, W.tok));
  W.inScope = sorted([...W.inScope, made.id]);

  const u = W.users.sh[0];
  const v = (await asAdmin(u.id)).version;
  const mv = await expectProblem(await api('PATCH', `/api/v1/users/${u.id}`, W.tok, { version: v, dept_id: W.south.id }), 422, 'validation_failed');
  assert.deepEqual(mv.errors.map((e) => e.field), ['dept_id']);
  const nul = await expectProblem(await api('PATCH', `/api/v1/users/${u.id}`, W.tok, { version: v, dept_id: null }), 422, 'validation_failed');
  assert.deepEqual(nul.errors.map((e) => e.field), ['dept_id']);
  const still = await asAdmin(u.id);
  assert.equal(still.dept_id, W.sh.id);
  assert.equal(still.version, v);
});

test('a move by the admin takes effect at once: out of the tree is invisible, into it is visible', async () => {
  const out = W.users.east[1];
  const into = W.users.south[2];
  await ok(await api('PATCH', `/api/v1/users/${out.id}`, W.admin, { version: (await asAdmin(out.id)).version, dept_id: W.south.id }));
  await ok(await api('PATCH', `/api/v1/users/${into.id}`, W.admin, { version: (await asAdmin(into.id)).version, dept_id: W.pd.id }));
  await expectProblem(await api('GET', `/api/v1/users/${out.id}`, W.tok), 404, 'not_found');
  await expectProblem(await api('POST', `/api/v1/users/${out.id}/disable`, W.tok), 404, 'not_found');
  await ok(await api('GET', `/api/v1/users/${into.id}`, W.tok));
  W.inScope = sorted([...W.inScope.filter((id) => id !== out.id), into.id]);
  const list = await allPages(W.tok, `/api/v1/users?q=${MARK}`);
  assert.equal(list.total, W.inScope.length);
  assert.deepEqual(ids(list.items), W.inScope);

  // a department moved out of the tree takes its users along: 上海 (with 浦东) under 华南
  const sh = await ok(await api('GET', `/api/v1/departments`, W.admin));
  const find = (nodes) => nodes.flatMap((n) => [n, ...find(n.children ?? [])]);
  const shNow = find(sh.items).find((d) => d.id === W.sh.id);
  await ok(await api('PATCH', `/api/v1/departments/${W.sh.id}`, W.admin, { version: shNow.version, parent_id: W.south.id }));
  const left = await allPages(W.tok, `/api/v1/users?q=${MARK}`);
  const eastOnly = await allPages(W.admin, `/api/v1/users?q=${MARK}&dept_id=${W.east.id}`);
  assert.ok(eastOnly.total >= 3);
  assert.deepEqual(ids(left.items), ids(eastOnly.items), 'only 华东 itself is left');
  await expectProblem(await api('GET', `/api/v1/users/${W.users.pd[0].id}`, W.tok), 404, 'not_found');
  const back = find((await ok(await api('GET', '/api/v1/departments', W.admin))).items).find((d) => d.id === W.sh.id);
  await ok(await api('PATCH', `/api/v1/departments/${W.sh.id}`, W.admin, { version: back.version, parent_id: W.east.id }));
  assert.deepEqual(ids((await allPages(W.tok, `/api/v1/users?q=${MARK}`)).items), W.inScope, 'and back again');
});

test('roles: only roles no wider than the caller\'s may be granted (403), and nobody changes their own', async () => {
  const roles = (await ok(await api('GET', '/api/v1/roles?page_size=100', W.admin))).items;
  const adminRole = roles.find((r) => r.code === 'admin').id;
  const readonly = roles.find((r) => r.code === 'readonly').id; // scope ALL: wider than the caller's
  const narrow = await ok(await api('POST', '/api/v1/roles', W.admin, {
    code: `scope_narrow_${sfx}`, name: `本部门查看-${sfx}`, data_scope: 'DEPT', permissions: ['system:user:read'],
  }), 201);
  const made = await expectProblem(await api('POST', '/api/v1/users', W.tok, {
    username: `${MARK}_grant`, display_name: '越权', password: PW, dept_id: W.east.id, role_ids: [narrow.id, W.managerRole, adminRole],
  }), 403, 'role_not_grantable');
  // customer_manager has customer permissions the caller lacks; admin has everything, scope ALL
  assert.deepEqual(made.errors.map((e) => e.field), ['role_ids[1]', 'role_ids[2]']);
  assert.equal((await ok(await api('GET', `/api/v1/users?q=${MARK}_grant`, W.admin))).total, 0, 'nothing was created');
  const u = W.users.east[0];
  const before = await asAdmin(u.id);
  for (const role of [adminRole, readonly]) {
    const r = await expectProblem(await api('PATCH', `/api/v1/users/${u.id}`, W.tok, { version: before.version, role_ids: [...before.role_ids, role] }), 403, 'role_not_grantable');
    assert.match(r.errors[0].field, /^role_ids\[\d+\]$/);
  }
  assert.deepEqual((await asAdmin(u.id)).role_ids, before.role_ids);
  assert.equal((await asAdmin(u.id)).version, before.version);
  // a role within the caller's scope and permissions may be granted
  const granted = await ok(await api('PATCH', `/api/v1/users/${u.id}`, W.tok, { version: before.version, role_ids: [...before.role_ids, narrow.id] }));
  assert.deepEqual(sorted(granted.role_ids), sorted([...before.role_ids, narrow.id]));
  // the caller's own roles: a change is refused, the same set sent back with an edit is fine
  const me = await ok(await api('GET', `/api/v1/users/${W.boss.id}`, W.tok));
  await expectProblem(await api('PATCH', `/api/v1/users/${W.boss.id}`, W.tok, { version: me.version, role_ids: [...me.role_ids, narrow.id] }), 403, 'self_change_forbidden');
  const edited = await ok(await api('PATCH', `/api/v1/users/${W.boss.id}`, W.tok, { version: me.version, display_name: '片区经理', role_ids: [...me.role_ids].reverse() }));
  assert.deepEqual(edited.role_ids, me.role_ids);
  assert.equal((await api('GET', '/api/v1/auth/me', W.tok)).status, 200, 'roles unchanged: the token lives on');
});

test('a SELF role with system:user:read sees only itself', async () => {
  const l = await login(W.self.username, PW);
  assert.equal(l.res.status, 200);
  const tok = l.body.access_token;
  const list = await ok(await api('GET', '/api/v1/users?page_size=100', tok));
  assert.equal(list.total, 1);
  assert.deepEqual(list.items.map((u) => u.id), [W.self.id]);
  assert.equal((await ok(await api('GET', `/api/v1/users?q=${MARK}`, tok))).total, 1);
  assert.equal((await ok(await api('GET', `/api/v1/users?dept_id=${W.east.id}`, tok))).total, 1);
  assert.equal((await ok(await api('GET', `/api/v1/users/${W.self.id}`, tok))).username, W.self.username);
  await expectProblem(await api('GET', `/api/v1/users/${W.users.east[0].id}`, tok), 404, 'not_found');
  await expectProblem(await api('GET', `/api/v1/users/${W.boss.id}`, tok), 404, 'not_found');
  // reading is all the role may do
  await expectProblem(await api('POST', `/api/v1/users/${W.users.east[0].id}/disable`, tok), 403);
});
