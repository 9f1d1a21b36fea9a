import { describe, expect, it } from 'vitest'
import { loadedUrls } from '../../demo/docs-search/offline.ts'
import { describeDevice, describeModelProgress, describeSnapshot, describeTimings, formatBytes, formatMs, shortVersion } from '../../demo/docs-search/status.ts'

const HASH = '3f2a9c1be0d4a7f68b5e2c1d0a9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7'

describe('status line', () => {
  it('names the device, its threads, and keeps the reason for the hover title', () => {
    expect(describeDevice({ kind: 'wasm', threads: 4, reason: 'no WebGPU adapter' })).toEqual({ text: 'WASM, 4 threads', title: 'no WebGPU adapter' })
    expect(describeDevice({ kind: 'wasm', threads: 1, reason: 'not cross-origin isolated' }).text).toBe('WASM, 1 thread')
    expect(describeDevice({ kind: 'webgpu', threads: 1, reason: 'a real adapter' }).text).toBe('WebGPU')
  })

  it('gives the first stage’s and the reranker’s time, or says there was no rerank', () => {
    expect(describeTimings({ firstStageMs: 3.24, rerankMs: 85.4 }, 'reranked')).toBe('first stage 3.2 ms · rerank 85 ms')
    expect(describeTimings({ firstStageMs: 12, rerankMs: 40 }, 'budget')).toBe('first stage 12 ms · rerank 40 ms')
    expect(describeTimings({ firstStageMs: 12, rerankMs: 0 }, 'skipped')).toBe('first stage 12 ms · no rerank')
    expect(formatMs(Number.NaN)).toBe('– ms')
  })

  it('formats bytes and shortens hash versions', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1536)).toBe('1.50 KiB')
    expect(formatBytes(3 * 2 ** 20)).toBe('3.00 MiB')
    expect(shortVersion(HASH)).toBe('3f2a9c1b')
    expect(shortVersion('2026-11-22')).toBe('2026-11-22')
    expect(shortVersion(null)).toBe('unknown version')
  })

  it('describes model downloads', () => {
    expect(describeModelProgress({ model: 'tiny', file: 'onnx/model.onnx', loaded: 1024, total: 2048, status: 'progress' })).toBe('Downloading tiny: onnx/model.onnx, 1.00 KiB of 2.00 KiB')
    expect(describeModelProgress({ model: 'tiny', file: 'config.json', loaded: 300, total: 0, status: 'progress' })).toBe('Downloading tiny: config.json, 300 B')
    expect(describeModelProgress({ model: 'tiny', file: '', loaded: 0, total: 0, status: 'ready' })).toBe('tiny ready')
  })
})

describe('describeSnapshot', () => {
  const first = { serving: false }
  const later = { serving: true, version: 'v1' }

  it('shows an indeterminate bar while checking, a fraction while importing, none when done', () => {
    expect(describeSnapshot({ phase: 'checking', loaded: 0, total: 0, version: null }, first)).toEqual({ text: 'index: checking…', progress: null, warning: null })
    expect(describeSnapshot({ phase: 'importing', loaded: 512, total: 2048, version: HASH }, first)).toEqual({
      text: 'index 3f2a9c1b: importing 512 B of 2.00 KiB',
      progress: 0.25,
      warning: null,
    })
    expect(describeSnapshot({ phase: 'importing', loaded: 10, total: 0, version: HASH }, first).progress).toBeNull()
    expect(describeSnapshot({ phase: 'importing', loaded: 4096, total: 2048, version: HASH }, first).progress).toBe(1)
    const done = describeSnapshot({ phase: 'done', loaded: 2048, total: 2048, version: HASH, outcome: 'imported' }, first)
    expect(done).toEqual({ text: 'index 3f2a9c1b (just imported)', progress: undefined, warning: null })
  })

  it('before any event: the serving version when known, else an ellipsis, and no bar', () => {
    expect(describeSnapshot(null, first)).toEqual({ text: 'index: …', progress: undefined, warning: null })
    expect(describeSnapshot(null, { serving: true, version: HASH })).toEqual({ text: 'index 3f2a9c1b', progress: undefined, warning: null })
  })

  it('says when an update imports behind a version that already serves, and when it took over', () => {
    expect(describeSnapshot({ phase: 'checking', loaded: 0, total: 0, version: null }, later).text).toBe('index v1: checking for an update…')
    expect(describeSnapshot({ phase: 'importing', loaded: 1, total: 2, version: 'v2' }, later).text).toBe('index v1: importing update v2 in the background, 1 B of 2 B')
    expect(describeSnapshot({ phase: 'done', loaded: 2, total: 2, version: 'v2', outcome: 'imported' }, later).text).toBe('index v2 (updated just now)')
  })

  it('names each outcome, and warns (without failing the page) when an update failed', () => {
    const done = (outcome: 'unchanged' | 'offline' | 'failed', version: string | null, error?: { code: string; message: string }) =>
      describeSnapshot({ phase: 'done', loaded: 0, total: 0, version, outcome, ...(error ? { error } : {}) }, later)
    expect(done('unchanged', 'v1').text).toBe('index v1 (up to date)')
    expect(done('offline', null).text).toBe('index v1 (offline: the stored copy)')
    // The failed version is the new one; the status names the one still serving.
    const failed = done('failed', 'v2', { code: 'SNAPSHOT_INVALID', message: 'shard 3 is damaged' })
    expect(failed.text).toBe('index v1 (update to v2 failed)')
    expect(failed.warning).toContain('SNAPSHOT_INVALID: shard 3 is damaged')
    expect(failed.progress).toBeUndefined()
    expect(describeSnapshot({ phase: 'done', loaded: 0, total: 0, version: null, outcome: 'failed' }, { serving: true }).text).toBe('index (update failed)')
    expect(done('failed', 'v1').text).toBe('index v1 (update failed)') // an event naming the serving version
    // A first visit has nothing stored to fall back on: the page's error says it, not a warning.
    const firstVisit = describeSnapshot({ phase: 'done', loaded: 0, total: 0, version: null, outcome: 'failed', error: { code: 'SNAPSHOT_INVALID', message: 'HTTP 404' } }, first)
    expect(firstVisit).toEqual({ text: 'index: import failed', progress: undefined, warning: null })
  })
})

describe('loadedUrls', () => {
  it('keeps the page and same-origin resources once each, without fragments', () => {
    const page = 'https://docs.example/demo/docs-search/?q=x#top'
    const resources = ['https://docs.example/assets/a.js', 'https://cdn.example/font.woff2', 'https://docs.example/assets/a.js', 'not a url ::', '/assets/b.css#x']
    expect(loadedUrls(resources, page, ['winnow-index/manifest.json'])).toEqual([
      'https://docs.example/demo/docs-search/?q=x',
      'https://docs.example/assets/a.js',
      'https://docs.example/demo/docs-search/not%20a%20url%20::',
      'https://docs.example/assets/b.css',
      'https://docs.example/demo/docs-search/winnow-index/manifest.json',
    ])
  })
})
