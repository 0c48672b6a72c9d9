// Multiple-choice rows whose options come as separate fields (GPQA): the correct answer and its distractors become
// one question with the options appended (`A. ... B. ...`, as in MMLU rows) and a gold option letter. The options
// are shuffled by a seeded PRNG, and the seed goes into the gold, so the letter is the same on every machine and
// anyone can rebuild it: options = [correct, ...distractors] in field order, Fisher-Yates driven by mulberry32(seed).
import { createHash } from 'node:crypto';

type Row = Record<string, unknown>;
type RowProblem = { field?: string; message: string };

export interface ChoiceRow {
  /** The row in the plain layout: the question with its options, `answer` the gold letter, `id` and `domain` filled. */
  row: Row;
  /** The field the question came from, where `row` keeps the built question. */
  questionField: string;
  shuffleSeed: number;
}

export interface ChoiceRowOptions {
  /** The field the reader takes the question from (GPQA's `Question` where the row has none of its usual fields). */
  questionField: string | undefined;
  domainField?: string;
  idField?: string;
  /** The reader's default domain; without it, and without a domain of its own, such a row is science. */
  domain?: string;
}

/** The letters of up to ten options (MMLU-Pro has ten). */
export const OPTION_LETTERS = 'ABCDEFGHIJ';

const SEED_FIELDS = ['shuffle_seed', 'shuffleSeed'] as const;
const GPQA_ID = 'Record ID';

/** The uint32 PRNG the shuffle uses (mulberry32): integer steps only, so every machine draws the same numbers. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A copy of `items` in the order Fisher-Yates gives with mulberry32(seed). */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const next = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The seed for a row without `shuffle_seed`: the first four bytes of sha256 over the question and its options. It
 * depends on the item alone, not on the line it sits on or the file around it, so the same item gets the same letter
 * in any file.
 */
export function derivedShuffleSeed(question: string, correct: string, distractors: readonly string[]): number {
  return createHash('sha256').update(JSON.stringify([question, correct, ...distractors])).digest().readUInt32BE(0);
}

/** The question with its options appended and the gold letter. */
export function buildChoiceQuestion(
  question: string,
  correct: string,
  distractors: readonly string[],
  seed: number,
): { question: string; letter: string } {
  const options = seededShuffle([{ text: correct, correct: true }, ...distractors.map((text) => ({ text, correct: false }))], seed);
  const lines = options.map((option, i) => `${OPTION_LETTERS[i]}. ${option.text}`);
  const letter = OPTION_LETTERS[options.findIndex((option) => option.correct)]!;
  return { question: `${question.trim()}\n\n${lines.join('\n')}`, letter };
}

interface Layout {
  correctField: string;
  /** Each distractor with the field (or `field[i]`) it came from. */
  distractors: Array<{ field: string; value: unknown }>;
  /** The fields the layout uses, dropped from the plain row. */
  fields: string[];
}

function numbered(row: Row, prefix: string): Array<{ field: string; value: unknown }> {
  const pattern = new RegExp(`^${prefix}(\\d+)$`);
  return Object.keys(row)
    .map((field) => ({ field, n: pattern.exec(field)?.[1] }))
    .filter((entry): entry is { field: string; n: string } => entry.n !== undefined)
    .sort((a, b) => Number(a.n) - Number(b.n))
    .map(({ field }) => ({ field, value: row[field] }));
}

function layoutOf(row: Row): Layout | RowProblem | undefined {
  if (Object.hasOwn(row, 'Correct Answer')) {
    const distractors = numbered(row, 'Incorrect Answer ');
    if (distractors.length === 0) return undefined;
    return { correctField: 'Correct Answer', distractors, fields: ['Correct Answer', ...distractors.map((d) => d.field)] };
  }
  if (!Object.hasOwn(row, 'correct_answer')) return undefined;
  if (Object.hasOwn(row, 'incorrect_answers')) {
    const list = row['incorrect_answers'];
    if (!Array.isArray(list)) return { field: 'incorrect_answers', message: 'expected a list of distractors' };
    const distractors = list.map((value, i) => ({ field: `incorrect_answers[${i}]`, value }));
    return { correctField: 'correct_answer', distractors, fields: ['correct_answer', 'incorrect_answers'] };
  }
  const distractors = numbered(row, 'incorrect_answer_');
  if (distractors.length === 0) return undefined;
  return { correctField: 'correct_answer', distractors, fields: ['correct_answer', ...distractors.map((d) => d.field)] };
}

