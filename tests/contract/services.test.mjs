// SPDX-License-Identifier: Apache-2.0
// The services table (shared/services.def) against what is built and run from it:
//   - the table itself: names and ports once each, every consumed stream has a producer, one
//     directory services/<name>/ (main.c, migrations/) a line and no directory without one;
//   - docker-compose.yml: one compose service a line and nothing extra, every image built from a
//     stage of deploy/docker/Dockerfile (no image from a registry), a service from its `service`
//     stage with its name and port, its environment and volumes, a
//     gateway upstream at its address and port, its database password everywhere it is needed,
//     depends_on that can start (known targets, no cycle, every service before the gateway);
//   - tests/deploy/compose.hostnet.yml (the compose drill's override): every compose service,
//     built on the host network, each service and upstream on its own drill port;
//   - the contracts: the service and producer names in openapi.yaml and asyncapi.yaml.
// Reads files only (no stack, no Docker): node --test tests/contract/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { PRODUCERS, SERVICE_TABLE, SERVICES, STREAM_PRODUCERS } from '../services.mjs';
import { yamlParse } from './yaml.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEF = 'shared/services.def';
const COMPOSE = 'docker-compose.yml';
const DOCKERFILE = 'deploy/docker/Dockerfile';
const HOSTNET = 'tests/deploy/compose.hostnet.yml';
const ENV_EXAMPLE = 'deploy/docker/compose.env.example';
// What compose runs besides the services of the table.
const INFRA = ['init', 'mariadb', 'redis'];
const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'];

const read = (rel) => readFileSync(path.join(REPO, rel), 'utf8');
const report = (title, problems) => `${title}:\n  ${problems.join('\n  ')}`;
const upper = (name) => name.toUpperCase();

let composeCache;
function compose() {
    composeCache ??= yamlParse(read(COMPOSE));
    return composeCache;
}
const svc = (name) => compose().services?.[name] ?? {};
const backendIp = (name) => svc(name).networks?.backend?.ipv4_address;
// The `def=...` path a script reads services.def from.
const defPathIn = (rel) => /\bdef=(\/\S+)/.exec(read(rel))?.[1];
// The text of each stage of the Dockerfile, by name (FROM ... AS <name> up to the next FROM).
function stages() {
    const out = {};
    for (const part of read(DOCKERFILE).split(/^(?=FROM )/m)) {
        const m = /^FROM \S+ AS ([a-z]+)\s/.exec(part);
        if (m) out[m[1]] = part;
    }
    return out;
}

test('services.def: names and ports once each, every consumed stream has a producer', () => {
    const problems = [];
    const names = new Set();
    const ports = new Map();
    for (const s of SERVICE_TABLE) {
        if (names.has(s.name)) problems.push(`${s.name} is declared twice`);
        names.add(s.name);
        if (s.name === 'gateway') problems.push('gateway is the stream writer of the gateway, not a service');
        if (!(s.port > 1024 && s.port < 65536)) problems.push(`${s.name}: port ${s.port} is not in 1025..65535`);
        if (ports.has(s.port)) problems.push(`${s.name}: port ${s.port} is ${ports.get(s.port)}'s already`);
        ports.set(s.port, s.name);
        for (const p of s.consumes) {
            if (p === s.name) problems.push(`${s.name} consumes its own stream`);
            else if (!STREAM_PRODUCERS.includes(p)) {
                problems.push(`${s.name} consumes crm:stream:${p}, which nobody writes (writers: ${STREAM_PRODUCERS.join(', ')})`);
            }
        }
        if (new Set(s.consumes).size !== s.consumes.length) problems.push(`${s.name} names a producer twice`);
    }
    assert.deepEqual(problems, [], report(`${DEF} is inconsistent`, problems));
});

test('services.def <-> services/: a directory with main.c and migrations/ for every line, no other', () => {
    const problems = [];
    for (const name of SERVICES) {
        for (const f of ['main.c', 'migrations']) {
            if (!existsSync(path.join(REPO, 'services', name, f))) problems.push(`services/${name}/${f} is missing`);
        }
    }
    const dirs = readdirSync(path.join(REPO, 'services'), { withFileTypes: true }).filter((d) => d.isDirectory());
    for (const d of dirs) {
        if (!SERVICES.includes(d.name)) problems.push(`services/${d.name}/ has no line in ${DEF}, so nothing builds or runs it`);
    }
    assert.deepEqual(problems, [], report(`${DEF} and services/ disagree`, problems));
});

