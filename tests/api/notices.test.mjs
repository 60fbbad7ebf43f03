// SPDX-License-Identifier: Apache-2.0
// Notices (issue 14, the bell): a transfer to a manager makes a notice that reaches the
// manager's open stream (server-sent events through the gateway) within a second; the unread
// count, read and read-all; nobody else sees it (list, count, stream, read by id: 404); a bulk
// hand-over gives one grouped notice per receiver; the stream closes when the user logs out
// (revocation) and when its token expires; the one-use ticket for EventSource; reconnecting
// many times leaks no stream (the gateway's and the care service's gauges return to 0).
// The demo accounts of deploy/demo/load (东: director_east, manager_east1/2), and users of this
// run's own for "another user" and the logout (files alongside revoke demo users' tokens: a
// reused refresh token in auth.test.mjs ends all of manager_south1's).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GATEWAY, GATEWAY_ADMIN, api, claims, eventually, expectProblem, login, mysql, serviceUrl, sleep, token, tokenOf,
} from './lib.mjs';

const sfx = Math.random().toString(36).slice(2, 8);
const T = {};
const ME = {};
let seq = 0;

async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A customer of 'who', once the transfer service knows it. */
async function customer(who, fields = {}) {
  const c = await ok(await api('POST', '/api/v1/customers', T[who], { name: `通知测试${sfx}${++seq}有限公司`, ...fields }), 201);
  await eventually(() => mysql(`SELECT manager_id FROM crm_transfer.customer_owners WHERE customer_id = ${c.id}`) === String(c.manager_id), 20000, `customer ${c.id} known to the transfer service`);
  return c;
}

/**
 * Open the notice stream of 'tok' through the gateway (fetch and a stream reader, as a program
 * would; the console uses EventSource with a ticket). Returns { res, events, comments, closed,
 * next(pred, ms), close() }: 'events' collects the parsed SSE events as they arrive.
 */
async function openStream(tok, { query = '', headers = {} } = {}) {
  const ctl = new AbortController();
  const res = await fetch(`${GATEWAY}/api/v1/notices/stream${query}`, {
    headers: { ...(tok ? { authorization: `Bearer ${tok}` } : {}), accept: 'text/event-stream', ...headers },
    signal: ctl.signal,
  });
  const s = { res, events: [], comments: 0, closed: false, waiters: [] };
  if (res.status !== 200) {
    s.body = await res.text();
    s.closed = true;
    return s;
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const wake = () => { for (const w of s.waiters.splice(0)) w(); };
  (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = { event: 'message', data: '' };
          let isComment = true;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            isComment = false;
            const [k, ...rest] = line.split(':');
            const v = rest.join(':').replace(/^ /, '');
            if (k === 'data') ev.data += v;
            else ev[k] = v;
          }
          if (isComment) s.comments++;
          else if (ev.event === 'notice') s.events.push({ ...ev, notice: JSON.parse(ev.data) });
        }
        wake();
      }
    } catch {
      // aborted by close()
    }
    s.closed = true;
    wake();
  })();
  s.next = async (pred, ms = 5000) => {
    const until = Date.now() + ms;
    for (;;) {
      const hit = s.events.find((e) => pred(e.notice));
      if (hit) return hit;
      if (s.closed || Date.now() > until) return null;
      await Promise.race([new Promise((r) => s.waiters.push(r)), sleep(Math.max(1, until - Date.now()))]);
    }
  };
  s.waitClosed = async (ms) => {
    const until = Date.now() + ms;
    while (!s.closed && Date.now() < until) await Promise.race([new Promise((r) => s.waiters.push(r)), sleep(100)]);
    return s.closed;
  };
  s.close = () => { ctl.abort(); };
  return s;
}

async function gauge(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : NaN;
}

/** A customer manager of director_east's department of this run's own ('tag' in the name),
 * once the customer service knows it: for a test that must not touch the demo accounts'
 * sessions (a logout revokes all of a user's tokens, in every test file). */
