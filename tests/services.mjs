// SPDX-License-Identifier: Apache-2.0
// The services of the product for the test suites (tests/api, tests/fault, tests/e2e,
// tests/contract): shared/services.def, read with its one parser (shared/services.mjs).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseServices } from '../shared/services.mjs';

export const SERVICES_DEF = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../shared/services.def');

/** Every entry: { name, port, produces, consumes, streams } (see shared/services.mjs). */
export const SERVICE_TABLE = parseServices(readFileSync(SERVICES_DEF, 'utf8'));
/** The service names, in the table's order. */
export const SERVICES = SERVICE_TABLE.map((s) => s.name);
/** The services with an outbox (one schema each) and a stream crm:stream:<name>. */
export const PRODUCERS = SERVICE_TABLE.filter((s) => s.produces).map((s) => s.name);
/** Every writer of a stream: the producing services and the gateway (crm:stream:gateway, its
 * operation log; the gateway is no entry of the table). */
export const STREAM_PRODUCERS = [...PRODUCERS, 'gateway'];
/** The entry of 'name' or undefined. */
export const serviceEntry = (name) => SERVICE_TABLE.find((s) => s.name === name);
