// The audit: how good the judges are, measured on seeds that carry gold. Pure figures over a folded run; the
// decisions measured are the method's (acceptedByMethod), never a reviewer's override.
import { z } from 'zod';
import type { CandidateView, RunView, SeedView, TruthView } from './runview';
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

/** What the audit needs of a candidate besides its truth: a few flags, so a streamed fold can hold it cheaply. */
export interface AuditFacts {
  valid: boolean;
  /** The candidate's seed carries gold. */
  gold: boolean;
  /** The candidate's seed has its outcome. */
  finished: boolean;
  acceptedByMethod: boolean;
  /** Each stage with a recorded result: whether it passed. */
  stages: Partial<Record<Stage, boolean>>;
}

export function auditFacts(seed: Pick<SeedView, 'seed' | 'outcome'>, candidate: CandidateView): AuditFacts {
  const stages: Partial<Record<Stage, boolean>> = {};
  for (const stage of STAGES) {
    const result = candidate.stages[stage];
    if (result) stages[stage] = result.passed;
  }
  return { valid: candidate.candidate.valid, gold: seed.seed.gold !== undefined, finished: seed.outcome !== undefined, acceptedByMethod: candidate.acceptedByMethod, stages };
}

/** The audit's figures, candidate by candidate. */
export class AuditTally {
  private readonly outcomes: Record<Exclude<TruthView['outcome'], 'unchecked'>, number> = { pass: 0, fail: 0, error: 0, timeout: 0 };
  private checked = 0;
  private correct = 0;
  private unchecked = 0;
  private unsandboxed = 0;
  private readonly overall = new Tally();
  private readonly stages = Object.fromEntries(STAGES.map((stage) => [stage, new Tally()])) as Record<Stage, Tally>;

  add(facts: AuditFacts, truth: Pick<TruthView, 'outcome' | 'correct'> | undefined): void {
    if (!facts.valid) return;
    if (!truth || truth.outcome === 'unchecked') {
      if (facts.gold) this.unchecked++;
      if (truth) this.unsandboxed++;
      return;
    }
    this.checked++;
    this.outcomes[truth.outcome]++;
    if (truth.correct) this.correct++;
    // The method's decision is final only once the seed has its outcome; first-valid leaves later candidates unjudged.
    if (!facts.finished || facts.stages.cycle === undefined) return;
    this.overall.add(facts.acceptedByMethod, truth.correct);
    for (const stage of STAGES) {
      const passed = facts.stages[stage];
      if (passed !== undefined) this.stages[stage].add(passed, truth.correct);
    }
  }

  /** Undefined when no candidate was checked against gold. */
  result(): Audit | undefined {
    if (this.checked === 0 && this.unsandboxed === 0) return undefined;
    const { stages } = this;
    return {
      checked: this.checked,
      correct: this.correct,
      outcomes: { ...this.outcomes },
      unchecked: this.unchecked,
      unsandboxed: this.unsandboxed,
      overall: this.overall.figures(),
      stages: { cycle: stages.cycle.figures(), factuality: stages.factuality.figures(), correctness: stages.correctness.figures() },
    };
  }
}

/** The audit of a run; undefined when no candidate was checked against gold. */
export function auditRun(view: RunView): Audit | undefined {
  const tally = new AuditTally();
  for (const seed of view.seeds) {
    for (const candidate of seed.candidates) tally.add(auditFacts(seed, candidate), candidate.truth);
  }
  return tally.result();
}
