// SPDX-License-Identifier: Apache-2.0
// The auth service through the gateway: logins and lockout, throttling, refresh rotation and
// reuse, revocation on logout/disable/password change, permissions, JWKS with an independent
// JWT library, and the events every write leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { GATEWAY, accounts, api, expectProblem, login, redis, serviceUrl, sleep, tokenOf } from './lib.mjs';

const rnd = () => Math.random().toString(36).slice(2, 8);
const GOOD_PW = 'Correct-Horse-9-Battery';

/** Create a user as admin and return { id, username, password }. */
async function newUser(adminTok, extra = {}) {
  const username = `t_${rnd()}`;
  const res = await api('POST', '/api/v1/users', adminTok, { username, display_name: `测试${username}`, password: GOOD_PW, ...extra });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return { id: body.id, username, password: GOOD_PW, body };
}

async function roleId(adminTok, code) {
  const res = await api('GET', '/api/v1/roles?page_size=100', adminTok);
  return (await res.json()).items.find((r) => r.code === code).id;
}

/** The stream entries of auth from 'since' (an entry id), as parsed envelopes. redis-cli prints
 * each reply element on its own line when piped: id, "event", then the envelope JSON. */
function authEvents(since = '-') {
  return redis('XRANGE', 'crm:stream:auth', since, '+').split('\n')
    .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

const lastId = () => (redis('XREVRANGE', 'crm:stream:auth', '+', '-', 'COUNT', '1').split('\n')[0] || '0-0');

test('login answers a token pair; the token verifies with jose against the published JWKS', async () => {
  const acc = accounts();
  const { res, body } = await login('manager_east1', acc.manager_east1.password);
  assert.equal(res.status, 200);
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.expires_in, 900);
  assert.ok(body.refresh_token.length >= 40);
  const jwksRes = await fetch(`${GATEWAY}/api/v1/auth/jwks`);
  assert.equal(jwksRes.status, 200);
  const jwks = await jwksRes.json();
  assert.ok(jwks.keys.length >= 1);
  for (const k of jwks.keys) {
    assert.deepEqual(Object.keys(k).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.equal(k.alg, 'ES256');
  }
  const { payload, protectedHeader } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), {
    issuer: 'crm-auth', audience: 'crm', algorithms: ['ES256'],
  });
  assert.equal(protectedHeader.alg, 'ES256');
  assert.ok(jwks.keys.some((k) => k.kid === decodeProtectedHeader(body.access_token).kid));
  // the claims documented in openapi.yaml
  for (const c of ['iss', 'aud', 'sub', 'name', 'dept_id', 'roles', 'scope', 'perms', 'jti', 'iat', 'iat_ms', 'nbf', 'exp']) assert.ok(c in payload, c);
  assert.equal(payload.name, '张伟');
  assert.deepEqual(payload.roles, ['customer_manager']);
  assert.equal(payload.scope, 'SELF');
  assert.equal(payload.exp - payload.iat, 900);
  assert.ok(payload.perms.includes('customer:customer:read'));
  assert.ok(!payload.perms.includes('system:user:read'));
});

test('/me gives profile, roles, permissions and the menu tree the caller may see', async () => {
  const me = await (await api('GET', '/api/v1/auth/me', await tokenOf('director_east'))).json();
  assert.equal(me.username, 'director_east');
  assert.equal(me.dept_name, '华东销售部');
  assert.equal(me.data_scope, 'DEPT_AND_CHILD');
  assert.deepEqual(me.roles.map((r) => r.code), ['sales_director']);
  assert.ok(me.permissions.includes('customer:customer:delete'));
  const keys = me.menus.map((m) => m.key);
  assert.ok(keys.includes('customer') && keys.includes('dashboard'));
  assert.ok(!keys.includes('audit'), 'no audit menu without audit permissions');
  const admin = await (await api('GET', '/api/v1/auth/me', await tokenOf('admin'))).json();
  const sys = admin.menus.find((m) => m.key === 'system');
  assert.deepEqual(sys.children.map((c) => c.key), ['user', 'role', 'dept', 'dict']);
  assert.equal(sys.children[0].title_key, 'menu.user');
});

