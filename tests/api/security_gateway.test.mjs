// SPDX-License-Identifier: Apache-2.0
// Security findings of issue 10 about the gateway and request handling (#3 first half, #5, #7,
// #8, #13): each test makes the attack from outside and sees it refused.
// crm-test: alone (it opens hundreds of connections and fills the gateway's body budget)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  GATEWAY, GATEWAY_ADMIN, GATEWAY_TLS, api, asGateway, auth, claims, eventually, expectProblem, mysql, redis,
  serviceUrl, sleep, token, tokenOf,
} from './lib.mjs';

const GW_PORT = Number(new URL(GATEWAY).port);
const rnd = () => Math.random().toString(36).slice(2, 8);
const GOOD_PW = 'Correct-Horse-9-Battery';

/**
 * A raw HTTP/1.1 exchange on one connection: write 'head', then (if given) wait for
 * "100 Continue" or a final answer before writing 'body'. Resolves with everything the server
 * sent until it closed (or 'ms'), whether it closed, and whether 100 Continue came before the body.
 */
function exchange(port, head, body, { ms = 5000, waitContinue = false } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    let sentBody = false;
    const started = Date.now();
    const finish = (closed) => { clearTimeout(timer); sock.destroy(); resolve({ data, closed, ms: Date.now() - started }); };
    const timer = setTimeout(() => finish(false), ms);
    const sendBody = () => { if (!sentBody && body !== undefined) { sentBody = true; sock.write(body); } };
    sock.on('data', (d) => {
      data += d.toString('latin1');
      if (waitContinue && data.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) sendBody();
    });
    sock.on('close', () => finish(true));
    sock.on('error', () => {});
    sock.on('connect', () => {
      sock.write(head);
      if (!waitContinue) sendBody();
    });
  });
}

