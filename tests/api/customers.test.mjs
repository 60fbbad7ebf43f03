// SPDX-License-Identifier: Apache-2.0
// Customers (issue 12, phase 1): every field's rule with its field error; the data scope (two
// managers who cannot reach each other's customers by list, id, search, picker, count, or an id
// changed in a URL or body; a director who sees their department and not another); Chinese
// text and emoji unchanged; stale versions; each duplicate rule and the forced save; the
// recycle bin; the keyword search (a Chinese substring, a phone number); every write in the
// audit with before and after. The demo accounts of deploy/demo/load, through the gateway.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually, expectProblem, tokenOf } from './lib.mjs';

const sfx = Math.random().toString(36).slice(2, 8);
const T = {}; // tokens
const ME = {}; // user ids

async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A unified social credit code with its check character (GB 32100-2015). */
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
function creditCode() {
  let body = '91';
  while (body.length < 17) body += ALPHABET[Math.floor(Math.random() * 31)];
  let sum = 0;
  for (let i = 0, w = 1; i < 17; i++, w = (w * 3) % 31) sum += ALPHABET.indexOf(body[i]) * w;
  return body + ALPHABET[(31 - (sum % 31)) % 31];
}
const mobile = () => `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
const telephone = () => `0755-${String(2e7 + Math.floor(Math.random() * 7e7))}`;
let seq = 0;
const uniq = () => `${sfx}${++seq}`;

async function create(who, fields = {}) {
  return ok(await api('POST', '/api/v1/customers', T[who], { name: `测试客户${uniq()}有限公司`, ...fields }), 201);
}
const list = async (who, query = '') => ok(await api('GET', `/api/v1/customers?page_size=100${query}`, T[who]));
const get = (who, id) => api('GET', `/api/v1/customers/${id}`, T[who]);
const idsOf = (body) => body.items.map((c) => c.id);

before(async () => {
  for (const u of ['admin', 'director_east', 'manager_east1', 'manager_east2', 'manager_south1', 'viewer']) {
    T[u] = await tokenOf(u);
    ME[u] = (await ok(await api('GET', '/api/v1/auth/me', T[u]))).id;
  }
});

test('a customer keeps every field, Chinese text and emoji included, owned by its creator', async () => {
  const body = {
    name: `深圳市华为技术${uniq()}有限公司`, credit_code: creditCode(), industry: 'it', source: 'referral', level: 'a',
    province: '广东省', city: '深圳市', district: '龙岗区', address: '坂田华为基地 🏢 B区',
    telephone: telephone(), mobile: mobile(), email: 'contact@huawei.example.cn', website: 'https://www.huawei.com/cn',
    wechat: 'huawei_cs', status: 'active', deal_status: 'dealt', deal_time: '2026-11-20T10:00:00+08:00',
    tags: ['重点', 'VIP✨'], notes: '客户说：“明年扩大采购” 😀', next_contact_at: '2026-12-10T01:30:00Z',
  };
  const c = await create('manager_east1', body);
  for (const k of Object.keys(body)) if (!['deal_time', 'next_contact_at'].includes(k)) assert.deepEqual(c[k], body[k], k);
  assert.match(c.deal_time, /^2026-11-20T02:00:00(\.000)?Z$/);
  assert.match(c.next_contact_at, /^2026-12-10T01:30:00(\.000)?Z$/);
  assert.equal(c.manager_id, ME.manager_east1);
  assert.equal(c.manager_name, '张伟');
  assert.equal(c.created_by, ME.manager_east1);
  assert.equal(c.version, 1);
  assert.equal(c.followed_up, false);
  const again = await ok(await get('manager_east1', c.id));
  assert.deepEqual(again, c);
  // a minimal one: defaults
  const m = await create('manager_east1');
  assert.equal(m.status, 'potential');
  assert.equal(m.deal_status, 'undealt');
  assert.equal(m.deal_time, null);
  assert.equal(m.credit_code, null);
  assert.deepEqual(m.tags, []);
});

test('every field is checked, with an error at the field', async () => {
  // shapes the body parser checks: lengths and types
  let p = await expectProblem(await api('POST', '/api/v1/customers', T.manager_east1,
    { name: '长'.repeat(61), mobile: '139123456789', notes: 'x'.repeat(2001), tags: Array(11).fill('a'), status: 3 }), 422, 'validation_failed');
  assert.deepEqual(p.errors.map((e) => e.field).sort(), ['mobile', 'name', 'notes', 'status', 'tags']);
  p = await expectProblem(await api('POST', '/api/v1/customers', T.manager_east1, { industry: 'it' }), 422, 'validation_failed');
  assert.deepEqual(p.errors.map((e) => e.field), ['name']);
  p = await expectProblem(await api('POST', '/api/v1/customers', T.manager_east1, { name: '某公司', owner: 1 }), 422, 'validation_failed');
  // the rules of the customer service
  const bad = {
    name: '　 ', // blank once spaces (full width too) are gone
    credit_code: creditCode().slice(0, 17) + 'I', // a letter the code never holds
    industry: 'astrology', source: 'rumour', level: 'z',
    telephone: '12345', mobile: '12012345678', email: 'not-an-email', website: 'no spaces.com x',
    wechat: '1abc', status: 'sleeping', deal_status: 'maybe', deal_time: '2026-02-30T10:00:00Z',
    next_contact_at: 'tomorrow', tags: ['', '重点', '重点'],
  };
  p = await expectProblem(await api('POST', '/api/v1/customers', T.manager_east1, bad), 422, 'validation_failed');
  const fields = p.errors.map((e) => e.field).sort();
  assert.deepEqual(fields, ['credit_code', 'deal_status', 'deal_time', 'email', 'industry', 'level', 'mobile', 'name',
    'next_contact_at', 'source', 'status', 'tags[0]', 'tags[2]', 'telephone', 'website', 'wechat'].sort());
  for (const e of p.errors) assert.ok(e.message.length > 5, `${e.field} says why`);
  // a wrong check character alone
  const code = creditCode();
  const wrong = code.slice(0, 17) + ALPHABET[(ALPHABET.indexOf(code[17]) + 1) % 31];
  p = await expectProblem(await api('POST', '/api/v1/customers', T.manager_east1, { name: `校验${uniq()}`, credit_code: wrong }), 422);
  assert.deepEqual(p.errors.map((e) => e.field), ['credit_code']);
  // a lower-case code is the same code
  const c = await create('manager_east1', { credit_code: code.toLowerCase() });
  assert.equal(c.credit_code, code);
  // the same rules on an edit
  p = await expectProblem(await api('PATCH', `/api/v1/customers/${c.id}`, T.manager_east1, { version: c.version, email: 'a@b', status: 'x' }), 422);
  assert.deepEqual(p.errors.map((e) => e.field).sort(), ['email', 'status']);
  // phone shapes that are fine
  const n8 = () => String(2e7 + Math.floor(Math.random() * 7e7));
  for (const t of [`010-${n8()}`, `0755-${n8()}-123`, `0755${n8()}`, `400-${n8().slice(0, 3)}-${n8().slice(0, 4)}`]) {
    assert.equal((await create('manager_east1', { telephone: t })).telephone, t);
  }
});

test('two managers cannot reach each other\'s customers in any way', async () => {
  const mark = `隔离${uniq()}`;
  const phone = mobile();
  const a = await create('manager_east1', { name: `${mark}甲有限公司`, mobile: phone });
  const b = await create('manager_east2', { name: `${mark}乙有限公司` });
  const s = await create('manager_south1', { name: `${mark}丙有限公司` });
  // by id, in a URL: 404, not 403
  for (const [who, theirs] of [['manager_east2', a], ['manager_east1', b], ['manager_south1', a]]) {
    await expectProblem(await get(who, theirs.id), 404, 'not_found');
    await expectProblem(await api('PATCH', `/api/v1/customers/${theirs.id}`, T[who], { version: theirs.version, notes: 'mine now' }), 404);
    await expectProblem(await api('DELETE', `/api/v1/customers/${theirs.id}`, T[who]), 404);
  }
  assert.equal((await ok(await get('manager_east1', a.id))).notes, '', 'nothing was changed');
  // by list, search, count and picker
  const kw = `&keyword=${encodeURIComponent(mark)}`;
  for (const [who, own] of [['manager_east1', a], ['manager_east2', b], ['manager_south1', s]]) {
    const l = await list(who, kw);
    assert.deepEqual(idsOf(l), [own.id], who);
    assert.equal(l.total, 1);
    const all = await list(who);
    assert.ok(all.items.every((c) => c.manager_id === ME[who]), `${who} lists only their own`);
    const o = await ok(await api('GET', `/api/v1/customers/options?keyword=${encodeURIComponent(mark)}`, T[who]));
    assert.deepEqual(o.items.map((c) => c.id), [own.id]);
    assert.deepEqual(Object.keys(o.items[0]).sort(), ['id', 'manager_id', 'manager_name', 'name']);
    // by naming another's owner
    const byOwner = await list(who, `&manager_id=${ME.manager_east1 === ME[who] ? ME.manager_east2 : ME.manager_east1}`);
    assert.equal(byOwner.total, 0);
  }
  // by the phone number
  assert.deepEqual(idsOf(await list('manager_east1', `&keyword=${phone}`)), [a.id]);
  assert.deepEqual(idsOf(await list('manager_east2', `&keyword=${phone}`)), []);
  // by an id in a body: a manager cannot give a customer to someone else
  const p = await expectProblem(await api('POST', '/api/v1/customers', T.manager_east1, { name: `${mark}丁`, manager_id: ME.manager_east2 }), 422);
  assert.deepEqual(p.errors.map((e) => e.field), ['manager_id']);
  await expectProblem(await api('PATCH', `/api/v1/customers/${a.id}`, T.manager_east1, { version: a.version, manager_id: ME.manager_east1 }), 422);
  // the recycle bin and restore are an administrator's
  await expectProblem(await api('GET', '/api/v1/customers/recycle-bin', T.manager_east1), 403);
  // a read-only user reads, and does not write
  await expectProblem(await api('POST', '/api/v1/customers', T.viewer, { name: `${mark}戊` }), 403);
});

test('a director sees their department\'s customers and not another\'s; scenes', async () => {
  const mark = `总监${uniq()}`;
  const a = await create('manager_east1', { name: `${mark}一` });
  const b = await create('manager_east2', { name: `${mark}二` });
  const s = await create('manager_south1', { name: `${mark}三` });
  const d = await create('director_east', { name: `${mark}四` });
  const kw = `&keyword=${encodeURIComponent(mark)}`;
  const sorted = (xs) => [...xs].sort((x, y) => x - y);
  assert.deepEqual(sorted(idsOf(await list('director_east', kw))), sorted([a.id, b.id, d.id]));
  assert.deepEqual(idsOf(await list('director_east', `${kw}&scene=mine`)), [d.id]);
  assert.deepEqual(sorted(idsOf(await list('director_east', `${kw}&scene=team`))), sorted([a.id, b.id]));
  await ok(await get('director_east', a.id));
  await expectProblem(await get('director_east', s.id), 404);
  // the director may create for a manager of the department, not of another
  const forA = await create('director_east', { name: `${mark}五`, manager_id: ME.manager_east1 });
  assert.equal(forA.manager_name, '张伟');
  await ok(await get('manager_east1', forA.id));
  await expectProblem(await api('POST', '/api/v1/customers', T.director_east, { name: `${mark}六`, manager_id: ME.manager_south1 }), 422);
  // the administrator sees everything
  assert.deepEqual(sorted(idsOf(await list('admin', kw))), sorted([a.id, b.id, s.id, d.id, forA.id]));
  await expectProblem(await api('GET', '/api/v1/customers?scene=some', T.admin), 422);
});

test('an edit carries the version; a stale one gets 409 with the current record', async () => {
  const c = await create('manager_east1');
  const e1 = await ok(await api('PATCH', `/api/v1/customers/${c.id}`, T.manager_east1, { version: 1, notes: '第一次修改 ✅', level: 'b' }));
  assert.equal(e1.version, 2);
  assert.equal(e1.notes, '第一次修改 ✅');
  const p = await expectProblem(await api('PATCH', `/api/v1/customers/${c.id}`, T.manager_east1, { version: 1, notes: '过期' }), 409, 'version_conflict');
  assert.equal(p.current.version, 2);
  assert.equal(p.current.notes, '第一次修改 ✅');
  assert.equal((await ok(await get('manager_east1', c.id))).notes, '第一次修改 ✅');
});

test('duplicates: credit code, normalised name, mobile, telephone; a forced save is recorded', async () => {
  const base = `重复${uniq()}`;
  const tel = telephone();
  const m = mobile();
  const orig = await create('manager_east1', { name: `${base}科技有限公司`, credit_code: creditCode(), mobile: m, telephone: tel });
  const dup = async (who, fields, rule) => {
    const p = await expectProblem(await api('POST', '/api/v1/customers', T[who], { name: `别的${uniq()}`, ...fields }), 409, 'duplicate');
    assert.equal(p.duplicates[0].id, orig.id);
    assert.equal(p.duplicates[0].rule, rule);
    assert.equal(p.duplicates[0].manager_name, '张伟');
    return p;
  };
  await dup('manager_east1', { credit_code: orig.credit_code }, 'credit_code');
  // full width, spaces and the legal form's variants are the same name
  await dup('manager_east1', { name: `${base}科技有限责任公司` }, 'name');
  await dup('manager_east1', { name: `${base}科技股份有限公司` }, 'name');
  await dup('manager_east1', { name: ` ${base}科技（股份）有限公司` }, 'name');
  await dup('manager_east1', { mobile: m }, 'mobile');
  await dup('manager_east1', { telephone: tel.replace('-', '') }, 'telephone');
  // a manager who may see it gets the record; another gets only id, name and owner's name
  const mine = await dup('manager_east1', { mobile: m }, 'mobile');
  assert.equal(mine.duplicates[0].customer.id, orig.id);
  const theirs = await dup('manager_south1', { mobile: m }, 'mobile');
  assert.deepEqual(Object.keys(theirs.duplicates[0]).sort(), ['id', 'in_recycle_bin', 'manager_name', 'name', 'rule']);
  assert.equal(theirs.can_force, false);
  // without the permission, no save anyway
  await expectProblem(await api('POST', '/api/v1/customers', T.manager_south1, { name: `别的${uniq()}`, mobile: m, force_duplicate: true }), 403);
  // with it, saved, and the match is in the event (the audit shows it)
  const admin409 = await dup('admin', { mobile: m }, 'mobile');
  assert.equal(admin409.can_force, true);
  const forced = await ok(await api('POST', '/api/v1/customers', T.admin, { name: `别的${uniq()}`, mobile: m, force_duplicate: true }), 201);
  assert.equal(forced.mobile, m);
  // a credit code is never forced
  await expectProblem(await api('POST', '/api/v1/customers', T.admin, { name: `别的${uniq()}`, credit_code: orig.credit_code, force_duplicate: true }), 409, 'duplicate');
  await eventually(async () => {
    const h = await ok(await api('GET', `/api/v1/audit/history/customer/${forced.id}`, T.admin));
    const c = h.items.find((i) => i.event_type === 'customer.created');
    const d = c?.changes.find((x) => x.field === 'duplicates');
    return d && d.after.some((x) => x.id === orig.id && x.rule === 'mobile');
  }, 15000, 'the forced duplicate in the audit');
  // an edit onto another's name is a duplicate too; an edit of another field is not
  const other = await create('manager_east1');
  await expectProblem(await api('PATCH', `/api/v1/customers/${other.id}`, T.manager_east1, { version: 1, name: `${base}科技有限公司` }), 409, 'duplicate');
  await ok(await api('PATCH', `/api/v1/customers/${forced.id}`, T.admin, { version: 1, notes: '只改备注' }));
});

test('delete to the recycle bin, restore by an administrator, all in the audit with before and after', async () => {
  const c = await create('manager_east1', { name: `回收${uniq()}有限公司`, level: 'c' });
  const e = await ok(await api('PATCH', `/api/v1/customers/${c.id}`, T.manager_east1, { version: 1, level: 'a', notes: '改过' }));
  assert.equal((await api('DELETE', `/api/v1/customers/${c.id}`, T.manager_east1)).status, 204);
  await expectProblem(await get('manager_east1', c.id), 404);
  assert.ok(!idsOf(await list('manager_east1')).includes(c.id));
  await expectProblem(await api('DELETE', `/api/v1/customers/${c.id}`, T.manager_east1), 404);
  await expectProblem(await api('PATCH', `/api/v1/customers/${c.id}`, T.manager_east1, { version: e.version + 1, notes: 'x' }), 404);
  const bin = await ok(await api('GET', `/api/v1/customers/recycle-bin?page_size=100&keyword=${encodeURIComponent(c.name)}`, T.admin));
  assert.deepEqual(idsOf(bin), [c.id]);
  assert.ok(bin.items[0].deleted_at);
  await expectProblem(await api('POST', `/api/v1/customers/${c.id}/restore`, T.manager_east1), 403);
  const r = await ok(await api('POST', `/api/v1/customers/${c.id}/restore`, T.admin));
  assert.equal(r.level, 'a');
  assert.equal(r.version, e.version + 2);
  await ok(await get('manager_east1', c.id));
  await expectProblem(await api('POST', `/api/v1/customers/${c.id}/restore`, T.admin), 404);
  let h;
  await eventually(async () => {
    h = await ok(await api('GET', `/api/v1/audit/history/customer/${c.id}`, T.admin));
    return ['customer.created', 'customer.updated', 'customer.deleted', 'customer.restored'].every((t) => h.items.some((i) => i.event_type === t));
  }, 15000, 'the four writes in the audit');
  const u = h.items.find((i) => i.event_type === 'customer.updated');
  assert.deepEqual(u.changes.filter((x) => x.field !== 'updated_at').sort((x, y) => x.field.localeCompare(y.field)),
    [{ field: 'level', before: 'c', after: 'a' }, { field: 'notes', before: '', after: '改过' }]);
  assert.equal(u.actor_user_id, String(ME.manager_east1));
  const created = h.items.find((i) => i.event_type === 'customer.created');
  assert.equal(created.changes.find((x) => x.field === 'customer').after.name, c.name);
});

// The test stack calls a pair of characters common from 3 customers on (keyword_common_customers;
// 2,000 in production): an owner's search for a keyword made of common pairs is then the LIKE
// over the owner's own rows, without the keyword index. It must find exactly what the index finds.
test('an owner\'s search for a common keyword finds exactly the owner\'s matches, contacts\' names too', async () => {
  const n = uniq();
  const word = '鹏城智造';
  const mine = [];
  for (let i = 0; i < 3; i++) mine.push(await create('manager_east2', { name: `深圳${word}${n}第${i}有限公司` }));
  const theirs = await create('manager_east1', { name: `东莞${word}${n}有限公司` });
  const near = await create('manager_east2', { name: `鹏城${n}智造有限公司` }); // the pairs, not the word
  const byContact = await create('manager_east2', { name: `联系人找到${n}有限公司` });
  ok(await api('POST', '/api/v1/contacts', T.manager_east2, { customer_id: byContact.id, name: `${word}${n}先生` }), 201);
  const kw = (k) => `&keyword=${encodeURIComponent(k)}`;

  const own = await list('manager_east2', kw(word));
  const ids = idsOf(own);
  for (const c of mine) assert.ok(ids.includes(c.id), `finds ${c.name}`);
  assert.ok(!ids.includes(theirs.id), 'not another manager\'s customer');
  assert.ok(!ids.includes(near.id), 'the pairs apart are no match');
  // (a kept test stack holds the customers of earlier runs too: theirs found by a contact's name)
  for (const c of own.items) assert.ok(c.name.includes(word) || c.name.startsWith('联系人找到'), `every match holds the word: ${c.name}`);
  assert.ok(own.items.every((c) => c.manager_id === mine[0].manager_id), 'only the owner\'s');
  // the whole word with its suffix: exactly this run's three, by name; the contact's name by its start
  assert.deepEqual(idsOf(await list('manager_east2', kw(`${word}${n}第`))).sort(), mine.map((c) => c.id).sort());
  assert.deepEqual(idsOf(await list('manager_east2', kw(`${word}${n}`))).sort(), [...mine.map((c) => c.id), byContact.id].sort());
  // with a filter and in the "mine" scene of a wider scope
  await ok(await api('PATCH', `/api/v1/customers/${mine[1].id}`, T.manager_east2, { version: 1, level: 'a' }));
  assert.deepEqual(idsOf(await list('manager_east2', `${kw(`${word}${n}`)}&level=a`)), [mine[1].id]);
  const scene = idsOf(await list('admin', `${kw(`${word}${n}`)}&manager_id=${mine[0].manager_id}`));
  assert.deepEqual(scene.sort(), [...mine.map((c) => c.id), byContact.id].sort());
  // the administrator (ALL: through the keyword index) finds the other manager's too
  const all = idsOf(await list('admin', kw(`${word}${n}`)));
  for (const c of [...mine, theirs, byContact]) assert.ok(all.includes(c.id));
  // the picker of the owner
  const picked = await ok(await api('GET', `/api/v1/customers/options?keyword=${encodeURIComponent(`${word}${n}第`)}`, T.manager_east2));
  assert.deepEqual(picked.items.map((c) => c.id).sort(), mine.map((c) => c.id).sort());
});

test('sorted by next contact (soonest first, none last) and by last contact (latest first, never last), by page and by cursor', async () => {
  const n = uniq();
  const day = 24 * 3600 * 1000;
  const soon = await create('manager_east2', { name: `排序${n}甲有限公司`, next_contact_at: new Date(Date.now() + day).toISOString() });
  const later = await create('manager_east2', { name: `排序${n}乙有限公司`, next_contact_at: new Date(Date.now() + 2 * day).toISOString() });
  const none = await create('manager_east2', { name: `排序${n}丙有限公司` });
  const kw = `&keyword=${encodeURIComponent(`排序${n}`)}`;
  const order = async (q) => idsOf(await list('manager_east2', `${kw}${q}`));
  assert.deepEqual(await order('&sort=next_contact_at'), [soon.id, later.id, none.id]);
  assert.deepEqual(await order('&sort=next_contact_at&order=desc'), [none.id, later.id, soon.id]);
  // a cursor walk, one a page, gives the same order
  const walked = [];
  let cursor = '';
  for (let i = 0; i < 5; i++) {
    const p = await ok(await api('GET', `/api/v1/customers?page_size=1&sort=next_contact_at${kw}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, T.manager_east2));
    walked.push(...idsOf(p));
    if (!p.next_cursor) break;
    cursor = p.next_cursor;
  }
  assert.deepEqual(walked, [soon.id, later.id, none.id]);
  // last contact: a follow-up moves it; the one followed up last comes first, the never contacted last
  const hour = 3600 * 1000;
  for (const [c, ago] of [[later, 2 * hour], [soon, hour]]) {
    ok(await api('POST', '/api/v1/followups', T.manager_east2, {
      customer_id: c.id, contact_at: new Date(Date.now() - ago).toISOString(), method: 'phone', content: `通话${n}`,
    }), 201);
  }
  assert.deepEqual(await order('&sort=last_contact_at'), [soon.id, later.id, none.id]);
  assert.deepEqual(await order('&sort=last_contact_at&order=asc'), [none.id, later.id, soon.id]);
});

