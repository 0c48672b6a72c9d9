// A run's accepted answers as a dataset to share the way the field does: the export under data/, a dataset card
// (README.md with the Hub's YAML header) that says how the data was made, and svd_run.json, the provenance in full:
// generator and judge, engine, sampling, n, v, selection, the prompts, the seed file's fingerprint and sources, the
// decisions made by hand, the audit's figures when the seeds carried gold, and the tool's version.
// The folder is written here; hubUpload.ts sends it. Nothing here ever sees a token.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { methodFingerprint } from '../base/config';
import { SvdError } from '../base/errors';
import { DOMAINS, type Domain } from '../base/types';
import { PromptSet, TEMPLATE_NAMES } from '../method/prompts';
import { writeFileAtomic } from '../record/atomicFile';
import { auditRun } from '../record/audit';
import { foldRun } from '../record/runview';
import { RunStore } from '../record/store';
import { EXPORT_FORMATS, exportRun, runProtection, type ExportFormat, type ExportSummary } from './export';

export const TOOL = { name: 'self-verified-distillation', version: '0.1.0' } as const;

/** A repo id as the Hub takes it: `namespace/name`, each part letters, digits, `-`, `_`, `.`, at most 96 characters. */
export function checkRepoId(repo: string): string {
  const part = /^(?![.-])[A-Za-z0-9._-]{1,96}(?<![.-])$/;
  const parts = repo.split('/');
  if (parts.length !== 2 || !parts.every((p) => part.test(p) && !p.includes('..') && !p.includes('--'))) {
    throw new SvdError('bad_config', `--repo: expected NAMESPACE/NAME (letters, digits, "-", "_", "."), got "${repo}"`);
  }
  return repo;
}

export interface PublishOptions {
  runDir: string;
  /** `namespace/name` on the Hub. */
  repo: string;
  /** The folder to write; default `<run>/publish`. */
  out?: string;
  /** The licence as the user states it (an SPDX-like id the Hub knows, e.g. apache-2.0, cc-by-4.0, mit). */
  license?: string;
  /** Hugging Face datasets the seeds came from (`owner/name`), for the card's source_datasets. */
  sourceDatasets?: readonly string[];
  /** Default openai (a `messages` column, what TRL's SFTTrainer and most chat trainers read). */
  format?: ExportFormat;
  valFraction?: number;
}

export interface PublishedFolder {
  dir: string;
  /** Paths relative to `dir`, in upload order. */
  files: string[];
  rows: number;
  provenance: SvdRunProvenance;
}

export interface SvdRunProvenance {
  tool: typeof TOOL;
  run: { id: string; createdAt: string; state: string };
  generator: { model: string; engine: string };
  judge: { model: string; engine: string; note: string };
  sampling: { generation: unknown; judge: unknown };
  candidates: number;
  votes: number;
  selection: string;
  prompts: Record<string, string> | null;
  promptsNote?: string;
  seedFile: { name: string; sha256: string; format: string; rows: number; sourceDatasets: string[] };
  screening?: { against: { file: string; sha256: string; items: number }[]; flagged: number; duplicates: number; dropped: number };
  funnel: { seeds: number; candidates: number; valid: number; accepted: number; acceptedAfterOverrides: number };
  overrides: { accept: number; reject: number };
  audit: ReturnType<typeof auditRun> | null;
  export: { format: ExportFormat; thinking: 'keep'; rows: number; perDomain: Record<Domain, number>; splits: Record<string, string> };
  license: string;
}

const CARD = 'README.md';
const PROVENANCE = 'svd_run.json';

