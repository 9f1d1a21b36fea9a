// What people write by hand with transformers.js to rerank (its model cards' cross-encoder recipe):
// on the page's main thread, tokenize every (query, passage) pair into one padded batch, run the
// model once, read the logits. The same model files and onnxruntime-web WASM as winnow, served by
// the same page, with the same thread count; nothing fetched from the network.
import { AutoModelForSequenceClassification, AutoTokenizer, env } from '@huggingface/transformers'

window.naive = {
  /** Loads `model` (a folder under /models/) at `dtype` on WASM with `threads` threads. */
  async load(model, dtype, threads) {
    env.allowRemoteModels = false
    env.allowLocalModels = true
    env.localModelPath = '/models/'
    env.useBrowserCache = false
    env.backends.onnx.wasm.wasmPaths = '/ort/'
    env.backends.onnx.wasm.numThreads = threads
    this.tokenizer = await AutoTokenizer.from_pretrained(model)
    this.model = await AutoModelForSequenceClassification.from_pretrained(model, { dtype, device: 'wasm' })
  },
  /** One padded batch of every pair; returns the logits in passage order. */
  async rerank(query, passages) {
    const inputs = this.tokenizer(new Array(passages.length).fill(query), { text_pair: passages, padding: true, truncation: true })
    const { logits } = await this.model(inputs)
    return Array.from(logits.data)
  },
  async dispose() {
    await this.model?.dispose()
  },
}
window.naiveReady = true
