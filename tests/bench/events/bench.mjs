#!/usr/bin/env node
// bench.mjs — the event backbone under a steady load: commit-to-audit latency and consumer lag.
// Started by run.sh (which checks the prerequisites and passes the settings in the environment);
// node built-ins only. See README.md beside this file for the method and the figures.
//
// A phase produces `dict.item_updated` events of the auth service at a steady rate for DURATION
// seconds, in one of two ways:
//   outbox  rows INSERTed straight into crm_auth.outbox (root over the socket, one long-running
//           `mariadb` client fed through stdin, TX_ROWS rows per autocommit transaction); the
//           auth service's real relay publishes them. Nothing wakes the relay (only commits made
//           inside the service do), so it finds them on its 1 s idle poll.
//   http    PATCH /api/v1/dicts/bench_events/items/{id} straight to the auth service (7101), the
//           cheapest event-producing write: one transaction, one outbox row, and the commit wakes
//           the relay, as every real write does.
// Each event carries request_id "bench-<run>-<o|h><seq>". Latency per event = audit_log.recorded_at
// (DATETIME(3), the audit INSERT's statement time) - occurred_at of the envelope (stamped just
// before the producing commit). Both come from clocks of this machine. Every 500 ms a sampler
// reads the audit service's /metrics (crm_consumer_lag / crm_consumer_pending of crm:stream:auth),
// the same numbers straight from Redis (XINFO GROUPS, XLEN) and the outbox's unpublished rows.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

// ------------------------------------------------------------------------------------------------
// settings

function env(name, def) {
    const v = process.env[name];
    return v === undefined || v === '' ? def : v;
}
function envNum(name, def, min = 0) {
    const v = Number(env(name, def));
    if (!Number.isFinite(v) || v < min) die(`${name}='${env(name, def)}' is not a number >= ${min}`);
    return v;
}
function die(msg) {
    process.stderr.write(`bench: ERROR: ${msg}\n`);
    process.exit(1);
}

const REPO = env('REPO', '');
const SOCK = env('MYSQL_SOCK', '');
if (!REPO || !SOCK) die('run me through run.sh (REPO and MYSQL_SOCK are not set)');
const MODES = env('MODES', 'outbox,http').split(',').map((s) => s.trim()).filter(Boolean);
for (const m of MODES) if (m !== 'outbox' && m !== 'http') die(`MODES: unknown mode '${m}' (outbox, http)`);
const RATE = envNum('RATE', 1000, 1);
const HTTP_RATE = env('HTTP_RATE', '') === 'max' ? Infinity : envNum('HTTP_RATE', RATE, 1);
const DURATION = envNum('DURATION', 60, 5);
const DRAIN_S = envNum('DRAIN_S', 120, 5);
const TX_ROWS = Math.floor(envNum('TX_ROWS', 1, 1));
const TICK_MS = envNum('TICK_MS', 5, 1);
const CONNS = Math.floor(envNum('CONNS', 16, 1));
const ITEMS = Math.floor(envNum('ITEMS', 64, 1));
const SAMPLE_MS = envNum('SAMPLE_MS', 500, 50);
const SETTLE_S = envNum('SETTLE_S', 60, 0);
const AUTH = env('AUTH_ADDR', '127.0.0.1:7101');
const AUDIT = env('AUDIT_ADDR', '127.0.0.1:7105');
const REDIS_PORT = Number(env('REDIS_PORT', '6380'));
const STREAM = 'crm:stream:auth';
const GROUP = 'audit';
const DICT = 'bench_events';
const AIM_P99_MS = 20;
const PIDS = Object.fromEntries(
    env('PIDS', '').split(',').filter(Boolean).map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
const failures = [];
const say = (s = '') => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now(); // ms, wall clock, sub-ms
const f0 = (x) => (x === null || x === undefined || Number.isNaN(x) ? '-' : Math.round(x).toString());
const f1 = (x) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));

// ------------------------------------------------------------------------------------------------
// MariaDB: one long-running `mariadb` client per use, SQL through stdin, results as tab-separated
// lines; a sentinel SELECT after each request marks where its rows end.

class Sql {
    constructor(name, db = '') {
        this.name = name;
        this.seq = 0;
        this.waiting = []; // {marker, rows, resolve}
        this.buf = '';
        this.errors = [];
        const args = ['--no-defaults', `--socket=${SOCK}`, '-uroot', '-N', '-B', '-n', '--force'];
        if (db) args.push(db);
        this.p = spawn('mariadb', args, { stdio: ['pipe', 'pipe', 'pipe'] });
        this.p.stdout.setEncoding('utf8');
        this.p.stdout.on('data', (d) => this.onData(d));
        this.p.stderr.setEncoding('utf8');
        this.p.stderr.on('data', (d) => {
            const msg = d.trim();
            this.errors.push(msg);
            failures.push(`SQL error (${name}): ${msg.slice(0, 300)}`);
        });
        this.p.stdin.on('error', () => {});
        this.exited = new Promise((r) => this.p.on('exit', (code) => {
            if (!this.closing) failures.push(`the mariadb client (${name}) exited (${code})`);
            for (const w of this.waiting) w.resolve(null);
            this.waiting = [];
            r();
        }));
    }
    onData(d) {
        this.buf += d;
        let i;
        while ((i = this.buf.indexOf('\n')) >= 0) {
            const line = this.buf.slice(0, i);
            this.buf = this.buf.slice(i + 1);
            const w = this.waiting[0];
            if (!w) continue;
            if (line === w.marker) {
                this.waiting.shift();
                w.resolve(w.rows);
            } else {
                w.rows.push(line.split('\t'));
            }
        }
    }
    // Run 'sql' (one or more statements, each ending in ';'); resolves with its result rows
    // (arrays of strings) when all ran, null when the client died.
    query(sql) {
        const marker = `~end~${this.name}~${++this.seq}`;
        return new Promise((resolve) => {
            this.waiting.push({ marker, rows: [], resolve });
            this.p.stdin.write(`${sql}\nSELECT '${marker}';\n`);
        });
    }
    async close() {
        this.closing = true;
        this.p.stdin.end();
        await Promise.race([this.exited, sleep(5000)]);
        if (this.p.exitCode === null) this.p.kill('SIGTERM');
    }
}

