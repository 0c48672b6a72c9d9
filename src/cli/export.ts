// `svd export RUN --format F --out FILE`: the run's accepted answers (and the decisions made by hand) as training
// data, never over the run's own files or its seed file.
import path from 'node:path';
import { Option } from 'commander';
import { SvdError } from '../core/base/errors';
import { RunStore, resolveRunDir } from '../core/record/store';
import { EXPORT_FORMATS, exportRun, planExport, runProtection, type ExportFormat, type ExportOptions } from '../core/training/export';
import type { Io } from './io';
import { fraction, integer, runsDirOf, type RegisterCommand } from './options';

interface ExportFlags {
  format: ExportFormat;
  out: string;
  stripThinking?: boolean;
  overrides: boolean;
  valFraction?: number;
  splitSeed?: number;
  runsDir?: string;
  json?: boolean;
  force?: boolean;
}

export const registerExportCommand: RegisterCommand = (program, io, setCode) => {
  program
    .command('export')
    .description('write the accepted answers as training data')
    .argument('<run>', 'run id or folder')
    .addOption(new Option('--format <format>', 'training data format').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .requiredOption('--out <file>', 'output file (.jsonl)')
    .option('--strip-thinking', 'drop the thinking trace (kept by default, as the method trains on it)')
    .option('--no-overrides', 'ignore manual accept/reject decisions')
    .option('--val-fraction <f>', 'share of seeds held out for validation (writes .train.jsonl and .val.jsonl)', fraction('--val-fraction'))
    .option('--split-seed <n>', 'seed of the train/validation split', integer('--split-seed'))
    .option('--force', "replace the output file if it exists (never the run's own files or its seed file)")
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .option('--json', 'machine-readable output')
    .action((run: string, flags: ExportFlags) => setCode(commandExport(run, flags, io)));
};

function commandExport(run: string, flags: ExportFlags, io: Io): number {
  const dir = resolveRunDir(run, runsDirOf(flags));
  const store = RunStore.open(dir, { readOnly: true });
  try {
    if (flags.valFraction !== undefined && !(flags.valFraction >= 0 && flags.valFraction < 1)) {
      throw new SvdError('bad_config', `--val-fraction: expected a number from 0 up to (not including) 1, got ${flags.valFraction}`);
    }
    const options: ExportOptions = {
      format: flags.format,
      out: path.resolve(flags.out),
      thinking: flags.stripThinking ? 'strip' : 'keep',
      applyOverrides: flags.overrides,
      valFraction: flags.valFraction,
      splitSeed: flags.splitSeed,
      protect: runProtection(store),
      replace: flags.force === true,
    };
    const { existing } = planExport(options);
    if (existing.length > 0 && !flags.force) {
      const which = existing.join(' and ');
      throw new SvdError('bad_config', `--out: ${which} already ${existing.length === 1 ? 'exists' : 'exist'}: pass --force to replace it, or choose another file`);
    }
    const summary = exportRun(store, options);
    if (flags.json) io.out(JSON.stringify(summary));
    else {
      for (const file of summary.files) io.out(`${file.split}\t${file.rows} rows\t${file.path}`);
      if (summary.datasetInfo) io.out(`dataset_info\t${summary.datasetInfo}`);
      const domains = Object.entries(summary.perDomain).filter(([, n]) => n > 0).map(([d, n]) => `${d} ${n}`);
      io.out(`${summary.rows} examples (${domains.join(', ') || 'none'}), about ${summary.approxTokens} tokens`);
      if (summary.rows === 0) io.err('warning: the run has no accepted answer yet: the file is empty');
    }
  } finally {
    store.close();
  }
  return 0;
}
