/**
 * Chromium on a user-data dir of its own (so IndexedDB outlives a browser kill), and the three
 * kills: the winnow worker terminated, the page closed or its renderer crashed, the browser
 * process SIGKILLed.
 */
import { chromium, type BrowserContext, type CDPSession, type Page, type Worker } from '@playwright/test'
import { readdirSync, readFileSync } from 'node:fs'
import { CHROMIUM, CHROMIUM_ARGS } from '../../playwright.config.js'
import type { Ack } from './crashPage.js'

export interface Profile {
  dir: string
  baseURL: string
  /** Page path with `window.winnowApi`. */
  pagePath: string
  /** Installs routes (the snapshot server) on each new context. */
  routes: (context: BrowserContext) => Promise<unknown>
  /** Receives every acknowledgement, from whichever page sends it. */
  onAck: (ack: Ack) => void
  onPageError: (error: string) => void
}

/** A running browser on the profile and the one page the test drives. */
export interface Session {
  dir: string
  context: BrowserContext
  /** The Chromium browser process (found by the profile's unique user-data dir). */
  pid: number
  page: Page
  workers: Worker[]
  cdp: CDPSession | null
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function launch(profile: Profile): Promise<Session> {
  const context = await chromium.launchPersistentContext(profile.dir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, baseURL: profile.baseURL })
  await context.exposeFunction('crashAck', (ack: Ack) => profile.onAck(ack))
  await profile.routes(context)
  const pid = browserPid(profile.dir)
  const session: Session = { dir: profile.dir, context, pid, page: null as never, workers: [], cdp: null }
  // A persistent context opens with a blank page; the test uses its own.
  for (const p of context.pages()) await p.close()
  await newPage(session, profile)
  return session
}

/** Opens the test page and tracks its workers (the winnow worker is the one a worker kill closes). */
export async function newPage(session: Session, profile: Profile): Promise<Page> {
  const page = await session.context.newPage()
  session.page = page
  session.workers = []
  session.cdp = null
  page.on('worker', (worker) => {
    session.workers.push(worker)
    worker.on('close', () => (session.workers = session.workers.filter((w) => w !== worker)))
  })
  page.on('pageerror', (error) => profile.onPageError(String(error)))
  await page.goto(profile.pagePath)
  await page.waitForFunction(() => (window as unknown as { winnowApi?: unknown }).winnowApi !== undefined)
  return page
}

/**
 * The browser process of `dir`: the process this test process started (Playwright spawns Chromium
 * directly) whose command line names this unique, temporary user-data dir. Its helpers (zygote,
 * renderers, GPU, utility) are its children, in its process group.
 */
export function browserPid(dir: string): number {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(`--user-data-dir=${dir}`)) continue
      if (statOf(Number(entry)).ppid === process.pid) found.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  if (found.length !== 1) throw new Error(`expected one browser process for ${dir}, found ${found.length}`)
  return found[0]!
}

/** State, parent and process group of a process (from /proc/<pid>/stat; the name may hold spaces). */
function statOf(pid: number): { state: string; ppid: number; pgid: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { state: fields[0]!, ppid: Number(fields[1]), pgid: Number(fields[2]) }
}

/** Processes whose process group is `pgid` (the browser's children share the group Playwright gave it). */
function groupMembers(pgid: number): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const { state, pgid: group } = statOf(Number(entry))
      // A zombie has exited already.
      if (group === pgid && state !== 'Z') out.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return out
}

/** The winnow worker of the page (the page runs one instance at a time), or null. */
function winnowWorker(session: Session): Worker | null {
  return session.workers.filter((w) => /\/assets\/worker-[^/]*\.js/.test(w.url())).at(-1) ?? null
}

/** Waits until the page knows of a winnow worker (it starts with the instance). */
export async function ensureWorker(session: Session): Promise<void> {
  for (let t = 0; t < 100 && !winnowWorker(session); t++) await sleep(20)
  if (!winnowWorker(session)) throw new Error('the page runs no winnow worker')
}

/** Creates the CDP session a renderer crash is sent through (before the timed part starts). */
export async function armPageCrash(session: Session): Promise<void> {
  session.cdp = await session.context.newCDPSession(session.page)
}

/**
 * Kills: `worker` closes the winnow worker from inside (`close()` through the worker's DevTools
 * target: the worker stops, the page lives on); `page` closes the page (`close`) or crashes its
 * renderer (`crash`, CDP Page.crash); `browser` SIGKILLs the browser process and waits until its
 * children are gone too.
 */
export async function kill(session: Session, kind: 'worker' | 'page' | 'browser', how: string): Promise<void> {
  if (kind === 'worker') {
    const worker = winnowWorker(session)
    if (!worker) throw new Error('no winnow worker to kill')
    const closed = new Promise<void>((r) => worker.once('close', () => r()))
    void worker.evaluate('close()').catch(() => {})
    await Promise.race([closed, sleep(10_000)])
    return
  }
  if (kind === 'page') {
    const page = session.page
    if (how === 'crash') {
      const crashed = page.waitForEvent('crash', { timeout: 15_000 })
      void session.cdp!.send('Page.crash').catch(() => {}) // never answers: the session dies with the renderer
      await crashed
    }
    await page.close().catch(() => {})
    return
  }
  const closed = new Promise<void>((r) => session.context.once('close', () => r()))
  process.kill(session.pid, 'SIGKILL')
  await Promise.race([closed, sleep(15_000)])
  // Renderers and helpers exit once the browser is gone; a relaunch must not meet them.
  for (let t = 0; t < 100 && groupMembers(session.pid).length > 0; t++) await sleep(50)
  for (const pid of groupMembers(session.pid)) {
    try {
      // Only this profile's own helpers (a pid reused by someone else would not name the dir).
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(session.dir)) process.kill(pid, 'SIGKILL')
    } catch {
      // exited meanwhile
    }
  }
}
