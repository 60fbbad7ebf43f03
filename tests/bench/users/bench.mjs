// tests/bench/users/bench.mjs — the user-list benchmark driven by run.sh (see README.md).
// Node 20 built-ins and fetch only; SQL through the mariadb client as root over the socket.
//
// Phases:
//   depts    as admin, through the API: the team departments under the demo's 华东销售部 and
//            华南销售部 (created when missing)
//   seed     USERS users bu_000001.. straight into crm_auth.users with multi-row INSERTs (no
//            password hashing: their hash is a string no password matches), with departments,
//            roles and statuses; skipped when exactly USERS of them are there already
//   cursor   page 1 and then next_cursor after next_cursor to the cursor of page DEEP_PAGE
//   quiet    with WAIT_QUIET, up to that many seconds for the machine to be quiet
//   measure  each case WARMUP times (discarded) then REPEAT times, one request at a time, one
//            request started at most every INTERVAL_MS: straight to the auth service, then
//            through the gateway
//   explain  the statements listq builds for each case, with EXPLAIN's plan and ANALYZE's
//            r_total_time_ms (the database's own time for the statement)
//
// Environment (run.sh sets these): AUTH, GATEWAY, STATE, MYSQL_SOCK, USERS, REPEAT, WARMUP,
// INTERVAL_MS, DEEP_PAGE, WAIT_QUIET, DEADLINE_MS, EXPLAIN, RESULT_JSON.
// Exit status: 0 a valid run (aims MET or NOT MET), 1 an invalid run (see the FAIL lines).

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const env = (k, d) => process.env[k] ?? d;
const AUTH = env('AUTH', 'http://127.0.0.1:7101');
const GATEWAY = env('GATEWAY', 'http://127.0.0.1:8080');
const STATE = env('STATE', '.run');
const MYSQL_SOCK = env('MYSQL_SOCK', `${STATE}/mysql/mysqld.sock`);
const USERS = Number(env('USERS', 100000));
const REPEAT = Number(env('REPEAT', 200));
const WARMUP = Number(env('WARMUP', 20));
const INTERVAL_MS = Number(env('INTERVAL_MS', 20));
const DEEP_PAGE = Number(env('DEEP_PAGE', 2000));
const PAGE_SIZE = 20;
const DEADLINE = Date.now() + Number(env('DEADLINE_MS', 840000));
const EXPLAIN = env('EXPLAIN', '1') === '1';
const AIM = 1.5; // page DEEP_PAGE and the filtered pages within 1.5x of page 1's p50

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (s) => process.stderr.write(`[users bench] ${s}\n`);
const failures = [];
function fail(msg) {
    failures.push(msg);
    console.log(`FAIL ${msg}`);
}
function checkDeadline(what) {
    if (Date.now() > DEADLINE) {
        console.log(`FAIL out of time before ${what} (DEADLINE_S)`);
        process.exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// SQL and HTTP
// ---------------------------------------------------------------------------------------------

/** Run 'sql' as root in crm_auth; tab-separated rows without headers. */
function sql(text, { headers = false } = {}) {
    const args = ['--no-defaults', `--socket=${MYSQL_SOCK}`, '-uroot', '-B', '-r', 'crm_auth'];
    if (!headers) args.push('-N');
    return execFileSync('mariadb', args, { input: text, encoding: 'utf8', maxBuffer: 64 << 20 }).trimEnd();
}

async function call(base, method, path, token, body) {
    const res = await fetch(base + path, {
        method,
        headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(10000),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
}

function credentials() {
    const out = {};
    for (const line of readFileSync(`${STATE}/credentials`, 'utf8').split('\n')) {
        const [user, password] = line.trim().split(/\s+/);
        if (user && password) out[user] = password;
    }
    return out;
}

async function tokenOf(user, pw) {
    return (await call(GATEWAY, 'POST', '/api/v1/auth/login', null, { username: user, password: pw })).access_token;
}

// ---------------------------------------------------------------------------------------------
// Data: teams and users
// ---------------------------------------------------------------------------------------------

const TEAMS = { 华东销售部: ['华东一组', '华东二组', '华东三组'], 华南销售部: ['华南一组', '华南二组'] };

async function ensureTeams(admin) {
    const flat = (nodes) => nodes.flatMap((n) => [n, ...flat(n.children ?? [])]);
    let all = flat((await call(AUTH, 'GET', '/api/v1/departments', admin)).items);
    const byName = (name, parent) => all.find((d) => d.name === name && (parent === undefined || d.parent_id === parent));
    const root = byName('总部');
    if (!root) throw new Error('no department 总部: load the demo data first (deploy/demo/load)');
    const depts = { 总部: root.id };
    for (const [sales, teams] of Object.entries(TEAMS)) {
        const s = byName(sales, root.id);
        if (!s) throw new Error(`no department 总部 → ${sales}: load the demo data first (deploy/demo/load)`);
        depts[sales] = s.id;
        for (const t of teams) {
            let d = byName(t, s.id);
            if (!d) {
                d = await call(AUTH, 'POST', '/api/v1/departments', admin, { name: t, parent_id: s.id });
                log(`created department ${sales} → ${t} (id ${d.id})`);
                all = [...all, d];
            }
            depts[t] = d.id;
        }
    }
    return depts;
}

// A user administrator of 华东销售部 and below (its own role: DEPT_AND_CHILD, system:user:read),
// with a new random password every run, for the scoped case. One argon2id hash through the API.
const SCOPED_USER = 'bench_user_reader';
async function scopedReader(admin, deptId) {
    const code = 'bench_user_reader_dc';
    const roles = (await call(AUTH, 'GET', '/api/v1/roles?page_size=100', admin)).items;
    const role = roles.find((r) => r.code === code) ?? await call(AUTH, 'POST', '/api/v1/roles', admin, {
        code, name: '用户查看(本部门及以下)', data_scope: 'DEPT_AND_CHILD', permissions: ['system:user:read'],
    });
    const password = `Bench-${randomBytes(12).toString('base64url')}-9`;
    const found = (await call(AUTH, 'GET', `/api/v1/users?q=${SCOPED_USER}`, admin)).items.find((u) => u.username === SCOPED_USER);
    let id = found?.id;
    if (found) {
        await call(AUTH, 'POST', `/api/v1/users/${id}/reset-password`, admin, { new_password: password });
    } else {
        id = (await call(AUTH, 'POST', '/api/v1/users', admin, {
            username: SCOPED_USER, display_name: '基准用户查看员', password, dept_id: deptId, role_ids: [role.id],
        })).id;
    }
    return { id, token: await tokenOf(SCOPED_USER, password) };
}

// A fixed pseudo-random sequence (mulberry32): the same data set on every machine.
function prng(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
const pick = (rnd, weighted) => {
    let x = rnd() * weighted.reduce((s, [, w]) => s + w, 0);
    for (const [v, w] of weighted) if ((x -= w) < 0) return v;
    return weighted[weighted.length - 1][0];
};

// The most common surnames (roughly by frequency) and given names.
const SURNAMES = [['王', 10], ['李', 10], ['张', 9], ['刘', 7], ['陈', 6], ['杨', 4], ['黄', 3], ['赵', 3],
    ['吴', 3], ['周', 3], ['徐', 2], ['孙', 2], ['马', 2], ['朱', 2], ['胡', 2], ['郭', 2], ['何', 1], ['高', 1],
    ['林', 1], ['罗', 1], ['郑', 1], ['梁', 1], ['谢', 1], ['宋', 1], ['唐', 1]];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超',
    '秀英', '霞', '平', '刚', '桂英', '建华', '文', '华', '红', '志强', '海燕', '建国', '晓东', '子涵', '雨桐',
    '浩然', '欣怡', '思远', '佳琪', '宇航', '梓萱', '俊杰', '婷婷'].map((g) => [g, 1]);

const MARK = 'bu\\_%'; // LIKE pattern of the bench users' usernames

function seed(depts, roles) {
    const have = Number(sql(`SELECT COUNT(*) FROM users WHERE username LIKE '${MARK}'`));
    if (have === USERS) {
        log(`${have} bench users are there already: no seeding`);
        return { seeded: false, seconds: 0 };
    }
    const t0 = Date.now();
    if (have > 0) {
        log(`deleting ${have} bench users of another size`);
        sql(`DELETE FROM users WHERE username LIKE '${MARK}'`);
    }
    // Where people work: mostly in the teams, a few in the sales departments and at 总部.
    const where = [['华东一组', 20], ['华东二组', 20], ['华东三组', 20], ['华南一组', 15], ['华南二组', 15],
        ['华东销售部', 4], ['华南销售部', 3], ['总部', 3]].map(([n, w]) => [depts[n], w]);
    const rnd = prng(20261203);
    const span = 3 * 365 * 86400; // created over three years, in id order, up to a day ago
    const end = Math.floor(Date.now() / 1000) - 86400;
    const CHUNK = 2000;
    const ts = (s) => new Date(s * 1000).toISOString().slice(0, 23).replace('T', ' ');
    for (let from = 1; from <= USERS; from += CHUNK) {
        const rows = [];
        for (let i = from; i < Math.min(from + CHUNK, USERS + 1); i++) {
            const name = pick(rnd, SURNAMES) + pick(rnd, GIVEN);
            const created = ts(end - span + Math.floor((span * i) / USERS) + Math.floor(rnd() * 60));
            const status = rnd() < 0.05 ? 'disabled' : 'enabled';
            const u = `bu_${String(i).padStart(6, '0')}`;
            const phone = `1${38 + Math.floor(rnd() * 12)}${String(Math.floor(rnd() * 1e8)).padStart(8, '0')}`;
            rows.push(`('${u}','${name}','${phone}','${u}@example.com',${pick(rnd, where)},'${status}',` +
                `'!bench user: no password matches','${created}','${created}','${created}')`);
        }
        sql(`INSERT INTO users (username, display_name, phone, email, dept_id, status, password_hash,` +
            ` created_at, updated_at, password_changed_at) VALUES ${rows.join(',')}`);
    }
    // roles: 1 in 25 a sales director, 1 in 20 read-only, the rest customer managers
    sql(`INSERT INTO user_roles (user_id, role_id) SELECT id, CASE WHEN id % 25 = 0 THEN ${roles.sales_director}` +
        ` WHEN id % 20 = 1 THEN ${roles.readonly} ELSE ${roles.customer_manager} END FROM users` +
        ` WHERE username LIKE '${MARK}'`);
    sql('ANALYZE TABLE users, user_roles');
    const seconds = (Date.now() - t0) / 1000;
    log(`seeded ${USERS} users in ${seconds.toFixed(1)} s`);
    return { seeded: true, seconds };
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

/** 'text' padded to 'n' columns on a terminal (CJK characters take two). */
function padCols(text, n) {
    const cols = [...text].reduce((w, ch) => w + (/[\u2e80-\u9fff\uff00-\uffef]/.test(ch) ? 2 : 1), 0);
    return text + ' '.repeat(Math.max(0, n - cols));
}

/** The machine's non-idle CPU time so far (user nice system irq softirq steal), in ticks. */
const CLK_TCK = 100;
function cpuTicks() {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
}

function pct(sorted, p) {
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** WARMUP + REPEAT requests of 'path', one at a time, paced; latencies of the measured ones. */
async function measure(base, path, token) {
    const lat = [];
    let last = null;
    let next = performance.now();
    for (let i = 0; i < WARMUP + REPEAT; i++) {
        checkDeadline(`the end of ${path}`);
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        next = performance.now() + INTERVAL_MS;
        const t = performance.now();
        let res;
        let text;
        try {
            res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10000) });
            text = await res.text();
        } catch (e) {
            fail(`${base}${path}: ${e.name === 'TimeoutError' ? 'no answer within 10 s' : e.cause?.code ?? e.message}`);
            return null;
        }
        const ms = performance.now() - t;
        if (res.status !== 200) {
            fail(`${base}${path} answered ${res.status}: ${text.slice(0, 200)}`);
            return null;
        }
        if (i >= WARMUP) lat.push(ms);
        last = text;
    }
    lat.sort((a, b) => a - b);
    const body = JSON.parse(last);
    return { p50: pct(lat, 50), p95: pct(lat, 95), max: lat[lat.length - 1], n: lat.length, body };
}

// ---------------------------------------------------------------------------------------------
// The statements listq builds (shared/listq.c listq_run, services/auth/repo_users.c), for EXPLAIN
// ---------------------------------------------------------------------------------------------

const USER_COLUMNS = "u.id, u.username, u.display_name, u.phone, u.email, u.dept_id, d.name AS dept_name," +
    " IF(u.status = 'locked' AND (u.locked_until IS NULL OR u.locked_until <= NOW(3)), 'enabled', u.status) AS status," +
    ' IF(u.locked_until > NOW(3), u.locked_until, NULL) AS locked_until, u.version, u.created_at, u.updated_at';

function statements({ where = [], sort = 'u.id', dir = 'DESC', offset = 0 }) {
    const w = where.length ? ` WHERE ${where.map((c) => `(${c})`).join(' AND ')}` : '';
    return {
        count: `SELECT COUNT(*) AS n FROM (SELECT 1 FROM users u${w} LIMIT 10001) c`,
        page: `SELECT ${USER_COLUMNS}, pg.k_sort, pg.k_id FROM (SELECT u.id AS k_id, ${sort} AS k_sort FROM users u${w}` +
            ` ORDER BY ${sort} ${dir}, u.id ${dir} LIMIT ${PAGE_SIZE + 1} OFFSET ${offset}) pg JOIN users u ON u.id = pg.k_id` +
            ` LEFT JOIN departments d ON d.id = u.dept_id ORDER BY pg.k_sort ${dir}, pg.k_id ${dir}`,
    };
}

/** EXPLAIN lines (table type key rows Extra) and the median of 5 ANALYZE r_total_time_ms of 'stmt'. */
function explain(stmt) {
    const plan = sql(`EXPLAIN ${stmt}`, { headers: true }).split('\n');
    const head = plan[0].split('\t');
    const col = (r, k) => r[head.indexOf(k)];
    const lines = plan.slice(1).map((l) => l.split('\t')).map((r) =>
        `${col(r, 'id')} ${col(r, 'select_type').padEnd(12)} ${col(r, 'table').padEnd(10)} ${col(r, 'type').padEnd(6)}` +
        ` key=${col(r, 'key')} rows=${col(r, 'rows')} ${col(r, 'Extra') === 'NULL' ? '' : col(r, 'Extra')}`);
    const ms = [];
    for (let i = 0; i < 5; i++) ms.push(JSON.parse(sql(`ANALYZE FORMAT=JSON ${stmt}`)).query_block?.r_total_time_ms);
    return { lines, ms: ms.sort((a, b) => a - b)[2] };
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main() {
    const cred = credentials();
    if (!cred.admin) throw new Error(`no admin line in ${STATE}/credentials`);
    const admin = await tokenOf('admin', cred.admin);
    const depts = await ensureTeams(admin);
    const roleRows = (await call(AUTH, 'GET', '/api/v1/roles?page_size=100', admin)).items;
    const roles = Object.fromEntries(roleRows.map((r) => [r.code, r.id]));
    for (const c of ['sales_director', 'readonly', 'customer_manager']) if (!roles[c]) throw new Error(`no built-in role ${c}`);
    const s = seed(depts, roles);
    const counts = sql('SELECT COUNT(*), SUM(status = \'disabled\'), (SELECT COUNT(*) FROM user_roles),' +
        ' (SELECT COUNT(*) FROM departments) FROM users').split('\t').map(Number);

    // the cursor of page DEEP_PAGE, walked once from page 1
    checkDeadline('the cursor walk');
    const t0 = Date.now();
    let cursor = null;
    for (let p = 1; p < DEEP_PAGE; p++) {
        const q = `/api/v1/users?page_size=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        cursor = (await call(AUTH, 'GET', q, admin)).next_cursor;
        if (!cursor) throw new Error(`no next_cursor on page ${p}: fewer users than ${DEEP_PAGE} pages`);
        if (p % 500 === 0) checkDeadline('the end of the cursor walk');
    }
    const walkS = (Date.now() - t0) / 1000;
    log(`walked ${DEEP_PAGE - 1} pages by cursor in ${walkS.toFixed(1)} s`);
    const deepByPage = await call(AUTH, 'GET', `/api/v1/users?page_size=${PAGE_SIZE}&page=${DEEP_PAGE}`, admin);
    const deepByCursor = await call(AUTH, 'GET', `/api/v1/users?page_size=${PAGE_SIZE}&cursor=${encodeURIComponent(cursor)}`, admin);
    const idsOf = (b) => b.items.map((u) => u.id).join(',');
    if (idsOf(deepByPage) !== idsOf(deepByCursor) || deepByPage.items.length !== PAGE_SIZE) {
        fail(`page ${DEEP_PAGE} by ?page= and by cursor differ: [${idsOf(deepByPage)}] vs [${idsOf(deepByCursor)}]`);
    }
    const lastId = JSON.parse(Buffer.from(cursor, 'base64url').toString())[3]; // [sort, order, value, id]

    const scoped = await scopedReader(admin, depts['华东销售部']);
    const qName = '张伟';
    const team = depts['华东一组'];
    const scopeSql = `u.dept_id IN (WITH RECURSIVE scope_tree AS (SELECT dept_id AS id FROM users WHERE id = ${scoped.id}` +
        ' UNION ALL SELECT c.id FROM departments c JOIN scope_tree p ON c.parent_id = p.id) SELECT id FROM scope_tree)';
    const cases = [
        { key: 'page1', label: 'page 1', path: `?page_size=${PAGE_SIZE}`, stmt: statements({}) },
        {
            key: 'deep_page', label: `page ${DEEP_PAGE} by ?page=`, aim: true, path: `?page_size=${PAGE_SIZE}&page=${DEEP_PAGE}`,
            stmt: statements({ offset: (DEEP_PAGE - 1) * PAGE_SIZE }),
        },
        {
            key: 'deep_cursor', label: `page ${DEEP_PAGE} by cursor`, aim: true, path: `?page_size=${PAGE_SIZE}&cursor=${encodeURIComponent(cursor)}`,
            stmt: statements({ where: [`u.id < ${lastId} OR (u.id = ${lastId} AND u.id < ${lastId})`] }),
        },
        {
            key: 'q_status', label: `q=${qName}&status=enabled`, aim: true,
            path: `?page_size=${PAGE_SIZE}&q=${encodeURIComponent(qName)}&status=enabled`,
            stmt: statements({ where: [`u.username LIKE '%${qName}%' OR u.display_name LIKE '%${qName}%'`, "u.status = 'enabled'"] }),
        },
        {
            key: 'dept_status', label: 'dept_id=<华东一组>&status=enabled', aim: true, path: `?page_size=${PAGE_SIZE}&dept_id=${team}&status=enabled`,
            stmt: statements({ where: [`u.dept_id = ${team}`, "u.status = 'enabled'"] }),
        },
        {
            key: 'sort_name', label: 'page 1, sort=display_name', path: `?page_size=${PAGE_SIZE}&sort=display_name`,
            stmt: statements({ sort: 'u.display_name', dir: 'ASC' }),
        },
    ];
    cases.push({
        key: 'scoped', label: `page 1 as ${SCOPED_USER} (DEPT_AND_CHILD)`, path: `?page_size=${PAGE_SIZE}`, token: scoped.token,
        stmt: statements({ where: [scopeSql] }),
    });

    // a quiet machine first, when asked (WAIT_QUIET seconds at most)
    const quietUntil = Date.now() + Number(env('WAIT_QUIET', 0)) * 1000;
    let before;
    for (;;) {
        const t = cpuTicks();
        await sleep(3000);
        before = (cpuTicks() - t) / CLK_TCK / 3; // cores busy
        if (before < 0.3 || Date.now() >= quietUntil) break;
        log(`machine busy (${(before * 100).toFixed(0)}% of one core): waiting (${Math.round((quietUntil - Date.now()) / 1000)} s left)`);
        checkDeadline('a quiet machine');
    }
    const busy0 = cpuTicks();
    const m0 = Date.now();
    for (const [target, base] of [['direct', AUTH], ['gateway', GATEWAY]]) {
        for (const c of cases) {
            log(`${target}: ${c.label}`);
            const m = await measure(base, `/api/v1/users${c.path}`, c.token ?? admin);
            if (!m) break;
            c[target] = m;
            if (m.body.items.length !== PAGE_SIZE) fail(`${c.label}: ${m.body.items.length} items, not ${PAGE_SIZE}`);
        }
        if (failures.length) break;
    }
    const busy = (cpuTicks() - busy0) / CLK_TCK / ((Date.now() - m0) / 1000); // cores busy, on average
    if (EXPLAIN && !failures.length) {
        for (const c of cases) {
            checkDeadline('EXPLAIN');
            c.explain = { count: explain(c.stmt.count), page: explain(c.stmt.page) };
        }
    }

    // ---- the report ----
    const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?';
    const [la1, la5] = readFileSync('/proc/loadavg', 'utf8').split(' ');
    console.log(`machine  : ${(await import('node:os')).cpus().length} cores, ${cpu}; load average now ${la1} (1 min), ${la5} (5 min)`);
    console.log(`data     : users ${counts[0]} (${counts[1]} disabled), user_roles ${counts[2]}, departments ${counts[3]};` +
        ` ${s.seeded ? `seeded ${USERS} in ${s.seconds.toFixed(1)} s` : 'seeded by an earlier run'}`);
    console.log(`cursor   : ${DEEP_PAGE - 1} pages walked by next_cursor in ${walkS.toFixed(1)} s;` +
        ` page ${DEEP_PAGE} by cursor ${idsOf(deepByPage) === idsOf(deepByCursor) ? '=' : '!='} by ?page=`);
    console.log(`busy     : ${(before * 100).toFixed(0)}% of one core in the 3 s before measuring, ${(busy * 100).toFixed(0)}% on` +
        ` average while measuring (the whole machine, ${(await import('node:os')).cpus().length * 100}% = all cores;` +
        " this run's own load included)");
    console.log(`requests : GET /api/v1/users as admin, page_size ${PAGE_SIZE}, ${WARMUP} warm-up + ${REPEAT} measured per case,` +
        ` one at a time, at most one every ${INTERVAL_MS} ms`);
    console.log('');
    const f = (x) => (x === undefined || Number.isNaN(x) ? '     -' : x.toFixed(1).padStart(6));
    const base = cases[0].direct?.p50;
    console.log(`${'case'.padEnd(44)} ${'direct p50'.padStart(10)} ${'p95'.padStart(6)} ${'x p1'.padStart(5)}` +
        `   ${'gateway p50'.padStart(11)} ${'p95'.padStart(6)}   ${'db ms'.padStart(11)}  total  aim`);
    const verdicts = [];
    for (const c of cases) {
        const d = c.direct;
        const g = c.gateway;
        const ratio = d && base ? d.p50 / base : NaN;
        let aim = '';
        if (c.aim && d) {
            aim = ratio <= AIM ? 'MET' : 'NOT MET';
            verdicts.push(`${c.label}: ${ratio.toFixed(2)}x page 1 -> ${aim}`);
        }
        const db = c.explain ? `${c.explain.count.ms?.toFixed(1)}+${c.explain.page.ms?.toFixed(1)}` : '-';
        const total = d ? `${d.body.total}${d.body.total_capped ? '+' : ''}` : '-';
        console.log(`${padCols(c.label, 44)} ${f(d?.p50).padStart(10)} ${f(d?.p95)} ${Number.isNaN(ratio) ? '    -' : ratio.toFixed(2).padStart(5)}` +
            `   ${f(g?.p50).padStart(11)} ${f(g?.p95)}   ${db.padStart(11)}  ${total.padStart(6)}  ${aim}`);
    }
    console.log('');
    console.log('(ms; "x p1" = direct p50 / page 1 direct p50; "db ms" = ANALYZE r_total_time_ms of the count + the page');
    console.log(` statement in MariaDB itself; total "+" = capped at 10,000). Aim: within ${AIM}x of page 1's p50:`);
    for (const v of verdicts) console.log(`  ${v}`);
    if (EXPLAIN && !failures.length) {
        console.log('');
        console.log('plans (EXPLAIN of the statements listq builds; the roles of the page are one more indexed query):');
        for (const c of cases) {
            console.log(`  ${c.label}`);
            for (const k of ['count', 'page']) {
                console.log(`    ${k} (${c.explain[k].ms?.toFixed(2)} ms in the database):`);
                for (const l of c.explain[k].lines) console.log(`      ${l}`);
            }
        }
    }
    if (env('RESULT_JSON', '')) {
        writeFileSync(env('RESULT_JSON'), JSON.stringify(cases.map(({ stmt, ...c }) => ({
            ...c, direct: c.direct && { ...c.direct, body: undefined }, gateway: c.gateway && { ...c.gateway, body: undefined },
        })), null, 2));
    }
    if (failures.length) {
        console.log(`\nINVALID RUN: ${failures.length} failure(s); the figures are not to be quoted`);
        process.exit(1);
    }
}

main().catch((e) => {
    console.log(`FAIL ${e.message}`);
    process.exit(1);
});
