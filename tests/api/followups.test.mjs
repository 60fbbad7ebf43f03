// SPDX-License-Identifier: Apache-2.0
// Follow-ups (跟进记录, issue 12) and my to-dos (待办): every field's rule with its code; a
// follow-up moves its customer (last and next contact, followed up, version) with
// customer.updated beside followup.created; contacts of another customer refused; two managers
// isolated (list, by id, by the customer's URL, by a customer_id in a body: 404); a director
// sees the department's; only the author edits, and only for 24 hours; a stale version is 409;
// the to-do counts and lists; a customer in the recycle bin hides its follow-ups and a restore
// brings them back; the audit keeps before and after. Contacts are made with SQL (the contacts
// API is another piece of work), everything else through the gateway as the demo accounts.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually, expectProblem, mysql, tokenOf } from './lib.mjs';

const sfx = Math.random().toString(36).slice(2, 8);
const T = {}; // tokens
const ME = {}; // user ids
let seq = 0;
const uniq = () => `${sfx}${++seq}`;
const HOUR = 3600 * 1000;
const at = (ms) => new Date(Date.now() + ms).toISOString();

async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

const customer = async (who, fields = {}) =>
  ok(await api('POST', '/api/v1/customers', T[who], { name: `跟进客户${uniq()}有限公司`, ...fields }), 201);
const getCustomer = async (who, id) => ok(await api('GET', `/api/v1/customers/${id}`, T[who]));
const followup = async (who, fields) =>
  ok(await api('POST', '/api/v1/followups', T[who], { contact_at: at(-HOUR), method: 'phone', content: `通话记录${uniq()}`, ...fields }), 201);
const list = async (who, query = '') => ok(await api('GET', `/api/v1/followups?page_size=100${query}`, T[who]));
const idsOf = (page) => page.items.map((x) => x.id);
const sqlText = (s) => `'${s.replace(/'/g, "''")}'`;

/** A contact of customer 'cid', made in the customer database (see 0002_contacts.sql). */
function contact(cid, name = `联系人${uniq()}`) {
  const id = mysql(`INSERT INTO crm_customer.contacts (customer_id, name, name_search, created_by) VALUES (${cid}, ${sqlText(name)}, ${sqlText(name)}, 1); SELECT LAST_INSERT_ID();`);
  return { id: Number(id), name };
}

before(async () => {
  for (const u of ['admin', 'director_east', 'manager_east1', 'manager_east2', 'manager_south1', 'manager_south2', 'viewer']) {
    T[u] = await tokenOf(u);
    ME[u] = (await ok(await api('GET', '/api/v1/auth/me', T[u]))).id;
  }
});

