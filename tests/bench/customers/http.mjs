// SPDX-License-Identifier: Apache-2.0
// http.mjs — what users.mjs and bench.mjs share: calls to the bench stack's gateway, a login,
// a statement on its MariaDB (root over the socket), percentiles.
import { execFileSync } from 'node:child_process';

export const BASE = process.env.CRM_BENCH_GATEWAY;
const SOCK = process.env.CRM_BENCH_SOCK;
if (!BASE || !SOCK) throw new Error('CRM_BENCH_GATEWAY and CRM_BENCH_SOCK must be set (run.sh sets them)');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One call with 'token'; the parsed body of a status in 'ok', else an Error with the problem. */
export async function api(token, method, path, body, ok = [200]) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(BASE + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30000),
  });
  const text = await res.text();
  if (!ok.includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

/** An access token of 'username'. */
export async function login(username, password) {
  const body = await api(null, 'POST', '/api/v1/auth/login', { username, password });
  return body.access_token;
}

/** The text output of one statement (tab-separated, no column names). */
export function sql(statement, db = 'crm_customer') {
  return execFileSync('mariadb', ['--no-defaults', `--socket=${SOCK}`, '-uroot', '-N', '-B', db, '-e', statement], {
    encoding: 'utf8', maxBuffer: 1 << 28,
  }).trim();
}

/** The 'p'-th percentile (0..100) of sorted 'xs' (nearest rank). */
export function pct(xs, p) {
  if (xs.length === 0) return NaN;
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))];
}
