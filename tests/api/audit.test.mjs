// SPDX-License-Identifier: Apache-2.0
// The audit service through the gateway: a field change is recorded with its before and after
// and the request id, logins and operations are logged, the hash chain finds an edited row, the
// audit database user cannot change the log, only administrators read it, filters are checked
// and lists are paged; the lists name people and subjects (actor_name, subject_name,
// display_name, user_name), not only their ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { STATE, api, eventually, expectProblem, login, mysql, serviceUrl, tokenOf } from './lib.mjs';

const rnd = () => Math.random().toString(36).slice(2, 8);
const GOOD_PW = 'Correct-Horse-9-Battery';
const get = async (path, tok) => {
  const res = await api('GET', path, tok);
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${res.status} ${text}`);
  return JSON.parse(text);
};

// One user created, edited and logged in as by the first test; the later tests look at its trail.
const ctx = {};

test('an edit is in the record\'s history with exactly the field\'s before and after and the request id', async () => {
  const adminTok = await tokenOf('admin');
  ctx.adminId = String((await get('/api/v1/auth/me', adminTok)).id);
  const username = `au_${rnd()}`;
  const created = await api('POST', '/api/v1/users', adminTok, { username, display_name: `审计前-${username}`, password: GOOD_PW });
  assert.equal(created.status, 201);
  const user = await created.json();
  ctx.user = { id: user.id, username };
  ctx.marker = `Audit-${rnd()}`;
  ctx.after = `${ctx.marker}-审计后`;
  // the gateway makes the request id; the client's own comes back apart
  const mine = `audit-edit-${rnd()}`;
  const p = await api('PATCH', `/api/v1/users/${user.id}`, adminTok, { version: user.version, display_name: ctx.after }, { 'x-request-id': mine });
  assert.equal(p.status, 200);
  assert.equal(p.headers.get('x-client-request-id'), mine);
  ctx.rid = p.headers.get('x-request-id');
  assert.match(ctx.rid, /^[0-9a-f]{32}$/);

  let entry;
  await eventually(async () => {
    const h = await get(`/api/v1/audit/history/user/${user.id}`, adminTok);
    entry = h.items.find((i) => i.event_type === 'user.updated');
    return entry;
  }, 10000, 'user.updated in the history');
  assert.deepEqual(entry.changes, [{ field: 'display_name', before: `审计前-${username}`, after: ctx.after }]);
  assert.equal(entry.request_id, ctx.rid);
  assert.equal(entry.subject_type, 'user');
  assert.equal(entry.subject_id, String(user.id));
  assert.equal(entry.actor_user_id, ctx.adminId);
  assert.equal(entry.actor_ip, '127.0.0.1');
  assert.equal(entry.producer, 'auth');
  assert.match(entry.hash, /^[0-9a-f]{64}$/);
  assert.match(entry.event_id, /^[0-9a-f-]{36}$/);
  for (const k of ['occurred_at', 'recorded_at']) assert.match(entry[k], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, k);
  ctx.entry = entry;
  // the creation is there too, without the password
  const h = await get(`/api/v1/audit/history/user/${user.id}`, adminTok);
  const c = h.items.find((i) => i.event_type === 'user.created');
  assert.ok(c, 'user.created in the history');
  assert.ok(!JSON.stringify(c).includes(GOOD_PW) && !JSON.stringify(c).includes('argon2'));

  // the same entry through the general list and its filters
  const l = await get(`/api/v1/audit/logs?subject_type=user&subject_id=${user.id}`, adminTok);
  assert.equal(l.total, h.total);
  assert.deepEqual(l.items.find((i) => i.id === entry.id), entry);
  const only = await get(`/api/v1/audit/logs?subject_type=user&subject_id=${user.id}&event_type=user.updated`, adminTok);
  assert.equal(only.total, 1);
  assert.equal(only.items[0].id, entry.id);
  const byActor = await get(`/api/v1/audit/logs?actor=${ctx.adminId}&event_type=user.updated&page_size=100`, adminTok);
  assert.ok(byActor.items.some((i) => i.id === entry.id));
  assert.ok(byActor.items.every((i) => i.actor_user_id === ctx.adminId && i.event_type === 'user.updated'));
});

test('a login success and a failure are in the login log with address and user agent', async () => {
  assert.ok(ctx.user, 'the first test ran');
  const adminTok = await tokenOf('admin');
  const ua = `crm-audit-test/${rnd()}`;
  assert.equal((await login(ctx.user.username, GOOD_PW, { 'user-agent': ua })).res.status, 200);
  assert.equal((await login(ctx.user.username, 'Wrong-Password-123', { 'user-agent': ua })).res.status, 401);
  let items = [];
  await eventually(async () => {
    items = (await get(`/api/v1/audit/logins?username=${ctx.user.username}`, adminTok)).items;
    return items.length >= 2;
  }, 10000, 'both logins in the login log');
  const ok = items.find((i) => i.result === 'success');
  const bad = items.find((i) => i.result === 'failure');
  assert.ok(ok && bad, JSON.stringify(items));
  for (const i of [ok, bad]) {
    assert.equal(i.username, ctx.user.username);
    assert.equal(i.user_id, String(ctx.user.id));
    assert.equal(i.ip, '127.0.0.1');
    assert.equal(i.user_agent, ua);
    assert.match(i.occurred_at, /Z$/);
  }
  assert.equal(bad.reason, 'bad_credentials');
  assert.ok(bad.id > ok.id, 'newest first');
  const failures = await get(`/api/v1/audit/logins?username=${ctx.user.username}&result=failure`, adminTok);
  assert.deepEqual(failures.items.map((i) => i.id), [bad.id]);
  // the login events are in the record's history as well
  const h = await get(`/api/v1/audit/history/user/${ctx.user.id}`, adminTok);
  for (const type of ['auth.login_succeeded', 'auth.login_failed']) assert.ok(h.items.some((i) => i.event_type === type), type);
});

test('the edit is in the operation log with method, path, status, user and request id', async () => {
  assert.ok(ctx.entry, 'the first test ran');
  const adminTok = await tokenOf('admin');
  const path = `/api/v1/users/${ctx.user.id}`;
  let op;
  await eventually(async () => {
    const o = await get(`/api/v1/audit/operations?method=PATCH&path=${encodeURIComponent(path)}`, adminTok);
    op = o.items.find((i) => i.request_id === ctx.rid);
    return op;
  }, 10000, 'the PATCH in the operation log');
  assert.equal(op.method, 'PATCH');
  assert.equal(op.path, path);
  assert.equal(op.status, 200);
  assert.equal(op.user_id, ctx.adminId);
  assert.equal(op.ip, '127.0.0.1');
  assert.match(op.duration_ms, /^\d+\.\d{3}$/);
  const filtered = await get(`/api/v1/audit/operations?user_id=${ctx.adminId}&status=200&path=/api/v1/users/&page_size=100`, adminTok);
  assert.ok(filtered.items.some((i) => i.id === op.id));
  assert.ok(filtered.items.every((i) => i.user_id === ctx.adminId && i.status === 200 && i.path.startsWith('/api/v1/users/')));
  const none = await get(`/api/v1/audit/operations?method=PATCH&path=${encodeURIComponent(path)}&status=500`, adminTok);
  assert.equal(none.total, 0);
});

test('the chain verifies; an entry edited in the database is named; restored, it verifies again', async () => {
  assert.ok(ctx.entry, 'the first test ran');
  const adminTok = await tokenOf('admin');
  const v0 = await get('/api/v1/audit/verify', adminTok);
  assert.equal(v0.ok, true, JSON.stringify(v0));
  assert.ok(v0.checked >= 2);
  assert.match(v0.head, /^[0-9a-f]{64}$/);

  const id = ctx.entry.id;
  const original = mysql(`SELECT HEX(changes) FROM crm_audit.audit_log WHERE id = ${id}`);
  assert.ok(original.length > 0);
  try {
    // as root (the service's own user could not): someone rewrites what the change was
    mysql(`UPDATE crm_audit.audit_log SET changes = REPLACE(changes, '${ctx.marker}', 'Forged-${rnd()}') WHERE id = ${id}`);
    assert.notEqual(mysql(`SELECT HEX(changes) FROM crm_audit.audit_log WHERE id = ${id}`), original, 'the row was edited');
    const v1 = await get('/api/v1/audit/verify', adminTok);
    assert.equal(v1.ok, false, JSON.stringify(v1));
    assert.equal(v1.first_bad.id, id);
    assert.equal(v1.first_bad.event_id, ctx.entry.event_id);
    assert.equal(v1.first_bad.event_type, 'user.updated');
    assert.match(v1.first_bad.reason, /no longer matches/);
    assert.equal(v1.checked, Number(mysql(`SELECT COUNT(*) FROM crm_audit.audit_log WHERE id < ${id}`)), 'checked: the entries before it');
    assert.equal(v1.complete, true);
    // a window that starts just before it names it too
    const before = Number(mysql(`SELECT MAX(id) FROM crm_audit.audit_log WHERE id < ${id}`));
    const w = await get(`/api/v1/audit/verify?after_id=${before}`, adminTok);
    assert.equal(w.ok, false, JSON.stringify(w));
    assert.equal(w.first_bad.id, id);
    assert.equal(w.checked, 0);
  } finally {
    mysql(`UPDATE crm_audit.audit_log SET changes = CONVERT(UNHEX('${original}') USING utf8mb4) WHERE id = ${id}`);
  }
  assert.equal(mysql(`SELECT HEX(changes) FROM crm_audit.audit_log WHERE id = ${id}`), original, 'restored byte for byte');
  const v2 = await get('/api/v1/audit/verify', adminTok);
  assert.equal(v2.ok, true, JSON.stringify(v2));
  assert.ok(v2.checked >= v0.checked);
  // and the API shows the restored entry as it was
  const h = await get(`/api/v1/audit/history/user/${ctx.user.id}?event_type=user.updated`, adminTok);
  assert.deepEqual(h.items.find((i) => i.id === id), ctx.entry);
});

test('one request\'s entries are found by its request id; filters are literal, never SQL', async () => {
  assert.ok(ctx.entry, 'the first test ran');
  const adminTok = await tokenOf('admin');
  const byRid = await get(`/api/v1/audit/logs?request_id=${ctx.rid}`, adminTok);
  assert.deepEqual(byRid.items.map((i) => i.id), [ctx.entry.id]);
  assert.equal(byRid.total, 1);
  assert.equal(byRid.total_capped, false);
  let ops;
  await eventually(async () => {
    ops = await get(`/api/v1/audit/operations?request_id=${ctx.rid}`, adminTok);
    return ops.total === 1;
  }, 10000, 'the PATCH found by its request id');
  assert.equal(ops.items[0].request_id, ctx.rid);
  assert.equal(ops.items[0].method, 'PATCH');
  // injection attempts match nothing (and change nothing)
  for (const q of [`request_id=${encodeURIComponent("x' OR '1'='1")}`, `actor=${encodeURIComponent('1 OR 1=1')}`,
    `event_type=${encodeURIComponent("user.updated' -- ")}`]) {
    const r = await get(`/api/v1/audit/logs?${q}`, adminTok);
    assert.equal(r.total, 0, q);
  }
  // a path prefix is taken literally: % and _ are not wildcards
  const users = await get('/api/v1/audit/operations?path=/api/v1/users/', adminTok);
  assert.ok(users.total > 0);
  for (const p of ['/api/v1/%', '/api/v1/user_/', `${encodeURIComponent("/api/v1/users/' OR '1'='1")}`]) {
    const r = await get(`/api/v1/audit/operations?path=${encodeURIComponent(p)}`, adminTok);
    assert.equal(r.total, 0, p);
  }
  const tooLong = await expectProblem(await api('GET', `/api/v1/audit/logs?request_id=${'r'.repeat(65)}`, adminTok), 422, 'validation_failed');
  assert.deepEqual(tooLong.errors.map((e) => e.field), ['request_id']);
});

test('the chain is verified in windows: from an entry on, the rest matches one whole walk', async () => {
  assert.ok(ctx.entry, 'the first test ran');
  const adminTok = await tokenOf('admin');
  const all = await get('/api/v1/audit/verify', adminTok);
  assert.equal(all.ok, true, JSON.stringify(all));
  assert.equal(all.complete, true);
  assert.equal(all.last_id, all.max_id);
  const mid = ctx.entry.id;
  const tail = await get(`/api/v1/audit/verify?after_id=${mid}`, adminTok);
  assert.equal(tail.ok, true, JSON.stringify(tail));
  assert.equal(tail.complete, true);
  const rest = Number(mysql(`SELECT COUNT(*) FROM crm_audit.audit_log WHERE id > ${mid} AND id <= ${tail.last_id}`));
  assert.equal(tail.checked, rest, 'the window checks the entries after after_id');
  if (tail.last_id === all.last_id) assert.equal(tail.head, all.head, 'the same head as the whole walk');
  for (const bad of ['abc', '-1', '1.5', '99999999999999999999999']) {
    const body = await expectProblem(await api('GET', `/api/v1/audit/verify?after_id=${bad}`, adminTok), 422, 'validation_failed');
    assert.deepEqual(body.errors.map((e) => e.field), ['after_id'], bad);
  }
  await expectProblem(await api('GET', '/api/v1/audit/verify?after_id=999999999999', adminTok), 404, 'not_found');
});

test('the audit database user may read and insert, never update, delete or drop', () => {
  const port = process.env.CRM_TEST_MYSQL_PORT ?? '4307';
  const password = readFileSync(`${STATE}/secrets/db_audit`, 'utf8').trim();
  const run = (sql) => spawnSync('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${port}`, '-ucrm_audit', '-N', '-B', '-e', sql],
    { encoding: 'utf8', env: { ...process.env, MYSQL_PWD: password } });
  const read = run('SELECT COUNT(*) > 0 FROM crm_audit.audit_log');
  assert.equal(read.status, 0, `the audit user logs in and reads: ${read.stderr}`);
  assert.equal(read.stdout.trim(), '1');
  for (const table of ['audit_log', 'login_log', 'operation_log', 'subject_names']) {
    // harmless WHERE clauses: if the privilege were there, nothing would change
    for (const sql of [
      `UPDATE crm_audit.${table} SET event_id = 'x' WHERE event_id = 'no-such-event'`,
      `DELETE FROM crm_audit.${table} WHERE event_id = 'no-such-event'`,
    ]) {
      const r = run(sql);
      assert.notEqual(r.status, 0, `${sql} must fail`);
      assert.match(r.stderr, /ERROR 1142 .*command denied to user 'crm_audit'/, sql);
    }
  }
  const drop = run('DROP TABLE crm_audit.no_such_table_for_the_test');
  assert.match(drop.stderr, /ERROR 1142 .*DROP command denied/, 'no DROP (nor TRUNCATE)');
  const before = mysql('SELECT COUNT(*) FROM crm_audit.audit_log');
  assert.equal(run('UPDATE crm_audit.audit_log SET event_type = \'x\'').status === 0, false);
  assert.equal(mysql('SELECT COUNT(*) FROM crm_audit.audit_log WHERE event_type = \'x\''), '0');
  assert.ok(Number(mysql('SELECT COUNT(*) FROM crm_audit.audit_log')) >= Number(before));
});

