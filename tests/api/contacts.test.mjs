// SPDX-License-Identifier: Apache-2.0
// Contacts (联系人, issue 12): every field's rule with its field error and code; contacts seen
// through their customer (two managers who cannot reach each other's contacts by list, id, the
// customer's id in a URL or a body, the customer search by a contact's name or phone, or the
// picker; a director who sees their department's); Chinese text and emoji unchanged; stale
// versions; one primary contact per customer; the reports-to rules; a customer in the recycle
// bin hides its contacts and restoring it brings them back; every write in the audit with
// before and after; the events the care service plans birthdays with. The demo accounts of
// deploy/demo/load, through the gateway.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accounts, api, eventually, expectProblem, login, ok, redis, tokenOf } from './lib.mjs';

const sfx = Math.random().toString(36).slice(2, 8);
const T = {}; // tokens
const ME = {}; // user ids

/** api() as demo user 'who', logged in again once when its token was revoked meanwhile (files
 * running alongside revoke real users' tokens: a reused refresh token ends all of
 * manager_south1's). */
async function call(method, path, who, body, headers) {
  const res = await api(method, path, T[who], body, headers);
  if (res.status !== 401) return res;
  T[who] = (await login(who, accounts()[who].password)).body.access_token;
  return api(method, path, T[who], body, headers);
}