async function scalar(sql, q) {
    const rows = await sql.query(q);
    return rows && rows[0] ? rows[0][0] : null;
}

// ------------------------------------------------------------------------------------------------
// Redis: a minimal RESP2 client (commands as arrays of bulk strings, replies parsed in order)

class Redis {
    constructor(port) {
        this.queue = [];
        this.buf = Buffer.alloc(0);
        this.s = net.createConnection({ host: '127.0.0.1', port });
        this.s.setNoDelay(true);
        this.s.on('data', (d) => {
            this.buf = Buffer.concat([this.buf, d]);
            for (;;) {
                const r = Redis.parse(this.buf, 0);
                if (!r) break;
                this.buf = this.buf.subarray(r[1]);
                const w = this.queue.shift();
                if (w) w(r[0]);
            }
        });
        this.s.on('error', (e) => {
            failures.push(`redis: ${e.message}`);
            for (const w of this.queue) w(null);
            this.queue = [];
        });
    }
    static parse(b, o) {
        const eol = b.indexOf('\r\n', o);
        if (eol < 0) return null;
        const t = String.fromCharCode(b[o]);
        const line = b.toString('utf8', o + 1, eol);
        const next = eol + 2;
        if (t === '+') return [line, next];
        if (t === '-') return [new Error(line), next];
        if (t === ':') return [Number(line), next];
        if (t === '$') {
            const n = Number(line);
            if (n < 0) return [null, next];
            if (b.length < next + n + 2) return null;
            return [b.toString('utf8', next, next + n), next + n + 2];
        }
        if (t === '*') {
            const n = Number(line);
            if (n < 0) return [null, next];
            const out = [];
            let p = next;
            for (let i = 0; i < n; i++) {
                const r = Redis.parse(b, p);
                if (!r) return null;
                out.push(r[0]);
                p = r[1];
            }
            return [out, p];
        }
        throw new Error(`redis: unexpected reply type '${t}'`);
    }
    cmd(...args) {
        const parts = [`*${args.length}\r\n`];
        for (const a of args) parts.push(`$${Buffer.byteLength(String(a))}\r\n${a}\r\n`);
        return new Promise((resolve) => {
            this.queue.push(resolve);
            this.s.write(parts.join(''));
        });
    }
    close() {
        this.s.end();
    }
}

// Our group's {lag, pending, entriesRead, lastDelivered} from XINFO GROUPS, or null.
async function groupInfo(redis) {
    const rep = await redis.cmd('XINFO', 'GROUPS', STREAM);
    if (!Array.isArray(rep)) return null;
    for (const g of rep) {
        const o = {};
        for (let i = 0; i + 1 < g.length; i += 2) o[g[i]] = g[i + 1];
        if (o.name === GROUP) return { lag: o.lag, pending: o.pending, entriesRead: o['entries-read'], last: o['last-delivered-id'] };
    }
    return null;
}

// ------------------------------------------------------------------------------------------------
// HTTP

const agent = new http.Agent({ keepAlive: true, maxSockets: CONNS, maxFreeSockets: CONNS });
function request(addr, method, path, { body, token, rid } = {}) {
    const [host, port] = addr.split(':');
    const headers = { Host: addr };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    if (rid) headers['X-Request-Id'] = rid;
    const data = body === undefined ? undefined : JSON.stringify(body);
    if (data !== undefined) headers['Content-Length'] = Buffer.byteLength(data);
    return new Promise((resolve) => {
        const req = http.request({ host, port: Number(port), method, path, headers, agent }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', (e) => resolve({ status: 0, text: e.message }));
        });
        req.setTimeout(10000, () => req.destroy(new Error('timeout after 10 s')));
        req.on('error', (e) => resolve({ status: 0, text: e.message }));
        if (data !== undefined) req.write(data);
        req.end();
    });
}
function json(text) {
    try {
        return JSON.parse(text);
    } catch {
        return null;
    }
}

// Prometheus text -> value of the first sample whose name and labels contain all of 'parts'.
function metric(text, name, ...parts) {
    for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (parts.every((p) => line.includes(p))) return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return null;
}

// ------------------------------------------------------------------------------------------------
// CPU accounting: machine busy time and the known processes' time over a phase, % of one core

