// SPDX-License-Identifier: Apache-2.0
// Security findings of issue 10 on the platform: a token's second (high-S) spelling, HTTPS
// hardening (HSTS, AEAD-only TLS 1.2, no TLS < 1.2), Redis ACLs and the audit database user
// with its keyed chain. Each test replays the attack from the outside and sees it refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { spawnSync } from 'node:child_process';
import { GATEWAY, GATEWAY_TLS, STATE, accounts, api, auth, claims, expectProblem, login, mysql, redis, redisAs, serviceUrl, token } from './lib.mjs';
import { flipS, isLowS } from '../es256.mjs';

const info = (base, svc, tok) => fetch(`${base}/api/v1/system/${svc}/info`, { headers: auth(tok) });

// ---------------------------------------------------------------------------------------------
// #11 ECDSA malleability
// ---------------------------------------------------------------------------------------------

test('#11 a high-S ECDSA signature (r, n - s) of a valid token is refused by the gateway and a service', async () => {
  const good = token(claims({ sub: '4711001' }));
  const [h, p, s] = good.split('.');
  const sig = Buffer.from(s, 'base64url');
  assert.ok(isLowS(sig), 'the suite signs low-S');
  const high = `${h}.${p}.${flipS(sig).toString('base64url')}`;
  assert.notEqual(high, good);
  // the low spelling works (directly first: the gateway's cache must not decide either case)
  assert.equal((await info(serviceUrl('care'), 'care', good)).status, 200);
  assert.equal((await info(GATEWAY, 'customer', good)).status, 200);
  await expectProblem(await info(GATEWAY, 'customer', high), 401, 'unauthorized');
  await expectProblem(await info(serviceUrl('customer'), 'customer', high), 401, 'unauthorized');
  // a high-S token never seen before in its low form: no cache anywhere holds it
  const fresh = token(claims({ sub: '4711002' }));
  const [fh, fp, fs] = fresh.split('.');
  const freshHigh = `${fh}.${fp}.${flipS(Buffer.from(fs, 'base64url')).toString('base64url')}`;
  await expectProblem(await info(serviceUrl('care'), 'care', freshHigh), 401, 'unauthorized');
  await expectProblem(await info(GATEWAY, 'care', freshHigh), 401, 'unauthorized');
});

test('#11 auth signs every token low-S (its tokens keep working)', async () => {
  // auth signs with OpenSSL, which picks s or n - s at random: twelve fresh tokens would all
  // be low-S by chance once in 4096 runs (refreshes: logins are throttled per account)
  const acc = accounts();
  const name = Object.keys(acc).find((u) => acc[u].role === 'readonly') ?? Object.keys(acc)[0];
  let session = (await login(name, acc[name].password)).body;
  for (let i = 0; i < 12; i++) {
    const sig = Buffer.from(session.access_token.split('.')[2], 'base64url');
    assert.ok(isLowS(sig), `token ${i}: high-S from auth`);
    assert.equal((await api('GET', '/api/v1/auth/me', session.access_token)).status, 200);
    const r = await api('POST', '/api/v1/auth/refresh', null, { refresh_token: session.refresh_token });
    assert.equal(r.status, 200);
    session = await r.json();
  }
});

// ---------------------------------------------------------------------------------------------
// #12 HTTPS: HSTS, ciphers, protocol versions
// ---------------------------------------------------------------------------------------------

const tlsUrl = new URL(GATEWAY_TLS);
const ca = () => readFileSync(`${STATE}/tls/cert.pem`);

/** A TLS handshake with 'opts'; resolves { ok, protocol, cipher } or { ok: false, code }. */
function handshake(opts) {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: tlsUrl.hostname, port: Number(tlsUrl.port), servername: 'localhost', ca: ca(), ...opts });
    const timer = setTimeout(() => { sock.destroy(); resolve({ ok: false, code: 'TIMEOUT' }); }, 5000);
    sock.on('secureConnect', () => {
      clearTimeout(timer);
      const r = { ok: true, protocol: sock.getProtocol(), cipher: sock.getCipher().standardName ?? sock.getCipher().name };
      sock.end();
      resolve(r);
    });
    sock.on('error', (e) => { clearTimeout(timer); resolve({ ok: false, code: e.code ?? e.message }); });
  });
}

