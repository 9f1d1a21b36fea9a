/**
 * How big a reliability run is: `RELIABILITY_SCALE=full` (the default: the figures) or
 * `ci` (a shorter run for .ci/run). Single figures can be overridden for a replay or a quick look.
 */
export type Scale = 'full' | 'ci'

export const SCALE: Scale = process.env.RELIABILITY_SCALE === 'ci' ? 'ci' : 'full'

const SIZES = {
  // The full run fuzzes several fresh seeds (each a fresh page and fresh collections), 10,000 calls in all.
  full: { fuzzSeeds: 4, fuzzCalls: 2500, opsPerPage: 1000 },
  ci: { fuzzSeeds: 1, fuzzCalls: 1500, opsPerPage: 150 },
} as const

const int = (value: string | undefined, fallback: number): number => (value !== undefined && value !== '' ? Number.parseInt(value, 10) : fallback)

/** Fuzz calls per seed (FUZZ_CALLS overrides). */
export const FUZZ_CALLS = int(process.env.FUZZ_CALLS, SIZES[SCALE].fuzzCalls)
/** Fresh fuzz seeds per run (FUZZ_SEEDS overrides; FUZZ_SEED=a,b,… replays those instead). */
export const FUZZ_SEEDS = int(process.env.FUZZ_SEEDS, SIZES[SCALE].fuzzSeeds)
/** Operations per page in the concurrency test (CONCURRENCY_OPS overrides). */
export const OPS_PER_PAGE = int(process.env.CONCURRENCY_OPS, SIZES[SCALE].opsPerPage)

/** A seed: the environment's (to replay a run), else a fresh one (printed by each spec). */
export function seedFrom(variable: string): number {
  return int(process.env[variable], freshSeed())
}

/**
 * Seeds: the environment's comma-separated list (to replay them), else `count` fresh ones.
 *
 * @example
 * seedsFrom('FUZZ_SEED', 4) // [1645766186, 418307487, …], or FUZZ_SEED=1,2 → [1, 2]
 */
export function seedsFrom(variable: string, count: number): number[] {
  const given = process.env[variable]
  if (given !== undefined && given.trim() !== '') return given.split(',').map((s) => Number.parseInt(s.trim(), 10))
  return Array.from({ length: count }, freshSeed)
}

function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31)
}

/** The page every reliability spec runs in (built from test/reliability/pages/fuzz.html). */
export const RELIABILITY_PAGE = '/test/reliability/pages/fuzz.html'
