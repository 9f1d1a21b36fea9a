import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ORT_WASM_FILES } from '../../src/models/runtime.js'
import { ORT_FILES, ortDistDir, winnow } from '../../src/vite/plugin.js'

describe('vite plugin', () => {
  it('ships exactly the onnxruntime files the runtime loads', () => {
    expect([...ORT_FILES].sort()).toEqual(Object.values(ORT_WASM_FILES).flatMap((f) => [f.mjs, f.wasm]).sort())
  })

  it('finds both files in the installed onnxruntime-web', () => {
    const dir = ortDistDir()
    for (const file of ORT_FILES) {
      expect(existsSync(join(dir, file))).toBe(true)
      expect(statSync(join(dir, file)).size).toBeGreaterThan(0)
    }
  })

  it('keeps winnow out of pre-bundling and builds ES workers', () => {
    const plugin = winnow()
    expect(plugin.name).toBe('winnow')
    const config = (plugin.config as () => unknown)()
    expect(config).toEqual({ optimizeDeps: { exclude: ['winnow-rerank'] }, worker: { format: 'es' } })
  })
})
