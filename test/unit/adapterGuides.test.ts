/**
 * The copy-paste examples of the framework guides (docs/guides/use-with-*.md) type-check against
 * winnow's source and the installed frameworks: every ```ts block is written out as its own module,
 * with `winnow-rerank` and `winnow-rerank/<adapter>` mapped to src/, and compiled by tsc together
 * with one deliberately wrong module, which must be the only one reported.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = resolve(__dirname, '../..')
const GUIDES = ['use-with-ai-sdk', 'use-with-langchain', 'use-with-llamaindex']

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!)
}

describe('framework guides', () => {
  it('have copy-paste examples that type-check, and the check catches a wrong one', () => {
    const dir = join(root, '.cache/adapter-guides')
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const files: string[] = []
    for (const guide of GUIDES) {
      const blocks = tsBlocks(readFileSync(join(root, 'docs/guides', `${guide}.md`), 'utf8'))
      expect(blocks.length, guide).toBeGreaterThanOrEqual(2)
      blocks.forEach((code, i) => {
        const file = `${guide}-${i + 1}.ts`
        // Each block is a module of its own (top-level await, its own imports).
        writeFileSync(join(dir, file), code.includes('export ') ? code : `${code}\nexport {}\n`)
        files.push(file)
      })
    }
    writeFileSync(
      join(dir, 'wrong.ts'),
      "import { winnowReranker } from 'winnow-rerank/ai-sdk'\nimport type { Winnow } from 'winnow-rerank'\ndeclare const winnow: Winnow\nexport const model = winnowReranker(winnow, { documentText: 42 })\n",
    )
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: {
          noEmit: true,
          rootDir: '../..',
          paths: { 'winnow-rerank': ['../../src/index.ts'], 'winnow-rerank/*': ['../../src/adapters/*.ts'] },
        },
        include: [...files, 'wrong.ts'],
      }),
    )
    let output = ''
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: root, encoding: 'utf8', stdio: 'pipe' })
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? '') + String((error as { stderr?: string }).stderr ?? '')
    }
    const reported = output.split('\n').filter((line) => /error TS\d+/.test(line))
    expect(reported.length).toBeGreaterThan(0)
    expect(reported.filter((line) => !line.includes('wrong.ts')), output).toEqual([])
  }, 180_000)
})
