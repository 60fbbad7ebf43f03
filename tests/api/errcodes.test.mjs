// SPDX-License-Identifier: Apache-2.0
// Field errors carry a stable code and its params (shared/errcodes.def), beside the English
// message, so that a client can say them in its user's language (issue 11 #1): body shapes,
// the user rules, the password policy, a taken value, query parameters, references.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, api, expectProblem, tokenOf } from './lib.mjs';

const rnd = () => Math.random().toString(36).slice(2, 8);
const GOOD_PW = 'Correct-Horse-9-Battery';

// code -> [params] from the table the services are built from
const TABLE = new Map(
  [...readFileSync(path.join(REPO, 'shared/errcodes.def'), 'utf8').matchAll(/^FIELD_CODE\((\w+), "([^"]*)"\)/gm)].map((m) => [
    m[1],
    m[2].split(' ').filter(Boolean),
  ]),
);

/** The errors of a problem by field; every one has a code of the table with exactly its params. */
function byField(problem) {
  assert.ok(Array.isArray(problem.errors) && problem.errors.length > 0, JSON.stringify(problem));
  const out = {};
  for (const e of problem.errors) {
    assert.ok(TABLE.has(e.code), `field ${e.field}: code ${e.code} is not in shared/errcodes.def`);
    assert.deepEqual(Object.keys(e.params).sort(), [...TABLE.get(e.code)].sort(), `params of ${e.code}`);
    assert.equal(typeof e.message, 'string', 'the English message stays for API users');
    assert.ok(e.message.length > 0);
    out[e.field] ??= e;
  }
  return out;
}

test('a body of the wrong shape: wrong_type, length, unknown_field and required, each with its params', async () => {
  const admin = await tokenOf('admin');
  const res = await api('POST', '/api/v1/users', admin, { username: 5, display_name: '', unknown: 1 });
  const f = byField(await expectProblem(res, 422, 'validation_failed'));
  assert.equal(f.username.code, 'wrong_type');
  assert.deepEqual(f.username.params, { type: 'string' });
  assert.equal(f.display_name.code, 'length');
  assert.deepEqual(f.display_name.params, { min: 1, max: 64 });
  assert.equal(f.unknown.code, 'unknown_field');
  assert.equal(f.password.code, 'required');
  assert.deepEqual(f.password.params, {});
});

test('the user rules and the password policy answer their own codes', async () => {
  const admin = await tokenOf('admin');
  const bad = await api('POST', '/api/v1/users', admin, {
    username: 'a b', display_name: '码', password: 'short', email: 'nope', phone: 'call me', role_ids: [999999],
  });
  const f = byField(await expectProblem(bad, 422, 'validation_failed'));
  assert.equal(f.username.code, 'username_format');
  assert.deepEqual(f.username.params, { min: 3, max: 32 });
  assert.equal(f.password.code, 'password_length');
  assert.equal(f.password.params.max, 128);
  assert.ok(f.password.params.min >= 8, JSON.stringify(f.password));
  assert.equal(f.email.code, 'not_email');
  assert.equal(f.phone.code, 'phone_format');
  assert.equal(f['role_ids[0]'].code, 'no_such_role');

  const username = `ec_${rnd()}`;
  const named = await api('POST', '/api/v1/users', admin, { username, display_name: '码', password: `${username}-Zq9-x7` });
  assert.equal(byField(await expectProblem(named, 422, 'validation_failed')).password.code, 'password_has_name');
});

test('a taken username is 409 conflict with the field error taken', async () => {
  const admin = await tokenOf('admin');
  const res = await api('POST', '/api/v1/users', admin, { username: 'admin', display_name: '重复', password: GOOD_PW });
  const f = byField(await expectProblem(res, 409, 'conflict'));
  assert.equal(f.username.code, 'taken');
  assert.deepEqual(f.username.params, {});
});

test('query parameters: out_of_range and one_of name their bounds and values', async () => {
  const admin = await tokenOf('admin');
  const res = await api('GET', '/api/v1/users?page_size=500&sort=nope&order=up&status=gone', admin);
  const f = byField(await expectProblem(res, 422, 'validation_failed'));
  assert.equal(f.page_size.code, 'out_of_range');
  assert.deepEqual(f.page_size.params, { min: 1, max: 100 });
  assert.equal(f.sort.code, 'one_of');
  assert.match(f.sort.params.allowed, /\bid\b/, 'the sort keys are listed');
  assert.deepEqual(f.order.params, { allowed: 'asc, desc' });
  assert.deepEqual(f.status.params, { allowed: 'enabled, disabled, locked' });

  const audit = await api('GET', '/api/v1/audit/logs?from=yesterday', admin);
  assert.equal(byField(await expectProblem(audit, 422, 'validation_failed')).from.code, 'not_time');
});

test('a role code with other characters is code_format; an unknown permission is no_such_permission', async () => {
  const admin = await tokenOf('admin');
  const res = await api('POST', '/api/v1/roles', admin, {
    code: 'Bad Code', name: '坏角色', data_scope: 'SELF', permissions: ['no:such:permission'],
  });
  const f = byField(await expectProblem(res, 422, 'validation_failed'));
  assert.equal(f.code.code, 'code_format');
  assert.equal(f['permissions[0]'].code, 'no_such_permission');
});

test('a record that cannot be deleted says why as a whole-record field error (field "")', async () => {
  const admin = await tokenOf('admin');
  const tree = await (await api('GET', '/api/v1/departments', admin)).json();
  const parent = tree.items.find((d) => Array.isArray(d.children) && d.children.length > 0);
  assert.ok(parent, 'the demo data has a department with sub-departments');
  const dept = byField(await expectProblem(await api('DELETE', `/api/v1/departments/${parent.id}`, admin), 409, 'conflict'));
  assert.equal(dept[''].code, 'dept_has_children');

  const roles = await (await api('GET', '/api/v1/roles?page_size=100', admin)).json();
  const builtin = roles.items.find((r) => r.code === 'admin');
  const role = byField(await expectProblem(await api('DELETE', `/api/v1/roles/${builtin.id}`, admin), 409, 'conflict'));
  assert.equal(role[''].code, 'role_builtin');
});
