// node scripts/layers.mjs — src/'s import graph against architecture.json: prints every cycle and
// every import that breaks a layer rule (the same checks as test/unit/layers.test.ts), with
// --units a table of which unit imports which. Exits 1 when anything is wrong.
import { readFileSync } from 'node:fs'
import { buildGraph, checkLayers, findCycles, unitOf } from './lib/importGraph.mjs'

const root = new URL('..', import.meta.url).pathname
const rules = JSON.parse(readFileSync(`${root}/architecture.json`, 'utf8'))
const edges = buildGraph(root)
if (process.argv.includes('--units')) {
  const pairs = new Map()
  for (const e of edges) {
    if (!e.to.startsWith('src/')) continue
    const [from, to] = [unitOf(e.from), unitOf(e.to)]
    if (from !== to) pairs.set(`${from} → ${to}`, (pairs.get(`${from} → ${to}`) ?? 0) + 1)
  }
  for (const [pair, n] of [...pairs].sort()) console.log(`${pair.padEnd(28)} ${n}`)
}
const cycles = findCycles(edges)
const violations = checkLayers(edges, rules)
for (const c of cycles) console.log(`cycle: ${c.join(' → ')}`)
for (const v of violations) console.log(`${v.from} → ${v.to}${v.typeOnly ? ' (type only)' : ''}: ${v.why}`)
console.log(`${edges.length} imports in ${new Set(edges.map((e) => e.from)).size} files: ${cycles.length} cycles, ${violations.length} rule violations`)
process.exit(cycles.length + violations.length > 0 ? 1 : 0)