const TCK = 100; // USER_HZ on Linux
function cpuSnap() {
    const c = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = c[3] + (c[4] || 0);
    const total = c.slice(0, 8).reduce((a, b) => a + b, 0);
    const procs = {};
    const pids = { ...PIDS, bench: process.pid };
    for (const [name, pid] of Object.entries(pids)) procs[name] = procTicks(pid);
    procs.bench += childTicks();
    return { t: now(), busy: total - idle, procs };
}
// the start time of a process (clock ticks after boot): tells a restarted program from the old one
function procStart(pid) {
    try {
        const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[19]);
    } catch {
        return null;
    }
}
const STARTS = Object.fromEntries(Object.entries(PIDS).map(([k, pid]) => [k, procStart(pid)]));
function restarted() {
    return Object.keys(PIDS).filter((k) => procStart(PIDS[k]) === null || procStart(PIDS[k]) !== STARTS[k]);
}
function procTicks(pid) {
    try {
        const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        return Number(f[11]) + Number(f[12]); // utime stime
    } catch {
        return 0;
    }
}
const children = new Set();
function childTicks() {
    let t = 0;
    for (const pid of children) t += procTicks(pid);
    return t;
}
function cpuDelta(a, b, clip = true) {
    const secs = (b.t - a.t) / 1000;
    const pct = (ticks) => (ticks / TCK / secs) * 100;
    const out = { busy: pct(b.busy - a.busy) };
    let known = 0;
    for (const k of Object.keys(a.procs)) {
        out[k] = pct(b.procs[k] - a.procs[k]);
        known += out[k];
    }
    // per-process ticks are counted at 100 Hz: over short intervals the rest is noisy, and only
    // an unclipped one averages out
    out.other = clip ? Math.max(0, out.busy - known) : out.busy - known;
    return out;
}

// ------------------------------------------------------------------------------------------------
// statistics

function pct(sorted, p) {
    if (sorted.length === 0) return NaN;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[i];
}
function slope(points) { // least squares, y per second
    const n = points.length;
    if (n < 2) return 0;
    let sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const [x, y] of points) {
        sx += x; sy += y; sxx += x * x; sxy += x * y;
    }
    const d = n * sxx - sx * sx;
    return d === 0 ? 0 : (n * sxy - sx * sy) / d;
}

// ------------------------------------------------------------------------------------------------
// setup: an admin token and the bench dictionary with ITEMS items

async function login() {
    const cred = readFileSync(`${REPO}/.run/credentials`, 'utf8').split('\n').map((l) => l.split(/\s+/)).find((f) => f[0] === 'admin');
    if (!cred) die(`no admin line in ${REPO}/.run/credentials`);
    const r = await request(AUTH, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: cred[1] } });
    const token = json(r.text)?.access_token;
    if (r.status !== 200 || !token) die(`admin login on ${AUTH} failed: ${r.status} ${r.text.slice(0, 200)}`);
    return token;
}

async function benchItems(token) {
    let r = await request(AUTH, 'GET', `/api/v1/dicts/${DICT}/items`, { token });
    if (r.status === 404) {
        const c = await request(AUTH, 'POST', '/api/v1/dicts', {
            token, body: { code: DICT, name_zh: '基准测试事件', name_en: 'Benchmark events (tests/bench/events)' },
        });
        if (c.status !== 201 && c.status !== 200) die(`creating dictionary ${DICT}: ${c.status} ${c.text.slice(0, 200)}`);
        r = await request(AUTH, 'GET', `/api/v1/dicts/${DICT}/items`, { token });
    }
    if (r.status !== 200) die(`GET dictionary ${DICT}: ${r.status} ${r.text.slice(0, 200)}`);
    const list = (x) => (Array.isArray(x) ? x : x?.items || []);
    let items = list(json(r.text));
    for (let i = items.length + 1; i <= ITEMS; i++) {
        const v = `bench_${String(i).padStart(3, '0')}`;
        if (items.some((it) => it.value === v)) continue;
        const c = await request(AUTH, 'POST', `/api/v1/dicts/${DICT}/items`, {
            token, body: { value: v, label_zh: '基准 A', label_en: 'bench A', sort_order: i, enabled: false },
        });
        if (c.status !== 201 && c.status !== 200) die(`creating item ${v}: ${c.status} ${c.text.slice(0, 200)}`);
    }
    r = await request(AUTH, 'GET', `/api/v1/dicts/${DICT}/items`, { token });
    items = list(json(r.text)).filter((it) => /^bench_\d+$/.test(it.value)).slice(0, ITEMS);
    if (items.length < ITEMS) die(`dictionary ${DICT} has ${items.length} bench items, ${ITEMS} wanted`);
    return items.map((it) => ({ id: it.id, value: it.value, version: it.version, label: it.label_en }));
}

// ------------------------------------------------------------------------------------------------
// producers. Each returns {done: Promise, stop(), stats()} and counts events it knows committed.

