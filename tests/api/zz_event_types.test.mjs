// SPDX-License-Identifier: Apache-2.0
// Every event the stack really emitted against the event contract (proto-docs/asyncapi.yaml).
// crm-test: alone, and named zz_ so that it runs last in tests/api (deploy/crm runs the other
// files first, then those marked alone one at a time in name order): by then the other API
// tests have made the services emit all kinds of events. Reads every entry of the five streams
// from Redis and fails
//   - naming the type, when an event type is not a message of asyncapi.yaml (or not one of its
//     stream's channel);
//   - when an envelope lacks a field or has one of the wrong JSON type;
//   - when any key at any depth (or a change's `field`) is named like a password, token or secret;
//   - when an event's payload does not match its message's schema (needs ajv, which spectral
//     brings into tests/node_modules; skipped without it).
// CRM_TEST_ASYNCAPI points at another contract file (to check that this test fails on a type
// the contract lacks: remove a message from a copy and point this at it).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { redis, serviceUrl } from './lib.mjs';
import { PRODUCERS as OUTBOX_SERVICES, STREAM_PRODUCERS as PRODUCERS } from '../services.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TESTS = path.resolve(HERE, '..');
const ASYNCAPI = process.env.CRM_TEST_ASYNCAPI ?? path.resolve(TESTS, '../proto-docs/asyncapi.yaml');
const PAGE = 500; // XRANGE page: keeps each redis-cli answer well under execFileSync's 1 MiB buffer

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TYPE = /^[a-z]+\.[a-z_]+$/;
const RFC3339_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ENTRY_ID = /^\d+-\d+$/;
// The same names spectral's crm-event-no-secrets rule refuses in the contract.
const SECRET_NAME = /passw|hash|token|secret|private|(^|_)key$|jwt/i;
const ENVELOPE_KEYS = ['id', 'type', 'version', 'occurred_at', 'producer', 'actor', 'subject', 'data', 'request_id'];

const require = createRequire(path.join(TESTS, 'package.json'));
function optional(name) {
  try {
    return require(name);
  } catch {
    return null;
  }
}

// ---- the contract ------------------------------------------------------------------------

/** A YAML parser from tests/node_modules (spectral brings @stoplight/yaml), or null. */
function yamlParser() {
  for (const [name, parse] of [['js-yaml', (m) => m.load], ['@stoplight/yaml', (m) => m.parse], ['yaml', (m) => m.parse]]) {
    const mod = optional(name);
    if (mod) return (text) => parse(mod)(text);
  }
  return null;
}

const unquote = (s) => s.trim().replace(/^(['"])(.*)\1$/, '$2');
const indentOf = (l) => l.length - l.trimStart().length;

/**
 * Without a YAML library: the keys directly under components.messages, and per channel the
 * messages its lines $ref. Enough for a block-style document like asyncapi.yaml.
 */
function minimalContract(text) {
  const lines = text.split('\n');
  const messages = new Set();
  const channels = new Map();
  let section = null; // 'channels' | 'components'
  let inMessages = false;
  let channel = null;
  for (const raw of lines) {
    const line = raw.replace(/\s+#.*$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const ind = indentOf(line);
    if (ind === 0) {
      section = /^channels:\s*$/.test(line) ? 'channels' : /^components:\s*$/.test(line) ? 'components' : null;
      inMessages = false;
      channel = null;
      continue;
    }
    if (section === 'channels') {
      if (ind === 2 && /:\s*$/.test(line)) {
        channel = unquote(line.trim().slice(0, -1));
        channels.set(channel, new Set());
      }
      const ref = /\$ref:\s*['"]?#\/components\/messages\/([^'"\s]+)/.exec(line);
      if (ref && channel) channels.get(channel).add(ref[1]);
    } else if (section === 'components') {
      if (ind === 2) inMessages = /^\s{2}messages:\s*$/.test(line);
      else if (inMessages && ind === 4 && /:\s*$/.test(line)) messages.add(unquote(line.trim().slice(0, -1)));
    }
  }
  return { doc: null, messages, channels };
}

function loadContract() {
  assert.ok(existsSync(ASYNCAPI), `the event contract ${ASYNCAPI} does not exist`);
  const text = readFileSync(ASYNCAPI, 'utf8');
  const parse = yamlParser();
  if (!parse) return minimalContract(text);
  const doc = parse(text);
  assert.ok(doc?.components?.messages, `${ASYNCAPI} has no components.messages`);
  const messages = new Set(Object.keys(doc.components.messages));
  const channels = new Map();
  const refName = (m) => (typeof m?.$ref === 'string' ? m.$ref.replace('#/components/messages/', '') : null);
  for (const [name, ch] of Object.entries(doc.channels ?? {})) {
    const names = new Set();
    for (const op of [ch?.subscribe, ch?.publish]) {
      const m = op?.message;
      for (const one of m?.oneOf ?? [m]) {
        const n = refName(one);
        if (n) names.add(n);
      }
    }
    channels.set(name, names);
  }
  return { doc, messages, channels };
}

// ---- the streams -------------------------------------------------------------------------

/**
 * Every entry of 'stream' as {id, fields: [name, value, ...]}. redis-cli, piped, prints each
 * element of the XRANGE answer on its own line: the entry id, then its field names and values.
 */
function readStream(stream) {
  const entries = [];
  let start = '-';
  for (;;) {
    const out = redis('XRANGE', stream, start, '+', 'COUNT', String(PAGE));
    const page = [];
    for (const line of out === '' ? [] : out.split('\n')) {
      if (ENTRY_ID.test(line)) page.push({ id: line, fields: [] });
      else if (page.length) page[page.length - 1].fields.push(line);
      else assert.fail(`${stream}: unexpected XRANGE output before the first entry id: ${line.slice(0, 200)}`);
    }
    entries.push(...page);
    if (page.length < PAGE) return entries;
    start = `(${page[page.length - 1].id}`;
  }
}

/** Wait (up to 'ms') until the services' outboxes are published, so the last events count. */
async function outboxesDrained(ms = 15000) {
  const end = Date.now() + ms;
  let waiting = [];
  do {
    waiting = [];
    for (const svc of OUTBOX_SERVICES) {
      try {
        const r = await fetch(`${serviceUrl(svc)}/metrics`, { signal: AbortSignal.timeout(1000) });
        const m = /^crm_outbox_backlog\{[^}]*\}\s+(\d+)/m.exec(await r.text());
        if (m && Number(m[1]) > 0) waiting.push(`${svc}: ${m[1]}`);
      } catch {
        /* a stopped service publishes nothing more */
      }
    }
    if (waiting.length === 0) return [];
    await new Promise((res) => setTimeout(res, 200));
  } while (Date.now() < end);
  return waiting;
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const jsonType = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Keys (and change-list field names) anywhere in 'v' that look like secrets, as paths. */
function secretKeys(v, at = '') {
  const found = [];
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      if (isObject(x) && typeof x.field === 'string' && 'after' in x && SECRET_NAME.test(x.field)) {
        found.push(`${at}[${i}].field="${x.field}"`);
      }
      found.push(...secretKeys(x, `${at}[${i}]`));
    });
  } else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      const p = at ? `${at}.${k}` : k;
      if (SECRET_NAME.test(k)) found.push(p);
      found.push(...secretKeys(x, p));
    }
  }
  return found;
}