test('docker-compose.yml: one compose service per line of services.def, and nothing else', () => {
    const have = Object.keys(compose().services ?? {}).sort();
    const want = [...INFRA, ...SERVICES, 'gateway'].sort();
    assert.deepEqual(have, want, `${COMPOSE} runs ${have.join(', ')}; ${DEF} says ${want.join(', ')}`);
});

test('docker-compose.yml: each service is built from the Dockerfile\'s service stage with its name and port', () => {
    const problems = [];
    for (const { name, port } of SERVICE_TABLE) {
        const s = svc(name);
        const where = `${COMPOSE} services.${name}`;
        if (s.build?.context !== '.') problems.push(`${where}.build.context is ${s.build?.context}, not .`);
        if (s.build?.dockerfile !== DOCKERFILE) problems.push(`${where}.build.dockerfile is ${s.build?.dockerfile}, not ${DOCKERFILE}`);
        if (s.build?.target !== 'service') problems.push(`${where}.build.target is ${s.build?.target}, not service`);
        const args = s.build?.args ?? {};
        if (args.SERVICE !== name) problems.push(`${where}.build.args.SERVICE is ${args.SERVICE}, not ${name}`);
        if (String(args.PORT) !== String(port)) problems.push(`${where}.build.args.PORT is ${args.PORT}, not ${port}`);
        const extra = Object.keys(args).filter((a) => a !== 'SERVICE' && a !== 'PORT');
        if (extra.length) problems.push(`${where}.build.args has ${extra.join(', ')}; the Dockerfile reads SERVICE and PORT only`);
        if (!String(s.image ?? '').startsWith(`crm-${name}:`)) problems.push(`${where}.image is ${s.image}, not crm-${name}:<tag>`);
        const listen = s.environment?.CRM_LISTEN;
        if (listen !== undefined && !String(listen).endsWith(`:${port}`)) {
            problems.push(`${where}: CRM_LISTEN=${listen} is not on port ${port}, where the gateway and the healthcheck look`);
        }
    }
    // the image takes what it needs from the table; the build stops on a SERVICE/PORT not in it
    const stage = stages().service ?? '';
    for (const needle of ['ARG SERVICE', 'ARG PORT', 'shared/services.def', 'HEALTHCHECK', 'crm-${SERVICE}']) {
        if (!stage.includes(needle)) problems.push(`the service stage of ${DOCKERFILE} does not have ${needle}`);
    }
    assert.deepEqual(problems, [], report(`${COMPOSE} builds services not as ${DEF} says`, problems));
});

test('docker-compose.yml: every image is built from a stage of the one Dockerfile, none pulled from a registry', () => {
    const problems = [];
    const have = stages();
    for (const [name, s] of Object.entries(compose().services ?? {})) {
        if (s.build?.dockerfile !== DOCKERFILE) problems.push(`services.${name} is not built from ${DOCKERFILE} (build: ${JSON.stringify(s.build)})`);
        else if (!(s.build.target in have)) problems.push(`services.${name}.build.target ${s.build.target} is no stage of ${DOCKERFILE}`);
        if (!String(s.image ?? '').startsWith(`crm-${name}:`)) problems.push(`services.${name}.image is ${s.image}, not crm-${name}:<tag> (an image of our own)`);
    }
    for (const [name, text] of Object.entries(have)) {
        const from = /^FROM (\S+)/.exec(text)[1];
        if (!/^debian:12(-slim)?$/.test(from) && !(from in have)) problems.push(`stage ${name} is FROM ${from}: only debian:12, debian:12-slim or a stage of the file`);
    }
    const files = readdirSync(path.join(REPO, 'deploy/docker')).filter((f) => /Dockerfile/.test(f));
    if (JSON.stringify(files) !== JSON.stringify(['Dockerfile'])) problems.push(`deploy/docker has ${files.join(', ')}; one Dockerfile for every image`);
    assert.deepEqual(problems, [], report('the Dockerfile and docker-compose.yml disagree', problems));
});

