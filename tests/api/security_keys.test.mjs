// SPDX-License-Identifier: Apache-2.0
// Issue 10, #14: a JWT key whose file is removed from the key directory stops verifying within
// the directory's refresh interval (the gateway looks every second, a service with its probe
// every 5 s), cached verifications included, without a restart.
// crm-test: alone (it changes the key directory every process reads)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { GATEWAY, KEYS, auth, claims, eventually, expectProblem, pidOf, serviceUrl, token } from './lib.mjs';

const info = (base, svc, tok) => fetch(`${base}/api/v1/system/${svc}/info`, { headers: auth(tok) });
// the slowest refresh: a service's 5 s probe tick; one tick of slack for the stat and the load
const REFRESH_MS = 5000;

test('#14 a key removed from the key directory stops verifying at the gateway and at a service within the refresh interval', async () => {
  const kid = 'k00000000T000014'; // sorts before every real kid; only its public half is ever on disk
  const pubFile = `${KEYS}/${kid}.pub.pem`;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pids = Object.fromEntries(['gateway', 'customer', 'care'].map((p) => [p, pidOf(p)]));
  writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  try {
    const tok = token(claims({ sub: '4714001' }), { kid, key: privateKey });
    await eventually(async () => (await info(GATEWAY, 'customer', tok)).status === 200, 15000, 'the gateway and customer trust the added key');
    await eventually(async () => (await info(serviceUrl('care'), 'care', tok)).status === 200, 15000, 'care trusts it directly');
    // verified once more: the gateway's and the services' caches now hold this token
    assert.equal((await info(GATEWAY, 'customer', tok)).status, 200);

    unlinkSync(pubFile);
    const removedAt = Date.now();
    await eventually(async () => (await info(GATEWAY, 'customer', tok)).status === 401, REFRESH_MS * 2, 'the gateway refusing the removed key');
    await eventually(async () => (await info(serviceUrl('care'), 'care', tok)).status === 401, REFRESH_MS * 2, 'care refusing the removed key');
    await eventually(async () => (await info(serviceUrl('customer'), 'customer', tok)).status === 401, REFRESH_MS * 2, 'customer refusing the removed key');
    assert.ok(Date.now() - removedAt <= REFRESH_MS * 2, `took ${Date.now() - removedAt} ms`);
    await expectProblem(await info(GATEWAY, 'customer', tok), 401, 'unauthorized');
    // a token of a key still in the directory is untouched, and nothing restarted
    assert.equal((await info(GATEWAY, 'customer', token(claims({ sub: '4714002' })))).status, 200);
    for (const [p, pid] of Object.entries(pids)) assert.equal(pidOf(p), pid, `${p} restarted`);
  } finally {
    if (existsSync(pubFile)) unlinkSync(pubFile);
  }
});