let seq = 0;
const uniq = () => `${sfx}${++seq}`;
const mobile = () => `138${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
const telephone = () => `0571-${String(2e7 + Math.floor(Math.random() * 7e7))}`;

const customer = async (who, fields = {}) =>
  ok(await call('POST', '/api/v1/customers', who, { name: `联系人测试${uniq()}有限公司`, ...fields }), 201);
const contact = async (who, customerId, fields = {}) =>
  ok(await call('POST', '/api/v1/contacts', who, { customer_id: customerId, name: `联系人${uniq()}`, ...fields }), 201);
const getContact = (who, id) => call('GET', `/api/v1/contacts/${id}`, who);
const contactsOf = (who, customerId) => call('GET', `/api/v1/customers/${customerId}/contacts`, who);
const listContacts = async (who, query = '') => ok(await call('GET', `/api/v1/contacts?page_size=100${query}`, who));
const listCustomers = async (who, query = '') => ok(await call('GET', `/api/v1/customers?page_size=100${query}`, who));
const patch = (who, id, body) => call('PATCH', `/api/v1/contacts/${id}`, who, body);
const idsOf = (body) => body.items.map((c) => c.id);
const fieldsOf = (p) => p.errors.map((e) => e.field).sort();
const codeAt = (p, field) => p.errors.find((e) => e.field === field)?.code;

/** The customer service's events about contact 'id', oldest first (the last 2000 of the stream). */
/** The events of contact 'id' on the customer stream after entry 'since' (a stream id). */
const streamEnd = () => redis('XREVRANGE', 'crm:stream:customer', '+', '-', 'COUNT', '1').split('\n')[0] || '0-0';
function eventsOf(id, since) {
  const out = redis('XRANGE', 'crm:stream:customer', `(${since}`, '+');
  const events = [];
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line);
    if (e.subject?.type === 'contact' && e.subject.id === String(id)) events.push(e);
  }
  return events;
}

/** The audit entries of contact 'id' once it holds (at least) every event of 'types', a type
 * listed twice meaning two of them. */
async function history(id, types) {
  let h;
  const want = (t) => types.filter((x) => x === t).length;
  await eventually(async () => {
    h = await ok(await call('GET', `/api/v1/audit/history/contact/${id}`, 'admin'));
    return types.every((t) => h.items.filter((i) => i.event_type === t).length >= want(t));
  }, 15000, `${types.join(', ')} of contact ${id} in the audit`);
  return h.items;
}

before(async () => {
  for (const u of ['admin', 'director_east', 'manager_east1', 'manager_east2', 'manager_south1', 'viewer']) {
    T[u] = await tokenOf(u);
    ME[u] = (await ok(await call('GET', '/api/v1/auth/me', u))).id;
  }
});

test('a contact keeps every field, Chinese text and emoji included, with the names of what it points at', async () => {
  const c = await customer('manager_east1');
  const boss = await contact('manager_east1', c.id, { name: '王总 👔', position: '总经理', decision_maker: true });
  const body = {
    customer_id: c.id, name: '李娜😀', gender: 'female', position: '采购经理（华东区）', decision_maker: false,
    reports_to: boss.id, mobile: mobile(), telephone: telephone(), email: 'lina@xihu-tech.example.cn',
    wechat: 'lina_1988', birthday: '1988-05-17', address: '杭州市西湖区文三路 🏢 8 号', notes: '喜欢龙井茶 🍵，周五下午不方便',
  };
  const k = await contact('manager_east1', c.id, body);
  for (const key of Object.keys(body)) assert.deepEqual(k[key], body[key], key);
  assert.deepEqual(Object.keys(k).sort(), ['address', 'birthday', 'created_at', 'created_by', 'created_by_name', 'customer_id',
    'customer_name', 'decision_maker', 'email', 'gender', 'id', 'manager_id', 'mobile', 'name', 'notes', 'position', 'primary',
    'reports_to', 'reports_to_name', 'telephone', 'updated_at', 'version', 'wechat'].sort());
  assert.equal(k.customer_name, c.name);
  assert.equal(k.manager_id, ME.manager_east1);
  assert.equal(k.reports_to_name, '王总 👔');
  assert.equal(k.created_by, ME.manager_east1);
  assert.equal(k.created_by_name, '张伟');
  assert.equal(k.version, 1);
  assert.equal(k.primary, false, 'the customer has a primary already: the first contact');
  assert.equal(boss.primary, true);
  assert.deepEqual(await ok(await getContact('manager_east1', k.id)), k);
  // a minimal one: defaults; a birthday without its year
  const m = await contact('manager_east1', c.id, { name: '赵六', birthday: '02-29' });
  assert.equal(m.birthday, '02-29');
  for (const [key, v] of Object.entries({ gender: '', position: '', decision_maker: false, reports_to: null, reports_to_name: null,
    mobile: '', telephone: '', email: '', wechat: '', address: '', notes: '', primary: false })) assert.deepEqual(m[key], v, key);
  // the customer's contacts: the primary first, then by id
  const all = await ok(await contactsOf('manager_east1', c.id));
  assert.deepEqual(idsOf(all), [boss.id, k.id, m.id]);
  // a birthday can be taken away, and a year-less one given
  const e = await ok(await patch('manager_east1', k.id, { version: 1, birthday: null }));
  assert.equal(e.birthday, null);
  assert.equal((await ok(await patch('manager_east1', k.id, { version: 2, birthday: '12-31' }))).birthday, '12-31');
});

test('every field is checked, with an error and its code at the field', async () => {
  const c = await customer('manager_east1');
  const post = (body) => call('POST', '/api/v1/contacts', 'manager_east1', { customer_id: c.id, name: '某人', ...body });
  // what the body parser checks: required, lengths, types
  let p = await expectProblem(await call('POST', '/api/v1/contacts', 'manager_east1', { name: '无客户' }), 422, 'validation_failed');
  assert.deepEqual(fieldsOf(p), ['customer_id']);
  assert.equal(codeAt(p, 'customer_id'), 'required');
  p = await expectProblem(await call('POST', '/api/v1/contacts', 'manager_east1', { customer_id: c.id }), 422);
  assert.deepEqual(fieldsOf(p), ['name']);
  p = await expectProblem(await post({
    name: '长'.repeat(31), position: '职'.repeat(51), mobile: '138123456789', telephone: '0'.repeat(33), email: `${'e'.repeat(120)}@x.example`,
    wechat: 'w'.repeat(65), address: '址'.repeat(201), notes: '注'.repeat(1001), birthday: '1988-05-17-1', gender: 'unknown_x',
    decision_maker: 'yes', primary: 1, reports_to: 0,
  }), 422);
  assert.deepEqual(fieldsOf(p), ['address', 'birthday', 'decision_maker', 'email', 'gender', 'mobile', 'name', 'notes', 'position',
    'primary', 'reports_to', 'telephone', 'wechat']);
  for (const f of ['address', 'birthday', 'email', 'gender', 'mobile', 'name', 'notes', 'position', 'telephone', 'wechat']) {
    assert.equal(codeAt(p, f), 'length', f);
  }
  assert.equal(codeAt(p, 'decision_maker'), 'wrong_type');
  assert.equal(codeAt(p, 'primary'), 'wrong_type');
  assert.equal(codeAt(p, 'reports_to'), 'out_of_range');
  p = await expectProblem(await post({ owner: 1 }), 422);
  assert.equal(codeAt(p, 'owner'), 'unknown_field');
  // the rules of the contact
  p = await expectProblem(await post({
    name: '　 ', gender: 'other', mobile: '12012345678', telephone: '12345', email: 'not-an-email', wechat: '1abc', birthday: '1988-02-30',
  }), 422, 'validation_failed');
  assert.deepEqual(fieldsOf(p), ['birthday', 'email', 'gender', 'mobile', 'name', 'telephone', 'wechat']);
  assert.deepEqual(Object.fromEntries(p.errors.map((e) => [e.field, e.code])), {
    name: 'blank', gender: 'one_of', mobile: 'mobile_format', telephone: 'telephone_format', email: 'not_email',
    wechat: 'wechat_format', birthday: 'birthday_format',
  });
  for (const e of p.errors) assert.ok(e.message.length > 5, `${e.field} says why`);
  // birthdays: real dates, a year from 1900 to this one, 02-29 only without a year or in a leap year
  const year = new Date(Date.now() + 14 * 3600e3).getUTCFullYear(); // this year somewhere (UTC+14), as the service counts
  for (const b of ['02-30', '13-01', '00-12', '1899-12-31', `${year + 1}-01-01`, '2023-02-29', '1988/05/17', '5-17', '19880517', 'tomorrow']) {
    p = await expectProblem(await post({ birthday: b }), 422);
    assert.deepEqual(p.errors.map((e) => [e.field, e.code]), [['birthday', 'birthday_format']], b);
  }
  for (const b of ['02-29', '2000-02-29', '1900-01-01', `${year}-01-01`, '12-31']) {
    assert.equal((await contact('manager_east1', c.id, { birthday: b })).birthday, b);
  }
  // the same rules on an edit; customer_id cannot be changed
  const k = await contact('manager_east1', c.id);
  p = await expectProblem(await patch('manager_east1', k.id, { version: 1, email: 'a@b', gender: 'x', birthday: '04-31' }), 422);
  assert.deepEqual(fieldsOf(p), ['birthday', 'email', 'gender']);
  p = await expectProblem(await patch('manager_east1', k.id, { version: 1, customer_id: c.id }), 422);
  assert.equal(codeAt(p, 'customer_id'), 'unknown_field');
  p = await expectProblem(await patch('manager_east1', k.id, { notes: 'x' }), 422);
  assert.equal(codeAt(p, 'version'), 'required');
  // phone shapes that are fine
  for (const t of ['010-62345678', '0755-28780808-123', '400-820-8820']) {
    assert.equal((await contact('manager_east1', c.id, { telephone: t })).telephone, t);
  }
  // the query of the list
  p = await expectProblem(await call('GET', '/api/v1/contacts?decision_maker=maybe&birthday_month=13&sort=mobile&customer_id=x', 'manager_east1'), 422);
  assert.deepEqual(fieldsOf(p), ['birthday_month', 'customer_id', 'decision_maker', 'sort']);
});

test('two managers cannot reach each other\'s contacts in any way; a director sees the department\'s', async () => {
  const mark = `隔离${uniq()}`;
  const phone = mobile();
  const a = await customer('manager_east1', { name: `${mark}甲有限公司` });
  const b = await customer('manager_east2', { name: `${mark}乙有限公司` });
  const s = await customer('manager_south1', { name: `${mark}丙有限公司` });
  const ka = await contact('manager_east1', a.id, { name: `${mark}张三`, mobile: phone });
  const kb = await contact('manager_east2', b.id, { name: `${mark}李四` });
  const ks = await contact('manager_south1', s.id, { name: `${mark}王五` });
  for (const [who, theirs, cust] of [['manager_east2', ka, a], ['manager_east1', kb, b], ['manager_south1', ka, a]]) {
    // by id, by the customer's id in a URL: 404, not 403
    await expectProblem(await getContact(who, theirs.id), 404, 'not_found');
    await expectProblem(await contactsOf(who, cust.id), 404, 'not_found');
    await expectProblem(await patch(who, theirs.id, { version: theirs.version, notes: 'mine now' }), 404);
    await expectProblem(await call('DELETE', `/api/v1/contacts/${theirs.id}`, who), 404);
    // by the customer's id in a body
    await expectProblem(await call('POST', '/api/v1/contacts', who, { customer_id: cust.id, name: '闯入者' }), 404, 'not_found');
    // as the boss of one of their own
    const mine = await customer(who);
    const p = await expectProblem(await call('POST', '/api/v1/contacts', who, { customer_id: mine.id, name: '下属', reports_to: theirs.id }), 422);
    assert.deepEqual(p.errors.map((e) => [e.field, e.code]), [['reports_to', 'no_such_contact']]);
  }
  assert.equal((await ok(await getContact('manager_east1', ka.id))).notes, '', 'nothing was changed');
  assert.equal((await ok(await contactsOf('manager_east1', a.id))).items.length, 1, 'nothing was added');
  const kw = (x) => `&keyword=${encodeURIComponent(x)}`;
  for (const [who, own, cust] of [['manager_east1', ka, a], ['manager_east2', kb, b], ['manager_south1', ks, s]]) {
    // the contacts list, by keyword and whole
    assert.deepEqual(idsOf(await listContacts(who, kw(mark))), [own.id], who);
    const all = await listContacts(who);
    assert.ok(all.items.every((x) => x.manager_id === ME[who]), `${who} lists only their own`);
    for (const other of [a, b, s].filter((x) => x !== cust)) {
      assert.equal((await listContacts(who, `&customer_id=${other.id}`)).total, 0, 'by naming another\'s customer');
    }
    // the customers' search and the picker, by a contact's name
    assert.deepEqual(idsOf(await listCustomers(who, kw(own.name))), [cust.id], `${who} finds the customer by the contact's name`);
    const o = await ok(await call('GET', `/api/v1/customers/options?keyword=${encodeURIComponent(own.name)}`, who));
    assert.deepEqual(o.items.map((x) => x.id), [cust.id]);
  }
  // by a contact's phone: the contacts list and the customers' search
  assert.deepEqual(idsOf(await listContacts('manager_east1', kw(phone))), [ka.id]);
  assert.deepEqual(idsOf(await listCustomers('manager_east1', kw(phone))), [a.id]);
  assert.deepEqual(idsOf(await listCustomers('manager_east1', kw(phone.slice(0, 9)))).includes(a.id), true, 'by its start');
  for (const who of ['manager_east2', 'manager_south1']) {
    assert.deepEqual(idsOf(await listContacts(who, kw(phone))), []);
    assert.deepEqual(idsOf(await listCustomers(who, kw(phone))), []);
    assert.deepEqual(idsOf(await listCustomers(who, kw(ka.name))), []);
    const o = await ok(await call('GET', `/api/v1/customers/options?keyword=${encodeURIComponent(ka.name)}`, who));
    assert.deepEqual(o.items, []);
  }
  // the director: the east department's, not the south's
  const sorted = (xs) => [...xs].sort((x, y) => x - y);
  assert.deepEqual(sorted(idsOf(await listContacts('director_east', kw(mark)))), sorted([ka.id, kb.id]));
  await ok(await getContact('director_east', kb.id));
  await ok(await contactsOf('director_east', a.id));
  await expectProblem(await getContact('director_east', ks.id), 404);
  await expectProblem(await contactsOf('director_east', s.id), 404);
  const byDirector = await contact('director_east', b.id, { name: `${mark}总监加的` });
  assert.equal(byDirector.created_by_name, '王总监');
  await ok(await getContact('manager_east2', byDirector.id));
  await expectProblem(await call('POST', '/api/v1/contacts', 'director_east', { customer_id: s.id, name: '越界' }), 404);
  // the administrator sees all; a read-only user reads and does not write
  assert.deepEqual(sorted(idsOf(await listContacts('admin', kw(mark)))), sorted([ka.id, kb.id, ks.id, byDirector.id]));
  await expectProblem(await call('POST', '/api/v1/contacts', 'viewer', { customer_id: a.id, name: '只读' }), 403);
  await expectProblem(await call('DELETE', `/api/v1/contacts/${ka.id}`, 'viewer'), 403);
});