async function freshManager(tag) {
  const roles = (await ok(await api('GET', '/api/v1/roles?page_size=100', T.admin))).items;
  const cm = roles.find((r) => r.code === 'customer_manager').id;
  const me = await ok(await api('GET', '/api/v1/auth/me', T.director_east));
  const password = 'Marble-Violet-83';
  const u = await ok(await api('POST', '/api/v1/users', T.admin, { username: `${tag}_${sfx}`, display_name: `通知${tag}`, password, dept_id: me.dept_id, role_ids: [cm] }), 201);
  await eventually(() => mysql(`SELECT COUNT(*) FROM crm_customer.scope_users WHERE user_id = ${u.id}`) === '1', 20000, `${tag} known to the customer service`);
  return { ...u, password };
}

const transferTo = async (from, to, ids) =>
  ok(await api('POST', '/api/v1/transfers', T[from], { customer_ids: ids, to_manager_id: ME[to], reason: `通知测试 ${sfx}` }), 201);

before(async () => {
  for (const u of ['admin', 'director_east', 'manager_east1', 'manager_east2']) {
    T[u] = await tokenOf(u);
    ME[u] = (await ok(await api('GET', '/api/v1/auth/me', T[u]))).id;
  }
  const o = await freshManager('no');
  const { res, body } = await login(o.username, o.password);
  assert.equal(res.status, 200, JSON.stringify(body));
  T.other = body.access_token;
  ME.other = o.id;
});