test('only administrators read the audit logs: a customer manager and the viewer get 403 everywhere', async () => {
  const routes = ['/api/v1/audit/logs', '/api/v1/audit/logins', '/api/v1/audit/operations', '/api/v1/audit/history/user/1', '/api/v1/audit/verify'];
  for (const who of ['manager_east1', 'viewer']) {
    const tok = await tokenOf(who);
    for (const r of routes) {
      const body = await expectProblem(await api('GET', r, tok), 403, 'forbidden');
      assert.match(body.detail, /audit:/, `${who} ${r}`);
      // the service itself refuses too, not only the gateway
      await expectProblem(await fetch(`${serviceUrl('audit')}${r}`, { headers: { authorization: `Bearer ${tok}` } }), 403, 'forbidden');
    }
  }
  for (const r of routes) await expectProblem(await api('GET', r), 401, 'unauthorized');
});

test('audit filters are validated with field errors', async () => {
  const adminTok = await tokenOf('admin');
  const cases = [
    ['/api/v1/audit/logs?from=yesterday', 'from'],
    ['/api/v1/audit/logs?from=2026-11-22T08:00:00', 'from'], // no zone
    ['/api/v1/audit/logs?from=2026-11-22%2008:00:00Z', 'from'],
    ['/api/v1/audit/logs?to=2026-13-40', 'to'],
    ['/api/v1/audit/logs?page=0', 'page'],
    ['/api/v1/audit/logs?page_size=1000', 'page_size'],
    ['/api/v1/audit/logs?subject_type=' + 'x'.repeat(40), 'subject_type'],
    ['/api/v1/audit/logins?result=maybe', 'result'],
    ['/api/v1/audit/logins?from=soon', 'from'],
    ['/api/v1/audit/operations?status=abc', 'status'],
    ['/api/v1/audit/operations?to=2026', 'to'],
    ['/api/v1/audit/history/user/1?from=x', 'from'],
  ];
  for (const [path, field] of cases) {
    const body = await expectProblem(await api('GET', path, adminTok), 422, 'validation_failed');
    assert.deepEqual(body.errors.map((e) => e.field), [field], path);
    assert.ok(body.errors[0].message.length > 0);
  }
  // a good range is accepted and filters
  const all = await get('/api/v1/audit/logs?from=2000-01-01T00:00:00Z', adminTok);
  assert.ok(all.total > 0);
  const future = await get('/api/v1/audit/logs?from=2999-01-01T00:00:00.000Z', adminTok);
  assert.equal(future.total, 0);
  assert.deepEqual(future.items, []);
  const past = await get('/api/v1/audit/logins?to=2000-01-01T00:00:00Z', adminTok);
  assert.equal(past.total, 0);
});

