/**
 * The reliability suite's page: the public API (`window.winnowApi`), the fuzz runner, the
 * highlight() rendering property and one page's side of the concurrency test (`window.reliability`).
 */
import * as api from '../../../src/index.ts'
import { prepare, replay, runProgram, snapshot } from './concurrency.ts'
import { checkHighlightRendering } from './rendering.ts'
import { runFuzz } from './runner.ts'

const w = window as unknown as Record<string, unknown>
w.winnowApi = api
w.reliability = { runFuzz, checkHighlightRendering, prepare, runProgram, snapshot, replay }
w.reliabilityReady = true