test('an edit carries the version; a stale one gets 409 with the current contact', async () => {
  const c = await customer('manager_east1');
  const k = await contact('manager_east1', c.id);
  const e1 = await ok(await patch('manager_east1', k.id, { version: 1, notes: '第一次修改 ✅', position: '经理' }));
  assert.equal(e1.version, 2);
  const p = await expectProblem(await patch('manager_east1', k.id, { version: 1, notes: '过期' }), 409, 'version_conflict');
  assert.equal(p.current.version, 2);
  assert.equal(p.current.notes, '第一次修改 ✅');
  assert.equal((await ok(await getContact('manager_east1', k.id))).notes, '第一次修改 ✅');
  // a stale edit that would switch the primary switches nothing
  const other = await contact('manager_east1', c.id);
  await expectProblem(await patch('manager_east1', other.id, { version: 7, primary: true }), 409, 'version_conflict');
  assert.equal((await ok(await getContact('manager_east1', k.id))).primary, true);
  assert.equal((await ok(await getContact('manager_east1', k.id))).version, 2);
});

test('one primary contact per customer: switching it moves the previous one, deleting it promotes the oldest', async () => {
  const c = await customer('manager_east2');
  assert.equal(c.primary_contact, null);
  const first = await contact('manager_east2', c.id, { name: `首要${uniq()}`, mobile: mobile(), primary: false });
  assert.equal(first.primary, true, 'the first contact is the primary one');
  const second = await contact('manager_east2', c.id);
  assert.equal(second.primary, false);
  let cust = await ok(await call('GET', `/api/v1/customers/${c.id}`, 'manager_east2'));
  assert.deepEqual(cust.primary_contact, { id: first.id, name: first.name, mobile: first.mobile });
  // a new primary on create
  const third = await contact('manager_east2', c.id, { primary: true });
  assert.equal(third.primary, true);
  const was = await ok(await getContact('manager_east2', first.id));
  assert.equal(was.primary, false);
  assert.equal(was.version, 2, 'the previous primary\'s version moved');
  // and on an edit
  const s2 = await ok(await patch('manager_east2', second.id, { version: 1, primary: true }));
  assert.equal(s2.primary, true);
  const all = await ok(await contactsOf('manager_east2', c.id));
  assert.deepEqual(all.items.filter((x) => x.primary).map((x) => x.id), [second.id]);
  assert.equal(all.items[0].id, second.id, 'the primary first');
  assert.equal(all.items.find((x) => x.id === third.id).version, 2);
  // the list row shows it too
  const row = (await listCustomers('manager_east2', `&keyword=${encodeURIComponent(c.name)}`)).items.find((x) => x.id === c.id);
  assert.deepEqual(row.primary_contact, { id: second.id, name: second.name, mobile: second.mobile });
  // a primary cannot stop being one: another takes its place
  const p = await expectProblem(await patch('manager_east2', second.id, { version: 2, primary: false }), 422);
  assert.deepEqual(p.errors.map((e) => [e.field, e.code]), [['primary', 'primary_required']]);
  // deleting the primary promotes the oldest contact left
  assert.equal((await call('DELETE', `/api/v1/contacts/${second.id}`, 'manager_east2')).status, 204);
  await expectProblem(await getContact('manager_east2', second.id), 404);
  const promoted = await ok(await getContact('manager_east2', first.id));
  assert.equal(promoted.primary, true);
  assert.equal(promoted.version, 3);
  cust = await ok(await call('GET', `/api/v1/customers/${c.id}`, 'manager_east2'));
  assert.equal(cust.primary_contact.id, first.id);
  // the side changes are in the audit of the contacts they changed
  const h = await history(first.id, ['contact.created', 'contact.updated', 'contact.updated']);
  const ups = h.filter((i) => i.event_type === 'contact.updated').map((i) => i.changes.find((x) => x.field === 'primary'));
  assert.deepEqual(ups.map((x) => [x.before, x.after]).sort(), [[false, true], [true, false]]);
  // the last contact goes: none is left
  await ok(await call('DELETE', `/api/v1/contacts/${first.id}`, 'manager_east2'), 204);
  await ok(await call('DELETE', `/api/v1/contacts/${third.id}`, 'manager_east2'), 204);
  assert.equal((await ok(await call('GET', `/api/v1/customers/${c.id}`, 'manager_east2'))).primary_contact, null);
});