/** What is wrong with envelope 'e' read from crm:stream:<producer>, as a list of texts. */
function envelopeProblems(e, producer) {
  const p = [];
  const want = (cond, text) => {
    if (!cond) p.push(text);
  };
  for (const k of ENVELOPE_KEYS) want(k in e, `no "${k}"`);
  want(typeof e.id === 'string' && UUID.test(e.id), `id ${JSON.stringify(e.id)} is not a UUID string`);
  want(typeof e.type === 'string' && TYPE.test(e.type), `type ${JSON.stringify(e.type)} is not "<family>.<what>"`);
  want(e.version === 1, `version is ${JSON.stringify(e.version)}, not the integer 1`);
  const t = e.occurred_at;
  want(
    typeof t === 'string' && RFC3339_UTC_MS.test(t) && !Number.isNaN(Date.parse(t)) && new Date(t).toISOString() === t,
    `occurred_at ${JSON.stringify(t)} is not an RFC 3339 UTC time with milliseconds`,
  );
  want(e.producer === producer, `producer ${JSON.stringify(e.producer)} is not "${producer}" (the stream's name)`);
  if (isObject(e.actor)) {
    for (const k of ['user_id', 'ip']) {
      want(k in e.actor, `actor has no "${k}"`);
      want(e.actor[k] === undefined || e.actor[k] === null || typeof e.actor[k] === 'string',
        `actor.${k} is ${jsonType(e.actor[k])}, not a string or null`);
    }
  } else {
    p.push(`actor is ${jsonType(e.actor)}, not an object`);
  }
  if (isObject(e.subject)) {
    want(typeof e.subject.type === 'string' && e.subject.type !== '', `subject.type is ${jsonType(e.subject.type)}, not a non-empty string`);
    want(typeof e.subject.id === 'string' && e.subject.id !== '', `subject.id is ${jsonType(e.subject.id)}, not a non-empty string`);
  } else {
    p.push(`subject is ${jsonType(e.subject)}, not an object`);
  }
  want(isObject(e.data), `data is ${jsonType(e.data)}, not an object`);
  want(e.request_id === null || typeof e.request_id === 'string', `request_id is ${jsonType(e.request_id)}, not a string or null`);
  return p;
}

// ---- read once, check in several tests ---------------------------------------------------

let contract;
const events = []; // { stream, producer, entryId, event }
const unreadable = []; // texts