/** The status lines of every answer in 'data', in order. */
const statuses = (data) => [...data.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

test('#3 Expect: 100-continue through the gateway: one final answer (201), one user created', async () => {
  const tok = await tokenOf('admin');
  const username = `exp_${rnd()}`;
  const body = JSON.stringify({ username, display_name: `Expect ${username}`, password: GOOD_PW });
  const head = `POST /api/v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\n`
    + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
    + 'Expect: 100-continue\r\nConnection: close\r\n\r\n';
  const r = await exchange(GW_PORT, head, body, { waitContinue: true });
  const st = statuses(r.data);
  assert.deepEqual(st, [100, 201], `one 100 Continue, then the final answer: ${r.data.slice(0, 400)}`);
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_auth.users WHERE username = '${username}'`), '1');
});

test('#3 #5 Expect: 100-continue without a token: 401 at once, no 100 Continue, body never read', async () => {
  const head = 'POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
    + 'Content-Length: 500000\r\nExpect: 100-continue\r\n\r\n';
  const r = await exchange(GW_PORT, head, undefined, { ms: 2500, waitContinue: true });
  assert.deepEqual(statuses(r.data), [401], r.data.slice(0, 300));
  assert.ok(r.closed, 'the connection is closed after the refusal');
  assert.ok(r.ms < 2000, `answered in ${r.ms} ms`);
});

test('#5 without a token the head is refused before the body is read (401 at once, closed)', async () => {
  // most of a large body is sent; today's gateway waited for the rest before it checked
  const head = 'POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
    + 'Content-Length: 1000000\r\n\r\n';
  const r = await exchange(GW_PORT, head, 'x'.repeat(900000), { ms: 2500 });
  assert.deepEqual(statuses(r.data), [401], r.data.slice(0, 300));
  assert.match(r.data, /"code":"unauthorized"/);
  assert.ok(r.closed && r.ms < 2000, `closed at once (${r.ms} ms, closed ${r.closed})`);
  // a token without the route's permission: 403 before the body, too
  const weak = token(claims({ perms: ['system:service:read'] }));
  const h403 = `POST /api/v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${weak}\r\n`
    + 'Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n';
  const f = await exchange(GW_PORT, h403, 'x'.repeat(10000), { ms: 2500 });
  assert.deepEqual(statuses(f.data), [403], f.data.slice(0, 300));
  assert.ok(f.closed && f.ms < 2000);
});

test('#5 a route without a token (refresh) takes a small body only: 413 at once', async () => {
  const head = 'POST /api/v1/auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
    + 'Content-Length: 960000\r\n\r\n';
  const r = await exchange(GW_PORT, head, 'x'.repeat(100000), { ms: 2500 });
  assert.deepEqual(statuses(r.data), [413], r.data.slice(0, 300));
  assert.match(r.data, /"code":"payload_too_large"/);
  assert.ok(r.closed && r.ms < 2000, `closed at once (${r.ms} ms)`);
  // a refresh of normal size still works as before (an unknown token: 401, not 413)
  const ok = await api('POST', '/api/v1/auth/refresh', null, { refresh_token: 'x'.repeat(64) });
  assert.notEqual(ok.status, 413);
});

test('#5 the bodies buffered at once are bounded: over the budget 503 with Retry-After', async () => {
  // the test stack gives the gateway 8 MiB for all bodies together; nine 1,000,000-byte
  // bodies in flight (their heads passed, the bodies still coming) do not fit
  const tok = token(claims({ perms: ['system:user:create'] }));
  const head = `POST /api/v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\n`
    + 'Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n';
  const socks = [];
  try {
    const answers = [];
    for (let i = 0; i < 9; i++) {
      const s = net.connect(GW_PORT, '127.0.0.1');
      let data = '';
      s.on('data', (d) => { data += d.toString('latin1'); });
      s.on('error', () => {});
      socks.push(s);
      await new Promise((r) => s.on('connect', r));
      s.write(head + 'x'.repeat(1000));
      await sleep(150);
      answers.push(() => data);
    }
    await sleep(300);
    const got = answers.map((a) => a());
    assert.deepEqual(got.slice(0, 8).map((d) => d.length), [0, 0, 0, 0, 0, 0, 0, 0], 'eight bodies are being read');
    assert.deepEqual(statuses(got[8]), [503], got[8].slice(0, 300));
    assert.match(got[8], /\r\nRetry-After: \d+\r\n/i);
    assert.match(got[8], /application\/problem\+json/);
    assert.match(got[8], /"code":"overloaded"/);
  } finally {
    for (const s of socks) s.destroy();
  }
  // the budget is given back when those connections go
  await eventually(async () => {
    const r = await exchange(GW_PORT, head, '', { ms: 800 });
    return r.data === ''; // its body is being waited for, not refused
  }, 5000, 'the budget back');
});

test('#5 connections from one address are capped (the test stack allows 1000)', async () => {
  const socks = [];
  let closedByServer = 0;
  try {
    for (let i = 0; i < 1030; i++) {
      const s = net.connect(GW_PORT, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => { if (!s.mine) closedByServer++; });
      socks.push(s);
    }
    await Promise.all(socks.map((s) => new Promise((r) => { s.on('connect', r); s.on('close', r); })));
    await eventually(() => closedByServer >= 28, 5000, `the connections above the cap closed (${closedByServer})`);
    await sleep(300);
    assert.ok(closedByServer <= 40, `only those above the cap are closed (${closedByServer})`);
  } finally {
    for (const s of socks) { s.mine = true; s.destroy(); }
  }
  await sleep(300);
  const h = await fetch(`${GATEWAY}/healthz`);
  assert.equal(h.status, 200, 'the address is served again once its connections closed');
});

/** POST /api/v1/auth/login with a wrong password straight to the auth service (not through the
 * gateway), from 127.0.0.1, with 'headers'. */
async function directLogin(username, headers) {
  const res = await fetch(`${serviceUrl('auth')}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ username, password: 'Wrong-Password-123' }),
  });
  await res.text();
  return res;
}