test('reports-to is another contact of the same customer, never the contact itself or a cycle', async () => {
  const c = await customer('manager_east1');
  const other = await customer('manager_east1');
  const ceo = await contact('manager_east1', c.id, { name: '总经理' });
  const vp = await contact('manager_east1', c.id, { name: '副总', reports_to: ceo.id });
  const mgr = await contact('manager_east1', c.id, { name: '经理', reports_to: vp.id });
  const elsewhere = await contact('manager_east1', other.id);
  const rule = async (res, code) => {
    const p = await expectProblem(res, 422);
    assert.deepEqual(p.errors.map((e) => [e.field, e.code]), [['reports_to', code]]);
  };
  await rule(await call('POST', '/api/v1/contacts', 'manager_east1', { customer_id: c.id, name: '某', reports_to: elsewhere.id }), 'no_such_contact');
  await rule(await call('POST', '/api/v1/contacts', 'manager_east1', { customer_id: c.id, name: '某', reports_to: 999999999 }), 'no_such_contact');
  await rule(await patch('manager_east1', ceo.id, { version: 1, reports_to: ceo.id }), 'reports_to_cycle');
  await rule(await patch('manager_east1', ceo.id, { version: 1, reports_to: vp.id }), 'reports_to_cycle');
  await rule(await patch('manager_east1', ceo.id, { version: 1, reports_to: mgr.id }), 'reports_to_cycle');
  await rule(await patch('manager_east1', mgr.id, { version: 1, reports_to: elsewhere.id }), 'no_such_contact');
  // moving within the tree is fine; so is reporting to nobody
  const m2 = await ok(await patch('manager_east1', mgr.id, { version: 1, reports_to: ceo.id }));
  assert.equal(m2.reports_to_name, '总经理');
  const v2 = await ok(await patch('manager_east1', vp.id, { version: 1, reports_to: mgr.id }));
  assert.equal(v2.reports_to, mgr.id);
  // deleting a boss: those who reported to them report to nobody, their versions move
  assert.equal((await call('DELETE', `/api/v1/contacts/${ceo.id}`, 'manager_east1')).status, 204);
  const after = await ok(await getContact('manager_east1', mgr.id));
  assert.equal(after.reports_to, null);
  assert.equal(after.reports_to_name, null);
  assert.equal(after.version, 3);
  assert.equal((await ok(await getContact('manager_east1', vp.id))).reports_to, mgr.id);
  const h = await history(mgr.id, ['contact.updated', 'contact.updated']);
  assert.ok(h.some((i) => i.changes.some((x) => x.field === 'reports_to' && x.before === ceo.id && x.after === null)));
});

