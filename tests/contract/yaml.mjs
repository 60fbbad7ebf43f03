// SPDX-License-Identifier: Apache-2.0
// The contract tests' YAML reader: a parser from tests/node_modules (spectral, a devDependency,
// brings @stoplight/yaml), with YAML 1.1 merge keys (`<<: *anchor`) applied, as docker-compose
// applies them.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const TESTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** 'node' with every `<<` merged: the merged maps first (an earlier one wins), own keys last. */
export function applyMerges(node) {
    if (Array.isArray(node)) return node.map(applyMerges);
    if (node === null || typeof node !== 'object') return node;
    const out = {};
    const merged = node['<<'] === undefined ? [] : [node['<<']].flat();
    for (const m of merged.reverse()) Object.assign(out, applyMerges(m));
    for (const [k, v] of Object.entries(node)) if (k !== '<<') out[k] = applyMerges(v);
    return out;
}

export function yamlParse(text) {
    const require = createRequire(path.join(TESTS, 'package.json'));
    for (const [name, parse] of [
        ['@stoplight/yaml', (m) => m.parse],
        ['js-yaml', (m) => m.load],
        ['yaml', (m) => m.parse],
    ]) {
        let mod;
        try {
            mod = require(name);
        } catch {
            continue;
        }
        return applyMerges(parse(mod)(text));
    }
    throw new Error("no YAML parser in tests/node_modules; run 'cd tests && npm ci' first");
}
