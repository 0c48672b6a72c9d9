// The review's command, and the panels restored after a reload.
import { resolveRunDir } from '../../core/record/store';
import type { FeatureContext } from '../platform/feature';
import { pickRun } from '../runs/pickRun';
import { openReviewPanel, registerReviewSerializer } from './reviewPanel';

export function registerReviewCommands(ctx: FeatureContext): void {
  const deps = { extensionUri: ctx.extension.extensionUri, log: ctx.log };
  ctx.extension.subscriptions.push(
    registerReviewSerializer(deps, (runId) => {
      const runsDir = ctx.runsDir();
      try {
        return runsDir ? resolveRunDir(runId, runsDir) : undefined;
      } catch {
        return undefined;
      }
    }),
  );

  ctx.command('svd.openReview', async (arg) => {
    const run = await pickRun(ctx, arg, 'Run to review');
    openReviewPanel(deps, run.runId, run.dir);
    return run.runId;
  });
}
