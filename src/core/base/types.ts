// The method's vocabulary, shared by every module of core. No logic here.

export const DOMAINS = ['math', 'science', 'coding'] as const;
export type Domain = (typeof DOMAINS)[number];

/** The cascade's stages, in the order they run. */
export const STAGES = ['cycle', 'factuality', 'correctness'] as const;
export type Stage = (typeof STAGES)[number];

/** What a model call is for; usage is counted per purpose. */
export const PURPOSES = ['generate', ...STAGES] as const;
export type Purpose = (typeof PURPOSES)[number];

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Reference data a seed file may carry. Kept aside for auditing; never reaches a model prompt. */
export interface Gold {
  answer?: string;
  tests?: string;
  solution?: string;
  entryPoint?: string;
  /** Multiple choice built from separate option fields (GPQA): the seed the options were shuffled with. */
  shuffleSeed?: number;
  /** Input/output cases (LiveCodeBench, APPS, CodeContests), run by check/testcases.ts. */
  testCases?: GoldTestCases;
}

/** One input and the output it must give: stdin text and stdout text, or (functional) one JSON value per input
 * line and the JSON result. */
export interface GoldTestCase {
  input: string;
  output: string;
}

export interface GoldTestCases {
  /** stdin: a program reading stdin; functional: `Solution().<fnName>(*args)` (or a module-level function). */
  kind: 'stdin' | 'functional';
  fnName?: string;
  /** APPS call-based rows: an expected output wrapped in a list of one also matches its element. */
  unwrap?: boolean;
  cases: GoldTestCase[];
  /** Cases of the seed file left out to keep the gold bounded. */
  omitted?: number;
}

export interface Seed {
  /** From `id` / `task_id`, else the 1-based line (JSONL, CSV) or element index (JSON array). */
  id: string;
  /** 1-based line of the row in the seed file (JSON array: line where the element starts). */
  line: number;
  domain: Domain;
  question: string;
  gold?: Gold;
}

/** A row of a seed file that was skipped, reported as `file:line: message`. */
export interface SeedProblem {
  file: string;
  line: number;
  /** The field at fault, when one is (e.g. `question`, `domain`, `id`). */
  field?: string;
  message: string;
}

/** One completion returned by the model (or by the cache). */
export interface Sample {
  /** The message content as returned; may contain <think>...</think>. */
  text: string;
  /** Reasoning the server returned in a separate field (`reasoning_content` / `reasoning`), if any. */
  reasoning?: string;
  /** `stop`, `length`, ... as the server said; `unknown` when it did not. */
  finishReason: string;
  promptTokens: number;
  completionTokens: number;
}

/** A request for samples, without `n`: the caller says how many it wants. */
export interface SampleRequest {
  purpose: Purpose;
  messages: ChatMessage[];
  temperature: number;
  topP: number;
  maxTokens: number;
  stop?: string[];
}

export type Verdict = 'yes' | 'no' | 'unparseable';

export type SelectionMode = 'first_valid' | 'keep_all';

/** What a reviewer's override decides about a candidate. */
export const OVERRIDE_DECISIONS = ['accept', 'reject'] as const;
export type OverrideDecision = (typeof OVERRIDE_DECISIONS)[number];

/** What a reviewer can do: decide, or `clear` an earlier decision (the method's verdict stands again). */
export const OVERRIDE_ACTIONS = [...OVERRIDE_DECISIONS, 'clear'] as const;
export type OverrideAction = (typeof OVERRIDE_ACTIONS)[number];

/** Why the static filter rejected a candidate. */
export type InvalidReason =
  | 'empty'
  | 'truncated' // finish_reason "length"
  | 'unterminated_think' // <think> without </think>
  | 'no_boxed_answer' // math / science without \boxed{...}
  | 'no_code_block'; // coding without a fenced code block
