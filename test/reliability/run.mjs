#!/usr/bin/env node
/**
 * npm run test:reliability: builds the app pages, runs the reliability suite (Playwright,
 * playwright.reliability.config.ts) and prints one table of the figures every spec wrote to
 * test-results/reliability/*.json. Exits non-zero when Playwright failed.
 *
 *   npm run test:reliability                      # the full suite: the issue's figures
 *   RELIABILITY_SCALE=ci npm run test:reliability  # the shorter run of .ci/run
 *   npm run test:reliability -- --no-build fuzz    # skip the build; extra arguments go to Playwright
 *
 * Replay: FUZZ_SEED (a comma-separated list), CONCURRENCY_SEED, CRASH_SEED, MIGRATION_CRASH_SEED, INDEX_CRASH_SEED,
 * HIGHLIGHT_SEED (each
 * printed by its run; a failed fuzz seed prints its whole replay command, repeated at the end);
 * FUZZ_SEEDS, FUZZ_CALLS, CONCURRENCY_OPS override the scale. WINNOW_TEST_PORT and WINNOW_TEST_DIST
 * as for the browser tests; RELIABILITY_RESULTS moves the figures (and Playwright's output beside
 * them) for a second run in the same checkout.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const FIGURES_DIR = process.env.RELIABILITY_RESULTS ?? join('test-results', 'reliability')
const scale = process.env.RELIABILITY_SCALE === 'ci' ? 'ci' : 'full'
const args = process.argv.slice(2)
const build = !args.includes('--no-build')
const playwrightArgs = args.filter((a) => a !== '--no-build')
const env = { ...process.env, RELIABILITY_SCALE: scale }
const started = Date.now()

if (build) {
  const dist = process.env.WINNOW_TEST_DIST ?? 'dist-app'
  console.log(`reliability: building the app pages into ${dist}`)
  const built = spawnSync('npx', ['vite', 'build', '--outDir', dist, '--logLevel', 'warn'], { stdio: 'inherit', env })
  if (built.status !== 0) process.exit(built.status ?? 1)
}

// Only this run's figures go in the table.
rmSync(FIGURES_DIR, { recursive: true, force: true })
mkdirSync(FIGURES_DIR, { recursive: true })
console.log(`reliability: scale ${scale}`)
const run = spawnSync('npx', ['playwright', 'test', '-c', 'playwright.reliability.config.ts', ...playwrightArgs], { stdio: 'inherit', env })

const files = existsSync(FIGURES_DIR) ? readdirSync(FIGURES_DIR).filter((f) => f.endsWith('.json')).sort() : []
const figures = files.map((f) => JSON.parse(readFileSync(join(FIGURES_DIR, f), 'utf8')))
// A long list of seeds would widen the whole table: it is printed in full below it.
const seedCell = (value) => (String(value).length > 40 ? `${String(value).split(',').length} seeds, listed below` : String(value))
const rows = figures.flatMap((f) => Object.entries(f.summary ?? {}).map(([label, value]) => [f.name, label, label === 'seed' || label === 'seeds' ? seedCell(value) : format(value)]))
const total = (label) => figures.reduce((sum, f) => sum + (typeof f.summary?.[label] === 'number' ? f.summary[label] : 0), 0)
const failures = figures.reduce((sum, f) => sum + (Number(f.failures) || 0), 0)

console.log(`\nReliability figures (scale ${scale}, ${Math.round((Date.now() - started) / 1000)} s, ${figures.length} spec${figures.length === 1 ? '' : 's'} reporting)\n`)
printTable([['spec', 'figure', 'value'], ...rows])
console.log(
  `\nkill points survived: ${total('kill points survived')} · calls fuzzed: ${total('calls fuzzed')} · failures: ${failures}` +
    ` · Playwright: ${run.status === 0 ? 'passed' : 'FAILED'}`,
)
const seeds = figures.filter((f) => f.summary?.seed !== undefined || f.summary?.seeds !== undefined).map((f) => `${f.name} ${f.summary.seeds ?? f.summary.seed}`)
if (seeds.length > 0) console.log(`seeds: ${seeds.join(' · ')}`)
for (const replay of figures.flatMap((f) => f.replays ?? [])) console.log(`replay a failed seed: ${replay}`)
process.exit(run.status === 0 && failures === 0 ? 0 : run.status || 1)

function format(value) {
  return typeof value === 'number' ? value.toLocaleString('en-US') : String(value)
}

function printTable(table) {
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)))
  const line = (row) => `| ${row.map((cell, c) => (c === 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join(' | ')} |`
  console.log(line(table[0]))
  console.log(`|${widths.map((w, c) => (c === 2 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`)
  for (const row of table.slice(1)) console.log(line(row))
}
