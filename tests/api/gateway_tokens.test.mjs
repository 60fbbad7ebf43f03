// SPDX-License-Identifier: Apache-2.0
// Through the gateway, every kind of bad token gets 401 problem+json, and nothing crashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { GATEWAY, SERVICES, auth, claims, expectProblem, healthy, pidOf, serviceUrl, signingKey, token } from './lib.mjs';

const INFO = `${GATEWAY}/api/v1/system/customer/info`;

test('a valid token reaches the service, which sees the caller', async () => {
  const res = await fetch(INFO, { headers: auth(token(claims({ sub: '424243', name: '王五' }))) });
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  assert.equal(body.service, 'customer');
  assert.deepEqual(body.caller, { user_id: '424243', name: '王五' }); // nobody's account: never revoked by a file alongside
  assert.ok(res.headers.get('x-request-id'));
});

test('every forged, stale or malformed token gets 401 problem+json', async () => {
  const pidsBefore = Object.fromEntries(['gateway', ...SERVICES].map((p) => [p, pidOf(p)]));
  const now = Math.floor(Date.now() / 1000);
  const good = token();
  const [h, p, s] = good.split('.');
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const forgedPayload = Buffer.from(JSON.stringify(claims({ sub: '1', roles: ['admin'], scope: 'ALL' }))).toString('base64url');
  const cases = {
    'no token': {},
    'not bearer': { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    'alg=none': auth(token(claims(), { header: { alg: 'none', typ: 'JWT', kid: signingKey().kid } })),
    'HS256 with the public key as secret': auth(token(claims(), { header: { alg: 'HS256', typ: 'JWT', kid: signingKey().kid }, key: signingKey().pub })),
    'unknown kid': auth(token(claims(), { kid: 'k-unknown', key: other })),
    'right kid, wrong key': auth(token(claims(), { key: other })),
    expired: auth(token(claims({ iat: now - 1000, nbf: now - 1000, exp: now - 60 }))),
    'nbf in the future': auth(token(claims({ nbf: now + 3600, exp: now + 7200 }))),
    'wrong iss': auth(token(claims({ iss: 'someone-else' }))),
    'wrong aud': auth(token(claims({ aud: 'other-app' }))),
    'no exp': auth(token(claims({ exp: undefined }))),
    'tampered payload': auth(`${h}.${forgedPayload}.${s}`),
    '2 segments': auth(`${h}.${p}`),
    '4 segments': auth(`${good}.${s}`),
    'garbage': auth('%%%.###.!!!'),
    'over 8 KiB': auth(token(claims({ pad: 'x'.repeat(9000) }))),
  };
  for (const [name, headers] of Object.entries(cases)) {
    const res = await fetch(INFO, { headers });
    const body = await expectProblem(res, 401, 'unauthorized');
    assert.ok(res.headers.get('www-authenticate')?.startsWith('Bearer'), name);
    assert.ok(!JSON.stringify(body).includes('BEGIN'), `${name}: no key material in errors`);
  }
  // nothing restarted: the same processes answer
  for (const [prog, pid] of Object.entries(pidsBefore)) assert.equal(pidOf(prog), pid, `${prog} restarted`);
  for (const svc of SERVICES) assert.ok(await healthy(serviceUrl(svc)), `${svc} healthy`);
  assert.ok(await healthy(GATEWAY));
});

test('services check the token themselves: forged identity headers straight to a service fail', async () => {
  const url = `${serviceUrl('customer')}/api/v1/system/customer/info`;
  await expectProblem(await fetch(url, { headers: { 'x-crm-user-id': '1', 'x-user-id': '1', 'x-forwarded-user': 'admin' } }), 401, 'unauthorized');
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  await expectProblem(await fetch(url, { headers: auth(token(claims(), { key: other })) }), 401, 'unauthorized');
  await expectProblem(await fetch(url, { headers: auth(token(claims(), { header: { alg: 'none', kid: signingKey().kid } })) }), 401, 'unauthorized');
  const ok = await fetch(url, { headers: auth() });
  assert.equal(ok.status, 200);
});

test('identity headers sent by a client are not passed on', async () => {
  // The service echoes the verified caller only: a client's header cannot change it. The caller
  // is nobody's account: files running alongside revoke real users' tokens (a reused refresh
  // token ends all of manager_south1's), and a token minted in that second would be refused.
  const res = await fetch(INFO, { headers: { ...auth(token(claims({ sub: '424242' }))), 'x-crm-user-id': '1', 'x-forwarded-for': '6.6.6.6' } });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).caller.user_id, '424242');
});

test('public routes need no token; unknown API paths are 404 problems', async () => {
  assert.equal((await fetch(`${GATEWAY}/healthz`)).status, 200);
  await expectProblem(await fetch(`${GATEWAY}/api/v1/nothing-here`), 404, 'not_found');
  await expectProblem(await fetch(`${GATEWAY}/api/v1/system/nosuch/info`, { headers: auth() }), 404, 'not_found');
});