test('#12 HTTPS answers carry Strict-Transport-Security, plain HTTP answers do not', async () => {
  const get = (path) => new Promise((resolve, reject) => {
    https.get(`${GATEWAY_TLS}${path}`, { ca: ca(), servername: 'localhost' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    }).on('error', reject);
  });
  for (const path of ['/healthz', '/api/v1/auth/jwks', '/api/v1/customers']) { // local, proxied, refused
    const res = await get(path);
    const hsts = res.headers['strict-transport-security'];
    assert.ok(hsts, `${path}: no HSTS over HTTPS (status ${res.statusCode})`);
    const age = Number(/max-age=(\d+)/.exec(hsts)?.[1]);
    assert.ok(age >= 31536000, `${path}: max-age ${age} is under a year`);
  }
  for (const path of ['/healthz', '/api/v1/auth/jwks', '/api/v1/customers']) {
    const res = await fetch(`${GATEWAY}${path}`);
    await res.arrayBuffer();
    assert.equal(res.headers.get('strict-transport-security'), null, `${path}: HSTS on plain HTTP`);
  }
});

test('#12 TLS 1.2 offers only ECDHE with an AEAD: a CBC-only client is refused', async () => {
  // the client allows every CBC suite of TLS 1.2 and nothing else: the server must find none
  const cbc = await handshake({
    maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2',
    ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:'
      + 'ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:AES128-SHA256:AES128-SHA:AES256-SHA',
  });
  assert.equal(cbc.ok, false, `a CBC suite was negotiated: ${cbc.cipher}`);
  assert.doesNotMatch(cbc.code, /NO_CIPHERS_AVAILABLE|NO_PROTOCOLS/, 'the refusal is the server\'s');
  // a client offering everything (CBC first) still gets an AEAD suite over TLS 1.2
  const any = await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA256:ALL' });
  assert.equal(any.ok, true, any.code);
  assert.equal(any.protocol, 'TLSv1.2');
  assert.match(any.cipher, /GCM|CHACHA20_POLY1305|CHACHA20-POLY1305/, `TLS 1.2 with ${any.cipher}`);
  const v13 = await handshake({});
  assert.equal(v13.ok, true, v13.code);
  assert.equal(v13.protocol, 'TLSv1.3');
});

test('#12 TLS 1.1 and 1.0 are refused', async () => {
  for (const v of ['TLSv1.1', 'TLSv1']) {
    // SECLEVEL=0 lets this client's OpenSSL speak the old protocol at all: the refusal seen is
    // the server's protocol_version alert
    const r = await handshake({ minVersion: v, maxVersion: v, ciphers: 'ALL:@SECLEVEL=0' });
    assert.equal(r.ok, false, `${v} was accepted (${r.cipher})`);
    assert.doesNotMatch(r.code, /NO_PROTOCOLS|NO_CIPHERS_AVAILABLE/, `${v}: the client refused itself: ${r.code}`);
  }
});

// ---------------------------------------------------------------------------------------------
// #10 the running services' database users hold data rights only
// ---------------------------------------------------------------------------------------------

/** Run 'sql' over TCP as the database user 'user' with the password in secrets/'secret'. */
function asDbUser(user, secret, sql) {
  const port = process.env.CRM_TEST_MYSQL_PORT ?? '4307';
  const password = readFileSync(`${STATE}/secrets/${secret}`, 'utf8').trim();
  return spawnSync('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${port}`, `-u${user}`, '-N', '-B', '-e', sql],
    { encoding: 'utf8', env: { ...process.env, MYSQL_PWD: password } });
}