test('contacts go to the recycle bin with their customer and come back unchanged', async () => {
  const mark = `回收${uniq()}`;
  const phone = mobile();
  const c = await customer('manager_east1', { name: `${mark}有限公司` });
  const k = await contact('manager_east1', c.id, { name: `${mark}联系人`, mobile: phone });
  const kw = (x) => `&keyword=${encodeURIComponent(x)}`;
  assert.equal((await call('DELETE', `/api/v1/customers/${c.id}`, 'manager_east1')).status, 204);
  await expectProblem(await getContact('manager_east1', k.id), 404);
  await expectProblem(await contactsOf('manager_east1', c.id), 404);
  await expectProblem(await patch('manager_east1', k.id, { version: 1, notes: 'x' }), 404);
  await expectProblem(await call('DELETE', `/api/v1/contacts/${k.id}`, 'manager_east1'), 404);
  await expectProblem(await call('POST', '/api/v1/contacts', 'manager_east1', { customer_id: c.id, name: '新人' }), 404);
  for (const who of ['manager_east1', 'admin']) {
    assert.deepEqual(idsOf(await listContacts(who, kw(mark))), [], `${who}: not listed`);
    assert.deepEqual(idsOf(await listContacts(who, kw(phone))), []);
    assert.deepEqual(idsOf(await listContacts(who, `&customer_id=${c.id}`)), []);
    assert.deepEqual(idsOf(await listCustomers(who, kw(k.name))), []);
  }
  await ok(await call('POST', `/api/v1/customers/${c.id}/restore`, 'admin'));
  assert.deepEqual(await ok(await getContact('manager_east1', k.id)), k, 'back unchanged');
  assert.deepEqual(idsOf(await listContacts('manager_east1', kw(mark))), [k.id]);
  assert.deepEqual(idsOf(await listCustomers('manager_east1', kw(k.name))), [c.id]);
});

