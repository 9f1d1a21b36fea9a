// What the benchmark scripts share before they measure anything: their arguments (each takes
// --data, the SciFact folder), SciFact's files read in place (../shared/datasets/scifact, BEIR
// layout: corpus.jsonl, queries.jsonl, qrels/<split>.tsv; never copied into the repository), and
// the MiniLM-L6-shaped models made on first use (`npm run models:bench`, into .cache/models).
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

/** Where the workplace keeps SciFact (see ../shared/README.md). */
export const SCIFACT = '../shared/datasets/scifact'

/**
 * The script's options (node:util parseArgs `options`) plus `--data` (default {@link SCIFACT}).
 *
 * @example
 * const args = benchArgs({ queries: { type: 'string', default: '20' } })
 * args.data // '../shared/datasets/scifact'
 */
export function benchArgs(options) {
  return parseArgs({ options: { ...options, data: { type: 'string', default: SCIFACT } } }).values
}

/** One JSON value per non-empty line. */
export function readJsonl(path) {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l))
}

/** The corpus as stored: [{ _id, title, text }], in file order. */
export function readCorpus(dir) {
  return readJsonl(`${dir}/corpus.jsonl`)
}

/** The queries as stored: [{ _id, text }], in file order. */
export function readQueries(dir) {
  return readJsonl(`${dir}/queries.jsonl`)
}

/** The judgment lines of a split, header dropped: [query-id, corpus-id, score] strings. */
export function readQrels(dir, split = 'test') {
  return readFileSync(`${dir}/qrels/${split}.tsv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'))
}

/** The sentences of the abstracts longer than 20 characters, in corpus order: the text of synthetic passages. */
export function sentencesOf(corpus) {
  return corpus.flatMap((d) => d.text.split(/(?<=[.!?])\s+/)).filter((s) => s.length > 20)
}

/** Makes the MiniLM-L6-shaped random-weight models (`npm run models:bench`) when `model` is one of them and is not there yet. */
export function ensureBenchModel(model) {
  if (!existsSync(`.cache/models/${model}/onnx/model.onnx`) && model.startsWith('minilm-l6-random')) {
    execFileSync('bash', ['scripts/make-models.sh', '--bench'], { stdio: 'inherit' })
  }
}
