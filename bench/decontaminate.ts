// Decontamination at the size of a real seed file: 10,000 seeds (clean questions from GSM8K, MMLU-STEM, HumanEval,
// MBPP and LiveCodeBench, and one planted copy of each of the 530 evaluation items, changed as leaked questions are)
// checked against MATH-500 and AIME 2024, the way `svd decontaminate` reads them. Prints the time, the share of
// contaminated seeds flagged (recall: the planted copies, and the "clean" seeds that hold an item word for word),
// the other seeds flagged (false flags), and recall per way of planting.
//   node --import tsx bench/decontaminate.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkContamination } from '../src/core/method/screening';
import { EVALUATION_FILES, screeningSeeds, verbatimCopies } from '../test/fixtures/contamination';

const SEEDS = 10_000;

async function main(): Promise<void> {
  const { seeds, planted } = screeningSeeds(SEEDS);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-bench-decontaminate-'));
  try {
    const file = path.join(dir, 'seeds.jsonl');
    writeFileSync(file, seeds.map((seed) => JSON.stringify(seed)).join('\n') + '\n');
    const started = process.hrtime.bigint();
    const result = await checkContamination({ file, domain: 'math' }, EVALUATION_FILES);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const against = result.files.reduce((sum, f) => sum + f.items.length, 0);
    const flagged = new Map(result.flagged.map((flag) => [flag.seed, flag]));
    let hits = 0;
    let wrongItem = 0;
    const perKind = new Map<string, { planted: number; found: number }>();
    for (const seed of planted.values()) {
      const kind = perKind.get(seed.kind) ?? { planted: 0, found: 0 };
      kind.planted++;
      const flag = flagged.get(seed.id);
      if (flag) {
        hits++;
        kind.found++;
        if (flag.item !== seed.item) wrongItem++;
      }
      perKind.set(seed.kind, kind);
    }
    // Found apart from the detector (the item's text inside the seed's, spaces aside), so the labels are not its own.
    const verbatim = verbatimCopies(seeds.filter((seed) => !planted.has(seed.id)));
    const natural = { planted: verbatim.size, found: [...verbatim.keys()].filter((id) => flagged.has(id)).length };
    perKind.set('in clean sets', natural);
    hits += natural.found;
    const falseFlags = result.flagged.filter((flag) => !planted.has(flag.seed) && !verbatim.has(flag.seed));
    for (const [kind, counts] of [...perKind].sort()) console.log(`  ${kind.padEnd(14)} ${counts.found}/${counts.planted}`);
    for (const flag of falseFlags.slice(0, 5)) console.log(`  false flag: ${flag.seed} ~ ${flag.item} (${flag.kind}): ${flag.span.slice(0, 80)}`);
    if (wrongItem > 0) console.log(`  ${wrongItem} planted copies matched another item than the one copied`);
    const recall = hits / (planted.size + verbatim.size);
    console.log(`decontaminate: seeds=${result.seeds} against=${against} seconds=${seconds.toFixed(2)} recall=${recall.toFixed(3)} false_flags=${falseFlags.length}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