test('wrong password, unknown user and locked account get the same answer; 5 failures lock, unlock by admin', async () => {
  const adminTok = await tokenOf('admin');
  const u = await newUser(adminTok);
  const bodies = [];
  const strip = (b) => { const { request_id: _r, ...rest } = b; return rest; };
  for (let i = 0; i < 5; i++) {
    const { res, body } = await login(u.username, 'Wrong-Password-123');
    assert.equal(res.status, 401);
    bodies.push(strip(body));
  }
  const locked = await login(u.username, u.password); // the right password, but locked now
  const unknown = await login(`nobody_${rnd()}`, 'Wrong-Password-123');
  assert.equal(locked.res.status, 401);
  assert.equal(unknown.res.status, 401);
  assert.deepEqual(strip(locked.body), bodies[0]);
  assert.deepEqual(strip(unknown.body), bodies[0]);
  assert.equal(bodies[0].code, 'invalid_credentials');
  const view = await (await api('GET', `/api/v1/users/${u.id}`, adminTok)).json();
  assert.equal(view.status, 'locked');
  assert.ok(view.locked_until);
  // the administrator unlocks
  const un = await api('POST', `/api/v1/users/${u.id}/unlock`, adminTok);
  assert.equal(un.status, 200);
  assert.equal((await un.json()).status, 'enabled');
  assert.equal((await login(u.username, u.password)).res.status, 200);
});

test('answers for unknown users take about as long as for known ones', async () => {
  const adminTok = await tokenOf('admin');
  const u = await newUser(adminTok);
  const time = async (name) => { const t = performance.now(); await login(name, 'Wrong-Password-123'); return performance.now() - t; };
  const known = [], unknown = [];
  for (let i = 0; i < 3; i++) { known.push(await time(u.username)); unknown.push(await time(`ghost_${rnd()}`)); }
  const med = (a) => a.sort((x, y) => x - y)[1];
  const ratio = med(unknown) / med(known);
  assert.ok(ratio > 0.5 && ratio < 2, `unknown ${med(unknown).toFixed(1)} ms vs known ${med(known).toFixed(1)} ms`);
});

test('a lock ends by itself after the lockout time (5 s on the test stack), as user.locked says', async () => {
  const adminTok = await tokenOf('admin');
  const u = await newUser(adminTok);
  const before = lastId();
  for (let i = 0; i < 4; i++) assert.equal((await login(u.username, 'Wrong-Password-123')).res.status, 401);
  const t0 = Date.now();
  assert.equal((await login(u.username, 'Wrong-Password-123')).res.status, 401); // the 5th locks
  const t1 = Date.now();
  assert.equal((await login(u.username, u.password)).res.status, 401, 'locked: the right password is refused');
  const view = await (await api('GET', `/api/v1/users/${u.id}`, adminTok)).json();
  assert.equal(view.status, 'locked');
  // the test stack's lockout_seconds = 5, counted from the 5th failure (same clock: one host)
  const until = Date.parse(view.locked_until);
  assert.ok(until >= t0 + 5000 - 50 && until <= t1 + 5000 + 50, `locked_until ${view.locked_until} is not 5 s after the 5th failure`);
  let ev;
  for (let i = 0; i < 30 && !ev; i++) { await sleep(100); ev = authEvents(before).find((e) => e.type === 'user.locked' && e.subject.id === String(u.id)); }
  assert.ok(ev, 'user.locked published');
  assert.deepEqual(ev.data, { username: u.username, minutes: 1, seconds: 5 }); // minutes rounded up
  await sleep(Math.max(0, until - Date.now()) + 200); // just past the lock
  const { res, body } = await login(u.username, u.password);
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal((await (await api('GET', `/api/v1/users/${u.id}`, adminTok)).json()).status, 'enabled');
});

