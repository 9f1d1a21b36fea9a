// `npm run demo`'s server: Vite's preview of dist-app/ (the demos, built by `npm run build`) on
// 127.0.0.1. PORT picks the port and must be free; without it, 4173 or the next free one.
import { preview } from 'vite'

const requested = process.env.PORT ? Number(process.env.PORT) : undefined
if (requested !== undefined && !(Number.isInteger(requested) && requested > 0 && requested < 65536)) {
  console.error(`PORT must be a port number (1-65535), not '${process.env.PORT}'`)
  process.exit(2)
}
try {
  const server = await preview({ preview: { host: '127.0.0.1', port: requested ?? 4173, strictPort: requested !== undefined } })
  const url = server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${requested ?? 4173}/`
  console.log(`\n  winnow demos (Ctrl+C to stop):\n    ${url}demo/              rerank playground\n    ${url}demo/rag/          private RAG over your files\n    ${url}demo/docs-search/  offline docs search\n`)
} catch (error) {
  console.error(error?.code === 'EADDRINUSE' || /already in use/.test(String(error?.message)) ? `port ${requested} is taken: choose another with PORT=<port> npm run demo` : String(error?.message ?? error))
  process.exit(1)
}
