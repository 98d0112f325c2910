/** Latencies in whole milliseconds, 0 – 60 s, in one bucket per ms: merges across processes by adding arrays. */
export const HISTOGRAM_SIZE = 60_001;

export function createHistogram(): Uint32Array {
  return new Uint32Array(HISTOGRAM_SIZE);
}

export function record(histogram: Uint32Array, ms: number): void {
  histogram[Math.min(HISTOGRAM_SIZE - 1, Math.max(0, Math.round(ms)))]! += 1;
}

export function merge(into: Uint32Array, from: ArrayLike<number>): void {
  for (let i = 0; i < HISTOGRAM_SIZE; i++) into[i]! += from[i] ?? 0;
}

export function total(histogram: Uint32Array): number {
  let n = 0;
  for (const c of histogram) n += c;
  return n;
}

/** The smallest latency at or below which `q` (0–1) of the samples fall; NaN with no samples. */
export function percentile(histogram: Uint32Array, q: number): number {
  const n = total(histogram);
  if (n === 0) return Number.NaN;
  const rank = Math.ceil(q * n);
  let seen = 0;
  for (let ms = 0; ms < HISTOGRAM_SIZE; ms++) {
    seen += histogram[ms]!;
    if (seen >= rank) return ms;
  }
  return HISTOGRAM_SIZE - 1;
}
