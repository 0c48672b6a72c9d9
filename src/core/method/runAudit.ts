// The audit beside a run: each valid candidate of a seed that carries gold is checked against it and the result
// recorded as a truth event. It only measures the judges; the checks run beside the model calls, never before
// them, and never change a decision.
import type { AnswerChecker } from '../base/checker';
import type { RunConfig } from '../base/config';
import { describeError } from '../base/errors';
import type { Seed } from '../base/types';
import { TRUTH_OUTPUT_LIMIT, candidateIdOf, eventIds, type CandidateEvent } from '../record/events';
import { foldRunStreaming } from '../record/streamFold';
import { RunStore } from '../record/store';

export class RunAudit {
  /** Answer checks in flight; a run ends only once they are recorded (or, when it stops, cancelled). */
  private readonly checks = new Map<string, Promise<void>>();
  /** Whether the user was told that coding candidates go unchecked for want of a sandbox (said once a run). */
  private toldUnsandboxed = false;
  private readonly controller = new AbortController();

  constructor(
    private readonly store: RunStore,
    private readonly config: Pick<RunConfig, 'audit' | 'candidates'>,
    /** Without one no truth is recorded. */
    private readonly checker: AnswerChecker | undefined,
    private readonly onNotice: ((message: string) => void) | undefined,
  ) {}

  /** Stops the checks in flight; a resumed run asks them again. */
  cancel(): void {
    this.controller.abort();
  }

  private auditing(seed: Seed): seed is Seed & { gold: NonNullable<Seed['gold']> } {
    return this.checker !== undefined && this.config.audit !== 'off' && seed.gold !== undefined;
  }

  /** A finished seed's valid candidates that have no truth yet (an earlier session stopped before checking them). */
  recorded(seed: Seed): void {
    if (!this.auditing(seed)) return;
    const unchecked: CandidateEvent[] = [];
    for (let index = 0; index < this.config.candidates; index++) {
      const candidateId = candidateIdOf(seed.id, index);
      if (this.store.has(eventIds.truth(candidateId)) || this.checks.has(candidateId)) continue;
      const event = this.store.get(eventIds.candidate(candidateId));
      if (event?.type === 'candidate') unchecked.push(event);
    }
    this.start(seed, unchecked);
  }

  /** Starts a check of each valid candidate that has no truth yet; the run waits for them before it finishes. */
  start(seed: Seed, candidates: readonly CandidateEvent[]): void {
    if (!this.auditing(seed)) return;
    const checker = this.checker!;
    const signal = this.controller.signal;
    for (const candidate of candidates) {
      const { candidateId } = candidate;
      const id = eventIds.truth(candidateId);
      if (!candidate.valid || signal.aborted || this.checks.has(candidateId) || this.store.has(id)) continue;
      const check = (async () => {
        try {
          const result = await checker.check(seed.domain, candidate.text, seed.gold, { question: seed.question, signal });
          // Undefined: the gold has nothing to check this domain against.
          if (!result || signal.aborted) return;
          const unchecked = result.outcome === 'unchecked';
          if (unchecked && !this.toldUnsandboxed) {
            this.toldUnsandboxed = true;
            this.onNotice?.(`audit: coding candidates are not run: ${result.detail}`);
          }
          this.store.append({
            // Under its own id, so that a resume where a sandbox exists still checks the candidate.
            id: unchecked ? eventIds.uncheckedTruth(candidateId) : id,
            type: 'truth',
            seedId: seed.id,
            candidateId,
            outcome: result.outcome,
            correct: result.correct,
            extracted: result.extracted,
            detail: capText(result.detail),
            output: result.output === undefined ? undefined : capText(result.output),
            durationMs: Math.max(0, result.durationMs),
          });
        } catch (error) {
          if (!signal.aborted) this.onNotice?.(`audit: could not check candidate ${candidateId}: ${describeError(error)}`);
        } finally {
          this.checks.delete(candidateId);
        }
      })();
      this.checks.set(candidateId, check);
    }
  }

  /** Waits for every check in flight (cancelled ones end at once). */
  async settle(): Promise<void> {
    while (this.checks.size > 0) await Promise.all([...this.checks.values()]);
  }
}

/**
 * A finished run's audit completed where it has gaps (a session that recorded no truth, code not run for want of a
 * sandbox): checks only, under the run's lock, with nothing asked of the model and no session recorded. The run's
 * record is not opened for writing when there is nothing to check.
 */
export async function completeAudit(
  dir: string,
  config: Pick<RunConfig, 'audit' | 'candidates'>,
  options: { checker?: AnswerChecker; onNotice?: (message: string) => void; signal?: AbortSignal },
): Promise<void> {
  if (options.checker === undefined || config.audit === 'off' || options.signal?.aborted) return;
  // Streamed: a seed's view is its record up to its outcome, so a seed whose truths came later is listed too, and
  // recorded() skips the candidates that have theirs.
  const open: Seed[] = [];
  const reader = RunStore.open(dir, { readOnly: true });
  try {
    foldRunStreaming(reader, undefined, {
      onSeed: (seed) => {
        if (seed.seed.gold !== undefined && seed.candidates.some((c) => c.candidate.valid && (c.truth === undefined || c.truth.outcome === 'unchecked'))) {
          const { seedId, line, domain, question, gold } = seed.seed;
          open.push({ id: seedId, line, domain, question, gold });
        }
      },
    });
  } finally {
    reader.close();
  }
  if (open.length === 0) return;
  const store = RunStore.open(dir);
  const audit = new RunAudit(store, config, options.checker, options.onNotice);
  const stop = () => audit.cancel();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    store.lock();
    for (const seed of open) audit.recorded(seed);
    await audit.settle();
  } finally {
    options.signal?.removeEventListener('abort', stop);
    store.close();
  }
}

function capText(text: string): string {
  return text.length > TRUTH_OUTPUT_LIMIT ? `${text.slice(0, TRUTH_OUTPUT_LIMIT)}\n[cut: ${text.length} characters]` : text;
}