test('a follow-up keeps its fields and moves its customer: last and next contact, followed up', async () => {
  const c = await customer('manager_east1');
  assert.equal(c.followed_up, false);
  const ct = contact(c.id, `王经理${uniq()}`);
  const body = {
    customer_id: c.id, contact_at: at(-HOUR), method: 'visit', content: '上门拜访：客户说“明年扩大采购” 😀',
    contact_ids: [ct.id], next_contact_at: at(48 * HOUR),
  };
  const f = await followup('manager_east1', body);
  assert.deepEqual(Object.keys(f).sort(), ['author_id', 'author_name', 'contact_at', 'contacts', 'content', 'created_at', 'customer_id',
    'customer_name', 'editable', 'id', 'manager_id', 'method', 'next_contact_at', 'updated_at', 'version'].sort());
  assert.equal(f.customer_id, c.id);
  assert.equal(f.customer_name, c.name);
  assert.equal(f.contact_at, body.contact_at);
  assert.equal(f.next_contact_at, body.next_contact_at);
  assert.equal(f.method, 'visit');
  assert.equal(f.content, body.content);
  assert.deepEqual(f.contacts, [{ id: ct.id, name: ct.name }]);
  assert.equal(f.author_id, ME.manager_east1);
  assert.equal(f.author_name, '张伟');
  assert.equal(f.version, 1);
  assert.equal(f.editable, true);
  assert.deepEqual(await ok(await api('GET', `/api/v1/followups/${f.id}`, T.manager_east1)), f);
  let now = await getCustomer('manager_east1', c.id);
  assert.equal(now.last_contact_at, body.contact_at);
  assert.equal(now.last_contact_content, body.content);
  assert.equal(now.next_contact_at, body.next_contact_at);
  assert.equal(now.followed_up, true);
  assert.equal(now.version, c.version + 1);
  // an older contact written later is not the last one; with no next contact of its own, the
  // one planned after it stays
  await followup('manager_east1', { customer_id: c.id, contact_at: at(-72 * HOUR), content: '更早的一次电话' });
  now = await getCustomer('manager_east1', c.id);
  assert.equal(now.last_contact_at, body.contact_at);
  assert.equal(now.last_contact_content, body.content);
  assert.equal(now.next_contact_at, body.next_contact_at);
  // the customer keeps 500 characters of a long content (characters, not bytes)
  const long = '长'.repeat(1999) + '尾';
  const l = await followup('manager_east1', { customer_id: c.id, contact_at: at(-60 * 1000), content: long });
  assert.equal(l.content, long);
  now = await getCustomer('manager_east1', c.id);
  assert.equal(now.last_contact_content, '长'.repeat(500));
  assert.equal(now.last_contact_at, l.contact_at);
  // a contact at or after the planned next contact fulfils it
  const o = await customer('manager_east1');
  const planned = await followup('manager_east1', { customer_id: o.id, contact_at: at(-48 * HOUR), next_contact_at: at(-24 * HOUR) });
  assert.equal((await getCustomer('manager_east1', o.id)).next_contact_at, planned.next_contact_at);
  await followup('manager_east1', { customer_id: o.id, contact_at: at(-HOUR) });
  assert.equal((await getCustomer('manager_east1', o.id)).next_contact_at, null);
  // a customer's timeline, newest contact first
  const tl = await ok(await api('GET', `/api/v1/customers/${c.id}/followups`, T.manager_east1));
  assert.equal(tl.total, 3);
  assert.deepEqual(tl.items.map((x) => x.content), [long, body.content, '更早的一次电话']);
});

