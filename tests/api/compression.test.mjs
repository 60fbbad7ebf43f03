// SPDX-License-Identifier: Apache-2.0
// Compression by the gateway (issue 11 #6): the build's precompressed .br/.gz assets chosen by
// Accept-Encoding (br first, q=0 honoured, identity otherwise) with Vary, their own ETag, the
// right Content-Length, HEAD and 304; large JSON answers gzipped; auth answers (tokens) and
// small answers never. Requests go through node:http, which neither asks for nor decodes a
// coding by itself, so the test sees the bytes on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { GATEWAY, REPO, accounts, tokenOf } from './lib.mjs';

const BROWSER = 'gzip, deflate, br, zstd'; // what Chromium sends

/** One request; resolves { status, headers, body: Buffer as it came }. */
function get(path, headers = {}, method = 'GET', body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${GATEWAY}${path}`, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function decode(r) {
  const ce = r.headers['content-encoding'];
  if (ce === 'br') return brotliDecompressSync(r.body);
  if (ce === 'gzip') return gunzipSync(r.body);
  assert.equal(ce, undefined, `unexpected Content-Encoding ${ce}`);
  return r.body;
}

const varies = (r) => (r.headers.vary ?? '').split(/\s*,\s*/).some((v) => v.toLowerCase() === 'accept-encoding');

const built = () => existsSync(`${REPO}/web/dist/index.html.br`);

/** The entry script of the console, named in index.html. */
async function entryScript() {
  const html = decode(await get('/', { 'accept-encoding': BROWSER })).toString('utf8');
  const m = html.match(/src="(\/assets\/[^"]+\.js)"/);
  assert.ok(m, 'index.html names its entry script');
  return m[1];
}

test('an asset is sent as br, gzip or as it is by Accept-Encoding, with Vary and its own ETag', async (t) => {
  if (!built()) return t.skip('web/dist not built');
  const asset = await entryScript();
  const plain = await get(asset);
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding: no coding');
  assert.ok(varies(plain), 'the identity answer varies by Accept-Encoding too');
  assert.ok(plain.body.length > 10000, 'the entry script is a real bundle');

  const cases = [
    [BROWSER, 'br'],
    ['gzip', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=0.5, br;q=0.9', 'br'],
    ['br;q=0.5, gzip;q=0.9', 'gzip'],
    ['*', 'br'],
    ['identity', undefined],
    ['br;q=0, gzip;q=0', undefined],
    ['*;q=0', undefined],
    ['deflate, zstd', undefined],
  ];
  const etags = new Map();
  for (const [accept, want] of cases) {
    const r = await get(asset, { 'accept-encoding': accept });
    assert.equal(r.status, 200, accept);
    assert.equal(r.headers['content-encoding'], want, `Accept-Encoding: ${accept}`);
    assert.ok(varies(r), `Vary for ${accept}`);
    assert.equal(Number(r.headers['content-length']), r.body.length, `Content-Length for ${accept}`);
    assert.match(r.headers['content-type'], /^text\/javascript/, 'the type of the resource, not of the coding');
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.ok(decode(r).equals(plain.body), `the ${want ?? 'identity'} answer is the same file`);
    if (want) assert.ok(r.body.length < plain.body.length / 2, `${want} is much smaller`);
    const seen = etags.get(want ?? 'identity');
    if (seen) assert.equal(r.headers.etag, seen, 'one ETag per coding');
    etags.set(want ?? 'identity', r.headers.etag);
  }
  assert.equal(new Set(etags.values()).size, 3, `a different ETag for each coding: ${[...etags.values()]}`);
});

test('HEAD and 304 of a compressed asset: the head of its coding, no body', async (t) => {
  if (!built()) return t.skip('web/dist not built');
  const asset = await entryScript();
  const br = await get(asset, { 'accept-encoding': BROWSER });
  const head = await get(asset, { 'accept-encoding': BROWSER }, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-encoding'], 'br');
  assert.equal(Number(head.headers['content-length']), br.body.length, 'HEAD tells the length of the br answer');
  assert.equal(head.headers.etag, br.headers.etag);
  assert.equal(head.body.length, 0);

  const again = await get(asset, { 'accept-encoding': BROWSER, 'if-none-match': br.headers.etag });
  assert.equal(again.status, 304, 'a browser that has the br copy revalidates it');
  assert.equal(again.body.length, 0);
  assert.equal(again.headers.etag, br.headers.etag);
  assert.ok(varies(again), 'the 304 carries Vary');
  assert.match(again.headers['cache-control'], /immutable/);
  // the br copy's ETag does not stand for the other codings: a client without br gets a body
  const other = await get(asset, { 'accept-encoding': 'gzip', 'if-none-match': br.headers.etag });
  assert.equal(other.status, 200);
  assert.equal(other.headers['content-encoding'], 'gzip');
  const plain = await get(asset, { 'if-none-match': `"x", ${br.headers.etag}` });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-encoding'], undefined);
  // ...and each coding revalidates with its own, also from a list
  const gz304 = await get(asset, { 'accept-encoding': 'gzip', 'if-none-match': `"x", ${other.headers.etag}` });
  assert.equal(gz304.status, 304);
});

test('index.html and the browser-route fallback are compressed and keep their headers', async (t) => {
  if (!built()) return t.skip('web/dist not built');
  const plain = await get('/');
  for (const path of ['/', '/system/users']) {
    const r = await get(path, { 'accept-encoding': BROWSER });
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['content-encoding'], 'br', path);
    assert.equal(r.headers['cache-control'], 'no-cache', path);
    assert.match(r.headers['content-security-policy'] ?? '', /default-src 'self'/, path);
    assert.match(r.headers['content-type'], /^text\/html/);
    assert.ok(decode(r).equals(plain.body), `${path} is index.html`);
  }
});

test('a .br or .gz file asked for by its own name is 404, not compressed bytes as a resource', async (t) => {
  if (!built()) return t.skip('web/dist not built');
  const asset = await entryScript();
  for (const path of [`${asset}.br`, `${asset}.gz`, '/index.html.br']) {
    const r = await get(path, { 'accept-encoding': BROWSER });
    assert.equal(r.status, 404, path);
    assert.match(r.headers['content-type'], /^application\/problem\+json/);
  }
});

test('a large JSON list is gzipped for a client that accepts it, with Vary', async () => {
  const tok = await tokenOf('admin');
  const path = '/api/v1/permissions';
  const plain = await get(path, { authorization: `Bearer ${tok}` });
  assert.equal(plain.status, 200);
  assert.ok(plain.body.length > 1024, `the list is over 1 KiB (${plain.body.length} bytes)`);
  assert.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding: no coding');
  assert.ok(varies(plain));

  const gz = await get(path, { authorization: `Bearer ${tok}`, 'accept-encoding': BROWSER });
  assert.equal(gz.status, 200);
  assert.equal(gz.headers['content-encoding'], 'gzip', 'API answers are gzipped (no br)');
  assert.ok(varies(gz));
  assert.match(gz.headers['content-type'], /^application\/json/);
  assert.equal(Number(gz.headers['content-length']), gz.body.length);
  assert.ok(gz.body.length < plain.body.length / 2, `${gz.body.length} gzipped vs ${plain.body.length}`);
  assert.deepEqual(JSON.parse(gunzipSync(gz.body)), JSON.parse(plain.body), 'the same answer');
  assert.ok(gz.headers['x-request-id'], 'the gateway headers stay');

  const refused = await get(path, { authorization: `Bearer ${tok}`, 'accept-encoding': 'gzip;q=0, br' });
  assert.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0 is honoured');
});

test('auth answers (tokens) and small answers are never compressed', async () => {
  const tok = await tokenOf('admin');
  const me = await get('/api/v1/auth/me', { authorization: `Bearer ${tok}`, 'accept-encoding': BROWSER });
  assert.equal(me.status, 200);
  assert.ok(me.body.length > 1024, `the administrator's /auth/me is over 1 KiB (${me.body.length} bytes)`);
  assert.equal(me.headers['content-encoding'], undefined, '/api/v1/auth/* is sent as it is');

  // the read-only demo user signs in here: the administrator's sign-in budget is the suites'
  const login = await get('/api/v1/auth/login', { 'content-type': 'application/json', 'accept-encoding': BROWSER }, 'POST',
    JSON.stringify({ username: 'viewer', password: accounts().viewer.password }));
  assert.equal(login.status, 200, login.body.toString());
  assert.ok(JSON.parse(login.body).refresh_token, 'the answer is readable as it is');
  assert.equal(login.headers['content-encoding'], undefined, 'a login answer (tokens) is never compressed');

  const small = await get('/api/v1/users?page_size=1', { authorization: `Bearer ${tok}`, 'accept-encoding': BROWSER });
  assert.equal(small.status, 200);
  assert.ok(small.body.length < 1024, `a one-row page is small (${small.body.length} bytes)`);
  assert.equal(small.headers['content-encoding'], undefined, 'a small answer is sent as it is');
  assert.equal(varies(small), false, 'and does not vary');
});
