import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { project, renderCapacity, unitCosts } from './capacity';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const benchmarks = readFileSync(`${ROOT}/BENCHMARKS.md`, 'utf8');

describe('deploy/CAPACITY.md', () => {
  it('is what npm run capacity makes of the current BENCHMARKS.md (regenerate it after a benchmark run)', () => {
    expect(readFileSync(`${ROOT}/deploy/CAPACITY.md`, 'utf8')).toBe(renderCapacity(benchmarks));
  });

  it('finds the per-unit costs BENCHMARKS.md states', () => {
    const costs = unitCosts(benchmarks);
    expect(Object.keys(costs).sort()).toEqual(['botUsPerMessage', 'chatWriterUsPerRow', 'ingestReqPerS', 'natsBytesPerId', 'soketiUsPerDelivery']);
  });

  it('projects from costs by plain arithmetic', () => {
    const p = project({ chatWriterUsPerRow: 10, soketiUsPerDelivery: 30, natsBytesPerId: 256 }, 1_000);
    expect(p.chatPerS).toBe(500 + 999 * 0.5);
    expect(p.deliveriesPerS).toBe(100_000 + 999 * 0.5 * 5);
    expect(p.chatWriterCores).toBeCloseTo((999.5 * 10) / 1e6 / 0.7);
    expect(p.soketiNodes).toBe(Math.ceil((102_497.5 * 30) / 1e6 / 0.7));
    expect(p.ingestCores).toBeUndefined();
  });
});
