/**
 * The import graph of src/: every file's imports (static, re-exports, dynamic with a literal
 * specifier), resolved to files, read with the oxc parser that rolldown ships. Used by the layer
 * test (test/unit/layers.test.ts) and by `node scripts/layers.mjs`, which prints the graph's
 * violations and cycles.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { join, dirname, relative, resolve, sep } from 'node:path'
import { parseSync } from 'rolldown/utils'

/** Every .ts file under `dir`, as paths relative to `root` with '/' separators. */
export function sourceFiles(root, dir = 'src') {
  const out = []
  const walk = (d) => {
    for (const name of readdirSync(join(root, d))) {
      const rel = `${d}/${name}`
      if (statSync(join(root, rel)).isDirectory()) walk(rel)
      else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(rel)
    }
  }
  walk(dir)
  return out.sort()
}

function resolveRelative(root, from, spec) {
  const base = resolve(root, dirname(from), spec)
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, join(base, 'index.ts')]
  for (const c of candidates) if (existsSync(c) && statSync(c).isFile()) return relative(root, c).split(sep).join('/')
  return null
}

/**
 * Parses each file and returns its edges: `{ from, to, specifier, typeOnly }`; `to` is a repo-relative
 * file for a relative import, else the bare package name (e.g. '@huggingface/transformers').
 * @example buildGraph(process.cwd()).filter((e) => e.to === 'idb')
 */
export function buildGraph(root, files = sourceFiles(root)) {
  const edges = []
  for (const from of files) {
    const text = readFileSync(join(root, from), 'utf8')
    const { module, errors } = parseSync(from, text, { lang: 'ts', sourceType: 'module' })
    if (errors.length) throw new Error(`${from}: ${errors[0].message}`)
    const add = (spec, typeOnly) => {
      if (spec.startsWith('.')) edges.push({ from, to: resolveRelative(root, from, spec) ?? `${from}:${spec} (unresolved)`, specifier: spec, typeOnly })
      else edges.push({ from, to: packageName(spec), specifier: spec, typeOnly })
    }
    for (const imp of module.staticImports) {
      const typeOnly = imp.entries.length > 0 && imp.entries.every((e) => e.isType) || /^import\s+type\b/.test(text.slice(imp.start, imp.end))
      add(imp.moduleRequest.value, typeOnly)
    }
    for (const exp of module.staticExports) {
      // `export { x }` of an imported binding names the import's module too: that edge is counted once, at the import.
      if (!/^export\b[\s\S]*\bfrom\s*['"]/.test(text.slice(exp.start, exp.end))) continue
      const reqs = new Map()
      for (const e of exp.entries) if (e.moduleRequest) reqs.set(e.moduleRequest.value, (reqs.get(e.moduleRequest.value) ?? true) && (e.isType || /^export\s+type\b/.test(text.slice(exp.start, exp.end))))
      for (const [spec, typeOnly] of reqs) add(spec, typeOnly)
    }
    for (const dyn of module.dynamicImports) {
      const raw = text.slice(dyn.moduleRequest.start, dyn.moduleRequest.end)
      const m = /^(['"`])([^'"`$]+)\1$/.exec(raw.trim())
      if (m) add(m[2], false)
    }
  }
  return edges
}

/** '@scope/name/sub' → '@scope/name'; 'name/sub' → 'name'; 'node:fs' stays. */
export function packageName(spec) {
  if (spec.startsWith('node:')) return spec
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/** Every elementary cycle's smallest representative, found by a DFS over file edges (type-only included). */
export function findCycles(edges) {
  const adj = new Map()
  for (const e of edges) {
    if (!e.to.startsWith('src/')) continue
    if (!adj.has(e.from)) adj.set(e.from, new Set())
    adj.get(e.from).add(e.to)
  }
  // Tarjan's strongly connected components: any component with more than one file is a cycle.
  let index = 0
  const idx = new Map(), low = new Map(), stack = [], on = new Set(), comps = []
  const strong = (v) => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v)
    for (const w of adj.get(v) ?? []) {
      if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))) }
      else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)))
    }
    if (low.get(v) === idx.get(v)) {
      const comp = []
      let w
      do { w = stack.pop(); on.delete(w); comp.push(w) } while (w !== v)
      if (comp.length > 1 || adj.get(v)?.has(v)) comps.push(comp.sort())
    }
  }
  for (const v of adj.keys()) if (!idx.has(v)) strong(v)
  return comps
}

/** The unit (see architecture.json) a src/ file belongs to: its folder, or errors / types / index. */
export function unitOf(file) {
  const parts = file.split('/')
  if (parts[0] !== 'src') return null
  if (parts.length === 2) return parts[1].replace(/\.ts$/, '')
  return parts[1]
}

/**
 * Every edge that breaks the rules: a unit importing one it may not (a rule may also name one
 * file, e.g. 'worker/protocol.ts'), or a package imported outside the units allowed to.
 * @example checkLayers(buildGraph(root), JSON.parse(readFileSync('architecture.json', 'utf8')))
 */
export function checkLayers(edges, rules) {
  const violations = []
  for (const e of edges) {
    const from = unitOf(e.from)
    const rule = rules.units[from]
    if (!rule) {
      violations.push({ ...e, why: `${e.from} is in no unit of architecture.json` })
      continue
    }
    if (e.to.startsWith('src/')) {
      const to = unitOf(e.to)
      if (to === from) continue
      const file = e.to.slice('src/'.length)
      if (!rule.imports.includes(to) && !rule.imports.includes(file)) violations.push({ ...e, why: `${from} may not import ${to}` })
    } else if (rules.packages[e.to] && !rules.packages[e.to].includes(from)) {
      violations.push({ ...e, why: `only ${rules.packages[e.to].join(', ')} may import ${e.to}` })
    }
  }
  return violations
}
