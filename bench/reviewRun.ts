// Writes the review benchmark's run (the webview fixtures' big run) to disk a seed at a time, so that a run of
// millions of events never sits in memory. Run as a child of bench/review.ts, whose memory it must not inflate:
// `node --import tsx bench/reviewRun.ts DIR SEEDS`.
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { parseRunConfig } from '../src/core/base/config';
import type { RunManifest } from '../src/core/record/store';
import { bigRunBatches } from '../test/webview/fixtures';

export function writeBenchRun(dir: string, seeds: number): void {
  if (existsSync(path.join(dir, 'run.json'))) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const partial = path.join(dir, 'events.jsonl.partial');
  const fd = openSync(partial, 'w');
  let chunk = '';
  for (const batch of bigRunBatches(seeds * 4)) {
    for (const event of batch) chunk += `${JSON.stringify(event)}\n`;
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
  renameSync(partial, path.join(dir, 'events.jsonl'));
  writeFileSync(path.join(dir, 'overrides.jsonl'), '');
  const manifest: RunManifest = {
    version: 1,
    id: path.basename(dir),
    createdAt: '2025-03-01T10:00:00.000Z',
    seedFile: { path: '/data/bench-seeds.jsonl', fingerprint: 'bench', format: 'jsonl', rows: seeds },
    model: { model: 'bench', baseURL: 'http://127.0.0.1:1/v1', engine: 'server' },
    config: parseRunConfig({ candidates: 4, votes: 3 }),
    methodFingerprint: 'bench',
  };
  writeFileSync(path.join(dir, 'run.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

if (process.argv[1]?.endsWith('reviewRun.ts')) writeBenchRun(process.argv[2]!, Number(process.argv[3]));