test('a transfer to a manager reaches their open stream within a second, and nobody else\'s', async (ctx) => {
  const c = await customer('manager_east1');
  const mine = await openStream(T.manager_east2);
  const theirs = await openStream(T.other);
  assert.equal(mine.res.status, 200);
  assert.match(mine.res.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(mine.res.headers.get('cache-control'), 'no-cache');
  assert.equal(mine.res.headers.get('content-encoding'), null, 'never compressed');
  assert.equal(mine.res.headers.get('content-length'), null);
  assert.equal(mine.res.headers.get('x-accel-buffering'), 'no', 'once: no proxy in front holds the pieces back');
  await sleep(300);
  const t = await transferTo('manager_east1', 'manager_east2', [c.id]);
  // the customer service and the care service apply transfer.completed from the stream; the
  // notice is written by the care consumer and pushed: measured from when the transfer answered
  const t0 = Date.now();
  const ev = await mine.next((n) => n.kind === 'customer_moved' && n.data.transfer_id === t.id, 5000);
  const took = Date.now() - t0;
  assert.ok(ev, `no notice on the stream; got ${JSON.stringify(mine.events)}`);
  assert.ok(took < 1000, `the notice took ${took} ms`);
  ctx.diagnostic(`transfer answered -> notice on the stream: ${took} ms`);
  const n = ev.notice;
  assert.equal(ev.id, String(n.seq), 'the event id is the notice\'s seq (Last-Event-ID resumes after it)');
  assert.equal(n.data.customer_id, c.id);
  assert.equal(n.data.customer_name, c.name, 'a name, not only an id');
  assert.equal(n.data.count, 1);
  assert.equal(n.data.actor_id, ME.manager_east1);
  assert.equal(n.link, `/customers/${c.id}`);
  assert.equal(n.read, false);
  assert.match(n.title, /moved to you/);
  await sleep(500);
  assert.ok(!theirs.events.some((e) => e.notice.id === n.id), 'another manager\'s stream never gets it');
  assert.ok(!mine.events.some((e) => e.notice.user_id !== ME.manager_east2), 'only the caller\'s own');
  // the giver, who moved it, has no notice of it
  const giverList = await ok(await api('GET', '/api/v1/notices?page_size=100', T.manager_east1));
  assert.ok(!giverList.items.some((x) => x.data.transfer_id === t.id));
  mine.close();
  theirs.close();
});

test('list (newest first, unread filter), unread count, read, read-all; another user gets 404', async () => {
  const a = await customer('manager_east1');
  const b = await customer('manager_east1');
  const t1 = await transferTo('manager_east1', 'manager_east2', [a.id]);
  const t2 = await transferTo('manager_east1', 'manager_east2', [b.id]);
  let list;
  await eventually(async () => {
    list = await ok(await api('GET', '/api/v1/notices?unread=true&page_size=100', T.manager_east2));
    return [t1.id, t2.id].every((id) => list.items.some((x) => x.data.transfer_id === id));
  }, 20000, 'both notices listed');
  const n1 = list.items.find((x) => x.data.transfer_id === t1.id);
  const n2 = list.items.find((x) => x.data.transfer_id === t2.id);
  assert.ok(list.items.indexOf(n2) < list.items.indexOf(n1), 'newest first');
  assert.ok(list.items.every((x) => x.read === false));
  for (const k of ['id', 'kind', 'title', 'body', 'link', 'data', 'read', 'read_at', 'created_at', 'seq']) assert.ok(k in n1, `${k} in ${JSON.stringify(n1)}`);
  const before = (await ok(await api('GET', '/api/v1/notices/unread-count', T.manager_east2))).unread;
  assert.equal(before, Number(mysql(`SELECT COUNT(*) FROM crm_care.notices WHERE user_id = ${ME.manager_east2} AND read_at IS NULL`)));
  assert.ok(before >= 2);

  // another user: not in their list or count, and reading it by id is 404 like a notice that does not exist
  const other = await ok(await api('GET', '/api/v1/notices?page_size=100', T.other));
  assert.ok(!other.items.some((x) => x.id === n1.id));
  const otherCount = (await ok(await api('GET', '/api/v1/notices/unread-count', T.other))).unread;
  assert.equal(otherCount, Number(mysql(`SELECT COUNT(*) FROM crm_care.notices WHERE user_id = ${ME.other} AND read_at IS NULL`)));
  await expectProblem(await api('POST', `/api/v1/notices/${n1.id}/read`, T.other), 404, 'not_found');
  await expectProblem(await api('POST', '/api/v1/notices/999999999999/read', T.manager_east2), 404, 'not_found');
  assert.equal(mysql(`SELECT read_at IS NULL FROM crm_care.notices WHERE id = ${n1.id}`), '1', 'still unread');

  // read one: it leaves the unread list, the count drops by one; reading again keeps read_at
  const r = await ok(await api('POST', `/api/v1/notices/${n1.id}/read`, T.manager_east2));
  assert.equal(r.id, n1.id);
  assert.equal(r.read, true);
  assert.ok(r.read_at);
  const again = await ok(await api('POST', `/api/v1/notices/${n1.id}/read`, T.manager_east2));
  assert.equal(again.read_at, r.read_at);
  assert.equal((await ok(await api('GET', '/api/v1/notices/unread-count', T.manager_east2))).unread, before - 1);
  const unread = await ok(await api('GET', '/api/v1/notices?unread=true&page_size=100', T.manager_east2));
  assert.ok(!unread.items.some((x) => x.id === n1.id));
  const all = await ok(await api('GET', '/api/v1/notices?page_size=100', T.manager_east2));
  assert.ok(all.items.some((x) => x.id === n1.id && x.read === true));

  // read-all: every one of the caller's, nobody else's
  const otherBefore = mysql(`SELECT COUNT(*) FROM crm_care.notices WHERE user_id = ${ME.other} AND read_at IS NULL`);
  const ra = await ok(await api('POST', '/api/v1/notices/read-all', T.manager_east2));
  assert.equal(ra.unread, 0);
  assert.ok(ra.updated >= 1);
  assert.equal((await ok(await api('GET', '/api/v1/notices/unread-count', T.manager_east2))).unread, 0);
  assert.equal(mysql(`SELECT COUNT(*) FROM crm_care.notices WHERE user_id = ${ME.other} AND read_at IS NULL`), otherBefore);
  const bad = await api('GET', '/api/v1/notices?unread=maybe', T.manager_east2);
  assert.equal(bad.status, 422);
  assert.equal((await bad.json()).errors[0].field, 'unread');
  await expectProblem(await api('GET', '/api/v1/notices/unread-count'), 401, 'unauthorized');
});

test('a bulk hand-over gives one grouped notice per receiver, and the operator one when it is done', async () => {
  const giver = await freshManager('ng');
  for (let i = 0; i < 10; i++) await ok(await api('POST', '/api/v1/customers', T.director_east, { name: `通知交接${sfx}${i}有限公司`, manager_id: giver.id }), 201);
  await eventually(() => mysql(`SELECT COUNT(*) FROM crm_transfer.customer_owners WHERE manager_id = ${giver.id}`) === '10', 20000, 'the giver\'s customers known');
  const s1 = await openStream(T.manager_east1);
  const job = await ok(await api('POST', '/api/v1/transfers/handover', T.director_east, {
    from_manager_id: giver.id, to_manager_ids: [ME.manager_east1, ME.manager_east2], reason: '通知交接人离职',
  }), 202);
  const grouped = (uid) => mysql(`SELECT COUNT(*), COALESCE(MAX(JSON_VALUE(data, '$.count')), 0) FROM crm_care.notices WHERE user_id = ${uid} AND kind = 'customer_moved' AND JSON_VALUE(data, '$.transfer_id') = ${job.id}`);
  await eventually(() => grouped(ME.manager_east1) === '1\t5' && grouped(ME.manager_east2) === '1\t5', 30000, 'five customers each, one notice each');
  const l1 = await ok(await api('GET', '/api/v1/notices?page_size=100', T.manager_east1));
  const mine = l1.items.filter((x) => x.kind === 'customer_moved' && x.data.transfer_id === job.id);
  assert.equal(mine.length, 1, 'one notice, not five');
  assert.equal(mine[0].data.count, 5);
  assert.equal(mine[0].link, `/transfers/${job.id}`, 'several customers: the hand-over');
  assert.match(mine[0].title, /^5 customers were moved to you/);
  // the stream saw the notice grow (the same id, a larger seq each time), ending at 5
  const last = await s1.next((n) => n.id === mine[0].id && n.data.count === 5, 5000);
  assert.ok(last, JSON.stringify(s1.events.map((e) => e.notice.data)));
  const seqs = s1.events.filter((e) => e.notice.id === mine[0].id).map((e) => Number(e.id));
  assert.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'in order');
  s1.close();
  // the operator hears that it finished
  await eventually(async () => (await ok(await api('GET', '/api/v1/notices?page_size=100', T.director_east))).items
    .some((x) => x.kind === 'handover_finished' && x.data.transfer_id === job.id && x.data.done === 10 && x.data.total === 10), 30000, 'handover_finished for the operator');
  // redelivering the events changes nothing: processed_events dedupes, the count stays
  assert.equal(grouped(ME.manager_east1), '1\t5');
});

