// SPDX-License-Identifier: Apache-2.0
// Vite plugin: after the build, writes <file>.gz and <file>.br next to every text asset of the
// output (js, css, html, svg, json), so the gateway can send them as they are to a browser
// whose Accept-Encoding allows it. A file that does not get smaller is left alone.
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const TEXT = /\.(js|mjs|css|html|svg|json|txt)$/
const MIN_BYTES = 512 // below this the headers weigh more than what compression saves

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield* files(p)
    else yield p
  }
}

export default function precompress() {
  let outDir = 'dist'
  return {
    name: 'crm-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir.startsWith('/') ? config.build.outDir : join(config.root, config.build.outDir)
    },
    closeBundle() {
      for (const p of files(outDir)) {
        if (!TEXT.test(p)) continue
        const data = readFileSync(p)
        if (data.length < MIN_BYTES) continue
        const gz = gzipSync(data, { level: 9 })
        const br = brotliCompressSync(data, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
        })
        if (gz.length < data.length) writeFileSync(`${p}.gz`, gz)
        if (br.length < data.length) writeFileSync(`${p}.br`, br)
      }
    },
  }
}
