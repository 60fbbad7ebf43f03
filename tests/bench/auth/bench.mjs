// tests/bench/auth/bench.mjs — the login-flood benchmark driven by run.sh (see README.md).
// Node 20 built-ins and fetch only.
//
// Phases, all through the bench gateway (rate limit off):
//   setup     as admin: 50 bench users bench_01..bench_50 (role customer_manager) with a fresh
//             random password; a token of one demo account for the steady GET
//   warm-up   the steady GET alone, discarded
//   baseline  the steady GET alone, measured
//   settle    the 50 login loops start; not measured
//   flood     the steady GET with the 50 login loops running, measured (logins counted too)
//   after     the loops stopped; the steady GET alone again, for information (recovery, RSS)
//
// The steady GET is open-loop: request i is due at t0 + i/RATE whatever happened to the
// others, and its latency counts from that due time, so a stalled server (or client) shows up
// as queueing instead of silently lowering the request rate. It runs in a worker thread of its
// own, so the login loops' work in the main thread does not delay its timers.
//
// Environment (run.sh sets these): BENCH_URL, AUTH_PID, GATEWAY_PID, REPO, REDIS_PORT, RATE,
// BASELINE_S, FLOOD_S, WARMUP_S, SETTLE_S, AFTER_S, LOGIN_LOOPS, GET_USER, RESULT_JSON.
// Exit status: 0 a valid run (aims MET or NOT MET), 1 an invalid run (see the FAIL lines).

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const now = () => performance.timeOrigin + performance.now(); // epoch ms, same clock in every thread
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The steady GET (worker thread)
// ---------------------------------------------------------------------------------------------

if (!isMainThread) {
    const { url, token, rate } = workerData;
    const period = 1000 / rate;
    // run one phase: 'seconds' of requests at 'rate', open loop; answer with the samples
    parentPort.on('message', async ({ phase, seconds }) => {
        const n = Math.round(seconds * rate);
        const t0 = now() + 20; // a little ahead, so request 0 is not late by construction
        const lat = []; // ms from the due time to the end of the body
        const lag = []; // ms from the due time to the moment fetch was called (client lateness)
        const errors = {};
        const inflight = new Set();
        const one = async (due) => {
            lag.push(now() - due);
            try {
                const res = await fetch(url, {
                    headers: { Authorization: `Bearer ${token}` },
                    signal: AbortSignal.timeout(10000),
                });
                await res.arrayBuffer();
                if (res.status === 200) lat.push(now() - due);
                else errors[res.status] = (errors[res.status] || 0) + 1;
            } catch (e) {
                const k = e.name === 'TimeoutError' ? 'timeout' : `net:${e.cause?.code || e.name}`;
                errors[k] = (errors[k] || 0) + 1;
            }
        };
        let i = 0;
        while (i < n) {
            const wait = t0 + i * period - now();
            if (wait > 0) await sleep(wait);
            // fire every request that is due (more than one when the timer fired late)
            while (i < n && t0 + i * period <= now()) {
                const p = one(t0 + i * period);
                inflight.add(p);
                p.finally(() => inflight.delete(p));
                i++;
            }
        }
        await Promise.all([...inflight]);
        parentPort.postMessage({ phase, start: t0, end: t0 + n * period, sent: n, lat, lag, errors });
    });
} else {
    main().catch((e) => {
        console.error(`bench: ERROR: ${e.message}`);
        process.exit(1);
    });
}

// ---------------------------------------------------------------------------------------------
// Helpers (main thread)
// ---------------------------------------------------------------------------------------------

function env(name, dflt) {
    const v = process.env[name];
    if (v === undefined || v === '') {
        if (dflt === undefined) throw new Error(`environment variable ${name} is not set`);
        return dflt;
    }
    return v;
}
function envNum(name, dflt) {
    const v = Number(env(name, String(dflt)));
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
    return v;
}