test('per-account throttling answers 429 with Retry-After', async () => {
  const name = `throttle_${rnd()}`;
  let limited = null;
  for (let i = 0; i < 12 && !limited; i++) {
    const { res, body } = await login(name, 'Wrong-Password-123');
    if (res.status === 429) limited = { res, body };
  }
  assert.ok(limited, 'the 11th attempt within a minute is refused');
  assert.equal(limited.body.code, 'too_many_attempts');
  assert.ok(Number(limited.res.headers.get('retry-after')) >= 1);
});

test('refresh rotates; a reused refresh token revokes the whole family', async () => {
  const acc = accounts();
  const first = (await login('manager_south1', acc.manager_south1.password)).body;
  const r1 = await api('POST', '/api/v1/auth/refresh', null, { refresh_token: first.refresh_token });
  assert.equal(r1.status, 200);
  const second = await r1.json();
  assert.notEqual(second.refresh_token, first.refresh_token);
  assert.equal((await api('GET', '/api/v1/auth/me', second.access_token)).status, 200);
  // the thief replays the first token
  await expectProblem(await api('POST', '/api/v1/auth/refresh', null, { refresh_token: first.refresh_token }), 401, 'invalid_refresh_token');
  // now the legitimate chain is dead too
  await expectProblem(await api('POST', '/api/v1/auth/refresh', null, { refresh_token: second.refresh_token }), 401, 'invalid_refresh_token');
  await expectProblem(await api('GET', '/api/v1/auth/me', second.access_token), 401, 'unauthorized');
  await expectProblem(await api('POST', '/api/v1/auth/refresh', null, { refresh_token: 'made-up' }), 401, 'invalid_refresh_token');
});

test('logout kills the access token at once and the refresh token too', async () => {
  const acc = accounts();
  const s = (await login('manager_south2', acc.manager_south2.password)).body;
  assert.equal((await api('GET', '/api/v1/auth/me', s.access_token)).status, 200);
  assert.equal((await api('POST', '/api/v1/auth/logout', s.access_token, { refresh_token: s.refresh_token })).status, 204);
  const after = await expectProblem(await api('GET', '/api/v1/auth/me', s.access_token), 401, 'unauthorized');
  assert.equal(after.detail, 'token revoked');
  // services refuse it too, not only the gateway
  const direct = await fetch(`${serviceUrl('auth')}/api/v1/auth/me`, { headers: { authorization: `Bearer ${s.access_token}` } });
  assert.equal(direct.status, 401);
  await expectProblem(await api('POST', '/api/v1/auth/refresh', null, { refresh_token: s.refresh_token }), 401, 'invalid_refresh_token');
});

test('disabling a user kills their token at once; enabling lets them log in again', async () => {
  const adminTok = await tokenOf('admin');
  const u = await newUser(adminTok);
  const s = (await login(u.username, u.password)).body;
  assert.equal((await api('GET', '/api/v1/auth/me', s.access_token)).status, 200);
  const d = await api('POST', `/api/v1/users/${u.id}/disable`, adminTok);
  assert.equal(d.status, 200);
  assert.equal((await d.json()).status, 'disabled');
  await expectProblem(await api('GET', '/api/v1/auth/me', s.access_token), 401, 'unauthorized');
  assert.equal((await login(u.username, u.password)).res.status, 401);
  assert.equal((await api('POST', `/api/v1/users/${u.id}/enable`, adminTok)).status, 200);
  assert.equal((await login(u.username, u.password)).res.status, 200);
});