test('every field is checked, with a code at the field', async () => {
  const c = await customer('manager_east1');
  const other = await customer('manager_east1');
  const theirs = contact(other.id);
  const codes = (p) => Object.fromEntries(p.errors.map((e) => [e.field, e.code]));
  let p = await expectProblem(await api('POST', '/api/v1/followups', T.manager_east1, {}), 422, 'validation_failed');
  assert.deepEqual(codes(p), { customer_id: 'required', contact_at: 'required', method: 'required', content: 'required' });
  p = await expectProblem(await api('POST', '/api/v1/followups', T.manager_east1, {
    customer_id: c.id, contact_at: at(-HOUR), method: 'phone', content: 'x'.repeat(2001), contact_ids: ['1'], extra: 1,
  }), 422);
  assert.deepEqual(codes(p), { content: 'length', 'contact_ids[0]': 'wrong_type', extra: 'unknown_field' });
  p = await expectProblem(await api('POST', '/api/v1/followups', T.manager_east1, {
    customer_id: c.id, contact_at: 'yesterday', method: 'telepathy', content: ' 　 ', next_contact_at: 'soon',
  }), 422);
  assert.deepEqual(codes(p), { contact_at: 'not_time', method: 'not_in_dictionary', content: 'blank', next_contact_at: 'not_time' });
  assert.deepEqual(p.errors.find((e) => e.field === 'method').params, { dict: 'followup_method' });
  for (const e of p.errors) assert.ok(e.message.length > 5, `${e.field} says why`);
  // when: not in the future (a few minutes of clock skew allowed); the next contact after it
  p = await expectProblem(await api('POST', '/api/v1/followups', T.manager_east1, {
    customer_id: c.id, contact_at: at(HOUR), method: 'phone', content: '明天的电话',
  }), 422);
  assert.deepEqual(codes(p), { contact_at: 'in_future' });
  await followup('manager_east1', { customer_id: c.id, contact_at: at(2 * 60 * 1000) });
  p = await expectProblem(await api('POST', '/api/v1/followups', T.manager_east1, {
    customer_id: c.id, contact_at: at(-HOUR), method: 'phone', content: '下次更早？', next_contact_at: at(-2 * HOUR),
  }), 422);
  assert.deepEqual(codes(p), { next_contact_at: 'next_before_contact' });
  // contacts: of this customer, each once
  const mine = contact(c.id);
  p = await expectProblem(await api('POST', '/api/v1/followups', T.manager_east1, {
    customer_id: c.id, contact_at: at(-HOUR), method: 'phone', content: '别人的联系人', contact_ids: [mine.id, theirs.id, mine.id],
  }), 422);
  assert.deepEqual(codes(p), { 'contact_ids[1]': 'not_customer_contact', 'contact_ids[2]': 'repeated_value' });
  const none = await followup('manager_east1', { customer_id: c.id, contact_ids: [] });
  assert.deepEqual(none.contacts, []);
  // every dictionary value of followup_method is accepted
  for (const method of ['phone', 'wechat', 'visit', 'email', 'meeting']) assert.equal((await followup('manager_east1', { customer_id: c.id, method })).method, method);
  // the same rules on an edit, against the record as it is
  const f = await followup('manager_east1', { customer_id: c.id, contact_at: at(-3 * HOUR), next_contact_at: at(5 * HOUR) });
  p = await expectProblem(await api('PATCH', `/api/v1/followups/${f.id}`, T.manager_east1, { version: 1, contact_at: at(2 * HOUR) }), 422);
  assert.deepEqual(codes(p), { contact_at: 'in_future' });
  p = await expectProblem(await api('PATCH', `/api/v1/followups/${f.id}`, T.manager_east1, { version: 1, next_contact_at: at(-4 * HOUR) }), 422);
  assert.deepEqual(codes(p), { next_contact_at: 'next_before_contact' });
  p = await expectProblem(await api('PATCH', `/api/v1/followups/${f.id}`, T.manager_east1, { version: 1, contact_ids: [theirs.id], method: 'x' }), 422);
  assert.deepEqual(codes(p), { 'contact_ids[0]': 'not_customer_contact', method: 'not_in_dictionary' });
  p = await expectProblem(await api('PATCH', `/api/v1/followups/${f.id}`, T.manager_east1, { version: 1, customer_id: other.id }), 422);
  assert.deepEqual(codes(p), { customer_id: 'unknown_field' }, 'a follow-up does not move to another customer');
});

test('two managers cannot reach each other\'s follow-ups; a director sees the department\'s', async () => {
  const a = await customer('manager_east1');
  const b = await customer('manager_east2');
  const s = await customer('manager_south1');
  const fa = await followup('manager_east1', { customer_id: a.id, content: `甲的跟进${uniq()}` });
  const fb = await followup('manager_east2', { customer_id: b.id });
  const fs = await followup('manager_south1', { customer_id: s.id });
  for (const [who, theirs, cust] of [['manager_east2', fa, a], ['manager_south1', fa, a], ['manager_east1', fb, b], ['director_east', fs, s]]) {
    await expectProblem(await api('GET', `/api/v1/followups/${theirs.id}`, T[who]), 404, 'not_found');
    await expectProblem(await api('PATCH', `/api/v1/followups/${theirs.id}`, T[who], { version: 1, content: '改别人的' }), 404, 'not_found');
    await expectProblem(await api('GET', `/api/v1/customers/${cust.id}/followups`, T[who]), 404, 'not_found');
    await expectProblem(await api('POST', '/api/v1/followups', T[who], { customer_id: cust.id, contact_at: at(-HOUR), method: 'phone', content: '写到别人的客户' }), 404, 'not_found');
    assert.equal((await list(who, `&customer_id=${cust.id}`)).total, 0, `${who} lists none of customer ${cust.id}`);
    assert.ok(!idsOf(await list(who, `&author_id=${theirs.author_id}`)).includes(theirs.id));
  }
  assert.equal((await ok(await api('GET', `/api/v1/followups/${fa.id}`, T.manager_east1))).content, fa.content, 'nothing was changed');
  // every follow-up a manager lists is of a customer they manage
  const page = await list('manager_east1');
  assert.ok(page.items.length > 0);
  assert.ok(page.items.every((x) => x.manager_id === ME.manager_east1));
  // the director: the department's, not another's
  const d = await list('director_east', `&contact_from=${encodeURIComponent(at(-2 * HOUR))}`);
  assert.ok(idsOf(d).includes(fa.id) && idsOf(d).includes(fb.id));
  assert.ok(!idsOf(d).includes(fs.id));
  assert.equal((await ok(await api('GET', `/api/v1/customers/${a.id}/followups`, T.director_east))).total, 1);
  // the administrator sees all three; a read-only user reads and does not write
  for (const id of [fa.id, fb.id, fs.id]) await ok(await api('GET', `/api/v1/followups/${id}`, T.admin));
  await expectProblem(await api('POST', '/api/v1/followups', T.viewer, { customer_id: a.id, contact_at: at(-HOUR), method: 'phone', content: '只读' }), 403, 'forbidden');
});

