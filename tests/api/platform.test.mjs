// SPDX-License-Identifier: Apache-2.0
// The platform every process shares: health, readiness, metrics, migrations applied once,
// JSON-lines logs with request ids, config errors naming the key, TLS, and the web files.
// crm-test: alone (deploy/crm runs it by itself, after the others: it restarts a service, and
// expects auth's worker queue to be empty)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import https from 'node:https';
import { GATEWAY, GATEWAY_ADMIN, GATEWAY_TLS, REPO, SERVICES, STATE, api, auth, eventually, expectProblem, healthy, mysql, pidOf, serviceUrl, supervisorctl, tokenOf } from './lib.mjs';

test('every process is healthy and ready', async () => {
  for (const svc of SERVICES) {
    const h = await fetch(`${serviceUrl(svc)}/healthz`);
    assert.deepEqual(await h.json(), { status: 'ok' });
    const r = await fetch(`${serviceUrl(svc)}/readyz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: 'ready', checks: { db: 'ok', redis: 'ok' } });
  }
  const g = await fetch(`${GATEWAY}/readyz`);
  assert.equal(g.status, 200);
  assert.equal((await g.json()).status, 'ready');
});

test('/metrics is Prometheus text with route, status, latency and queue depth', async () => {
  await fetch(`${GATEWAY}/api/v1/system/auth/info`, { headers: auth() });
  const gm = await fetch(`${GATEWAY_ADMIN}/metrics`);
  assert.match(gm.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await gm.text();
  assert.match(text, /crm_http_requests_total\{svc="gateway",route="\/api\/v1\/system\/\{service\}\/info",method="GET",status="200"\} \d+/);
  assert.match(text, /crm_http_request_duration_seconds_bucket\{svc="gateway",.*le="0\.001"\} \d+/);
  assert.match(text, /crm_upstream_connections\{upstream="auth",state="idle"\} \d+/);
  const sm = await (await fetch(`${serviceUrl('auth')}/metrics`)).text();
  assert.match(sm, /crm_worker_queue_depth\{svc="auth"\} 0/);
  assert.match(sm, /crm_http_requests_total\{svc="auth",route="\/api\/v1\/system\/\{service\}\/info",method="GET",status="200"\} \d+/);
});

/** What 'svc' ships, read now (migrations move between directories, e.g. into libcrm): its
 * services/<svc>/migrations/NNNN_*.sql as shared/migrate.c reads them, with the version, file
 * name and SHA-256 the runner records for each. */
function shippedMigrations(svc) {
  const dir = `${REPO}/services/${svc}/migrations`;
  return readdirSync(dir).filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f, checksum: createHash('sha256').update(readFileSync(`${dir}/${f}`)).digest('hex') }))
    .sort((a, b) => a.version - b.version);
}

/** The rows of crm_<svc>.schema_migrations, in the same shape, plus when each was applied. */
function recordedMigrations(svc) {
  const out = mysql(`SELECT version, name, checksum, applied_at FROM crm_${svc}.schema_migrations ORDER BY version`);
  return out === '' ? [] : out.split('\n').map((l) => {
    const [version, name, checksum, appliedAt] = l.split('\t');
    return { version: Number(version), name, checksum, appliedAt };
  });
}
const withoutTime = (rows) => rows.map(({ appliedAt: _a, ...r }) => r);

test('each service applied its migrations once, recorded, in its own schema', async () => {
  const shipped = Object.fromEntries(SERVICES.map((svc) => [svc, shippedMigrations(svc)]));
  assert.ok(Object.values(shipped).some((m) => m.length > 0), `no migration files under ${REPO}/services`);
  for (const svc of SERVICES) assert.deepEqual(withoutTime(recordedMigrations(svc)), shipped[svc], svc);
  // restarting applies nothing again: the service with the most migrations keeps its rows as
  // they were, applied_at included
  const svc = SERVICES.reduce((a, b) => (shipped[b].length > shipped[a].length ? b : a));
  const before = recordedMigrations(svc);
  const pid = pidOf(svc);
  supervisorctl('restart', svc);
  await eventually(() => healthy(serviceUrl(svc)), 30000, `${svc} back`);
  assert.notEqual(pidOf(svc), pid, `${svc} was restarted`);
  assert.deepEqual(recordedMigrations(svc), before, svc);
  // a service user can touch only its own schema
  const grants = mysql("SHOW GRANTS FOR 'crm_customer'@'127.0.0.1'");
  assert.match(grants, /`crm_customer`\.\*/);
  assert.doesNotMatch(grants, /ON \*\.\*.*ALL|`crm_auth`/);
});

test('utf8mb4 round-trips Chinese text and emoji through the API into MariaDB and back', async () => {
  assert.equal(mysql('SELECT @@character_set_server'), 'utf8mb4');
  for (const svc of SERVICES) {
    assert.equal(mysql(`SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='crm_${svc}'`), 'utf8mb4', svc);
  }
  const adminTok = await tokenOf('admin');
  const tag = Math.random().toString(36).slice(2, 8);
  const deptName = `华东🚀${tag}`;
  const displayName = `张伟🙂${tag}`;
  const d = await api('POST', '/api/v1/departments', adminTok, { name: deptName });
  const dept = await d.json();
  assert.equal(d.status, 201, JSON.stringify(dept));
  assert.equal(dept.name, deptName);
  const u = await api('POST', '/api/v1/users', adminTok, { username: `u8_${tag}`, display_name: displayName, password: 'Correct-Horse-9-Battery', dept_id: dept.id });
  const user = await u.json();
  assert.equal(u.status, 201, JSON.stringify(user));
  assert.equal(user.display_name, displayName);
  // read back: the user by id (its department's name joined in) and found by its name
  const view = await (await api('GET', `/api/v1/users/${user.id}`, adminTok)).json();
  assert.equal(view.display_name, displayName);
  assert.equal(view.dept_name, deptName);
  const found = await (await api('GET', `/api/v1/users?q=${encodeURIComponent(displayName)}`, adminTok)).json();
  assert.deepEqual(found.items.map((i) => i.id), [user.id]);
  // the bytes MariaDB holds are the UTF-8 of the text (an emoji is 4 bytes: F09F9982), in
  // utf8mb4 columns: no '?', no double encoding
  const utf8Hex = (text) => Buffer.from(text, 'utf8').toString('hex').toUpperCase();
  assert.equal(mysql(`SELECT HEX(display_name) FROM crm_auth.users WHERE id = ${Number(user.id)}`), utf8Hex(displayName));
  assert.equal(mysql(`SELECT HEX(name) FROM crm_auth.departments WHERE id = ${Number(dept.id)}`), utf8Hex(deptName));
  assert.ok(utf8Hex(displayName).includes('F09F9982'));
  assert.equal(mysql("SELECT GROUP_CONCAT(CHARACTER_SET_NAME ORDER BY TABLE_NAME) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='crm_auth' AND ((TABLE_NAME='users' AND COLUMN_NAME='display_name') OR (TABLE_NAME='departments' AND COLUMN_NAME='name'))"), 'utf8mb4,utf8mb4');
});

test('logs are JSON lines with ts, level, svc, request_id and msg; the access log has the request id', async () => {
  const log = readFileSync(`${STATE}/log/customer.log`, 'utf8').split('\n').filter((l) => l.startsWith('{'));
  assert.ok(log.length > 0);
  for (const line of log.slice(-20)) {
    const o = JSON.parse(line);
    for (const k of ['ts', 'level', 'svc', 'request_id', 'msg']) assert.ok(k in o, `${k} in ${line}`);
    assert.equal(o.svc, 'customer');
  }
  const rid = `acc-${Date.now()}`;
  await fetch(`${GATEWAY}/api/v1/system/care/info`, { headers: { ...auth(), 'x-request-id': rid } });
  await eventually(() => {
    const acc = readFileSync(`${STATE}/log/access.log`, 'utf8');
    const line = acc.split('\n').find((l) => l.includes(rid));
    if (!line) return false;
    const o = JSON.parse(line);
    return o.status === 200 && o.user === '1001' && o.path === '/api/v1/system/care/info' && o.method === 'GET';
  }, 5000, 'access log line');
});

test('a bad config value stops start-up with a message naming the key', () => {
  const bin = `${REPO}/build-asan/services/customer/crm-customer`;
  const conf = `${STATE}/bad.conf`;
  for (const [text, key] of [
    ['listen = 127.0.0.1:99999\n', "'listen'"],
    ['listen = 127.0.0.1:1\nworkers = lots\n', "'workers'"],
    ['listen = 127.0.0.1:1\nmystery = 1\n', "'mystery'"],
  ]) {
    writeFileSync(conf, text);
    const r = spawnSync(bin, ['--config', conf], { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } });
    assert.equal(r.status, 2, r.stderr);
    assert.ok(r.stderr.includes(key), `${key} in ${r.stderr}`);
  }
  const envr = spawnSync(bin, ['--config', `${STATE}/etc/customer.conf`], { encoding: 'utf8', env: { ...process.env, CRM_DEBUG_ENDPOINTS: 'sometimes', ASAN_OPTIONS: 'detect_leaks=0' } });
  assert.equal(envr.status, 2);
  assert.match(envr.stderr, /CRM_DEBUG_ENDPOINTS/);
});

test('HTTPS on the TLS port with the generated certificate', async () => {
  const ca = readFileSync(`${STATE}/tls/cert.pem`);
  const body = await new Promise((resolve, reject) => {
    https.get(`${GATEWAY_TLS}/healthz`, { ca, servername: 'localhost' }, (res) => {
      let d = '';
      const proto = res.socket.getProtocol();
      res.on('data', (c) => { d += c; });
      res.on('end', () => resolve({ status: res.statusCode, d, proto }));
    }).on('error', reject);
  });
  assert.equal(body.status, 200);
  assert.deepEqual(JSON.parse(body.d), { status: 'ok' });
  assert.match(body.proto ?? 'TLSv1.3', /TLSv1\.[23]/);
});

test('the web front end is served with content types, caching and the browser-route fallback', async (t) => {
  if (!existsSync(`${REPO}/web/dist/index.html`)) return t.skip('web/dist not built');
  const index = await fetch(`${GATEWAY}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  const asset = html.match(/\/assets\/[^"']+\.js/)[0];
  const a = await fetch(`${GATEWAY}${asset}`);
  assert.equal(a.status, 200);
  assert.match(a.headers.get('content-type'), /^text\/javascript/);
  assert.match(a.headers.get('cache-control'), /immutable/);
  const etag = a.headers.get('etag');
  assert.equal((await fetch(`${GATEWAY}${asset}`, { headers: { 'if-none-match': etag } })).status, 304);
  const deep = await fetch(`${GATEWAY}/customers/123`);
  assert.equal(deep.status, 200);
  assert.equal(await deep.text(), html);
  await expectProblem(await fetch(`${GATEWAY}/assets/missing-file.js`), 404, 'not_found');
});