function pct(sorted, p) {
    if (sorted.length === 0) return NaN;
    const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[k];
}
function stats(values) {
    const s = Float64Array.from(values).sort();
    return {
        n: s.length,
        p50: pct(s, 50),
        p95: pct(s, 95),
        p99: pct(s, 99),
        max: s.length ? s[s.length - 1] : NaN,
    };
}
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const mib = (kb) => (Number.isFinite(kb) ? (kb / 1024).toFixed(1) : '-');
const fmtErrors = (o) =>
    Object.keys(o).length ? Object.entries(o).map(([k, v]) => `${k} x${v}`).join(', ') : 'none';

function sh(cmd) {
    return new Promise((resolve) => {
        execFile('sh', ['-c', cmd], { timeout: 5000 }, (err, stdout, stderr) =>
            resolve({ ok: !err, out: String(stdout), err: String(stderr || err?.message || '') }),
        );
    });
}

function procStatus(pid) {
    try {
        const t = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = (k) => Number((t.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [])[1]);
        return { rss: kb('VmRSS'), hwm: kb('VmHWM'), threads: kb('Threads') };
    } catch {
        return null;
    }
}
function procTicks(pid) {
    try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
        return Number(rest[11]) + Number(rest[12]); // utime + stime
    } catch {
        return NaN;
    }
}
function busyTicks() {
    const c = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return c[0] + c[1] + c[2] + c[5] + c[6] + c[7]; // user nice system irq softirq steal
}

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------