test('Last-Event-ID resumes after a seq: what was made since comes first', async () => {
  const c = await customer('manager_east1');
  const s = await openStream(T.manager_east2);
  await sleep(200);
  const c0 = await customer('manager_east1');
  const t0 = await transferTo('manager_east1', 'manager_east2', [c0.id]);
  const first = await s.next((n) => n.data.transfer_id === t0.id, 10000);
  assert.ok(first);
  s.close();
  const t = await transferTo('manager_east1', 'manager_east2', [c.id]);
  await eventually(() => mysql(`SELECT COUNT(*) FROM crm_care.notices WHERE user_id = ${ME.manager_east2} AND JSON_VALUE(data, '$.transfer_id') = ${t.id}`) === '1', 20000, 'the notice written');
  const resumed = await openStream(T.manager_east2, { headers: { 'last-event-id': first.id } });
  const missed = await resumed.next((n) => n.data.transfer_id === t.id, 3000);
  assert.ok(missed, 'the notice made while disconnected comes on resuming');
  assert.ok(!resumed.events.some((e) => e.notice.data.transfer_id === t0.id), 'not what was had already');
  resumed.close();
  const viaQuery = await openStream(T.manager_east2, { query: `?last_event_id=${first.id}` });
  assert.ok(await viaQuery.next((n) => n.data.transfer_id === t.id, 3000), '?last_event_id= does the same');
  viaQuery.close();
  const bad = await openStream(T.manager_east2, { query: '?last_event_id=x' });
  assert.equal(bad.res.status, 422);
});

test('an idle stream outlives the idle timeouts; it closes when its user logs out (revocation), and when its token expires', async () => {
  const u = await freshManager('nl');
  const { res: lr, body: s } = await login(u.username, u.password);
  assert.equal(lr.status, 200, JSON.stringify(s));
  const st = await openStream(s.access_token);
  assert.equal(st.res.status, 200);
  // longer than the test stack's header and keep-alive timeouts (3 s) and the gateway's
  // upstream timeout: a stream is not a request waiting for its answer
  await sleep(4000);
  assert.equal(st.closed, false, 'still open after 4 s idle');
  assert.equal((await api('POST', '/api/v1/auth/logout', s.access_token, { refresh_token: s.refresh_token })).status, 204);
  assert.ok(await st.waitClosed(4000), 'the gateway closed the stream of a revoked token');
  const again = await openStream(s.access_token);
  assert.equal(again.res.status, 401, 'and a revoked token opens none');

  // a token that expires in 3 s, minted like auth's (the stack's signing key)
  const now = Math.floor(Date.now() / 1000);
  // nobody's account: a real user's token minted in the second of a revocation would be refused
  const short = token(claims({ sub: '424244', name: '短令牌', roles: ['customer_manager'], scope: 'SELF', perms: [], exp: now + 3 }));
  const st2 = await openStream(short);
  assert.equal(st2.res.status, 200, st2.body);
  const opened = Date.now();
  assert.ok(await st2.waitClosed(6000), 'closed when the token expired');
  const lived = Date.now() - opened;
  assert.ok(lived > 1000 && lived < 5500, `lived ${lived} ms`);
});

