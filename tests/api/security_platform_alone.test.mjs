// SPDX-License-Identifier: Apache-2.0
// Security findings of issue 10 whose tests must have the stack to themselves: #14, a JWT key
// whose file is removed from the key directory stops verifying within the directory's refresh
// interval (the gateway looks every second, a service with its probe every 5 s), cached
// verifications included, without a restart; #10, a rewritten audit chain is found.
// crm-test: alone (it changes the key directory every process reads, damages the audit chain
// for a moment and restarts audit)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { GATEWAY, KEYS, STATE, api, auth, claims, eventually, expectProblem, healthy, mysql, pidOf, serviceUrl, supervisorctl, token, tokenOf } from './lib.mjs';

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

// ---------------------------------------------------------------------------------------------
// #10 the audit chain is keyed: a rewrite with recomputed hashes is found
// ---------------------------------------------------------------------------------------------

const CHAIN_FIELDS = ['event_id', 'event_type', 'producer', 'actor_user_id', 'actor_ip', 'subject_type', 'subject_id', 'changes', 'request_id', 'occurred_at'];

/** The audit entries from id 'from' on, with their fields as bytes (null for NULL). */
// (a schema without chain_version, the code before the fix, reads as version 1 everywhere)
const hasVersion = () => mysql("SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'crm_audit' AND table_name = 'audit_log' AND column_name = 'chain_version'") === '1';
function chainRows(from) {
  const cols = CHAIN_FIELDS.map((f) => `IFNULL(HEX(${f}), '-')`).join(', ');
  const out = mysql(`SELECT id, ${hasVersion() ? 'chain_version' : '1'}, prev_hash, hash, ${cols} FROM crm_audit.audit_log WHERE id >= ${from} ORDER BY id`);
  return out.split('\n').filter(Boolean).map((line) => {
    const [id, version, prev, hash, ...vals] = line.split('\t');
    return { id: Number(id), version: Number(version), prev, hash, fields: vals.map((v) => (v === '-' ? null : Buffer.from(v, 'hex'))) };
  });
}

/** An entry's chain hash as services/audit/apply.c makes it: SHA-256 (the unkeyed form anyone
 * can recompute) or, with 'key', HMAC-SHA256. */
function chainHash(prev, fields, key) {
  const parts = [Buffer.from(prev)];
  for (const f of fields) parts.push(Buffer.from([0x1f]), f ?? Buffer.from([0]));
  const h = key ? createHmac('sha256', key) : createHash('sha256');
  return h.update(Buffer.concat(parts)).digest('hex');
}

/** Write 'rows' back (fields, hash, version) as root and relink them in order, each hash made
 * by 'hashOf(prev, row)'. */
function rewrite(rows, hashOf) {
  let prev = rows[0].prev;
  const versioned = hasVersion();
  const sql = rows.map((r) => {
    const hash = hashOf(prev, r);
    const sets = CHAIN_FIELDS.map((f, i) => `${f} = ${r.fields[i] === null ? 'NULL' : `CONVERT(UNHEX('${r.fields[i].toString('hex')}') USING utf8mb4)`}`);
    const s = `UPDATE crm_audit.audit_log SET ${sets.join(', ')}, prev_hash = '${prev}', hash = '${hash}'${versioned ? `, chain_version = ${r.version}` : ''} WHERE id = ${r.id}`;
    prev = hash;
    return s;
  });
  mysql(sql.join(';\n'));
}

const verifyChain = async (tok) => {
  const r = await api('GET', '/api/v1/audit/verify', tok);
  assert.equal(r.status, 200);
  return r.json();
};

test('#10 an audit entry rewritten with its chain recomputed (unkeyed, as anyone with write access can) is reported by verify', async () => {
  const tok = await tokenOf('admin');
  await eventually(async () => (await verifyChain(tok)).ok === true, 20000, 'an intact chain to start from');
  const ids = mysql('SELECT id FROM crm_audit.audit_log ORDER BY id DESC LIMIT 3').split('\n').map(Number);
  assert.equal(ids.length, 3, 'three audit entries at least');
  const k = ids[1]; // keyed entries before it and after it
  const original = chainRows(k);
  const forged = original.map((r, i) => (i === 0
    ? { ...r, fields: r.fields.map((f, j) => (CHAIN_FIELDS[j] === 'changes' ? Buffer.from(`[{"after":"forged-${Date.now()}","before":null,"field":"note"}]`) : f)) }
    : r));
  let damaged = false;
  try {
    // 1. the edited entry and every one after it re-hashed and relinked with plain SHA-256
    damaged = true;
    rewrite(forged, (prev, r) => chainHash(prev, r.fields));
    let v = await verifyChain(tok);
    assert.equal(v.ok, false, `a recomputed unkeyed chain passes verify: ${JSON.stringify(v)}`);
    assert.equal(v.first_bad.id, k, JSON.stringify(v));
    assert.equal(v.first_bad.reason, 'its content no longer matches its hash');
    // 2. the same, marked as entries from before the chain was keyed (a downgrade)
    rewrite(forged.map((r) => ({ ...r, version: 1 })), (prev, r) => chainHash(prev, r.fields));
    v = await verifyChain(tok);
    assert.equal(v.ok, false, JSON.stringify(v));
    assert.equal(v.first_bad.id, k, JSON.stringify(v));
    assert.equal(v.first_bad.reason, 'it is unkeyed but follows keyed entries');
    // 3. a keyed recomputation with a guessed key
    rewrite(forged, (prev, r) => chainHash(prev, r.fields, 'not-the-key'));
    v = await verifyChain(tok);
    assert.equal(v.first_bad?.id, k, JSON.stringify(v));
  } finally {
    if (damaged) {
      // put it back as it was; entries the consumer appended meanwhile linked to a forged hash:
      // re-hash them with the real key, with the audit service stopped so none is added now
      supervisorctl('stop', 'audit');
      try {
        const keyFile = `${STATE}/secrets/audit_chain_key`;
        const key = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined;
        const now = chainRows(k);
        const rows = now.map((r) => original.find((o) => o.id === r.id) ?? r);
        rewrite(rows, (prev, r) => {
          const o = original.find((x) => x.id === r.id);
          return o && o.prev === prev ? o.hash : chainHash(prev, r.fields, r.version === 2 ? key : undefined);
        });
      } finally {
        supervisorctl('start', 'audit');
      }
      await eventually(async () => healthy(serviceUrl('audit')), 30000, 'audit back');
    }
  }
  const after = await verifyChain(tok);
  assert.equal(after.ok, true, `restored: ${JSON.stringify(after)}`);
  assert.equal(after.unkeyed, 0, 'every entry of a fresh stack is keyed');
});
