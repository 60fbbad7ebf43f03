// SPDX-License-Identifier: Apache-2.0
// Every error code the API can answer has a message in every language of the web console:
//   - problem codes: every code the C sources pass to a problem reply (http_reply_problem,
//     svc_job_fail, kit_fail, ...), plus the codes of openapi.yaml's Problem table, need
//     errors.<code> in web/src/locales/*.json;
//   - field-error codes: every FIELD_CODE of shared/errcodes.def needs fieldErrors.<code>, whose
//     placeholders ({max}...) are params that code sends;
//   - openapi.yaml documents the same field codes (FieldError.code) and every problem code.
// Reads files only (no stack needed): node --test tests/contract/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { yamlParse } from './yaml.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel) => readFileSync(path.join(REPO, rel), 'utf8');
const LOCALES = ['zh-CN', 'en'];
const C_DIRS = ['shared', 'gateway', 'services'];
const CODE = /^[a-z][a-z0-9_]*$/;

// Functions that answer a problem, and the index of their 'code' argument.
const PROBLEM_CALLS = {
    http_reply_problem: 2,
    svc_job_fail: 2,
    kit_fail: 2,
    conn_send_error: 2,
    conn_error_reply: 2,
    ex_fail: 2,
    fail_forbidden: 1,
};

function cFiles(dir) {
    const out = [];
    for (const name of readdirSync(path.join(REPO, dir))) {
        const rel = path.join(dir, name);
        if (statSync(path.join(REPO, rel)).isDirectory()) out.push(...cFiles(rel));
        else if (/\.[ch]$/.test(name)) out.push(rel);
    }
    return out;
}

// Comments blanked (string literals kept), so "/*" inside a string does not confuse the scan.
function stripComments(text) {
    return text.replace(/"(?:[^"\\\n]|\\.)*"|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) =>
        m.startsWith('"') ? m : m.replace(/[^\n]/g, ' '),
    );
}

// The top-level arguments of the call whose '(' is at 'open' in 'src'.
function callArgs(src, open) {
    const args = [];
    let depth = 0,
        cur = '';
    for (let i = open + 1; i < src.length; i++) {
        const c = src[i];
        if (c === '"') {
            const m = /^"(?:[^"\\]|\\.)*"/.exec(src.slice(i));
            cur += m[0];
            i += m[0].length - 1;
            continue;
        }
        if (c === '(') depth++;
        if (c === ')' && depth-- === 0) break;
        if (c === ',' && depth === 0) {
            args.push(cur.trim());
            cur = '';
            continue;
        }
        cur += c;
    }
    args.push(cur.trim());
    return args;
}

let problemCache;
// { codes: Map code -> first "file:line", odd: [places whose code is not a literal] }
function problemCodesInC() {
    if (problemCache) return problemCache;
    const codes = new Map();
    const odd = [];
    const call = new RegExp(`\\b(${Object.keys(PROBLEM_CALLS).join('|')})\\s*\\(`, 'g');
    for (const file of C_DIRS.flatMap(cFiles)) {
        const src = stripComments(read(file));
        const where = (at) => `${file}:${src.slice(0, at).split('\n').length}`;
        for (const m of src.matchAll(call)) {
            const arg = callArgs(src, m.index + m[0].length - 1)[PROBLEM_CALLS[m[1]]] ?? '';
            const literals = [...arg.matchAll(/"([^"]*)"/g)].map((x) => x[1]);
            for (const lit of literals) {
                if (CODE.test(lit)) codes.has(lit) || codes.set(lit, where(m.index));
                else odd.push(`${where(m.index)}: ${m[1]} with code "${lit}"`);
            }
            // a declaration, or a helper passing its own 'code' parameter on
            if (literals.length === 0 && !/\bcode\b/.test(arg)) odd.push(`${where(m.index)}: ${m[1]}(${arg}...)`);
        }
        for (const m of src.matchAll(/\*?\bcode\s*=\s*"([^"]*)"/g)) {
            if (CODE.test(m[1])) codes.has(m[1]) || codes.set(m[1], where(m.index));
        }
    }
    problemCache = { codes, odd };
    return problemCache;
}

