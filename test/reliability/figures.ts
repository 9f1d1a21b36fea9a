/**
 * Each reliability spec writes its figures to test-results/reliability/<name>.json; run.mjs prints
 * every `summary` it finds as one table. Conventions for a spec's file:
 * - `summary`: label → number or string, the rows printed (e.g. 'calls fuzzed', 'kill points survived');
 * - `failures`: a number, summed over all specs in the table's last row;
 * - anything else (details, seeds, per-code counts) is kept in the file for whoever looks closer.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SCALE } from './scale.js'

/** Where figures go: test-results/reliability, or RELIABILITY_RESULTS (two runs in one checkout). */
export const FIGURES_DIR = process.env.RELIABILITY_RESULTS ?? join('test-results', 'reliability')

export interface Figures {
  summary: Record<string, number | string>
  failures: number
  [key: string]: unknown
}

/**
 * Writes `figures` as test-results/reliability/<name>.json (with the scale and the time).
 *
 * @example
 * writeFigures('fuzz', { summary: { 'calls fuzzed': 10_000 }, failures: 0, seed: 42 })
 */
export function writeFigures(name: string, figures: Figures): void {
  mkdirSync(FIGURES_DIR, { recursive: true })
  const out = { name, scale: SCALE, writtenAt: new Date().toISOString(), ...figures }
  writeFileSync(join(FIGURES_DIR, `${name}.json`), `${JSON.stringify(out, null, 2)}\n`)
}