test('the keyword finds a Chinese substring of the name, exactly, and a phone number by its start', async () => {
  const n = uniq();
  const hw = await create('manager_east2', { name: `深圳市华为技术${n}有限公司` });
  const other = await create('manager_east2', { name: `华南为民${n}有限公司` }); // has 华 and 为, not 华为
  const find = async (kw) => idsOf(await list('manager_east2', `&keyword=${encodeURIComponent(kw)}`));
  assert.ok((await find('华为')).includes(hw.id));
  assert.ok(!(await find('华为')).includes(other.id), 'the bigrams are rechecked: exact');
  assert.deepEqual(await find(`华为技术${n}`), [hw.id]);
  assert.deepEqual(await find(`技术${n.toUpperCase()}`), [hw.id], 'letters in any case');
  assert.deepEqual(await find(`华为技术 ${n}`), [hw.id], 'spaces do not matter');
  assert.ok((await find('深')).includes(hw.id), 'one character');
  const m = mobile();
  const t = telephone();
  const p = await create('manager_east2', { mobile: m, telephone: t });
  assert.deepEqual(await find(m), [p.id]);
  assert.ok((await find(m.slice(0, 7))).includes(p.id));
  assert.deepEqual(await find(t), [p.id]);
  assert.ok((await find(t.replace('-', '').slice(0, 8))).includes(p.id));
  // a renamed customer is found by its new name only
  await ok(await api('PATCH', `/api/v1/customers/${hw.id}`, T.manager_east2, { version: 1, name: `杭州阿里${n}有限公司` }));
  assert.deepEqual(await find(`华为技术${n}`), []);
  assert.deepEqual(await find(`阿里${n}`), [hw.id]);
  // the filters combine with the keyword
  const q = (kw, more) => list('manager_east2', `&keyword=${encodeURIComponent(kw)}${more}`).then(idsOf);
  assert.deepEqual(await q(`阿里${n}`, '&status=lost'), []);
  const tagged = await create('manager_east2', { name: `标签${n}有限公司`, tags: ['重点', `展会${n}`], level: 'b', status: 'at_risk' });
  assert.deepEqual(await q(`标签${n}`, `&tag=${encodeURIComponent('重点')}&level=b&status=at_risk`), [tagged.id]);
  assert.deepEqual(await q(`标签${n}`, `&tag=${encodeURIComponent('重点')}&level=a`), []);
  assert.deepEqual(await q(`标签${n}`, `&tag=${encodeURIComponent('重')}`), [], 'a tag matches whole');
  assert.deepEqual(idsOf(await list('manager_east2', `&tag=${encodeURIComponent(`展会${n}`)}`)), [tagged.id]);
});

