// SPDX-License-Identifier: Apache-2.0
// services.mjs: shared/services.def read by JavaScript, the one parser of the tests and of the
// web build. Pure (no imports): give it the file's text.

// SERVICE(name, port, produces, "consumes") at the start of a line, as CMake and deploy/crm read it
const LINE = /^SERVICE\(([a-z][a-z0-9_]*), *([0-9]+), *(true|false), *"([a-z0-9_ ]*)"\)$/;

/**
 * The entries of services.def's 'text' in file order, as
 * { name, port, produces, consumes: [producer, ...], streams: ['crm:stream:<producer>', ...] }.
 * Throws on any line that is neither blank, a comment nor a SERVICE line of that shape.
 */
export function parseServices(text) {
  // Drop comments but keep the line breaks, so line numbers stay right.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '));
  const table = [];
  code.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line.trim() === '') return;
    const m = LINE.exec(line);
    if (!m) throw new Error(`shared/services.def:${i + 1}: cannot read '${line.trim()}'`);
    const consumes = m[4].split(' ').filter(Boolean);
    table.push({
      name: m[1],
      port: Number(m[2]),
      produces: m[3] === 'true',
      consumes,
      streams: consumes.map((p) => `crm:stream:${p}`),
    });
  });
  if (!table.length) throw new Error('shared/services.def: no SERVICE(...) line');
  return table;
}
