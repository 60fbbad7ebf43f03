// SPDX-License-Identifier: Apache-2.0
// The gateway's route table (shared/routes.def) against the HTTP contract (proto-docs/openapi.yaml)
// and the permission catalogue (services/auth/permissions.tsv):
//   - every route in routes.def is an operation in openapi.yaml with the same x-permission;
//   - every /api/v1 operation in openapi.yaml is a route in routes.def;
//   - every permission code routes.def uses is in permissions.tsv.
// Reads files only (no stack needed): node --test tests/contract/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { yamlParse } from './yaml.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ROUTES_DEF = 'shared/routes.def';
const OPENAPI = 'proto-docs/openapi.yaml';
const CATALOGUE = 'services/auth/permissions.tsv';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];
const PERMISSION_CODE = /^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$/;
const SPECIAL_PERMISSIONS = new Set(['public', 'authenticated']);
// ROUTE("METHOD", "/api/v1/path/{param}", service, "permission")
const ROUTE_LINE =
    /^ROUTE\(\s*"([A-Z]+)"\s*,\s*"([^"]*)"\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*"([^"]*)"\s*\)\s*;?$/;

function readRepoFile(rel, missingHint) {
    const file = path.join(REPO, rel);
    if (!existsSync(file)) {
        throw new Error(`${rel} does not exist (looked for ${file}). ${missingHint}`);
    }
    return readFileSync(file, 'utf8');
}

// Same path, whatever the parameters are called: /a/{id}/b -> /a/{}/b
const shape = (p) => p.replace(/\{[^}/]*\}/g, '{}');
const key = (method, p) => `${method.toUpperCase()} ${p}`;

let routesCache;
function routes() {
    if (routesCache) return routesCache;
    const text = readRepoFile(
        ROUTES_DEF,
        'It is the gateway\'s single route table, lines ROUTE("METHOD", "/api/v1/path/{param}", ' +
            'service, "permission"); this test compares it with proto-docs/openapi.yaml and fails ' +
            'until it is written.',
    );
    // Drop comments but keep the line breaks, so line numbers stay right.
    const code = text
        .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
        .replace(/\/\/[^\n]*/g, '');
    const list = [];
    const unreadable = [];
    code.split('\n').forEach((raw, i) => {
        const line = raw.trim();
        if (line === '' || line.startsWith('#')) return;
        const m = ROUTE_LINE.exec(line);
        if (!m) {
            unreadable.push(`${ROUTES_DEF}:${i + 1}: ${line}`);
            return;
        }
        const [, method, pattern, service, permission] = m;
        list.push({ method, path: pattern, service, permission, where: `${ROUTES_DEF}:${i + 1}` });
    });
    routesCache = { list, unreadable };
    return routesCache;
}

let openapiCache;
function openapi() {
    if (openapiCache) return openapiCache;
    const doc = yamlParse(readRepoFile(OPENAPI, 'The HTTP contract is missing.'));
    assert.ok(doc && typeof doc.paths === 'object', `${OPENAPI} has no paths`);
    const ops = [];
    for (const [p, item] of Object.entries(doc.paths)) {
        for (const method of HTTP_METHODS) {
            const op = item?.[method];
            if (op) ops.push({ method: method.toUpperCase(), path: p, permission: op['x-permission'], id: op.operationId });
        }
    }
    openapiCache = { doc, ops };
    return openapiCache;
}

let catalogueCache;
function catalogue() {
    if (catalogueCache) return catalogueCache;
    const text = readRepoFile(
        CATALOGUE,
        'It is the permission catalogue (tab-separated, header line starting with "code"); ' +
            'this test checks the codes routes.def uses against it and fails until it is written.',
    );
    const lines = text.split('\n');
    const header = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
    assert.ok(
        header >= 0 && lines[header].split('\t')[0].trim() === 'code',
        `${CATALOGUE}: the first line must be the header, starting with the column "code"`,
    );
    const codes = [];
    for (let i = header + 1; i < lines.length; i++) {
        const l = lines[i].replace(/\r$/, '');
        if (l.trim() === '' || l.startsWith('#')) continue;
        codes.push({ code: l.split('\t')[0].trim(), where: `${CATALOGUE}:${i + 1}` });
    }
    catalogueCache = codes;
    return codes;
}

const report = (title, problems) => `${title}:\n  ${problems.join('\n  ')}`;