test('EventSource\'s way in: a one-use ticket for the URL, from the same address, never the token', async () => {
  await expectProblem(await api('POST', '/api/v1/notices/ticket'), 401, 'unauthorized');
  const tk = await ok(await api('POST', '/api/v1/notices/ticket', T.manager_east2), 201);
  assert.match(tk.ticket, /^[0-9a-f]{64}$/);
  assert.equal(tk.expires_in, 30);
  assert.equal(tk.url, `/api/v1/notices/stream?ticket=${tk.ticket}`);
  assert.ok(!tk.url.includes(T.manager_east2.slice(0, 20)));
  const s = await openStream(null, { query: `?ticket=${tk.ticket}` });
  assert.equal(s.res.status, 200, s.body);
  const c = await customer('manager_east1');
  const t = await transferTo('manager_east1', 'manager_east2', [c.id]);
  assert.ok(await s.next((n) => n.data.transfer_id === t.id, 5000), 'the ticket\'s stream is the token\'s user\'s');
  s.close();
  const reused = await openStream(null, { query: `?ticket=${tk.ticket}` });
  assert.equal(reused.res.status, 401, 'one use');
  const forged = await openStream(null, { query: `?ticket=${'0'.repeat(64)}` });
  assert.equal(forged.res.status, 401);
  const none = await openStream(null);
  assert.equal(none.res.status, 401);
  // a ticket is for the stream only: elsewhere it is no token
  const tk2 = await ok(await api('POST', '/api/v1/notices/ticket', T.manager_east2), 201);
  await expectProblem(await fetch(`${GATEWAY}/api/v1/notices/unread-count?ticket=${tk2.ticket}`), 401, 'unauthorized');
});

test('many reconnects leak nothing: the open-stream gauges return to 0', async () => {
  const care = serviceUrl('care');
  await eventually(async () => (await gauge(GATEWAY_ADMIN, 'crm_http_streams{')) === 0, 10000, 'no stream open to start with');
  for (let round = 0; round < 3; round++) {
    const open = [];
    for (let i = 0; i < 20; i++) open.push(await openStream(T.manager_east1));
    assert.ok(open.every((s) => s.res.status === 200));
    assert.equal(await gauge(GATEWAY_ADMIN, 'crm_http_streams{'), 20);
    assert.equal(await gauge(GATEWAY_ADMIN, 'crm_gateway_streams{'), 20);
    await eventually(async () => (await gauge(care, 'crm_http_streams{')) === 20, 5000, 'the care service holds 20');
    // a stream's connection to the service is not one of the pool's busy ones: 20 streams
    // must not use up what the care API's requests share
    assert.equal(await gauge(GATEWAY_ADMIN, 'crm_upstream_connections{upstream="care",state="stream"}'), 20);
    assert.equal(await gauge(GATEWAY_ADMIN, 'crm_upstream_connections{upstream="care",state="busy"}'), 0);
    for (const s of open) s.close();
    await eventually(async () => (await gauge(GATEWAY_ADMIN, 'crm_http_streams{')) === 0 &&
      (await gauge(GATEWAY_ADMIN, 'crm_gateway_streams{')) === 0, 5000, 'the gateway let go of them');
    await eventually(async () => (await gauge(care, 'crm_http_streams{')) === 0, 5000, 'the care service let go of them');
  }
  // the upstream pool did not keep them either
  const text = await (await fetch(`${GATEWAY_ADMIN}/metrics`)).text();
  assert.match(text, /crm_upstream_connections\{upstream="care",state="busy"\} 0/);
  assert.match(text, /crm_upstream_connections\{upstream="care",state="stream"\} 0/);
});
