// SPDX-License-Identifier: Apache-2.0
// Drill (b): the audit consumer dies (kill -9) while it holds delivered, unacknowledged entries,
// and is not restarted; a second consumer of the group (another process, consumer_name audit-2)
// claims the dead one's entries and reads the rest. Every committed change must reach the audit
// log exactly once and the chain must verify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  REPO, STATE, adminToken, burst, consumerCounts, eventually, expectExactlyOnce, expectItemsOnce,
  expectOperationsOnce, expectVerifyOk, healthy, marks, moreSuccesses, pidOf, quiet, redis, rnd,
  sleep, statuses, supervisorctl, waitHealthy,
} from './lib.mjs';

const STREAMS = ['crm:stream:auth', 'crm:stream:customer', 'crm:stream:transfer', 'crm:stream:care', 'crm:stream:gateway'];
const SECOND_PORT = Number(process.env.CRM_TEST_PORT_AUDIT2 ?? 8115);
const SECOND = `http://127.0.0.1:${SECOND_PORT}`;

/** Entry ids of 'stream' pending at 'consumer' in the audit group. */
function pendingAt(stream, consumer) {
  return redis('XPENDING', stream, 'audit', '-', '+', '1000', consumer).split('\n')
    .filter((l) => /^\d+-\d+$/.test(l.trim())).map((l) => l.trim());
}

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const state = (program) => (supervisorctl('status', program).trim().split(/\s+/)[1] ?? '?');

/** The audit service's config with another name, a short claim time and its own port. */
function secondConfig(dir) {
  const lines = readFileSync(`${STATE}/etc/audit.conf`, 'utf8').split('\n')
    .filter((l) => !/^\s*(listen|consumer_name|claim_idle_ms)\s*=/.test(l));
  lines.push(`listen = 127.0.0.1:${SECOND_PORT}`, 'consumer_name = audit-2', 'claim_idle_ms = 2000');
  writeFileSync(`${dir}/audit-2.conf`, `${lines.join('\n')}\n`);
  return `${dir}/audit-2.conf`;
}

test('kill -9 of the audit consumer holding pending entries: a second consumer claims them, each change audited once', async (t) => {
  const tok = await adminToken();
  await quiet();
  for (const s of STREAMS) assert.deepEqual(pendingAt(s, 'audit-1'), [], `nothing pending at audit-1 on ${s} before the drill`);
  const m = marks();
  const prefix = `fb${rnd()}_`;
  const dir = mkdtempSync(`${tmpdir()}/crm-fault-`);
  const b = burst(tok, prefix, { workers: 2 });
  const pid = pidOf('audit');
  let second = null, stopped = false;
  try {
    await moreSuccesses(b, 5, 15000, 'writes before the consumer stops');
    // Freeze audit-1. When it is frozen inside its blocking XREADGROUP, Redis delivers the next
    // entries to it anyway: delivered, never acknowledged. Try again when it froze elsewhere.
    let held = [];
    for (let i = 0; i < 10 && held.length === 0; i++) {
      process.kill(pid, 'SIGSTOP');
      stopped = true;
      await sleep(600);
      held = pendingAt('crm:stream:auth', 'audit-1');
      if (held.length === 0) { process.kill(pid, 'SIGCONT'); stopped = false; await sleep(150 + 100 * i); }
    }
    assert.ok(held.length > 0, 'audit-1 holds delivered, unacknowledged entries of crm:stream:auth');
    // kill -9 it, under a stop request so supervisord does not start it again
    const stopper = spawn('sh', ['-c', `${process.env.CRM_TEST_SUPERVISORCTL ?? `supervisorctl -c ${STATE}/supervisord.conf`} stop audit`], { stdio: 'ignore' });
    const stopDone = new Promise((r) => stopper.on('exit', r));
    await eventually(() => state('audit') === 'STOPPING', 10000, 'supervisord stopping audit');
    process.kill(pid, 'SIGKILL');
    await stopDone;
    await eventually(() => !alive(pid), 5000, 'audit-1 gone');
    assert.equal(state('audit'), 'STOPPED', 'supervisord did not restart audit');
    const orphaned = STREAMS.flatMap((s) => pendingAt(s, 'audit-1').map((id) => `${s} ${id}`));
    t.diagnostic(`audit-1 (pid ${pid}) killed holding ${orphaned.length} entries: ${orphaned.slice(0, 4).join(', ')}`);
    assert.ok(orphaned.length >= held.length);
    await moreSuccesses(b, 10, 15000, 'writes while no consumer runs');

    // the second consumer: same group, another name, claims entries idle for 2 s
    const env = {
      PATH: process.env.PATH,
      ASAN_OPTIONS: `detect_leaks=0:abort_on_error=1:log_path=${STATE}/log/asan`,
      UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1:log_path=${STATE}/log/ubsan`,
    };
    const log = openSync(`${STATE}/log/audit-2.log`, 'a');
    second = spawn(`${REPO}/build-asan/services/audit/crm-audit`, ['--config', secondConfig(dir)],
      { cwd: REPO, env, stdio: ['ignore', log, log] });
    const secondExit = new Promise((r) => second.on('exit', (code, sig) => r({ code, sig })));
    await eventually(() => healthy(SECOND), 30000, 'audit-2 healthy');
    await eventually(async () => (await consumerCounts(SECOND)).claimed > 0, 15000, 'audit-2 claiming');
    await eventually(() => STREAMS.every((s) => pendingAt(s, 'audit-1').length === 0), 15000, 'audit-1\'s entries all taken over');
    await moreSuccesses(b, 10, 15000, 'writes while audit-2 consumes');
    await b.stop();
    t.diagnostic(`answers: ${JSON.stringify(statuses(b.results))}`);

    const rows = await expectExactlyOnce(m, 'with audit-2');
    expectItemsOnce(prefix, b.results, 'with audit-2');
    await expectOperationsOnce(prefix, b.results, 'with audit-2');
    const c = await consumerCounts(SECOND);
    t.diagnostic(`${rows.length} events committed; audit-2: ${JSON.stringify(c)}`);
    assert.ok(c.claimed >= held.length, 'audit-2 claimed at least what audit-1 held');
    assert.equal(c.dead, 0, 'nothing dead-lettered');
    await expectVerifyOk(tok, SECOND);

    // audit-2 leaves (SIGTERM: it finishes what it holds), audit-1 comes back
    await eventually(() => STREAMS.every((s) => pendingAt(s, 'audit-2').length === 0), 10000, 'audit-2 holding nothing');
    second.kill('SIGTERM');
    const exit = await Promise.race([secondExit, sleep(20000).then(() => ({ timeout: true }))]);
    assert.deepEqual(exit, { code: 0, sig: null }, 'audit-2 stopped cleanly on SIGTERM');
    second = null;
    for (const s of STREAMS) redis('XGROUP', 'DELCONSUMER', s, 'audit', 'audit-2');
  } finally {
    await b.stop();
    if (second) { second.kill('SIGKILL'); second = null; }
    if (stopped && alive(pid)) process.kill(pid, 'SIGCONT');
    if (state('audit') !== 'RUNNING') supervisorctl('start', 'audit');
    rmSync(dir, { recursive: true, force: true });
  }
  await waitHealthy('audit');
  await expectVerifyOk(tok);
  // the restarted audit-1 keeps consuming
  const m2 = marks();
  const after = burst(tok, `${prefix}z`, { workers: 1 });
  await moreSuccesses(after, 3, 15000, 'writes after audit-1 is back');
  await after.stop();
  await expectExactlyOnce(m2, 'after audit-1 is back');
});
