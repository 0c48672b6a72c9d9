// The cascade's votes for one candidate at one stage: a judge's v verdicts, or cycle-consistency's v inferred questions
// each compared with the original. Each vote is looked up in the record first (resume), then sampled and recorded.
import { lastCodeBlock } from './answer';
import type { RunConfig } from '../base/config';
import type { CandidateEvent, SeedEvent, VoteEvent } from '../record/events';
import { eventIds } from '../record/events';
import type { PromptSet } from './prompts';
import type { Sampler } from './sampler';
import type { RunStore } from '../record/store';
import type { Sample, Stage } from '../base/types';
import { parseInferredQuestion, parseVerdict } from './verdict';

export class CascadeVotes {
  constructor(
    private readonly store: RunStore,
    private readonly sampler: Sampler,
    private readonly prompts: PromptSet,
    private readonly config: RunConfig,
    private readonly signal: AbortSignal,
  ) {}

  private judgeRequest(purpose: Stage, messages: SeedEvent['prompt']) {
    return { purpose, messages, ...this.config.judge };
  }

  private answerVars(seed: SeedEvent, candidate: CandidateEvent) {
    const answer = candidate.finalAnswer ?? '';
    const language = seed.domain === 'coding' ? lastCodeBlock(answer)?.language || 'text' : undefined;
    return { answer, language };
  }

  async judgeVotes(seed: SeedEvent, candidate: CandidateEvent, stage: Exclude<Stage, 'cycle'>): Promise<VoteEvent[]> {
    const messages = this.prompts.render(seed.domain, stage, { question: seed.question, ...this.answerVars(seed, candidate) });
    const ids = Array.from({ length: this.config.votes }, (_, i) => eventIds.vote(candidate.candidateId, stage, 'judge', i));
    const results = await this.sampler.samples(this.judgeRequest(stage, messages), ids, this.store, this.signal);
    return results.map((result, index) => {
      if (result.existing) return result.existing as VoteEvent;
      return this.recordVote(ids[index]!, candidate, stage, 'judge', index, result, parseVerdict(result.sample.text).verdict);
    });
  }

  /** Cycle-consistency: v questions inferred from the answer alone, each compared with the original. */
  async cycleVotes(seed: SeedEvent, candidate: CandidateEvent): Promise<VoteEvent[]> {
    const inferMessages = this.prompts.render(seed.domain, 'cycle_infer', this.answerVars(seed, candidate));
    const inferIds = Array.from({ length: this.config.votes }, (_, i) => eventIds.vote(candidate.candidateId, 'cycle', 'infer', i));
    const inferred = await this.sampler.samples(this.judgeRequest('cycle', inferMessages), inferIds, this.store, this.signal);
    const inferEvents = inferred.map((result, index) => {
      if (result.existing) return result.existing as VoteEvent;
      const question = parseInferredQuestion(result.sample.text);
      return this.recordVote(inferIds[index]!, candidate, 'cycle', 'infer', index, result, null, question);
    });
    return Promise.all(
      inferEvents.map(async (infer, index) => {
        const id = eventIds.vote(candidate.candidateId, 'cycle', 'compare', index);
        const existing = this.store.get(id);
        if (existing?.type === 'vote') return existing;
        if (!infer.inferredQuestion || infer.finishReason === 'length') {
          // Nothing to compare: the judge gave no question (or was cut off mid-way), a "no" the user can read.
          const why = infer.inferredQuestion ? 'the inference step was cut off at max_tokens' : 'no question could be read from the inference step';
          return this.recordVote(id, candidate, 'cycle', 'compare', index, {
            sample: { text: `(${why})`, finishReason: 'none', promptTokens: 0, completionTokens: 0 },
            cached: false,
          }, 'unparseable');
        }
        const messages = this.prompts.render(seed.domain, 'cycle_compare', { question: seed.question, inferred_question: infer.inferredQuestion });
        const [result] = await this.sampler.samples(this.judgeRequest('cycle', messages), [id], this.store, this.signal, index);
        if (result!.existing) return result!.existing as VoteEvent;
        return this.recordVote(id, candidate, 'cycle', 'compare', index, result!, parseVerdict(result!.sample.text).verdict, infer.inferredQuestion);
      }),
    );
  }

  private recordVote(
    id: string,
    candidate: CandidateEvent,
    stage: Stage,
    step: VoteEvent['step'],
    index: number,
    result: { sample: { text: string; reasoning?: string; finishReason: string; promptTokens: number; completionTokens: number }; cached: boolean },
    verdict: VoteEvent['verdict'],
    inferredQuestion?: string,
  ): VoteEvent {
    const event = this.store.append({
      id,
      type: 'vote',
      candidateId: candidate.candidateId,
      stage,
      step,
      index,
      ...sampleFields(result),
      verdict,
      inferredQuestion,
    });
    return (event ?? this.store.get(id)) as VoteEvent;
  }
}

/** What a candidate or vote event records of the sample behind it. */
export function sampleFields(result: { sample: Pick<Sample, 'text' | 'reasoning' | 'finishReason' | 'promptTokens' | 'completionTokens'>; cached: boolean }) {
  const { text, reasoning, finishReason, promptTokens, completionTokens } = result.sample;
  return { text, reasoning, finishReason, promptTokens, completionTokens, cached: result.cached };
}
