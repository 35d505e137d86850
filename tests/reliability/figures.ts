// The figures a scenario measures: one JSON line each in results/figures.jsonl (git-ignored) and one
// `FIGURE name=value unit` line on stdout. Figures are recorded, never asserted: the machine may be slow.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

export function recordFigure(scenario: string, name: string, value: number, unit: string): void {
  const rounded = Math.round(value * 10) / 10;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const entry = { at: new Date().toISOString(), node: process.version, scenario, name, value: rounded, unit };
  appendFileSync(path.join(RESULTS_DIR, 'figures.jsonl'), `${JSON.stringify(entry)}\n`);
  console.log(`FIGURE ${name}=${rounded} ${unit}`);
}

/** The nearest-rank percentile (0–100) of `values`; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