/** An option's text: a string or a number; a blank cell (CSV) is no option. */
function optionText(value: unknown): string | undefined | RowProblem {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return { message: `expected a string, found ${Array.isArray(value) ? 'an array' : typeof value}` };
  return value.trim() === '' ? undefined : value.trim();
}

function shuffleSeedOf(row: Row): { field: string; seed: number } | RowProblem | undefined {
  for (const field of SEED_FIELDS) {
    const value = Object.hasOwn(row, field) ? row[field] : undefined;
    if (value === undefined || value === null || value === '') continue;
    const seed = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
      return { field, message: `expected an integer from 0 to 4294967295, found ${JSON.stringify(value)}` };
    }
    return { field, seed };
  }
  return undefined;
}

/**
 * The plain layout of a row whose options are separate fields: GPQA's `Correct Answer` and `Incorrect Answer 1..N`, or
 * `correct_answer` with `incorrect_answers: [...]` (or `incorrect_answer_1..N`). undefined when the row has neither
 * layout; a problem naming the field when it has one and something in it is wrong.
 */
export function choiceRow(row: Row, options: ChoiceRowOptions): ChoiceRow | RowProblem | undefined {
  const layout = layoutOf(row);
  if (layout === undefined || 'message' in layout) return layout;

  const questionField = options.questionField;
  if (questionField === undefined) return undefined; // the reader reports the missing question
  const question = row[questionField];
  if (typeof question !== 'string' || question.trim() === '') return undefined; // and a bad one

  const correct = optionText(row[layout.correctField]);
  if (correct === undefined) return { field: layout.correctField, message: 'the correct answer is empty' };
  if (typeof correct !== 'string') return { field: layout.correctField, ...correct };
  const distractors: string[] = [];
  for (const { field, value } of layout.distractors) {
    const text = optionText(value);
    if (text === undefined) continue;
    if (typeof text !== 'string') return { field, ...text };
    if (text === correct) return { field, message: 'the same text as the correct answer, so two options would be right' };
    distractors.push(text);
  }
  if (distractors.length === 0) return { field: layout.distractors[0]!.field, message: 'no distractor: a choice needs two options or more' };
  if (distractors.length + 1 > OPTION_LETTERS.length) {
    return { field: layout.distractors[0]!.field, message: `${distractors.length + 1} options, more than the ${OPTION_LETTERS.length} letters A to J` };
  }

  const given = shuffleSeedOf(row);
  if (given !== undefined && 'message' in given) return given;
  const shuffleSeed = given?.seed ?? derivedShuffleSeed(question.trim(), correct, distractors);
  const built = buildChoiceQuestion(question, correct, distractors, shuffleSeed);

  const plain: Row = {};
  for (const [field, value] of Object.entries(row)) if (!layout.fields.includes(field)) plain[field] = value;
  plain[questionField] = built.question;
  plain['answer'] = built.letter;
  if (options.idField === undefined && !hasValue(row, 'id') && !hasValue(row, 'task_id') && hasValue(row, GPQA_ID)) {
    plain['id'] = row[GPQA_ID];
  }
  const domainField = options.domainField ?? 'domain';
  if (options.domain === undefined && !hasValue(row, domainField)) plain[domainField] = 'science';
  return { row: plain, questionField, shuffleSeed };
}

function hasValue(row: Row, field: string): boolean {
  const value = Object.hasOwn(row, field) ? row[field] : undefined;
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
}
