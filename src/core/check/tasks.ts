// One check to make: a domain, the answer's text and the gold, read from a seed row (`svd check --row`) or from a
// line of a pairs file (`svd check --pairs`). Rows go through the seed reader's own per-row parsing, so every layout
// a seed file may use (math answers, options in the question or as fields, HumanEval and MBPP tests, ...) checks
// the same way here as in the audit.
import { z } from 'zod';
import { parseDomain, seedOfRow } from '../method/seeds';
import type { Domain, Gold } from '../base/types';
import { firstIssue } from '../base/zodIssues';
import { candidateCode } from './code';
import { choiceLetter } from './choice';

export interface CheckTask {
  domain: Domain;
  /** The answer as the checker reads it (model output; a plain program is put in a code block). */
  text: string;
  gold: Gold;
  /** The seed's question (coding: run before the answer where it is code). */
  question?: string;
  /** The line's or the row's id, echoed in the result so results can be joined back. */
  id?: string;
}

/** What is wrong with a line or a row: the field at fault (`answer`, `row.question`) and why. */
export interface TaskProblem {
  field?: string;
  message: string;
}

/** Coding answers are model output, with the program in a code block; a plain source file is a program as it is. */
export function asCodingAnswer(text: string): string {
  return candidateCode(text) === undefined ? `\`\`\`python\n${text}\n\`\`\`` : text;
}

/**
 * A seed row to a check of `answer`: the row's domain (else `domain`, the default), its question and its gold. A
 * row with no gold (no answer, no tests) is a problem, since there is nothing to check against.
 */
export function taskFromRow(
  row: unknown,
  answer: string,
  where: { file: string; line: number; domain?: Domain },
  fieldPrefix = '',
): CheckTask | TaskProblem {
  const result = seedOfRow(row, where.line, String(where.line), { file: where.file, domain: where.domain });
  if ('message' in result) {
    return { ...(result.field === undefined ? {} : { field: `${fieldPrefix}${result.field}` }), message: result.message };
  }
  const { seed } = result;
  if (seed.gold === undefined) {
    return { message: 'the row has no gold to check against (an answer, or tests for coding)' };
  }
  const text = seed.domain === 'coding' ? asCodingAnswer(answer) : answer;
  return { domain: seed.domain, text, gold: seed.gold, question: seed.question, id: seed.id };
}

const text = z.string();
const idValue = z.union([z.string(), z.number()]).optional();
const goldValue = z.union([z.string(), z.number()]);
const testsValue = z.union([z.string(), z.array(z.string())]);

/** A pairs line with the gold given inline. Other fields (a model name, a sample index) are left alone. */
const GoldLine = z.object({
  gold: goldValue.optional(),
  answer: text,
  domain: text.optional(),
  tests: testsValue.optional(),
  entry_point: text.optional(),
  question: text.optional(),
  id: idValue,
});

/** A pairs line with a seed row, in any layout the seed reader understands. */
const RowLine = z.object({
  row: z.record(z.string(), z.unknown()),
  answer: text,
  id: idValue,
});

function issueProblem(error: z.ZodError): TaskProblem {
  const { path: field, message } = firstIssue(error)!;
  return { ...(field === '' ? {} : { field }), message };
}

function inferredDomain(line: z.infer<typeof GoldLine>, fallback: Domain | undefined): Domain {
  if (fallback !== undefined) return fallback;
  if (line.tests !== undefined) return 'coding';
  return typeof line.gold === 'string' && choiceLetter(line.gold) !== undefined ? 'science' : 'math';
}

/**
 * A parsed pairs line to a check: `{"gold", "answer", "domain"?, "tests"?, "entry_point"?, "question"?, "id"?}` or
 * `{"row": {...}, "answer", "id"?}`. Without a domain of its own a gold line takes `domain` (the command's), else
 * coding when it has tests, science when the gold is an option letter, else math.
 */
export function taskFromPair(value: unknown, where: { file: string; line: number; domain?: Domain }): CheckTask | TaskProblem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { message: `expected a JSON object, found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}` };
  }
  if (Object.hasOwn(value, 'row')) {
    const parsed = RowLine.safeParse(value);
    if (!parsed.success) return issueProblem(parsed.error);
    const task = taskFromRow(parsed.data.row, parsed.data.answer, where, 'row.');
    if ('message' in task || parsed.data.id === undefined) return task;
    return { ...task, id: String(parsed.data.id) };
  }
  const parsed = GoldLine.safeParse(value);
  if (!parsed.success) return issueProblem(parsed.error);
  const line = parsed.data;
  let domain = where.domain;
  if (line.domain !== undefined) {
    domain = parseDomain(line.domain);
    if (domain === undefined) return { field: 'domain', message: `unknown domain ${JSON.stringify(line.domain)} (expected math, science or coding)` };
  }
  domain = inferredDomain(line, domain);
  const gold: Gold = {};
  if (line.gold !== undefined && String(line.gold).trim() !== '') gold.answer = String(line.gold).trim();
  if (line.tests !== undefined) gold.tests = Array.isArray(line.tests) ? line.tests.join('\n') : line.tests;
  if (line.entry_point !== undefined) gold.entryPoint = line.entry_point;
  if (domain === 'coding' && (gold.tests === undefined || gold.tests.trim() === '')) {
    return { field: 'tests', message: 'required for a coding line (asserts, or a check(candidate) function)' };
  }
  if (domain !== 'coding' && gold.answer === undefined) return { field: 'gold', message: `required for a ${domain} line` };
  return {
    domain,
    text: domain === 'coding' ? asCodingAnswer(line.answer) : line.answer,
    gold,
    ...(line.question === undefined ? {} : { question: line.question }),
    ...(line.id === undefined ? {} : { id: String(line.id) }),
  };
}