test('routes.def: every line is a well-formed ROUTE(...)', () => {
    const { list, unreadable } = routes();
    assert.ok(list.length + unreadable.length > 0, `${ROUTES_DEF} holds no ROUTE(...) lines`);

    // The services a route may name: openapi.yaml's ServiceName, plus "any" (the {service} path
    // parameter names it). A misspelt one compiles (#service) but routes nowhere.
    const services = new Set([...(openapi().doc.components?.schemas?.ServiceName?.enum ?? []), 'any']);
    const problems = unreadable.map((u) => `${u}  <- not ROUTE("METHOD", "/path", service, "permission")`);
    const seen = new Map();
    for (const r of list) {
        if (!HTTP_METHODS.includes(r.method.toLowerCase())) problems.push(`${r.where}: unknown method ${r.method}`);
        if (!r.path.startsWith('/api/v1/')) problems.push(`${r.where}: ${r.path} is not under /api/v1/`);
        if (!SPECIAL_PERMISSIONS.has(r.permission) && !PERMISSION_CODE.test(r.permission)) {
            problems.push(`${r.where}: permission "${r.permission}" is not public, authenticated or module:resource:action`);
        }
        if (!services.has(r.service)) {
            problems.push(`${r.where}: service ${r.service} is not one of ${[...services].join(', ')}`);
        }
        const k = key(r.method, shape(r.path));
        if (seen.has(k)) problems.push(`${r.where}: ${r.method} ${r.path} is already routed at ${seen.get(k)}`);
        else seen.set(k, r.where);
    }
    assert.deepEqual(problems, [], report(`${ROUTES_DEF} has malformed routes`, problems));
});

test('routes.def -> openapi.yaml: every route is documented with the same x-permission', () => {
    const { list } = routes();
    const { ops } = openapi();
    const exact = new Map(ops.map((o) => [key(o.method, o.path), o]));
    const byShape = new Map(ops.map((o) => [key(o.method, shape(o.path)), o]));
    const problems = [];
    for (const r of list) {
        const o = exact.get(key(r.method, r.path));
        if (!o) {
            const similar = byShape.get(key(r.method, shape(r.path)));
            problems.push(similar
                ? `${r.where}: ${r.method} ${r.path} is documented as ${similar.path} (path parameter names differ)`
                : `${r.where}: ${r.method} ${r.path} is not in ${OPENAPI}`);
            continue;
        }
        if (o.permission !== r.permission) {
            problems.push(`${r.where}: ${r.method} ${r.path} needs "${r.permission}" but ${OPENAPI} ` +
                `(${o.id}) says x-permission: ${o.permission ?? '(none)'}`);
        }
    }
    assert.deepEqual(problems, [], report(`${ROUTES_DEF} and ${OPENAPI} disagree`, problems));
});

test('openapi.yaml -> routes.def: every /api/v1 operation is routed', () => {
    const { list } = routes();
    const { ops } = openapi();
    const exact = new Set(list.map((r) => key(r.method, r.path)));
    const byShape = new Map(list.map((r) => [key(r.method, shape(r.path)), r]));
    const problems = [];
    for (const o of ops) {
        if (!o.path.startsWith('/api/v1/')) continue; // /healthz, /readyz, /metrics: every process serves them itself
        if (exact.has(key(o.method, o.path))) continue;
        const similar = byShape.get(key(o.method, shape(o.path)));
        problems.push(similar
            ? `${o.method} ${o.path} (${o.id}) is routed as ${similar.path} at ${similar.where} (path parameter names differ)`
            : `${o.method} ${o.path} (${o.id}) is in ${OPENAPI} but not in ${ROUTES_DEF}`);
    }
    assert.deepEqual(problems, [], report(`${OPENAPI} documents operations the gateway does not route`, problems));
});

test('permissions.tsv: codes are module:resource:action and listed once', () => {
    const problems = [];
    const seen = new Map();
    for (const { code, where } of catalogue()) {
        if (!PERMISSION_CODE.test(code)) problems.push(`${where}: "${code}" is not module:resource:action`);
        if (seen.has(code)) problems.push(`${where}: ${code} is already listed at ${seen.get(code)}`);
        else seen.set(code, where);
    }
    assert.ok(seen.size > 0, `${CATALOGUE} lists no permission`);
    assert.deepEqual(problems, [], report(`${CATALOGUE} is malformed`, problems));
});

test('routes.def -> permissions.tsv: every permission code a route needs is in the catalogue', () => {
    const { list } = routes();
    const codes = new Set(catalogue().map((c) => c.code));
    const problems = list
        .filter((r) => !SPECIAL_PERMISSIONS.has(r.permission) && !codes.has(r.permission))
        .map((r) => `${r.where}: ${r.method} ${r.path} needs ${r.permission}, which ${CATALOGUE} does not list`);
    assert.deepEqual(problems, [], report(`${ROUTES_DEF} uses permissions missing from the catalogue`, problems));
});
