// SPDX-License-Identifier: Apache-2.0
// tests/bench/gateway_memory/bench.mjs — one attack on a running bench gateway, measured.
// CONNS attackers each open a connection, send the head of a POST announcing 1 MiB and BODY_KB
// of its body (half to the public /api/v1/auth/refresh, half to /api/v1/users without a token),
// and when the connection ends connect again 200 ms later, for HOLD_S seconds. Meanwhile a
// normal user on another client address (127.0.0.2) makes an authenticated API request every
// 100 ms. Prints the gateway's RSS before / peak / after and the normal requests' latencies.
// See README.md beside this file.
//
// usage: node bench.mjs HOST:PORT GATEWAY_PID TOKEN
// env: CONNS (500), BODY_KB (960), HOLD_S (5), ROUTE (/api/v1/system/customer/info)
import net from 'node:net';
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [addr, pidArg, token] = process.argv.slice(2);
const [host, port] = addr.split(':');
const pid = Number(pidArg);
const CONNS = Number(process.env.CONNS ?? 500);
const BODY = Number(process.env.BODY_KB ?? 960) * 1024;
const ANNOUNCED = 1024 * 1024;
const HOLD_MS = Number(process.env.HOLD_S ?? 5) * 1000;
const ROUTE = process.env.ROUTE ?? '/api/v1/system/customer/info';

const rssKb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (kb) => (kb / 1024).toFixed(1);

/** One authenticated GET from 127.0.0.2 on a new connection: [status, ms]. */
function normalRequest() {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ host, port, path: ROUTE, localAddress: '127.0.0.2', agent: false, timeout: 5000, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve([res.statusCode, performance.now() - t0]));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve([0, performance.now() - t0]));
    req.end();
  });
}

const normal = [];
let normalFailed = 0;
let stopNormal = false;
async function normalLoop() {
  while (!stopNormal) {
    const [status, ms] = await normalRequest();
    if (status === 200) normal.push(ms);
    else normalFailed++;
    await sleep(100);
  }
}

const body = Buffer.alloc(BODY, 'x');
const answers = new Map();
let attempts = 0;
let deadline = 0;
function attempt(i) {
  attempts++;
  return new Promise((resolve) => {
    const path = i % 2 === 0 ? '/api/v1/auth/refresh' : '/api/v1/users';
    const sock = net.connect(Number(port), host);
    let data = '';
    let connected = false;
    sock.on('connect', () => {
      connected = true;
      sock.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${ANNOUNCED}\r\n\r\n`);
      sock.write(body);
    });
    sock.on('data', (d) => { data += d.toString('latin1'); });
    sock.on('error', () => {});
    const timer = setTimeout(() => sock.destroy(), Math.max(0, deadline - Date.now()));
    sock.on('close', () => {
      clearTimeout(timer);
      const st = /^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? (connected ? 'closed without an answer' : 'not connected');
      const key = `${path} ${st}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
      resolve();
    });
  });
}
async function attacker(i) {
  while (Date.now() < deadline) {
    await attempt(i);
    await sleep(200);
  }
}

const before = rssKb();
let peak = before;
const sampler = setInterval(() => { peak = Math.max(peak, rssKb()); }, 50);
const baseline = [];
for (let i = 0; i < 10; i++) {
  baseline.push((await normalRequest())[1]);
  await sleep(50);
}
const loop = normalLoop();
const t0 = Date.now();
deadline = t0 + HOLD_MS;
await Promise.all(Array.from({ length: CONNS }, (_, i) => attacker(i)));
const attackMs = Date.now() - t0;
stopNormal = true;
await loop;
await sleep(2000);
clearInterval(sampler);
const after = rssKb();

const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN; };
console.log(`attack        : ${CONNS} attackers for ${(attackMs / 1000).toFixed(1)} s, ${attempts} connections, each a POST announcing ${ANNOUNCED} bytes with ${BODY / 1024} KiB of its body sent`);
for (const [k, n] of [...answers].sort()) console.log(`  answers     : ${k}  x${n}`);
console.log(`gateway RSS   : before ${mb(before)} MB, peak ${mb(peak)} MB (+${mb(peak - before)} MB), after ${mb(after)} MB`);
console.log(`normal user   : ${normal.length} requests answered 200 from 127.0.0.2 during the attack, ${normalFailed} failed; latency p50 ${pct(normal, 0.5).toFixed(1)} ms, p99 ${pct(normal, 0.99).toFixed(1)} ms, max ${Math.max(...normal).toFixed(1)} ms (before the attack: p50 ${pct(baseline, 0.5).toFixed(1)} ms)`);
const ok = peak - before < 50 * 1024 && normalFailed === 0 && normal.length > 0;
console.log(`aim           : RSS +${mb(peak - before)} MB < 50 MB and every normal request answered: ${ok ? 'MET' : 'NOT MET'}`);
process.exitCode = ok ? 0 : 1;
