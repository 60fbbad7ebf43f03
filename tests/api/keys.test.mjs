// SPDX-License-Identifier: Apache-2.0
// Key rotation: a new key pair put beside the old one verifies everywhere within seconds, auth
// signs with it, JWKS publishes both, and tokens of the old key keep working until they expire.
// crm-test: alone (deploy/crm runs it by itself, after the others: auth may sign with the new key
// before every process trusts it, and the other files' token minting reads the keys directory)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync, chmodSync } from 'node:fs';
import { GATEWAY, KEYS, accounts, api, auth, claims, eventually, login, serviceUrl, sleep, token } from './lib.mjs';

test('a rotated-in key verifies everywhere, auth signs with it, and old tokens still work', async () => {
  const oldTok = token(claims({ sub: '4242' }));
  const kid = 'k99991231T235959'; // sorts after every real kid: the newest
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(`${KEYS}/${kid}.key.pem`, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(`${KEYS}/${kid}.pub.pem`, publicKey.export({ type: 'spki', format: 'pem' }));
  chmodSync(`${KEYS}/${kid}.key.pem`, 0o600);
  const newTok = token(claims({ sub: '4243' }), { kid, key: privateKey });
  const info = (tok, base = GATEWAY, svc = 'customer') => fetch(`${base}/api/v1/system/${svc}/info`, { headers: auth(tok) });
  await eventually(async () => (await info(newTok)).status === 200, 15000, 'the gateway and customer trust the new key');
  await eventually(async () => (await info(newTok, serviceUrl('care'), 'care')).status === 200, 15000, 'care trusts it directly');
  assert.equal((await info(oldTok)).status, 200, 'the old key still verifies');
  const jwks = await (await fetch(`${GATEWAY}/api/v1/auth/jwks`)).json();
  await eventually(async () => {
    const j = await (await fetch(`${GATEWAY}/api/v1/auth/jwks`)).json();
    return j.keys.some((k) => k.kid === kid) && j.keys.length >= 2;
  }, 15000, 'JWKS publishes both keys');
  assert.ok(jwks.keys.length >= 1);
  // auth looks at its key directory every 5 s: refreshing a session (not throttled like logins)
  // shows when it signs with the new key; then a login must be signed with it too
  const kidOf = (t) => JSON.parse(Buffer.from(t.split('.')[0], 'base64url')).kid;
  let session = (await login('manager_east1', accounts().manager_east1.password)).body;
  await eventually(async () => {
    await sleep(200);
    const r = await api('POST', '/api/v1/auth/refresh', null, { refresh_token: session.refresh_token });
    assert.equal(r.status, 200);
    session = await r.json();
    return kidOf(session.access_token) === kid;
  }, 15000, 'auth signing refreshed sessions with the new key');
  const { body } = await login('manager_east1', accounts().manager_east1.password);
  assert.equal(kidOf(body.access_token), kid, 'auth signs with the newest key');
});