test('the list filters by customer, author, method and contact time, newest first', async () => {
  const c = await customer('manager_east2');
  const f1 = await followup('manager_east2', { customer_id: c.id, method: 'email', contact_at: at(-30 * HOUR) });
  const f2 = await followup('manager_east2', { customer_id: c.id, method: 'wechat', contact_at: at(-20 * HOUR) });
  const f3 = await followup('director_east', { customer_id: c.id, method: 'wechat', contact_at: at(-10 * HOUR) });
  const q = (s) => list('manager_east2', `&customer_id=${c.id}${s}`).then(idsOf);
  assert.deepEqual(await q(''), [f3.id, f2.id, f1.id]);
  assert.deepEqual(await q('&method=wechat'), [f3.id, f2.id]);
  assert.deepEqual(await q(`&author_id=${ME.director_east}`), [f3.id]);
  assert.deepEqual(await q(`&contact_from=${encodeURIComponent(at(-25 * HOUR))}&contact_to=${encodeURIComponent(at(-15 * HOUR))}`), [f2.id]);
  assert.deepEqual(await q('&order=asc'), [f1.id, f2.id, f3.id]);
  const page = await list('manager_east2', `&customer_id=${c.id}`);
  assert.equal(page.items[0].customer_name, c.name);
  assert.equal(page.items[0].author_name, '王总监');
  assert.equal(page.items[0].editable, false, 'the director\'s follow-up is not the manager\'s to edit');
  assert.equal(page.items[1].editable, true);
  await expectProblem(await api('GET', '/api/v1/followups?contact_from=later', T.manager_east2), 422, 'validation_failed');
  await expectProblem(await api('GET', '/api/v1/followups?sort=content', T.manager_east2), 422, 'validation_failed');
});

