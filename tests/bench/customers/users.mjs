#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// users.mjs — the customer managers who own the generated customers, made through the auth
// service's API as the demo loader makes its users: ten team departments under the demo's 华东销售部
// and 华南销售部, MANAGERS users bm_001.. (role customer_manager, scope SELF) spread over them,
// all with one password kept in STATE/secrets/bench_password. Then waits until the customer
// service's scope projection (crm_customer.scope_users, fed by the auth stream) knows every one
// of them. Prints "user_id<TAB>dept_id<TAB>username" a line on stdout, bm_001 first (the
// generator gives it 3% of the customers). Safe to run again: only what is missing is made.
// Environment: CRM_BENCH_STATE, CRM_BENCH_GATEWAY, CRM_BENCH_SOCK (run.sh sets them), MANAGERS=200.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, login, sql, sleep } from './http.mjs';

const STATE = process.env.CRM_BENCH_STATE;
const MANAGERS = Number(process.env.MANAGERS ?? 200);
const TEAMS = ['一组', '二组', '三组', '四组', '五组'];
const PARENTS = ['华东销售部', '华南销售部'];
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹';
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰萍红鹏辉玲';

function benchPassword() {
  const file = join(STATE, 'secrets', 'bench_password');
  if (!existsSync(file)) writeFileSync(file, `Bm${randomBytes(9).toString('hex')}#\n`, { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function main() {
  const adminPw = readFileSync(join(STATE, 'secrets', 'admin_password'), 'utf8').trim();
  const admin = await login('admin', adminPw);
  const roles = (await api(admin, 'GET', '/api/v1/roles?page_size=100')).items;
  const role = roles.find((r) => r.code === 'customer_manager');
  if (!role) throw new Error('no role customer_manager');

  const flat = [];
  const walk = (list) => list.forEach((d) => { flat.push(d); walk(d.children ?? []); });
  const deptList = async () => { flat.length = 0; walk((await api(admin, 'GET', '/api/v1/departments')).items); return flat; };
  const teams = [];
  for (const parentName of PARENTS) {
    const parent = (await deptList()).find((d) => d.name === parentName);
    if (!parent) throw new Error(`no department ${parentName} (deploy/demo/load makes it)`);
    for (const [i, t] of TEAMS.entries()) {
      const name = `${parentName.slice(0, 2)}${t}`;
      let d = (await deptList()).find((x) => x.name === name && x.parent_id === parent.id);
      if (!d) d = await api(admin, 'POST', '/api/v1/departments', { name, parent_id: parent.id, sort_order: i + 1 }, [200, 201]);
      teams.push(d.id);
    }
  }

  const password = benchPassword();
  const existing = new Map();
  for (let page = 1; ; page++) {
    const body = await api(admin, 'GET', `/api/v1/users?q=bm_&page_size=100&page=${page}`);
    body.items.forEach((u) => existing.set(u.username, u));
    if (body.items.length < 100) break;
  }
  const out = [];
  const todo = [];
  for (let i = 1; i <= MANAGERS; i++) {
    const username = `bm_${String(i).padStart(3, '0')}`;
    // uneven departments too: the first team gets every third manager
    const dept = teams[i % 3 === 1 ? 0 : i % teams.length];
    const display = SURNAMES[i % SURNAMES.length] + GIVEN[(i * 7) % GIVEN.length] + GIVEN[(i * 13) % GIVEN.length];
    out.push({ username, dept, display });
    if (!existing.has(username)) todo.push(out.at(-1));
  }
  for (let k = 0; k < todo.length; k += 4) {
    await Promise.all(todo.slice(k, k + 4).map(async (u) => {
      const made = await api(admin, 'POST', '/api/v1/users', {
        username: u.username, display_name: u.display, password, dept_id: u.dept, role_ids: [role.id],
      }, [200, 201]);
      existing.set(u.username, made);
    }));
  }
  if (todo.length) process.stderr.write(`[bench] created ${todo.length} managers\n`);

  const ids = out.map((u) => existing.get(u.username).id);
  for (let t = 0; ; t++) {
    const n = Number(sql(`SELECT COUNT(*) FROM crm_customer.scope_users WHERE user_id IN (${ids.join(',')})`));
    if (n === ids.length) break;
    if (t > 120) throw new Error(`the customer service knows ${n} of ${ids.length} managers after 60 s`);
    await sleep(500);
  }
  for (const u of out) {
    const user = existing.get(u.username);
    process.stdout.write(`${user.id}\t${user.dept_id ?? u.dept}\t${u.username}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`[bench] ERROR: ${e.stack ?? e}\n`);
  process.exitCode = 1;
});
