// npm run bench:size — what the page downloads before the worker starts: the main-thread entry
// (dist/index.js and everything it imports, comlink included; the worker and its models are
// separate files fetched later), bundled and minified with rolldown as an app's bundler would, then
// gzipped (level 9). Goal: ≤ 15 kB. Saves bench/results/<date>-size.json.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { rolldown } from 'rolldown'

execFileSync(process.execPath, ['scripts/build-lib.mjs'], { stdio: 'inherit' })
const bundle = await rolldown({ input: 'dist/index.js', logLevel: 'silent' })
const { output } = await bundle.generate({ format: 'esm', minify: true })
await bundle.close()
const chunks = output.filter((o) => o.type === 'chunk')
const entry = chunks.find((c) => c.isEntry)
const code = chunks.map((c) => c.code).join('\n')
const modules = Object.entries(entry.modules)
  .map(([id, m]) => ({ module: id.replace(process.cwd() + '/', ''), bytes: m.renderedLength }))
  .sort((a, b) => b.bytes - a.bytes)
const result = {
  date: new Date().toISOString().slice(0, 10),
  entry: 'dist/index.js',
  minifiedBytes: Buffer.byteLength(code),
  gzipBytes: gzipSync(code, { level: 9 }).length,
  chunks: chunks.length,
  assets: output.filter((o) => o.type === 'asset').map((a) => a.fileName),
  largestModules: modules.slice(0, 12),
}
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/${result.date}-size.json`, JSON.stringify(result, null, 2) + '\n')
console.log(`main-thread entry: ${(result.minifiedBytes / 1000).toFixed(1)} kB minified, ${(result.gzipBytes / 1000).toFixed(1)} kB gzip (goal ≤ 15 kB)`)
for (const m of result.largestModules) console.log(`  ${String(m.bytes).padStart(7)}  ${m.module}`)
