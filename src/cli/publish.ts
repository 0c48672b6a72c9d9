// `svd publish RUN --repo NAMESPACE/NAME`: the run's accepted answers as a Hugging Face dataset, with a card that
// says how they were made and svd_run.json with the provenance in full. `--dry-run` writes the folder only.
// The token comes from HF_TOKEN and goes nowhere but the Hub's Authorization header.
import path from 'node:path';
import { Option } from 'commander';
import { hubTokenFromEnv } from '../core/base/redact';
import { resolveRunDir } from '../core/record/store';
import { EXPORT_FORMATS, type ExportFormat } from '../core/training/export';
import { DEFAULT_HUB_URL, uploadToHub } from '../core/training/hubUpload';
import { writePublishFolder } from '../core/training/publish';
import type { Io } from './io';
import { collect, fraction, runsDirOf, type RegisterCommand } from './options';

interface PublishFlags {
  repo: string;
  private?: boolean;
  hubUrl?: string;
  dryRun?: boolean;
  out?: string;
  license?: string;
  sourceDataset?: string[];
  format?: ExportFormat;
  valFraction?: number;
  runsDir?: string;
  json?: boolean;
}

export const registerPublishCommand: RegisterCommand = (program, io, setCode) => {
  program
    .command('publish')
    .description("publish a run's accepted answers as a Hugging Face dataset, with a card and the run's provenance (token: HF_TOKEN)")
    .argument('<run>', 'run id or folder')
    .requiredOption('--repo <namespace/name>', 'the dataset repo on the Hub')
    .option('--private', 'make the repo private when it is created')
    .option('--hub-url <url>', `the Hub (default ${DEFAULT_HUB_URL})`)
    .option('--dry-run', 'write the folder (card, svd_run.json, data) and print its path; upload nothing')
    .option('--out <dir>', "where the folder is written (default <run>/publish)")
    .option('--license <id>', 'the licence you publish under, as the Hub names it (e.g. apache-2.0, cc-by-4.0, mit)')
    .option('--source-dataset <id>', 'a Hub dataset the seeds came from; repeat for more', collect)
    .addOption(new Option('--format <format>', 'row format (default openai: a messages column)').choices([...EXPORT_FORMATS]))
    .option('--val-fraction <f>', 'share of seeds in a validation split', fraction('--val-fraction'))
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .option('--json', 'machine-readable output')
    .action(async (run: string, flags: PublishFlags) => setCode(await commandPublish(run, flags, io)));
};

async function commandPublish(run: string, flags: PublishFlags, io: Io): Promise<number> {
  const runDir = resolveRunDir(run, runsDirOf(flags));
  const folder = await writePublishFolder({
    runDir,
    repo: flags.repo,
    ...(flags.out !== undefined ? { out: path.resolve(flags.out) } : {}),
    ...(flags.license !== undefined ? { license: flags.license } : {}),
    ...(flags.sourceDataset ? { sourceDatasets: flags.sourceDataset } : {}),
    ...(flags.format !== undefined ? { format: flags.format } : {}),
    ...(flags.valFraction !== undefined ? { valFraction: flags.valFraction } : {}),
  });
  if (flags.license === undefined) io.err('warning: no --license given: the card says the licence is not stated');
  if (flags.dryRun) {
    if (flags.json) io.out(JSON.stringify({ dir: folder.dir, files: folder.files, rows: folder.rows }));
    else {
      for (const file of folder.files) io.out(`file\t${file}`);
      io.out(folder.dir);
    }
    return 0;
  }
  const result = await uploadToHub({
    dir: folder.dir,
    files: folder.files,
    repo: flags.repo,
    token: hubTokenFromEnv(),
    ...(flags.private !== undefined ? { private: flags.private } : {}),
    ...(flags.hubUrl !== undefined ? { hubUrl: flags.hubUrl } : {}),
    ...(flags.license !== undefined ? { license: flags.license } : {}),
  });
  if (flags.json) io.out(JSON.stringify({ dir: folder.dir, files: folder.files, rows: folder.rows, ...result }));
  else {
    io.out(`folder\t${folder.dir}`);
    io.out(`${result.created ? 'created' : 'updated'}\t${result.url}`);
    if (result.commit) io.out(`commit\t${result.commit}`);
  }
  return 0;
}