test('audit lists are paged, newest first, without gaps or repeats', async () => {
  assert.ok(ctx.user, 'the first test ran');
  const adminTok = await tokenOf('admin');
  const base = `/api/v1/audit/history/user/${ctx.user.id}`;
  const first = await get(`${base}?page_size=100`, adminTok);
  assert.ok(first.total >= 4, `created, updated and two logins (${first.total})`);
  assert.equal(first.items.length, first.total);
  const seen = [];
  for (let page = 1; page <= first.total; page++) {
    const p = await get(`${base}?page=${page}&page_size=1`, adminTok);
    assert.equal(p.page, page);
    assert.equal(p.page_size, 1);
    assert.equal(p.total, first.total);
    assert.equal(p.items.length, 1);
    seen.push(p.items[0].id);
  }
  assert.deepEqual(seen, first.items.map((i) => i.id));
  assert.deepEqual([...seen].sort((a, b) => b - a), seen, 'newest first');
  const beyond = await get(`${base}?page=${first.total + 1}&page_size=1`, adminTok);
  assert.deepEqual(beyond.items, []);
  assert.equal(beyond.total, first.total);
  // the big lists too: two pages of two are four distinct rows in order. The other test files
  // add rows meanwhile (newest first: on top), so a pair counts only when page 1 read again is
  // unchanged, i.e. nothing was added while page 2 was read.
  for (const list of ['logs', 'logins', 'operations']) {
    let a, b;
    const idsOf = (p) => p.items.map((i) => i.id).join();
    await eventually(async () => {
      a = await get(`/api/v1/audit/${list}?page=1&page_size=2`, adminTok);
      b = await get(`/api/v1/audit/${list}?page=2&page_size=2`, adminTok);
      return idsOf(await get(`/api/v1/audit/${list}?page=1&page_size=2`, adminTok)) === idsOf(a);
    }, 10000, `${list}: two pages read while nothing was added`);
    assert.equal(a.page_size, 2);
    assert.equal(b.page, 2);
    const ids = [...a.items, ...b.items].map((i) => i.id);
    assert.equal(ids.length, 4, list);
    assert.equal(new Set(ids).size, 4, `${list}: no repeats`);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] > ids[i], `${list} newest first`);
    const d = await get(`/api/v1/audit/${list}`, adminTok);
    assert.equal(d.page, 1);
    assert.equal(d.page_size, 20);
  }
});

