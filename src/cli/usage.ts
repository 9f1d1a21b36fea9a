/**
 * The CLI's usage texts and version. Each command's text is what `<command> --help` prints; the
 * top-level text lists the commands.
 */

import { readFileSync } from 'node:fs'

/** The top-level usage: what `winnow-rerank --help` prints. */
export const USAGE = `Usage: winnow-rerank <command> [options]

Commands:
  index <dir> --out <dir>     build a search snapshot of a docs site (markdown or HTML) or a JSONL corpus
  models pull <model-id>      download a model's files for createWinnow({ modelBaseUrl })

Options:
  -h, --help                  print this help (or: winnow-rerank <command> --help)
  -v, --version               print the version

Docs: docs/reference/cli.md in the package.
`

/** `winnow-rerank index --help`. */
export const INDEX_USAGE = `Usage: winnow-rerank index <dir | file.jsonl> --out <dir> [options]

Reads the markdown (.md) and HTML (.html) pages under <dir>, one document per heading section, or
a JSONL file (one {"id", "text", "title"?, "metadata"?} per line, streamed), and writes a snapshot
(manifest.json + shards/) for winnow.collection(name, { snapshot }).

Options:
  --out <dir>           where to write the snapshot (required)
  --base-url <prefix>   prepended to page URLs in results, e.g. /docs/ (default: none)
  --embedder <model>    bi-encoder for vector/hybrid search (default: none, keyword only);
                        needs @huggingface/transformers installed
  --query-prefix <text> text before every query, e.g. "query: " (default: the model's own
                        convention; "" for none); recorded in the snapshot for the browser
  --document-prefix <text>
                        text before every passage, e.g. "passage: " (default: the model's own)
  --models <dir>        folder of local models (<dir>/<model>/config.json, onnx/...) (default: ./models)
  --allow-remote        fetch hub ids from the Hugging Face hub (or HF_ENDPOINT) when not in --models
  --dtype <dtype>       q8 (default), fp32, q4, fp16 or q4f16
  --chunk-tokens <n>    passage size in model tokens (default 256)
  --shard-size <bytes>  target shard size before compression (default 524288; format 1)
  --vectors-model <id>  the JSONL lines carry "vector", made by this model (browsers load it to
                        embed queries; --query-prefix/--document-prefix record its prefixes,
                        default none); documents are not split. Instead of --embedder
  --vectors-pooling <p> mean (default) or cls: how that model pools
  --vectors-dtype <d>   the dtype browsers should load it in (default q8)
  --format <auto|1|2>   1: visitors download the whole index on their first visit; 2: they fetch
                        only the shards their queries need (large corpora); auto (default): 2 past
                        4 MiB
  --part-passages <n>   format 2: build and write this many passages at a time (default 249036 at
                        384 dims, what one merged segment holds): memory follows the part, not
                        the corpus; at least 50000 with vectors
  --quiet               print only errors
  -h, --help            print this help
`

/** `winnow-rerank models --help`. */
export const MODELS_USAGE = `Usage: winnow-rerank models <command>

Commands:
  pull <model-id>       download the files winnow loads for a model into a folder you serve

Run winnow-rerank models pull --help for its options.
`

/** `winnow-rerank models pull --help`. */
export const PULL_USAGE = `Usage: winnow-rerank models pull <model-id> [options]

Downloads exactly the files winnow loads for <model-id> into <out>/<model-id>/: config.json,
tokenizer.json, tokenizer_config.json, onnx/model<dtype suffix>.onnx per dtype (and its external
data files when config.json asks for them), and 1_Pooling/config.json and
config_sentence_transformers.json (pooling, query/document prompts) when the model has them.
Serve <out> at /models/ and pass createWinnow({ modelBaseUrl: '/models/' }).

Options:
  --dtype <list>        comma-separated: q8, q4, fp32, fp16, q4f16 (default q8,q4: winnow's
                        defaults on WASM and on WebGPU; without --dtype, q4 is skipped
                        when the model has none, and winnow then runs q8 on WebGPU too)
  --out <dir>           folder of model folders (default public/models)
  --host <url>          hub to download from (default: $HF_ENDPOINT, else https://huggingface.co)
  --revision <rev>      branch, tag or commit (default main)
  --quiet               print only errors
  -h, --help            print this help

Files are checked (size; SHA-256 for LFS files such as the weights), written atomically, and
skipped when already present and intact; an interrupted download resumes on the next run.

Example:
  npx winnow-rerank models pull Xenova/ms-marco-MiniLM-L-6-v2 --dtype q8 --out public/models
`

/**
 * The package version, read from the package.json two folders up (src/cli or dist/cli).
 *
 * @example
 * packageVersion() // '0.1.0'
 */
export function packageVersion(): string {
  try {
    return String(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version)
  } catch {
    return 'unknown'
  }
}
