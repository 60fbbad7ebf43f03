// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the black-box API tests: the stack's addresses, token minting with the
// test stack's own key (node's crypto, ES256 as JOSE wants it), problem+json checks, processes.
import { createHash, createPrivateKey, createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import net from 'node:net';
import { SERVICES, SERVICE_TABLE } from '../services.mjs';
import { es256Sign } from '../es256.mjs';

export const GATEWAY = process.env.CRM_TEST_GATEWAY ?? 'http://127.0.0.1:9080';
export const GATEWAY_TLS = process.env.CRM_TEST_GATEWAY_TLS ?? 'https://127.0.0.1:9443';
// the gateway's admin listener (admin_listen): /metrics lives there, never on the public port
export const GATEWAY_ADMIN = process.env.CRM_TEST_GATEWAY_ADMIN ?? 'http://127.0.0.1:10180';
export const STATE = process.env.CRM_TEST_STATE ?? '.run/test';
export const KEYS = process.env.CRM_TEST_KEYS ?? `${STATE}/keys`;
export const REPO = process.env.CRM_REPO ?? process.cwd();
export { SERVICES };
// A service's port: CRM_TEST_PORT_<NAME> (deploy/crm sets it), else its port in
// shared/services.def moved by the test stack's offset.
const PORT_OFFSET = Number(process.env.CRM_TEST_PORT_OFFSET ?? 1000);
export const PORTS = Object.fromEntries(
  SERVICE_TABLE.map((s) => [s.name, Number(process.env[`CRM_TEST_PORT_${s.name.toUpperCase()}`] ?? s.port + PORT_OFFSET)]),
);
export const serviceUrl = (svc) => `http://127.0.0.1:${PORTS[svc]}`;

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** The test stack's signing key (the first <kid>.key.pem in the keys directory). */
export function signingKey() {
  const file = readdirSync(KEYS).find((f) => f.endsWith('.key.pem'));
  assert.ok(file, `no private key in ${KEYS}`);
  const kid = file.slice(0, -'.key.pem'.length);
  return { kid, key: createPrivateKey(readFileSync(`${KEYS}/${file}`)), pub: readFileSync(`${KEYS}/${kid}.pub.pem`, 'utf8') };
}

/** Standard claims of a valid access token, with 'over' merged in (undefined deletes). */
export function claims(over = {}) {
  const now = Math.floor(Date.now() / 1000);
  const c = {
    iss: 'crm-auth', aud: 'crm', sub: '1001', name: '测试经理', dept_id: 10,
    roles: ['customer_manager'], scope: 'SELF', perms: ['system:service:read'],
    jti: `t-${Math.random().toString(16).slice(2)}`,
    iat: now, nbf: now, exp: now + 900, ...over,
  };
  for (const [k, v] of Object.entries(c)) if (v === undefined) delete c[k];
  return c;
}

/** Sign 'payload' as ES256 (or craft other algorithms for attacks). */
export function token(payload = claims(), { kid, key, header } = {}) {
  const k = signingKey();
  const h = header ?? { alg: 'ES256', typ: 'JWT', kid: kid ?? k.kid };
  const input = `${b64url(JSON.stringify(h))}.${b64url(JSON.stringify(payload))}`;
  if (h.alg === 'none') return `${input}.`;
  if (h.alg === 'HS256') return `${input}.${b64url(createHmac('sha256', key).update(input).digest())}`;
  const sig = es256Sign(input, key ?? k.key);
  return `${input}.${b64url(sig)}`;
}

export const auth = (t = token()) => ({ authorization: `Bearer ${t}` });

/** The headers the gateway adds when it forwards a request (shared/proof.c): the request id,
 * the client address and X-Crm-Proof, the HMAC over them with the stack's proxy secret. For a
 * drill that writes straight to a service as the gateway would, with request ids of its own. */
export function asGateway({ method, target, requestId, clientIp = '127.0.0.1', proto = 'http', clientRequestId, authorization, t }) {
  const key = readFileSync(`${STATE}/secrets/gateway_proof`, 'utf8').replace(/\s+$/, '');
  const ts = t ?? Math.floor(Date.now() / 1000);
  const field = (s) => {
    const b = Buffer.from(s ?? '', 'utf8');
    return Buffer.concat([Buffer.from(`${b.length}:`), b, Buffer.from('\n')]);
  };
  const mac = createHmac('sha256', key);
  const authHex = createHash('sha256').update(authorization ?? '').digest('hex');
  for (const f of ['crm-proof-v1', String(ts), method, target, requestId, clientIp, proto, clientRequestId, authHex]) mac.update(field(f));
  return {
    'x-request-id': requestId, 'x-forwarded-for': clientIp, 'x-forwarded-proto': proto,
    ...(clientRequestId ? { 'x-client-request-id': clientRequestId } : {}),
    'x-crm-proof': `v1 t=${ts} sig=${mac.digest('hex')}`,
  };
}

/** Assert a success 'status' (200 unless given); returns the parsed JSON body (null when empty). */
export async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Assert an RFC 9457 problem with 'status' (and 'code' when given); returns the body. */
export async function expectProblem(res, status, code) {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = JSON.parse(text);
  assert.equal(body.status, status);
  assert.equal(typeof body.title, 'string');
  if (code) assert.equal(body.code, code);
  assert.ok(res.headers.get('x-request-id'), 'X-Request-Id on every response');
  assert.equal(body.request_id, res.headers.get('x-request-id'));
  return body;
}

/** The supervisor command of the test stack. */
export function supervisorctl(...args) {
  const cmd = (process.env.CRM_TEST_SUPERVISORCTL ?? `supervisorctl -c ${STATE}/supervisord.conf`).split(' ');
  try {
    return execFileSync(cmd[0], [...cmd.slice(1), ...args], { encoding: 'utf8', timeout: 30000 });
  } catch (e) {
    return e.stdout ?? ''; // supervisorctl exits non-zero for stopped programs
  }
}

export function pidOf(program) {
  const pid = Number(supervisorctl('pid', program).trim());
  assert.ok(pid > 0, `${program} is not running`);
  return pid;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait until fn() resolves truthy, or fail after 'ms'. */
export async function eventually(fn, ms = 20000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await fn()) return;
    } catch { /* not yet */ }
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function healthy(url) {
  const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
  return r.status === 200;
}

/** Send raw bytes on a TCP connection and collect the answer until the server closes (or ms). */
export function raw(port, chunks, { ms = 5000, gapMs = 0 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    const started = Date.now();
    const timer = setTimeout(() => { sock.destroy(); resolve({ data, closed: false, ms: Date.now() - started }); }, ms);
    sock.on('data', (d) => { data += d.toString('latin1'); });
    sock.on('close', () => { clearTimeout(timer); resolve({ data, closed: true, ms: Date.now() - started }); });
    sock.on('error', () => {});
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (sock.destroyed) break;
        sock.write(c);
        if (gapMs) await sleep(gapMs);
      }
    });
  });
}

