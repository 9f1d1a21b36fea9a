/**
 * The layer rules of architecture.json hold for src/: no import cycle, no unit importing one it may
 * not, and transformers/onnxruntime only in models/, idb only in store/. The checker itself is
 * tested on small trees that break each rule, so a broken checker cannot pass silently.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs module shared with scripts/layers.mjs
import { buildGraph, checkLayers, findCycles, sourceFiles } from '../../scripts/lib/importGraph.mjs'

interface Edge { from: string; to: string; typeOnly: boolean; why?: string }
const root = join(import.meta.dirname, '../..')
const rules = JSON.parse(readFileSync(join(root, 'architecture.json'), 'utf8'))
const describeEdge = (e: Edge) => `${e.from} → ${e.to}${e.typeOnly ? ' (type only)' : ''}${e.why ? `: ${e.why}` : ''}`

describe('src/ layers', () => {
  const edges: Edge[] = buildGraph(root)

  it('reads the whole tree', () => {
    const files: string[] = sourceFiles(root)
    expect(files.length).toBeGreaterThan(100)
    // Imports of every kind are seen: static, type-only, re-exports and literal dynamic imports.
    expect(edges.some((e) => e.from === 'src/index.ts' && e.to.startsWith('src/client/'))).toBe(true)
    expect(edges.some((e) => e.typeOnly)).toBe(true)
    expect(edges.filter((e) => e.to.includes('(unresolved)')).map(describeEdge)).toEqual([])
  })

  it('has no import cycle', () => {
    expect(findCycles(edges)).toEqual([])
  })

  it('follows architecture.json', () => {
    expect(checkLayers(edges, rules).map(describeEdge)).toEqual([])
  })

  it('imports transformers.js and onnxruntime only in models/, idb only in store/', () => {
    const outside = (pkg: string, unit: string) => edges.filter((e) => e.to === pkg && !e.from.startsWith(`src/${unit}/`)).map(describeEdge)
    for (const pkg of ['@huggingface/transformers', 'onnxruntime-web', 'onnxruntime-common', 'onnxruntime-node']) expect(outside(pkg, 'models')).toEqual([])
    expect(outside('idb', 'store')).toEqual([])
    // And they are imported where they should be (the graph is not empty of them).
    expect(edges.some((e) => e.to === '@huggingface/transformers')).toBe(true)
    expect(edges.some((e) => e.to === 'idb')).toBe(true)
  })
})

describe('the layer checker', () => {
  const dirs: string[] = []
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
  const tree = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'layers-'))
    dirs.push(dir)
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), text)
    }
    return buildGraph(dir) as Edge[]
  }

  it('finds a cycle, also through type-only imports and re-exports', () => {
    const edges = tree({
      'src/rank/a.ts': "import type { B } from './b.js'\nexport type A = B",
      'src/rank/b.ts': "export * from './c'\nexport type B = 1",
      'src/rank/c.ts': "import { x } from './a.js'\nexport const y = x",
    })
    expect(findCycles(edges)).toEqual([['src/rank/a.ts', 'src/rank/b.ts', 'src/rank/c.ts']])
  })

  it('reports a unit importing one it may not, a package outside its units, and a file in no unit', () => {
    const edges = tree({
      'src/core/a.ts': "import { s } from '../store/s.js'\nexport const a = s",
      'src/store/s.ts': "import { openDB } from 'idb'\nexport const s = openDB",
      'src/search/q.ts': "import { openDB } from 'idb'\nconst m = await import('../models/m.js')\nexport { openDB, m }",
      'src/models/m.ts': "export { env } from '@huggingface/transformers'",
      'src/client/c.ts': "import type { Api } from '../worker/protocol.js'\nimport { run } from '../worker/service.js'\nexport type { Api }\nexport { run }",
      'src/worker/protocol.ts': 'export interface Api { x: 1 }',
      'src/worker/service.ts': 'export const run = 1',
      'src/stray/x.ts': 'export const x = 1',
    })
    expect(checkLayers(edges, rules).map(describeEdge).sort()).toEqual([
      'src/client/c.ts → src/worker/service.ts: client may not import worker',
      'src/core/a.ts → src/store/s.ts: core may not import store',
      'src/search/q.ts → idb: only store may import idb',
    ])
    // A file in no unit is reported once it imports anything.
    const stray = tree({ 'src/stray/x.ts': "import { readFileSync } from 'node:fs'\nexport const x = readFileSync" })
    expect(checkLayers(stray, rules).map((v: Edge) => v.why)).toEqual(['src/stray/x.ts is in no unit of architecture.json'])
  })
})