test('a from or to that is no real time (month 13, 30 February, hour 99) is refused, not ignored', async () => {
  const adminTok = await tokenOf('admin');
  const accepted = [];
  for (const [list, value] of [['logs', '2026-13-45T99:99:99Z'], ['logs', '2026-02-30T00:00:00Z'], ['logins', '2026-11-22T24:61:00Z'], ['operations', '2026-00-10T00:00:00Z']]) {
    for (const key of ['from', 'to']) {
      const res = await api('GET', `/api/v1/audit/${list}?${key}=${value}`, adminTok);
      if (res.status !== 422) { accepted.push(`${list}?${key}=${value} -> ${res.status}`); await res.body?.cancel(); continue; }
      const body = await expectProblem(res, 422, 'validation_failed');
      assert.deepEqual(body.errors.map((e) => e.field), [key], `${list}?${key}=${value}`);
    }
  }
  assert.deepEqual(accepted, [], 'impossible times must get 422 with a field error');
});

test('audit entries name their actor and subject, with the name after a rename', async () => {
  const admin = await tokenOf('admin');
  const me = await get('/api/v1/auth/me', admin);
  const username = `an_${rnd()}`;
  const created = await api('POST', '/api/v1/users', admin, { username, display_name: `改名前-${username}`, password: GOOD_PW });
  assert.equal(created.status, 201);
  const user = await created.json();
  const renamed = `改名后-${username}`;
  const p = await api('PATCH', `/api/v1/users/${user.id}`, admin, { version: user.version, display_name: renamed });
  assert.equal(p.status, 200);

  let page;
  await eventually(async () => {
    page = await get(`/api/v1/audit/logs?subject_type=user&subject_id=${user.id}`, admin);
    return page.items.some((e) => e.event_type === 'user.updated');
  }, 20000, 'the rename in the audit log');
  for (const e of page.items) {
    assert.equal(e.subject_name, renamed, `${e.event_type}: the subject's newest name`);
    assert.equal(e.actor_name, me.display_name, `${e.event_type}: the actor's name`);
  }

  // an entry whose subject the log never heard named answers null, not an id
  const depts = await get('/api/v1/audit/logs?subject_type=nothing_named&page_size=1', admin);
  assert.equal(depts.items.length, 0);
});