test('the list: paged, filtered by keyword, customer, decision maker and birthday month, sorted', async () => {
  const mark = `列表${uniq()}`;
  const c = await customer('manager_south1', { name: `${mark}有限公司` });
  const tel = telephone();
  const made = [];
  for (let i = 0; i < 5; i++) {
    made.push(await contact('manager_south1', c.id, {
      name: `${mark}${String.fromCharCode(0x41 + i)}`, decision_maker: i % 2 === 0, birthday: `19${80 + i}-0${i + 1}-15`,
      ...(i === 3 ? { telephone: tel } : {}),
    }));
  }
  const q = async (query) => idsOf(await listContacts('manager_south1', `&customer_id=${c.id}${query}`));
  assert.deepEqual(await q(''), made.map((x) => x.id).reverse(), 'newest first');
  assert.deepEqual(await q('&sort=name&order=asc'), made.map((x) => x.id));
  assert.deepEqual(await q('&sort=created_at&order=asc'), made.map((x) => x.id));
  assert.deepEqual(await q('&sort=updated_at'), made.map((x) => x.id).reverse());
  assert.deepEqual(await q('&decision_maker=true&sort=id&order=asc'), [made[0].id, made[2].id, made[4].id]);
  assert.deepEqual(await q('&decision_maker=false&sort=id&order=asc'), [made[1].id, made[3].id]);
  assert.deepEqual(await q('&birthday_month=3'), [made[2].id]);
  assert.deepEqual(await q(`&keyword=${encodeURIComponent(`${mark}C`.toLowerCase())}`), [made[2].id], 'a prefix of the folded name');
  assert.deepEqual(await q(`&keyword=${encodeURIComponent(mark.slice(2))}`), [], 'a prefix, not a substring');
  assert.deepEqual(await q(`&keyword=${tel.replace('-', '').slice(0, 7)}`), [made[3].id], 'the telephone\'s digits');
  const p2 = await ok(await call('GET', `/api/v1/contacts?customer_id=${c.id}&page_size=2&page=2&sort=id&order=asc`, 'manager_south1'));
  assert.deepEqual(idsOf(p2), [made[2].id, made[3].id]);
  assert.equal(p2.total, 5);
  assert.equal(p2.page, 2);
  assert.ok(p2.items.every((x) => x.customer_name === c.name), 'each row carries its customer\'s name');
});

