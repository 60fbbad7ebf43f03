// SPDX-License-Identifier: Apache-2.0
// tests/bench/gateway_memory/bench.mjs — one attack on a running bench gateway, measured: CONNS
// connections each send the head of a large POST and most of its body, half to the public
// /api/v1/auth/refresh and half to an authenticated route without a token, and hold their
// sockets for HOLD_S seconds. Meanwhile another client address (127.0.0.2) makes a normal
// authenticated request every 100 ms. Prints the gateway's RSS before / peak / after and the
// normal requests' latencies. See README.md beside this file.
//
// usage: node bench.mjs HOST:PORT GATEWAY_PID TOKEN
// env: CONNS (500), BODY_KB (960 of the 1024 KiB announced), HOLD_S (8), ROUTE (/api/v1/system/customer/info)
import net from 'node:net';
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [addr, pidArg, token] = process.argv.slice(2);
const [host, port] = addr.split(':');
const pid = Number(pidArg);
const CONNS = Number(process.env.CONNS ?? 500);
const BODY = Number(process.env.BODY_KB ?? 960) * 1024;
const ANNOUNCED = 1024 * 1024;
const HOLD_MS = Number(process.env.HOLD_S ?? 8) * 1000;
const ROUTE = process.env.ROUTE ?? '/api/v1/system/customer/info';

const rssKb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (kb) => (kb / 1024).toFixed(1);

// a normal user's request from another address, one at a time
const normal = [];
let normalFailed = 0;
let stopNormal = false;
async function normalLoop() {
  while (!stopNormal) {
    const t0 = performance.now();
    const status = await new Promise((resolve) => {
      const req = http.request({ host, port, path: ROUTE, localAddress: '127.0.0.2', agent: false, timeout: 5000, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(0));
      req.end();
    });
    const ms = performance.now() - t0;
    if (status === 200) normal.push(ms);
    else normalFailed++;
    await sleep(100);
  }
}

const body = Buffer.alloc(BODY, 'x');
const answers = new Map();
let refusedAtAccept = 0;
function attacker(i) {
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
    sock.on('close', () => {
      const st = /^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? (connected ? 'closed without an answer' : 'not connected');
      const key = `${path} ${st}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
      resolve();
    });
    setTimeout(() => sock.destroy(), HOLD_MS);
  });
}

const before = rssKb();
let peak = before;
const sampler = setInterval(() => { peak = Math.max(peak, rssKb()); }, 50);
await sleep(300);
const baseline = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  await fetch(`http://${addr}${ROUTE}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text());
  baseline.push(performance.now() - t0);
}
const loop = normalLoop();
const t0 = Date.now();
await Promise.all(Array.from({ length: CONNS }, (_, i) => attacker(i)));
const attackMs = Date.now() - t0;
stopNormal = true;
await loop;
await sleep(2000);
clearInterval(sampler);
const after = rssKb();

const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN; };
console.log(`attack        : ${CONNS} connections, each POST with Content-Length ${ANNOUNCED} and ${BODY / 1024} KiB of body sent, held up to ${HOLD_MS / 1000} s (took ${(attackMs / 1000).toFixed(1)} s)`);
for (const [k, n] of [...answers].sort()) console.log(`  answers     : ${k}  x${n}`);
console.log(`gateway RSS   : before ${mb(before)} MB, peak ${mb(peak)} MB (+${mb(peak - before)} MB), after ${mb(after)} MB`);
console.log(`normal user   : ${normal.length} requests answered 200 from 127.0.0.2, ${normalFailed} failed; latency p50 ${pct(normal, 0.5).toFixed(1)} ms, p99 ${pct(normal, 0.99).toFixed(1)} ms, max ${Math.max(...normal).toFixed(1)} ms (before the attack: p50 ${pct(baseline, 0.5).toFixed(1)} ms)`);
const ok = peak - before < 50 * 1024 && normalFailed === 0 && normal.length > 0;
console.log(`aim           : RSS +${mb(peak - before)} MB < 50 MB and every normal request answered: ${ok ? 'MET' : 'NOT MET'}`);
process.exitCode = ok ? 0 : 1;
