import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { isTransformersBuild, recoverTransformersChains, TRANSFORMERS_CHAINS } from '../../src/vite/transformersChain.js'

// The build browsers resolve (package.json exports "default"), as installed.
const require = createRequire(import.meta.url)
const WEB = require.resolve('@huggingface/transformers').replace(/transformers\.node\.(c|m)js$/, 'transformers.web.js')
const source = readFileSync(WEB, 'utf8')

/**
 * transformers.js's own `runInferenceSession` (from the installed build, rewritten or not), made
 * runnable: `session.run` is the only thing it calls.
 */
function inferenceOf(code: string): (session: { run(feed: unknown): Promise<unknown> }, feed: unknown) => Promise<unknown> {
  const start = code.indexOf('var webInferenceChain = Promise.resolve();')
  const end = code.indexOf('function isONNXTensor', start)
  expect(start).toBeGreaterThan(0)
  expect(end).toBeGreaterThan(start)
  const body = code.slice(start, end)
  return new Function('apis', `${body}; return runInferenceSession`)({ IS_WEB_ENV: true })
}

const session = { run: (feed: unknown) => (feed === 'bad' ? Promise.reject(new Error('Gather idx out of range')) : Promise.resolve(`ran ${String(feed)}`)) }

describe('recoverTransformersChains', () => {
  it('picks transformers.js browser builds only', () => {
    expect(isTransformersBuild(WEB)).toBe(true)
    expect(isTransformersBuild('/a/node_modules/@huggingface/transformers/dist/transformers.web.js?v=1')).toBe(true)
    expect(isTransformersBuild('C:\\a\\node_modules\\@huggingface\\transformers\\dist\\transformers.js')).toBe(true)
    expect(isTransformersBuild('/a/node_modules/@huggingface/transformers/src/models.js')).toBe(false)
    expect(isTransformersBuild('/a/node_modules/onnxruntime-web/dist/ort.webgpu.min.mjs')).toBe(false)
  })

  it('the installed build has the poisoning chains: one failed run fails every later one', async () => {
    for (const { from } of TRANSFORMERS_CHAINS) expect(source.split(from)).toHaveLength(2)
    const run = inferenceOf(source)
    await expect(run(session, 'bad')).rejects.toThrow(/Gather/)
    await expect(run(session, 'good')).rejects.toThrow(/Gather/) // the old failure, again
  })

  it('rewrites both chains so the next run and load go through, and changes nothing else', async () => {
    const fixed = recoverTransformersChains(source, WEB)
    for (const { from, to } of TRANSFORMERS_CHAINS) {
      expect(fixed).toContain(to)
      expect(fixed.split(from)).toHaveLength(1)
    }
    let restored = fixed
    for (const { from, to } of TRANSFORMERS_CHAINS) restored = restored.replace(to, from)
    expect(restored).toBe(source)
    const run = inferenceOf(fixed)
    await expect(run(session, 'bad')).rejects.toThrow(/Gather/) // its own caller still sees the failure
    await expect(run(session, 'good')).resolves.toBe('ran good')
    // still one at a time, in call order
    const order: string[] = []
    const slow = { run: (feed: unknown) => new Promise((r) => setTimeout(() => r(order.push(String(feed))), feed === 'a' ? 20 : 0)) }
    await Promise.all([run(slow, 'a'), run(slow, 'b')])
    expect(order).toEqual(['a', 'b'])
  })

  it('fails loudly when a chain is missing or found twice', () => {
    const [init, inference] = TRANSFORMERS_CHAINS
    expect(() => recoverTransformersChains(source.replace(inference.from, 'webInferenceChain = run()'), 'x.js')).toThrow(
      /expected exactly one "webInferenceChain = webInferenceChain.then\(run\)" in x.js \(none found\)/,
    )
    expect(() => recoverTransformersChains(source.replace(init.from, 'load()'))).toThrow(/webInitChain.*none found/)
    expect(() => recoverTransformersChains(`${source}\n${inference.from}`)).toThrow(/several found/)
    expect(() => recoverTransformersChains('')).toThrow(/transformers.js changed/)
  })
})