test('tests/deploy/compose.hostnet.yml: every compose service, built on the host network, each on a drill port of its own', () => {
    const over = yamlParse(read(HOSTNET)).services ?? {};
    const problems = [];
    const want = Object.keys(compose().services ?? {}).sort();
    if (JSON.stringify(Object.keys(over).sort()) !== JSON.stringify(want)) problems.push(`${HOSTNET} overrides ${Object.keys(over).sort().join(', ')}; want ${want.join(', ')}`);
    for (const [name, s] of Object.entries(over)) {
        if (s.build?.network !== 'host') problems.push(`${HOSTNET} services.${name}.build.network is not host`);
    }
    const gw = over.gateway?.environment ?? {};
    for (const name of SERVICES) {
        const port = `\${DRILL_PORT_${upper(name)}:?}`;
        if (over[name]?.environment?.CRM_LISTEN !== `127.0.0.1:${port}`) problems.push(`${HOSTNET} ${name} does not listen on 127.0.0.1:${port}`);
        if (gw[`CRM_UPSTREAM_${upper(name)}`] !== `127.0.0.1:${port}`) problems.push(`${HOSTNET} the gateway's CRM_UPSTREAM_${upper(name)} is not 127.0.0.1:${port}`);
        if (over[name]?.environment?.CRM_DB_HOST !== '127.0.0.1') problems.push(`${HOSTNET} ${name}: CRM_DB_HOST is not 127.0.0.1`);
    }
    assert.deepEqual(problems, [], report(`${HOSTNET} does not put the suite on loopback`, problems));
});

test('docker-compose.yml: each service has its address, environment and volumes', () => {
    const problems = [];
    const ips = new Map();
    for (const name of [...INFRA, ...SERVICES, 'gateway']) {
        const ip = backendIp(name);
        if (ip === undefined) continue; // init has no network
        if (ips.has(ip)) problems.push(`${name} and ${ips.get(ip)} both have the address ${ip}`);
        ips.set(ip, name);
    }
    const expectEnv = {
        CRM_DB_HOST: backendIp('mariadb'),
        CRM_REDIS_HOST: backendIp('redis'),
        CRM_TRUSTED_PROXY: backendIp('gateway'), // its X-Forwarded-For names the client
    };
    for (const name of SERVICES) {
        const s = svc(name);
        const where = `${COMPOSE} services.${name}`;
        if (!backendIp(name)) problems.push(`${where} has no fixed address on the backend network (the gateway's upstream needs one)`);
        for (const [k, v] of Object.entries(expectEnv)) {
            if (s.environment?.[k] !== v) problems.push(`${where}.environment.${k} is ${s.environment?.[k]}, not ${v}`);
        }
        for (const v of ['crm-secrets:/run/crm/secrets:ro', 'crm-keys:/var/lib/crm/keys:ro']) {
            if (!(s.volumes ?? []).includes(v)) problems.push(`${where}.volumes lacks ${v}`);
        }
        if (s.ports?.length) problems.push(`${where} publishes ports; only the gateway may`);
    }
    assert.deepEqual(problems, [], report(`${COMPOSE} does not wire the services`, problems));
});

