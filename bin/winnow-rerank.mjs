#!/usr/bin/env node
// `npx winnow-rerank <command>` (index, models pull): see dist/cli/main.js (src/cli/main.ts).
import { main } from '../dist/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
