// "Run tests" in this session: which candidates' tests are running, their results or why they did not run, and the
// requests on their way. No DOM: the app posts the requests and reports the answers here.
import type { ReviewCandidate, ReviewSeed, ReviewTruth, TestResultMessage } from '../../src/protocol/review';

/** "Run tests" on a candidate, in this session: on its way, answered, or refused. */
export type TestRunView =
  | { state: 'running' }
  | { state: 'done'; truth: ReviewTruth; recorded: boolean }
  | { state: 'failed'; error: string };

/** Whether a candidate's program can be run with its seed's tests. */
export function canRunTests(seed: ReviewSeed, candidate: ReviewCandidate): boolean {
  return seed.domain === 'coding' && seed.gold?.tests !== undefined && candidate.valid;
}

export class TestRuns {
  private readonly runs = new Map<string, TestRunView>();
  private readonly pending = new Map<number, string>();

  /** By candidate. */
  get views(): ReadonlyMap<string, TestRunView> {
    return this.runs;
  }

  /** Why the candidate's tests cannot be asked for now, in words; undefined when they can. */
  refusal(seed: ReviewSeed, candidate: ReviewCandidate): string | undefined {
    if (!canRunTests(seed, candidate)) return `${candidate.id} has no tests to run: only valid coding candidates of seeds with tests have.`;
    // A second click while they run would only wait for the same run.
    if (this.runs.get(candidate.id)?.state === 'running') return `The tests of ${candidate.id} are running.`;
    return undefined;
  }

  sent(requestId: number, candidateId: string): void {
    this.pending.set(requestId, candidateId);
    this.runs.set(candidateId, { state: 'running' });
  }

  /** The host's answer; @returns the candidate it was about. */
  answered(message: TestResultMessage): { candidateId: string; run: TestRunView } {
    const candidateId = this.pending.get(message.requestId) ?? message.candidateId;
    this.pending.delete(message.requestId);
    const run: TestRunView =
      message.ok && message.truth
        ? { state: 'done', truth: message.truth, recorded: message.recorded ?? false }
        : { state: 'failed', error: message.error ?? `The tests of ${candidateId} did not run.` };
    this.runs.set(candidateId, run);
    return { candidateId, run };
  }

  /** No answer in time: the tests show as failed with `error` and can be asked for again. @returns the candidate. */
  expired(requestId: number, error: string): string | undefined {
    const candidateId = this.pending.get(requestId);
    this.pending.delete(requestId);
    if (candidateId !== undefined) this.runs.set(candidateId, { state: 'failed', error });
    return candidateId;
  }
}