function outboxProducer(rate, items, sql) {
    let issued = 0, committed = 0, stopped = false, maxQueuedRows = 0;
    const t0 = now();
    const pendingQueries = new Set();
    const tsExpr = "CONCAT(LEFT(DATE_FORMAT(UTC_TIMESTAMP(3), '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z')";
    function row(seq) {
        const it = items[seq % items.length];
        const id = randomUUID();
        const before = seq % 2 ? 'bench A' : 'bench B', after = seq % 2 ? 'bench B' : 'bench A';
        const env = {
            id, type: 'dict.item_updated', version: 1, occurred_at: '', producer: 'auth',
            actor: { user_id: '1', ip: '127.0.0.1' }, subject: { type: 'dict_item', id: String(it.id) },
            data: { dict: DICT, value: it.value, changes: [{ field: 'label_en', before, after }] },
            request_id: `bench-${RUN}-o${seq}`,
        };
        // occurred_at is the statement's own UTC time (the DB clock), set in the INSERT itself
        return `('${id}','dict.item_updated',JSON_SET('${JSON.stringify(env)}','$.occurred_at',${tsExpr}))`;
    }
    const done = new Promise((resolve) => {
        function tick() {
            const elapsed = now() - t0;
            const due = stopped ? issued : Math.min(Math.floor((elapsed / 1000) * rate), Math.round(rate * DURATION));
            if (due > issued) {
                const stmts = [];
                for (let s = issued; s < due; s += TX_ROWS) {
                    const rows = [];
                    for (let k = s; k < Math.min(due, s + TX_ROWS); k++) rows.push(row(k));
                    stmts.push(`INSERT INTO outbox (event_id, event_type, envelope) VALUES ${rows.join(',')};`);
                }
                const n = due - issued;
                issued = due;
                const q = sql.query(stmts.join('\n')).then((r) => {
                    if (r !== null) committed += n;
                    pendingQueries.delete(q);
                });
                pendingQueries.add(q);
                maxQueuedRows = Math.max(maxQueuedRows, issued - committed);
            }
            if (stopped || issued >= Math.round(rate * DURATION)) {
                Promise.all([...pendingQueries]).then(() => resolve());
                return;
            }
            setTimeout(tick, TICK_MS);
        }
        tick();
    });
    return {
        done,
        stop() { stopped = true; },
        stats: () => ({ issued, committed, sent: committed, maxQueued: maxQueuedRows, errors: {} }),
    };
}

// rate = Infinity: closed loop, every connection sends its next request as soon as the last is
// answered (the service's capacity); otherwise open loop at 'rate' requests/s.
function httpProducer(rate, items, token) {
    let offered = 0, started = 0, ok = 0, stopped = false, backlog = 0, maxBacklog = 0, inflight = 0, dropped = 0;
    const errors = {};
    const lat = []; // ms from the due time (includes waiting for a free connection)
    const svc = []; // ms from the actual send
    const free = [...items];
    const dueTimes = [];
    const t0 = now();
    const closed = rate === Infinity;
    const total = closed ? Infinity : Math.round(rate * DURATION);
    const endAt = t0 + DURATION * 1000;
    let finished = false, resolveDone;
    const done = new Promise((r) => { resolveDone = r; });
    const over = () => stopped || offered >= total || now() >= endAt;
    function refill() {
        if (finished) return;
        if (over()) {
            // what never got a connection in time is dropped, not sent late
            finished = true;
            dropped = backlog;
            backlog = 0;
            dueTimes.length = 0;
        } else if (closed) {
            const t = now();
            for (; inflight + backlog < CONNS; offered++, backlog++) dueTimes.push(t);
        } else {
            const due = Math.min(Math.floor(((now() - t0) / 1000) * rate), total);
            for (; offered < due; offered++, backlog++) dueTimes.push(t0 + (offered / rate) * 1000);
        }
        maxBacklog = Math.max(maxBacklog, backlog);
    }
    function send() {
        while (backlog > 0 && inflight < CONNS && free.length) {
            const it = free.shift();
            const seq = started++;
            const due = dueTimes.shift();
            backlog--;
            inflight++;
            const sentAt = now();
            const label = it.label === 'bench A' ? 'bench B' : 'bench A';
            request(AUTH, 'PATCH', `/api/v1/dicts/${DICT}/items/${it.id}`, {
                token, rid: `bench-${RUN}-h${seq}`, body: { version: it.version, label_en: label },
            }).then(async (r) => {
                const t = now();
                if (r.status === 200) {
                    const b = json(r.text);
                    ok++;
                    it.version = b?.version ?? it.version + 1;
                    it.label = label;
                    lat.push(t - due);
                    svc.push(t - sentAt);
                } else {
                    const k = r.status === 0 ? `socket: ${r.text}` : String(r.status);
                    errors[k] = (errors[k] || 0) + 1;
                    if (r.status === 409) await refreshVersion(it);
                }
                inflight--;
                free.push(it);
                if (closed) refill();
                send();
                if (finished && inflight === 0) resolveDone();
            });
        }
    }
    async function refreshVersion(it) {
        const r = await request(AUTH, 'GET', `/api/v1/dicts/${DICT}/items`, { token });
        const list = json(r.text);
        const found = (Array.isArray(list) ? list : list?.items || []).find((x) => x.id === it.id);
        if (found) {
            it.version = found.version;
            it.label = found.label_en;
        }
    }
    function tick() {
        refill();
        send();
        if (finished) {
            if (inflight === 0) resolveDone();
            return;
        }
        setTimeout(tick, closed ? 50 : TICK_MS);
    }
    tick();
    return {
        done,
        stop() { stopped = true; },
        stats: () => ({ offered, started, sent: ok, dropped, maxBacklog, errors, lat, svc }),
    };
}

// ------------------------------------------------------------------------------------------------
// sampler: every SAMPLE_MS, the consumer metrics of the audit service, the group straight from
// Redis, the stream length and the outbox's unpublished rows