test('#10 the audit runtime user cannot ALTER, CREATE, DROP or TRUNCATE: the log cannot be blackholed or cut', () => {
  const ok = asDbUser('crm_audit', 'db_audit', 'SELECT COUNT(*) >= 0 FROM crm_audit.audit_log');
  assert.equal(ok.status, 0, `the audit user logs in and reads: ${ok.stderr}`);
  const ddl = () => mysql('SHOW CREATE TABLE crm_audit.audit_log').replace(/ AUTO_INCREMENT=\d+/, '');
  const before = ddl();
  // harmless forms of the attacks (with the right, each would change nothing or fail on its
  // own: this server has no BLACKHOLE engine, the column does not exist): only the refusal counts
  for (const sql of [
    'ALTER TABLE crm_audit.audit_log ENGINE=MyISAM, ALGORITHM=INSTANT',
    'ALTER TABLE crm_audit.audit_log DROP COLUMN no_such_column',
    'ALTER TABLE crm_audit.login_log COMMENT = \'probe\'',
    'CREATE TABLE crm_audit.sec_probe (id INT)',
    'CREATE INDEX ix_sec_probe ON crm_audit.login_log (ip)',
    'DROP TABLE crm_audit.login_log',
    'TRUNCATE TABLE crm_audit.audit_log',
    'UPDATE crm_audit.processed_events SET stream = stream WHERE event_id = \'none\'',
  ]) {
    const r = asDbUser('crm_audit', 'db_audit', sql);
    assert.notEqual(r.status, 0, `${sql} must fail`);
    assert.match(r.stderr, /ERROR 1142 .*command denied to user 'crm_audit'/, sql);
  }
  assert.equal(ddl(), before, 'the table is unchanged');
  assert.match(before, /ENGINE=InnoDB/);
});

test('#10 every service\'s runtime user holds data rights only; DDL is its migration user\'s', () => {
  for (const svc of ['auth', 'customer', 'transfer', 'care', 'audit']) {
    const r = asDbUser(`crm_${svc}`, `db_${svc}`, `CREATE TABLE crm_${svc}.sec_probe (id INT)`);
    assert.notEqual(r.status, 0, `crm_${svc} may CREATE`);
    assert.match(r.stderr, /ERROR 1142 .*CREATE command denied/, svc);
    const alter = asDbUser(`crm_${svc}`, `db_${svc}`, `ALTER TABLE crm_${svc}.schema_migrations COMMENT = 'probe'`);
    assert.match(alter.stderr, /ERROR 1142 .*ALTER command denied/, svc);
    // the migration user is the one that could, and holds a secret of its own
    const m = asDbUser(`crm_${svc}_migrate`, `db_${svc}_migrate`, `SELECT COUNT(*) FROM crm_${svc}.schema_migrations`);
    assert.equal(m.status, 0, `crm_${svc}_migrate: ${m.stderr}`);
    const grants = mysql(`SHOW GRANTS FOR 'crm_${svc}'@'127.0.0.1'`);
    assert.doesNotMatch(grants, /ALL PRIVILEGES|CREATE|ALTER|DROP|INDEX/, grants);
  }
  assert.notEqual(readFileSync(`${STATE}/secrets/db_audit`, 'utf8'), readFileSync(`${STATE}/secrets/db_audit_migrate`, 'utf8'));
});

// ---------------------------------------------------------------------------------------------
// #9 Redis: one ACL user per process, the default user off
// ---------------------------------------------------------------------------------------------

/** redis-cli's answer (or its error text) for 'args' as 'user' (null: no login at all). */
function redisTry(user, ...args) {
  try {
    return redisAs(user, ...args);
  } catch (e) {
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim();
  }
}
/** Whether 'user' may run 'args' (ACL DRYRUN as crm_admin: nothing is executed). */
const mayRun = (user, ...args) => redis('ACL', 'DRYRUN', user, ...args) === 'OK';

test('#9 Redis without a password refuses everything: no reading the event streams, no forged events or revocations', () => {
  for (const args of [
    ['PING'],
    ['XRANGE', 'crm:stream:auth', '-', '+', 'COUNT', '1'],
    ['XADD', 'crm:stream:customer', '*', 'event', '{"type":"customer.deleted"}'],
    ['ZADD', 'crm:revoked:user', '1', '1'],
    ['PUBLISH', 'crm:revocations', 'user 1 0'],
  ]) {
    assert.match(redisTry(null, ...args), /NOAUTH|NOPERM/, `${args[0]} without a login`);
  }
  // the default user is off, whatever password is tried
  const env = { ...process.env, REDISCLI_AUTH: 'x' };
  const r = spawnSync('redis-cli', ['-p', process.env.CRM_TEST_REDIS_PORT ?? '7380', '--user', 'default', '--no-auth-warning', 'PING'], { encoding: 'utf8', env });
  assert.doesNotMatch(r.stdout, /PONG/);
  assert.match(redis('ACL', 'GETUSER', 'default'), /\boff\b/);
});