test('a password change kills the old tokens; the policy refuses weak passwords', async () => {
  const adminTok = await tokenOf('admin');
  const u = await newUser(adminTok);
  const s = (await login(u.username, u.password)).body;
  const weak = await api('POST', '/api/v1/auth/password', s.access_token, { old_password: u.password, new_password: 'short' });
  const wb = await expectProblem(weak, 422, 'validation_failed');
  assert.equal(wb.errors[0].field, 'new_password');
  const common = await api('POST', '/api/v1/auth/password', s.access_token, { old_password: u.password, new_password: 'password1234' });
  assert.match((await expectProblem(common, 422)).errors[0].message, /common/);
  const wrongOld = await api('POST', '/api/v1/auth/password', s.access_token, { old_password: 'Not-The-Old-One-1', new_password: 'Another-Good-Pass-7' });
  assert.equal((await expectProblem(wrongOld, 422)).errors[0].field, 'old_password');
  const ok = await api('POST', '/api/v1/auth/password', s.access_token, { old_password: u.password, new_password: 'Another-Good-Pass-7' });
  assert.equal(ok.status, 204);
  await expectProblem(await api('GET', '/api/v1/auth/me', s.access_token), 401, 'unauthorized');
  await expectProblem(await api('POST', '/api/v1/auth/refresh', null, { refresh_token: s.refresh_token }), 401, 'invalid_refresh_token');
  assert.equal((await login(u.username, 'Another-Good-Pass-7')).res.status, 200);
  // force logout by an administrator does the same
  const s2 = (await login(u.username, 'Another-Good-Pass-7')).body;
  assert.equal((await api('POST', `/api/v1/users/${u.id}/force-logout`, adminTok)).status, 204);
  await expectProblem(await api('GET', '/api/v1/auth/me', s2.access_token), 401, 'unauthorized');
});

test('a customer manager calling user or role administration gets 403', async () => {
  const tok = await tokenOf('manager_east1');
  for (const [m, p, b] of [['GET', '/api/v1/users'], ['POST', '/api/v1/users', { username: 'x_y', display_name: 'x', password: GOOD_PW }], ['GET', '/api/v1/roles'], ['POST', '/api/v1/roles', { code: 'x', name: 'x', data_scope: 'ALL' }], ['PATCH', '/api/v1/roles/1', { version: 1 }], ['POST', '/api/v1/users/1/disable']]) {
    const body = await expectProblem(await api(m, p, tok, b), 403, 'forbidden');
    assert.match(body.detail, /system:(user|role):/);
  }
});

test('a read-only user cannot write anything', async () => {
  const tok = await tokenOf('viewer');
  const writes = [
    ['POST', '/api/v1/users', { username: 'ro_try', display_name: 'x', password: GOOD_PW }],
    ['PATCH', '/api/v1/users/1', { version: 1, display_name: 'x' }],
    ['POST', '/api/v1/users/1/disable'], ['POST', '/api/v1/users/1/enable'], ['POST', '/api/v1/users/1/unlock'],
    ['POST', '/api/v1/users/1/reset-password', { new_password: GOOD_PW }], ['POST', '/api/v1/users/1/force-logout'],
    ['POST', '/api/v1/departments', { name: 'x' }], ['PATCH', '/api/v1/departments/1', { version: 1 }], ['DELETE', '/api/v1/departments/1'],
    ['POST', '/api/v1/roles', { code: 'xx', name: 'x', data_scope: 'ALL' }], ['PATCH', '/api/v1/roles/1', { version: 1 }], ['DELETE', '/api/v1/roles/9'],
    ['POST', '/api/v1/dicts', { code: 'xx', name_zh: 'x', name_en: 'x' }], ['POST', '/api/v1/dicts/industry/items', { value: 'x', label_zh: 'x', label_en: 'x' }],
    ['PATCH', '/api/v1/dicts/industry/items/1', { version: 1 }],
  ];
  for (const [m, p, b] of writes) await expectProblem(await api(m, p, tok, b), 403, 'forbidden');
  // reading the dictionary for drop-downs is allowed
  assert.equal((await api('GET', '/api/v1/dicts/industry/items', tok)).status, 200);
});