function startSampler(redis, sql, t0) {
    const samples = [];
    let busy = false, stopped = false, prevCpu = cpuSnap();
    async function one() {
        if (busy) return;
        busy = true;
        const t = now();
        const [m, am, g, xlen, backlog] = await Promise.all([
            request(AUDIT, 'GET', '/metrics'),
            request(AUTH, 'GET', '/metrics'),
            groupInfo(redis),
            redis.cmd('XLEN', STREAM),
            scalar(sql, 'SELECT COUNT(*) FROM crm_auth.outbox WHERE published_at IS NULL;'),
        ]);
        const s = { t: (t - t0) / 1000 };
        if (m.status === 200) {
            s.mLag = metric(m.text, 'crm_consumer_lag', `stream="${STREAM}"`);
            s.mPending = metric(m.text, 'crm_consumer_pending', `stream="${STREAM}"`);
            s.applied = metric(m.text, 'crm_consumer_events_total', 'outcome="applied"');
            s.failed = metric(m.text, 'crm_consumer_events_total', 'outcome="failed"');
            s.dead = metric(m.text, 'crm_consumer_dead_total');
        }
        if (g) {
            s.rLag = g.lag;
            s.rPending = g.pending;
        }
        if (am.status === 200) s.mOutbox = metric(am.text, 'crm_outbox_backlog');
        s.xlen = typeof xlen === 'number' ? xlen : null;
        s.outbox = backlog === null ? null : Number(backlog);
        // CPU since the last sample: the machine's busy time and what the dev stack and this
        // benchmark do not account for (other processes), % of one core
        const c = cpuSnap();
        if (c.t - prevCpu.t >= 200) {
            const d = cpuDelta(prevCpu, c, false);
            prevCpu = c;
            s.busy = d.busy;
            s.other = d.other;
        }
        samples.push(s);
        busy = false;
    }
    const timer = setInterval(() => { if (!stopped) one(); }, SAMPLE_MS);
    one();
    return {
        samples,
        async stop() {
            stopped = true;
            clearInterval(timer);
            while (busy) await sleep(10);
        },
    };
}

// ------------------------------------------------------------------------------------------------
// one phase

async function settle(redis, sql, what) {
    // start from an idle backbone: nothing unpublished, nothing undelivered or unacknowledged
    const deadline = now() + SETTLE_S * 1000;
    for (;;) {
        const g = await groupInfo(redis);
        const ob = Number(await scalar(sql, 'SELECT COUNT(*) FROM crm_auth.outbox WHERE published_at IS NULL;'));
        if (g && g.lag === 0 && g.pending === 0 && ob === 0) return true;
        if (now() > deadline) {
            say(`  (the backbone was not idle before ${what}: outbox ${ob}, lag ${g?.lag}, pending ${g?.pending}; measuring anyway)`);
            return false;
        }
        await sleep(500);
    }
}