test('#9 each process\'s Redis user holds only its own stream, the streams it reads and the keys it uses', () => {
  const ev = ['*', 'event', '{"type":"user.created"}'];
  // a service writes its own stream and no other; nobody but auth writes revocations
  assert.equal(mayRun('crm_customer', 'XADD', 'crm:stream:customer', ...ev), true);
  for (const [user, stream] of [['crm_customer', 'auth'], ['crm_care', 'customer'], ['crm_audit', 'auth'], ['crm_gateway', 'auth'], ['crm_transfer', 'gateway']]) {
    assert.equal(mayRun(user, 'XADD', `crm:stream:${stream}`, ...ev), false, `${user} may XADD to crm:stream:${stream}`);
    // nor through a script (run for real: DRYRUN does not look inside; refused, it writes nothing)
    assert.match(redisTry(user, 'EVAL', "return redis.call('XADD', KEYS[1], '*', 'event', '{}')", '1', `crm:stream:${stream}`),
      /NOPERM|can't access|no permissions/, `${user} EVAL XADD ${stream}`);
  }
  assert.match(redisTry('crm_customer', 'XADD', 'crm:stream:auth', ...ev), /NOPERM/, 'refused for real too');
  for (const user of ['crm_customer', 'crm_transfer', 'crm_care', 'crm_audit', 'crm_gateway']) {
    assert.equal(mayRun(user, 'ZADD', 'crm:revoked:user', 'GT', '1', '1'), false, `${user} may revoke`);
    assert.equal(mayRun(user, 'ZREMRANGEBYSCORE', 'crm:revoked:jti', '-inf', '+inf'), false, `${user} may drop revocations`);
    assert.equal(mayRun(user, 'PUBLISH', 'crm:revocations', 'user 1 0'), false, `${user} may publish revocations`);
    assert.equal(mayRun(user, 'ZRANGEBYSCORE', 'crm:revoked:user', '0', '+inf'), true, `${user} reads revocations`);
    assert.equal(mayRun(user, 'FLUSHALL'), false);
    assert.equal(mayRun(user, 'KEYS', '*'), false);
  }
  assert.equal(mayRun('crm_auth', 'ZADD', 'crm:revoked:user', 'GT', '1', '1'), true, 'auth revokes');
  assert.equal(mayRun('crm_auth', 'PUBLISH', 'crm:revocations', 'user 1 0'), true);
  assert.equal(mayRun('crm_auth', 'INCR', 'crm:login:ip:127.0.0.1'), true, 'auth throttles logins');
  assert.equal(mayRun('crm_customer', 'INCR', 'crm:login:ip:127.0.0.1'), false);
  // a consumer reads the streams it consumes, as its group, and no other stream
  assert.equal(mayRun('crm_audit', 'XREADGROUP', 'GROUP', 'audit', 'x', 'COUNT', '1', 'STREAMS', 'crm:stream:auth', 'crm:stream:gateway', '>', '>'), true);
  assert.equal(mayRun('crm_customer', 'XREADGROUP', 'GROUP', 'customer', 'x', 'COUNT', '1', 'STREAMS', 'crm:stream:care', '>'), false, 'customer reads care\'s stream');
  assert.equal(mayRun('crm_customer', 'XRANGE', 'crm:stream:auth', '-', '+'), false, 'no plain reads of whole streams');
  assert.equal(mayRun('crm_customer', 'XADD', 'crm:dead:customer', ...ev), true, 'its own dead letters');
  assert.equal(mayRun('crm_customer', 'XADD', 'crm:dead:audit', ...ev), false);
  assert.equal(mayRun('crm_customer', 'XGROUP', 'DESTROY', 'crm:stream:auth', 'customer'), false);
  assert.equal(mayRun('crm_auth', 'XREADGROUP', 'GROUP', 'auth', 'x', 'STREAMS', 'crm:stream:customer', '>'), false, 'auth consumes nothing');
  // and the processes do run as these users (one client per connection, none as default)
  const clients = redis('CLIENT', 'LIST').split('\n').map((l) => /\buser=(\S+)/.exec(l)?.[1]).filter(Boolean);
  for (const u of ['crm_auth', 'crm_customer', 'crm_audit', 'crm_gateway']) assert.ok(clients.includes(u), `${u} connected (${[...new Set(clients)]})`);
  assert.ok(!clients.includes('default'), 'nobody connected as default');
});