export async function writePublishFolder(options: PublishOptions): Promise<PublishedFolder> {
  checkRepoId(options.repo);
  const format = options.format ?? 'openai';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new SvdError('bad_config', `--format: unknown format "${format}"`);
  const store = RunStore.open(options.runDir, { readOnly: true });
  try {
    const dir = path.resolve(options.out ?? path.join(options.runDir, 'publish'));
    if (path.resolve(dir) === path.resolve(options.runDir)) {
      throw new SvdError('bad_config', `--out: ${dir} is the run's own folder; publish into a folder of its own`);
    }
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    // An earlier publish with another split leaves files that the card would no longer name: they go.
    for (const stale of ['svd.jsonl', 'svd.train.jsonl', 'svd.val.jsonl']) fs.rmSync(path.join(dataDir, stale), { force: true });
    const summary = exportRun(store.events(), {
      format,
      out: path.join(dataDir, 'svd.jsonl'),
      ...(options.valFraction !== undefined ? { valFraction: options.valFraction } : {}),
      datasetName: 'svd',
      replace: true,
      protect: runProtection(store),
    });
    if (summary.rows === 0) throw new SvdError('bad_config', `run ${store.manifest.id} has no accepted answer to publish`);
    const view = foldRun(store.events(), store.manifest.seedFile.rows);
    const provenance = await provenanceOf(store, view, summary, dir, options);
    writeFileAtomic(path.join(dir, PROVENANCE), `${JSON.stringify(provenance, null, 2)}\n`);
    writeFileAtomic(path.join(dir, CARD), datasetCard(options.repo, provenance));
    const files = [CARD, PROVENANCE, ...summary.files.map((f) => path.relative(dir, f.path))];
    if (summary.datasetInfo) files.push(path.relative(dir, summary.datasetInfo));
    return { dir, files: files.map((f) => f.split(path.sep).join('/')), rows: summary.rows, provenance };
  } finally {
    store.close();
  }
}

async function provenanceOf(
  store: RunStore,
  view: ReturnType<typeof foldRun>,
  summary: ExportSummary,
  dir: string,
  options: PublishOptions,
): Promise<SvdRunProvenance> {
  const manifest = store.manifest;
  // The templates as they are now, only when they are still the ones the run used (its fingerprint says so).
  let prompts: Record<string, string> | null = null;
  let promptsNote: string | undefined;
  try {
    const set = await PromptSet.load(manifest.config.promptsDir ? { overrideDir: manifest.config.promptsDir } : {});
    if (methodFingerprint(manifest.config, manifest.model.model, set.hash) === manifest.methodFingerprint) {
      prompts = {};
      for (const domain of DOMAINS) for (const name of TEMPLATE_NAMES) prompts[`${domain}/${name}`] = set.text(domain, name);
    } else promptsNote = 'the prompt templates changed since the run; each row still holds the exact generation prompt';
  } catch {
    promptsNote = 'the prompt templates of the run could not be read; each row still holds the exact generation prompt';
  }
  let accept = 0;
  let reject = 0;
  for (const seed of view.seeds) {
    for (const candidate of seed.candidates) {
      if (candidate.override?.action === 'accept') accept++;
      if (candidate.override?.action === 'reject') reject++;
    }
  }
  const splits: Record<string, string> = {};
  for (const file of summary.files) splits[file.split] = path.relative(dir, file.path).split(path.sep).join('/');
  const screening = manifest.screening;
  return {
    tool: TOOL,
    run: { id: manifest.id, createdAt: manifest.createdAt, state: view.state },
    generator: { model: manifest.model.model, engine: manifest.model.engine },
    judge: { model: manifest.model.model, engine: manifest.model.engine, note: 'the generating model judges its own candidates' },
    sampling: { generation: manifest.config.generation, judge: manifest.config.judge },
    candidates: manifest.config.candidates,
    votes: manifest.config.votes,
    selection: manifest.config.selection,
    prompts,
    ...(promptsNote ? { promptsNote } : {}),
    seedFile: {
      name: path.basename(manifest.seedFile.path),
      sha256: manifest.seedFile.fingerprint,
      format: manifest.seedFile.format,
      rows: manifest.seedFile.rows,
      sourceDatasets: [...(options.sourceDatasets ?? [])],
    },
    ...(screening
      ? {
          screening: {
            against: screening.against.map((a) => ({ file: path.basename(a.path), sha256: a.fingerprint, items: a.items })),
            flagged: screening.flagged.length,
            duplicates: screening.duplicates.length,
            dropped: screening.dropped.length,
          },
        }
      : {}),
    funnel: {
      seeds: view.funnel.seeds,
      candidates: view.funnel.candidates,
      valid: view.funnel.valid,
      accepted: view.funnel.accepted,
      acceptedAfterOverrides: view.funnel.acceptedFinal,
    },
    overrides: { accept, reject },
    audit: auditRun(view) ?? null,
    export: { format: summary.format, thinking: 'keep', rows: summary.rows, perDomain: summary.perDomain, splits },
    license: options.license ?? 'unknown',
  };
}