async function phase(mode, rate, ctx) {
    const { redis, sql, items, token } = ctx;
    const prefix = `bench-${RUN}-${mode === 'outbox' ? 'o' : 'h'}`;
    say(`== ${mode}: ${rate === Infinity ? 'as many events/s as answered (closed loop)' : `${rate} events/s`} for ${DURATION} s` +
        (mode === 'outbox' ? ` (direct INSERTs into crm_auth.outbox, ${TX_ROWS} row(s) per transaction)` : ` (PATCH on ${AUTH}, ${CONNS} connections, ${ITEMS} items)`));
    await settle(redis, sql, mode);
    const startId = Number(await scalar(sql, 'SELECT COALESCE(MAX(id), 0) FROM crm_audit.audit_log;'));
    const producerSql = mode === 'outbox' ? new Sql('producer', 'crm_auth') : null;
    if (producerSql) children.add(producerSql.p.pid);
    const t0 = now();
    const sampler = startSampler(redis, sql, t0);
    const cpu0 = cpuSnap();
    const prod = mode === 'outbox' ? outboxProducer(rate, items, producerSql) : httpProducer(rate, items, token);
    // progress line every 10 s
    const prog = setInterval(() => {
        const s = sampler.samples[sampler.samples.length - 1] || {};
        const st = prod.stats();
        say(`  t=${f0((now() - t0) / 1000).padStart(3)} s  sent ${String(st.sent).padStart(6)}  outbox ${f0(s.outbox).padStart(5)}  lag ${f0(s.rLag).padStart(6)}  pending ${f0(s.rPending).padStart(4)}  audit applied ${f0(s.applied)}`);
    }, 10000);
    await Promise.race([prod.done, sleep(DURATION * 1000 + 30000)]);
    prod.stop();
    await prod.done;
    const tEnd = now();
    const cpu1 = cpuSnap();
    clearInterval(prog);
    const gone = restarted();
    if (gone.length) failures.push(`${mode}: ${gone.join(', ')} of the dev stack stopped or restarted during the load`);
    const st = prod.stats();
    const window = (tEnd - t0) / 1000;

    // drain: wait until every sent event is in the audit log (or DRAIN_S, or no progress for 20 s)
    const countQ = `SELECT COUNT(*) FROM crm_audit.audit_log WHERE id > ${startId} AND event_type = 'dict.item_updated' AND request_id LIKE '${prefix}%';`;
    let recorded = 0, lastProgress = now(), drainedAt = null;
    const drainDeadline = now() + DRAIN_S * 1000;
    for (;;) {
        const n = Number(await scalar(sql, countQ));
        if (n > recorded) lastProgress = now();
        recorded = n;
        if (recorded >= st.sent) {
            drainedAt = now();
            break;
        }
        if (now() > drainDeadline || now() - lastProgress > 20000) break;
        await sleep(500);
    }
    await sleep(1000); // one more sample after the drain
    await sampler.stop();
    if (producerSql) {
        await producerSql.close();
        children.delete(producerSql.p.pid);
    }

    // latencies
    // with the outbox row's published_at (the relay's UPDATE right after its XADD), to split the
    // latency into the relay's part and the stream + consumer's part
    const rows = await sql.query(`SELECT a.request_id, a.occurred_at, a.recorded_at, o.published_at FROM crm_audit.audit_log a LEFT JOIN crm_auth.outbox o ON o.event_id = a.event_id WHERE a.id > ${startId} AND a.event_type = 'dict.item_updated' AND a.request_id LIKE '${prefix}%';`);
    const lat = [], relayPart = [], consumerPart = [];
    const byTen = {}; // 10-s bucket of the commit time -> latencies
    const dbTime = (t) => Date.parse(`${t.replace(' ', 'T')}Z`);
    for (const [, occ, rec, pub] of rows || []) {
        const o = Date.parse(occ);
        const r = dbTime(rec);
        if (Number.isNaN(o) || Number.isNaN(r)) {
            failures.push(`unparsable times in audit_log: '${occ}' '${rec}'`);
            continue;
        }
        const l = r - o;
        lat.push(l);
        const pb = pub && pub !== 'NULL' ? dbTime(pub) : NaN;
        if (!Number.isNaN(pb)) {
            relayPart.push(pb - o);
            consumerPart.push(r - pb);
        }
        const b = Math.min(Math.floor((o - t0) / 10000), Math.ceil(DURATION / 10) - 1);
        (byTen[b] ||= []).push(l);
    }
    lat.sort((a, b) => a - b);
    relayPart.sort((a, b) => a - b);
    consumerPart.sort((a, b) => a - b);
    const part = (l) => ({ p50: pct(l, 50), p99: pct(l, 99), max: l[l.length - 1] });
    const parts = { relay: part(relayPart), consumer: part(consumerPart) };
    const missing = Math.max(0, st.sent - lat.length);
    // an event not recorded by the end of the drain counts as slower than everything recorded:
    // a percentile that falls among them is printed as "> X"
    const P = (p) => {
        const rank = Math.ceil((p / 100) * st.sent);
        if (st.sent === 0) return { v: NaN };
        if (rank > lat.length) return { v: Infinity, gt: lat[lat.length - 1] ?? 0 };
        return { v: lat[Math.max(0, rank - 1)] };
    };
    const lats = { p50: P(50), p95: P(95), p99: P(99), max: missing ? { v: Infinity, gt: lat[lat.length - 1] ?? 0 } : { v: lat[lat.length - 1] } };

    // lag
    const S = sampler.samples;
    const inWin = S.filter((s) => s.t <= window);
    const behind = (s) => (s.rLag ?? 0) + (s.rPending ?? 0);
    const mBehind = (s) => (s.mLag ?? 0) + (s.mPending ?? 0);
    const maxOf = (arr, f) => arr.reduce((m, s) => Math.max(m, f(s) ?? -Infinity), -Infinity);
    const avg = (arr, f) => (arr.length ? arr.reduce((a, s) => a + (f(s) ?? 0), 0) / arr.length : NaN);
    const last10 = inWin.filter((s) => s.t > window - 10);
    const lag = {
        samples: inWin.length,
        maxMetricLag: maxOf(inWin, (s) => s.mLag), maxMetricPending: maxOf(inWin, (s) => s.mPending),
        maxRedisLag: maxOf(inWin, (s) => s.rLag), maxRedisPending: maxOf(inWin, (s) => s.rPending),
        maxBehind: maxOf(inWin, behind), maxMetricBehind: maxOf(inWin, mBehind),
        last10Behind: avg(last10, behind), last10MetricBehind: avg(last10, mBehind),
        slope: slope(inWin.filter((s) => s.t >= 5).map((s) => [s.t, behind(s)])),
        maxOutbox: maxOf(inWin, (s) => s.outbox), maxMetricOutbox: maxOf(inWin, (s) => s.mOutbox), last10Outbox: avg(last10, (s) => s.outbox),
        outboxSlope: slope(inWin.filter((s) => s.t >= 5).map((s) => [s.t, s.outbox ?? 0])),
        xlenStart: S[0]?.xlen, xlenEnd: S[S.length - 1]?.xlen,
        deadDelta: (S[S.length - 1]?.dead ?? 0) - (S[0]?.dead ?? 0),
        failedDelta: (S[S.length - 1]?.failed ?? 0) - (S[0]?.failed ?? 0),
        appliedRate: ((inWin[inWin.length - 1]?.applied ?? 0) - (inWin[0]?.applied ?? 0)) / Math.max(1e-9, (inWin[inWin.length - 1]?.t ?? 0) - (inWin[0]?.t ?? 0)),
    };
    // how fast the audit catches up once the load stops (it no longer shares the cores with it)
    if (drainedAt && (drainedAt - tEnd) / 1000 > 2) {
        const w0 = inWin[inWin.length - 1];
        const end = (drainedAt - t0) / 1000;
        const w1 = S.find((s) => s.t >= end) || S[S.length - 1];
        if (w0 && w1 && w1.t > w0.t) lag.drainRate = (w1.applied - w0.applied) / (w1.t - w0.t);
    }
    const cpu = cpuDelta(cpu0, cpu1);
    const timeline = Object.keys(byTen).map(Number).sort((a, b) => a - b).map((b) => {
        const l = byTen[b].sort((x, y) => x - y);
        return { from: b * 10, n: l.length, p50: pct(l, 50), p99: pct(l, 99), max: l[l.length - 1] };
    });
    const lagTimeline = [];
    for (let b = 0; b < Math.ceil(DURATION / 10); b++) {
        const ss = inWin.filter((s) => s.t >= b * 10 && s.t < (b + 1) * 10);
        lagTimeline.push({ from: b * 10, maxBehind: maxOf(ss, behind), avgBehind: avg(ss, behind), maxOutbox: maxOf(ss, (s) => s.outbox),
            busy: avg(ss.filter((s) => s.busy !== undefined), (s) => s.busy),
            other: Math.max(0, avg(ss.filter((s) => s.other !== undefined), (s) => s.other)) });
    }
    if (lag.deadDelta > 0) failures.push(`${mode}: ${lag.deadDelta} event(s) went to crm:dead:audit during the phase`);
    const errCount = Object.values(st.errors).reduce((a, b) => a + b, 0);
    if (errCount) failures.push(`${mode}: ${errCount} failed requests (${JSON.stringify(st.errors)})`);
    const auditStalled = missing > 0 && drainedAt === null && now() - lastProgress > 20000;
    if (auditStalled) failures.push(`${mode}: ${missing} event(s) never reached the audit log and it stopped progressing (lost?)`);
    return { mode, rate, window, st, recorded: lat.length, parts, missing, drainS: drainedAt ? (drainedAt - tEnd) / 1000 : null, lats, lag, cpu, timeline, lagTimeline, samples: S };
}

