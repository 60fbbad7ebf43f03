// SPDX-License-Identifier: Apache-2.0
// The region dictionary (省/市/区) of the customer service: the tree of GET /api/v1/regions
// (34 provincial-level entries, municipalities as their own city, county-level cities under
// their province, Hong Kong, Macau and Taiwan), its ETag, Cache-Control and 304, and the rule of
// a customer's province, city and district on create and edit, with its field codes. The demo
// accounts of deploy/demo/load, through the gateway.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, claims, expectProblem, token, tokenOf } from './lib.mjs';

const sfx = Math.random().toString(36).slice(2, 8);
let seq = 0;
const T = {};
let tree;

async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}
const regions = (headers = {}) => api('GET', '/api/v1/regions', T.manager, undefined, headers);
const create = (fields) => api('POST', '/api/v1/customers', T.manager, { name: `地区测试${sfx}${++seq}有限公司`, ...fields });
const child = (list, name) => (list ?? []).find((r) => r.name === name);
/** The one field error of a 422 refusal of 'res', checked against 'field' and 'code'. */
async function fieldError(res, field, code) {
  const p = await expectProblem(res, 422, 'validation_failed');
  assert.deepEqual(p.errors.map((e) => [e.field, e.code]), [[field, code]], JSON.stringify(p.errors));
  return p.errors[0];
}

before(async () => {
  T.manager = await tokenOf('manager_south1');
  tree = await ok(await regions({ 'accept-encoding': 'identity' }));
});

test('the tree has the 34 provincial-level regions, each city in its province, each district in its city', () => {
  assert.equal(tree.items.length, 34, tree.items.map((p) => p.name).join(' '));
  const codes = new Set();
  let cities = 0, districts = 0;
  for (const p of tree.items) {
    assert.match(p.code, /^\d{2}0000$/, p.name);
    for (const c of p.children ?? []) {
      cities++;
      assert.equal(c.code.slice(0, 2), p.code.slice(0, 2), `${c.name} lies in ${p.name}`);
      for (const d of c.children ?? []) {
        districts++;
        // the province's digits (重庆市's counties, 5002xx, are in its one city 500100)
        assert.equal(d.code.slice(0, 2), p.code.slice(0, 2), `${d.name} lies in ${p.name}`);
        assert.equal(d.children, undefined, 'three levels');
      }
    }
    for (const r of [p, ...(p.children ?? []), ...(p.children ?? []).flatMap((c) => c.children ?? [])]) {
      assert.ok(!codes.has(r.code), `${r.code} once`);
      codes.add(r.code);
    }
  }
  assert.ok(cities > 380 && districts > 3000, `${cities} cities, ${districts} districts`);
  const gd = child(tree.items, '广东省');
  const sz = child(gd.children, '深圳市');
  const ns = child(sz?.children, '南山区');
  assert.deepEqual([gd.code, sz?.code, ns?.code], ['440000', '440300', '440305']);
  // a municipality is its own city; no 市辖区 or 县 placeholder anywhere
  for (const m of ['北京市', '天津市', '上海市', '重庆市']) {
    const p = child(tree.items, m);
    assert.deepEqual(p.children.map((c) => c.name), [m], `${m} > ${m}`);
  }
  assert.ok(child(child(child(tree.items, '北京市').children, '北京市').children, '朝阳区'));
  assert.ok(child(child(child(tree.items, '重庆市').children, '重庆市').children, '城口县'), 'counties of 重庆市 too');
  const placeholders = tree.items.flatMap((p) => p.children ?? []).filter((c) => /^(市辖区|县|.*直辖县级行政区划)$/.test(c.name));
  assert.deepEqual(placeholders, []);
  // county-level cities under the province, cities without districts: no children
  const xiantao = child(child(tree.items, '湖北省').children, '仙桃市');
  assert.equal(xiantao?.code, '429004');
  assert.equal(xiantao.children, undefined);
  assert.equal(child(gd.children, '东莞市').children, undefined);
  for (const sar of ['香港特别行政区', '澳门特别行政区', '台湾省']) assert.ok(child(tree.items, sar)?.children?.length > 0, sar);
});

test('the tree is cached a day with an ETag, and a current copy is answered 304', async () => {
  const r = await regions({ 'accept-encoding': 'identity' });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.equal(r.headers.get('cache-control'), 'private, max-age=86400');
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  assert.deepEqual(await r.json(), tree, 'the same tree every time');

  const same = await regions({ 'accept-encoding': 'identity', 'if-none-match': etag });
  assert.equal(same.status, 304);
  assert.equal(await same.text(), '');
  assert.equal(same.headers.get('etag'), etag);
  assert.equal(same.headers.get('cache-control'), 'private, max-age=86400');
  assert.equal((await regions({ 'if-none-match': `W/${etag}` })).status, 304, 'a weak comparison');
  assert.equal((await regions({ 'if-none-match': `"other", ${etag}` })).status, 304, 'one of a list');

  const stale = await regions({ 'accept-encoding': 'identity', 'if-none-match': '"0123456789abcdef0123456789abcdef"' });
  assert.equal(stale.status, 200, 'another version gets the tree');
  assert.equal((await stale.json()).items.length, 34);

  // the gateway compresses it and names its gzip copy; that name revalidates too
  const gz = await regions({ 'accept-encoding': 'gzip' });
  assert.equal(gz.status, 200);
  assert.equal(gz.headers.get('content-encoding'), 'gzip');
  assert.equal(gz.headers.get('etag'), `${etag.slice(0, -1)}-gz"`);
  assert.deepEqual(await gz.json(), tree);
  assert.equal((await regions({ 'accept-encoding': 'gzip', 'if-none-match': gz.headers.get('etag') })).status, 304);
  assert.equal((await regions({ 'if-none-match': `${etag.slice(0, -1)}-gzx1"` })).status, 200, 'not any suffix');
});