test('docker-compose.yml: the gateway has an upstream per service at its address and port, no other', () => {
    const env = svc('gateway').environment ?? {};
    // the gateway's own upstream_* keys (timeouts, pool sizes) are literals in its config table;
    // the upstream_<service> keys are made from services.def there
    const ownKeys = new Set([...read('gateway/main.c').matchAll(/\{"upstream_([a-z_]+)"/g)].map((m) => `CRM_UPSTREAM_${upper(m[1])}`));
    const problems = [];
    for (const { name, port } of SERVICE_TABLE) {
        const want = `${backendIp(name)}:${port}`;
        const have = env[`CRM_UPSTREAM_${upper(name)}`];
        if (have !== want) problems.push(`CRM_UPSTREAM_${upper(name)} is ${have}, not ${want}`);
    }
    const known = new Set([...ownKeys, ...SERVICES.map((n) => `CRM_UPSTREAM_${upper(n)}`)]);
    for (const k of Object.keys(env)) {
        if (k.startsWith('CRM_UPSTREAM_') && !known.has(k)) problems.push(`${k} names no service of ${DEF} and no gateway key`);
    }
    assert.ok(ownKeys.has('CRM_UPSTREAM_TIMEOUT_MS'), 'the gateway config table in gateway/main.c was read');
    assert.deepEqual(problems, [], report(`${COMPOSE} services.gateway.environment`, problems));
});

test('docker-compose.yml: two database passwords per service (its own, its migrations\'), for init and mariadb, in the example env', () => {
    const problems = [];
    for (const prefix of ['CRM_DB_PASSWORD_', 'CRM_DB_MIGRATE_PASSWORD_']) {
        const want = SERVICES.map((n) => `${prefix}${upper(n)}`).sort();
        const keysOf = (env) => Object.keys(env ?? {}).filter((k) => k.startsWith(prefix)).sort();
        for (const [where, env] of [
            ['x-db-passwords', compose()['x-db-passwords']],
            ['services.init.environment', svc('init').environment],
            ['services.mariadb.environment', svc('mariadb').environment],
        ]) {
            const have = keysOf(env);
            if (JSON.stringify(have) !== JSON.stringify(want)) problems.push(`${COMPOSE} ${where} has ${have.join(', ')}; want ${want.join(', ')}`);
        }
        for (const k of want) {
            const v = compose()['x-db-passwords']?.[k];
            if (!/^\$\{[A-Z_]+:\?/.test(String(v))) problems.push(`${COMPOSE} x-db-passwords.${k} is not a required variable (\${VAR:?...}): ${v}`);
        }
        const example = [...read(ENV_EXAMPLE).matchAll(new RegExp(`^(${prefix}[A-Z0-9_]+)=`, 'gm'))].map((m) => m[1]).sort();
        if (JSON.stringify(example) !== JSON.stringify(want)) problems.push(`${ENV_EXAMPLE} sets ${example.join(', ')}; want ${want.join(', ')}`);
    }
    // the audit chain key is a file init.sh makes, never a variable of the compose file
    if (svc('audit').environment?.CRM_CHAIN_KEY_FILE !== '/run/crm/secrets/audit_chain_key') problems.push('services.audit.environment.CRM_CHAIN_KEY_FILE is not /run/crm/secrets/audit_chain_key');
    if (!read('deploy/docker/init.sh').includes('audit_chain_key')) problems.push('deploy/docker/init.sh does not make audit_chain_key');
    // Redis: every process logs in as its own ACL user; Redis starts with the ACL file init.sh makes
    const redis = svc('redis');
    const cmd = (redis.command ?? []).join(' ');
    if (!cmd.includes('--aclfile /run/crm/secrets/redis_users.acl')) problems.push(`services.redis.command lacks --aclfile /run/crm/secrets/redis_users.acl: ${cmd}`);
    if (!(redis.volumes ?? []).includes('crm-secrets:/run/crm/secrets:ro')) problems.push('services.redis.volumes lacks crm-secrets:/run/crm/secrets:ro');
    if (redis.depends_on?.init?.condition !== 'service_completed_successfully') problems.push('redis does not wait for init (its ACL file)');
    for (const [file, user] of [['deploy/docker/service.conf.in', 'crm_@NAME@'], ['deploy/docker/gateway.conf', 'crm_gateway']]) {
        const text = read(file);
        if (!text.includes(`redis_user = ${user}\n`) || !/^redis_password_file = \/run\/crm\/secrets\/redis_/m.test(text)) problems.push(`${file} does not log in to Redis as ${user}`);
    }
    if (!(stages().init ?? '').includes('COPY deploy/redis-acl ')) problems.push('the init image lacks deploy/redis-acl');
    assert.deepEqual(problems, [], report('database passwords and secrets do not follow services.def', problems));
});

test('docker-compose.yml: the init and mariadb scripts find services.def where it is put', () => {
    const problems = [];
    for (const [stage, script] of [['mariadb', 'deploy/docker/mariadb-init.sh'], ['init', 'deploy/docker/init.sh']]) {
        const where = defPathIn(script);
        if (!(stages()[stage] ?? '').includes(`COPY ${DEF} ${where}\n`)) problems.push(`the ${stage} image does not COPY ${DEF} to ${where}, where ${script} reads it`);
    }
    assert.deepEqual(problems, [], report('services.def is not where the container scripts read it', problems));
});

test('docker-compose.yml: depends_on can start (known targets, no cycle, every service before the gateway)', () => {
    const services = compose().services ?? {};
    const deps = (name) => services[name]?.depends_on ?? {};
    // in the compose file, or in the image it builds
    const hasHealthcheck = (s) => Boolean(s.healthcheck) || Boolean(s.build?.dockerfile && read(s.build.dockerfile).includes('HEALTHCHECK'));
    const problems = [];
    for (const name of Object.keys(services)) {
        const d = deps(name);
        if (Array.isArray(d)) {
            problems.push(`${name}.depends_on is a list; say the condition of each`);
            continue;
        }
        for (const [target, { condition } = {}] of Object.entries(d)) {
            if (!(target in services)) problems.push(`${name} depends on ${target}, which is not a compose service`);
            if (!CONDITIONS.includes(condition)) problems.push(`${name} -> ${target}: condition ${condition} is not one of ${CONDITIONS.join(', ')}`);
            if (condition === 'service_healthy' && target in services && !hasHealthcheck(services[target])) {
                problems.push(`${name} waits for ${target} to be healthy, but ${target} has no healthcheck`);
            }
        }
    }
    const expect = (name, want) => {
        const have = Object.fromEntries(Object.entries(deps(name)).map(([t, c]) => [t, c?.condition]));
        if (JSON.stringify(Object.entries(have).sort()) !== JSON.stringify(Object.entries(want).sort())) {
            problems.push(`${name}.depends_on is ${JSON.stringify(have)}; want ${JSON.stringify(want)}`);
        }
    };
    const base = { init: 'service_completed_successfully', redis: 'service_healthy' };
    // a service needs its database and Redis, never another service (events go through streams)
    for (const name of SERVICES) expect(name, { ...base, mariadb: 'service_healthy' });
    expect('gateway', { ...base, ...Object.fromEntries(SERVICES.map((n) => [n, 'service_healthy'])) });
    // no cycle: depth-first search over depends_on
    const state = new Map();
    const visit = (name, trail) => {
        if (state.get(name) === 'done') return;
        if (state.get(name) === 'open') {
            problems.push(`depends_on cycle: ${[...trail, name].join(' -> ')}`);
            return;
        }
        state.set(name, 'open');
        for (const t of Object.keys(Array.isArray(deps(name)) ? {} : deps(name))) if (t in services) visit(t, [...trail, name]);
        state.set(name, 'done');
    };
    for (const name of Object.keys(services)) visit(name, []);
    assert.deepEqual(problems, [], report(`${COMPOSE} depends_on`, problems));
});

test('openapi.yaml and asyncapi.yaml name the services and producers of services.def', () => {
    const schemas = (rel) => yamlParse(read(rel)).components?.schemas ?? {};
    const openapi = schemas('proto-docs/openapi.yaml');
    const asyncapi = schemas('proto-docs/asyncapi.yaml');
    const problems = [];
    for (const [where, have, want] of [
        ['openapi.yaml ServiceName', openapi.ServiceName?.enum, SERVICES],
        ['openapi.yaml AuditEntry.producer (the outboxes)', openapi.AuditEntry?.properties?.producer?.enum, PRODUCERS],
        ['asyncapi.yaml Envelope.producer (the streams)', asyncapi.Envelope?.properties?.producer?.enum, STREAM_PRODUCERS],
    ]) {
        if (JSON.stringify([...(have ?? [])].sort()) !== JSON.stringify([...want].sort())) {
            problems.push(`${where} is [${(have ?? []).join(', ')}]; ${DEF} says [${want.join(', ')}]`);
        }
    }
    assert.deepEqual(problems, [], report(`the contracts and ${DEF} disagree`, problems));
});

test('docker-compose.yml: the gateway and every service hold the proxy secret, the admin listener stays private', () => {
    const problems = [];
    const SECRET = '/run/crm/secrets/gateway_proof';
    const line = `proxy_secret_file = ${SECRET}`;
    for (const f of ['deploy/docker/service.conf.in', 'deploy/docker/gateway.conf']) {
        if (!read(f).split('\n').includes(line)) problems.push(`${f} lacks '${line}'`);
    }
    if (!read('deploy/docker/init.sh').includes('$secrets/gateway_proof')) problems.push('deploy/docker/init.sh does not make gateway_proof');
    const gw = svc('gateway');
    if (!(gw.volumes ?? []).includes('crm-secrets:/run/crm/secrets:ro')) problems.push(`${COMPOSE} services.gateway.volumes lacks crm-secrets:/run/crm/secrets:ro`);
    const admin = gw.environment?.CRM_ADMIN_LISTEN ?? '';
    if (admin.split(':')[0] !== backendIp('gateway')) problems.push(`CRM_ADMIN_LISTEN is '${admin}', not on the gateway's backend address`);
    const adminPort = admin.split(':')[1];
    for (const p of gw.ports ?? []) {
        if (String(p).split(':').pop() === adminPort) problems.push(`the admin port ${adminPort} is published (${p})`);
    }
    assert.deepEqual(problems, [], report(`${COMPOSE}: the gateway's proof and admin address`, problems));
});