// ------------------------------------------------------------------------------------------------
// report

function fmtLat(x) {
    if (x.v === Infinity) return `>${f0(x.gt)}`;
    return f0(x.v);
}

function report(r) {
    const st = r.st;
    const sentRate = st.sent / r.window;
    // sustained: (nearly) every due event committed, and within the window (not caught up late)
    const sustained = r.rate !== Infinity && st.sent >= 0.98 * r.rate * DURATION && sentRate >= 0.98 * r.rate;
    const p99ok = r.lats.p99.v < AIM_P99_MS;
    const ref = r.rate === Infinity ? sentRate : r.rate;
    const lagNearZero = r.lag.last10Behind <= Math.max(10, ref / 10);
    const lagFlat = r.lag.slope <= ref / 100;
    say(`-- ${r.mode}: results`);
    const line = (k, v) => say(`  ${k.padEnd(44)} ${v}`);
    if (r.mode === 'http') {
        line('requests offered / answered 200', `${st.offered} / ${st.sent}  (${f1(sentRate)}/s over ${f1(r.window)} s; ${st.dropped} never got a free connection before the end)`);
        const l = [...st.lat].sort((a, b) => a - b), s = [...st.svc].sort((a, b) => a - b);
        line('PATCH latency from due time p50/p99/max ms', `${f1(pct(l, 50))} / ${f1(pct(l, 99))} / ${f1(l[l.length - 1])}   (from send: ${f1(pct(s, 50))} / ${f1(pct(s, 99))})`);
        line('max requests waiting for a connection', `${st.maxBacklog}`);
        if (Object.keys(st.errors).length) line('errors', JSON.stringify(st.errors));
    } else {
        line('rows committed', `${st.sent}  (${f1(sentRate)}/s over ${f1(r.window)} s; max ${st.maxQueued} rows queued at the client)`);
    }
    line('events sent (committed)', `${st.sent}`);
    line('events recorded in crm_audit.audit_log', `${r.recorded}${r.missing ? `  (${r.missing} NOT recorded ${DRAIN_S} s after the end)` : ''}` +
        (r.drainS !== null ? `  (the last ${f1(r.drainS)} s after the end)` : ''));
    line('commit-to-audit latency p50 / p95 / p99 / max', `${fmtLat(r.lats.p50)} / ${fmtLat(r.lats.p95)} / ${fmtLat(r.lats.p99)} / ${fmtLat(r.lats.max)} ms`);
    line('  of which commit -> published p50/p99/max', `${f0(r.parts.relay.p50)} / ${f0(r.parts.relay.p99)} / ${f0(r.parts.relay.max)} ms  (outbox.published_at, stamped by the relay after its XADD)`);
    line('  and published -> recorded p50/p99/max', `${f0(r.parts.consumer.p50)} / ${f0(r.parts.consumer.p99)} / ${f0(r.parts.consumer.max)} ms  (Redis, the audit consumer, the audit INSERT)`);
    line('audit applied rate (all streams)', `${f1(r.lag.appliedRate)}/s during the load` +
        (r.lag.drainRate ? `, ${f1(r.lag.drainRate)}/s while catching up after it` : ''));
    line('consumer lag+pending, Redis: max / last 10 s', `${f0(r.lag.maxBehind)} / ${f1(r.lag.last10Behind)}  (lag max ${f0(r.lag.maxRedisLag)}, pending max ${f0(r.lag.maxRedisPending)}; trend ${f1(r.lag.slope)}/s)`);
    line('same from /metrics: max / last 10 s', `${f0(r.lag.maxMetricBehind)} / ${f1(r.lag.last10MetricBehind)}  (crm_consumer_lag max ${f0(r.lag.maxMetricLag)}, crm_consumer_pending max ${f0(r.lag.maxMetricPending)})`);
    line('outbox unpublished rows: max / last 10 s', `${f0(r.lag.maxOutbox)} / ${f1(r.lag.last10Outbox)}  (trend ${f1(r.lag.outboxSlope)}/s; crm_outbox_backlog max ${f0(r.lag.maxMetricOutbox)})`);
    line(`${STREAM} XLEN start -> end`, `${r.lag.xlenStart} -> ${r.lag.xlenEnd}`);
    line('CPU % of one core over the load', Object.entries(r.cpu).filter(([k, v]) => v >= 0.5 || k === 'other').map(([k, v]) => `${k} ${f0(v)}`).join(', '));
    if (r.cpu.other > 15)
        say(`  WARNING: processes outside the dev stack and this benchmark used ${f0(r.cpu.other)}% of a core during the load: the machine was not quiet, figures disturbed`);
    say('  per 10 s of commit time:  from   events  p50 ms  p99 ms  max ms | lag+pending max  avg | outbox max | cpu busy other');
    for (let i = 0; i < Math.max(r.timeline.length, r.lagTimeline.length); i++) {
        const t = r.timeline[i] || {}, g = r.lagTimeline[i] || {};
        say(`  ${''.padEnd(25)} ${String(t.from ?? g.from ?? '').padStart(4)}   ${String(t.n ?? '').padStart(6)}  ${f0(t.p50).padStart(6)}  ${f0(t.p99).padStart(6)}  ${f0(t.max).padStart(6)} | ${f0(g.maxBehind).padStart(15)} ${f0(g.avgBehind).padStart(4)} | ${f0(g.maxOutbox).padStart(10)} | ${f0(g.busy).padStart(8)} ${f0(g.other).padStart(5)}`);
    }
    return { sustained, p99ok, lagOk: lagNearZero && lagFlat, lagNearZero, lagFlat, sentRate };
}

