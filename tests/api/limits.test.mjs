// SPDX-License-Identifier: Apache-2.0
// Request limits: 413 for bodies, 431 for heads, 400 for malformed requests, slowloris closed,
// request ids - all as problem+json, with no process crashing. The rate limit is in
// rate_limit.test.mjs (it runs alone: its burst would get the other files' requests a 429).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEWAY, PORTS, auth, expectProblem, healthy, raw, serviceUrl } from './lib.mjs';

const gwPort = Number(new URL(GATEWAY).port);

test('a body over the limit gets 413 without being read', async () => {
  const res = await fetch(`${GATEWAY}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(2 * 1024 * 1024),
  }).catch((e) => e);
  // The gateway may answer before the client finished sending: either the 413 arrives, or the
  // connection is closed on the sender. Check over a raw socket, which always sees the answer.
  const r = await raw(gwPort, [`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${8 * 1024 * 1024}\r\n\r\n`]);
  assert.match(r.data, /^HTTP\/1\.1 413 /);
  assert.match(r.data, /application\/problem\+json/);
  assert.match(r.data, /"code":"payload_too_large"/);
  if (res instanceof Response) await expectProblem(res, 413, 'payload_too_large');
});

test('headers over the limit get 431', async () => {
  const res = await fetch(`${GATEWAY}/healthz`, { headers: { 'x-big': 'a'.repeat(20 * 1024) } });
  await expectProblem(res, 431, 'headers_too_large');
  const r = await raw(gwPort, [`GET / HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(150)}\r\n`]);
  assert.match(r.data, /^HTTP\/1\.1 431 /);
});

test('malformed requests get 400 problem+json and the connection is closed', async () => {
  for (const bad of [
    'GARBAGE\r\n\r\n',
    'GET /x HTTP/1.1\r\nHost: x\r\n folded: header\r\n\r\n',
    'GET /x HTTP/1.1\r\n\r\n', // no Host
    'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
    'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n',
  ]) {
    const r = await raw(gwPort, [bad]);
    assert.match(r.data, /^HTTP\/1\.1 400 /, JSON.stringify(bad));
    assert.match(r.data, /application\/problem\+json/);
    assert.ok(r.closed, 'closed after a malformed request');
  }
  const r = await raw(gwPort, ['GET / HTTP/2.0\r\nHost: x\r\n\r\n']);
  assert.match(r.data, /^HTTP\/1\.1 505 /);
  assert.ok(await healthy(GATEWAY));
});

test('a slowloris client is cut off within the header timeout', async () => {
  // one header byte every 200 ms never completes the head; the server must give up
  const chunks = ['GET /healthz HTTP/1.1\r\nHost: x\r\n', ...Array.from({ length: 60 }, () => 'X')];
  const r = await raw(gwPort, chunks, { ms: 15000, gapMs: 200 });
  assert.ok(r.closed, 'connection closed by the server');
  assert.match(r.data, /^HTTP\/1\.1 408 /);
  assert.ok(r.ms < 12000, `closed after ${r.ms} ms`); // the test stack allows 3 s, the default 10 s
  // and an idle connection that never sends anything is closed too
  const idle = await raw(gwPort, [], { ms: 15000 });
  assert.ok(idle.closed && idle.ms < 12000, `idle closed after ${idle.ms} ms`);
});

test('keep-alive and pipelined requests are answered in order', async () => {
  const r = await raw(gwPort, ['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
  const first = r.data.indexOf('HTTP/1.1 200');
  const second = r.data.indexOf('HTTP/1.1 404');
  assert.ok(first >= 0 && second > first, r.data);
});

test('X-Request-Id is made by the gateway; a sane client id comes back as X-Client-Request-Id', async () => {
  const mine = await fetch(`${GATEWAY}/healthz`, { headers: { 'x-request-id': 'test-req-123' } });
  assert.match(mine.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
  assert.equal(mine.headers.get('x-client-request-id'), 'test-req-123');
  const evil = await fetch(`${GATEWAY}/healthz`, { headers: { 'x-request-id': 'a b<script>' } });
  assert.match(evil.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
  assert.equal(evil.headers.get('x-client-request-id'), null);
  // the gateway passes both to the service, which answers with the gateway's id
  const via = await fetch(`${GATEWAY}/api/v1/system/auth/info`, { headers: { ...auth(), 'x-request-id': 'trace-me-42' } });
  assert.equal(via.status, 200);
  assert.match(via.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
  assert.equal(via.headers.get('x-client-request-id'), 'trace-me-42');
});

test('strict methods: 405 lists what is allowed', async () => {
  const res = await fetch(`${GATEWAY}/healthz`, { method: 'DELETE' });
  await expectProblem(res, 405, 'method_not_allowed');
  assert.match(res.headers.get('allow'), /GET/);
});

test('services enforce the same limits on their own port', async () => {
  const port = PORTS.transfer;
  const r = await raw(port, [`POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`]);
  assert.match(r.data, /^HTTP\/1\.1 413 /);
  const h = await raw(port, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40000)}\r\n\r\n`]);
  assert.match(h.data, /^HTTP\/1\.1 431 /);
  assert.ok(await healthy(serviceUrl('transfer')));
});
