// Builds what the docs-search demo serves besides its own page (run after `vite build`, which
// builds the page): docs/*.md rendered to HTML under <app>/demo/docs-search/docs/, the service
// worker at the site root (its scope must cover /assets/, where the page's and the worker's
// scripts live), and the search snapshot of the rendered pages, made with the CLI exactly as a
// docs site would: `winnow-rerank index <built html> --out <dir>`.
//
// The snapshot carries vectors only when the real embedder (Xenova/all-MiniLM-L6-v2) is on disk:
// under public/models (where `winnow-rerank models pull <id> --out public/models` puts it, and
// where the page then finds it self-hosted) or under WINNOW_DOCS_MODELS. Otherwise it is keyword
// only: vectors of a random-weight test embedder would be noise, and a page with the real embedder
// could not query them.
//
//   node scripts/build-docs-search.mjs [--app-dir dist-app]   (default: $WINNOW_TEST_DIST, else dist-app)
import { copyFileSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { renderDocs } from './render-docs.mjs'

const { values } = parseArgs({ options: { 'app-dir': { type: 'string', default: process.env.WINNOW_TEST_DIST || 'dist-app' } } })
const app = values['app-dir']
const demo = join(app, 'demo/docs-search')
if (!existsSync(join(demo, 'index.html'))) throw new Error(`${demo}/index.html is missing: run vite build first`)
if (!existsSync('dist/cli/main.js')) throw new Error('dist/cli/main.js is missing: run npm run build:lib first')

const docsOut = join(demo, 'docs')
rmSync(docsOut, { recursive: true, force: true })
const { pages } = await renderDocs('docs', docsOut, { searchPage: '../index.html' })
copyFileSync('demo/docs-search/sw.js', join(app, 'docs-search-sw.js'))

const EMBEDDER = 'Xenova/all-MiniLM-L6-v2'
const modelsDir = process.env.WINNOW_DOCS_MODELS || 'public/models'
const embedded = existsSync(join(modelsDir, EMBEDDER, 'config.json'))

const { main } = await import('../dist/cli/main.js')
const code = await main([
  'index', docsOut,
  '--out', join(demo, 'winnow-index'),
  '--base-url', 'docs/',
  ...(embedded ? ['--embedder', EMBEDDER, '--models', modelsDir, '--dtype', 'q8'] : []),
  '--quiet',
])
if (code !== 0) process.exit(code)
console.log(`docs-search: ${pages.length} pages and their snapshot (${embedded ? `vectors by ${EMBEDDER}` : 'keyword only'}) in ${demo}`)