test('services check permissions themselves: a token without the permission fails straight at auth', async () => {
  const tok = await tokenOf('manager_east1');
  const res = await fetch(`${serviceUrl('auth')}/api/v1/users`, { headers: { authorization: `Bearer ${tok}` } });
  await expectProblem(res, 403, 'forbidden');
});

test('user administration: create, validate, page and filter, edit with optimistic locking, and events', async () => {
  const adminTok = await tokenOf('admin');
  const mgr = await roleId(adminTok, 'customer_manager');
  const before = lastId();
  const bad = await api('POST', '/api/v1/users', adminTok, { username: 'a b', display_name: '', password: 'x', email: 'nope', unknown: 1, role_ids: [999999] });
  const bb = await expectProblem(bad, 422, 'validation_failed');
  const fields = bb.errors.map((e) => e.field).sort();
  assert.ok(fields.includes('display_name') && fields.includes('unknown'), JSON.stringify(bb.errors));
  const u = await newUser(adminTok, { email: 'li@example.com', phone: '+86 138-0000-0000', role_ids: [mgr] });
  assert.deepEqual(u.body.role_ids, [mgr]);
  const dup = await api('POST', '/api/v1/users', adminTok, { username: u.username, display_name: 'x', password: GOOD_PW });
  assert.equal((await expectProblem(dup, 409, 'conflict')).errors[0].field, 'username');
  const page = await (await api('GET', `/api/v1/users?q=${u.username}&page=1&page_size=5`, adminTok)).json();
  assert.equal(page.total, 1);
  assert.equal(page.items[0].id, u.id);
  assert.deepEqual(page.items[0].roles.map((r) => r.code), ['customer_manager']);
  const all = await (await api('GET', '/api/v1/users?page_size=2&page=2', adminTok)).json();
  assert.equal(all.page, 2);
  assert.equal(all.items.length, 2);
  await expectProblem(await api('GET', '/api/v1/users?page_size=1000', adminTok), 422, 'validation_failed');
  const inj = await (await api('GET', `/api/v1/users?q=${encodeURIComponent("' OR '1'='1")}`, adminTok)).json();
  assert.equal(inj.total, 0, 'SQL in a filter is just text');
  const p1 = await api('PATCH', `/api/v1/users/${u.id}`, adminTok, { version: u.body.version, display_name: '李四' }, { 'x-request-id': `edit-${rnd()}` });
  assert.equal(p1.status, 200);
  const rid = p1.headers.get('x-request-id'); // the gateway's, not the client's
  const edited = await p1.json();
  assert.equal(edited.display_name, '李四');
  assert.equal(edited.version, u.body.version + 1);
  await expectProblem(await api('PATCH', `/api/v1/users/${u.id}`, adminTok, { version: u.body.version, display_name: '王五' }), 409, 'version_conflict');
  await expectProblem(await api('GET', '/api/v1/users/99999999', adminTok), 404, 'not_found');
  // the events: created, then updated with the field's before and after and the request id
  let evs = [];
  for (let i = 0; i < 20 && !evs.some((e) => e.type === 'user.updated' && e.subject.id === String(u.id)); i++) { await sleep(100); evs = authEvents(before); }
  const created = evs.find((e) => e.type === 'user.created' && e.subject.id === String(u.id));
  assert.ok(created);
  assert.equal(created.data.username, u.username);
  assert.ok(!JSON.stringify(created).includes(GOOD_PW) && !JSON.stringify(created).includes('argon2'));
  const updated = evs.find((e) => e.type === 'user.updated' && e.subject.id === String(u.id));
  assert.deepEqual(updated.data.changes, [{ field: 'display_name', before: u.body.display_name, after: '李四' }]);
  assert.equal(updated.request_id, rid);
  assert.equal(updated.producer, 'auth');
  assert.ok(updated.actor.user_id);
});