// ------------------------------------------------------------------------------------------------

async function main() {
    say(`run id   : ${RUN}  (request ids bench-${RUN}-o<n> / -h<n> in crm_audit.audit_log)`);
    const sql = new Sql('main');
    children.add(sql.p.pid);
    const redis = new Redis(REDIS_PORT);
    const token = await login();
    const items = await benchItems(token);
    say(`bench dictionary ${DICT}: ${items.length} items (ids ${items[0].id}..${items[items.length - 1].id})`);
    say('');
    const results = [];
    const verdicts = {};
    for (const mode of MODES) {
        const r = await phase(mode, mode === 'http' ? HTTP_RATE : RATE, { redis, sql, items, token });
        results.push(r);
        verdicts[mode] = report(r);
        say('');
    }
    say('== summary');
    say(`  ${'path'.padEnd(7)} ${'rate'.padStart(6)} ${'sent'.padStart(7)} ${'recorded'.padStart(8)} ${'p50'.padStart(6)} ${'p95'.padStart(6)} ${'p99'.padStart(6)} ${'max'.padStart(7)} ${'max lag'.padStart(8)} ${'end lag'.padStart(8)}  aims`);
    for (const r of results) {
        const v = verdicts[r.mode];
        const aims = [
            r.rate === Infinity ? `closed loop: ${f1(v.sentRate)}/s` : `rate ${v.sustained ? 'MET' : `NOT MET (${f1(v.sentRate)}/s of ${r.rate})`}`,
            `p99<${AIM_P99_MS}ms ${v.p99ok ? 'MET' : 'NOT MET'}`,
            `lag ${v.lagOk ? 'MET' : `NOT MET (${[!v.lagNearZero && 'not near zero at the end', !v.lagFlat && 'growing'].filter(Boolean).join(', ')})`}`,
        ].join('; ') + (r.cpu.other > 15 ? `; DISTURBED (other processes ${f0(r.cpu.other)}% of a core)` : '');
        say(`  ${r.mode.padEnd(7)} ${(r.rate === Infinity ? 'max' : f0(r.rate)).padStart(6)} ${String(r.st.sent).padStart(7)} ${String(r.recorded).padStart(8)} ${fmtLat(r.lats.p50).padStart(6)} ${fmtLat(r.lats.p95).padStart(6)} ${fmtLat(r.lats.p99).padStart(6)} ${fmtLat(r.lats.max).padStart(7)} ${f0(r.lag.maxBehind).padStart(8)} ${f1(r.lag.last10Behind).padStart(8)}  ${aims}`);
    }
    say(`  latency in ms (audit_log.recorded_at - occurred_at); lag = XINFO lag + pending of group '${GROUP}' on ${STREAM},`);
    say(`  max over the ${DURATION} s and average of its last 10 s. Lag aim: last-10-s average <= rate/10 and trend <= rate/100 per s.`);
    const out = env('RESULT_JSON', '');
    if (out) writeFileSync(out, JSON.stringify({ run: RUN, results: results.map(({ st, ...r }) => ({ ...r, st: { ...st, lat: undefined, svc: undefined } })), verdicts, failures }, null, 1));
    redis.close();
    await sql.close();
    agent.destroy();
    if (failures.length) {
        say('');
        say(`RUN FAILED (${failures.length}): the figures are not to be quoted`);
        for (const f of failures.slice(0, 20)) say(`  - ${f}`);
        process.exit(1);
    }
}

process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
main().catch((e) => die(e.stack || String(e)));