async function main() {
    const BASE = env('BENCH_URL', 'http://127.0.0.1:18090');
    const REPO = env('REPO');
    const AUTH_PID = Number(env('AUTH_PID'));
    const GATEWAY_PID = Number(env('GATEWAY_PID', '0'));
    const REDIS_PORT = envNum('REDIS_PORT', 6380);
    const RATE = envNum('RATE', 50);
    const BASELINE_S = envNum('BASELINE_S', 20);
    const FLOOD_S = envNum('FLOOD_S', 20);
    const WARMUP_S = envNum('WARMUP_S', 3);
    const SETTLE_S = envNum('SETTLE_S', 2);
    const AFTER_S = envNum('AFTER_S', 5);
    const LOOPS = envNum('LOGIN_LOOPS', 50);
    const GET_USER = env('GET_USER', 'manager_east1');
    const CLEAR_MS = envNum('CLEAR_MS', 500);
    const CLK_TCK = envNum('CLK_TCK', 100);
    // processes whose CPU is shown per phase: "name=pid,name=pid" (auth first)
    const PIDS = { auth: AUTH_PID };
    for (const kv of env('CPU_PIDS', '').split(',').filter(Boolean)) {
        const [n, p] = kv.split('=');
        if (n && Number(p) > 0) PIDS[n] = Number(p);
    }
    const CLEAR_CMD =
        `redis-cli -p ${REDIS_PORT} --user crm_admin --no-auth-warning --scan --pattern 'crm:login:*' | ` +
        `xargs -r redis-cli -p ${REDIS_PORT} --user crm_admin --no-auth-warning DEL`; // REDISCLI_AUTH from run.sh

    const failures = [];
    const fail = (msg) => {
        failures.push(msg);
        console.log(`  FAIL: ${msg}`);
    };
    const say = (s = '') => console.log(s);

    // ---- credentials and API calls ------------------------------------------------------
    const creds = {};
    for (const line of readFileSync(`${REPO}/.run/credentials`, 'utf8').split('\n')) {
        const [u, p, r] = line.trim().split(/\s+/);
        if (u && p) creds[u] = { password: p, role: r };
    }
    if (!creds.admin) throw new Error('no admin line in .run/credentials');
    if (!creds[GET_USER]) throw new Error(`no ${GET_USER} line in .run/credentials`);

    async function api(method, path, { token, body } = {}) {
        const headers = {};
        if (token) headers.Authorization = `Bearer ${token}`;
        if (body !== undefined) headers['Content-Type'] = 'application/json';
        const res = await fetch(BASE + path, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(15000),
        });
        const text = await res.text();
        let json = null;
        try {
            json = text ? JSON.parse(text) : null;
        } catch {
            /* not JSON */
        }
        return { status: res.status, json, text };
    }
    async function login(username, password) {
        const r = await api('POST', '/api/v1/auth/login', { body: { username, password } });
        if (r.status !== 200)
            throw new Error(`login of ${username} answered ${r.status}: ${r.text.slice(0, 200)}`);
        return r.json.access_token;
    }
    const clearCounters = async () => {
        const r = await sh(CLEAR_CMD);
        if (!r.ok) throw new Error(`clearing the login counters failed: ${r.err}`);
        return Number(r.out.trim()) || 0;
    };

    // ---- setup: bench users ----------------------------------------------------------------
    say(`== setup (through ${BASE})`);
    await clearCounters();
    const adminToken = await login('admin', creds.admin.password);
    const roles = await api('GET', '/api/v1/roles?page=1&page_size=100', { token: adminToken });
    const cm = roles.json?.items?.find((r) => r.code === 'customer_manager');
    if (!cm) throw new Error(`no customer_manager role (GET /api/v1/roles answered ${roles.status})`);
    const list = await api('GET', '/api/v1/users?q=bench_&page=1&page_size=100', { token: adminToken });
    if (list.status !== 200) throw new Error(`GET /api/v1/users answered ${list.status}`);
    const existing = new Map(list.json.items.map((u) => [u.username, u]));
    const password = `Bench-${randomBytes(18).toString('base64url')}`; // fresh every run
    const users = [];
    let created = 0;
    let reset = 0;
    for (let i = 1; i <= LOOPS; i++) {
        const username = `bench_${String(i).padStart(2, '0')}`;
        users.push(username);
        const u = existing.get(username);
        if (!u) {
            const r = await api('POST', '/api/v1/users', {
                token: adminToken,
                body: { username, display_name: `Bench ${i}`, password, role_ids: [cm.id] },
            });
            if (r.status !== 201) throw new Error(`creating ${username} answered ${r.status}: ${r.text.slice(0, 300)}`);
            created++;
            continue;
        }
        if (u.status === 'disabled') {
            const r = await api('POST', `/api/v1/users/${u.id}/enable`, { token: adminToken });
            if (r.status !== 200) throw new Error(`enabling ${username} answered ${r.status}`);
        }
        if (u.status === 'locked' || u.locked_until) {
            const r = await api('POST', `/api/v1/users/${u.id}/unlock`, { token: adminToken });
            if (r.status !== 200) throw new Error(`unlocking ${username} answered ${r.status}`);
        }
        if (!(u.role_ids || []).includes(cm.id)) {
            const cur = await api('GET', `/api/v1/users/${u.id}`, { token: adminToken });
            const r = await api('PATCH', `/api/v1/users/${u.id}`, {
                token: adminToken,
                body: { version: cur.json.version, role_ids: [cm.id] },
            });
            if (r.status !== 200) throw new Error(`giving ${username} the customer_manager role answered ${r.status}`);
        }
        const r = await api('POST', `/api/v1/users/${u.id}/reset-password`, {
            token: adminToken,
            body: { new_password: password },
        });
        if (r.status !== 204) throw new Error(`resetting ${username}'s password answered ${r.status}: ${r.text.slice(0, 300)}`);
        reset++;
    }
    say(`  bench users: ${created} created, ${reset} reused (password reset to this run's random one), role customer_manager`);
    // every bench user can log in (and the argon2id code path is warm); counters cleared after
    for (let i = 0; i < users.length; i++) {
        if (i % 20 === 0) await clearCounters(); // 30 a minute from one address otherwise
        await login(users[i], password);
    }
    await clearCounters();
    say(`  all ${users.length} bench users logged in once`);
    const getToken = await login(GET_USER, creds[GET_USER].password);
    const me = await api('GET', '/api/v1/auth/me', { token: getToken });
    if (me.status !== 200 || me.json?.username !== GET_USER)
        throw new Error(`GET /api/v1/auth/me as ${GET_USER} answered ${me.status}`);
    say(`  steady GET: /api/v1/auth/me as ${GET_USER} (user id ${me.json.id}), ${me.text.length} bytes`);
    await clearCounters();

    // ---- samplers: RSS every second, CPU per phase -----------------------------------------
    const samples = []; // {t, phase, rss, gwRss}
    let phase = 'setup';
    let authGone = false;
    const sample = () => {
        const st = procStatus(AUTH_PID);
        if (!st) {
            if (!authGone) fail(`the auth process ${AUTH_PID} is gone (died or restarted during the run)`);
            authGone = true;
            return;
        }
        const g = GATEWAY_PID ? procStatus(GATEWAY_PID) : null;
        samples.push({ t: now(), phase, rss: st.rss, hwm: st.hwm, threads: st.threads, gwRss: g?.rss });
    };
    sample();
    const sampler = setInterval(sample, 1000);
    // CPU per phase: each process of interest (utime+stime from /proc), this client (all its
    // threads), and the machine's busy time; 'other' is what is left: processes not in the test
    const cpu = {}; // phase -> {name: % of one core}
    const cpuMark = () => {
        const m = { t: now(), busy: busyTicks(), client: process.cpuUsage() };
        for (const [n, pid] of Object.entries(PIDS)) m[n] = procTicks(pid);
        return m;
    };
    const cpuDone = (name, m0) => {
        const m1 = cpuMark();
        const s = (m1.t - m0.t) / 1000;
        const pc = (ticks) => (ticks / CLK_TCK / s) * 100;
        const c = { busy: pc(m1.busy - m0.busy) };
        const cu = process.cpuUsage(m0.client);
        c.client = ((cu.user + cu.system) / 1e6 / s) * 100;
        let known = c.client;
        for (const n of Object.keys(PIDS)) {
            c[n] = pc(m1[n] - m0[n]);
            if (Number.isFinite(c[n])) known += c[n];
        }
        c.other = Math.max(0, c.busy - known);
        cpu[name] = c;
    };

    // ---- the steady GET's worker -------------------------------------------------------------
    const worker = new Worker(new URL(import.meta.url), {
        workerData: { url: `${BASE}/api/v1/auth/me`, token: getToken, rate: RATE },
    });
    worker.on('error', (e) => fail(`the steady-GET worker failed: ${e.message}`));
    const runGet = (name, seconds) =>
        new Promise((resolve) => {
            worker.once('message', resolve);
            worker.postMessage({ phase: name, seconds });
        });
    const results = {};
    const measure = async (name, seconds) => {
        phase = name;
        const m0 = cpuMark();
        const r = await runGet(name, seconds);
        cpuDone(name, m0);
        results[name] = { ...r, lat: stats(r.lat), lag: stats(r.lag) };
        const bad = Object.values(r.errors).reduce((a, b) => a + b, 0);
        if (bad && name !== 'warmup') fail(`${name}: ${bad} steady GETs failed (${fmtErrors(r.errors)})`);
        return r;
    };

    say('');
    say(`== steady GET ${RATE} req/s open-loop; warm-up ${WARMUP_S} s, baseline ${BASELINE_S} s`);
    await measure('warmup', WARMUP_S);
    await measure('baseline', BASELINE_S);

    // ---- the flood -------------------------------------------------------------------------
    say(`== flood: ${LOOPS} login loops (one bench user each), settle ${SETTLE_S} s, measured ${FLOOD_S} s`);
    const logins = []; // {end, ms, status}
    let stop = false;
    let sweeps = 0;
    let keysCleared = 0;
    let clearErrors = 0;
    // one sweep every CLEAR_MS, never two at once; a late sweep is counted
    let sweeping = false;
    let lateSweeps = 0;
    let lastSweep = now();
    const clearer = setInterval(async () => {
        if (sweeping) return;
        sweeping = true;
        if (now() - lastSweep > 1.5 * CLEAR_MS) lateSweeps++;
        const r = await sh(CLEAR_CMD);
        lastSweep = now();
        sweeps++;
        if (r.ok) keysCleared += Number(r.out.trim()) || 0;
        else clearErrors++;
        sweeping = false;
    }, CLEAR_MS);
    const loop = async (username) => {
        const body = JSON.stringify({ username, password });
        while (!stop) {
            const t = now();
            let status;
            try {
                const res = await fetch(`${BASE}/api/v1/auth/login`, {
                    method: 'POST',
                    headers: { 'Content-Type': 'application/json' },
                    body,
                    signal: AbortSignal.timeout(30000),
                });
                await res.arrayBuffer();
                status = res.status;
            } catch (e) {
                status = e.name === 'TimeoutError' ? 'timeout' : `net:${e.cause?.code || e.name}`;
            }
            logins.push({ end: now(), ms: now() - t, status });
            if (status !== 200) await sleep(100); // no hot spin on a cheap error answer
        }
    };
    phase = 'settle';
    const floodStart = now();
    const loops = users.map(loop);
    await sleep(SETTLE_S * 1000);
    const fr = await measure('flood', FLOOD_S);
    stop = true;
    phase = 'drain';
    await Promise.all(loops);
    clearInterval(clearer);
    const floodEnd = now();
    await clearCounters();
    const tail = AFTER_S > 0 ? await measure('after', AFTER_S) : null;
    phase = 'end';
    sample();
    clearInterval(sampler);
    await worker.terminate();

    // ---- figures -------------------------------------------------------------------------
    const inWindow = logins.filter((l) => l.end >= fr.start && l.end <= fr.end);
    const winS = (fr.end - fr.start) / 1000;
    const byStatus = {};
    for (const l of inWindow) byStatus[l.status] = (byStatus[l.status] || 0) + 1;
    const allByStatus = {};
    for (const l of logins) allByStatus[l.status] = (allByStatus[l.status] || 0) + 1;
    const ok = inWindow.filter((l) => l.status === 200);
    const loginLat = stats(ok.map((l) => l.ms));
    const loginRate = ok.length / winS;
    const errCount = logins.filter((l) => l.status !== 200).length;
    if (errCount) fail(`${errCount} of ${logins.length} logins during the flood did not answer 200 (${fmtErrors(allByStatus)})`);
    if (clearErrors) fail(`${clearErrors} of ${sweeps} counter sweeps failed`);

    const B = results.baseline.lat;
    const F = results.flood.lat;
    const ratio = F.p99 / B.p99;

    const rssOf = (ph) => samples.filter((s) => ph.includes(s.phase)).map((s) => s.rss);
    const all = samples.map((s) => s.rss);
    const rss = {
        start: samples[0]?.rss,
        baselineMax: Math.max(...rssOf(['warmup', 'baseline'])),
        floodMax: Math.max(...rssOf(['settle', 'flood', 'drain'])),
        max: Math.max(...all),
        end: samples[samples.length - 1]?.rss,
        hwm: samples[samples.length - 1]?.hwm,
        threads: samples[samples.length - 1]?.threads,
    };
    // "bounded": the flood's RSS levels off. A per-login leak grows RSS with every login, so
    // compare the highest RSS of the flood's first half with that of its second half.
    const fl = samples.filter((s) => s.t >= floodStart && s.t <= floodEnd);
    const mid = floodStart + (floodEnd - floodStart) / 2;
    const firstHalf = Math.max(...fl.filter((s) => s.t < mid).map((s) => s.rss));
    const secondHalf = Math.max(...fl.filter((s) => s.t >= mid).map((s) => s.rss));
    const growthKb = secondHalf - firstHalf;
    const loginsSecondHalf = logins.filter((l) => l.end >= mid && l.status === 200).length;
    const gw = samples.filter((s) => s.gwRss).map((s) => s.gwRss);

    say('');
    say(`== results (${winS.toFixed(1)} s windows; latencies in ms, from the due time to the end of the answer)`);
    const names = { baseline: 'without logins', flood: 'with the login flood', after: 'after (info)' };
    const phases = ['baseline', 'flood', ...(tail ? ['after'] : [])];
    say(`${'steady GET /auth/me'.padEnd(22)} ${'n'.padStart(5)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)}  client lag p99`);
    for (const name of phases) {
        const r = results[name];
        say(
            `${names[name].padEnd(22)} ${String(r.lat.n).padStart(5)} ${f1(r.lat.p50).padStart(7)} ${f1(r.lat.p95).padStart(7)} ` +
                `${f1(r.lat.p99).padStart(7)} ${f1(r.lat.max).padStart(7)}  ${f1(r.lag.p99)}`,
        );
    }
    say('');
    const cols = [...Object.keys(PIDS), 'client', 'other', 'busy'];
    say(`${'CPU, % of one core'.padEnd(22)} ${cols.map((c) => c.padStart(8)).join(' ')}`);
    for (const name of phases)
        say(`${names[name].padEnd(22)} ${cols.map((c) => f1(cpu[name][c]).padStart(8)).join(' ')}`);
    say(`p99 with ÷ p99 without : ${f2(ratio)}`);
    say('');
    say(`logins (${LOOPS} loops)  : ${f1(loginRate)} logins/s (${ok.length} in the window), ` +
        `latency p50 ${f1(loginLat.p50)} ms, p99 ${f1(loginLat.p99)} ms, max ${f1(loginLat.max)} ms`);
    say(`login answers          : in the window ${fmtErrors(byStatus)}; whole flood ${fmtErrors(allByStatus)}`);
    say(`throttle counters      : ${sweeps} sweeps (every ${CLEAR_MS} ms), ${keysCleared} keys deleted, ` +
        `${lateSweeps} late by more than half a period, ${clearErrors} failed`);
    const bad = logins.filter((l) => l.status !== 200);
    if (bad.length)
        say(`failed logins          : ${bad.length}, between +${f1((bad[0].end - floodStart) / 1000)} s and ` +
            `+${f1((bad[bad.length - 1].end - floodStart) / 1000)} s after the loops started`);
    say('');
    say(`auth RSS (pid ${AUTH_PID})  : start ${mib(rss.start)} MiB, max before the flood ${mib(rss.baselineMax)} MiB, ` +
        `max during the flood ${mib(rss.floodMax)} MiB, end ${mib(rss.end)} MiB ` +
        `(max ${mib(rss.max)}, VmHWM ${mib(rss.hwm)}, ${rss.threads} threads, ${samples.length} samples)`);
    say(`flood RSS growth       : ${mib(growthKb)} MiB from the first half's max to the second half's ` +
        `(${loginsSecondHalf} logins in the second half)`);
    if (gw.length)
        say(`bench gateway RSS      : start ${mib(gw[0])} MiB, max ${mib(Math.max(...gw))} MiB, end ${mib(gw[gw.length - 1])} MiB`);
    const lagWorst = Math.max(results.baseline.lag.p99, results.flood.lag.p99);
    if (lagWorst > 5)
        say(`WARNING: the client itself fired requests late (lag p99 up to ${f1(lagWorst)} ms): part of the latency is the client's`);
    const noisy = phases.filter((n) => n !== 'after' && cpu[n].other > 15);
    if (noisy.length)
        say(`WARNING: processes outside the test used more than 15% of a core during: ${noisy.join(', ')} ` +
            `(${noisy.map((n) => f1(cpu[n].other) + '%').join(', ')}): the machine was not quiet, figures disturbed`);

    say('');
    say(noisy.length ? '== aims (the machine was not quiet: these verdicts are not to be quoted)' : '== aims');
    const aim1 = ratio <= 2;
    const aim2 = growthKb <= 2048;
    say(`GET p99 at most doubles under the flood : ${aim1 ? 'MET' : 'NOT MET'} (ratio ${f2(ratio)}: ${f1(B.p99)} -> ${f1(F.p99)} ms)`);
    say(`auth RSS bounded (grows <= 2 MiB over the flood's second half) : ${aim2 ? 'MET' : 'NOT MET'} ` +
        `(${mib(growthKb)} MiB; ${mib(rss.start)} -> max ${mib(rss.max)} -> end ${mib(rss.end)} MiB)`);

    const out = env('RESULT_JSON', '');
    if (out)
        writeFileSync(out, JSON.stringify({ results: { baseline: results.baseline.lat, flood: F, after: tail ? results.after.lat : null }, ratio, loginRate, byStatus, allByStatus, rss, growthKb, cpu, failures }, null, 2));
    if (failures.length) {
        say('');
        say(`RUN FAILED (${failures.length}):`);
        for (const f of failures) say(`  ${f}`);
        process.exitCode = 1;
    }
}
