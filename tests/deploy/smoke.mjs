#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// tests/deploy/smoke.mjs PHASE — what tests/deploy/compose.sh checks against the containers,
// through the gateway only (node built-ins, no dependencies). Environment: DRILL_GATEWAY (the
// gateway's URL), DRILL_STATE (the drill's state directory: secrets/admin_password and the
// demo loader's credentials), DRILL_CUSTOMER_FILE (where the customer made by `first` is kept
// for the later phases). Prints one "ok   <check>" or "FAIL <check>: why" line per check and
// exits 1 when one failed.
//   first      the console loads; admin logs in; a customer manager (a demo account) creates a
//              customer; the audit log shows its creation
//   alive      the customer manager reads that customer (after a container was killed)
//   kept       the same after `down` and `up` (the named volumes kept the data), and admin still
//              logs in with the first password
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const GATEWAY = process.env.DRILL_GATEWAY;
const STATE = process.env.DRILL_STATE;
const KEEP = process.env.DRILL_CUSTOMER_FILE;
const phase = process.argv[2];
if (!GATEWAY || !STATE || !KEEP || !['first', 'alive', 'kept'].includes(phase)) {
  console.error('usage: DRILL_GATEWAY=URL DRILL_STATE=DIR DRILL_CUSTOMER_FILE=FILE smoke.mjs first|alive|kept');
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failed = 0;

async function check(what, fn) {
  try {
    await fn();
    console.log(`ok   ${what}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${what}: ${e.message}`);
  }
}
function must(cond, why) {
  if (!cond) throw new Error(why);
}
async function call(method, path, token, body) {
  const res = await fetch(`${GATEWAY}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}
// Until fn() stops throwing, for at most ms (the services apply events a moment later).
async function eventually(ms, fn) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await sleep(500);
    }
  }
}
async function login(username, password) {
  const r = await call('POST', '/api/v1/auth/login', undefined, { username, password });
  must(r.status === 200 && r.json?.access_token, `login of ${username} answered ${r.status}: ${r.text.slice(0, 200)}`);
  return r.json.access_token;
}
const adminPassword = () => readFileSync(join(STATE, 'secrets/admin_password'), 'utf8').trim();
function demoAccount(role) {
  const line = readFileSync(join(STATE, 'credentials'), 'utf8').split('\n').find((l) => l.split(/\s+/)[2] === role);
  must(line, `no ${role} in ${STATE}/credentials (the demo loader writes it)`);
  const [username, password] = line.split(/\s+/);
  return { username, password };
}
async function readCustomer() {
  const { id, name } = JSON.parse(readFileSync(KEEP, 'utf8'));
  const m = demoAccount('customer_manager');
  const tok = await eventually(30000, () => login(m.username, m.password));
  const r = await eventually(30000, async () => {
    const r = await call('GET', `/api/v1/customers/${id}`, tok);
    must(r.status === 200, `GET /api/v1/customers/${id} answered ${r.status}: ${r.text.slice(0, 200)}`);
    return r;
  });
  must(r.json.name === name, `customer ${id} is named ${r.json.name}, not ${name}`);
}

if (phase === 'first') {
  await check('the console loads (index page and its script)', async () => {
    const r = await call('GET', '/');
    must(r.status === 200 && /<div id="app"/.test(r.text), `GET / answered ${r.status} without the app's element`);
    const js = /src="(\/assets\/[^"]+\.js)"/.exec(r.text)?.[1];
    must(js, 'the index page names no script');
    const s = await call('GET', js);
    must(s.status === 200 && s.text.length > 1000, `GET ${js} answered ${s.status}`);
  });
  let admin;
  await check('the administrator logs in', async () => {
    admin = await login('admin', adminPassword());
  });
  let customer;
  await check('a customer manager creates a customer', async () => {
    const m = demoAccount('customer_manager');
    const tok = await login(m.username, m.password);
    const name = `容器演练${Date.now().toString(36)}有限公司`;
    const r = await call('POST', '/api/v1/customers', tok, { name });
    must(r.status === 201, `POST /api/v1/customers answered ${r.status}: ${r.text.slice(0, 300)}`);
    customer = { id: r.json.id, name };
    writeFileSync(KEEP, JSON.stringify(customer));
  });
  await check('the audit log shows the creation', async () => {
    must(admin && customer, 'nothing to look for (an earlier check failed)');
    await eventually(30000, async () => {
      const r = await call('GET', `/api/v1/audit/history/customer/${customer.id}`, admin);
      must(r.status === 200, `GET /api/v1/audit/history/customer/${customer.id} answered ${r.status}`);
      const e = (r.json.items ?? []).find((i) => i.event_type === 'customer.created');
      must(e, `no customer.created entry among ${r.json.items?.length ?? 0}`);
    });
  });
} else if (phase === 'alive') {
  await check('the API works again: the manager reads the customer', readCustomer);
} else {
  await check('the administrator logs in with the first password', async () => {
    await eventually(30000, () => login('admin', adminPassword()));
  });
  await check('the customer made before down/up is there', readCustomer);
}
process.exit(failed ? 1 : 0);
