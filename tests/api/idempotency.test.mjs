// SPDX-License-Identifier: Apache-2.0
// Idempotency-Key on the POSTs that create records (issue 10, finding 3): a repeat of the same
// key by the same user within 24 hours gets the first answer and creates nothing, also when the
// tries race each other; a key reused for another request is refused; keys are per user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEWAY, api, expectProblem, mysql, tokenOf, eventually } from './lib.mjs';

const rnd = () => Math.random().toString(36).slice(2, 10);
const PW = 'Quartz-Lantern-2026!';
const userBody = (username) => ({ username, display_name: `幂等 ${username}`, password: PW });
const usersNamed = (username) =>
  Number(mysql(`SELECT COUNT(*) FROM crm_auth.users WHERE username = '${username}'`));
const createdEvents = (id) =>
  Number(mysql(`SELECT COUNT(*) FROM crm_audit.audit_log WHERE event_type = 'user.created' AND subject_type = 'user' AND subject_id = '${id}'`));

test('#3 a repeated create with the same Idempotency-Key answers the first answer and creates one user', async () => {
  const admin = await tokenOf('admin');
  const username = `idem_${rnd()}`;
  const key = `k-${rnd()}-${rnd()}`;
  const first = await api('POST', '/api/v1/users', admin, userBody(username), { 'idempotency-key': key });
  assert.equal(first.status, 201, await first.clone().text());
  assert.equal(first.headers.get('idempotent-replayed'), null);
  const a = await first.json();
  const again = await api('POST', '/api/v1/users', admin, userBody(username), { 'idempotency-key': key });
  assert.equal(again.status, 201, 'the repeat is answered like the first, not 409 username taken');
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(await again.json(), a);
  assert.equal(usersNamed(username), 1);
  // one user.created reached the audit log, not two
  await eventually(() => createdEvents(a.id) === 1, 20000, 'one user.created audited');
  // without a key the same create is a conflict, as before
  await expectProblem(await api('POST', '/api/v1/users', admin, userBody(username)), 409, 'conflict');
});

test('#3 tries of one key that race each other create one record and all get its answer', async () => {
  const admin = await tokenOf('admin');
  // a few rounds of 8 tries at once: some find the first answer stored, others run alongside
  // the first and lose on the key (their role is rolled back) - either way one role, one answer
  for (let round = 0; round < 3; round++) {
    const code = `idem_${rnd()}`;
    const key = `race-${rnd()}`;
    const body = { code, name: `幂等角色 ${code}`, data_scope: 'SELF', permissions: ['system:user:read'] };
    const answers = await Promise.all(Array.from({ length: 8 }, () =>
      api('POST', '/api/v1/roles', admin, body, { 'idempotency-key': key })));
    const ids = new Set();
    for (const r of answers) {
      assert.equal(r.status, 201, await r.clone().text());
      ids.add((await r.json()).id);
    }
    assert.equal(ids.size, 1, 'every try answers the same role');
    assert.equal(Number(mysql(`SELECT COUNT(*) FROM crm_auth.roles WHERE code = '${code}'`)), 1);
    assert.equal(answers.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 7);
  }
});

test('#3 a key reused for a different request is refused and changes nothing', async () => {
  const admin = await tokenOf('admin');
  const key = `reuse-${rnd()}`;
  const one = `idem_${rnd()}`, two = `idem_${rnd()}`;
  assert.equal((await api('POST', '/api/v1/users', admin, userBody(one), { 'idempotency-key': key })).status, 201);
  const res = await api('POST', '/api/v1/users', admin, userBody(two), { 'idempotency-key': key });
  await expectProblem(res, 422, 'idempotency_key_reused');
  assert.equal(usersNamed(two), 0);
  // the same key on another create route is another request too
  await expectProblem(await api('POST', '/api/v1/departments', admin, { name: `部门 ${two}` },
    { 'idempotency-key': key }), 422, 'idempotency_key_reused');
});

test('#3 keys belong to their user: the same key from another user is a request of its own', async (t) => {
  const admin = await tokenOf('admin');
  const key = `shared-${rnd()}`;
  const mine = `idem_${rnd()}`;
  assert.equal((await api('POST', '/api/v1/users', admin, userBody(mine), { 'idempotency-key': key })).status, 201);
  // another administrator, made for this test, sends the same key with its own create
  const other = `idem_adm_${rnd()}`;
  const adminRole = Number(mysql("SELECT id FROM crm_auth.roles WHERE code = 'admin'"));
  assert.ok(adminRole > 0, 'the built-in administrator role');
  const made = await api('POST', '/api/v1/users', admin, { ...userBody(other), role_ids: [adminRole] });
  assert.equal(made.status, 201);
  const otherId = (await made.json()).id;
  // ... and disabled again at the end (the last-administrator test expects one active admin)
  t.after(async () => assert.equal((await api('POST', `/api/v1/users/${otherId}/disable`, admin)).status, 200));
  const login = await fetch(`${GATEWAY}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: other, password: PW }),
  });
  assert.equal(login.status, 200);
  const tok = (await login.json()).access_token;
  const theirs = `idem_${rnd()}`;
  const res = await api('POST', '/api/v1/users', tok, userBody(theirs), { 'idempotency-key': key });
  assert.equal(res.status, 201, 'not the first user\'s answer, not a reuse');
  assert.equal(res.headers.get('idempotent-replayed'), null);
  assert.equal((await res.json()).username, theirs);
});

test('#3 a malformed Idempotency-Key is a field error and creates nothing', async () => {
  const admin = await tokenOf('admin');
  const username = `idem_${rnd()}`;
  const res = await api('POST', '/api/v1/users', admin, userBody(username), { 'idempotency-key': 'x'.repeat(129) });
  const p = await expectProblem(res, 422, 'validation_failed');
  assert.ok(p.errors.some((e) => e.field === 'Idempotency-Key'), JSON.stringify(p));
  assert.equal(usersNamed(username), 0);
});

test('#3 a failed create is not stored: its repeat with the key runs again', async () => {
  const admin = await tokenOf('admin');
  const username = `idem_${rnd()}`;
  const key = `fail-${rnd()}`;
  // a weak password: 422, nothing created, nothing stored under the key
  await expectProblem(await api('POST', '/api/v1/users', admin, { ...userBody(username), password: 'x' },
    { 'idempotency-key': key }), 422, 'validation_failed');
  assert.equal(Number(mysql(`SELECT COUNT(*) FROM crm_auth.idempotency_keys WHERE idem_key = '${key}'`)), 0);
});
