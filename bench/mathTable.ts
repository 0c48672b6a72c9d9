// The math checker against a table of answer pairs: agreement, false "equivalent" among the different pairs, and
// the time of each check (mean and 99th percentile).
import { readFileSync } from 'node:fs';
import { checkMath } from '../src/core/check/math';

export interface MathPair {
  gold: string;
  /** The final answer, checked as `\boxed{answer}`. */
  answer?: string;
  /** Or a whole candidate text, checked as it is (several boxes, no box). */
  text?: string;
  equivalent: boolean;
  note: string;
  class?: string;
}

export interface MathTableScore {
  pairs: number;
  agree: number;
  falseEquivalent: number;
  different: number;
  meanMs: number;
  p99Ms: number;
  disagreements: MathPair[];
}

export function readPairs(file: string): MathPair[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as MathPair);
}

export function scoreMathTable(rows: MathPair[]): MathTableScore {
  const times: number[] = [];
  const disagreements: MathPair[] = [];
  let falseEquivalent = 0;
  for (const row of rows) {
    const started = performance.now();
    const correct = checkMath(row.text ?? `\\boxed{${row.answer ?? ''}}`, row.gold).correct;
    times.push(performance.now() - started);
    if (correct !== row.equivalent) disagreements.push(row);
    if (correct && !row.equivalent) falseEquivalent++;
  }
  times.sort((a, b) => a - b);
  return {
    pairs: rows.length,
    agree: rows.length - disagreements.length,
    falseEquivalent,
    different: rows.filter((row) => !row.equivalent).length,
    meanMs: times.reduce((sum, t) => sum + t, 0) / Math.max(1, times.length),
    p99Ms: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] ?? 0,
    disagreements,
  };
}