test('every write is in the audit with before and after, and in the events the care service reads', async () => {
  const since = streamEnd();
  const c = await customer('manager_east2');
  const k = await contact('manager_east2', c.id, { name: '孙七', mobile: mobile(), birthday: '1990-07-08', position: '财务' });
  const y = await contact('manager_east2', c.id, { name: '周八', birthday: '11-30' });
  await ok(await patch('manager_east2', k.id, { version: 1, position: '财务总监', birthday: '1990-07-09' }));
  await ok(await call('DELETE', `/api/v1/contacts/${k.id}`, 'manager_east2'), 204);
  const h = await history(k.id, ['contact.created', 'contact.updated', 'contact.deleted']);
  const created = h.find((i) => i.event_type === 'contact.created');
  assert.deepEqual(created.changes.find((x) => x.field === 'name'), { field: 'name', before: null, after: '孙七' });
  assert.deepEqual(created.changes.find((x) => x.field === 'birthday'), { field: 'birthday', before: null, after: '1990-07-08' });
  assert.equal(created.actor_user_id, String(ME.manager_east2));
  const updated = h.find((i) => i.event_type === 'contact.updated');
  assert.deepEqual(updated.changes.sort((a, b) => a.field.localeCompare(b.field)), [
    { field: 'birthday', before: '1990-07-08', after: '1990-07-09' },
    { field: 'position', before: '财务', after: '财务总监' },
  ]);
  const deleted = h.find((i) => i.event_type === 'contact.deleted');
  assert.deepEqual(deleted.changes.find((x) => x.field === 'position'), { field: 'position', before: '财务总监', after: null });
  assert.deepEqual(deleted.changes.find((x) => x.field === 'name'), { field: 'name', before: '孙七', after: null });
  // the events: the birthday in parts, the customer and its manager
  let evs;
  await eventually(() => (evs = eventsOf(k.id, since)).length >= 3, 15000, 'the events on the stream');
  assert.deepEqual(evs.map((e) => e.type), ['contact.created', 'contact.updated', 'contact.deleted']);
  for (const e of evs) {
    assert.equal(e.producer, 'customer');
    assert.equal(e.data.customer_id, c.id);
    assert.equal(e.data.customer_name, c.name);
    assert.equal(e.data.manager_id, ME.manager_east2);
    assert.equal(e.data.name, '孙七');
    assert.equal(e.data.mobile, k.mobile);
    assert.ok(Array.isArray(e.data.changes));
  }
  assert.deepEqual([evs[0].data.birth_year, evs[0].data.birth_month, evs[0].data.birth_day], [1990, 7, 8]);
  assert.deepEqual([evs[1].data.birth_year, evs[1].data.birth_month, evs[1].data.birth_day], [1990, 7, 9]);
  let ye;
  await eventually(() => (ye = eventsOf(y.id, since)).length >= 1, 15000, 'the second contact\'s event');
  assert.deepEqual([ye[0].data.birth_year, ye[0].data.birth_month, ye[0].data.birth_day], [null, 11, 30]);
});

test('a create repeated with its Idempotency-Key makes one contact', async () => {
  const c = await customer('manager_east1');
  const key = `contact-${uniq()}`;
  const body = { customer_id: c.id, name: `幂等${uniq()}` };
  const first = await ok(await call('POST', '/api/v1/contacts', 'manager_east1', body, { 'idempotency-key': key }), 201);
  const again = await call('POST', '/api/v1/contacts', 'manager_east1', body, { 'idempotency-key': key });
  assert.equal(again.status, 201);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal((await again.json()).id, first.id);
  assert.deepEqual(idsOf(await ok(await contactsOf('manager_east1', c.id))), [first.id]);
});
