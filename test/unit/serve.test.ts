/**
 * `npm run demo`'s server (scripts/serve.mjs): PORT picks the port and must be free (a clear
 * message and exit 1 when taken); without PORT it takes 4173 or the next free port.
 */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'

const children: ReturnType<typeof spawn>[] = []
afterEach(() => {
  for (const c of children.splice(0)) c.kill()
})

/** Starts serve.mjs; resolves with its output once it printed its URLs, or with its exit code. */
function serve(env: Record<string, string>): Promise<{ out: string; code: number | null }> {
  const child = spawn(process.execPath, ['scripts/serve.mjs'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  return new Promise((done) => {
    const take = (d: Buffer) => {
      out += d
      if (out.includes('docs-search/')) done({ out, code: null })
    }
    child.stdout!.on('data', take)
    child.stderr!.on('data', take)
    child.on('exit', (code) => done({ out, code }))
  })
}

function occupy(port: number): Promise<Server> {
  return new Promise((done, fail) => {
    const s = createServer().once('error', fail)
    s.listen(port, '127.0.0.1', () => done(s))
  })
}

describe('npm run demo (scripts/serve.mjs)', () => {
  it('serves on PORT, cross-origin isolated, and names the three demos', async () => {
    const { out, code } = await serve({ PORT: '4197' })
    expect(code).toBeNull()
    expect(out).toContain('http://127.0.0.1:4197/demo/rag/')
    const res = await fetch('http://127.0.0.1:4197/')
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp')
  }, 30_000)

  it('says the port is taken and exits 1 when PORT is busy', async () => {
    const blocker = await occupy(4198)
    try {
      const { out, code } = await serve({ PORT: '4198' })
      expect(code).toBe(1)
      expect(out).toContain('port 4198 is taken: choose another with PORT=<port> npm run demo')
    } finally {
      blocker.close()
    }
  }, 30_000)

  it('without PORT, takes the next free port when 4173 is busy', async () => {
    const blocker = await occupy(4173).catch(() => null) // busy already is as good
    try {
      const { out, code } = await serve({ PORT: '' })
      expect(code).toBeNull()
      const port = Number(/127\.0\.0\.1:(\d+)\/demo\//.exec(out)?.[1])
      expect(port).toBeGreaterThan(4173)
      expect((await fetch(`http://127.0.0.1:${port}/`)).headers.get('cross-origin-opener-policy')).toBe('same-origin')
    } finally {
      blocker?.close()
    }
  }, 30_000)

  it('refuses a PORT that is not a port number', async () => {
    const { out, code } = await serve({ PORT: 'eighty' })
    expect(code).toBe(2)
    expect(out).toContain("PORT must be a port number (1-65535), not 'eighty'")
  }, 30_000)
})