test('departments form a tree; moving under a descendant is refused', async () => {
  const adminTok = await tokenOf('admin');
  const mk = async (name, parent_id) => { const r = await api('POST', '/api/v1/departments', adminTok, { name, ...(parent_id ? { parent_id } : {}) }); assert.equal(r.status, 201); return r.json(); };
  const a = await mk(`部门A-${rnd()}`);
  const b = await mk(`部门B-${rnd()}`, a.id);
  const c = await mk(`部门C-${rnd()}`, b.id);
  const cycle = await api('PATCH', `/api/v1/departments/${a.id}`, adminTok, { version: a.version, parent_id: c.id });
  assert.equal((await expectProblem(cycle, 422, 'validation_failed')).errors[0].field, 'parent_id');
  const self = await api('PATCH', `/api/v1/departments/${a.id}`, adminTok, { version: a.version, parent_id: a.id });
  await expectProblem(self, 422);
  // move C (with nothing below) to the root's child A directly
  const mv = await api('PATCH', `/api/v1/departments/${c.id}`, adminTok, { version: c.version, parent_id: a.id });
  assert.equal(mv.status, 200);
  const tree = (await (await api('GET', '/api/v1/departments', adminTok)).json()).items;
  const na = tree.find((d) => d.id === a.id);
  assert.deepEqual(na.children.map((d) => d.id).sort(), [b.id, c.id].sort());
  await expectProblem(await api('DELETE', `/api/v1/departments/${a.id}`, adminTok), 409, 'conflict');
  assert.equal((await api('DELETE', `/api/v1/departments/${c.id}`, adminTok)).status, 204);
});

test('roles: create with permissions and scope, change, refuse unknown permissions, delete', async () => {
  const adminTok = await tokenOf('admin');
  const code = `r_${rnd()}`;
  const bad = await api('POST', '/api/v1/roles', adminTok, { code, name: '测试角色', data_scope: 'EVERYTHING', permissions: ['no:such:perm'] });
  const bb = await expectProblem(bad, 422);
  assert.deepEqual(bb.errors.map((e) => e.field).sort(), ['data_scope', 'permissions[0]']);
  const r = await api('POST', '/api/v1/roles', adminTok, { code, name: '测试角色', data_scope: 'DEPT', permissions: ['customer:customer:read'] });
  assert.equal(r.status, 201);
  const role = await r.json();
  assert.deepEqual(role.permissions, ['customer:customer:read']);
  const p = await api('PATCH', `/api/v1/roles/${role.id}`, adminTok, { version: role.version, permissions: ['customer:customer:read', 'customer:contact:read'] });
  assert.equal(p.status, 200);
  assert.equal((await p.json()).permissions.length, 2);
  const builtins = (await (await api('GET', '/api/v1/roles', adminTok)).json()).items.filter((x) => x.builtin).map((x) => x.code).sort();
  assert.deepEqual(builtins, ['admin', 'customer_manager', 'readonly', 'sales_director']);
  const adminRole = await roleId(adminTok, 'admin');
  await expectProblem(await api('DELETE', `/api/v1/roles/${adminRole}`, adminTok), 409, 'conflict');
  assert.equal((await api('DELETE', `/api/v1/roles/${role.id}`, adminTok)).status, 204);
  const perms = (await (await api('GET', '/api/v1/permissions', adminTok)).json()).items;
  assert.ok(perms.length >= 40 && perms.every((x) => /^[a-z_]+:[a-z_]+:[a-z_]+$/.test(x.code)));
});

test('changing a role ends its members\' tokens so the new permissions apply at the next refresh', async () => {
  const adminTok = await tokenOf('admin');
  const code = `r_${rnd()}`;
  const role = await (await api('POST', '/api/v1/roles', adminTok, { code, name: '临时', data_scope: 'SELF', permissions: ['system:dict:read'] })).json();
  const u = await newUser(adminTok, { role_ids: [role.id] });
  const s = (await login(u.username, u.password)).body;
  assert.equal((await api('GET', '/api/v1/dicts', s.access_token)).status, 200);
  assert.equal((await api('GET', '/api/v1/departments', s.access_token)).status, 403);
  await api('PATCH', `/api/v1/roles/${role.id}`, adminTok, { version: role.version, permissions: ['system:dict:read', 'system:dept:read'] });
  await expectProblem(await api('GET', '/api/v1/dicts', s.access_token), 401, 'unauthorized');
  const fresh = await (await api('POST', '/api/v1/auth/refresh', null, { refresh_token: s.refresh_token })).json();
  assert.equal((await api('GET', '/api/v1/departments', fresh.access_token)).status, 200);
});

