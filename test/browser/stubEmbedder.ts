/**
 * A stand-in embedder for snapshots built in Node by tests: each passage's vector is a fixed unit
 * vector chosen by a number found in its text, so a query with that vector finds that passage.
 */

/** A deterministic unit vector of `dims` dimensions for `i`. */
export function unitVector(i: number, dims: number): number[] {
  let x = (i + 1) * 2654435761
  const v = Array.from({ length: dims }, () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5)
  const norm = Math.hypot(...v)
  return v.map((c) => c / norm)
}

/** An EmbedderPort whose vector for a text is `unitVector(n)`, `n` the first number `pattern` captures in it. */
export function stubEmbedder(model: string, dims: number, pattern: RegExp) {
  return {
    model,
    dims,
    maxTokens: 510,
    countWordTokens: () => 1,
    async embed(texts: string[], checkpoint: () => Promise<void>) {
      const out = new Float32Array(texts.length * dims)
      texts.forEach((t, i) => out.set(unitVector(Number(pattern.exec(t)![1]), dims), i * dims))
      await checkpoint()
      return out
    },
  }
}
