/// <reference types="node" />
/**
 * The `winnow-rerank` command line: dispatches to `index` and `models pull`. Node only.
 *
 * Nothing here imports @huggingface/transformers (an optional peer dependency) statically: only
 * `index --embedder` loads it, through a dynamic import (see ./nodeEmbedder.ts), so `--help`,
 * `--version`, `models pull` and a keyword-only `index` run without it.
 */

import { defaultContext, type CliContext } from './cliContext.js'
import { runIndex } from './indexCommand.js'
import { runPull } from './pullCommand.js'
import { INDEX_USAGE, MODELS_USAGE, PULL_USAGE, USAGE, packageVersion } from './usage.js'

/**
 * Runs the CLI; resolves with the exit code: 0 done, 1 failed (one line on stderr says why),
 * 2 the command line could not be understood (the usage follows).
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2))
 * await main(['models', 'pull', 'Xenova/ms-marco-MiniLM-L-6-v2', '--dtype', 'q8'], { stderr: myStream })
 */
export async function main(argv: readonly string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const context: CliContext = { ...defaultContext(), ...overrides }
  const [command, ...rest] = argv
  switch (command) {
    case undefined:
      context.stderr.write(USAGE)
      return 2
    case '-h':
    case '--help':
      context.stdout.write(USAGE)
      return 0
    case '-v':
    case '--version':
    case 'version':
      context.stdout.write(`${packageVersion()}\n`)
      return 0
    case 'help':
      return help(rest, context)
    case 'index':
      return runIndex(rest, context)
    case 'models':
      return runModels(rest, context)
    default:
      return unknown(context, command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`)
  }
}

async function runModels(argv: readonly string[], context: CliContext): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === 'pull') return runPull(rest, context)
  if (sub === '-h' || sub === '--help') {
    context.stdout.write(MODELS_USAGE)
    return 0
  }
  context.stderr.write(`winnow-rerank models: ${sub === undefined ? 'missing the command' : `unknown command 'models ${sub}'`}\n\n${MODELS_USAGE}`)
  return 2
}

/** `winnow-rerank help [command...]`. */
function help(topic: readonly string[], context: CliContext): number {
  const texts: Record<string, string> = { '': USAGE, index: INDEX_USAGE, models: MODELS_USAGE, 'models pull': PULL_USAGE }
  const text = texts[topic.join(' ')]
  if (text === undefined) return unknown(context, `no help for '${topic.join(' ')}'`)
  context.stdout.write(text)
  return 0
}

function unknown(context: CliContext, message: string): number {
  context.stderr.write(`winnow-rerank: ${message}\n\n${USAGE}`)
  return 2
}