test('only the author edits a follow-up, for 24 hours; a stale version gets 409 with the current record', async () => {
  const c = await customer('manager_east1');
  const ct = contact(c.id);
  const f = await followup('manager_east1', { customer_id: c.id, content: '第一次' });
  const e = await ok(await api('PATCH', `/api/v1/followups/${f.id}`, T.manager_east1, { version: 1, content: '改过了 ✅', contact_ids: [ct.id] }));
  assert.equal(e.version, 2);
  assert.equal(e.content, '改过了 ✅');
  assert.deepEqual(e.contacts, [{ id: ct.id, name: ct.name }]);
  assert.equal((await getCustomer('manager_east1', c.id)).last_contact_content, '改过了 ✅', 'the customer follows the edit');
  const p = await expectProblem(await api('PATCH', `/api/v1/followups/${f.id}`, T.manager_east1, { version: 1, content: '过期' }), 409, 'version_conflict');
  assert.equal(p.current.version, 2);
  assert.equal(p.current.content, '改过了 ✅');
  // someone who sees it but did not write it
  const byDirector = await followup('director_east', { customer_id: c.id });
  await expectProblem(await api('PATCH', `/api/v1/followups/${byDirector.id}`, T.manager_east1, { version: 1, content: '不是我写的' }), 403, 'not_author');
  await expectProblem(await api('PATCH', `/api/v1/followups/${f.id}`, T.admin, { version: 2, content: '管理员' }), 403, 'not_author');
  // 24 hours after it was recorded it is history
  mysql(`UPDATE crm_customer.followups SET created_at = created_at - INTERVAL 25 HOUR WHERE id = ${f.id}`);
  assert.equal((await ok(await api('GET', `/api/v1/followups/${f.id}`, T.manager_east1))).editable, false);
  await expectProblem(await api('PATCH', `/api/v1/followups/${f.id}`, T.manager_east1, { version: 2, content: '太晚了' }), 403, 'followup_locked');
  mysql(`UPDATE crm_customer.followups SET created_at = created_at + INTERVAL 2 HOUR WHERE id = ${f.id}`);
  const still = await ok(await api('PATCH', `/api/v1/followups/${f.id}`, T.manager_east1, { version: 2, content: '23 小时，还来得及' }));
  assert.equal(still.version, 3);
  assert.equal((await ok(await api('GET', `/api/v1/followups/${f.id}`, T.manager_east1))).content, '23 小时，还来得及');
});

test('a create repeated with its Idempotency-Key records one follow-up and moves the customer once', async () => {
  const c = await customer('manager_east1');
  const key = `fu-${uniq()}`;
  const body = { customer_id: c.id, contact_at: at(-HOUR), method: 'phone', content: '幂等' };
  const first = await ok(await api('POST', '/api/v1/followups', T.manager_east1, body, { 'idempotency-key': key }), 201);
  const again = await api('POST', '/api/v1/followups', T.manager_east1, body, { 'idempotency-key': key });
  assert.equal(again.status, 201);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal((await again.json()).id, first.id);
  assert.equal((await list('manager_east1', `&customer_id=${c.id}`)).total, 1);
  assert.equal((await getCustomer('manager_east1', c.id)).version, c.version + 1);
});

/** The start of today at 'tz' minutes east of UTC, in ms. */
function todayStart(tz) {
  const local = Date.now() + tz * 60000;
  return local - (local % 86400000) - tz * 60000;
}

test('my to-dos: counts and lists of my customers to contact today, overdue, not followed up', async () => {
  const tz = 480;
  const start = todayStart(tz);
  const iso = (ms) => new Date(ms).toISOString();
  const counts = async (who, q = `?tz=${tz}`) => ok(await api('GET', `/api/v1/customers/todos${q}`, T[who]));
  const before0 = await counts('manager_south2');
  assert.deepEqual(Object.keys(before0).sort(), ['moved', 'not_followed', 'overdue', 'today']);
  // the administrator makes three customers for manager_south2: assigned, not followed up
  const mk = async (next) => ok(await api('POST', '/api/v1/customers', T.admin, { name: `待办${uniq()}有限公司`, manager_id: ME.manager_south2, next_contact_at: next }), 201);
  const today = await mk(iso(start + 60 * 1000));
  const overdue = await mk(iso(start - HOUR));
  const later = await mk(iso(start + 24 * HOUR + HOUR));
  // a follow-up of the later one: followed up now; its planned contact stays tomorrow
  await followup('manager_south2', { customer_id: later.id, contact_at: at(-HOUR) });
  const after = await counts('manager_south2');
  assert.equal(after.today, before0.today + 1);
  assert.equal(after.overdue, before0.overdue + 1);
  assert.equal(after.not_followed, before0.not_followed + 2);
  const todo = async (who, kind, q = `&tz=${tz}`) => idsOf(await ok(await api('GET', `/api/v1/customers?page_size=100&todo=${kind}${q}`, T[who])));
  const mine = [today.id, overdue.id, later.id];
  const pick = (ids) => mine.filter((id) => ids.includes(id));
  assert.deepEqual(pick(await todo('manager_south2', 'today')), [today.id]);
  assert.deepEqual(pick(await todo('manager_south2', 'overdue')), [overdue.id]);
  assert.deepEqual(pick(await todo('manager_south2', 'not_followed')).sort(), [today.id, overdue.id].sort());
  // the counts are the lists' totals
  const total = async (kind) => (await ok(await api('GET', `/api/v1/customers?page_size=1&todo=${kind}&tz=${tz}`, T.manager_south2))).total;
  const now = await counts('manager_south2');
  assert.deepEqual({ today: await total('today'), overdue: await total('overdue'), not_followed: await total('not_followed'), moved: await total('moved') }, now);
  // the caller's own only: the administrator (scope ALL) and another manager do not see them as theirs
  for (const who of ['admin', 'manager_south1']) assert.deepEqual(pick(await todo(who, 'not_followed')), []);
  // another day: twelve hours west the "today" customer is yesterday's (overdue) or still today
  const west = await todo('manager_south2', 'overdue', '&tz=-720');
  const westStart = todayStart(-720);
  assert.equal(west.includes(today.id), start + 60 * 1000 < westStart);
  // parameters
  await expectProblem(await api('GET', '/api/v1/customers/todos?tz=900', T.manager_south2), 422, 'validation_failed');
  await expectProblem(await api('GET', '/api/v1/customers?todo=someday', T.manager_south2), 422, 'validation_failed');
  assert.deepEqual(await counts('manager_south2', ''), await counts('manager_south2', '?tz=480'), 'China is the default');
});

