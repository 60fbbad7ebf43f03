// SPDX-License-Identifier: Apache-2.0
// tests/bench/notice_streams/bench.mjs — idle notice streams through a running bench gateway,
// measured. Opens STREAMS streams of GET /api/v1/notices/stream (each on its own connection,
// as EventSource does), waits until every one has its head and first comment, holds them for
// HOLD_S seconds, closes them all and prints the gateway's RSS (VmRSS) before, with the
// streams open (peak of samples every 100 ms) and after, the time to open them, and the
// gateway's open-stream gauges before and after (they must come back to 0).
//
// usage: node bench.mjs HOST:PORT GATEWAY_PID TOKEN ADMIN_HOST:PORT
// env: STREAMS (500), HOLD_S (20: past a heartbeat), AIM_MB (8: the RSS the open streams may add), CARE_PID (the
//      care service's pid: its CPU time while the streams are held idle, i.e. the cost of the
//      once-a-second poll and the heartbeats)
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [addr, pidArg, token, admin] = process.argv.slice(2);
const [host, port] = addr.split(':');
const pid = Number(pidArg);
const STREAMS = Number(process.env.STREAMS ?? 500);
const HOLD_MS = Number(process.env.HOLD_S ?? 20) * 1000;
const AIM_MB = Number(process.env.AIM_MB ?? 8);

const CARE_PID = Number(process.env.CARE_PID ?? 0);
/** utime + stime of 'p' in ms (clock ticks of 10 ms). */
const cpuMs = (p) => {
  const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const rssKb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (kb) => (kb / 1024).toFixed(1);

async function gauges() {
  const text = await (await fetch(`http://${admin}/metrics`)).text();
  const get = (name) => Number(text.split('\n').find((l) => l.startsWith(`${name}{`))?.split(' ').pop());
  return { http: get('crm_http_streams'), watched: get('crm_gateway_streams') };
}

/** One stream: resolves with its request once the head and the first comment arrived. */
function openOnce() {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/api/v1/notices/stream', agent: false, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => reject(new Error(`HTTP ${res.statusCode} ${(/"code":"([a-z_]+)"/.exec(body) || [])[1] || ''}`)));
        return;
      }
      res.once('data', () => resolve({ req, res }));
      res.on('error', () => {});
    });
    req.on('error', reject);
  });
}

/** openOnce, again after a 503 (a full worker queue of the care service: it says Retry-After),
 * as the console's store does; 'retried' counts those. */
let retried = 0;
async function openStream() {
  for (let i = 0; ; i++) {
    try {
      return await openOnce();
    } catch (e) {
      if (i >= 5 || !/^HTTP 503/.test(e.message)) throw e;
      retried++;
      await sleep(1000);
    }
  }
}

const before = rssKb();
const g0 = await gauges();
const t0 = performance.now();
const open = [];
let failed = 0;
const reasons = new Map();
// 50 at a time, like browsers coming back after a restart
for (let i = 0; i < STREAMS; i += 50) {
  const batch = await Promise.allSettled(Array.from({ length: Math.min(50, STREAMS - i) }, openStream));
  for (const r of batch) {
    if (r.status === 'fulfilled') open.push(r.value);
    else {
      failed++;
      reasons.set(r.reason.message, (reasons.get(r.reason.message) ?? 0) + 1);
    }
  }
}
const openMs = performance.now() - t0;
let peak = rssKb();
const g1 = await gauges();
const gwCpu0 = cpuMs(pid);
const careCpu0 = CARE_PID ? cpuMs(CARE_PID) : 0;
const until = Date.now() + HOLD_MS;
while (Date.now() < until) {
  peak = Math.max(peak, rssKb());
  await sleep(100);
}
const held = rssKb();
const gwCpu = cpuMs(pid) - gwCpu0;
const careCpu = CARE_PID ? cpuMs(CARE_PID) - careCpu0 : null;
const stillOpen = open.filter((s) => !s.res.complete && !s.res.destroyed).length;
for (const s of open) s.req.destroy();
let g2 = await gauges();
for (let i = 0; i < 50 && (g2.http !== 0 || g2.watched !== 0); i++) {
  await sleep(100);
  g2 = await gauges();
}
await sleep(500);
const after = rssKb();

const added = (peak - before) / 1024;
console.log(`streams : ${open.length} open (${retried} retried after a 503, ${failed} refused${failed ? `: ${[...reasons].map(([k, v]) => `${v} x ${k}`).join(', ')}` : ''}) in ${openMs.toFixed(0)} ms; ${stillOpen} still open after ${HOLD_MS / 1000} s idle`);
console.log(`gauges  : crm_http_streams ${g0.http} -> ${g1.http} -> ${g2.http}, crm_gateway_streams ${g0.watched} -> ${g1.watched} -> ${g2.watched}`);
console.log(`gateway : RSS before ${mb(before)} MB, peak ${mb(peak)} MB (held ${mb(held)} MB), after ${mb(after)} MB: +${added.toFixed(1)} MB for ${open.length} streams (${((peak - before) / Math.max(1, open.length)).toFixed(1)} KB each)`);
console.log(`cpu     : while held idle ${HOLD_MS / 1000} s: gateway ${gwCpu} ms${careCpu === null ? '' : `, care service ${careCpu} ms (its 1 s poll for all ${STREAMS} streams, heartbeats)`}`);
// errors make the run's figures worthless (exit 1); the memory aim is said, not enforced
const sane = failed === 0 && stillOpen === open.length && g1.http === STREAMS && g2.http === 0 && g2.watched === 0;
console.log(`aim     : +${AIM_MB} MB at most for ${STREAMS} streams: ${added < AIM_MB ? 'MET' : 'NOT MET'}`);
console.log(`result  : ${sane ? 'ok' : 'ERRORS (not all open and idle, or the gauges did not return to 0): do not quote these figures'}`);
process.exit(sane ? 0 : 1);
