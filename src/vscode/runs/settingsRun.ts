// The run the window's settings name for a seed file: the id `svd run` derives from the same file and parameters,
// worked out here without a process or a request, so that the editor knows beforehand what a run would do (go on
// with a run, open a finished one, skip rows) and which of a file's runs the lenses point at. No `vscode` import.
import { parseRunConfig } from '../../core/base/config';
import { fileStamp } from '../../core/base/fileStamp';
import type { SeedProblem } from '../../core/base/types';
import { identifyRun, planRun, type RunPlan, type RunTarget } from '../../core/method/runPlan';
import { runModelOf } from '../../core/method/endpointsFile';
import { embeddedModelName } from '../../engine/download';
import type { ExtensionSettings } from '../platform/settings';

/** The model the settings name and where it is served: the embedded engine serves a model under its file's name. */
export function settingsTarget(s: Pick<ExtensionSettings, 'baseUrl' | 'model' | 'engine'> & { endpoints?: ExtensionSettings['endpoints'] }): RunTarget {
  const urls = [...(s.baseUrl ? [s.baseUrl] : []), ...(s.endpoints ?? []).map((e) => e.url)];
  if (urls.length > 0) {
    const model = s.model ?? (s.endpoints?.length && !s.baseUrl ? runModelOf(s.endpoints, undefined, 'svd.endpoints') : '');
    return { model, engine: 'server', baseURL: urls[0]!, ...(urls.length > 1 ? { endpoints: urls } : {}) };
  }
  return { model: s.model ?? embeddedModelName(s.engine.modelPath), engine: 'embedded' };
}

/** The plan of a run of `seedFile` under the settings, and the first of the rows it would skip. */
export async function settingsPlan(seedFile: string, s: ExtensionSettings, keepProblems = 5): Promise<{ plan: RunPlan; problems: SeedProblem[] }> {
  const problems: SeedProblem[] = [];
  const plan = await planRun({
    seedsFile: seedFile,
    runsDir: s.runsDir,
    config: parseRunConfig(s.config, 'settings'),
    target: settingsTarget(s),
    onProblem: (problem) => {
      if (problems.length < keepProblems) problems.push(problem);
    },
  });
  return { plan, problems };
}

/** How long a derived id is trusted without looking again (a prompt template edited meanwhile changes it). */
const REMEMBER_MS = 10_000;

/**
 * The id a run of a seed file under the settings gets, remembered per file, its size and mtime and the settings: the
 * lenses ask again whenever the Runs view changes, which during a run is twice a second.
 */
export class SettingsRunIds {
  private readonly known = new Map<string, { key: string; at: number; runId: Promise<string | undefined> }>();

  constructor(private readonly settings: () => ExtensionSettings) {}

  runIdOf(seedFile: string): Promise<string | undefined> {
    let s: ExtensionSettings;
    try {
      s = this.settings();
    } catch {
      return Promise.resolve(undefined);
    }
    const key = JSON.stringify([fileStamp(seedFile), s.runsDir, s.config, settingsTarget(s)]);
    const cached = this.known.get(seedFile);
    if (cached?.key === key && Date.now() - cached.at < REMEMBER_MS) return cached.runId;
    const runId = identifyRun({ seedsFile: seedFile, runsDir: s.runsDir, config: parseRunConfig(s.config, 'settings'), target: settingsTarget(s) }).then(
      (identity) => identity.runId,
      // A file that is no usable seed file has no run to point at.
      () => undefined,
    );
    this.known.set(seedFile, { key, at: Date.now(), runId });
    return runId;
  }
}
