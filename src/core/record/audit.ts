// The audit: how good the judges are, measured on seeds that carry gold. Pure figures over a folded run; the
// decisions measured are the method's (acceptedByMethod), never a reviewer's override.
import { z } from 'zod';
import type { CandidateView, RunView, TruthView } from './runview';
import { STAGES, type Stage } from '../base/types';

const count = z.number().int().nonnegative();
const share = z.number().min(0).max(1).nullable();

/**
 * A decision against the truth over a set of candidates. For a stage, `accepted` means the stage passed; overall,
 * that the method accepted the candidate. precision = acceptedCorrect / accepted, recall = acceptedCorrect / correct;
 * null when the denominator is 0.
 */
export const ConfusionSchema = z.object({
  judged: count,
  accepted: count,
  correct: count,
  acceptedCorrect: count,
  /** Accepted, but wrong by the gold. */
  falseAccepts: count,
  /** Rejected, but right by the gold. */
  falseRejects: count,
  precision: share,
  recall: share,
});
export type Confusion = z.infer<typeof ConfusionSchema>;

export const AuditSchema = z.object({
  /** Valid candidates with a recorded truth. */
  checked: count,
  /** Of those, right by the gold: the generator's own accuracy, what the judges start from. */
  correct: count,
  outcomes: z.object({ pass: count, fail: count, error: count, timeout: count }),
  /** Valid candidates of seeds with gold that have no truth yet (a run still going, or gold the checker cannot use). */
  unchecked: count,
  /** Of those, coding candidates whose code was not run: no sandbox on the machine that checked them. */
  unsandboxed: count,
  /** Candidates whose cascade ended (seed finished, cycle judged) and that have a truth. */
  overall: ConfusionSchema,
  /** Per stage, over the judged candidates that reached it. */
  stages: z.object({ cycle: ConfusionSchema, factuality: ConfusionSchema, correctness: ConfusionSchema }),
});
export type Audit = z.infer<typeof AuditSchema>;

class Tally {
  judged = 0;
  accepted = 0;
  correct = 0;
  acceptedCorrect = 0;

  add(accepted: boolean, correct: boolean): void {
    this.judged++;
    if (accepted) this.accepted++;
    if (correct) this.correct++;
    if (accepted && correct) this.acceptedCorrect++;
  }

  figures(): Confusion {
    return {
      judged: this.judged,
      accepted: this.accepted,
      correct: this.correct,
      acceptedCorrect: this.acceptedCorrect,
      falseAccepts: this.accepted - this.acceptedCorrect,
      falseRejects: this.correct - this.acceptedCorrect,
      precision: this.accepted > 0 ? this.acceptedCorrect / this.accepted : null,
      recall: this.correct > 0 ? this.acceptedCorrect / this.correct : null,
    };
  }
}

/** The audit of a run; undefined when no candidate was checked against gold. */
export function auditRun(view: RunView): Audit | undefined {
  const outcomes: Record<Exclude<TruthView['outcome'], 'unchecked'>, number> = { pass: 0, fail: 0, error: 0, timeout: 0 };
  let checked = 0;
  let correct = 0;
  let unchecked = 0;
  let unsandboxed = 0;
  const overall = new Tally();
  const stages = Object.fromEntries(STAGES.map((stage) => [stage, new Tally()])) as Record<Stage, Tally>;

  for (const seed of view.seeds) {
    for (const candidate of seed.candidates) {
      if (!candidate.candidate.valid) continue;
      const truth = candidate.truth;
      if (!truth || truth.outcome === 'unchecked') {
        if (seed.seed.gold) unchecked++;
        if (truth) unsandboxed++;
        continue;
      }
      checked++;
      outcomes[truth.outcome]++;
      if (truth.correct) correct++;
      // The method's decision is final only once the seed has its outcome; first-valid leaves later candidates unjudged.
      if (!seed.outcome || !judged(candidate)) continue;
      overall.add(candidate.acceptedByMethod, truth.correct);
      for (const stage of STAGES) {
        const result = candidate.stages[stage];
        if (result) stages[stage].add(result.passed, truth.correct);
      }
    }
  }
  if (checked === 0 && unsandboxed === 0) return undefined;
  return {
    checked,
    correct,
    outcomes,
    unchecked,
    unsandboxed,
    overall: overall.figures(),
    stages: { cycle: stages.cycle.figures(), factuality: stages.factuality.figures(), correctness: stages.correctness.figures() },
  };
}

function judged(candidate: CandidateView): boolean {
  return candidate.stages.cycle !== undefined;
}
