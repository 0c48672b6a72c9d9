// `svd status RUN` (one run's funnel, requests, tokens and wall time) and `svd runs` (every run, one line each).
import { funnelJson, formatFunnel } from '../core/record/status';
import { RunStore, listRuns, resolveRunDir } from '../core/record/store';
import { foldRunStreaming } from '../core/record/streamFold';
import { formatScreening, screeningJson } from '../core/record/screening';
import { endpointsLines, readEndpoints } from './endpointsStatus';
import type { Io } from './io';
import { runsDirOf, type RegisterCommand } from './options';
import { costLines, priceOptions, priceTable, viewCost, type CostFlags } from './cost';

interface StatusFlags extends CostFlags {
  runsDir?: string;
  json?: boolean;
}

export const registerStatusCommands: RegisterCommand = (program, io, setCode) => {
  program
    .command('status')
    .description("a run's funnel, requests, tokens and wall time")
    .argument('<run>', 'run id or folder')
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .option('--json', 'machine-readable output')
    .include(priceOptions)
    .action((run: string, flags: StatusFlags) => setCode(commandStatus(run, flags, io)));

  program
    .command('runs')
    .description('list the runs')
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .option('--json', 'machine-readable output')
    .action((flags: StatusFlags) => setCode(commandRuns(flags, io)));
};

function commandStatus(run: string, flags: StatusFlags, io: Io): number {
  const prices = priceTable(flags, runsDirOf(flags));
  const dir = resolveRunDir(run, runsDirOf(flags));
  const store = RunStore.open(dir, { readOnly: true });
  try {
    // Streamed seed by seed: time grows with the record, memory does not.
    const view = foldRunStreaming(store, store.manifest.seedFile.rows, { audit: true });
    const cost = viewCost(view, prices, store.manifest.model.model);
    const stopReason = view.stopReason ? { stopReason: view.stopReason } : {};
    const { skippedRows } = store.manifest.seedFile;
    const servers = readEndpoints(dir);
    if (flags.json) {
      const screening = screeningJson(store.manifest.screening);
      io.out(JSON.stringify({ runId: store.manifest.id, dir, model: store.manifest.model.model, ...(skippedRows === undefined ? {} : { skippedRows }), ...funnelJson(view), ...stopReason, cost, ...(screening ? { screening } : {}), ...(servers ? { endpoints: servers.endpoints } : {}) }));
    } else {
      io.out(`run ${store.manifest.id} (${view.state})`);
      const skipped = skippedRows ? ` (${skippedRows} row${skippedRows === 1 ? '' : 's'} skipped: not usable seeds)` : '';
      io.out(`seed file ${store.manifest.seedFile.path}${skipped}`);
      io.out(`model ${store.manifest.model.model}, n=${store.manifest.config.candidates}, v=${store.manifest.config.votes}`);
      for (const line of formatScreening(store.manifest.screening)) io.out(line);
      io.out(formatFunnel(view));
      for (const line of costLines(cost)) io.out(line);
      for (const line of endpointsLines(servers)) io.out(line);
    }
  } finally {
    store.close();
  }
  return 0;
}

function commandRuns(flags: StatusFlags, io: Io): number {
  const runsDir = runsDirOf(flags);
  const runs = listRuns(runsDir);
  const rows = runs.map((run) => {
    const store = RunStore.open(run.dir, { readOnly: true });
    let view;
    try {
      view = foldRunStreaming(store, run.manifest.seedFile.rows);
    } finally {
      store.close();
    }
    return { id: run.id, dir: run.dir, state: view.state, seeds: view.funnel.seeds, done: view.funnel.seedsDone, accepted: view.funnel.acceptedFinal };
  });
  if (flags.json) io.out(JSON.stringify(rows));
  else if (rows.length === 0) io.out(`no runs in ${runsDir}`);
  else for (const r of rows) io.out(`${r.id}\t${r.state}\t${r.done}/${r.seeds} seeds\t${r.accepted} accepted`);
  return 0;
}