test('the login log shows the display name, the operation log the user\'s name', async () => {
  const admin = await tokenOf('admin');
  const me = await get('/api/v1/auth/me', admin);
  const username = `ln_${rnd()}`;
  const display = `登录者-${username}`;
  assert.equal((await api('POST', '/api/v1/users', admin, { username, display_name: display, password: GOOD_PW })).status, 201);
  const { res } = await login(username, GOOD_PW);
  assert.equal(res.status, 200);

  await eventually(async () => {
    const logins = await get(`/api/v1/audit/logins?username=${username}`, admin);
    return logins.items.length > 0 && logins.items.every((l) => l.display_name === display);
  }, 20000, 'the login with its display name');

  await eventually(async () => {
    const ops = await get(`/api/v1/audit/operations?user_id=${me.id}&page_size=5`, admin);
    return ops.items.length > 0 && ops.items.every((o) => o.user_name === me.display_name);
  }, 20000, 'the operations of the administrator with its name');
  const anonymous = await get('/api/v1/audit/logins?result=failure&page_size=5', admin);
  for (const l of anonymous.items) if (l.user_id == null) assert.equal(l.display_name, null, 'no user, no name');
});

test('a failed anonymous token refresh is left out of the operation log unless failed_refresh=show', async () => {
  const admin = await tokenOf('admin');
  const res = await api('POST', '/api/v1/auth/refresh', null, { refresh_token: `no-such-token-${rnd()}` });
  assert.equal(res.status, 401);
  const rid = res.headers.get('x-request-id');
  await eventually(async () => {
    const shown = await get(`/api/v1/audit/operations?request_id=${rid}&failed_refresh=show`, admin);
    return shown.items.length === 1 && shown.items[0].user_id === null && shown.items[0].user_name === null;
  }, 20000, 'the refresh in the operation log');
  assert.equal((await get(`/api/v1/audit/operations?request_id=${rid}`, admin)).items.length, 0, 'hidden by default');
  assert.equal((await get(`/api/v1/audit/operations?request_id=${rid}&failed_refresh=hide`, admin)).items.length, 0);
  await expectProblem(await api('GET', '/api/v1/audit/operations?failed_refresh=maybe', admin), 422, 'validation_failed');
});