/** The Hub's size buckets. */
export function sizeCategory(rows: number): string {
  const buckets: [number, string][] = [
    [1_000, 'n<1K'],
    [10_000, '1K<n<10K'],
    [100_000, '10K<n<100K'],
    [1_000_000, '100K<n<1M'],
    [10_000_000, '1M<n<10M'],
  ];
  return buckets.find(([limit]) => rows < limit)?.[1] ?? '10M<n<100M';
}

const yamlString = (value: string) => JSON.stringify(value);

/** README.md: the Hub's YAML header (licence, task, tags, size, sources, splits), then how the data was made. */
export function datasetCard(repo: string, p: SvdRunProvenance): string {
  const domains = DOMAINS.filter((d) => p.export.perDomain[d] > 0);
  const header = [
    '---',
    `license: ${yamlString(p.license)}`,
    'task_categories:',
    '- text-generation',
    'language:',
    '- en',
    'tags:',
    ...['synthetic', 'self-verified-distillation', 'sft', 'reasoning', ...domains].map((t) => `- ${yamlString(t)}`),
    'size_categories:',
    `- ${yamlString(sizeCategory(p.export.rows))}`,
    ...(p.seedFile.sourceDatasets.length > 0 ? ['source_datasets:', ...p.seedFile.sourceDatasets.map((s) => `- ${yamlString(s)}`)] : []),
    'configs:',
    '- config_name: default',
    '  data_files:',
    ...Object.entries(p.export.splits).map(([split, file]) => `  - split: ${split}\n    path: ${yamlString(file)}`),
    '---',
  ];
  const screening = p.screening
    ? `Before the run the seeds were checked against ${p.screening.against.map((a) => `${a.file} (${a.items} items, sha256 ${a.sha256.slice(0, 12)})`).join(', ') || 'no evaluation file'}: ${p.screening.flagged} matched an evaluation item, ${p.screening.duplicates} repeated another seed, ${p.screening.dropped} were left out.`
    : 'The seeds were not checked against evaluation sets before the run: do not evaluate on benchmarks they may contain.';
  const audit = p.audit
    ? `The seeds carried gold answers, so the judges were measured too: of ${p.audit.checked} checked candidates ${p.audit.correct} were right; see \`svd_run.json\` for precision and recall per stage.`
    : 'The seeds carried no gold answers: the judges were not measured against them.';
  const body = [
    `# ${repo.split('/')[1]}`,
    '',
    `Synthetic supervised fine-tuning data made with Self-Verified Distillation (${p.tool.name} ${p.tool.version}): for each seed question the model ${p.generator.model} wrote ${p.candidates} candidate solution(s), then judged its own candidates through a three-stage cascade (cycle-consistency, factuality, correctness) with ${p.votes} vote(s) per stage; a candidate was kept only when every vote of every stage said yes (${p.selection} selection). Each row is the generation prompt and the accepted answer, thinking trace included.`,
    '',
    `- Rows: ${p.export.rows} (${domains.map((d) => `${d} ${p.export.perDomain[d]}`).join(', ')}), format \`${p.export.format}\`.`,
    `- Seeds: ${p.seedFile.rows} from \`${p.seedFile.name}\` (sha256 ${p.seedFile.sha256})${p.seedFile.sourceDatasets.length > 0 ? `, drawn from ${p.seedFile.sourceDatasets.join(', ')}` : ''}.`,
    `- Funnel: ${p.funnel.candidates} candidates, ${p.funnel.valid} valid, ${p.funnel.accepted} accepted by the judges, ${p.funnel.acceptedAfterOverrides} after ${p.overrides.accept} accept and ${p.overrides.reject} reject decision(s) by hand.`,
    `- Engine: ${p.generator.engine}; generation and judge sampling, and the prompts, are in \`svd_run.json\`.`,
    '',
    screening,
    '',
    audit,
    '',
    `Licence: ${p.license === 'unknown' ? 'not stated by the publisher' : p.license}. The answers are model output; check the licence of the seed questions and of the model before use.`,
    '',
  ];
  return `${header.join('\n')}\n\n${body.join('\n')}`;
}
