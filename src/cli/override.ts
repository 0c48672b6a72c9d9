// `svd override RUN CANDIDATE accept|reject|clear`: overrule the judges on one candidate, recorded in the run.
import { Argument } from 'commander';
import { makeOverride } from '../core/record/overrides';
import { RunStore, resolveRunDir } from '../core/record/store';
import { OVERRIDE_ACTIONS, type OverrideAction } from '../core/base/types';
import type { Io } from './io';
import { runsDirOf, type RegisterCommand } from './options';

interface OverrideFlags {
  note?: string;
  runsDir?: string;
}

export const registerOverrideCommand: RegisterCommand = (program, io, setCode) => {
  program
    .command('override')
    .description("overrule the judges on one candidate: accept, reject, or clear a previous decision")
    .argument('<run>', 'run id or folder')
    .argument('<candidate>', 'candidate id (<seed id>#<index>)')
    .addArgument(new Argument('<action>', OVERRIDE_ACTIONS.join(' | ')).choices(OVERRIDE_ACTIONS))
    .option('--note <text>', 'why')
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .action((run: string, candidate: string, action: OverrideAction, flags: OverrideFlags) => setCode(commandOverride(run, candidate, action, flags, io)));
};

function commandOverride(run: string, candidate: string, action: OverrideAction, flags: OverrideFlags, io: Io): number {
  const dir = resolveRunDir(run, runsDirOf(flags));
  const store = RunStore.open(dir);
  try {
    const event = makeOverride((id) => store.has(`cand:${id}`), candidate, action, flags.note);
    store.append(event);
    io.out(action === 'clear' ? `${candidate}: override cleared` : `${candidate}: ${action}ed by hand`);
  } finally {
    store.close();
  }
  return 0;
}