test('#7 a local process sending X-Forwarded-For straight to a service does not choose the throttle or audit address', async () => {
  const fake = `6.6.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;
  const name = `xff_${rnd()}`;
  const plain = await directLogin(name, { 'x-forwarded-for': fake });
  assert.equal(plain.status, 401);
  // ... not with a proof made up either, nor with a real proof of another request
  const forged = await directLogin(name, { 'x-forwarded-for': fake, 'x-request-id': 'a'.repeat(32), 'x-crm-proof': `v1 t=${Math.floor(Date.now() / 1000)} sig=${'0'.repeat(64)}` });
  assert.equal(forged.status, 401);
  const other = asGateway({ method: 'POST', target: '/api/v1/auth/other', requestId: 'b'.repeat(32), clientIp: fake });
  assert.equal((await directLogin(name, other)).status, 401);
  await eventually(() => Number(mysql(`SELECT COUNT(*) FROM crm_audit.login_log WHERE username = '${name}'`)) === 3, 10000, 'three failed logins in the login log');
  const ips = mysql(`SELECT DISTINCT ip FROM crm_audit.login_log WHERE username = '${name}'`);
  assert.equal(ips, '127.0.0.1', 'the login log has the socket peer');
  assert.equal(redis('GET', `crm:login:ip:${fake}`), '', 'the throttle did not count the chosen address');
  // the control: the gateway's own proof is believed (the drill holds the stack's secret)
  const proven = `xffok_${rnd()}`;
  const res = await directLogin(proven, asGateway({ method: 'POST', target: '/api/v1/auth/login', requestId: `c${rnd()}`.padEnd(32, '0'), clientIp: fake }));
  assert.equal(res.status, 401);
  await eventually(() => mysql(`SELECT ip FROM crm_audit.login_log WHERE username = '${proven}'`) === fake, 10000, 'the proven address in the login log');
});

test('#7 straight to a service a forged identity still fails, with or without a proof of another token', async () => {
  const svc = `${serviceUrl('customer')}/api/v1/system/customer/info`;
  const other = await import('node:crypto').then((c) => c.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const forged = token(claims({ perms: ['system:service:read'] }), { key: other });
  await expectProblem(await fetch(svc, { headers: auth(forged) }), 401, 'unauthorized');
  // a proof binds the token it was made for: the forged token with a good token's proof
  const good = token();
  const proof = asGateway({ method: 'GET', target: '/api/v1/system/customer/info', requestId: 'd'.repeat(32), authorization: `Bearer ${good}` });
  await expectProblem(await fetch(svc, { headers: { ...auth(forged), ...proof } }), 401, 'unauthorized');
  assert.equal((await fetch(svc, { headers: { ...auth(good), ...proof } })).status, 200);
  // the gateway vouches for the signature only: an expired token is refused even when proven
  const old = token(claims({ exp: Math.floor(Date.now() / 1000) - 10 }));
  const p2 = asGateway({ method: 'GET', target: '/api/v1/system/customer/info', requestId: 'e'.repeat(32), authorization: `Bearer ${old}` });
  await expectProblem(await fetch(svc, { headers: { ...auth(old), ...p2 } }), 401, 'unauthorized');
  // and a stale proof is not believed (the service verifies the forged token itself)
  const stale = asGateway({ method: 'GET', target: '/api/v1/system/customer/info', requestId: 'f'.repeat(32), authorization: `Bearer ${forged}`, t: Math.floor(Date.now() / 1000) - 120 });
  await expectProblem(await fetch(svc, { headers: { ...auth(forged), ...stale } }), 401, 'unauthorized');
});

test('#8 two requests with the same client X-Request-Id get different ids in their answers and audit entries', async () => {
  const tok = await tokenOf('admin');
  const created = await api('POST', '/api/v1/users', tok, { username: `rid_${rnd()}`, display_name: 'rid test', password: GOOD_PW });
  assert.equal(created.status, 201);
  let user = await created.json();
  const mine = `reuse-${rnd()}`;
  const ids = [];
  for (const name of ['第一次', '第二次']) {
    const p = await api('PATCH', `/api/v1/users/${user.id}`, tok, { version: user.version, display_name: name }, { 'x-request-id': mine });
    assert.equal(p.status, 200);
    user = await p.json();
    assert.equal(p.headers.get('x-client-request-id'), mine, 'the client id comes back apart');
    ids.push(p.headers.get('x-request-id'));
  }
  assert.notEqual(ids[0], ids[1]);
  for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
  await eventually(async () => {
    const rows = mysql(`SELECT request_id FROM crm_audit.audit_log WHERE event_type = 'user.updated' AND subject_id = '${user.id}' ORDER BY id`).split('\n');
    return rows.length === 2 && rows[0] === ids[0] && rows[1] === ids[1];
  }, 10000, 'two audit entries with the two gateway ids');
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_audit.audit_log WHERE request_id = '${mine}'`), '0', 'the client id is no audit request id');
  // straight to a service, a local process does not choose the id either
  const direct = await fetch(`${serviceUrl('auth')}/api/v1/system/auth/info`, { headers: { ...auth(), 'x-request-id': ids[0] } });
  assert.equal(direct.status, 200);
  assert.notEqual(direct.headers.get('x-request-id'), ids[0]);
});

test('#13 GET /metrics on the public port without a token is refused; the admin address serves it', async () => {
  const pub = await fetch(`${GATEWAY}/metrics`);
  const text = await pub.text();
  assert.equal(pub.status, 404, text.slice(0, 200));
  assert.doesNotMatch(text, /crm_http_requests_total/);
  const { request } = await import('node:https');
  const tls = await new Promise((resolve, reject) => {
    request(`${GATEWAY_TLS}/metrics`, { rejectUnauthorized: false }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: b }));
    }).on('error', reject).end();
  });
  assert.equal(tls.status, 404);
  assert.doesNotMatch(tls.body, /crm_http_requests_total/);
  const admin = await fetch(`${GATEWAY_ADMIN}/metrics`);
  assert.equal(admin.status, 200);
  assert.match(await admin.text(), /crm_http_connections\{svc="gateway"\}/);
  // the admin address answers nothing else of the public port
  assert.equal((await fetch(`${GATEWAY_ADMIN}/api/v1/system/auth/info`, { headers: auth() })).status, 404);
});