before(async () => {
  contract = loadContract();
  const waiting = await outboxesDrained();
  if (waiting.length) console.log(`outboxes not drained after 15 s (${waiting.join(', ')}); checking what was published`);
  for (const producer of PRODUCERS) {
    const stream = `crm:stream:${producer}`;
    for (const { id, fields } of readStream(stream)) {
      const where = `${stream} ${id}`;
      if (fields.length !== 2 || fields[0] !== 'event') {
        unreadable.push(`${where}: fields are ${JSON.stringify(fields.filter((_, i) => i % 2 === 0))}, not exactly ["event"]`);
        continue;
      }
      if (!fields[1].startsWith('{')) {
        unreadable.push(`${where}: "event" is not a JSON object: ${fields[1].slice(0, 120)}`);
        continue;
      }
      try {
        events.push({ stream, producer, entryId: id, event: JSON.parse(fields[1]) });
      } catch (err) {
        unreadable.push(`${where}: "event" is not JSON (${err.message}): ${fields[1].slice(0, 120)}`);
      }
    }
  }
  const counts = Object.fromEntries(PRODUCERS.map((p) => [p, events.filter((e) => e.producer === p).length]));
  const types = [...new Set(events.map((e) => e.event?.type))].sort();
  console.log(`read ${events.length} events ${JSON.stringify(counts)} against ${ASYNCAPI}` +
    (contract.doc ? '' : ' (minimal YAML reader: no YAML library in tests/node_modules)') +
    `; ${types.length} types: ${types.join(' ')}`);
});

const report = (title, problems, max = 40) =>
  `${title} (${problems.length}):\n  ${problems.slice(0, max).join('\n  ')}${problems.length > max ? `\n  … and ${problems.length - max} more` : ''}`;

test('the streams hold events (the API tests ran before this file)', () => {
  assert.deepEqual(unreadable, [], report('stream entries that are not one "event" field of JSON', unreadable));
  const auth = events.filter((e) => e.producer === 'auth').length;
  const gateway = events.filter((e) => e.producer === 'gateway').length;
  assert.ok(auth > 0 && gateway > 0,
    `expected events on crm:stream:auth and crm:stream:gateway after the API tests, found ${auth} and ${gateway}`);
});

test('every event type is a message of asyncapi.yaml, on its stream\'s channel', () => {
  const byType = new Map();
  for (const e of events) {
    const type = typeof e.event?.type === 'string' ? e.event.type : JSON.stringify(e.event?.type);
    const key = `${e.stream}\t${type}`;
    if (!byType.has(key)) byType.set(key, { ...e, type, n: 0 });
    byType.get(key).n++;
  }
  const problems = [];
  for (const { stream, type, entryId, n } of byType.values()) {
    if (!contract.messages.has(type)) {
      problems.push(`${type}: not a message in ${ASYNCAPI} (${n} on ${stream}, first ${entryId})`);
    } else if (!contract.channels.get(stream)?.has(type)) {
      problems.push(`${type}: a message, but not one of channel ${stream} (${n} there, first ${entryId})`);
    }
  }
  assert.deepEqual(problems, [], report('event types the contract does not describe', problems));
});

test('every envelope has its fields with the right JSON types', () => {
  const problems = [];
  for (const e of events) {
    if (!isObject(e.event)) {
      problems.push(`${e.stream} ${e.entryId}: the event is ${jsonType(e.event)}, not an object`);
      continue;
    }
    const p = envelopeProblems(e.event, e.producer);
    if (p.length) problems.push(`${e.stream} ${e.entryId} (${e.event.type}): ${p.join('; ')}`);
  }
  assert.deepEqual(problems, [], report('malformed envelopes', problems));
});

test('no event carries a key named like a password, token or secret', () => {
  const problems = [];
  for (const e of events) {
    const found = secretKeys(e.event);
    if (found.length) problems.push(`${e.stream} ${e.entryId} (${e.event?.type}): ${found.join(', ')}`);
  }
  assert.deepEqual(problems, [], report('events with secret-looking keys', problems));
});

test('every event matches its message\'s payload schema', (t) => {
  const Ajv = optional('ajv');
  const addFormats = optional('ajv-formats');
  if (!contract.doc || !Ajv || !addFormats) {
    t.skip('needs a YAML parser, ajv and ajv-formats in tests/node_modules (cd tests && npm ci)');
    return;
  }
  const ajv = new (Ajv.default ?? Ajv)({ strict: false, allErrors: true });
  (addFormats.default ?? addFormats)(ajv);
  ajv.addSchema({ $id: 'asyncapi', components: contract.doc.components });
  const validators = new Map();
  const firstBad = new Map(); // type -> text
  const bad = new Map(); // type -> count
  for (const e of events) {
    const type = e.event?.type;
    if (!contract.messages.has(type) || !contract.doc.components.messages[type]?.payload) continue; // reported above
    if (!validators.has(type)) validators.set(type, ajv.compile({ $ref: `asyncapi#/components/messages/${type}/payload` }));
    const v = validators.get(type);
    if (v(e.event)) continue;
    bad.set(type, (bad.get(type) ?? 0) + 1);
    if (!firstBad.has(type)) {
      const why = v.errors.slice(0, 4).map((x) => `${x.instancePath || '/'} ${x.message}`).join('; ');
      firstBad.set(type, `${e.stream} ${e.entryId}: ${why}\n      ${JSON.stringify(e.event).slice(0, 400)}`);
    }
  }
  const problems = [...firstBad].map(([type, text]) => `${type} (${bad.get(type)} events), first ${text}`);
  assert.deepEqual(problems, [], report('events that do not match their message in the contract', problems));
});
