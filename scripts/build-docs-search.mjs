// Builds what the docs-search demo serves besides its own page (run after `vite build`, which
// builds the page): docs/*.md rendered to HTML under <app>/demo/docs-search/docs/, the service
// worker at the site root (its scope must cover /assets/, where the page's and the worker's
// scripts live), and the search snapshot of the rendered pages, made with the CLI exactly as a
// docs site would: `winnow-rerank index <built html> --out <dir>`.
//
//   node scripts/build-docs-search.mjs [--app-dir dist-app]
import { copyFileSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { renderDocs } from './render-docs.mjs'

const { values } = parseArgs({ options: { 'app-dir': { type: 'string', default: 'dist-app' } } })
const app = values['app-dir']
const demo = join(app, 'demo/docs-search')
if (!existsSync(join(demo, 'index.html'))) throw new Error(`${demo}/index.html is missing: run vite build first`)
if (!existsSync('dist/cli/main.js')) throw new Error('dist/cli/main.js is missing: run npm run build:lib first')

const docsOut = join(demo, 'docs')
rmSync(docsOut, { recursive: true, force: true })
const { pages } = await renderDocs('docs', docsOut, { searchPage: '../index.html' })
copyFileSync('demo/docs-search/sw.js', join(app, 'docs-search-sw.js'))

const { main } = await import('../dist/cli/main.js')
const code = await main([
  'index', docsOut,
  '--out', join(demo, 'winnow-index'),
  '--base-url', 'docs/',
  // The embedded demo models (random weights): the plumbing is real, the vector scores are not.
  '--embedder', 'tiny-random-embedder',
  '--models', 'test/fixtures/models',
  '--quiet',
])
if (code !== 0) process.exit(code)
console.log(`docs-search: ${pages.length} pages and their snapshot in ${demo}`)