test('dictionary values are those of the auth service\'s dictionary, as it changes', async () => {
  const value = `t_${sfx}`;
  const item = await ok(await api('POST', '/api/v1/dicts/industry/items', T.admin, { value, label_zh: `测试行业${sfx}`, label_en: `Test ${sfx}` }), 201);
  // the customer service learns the new value from the auth stream
  let c;
  await eventually(async () => {
    const res = await api('POST', '/api/v1/customers', T.manager_east1, { name: `字典${uniq()}有限公司`, industry: value });
    if (res.status === 201) c = await res.json();
    else await expectProblem(res, 422, 'validation_failed');
    return c;
  }, 15000, 'the new industry accepted');
  assert.equal(c.industry, value);
  // a disabled value is refused from then on (the customers that have it keep it)
  await ok(await api('PATCH', `/api/v1/dicts/industry/items/${item.id}`, T.admin, { version: item.version, enabled: false }));
  await eventually(async () => {
    const res = await api('POST', '/api/v1/customers', T.manager_east1, { name: `字典${uniq()}有限公司`, industry: value });
    if (res.status === 201) return false;
    const p = await expectProblem(res, 422, 'validation_failed');
    return p.errors.some((e) => e.field === 'industry');
  }, 15000, 'the disabled industry refused');
  assert.equal((await ok(await get('manager_east1', c.id))).industry, value);
});

test('a create repeated with its Idempotency-Key makes one customer', async () => {
  const key = `cust-${uniq()}`;
  const body = { name: `幂等${uniq()}有限公司` };
  const first = await ok(await api('POST', '/api/v1/customers', T.manager_east1, body, { 'idempotency-key': key }), 201);
  const again = await api('POST', '/api/v1/customers', T.manager_east1, body, { 'idempotency-key': key });
  assert.equal(again.status, 201);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal((await again.json()).id, first.id);
  assert.deepEqual(idsOf(await list('manager_east1', `&keyword=${encodeURIComponent(body.name)}`)), [first.id]);
});
