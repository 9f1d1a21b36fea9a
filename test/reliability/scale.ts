/**
 * How big a reliability run is: `RELIABILITY_SCALE=full` (the default: the figures) or
 * `ci` (a shorter run for .ci/run). Single figures can be overridden for a replay or a quick look.
 */
export type Scale = 'full' | 'ci'

export const SCALE: Scale = process.env.RELIABILITY_SCALE === 'ci' ? 'ci' : 'full'

const SIZES = {
  full: { fuzzCalls: 10_000, opsPerPage: 1000 },
  ci: { fuzzCalls: 1500, opsPerPage: 150 },
} as const

const int = (value: string | undefined, fallback: number): number => (value !== undefined && value !== '' ? Number.parseInt(value, 10) : fallback)

/** Fuzz calls (FUZZ_CALLS overrides). */
export const FUZZ_CALLS = int(process.env.FUZZ_CALLS, SIZES[SCALE].fuzzCalls)
/** Operations per page in the concurrency test (CONCURRENCY_OPS overrides). */
export const OPS_PER_PAGE = int(process.env.CONCURRENCY_OPS, SIZES[SCALE].opsPerPage)

/** A seed: the environment's (to replay a run), else a fresh one (printed by each spec). */
export function seedFrom(variable: string): number {
  return int(process.env[variable], Math.floor(Math.random() * 2 ** 31))
}

/** The page every reliability spec runs in (built from test/reliability/pages/fuzz.html). */
export const RELIABILITY_PAGE = '/test/reliability/pages/fuzz.html'
