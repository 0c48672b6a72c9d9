// A run's training metrics, read as they are appended, for the editor's loss chart.
import * as fs from 'node:fs';
import { metricsFile, TrainingMetricsSchema, type TrainingMetrics } from './record';

export interface SeriesPoint {
  /** The trainer's step, or the point's place when the trainer names no step. */
  step: number;
  loss?: number;
  evalLoss?: number;
}

/**
 * A run's metrics file, read incrementally: each `refresh` reads what was appended since. A file that shrank was
 * started again (a new training) and is read from the top. A line still being written waits for the next refresh.
 */
export class MetricsSeries {
  private offset = 0;
  private readonly points: SeriesPoint[] = [];
  latest: TrainingMetrics = {};

  constructor(private readonly file: string) {}

  static ofRun(runDir: string): MetricsSeries {
    return new MetricsSeries(metricsFile(runDir));
  }

  /** Whether anything changed. */
  refresh(): boolean {
    let size: number;
    try {
      size = fs.statSync(this.file).size;
    } catch {
      size = 0;
    }
    let changed = false;
    if (size < this.offset) {
      this.offset = 0;
      this.points.length = 0;
      this.latest = {};
      changed = true;
    }
    if (size === this.offset) return changed;
    let text: string;
    try {
      const fd = fs.openSync(this.file, 'r');
      try {
        const buffer = Buffer.alloc(size - this.offset);
        const n = fs.readSync(fd, buffer, 0, buffer.length, this.offset);
        text = buffer.toString('utf8', 0, n);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return changed;
    }
    const end = text.lastIndexOf('\n');
    if (end < 0) return changed;
    this.offset += Buffer.byteLength(text.slice(0, end + 1), 'utf8');
    for (const line of text.slice(0, end).split('\n')) {
      if (!line.trim()) continue;
      let parsed: ReturnType<typeof TrainingMetricsSchema.safeParse>;
      try {
        parsed = TrainingMetricsSchema.safeParse(JSON.parse(line));
      } catch {
        continue;
      }
      if (!parsed.success) continue;
      this.add(parsed.data);
      changed = true;
    }
    return changed;
  }

  private add(point: TrainingMetrics): void {
    this.latest = { ...this.latest, ...point };
    if (point.loss === undefined && point.evalLoss === undefined) return;
    const last = this.points.at(-1);
    const step = point.step ?? (last ? last.step + 1 : 0);
    // A train loss and an eval loss of the same step arrive as two lines; one that comes again replaces the first.
    let same = last && last.step === step ? last : undefined;
    for (let i = this.points.length - 2; same === undefined && i >= 0 && this.points[i]!.step >= step; i--) {
      if (this.points[i]!.step === step) same = this.points[i];
    }
    const target = same ?? { step };
    if (point.loss !== undefined) target.loss = point.loss;
    if (point.evalLoss !== undefined) target.evalLoss = point.evalLoss;
    if (!same) {
      if (last && step < last.step) {
        const at = this.points.findIndex((p) => p.step > step);
        this.points.splice(at, 0, target);
      } else {
        this.points.push(target);
      }
    }
  }

  get size(): number {
    return this.points.length;
  }

  /** At most `max` points, evenly spread, the first and the last always kept. */
  series(max = 500): SeriesPoint[] {
    const all = this.points;
    if (all.length <= max) return all.map((p) => ({ ...p }));
    const out: SeriesPoint[] = [];
    for (let i = 0; i < max; i++) out.push({ ...all[Math.round((i * (all.length - 1)) / (max - 1))]! });
    return out;
  }
}
