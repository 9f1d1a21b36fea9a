// A new user's app, for the quick-start test and `npm run bench:size`: the packed tarball of this
// repository, and a fresh Vite app laid out as `npm create vite@latest -- --template vanilla-ts`
// makes it, installed with default npm settings (no .npmrc, no npm_config_* variables).
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** `npm pack` of the repository at `root` into a temporary folder; returns the tarball's path. */
export function packTarball(root) {
  const dir = mkdtempSync(join(tmpdir(), 'winnow-pack-'))
  execFileSync('npm', ['pack', '--pack-destination', dir], { cwd: root, stdio: 'pipe', env: userEnv() })
  return join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz')))
}

/** The environment of a user's shell: nothing inherited from this repository's `npm run`. */
export function userEnv(extra = {}) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'NODE_OPTIONS') env[k] = v
  return { ...env, ...extra }
}

/**
 * A fresh Vite + TypeScript app (the vanilla-ts template's shape) in a new temporary folder, with
 * `vite` at the version `root` uses, installed. Returns its folder, `run(cmd, args, env)` and `runAsync(...)`.
 */
export function createViteApp(root, name = 'my-app') {
  const app = mkdtempSync(join(tmpdir(), `winnow-${name}-`))
  const vite = JSON.parse(readFileSync(join(root, 'node_modules/vite/package.json'), 'utf8')).version
  const pkg = { name, private: true, version: '0.0.0', type: 'module', scripts: { dev: 'vite', build: 'vite build', preview: 'vite preview' }, devDependencies: { vite } }
  writeFileSync(join(app, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
  writeFileSync(join(app, 'index.html'), '<!doctype html>\n<html lang="en"><head><meta charset="UTF-8" /><link rel="icon" type="image/svg+xml" href="/vite.svg" /><meta name="viewport" content="width=device-width, initial-scale=1.0" /><title>my-app</title></head>\n<body><div id="app"></div><script type="module" src="/src/main.ts"></script></body></html>\n')
  mkdirSync(join(app, 'src'))
  mkdirSync(join(app, 'public'))
  writeFileSync(join(app, 'public/vite.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" fill="#646cff"/></svg>\n')
  writeFileSync(join(app, 'src/main.ts'), "document.querySelector('#app')!.textContent = 'Vite + TypeScript'\n")
  const run = (cmd, args, extra = {}) => execFileSync(cmd, args, { cwd: app, stdio: 'pipe', env: userEnv(extra) }).toString()
  // Asynchronous, for commands that talk to a server in this same process (a stand-in hub).
  const runAsync = (cmd, args, extra = {}) =>
    new Promise((done, fail) =>
      execFile(cmd, args, { cwd: app, env: userEnv(extra), maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
        error ? fail(new Error(`${cmd} ${args.join(' ')} failed: ${error.message}\n${stderr}`)) : done(stdout + stderr),
      ),
    )
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'])
  return { app, run, runAsync }
}

/** Every package folder under `modules` (scoped and nested ones included), by name. */
export function installedPackages(modules) {
  const out = new Map()
  if (!existsSync(modules)) return out
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue
    const names = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((s) => `${entry}/${s}`) : [entry]
    for (const name of names) {
      out.set(name, join(modules, name))
      for (const [nested, dir] of installedPackages(join(modules, name, 'node_modules'))) out.set(`${name} > ${nested}`, dir)
    }
  }
  return out
}

/** The README's quick-start blocks, in order: `<!-- quickstart:NAME -->` then a fenced block. */
export function quickstartBlocks(readme) {
  return [...readme.matchAll(/<!-- quickstart:(\S+) -->\s*```[a-z]*\n([\s\S]*?)```/g)].map((m) => ({ name: m[1], code: m[2] }))
}