test('my numbers: my live customers counted, by level and by industry, in one request; nobody else\'s', async () => {
  const numbers = async (who) => ok(await api('GET', '/api/v1/customers/numbers', T[who]));
  const countOf = (list, v) => list.find((x) => x.value === v)?.count ?? 0;
  const before0 = await numbers('manager_south2');
  const other0 = await numbers('manager_east2');
  assert.deepEqual(Object.keys(before0).sort(), ['by_industry', 'by_level', 'customers']);
  const mk = async (who, fields) => ok(await api('POST', '/api/v1/customers', T.admin, { name: `数字${uniq()}有限公司`, manager_id: ME[who], ...fields }), 201);
  await mk('manager_south2', { level: 'a', industry: 'logistics' });
  await mk('manager_south2', { level: 'a', industry: 'education' });
  // one in the recycle bin is not counted
  const gone = await mk('manager_south2', { level: 'c' });
  assert.equal((await api('DELETE', `/api/v1/customers/${gone.id}`, T.admin)).status, 204);
  await mk('manager_east2', { level: 'a', industry: 'logistics' });
  const after = await numbers('manager_south2');
  assert.equal(after.customers, before0.customers + 2);
  assert.equal(countOf(after.by_level, 'a'), countOf(before0.by_level, 'a') + 2);
  assert.equal(countOf(after.by_level, 'c'), countOf(before0.by_level, 'c'));
  assert.equal(countOf(after.by_industry, 'logistics'), countOf(before0.by_industry, 'logistics') + 1);
  assert.equal(countOf(after.by_industry, 'education'), countOf(before0.by_industry, 'education') + 1);
  // each count is the total of my list with that filter; the values are largest first and add up
  const total = async (q) => (await ok(await api('GET', `/api/v1/customers?scene=mine&page_size=1${q}`, T.manager_south2))).total;
  assert.equal(after.customers, await total(''));
  for (const [key, col] of [['by_level', 'level'], ['by_industry', 'industry']]) {
    assert.equal(after[key].reduce((s, x) => s + x.count, 0), after.customers, key);
    assert.deepEqual(after[key].map((x) => x.count), after[key].map((x) => x.count).sort((a, b) => b - a), `${key} largest first`);
    for (const x of after[key]) if (x.value) assert.equal(x.count, await total(`&${col}=${x.value}`), `${col}=${x.value}`);
  }
  // another manager's numbers have their own (other tests make manager_east2's customers too)
  const other = await numbers('manager_east2');
  assert.ok(other.customers >= other0.customers + 1);
  assert.ok(countOf(other.by_level, 'a') >= countOf(other0.by_level, 'a') + 1);
  await expectProblem(await api('GET', '/api/v1/customers/numbers'), 401, 'unauthorized');
});