let fieldCache;
// Map code -> [params] from shared/errcodes.def
function fieldCodes() {
    if (fieldCache) return fieldCache;
    const text = stripComments(read('shared/errcodes.def'));
    fieldCache = new Map();
    for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
        const m = /^FIELD_CODE\(\s*([a-z][a-z0-9_]*)\s*,\s*"([a-z_ ]*)"\s*\)$/.exec(line);
        assert.ok(m, `shared/errcodes.def: cannot read "${line}"; lines are FIELD_CODE(code, "params")`);
        assert.ok(!fieldCache.has(m[1]), `shared/errcodes.def: ${m[1]} twice`);
        fieldCache.set(m[1], m[2].split(' ').filter(Boolean));
    }
    return fieldCache;
}

let openapiCache;
function openapi() {
    return (openapiCache ??= yamlParse(read('proto-docs/openapi.yaml')));
}
// The codes of the Problem schema's table: rows "| 404 | `not_found` | ... |".
function openapiProblemCodes() {
    const desc = openapi().components.schemas.Problem.description;
    return [...desc.matchAll(/^\|\s*\d{3}\s*\|\s*`([a-z][a-z0-9_]*)`\s*\|/gm)].map((m) => m[1]);
}

const locale = (name) => JSON.parse(read(`web/src/locales/${name}.json`));
// The {placeholders} of a vue-i18n message.
const placeholders = (msg) => [...String(msg).matchAll(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}/g)].map((m) => m[1]);

test('the C sources answer problem codes only as literals the scan can read', () => {
    const { codes, odd } = problemCodesInC();
    assert.ok(codes.size >= 20, `only ${codes.size} problem codes found in the C sources: the scan is broken`);
    for (const c of ['not_found', 'validation_failed', 'invalid_credentials', 'conflict', 'bad_gateway', 'forbidden'])
        assert.ok(codes.has(c), `the scan misses the problem code ${c}`);
    // Declarations of the functions themselves are the only calls without a literal code.
    const notDecl = odd.filter((o) => !/\b(const char \*|int )code\b/.test(o));
    assert.deepEqual(notDecl, [], 'problem replies whose code this test cannot read (pass a literal code)');
});

for (const name of LOCALES) {
    test(`${name}.json has errors.<code> for every problem code the API can answer`, () => {
        const msgs = locale(name).errors ?? {};
        const { codes } = problemCodesInC();
        const all = new Map(codes);
        for (const c of openapiProblemCodes()) all.has(c) || all.set(c, 'proto-docs/openapi.yaml (Problem)');
        const missing = [...all].filter(([c]) => typeof msgs[c] !== 'string' || msgs[c].trim() === '');
        assert.deepEqual(
            missing.map(([c, where]) => `errors.${c} (answered at ${where})`),
            [],
            `web/src/locales/${name}.json lacks messages`,
        );
        for (const [c, msg] of Object.entries(msgs))
            assert.deepEqual(placeholders(msg), [], `errors.${c} in ${name}.json: a problem code has no params`);
    });

    test(`${name}.json has fieldErrors.<code> for every field-error code, with only its params`, () => {
        const msgs = locale(name).fieldErrors ?? {};
        const missing = [...fieldCodes().keys()].filter((c) => typeof msgs[c] !== 'string' || msgs[c].trim() === '');
        assert.deepEqual(missing.map((c) => `fieldErrors.${c}`), [], `web/src/locales/${name}.json lacks messages`);
        for (const [c, params] of fieldCodes()) {
            const extra = placeholders(msgs[c]).filter((p) => !params.includes(p));
            assert.deepEqual(extra, [], `fieldErrors.${c} in ${name}.json uses params ${c} does not send`);
        }
    });
}

test('openapi.yaml: FieldError.code lists exactly the codes of shared/errcodes.def', () => {
    const fe = openapi().components.schemas.FieldError;
    assert.deepEqual([...fe.properties.code.enum].sort(), [...fieldCodes().keys()].sort());
    for (const c of fieldCodes().keys())
        assert.match(fe.description, new RegExp(`\\|\\s*\`${c}\`\\s*\\|`), `FieldError's table lacks ${c}`);
});

test('openapi.yaml: the Problem table documents every problem code the C sources answer', () => {
    const documented = new Set(openapiProblemCodes());
    const undocumented = [...problemCodesInC().codes].filter(([c]) => !documented.has(c));
    assert.deepEqual(undocumented.map(([c, where]) => `${c} (${where})`), []);
});
