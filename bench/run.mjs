// npm run bench — every benchmark, one after the other (they share the 2 cores: never in
// parallel), then bench/report.mjs: bench/results/<date>.json, <date>.md and SVG charts.
//
//   npm run bench [-- --only rerank,ingest,peers,collection,search,scale,snapshot,size] [--quick]
// --quick runs smaller inputs (a smoke run of the benchmarks themselves, not figures to quote).
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'

const PARTS = {
  size: ['bench/size.mjs'],
  rerank: ['bench/rerank-scifact.mjs', '--runs', '3'],
  ingest: ['bench/ingest.mjs'],
  peers: ['bench/peers.mjs'],
  collection: ['bench/collection-reopen.mjs'],
  search: ['bench/search-pipeline.mjs'],
  scale: ['bench/scale.mjs'],
  snapshot: ['bench/snapshot.mjs'],
}
const QUICK = {
  rerank: ['--runs', '1', '--dtypes', 'q8'],
  ingest: ['--passages', '4000', '--abstracts', '20'],
  peers: ['--sizes', '10000'],
  collection: ['--passages', '10000', '--batch', '2000'],
  search: ['--queries', '3'],
  scale: ['--sizes', '20000', '--batch', '1000', '--small-min-rows', '5000', '--mememo-sizes', '2000', '--queries', '20'],
  snapshot: ['--abstracts', '500'],
}
const { values: args } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } } })
const chosen = args.only ? args.only.split(',') : Object.keys(PARTS)
for (const part of chosen) if (!PARTS[part]) throw new Error(`unknown part ${part}; one of ${Object.keys(PARTS).join(', ')}`)
const failed = []
for (const part of chosen) {
  const started = Date.now()
  console.log(`\n==== ${part} ====`)
  try {
    execFileSync(process.execPath, [...PARTS[part], ...(args.quick ? (QUICK[part] ?? []) : [])], { stdio: 'inherit' })
  } catch {
    failed.push(part)
  }
  console.log(`==== ${part}: ${((Date.now() - started) / 1000).toFixed(0)} s ====`)
}
execFileSync(process.execPath, ['bench/report.mjs'], { stdio: 'inherit' })
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`)
  process.exit(1)
}