export function mysql(sql) {
  const socket = process.env.CRM_TEST_MYSQL_SOCKET ?? `${STATE}/mysql/mysqld.sock`;
  return execFileSync('mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-B', '-e', sql], { encoding: 'utf8' }).trim();
}

/** The demo accounts the test stack was loaded with: { username: { password, role } }. */
export function accounts() {
  const out = {};
  for (const line of readFileSync(`${STATE}/credentials`, 'utf8').split('\n')) {
    const [user, password, role] = line.trim().split(/\s+/);
    if (user && password) out[user] = { password, role };
  }
  return out;
}

/** POST /api/v1/auth/login; returns { res, body }. */
export async function login(username, password, headers = {}) {
  const res = await fetch(`${GATEWAY}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ username, password }),
  });
  const body = await res.json();
  return { res, body };
}

/** Access tokens of the demo accounts: one login per account and test file. Auth allows 10
 * logins a minute per account (and 120 per address on the test stack), and the test files run
 * side by side; tokens live 15 minutes, longer than a file runs. A test that ends a session
 * (logout, disable, password or role change) logs in with login() for one of its own. */
const tokens = new Map();
/** A demo token -> its account; a revoked one -> the token that replaced it (renewDemo). */
const demoTokens = new Map();
const replaced = new Map();

/** A demo account's token that a file running alongside revoked (all of a user's tokens go when
 * one of its refresh tokens is reused, and the security tests do that on purpose): log in
 * again, once per revoked token, and use the new one from then on. */
async function renewDemo(tok) {
  if (!replaced.has(tok)) {
    const username = demoTokens.get(tok);
    const p = (async () => {
      const { res, body } = await login(username, accounts()[username].password);
      assert.equal(res.status, 200, JSON.stringify(body));
      demoTokens.set(body.access_token, username);
      tokens.set(username, Promise.resolve(body.access_token));
      return body.access_token;
    })();
    replaced.set(tok, p);
    p.catch(() => replaced.delete(tok));
  }
  return replaced.get(tok);
}

/** Log in as a demo account once and return its access token; a 429 is waited out (twice at
 * most), anything else but 200 fails the test. */
export function tokenOf(username) {
  if (!tokens.has(username)) {
    const once = (async () => {
      const acc = accounts()[username];
      assert.ok(acc, `no demo account ${username}`);
      for (let i = 0; ; i++) {
        const { res, body } = await login(username, acc.password);
        if (res.status === 429 && i < 2) {
          await sleep(Math.min(61, Number(res.headers.get('retry-after') ?? 5)) * 1000);
          continue;
        }
        assert.equal(res.status, 200, JSON.stringify(body));
        demoTokens.set(body.access_token, username);
        return body.access_token;
      }
    })();
    tokens.set(username, once);
    once.catch(() => tokens.delete(username)); // a failed login is tried again by the next test
  }
  return tokens.get(username);
}

/** fetch through the gateway with a bearer token and a JSON body. A demo account's token
 * (tokenOf) revoked by another file meanwhile is renewed and the request sent again; tokens of
 * login() are never, so a test of revocation sees its 401. */
export async function api(method, path, tok, body, headers = {}) {
  while (replaced.has(tok)) tok = await replaced.get(tok);
  const res = await apiOnce(method, path, tok, body, headers);
  if (res.status !== 401 || !demoTokens.has(tok)) return res;
  const problem = await res.clone().json().catch(() => ({}));
  if (problem.detail !== 'token revoked') return res;
  return apiOnce(method, path, await renewDemo(tok), body, headers);
}

function apiOnce(method, path, tok, body, headers = {}) {
  return fetch(`${GATEWAY}${path}`, {
    method,
    headers: { ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
}

/** The secret of Redis user 'user' on the test stack (secrets/redis_<name>, deploy/crm makes it). */
export const redisSecret = (user) => readFileSync(`${STATE}/secrets/redis_${user.replace(/^crm_(?!admin$)/, '')}`, 'utf8').trim();

/** redis-cli on the test stack as 'user' (default crm_admin, which may do anything; every
 * process has its own user with only what it needs, and the default user is off). The password
 * goes through the environment. */
export function redisAs(user, ...args) {
  const port = process.env.CRM_TEST_REDIS_PORT ?? '7380';
  const env = { ...process.env };
  if (user) env.REDISCLI_AUTH = redisSecret(user);
  const who = user ? ['--user', user] : [];
  return execFileSync('redis-cli', ['-p', port, ...who, '--no-auth-warning', ...args], { encoding: 'utf8', env }).trim();
}

export const redis = (...args) => redisAs('crm_admin', ...args);

/** Many commands, one a line, through one redis-cli as crm_admin (its replies are dropped). */
export function redisPipe(commands) {
  const port = process.env.CRM_TEST_REDIS_PORT ?? '7380';
  const env = { ...process.env, REDISCLI_AUTH: redisSecret('crm_admin') };
  execFileSync('redis-cli', ['-p', port, '--user', 'crm_admin', '--no-auth-warning'], { input: commands, env, stdio: ['pipe', 'ignore', 'inherit'], maxBuffer: 1 << 26 });
}
