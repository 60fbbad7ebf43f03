#!/usr/bin/env node
// mint-token.mjs — ES256 access tokens for the gateway benchmark, signed with the dev key.
//
//   node mint-token.mjs KEYS_DIR [VARIANT] [COUNT]
//
// KEYS_DIR holds <kid>.key.pem / <kid>.pub.pem (the dev stack's .run/keys); the newest kid signs.
// Prints one token per line. VARIANT (default "valid"):
//   valid     the claims the auth service puts in an administrator's access token (services/auth/
//             tokens.c: iss=crm-auth aud=crm sub name dept_id roles scope perms jti iat iat_ms nbf
//             exp), perms = every permission of services/auth/permissions.tsv (the administrator
//             role has them all), exp = now + 3600
//   tampered  a valid token whose payload was changed after signing (sub 1 -> 2), old signature kept
//   none      header alg=none, no signature
//   expired   correctly signed, exp in the past
//   future    correctly signed, nbf one hour ahead
//   issuer    correctly signed, iss=evil
//   audience  correctly signed, aud=other
// COUNT (default 1) tokens are printed; each has its own jti, so every one is a distinct string.
import { createPrivateKey, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { es256Sign } from '../../es256.mjs';

const [dir, variant = 'valid', countArg = '1'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node mint-token.mjs KEYS_DIR [valid|tampered|none|expired|future|issuer|audience] [COUNT]');
  process.exit(2);
}
const kids = readdirSync(dir).filter((f) => f.endsWith('.key.pem')).map((f) => f.slice(0, -'.key.pem'.length)).sort();
if (kids.length === 0) {
  console.error(`mint-token: no <kid>.key.pem in ${dir}`);
  process.exit(1);
}
const kid = kids[kids.length - 1];
const key = createPrivateKey(readFileSync(join(dir, `${kid}.key.pem`)));
// The administrator's permissions: the catalogue's first column (header line skipped).
const catalogue = join(dirname(fileURLToPath(import.meta.url)), '../../../services/auth/permissions.tsv');
const perms = existsSync(catalogue)
  ? readFileSync(catalogue, 'utf8').split('\n').slice(1).map((l) => l.split('\t')[0].trim()).filter(Boolean)
  : [];
if (!perms.includes('system:service:read')) perms.push('system:service:read');
const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function mint() {
  const nowMs = Date.now();
  const now = Math.floor(nowMs / 1000);
  const claims = {
    iss: 'crm-auth', aud: 'crm', sub: '1', name: '系统管理员', dept_id: 1, roles: ['admin'], scope: 'ALL',
    perms, jti: randomUUID(), iat: now, iat_ms: nowMs, nbf: now, exp: now + 3600,
  };
  if (variant === 'expired') Object.assign(claims, { iat: now - 7200, nbf: now - 7200, exp: now - 3600 });
  if (variant === 'future') Object.assign(claims, { nbf: now + 3600, exp: now + 7200 });
  if (variant === 'issuer') claims.iss = 'evil';
  if (variant === 'audience') claims.aud = 'other';
  if (variant === 'none') return `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(claims)}.`;
  const input = `${b64({ alg: 'ES256', typ: 'JWT', kid })}.${b64(claims)}`;
  const sig = es256Sign(input, key).toString('base64url');
  if (variant === 'tampered') {
    const [h] = input.split('.');
    return `${h}.${b64({ ...claims, sub: '2' })}.${sig}`;
  }
  return `${input}.${sig}`;
}

const known = ['valid', 'tampered', 'none', 'expired', 'future', 'issuer', 'audience'];
if (!known.includes(variant)) {
  console.error(`mint-token: unknown variant '${variant}' (one of ${known.join(', ')})`);
  process.exit(2);
}
const count = Number.parseInt(countArg, 10);
if (!(count >= 1)) {
  console.error(`mint-token: COUNT '${countArg}' is not a positive integer`);
  process.exit(2);
}
const out = [];
for (let i = 0; i < count; i++) out.push(mint());
process.stdout.write(`${out.join('\n')}\n`);