test('a customer in the recycle bin hides its follow-ups; restore brings them back', async () => {
  const c = await customer('manager_east1');
  const f = await followup('manager_east1', { customer_id: c.id });
  assert.equal((await api('DELETE', `/api/v1/customers/${c.id}`, T.manager_east1)).status, 204);
  await expectProblem(await api('GET', `/api/v1/followups/${f.id}`, T.manager_east1), 404);
  await expectProblem(await api('GET', `/api/v1/followups/${f.id}`, T.admin), 404);
  await expectProblem(await api('PATCH', `/api/v1/followups/${f.id}`, T.manager_east1, { version: 1, content: '删了还改' }), 404);
  await expectProblem(await api('GET', `/api/v1/customers/${c.id}/followups`, T.manager_east1), 404);
  await expectProblem(await api('POST', '/api/v1/followups', T.manager_east1, { customer_id: c.id, contact_at: at(-HOUR), method: 'phone', content: '删了还记' }), 404);
  assert.equal((await list('admin', `&customer_id=${c.id}`)).total, 0);
  await ok(await api('POST', `/api/v1/customers/${c.id}/restore`, T.admin));
  assert.equal((await ok(await api('GET', `/api/v1/followups/${f.id}`, T.manager_east1))).id, f.id);
  assert.deepEqual(idsOf(await list('manager_east1', `&customer_id=${c.id}`)), [f.id]);
});

test('every write is in the audit with before and after: the follow-up\'s and its customer\'s', async () => {
  const c = await customer('manager_east1');
  const f = await followup('manager_east1', { customer_id: c.id, method: 'phone', content: '审计前', next_contact_at: at(5 * HOUR) });
  await ok(await api('PATCH', `/api/v1/followups/${f.id}`, T.manager_east1, { version: 1, content: '审计后', method: 'wechat' }));
  let fh, ch;
  await eventually(async () => {
    fh = await ok(await api('GET', `/api/v1/audit/history/followup/${f.id}`, T.admin));
    ch = await ok(await api('GET', `/api/v1/audit/history/customer/${c.id}`, T.admin));
    return fh.items.some((i) => i.event_type === 'followup.updated') && fh.items.some((i) => i.event_type === 'followup.created') &&
      ch.items.filter((i) => i.event_type === 'customer.updated').length === 2;
  }, 15000, 'the follow-up\'s and the customer\'s writes in the audit');
  const created = fh.items.find((i) => i.event_type === 'followup.created');
  const field = (entry, name) => entry.changes.find((x) => x.field === name);
  assert.equal(field(created, 'content').after, '审计前');
  assert.equal(field(created, 'customer_id').after, c.id);
  assert.equal(field(created, 'manager_id').after, ME.manager_east1);
  assert.deepEqual(field(created, 'contact_ids').after, []);
  const updated = fh.items.find((i) => i.event_type === 'followup.updated');
  assert.deepEqual(updated.changes.sort((x, y) => x.field.localeCompare(y.field)),
    [{ field: 'content', before: '审计前', after: '审计后' }, { field: 'method', before: 'phone', after: 'wechat' }]);
  assert.equal(updated.actor_user_id, String(ME.manager_east1));
  // the customer: once for the follow-up (every moved column), once for the edit (the content)
  const moves = ch.items.filter((i) => i.event_type === 'customer.updated').sort((x, y) => x.id - y.id);
  const first = Object.fromEntries(moves[0].changes.map((x) => [x.field, x]));
  assert.deepEqual(first.followed_up, { field: 'followed_up', before: false, after: true });
  assert.equal(first.last_contact_at.before, null);
  assert.equal(first.last_contact_at.after, f.contact_at);
  assert.deepEqual(first.last_contact_content, { field: 'last_contact_content', before: '', after: '审计前' });
  assert.equal(first.next_contact_at.after, f.next_contact_at);
  assert.deepEqual(moves[1].changes, [{ field: 'last_contact_content', before: '审计前', after: '审计后' }]);
});