test('the data dictionary is seeded in Chinese and English and can be maintained', async () => {
  const adminTok = await tokenOf('admin');
  const types = (await (await api('GET', '/api/v1/dicts', adminTok)).json()).items.map((t) => t.code);
  for (const c of ['customer_source', 'industry', 'customer_level', 'care_type', 'followup_method']) assert.ok(types.includes(c), c);
  const src = (await (await api('GET', '/api/v1/dicts/customer_source/items', adminTok)).json()).items;
  assert.ok(src.some((i) => i.label_zh === '官网咨询' && i.label_en === 'Website inquiry'));
  const value = `v_${rnd()}`;
  const created = await api('POST', '/api/v1/dicts/customer_source/items', adminTok, { value, label_zh: '抖音', label_en: 'Douyin', sort_order: 70 });
  assert.equal(created.status, 201);
  const item = await created.json();
  await expectProblem(await api('POST', '/api/v1/dicts/customer_source/items', adminTok, { value, label_zh: 'x', label_en: 'x' }), 409, 'conflict');
  const off = await api('PATCH', `/api/v1/dicts/customer_source/items/${item.id}`, adminTok, { version: item.version, enabled: false });
  assert.equal((await off.json()).enabled, false);
  const enabled = (await (await api('GET', '/api/v1/dicts/customer_source/items?enabled=true', adminTok)).json()).items;
  assert.ok(!enabled.some((i) => i.value === value));
  await expectProblem(await api('GET', '/api/v1/dicts/no_such_dict/items', adminTok), 404, 'not_found');
});

test('login events reach the stream with address and user agent', async () => {
  const before = lastId();
  await login('manager_east2', 'Wrong-Password-123', { 'user-agent': 'crm-test-agent/1.0' });
  let ev;
  for (let i = 0; i < 30 && !ev; i++) { await sleep(100); ev = authEvents(before).find((e) => e.type === 'auth.login_failed' && e.data.user_agent === 'crm-test-agent/1.0'); }
  assert.ok(ev, 'auth.login_failed published');
  assert.equal(ev.data.reason, 'bad_credentials');
  assert.equal(ev.actor.ip, '127.0.0.1');
  assert.ok(!JSON.stringify(ev).includes('Wrong-Password-123'));
});

test('behind the gateway the service sees the client\'s address, not the gateway\'s', async () => {
  const { request } = await import('node:http');
  const name = `ip_${rnd()}`;
  const before = lastId();
  // a login from another loopback address, through the gateway
  const status = await new Promise((resolve, reject) => {
    const body = JSON.stringify({ username: name, password: 'Wrong-Password-123' });
    const req = request(`${GATEWAY}/api/v1/auth/login`, {
      method: 'POST', localAddress: '127.0.0.2',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-forwarded-for': '6.6.6.6' },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(status, 401);
  let ev;
  for (let i = 0; i < 30 && !ev; i++) { await sleep(100); ev = authEvents(before).find((e) => e.type === 'auth.login_failed' && e.data.username === name); }
  assert.ok(ev, 'login_failed published');
  // the gateway replaced the client's own X-Forwarded-For with the address it saw
  assert.equal(ev.data.ip, '127.0.0.2');
  assert.equal(ev.actor.ip, '127.0.0.2');
  assert.ok(Number(redis('GET', 'crm:login:ip:127.0.0.2')) >= 1, 'throttled per client address');
});
