// Builds the package into dist/ with tsc, then points the worker URL at the compiled file: the
// source says '../worker/worker.ts' (what Vite resolves in this repo), dist must say '.js' (what
// the app's bundler finds in node_modules). Fails loudly if the pattern ever changes.
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'

rmSync('dist', { recursive: true, force: true })
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
const spawn = 'dist/client/spawn.js'
const source = readFileSync(spawn, 'utf8')
const from = "new URL('../worker/worker.ts', import.meta.url)"
if (!source.includes(from)) throw new Error(`${spawn} no longer contains ${from}`)
writeFileSync(spawn, source.replace(from, "new URL('../worker/worker.js', import.meta.url)"))
console.log('built dist/')