test('the tree needs a token with customer:customer:read', async () => {
  await expectProblem(await api('GET', '/api/v1/regions'), 401);
  await expectProblem(await api('GET', '/api/v1/regions', token(claims({ perms: ['system:service:read'] }))), 403);
});

test('a city must lie in its province and a district in its city, each with its field code', async () => {
  let e = await fieldError(await create({ province: '广东省', city: '杭州市' }), 'city', 'not_in_region');
  assert.deepEqual(e.params, { parent: '广东省' });
  assert.match(e.message, /广东省/);
  e = await fieldError(await create({ province: '广东省', city: '深圳市', district: '天河区' }), 'district', 'not_in_region');
  assert.deepEqual(e.params, { parent: '深圳市' });
  // 南山区 of 鹤岗市 is not 深圳市's, and 深圳市 is not 黑龙江省's
  await fieldError(await create({ province: '黑龙江省', city: '深圳市', district: '南山区' }), 'city', 'not_in_region');
  await fieldError(await create({ province: '火星省' }), 'province', 'no_such_region');
  await fieldError(await create({ province: '广东', city: '深圳市' }), 'province', 'no_such_region');
  // 北京市's raw city 市辖区 is not a name of the dictionary
  await fieldError(await create({ province: '北京市', city: '市辖区', district: '朝阳区' }), 'city', 'not_in_region');
});

test('a district needs its city and a city its province', async () => {
  await fieldError(await create({ province: '广东省', district: '南山区' }), 'city', 'required');
  await fieldError(await create({ city: '深圳市', district: '南山区' }), 'province', 'required');
  await fieldError(await create({ city: '深圳市' }), 'province', 'required');
  const p = await expectProblem(await create({ province: '', city: '', district: '南山区' }), 422, 'validation_failed');
  assert.deepEqual(p.errors.map((e) => [e.field, e.code]).sort(), [['city', 'required'], ['province', 'required']]);
});

test('valid regions round-trip, and the list filters by province and city', async () => {
  const cases = [
    { province: '广东省', city: '深圳市', district: '南山区' },
    { province: '北京市', city: '北京市', district: '朝阳区' },
    { province: '湖北省', city: '仙桃市', district: '' },
    { province: '香港特别行政区', city: '', district: '' },
    { province: '', city: '', district: '' },
  ];
  for (const want of cases) {
    const c = await ok(await create(want), 201);
    assert.deepEqual({ province: c.province, city: c.city, district: c.district }, want);
    const again = await ok(await api('GET', `/api/v1/customers/${c.id}`, T.manager));
    assert.deepEqual({ province: again.province, city: again.city, district: again.district }, want);
  }
  const c = await ok(await create({ province: '广东省', city: '深圳市', district: '南山区' }), 201);
  const found = await ok(await api('GET', `/api/v1/customers?keyword=${encodeURIComponent(c.name)}&province=${encodeURIComponent('广东省')}&city=${encodeURIComponent('深圳市')}`, T.manager));
  assert.deepEqual(found.items.map((x) => x.id), [c.id]);
  const other = await ok(await api('GET', `/api/v1/customers?keyword=${encodeURIComponent(c.name)}&city=${encodeURIComponent('广州市')}`, T.manager));
  assert.deepEqual(other.items, []);
});

test('an edit is checked against the region the customer will have', async () => {
  let c = await ok(await create({ province: '广东省', city: '深圳市', district: '南山区' }), 201);
  const patch = (body) => api('PATCH', `/api/v1/customers/${c.id}`, T.manager, { version: c.version, ...body });
  // another province alone leaves 深圳市 and 南山区 outside it
  await fieldError(await patch({ province: '浙江省' }), 'city', 'not_in_region');
  await fieldError(await patch({ district: '西湖区' }), 'district', 'not_in_region');
  await fieldError(await patch({ city: '' }), 'city', 'required');
  c = await ok(await patch({ province: '浙江省', city: '杭州市', district: '西湖区' }));
  assert.deepEqual([c.province, c.city, c.district], ['浙江省', '杭州市', '西湖区']);
  c = await ok(await patch({ district: '' }));
  assert.deepEqual([c.province, c.city, c.district], ['浙江省', '杭州市', '']);
  // an edit of another field does not touch the region
  c = await ok(await patch({ address: '文三路 90 号' }));
  assert.deepEqual([c.province, c.city, c.district, c.address], ['浙江省', '杭州市', '', '文三路 90 号']);
});
