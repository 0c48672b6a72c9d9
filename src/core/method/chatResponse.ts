// What a chat server's answers must look like to be read: the completion and its choices (servers disagree on
// where reasoning goes), the model list, and a failed check said in one line. model.ts reads every answer through
// these.
import { z } from 'zod';
import { firstIssue } from '../base/zodIssues';

const ChoiceSchema = z.object({
  index: z.number().int().nonnegative().optional(),
  message: z.object({
    content: z.string().nullable().optional(),
    // Servers disagree on the field's name and some send objects; only a string is reasoning text.
    reasoning_content: z.unknown().optional(),
    reasoning: z.unknown().optional(),
  }),
  finish_reason: z.string().nullable().optional(),
});

export const CompletionSchema = z.object({
  choices: z.array(ChoiceSchema).min(1),
  usage: z
    .object({
      prompt_tokens: z.number().nonnegative().nullable().optional(),
      completion_tokens: z.number().nonnegative().nullable().optional(),
    })
    .nullable()
    .optional(),
});

export const ModelListSchema = z.object({ data: z.array(z.object({ id: z.string() })) });

export type Completion = z.infer<typeof CompletionSchema>;
type Choice = z.infer<typeof ChoiceSchema>;

/** A choice says something: content (even empty), or reasoning text when the content is null. */
export function hasAnswer(choice: Choice): boolean {
  const { content, reasoning_content, reasoning } = choice.message;
  return typeof content === 'string' || textOrUndefined(reasoning_content) !== undefined || textOrUndefined(reasoning) !== undefined;
}

export function textOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function shapeProblem(error: z.ZodError): string {
  const issue = firstIssue(error);
  if (!issue) return 'unknown';
  return `${issue.path || '(root)'}: ${issue.message}`;
}
