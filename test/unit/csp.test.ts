// The Content-Security-Policy and Trusted Types helpers, in Node with stand-ins for the browser's
// objects. What they do in a real browser under real policies: test/browser/csp*.spec.ts.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cspBlockedError, WinnowError } from '../../src/errors.js'
import { PolicyViolations } from '../../src/models/policyViolations.js'
import { allowOrtThreadWorkers } from '../../src/models/trustedWorkers.js'

const WORKER = 'https://app.example/assets/worker-abc.js'

describe('cspBlockedError', () => {
  it("names WebAssembly and 'wasm-unsafe-eval' for a blocked compilation", () => {
    const error = cspBlockedError({ blockedURI: 'wasm-eval', effectiveDirective: 'script-src', documentURI: WORKER })
    expect(error).toBeInstanceOf(WinnowError)
    expect(error.code).toBe('CSP_BLOCKED')
    expect(error.message).toContain(`the Content-Security-Policy of ${WORKER} blocked WebAssembly compilation (script-src)`)
    expect(error.message).toContain("add 'wasm-unsafe-eval' to script-src")
    expect(error.details).toEqual({ blockedUri: 'wasm-eval', directive: 'script-src', policyOf: WORKER, sourceFile: undefined })
  })

  it("says 'self' for a URL of the policy's own origin, the origin otherwise, and the directive without -elem", () => {
    expect(cspBlockedError({ blockedURI: 'https://app.example/ort/x.mjs', effectiveDirective: 'script-src-elem', documentURI: WORKER }).message).toContain(
      "add 'self' to script-src (or default-src, where script-src is not set)",
    )
    expect(cspBlockedError({ blockedURI: 'https://cdn.example/ort/x.mjs', effectiveDirective: 'connect-src', documentURI: WORKER }).message).toContain(
      'add https://cdn.example to connect-src',
    )
    expect(cspBlockedError({ blockedURI: WORKER, effectiveDirective: 'worker-src', documentURI: 'https://app.example/' }).message).toContain(
      "add 'self' to worker-src (or script-src, or default-src, where worker-src is not set)",
    )
  })

  it('explains blob: as the offline fallback, and Trusted Types refusals by their directive', () => {
    expect(cspBlockedError({ blockedURI: 'blob', effectiveDirective: 'script-src-elem' }).message).toContain("serve wasmBaseUrl from a service worker's cache, or add blob: to script-src")
    expect(cspBlockedError({ blockedURI: 'trusted-types-policy', effectiveDirective: 'trusted-types', sample: 'winnow-rerank' }).message).toContain(
      'add winnow-rerank to the trusted-types directive',
    )
    expect(cspBlockedError({ blockedURI: 'trusted-types-sink', effectiveDirective: 'require-trusted-types-for' }).message).toContain('trusted-types winnow-rerank')
  })
})

/** A stand-in event target: `fire` dispatches a securitypolicyviolation event. */
function fakeScope() {
  const listeners: ((event: Event) => void)[] = []
  return {
    addEventListener: (type: string, listener: (event: Event) => void) => type === 'securitypolicyviolation' && listeners.push(listener),
    fire: (fields: Record<string, string>) => listeners.forEach((l) => l({ disposition: 'enforce', ...fields } as unknown as Event)),
  }
}

describe('PolicyViolations', () => {
  it('turns the first enforced violation since a mark into CSP_BLOCKED, ignoring report-only ones and earlier ones', async () => {
    const scope = fakeScope()
    const violations = new PolicyViolations(scope)
    scope.fire({ blockedURI: 'https://app.example/early.js', effectiveDirective: 'script-src-elem' })
    const mark = violations.mark()
    scope.fire({ blockedURI: 'eval', effectiveDirective: 'script-src', disposition: 'report' })
    scope.fire({ blockedURI: 'wasm-eval', effectiveDirective: 'script-src', documentURI: WORKER })
    const error = await violations.blockedSince(mark, 'loading')
    expect(error?.code).toBe('CSP_BLOCKED')
    expect(error?.details.blockedUri).toBe('wasm-eval')
    expect(error?.message.startsWith('loading: ')).toBe(true)
  })

  it('waits a moment for a violation reported just after the failure, and is null when none comes', async () => {
    const scope = fakeScope()
    const violations = new PolicyViolations(scope)
    const late = violations.blockedSince(violations.mark(), '', 1000)
    setTimeout(() => scope.fire({ blockedURI: 'blob', effectiveDirective: 'worker-src' }), 10)
    expect((await late)?.details.blockedUri).toBe('blob')
    expect(await violations.blockedSince(violations.mark(), '', 20)).toBeNull()
  })

  it('waits for nothing where the scope has no events (Node)', async () => {
    const started = Date.now()
    expect(await new PolicyViolations({}).blockedSince(0, '', 10_000)).toBeNull()
    expect(Date.now() - started).toBeLessThan(5000)
  })
})

