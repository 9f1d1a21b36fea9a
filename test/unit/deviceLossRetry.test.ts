import { describe, expect, it } from 'vitest'
import { retryAfterDeviceLoss } from '../../src/client/connection.js'
import { deviceLostError, WinnowError } from '../../src/errors.js'
import { codeOf } from './helpers.js'

describe('retryAfterDeviceLoss', () => {
  it('runs an idempotent call once more after DEVICE_LOST, and returns the second result', async () => {
    const runs: number[] = []
    const value = await retryAfterDeviceLoss(undefined, async () => {
      runs.push(runs.length)
      if (runs.length === 1) throw deviceLostError({ reason: 'destroyed', message: '' })
      return 'on wasm'
    })
    expect(value).toBe('on wasm')
    expect(runs).toEqual([0, 1])
  })

  it('retries once only: a second DEVICE_LOST reaches the caller', async () => {
    let runs = 0
    const failing = retryAfterDeviceLoss(undefined, async () => {
      runs++
      throw deviceLostError({ reason: 'unknown', message: 'again' })
    })
    expect(await codeOf(failing)).toBe('DEVICE_LOST')
    expect(runs).toBe(2)
  })

  it('does not retry other failures, or a call whose signal aborted', async () => {
    let runs = 0
    const full = async () => {
      runs++
      throw new WinnowError('STORAGE_FULL', 'full')
    }
    const lost = async () => {
      runs++
      throw deviceLostError({ reason: 'x', message: '' })
    }
    expect(await codeOf(retryAfterDeviceLoss(undefined, full))).toBe('STORAGE_FULL')
    const controller = new AbortController()
    controller.abort()
    expect(await codeOf(retryAfterDeviceLoss(controller.signal, lost))).toBe('DEVICE_LOST')
    expect(runs).toBe(2)
  })
})
