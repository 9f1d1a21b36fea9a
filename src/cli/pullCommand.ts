/**
 * `winnow-rerank models pull <model-id>`: downloads a model's files into a folder the app serves.
 * See ./pullModel.ts for the work and docs/reference/cli.md for the user's view.
 */

import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { fail, type CliContext } from './cliContext.js'
import { DEFAULT_HOST, normalizeHost } from './hubClient.js'
import { parseDtypes } from './modelFiles.js'
import { formatBytes, pullProgress } from './progressBar.js'
import { pullModel } from './pullModel.js'
import { PULL_USAGE } from './usage.js'

/** Where `pull` writes by default: Vite's public folder, served at /models/. */
export const DEFAULT_OUT = 'public/models'
/**
 * What `pull` downloads without `--dtype`: winnow's default dtypes on WASM (q8) and WebGPU (q4),
 * q4 only when the hub has it (not every converted model does; winnow then runs q8 on WebGPU too).
 */
export const DEFAULT_DTYPES = 'q8,q4'
const OPTIONAL_DEFAULT_DTYPES = ['q4'] as const

/**
 * Runs `models pull` with the arguments after `pull`; resolves with the exit code.
 *
 * @example
 * process.exitCode = await runPull(['Xenova/ms-marco-MiniLM-L-6-v2', '--dtype', 'q8'], defaultContext())
 */
export async function runPull(argv: readonly string[], context: CliContext): Promise<number> {
  let args
  try {
    args = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        dtype: { type: 'string' },
        out: { type: 'string', default: DEFAULT_OUT },
        host: { type: 'string' },
        revision: { type: 'string', default: 'main' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    return usageError(context, (error as Error).message)
  }
  const { values, positionals } = args
  if (values.help) {
    context.stdout.write(PULL_USAGE)
    return 0
  }
  if (positionals.length !== 1) {
    return usageError(context, positionals.length === 0 ? 'missing the <model-id> to pull, e.g. Xenova/ms-marco-MiniLM-L-6-v2' : `expected one <model-id>, got ${positionals.length}: ${positionals.join(' ')}`)
  }
  try {
    const dtypes = parseDtypes(values.dtype ?? DEFAULT_DTYPES)
    const host = normalizeHost(values.host ?? (context.env.HF_ENDPOINT || DEFAULT_HOST))
    const result = await pullModel(positionals[0]!, {
      dtypes,
      optionalDtypes: values.dtype === undefined ? OPTIONAL_DEFAULT_DTYPES : [],
      out: resolve(values.out),
      host,
      revision: values.revision,
      fetch: context.fetch,
      onEvent: values.quiet ? undefined : pullProgress(context.stderr),
    })
    if (!values.quiet) {
      const downloaded = result.files.filter((f) => f.status === 'downloaded')
      const present = result.files.filter((f) => f.status === 'up-to-date').length
      const bytes = downloaded.reduce((sum, f) => sum + f.size, 0)
      context.stderr.write(`pulled ${result.model}: ${downloaded.length} downloaded (${formatBytes(bytes)}), ${present} already here, in ${result.dir}\n`)
      // Vite (and most static setups) serve public/ at the site root.
      if (/(^|[\\/])public[\\/]models[\\/]?$/.test(values.out)) context.stderr.write(`serve public/ as the site root and pass createWinnow({ modelBaseUrl: '/models/' })\n`)
    }
    return 0
  } catch (error) {
    return fail(context, 'models pull', error)
  }
}

function usageError(context: CliContext, message: string): number {
  context.stderr.write(`winnow-rerank models pull: ${message}\n\n${PULL_USAGE}`)
  return 2
}