describe('allowOrtThreadWorkers (in the worker)', () => {
  it("hands onnxruntime's glue URL a TrustedScriptURL from winnow-rerank and leaves other URLs as given", () => {
    const made: { url: unknown }[] = []
    class BaseWorker {
      constructor(url: unknown) {
        made.push({ url })
      }
    }
    const blessed: string[] = []
    const scope = {
      Worker: BaseWorker as unknown as typeof Worker,
      trustedTypes: {
        createPolicy: (name: string, rules: { createScriptURL(input: string): string }) => {
          expect(name).toBe('winnow-rerank')
          return { createScriptURL: (input: string) => (blessed.push(rules.createScriptURL(input)), { trusted: input }) }
        },
      },
    }
    const glue = 'https://app.example/ort/ort-wasm-simd-threaded.mjs'
    allowOrtThreadWorkers(glue, scope)
    new scope.Worker(new URL(glue))
    new scope.Worker('https://app.example/other.js')
    expect(made).toEqual([{ url: { trusted: glue } }, { url: 'https://app.example/other.js' }])
    expect(blessed).toEqual([glue])
  })
})

describe('winnow-rerank on the page', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.resetModules()
  })

  /** The page's Trusted Types stand-in: `required` makes Worker refuse anything but a blessed URL. */
  function browser(options: { allowPolicy: boolean }) {
    const started: unknown[] = []
    const rules: { createScriptURL(input: string): string }[] = []
    class TrustedScriptURL {
      constructor(readonly url: string) {}
      toString() {
        return this.url
      }
      toJSON() {
        return this.url
      }
    }
    vi.stubGlobal('trustedTypes', {
      createPolicy: (name: string, r: { createScriptURL(input: string): string }) => {
        if (!options.allowPolicy) throw new TypeError(`Failed to execute 'createPolicy': Policy "${name}" disallowed.`)
        rules.push(r)
        return { createScriptURL: (input: string) => new TrustedScriptURL(r.createScriptURL(input)) }
      },
    })
    vi.stubGlobal(
      'Worker',
      class {
        constructor(url: unknown) {
          if (!(url instanceof TrustedScriptURL)) throw new TypeError("Failed to construct 'Worker': This document requires 'TrustedScriptURL' assignment.")
          started.push(url.url)
        }
      },
    )
    return { started, rules, TrustedScriptURL }
  }

  it("starts the default worker's URL through the policy, which blesses nothing else", async () => {
    const page = browser({ allowPolicy: true })
    const { trustedWorkerClass } = await import('../../src/client/trustedTypes.js')
    const TrustedWorker = trustedWorkerClass()
    new TrustedWorker(new URL(WORKER), { type: 'module' })
    expect(page.started).toEqual([WORKER])
    expect(() => page.rules[0]!.createScriptURL('https://evil.example/x.js')).toThrow(/only starts winnow's worker/)
  })

  it("passes the app's own TrustedScriptURL through, and says CSP_BLOCKED with the directive when the page refuses the policy name", async () => {
    const page = browser({ allowPolicy: false })
    const { startWorker } = await import('../../src/client/trustedTypes.js')
    startWorker(new page.TrustedScriptURL(WORKER), 'w')
    expect(page.started).toEqual([WORKER])
    let error: unknown
    try {
      startWorker(WORKER, 'w')
    } catch (e) {
      error = e
    }
    // A WinnowError of the freshly imported module (vi.resetModules), so by its name and code.
    expect((error as WinnowError).name).toBe('WinnowError')
    expect((error as WinnowError).code).toBe('CSP_BLOCKED')
    expect((error as WinnowError).details).toMatchObject({ directive: 'trusted-types', blockedUri: 'trusted-types-policy' })
  })
})
