// The review host's side of the benchmark, in a process of its own so that its peak memory is the host's alone:
// opens a run as the panel does (the index loaded, or built for FIRST_BUILD_MS when cold), answers the first page,
// then (cold) finishes and saves the index, and times each filter's page. With `legacy`, the whole-run fold the
// panel used before (the store opened, every event read, ReviewFeed.load).
// `node --import tsx bench/reviewHost.ts DIR index|legacy OUT.json FILTERS.json`
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ReviewIndex } from '../src/core/record/reviewIndex';
import { readRunManifest, RunStore } from '../src/core/record/store';
import { DEFAULT_FILTER, filterKey, type PageMessage, type ReviewFilter } from '../src/protocol/review';
import { ReviewFeed } from '../src/protocol/reviewFeed';
import { ReviewIndexFeed } from '../src/protocol/reviewIndexFeed';
import { reviewRowSummarizer, type SeedRow } from '../src/protocol/reviewRows';
import { BUILD_SLICE_MS, FIRST_BUILD_MS } from '../src/vscode/runs/runIndexes';

export interface HostReport {
  mode: string;
  loaded: boolean;
  /** Panel opened to the first page answered. */
  firstMs: number;
  seedsAtFirst: number;
  /** Cold: until the whole record was indexed and saved. */
  buildMs?: number;
  saveMs?: number;
  init: unknown;
  /** By `${filterKey}|${offset}`. */
  pages: Record<string, PageMessage>;
  /** Host time for each filter's first page, by filter key. */
  filterMs: Record<string, number>;
  textMs?: number;
  peakRssMb: number;
}

const OFFSETS = [0, 30, 60, 90];

function main(): void {
  const [dir, mode, out, filtersFile] = process.argv.slice(2) as [string, string, string, string];
  const filters = JSON.parse(readFileSync(filtersFile, 'utf8')) as ReviewFilter[];
  const started = performance.now();
  const manifest = readRunManifest(dir);
  let feed: Pick<ReviewIndexFeed, 'init' | 'page'>;
  let index: ReviewIndex<SeedRow> | undefined;
  let loaded = false;
  if (mode === 'legacy') {
    const store = RunStore.open(dir, { readOnly: true });
    const old = new ReviewFeed('bench', { canOverride: true });
    old.load([...store.events()], manifest.seedFile.rows);
    store.close();
    feed = old;
  } else {
    const opened = ReviewIndex.open(dir, reviewRowSummarizer);
    loaded = opened.loaded;
    opened.advance(FIRST_BUILD_MS);
    index = opened;
    feed = new ReviewIndexFeed('bench', opened, { canOverride: true, totalSeeds: manifest.seedFile.rows });
  }
  const request = (filter: ReviewFilter, offset: number) => ({ type: 'requestPage' as const, requestId: 0, offset, limit: 30, filter });
  const init = feed.init();
  const first = feed.page(request(DEFAULT_FILTER, 0));
  const firstMs = performance.now() - started;
  const report: HostReport = { mode, loaded, firstMs, seedsAtFirst: first.total, init, pages: {}, filterMs: {}, peakRssMb: 0 };
  if (index && !index.complete) {
    while (!index.complete) index.advance(BUILD_SLICE_MS);
    report.buildMs = performance.now() - started;
    const saving = performance.now();
    index.save();
    report.saveMs = performance.now() - saving;
    // The panel's feed hears the rest through the index; here a fresh feed over the whole index.
    feed = new ReviewIndexFeed('bench', index, { canOverride: true, totalSeeds: manifest.seedFile.rows });
    report.init = feed.init();
  }
  for (const filter of filters) {
    const key = filterKey(filter);
    for (const offset of OFFSETS) {
      const start = performance.now();
      const page = feed.page(request(filter, offset));
      if (offset === 0) report.filterMs[key] = performance.now() - start;
      report.pages[`${key}|${offset}`] = page;
    }
  }
  if (mode !== 'legacy') {
    const start = performance.now();
    feed.page(request({ ...DEFAULT_FILTER, text: 'Seed 4242, candidate' }, 0));
    report.textMs = performance.now() - start;
  }
  report.peakRssMb = process.resourceUsage().maxRSS / 1024;
  writeFileSync(out, JSON.stringify(report));
}

main();
